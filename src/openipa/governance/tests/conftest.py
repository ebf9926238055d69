"""The small IPA with a governance set-up, recorded through the services by the administrator (the secretary):

- both practices have an active participation agreement from 2020 (the general membership's electorate);
- the board (BOARD): 5 seats, quorum a majority of the seats (3), simple majority; seat 1 Ada Alder (practice A,
  chair), 2 Ben Birch (practice B), 3 Cy Cardio (practice B), 4 Dana Diaz (independent, a named individual),
  5 Eli Eng (practice A, secretary);
- the membership (MEMBERS): one vote per member practice, quorum a majority of them (2 of 2);
- a board meeting on 10 March 2026, 18:00 Pacific, with a two-item agenda.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from openipa.governance import services
from openipa.governance.models import Body
from openipa.network.models import ParticipationAgreement

PACIFIC = ZoneInfo("America/Los_Angeles")
START = dt.date(2026, 1, 1)


@pytest.fixture
def gov(small_ipa: Any) -> Any:
    from openipa.accounts.services import user_create
    from openipa.conftest import PASSWORD
    from openipa.core.roles import Role

    small_ipa.users["board"] = user_create(actor=None, username="board", password=PASSWORD, role=Role.BOARD)
    admin = small_ipa.users["admin"]
    for practice in (small_ipa.practice_a, small_ipa.practice_b):
        ParticipationAgreement.objects.create(practice=practice, valid_from=dt.date(2020, 1, 1))
    board = services.body_create(actor=admin, code="BOARD", name="Board of Directors", kind=Body.Kind.BOARD,
                                 charter="Governs the association.")  # fmt: skip
    services.rule_set(actor=admin, body=board, valid_from=START, seat_count=5, quorum_kind="majority")
    seats = {}
    for number, who, practice, office in (
        (1, small_ipa.pcp_a, small_ipa.practice_a, "chair"),
        (2, small_ipa.pcp_b, small_ipa.practice_b, "member"),
        (3, small_ipa.specialist, small_ipa.practice_b, "member"),
        (4, "Dana Diaz", None, "member"),
        (5, "Eli Eng", small_ipa.practice_a, "secretary"),
    ):
        kwargs = {"provider": who} if not isinstance(who, str) else {"person_name": who}
        seats[number] = services.seat_assign(
            actor=admin,
            body=board,
            seat_number=number,
            valid_from=START,
            practice=practice,
            office=office,
            **kwargs,
        )
    membership = services.body_create(actor=admin, code="MEMBERS", name="General Membership",
                                      kind=Body.Kind.MEMBERSHIP)  # fmt: skip
    services.rule_set(actor=admin, body=membership, valid_from=START, quorum_kind="majority")
    meeting = services.meeting_schedule(
        actor=admin, body=board, title="Board meeting, March 2026",
        starts_at=dt.datetime(2026, 3, 10, 18, 0, tzinfo=PACIFIC), location="IPA office, Pasadena",
        agenda=["Approval of the February minutes", "2027 budget"],
    )  # fmt: skip
    small_ipa.board = board
    small_ipa.membership = membership
    small_ipa.seats = seats
    small_ipa.meeting = meeting
    return small_ipa


def attend(gov: Any, meeting: Any, present: list[int], absent: tuple[int, ...] = ()) -> dict[int, Any]:
    """Record seats ``present`` as present and the rest of the five (or ``absent``) as absent; {seat: row}."""
    entries = {}
    for number, term in gov.seats.items():
        status = "present" if number in present else ("excused" if number not in absent else "absent")
        entries[f"seat:{term.pk}"] = (status, "")
    rows = services.attendance_record(actor=gov.users["admin"], meeting=meeting, entries=entries)
    return {n: next(r for r in rows if r.seat_term_id == t.pk) for n, t in gov.seats.items()}
