"""Writes of utilization management: receiving requests, reviewing and deciding them, extensions, appeals,
peer-to-peer discussions and notices (ADR 0014). Each service is one transaction and is audited.

Who may do what is checked here, not only in the pages: approving needs REVIEW_UM (a nurse or a physician);
denying or modifying a request, deciding an appeal and recording a peer-to-peer discussion need DECIDE_UM,
which only the medical director holds. An appeal is decided by a physician other than the one who made the
decision appealed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from openipa.contracts import selectors as contract_selectors
from openipa.core import audit
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.membership import selectors as member_selectors
from openipa.membership.models import Member
from openipa.network import selectors as network_selectors
from openipa.network.models import Provider
from openipa.utilization import letters, selectors
from openipa.utilization.engine import clocks, intake
from openipa.utilization.models import (
    Appeal,
    AuthAttachment,
    AuthEvent,
    AuthNotice,
    AuthRequest,
    AuthService,
    ClockRule,
    CriteriaReference,
    PeerToPeer,
    RequestKind,
    Urgency,
)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MIN_REASON_CHARS = 20
"""A denial or modification states a specific reason: a few words at least, not 'denied'."""

Status = AuthRequest.Status
Action = AuthEvent.Action


def _uid(actor: Actor | None) -> int | None:
    return None if actor is None else int(str(actor.pk))


def _event(request: AuthRequest, action: str, actor: Actor | None, at: dt.datetime, note: str = "") -> None:
    AuthEvent.objects.create(request=request, action=action, actor_id=_uid(actor), at=at, note=note)


def _next_number(year: int) -> str:
    prefix = f"UM{year}-"
    last = (
        AuthRequest.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
    ).first()
    sequence = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{sequence:06d}"


def _find_member(data: intake.RequestInput) -> Member:
    found = member_selectors.members_by_key(data.member_id, data.payer_code)
    if not found:
        raise ValidationFailed.single("member_id", f"no member {data.member_id.strip()!r}"
                                      + (f" of payer {data.payer_code}" if data.payer_code else ""))  # fmt: skip
    if len(found) > 1:
        raise ValidationFailed.single("member_id", f"member id {data.member_id!r} is held at several payers: "
                                      "name the payer")  # fmt: skip
    member = found[0]
    if data.member_birth_date is not None and data.member_birth_date != member.date_of_birth:
        raise ValidationFailed.single("member_birth_date", "the birth date does not match the member's")
    return member


def _practice_of(provider: Provider | None, on: dt.date) -> int | None:
    return None if provider is None else network_selectors.practice_of_provider_on(provider, on)


def _clock(request_kind: str, urgency: str, lob: str, jurisdiction: str, applies_to: str,
           received_at: dt.datetime) -> tuple[ClockRule, dt.datetime]:  # fmt: skip
    rules = selectors.clock_rules()
    tz = selectors.ipa_zone()
    try:
        chosen = clocks.pick_rule(
            rules, line_of_business=lob, jurisdiction=jurisdiction, kind=request_kind, urgency=urgency,
            applies_to=applies_to, on=clocks.local_date(received_at, tz),
        )  # fmt: skip
    except clocks.NoClockRule as exc:
        raise ValidationFailed.single(
            "", f"{exc}: add the clock rule before receiving this request"
        ) from None
    due = clocks.due_at(received_at, chosen, tz, selectors.calendars_for([chosen]))
    return ClockRule.objects.get(pk=chosen.rule_id), due


def submit_request(
    *,
    actor: Actor,
    data: intake.RequestInput,
    source: str,
    received_at: dt.datetime | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> AuthRequest:
    """Receive a request: check it whole, find the member's coverage and line of business on the first
    service date, start the clock, and approve it at once if an auto-approval rule covers it (otherwise it
    waits in the nurse queue). A practice user submits only for its own members. ValidationFailed naming the
    fields, and nothing written, for a bad request."""
    require(actor, Perm.SUBMIT_UM)
    problems = intake.check(data)
    if problems:
        raise ValidationFailed(problems)
    received_at = received_at or timezone.now()
    services = list(data.services)
    first_day = min(s.service_from for s in services if s.service_from)
    last_day = max(s.service_to for s in services if s.service_to)
    member = _find_member(data)
    own = member_selectors.pcp_practice_on(member.pk, first_day)
    if is_practice_scoped(actor) and own != scoped_practice_id(actor):
        # as for a member that does not exist: a practice cannot probe other practices' members
        raise ValidationFailed.single("member_id", f"no member {data.member_id.strip()!r}")
    span = member_selectors.coverage_on(member.pk, first_day)
    if span is None:
        raise ValidationFailed.single("member_id", f"member {member.payer_member_id} has no coverage on "
                                      f"{first_day.isoformat()}")  # fmt: skip
    lob = span.product.line_of_business
    contract = contract_selectors.active_contract_of_product(span.product_id, first_day)
    jurisdiction = (member.state or selectors.ipa_state()).upper()
    kind = data.kind
    urgency = Urgency.EXPEDITED if kind == RequestKind.POST_STABILIZATION else data.urgency
    rule, due = _clock(kind, urgency, lob, jurisdiction, "request", received_at)
    requesting = network_selectors.provider_by_npi(data.requesting_npi)
    servicing = network_selectors.provider_by_npi(data.servicing_npi)
    practice_id = scoped_practice_id(actor) if is_practice_scoped(actor) else None
    if practice_id is None:
        practice_id = _practice_of(requesting, first_day)
    if practice_id is None:
        practice_id = own
    for name, _type, content in attachments:
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise ValidationFailed.single("attachments", f"{name}: larger than {MAX_ATTACHMENT_BYTES} bytes")
    facts = intake.Facts(
        kind=kind,
        line_of_business=lob,
        servicing_specialty=servicing.specialty if servicing else "",
        servicing_in_network=_practice_of(servicing, first_day) is not None,
        codes_units=[(s.code.strip().upper(), Decimal(str(s.units))) for s in services],
    )
    auto_rules = {r.pk: r for r in selectors.auto_rules_in_force(clocks.local_date(received_at,
                                                                                   selectors.ipa_zone()))}  # fmt: skip
    matched = intake.auto_approval(facts, [
        intake.AutoRule(
            rule_id=r.pk, kind=r.kind, line_of_business=r.line_of_business,
            specialties=frozenset(s.strip().lower() for s in r.specialties.split(",") if s.strip()),
            in_network_only=r.in_network_only, code_from=r.code_from, code_to=r.code_to, max_units=r.max_units,
        )
        for r in auto_rules.values()
    ])  # fmt: skip
    with transaction.atomic():
        request = _create_numbered(
            clocks.local_date(received_at, selectors.ipa_zone()).year,
            kind=kind,
            urgency=urgency,
            source=source,
            member=member,
            practice_id=practice_id,
            contract=contract,
            line_of_business=lob,
            jurisdiction=jurisdiction,
            requesting_provider=requesting,
            requesting_npi=data.requesting_npi.strip(),
            servicing_provider=servicing,
            servicing_npi=data.servicing_npi.strip(),
            servicing_name=data.servicing_name.strip() or (servicing.display_name if servicing else ""),
            servicing_in_network=facts.servicing_in_network,
            diagnoses=",".join(intake.normalize_diagnosis(d) for d in data.diagnoses if d.strip()),
            service_from=first_day,
            service_to=last_day,
            clinical_notes=data.clinical_notes.strip(),
            received_at=received_at,
            clock_rule=rule,
            due_at=due,
            trace_number=data.trace_number.strip(),
            created_by_id=_uid(actor),
        )
        AuthService.objects.bulk_create(
            AuthService(
                request=request,
                line_number=n,
                code=s.code.strip().upper(),
                modifiers=s.modifiers.strip().upper(),
                units=Decimal(str(s.units)),
                service_from=s.service_from or first_day,
                service_to=s.service_to or last_day,
            )
            for n, s in enumerate(services, start=1)
        )
        _event(request, Action.RECEIVED, actor, received_at, f"via {request.get_source_display()}; due "
               f"{request.due_at.astimezone(selectors.ipa_zone()):%Y-%m-%d %H:%M %Z} ({rule.citation})")  # fmt: skip
        for name, content_type, content in attachments:
            _attach(request, actor, name, content_type, content, received_at)
        if matched is not None:
            auto = auto_rules[matched.rule_id]
            AuthService.objects.filter(request=request).update(units_approved=models_units())
            request.status = Status.APPROVED
            request.decided_at = received_at
            request.auto_rule = auto
            request.criteria = auto.criteria
            request.decision_reason = f"Approved on receipt by rule: {auto.name}."
            request.save(update_fields=["status", "decided_at", "auto_rule", "criteria", "decision_reason"])
            _event(request, Action.AUTO_APPROVED, None, received_at, auto.name)
            _notice(request, AuthNotice.Kind.DECISION, received_at)
        audit.record_write(actor, "um.request.submit", request, member_ids=[member.pk],
                           after={"number": request.number, "status": request.status})  # fmt: skip
    return request


def _create_numbered(year: int, **fields: object) -> AuthRequest:
    """Create a request with the year's next number; two intakes at once may pick the same number, and the
    loser (the unique index refuses it) takes the next one."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return AuthRequest.objects.create(number=_next_number(year), **fields)
        except IntegrityError:
            continue
    raise ValidationFailed.single("", "could not number the request: try again")


