"""`openipa import-roster FILE --payer CODE [--format x12|csv] [--json]`: import a payer's roster file.

Exit status 0 when the file was applied or was a duplicate, 1 when it was rejected (the database is then
exactly as it was; the file, its errors and the 999 are kept on the import record).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from openipa.contracts.models import Payer
from openipa.core.errors import ValidationFailed
from openipa.core.intake import cli_user
from openipa.membership.models import RosterImport
from openipa.membership.services.roster import import_roster, result_json


class Command(BaseCommand):
    help = (
        "Import a payer's roster (X12 834 or CSV): validate the whole file, then apply it in one transaction."
    )
    # a batch step run by people and cron: the project's checks run with the server and migrate, not on
    # every step (they import every page's code, about 0.7 s)
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the roster file")
        parser.add_argument("--payer", required=True, help="payer code (see the Payers page)")
        parser.add_argument(
            "--format", choices=["x12", "csv"], default=None, help="file format (default: detected)"
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            payer = Payer.objects.get(code__iexact=options["payer"])
        except Payer.DoesNotExist:
            codes = ", ".join(Payer.objects.order_by("code").values_list("code", flat=True)) or "none"
            raise CommandError(f"no payer with code {options['payer']!r} (payers: {codes})") from None
        as_json: bool = options["json"]
        console = Console(file=sys.stderr, highlight=False)
        show = not as_json and console.is_terminal
        try:
            if show:
                record = self._with_bar(console, payer, path, options["format"])
            else:
                record = import_roster(
                    actor=None, payer=payer, path=path, fmt=options["format"], imported_by=cli_user()
                )
        except ValidationFailed as exc:
            raise CommandError("; ".join(m for ms in exc.fields.values() for m in ms)) from None
        result = result_json(record)
        if as_json:
            self.stdout.write(json.dumps(result, indent=2))
        else:
            self.stdout.write(_text(record, result))
        if record.status == RosterImport.Status.REJECTED:
            sys.exit(1)

    def _with_bar(self, console: Console, payer: Payer, path: Path, fmt: str | None) -> RosterImport:
        with Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(phase: str, done: int, total: int | None) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total)
                bar.update(tasks[phase], completed=done, total=total)

            return import_roster(
                actor=None, payer=payer, path=path, fmt=fmt, progress=progress, imported_by=cli_user()
            )


def _text(record: RosterImport, result: dict[str, Any]) -> str:
    lines = [
        f"{record.file_name}: {record.status} (import {record.pk}, {record.records} records)",
    ]
    if record.status == RosterImport.Status.DUPLICATE and record.duplicate_of_id:
        lines.append(f"  the same file was applied as import {record.duplicate_of_id}; nothing changed")
    for key in ("added", "changed", "termed", "reinstated", "unchanged"):
        lines.append(f"  {key:<11}{result[key]:>10,}")
    if record.retro:
        lines.append(
            f"  retro      {record.retro:>10,}  ({record.outside_window:,} outside the retro window)"
        )
    for w in result["warnings"][:20]:
        lines.append(f"  warning: {_where(w)}{w['message']}")
    if record.warning_count > 20:
        lines.append(f"  ... {record.warning_count - 20} more warnings (see the import page)")
    for e in result["errors"][:50]:
        lines.append(f"  error: {_where(e)}{e['message']}")
    return "\n".join(lines)


def _where(item: dict[str, Any]) -> str:
    if not item.get("segment"):
        return ""
    where = f"segment {item['segment']}"
    if item.get("segment_id"):
        where += f" {item['segment_id']}"
    if item.get("element"):
        where += f"{int(item['element']):02d}"
    return where + ": "
