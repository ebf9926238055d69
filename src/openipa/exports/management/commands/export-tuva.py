"""`openipa export-tuva --out DIR [--format csv|parquet] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--payer CODE]
[--json]`: the Tuva Project's claims input layer (eligibility, medical_claim, pharmacy_claim,
provider_attribution) and a manifest.json, written into DIR (docs/tuva-export.md). The system acts (recorded
as ``cli:<login>``); the export is written to the audit log as one read of member data.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.intake import cli_user
from openipa.exports.selectors import Filters
from openipa.exports.services import FORMATS, export_tuva


def _date(text: str | None, flag: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{flag} {text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Write the Tuva Project's claims input layer (CSV or Parquet) and a manifest into a folder."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", required=True, metavar="DIR", help="the folder to write into (made if missing)"
        )
        parser.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or parquet")
        parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day: spans ending before it, claims and "
                                                             "fills before it are left out")  # fmt: skip
        parser.add_argument(
            "--to",
            dest="date_to",
            metavar="YYYY-MM-DD",
            help="last day (also the end written for open spans)",
        )
        parser.add_argument("--payer", metavar="CODE", help="only this payer's members (its code)")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        filters = Filters(
            date_from=_date(options["date_from"], "--from"),
            date_to=_date(options["date_to"], "--to"),
            payer_code=options["payer"],
        )
        console = Console(stderr=True)
        columns = (
            TextColumn("{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        try:
            with Progress(*columns, console=console, disable=options["json"]) as bar:
                tasks: dict[str, TaskID] = {}

                def progress(table: str, done: int, total: int) -> None:
                    if table not in tasks:
                        tasks[table] = bar.add_task(table, total=total)
                    bar.update(tasks[table], completed=done, total=total)

                result = export_tuva(
                    None, out_dir=Path(options["out"]), fmt=options["format"], filters=filters,
                    exported_by=cli_user(), progress=progress,
                )  # fmt: skip
        except ValidationFailed as exc:
            raise CommandError("; ".join(m for ms in exc.fields.values() for m in ms)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"cannot read the database ({exc}): is it migrated?") from None
        except OSError as exc:
            raise CommandError(f"cannot write the export: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps({
                "out": str(result.out_dir), "format": result.format, "counts": result.counts,
                "members": result.members, "skipped_claims_without_member": result.skipped_unlinked_claims,
                "tuva_version": result.manifest["tuva"]["version"],
            }))  # fmt: skip
            return
        for table in result.tables:
            self.stdout.write(f"{table.file:<28} {table.rows:>10,} rows")
        self.stdout.write(f"{result.members:,} members; manifest: {result.out_dir / 'manifest.json'}")
        if result.skipped_unlinked_claims:
            self.stdout.write(
                f"{result.skipped_unlinked_claims:,} final claims without a known member left out"
            )