def models_units() -> object:
    """`units_approved = units` as an update expression."""
    from django.db.models import F

    return F("units")


def _attach(request: AuthRequest, actor: Actor | None, name: str, content_type: str, content: bytes,
            at: dt.datetime) -> AuthAttachment:  # fmt: skip
    if not content:
        raise ValidationFailed.single("attachments", f"{name}: the file is empty")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed.single("attachments", f"{name}: larger than {MAX_ATTACHMENT_BYTES} bytes")
    attachment = AuthAttachment.objects.create(
        request=request, name=name[:200] or "attachment", content_type=content_type[:100] or "application/octet-stream",
        content=content, size=len(content), sha256=hashlib.sha256(content).hexdigest(), uploaded_at=at,
        uploaded_by_id=_uid(actor),
    )  # fmt: skip
    _event(request, Action.ATTACHMENT, actor, at, attachment.name)
    return attachment


def _locked(request: AuthRequest) -> AuthRequest:
    return AuthRequest.objects.select_for_update().select_related("member", "clock_rule").get(pk=request.pk)


def _check_scope(actor: Actor, request: AuthRequest) -> None:
    """A practice user may act only on requests it can see (NotFound otherwise, as the selectors)."""
    selectors.request_queryset(actor).filter(pk=request.pk).exists() or _not_found(request)


