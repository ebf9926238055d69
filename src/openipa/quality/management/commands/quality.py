"""`openipa quality run --year YYYY [--json]`: every quality measure's rates for a measurement year, computed
from the members, eligibility, claims and linked clinical records in the database (the measures engine with the
shipped definitions and the open starter value sets)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from openipa.quality.engine import DefinitionError
from openipa.quality.selectors import quality_rates


class Command(BaseCommand):
    help = "Quality measures: `quality run --year YYYY [--json]` prints each measure's rates."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=type(parser))
        run = sub.add_parser("run", help="compute every measure's rates for a measurement year")
        run.add_argument("--year", type=int, required=True, help="the measurement year")
        run.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        try:
            result = quality_rates(None, year=options["year"])
        except (DefinitionError, FileNotFoundError) as exc:
            raise CommandError(f"no measure definitions for {options['year']}: {exc}") from None
        except DatabaseError as exc:
            raise CommandError(f"cannot read the database ({exc}): is it migrated?") from None
        rows = result.rates.to_dicts()
        if options["json"]:
            self.stdout.write(json.dumps({"year": result.year, "members": result.members, "rates": [
                {k: row[k] for k in ("measure", "rate", "eligible", "excluded", "denominator", "numerator",
                                     "rate_value", "inverse")} for row in rows]}))  # fmt: skip
            return
        self.stdout.write(f"measurement year {result.year}: {result.members:,} members")
        for row in rows:
            value = "-" if row["rate_value"] is None else f"{100 * row['rate_value']:.1f}%"
            self.stdout.write(f"  {row['measure']:<8} {row['rate']:<14} {row['numerator']:>7,} / "
                              f"{row['denominator']:>7,} = {value:>6}  ({row['excluded']:,} excluded)")  # fmt: skip
