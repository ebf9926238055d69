"""Utilization management pages (ADR 0014), under /authorizations/:

- the queue: requests by due time with their time left, the overdue ones highlighted and counted in an alert,
  filters (status, kind, urgency, overdue, search) and the nurse and physician queues as tabs; deemed
  approvals are swept in before it is listed. A practice user sees its own requests only (the selectors
  scope them) and no clinical action;
- a request: member, providers, diagnoses, services asked and approved, the clock rule and its citation, due
  time and time left, the decision, the history, attachments, notices (PDF), appeals and peer-to-peer
  discussions; the actions as forms shown only to who may use them (the services refuse the others anyway:
  a forged POST gets the 403 page and changes nothing);
- a new request (practice users for their own members, staff);
- the appeals queue, and the reference data the clocks and decisions use (clock rules with their citations
  and dates, criteria, authorization requirements, auto-approval rules).

Every list of requests shown is recorded as a read of its members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openipa.accounts.models import User
from openipa.contracts.models import LineOfBusiness
from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.pagination import paginate
from openipa.core.roles import Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.membership.views.common import actor_of, page_or_results, query_without_page
from openipa.network import selectors as network_selectors
from openipa.ui.errors import domain_errors
from openipa.utilization import forms, selectors, services
from openipa.utilization.engine.clocks import format_time_left, time_left
from openipa.utilization.models import Appeal, AuthRequest

QUEUE_PURPOSE = "utilization queue"
DETAIL_PURPOSE = "authorization request page"
APPEALS_PURPOSE = "utilization appeals queue"
ATTACHMENT_PURPOSE = "authorization attachment download"

Status = AuthRequest.Status
ADVERSE = (Status.DENIED, Status.MODIFIED)


@dataclass(frozen=True)
class Clocked:
    """A request or an appeal with its time left, for the queues."""

    item: Any
    left: str
    overdue: bool


def _clocked(item: Any, now: dt.datetime, is_open: bool) -> Clocked:
    if not is_open:
        return Clocked(item, "", False)
    left = time_left(item.due_at, now)
    return Clocked(item, format_time_left(left), left.total_seconds() < 0)


def _require_staff(actor: User) -> None:
    require(actor, Perm.VIEW_UM)
    if is_practice_scoped(actor):
        raise PermissionDenied("the UM reference data is for IPA staff")


# ---------------------------------------------------------------------------------------------- queue


@never_cache
@domain_errors
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Requests by due time (open ones by default). Post-stabilization requests past their due time are
    deemed approved first, so the list shows what the law already decided."""
    actor = actor_of(request)
    require(actor, Perm.VIEW_UM)
    now = timezone.now()
    services.sweep_deemed(now)
    form = forms.QueueFilterForm(request.GET)
    qs = selectors.request_queryset(actor, overdue_at=now if form.overdue_only else None, **form.filters())
    page = paginate(qs, request.GET.get("page"))
    if page.items:
        selectors.record_request_read(actor, page.items, purpose=QUEUE_PURPOSE)
    overdue = selectors.request_queryset(actor, overdue_at=now).count()
    staff = not is_practice_scoped(actor)
    context = {
        "form": form,
        "page": page,
        "rows": [_clocked(r, now, r.is_open) for r in page.items],
        "overdue_count": overdue,
        "queue": form.queue_name,
        "queues": [(k, label) for k, (label, _s) in forms.QUEUES.items()] if staff else [],
        "query": query_without_page(request),
        "staff": staff,
        "can_submit": has_perm(actor, Perm.SUBMIT_UM),
    }
    return page_or_results(
        request,
        "web/utilization/requests/queue.html",
        "web/utilization/requests/_queue_results.html",
        context,
    )


@never_cache
@domain_errors
@require_GET
def appeals(request: HttpRequest) -> HttpResponse:
    """Appeals by due time: the open ones (``?status=all`` for every appeal)."""
    actor = actor_of(request)
    now = timezone.now()
    show_all = request.GET.get("status") == "all"
    qs = selectors.appeal_queryset(actor, status=None if show_all else [Appeal.Status.OPEN])
    page = paginate(qs, request.GET.get("page"))
    if page.items:
        selectors.record_request_read(actor, [a.request for a in page.items], purpose=APPEALS_PURPOSE)
    context = {
        "page": page,
        "rows": [_clocked(a, now, a.status == Appeal.Status.OPEN) for a in page.items],
        "show_all": show_all,
        "staff": not is_practice_scoped(actor),
        "can_submit": has_perm(actor, Perm.SUBMIT_UM),
    }
    return render(request, "web/utilization/requests/appeals.html", context)


