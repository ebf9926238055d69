"""Governance writes: the association's secretary (EDIT_GOVERNANCE: the administrator) records everything. Each
write is one transaction with its audit event; a refusal (PermissionDenied, ValidationFailed) changes nothing.

    body_create(actor=..., code=, name=, kind=, charter=, parent=None)              -> Body
    rule_set(actor=..., body=, valid_from=, seat_count=, quorum_kind=, quorum_value=, vote_rule=)  -> BodyRule
    seat_assign(actor=..., body=, seat_number=, valid_from=, provider= | person_name=, practice=, office=) -> SeatTerm
    seat_end(actor=..., term=, valid_to=)                                           -> SeatTerm
    meeting_schedule(actor=..., body=, title=, starts_at=, location=, video_link=, agenda=[...]) -> Meeting
    agenda_add(actor=..., meeting=, title=, description=)                           -> AgendaItem
    attendance_record(actor=..., meeting=, entries={voter key: (status, representative)}) -> list[Attendance]
    motion_move(actor=..., meeting=, text=, moved_by=, seconded_by=, agenda_item=, vote_rule=, approves_minutes=)
    votes_record(actor=..., motion=, votes={attendance id: choice})                 -> Motion
    motion_decide(actor=..., motion=)     -> Motion (carried or failed; refused without quorum)
    motion_table(actor=..., motion=, note=) / motion_withdraw(...)                  -> Motion
    minutes_save(actor=..., meeting=, text=)                                        -> Minutes (draft)
    meeting_set_status(actor=..., meeting=, status=)                                -> Meeting

Rules (ADR 0024): a body's rules are effective-dated and must not overlap (a new open-ended version ends the
open one the day before it starts); a seat is held by one person at a time and officers' offices by one holder at
a time; only voters present move, second and vote; a motion is decided only with quorum, and once decided it is
never changed (a correction is a new motion); attendance is fixed once a motion of the meeting is decided;
minutes are approved by a carried motion at a later meeting of the same body, and approved minutes are never
changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from openipa.core import audit
from openipa.core.dating import overlaps
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Actor, Perm, require
from openipa.governance import selectors
from openipa.governance.engine import rules
from openipa.governance.models import (
    AgendaItem,
    Attendance,
    Body,
    BodyRule,
    Meeting,
    Minutes,
    Motion,
    QuorumKind,
    SeatTerm,
    Vote,
    VoteRule,
)
from openipa.network.models import Practice, Provider

OFFICERS = (
    SeatTerm.Office.CHAIR,
    SeatTerm.Office.VICE_CHAIR,
    SeatTerm.Office.SECRETARY,
    SeatTerm.Office.TREASURER,
)


def _who(actor: Actor) -> str:
    return str(actor.username)


def _range(valid_from: dt.date, valid_to: dt.date | None, problems: dict[str, list[str]]) -> None:
    if valid_to is not None and valid_to < valid_from:
        problems.setdefault("valid_to", []).append("ends before it starts")


def _raise(problems: dict[str, list[str]]) -> None:
    if any(problems.values()):
        raise ValidationFailed(problems)


# -- bodies and rules ---------------------------------------------------------------------------------------


def body_create(
    *, actor: Actor, code: str, name: str, kind: str, charter: str = "", parent: Body | None = None
) -> Body:
    require(actor, Perm.EDIT_GOVERNANCE)
    code, name = code.strip().upper(), name.strip()
    problems: dict[str, list[str]] = {}
    if not code or len(code) > 16:
        problems["code"] = ["a short code of at most 16 characters"]
    elif Body.objects.filter(code=code).exists():
        problems["code"] = [f"a body with code {code} exists"]
    if not name:
        problems["name"] = ["give the body a name"]
    if kind not in Body.Kind.values:
        problems["kind"] = ["board, committee or general membership"]
    if parent is not None and kind != Body.Kind.COMMITTEE:
        problems["parent"] = ["only a committee reports to another body"]
    _raise(problems)
    with transaction.atomic():
        body = Body.objects.create(code=code, name=name, kind=kind, charter=charter.strip(), parent=parent)
        audit.record_write(actor, "governance.body_create", body, after=audit.snapshot(body))
    return body


def rule_set(
    *,
    actor: Actor,
    body: Body,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    seat_count: int = 0,
    quorum_kind: str = QuorumKind.MAJORITY,
    quorum_value: Decimal | int | str = 0,
    vote_rule: str = VoteRule.SIMPLE_MAJORITY,
    note: str = "",
) -> BodyRule:
    """A version of the body's rules. An open-ended version already in force from an earlier day is ended the day
    before this one starts; any other overlap is refused."""
    require(actor, Perm.EDIT_GOVERNANCE)
    problems: dict[str, list[str]] = {}
    _range(valid_from, valid_to, problems)
    try:
        value = Decimal(str(quorum_value))
    except InvalidOperation:
        value = Decimal(-1)
        problems["quorum_value"] = ["a number"]
    if body.by_practice:
        if seat_count:
            problems["seat_count"] = [
                "the general membership has no seats: each member practice has one vote"
            ]
    elif seat_count < 1:
        problems["seat_count"] = ["a board or committee has at least one seat"]
    if quorum_kind not in QuorumKind.values:
        problems["quorum_kind"] = ["majority, count or percent"]
    elif "quorum_value" not in problems:
        try:
            rules.quorum_required(quorum_kind, value, max(seat_count, 1))
        except rules.RuleError as exc:
            problems["quorum_value"] = [str(exc)]
        if quorum_kind == QuorumKind.COUNT and not body.by_practice and value > seat_count:
            problems["quorum_value"] = [f"more than the {seat_count} seats: the body could never meet"]
    if vote_rule not in VoteRule.values:
        problems["vote_rule"] = ["simple majority or two-thirds"]
    _raise(problems)
    with transaction.atomic():
        Body.objects.select_for_update().filter(
            pk=body.pk
        ).first()  # one writer of the body's rules at a time
        existing = list(BodyRule.objects.filter(body=body))
        to_close = [r for r in existing if r.valid_to is None and r.valid_from < valid_from]
        for rule in existing:
            end = valid_from - dt.timedelta(days=1) if rule in to_close else rule.valid_to
            if overlaps(rule.valid_from, end, valid_from, valid_to):
                raise ValidationFailed.single(
                    "valid_from", f"overlaps the rules in force from {rule.valid_from:%Y-%m-%d}"
                )
        for rule in to_close:
            audit.end_validity(actor, rule, valid_from - dt.timedelta(days=1), "governance.rule_end")
        rule = BodyRule.objects.create(
            body=body, valid_from=valid_from, valid_to=valid_to, seat_count=seat_count, quorum_kind=quorum_kind,
            quorum_value=value, vote_rule=vote_rule, note=note.strip()[:200],
        )  # fmt: skip
        audit.record_write(actor, "governance.rule_set", rule, after=audit.snapshot(rule))
    return rule


# -- seats --------------------------------------------------------------------------------------------------


def seat_assign(
    *,
    actor: Actor,
    body: Body,
    seat_number: int,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    provider: Provider | None = None,
    person_name: str = "",
    practice: Practice | None = None,
    office: str = SeatTerm.Office.MEMBER,
) -> SeatTerm:
    require(actor, Perm.EDIT_GOVERNANCE)
    person_name = person_name.strip()
    problems: dict[str, list[str]] = {}
    _range(valid_from, valid_to, problems)
    if body.by_practice:
        problems["body"] = ["the general membership has no seats: each member practice votes"]
    if (provider is None) == (not person_name):
        problems["provider"] = ["a provider of the network or a named individual, one of the two"]
    if office not in SeatTerm.Office.values:
        problems["office"] = ["chair, vice-chair, secretary, treasurer or member"]
    rule = selectors.rule_on(body, valid_from)
    if rule is None:
        problems["valid_from"] = ["the body has no rules in force on this day (set its seats first)"]
    elif not 1 <= seat_number <= rule.seat_count:
        problems["seat_number"] = [f"the body has seats 1 to {rule.seat_count}"]
    _raise(problems)
    with transaction.atomic():
        Body.objects.select_for_update().filter(
            pk=body.pk
        ).first()  # one writer of the body's seats at a time
        terms = list(SeatTerm.objects.filter(body=body).select_related("provider"))
        for term in terms:
            if not overlaps(term.valid_from, term.valid_to, valid_from, valid_to):
                continue
            if term.seat_number == seat_number:
                problems.setdefault("seat_number", []).append(
                    f"seat {seat_number} is held by {term.holder_name} from {term.valid_from:%Y-%m-%d}"
                )
            if provider is not None and term.provider_id == provider.pk:
                problems.setdefault("provider", []).append(
                    f"{provider} already holds seat {term.seat_number}"
                )
            if person_name and term.person_name.lower() == person_name.lower():
                problems.setdefault("person_name", []).append(
                    f"{person_name} already holds seat {term.seat_number}"
                )
            if office in OFFICERS and term.office == office:
                problems.setdefault("office", []).append(
                    f"{term.holder_name} is {term.get_office_display().lower()} over these dates"
                )
        _raise(problems)
        term = SeatTerm.objects.create(
            body=body, seat_number=seat_number, valid_from=valid_from, valid_to=valid_to, provider=provider,
            person_name=person_name if provider is None else "", practice=practice, office=office,
        )  # fmt: skip
        audit.record_write(actor, "governance.seat_assign", term, after=audit.snapshot(term))
    return term


def seat_end(*, actor: Actor, term: SeatTerm, valid_to: dt.date) -> SeatTerm:
    require(actor, Perm.EDIT_GOVERNANCE)
    if valid_to < term.valid_from:
        raise ValidationFailed.single("valid_to", "ends before the term starts")
    if term.valid_to is not None and valid_to > term.valid_to:
        raise ValidationFailed.single("valid_to", "a term is ended early, not extended (assign a new term)")
    with transaction.atomic():
        audit.end_validity(actor, term, valid_to, "governance.seat_end")
    return term


# -- meetings -----------------------------------------------------------------------------------------------


def meeting_schedule(
    *,
    actor: Actor,
    body: Body,
    title: str,
    starts_at: dt.datetime,
    location: str = "",
    video_link: str = "",
    agenda: Iterable[str] = (),
) -> Meeting:
    require(actor, Perm.EDIT_GOVERNANCE)
    problems: dict[str, list[str]] = {}
    if not title.strip():
        problems["title"] = ["give the meeting a title"]
    if timezone.is_naive(starts_at):
        problems["starts_at"] = ["a date and time with its time zone"]
    if not location.strip() and not video_link.strip():
        problems["location"] = ["a place or a video link (or both)"]
    items = [a.strip() for a in agenda if a.strip()]
    _raise(problems)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            body=body, title=title.strip(), starts_at=starts_at, location=location.strip(),
            video_link=video_link.strip(),
        )  # fmt: skip
        AgendaItem.objects.bulk_create(
            AgendaItem(meeting=meeting, position=i, title=t[:200]) for i, t in enumerate(items, start=1)
        )
        audit.record_write(
            actor, "governance.meeting_schedule", meeting, after={**audit.snapshot(meeting), "agenda": items}
        )
    return meeting


def _open(meeting: Meeting, problems: dict[str, list[str]]) -> None:
    if meeting.status == Meeting.Status.CANCELLED:
        problems.setdefault("meeting", []).append("the meeting was cancelled")


def agenda_add(*, actor: Actor, meeting: Meeting, title: str, description: str = "") -> AgendaItem:
    require(actor, Perm.EDIT_GOVERNANCE)
    problems: dict[str, list[str]] = {}
    _open(meeting, problems)
    if not title.strip():
        problems["title"] = ["give the item a title"]
    _raise(problems)
    with transaction.atomic():
        last = meeting.agenda_items.aggregate(m=Max("position"))["m"] or 0
        item = AgendaItem.objects.create(
            meeting=meeting, position=last + 1, title=title.strip()[:200], description=description.strip()
        )
        audit.record_write(actor, "governance.agenda_add", item, after=audit.snapshot(item))
    return item


def meeting_set_status(*, actor: Actor, meeting: Meeting, status: str) -> Meeting:
    """Held or cancelled. A meeting with motions was held: it cannot be cancelled; nor can it go back to
    scheduled once minutes exist."""
    require(actor, Perm.EDIT_GOVERNANCE)
    if status not in Meeting.Status.values:
        raise ValidationFailed.single("status", "scheduled, held or cancelled")
    if status != Meeting.Status.HELD and meeting.motions.exists():
        raise ValidationFailed.single("status", "motions were made at this meeting: it was held")
    if status != Meeting.Status.HELD and Minutes.objects.filter(meeting=meeting).exists():
        raise ValidationFailed.single("status", "the meeting has minutes: it was held")
    with transaction.atomic():
        before = audit.snapshot(meeting, ["status"])
        meeting.status = status
        meeting.save(update_fields=["status"])
        audit.record_write(
            actor, "governance.meeting_status", meeting, before=before, after={"status": status}
        )
    return meeting


def attendance_record(
    *, actor: Actor, meeting: Meeting, entries: Mapping[str, tuple[str, str]]
) -> list[Attendance]:
    """Record (or correct) who was present, absent or excused: ``{voter key: (status, representative)}`` for
    voters of the meeting's electorate (``selectors.electorate``). Refused once a motion of the meeting is decided
    (the quorum it stood on is the record)."""
    require(actor, Perm.EDIT_GOVERNANCE)
    problems: dict[str, list[str]] = {}
    _open(meeting, problems)
    if meeting.motions.filter(status__in=[Motion.Status.CARRIED, Motion.Status.FAILED]).exists():
        problems.setdefault("meeting", []).append("a motion was decided on this attendance: it is the record")
    voters = {v.key: v for v in selectors.electorate(meeting)}
    for key, (status, _rep) in entries.items():
        if key not in voters:
            problems.setdefault("entries", []).append(f"{key} is not a voter of this meeting")
        elif status not in Attendance.Status.values:
            problems.setdefault("entries", []).append(f"{voters[key].name}: present, absent or excused")
    if not entries:
        problems.setdefault("entries", []).append("record at least one voter")
    _raise(problems)
    saved: list[Attendance] = []
    with transaction.atomic():
        for key, (status, representative) in entries.items():
            voter = voters[key]
            lookup: dict[str, Any] = (
                {"seat_term": voter.seat_term}
                if voter.seat_term is not None
                else {"practice": voter.practice, "seat_term": None}
            )
            row, _created = Attendance.objects.update_or_create(
                meeting=meeting, **lookup,
                defaults={"status": status, "representative": representative.strip()[:150],
                          "practice_id": voter.practice_id},
            )  # fmt: skip
            saved.append(row)
        if meeting.status == Meeting.Status.SCHEDULED:
            meeting.status = Meeting.Status.HELD
            meeting.save(update_fields=["status"])
        audit.record_write(
            actor, "governance.attendance", meeting,
            after={"present": sum(1 for s, _ in entries.values() if s == Attendance.Status.PRESENT),
                   "recorded": len(entries)},
        )  # fmt: skip
    return saved


# -- motions and votes --------------------------------------------------------------------------------------


def motion_move(
    *,
    actor: Actor,
    meeting: Meeting,
    text: str,
    moved_by: Attendance,
    seconded_by: Attendance | None = None,
    agenda_item: AgendaItem | None = None,
    vote_rule: str = "",
    approves_minutes: Minutes | None = None,
) -> Motion:
    require(actor, Perm.EDIT_GOVERNANCE)
    problems: dict[str, list[str]] = {}
    _open(meeting, problems)
    if not text.strip():
        problems["text"] = ["the motion's text"]
    for name, who in (("moved_by", moved_by), ("seconded_by", seconded_by)):
        if who is None:
            continue
        if who.meeting_id != meeting.pk or who.status != Attendance.Status.PRESENT:
            problems[name] = ["a voter present at this meeting"]
    if seconded_by is not None and seconded_by.pk == moved_by.pk:
        problems["seconded_by"] = ["the mover cannot second their own motion"]
    if agenda_item is not None and agenda_item.meeting_id != meeting.pk:
        problems["agenda_item"] = ["an item of this meeting's agenda"]
    if vote_rule and vote_rule not in VoteRule.values:
        problems["vote_rule"] = ["simple majority or two-thirds (or the body's rule)"]
    if approves_minutes is not None and approves_minutes.pk not in {
        m.pk for m in selectors.draft_minutes_before(meeting)
    }:
        problems["approves_minutes"] = ["draft minutes of an earlier meeting of this body"]
    _raise(problems)
    with transaction.atomic():
        number = (meeting.motions.aggregate(m=Max("number"))["m"] or 0) + 1
        motion = Motion.objects.create(
            meeting=meeting, number=number, text=text.strip(), moved_by=moved_by, seconded_by=seconded_by,
            agenda_item=agenda_item, vote_rule=vote_rule, approves_minutes=approves_minutes,
        )  # fmt: skip
        audit.record_write(actor, "governance.motion_move", motion, after=audit.snapshot(motion))
    return motion


def _pending(motion: Motion) -> None:
    if motion.status != Motion.Status.PENDING:
        raise ValidationFailed.single("motion", f"the motion is {motion.get_status_display().lower()}: "
                                      "it is the record (a correction is a new motion)")  # fmt: skip


def votes_record(*, actor: Actor, motion: Motion, votes: Mapping[int, str]) -> Motion:
    """Record the votes of a pending motion: ``{attendance id: yes | no | abstain | recused}`` for voters present.
    Voters left out did not vote. Recording again replaces the motion's votes (until it is decided)."""
    require(actor, Perm.EDIT_GOVERNANCE)
    _pending(motion)
    present = {a.pk: a for a in motion.meeting.attendance.filter(status=Attendance.Status.PRESENT)}
    problems: dict[str, list[str]] = {}
    for attendance_id, choice in votes.items():
        if attendance_id not in present:
            problems.setdefault("votes", []).append(f"voter {attendance_id} is not present at this meeting")
        elif choice not in Vote.Choice.values:
            problems.setdefault("votes", []).append(
                f"{present[attendance_id].voter_name}: yes, no, abstain or recused"
            )
    _raise(problems)
    with transaction.atomic():
        motion.votes.all().delete()
        Vote.objects.bulk_create(
            Vote(motion=motion, attendance=present[a], choice=c) for a, c in sorted(votes.items())
        )
        tally = rules.Tally.of(votes.values())
        audit.record_write(
            actor, "governance.votes", motion,
            after={"yes": tally.yes, "no": tally.no, "abstain": tally.abstain, "recused": tally.recused},
        )  # fmt: skip
    return motion


