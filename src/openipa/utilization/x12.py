"""X12 278 requests received as utilization management requests, and their answers (`openipa edi auth`).

Each patient event of a 278 request (:class:`openipa.edi.t278.Request278`) becomes a
:class:`~openipa.utilization.engine.intake.RequestInput` and is submitted like any other request, with the
source "x12_278", by the 278 gateway's own account (:func:`gateway_user`). Every event is answered in one 278
response:

- a request received and waiting for review: HCR*A4 (pended), HCR02 the request number;
- a request approved on receipt by an auto-approval rule: HCR*A1 (certified in total), the certification
  number being the request number, with the certified span and each service's units;
- a request refused by the checks: AAA with the reject reason the problem calls for (an unknown member 75,
  no coverage 95, a bad NPI 43, bad dates 57, a missing diagnosis 15, other input errors 33...), in the loop
  the reason belongs to; nothing is written for it;
- a request the sender already sent (same trace number, requester and member) is answered as it stands,
  not written again.

:func:`answer_file` does the work for the command; :func:`request_input`, :func:`rejection_for` and
:func:`decision_for` are the mappings, testable one by one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from openipa.accounts.models import User
from openipa.core.errors import ValidationFailed
from openipa.edi.t278 import Decision278, Rejection278, Request278, ServiceDecision
from openipa.utilization import selectors, services
from openipa.utilization.engine.intake import RequestInput, ServiceInput
from openipa.utilization.models import AuthRequest, RequestKind

GATEWAY_USERNAME = "x12-278"
"""The account the 278 gateway acts as: operations' rights (submit, not review), no password (no sign-in)."""

KINDS: dict[str, str] = {
    "AR": RequestKind.ADMISSION_NOTIFICATION,
    "HS": RequestKind.PRIOR_AUTHORIZATION,
    "SC": RequestKind.REFERRAL,
    "IN": RequestKind.PRIOR_AUTHORIZATION,
}
"""UM01 request category -> kind of request."""

ICD10_QUALIFIERS = frozenset({"ABK", "ABF", "ABJ", "APR"})
ICD9_QUALIFIERS = frozenset({"BK", "BF", "BJ", "PR"})
"""ICD-9-CM codes are passed on, to be refused as not ICD-10-CM; DRG and LOINC codes (DR, LD) are not
diagnoses and are left out."""

INITIAL = "I"

REASONS: tuple[tuple[str, str, str], ...] = (
    # (field prefix, words in the message or "", AAA03), the first match wins: patient problems first
    ("member_birth_date", "", "71"),
    ("member_id", "several payers", "76"),
    ("member_id", "no coverage", "95"),
    ("member_id", "missing", "72"),
    ("member_id", "", "75"),
    ("patient", "", "77"),
    ("requesting_npi", "", "43"),
    ("servicing_npi", "", "43"),
    ("services[", ".dates", "57"),
    ("diagnoses", "at least one", "15"),
    ("services", "at least one", "15"),
    ("", "clock", "42"),
)
"""How a refusal's fields become the one AAA reject reason a 278 answer carries (33 input errors when none
of these applies)."""


def gateway_user() -> User:
    """The 278 gateway's account, created on first use (an unusable password: it never signs in)."""
    from django.contrib.auth.hashers import make_password

    from openipa.accounts.services import user_create
    from openipa.core.roles import Role

    found = User.objects.filter(username=GATEWAY_USERNAME).first()
    if found is not None:
        return found
    return user_create(actor=None, username=GATEWAY_USERNAME, encoded_password=make_password(None),
                       role=Role.OPERATIONS, first_name="X12 278", last_name="gateway")  # fmt: skip


def _npi(party_id: str, qualifier: str) -> str:
    return party_id.strip() if qualifier == "XX" else ""


