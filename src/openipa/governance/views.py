"""Governance pages (ADR 0024). Readers (VIEW_GOVERNANCE: administrator, auditor, board, practice users):

- bodies: the board, committees and the general membership, each with its charter, rules in force and seats;
- meetings: a calendar-like list by month; one meeting: agenda, attendance and quorum, motions with their votes
  and results, minutes (approved ones; drafts for the secretary);
- participation: per practice for staff and the board, a practice user's own against the network's average.

The secretary (EDIT_GOVERNANCE) records through the forms: bodies and rules, seats, meetings and agenda,
attendance, motions, votes, decisions (or tabling), minutes. A refusal is shown on the form (400), nothing
changed. No page here shows a contract term, a rate or a messenger answer: the app reads none (ADR 0012).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.roles import Actor, Perm, is_practice_scoped, require, scoped_practice_id
from openipa.governance import forms as gf
from openipa.governance import selectors, services
from openipa.governance.models import Motion, SeatTerm
from openipa.membership.views.common import actor_of
from openipa.ui import charts
from openipa.ui.errors import domain_errors


def _year(request: HttpRequest) -> int:
    form = gf.YearForm(request.GET or None)
    if form.is_bound and form.is_valid() and form.cleaned_data.get("year"):
        return int(form.cleaned_data["year"])
    return timezone.localdate().year


# -- reading ------------------------------------------------------------------------------------------------


@never_cache
@domain_errors
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    today = timezone.localdate()
    rows = []
    for body in selectors.bodies(actor):
        rule = selectors.rule_on(body, today)
        seats = selectors.seats_on(body, today)
        rows.append({"body": body, "rule": rule, "filled": len(seats)})
    context = {"rows": rows, "can_edit": selectors.can_edit(actor), "today": today}
    return render(request, "web/governance/home.html", context)


def _seat_rows(actor: Actor, seats: list[SeatTerm]) -> list[dict[str, Any]]:
    """Seat holders as the actor may see them: a practice user sees other practices' seats without the practice."""
    own = scoped_practice_id(actor) if is_practice_scoped(actor) else None
    out = []
    for term in seats:
        shown = not is_practice_scoped(actor) or term.practice_id in (None, own)
        out.append({"term": term, "practice": (term.practice.legal_name if term.practice else "")
                    if shown else "another member practice"})  # fmt: skip
    return out


@never_cache
@domain_errors
@require_GET
def body_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    body = selectors.body_get(actor, pk)
    today = timezone.localdate()
    history: list[SeatTerm] = []
    if not is_practice_scoped(actor):
        history = list(
            body.seat_terms.select_related("provider", "practice").order_by("seat_number", "-valid_from")
        )
    context = {
        "body": body,
        "rule": selectors.rule_on(body, today),
        "rules": list(body.rules.order_by("-valid_from")),
        "seats": _seat_rows(actor, selectors.seats_on(body, today)),
        "history": history,
        "committees": list(body.committees.all()),
        "meetings": list(selectors.meetings(actor, body=body)[:24]),
        "can_edit": selectors.can_edit(actor),
        "today": today,
    }
    return render(request, "web/governance/body.html", context)


@never_cache
@domain_errors
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    year = _year(request)
    body = None
    if request.GET.get("body", "").isdigit():
        body = selectors.body_get(actor, int(request.GET["body"]))
    found = selectors.meetings(actor, body=body, year=year)
    context = {
        "groups": selectors.meetings_by_month(found),
        "year": year,
        "years": [year - 1, year, year + 1],
        "body": body,
        "bodies": list(selectors.bodies(actor)),
        "scoped": is_practice_scoped(actor),
        "can_edit": selectors.can_edit(actor),
    }
    return render(request, "web/governance/meetings.html", context)


