"""Fee schedules and code edits from the command line (all effective-dated; see docs/claims-pricing.md).

- `openipa fee-schedules rvu FILE --from YYYY-MM-DD`: CMS's PPRRVU file (and the conversion factor it carries)
- `openipa fee-schedules gpci FILE --from YYYY-MM-DD`: CMS's GPCI (locality) file
- `openipa fee-schedules conversion-factor AMOUNT --from YYYY-MM-DD`
- `openipa fee-schedules code-rates FILE --contract NUMBER --from YYYY-MM-DD`: a contract's flat rates (CSV
  code,modifier,rate)
- `openipa fee-schedules edits [--ptp FILE] [--mue FILE]`: procedure-pair and unit-limit tables (CSV)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.claims.services.edits import load_edits
from openipa.contracts.models import Contract
from openipa.contracts.services import fees
from openipa.core.errors import ValidationFailed


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a YYYY-MM-DD date") from None


def _file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    return path


class Command(BaseCommand):
    help = (
        "Load fee schedules (CMS RVU and GPCI files, conversion factor, contract code rates) and code edits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        for name, what in (("rvu", "CMS PPRRVU file"), ("gpci", "CMS GPCI file")):
            p = verbs.add_parser(name, help=f"load a {what}")
            p.add_argument("file")
            p.add_argument(
                "--from", dest="valid_from", required=True, help="first date of service, YYYY-MM-DD"
            )
        cf = verbs.add_parser("conversion-factor", help="set the conversion factor (dollars per RVU)")
        cf.add_argument("amount")
        cf.add_argument("--from", dest="valid_from", required=True)
        rates = verbs.add_parser(
            "code-rates", help="load a contract's flat code rates (CSV code,modifier,rate)"
        )
        rates.add_argument("file")
        rates.add_argument("--contract", required=True, help="contract number")
        rates.add_argument("--from", dest="valid_from", required=True)
        edits = verbs.add_parser("edits", help="replace the code-edit tables")
        edits.add_argument("--ptp", help="procedure-pair CSV")
        edits.add_argument("--mue", help="unit-limit CSV")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except ValidationFailed as exc:
            raise CommandError("; ".join(m for ms in exc.fields.values() for m in ms)) from None

    def _handle(self, options: dict[str, Any]) -> None:
        verb = options["verb"]
        if verb in ("rvu", "gpci"):
            load = fees.load_rvu_file if verb == "rvu" else fees.load_gpci_file
            record = load(
                actor=None, path=_file(options["file"]), valid_from=_date(options["valid_from"]), who="cli"
            )
            self.stdout.write(f"{record.file_name}: {record.rows:,} rows in force from {record.valid_from}")
        elif verb == "conversion-factor":
            try:
                amount = Decimal(options["amount"])
            except InvalidOperation:
                raise CommandError(f"{options['amount']!r} is not an amount") from None
            factor = fees.set_conversion_factor(
                actor=None, amount=amount, valid_from=_date(options["valid_from"])
            )
            self.stdout.write(f"conversion factor {factor.amount} from {factor.valid_from}")
        elif verb == "code-rates":
            try:
                contract = Contract.objects.get(number=options["contract"])
            except Contract.DoesNotExist:
                raise CommandError(f"no contract {options['contract']!r}") from None
            record = fees.load_code_rates(actor=None, contract=contract, path=_file(options["file"]),
                                          valid_from=_date(options["valid_from"]), who="cli")  # fmt: skip
            self.stdout.write(f"{record.file_name}: {record.rows:,} rates for {contract.number}")
        elif verb == "edits":
            if not options["ptp"] and not options["mue"]:
                raise CommandError("give --ptp FILE, --mue FILE or both")
            loaded = load_edits(
                actor=None, ptp=_file(options["ptp"]) if options["ptp"] else None,
                mue=_file(options["mue"]) if options["mue"] else None,
            )  # fmt: skip
            self.stdout.write(", ".join(f"{n:,} {what}" for what, n in loaded.items()))
