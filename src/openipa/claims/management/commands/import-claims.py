"""`openipa import-claims FILE [--format x12|csv] [--received YYYY-MM-DD] [--json]`: import a claims file.

Exit status 0 when the file was applied or was a duplicate, 1 when it was rejected (the database is then exactly
as it was; the file, its errors and its 999 are kept on the import record).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.claims.models import ClaimImport
from openipa.claims.services.intake import import_claims, result_json
from openipa.core.errors import ValidationFailed
from openipa.core.intake import cli_user
from openipa.core.money import format_money


class Command(BaseCommand):
    help = "Import a claims file (X12 837P or 837I): all or nothing."
    # a batch step run by people and cron: the project's checks run with the server and migrate, not on
    # every step (they import every page's code, about 0.7 s)
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the claims file")
        parser.add_argument(
            "--format", choices=ClaimImport.Format.values, default=None,
            help="x12 (837P/837I) or csv (one row per line; see docs/claims.md); default: detected",
        )  # fmt: skip
        parser.add_argument("--received", help="the date the claims count as received (default: today)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        received = None
        if options["received"]:
            try:
                received = dt.date.fromisoformat(options["received"])
            except ValueError:
                raise CommandError(f"--received {options['received']!r} is not a YYYY-MM-DD date") from None
        try:
            record = import_claims(
                actor=None, path=path, received_on=received, imported_by=cli_user(), fmt=options["format"]
            )
        except ValidationFailed as exc:
            raise CommandError("; ".join(m for ms in exc.fields.values() for m in ms)) from None
        result = result_json(record)
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                f"{record.file_name}: {record.get_status_display()}, {record.claims:,} claims, {record.lines:,} "
                f"lines, {format_money(record.charge_cents)} charged, {record.unknown_members:,} unknown members"
            )
            for err in result["errors"][:20]:
                self.stderr.write(f"  segment {err['segment']} {err['segment_id']} {err['element'] or ''}: "
                                  f"{err['message']}")  # fmt: skip
        if record.status == ClaimImport.Status.REJECTED:
            raise SystemExit(1)
