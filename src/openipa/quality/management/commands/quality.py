"""Quality measures on the command line (the system acting: ``cli:<login>`` is recorded as who ran it):

- ``quality run --year YYYY [--as-of YYYY-MM-DD] [--json]``: every measure of the measurement year on the
  database's members, eligibility, claims, linked clinical records and pharmacy fills (the shipped definitions,
  the open starter value sets), stored as a new run with each member's results, evidence and care gaps; prints
  each rate (with ``--json``: the rates and the stored run's ``run_id``).
- ``quality supplemental --run ID --payer CODE --out FILE``: the run's numerator evidence from non-claims
  sources (clinical records, pharmacy fills) for the payer's members, as CSV (docs/quality-measures.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from openipa.core.errors import ValidationFailed
from openipa.core.intake import cli_user
from openipa.quality import selectors
from openipa.quality.gapdata import GapDataError
from openipa.quality.models import QualityRun
from openipa.quality.services import run_measures


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of: {text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Quality measures: `quality run --year YYYY [--as-of DATE] [--json]` runs and stores every measure; "
        "`quality supplemental --run ID --payer CODE --out FILE` writes a plan's supplemental data."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=type(parser))
        run = sub.add_parser("run", help="compute and store every measure's results for a measurement year")
        run.add_argument("--year", type=int, required=True, help="the measurement year")
        run.add_argument("--as-of", help="attribute PCP, practice and payer on this day (default: today, "
                                          "at most 31 December of the year)")  # fmt: skip
        run.add_argument("--json", action="store_true", help="print JSON")
        supplemental = sub.add_parser(
            "supplemental", help="a payer's supplemental data file from a stored run"
        )
        supplemental.add_argument("--run", type=int, required=True, help="the stored run's id")
        supplemental.add_argument("--payer", required=True, help="the payer's code")
        supplemental.add_argument("--out", required=True, help="the CSV file to write")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        try:
            if subcommand == "supplemental":
                self._supplemental(options["run"], options["payer"], Path(options["out"]))
            else:
                self._run(options["year"], options["as_of"], as_json=options["json"])
        except DatabaseError as exc:
            raise CommandError(f"cannot read the database ({exc}): is it migrated?") from None
        except GapDataError as exc:
            raise CommandError(str(exc)) from None

    def _run(self, year: int, as_of_text: str | None, *, as_json: bool) -> None:
        as_of = _date(as_of_text) if as_of_text else None
        try:
            run = run_measures(None, year=year, as_of=as_of, run_by=cli_user())
        except ValidationFailed as exc:
            if "year" in exc.fields:
                raise CommandError(f"no measure definitions for {year}: {exc.fields['year'][0]}") from None
            raise CommandError(str(exc)) from None
        rows = [
            {"measure": r.measure, "rate": r.rate, "eligible": r.eligible, "excluded": r.excluded,
             "denominator": r.denominator, "numerator": r.numerator,
             "rate_value": r.numerator / r.denominator if r.denominator else None, "inverse": r.inverse}
            for r in run.rates.order_by("pk")
        ]  # fmt: skip
        if as_json:
            self.stdout.write(json.dumps({"year": run.measurement_year, "members": run.member_count, "rates": rows,
                                          "run_id": run.pk}))  # fmt: skip
            return
        self.stdout.write(f"measurement year {run.measurement_year}: {run.member_count:,} members")
        for row in rows:
            value = "-" if row["rate_value"] is None else f"{100 * row['rate_value']:.1f}%"
            self.stdout.write(f"  {row['measure']:<8} {row['rate']:<14} {row['numerator']:>7,} / "
                              f"{row['denominator']:>7,} = {value:>6}  ({row['excluded']:,} excluded)")  # fmt: skip
        self.stderr.write(f"stored as quality run {run.pk} ({run.result_count:,} results, {run.gap_count:,} open "
                          f"gaps, as of {run.as_of})")  # fmt: skip

    def _supplemental(self, run_id: int, payer: str, out: Path) -> None:
        run = QualityRun.objects.filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"--run: no quality run {run_id}")
        try:
            rows = selectors.supplemental_rows(
                None, run, payer_code=payer, purpose="supplemental data (command)"
            )
        except ValidationFailed as exc:
            raise CommandError(f"--payer: {exc.fields['payer'][0]}") from None
        count = 0
        try:
            with out.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(selectors.SUPPLEMENTAL_HEADER)
                for row in rows:
                    writer.writerow(row)
                    count += 1
        except OSError as exc:
            raise CommandError(f"--out: cannot write {out}: {exc.strerror}") from None
        self.stdout.write(f"{out}: {count:,} rows of supplemental data for {payer} from quality run {run.pk}")