@never_cache
@domain_errors
@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    """The reference data of UM, read-only: clocks (every version, so a change in law shows with its dates),
    criteria references, services that need an authorization, auto-approval rules."""
    actor = actor_of(request)
    _require_staff(actor)
    data = selectors.reference_data(actor)
    context = {
        "clocks": data.clocks,
        "today": timezone.localdate(),
        "criteria": data.criteria,
        "requirements": data.requirements,
        "auto_rules": data.auto_rules,
        "staff": True,
        "can_submit": has_perm(actor, Perm.SUBMIT_UM),
    }
    return render(request, "web/utilization/requests/rules.html", context)


# --------------------------------------------------------------------------------------- a request


def _forms_for(actor: User, auth: AuthRequest, now: dt.datetime) -> dict[str, Any]:
    """The action forms this actor may use on this request now (an action not offered is absent)."""
    can_review, can_decide = selectors.can_review(actor), selectors.can_decide(actor)
    can_submit = has_perm(actor, Perm.SUBMIT_UM)
    is_open = auth.is_open
    open_appeal = next((a for a in auth.appeals.all() if a.status == Appeal.Status.OPEN), None)
    services_ = list(auth.services.all())
    out: dict[str, Any] = {}
    if can_review and auth.status == Status.RECEIVED:
        out["review"] = forms.ConfirmForm()
    if can_review and is_open:
        out["approve"] = forms.ApproveForm()
    if can_decide and is_open:
        out["decide"] = forms.PhysicianDecisionForm(
            services=services_, criteria=selectors.criteria_in_force(timezone.localdate())
        )
    if can_review and is_open and auth.status != Status.PHYSICIAN_REVIEW:
        out["escalate"] = forms.EscalateForm()
    if (can_review and is_open and auth.extended_at is None and auth.clock_rule.extension_days > 0
            and now <= auth.due_at):  # fmt: skip
        out["extend"] = forms.ExtendForm()
    if can_review:
        out["note"] = forms.NoteForm()
    if can_submit:
        out["attach"] = forms.AttachmentForm()
    if can_submit and is_open:
        out["withdraw"] = forms.WithdrawForm()
    if can_decide and auth.status in ADVERSE:
        out["p2p"] = forms.PeerToPeerForm(initial={"held_at": timezone.localtime(now).replace(second=0,
                                                                                            microsecond=0)})  # fmt: skip
    if can_submit and auth.status in ADVERSE and open_appeal is None:
        out["appeal_open"] = forms.AppealOpenForm()
    if can_decide and open_appeal is not None and auth.decided_by_id != actor.pk:
        out["appeal_decide"] = forms.AppealDecisionForm(services=services_)
        out["open_appeal"] = open_appeal
    return out


def _lob_label(code: str) -> str:
    labels = dict(LineOfBusiness.choices)
    return str(labels.get(code, code.replace("_", " ")))


def _detail_page(request: HttpRequest, auth: AuthRequest, *, bound: dict[str, Any] | None = None,
                 status: int = 200) -> HttpResponse:  # fmt: skip
    actor = actor_of(request)
    now = timezone.now()
    actions = _forms_for(actor, auth, now)
    for name, form in (bound or {}).items():
        actions[name] = form
    for name, form in actions.items():
        if isinstance(form, django_forms.Form):  # several forms on one page: ids of their own
            form.auto_id = f"{name}_%s"
    left = time_left(auth.due_at, now)
    context = {
        "r": auth,
        "member": auth.member,
        "services": list(auth.services.all()),
        "diagnoses": [d for d in auth.diagnoses.split(",") if d],
        "events": list(auth.events.all()),
        "appeals": [_clocked(a, now, a.status == Appeal.Status.OPEN) for a in auth.appeals.all()],
        "notices": list(auth.notices.all()),
        "attachments": list(auth.attachments.all()),
        "peer_to_peers": list(auth.peer_to_peers.all()),
        "lob_label": _lob_label(auth.line_of_business),
        "left": format_time_left(left) if auth.is_open else "",
        "overdue": auth.is_open and left.total_seconds() < 0,
        "actions": actions,
        "has_actions": any(k in actions for k in ("review", "approve", "decide", "escalate", "extend", "note",
                                                   "attach", "withdraw", "p2p", "appeal_open", "appeal_decide")),
        "staff": not is_practice_scoped(actor),
        "can_submit": has_perm(actor, Perm.SUBMIT_UM),
    }  # fmt: skip
    return render(request, "web/utilization/requests/detail.html", context, status=status)