def _meeting_context(actor: Actor, pk: int) -> dict[str, Any]:
    meeting = selectors.meeting_get(actor, pk)
    motions = []
    for motion in selectors.motions_of(meeting):
        motions.append({
            "motion": motion,
            "moved_by": selectors.mover_name(actor, motion.moved_by),
            "seconded_by": selectors.mover_name(actor, motion.seconded_by),
            "votes": selectors.votes_of(actor, motion),
        })  # fmt: skip
    rule = selectors.rule_on(meeting.body, selectors.meeting_day(meeting))
    return {
        "meeting": meeting,
        "day": selectors.meeting_day(meeting),
        "agenda": list(meeting.agenda_items.all()),
        "attendance": selectors.attendance_of(actor, meeting),
        "counts": {s: meeting.attendance.filter(status=s).count() for s in ("present", "absent", "excused")},
        "quorum": selectors.meeting_quorum(meeting),
        "rule": rule,
        "motions": motions,
        "minutes": selectors.minutes_of(actor, meeting),
        "scoped": is_practice_scoped(actor),
        "can_edit": selectors.can_edit(actor),
    }


@never_cache
@domain_errors
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    return render(request, "web/governance/meeting.html", _meeting_context(actor, pk))


def _participation_chart(report: selectors.ParticipationReport) -> SafeString:
    if report.scoped:
        own = report.rows[0] if report.rows else None
        rate = own.attendance_rate if own is not None else None
        categories = ["Your practice"] if report.peers_hidden else ["Your practice", "Network"]
        values = [round((rate or 0) * 100, 1)]
        if not report.peers_hidden:
            values.append(round((report.network_attendance_rate or 0) * 100, 1))
        svg = charts.bar_chart(
            categories,
            [charts.Series("Meetings attended (% of those it could attend)", tuple(values))],
            title="Meeting attendance", x_label="", y_label="% attended", chart_id="governance-attendance",
            plot_height=200,
        )  # fmt: skip
        return mark_safe(svg)  # charts escape every text they write
    rows = [r for r in report.rows if r.meetings_entitled or r.seats_held]
    svg = charts.bar_chart(
        [r.code for r in rows],
        [charts.Series("Meetings it could attend", tuple(float(r.meetings_entitled) for r in rows)),
         charts.Series("Meetings attended", tuple(float(r.meetings_attended) for r in rows)),
         charts.Series("Votes cast", tuple(float(r.votes_cast) for r in rows))],
        title=f"Participation by practice, {report.start.year}", x_label="Practice", y_label="Count",
        stacked=False, chart_id="governance-participation", plot_height=240,
    )  # fmt: skip
    return mark_safe(svg)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def participation(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    year = _year(request)
    report = selectors.participation(actor, year=year)
    context = {"report": report, "year": year, "years": [year - 1, year, year + 1],
               "chart": _participation_chart(report)}  # fmt: skip
    return render(request, "web/governance/participation.html", context)


# -- recording (the secretary) ------------------------------------------------------------------------------


def _form_page(
    request: HttpRequest,
    form: gf.GovernanceForm,
    save: Callable[[dict[str, Any]], str],
    *,
    title: str,
    back: str,
    intro: str = "",
    submit: str = "Save",
) -> HttpResponseBase:
    """GET: the form. POST: ``save(cleaned data)`` gives the page to go to; a refusal is shown on the form (400)."""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                target = save(form.cleaned_data)
            except ValidationFailed as exc:
                form.put_errors(exc)
            else:
                messages.success(request, f"{title}: saved.")
                return redirect(target)
        status = 400
    context = {"form": form, "title": title, "back": back, "intro": intro, "submit": submit}
    return render(request, "web/governance/form.html", context, status=status)


def _editor(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    require(actor, Perm.EDIT_GOVERNANCE)
    return actor


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def body_new(request: HttpRequest) -> HttpResponseBase:
    actor = _editor(request)
    form = gf.BodyForm(request.POST or None)

    def save(d: dict[str, Any]) -> str:
        from django.db import transaction

        with transaction.atomic():
            body = services.body_create(actor=actor, code=d["code"], name=d["name"], kind=d["kind"],
                                        charter=d["charter"], parent=d["parent"])  # fmt: skip
            services.rule_set(actor=actor, body=body, valid_from=d["valid_from"], valid_to=d["valid_to"],
                              seat_count=d["seat_count"], quorum_kind=d["quorum_kind"],
                              quorum_value=d["quorum_value"] or 0, vote_rule=d["vote_rule"], note=d["note"])  # fmt: skip
        return reverse("web:governance:body", args=[body.pk])

    return _form_page(request, form, save, title="New body", back=reverse("web:governance:home"),
                      intro="A board, a committee or the general membership, with its first rules.")  # fmt: skip


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def rule_new(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = _editor(request)
    body = selectors.body_get(actor, pk)
    form = gf.RuleFields(request.POST or None)

    def save(d: dict[str, Any]) -> str:
        services.rule_set(actor=actor, body=body, valid_from=d["valid_from"], valid_to=d["valid_to"],
                          seat_count=d["seat_count"], quorum_kind=d["quorum_kind"], quorum_value=d["quorum_value"] or 0,
                          vote_rule=d["vote_rule"], note=d["note"])  # fmt: skip
        return reverse("web:governance:body", args=[body.pk])

    return _form_page(request, form, save, title=f"New rules for {body}", back=reverse("web:governance:body", args=[pk]),
                      intro="An open-ended version ends the one in force the day before it starts.")  # fmt: skip


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def seat_new(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = _editor(request)
    body = selectors.body_get(actor, pk)
    form = gf.SeatForm(request.POST or None)

    def save(d: dict[str, Any]) -> str:
        services.seat_assign(actor=actor, body=body, seat_number=d["seat_number"], valid_from=d["valid_from"],
                             valid_to=d["valid_to"], provider=d["provider"], person_name=d["person_name"],
                             practice=d["practice"], office=d["office"])  # fmt: skip
        return reverse("web:governance:body", args=[body.pk])

    return _form_page(request, form, save, title=f"Assign a seat of {body}",
                      back=reverse("web:governance:body", args=[pk]))  # fmt: skip


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def seat_end(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = _editor(request)
    term = SeatTerm.objects.select_related("body").filter(pk=pk).first()
    if term is None:
        raise NotFound("no such seat term")
    form = gf.SeatEndForm(request.POST or None)

    def save(d: dict[str, Any]) -> str:
        services.seat_end(actor=actor, term=term, valid_to=d["valid_to"])
        return reverse("web:governance:body", args=[term.body_id])

    return _form_page(request, form, save, title=f"End {term.holder_name}'s term (seat {term.seat_number})",
                      back=reverse("web:governance:body", args=[term.body_id]))  # fmt: skip


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponseBase:
    actor = _editor(request)
    initial = {"body": request.GET.get("body")} if request.GET.get("body", "").isdigit() else {}
    form = gf.MeetingForm(request.POST or None, initial=initial)

    def save(d: dict[str, Any]) -> str:
        meeting = services.meeting_schedule(
            actor=actor, body=d["body"], title=d["title"], starts_at=d["starts_at"], location=d["location"],
            video_link=d["video_link"], agenda=(d["agenda"] or "").splitlines(),
        )  # fmt: skip
        return reverse("web:governance:meeting", args=[meeting.pk])

    return _form_page(
        request, form, save, title="Schedule a meeting", back=reverse("web:governance:meetings")
    )


def _meeting_for_edit(request: HttpRequest, pk: int) -> tuple[Actor, Any]:
    actor = _editor(request)
    return actor, selectors.meeting_get(actor, pk)


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def agenda_new(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor, meeting = _meeting_for_edit(request, pk)
    form = gf.AgendaForm(request.POST or None)

    def save(d: dict[str, Any]) -> str:
        services.agenda_add(actor=actor, meeting=meeting, title=d["title"], description=d["description"])
        return reverse("web:governance:meeting", args=[pk])

    return _form_page(request, form, save, title=f"Add to the agenda of {meeting.title}",
                      back=reverse("web:governance:meeting", args=[pk]))  # fmt: skip


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def attendance(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor, meeting = _meeting_for_edit(request, pk)
    form = gf.AttendanceForm(request.POST or None, meeting=meeting)

    def save(_d: dict[str, Any]) -> str:
        services.attendance_record(actor=actor, meeting=meeting, entries=form.entries())
        return reverse("web:governance:meeting", args=[pk])

    intro = ("One vote per member practice with an active participation agreement on the meeting's day."
             if meeting.body.by_practice else "The seat holders in force on the meeting's day.")  # fmt: skip
    return _form_page(request, form, save, title=f"Attendance: {meeting.title}",
                      back=reverse("web:governance:meeting", args=[pk]), intro=intro)  # fmt: skip


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def motion_new(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor, meeting = _meeting_for_edit(request, pk)
    form = gf.MotionForm(request.POST or None, meeting=meeting)

    def save(d: dict[str, Any]) -> str:
        services.motion_move(
            actor=actor, meeting=meeting, text=d["text"], moved_by=d["moved_by"], seconded_by=d["seconded_by"],
            agenda_item=d["agenda_item"], vote_rule=d["vote_rule"] or "", approves_minutes=d["approves_minutes"],
        )  # fmt: skip
        return reverse("web:governance:meeting", args=[pk])

    return _form_page(request, form, save, title=f"Record a motion: {meeting.title}",
                      back=reverse("web:governance:meeting", args=[pk]),
                      intro="Moved and seconded by voters present (record the attendance first).")  # fmt: skip


def _motion_for_edit(request: HttpRequest, pk: int) -> tuple[Actor, Motion]:
    actor = _editor(request)
    motion = Motion.objects.select_related("meeting__body").filter(pk=pk).first()
    if motion is None:
        raise NotFound("no such motion")
    return actor, motion


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def votes(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor, motion = _motion_for_edit(request, pk)
    form = gf.VotesForm(request.POST or None, motion=motion)

    def save(_d: dict[str, Any]) -> str:
        services.votes_record(actor=actor, motion=motion, votes=form.votes())
        return reverse("web:governance:meeting", args=[motion.meeting_id])

    return _form_page(request, form, save, title=f"Votes on motion {motion.number}",
                      back=reverse("web:governance:meeting", args=[motion.meeting_id]),
                      intro="Abstentions and recusals are recorded but are not votes cast.")  # fmt: skip


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def motion_action(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor, motion = _motion_for_edit(request, pk)
    form = gf.MotionActionForm(request.POST or None)

    def save(d: dict[str, Any]) -> str:
        if d["action"] == "decide":
            services.motion_decide(actor=actor, motion=motion)
        elif d["action"] == "table":
            services.motion_table(actor=actor, motion=motion, note=d["note"])
        else:
            services.motion_withdraw(actor=actor, motion=motion, note=d["note"])
        return reverse("web:governance:meeting", args=[motion.meeting_id])

    return _form_page(request, form, save, title=f"Motion {motion.number}: decide, table or withdraw",
                      back=reverse("web:governance:meeting", args=[motion.meeting_id]),
                      intro="Deciding applies the vote rule to the votes recorded; it is refused without quorum.")  # fmt: skip


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def minutes(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor, meeting = _meeting_for_edit(request, pk)
    current = selectors.minutes_of(actor, meeting)
    form = gf.MinutesForm(request.POST or None, initial={"text": current.text if current else ""})

    def save(d: dict[str, Any]) -> str:
        services.minutes_save(actor=actor, meeting=meeting, text=d["text"])
        return reverse("web:governance:meeting", args=[pk])

    return _form_page(request, form, save, title=f"Minutes: {meeting.title}",
                      back=reverse("web:governance:meeting", args=[pk]),
                      intro="A draft until a motion at a later meeting of the body approves it; approved minutes "
                            "are never changed.")  # fmt: skip


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def meeting_status(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor, meeting = _meeting_for_edit(request, pk)
    form = gf.StatusForm(request.POST or None, initial={"status": meeting.status})

    def save(d: dict[str, Any]) -> str:
        services.meeting_set_status(actor=actor, meeting=meeting, status=d["status"])
        return reverse("web:governance:meeting", args=[pk])

    return _form_page(request, form, save, title=f"Status: {meeting.title}",
                      back=reverse("web:governance:meeting", args=[pk]))  # fmt: skip
