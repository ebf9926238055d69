"""Governance reads, scoped by role (ADR 0024).

- VIEW_GOVERNANCE (administrator, auditor, board, practice users) reads bodies, meetings, motions, results and
  approved minutes; the secretary (EDIT_GOVERNANCE) also reads draft minutes.
- A practice user sees the general membership's meetings, and another body's meeting only once its minutes are
  approved (published). On any page a practice user sees other practices only in aggregate: counts present,
  vote tallies, never who else attended or how another practice's representative voted, nor another practice's
  participation.
- Nothing here reads contracts, fee tables or the messenger (the board reads these pages: ADR 0012).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from openipa.core.dating import pick_in_force
from openipa.core.errors import NotFound
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.governance.engine import rules
from openipa.governance.models import (
    Attendance,
    Body,
    BodyRule,
    Meeting,
    Minutes,
    Motion,
    SeatTerm,
    Vote,
)
from openipa.network.models import ParticipationAgreement, Practice
from openipa.performance.engine.scorecard import ScorecardDataError
from openipa.performance.engine.scorecard import load_data as load_scorecard_data


def zone() -> ZoneInfo:
    return ZoneInfo(str(settings.TIME_ZONE))


def meeting_day(meeting: Meeting) -> dt.date:
    """The meeting's date in the association's time zone (what terms and agreements are in force on)."""
    return meeting.starts_at.astimezone(zone()).date()


def can_edit(actor: Actor) -> bool:
    return has_perm(actor, Perm.EDIT_GOVERNANCE)


# -- bodies, rules, seats -----------------------------------------------------------------------------------


def bodies(actor: Actor) -> QuerySet[Body]:
    require(actor, Perm.VIEW_GOVERNANCE)
    return Body.objects.select_related("parent").order_by("kind", "name")


def body_get(actor: Actor, pk: int) -> Body:
    require(actor, Perm.VIEW_GOVERNANCE)
    body = Body.objects.select_related("parent").filter(pk=pk).first()
    if body is None:
        raise NotFound("no such body")
    return body


def rule_on(body: Body, day: dt.date) -> BodyRule | None:
    return pick_in_force(list(body.rules.all()), day)


def seats_on(body: Body, day: dt.date) -> list[SeatTerm]:
    """The seat terms in force on ``day``, by seat number."""
    return list(
        body.seat_terms.select_related("provider", "practice")
        .filter(valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .order_by("seat_number")
    )


def member_practices_on(day: dt.date) -> list[Practice]:
    """The general membership's electorate: practices with an active participation agreement in force."""
    ids = (
        ParticipationAgreement.objects.filter(
            status=ParticipationAgreement.Status.ACTIVE, valid_from__lte=day
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .values_list("practice_id", flat=True)
    )
    return list(Practice.objects.filter(pk__in=ids).order_by("legal_name"))


@dataclass(frozen=True)
class Voter:
    """One voter of a meeting: ``key`` is ``seat:<term id>`` or ``practice:<practice id>``."""

    key: str
    name: str
    practice_id: int | None
    practice_name: str
    office: str = ""
    seat_term: SeatTerm | None = None
    practice: Practice | None = None


def electorate(meeting: Meeting) -> list[Voter]:
    """Who may attend and vote at ``meeting``: the seat holders in force on its day, or every member practice."""
    day = meeting_day(meeting)
    if meeting.body.by_practice:
        return [
            Voter(f"practice:{p.pk}", p.legal_name, p.pk, p.legal_name, practice=p)
            for p in member_practices_on(day)
        ]
    return [
        Voter(
            f"seat:{t.pk}",
            t.holder_name,
            t.practice_id,
            t.practice.legal_name if t.practice else "",
            office=t.get_office_display(),
            seat_term=t,
        )
        for t in seats_on(meeting.body, day)
    ]


def quorum_base(meeting: Meeting, rule: BodyRule) -> int:
    if meeting.body.by_practice:
        return len(member_practices_on(meeting_day(meeting)))
    return rule.seat_count


def meeting_quorum(meeting: Meeting) -> rules.Quorum | None:
    """The quorum from the attendance recorded, under the body's rule on the meeting's day (None: no rule)."""
    rule = rule_on(meeting.body, meeting_day(meeting))
    if rule is None:
        return None
    present = meeting.attendance.filter(status=Attendance.Status.PRESENT).count()
    return rules.quorum(rule.quorum_kind, rule.quorum_value, quorum_base(meeting, rule), present)


# -- meetings -----------------------------------------------------------------------------------------------


def _visible_meetings(actor: Actor) -> QuerySet[Meeting]:
    require(actor, Perm.VIEW_GOVERNANCE)
    meetings = Meeting.objects.select_related("body")
    if is_practice_scoped(actor):
        meetings = meetings.filter(
            Q(body__kind=Body.Kind.MEMBERSHIP) | Q(minutes__status=Minutes.Status.APPROVED)
        )
    return meetings


def meetings(actor: Actor, *, body: Body | None = None, year: int | None = None) -> QuerySet[Meeting]:
    found = _visible_meetings(actor)
    if body is not None:
        found = found.filter(body=body)
    if year is not None:
        tz = zone()
        found = found.filter(
            starts_at__gte=dt.datetime(year, 1, 1, tzinfo=tz),
            starts_at__lt=dt.datetime(year + 1, 1, 1, tzinfo=tz),
        )
    return found.order_by("-starts_at", "-id")


@dataclass
class MonthGroup:
    label: str
    meetings: list[Meeting] = field(default_factory=list)


def meetings_by_month(found: QuerySet[Meeting]) -> list[MonthGroup]:
    """The meetings as a calendar-like list: one group per month, latest month first."""
    groups: dict[str, MonthGroup] = {}
    tz = zone()
    for meeting in found:
        local = meeting.starts_at.astimezone(tz)
        key = f"{local:%Y-%m}"
        groups.setdefault(key, MonthGroup(f"{local:%B %Y}")).meetings.append(meeting)
    return list(groups.values())


def meeting_get(actor: Actor, pk: int) -> Meeting:
    meeting = _visible_meetings(actor).filter(pk=pk).first()
    if meeting is None:
        raise NotFound("no such meeting")
    return meeting


def minutes_of(actor: Actor, meeting: Meeting) -> Minutes | None:
    """The meeting's minutes as this actor may read them: approved ones for every reader, drafts for the
    secretary (and the auditor, who reads all the administrator reads)."""
    minutes = Minutes.objects.filter(meeting=meeting).first()
    if minutes is None:
        return None
    if minutes.status == Minutes.Status.APPROVED or has_perm(actor, Perm.EDIT_GOVERNANCE):
        return minutes
    if has_perm(actor, Perm.VIEW_AUDIT):
        return minutes
    return None


def attendance_of(actor: Actor, meeting: Meeting) -> list[Attendance]:
    """Who attended. A practice user: their own practice's rows only (others are counts)."""
    rows = list(meeting.attendance.select_related("seat_term__provider", "practice").order_by("id"))
    if is_practice_scoped(actor):
        own = scoped_practice_id(actor)
        return [a for a in rows if a.practice_id == own]
    return rows


def motions_of(meeting: Meeting) -> list[Motion]:
    return list(
        meeting.motions.select_related(
            "agenda_item", "moved_by__seat_term__provider", "moved_by__practice",
            "seconded_by__seat_term__provider", "seconded_by__practice", "approves_minutes__meeting",
        ).order_by("number")
    )  # fmt: skip


def votes_of(actor: Actor, motion: Motion) -> list[Vote]:
    """Each voter's vote. A practice user: their own practice's representative's only (others are the tally)."""
    votes = list(motion.votes.select_related("attendance__seat_term__provider", "attendance__practice"))
    if is_practice_scoped(actor):
        own = scoped_practice_id(actor)
        return [v for v in votes if v.attendance.practice_id == own]
    return votes


def mover_name(actor: Actor, attendance: Attendance | None) -> str:
    """The mover or seconder as this actor may see them: another practice's person is not named to a practice
    user."""
    if attendance is None:
        return ""
    if is_practice_scoped(actor) and attendance.practice_id != scoped_practice_id(actor):
        return "a member"
    return attendance.voter_name


def draft_minutes_before(meeting: Meeting) -> list[Minutes]:
    """Draft minutes of the body's earlier meetings: what a motion at ``meeting`` may approve."""
    return list(
        Minutes.objects.select_related("meeting")
        .filter(
            meeting__body=meeting.body, status=Minutes.Status.DRAFT, meeting__starts_at__lt=meeting.starts_at
        )
        .order_by("meeting__starts_at")
    )


# -- participation ------------------------------------------------------------------------------------------


@dataclass
class Participation:
    """One practice's participation over a period."""

    practice_id: int
    practice: str
    code: str
    meetings_entitled: int = 0
    meetings_attended: int = 0
    votes_cast: int = 0
    abstentions: int = 0
    recusals: int = 0
    seats_held: int = 0
    committee_seats: int = 0
    board_seats: int = 0

    @property
    def attendance_rate(self) -> float | None:
        if not self.meetings_entitled:
            return None
        return self.meetings_attended / self.meetings_entitled


def peer_minimum(day: dt.date) -> int:
    """K: the fewest practices OTHER than a practice user's own that an average shown to them must cover (with
    fewer, an average would give away another practice's numbers). The network-wide effective-dated setting the
    scorecards and the association's pages use (performance/data/scorecard.json, ADR 0019), in force on ``day``;
    none in force (or two): the averages are withheld."""
    try:
        return load_scorecard_data().settings_on(day).min_peer_practices
    except ScorecardDataError:
        return 10**9


@dataclass(frozen=True)
class ParticipationReport:
    start: dt.date
    end: dt.date
    rows: list[Participation]
    scoped: bool
    meetings_held: int
    network_attendance_rate: float | None
    network_votes_per_practice: float | None
    peers_hidden: bool = False
    """A practice user's view of too few other practices: the network's averages are withheld."""


def _period(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def participation(actor: Actor, *, year: int) -> ParticipationReport:
    """Per practice for the year: meetings its representatives were entitled to attend and did attend (one per
    meeting however many of its people came), votes cast (yes or no) by them, abstentions and recusals, and
    seats held (board and committee seat terms in force some day of the year). Meetings held only (cancelled
    and scheduled ones do not count). A practice user gets their own practice's row and the network's averages.
    """
    require(actor, Perm.VIEW_GOVERNANCE)
    start, end = _period(year)
    tz = zone()
    held = list(
        Meeting.objects.select_related("body")
        .filter(status=Meeting.Status.HELD)
        .filter(
            starts_at__gte=dt.datetime(year, 1, 1, tzinfo=tz),
            starts_at__lt=dt.datetime(year + 1, 1, 1, tzinfo=tz),
        )
    )
    practices = {p.pk: p for p in Practice.objects.all()}
    rows: dict[int, Participation] = {}

    def row(pid: int) -> Participation:
        if pid not in rows:
            p = practices[pid]
            rows[pid] = Participation(pid, p.legal_name, p.code)
        return rows[pid]

    for p in member_practices_on(end):
        row(p.pk)
    entitled: dict[int, set[int]] = defaultdict(set)
    for meeting in held:
        for voter in electorate(meeting):
            if voter.practice_id is not None:
                entitled[voter.practice_id].add(meeting.pk)
    attended: dict[int, set[int]] = defaultdict(set)
    for meeting_id, pid in Attendance.objects.filter(
        meeting__in=held, status=Attendance.Status.PRESENT, practice__isnull=False
    ).values_list("meeting_id", "practice_id"):
        attended[pid].add(meeting_id)
        entitled[pid].add(meeting_id)
    for pid, ids in entitled.items():
        row(pid).meetings_entitled = len(ids)
    for pid, ids in attended.items():
        row(pid).meetings_attended = len(ids)
    for pid, choice in Vote.objects.filter(
        motion__meeting__in=held, attendance__practice__isnull=False
    ).values_list("attendance__practice_id", "choice"):
        r = row(pid)
        if choice in (Vote.Choice.YES, Vote.Choice.NO):
            r.votes_cast += 1
        elif choice == Vote.Choice.ABSTAIN:
            r.abstentions += 1
        else:
            r.recusals += 1
    for pid, kind in (
        SeatTerm.objects.filter(practice__isnull=False, valid_from__lte=end)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
        .values_list("practice_id", "body__kind")
    ):
        r = row(pid)
        r.seats_held += 1
        if kind == Body.Kind.COMMITTEE:
            r.committee_seats += 1
        elif kind == Body.Kind.BOARD:
            r.board_seats += 1
    everyone = sorted(rows.values(), key=lambda r: (r.practice, r.practice_id))
    total_entitled = sum(r.meetings_entitled for r in everyone)
    rate = sum(r.meetings_attended for r in everyone) / total_entitled if total_entitled else None
    per_practice = sum(r.votes_cast for r in everyone) / len(everyone) if everyone else None
    scoped = is_practice_scoped(actor)
    hidden = False
    if scoped:
        own = scoped_practice_id(actor)
        shown = [r for r in everyone if r.practice_id == own]
        if not shown and own in practices:
            shown = [Participation(own, practices[own].legal_name, practices[own].code)]
        others = sum(1 for r in everyone if r.practice_id != own)
        if others < peer_minimum(end):
            hidden, rate, per_practice = True, None, None
    else:
        shown = everyone
    return ParticipationReport(start, end, shown, scoped, len(held), rate, per_practice, hidden)