@never_cache
@domain_errors
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, selectors.request_get(actor_of(request), pk, purpose=DETAIL_PURPOSE))


Perform = Callable[[User, AuthRequest, Any], str]


def _act(
    request: HttpRequest, pk: int, name: str, perm: Perm, form: Any, perform: Perform
) -> HttpResponseBase:
    """Run one action: the permission first (a role without it gets the 403 page, whatever it posted), then
    the form and the service; a refusal shows the request again with the form's errors (400), nothing
    changed; success says what happened and goes back to the request."""
    actor = actor_of(request)
    require(actor, perm)
    auth = selectors.request_get(actor, pk, purpose=DETAIL_PURPOSE)
    bound = form(auth) if callable(form) else form
    if bound.is_valid():
        try:
            message = perform(actor, auth, bound)
        except ValidationFailed as exc:
            bound.put_errors(exc)
        else:
            messages.success(request, message)
            return redirect(reverse("web:utilization:detail", args=[pk]))
    auth = selectors.request_get(actor, pk, purpose=DETAIL_PURPOSE)
    return _detail_page(request, auth, bound={name: bound}, status=400)


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


@never_cache
@domain_errors
@require_POST
def take_for_review(request: HttpRequest, pk: int) -> HttpResponseBase:
    def perform(actor: User, auth: AuthRequest, form: Any) -> str:
        services.take_for_review(actor=actor, request=auth)
        return f"{auth.number} is in nurse review."

    return _act(request, pk, "review", Perm.REVIEW_UM, forms.ConfirmForm(request.POST), perform)