def _not_found(request: AuthRequest) -> bool:
    from openipa.core.errors import NotFound

    raise NotFound(f"no authorization request {request.pk}")


def add_attachment(*, actor: Actor, request: AuthRequest, name: str, content_type: str, content: bytes,
                   now: dt.datetime | None = None) -> AuthAttachment:  # fmt: skip
    require(actor, Perm.SUBMIT_UM)
    _check_scope(actor, request)
    with transaction.atomic():
        request = _locked(request)
        attachment = _attach(request, actor, name, content_type, content, now or timezone.now())
        audit.record_write(actor, "um.request.attach", request, member_ids=[request.member_id],
                           after={"attachment": attachment.name, "sha256": attachment.sha256})  # fmt: skip
    return attachment


def add_note(*, actor: Actor, request: AuthRequest, note: str, now: dt.datetime | None = None) -> None:
    require(actor, Perm.REVIEW_UM)
    if not note.strip():
        raise ValidationFailed.single("note", "write the note")
    with transaction.atomic():
        request = _locked(request)
        _event(request, Action.NOTE, actor, now or timezone.now(), note.strip())
        audit.record_write(actor, "um.request.note", request, member_ids=[request.member_id])


def _require_open(request: AuthRequest) -> None:
    if not request.is_open:
        raise ValidationFailed.single("status", f"request {request.number} is {request.get_status_display()}, "
                                      "no longer open")  # fmt: skip