def _span(
    request: Request278, start: dt.date | None, end: dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """A service's days: its own DTP*472, else the event's DTP*AAH, else the admission (DTP*435) to the
    discharge (DTP*096). Taken as sent (a discharge before the admission is the intake's to refuse)."""
    event = request.event
    if start is not None:
        return start, end or start
    if event.date is not None:
        return event.date, event.date_end or event.date
    if event.admission_date is not None:
        return event.admission_date, event.discharge_date or event.admission_date_end or event.admission_date
    return None, None


def request_input(request: Request278, *, payer_code: str = "") -> RequestInput:
    """One 278 patient event as a request. Checks stay with the intake (`intake.check`) and the service, so
    a 278 is refused for exactly what the portal and the API refuse."""
    event = request.event
    servicing = event.servicing_provider
    if servicing is None:
        servicing = next(
            (p for s in event.services for p in s.providers if p.entity_code in ("SJ", "FA")), None
        )
    diagnoses = [d.code for d in event.diagnoses if d.qualifier in ICD10_QUALIFIERS | ICD9_QUALIFIERS]
    items = []
    for service in event.services:
        procedure = service.procedure
        units: Decimal = Decimal(1)
        if procedure.units is not None:
            units = procedure.units
        elif service.quantity is not None:
            units = service.quantity.value
        start, end = _span(request, service.date, service.date_end)
        items.append(ServiceInput(
            code=procedure.code if procedure.qualifier in ("HC", "CJ") else f"{procedure.qualifier}:{procedure.code}",
            units=units, service_from=start, service_to=end, modifiers=",".join(procedure.modifiers),
        ))  # fmt: skip
    notes = [event.message, *(s.message for s in event.services)]
    return RequestInput(
        kind=KINDS.get(event.category, RequestKind.PRIOR_AUTHORIZATION), urgency=event.urgency,
        member_id=request.subscriber.member_id, payer_code=payer_code,
        requesting_npi=_npi(request.requester.id, request.requester.id_qualifier),
        servicing_npi=_npi(servicing.id, servicing.id_qualifier) if servicing is not None else "",
        servicing_name=servicing.name[:200] if servicing is not None else "", diagnoses=diagnoses, services=items,
        clinical_notes="\n".join(n for n in notes if n), trace_number=event.tracking_number[:50],
        member_birth_date=request.subscriber.birth_date,
    )  # fmt: skip


def precheck(request: Request278) -> dict[str, list[str]]:
    """What a 278 asks that is not a new request for a member of its own (a cancellation, an appeal, an
    extension, a dependent without an id of their own): refused before anything is looked up."""
    problems: dict[str, list[str]] = {}
    if request.transaction.purpose_code != "13":
        problems["purpose"] = [f"BHT02 {request.transaction.purpose_code}: only new requests (13) are taken; "
                               "cancel a request with the practice portal or the API"]  # fmt: skip
    if request.event.certification_type != INITIAL:
        problems["certification_type"] = [f"UM02 {request.event.certification_type}: only initial requests (I) "
                                          "are taken by 278; appeals, extensions and revisions go to the UM team"]  # fmt: skip
    if request.dependent is not None:
        problems["patient"] = ["the patient is sent as a dependent: each member has an id of their own, send "
                               "the patient as the subscriber"]  # fmt: skip
    return problems


def rejection_for(problems: Mapping[str, Iterable[str]]) -> Rejection278:
    """The AAA for a refused request: the reject reason of its most telling problem (see :data:`REASONS`)."""
    flat = [(name, message) for name, messages in problems.items() for message in messages]
    for prefix, words, code in REASONS:
        for name, message in flat:
            named = name.startswith(prefix) if prefix else name == ""
            if named and (not words or words in message or words in name):
                return Rejection278(code, follow_up="C", valid_request=code in ("75", "95", "76", "71", "77"))
    return Rejection278("33")


def decision_for(request: AuthRequest) -> Decision278:
    """The HCR answering a request as it stands: A4 pended while open, A1 certified when approved (in full,
    by rule or deemed), A6 modified, A3 not certified, C cancelled (withdrawn); the certification number is
    the request number."""
    number = request.number
    lines = list(request.services.all())
    if request.is_open:
        return Decision278("A4", number)
    if request.status == AuthRequest.Status.WITHDRAWN:
        return Decision278("C", number)
    if request.status == AuthRequest.Status.DENIED:
        return Decision278("A3", number, message=request.decision_reason[:264])
    answers = []
    granted_any: list[dt.date] = []
    for line in lines:
        granted = line.units if line.units_approved is None else line.units_approved
        if granted <= 0:
            answers.append(ServiceDecision("A3", number))
            continue
        shorter = line.approved_to is not None and line.approved_to < line.service_to
        answers.append(
            ServiceDecision("A6" if granted < line.units or shorter else "A1", number, "", granted)
        )
        granted_any.append(line.approved_to or line.service_to)
    action = "A6" if request.status == AuthRequest.Status.MODIFIED else "A1"
    end = max(granted_any, default=request.service_to)
    return Decision278(action, number, "", request.service_from, end, services=tuple(answers))


@dataclass(slots=True)
class Answered:
    """What became of the events of one 278 file."""

    pairs: list[tuple[Request278, Decision278]] = field(default_factory=list)
    received: list[str] = field(default_factory=list)
    """Numbers of the requests written (approved ones included)."""
    approved: list[str] = field(default_factory=list)
    """Numbers of the requests approved on receipt."""
    duplicates: list[str] = field(default_factory=list)
    """Numbers of requests the file sent again (answered as they stand, not written)."""
    rejected: list[dict[str, object]] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {"requests": len(self.pairs), "received": self.received, "approved": self.approved,
                "duplicates": self.duplicates, "rejected": self.rejected}  # fmt: skip


def _earlier(request: Request278, data: RequestInput) -> AuthRequest | None:
    if not data.trace_number.strip():
        return None
    return (
        AuthRequest.objects.filter(
            source=AuthRequest.Source.X12,
            trace_number=data.trace_number.strip(),
            requesting_npi=data.requesting_npi.strip(),
            member__payer_member_id=data.member_id.strip(),
        )
        .order_by("id")
        .first()
    )


def answer_file(requests: Iterable[Request278], *, payers: Mapping[str, str],
                received_at: dt.datetime | None = None) -> Answered:  # fmt: skip
    """Submit every patient event of a file read whole, and answer each (in order). ``payers`` maps X12
    payer ids (the UMO's NM109) to payer codes. Refused events are not written; each accepted one is
    written in a transaction of its own (a savepoint, when the caller holds a transaction)."""
    actor = gateway_user()
    received_at = received_at or timezone.now()
    out = Answered()
    for r278 in requests:
        payer_code = payers.get(r278.umo.id.strip(), "") if r278.umo.id_qualifier == "PI" else ""
        problems = precheck(r278)
        data = request_input(r278, payer_code=payer_code)
        if not problems:
            earlier = _earlier(r278, data)
            if earlier is not None:
                selectors.record_request_read(actor, [earlier], purpose="x12 278 resent")
                out.duplicates.append(earlier.number)
                answer = decision_for(earlier)
                if len(answer.services) != len(r278.services):
                    # sent again with other lines: the event's answer stands for each of them
                    answer = dataclasses.replace(answer, services=())
                out.pairs.append((r278, answer))
                continue
            try:
                with transaction.atomic():
                    created = services.submit_request(actor=actor, data=data, source=AuthRequest.Source.X12,
                                                      received_at=received_at)  # fmt: skip
            except ValidationFailed as exc:
                problems = exc.fields
            else:
                out.received.append(created.number)
                if created.status in AuthRequest.APPROVING:
                    out.approved.append(created.number)
                out.pairs.append((r278, decision_for(created)))
                continue
        rejection = rejection_for(problems)
        out.rejected.append({"trace": r278.tracking_number, "segment": r278.segment_number, "reason": rejection.reason,
                             "errors": problems})  # fmt: skip
        out.pairs.append((r278, Decision278(rejection=rejection)))
    return out