@never_cache
@domain_errors
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Approve (a nurse or a physician), or deny or modify (a physician: anyone else gets the 403 page)."""
    decision = request.POST.get("decision", "approve")
    if decision in ("deny", "modify"):
        if not selectors.can_decide(actor_of(request)):
            raise PermissionDenied(f"only a physician may {decision} a request")

        def physician(actor: User, auth: AuthRequest, form: Any) -> str:
            data = form.cleaned_data
            ref = data.get("criteria_id")
            services.decide(
                actor=actor, request=auth, decision=data["decision"], reason=data["reason"],
                criteria=data["criteria"], criteria_id=ref.pk if ref is not None else None,
                approved_units=form.units_by_line(data) if data["decision"] == "modify" else None,
                approved_to=form.spans_by_line(data) if data["decision"] == "modify" else None,
            )  # fmt: skip
            verb = "denied" if data["decision"] == "deny" else "modified"
            return f"{auth.number} was {verb}; the notice with the appeal rights is ready."

        def make(auth: AuthRequest) -> forms.PhysicianDecisionForm:
            return forms.PhysicianDecisionForm(
                request.POST, services=list(auth.services.all()),
                criteria=selectors.criteria_in_force(timezone.localdate()),
            )  # fmt: skip

        return _act(request, pk, "decide", Perm.DECIDE_UM, make, physician)

    def approve(actor: User, auth: AuthRequest, form: Any) -> str:
        data = form.cleaned_data
        services.decide(actor=actor, request=auth, decision=decision, reason=data["reason"],
                        criteria=data["criteria"])  # fmt: skip
        return f"{auth.number} was approved; the notice is ready."

    return _act(request, pk, "approve", Perm.REVIEW_UM, forms.ApproveForm(request.POST), approve)


@never_cache
@domain_errors
@require_POST
def escalate(request: HttpRequest, pk: int) -> HttpResponseBase:
    def perform(actor: User, auth: AuthRequest, form: Any) -> str:
        services.escalate(actor=actor, request=auth, note=form.cleaned_data["note"])
        return f"{auth.number} is in physician review."

    return _act(request, pk, "escalate", Perm.REVIEW_UM, forms.EscalateForm(request.POST), perform)


@never_cache
@domain_errors
@require_POST
def extend(request: HttpRequest, pk: int) -> HttpResponseBase:
    def perform(actor: User, auth: AuthRequest, form: Any) -> str:
        data = form.cleaned_data
        done = services.extend(actor=actor, request=auth, reason=data["reason"], days=data["days"])
        return f"{auth.number} was extended: now due {_local(done.due_at)}; the extension notice is ready."

    return _act(request, pk, "extend", Perm.REVIEW_UM, forms.ExtendForm(request.POST), perform)


@never_cache
@domain_errors
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponseBase:
    def perform(actor: User, auth: AuthRequest, form: Any) -> str:
        services.add_note(actor=actor, request=auth, note=form.cleaned_data["note"])
        return "The note was added."

    return _act(request, pk, "note", Perm.REVIEW_UM, forms.NoteForm(request.POST), perform)


@never_cache
@domain_errors
@require_POST
def add_attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    def perform(actor: User, auth: AuthRequest, form: Any) -> str:
        upload = form.cleaned_data["file"]
        if upload.size > services.MAX_ATTACHMENT_BYTES:
            raise ValidationFailed.single("file", f"larger than {services.MAX_ATTACHMENT_BYTES:,} bytes")
        try:
            attachment = services.add_attachment(
                actor=actor, request=auth, name=upload.name or "attachment",
                content_type=upload.content_type or "application/octet-stream", content=upload.read(),
            )  # fmt: skip
        except ValidationFailed as exc:  # the service names "attachments": the form's field is "file"
            raise ValidationFailed({"file": [m for ms in exc.fields.values() for m in ms]}) from None
        return f"{attachment.name} was attached."

    return _act(
        request, pk, "attach", Perm.SUBMIT_UM, forms.AttachmentForm(request.POST, request.FILES), perform
    )


@never_cache
@domain_errors
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponseBase:
    def perform(actor: User, auth: AuthRequest, form: Any) -> str:
        services.withdraw(actor=actor, request=auth, reason=form.cleaned_data["reason"])
        return f"{auth.number} was withdrawn."

    return _act(request, pk, "withdraw", Perm.SUBMIT_UM, forms.WithdrawForm(request.POST), perform)


@never_cache
@domain_errors
@require_POST
def peer_to_peer(request: HttpRequest, pk: int) -> HttpResponseBase:
    def perform(actor: User, auth: AuthRequest, form: Any) -> str:
        data = form.cleaned_data
        p2p = services.record_peer_to_peer(actor=actor, request=auth, held_at=data["held_at"],
                                           provider_name=data["provider_name"], outcome=data["outcome"],
                                           notes=data["notes"])  # fmt: skip
        return f"The peer-to-peer discussion was recorded ({p2p.get_outcome_display().lower()})."

    return _act(request, pk, "p2p", Perm.DECIDE_UM, forms.PeerToPeerForm(request.POST), perform)


@never_cache
@domain_errors
@require_POST
def appeal_open(request: HttpRequest, pk: int) -> HttpResponseBase:
    def perform(actor: User, auth: AuthRequest, form: Any) -> str:
        data = form.cleaned_data
        appeal = services.open_appeal(actor=actor, request=auth, appellant=data["appellant"],
                                      grounds=data["grounds"], urgency=data["urgency"])  # fmt: skip
        return f"The appeal of {auth.number} was received: due {_local(appeal.due_at)}."

    return _act(request, pk, "appeal_open", Perm.SUBMIT_UM, forms.AppealOpenForm(request.POST), perform)


@never_cache
@domain_errors
@require_POST
def appeal_decide(request: HttpRequest, pk: int, appeal_pk: int) -> HttpResponseBase:
    def perform(actor: User, auth: AuthRequest, form: Any) -> str:
        appeal = next((a for a in auth.appeals.all() if a.pk == appeal_pk), None)
        if appeal is None:
            raise NotFound(f"no appeal {appeal_pk} of request {pk}")
        data = form.cleaned_data
        decided = services.decide_appeal(
            actor=actor, appeal=appeal, outcome=data["outcome"], reason=data["reason"],
            approved_units=form.units_by_line(data) if data["outcome"] == Appeal.Status.PARTIAL else None,
        )  # fmt: skip
        return f"The appeal was decided: {decided.get_status_display().lower()}; the notice is ready."

    def make(auth: AuthRequest) -> forms.AppealDecisionForm:
        return forms.AppealDecisionForm(request.POST, services=list(auth.services.all()))

    return _act(request, pk, "appeal_decide", Perm.DECIDE_UM, make, perform)


@never_cache
@domain_errors
@require_GET
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    notice = selectors.notice_get(actor_of(request), pk)
    response = HttpResponse(bytes(notice.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{notice.request.number}-{notice.kind}-{notice.pk}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@domain_errors
@require_GET
def attachment(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    auth = selectors.request_get(actor_of(request), pk, purpose=ATTACHMENT_PURPOSE)
    found = next((a for a in auth.attachments.all() if a.pk == attachment_pk), None)
    if found is None:
        raise NotFound(f"no attachment {attachment_pk} of request {pk}")
    response = HttpResponse(
        bytes(found.content), content_type=found.content_type or "application/octet-stream"
    )
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in found.name)[-120:] or "attachment"
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


# ----------------------------------------------------------------------------------------- new request


def _providers(actor: User) -> list[tuple[str, str]] | None:
    """A practice user's own providers (NPI, name) for the requesting provider; None for staff."""
    if not is_practice_scoped(actor):
        return None
    practice = network_selectors.practice_get(actor, scoped_practice_id(actor))
    providers = network_selectors.practice_providers(actor, practice, timezone.localdate())
    return [(p.npi, f"{p.display_name} ({p.npi})") for p in providers]


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def new_request(request: HttpRequest) -> HttpResponseBase:
    """Submit a request: a practice user for its own members (source "portal"), staff for any (source
    "staff"). Refused (400, the form with the errors next to the fields): nothing written."""
    actor = actor_of(request)
    require(actor, Perm.SUBMIT_UM)
    providers = _providers(actor)
    form = forms.RequestForm(request.POST or None, request.FILES or None, providers=providers)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            files = form.cleaned_data["attachments"]
            too_big = [f.name for f in files if f.size > services.MAX_ATTACHMENT_BYTES]
            if too_big:
                form.add_error(
                    "attachments", f"{too_big[0]}: larger than {services.MAX_ATTACHMENT_BYTES:,} bytes"
                )
            else:
                try:
                    made = services.submit_request(
                        actor=actor, data=form.request_input(),
                        source=AuthRequest.Source.PORTAL if providers is not None else AuthRequest.Source.STAFF,
                        attachments=[(f.name or "attachment", f.content_type or "application/octet-stream", f.read())
                                     for f in files],
                    )  # fmt: skip
                except ValidationFailed as exc:
                    form.put_errors(exc)
                else:
                    if made.status == Status.APPROVED:
                        messages.success(request, f"{made.number} was received and approved on receipt "
                                         f"({made.decision_reason})")  # fmt: skip
                    else:
                        messages.success(request, f"{made.number} was received: a decision is due by "
                                         f"{_local(made.due_at)} ({made.clock_rule.citation}).")  # fmt: skip
                    return redirect(reverse("web:utilization:detail", args=[made.pk]))
    context = {"form": form, "practice_user": providers is not None, "staff": providers is None,
               "can_submit": True}  # fmt: skip
    return render(request, "web/utilization/requests/new.html", context, status=status)


