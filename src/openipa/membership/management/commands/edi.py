"""`openipa edi stats FILE [--json]`: counts per transaction set of an X12 file, without the database.

Subcommands are argparse subparsers, so `edi auth FILE` and `edi eligibility FILE` can join `stats`.
Exit status 0 for a good file, 1 for a bad one (the error on stderr, or under "error" in the JSON).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.edi.stats import FileStats, file_stats


class Command(BaseCommand):
    help = "X12 EDI tools. `edi stats FILE [--json]`: interchanges, groups, transactions, segments per set."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=type(parser))
        stats = sub.add_parser(
            "stats", help="count interchanges, groups, transactions, segments, members/claims"
        )
        stats.add_argument("file", help="an X12 file (834, 837, 835, 820, 270/271, 276/277, ...)")
        stats.add_argument("--json", action="store_true", help="print JSON instead of text")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand == "stats":
            self._stats(options["file"], as_json=options["json"])

    def _stats(self, file: str, *, as_json: bool) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        stats = file_stats(path, filename=str(path))
        if as_json:
            self.stdout.write(json.dumps(stats.as_dict(), indent=2))
        else:
            self.stdout.write(_text(stats))
        if stats.error is not None:
            if not as_json:
                self.stderr.write(f"error: {stats.error}")
            sys.exit(1)


def _text(stats: FileStats) -> str:
    lines = [
        f"file          {stats.file}",
        f"interchanges  {stats.interchanges}",
        f"groups        {stats.groups}",
        f"transactions  {stats.transactions}",
        f"segments      {stats.segments}",
    ]
    for set_id, counts in sorted(stats.by_transaction_set.items()):
        parts = [f"{k} {v}" for k, v in counts.as_dict().items()]
        lines.append(f"  {set_id}: " + ", ".join(parts))
    return "\n".join(lines)
