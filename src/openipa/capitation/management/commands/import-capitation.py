"""`openipa import-capitation FILE --payer CODE [--format x12-820|x12-835|csv] [--json]`: import a payer's
capitation remittance.

Exit status 0 when the file was applied or was a duplicate, 1 when it was rejected (the database is then exactly
as it was; the file, its errors and the 999 are kept on the import record).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.capitation.models import CapitationProfile, RemittanceImport
from openipa.capitation.services.imports import import_capitation, result_json
from openipa.core.errors import ValidationFailed
from openipa.core.intake import cli_user
from openipa.core.money import format_money

from .capitation import payer_by_code


class Command(BaseCommand):
    help = "Import a capitation remittance (X12 820, X12 835 with PLB capitation, or CSV): all or nothing."
    # a batch step run by people and cron: the project's checks run with the server and migrate, not on
    # every step (they import every page's code, about 0.7 s)
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the remittance file")
        parser.add_argument("--payer", required=True, help="payer code (see the Payers page)")
        parser.add_argument(
            "--format", choices=CapitationProfile.Format.values, default=None, help="default: detected"
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        payer = payer_by_code(options["payer"])
        try:
            record = import_capitation(
                actor=None, payer=payer, path=path, fmt=options["format"], imported_by=cli_user()
            )
        except ValidationFailed as exc:
            raise CommandError("; ".join(m for ms in exc.fields.values() for m in ms)) from None
        result = result_json(record)
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                f"{record.file_name}: {record.get_status_display()}, payment {format_money(record.payment_cents)}, "
                f"{record.lines:,} member-month lines, {record.unknown_members:,} unknown members, months "
                f"{', '.join(record.months) or '-'}"
            )
            for err in result["errors"][:20]:
                self.stderr.write(f"  segment {err['segment']} {err['segment_id']} {err['element'] or ''}: "
                                  f"{err['message']}")  # fmt: skip
        if record.status == RemittanceImport.Status.REJECTED:
            raise SystemExit(1)
