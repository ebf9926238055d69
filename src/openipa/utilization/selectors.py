"""Reads of utilization management data, scoped to the acting user; reads of requests (member data) are
audited.

A practice user sees the requests its own practice submitted, and those for its own members (members with a
PCP assignment at the practice); staff with VIEW_UM see all. Outside that scope a request does not exist
(NotFound), so a practice cannot learn another's request numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from django.conf import settings
from django.db.models import Count, Q, QuerySet

from openipa.core import audit
from openipa.core.calendars import Calendar, get_calendar
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.membership.models import PcpAssignment
from openipa.utilization.engine.clocks import Clock
from openipa.utilization.models import (
    Appeal,
    AuthNotice,
    AuthRequest,
    AuthRequirement,
    AutoApprovalRule,
    ClockRule,
    CriteriaReference,
    WatchThreshold,
)

AUTH_FRAME_SCHEMA = {"member_id": pl.Int64, "number": pl.String, "code": pl.String, "servicing_npi": pl.String,
                     "units_milli": pl.Int64, "valid_from": pl.Date, "valid_to": pl.Date}  # fmt: skip

REQUIREMENT_FRAME_SCHEMA = {"product_id": pl.Int64, "code_from": pl.String, "code_to": pl.String,
                            "valid_from": pl.Date, "valid_to": pl.Date}  # fmt: skip


def ipa_zone() -> ZoneInfo:
    """The IPA's time zone, in which clocks counted in days end."""
    return ZoneInfo(str(settings.TIME_ZONE))


def ipa_state() -> str:
    """The state whose law applies when the member's address names none."""
    return str(getattr(settings, "IPA_STATE", "CA"))


def clock_rules() -> list[Clock]:
    """Every clock rule (reference data, not member data: no actor)."""
    fields = ("id", "line_of_business", "jurisdiction", "kind", "applies_to", "urgency", "amount", "unit",
              "calendar", "extension_days", "deemed_approved", "valid_from", "valid_to", "citation")  # fmt: skip
    return [Clock(rule_id=row[0], **dict(zip(fields[1:], row[1:], strict=True))) for row in
            ClockRule.objects.values_list(*fields)]  # fmt: skip


def clock_of(rule: ClockRule) -> Clock:
    return Clock(
        rule_id=rule.pk, line_of_business=rule.line_of_business, jurisdiction=rule.jurisdiction,
        kind=rule.kind, applies_to=rule.applies_to, urgency=rule.urgency, amount=rule.amount, unit=rule.unit,
        calendar=rule.calendar, extension_days=rule.extension_days, deemed_approved=rule.deemed_approved,
        valid_from=rule.valid_from, valid_to=rule.valid_to, citation=rule.citation,
    )  # fmt: skip


@cache
def _calendar(code: str) -> Calendar:
    return get_calendar(code)


def calendars_for(clocks: Iterable[Clock]) -> dict[str, Calendar]:
    return {c.calendar: _calendar(c.calendar) for c in clocks if c.calendar}


def _scope(actor: Actor, qs: QuerySet[AuthRequest]) -> QuerySet[AuthRequest]:
    require(actor, Perm.VIEW_UM)
    if is_practice_scoped(actor):
        practice_id = scoped_practice_id(actor)
        own_members = PcpAssignment.objects.filter(practice_id=practice_id).values("member_id")
        qs = qs.filter(Q(practice_id=practice_id) | Q(member_id__in=own_members))
    return qs


def request_queryset(
    actor: Actor,
    *,
    status: Iterable[str] | None = None,
    kind: str = "",
    urgency: str = "",
    q: str = "",
    overdue_at: dt.datetime | None = None,
    practice_id: int | None = None,
    received_from: dt.datetime | None = None,
    received_to: dt.datetime | None = None,
) -> QuerySet[AuthRequest]:
    """The requests this actor may see, filtered, ordered by due time. Not audited: the callers that hand out
    rows (`request_page`, `request_get`, exports) record the read."""
    qs = _scope(actor, AuthRequest.objects.select_related("member", "practice", "clock_rule", "decided_by"))
    if status:
        qs = qs.filter(status__in=list(status))
    if kind:
        qs = qs.filter(kind=kind)
    if urgency:
        qs = qs.filter(urgency=urgency)
    if q:
        term = q.strip()
        qs = qs.filter(
            Q(number__iexact=term)
            | Q(member__payer_member_id__iexact=term)
            | Q(member__last_name__istartswith=term)
        )
    if overdue_at is not None:
        qs = qs.filter(due_at__lt=overdue_at, status__in=AuthRequest.OPEN)
    if practice_id is not None:
        qs = qs.filter(practice_id=practice_id)
    if received_from is not None:
        qs = qs.filter(received_at__gte=received_from)
    if received_to is not None:
        qs = qs.filter(received_at__lt=received_to)
    return qs.order_by("due_at", "id")


