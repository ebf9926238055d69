"""Credentialing from the command line.

- `openipa credentialing screen --leie FILE [--sam FILE] [--json]`: screen every provider against the OIG LEIE
  file (its published CSV layout) and a SAM.gov exclusions extract. Matches become alerts to review on the
  screening page. `--json` prints `{"screened": n, "hits": [{"npi": .., "provider_id": .., "score": ..}],
  "rejected_rows": [{"row": n, "message": ..}]}`.

Exit status 0 when the screening ran (malformed rows are reported and the rest screened); a file not in its
list's layout refuses the whole screening (exit status 1, nothing written). Run it monthly (cron): the screening
page shows when the next one is due.

- `openipa credentialing status [--on YYYY-MM-DD] [--json]`: credentialing files by status (in progress, complete
  and waiting for the committee, decided), providers credentialed, recredentialing overdue, letters late.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.intake import cli_user
from openipa.credentialing import selectors
from openipa.credentialing.models import ScreeningRun
from openipa.credentialing.services import result_json, screen


class Command(BaseCommand):
    help = "Credentialing: screen the providers against exclusion lists; the files' status."
    # a batch step run by people and cron: the project's checks run with the server and migrate
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        scr = verbs.add_parser(
            "screen", help="screen every provider against the LEIE (and SAM) exclusion lists"
        )
        scr.add_argument("--leie", required=True, help="the OIG LEIE file (UPDATED.csv layout)")
        scr.add_argument("--sam", help="a SAM.gov public exclusions extract (CSV)")
        scr.add_argument("--json", action="store_true", help="print the result as JSON")
        st = verbs.add_parser(
            "status", help="credentialing files by status, overdue recredentialing, late letters"
        )
        st.add_argument("--on", help="the day to judge files on (YYYY-MM-DD; default today)")
        st.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "screen":
            self._screen(options)
        elif options["verb"] == "status":
            self._status(options)

    def _status(self, options: dict[str, Any]) -> None:
        try:
            on = dt.date.fromisoformat(options["on"]) if options.get("on") else dt.date.today()
        except ValueError:
            raise CommandError(f"--on {options['on']!r} is not a date (YYYY-MM-DD)") from None
        try:
            counts = selectors.file_counts(on)
        except ValidationFailed as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps({"on": on.isoformat(), **counts}))
            return
        self.stdout.write(
            f"credentialing files on {on.isoformat()}: {counts['in_progress']:,} in progress, "
            f"{counts['complete']:,} complete (waiting for the committee), {counts['decided']:,} decided\n"
            f"providers credentialed: {counts['credentialed']:,}; recredentialing overdue: "
            f"{counts['recredentialing_overdue']:,}; decision letters late: {counts['letters_late']:,}"
        )

    def _screen(self, options: dict[str, Any]) -> None:
        leie = Path(options["leie"])
        sam = Path(options["sam"]) if options.get("sam") else None
        for path in (leie, sam):
            if path is not None and not path.is_file():
                raise CommandError(f"no such file: {path}")
        as_json: bool = options["json"]
        console = Console(file=sys.stderr, highlight=False)
        try:
            if not as_json and console.is_terminal:
                run = self._with_bar(console, leie, sam)
            else:
                run = screen(actor=None, leie_path=leie, sam_path=sam, run_by=cli_user())
        except (ValidationFailed, PermissionDenied) as exc:
            fields = getattr(exc, "fields", None)
            raise CommandError(
                "; ".join(m for ms in fields.values() for m in ms) if fields else str(exc)
            ) from None
        result = result_json(run)
        if as_json:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(_text(run, result))

    def _with_bar(self, console: Console, leie: Path, sam: Path | None) -> ScreeningRun:
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

            return screen(actor=None, leie_path=leie, sam_path=sam, run_by=cli_user(), progress=progress)


def _text(run: ScreeningRun, result: dict[str, Any]) -> str:
    lists = " and ".join(s.upper() for s in run.lists)
    lines = [
        f"screening {run.pk} against {lists}: {run.providers_screened:,} providers, {run.matches:,} matches, "
        f"{run.new_alerts:,} new alerts, {run.rejected_rows:,} rejected rows"
    ]
    for item in run.found[:50]:
        lines.append(
            f"  {item['source'].upper():<4} {item['kind']:<8} score {item['score']:>5.1f}  provider "
            f"{item['provider_id']} NPI {item['npi']}" + (f"  alert {item['hit']}" if item.get("hit") else "")
        )
    for row in result["rejected_rows"][:50]:
        lines.append(f"  rejected: line {row['row']}: {row['message']}")
    if len(result["rejected_rows"]) > 50:
        lines.append(f"  ... {len(result['rejected_rows']) - 50} more rejected rows (see the run's page)")
    return "\n".join(lines)