def take_for_review(*, actor: Actor, request: AuthRequest, now: dt.datetime | None = None) -> AuthRequest:
    """A nurse takes a received request for review."""
    require(actor, Perm.REVIEW_UM)
    with transaction.atomic():
        request = _locked(request)
        _require_open(request)
        if request.status != Status.RECEIVED:
            raise ValidationFailed.single("status", f"request {request.number} is already in review")
        request.status = Status.NURSE_REVIEW
        request.save(update_fields=["status"])
        _event(request, Action.NURSE_REVIEW, actor, now or timezone.now())
        audit.record_write(actor, "um.request.review", request, member_ids=[request.member_id])
    return request


def escalate(*, actor: Actor, request: AuthRequest, note: str, now: dt.datetime | None = None) -> AuthRequest:
    """Send a request the nurse cannot approve to physician review (only a physician may deny)."""
    require(actor, Perm.REVIEW_UM)
    if not note.strip():
        raise ValidationFailed.single("note", "say why the request needs a physician")
    with transaction.atomic():
        request = _locked(request)
        _require_open(request)
        if request.status == Status.PHYSICIAN_REVIEW:
            raise ValidationFailed.single(
                "status", f"request {request.number} is already in physician review"
            )
        request.status = Status.PHYSICIAN_REVIEW
        request.save(update_fields=["status"])
        _event(request, Action.ESCALATED, actor, now or timezone.now(), note.strip())
        audit.record_write(actor, "um.request.escalate", request, member_ids=[request.member_id])
    return request


DECISIONS = ("approve", "deny", "modify")


def _criteria_reference(criteria_id: int | None) -> CriteriaReference | None:
    if criteria_id is None:
        return None
    found = CriteriaReference.objects.filter(pk=criteria_id).first()
    if found is None:
        raise ValidationFailed.single("criteria_id", f"no criteria reference {criteria_id}")
    return found


def decide(
    *,
    actor: Actor,
    request: AuthRequest,
    decision: str,
    reason: str = "",
    criteria: str = "",
    criteria_id: int | None = None,
    approved_units: Mapping[int, Decimal] | None = None,
    approved_to: Mapping[int, dt.date] | None = None,
    now: dt.datetime | None = None,
) -> AuthRequest:
    """Decide an open request: approve (a nurse or a physician), or deny or modify (a physician only: the
    service refuses anyone without DECIDE_UM, whatever the page showed). A denial or a modification states
    a specific reason and the criteria used; a modification gives, per service line, fewer units or a shorter
    span than asked. The decision notice is written and kept."""
    if decision not in DECISIONS:
        raise ValidationFailed.single("decision", f"unknown decision {decision!r}: approve, deny or modify")
    require(actor, Perm.REVIEW_UM)
    if decision in ("deny", "modify") and not has_perm(actor, Perm.DECIDE_UM):
        raise PermissionDenied(f"only a physician (the medical director) may {decision} a request; "
                               f"role {actor.role!r} may approve or escalate")  # fmt: skip
    reference = _criteria_reference(criteria_id)
    problems: dict[str, list[str]] = {}
    if decision != "approve":
        if len(reason.strip()) < MIN_REASON_CHARS:
            problems["reason"] = [f"state the specific reason for the {decision} (at least {MIN_REASON_CHARS} "
                                  "characters), in words the member can understand"]  # fmt: skip
        if not criteria.strip() and reference is None:
            problems["criteria"] = ["name the criteria used (an NCD, LCD or policy and its version)"]
    if problems:
        raise ValidationFailed(problems)
    now = now or timezone.now()
    with transaction.atomic():
        request = _locked(request)
        _require_open(request)
        services = list(request.services.all())
        if decision == "modify":
            _apply_modification(services, approved_units or {}, approved_to or {})
        for service in services:
            if decision == "approve":
                service.units_approved, service.approved_to = service.units, None
            elif decision == "deny":
                service.units_approved, service.approved_to = Decimal(0), None
        AuthService.objects.bulk_update(services, ["units_approved", "approved_to"])
        request.status = {"approve": Status.APPROVED, "deny": Status.DENIED, "modify": Status.MODIFIED}[
            decision
        ]
        request.decided_at = now
        request.decided_by_id = _uid(actor)
        request.decision_reason = reason.strip()
        request.criteria_text = criteria.strip()
        request.criteria = reference
        request.save(update_fields=["status", "decided_at", "decided_by", "decision_reason", "criteria_text",
                                    "criteria"])  # fmt: skip
        action = {"approve": Action.APPROVED, "deny": Action.DENIED, "modify": Action.MODIFIED}[decision]
        _event(request, action, actor, now, reason.strip())
        _notice(request, AuthNotice.Kind.DECISION, now)
        audit.record_write(actor, f"um.request.{decision}", request, member_ids=[request.member_id],
                           after={"status": request.status, "criteria": request.criteria_text})  # fmt: skip
    return request