def record_request_read(actor: Actor, requests: Iterable[AuthRequest], *, purpose: str) -> None:
    """Audit a read of requests (member-level data)."""
    rows = list(requests)
    audit.record_read(
        actor, object_type="utilization.authrequest", member_ids=[r.member_id for r in rows], purpose=purpose,
        object_id=str(rows[0].pk) if len(rows) == 1 else "",
    )  # fmt: skip


def request_get(actor: Actor, request_id: int, *, purpose: str) -> AuthRequest:
    """One request with its services, events and appeals; NotFound outside the actor's scope. Audited."""
    try:
        request = (
            _scope(actor, AuthRequest.objects.all())
            .select_related(
                "member", "practice", "clock_rule", "decided_by", "criteria", "contract", "auto_rule"
            )
            .prefetch_related(
                "services", "events__actor", "appeals", "notices", "attachments", "peer_to_peers"
            )
            .get(pk=request_id)
        )
    except AuthRequest.DoesNotExist:
        raise NotFound(f"no authorization request {request_id}") from None
    record_request_read(actor, [request], purpose=purpose)
    return request


def request_get_by_number(actor: Actor, number: str, *, purpose: str) -> AuthRequest:
    found = _scope(actor, AuthRequest.objects.filter(number=number)).values_list("pk", flat=True).first()
    if found is None:
        raise NotFound(f"no authorization request {number}")
    return request_get(actor, found, purpose=purpose)


def notice_get(actor: Actor, notice_id: int) -> AuthNotice:
    """A notice as sent; NotFound outside scope. Audited as a read of the member's request."""
    try:
        notice = AuthNotice.objects.select_related("request").get(pk=notice_id)
    except AuthNotice.DoesNotExist:
        raise NotFound(f"no notice {notice_id}") from None
    if not _scope(actor, AuthRequest.objects.filter(pk=notice.request_id)).exists():
        raise NotFound(f"no notice {notice_id}")
    audit.record_read(actor, object_type="utilization.authnotice", object_id=str(notice.pk),
                      member_ids=[notice.request.member_id], purpose="authorization notice")  # fmt: skip
    return notice


def appeal_queryset(actor: Actor, *, status: Iterable[str] | None = None) -> QuerySet[Appeal]:
    require(actor, Perm.VIEW_UM)
    requests = _scope(actor, AuthRequest.objects.all()).values("pk")
    qs = Appeal.objects.filter(request_id__in=requests).select_related("request", "request__member")
    if status:
        qs = qs.filter(status__in=list(status))
    return qs.order_by("due_at", "id")


def criteria_in_force(on: dt.date) -> QuerySet[CriteriaReference]:
    return CriteriaReference.objects.filter(
        Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    ).order_by("source", "code")


def auto_rules_in_force(on: dt.date) -> list[AutoApprovalRule]:
    return list(
        AutoApprovalRule.objects.filter(
            Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        ).select_related("criteria")
    )


def requirements_in_force(on: dt.date) -> QuerySet[AuthRequirement]:
    return AuthRequirement.objects.filter(
        Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    ).select_related("contract", "criteria")


@dataclass(frozen=True)
class ReferenceData:
    """Everything the rules page lists: every version, with its dates."""

    clocks: list[Clock]
    criteria: QuerySet[CriteriaReference]
    requirements: QuerySet[AuthRequirement]
    auto_rules: QuerySet[AutoApprovalRule]


def reference_data(actor: Actor) -> ReferenceData:
    """The clock rules, criteria references, authorization requirements and auto-approval rules (IPA staff
    with VIEW_UM; a practice user is refused)."""
    require(actor, Perm.VIEW_UM)
    if is_practice_scoped(actor):
        raise PermissionDenied("the UM rules are for IPA staff")
    clocks = sorted(
        clock_rules(),
        key=lambda c: (c.line_of_business, c.jurisdiction, c.applies_to, c.kind, c.urgency, c.valid_from),
    )
    return ReferenceData(
        clocks=clocks,
        criteria=CriteriaReference.objects.order_by("source", "code", "-valid_from"),
        requirements=AuthRequirement.objects.select_related("contract", "criteria").order_by(
            "code_from", "line_of_business", "-valid_from"
        ),
        auto_rules=AutoApprovalRule.objects.select_related("criteria").order_by("name", "-valid_from"),
    )