def motion_decide(*, actor: Actor, motion: Motion) -> Motion:
    """Carried or failed by the votes under the rule (the motion's own, else the body's on the meeting's day).
    Refused, nothing changed, when the body has no rules that day or quorum is not present."""
    require(actor, Perm.EDIT_GOVERNANCE)
    _pending(motion)
    with transaction.atomic():
        # the motion's row locked: two secretaries deciding at once decide it once
        locked = (
            Motion.objects.select_for_update().filter(pk=motion.pk).values_list("status", flat=True).first()
        )
        if locked != Motion.Status.PENDING:
            raise ValidationFailed.single("motion", "the motion was decided meanwhile")
        meeting = motion.meeting
        rule = selectors.rule_on(meeting.body, selectors.meeting_day(meeting))
        if rule is None:
            raise ValidationFailed.single("motion", "the body has no rules in force on the meeting's day")
        quorum = selectors.meeting_quorum(meeting)
        assert quorum is not None
        tally = rules.Tally.of(motion.votes.values_list("choice", flat=True))
        applied = motion.vote_rule or rule.vote_rule
        decision = rules.decide(applied, tally, quorum)
        if not decision.decided:
            raise ValidationFailed.single("motion", f"not decided: {decision.reason}")
        motion.status = Motion.Status.CARRIED if decision.carried else Motion.Status.FAILED
        motion.rule_applied = applied
        motion.yes, motion.no, motion.abstain, motion.recused = (
            tally.yes,
            tally.no,
            tally.abstain,
            tally.recused,
        )
        motion.present, motion.quorum_required = quorum.present, quorum.required
        motion.decided_at = timezone.now()
        motion.decided_by = _who(actor)
        motion.note = decision.reason[:500]
        motion.save()
        if decision.carried and motion.approves_minutes_id is not None:
            minutes = Minutes.objects.select_for_update().get(pk=motion.approves_minutes_id)
            if minutes.status != Minutes.Status.DRAFT:
                raise ValidationFailed.single("approves_minutes", "these minutes are already approved")
            minutes.status = Minutes.Status.APPROVED
            minutes.approved_at = motion.decided_at
            minutes.save(update_fields=["status", "approved_at"])
            audit.record_write(actor, "governance.minutes_approve", minutes, after={"motion": motion.pk})
        audit.record_write(
            actor, "governance.motion_decide", motion,
            after={"status": motion.status, "rule": applied, "yes": tally.yes, "no": tally.no,
                   "present": quorum.present, "quorum": quorum.required},
        )  # fmt: skip
    return motion