@never_cache
@domain_errors
@require_GET
def summary(request: HttpRequest) -> HttpResponse:
    """The dashboard's card for IPA staff with the UM view: open requests, overdue, due within 24 hours, in
    physician review, open appeals (counts only: no member data)."""
    actor = actor_of(request)
    _require_staff(actor)
    services.sweep_deemed()
    counts = selectors.status_counts(timezone.now())
    return render(request, "web/utilization/requests/_summary.html", {"counts": counts})


urlpatterns = [
    path("authorizations/", queue, name="queue"),
    path("authorizations/summary/", summary, name="summary"),
    path("authorizations/new/", new_request, name="new"),
    path("authorizations/appeals/", appeals, name="appeals"),
    path("authorizations/rules/", rules, name="rules"),
    path("authorizations/notices/<int:pk>.pdf", notice_pdf, name="notice_pdf"),
    path("authorizations/<int:pk>/", detail, name="detail"),
    path("authorizations/<int:pk>/review/", take_for_review, name="take_for_review"),
    path("authorizations/<int:pk>/decide/", decide, name="decide"),
    path("authorizations/<int:pk>/escalate/", escalate, name="escalate"),
    path("authorizations/<int:pk>/extend/", extend, name="extend"),
    path("authorizations/<int:pk>/note/", add_note, name="note"),
    path("authorizations/<int:pk>/attach/", add_attachment, name="attach"),
    path("authorizations/<int:pk>/withdraw/", withdraw, name="withdraw"),
    path("authorizations/<int:pk>/peer-to-peer/", peer_to_peer, name="peer_to_peer"),
    path("authorizations/<int:pk>/appeal/", appeal_open, name="appeal_open"),
    path("authorizations/<int:pk>/appeals/<int:appeal_pk>/decide/", appeal_decide, name="appeal_decide"),
    path("authorizations/<int:pk>/attachments/<int:attachment_pk>/", attachment, name="attachment"),
]
