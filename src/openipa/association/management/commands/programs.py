"""Health-improvement programs on the command line:

    openipa programs list [--user NAME] [--json]    each program, its measure, baseline, latest rate and target

Read as --user (default: the first active quality user, else an administrator).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.accounts.models import User
from openipa.association import engine, selectors
from openipa.core.errors import PermissionDenied


def _reader(name: str | None) -> User:
    if name:
        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {name!r}")
        return user
    for role in ("quality", "ipa_admin"):
        user = User.objects.filter(role=role, is_active=True).order_by("pk").first()
        if user is not None:
            return user
    raise CommandError("no quality or administrator user to read as (give --user)")


class Command(BaseCommand):
    help = "Health-improvement programs: `programs list [--json]`."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        lst = verbs.add_parser("list", help="the programs with their baseline, latest rate and target")
        lst.add_argument("--user", help="read as this user")
        lst.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        reader = _reader(options["user"])
        try:
            rows = []
            for program in selectors.programs(reader):
                results = selectors.program_results(reader, program)
                latest = results.points[-1] if results.points else None
                latest_rate = latest.participants if latest and latest.participants else None
                rows.append({
                    "id": program.pk, "name": program.name, "status": program.status,
                    "group": program.region.name if program.region else program.group_name,
                    "measure": program.measure, "rate": program.rate,
                    "start": program.start.isoformat(), "end": program.end.isoformat(),
                    "participants": program.participants.filter(left_on__isnull=True).count(),
                    "baseline": engine.percent_text(results.baseline.value) if results.baseline else "n/a",
                    "latest": latest_rate.text if latest_rate else "n/a",
                    "latest_run": latest.run.pk if latest else None,
                    "target": engine.percent_text(results.target),
                })  # fmt: skip
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps({"programs": rows}))
            return
        for r in rows:
            self.stdout.write(f"{r['id']:>4}  {r['name']} ({r['group']}, {r['status']}): {r['measure']} {r['rate']} "
                              f"baseline {r['baseline']}, latest {r['latest']}, target {r['target']}; "
                              f"{r['participants']} practices")  # fmt: skip
        if not rows:
            self.stdout.write("no programs")
