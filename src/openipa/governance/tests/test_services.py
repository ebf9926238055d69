"""Governance services against the database: rules and seats, quorum at its boundary, votes and results, tabling,
minutes approved at a later meeting and immutable after, and the refusals (nothing changed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.governance import selectors, services
from openipa.governance.models import (
    ApprovedMinutesError,
    Attendance,
    BodyRule,
    Minutes,
    Motion,
    SeatTerm,
    Vote,
)
from openipa.governance.tests.conftest import PACIFIC, START, attend

pytestmark = pytest.mark.django_db


def _motion(gov: Any, rows: dict[int, Attendance], text: str = "Adopt the 2027 budget", **kw: Any) -> Motion:
    return services.motion_move(actor=gov.users["admin"], meeting=gov.meeting, text=text, moved_by=rows[1],
                                seconded_by=rows[2], **kw)  # fmt: skip


def _vote(gov: Any, motion: Motion, rows: dict[int, Attendance], choices: dict[int, str]) -> Motion:
    return services.votes_record(
        actor=gov.users["admin"], motion=motion, votes={rows[n].pk: c for n, c in choices.items()}
    )


def test_exactly_quorum_present_decides(gov: Any) -> None:
    rows = attend(gov, gov.meeting, present=[1, 2, 3])  # 3 of 5 seats: a majority
    q = selectors.meeting_quorum(gov.meeting)
    assert q is not None
    assert (q.base, q.required, q.present, q.met) == (5, 3, 3, True)
    motion = _motion(gov, rows)
    _vote(gov, motion, rows, {1: "yes", 2: "yes", 3: "no"})
    motion = services.motion_decide(actor=gov.users["admin"], motion=motion)
    assert motion.status == Motion.Status.CARRIED
    assert (motion.yes, motion.no, motion.present, motion.quorum_required) == (2, 1, 3, 3)
    gov.meeting.refresh_from_db()
    assert gov.meeting.status == "held"


def test_one_fewer_than_quorum_decides_nothing_and_changes_nothing(gov: Any) -> None:
    rows = attend(gov, gov.meeting, present=[1, 2])
    motion = _motion(gov, rows)
    _vote(gov, motion, rows, {1: "yes", 2: "yes"})
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed, match="no quorum: 2 present, 3 required"):
        services.motion_decide(actor=gov.users["admin"], motion=motion)
    motion.refresh_from_db()
    assert motion.status == Motion.Status.PENDING
    assert motion.decided_at is None
    assert AuditEvent.objects.count() == events


def test_a_tie_fails_and_abstentions_and_recusals_are_not_cast(gov: Any) -> None:
    rows = attend(gov, gov.meeting, present=[1, 2, 3, 4, 5])
    tie = _motion(gov, rows)
    _vote(gov, tie, rows, {1: "yes", 2: "yes", 3: "no", 4: "no", 5: "abstain"})
    assert services.motion_decide(actor=gov.users["admin"], motion=tie).status == Motion.Status.FAILED
    other = _motion(gov, rows, text="Engage an auditor")
    _vote(gov, other, rows, {1: "yes", 2: "abstain", 3: "abstain", 4: "recused", 5: "abstain"})
    other = services.motion_decide(actor=gov.users["admin"], motion=other)
    assert other.status == Motion.Status.CARRIED  # 1 yes of 1 cast
    assert (other.yes, other.no, other.abstain, other.recused) == (1, 0, 3, 1)


def test_two_thirds_by_the_motion_or_the_bodys_rule(gov: Any) -> None:
    rows = attend(gov, gov.meeting, present=[1, 2, 3, 4, 5])
    bylaws = _motion(gov, rows, text="Amend the bylaws", vote_rule="two_thirds")
    _vote(gov, bylaws, rows, {1: "yes", 2: "yes", 3: "yes", 4: "no", 5: "no"})  # 60%
    bylaws = services.motion_decide(actor=gov.users["admin"], motion=bylaws)
    assert (bylaws.status, bylaws.rule_applied) == (Motion.Status.FAILED, "two_thirds")
    again = _motion(gov, rows, text="Amend the bylaws (again)", vote_rule="two_thirds")
    _vote(gov, again, rows, {1: "yes", 2: "yes", 3: "yes", 4: "yes", 5: "no"})  # 80%
    assert services.motion_decide(actor=gov.users["admin"], motion=again).status == Motion.Status.CARRIED


def test_a_decided_motion_is_the_record(gov: Any) -> None:
    rows = attend(gov, gov.meeting, present=[1, 2, 3])
    motion = _motion(gov, rows)
    _vote(gov, motion, rows, {1: "yes", 2: "yes", 3: "yes"})
    services.motion_decide(actor=gov.users["admin"], motion=motion)
    votes = list(Vote.objects.filter(motion=motion).values_list("attendance_id", "choice"))
    for call in (
        lambda: _vote(gov, motion, rows, {1: "no", 2: "no", 3: "no"}),
        lambda: services.motion_decide(actor=gov.users["admin"], motion=motion),
        lambda: services.motion_table(actor=gov.users["admin"], motion=motion),
        lambda: attend(gov, gov.meeting, present=[1]),
    ):
        with pytest.raises(ValidationFailed):
            call()
    assert list(Vote.objects.filter(motion=motion).values_list("attendance_id", "choice")) == votes
    assert Attendance.objects.filter(meeting=gov.meeting, status="present").count() == 3


def test_tabled_motion_is_not_decided(gov: Any) -> None:
    rows = attend(gov, gov.meeting, present=[1, 2, 3])
    motion = services.motion_table(
        actor=gov.users["admin"], motion=_motion(gov, rows), note="more data needed"
    )
    assert motion.status == Motion.Status.TABLED
    assert not motion.decided
    assert motion.decided_at is None


def test_only_voters_present_move_second_and_vote(gov: Any) -> None:
    rows = attend(gov, gov.meeting, present=[1, 2, 3], absent=(4,))
    with pytest.raises(ValidationFailed, match="seconded_by"):
        services.motion_move(actor=gov.users["admin"], meeting=gov.meeting, text="X", moved_by=rows[1],
                             seconded_by=rows[4])  # fmt: skip
    with pytest.raises(ValidationFailed, match="second their own"):
        services.motion_move(actor=gov.users["admin"], meeting=gov.meeting, text="X", moved_by=rows[1],
                             seconded_by=rows[1])  # fmt: skip
    motion = _motion(gov, rows)
    with pytest.raises(ValidationFailed, match="not present"):
        _vote(gov, motion, rows, {1: "yes", 4: "yes"})
    with pytest.raises(ValidationFailed, match="yes, no, abstain or recused"):
        _vote(gov, motion, rows, {1: "maybe"})
    assert not Vote.objects.exists()


def test_minutes_are_approved_at_a_later_meeting_and_never_changed_after(gov: Any) -> None:
    admin = gov.users["admin"]
    attend(gov, gov.meeting, present=[1, 2, 3])
    minutes = services.minutes_save(actor=admin, meeting=gov.meeting, text="Draft: the board met.")
    minutes = services.minutes_save(actor=admin, meeting=gov.meeting, text="The board met; quorum present.")
    april = services.meeting_schedule(actor=admin, body=gov.board, title="Board meeting, April 2026",
                                      starts_at=dt.datetime(2026, 4, 14, 18, 0, tzinfo=PACIFIC),
                                      video_link="https://meet.example/board")  # fmt: skip
    # not at the same meeting
    rows = dict(attend(gov, gov.meeting, present=[1, 2, 3]).items())
    with pytest.raises(ValidationFailed, match="approves_minutes"):
        services.motion_move(actor=admin, meeting=gov.meeting, text="Approve", moved_by=rows[1],
                             seconded_by=rows[2], approves_minutes=minutes)  # fmt: skip
    later = attend(gov, april, present=[1, 2, 3, 5])
    approve = services.motion_move(actor=admin, meeting=april, text="Approve the March minutes", moved_by=later[5],
                                   seconded_by=later[1], approves_minutes=minutes)  # fmt: skip
    services.votes_record(actor=admin, motion=approve, votes={later[n].pk: "yes" for n in (1, 2, 3, 5)})
    services.motion_decide(actor=admin, motion=approve)
    minutes.refresh_from_db()
    assert minutes.status == Minutes.Status.APPROVED
    assert minutes.approved_at is not None
    with pytest.raises(ValidationFailed, match="never changed"):
        services.minutes_save(actor=admin, meeting=gov.meeting, text="Rewritten history")
    minutes.text = "Rewritten history"
    with pytest.raises(ApprovedMinutesError):
        minutes.save()
    with pytest.raises(ApprovedMinutesError):
        Minutes.objects.get(pk=minutes.pk).delete()
    assert Minutes.objects.get(pk=minutes.pk).text == "The board met; quorum present."


def test_failed_approval_leaves_minutes_draft(gov: Any) -> None:
    admin = gov.users["admin"]
    attend(gov, gov.meeting, present=[1, 2, 3])
    minutes = services.minutes_save(actor=admin, meeting=gov.meeting, text="The board met.")
    april = services.meeting_schedule(actor=admin, body=gov.board, title="April",
                                      starts_at=dt.datetime(2026, 4, 14, 18, 0, tzinfo=PACIFIC), location="Office")  # fmt: skip
    later = attend(gov, april, present=[1, 2, 3])
    motion = services.motion_move(actor=admin, meeting=april, text="Approve", moved_by=later[1],
                                  seconded_by=later[2], approves_minutes=minutes)  # fmt: skip
    services.votes_record(
        actor=admin, motion=motion, votes={later[1].pk: "yes", later[2].pk: "no", later[3].pk: "no"}
    )
    assert services.motion_decide(actor=admin, motion=motion).status == Motion.Status.FAILED
    minutes.refresh_from_db()
    assert minutes.status == Minutes.Status.DRAFT


@pytest.mark.parametrize("name", ["board", "alice", "auditor", "ops", "fin"])
def test_only_the_secretary_records_and_nothing_changes(gov: Any, name: str) -> None:
    actor = gov.users[name]
    rows = attend(gov, gov.meeting, present=[1, 2, 3])
    motion = _motion(gov, rows)
    before = (Motion.objects.count(), Vote.objects.count(), Minutes.objects.count(), SeatTerm.objects.count(),
              BodyRule.objects.count(), AuditEvent.objects.count())  # fmt: skip
    calls: list[Callable[[], object]] = [
        lambda: services.body_create(actor=actor, code="X", name="X", kind="committee"),
        lambda: services.rule_set(actor=actor, body=gov.board, valid_from=dt.date(2027, 1, 1), seat_count=7),
        lambda: services.seat_assign(actor=actor, body=gov.board, seat_number=1, valid_from=START, person_name="Z"),
        lambda: services.meeting_schedule(actor=actor, body=gov.board, title="T", location="L",
                                          starts_at=dt.datetime(2026, 5, 1, 9, tzinfo=PACIFIC)),
        lambda: services.attendance_record(actor=actor, meeting=gov.meeting,
                                           entries={f"seat:{gov.seats[4].pk}": ("present", "")}),
        lambda: services.motion_move(actor=actor, meeting=gov.meeting, text="T", moved_by=rows[1]),
        lambda: services.votes_record(actor=actor, motion=motion, votes={rows[1].pk: "yes"}),
        lambda: services.motion_decide(actor=actor, motion=motion),
        lambda: services.motion_table(actor=actor, motion=motion),
        lambda: services.minutes_save(actor=actor, meeting=gov.meeting, text="T"),
        lambda: services.meeting_set_status(actor=actor, meeting=gov.meeting, status="cancelled"),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    after = (Motion.objects.count(), Vote.objects.count(), Minutes.objects.count(), SeatTerm.objects.count(),
             BodyRule.objects.count(), AuditEvent.objects.count())  # fmt: skip
    assert after == before
    motion.refresh_from_db()
    assert motion.status == Motion.Status.PENDING


def test_rules_and_seats_are_effective_dated(gov: Any) -> None:
    admin = gov.users["admin"]
    # a new open-ended version ends the open one the day before
    services.rule_set(actor=admin, body=gov.board, valid_from=dt.date(2027, 1, 1), seat_count=7, quorum_kind="count",
                      quorum_value=4)  # fmt: skip
    first = BodyRule.objects.get(body=gov.board, valid_from=START)
    assert first.valid_to == dt.date(2026, 12, 31)
    assert selectors.rule_on(gov.board, dt.date(2027, 6, 1)).seat_count == 7  # type: ignore[union-attr]
    with pytest.raises(ValidationFailed, match="overlaps"):
        services.rule_set(actor=admin, body=gov.board, valid_from=dt.date(2026, 6, 1), valid_to=dt.date(2026, 7, 1),
                          seat_count=5)  # fmt: skip
    with pytest.raises(ValidationFailed, match="could never meet"):
        services.rule_set(actor=admin, body=gov.board, valid_from=dt.date(2028, 1, 1), seat_count=5,
                          quorum_kind="count", quorum_value=6)  # fmt: skip
    with pytest.raises(ValidationFailed, match="no seats"):
        services.rule_set(actor=admin, body=gov.membership, valid_from=dt.date(2028, 1, 1), seat_count=5)
    # seats: one holder per seat at a time, one chair at a time, seats 1..count
    with pytest.raises(ValidationFailed, match="seat 2 is held"):
        services.seat_assign(
            actor=admin, body=gov.board, seat_number=2, valid_from=dt.date(2026, 6, 1), person_name="Q"
        )
    with pytest.raises(ValidationFailed, match="chair"):
        services.seat_assign(actor=admin, body=gov.board, seat_number=6, valid_from=dt.date(2027, 1, 1),
                             person_name="Q", office="chair")  # fmt: skip
    with pytest.raises(ValidationFailed, match="seats 1 to 5"):
        services.seat_assign(
            actor=admin, body=gov.board, seat_number=6, valid_from=dt.date(2026, 6, 1), person_name="Q"
        )
    with pytest.raises(ValidationFailed, match="one of the two"):
        services.seat_assign(actor=admin, body=gov.board, seat_number=6, valid_from=dt.date(2027, 1, 1))
    services.seat_end(actor=admin, term=gov.seats[2], valid_to=dt.date(2026, 5, 31))
    services.seat_assign(
        actor=admin, body=gov.board, seat_number=2, valid_from=dt.date(2026, 6, 1), person_name="Q"
    )
    june = [t.holder_name for t in selectors.seats_on(gov.board, dt.date(2026, 6, 1))]
    assert "Q" in june
    assert "Ben Birch, DO" not in june


def test_the_membership_votes_one_vote_per_member_practice(gov: Any) -> None:
    admin = gov.users["admin"]
    annual = services.meeting_schedule(actor=admin, body=gov.membership, title="Annual meeting 2026",
                                       starts_at=dt.datetime(2026, 6, 20, 10, tzinfo=PACIFIC), location="Hall")  # fmt: skip
    voters = selectors.electorate(annual)
    assert [v.key for v in voters] == [f"practice:{gov.practice_a.pk}", f"practice:{gov.practice_b.pk}"]
    with pytest.raises(ValidationFailed, match="not a voter"):
        services.attendance_record(
            actor=admin, meeting=annual, entries={f"seat:{gov.seats[1].pk}": ("present", "")}
        )
    rows = services.attendance_record(
        actor=admin,
        meeting=annual,
        entries={
            f"practice:{gov.practice_a.pk}": ("present", "Ada Alder"),
            f"practice:{gov.practice_b.pk}": ("absent", ""),
        },
    )
    q = selectors.meeting_quorum(annual)
    assert q is not None
    assert (q.base, q.required, q.present, q.met) == (2, 2, 1, False)
    motion = services.motion_move(actor=admin, meeting=annual, text="Elect the board", moved_by=rows[0])
    services.votes_record(actor=admin, motion=motion, votes={rows[0].pk: "yes"})
    with pytest.raises(ValidationFailed, match="no quorum"):
        services.motion_decide(actor=admin, motion=motion)
    services.attendance_record(
        actor=admin, meeting=annual, entries={f"practice:{gov.practice_b.pk}": ("present", "Ben")}
    )
    assert services.motion_decide(actor=admin, motion=motion).status == Motion.Status.CARRIED


def test_participation_counted_by_hand(gov: Any) -> None:
    """March: seats 1, 2, 3 present (A: seat 1; B: seats 2 and 3), 4 and 5 excused; one motion, votes 1 yes, 2 yes,
    3 abstain. Annual meeting (June): A present, B absent; one motion, A votes yes. Seats in 2026: A 2 (seats 1 and
    5), B 2 (seats 2 and 3).
    A: entitled 2 meetings (March via seats 1 and 5, June), attended 2, votes cast 2. B: entitled 2, attended 1
    (March, however many of its people came), 1 vote cast, 1 abstention."""
    admin = gov.users["admin"]
    rows = attend(gov, gov.meeting, present=[1, 2, 3])
    motion = _motion(gov, rows)
    _vote(gov, motion, rows, {1: "yes", 2: "yes", 3: "abstain"})
    services.motion_decide(actor=admin, motion=motion)
    annual = services.meeting_schedule(actor=admin, body=gov.membership, title="Annual meeting 2026",
                                       starts_at=dt.datetime(2026, 6, 20, 10, tzinfo=PACIFIC), location="Hall")  # fmt: skip
    mrows = services.attendance_record(
        actor=admin,
        meeting=annual,
        entries={
            f"practice:{gov.practice_a.pk}": ("present", "Ada"),
            f"practice:{gov.practice_b.pk}": ("absent", ""),
        },
    )
    m2 = services.motion_move(actor=admin, meeting=annual, text="Thank the staff", moved_by=mrows[0])
    services.votes_record(actor=admin, motion=m2, votes={mrows[0].pk: "yes"})
    # a cancelled meeting does not count
    cancelled = services.meeting_schedule(actor=admin, body=gov.board, title="Cancelled", location="X",
                                          starts_at=dt.datetime(2026, 7, 1, 9, tzinfo=PACIFIC))  # fmt: skip
    services.meeting_set_status(actor=admin, meeting=cancelled, status="cancelled")
    report = selectors.participation(gov.users["admin"], year=2026)
    by = {r.code: r for r in report.rows}
    a, b = by["ALDER"], by["BIRCH"]
    assert (a.meetings_entitled, a.meetings_attended, a.votes_cast, a.abstentions, a.seats_held) == (
        2,
        2,
        2,
        0,
        2,
    )
    assert (b.meetings_entitled, b.meetings_attended, b.votes_cast, b.abstentions, b.seats_held) == (
        2,
        1,
        1,
        1,
        2,
    )
    assert (a.board_seats, b.committee_seats) == (2, 0)
    assert report.meetings_held == 2
    assert report.network_attendance_rate == pytest.approx(3 / 4)
    mine = selectors.participation(gov.users["alice"], year=2026)
    assert [r.code for r in mine.rows] == ["ALDER"]
    assert mine.scoped
    # one other practice: an average would be Birch's own numbers, so it is withheld (the network's K)
    assert mine.peers_hidden
    assert mine.network_attendance_rate is None
    assert mine.network_votes_per_practice is None
    empty = selectors.participation(gov.users["admin"], year=2025)
    assert empty.meetings_held == 0
    assert all(r.meetings_entitled == 0 for r in empty.rows)


def test_the_network_average_is_shown_to_a_practice_when_enough_other_practices_are_in_it(
    gov: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = attend(gov, gov.meeting, present=[1, 2, 3])
    _vote(gov, _motion(gov, rows), rows, {1: "yes", 2: "no", 3: "no"})
    monkeypatch.setattr(selectors, "peer_minimum", lambda day: 1)
    mine = selectors.participation(gov.users["alice"], year=2026)
    assert not mine.peers_hidden
    assert mine.network_attendance_rate == pytest.approx(1.0)  # A 1 of 1, B 1 of 1
    assert mine.network_votes_per_practice == pytest.approx(1.5)  # A 1, B 2
    monkeypatch.setattr(selectors, "peer_minimum", lambda day: 2)  # one other practice is not enough
    assert selectors.participation(gov.users["alice"], year=2026).peers_hidden


def test_the_peer_minimum_is_the_networks_setting() -> None:
    from openipa.performance.engine.scorecard import load_data

    day = dt.date(2026, 6, 1)
    assert selectors.peer_minimum(day) == load_data().settings_on(day).min_peer_practices >= 2
    assert selectors.peer_minimum(dt.date(1990, 1, 1)) == 10**9  # no setting in force: never shown
