"""The demo's governance (issue 9, part 7b), recorded through `openipa.governance.services` as the demo's
administrator (the association's secretary), so every rule, refusal and audit event is the real one:

- the **Board of Directors**: 9 seats held by physicians of 9 different member practices (chair, vice-chair,
  secretary, treasurer and five directors), quorum a majority of the seats, a simple majority of the votes cast;
- three **committees** of the board (Finance: 5 seats, quorum 3 present; Quality: 5 seats, a majority;
  Credentialing: 5 seats, a majority, two-thirds of the votes cast), each with one meeting in the last quarter;
- the **General Membership**: one vote per member practice, quorum a quarter of the member practices;
- **monthly board meetings** on the second Tuesday of each of the last six months (before ``today``), with
  attendance (quorum always present), motions and votes: the previous meeting's minutes approved at each
  meeting, business motions carried, one motion failed and one tabled; minutes drafted for every meeting, so all
  but the last are approved;
- the **annual membership meeting**, four months back, with most member practices represented.

Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q

from openipa.accounts.models import User
from openipa.core.roles import Role
from openipa.governance import selectors, services
from openipa.governance.engine import rules
from openipa.governance.models import AgendaItem, Attendance, Body, Meeting, Minutes, Motion, SeatTerm
from openipa.network.models import Affiliation, Practice, Provider

ProgressFn = Callable[[str, int, int], None]
STAGE = "Governance"
BOARD_SEATS = 9
OFFICES = ["chair", "vice_chair", "secretary", "treasurer"]

BUSINESS = [
    ("Finance report", "Accept the treasurer's report and the year-to-date financial statements."),
    ("Quality program", "Adopt the diabetes care improvement initiative for the Inland region practices."),
    (
        "Payer contracting",
        "Authorize the chief executive to sign the renewed Medicare Advantage capitation "
        "agreement as negotiated (terms with finance; no rates in these minutes).",
    ),
    ("Reserves", "Set the claims reserve target at three months of paid claims."),
    ("Credentialing", "Ratify the credentialing committee's decisions of the last month."),
    ("Technology", "Approve the budget for the practice portal's second phase."),
]
FAILED = ("Membership fees", "Raise the flat monthly membership fee for all practices by ten percent.")
TABLED = ("Bylaws", "Add a tenth board seat for a behavioral health provider (to be reworded).")


@dataclass(frozen=True)
class GovernanceSummary:
    bodies: int
    seats: int
    meetings: int
    board_meetings: int
    motions: int
    carried: int
    failed: int
    tabled: int
    minutes_approved: int
    minutes_draft: int
    membership_meeting_id: int


def _second_tuesday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(1 - first.weekday()) % 7 + 7)


def _board_days(today: dt.date, count: int) -> list[dt.date]:
    """The last ``count`` second Tuesdays before ``today``, oldest first."""
    days: list[dt.date] = []
    year, month = today.year, today.month
    while len(days) < count:
        day = _second_tuesday(year, month)
        if day < today:
            days.append(day)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(days)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=selectors.zone())


def _physicians(today: dt.date) -> list[tuple[Provider, Practice]]:
    """One physician per practice (the first PCP by NPI affiliated today), practices by code."""
    seen: set[int] = set()
    out: list[tuple[Provider, Practice]] = []
    affiliations = (
        Affiliation.objects.select_related("provider", "practice")
        .filter(provider__kind=Provider.Kind.PCP, provider__degree__in=["MD", "DO"], valid_from__lte=today)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .order_by("practice__code", "provider__npi")
    )
    for a in affiliations:
        if a.practice_id in seen:
            continue
        seen.add(a.practice_id)
        out.append((a.provider, a.practice))
    return out


def _attend(secretary: User, meeting: Meeting, rng: random.Random, minimum: int) -> list[Attendance]:
    """Most voters present, a few excused or absent; at least ``minimum`` present (quorum)."""
    voters = selectors.electorate(meeting)
    statuses = [rng.choices(["present", "excused", "absent"], weights=[84, 11, 5])[0] for _ in voters]
    order = list(range(len(voters)))
    rng.shuffle(order)
    for i in order:
        if statuses.count("present") >= minimum:
            break
        statuses[i] = "present"
    entries = {}
    for voter, status in zip(voters, statuses, strict=True):
        rep = voter.name if meeting.body.by_practice and status == "present" else ""
        entries[voter.key] = (status, rep)
    services.attendance_record(actor=secretary, meeting=meeting, entries=entries)
    return list(meeting.attendance.filter(status=Attendance.Status.PRESENT).order_by("id"))


def _motion(
    secretary: User,
    meeting: Meeting,
    present: list[Attendance],
    rng: random.Random,
    text: str,
    *,
    outcome: str = "carry",
    agenda_item: AgendaItem | None = None,
    approves: Minutes | None = None,
) -> Motion:
    mover, seconder = rng.sample(present, 2)
    motion = services.motion_move(
        actor=secretary, meeting=meeting, text=text, moved_by=mover, seconded_by=seconder,
        agenda_item=agenda_item, approves_minutes=approves,
    )  # fmt: skip
    if outcome == "table":
        return services.motion_table(
            actor=secretary, motion=motion, note="Tabled to the next meeting for rewording."
        )
    votes: dict[int, str] = {}
    for i, a in enumerate(present):
        if outcome == "fail":
            choice = "yes" if i < len(present) // 3 else rng.choice(["no", "no", "no", "abstain"])
        else:
            choice = rng.choices(["yes", "no", "abstain", "recused"], weights=[86, 6, 6, 2])[0]
        votes[a.pk] = choice
    tally = rules.Tally.of(votes.values())
    if outcome == "carry" and not rules.carried(rules.TWO_THIRDS, tally):
        votes = dict.fromkeys(votes, "yes")
    if outcome == "fail" and rules.carried(rules.SIMPLE_MAJORITY, tally):
        votes = {k: ("yes" if i < len(present) // 3 else "no") for i, k in enumerate(votes)}
    services.votes_record(actor=secretary, motion=motion, votes=votes)
    return services.motion_decide(actor=secretary, motion=motion)


def build_governance(*, seed: int, today: dt.date, progress: ProgressFn | None = None) -> GovernanceSummary:
    rng = random.Random(f"governance:{seed}")
    secretary = User.objects.get(role=Role.IPA_ADMIN, username="admin")
    start = dt.date(today.year - 1, 1, 1)
    steps = 10
    step = 0

    def tick() -> None:
        nonlocal step
        step += 1
        if progress is not None:
            progress(STAGE, step, steps)

    physicians = _physicians(today)
    if len(physicians) < BOARD_SEATS + 6:
        raise ValueError(
            f"the demo network has {len(physicians)} practices with a physician: too few for a board"
        )
    rng.shuffle(physicians)

    board = services.body_create(
        actor=secretary, code="BOARD", name="Board of Directors", kind=Body.Kind.BOARD,
        charter="Governs the association: sets policy and budgets, approves payer contracts and distributions, "
        "appoints the committees. Directors are physicians elected by the member practices for two-year terms.",
    )  # fmt: skip
    services.rule_set(actor=secretary, body=board, valid_from=start, seat_count=BOARD_SEATS, quorum_kind="majority",
                      vote_rule="simple_majority", note="Bylaws art. IV s. 6-7")  # fmt: skip
    board_holders = physicians[:BOARD_SEATS]
    for number, (provider, practice) in enumerate(board_holders, start=1):
        office = OFFICES[number - 1] if number <= len(OFFICES) else "member"
        services.seat_assign(actor=secretary, body=board, seat_number=number, valid_from=start, provider=provider,
                             practice=practice, office=office)  # fmt: skip
    tick()

    committees = []
    others = physicians[BOARD_SEATS:]
    for i, (code, name, charter, quorum_kind, quorum_value, vote_rule) in enumerate((
        ("FINANCE", "Finance Committee", "Reviews budgets, reserves, distributions and the audit.", "count", 3,
         "simple_majority"),
        ("QUALITY", "Quality Committee", "Oversees the quality program, measures and improvement initiatives.",
         "majority", 0, "simple_majority"),
        ("CRED", "Credentialing Committee", "Decides practitioners' credentialing and recredentialing.",
         "majority", 0, "two_thirds"),
    )):  # fmt: skip
        body = services.body_create(actor=secretary, code=code, name=name, kind=Body.Kind.COMMITTEE,
                                    charter=charter, parent=board)  # fmt: skip
        services.rule_set(actor=secretary, body=body, valid_from=start, seat_count=5, quorum_kind=quorum_kind,
                          quorum_value=quorum_value, vote_rule=vote_rule, note="Board resolution")  # fmt: skip
        members = [board_holders[i + 1], *(others[(i * 4 + k) % len(others)] for k in range(4))]
        for number, (provider, practice) in enumerate(members, start=1):
            services.seat_assign(actor=secretary, body=body, seat_number=number, valid_from=start, provider=provider,
                                 practice=practice, office="chair" if number == 1 else "member")  # fmt: skip
        committees.append(body)
    membership = services.body_create(
        actor=secretary, code="MEMBERS", name="General Membership", kind=Body.Kind.MEMBERSHIP,
        charter="Every member practice with an active participation agreement: elects the directors, amends the "
        "bylaws. One vote per practice.",
    )  # fmt: skip
    services.rule_set(actor=secretary, body=membership, valid_from=start, quorum_kind="percent", quorum_value=25,
                      vote_rule="simple_majority", note="Bylaws art. III s. 4")  # fmt: skip
    tick()

    days = _board_days(today, 6)
    previous: Minutes | None = None
    board_meetings: list[Meeting] = []
    for index, day in enumerate(days):
        meeting = services.meeting_schedule(
            actor=secretary, body=board, title=f"Board meeting, {day:%B %Y}", starts_at=_at(day, 18),
            location="IPA office, board room", video_link="https://meet.example.org/openipa-board",
            agenda=["Call to order and quorum", "Approval of the previous minutes",
                    *(b[0] for b in BUSINESS[index % len(BUSINESS):][:2])],
        )  # fmt: skip
        items = list(meeting.agenda_items.all())
        present = _attend(secretary, meeting, rng, minimum=6)
        if previous is not None:
            _motion(secretary, meeting, present, rng, f"Approve the minutes of the {previous.meeting.title.lower()}.",
                    agenda_item=items[1], approves=previous)  # fmt: skip
        for offset, (_title, text) in enumerate(BUSINESS[index % len(BUSINESS) :][:2]):
            _motion(secretary, meeting, present, rng, text, agenda_item=items[2 + offset])
        if index == 2:
            item = services.agenda_add(actor=secretary, meeting=meeting, title=FAILED[0])
            _motion(secretary, meeting, present, rng, FAILED[1], outcome="fail", agenda_item=item)
        if index == 3:
            item = services.agenda_add(actor=secretary, meeting=meeting, title=TABLED[0])
            _motion(secretary, meeting, present, rng, TABLED[1], outcome="table", agenda_item=item)
        names = ", ".join(a.voter_name for a in present)
        decided = list(meeting.motions.order_by("number"))
        lines = [f"The {meeting.title.lower()} was called to order at 6:00 pm; a quorum was present ({len(present)} "
                 f"of {BOARD_SEATS} directors: {names})."]  # fmt: skip
        lines += [f"Motion {m.number}: {m.text} {m.get_status_display()}"
                  + (f" ({m.yes} yes, {m.no} no, {m.abstain} abstained)." if m.decided else ".") for m in decided]  # fmt: skip
        lines.append("The meeting was adjourned at 7:30 pm.")
        previous = services.minutes_save(actor=secretary, meeting=meeting, text="\n\n".join(lines))
        board_meetings.append(meeting)
        tick()

    for i, body in enumerate(committees):
        day = days[-1 - i] + dt.timedelta(days=7)
        if day >= today:
            day = days[-1 - i] - dt.timedelta(days=7)
        meeting = services.meeting_schedule(actor=secretary, body=body, title=f"{body.name}, {day:%B %Y}",
                                            starts_at=_at(day, 12), video_link="https://meet.example.org/openipa",
                                            agenda=["Reports", "Recommendations to the board"])  # fmt: skip
        present = _attend(secretary, meeting, rng, minimum=3)
        _motion(
            secretary,
            meeting,
            present,
            rng,
            f"Forward the {body.name.lower()}'s recommendations to the board.",
        )
        services.minutes_save(
            actor=secretary, meeting=meeting, text=f"The {body.name.lower()} met; quorum present."
        )
    tick()

    month = today.month - 4 if today.month > 4 else today.month + 8
    year = today.year if today.month > 4 else today.year - 1
    annual_day = dt.date(year, month, 1) + dt.timedelta(days=(5 - dt.date(year, month, 1).weekday()) % 7 + 14)
    annual = services.meeting_schedule(
        actor=secretary, body=membership, title=f"Annual membership meeting {annual_day.year}",
        starts_at=_at(annual_day, 10), location="Pasadena Convention Center, Room 103",
        agenda=["Report of the chair", "Election of directors", "Bylaws"],
    )  # fmt: skip
    voters = selectors.electorate(annual)
    present = _attend(secretary, annual, rng, minimum=max(len(voters) // 4 + 1, 2))
    items = list(annual.agenda_items.all())
    _motion(secretary, annual, present, rng, "Elect the slate of directors presented by the nominating committee.",
            agenda_item=items[1])  # fmt: skip
    _motion(secretary, annual, present, rng, "Amend the bylaws to allow meetings by video conference.",
            agenda_item=items[2])  # fmt: skip
    services.minutes_save(
        actor=secretary, meeting=annual,
        text=f"The annual meeting of the members was held; {len(present)} of {len(voters)} member practices were "
        "represented. The slate of directors was elected and the bylaws amendment adopted.",
    )  # fmt: skip
    tick()

    motions = Motion.objects.all()
    return GovernanceSummary(
        bodies=Body.objects.count(),
        seats=SeatTerm.objects.count(),
        meetings=Meeting.objects.count(),
        board_meetings=len(board_meetings),
        motions=motions.count(),
        carried=motions.filter(status=Motion.Status.CARRIED).count(),
        failed=motions.filter(status=Motion.Status.FAILED).count(),
        tabled=motions.filter(status=Motion.Status.TABLED).count(),
        minutes_approved=Minutes.objects.filter(status=Minutes.Status.APPROVED).count(),
        minutes_draft=Minutes.objects.filter(status=Minutes.Status.DRAFT).count(),
        membership_meeting_id=annual.pk,
    )