def _apply_modification(services: list[AuthService], units: Mapping[int, Decimal],
                        spans: Mapping[int, dt.date]) -> None:  # fmt: skip
    by_line = {s.line_number: s for s in services}
    unknown = sorted((set(units) | set(spans)) - set(by_line))
    if unknown:
        raise ValidationFailed.single("approved_units", f"no service line {unknown[0]}")
    changed = False
    problems: list[str] = []
    for line, service in by_line.items():
        granted = Decimal(str(units.get(line, service.units)))
        if not Decimal(0) <= granted <= service.units:
            problems.append(f"line {line}: approve 0 to {service.units} units, not {granted}")
        until = spans.get(line)
        if until is not None and not service.service_from <= until <= service.service_to:
            problems.append(f"line {line}: the approved span ends between {service.service_from} and "
                            f"{service.service_to}")  # fmt: skip
        changed = changed or granted < service.units or (until is not None and until < service.service_to)
        service.units_approved, service.approved_to = granted, until
    if problems:
        raise ValidationFailed({"approved_units": problems})
    if not changed:
        raise ValidationFailed.single("approved_units", "a modification approves fewer units or a shorter span "
                                      "than asked on at least one line; otherwise approve")  # fmt: skip


def extend(*, actor: Actor, request: AuthRequest, reason: str, days: int | None = None,
           now: dt.datetime | None = None) -> AuthRequest:  # fmt: skip
    """Extend an open request's clock once, as its rule allows (for example 14 days to obtain missing
    information), with a notice to the member and the provider."""
    require(actor, Perm.REVIEW_UM)
    if not reason.strip():
        raise ValidationFailed.single("reason", "say why more time is needed (the notice tells the member)")
    now = now or timezone.now()
    with transaction.atomic():
        request = _locked(request)
        _require_open(request)
        if request.extended_at is not None:
            raise ValidationFailed.single("status", f"request {request.number} was already extended")
        if now > request.due_at:
            raise ValidationFailed.single("status", "an extension is taken before the request is due")
        try:
            due = clocks.extended_due_at(request.due_at, selectors.clock_of(request.clock_rule),
                                         selectors.ipa_zone(), days)  # fmt: skip
        except ValueError as exc:
            raise ValidationFailed.single("days", str(exc)) from None
        request.original_due_at, request.due_at = request.due_at, due
        request.extended_at, request.extension_reason = now, reason.strip()
        request.save(update_fields=["original_due_at", "due_at", "extended_at", "extension_reason"])
        _event(request, Action.EXTENDED, actor, now, f"{reason.strip()} (now due "
               f"{due.astimezone(selectors.ipa_zone()):%Y-%m-%d %H:%M %Z})")  # fmt: skip
        _notice(request, AuthNotice.Kind.EXTENSION, now)
        audit.record_write(actor, "um.request.extend", request, member_ids=[request.member_id],
                           after={"due_at": due.isoformat()})  # fmt: skip
    return request


