"""Authorizations in the REST API: practices submit referrals and prior authorizations, clinicians decide
them, everyone in scope reads them with their clock (ADR 0014).

- `POST /api/v1/authorizations`: submit a request (a practice user for its own members; staff with
  SUBMIT_UM for any member). The clock starts at the moment the API receives it.
- `GET /api/v1/authorizations`: requests in the caller's scope, by due time, filtered by status and overdue.
- `GET /api/v1/authorizations/{id}`: one request with its services, decision, extension and appeals.
- `POST /api/v1/authorizations/{id}/decision`: approve (a nurse or a physician), deny or modify (a physician
  only: anyone else gets 403 and nothing changes).

Scope is the selectors': a practice user sees its own practice's requests and those for its members, and any
other request answers the 404 an unknown id gets. Every request handed out is recorded in the audit log as a
read of its member, purpose "api". Times are ISO 8601 in the IPA's time zone, with their offset.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from openipa.api.auth import actor
from openipa.api.pagination import paged
from openipa.api.schemas import ERRORS, MAX_ID, InputSchema, ObjectId, PageOut, PageParams, Text
from openipa.core.errors import ValidationFailed
from openipa.utilization import selectors, services
from openipa.utilization.engine import clocks, intake
from openipa.utilization.models import AuthRequest

PURPOSE = "api"
MAX_ATTACHMENTS = 10
MAX_BASE64_CHARS = (services.MAX_ATTACHMENT_BYTES + 2) // 3 * 4 + 4

router = Router(tags=["authorizations"])

KindName = Literal["referral", "prior_auth", "admission", "post_stabilization"]
UrgencyName = Literal["standard", "expedited"]
StatusFilter = Literal[
    "open",
    "received",
    "nurse_review",
    "physician_review",
    "approved",
    "modified",
    "denied",
    "deemed_approved",
    "withdrawn",
]
Modifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{2}$")]
Diagnosis = Annotated[Text, Field(min_length=1, max_length=8)]
Units = Annotated[Decimal, Field(gt=0, le=9999, max_digits=6, decimal_places=2)]
GrantedUnits = Annotated[Decimal, Field(ge=0, le=9999, max_digits=6, decimal_places=2)]
LineKey = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,2}$")]


# ------------------------------------------------------------------------------------------ schemas


class ServiceIn(InputSchema):
    code: Text = Field(min_length=1, max_length=10, description="CPT or HCPCS code.")
    modifiers: list[Modifier] = Field(default_factory=list, max_length=4)
    units: Units = Field(description="Units asked for: above 0, at most 9999, to two decimals.")
    service_from: dt.date = Field(alias="from", description="First day of service.")
    service_to: dt.date = Field(alias="to", description="Last day of service (on or after `from`).")


class AttachmentIn(InputSchema):
    name: Text = Field(min_length=1, max_length=200)
    content_type: Text = Field("application/octet-stream", min_length=1, max_length=100)
    data: str = Field(max_length=MAX_BASE64_CHARS, description="The file's bytes, base64 (at most 10 MB).")


class AuthorizationIn(InputSchema):
    kind: KindName
    urgency: UrgencyName = "standard"
    member_id: Text = Field(min_length=1, max_length=40, description="The payer's member id.")
    payer: Text = Field("", max_length=16, description="The payer's code; needed only when ids collide.")
    requesting_npi: Text = Field(min_length=1, max_length=20)
    servicing_npi: Text = Field("", max_length=20)
    servicing_name: Text = Field("", max_length=200)
    diagnoses: list[Diagnosis] = Field(max_length=12, description="ICD-10-CM codes, principal first.")
    services: list[ServiceIn] = Field(max_length=intake.MAX_SERVICES)
    clinical_notes: Text = Field("", max_length=20_000)
    trace_number: Text = Field("", max_length=50, description="Your own reference, echoed back.")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class DecisionIn(InputSchema):
    decision: Literal["approve", "deny", "modify"]
    reason: Text = Field(
        "", max_length=4000, description="Required (20 characters or more) to deny or modify."
    )
    criteria: Text = Field("", max_length=300, description="The criteria used (NCD, LCD or policy, version).")
    criteria_id: int | None = Field(None, ge=1, le=MAX_ID, description="A criteria reference's id.")
    approved_units: dict[LineKey, GrantedUnits] = Field(
        default_factory=dict, description='Modify only: units granted per service line, {"1": "6"}.'
    )
    approved_to: dict[LineKey, dt.date] = Field(
        default_factory=dict, description="Modify only: a shorter approved span per service line."
    )


class AuthorizationFilters(Schema):
    status: StatusFilter | None = Field(None, description='A status, or "open" for any undecided one.')
    overdue: bool | None = Field(None, description="true: open requests past their due time.")
    kind: KindName | None = None
    urgency: UrgencyName | None = None
    q: Text = Field("", max_length=100, description="Request number, payer member id or last name prefix.")


class ServiceOut(Schema):
    line: int
    code: str
    modifiers: list[str]
    units: str = Field(description="Units asked for, a decimal as text.")
    units_approved: str | None = Field(description="Units granted; null until decided.")
    service_from: dt.date = Field(alias="from")
    service_to: dt.date = Field(alias="to")
    approved_to: dt.date | None = Field(description="A shorter approved span's last day, if modified so.")


class ExtensionOut(Schema):
    extended_at: dt.datetime
    reason: str
    original_due_at: dt.datetime


class AppealOut(Schema):
    id: int
    status: str
    urgency: str
    received_at: dt.datetime
    due_at: dt.datetime
    decided_at: dt.datetime | None
    reason: str


class NoticeOut(Schema):
    id: int
    kind: str
    created_at: dt.datetime


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str


class AuthorizationSummary(Schema):
    id: int
    number: str
    kind: str
    urgency: str
    status: str
    member_id: str = Field(description="The payer's member id.")
    payer: str
    received_at: dt.datetime
    due_at: dt.datetime
    time_left_seconds: int | None = Field(
        description="Seconds to the due time (negative: overdue); null once decided."
    )
    overdue: bool = Field(description="Open and past the due time.")
    decided_at: dt.datetime | None


class AuthorizationPage(PageOut):
    items: list[AuthorizationSummary]


class AuthorizationOut(AuthorizationSummary):
    source: str
    line_of_business: str
    requesting_npi: str
    servicing_npi: str
    servicing_name: str
    servicing_in_network: bool
    diagnoses: list[str]
    clinical_notes: str
    trace_number: str
    clock: str = Field(description="The rule that set the due time, with its citation.")
    services: list[ServiceOut]
    decision: Literal["approved", "modified", "denied", "deemed_approved", "withdrawn"] | None = Field(
        description="Null while the request is open."
    )
    reason: str
    criteria: str
    extension: ExtensionOut | None
    appeals: list[AppealOut]
    notices: list[NoticeOut]
    attachments: list[AttachmentOut]


# ------------------------------------------------------------------------------------------ shaping


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(selectors.ipa_zone())


def _summary(r: AuthRequest, now: dt.datetime) -> dict[str, Any]:
    open_ = r.is_open
    return {
        "id": r.pk, "number": r.number, "kind": r.kind, "urgency": r.urgency, "status": r.status,
        "member_id": r.member.payer_member_id, "payer": r.member.payer.code, "received_at": _local(r.received_at),
        "due_at": _local(r.due_at),
        "time_left_seconds": int(clocks.time_left(r.due_at, now).total_seconds()) if open_ else None,
        "overdue": open_ and r.due_at < now, "decided_at": _local(r.decided_at),
    }  # fmt: skip


def _criteria(r: AuthRequest) -> str:
    parts = [str(r.criteria)] if r.criteria_id is not None else []
    if r.criteria_text:
        parts.append(r.criteria_text)
    return "; ".join(parts)


def _detail(r: AuthRequest, now: dt.datetime) -> dict[str, Any]:
    decided = None if r.is_open else r.status
    extension = None
    if r.extended_at is not None and r.original_due_at is not None:
        extension = {"extended_at": _local(r.extended_at), "reason": r.extension_reason,
                     "original_due_at": _local(r.original_due_at)}  # fmt: skip
    return {
        **_summary(r, now),
        "source": r.source, "line_of_business": r.line_of_business, "requesting_npi": r.requesting_npi,
        "servicing_npi": r.servicing_npi, "servicing_name": r.servicing_name,
        "servicing_in_network": r.servicing_in_network, "diagnoses": [d for d in r.diagnoses.split(",") if d],
        "clinical_notes": r.clinical_notes, "trace_number": r.trace_number,
        "clock": f"{r.clock_rule.amount} {r.clock_rule.get_unit_display()} ({r.clock_rule.citation})",
        "services": [
            {"line": s.line_number, "code": s.code, "modifiers": [m for m in s.modifiers.split(",") if m],
             "units": str(s.units), "units_approved": None if s.units_approved is None else str(s.units_approved),
             "from": s.service_from, "to": s.service_to, "approved_to": s.approved_to}
            for s in r.services.all()
        ],
        "decision": decided, "reason": r.decision_reason, "criteria": _criteria(r), "extension": extension,
        "appeals": [
            {"id": a.pk, "status": a.status, "urgency": a.urgency, "received_at": _local(a.received_at),
             "due_at": _local(a.due_at), "decided_at": _local(a.decided_at), "reason": a.decision_reason}
            for a in r.appeals.all()
        ],
        "notices": [{"id": n.pk, "kind": n.kind, "created_at": _local(n.created_at)} for n in r.notices.all()],
        "attachments": [
            {"id": a.pk, "name": a.name, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}
            for a in r.attachments.all()
        ],
    }  # fmt: skip


def _read(request: HttpRequest, request_id: int) -> dict[str, Any]:
    found = selectors.request_get(actor(request), request_id, purpose=PURPOSE)
    return _detail(found, timezone.now())


def request_input(body: AuthorizationIn) -> intake.RequestInput:
    """The body as the service takes it."""
    return intake.RequestInput(
        kind=body.kind, urgency=body.urgency, member_id=body.member_id, payer_code=body.payer,
        requesting_npi=body.requesting_npi, servicing_npi=body.servicing_npi, servicing_name=body.servicing_name,
        diagnoses=list(body.diagnoses),
        services=[
            intake.ServiceInput(code=s.code, units=s.units, service_from=s.service_from, service_to=s.service_to,
                                modifiers=",".join(m.upper() for m in s.modifiers))
            for s in body.services
        ],
        clinical_notes=body.clinical_notes, trace_number=body.trace_number,
    )  # fmt: skip


def _attachments(items: list[AttachmentIn]) -> list[tuple[str, str, bytes]]:
    out: list[tuple[str, str, bytes]] = []
    problems: dict[str, list[str]] = {}
    for n, item in enumerate(items, start=1):
        try:
            content = base64.b64decode(item.data, validate=True)
        except (binascii.Error, ValueError):
            problems[f"attachments[{n}].data"] = ["not base64"]
            continue
        if not content:
            problems[f"attachments[{n}].data"] = ["the file is empty"]
        elif len(content) > services.MAX_ATTACHMENT_BYTES:
            problems[f"attachments[{n}].data"] = [f"larger than {services.MAX_ATTACHMENT_BYTES} bytes"]
        out.append((item.name, item.content_type, content))
    if problems:
        raise ValidationFailed(problems)
    return out


def _lines(mapping: dict[str, Any]) -> dict[int, Any]:
    return {int(line): value for line, value in mapping.items()}


# ------------------------------------------------------------------------------------------ endpoints


@router.post("", response={201: AuthorizationOut, **ERRORS}, by_alias=True)
def submit_authorization(request: HttpRequest, body: AuthorizationIn) -> Status[dict[str, Any]]:
    """Submit a referral or prior authorization. Checked whole before anything is written: a bad request
    answers 422 naming each field (`diagnoses`, `services[1].dates`, `member_id`...) and writes nothing.
    A practice user submits only for members assigned to its practice (any other member id answers as an
    unknown one). 201 with the request as `GET /authorizations/{id}` shows it: approved at once when an
    auto-approval rule covers it, otherwise received, with its due time."""
    who = actor(request)
    data = request_input(body)
    try:
        attachments = _attachments(body.attachments)
    except ValidationFailed as exc:  # named together with the request's own problems, if any
        raise ValidationFailed({**intake.check(data), **exc.fields}) from None
    created = services.submit_request(
        actor=who, data=data, source=AuthRequest.Source.API, attachments=attachments
    )
    return Status(201, _read(request, created.pk))


@router.get("", response={200: AuthorizationPage, **ERRORS})
def list_authorizations(
    request: HttpRequest, filters: Query[AuthorizationFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """Requests in the caller's scope, soonest due first. The requests on the page are recorded as read."""
    who = actor(request)
    now = timezone.now()
    status: list[str] | None = None
    if filters.status == "open":
        status = list(AuthRequest.OPEN)
    elif filters.status is not None:
        status = [filters.status]
    qs = selectors.request_queryset(
        who, status=status, kind=filters.kind or "", urgency=filters.urgency or "", q=filters.q,
        overdue_at=now if filters.overdue else None,
    ).select_related("member__payer")  # fmt: skip
    if filters.overdue is False:
        qs = qs.exclude(status__in=AuthRequest.OPEN, due_at__lt=now)
    page = paged(qs, paging)
    rows: list[AuthRequest] = list(page["items"])
    if rows:
        selectors.record_request_read(who, rows, purpose=PURPOSE)
    page["items"] = [_summary(r, now) for r in rows]
    return page


