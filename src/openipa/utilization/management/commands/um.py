"""Utilization management from the command line (run by cron and by people).

- `openipa um sweep [--json]`: approve, as of their due time, the requests the law deems approved when nobody
  answered in time (post-stabilization care: `services.sweep_deemed`), then count the open requests past
  their due time. `--json` prints `{"at": .., "deemed_approved": n, "overdue": n}`. Run it every few minutes:
  the queue pages sweep too, but a deemed approval should not wait for someone to open them.
- `openipa um status [--at ISO-DATETIME] [--json]`: requests by status, open ones, overdue ones and those due
  in the next 24 hours (as of `--at`, default now), and open appeals and overdue ones.

Both read and write as the system: counts are not member data, and each deemed approval is recorded in its
request's history and the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from openipa.utilization import selectors, services
from openipa.utilization.models import AuthRequest


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(selectors.ipa_zone()).isoformat(timespec="seconds")


class Command(BaseCommand):
    help = (
        "Utilization management: deemed approvals and overdue requests (sweep); the queue's counts (status)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True, parser_class=type(parser))
        sweep = verbs.add_parser(
            "sweep", help="approve the requests deemed approved by law; count the open requests overdue"
        )
        sweep.add_argument("--json", action="store_true", help="print the result as JSON")
        status = verbs.add_parser("status", help="requests by status, overdue and due in the next 24 hours")
        status.add_argument("--at", help="the moment to judge the clocks at (ISO 8601; default now)")
        status.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["verb"] == "sweep":
                self._sweep(as_json=options["json"])
            elif options["verb"] == "status":
                self._status(at=options.get("at"), as_json=options["json"])
        except DatabaseError as exc:
            raise CommandError(f"cannot read the requests ({exc}): is the database migrated?") from None

    def _sweep(self, *, as_json: bool) -> None:
        now = timezone.now()
        deemed = services.sweep_deemed(now)
        overdue = selectors.overdue_count(now)
        if as_json:
            self.stdout.write(json.dumps({"at": _local(now), "deemed_approved": deemed, "overdue": overdue}))
            return
        self.stdout.write(f"{deemed:,} deemed approved (no decision by the due time); "
                          f"{overdue:,} open requests overdue")  # fmt: skip

    def _status(self, *, at: str | None, as_json: bool) -> None:
        now = timezone.now()
        if at:
            try:
                now = dt.datetime.fromisoformat(at)
            except ValueError:
                raise CommandError(f"--at {at!r} is not an ISO 8601 date and time") from None
            if now.tzinfo is None:
                now = now.replace(tzinfo=selectors.ipa_zone())
        counts = selectors.status_counts(now)
        if as_json:
            self.stdout.write(json.dumps({"at": _local(now), **counts}))
            return
        lines = [f"authorization requests at {_local(now)}: {counts['total']:,}"]
        labels = dict(AuthRequest.Status.choices)
        lines += [f"  {labels[status]:<18} {n:>7,}" for status, n in counts["by_status"].items()]
        lines.append(f"open {counts['open']:,}: {counts['overdue']:,} overdue, {counts['due_24h']:,} due in the "
                     "next 24 hours")  # fmt: skip
        lines.append(f"appeals open {counts['appeals_open']:,}: {counts['appeals_overdue']:,} overdue")
        self.stdout.write("\n".join(lines))