def withdraw(
    *, actor: Actor, request: AuthRequest, reason: str, now: dt.datetime | None = None
) -> AuthRequest:
    require(actor, Perm.SUBMIT_UM)
    _check_scope(actor, request)
    now = now or timezone.now()
    with transaction.atomic():
        request = _locked(request)
        _require_open(request)
        request.status, request.decided_at = Status.WITHDRAWN, now
        request.save(update_fields=["status", "decided_at"])
        _event(request, Action.WITHDRAWN, actor, now, reason.strip())
        audit.record_write(actor, "um.request.withdraw", request, member_ids=[request.member_id])
    return request


def record_peer_to_peer(*, actor: Actor, request: AuthRequest, held_at: dt.datetime, provider_name: str,
                        outcome: str, notes: str, now: dt.datetime | None = None) -> PeerToPeer:  # fmt: skip
    """The reviewing physician's discussion with the requesting provider about an adverse decision. A
    reversal approves the request in full."""
    require(actor, Perm.DECIDE_UM)
    if outcome not in PeerToPeer.Outcome.values:
        raise ValidationFailed.single("outcome", f"unknown outcome {outcome!r}")
    if not notes.strip() or not provider_name.strip():
        raise ValidationFailed.single("notes", "record who took part and what was discussed")
    now = now or timezone.now()
    with transaction.atomic():
        request = _locked(request)
        if request.status not in (Status.DENIED, Status.MODIFIED):
            raise ValidationFailed.single(
                "status", "a peer-to-peer discussion follows a denial or modification"
            )
        p2p = PeerToPeer.objects.create(request=request, held_at=held_at, physician_id=int(str(actor.pk)),
                                        provider_name=provider_name.strip(), outcome=outcome,
                                        notes=notes.strip())  # fmt: skip
        _event(request, Action.PEER_TO_PEER, actor, held_at, f"{p2p.get_outcome_display()}: {notes.strip()}")
        if outcome == PeerToPeer.Outcome.REVERSED:
            _approve_in_full(
                request, actor, now, f"Reversed after a peer-to-peer discussion: {notes.strip()}"
            )
            _notice(request, AuthNotice.Kind.DECISION, now)
        audit.record_write(actor, "um.request.peer_to_peer", request, member_ids=[request.member_id],
                           after={"outcome": outcome})  # fmt: skip
    return p2p


def _approve_in_full(request: AuthRequest, actor: Actor, now: dt.datetime, reason: str) -> None:
    request.services.update(units_approved=models_units(), approved_to=None)
    request.status = Status.APPROVED
    request.decided_at = now
    request.decided_by_id = _uid(actor)
    request.decision_reason = reason
    request.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    _event(request, Action.APPROVED, actor, now, reason)


def open_appeal(*, actor: Actor, request: AuthRequest, appellant: str, grounds: str, urgency: str = "standard",
                received_at: dt.datetime | None = None) -> Appeal:  # fmt: skip
    """Receive an appeal (reconsideration) of a denial or modification; its clock is the appeal rule of the
    request's line of business."""
    require(actor, Perm.SUBMIT_UM)
    _check_scope(actor, request)
    if urgency not in Urgency.values:
        raise ValidationFailed.single("urgency", f"unknown urgency {urgency!r}")
    if not appellant.strip() or not grounds.strip():
        raise ValidationFailed.single("grounds", "name the appellant and the grounds of the appeal")
    received_at = received_at or timezone.now()
    with transaction.atomic():
        request = _locked(request)
        if request.status not in (Status.DENIED, Status.MODIFIED):
            raise ValidationFailed.single("status", "only a denial or a modification can be appealed")
        if request.appeals.filter(status=Appeal.Status.OPEN).exists():
            raise ValidationFailed.single("status", f"request {request.number} already has an open appeal")
        rule, due = _clock(request.kind, urgency, request.line_of_business, request.jurisdiction, "appeal",
                           received_at)  # fmt: skip
        appeal = Appeal.objects.create(request=request, urgency=urgency, received_at=received_at, clock_rule=rule,
                                       due_at=due, appellant=appellant.strip(), grounds=grounds.strip())  # fmt: skip
        _event(request, Action.APPEAL_RECEIVED, actor, received_at, f"{appellant.strip()}: {grounds.strip()}")
        audit.record_write(actor, "um.appeal.open", request, member_ids=[request.member_id],
                           after={"appeal": appeal.pk, "due_at": due.isoformat()})  # fmt: skip
    return appeal


