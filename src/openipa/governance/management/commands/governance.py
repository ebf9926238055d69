"""Governance on the command line (read-only; the reader is recorded as ``cli:<login>`` with the auditor's reach):

- ``governance meetings [--year YYYY] [--body CODE] [--json]``: the meetings, latest first, each with its body,
  status, quorum (present / required), motions carried, failed and tabled, and its minutes' status;
- ``governance participation --year YYYY [--json]``: per member practice, the meetings it could attend and did,
  votes cast, abstentions, recusals, and board and committee seats held (docs/governance.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from openipa.core.intake import cli_user
from openipa.core.roles import Role
from openipa.governance import selectors
from openipa.governance.models import Body, Minutes, Motion


@dataclass(frozen=True)
class CommandLineReader:
    """Who reads from the command line: the auditor's role (reads everything, changes nothing)."""

    username: str
    pk: object = None
    role: str = Role.AUDITOR.value
    practice_id: int | None = None


def _meeting_row(meeting: Any) -> dict[str, Any]:
    quorum = selectors.meeting_quorum(meeting)
    statuses = [m.status for m in meeting.motions.all()]
    minutes = Minutes.objects.filter(meeting=meeting).values_list("status", flat=True).first()
    return {
        "id": meeting.pk,
        "starts_at": meeting.starts_at.astimezone(selectors.zone()).isoformat(timespec="minutes"),
        "body": meeting.body.code,
        "title": meeting.title,
        "status": meeting.status,
        "present": quorum.present if quorum else None,
        "quorum_required": quorum.required if quorum else None,
        "quorum_met": quorum.met if quorum else None,
        "motions": len(statuses),
        "carried": statuses.count(Motion.Status.CARRIED),
        "failed": statuses.count(Motion.Status.FAILED),
        "tabled": statuses.count(Motion.Status.TABLED),
        "minutes": minutes or "none",
    }


class Command(BaseCommand):
    help = (
        "Governance: `governance meetings [--year YYYY] [--body CODE] [--json]` lists the meetings; "
        "`governance participation --year YYYY [--json]` gives each member practice's participation."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=type(parser))
        meetings = sub.add_parser("meetings", help="the meetings, latest first")
        meetings.add_argument("--year", type=int, help="only this calendar year")
        meetings.add_argument("--body", help="only this body's (its code)")
        meetings.add_argument("--json", action="store_true", help="print JSON")
        participation = sub.add_parser("participation", help="each member practice's participation in a year")
        participation.add_argument("--year", type=int, required=True, help="the calendar year")
        participation.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        reader = CommandLineReader(username=cli_user())
        try:
            if subcommand == "meetings":
                self._meetings(reader, options.get("year"), options.get("body"), as_json=options["json"])
            else:
                self._participation(reader, options["year"], as_json=options["json"])
        except DatabaseError as exc:
            raise CommandError(f"cannot read the database ({exc}): is it migrated?") from None

    def _meetings(
        self, reader: CommandLineReader, year: int | None, code: str | None, *, as_json: bool
    ) -> None:
        body = None
        if code:
            body = Body.objects.filter(code=code.strip().upper()).first()
            if body is None:
                raise CommandError(f"--body: no body with code {code!r}")
        rows = [
            _meeting_row(m)
            for m in selectors.meetings(reader, body=body, year=year).prefetch_related("motions")
        ]
        if as_json:
            self.stdout.write(json.dumps({"meetings": rows}, indent=2))
            return
        if not rows:
            self.stdout.write("No meeting.")
            return
        for r in rows:
            quorum = (
                f"{r['present']}/{r['quorum_required']} {'quorum' if r['quorum_met'] else 'NO QUORUM'}"
                if r["quorum_required"] is not None else "no rules"
            )  # fmt: skip
            self.stdout.write(
                f"{r['starts_at'][:16].replace('T', ' ')}  {r['body']:<10} {r['status']:<9} {quorum:<18} "
                f"motions {r['motions']} (carried {r['carried']}, failed {r['failed']}, tabled {r['tabled']})  "
                f"minutes {r['minutes']:<8} {r['title']}"
            )

    def _participation(self, reader: CommandLineReader, year: int, *, as_json: bool) -> None:
        if not 1900 <= year <= 2200:
            raise CommandError(f"--year: {year} is not a plausible year")
        report = selectors.participation(reader, year=year)
        rows = [
            {"practice": r.code, "name": r.practice, "meetings_entitled": r.meetings_entitled,
             "meetings_attended": r.meetings_attended, "attendance_rate": r.attendance_rate,
             "votes_cast": r.votes_cast, "abstentions": r.abstentions, "recusals": r.recusals,
             "board_seats": r.board_seats, "committee_seats": r.committee_seats}
            for r in report.rows
        ]  # fmt: skip
        if as_json:
            self.stdout.write(json.dumps({
                "year": year, "meetings_held": report.meetings_held,
                "network_attendance_rate": report.network_attendance_rate, "practices": rows,
            }, indent=2))  # fmt: skip
            return
        self.stdout.write(f"{year}: {report.meetings_held} meetings held")
        self.stdout.write(
            f"{'practice':<12} {'could':>6} {'attended':>9} {'votes':>6} {'abst.':>6} {'board':>6} {'cttee':>6}"
        )
        for r in rows:
            self.stdout.write(
                f"{r['practice']:<12} {r['meetings_entitled']:>6} {r['meetings_attended']:>9} {r['votes_cast']:>6} "
                f"{r['abstentions']:>6} {r['board_seats']:>6} {r['committee_seats']:>6}"
            )
