"""The demo's governance, built through the governance services on a module-scoped demo: the board of nine with
its officers, three committees, six monthly board meetings with quorum, one failed and one tabled motion, minutes
approved for all but the last board meeting, the annual membership meeting; the same again for the same seed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from openipa.core.months import Month
from openipa.demo import governance as demo_gov
from openipa.demo.tests.builds import module_demo
from openipa.governance import selectors
from openipa.governance.models import Attendance, Body, Meeting, Minutes, Motion, SeatTerm

AS_OF = Month(2026, 10)
TODAY = dt.date(2026, 11, 20)
SEED = 5
PROGRESS: list[tuple[int, int]] = []


def _fingerprint() -> list[Any]:
    return [
        list(Body.objects.order_by("code").values_list("code", "kind", "parent__code")),
        list(SeatTerm.objects.order_by("body__code", "seat_number").values_list(
            "body__code", "seat_number", "provider__npi", "practice__code", "office")),
        list(Meeting.objects.order_by("starts_at", "title").values_list("title", "starts_at", "status")),
        list(Attendance.objects.order_by("meeting__starts_at", "meeting__title", "seat_term__seat_number",
                                         "practice__code").values_list("meeting__title", "practice__code", "status")),
        list(Motion.objects.order_by("meeting__starts_at", "number").values_list(
            "meeting__title", "number", "status", "yes", "no", "abstain", "recused")),
        list(Minutes.objects.order_by("meeting__starts_at").values_list("meeting__title", "status", "text")),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def built(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[demo_gov.GovernanceSummary, list[Any], list[Any]]]:
    def progress(stage: str, done: int, total: int) -> None:
        if stage == demo_gov.STAGE:
            PROGRESS.append((done, total))

    with module_demo(
        django_db_blocker, tmp_path_factory, "governance-demo", seed=SEED, members=300, as_of=AS_OF,
        capitation_year=False, claims_year=False, utilization=False, clinical=False,
    ) as _summary:  # fmt: skip
        with transaction.atomic():
            demo_gov.build_governance(seed=SEED, today=TODAY)
            first = _fingerprint()
            transaction.set_rollback(True)
        summary = demo_gov.build_governance(seed=SEED, today=TODAY, progress=progress)
        yield summary, first, _fingerprint()


@pytest.fixture
def demo(built: Any, db: None) -> demo_gov.GovernanceSummary:
    summary: demo_gov.GovernanceSummary = built[0]
    return summary


def test_the_same_seed_builds_the_same_governance(built: Any, db: None) -> None:
    _summary, first, second = built
    assert first == second
    assert first[2]  # there were meetings to compare


def test_the_board_its_officers_and_committees(demo: demo_gov.GovernanceSummary) -> None:
    board = Body.objects.get(code="BOARD")
    seats = selectors.seats_on(board, TODAY)
    assert len(seats) == demo_gov.BOARD_SEATS == 9
    assert all(s.provider is not None and s.provider.degree in ("MD", "DO") for s in seats)
    assert len({s.practice_id for s in seats}) == 9  # nine different member practices
    assert sorted(s.office for s in seats if s.office != "member") == sorted(demo_gov.OFFICES)
    committees = Body.objects.filter(kind=Body.Kind.COMMITTEE, parent=board)
    assert committees.count() == 3
    for committee in committees:
        assert len(selectors.seats_on(committee, TODAY)) == 5
    assert Body.objects.filter(kind=Body.Kind.MEMBERSHIP).count() == 1
    assert demo.bodies == 5


def test_six_monthly_board_meetings_with_quorum_results_and_minutes(demo: demo_gov.GovernanceSummary) -> None:
    meetings = list(Meeting.objects.filter(body__code="BOARD").order_by("starts_at"))
    assert len(meetings) == demo.board_meetings == 6
    days = [selectors.meeting_day(m) for m in meetings]
    assert all(d < TODAY and d.weekday() == 1 and 8 <= d.day <= 14 for d in days)  # second Tuesdays
    assert len({(d.year, d.month) for d in days}) == 6
    for meeting in meetings:
        quorum = selectors.meeting_quorum(meeting)
        assert quorum is not None
        assert quorum.met
        assert meeting.status == Meeting.Status.HELD
    statuses = [m.minutes.status for m in meetings]
    assert statuses == ["approved"] * 5 + ["draft"]
    board_motions = Motion.objects.filter(meeting__body__code="BOARD")
    assert board_motions.filter(status=Motion.Status.FAILED).count() == 1
    assert board_motions.filter(status=Motion.Status.TABLED).count() == 1
    for motion in board_motions.filter(status__in=["carried", "failed"]):
        assert motion.yes + motion.no + motion.abstain + motion.recused <= motion.present
        assert motion.present >= motion.quorum_required
        assert (motion.status == "carried") == (motion.yes * 2 > motion.yes + motion.no)
    approvals = board_motions.filter(approves_minutes__isnull=False)
    assert approvals.count() == 5
    for m in approvals:
        assert m.approves_minutes is not None
        assert m.approves_minutes.meeting.starts_at < m.meeting.starts_at
    assert demo.failed >= 1
    assert demo.tabled == 1


def test_the_annual_membership_meeting(demo: demo_gov.GovernanceSummary) -> None:
    annual = Meeting.objects.get(pk=demo.membership_meeting_id)
    assert annual.body.kind == Body.Kind.MEMBERSHIP
    voters = selectors.electorate(annual)
    assert len(voters) >= 30  # the demo's member practices
    quorum = selectors.meeting_quorum(annual)
    assert quorum is not None
    assert quorum.met
    assert quorum.base == len(voters)
    assert annual.motions.filter(status="carried").count() == 2
    assert selectors.meeting_day(annual) < TODAY


def test_participation_and_progress(demo: demo_gov.GovernanceSummary) -> None:
    from openipa.accounts.models import User

    report = selectors.participation(User.objects.get(username="admin"), year=TODAY.year)
    assert report.meetings_held == demo.meetings
    assert sum(r.board_seats for r in report.rows) == 9
    assert sum(r.committee_seats for r in report.rows) == 15
    assert sum(r.meetings_attended for r in report.rows) > 0
    assert PROGRESS[-1][0] == PROGRESS[-1][1]