def decide_appeal(*, actor: Actor, appeal: Appeal, outcome: str, reason: str,
                  approved_units: Mapping[int, Decimal] | None = None, now: dt.datetime | None = None) -> Appeal:  # fmt: skip
    """Decide an appeal: upheld (the adverse decision stands), overturned (approved in full) or partial
    (fewer units than asked, as a modification). By a physician other than the one who decided the request."""
    require(actor, Perm.DECIDE_UM)
    if outcome not in (Appeal.Status.UPHELD, Appeal.Status.OVERTURNED, Appeal.Status.PARTIAL):
        raise ValidationFailed.single("outcome", "upheld, overturned or partial")
    if len(reason.strip()) < MIN_REASON_CHARS:
        raise ValidationFailed.single("reason", f"state the reason (at least {MIN_REASON_CHARS} characters)")
    now = now or timezone.now()
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
        request = _locked(appeal.request)
        if appeal.status != Appeal.Status.OPEN:
            raise ValidationFailed.single("status", "the appeal is already decided")
        if request.decided_by_id is not None and request.decided_by_id == _uid(actor):
            raise PermissionDenied(
                "an appeal is decided by a physician who did not make the decision appealed"
            )
        appeal.status, appeal.decided_at, appeal.decided_by_id = outcome, now, _uid(actor)
        appeal.decision_reason = reason.strip()
        appeal.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
        if outcome == Appeal.Status.OVERTURNED:
            _approve_in_full(request, actor, now, f"Approved on appeal: {reason.strip()}")
        elif outcome == Appeal.Status.PARTIAL:
            services = list(request.services.all())
            _apply_modification(services, approved_units or {}, {})
            AuthService.objects.bulk_update(services, ["units_approved", "approved_to"])
            request.status = Status.MODIFIED
            request.save(update_fields=["status"])
        _event(request, Action.APPEAL_DECIDED, actor, now, f"{appeal.get_status_display()}: {reason.strip()}")
        _notice(request, AuthNotice.Kind.APPEAL, now, appeal=appeal)
        audit.record_write(actor, "um.appeal.decide", request, member_ids=[request.member_id],
                           after={"appeal": appeal.pk, "outcome": outcome})  # fmt: skip
    return appeal


def sweep_deemed(now: dt.datetime | None = None) -> int:
    """Requests whose rule deems them approved when unanswered (post-stabilization care) and whose due time
    has passed: approved as of the due time. Run by `openipa um sweep` and before the queue is shown; returns
    how many it approved. A system action (no actor), recorded in each request's history."""
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        due = AuthRequest.objects.select_for_update().filter(
            status__in=AuthRequest.OPEN, due_at__lt=now, clock_rule__deemed_approved=True
        )
        for request in due:
            request.services.update(units_approved=models_units(), approved_to=None)
            request.status, request.decided_at = Status.DEEMED_APPROVED, request.due_at
            request.decision_reason = (
                f"No decision by the due time: approved by law ({request.clock_rule.citation})."
            )
            request.save(update_fields=["status", "decided_at", "decision_reason"])
            _event(request, Action.DEEMED_APPROVED, None, request.due_at, request.clock_rule.citation)
            _notice(request, AuthNotice.Kind.DECISION, now)
            audit.record_write(None, "um.request.deemed_approved", request, member_ids=[request.member_id])
            count += 1
    return count


def _notice(request: AuthRequest, kind: str, now: dt.datetime, *, appeal: Appeal | None = None) -> AuthNotice:
    pdf = letters.notice_pdf(request, kind, now, appeal=appeal)
    notice = AuthNotice.objects.create(request=request, kind=kind, created_at=now, pdf=pdf,
                                       sha256=hashlib.sha256(pdf).hexdigest())  # fmt: skip
    _event(request, Action.NOTICE, None, now, notice.get_kind_display())
    return notice