@router.get("/{request_id}", response={200: AuthorizationOut, **ERRORS}, by_alias=True)
def get_authorization(request: HttpRequest, request_id: ObjectId) -> dict[str, Any]:
    """One request: status, received and due times, seconds left, services with units asked and approved,
    the decision with its reason and criteria, any extension and appeals. Recorded as a read of the member.
    404 for an unknown request or one outside the caller's scope."""
    return _read(request, request_id)


@router.post("/{request_id}/decision", response={200: AuthorizationOut, **ERRORS}, by_alias=True)
def decide_authorization(request: HttpRequest, request_id: ObjectId, body: DecisionIn) -> dict[str, Any]:
    """Decide an open request. `approve`: a UM nurse or a physician. `deny` and `modify`: a physician
    (the medical director) only; a nurse gets 403 and nothing changes. A denial or modification states a
    specific reason (20 characters or more) and the criteria (`criteria` text or `criteria_id`); a
    modification grants fewer units (`approved_units`, by service line) or a shorter span (`approved_to`) on
    at least one line. The decision notice is written and kept. 422 for a request already decided."""
    who = actor(request)
    target = selectors.request_get(who, request_id, purpose="decision")
    if body.decision != "modify" and (body.approved_units or body.approved_to):
        raise ValidationFailed.single("approved_units", "units and spans are given only to modify")
    services.decide(
        actor=who, request=target, decision=body.decision, reason=body.reason, criteria=body.criteria,
        criteria_id=body.criteria_id, approved_units=_lines(body.approved_units),
        approved_to=_lines(body.approved_to),
    )  # fmt: skip
    return _read(request, request_id)