def _close(actor: Actor, motion: Motion, status: str, note: str) -> Motion:
    require(actor, Perm.EDIT_GOVERNANCE)
    _pending(motion)
    with transaction.atomic():
        motion.status = status
        motion.note = note.strip()[:500]
        motion.decided_by = _who(actor)
        motion.save(update_fields=["status", "note", "decided_by"])
        audit.record_write(
            actor, f"governance.motion_{status}", motion, after={"status": status, "note": motion.note}
        )
    return motion


def motion_table(*, actor: Actor, motion: Motion, note: str = "") -> Motion:
    """Laid on the table: not decided; it may come back as a new motion at a later meeting."""
    return _close(actor, motion, Motion.Status.TABLED, note)


def motion_withdraw(*, actor: Actor, motion: Motion, note: str = "") -> Motion:
    return _close(actor, motion, Motion.Status.WITHDRAWN, note)


# -- minutes ------------------------------------------------------------------------------------------------


def minutes_save(*, actor: Actor, meeting: Meeting, text: str) -> Minutes:
    """Draft (or redraft) the meeting's minutes. Approved minutes are refused: they are the record."""
    require(actor, Perm.EDIT_GOVERNANCE)
    problems: dict[str, list[str]] = {}
    _open(meeting, problems)
    if not text.strip():
        problems["text"] = ["the minutes' text"]
    _raise(problems)
    with transaction.atomic():
        minutes = Minutes.objects.select_for_update().filter(meeting=meeting).first()
        if minutes is not None and minutes.status == Minutes.Status.APPROVED:
            raise ValidationFailed.single("text", "these minutes are approved: they are never changed")
        before = audit.snapshot(minutes, ["text"]) if minutes is not None else None
        if minutes is None:
            minutes = Minutes.objects.create(meeting=meeting, text=text.strip(), drafted_by=_who(actor))
        else:
            minutes.text = text.strip()
            minutes.drafted_by = _who(actor)
            minutes.save(update_fields=["text", "drafted_by", "updated_at"])
        if meeting.status == Meeting.Status.SCHEDULED:
            meeting.status = Meeting.Status.HELD
            meeting.save(update_fields=["status"])
        audit.record_write(
            actor, "governance.minutes_save", minutes, before=before, after=audit.snapshot(minutes, ["text"])
        )
    return minutes


__all__ = [
    "agenda_add",
    "attendance_record",
    "body_create",
    "meeting_schedule",
    "meeting_set_status",
    "minutes_save",
    "motion_decide",
    "motion_move",
    "motion_table",
    "motion_withdraw",
    "rule_set",
    "seat_assign",
    "seat_end",
    "votes_record",
]