DUE_SOON = dt.timedelta(hours=24)


def overdue_count(now: dt.datetime) -> int:
    """Open requests past their due time (a count for the operator's command: no member data, no actor)."""
    return AuthRequest.objects.filter(status__in=AuthRequest.OPEN, due_at__lt=now).count()


def status_counts(now: dt.datetime) -> dict[str, Any]:
    """Requests by status (every status named, zero included), open, overdue and due within 24 hours of
    `now`; appeals open and overdue."""
    found = dict(
        AuthRequest.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    by_status = {status: int(found.get(status, 0)) for status in AuthRequest.Status.values}
    open_ = AuthRequest.objects.filter(status__in=AuthRequest.OPEN)
    appeals = Appeal.objects.filter(status=Appeal.Status.OPEN)
    return {
        "by_status": by_status,
        "total": sum(by_status.values()),
        "open": sum(by_status[s] for s in AuthRequest.OPEN),
        "overdue": open_.filter(due_at__lt=now).count(),
        "due_24h": open_.filter(due_at__gte=now, due_at__lt=now + DUE_SOON).count(),
        "appeals_open": appeals.count(),
        "appeals_overdue": appeals.filter(due_at__lt=now).count(),
    }


def watch_threshold(on: dt.date) -> WatchThreshold:
    found = (
        WatchThreshold.objects.filter(
            Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        )
        .order_by("-valid_from")
        .first()
    )
    if found is None:
        raise NotFound(f"no under-service watch thresholds in force on {on}")
    return found


def can_decide(actor: Actor) -> bool:
    return has_perm(actor, Perm.DECIDE_UM)


def can_review(actor: Actor) -> bool:
    return has_perm(actor, Perm.REVIEW_UM)


def approved_authorizations_frame(member_ids: Iterable[int]) -> pl.DataFrame:
    """The approved services of ``member_ids`` (approved, modified or deemed approved requests), one row per
    service, for claims adjudication to match lines against: member, code, servicing NPI (empty: any),
    approved units and dates. A lookup for a batch run, so it takes no actor."""
    from openipa.utilization.models import AuthService

    ids = sorted(set(member_ids))
    rows = []
    for start in range(0, len(ids), 20_000):
        for (
            member_id,
            number,
            code,
            npi,
            units,
            approved,
            valid_from,
            valid_to,
            approved_to,
        ) in AuthService.objects.filter(
            request__member_id__in=ids[start : start + 20_000], request__status__in=AuthRequest.APPROVING
        ).values_list(
            "request__member_id",
            "request__number",
            "code",
            "request__servicing_npi",
            "units",
            "units_approved",
            "service_from",
            "service_to",
            "approved_to",
        ):
            granted = units if approved is None else approved
            if granted <= 0:
                continue
            rows.append((member_id, number, code.upper(), npi, int(granted * 1000), valid_from,
                         approved_to or valid_to))  # fmt: skip
    return pl.DataFrame(rows, schema=AUTH_FRAME_SCHEMA, orient="row")


def requirements_frame() -> pl.DataFrame:
    """Every authorization requirement as claims adjudication reads it: one row per product it applies to
    (a contract's products, or every product of its line of business, or every product), with its code range
    and dates. A line whose code falls in a range in force on its date needs an authorization."""
    from openipa.contracts.models import Contract, Product

    products = list(Product.objects.values_list("pk", "line_of_business"))
    of_contract: dict[int, set[int]] = {}
    for contract_id, product_id in Contract.products.through.objects.values_list("contract_id", "product_id"):
        of_contract.setdefault(contract_id, set()).add(product_id)
    rows = []
    for contract_id, lob, code_from, code_to, valid_from, valid_to in AuthRequirement.objects.values_list(
        "contract_id", "line_of_business", "code_from", "code_to", "valid_from", "valid_to"
    ):
        for product_id, product_lob in products:
            if contract_id is not None and product_id not in of_contract.get(contract_id, set()):
                continue
            if lob and lob != product_lob:
                continue
            rows.append((product_id, code_from.upper(), code_to.upper(), valid_from, valid_to))
    return pl.DataFrame(rows, schema=REQUIREMENT_FRAME_SCHEMA, orient="row")
