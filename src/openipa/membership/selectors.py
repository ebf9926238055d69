"""Reads of member data, scoped to the acting user and written to the audit log.

A practice user sees a member when the member has (or had) a PCP assignment at the user's practice.
Every function that hands out member-level data records the read with its purpose; a function that only
builds a query (`member_queryset`) does not, and must not be handed to a page or API as is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from openipa.core import audit
from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.pagination import Page, paginate
from openipa.core.roles import Actor, Perm, is_practice_scoped, require, scoped_practice_id
from openipa.membership.models import EligibilitySpan, Member, PcpAssignment
from openipa.network.models import Provider


def _in_force(on: dt.date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def member_queryset(
    actor: Actor,
    *,
    q: str = "",
    payer_id: int | None = None,
    practice_id: int | None = None,
    provider_id: int | None = None,
    eligible_on: dt.date | None = None,
) -> QuerySet[Member]:
    """The members this actor may see, filtered. Not audited: callers that return rows use the functions
    below, which record the read."""
    require(actor, Perm.VIEW_MEMBERS)
    qs = Member.objects.select_related("payer")
    # The PCP filters below are `pk IN (uncorrelated subquery)`, not a correlated EXISTS: SQLite runs the
    # EXISTS per member through the practice index (25,000 members x a practice's assignments: 20+ s on
    # the demo), while the IN list is built once (milliseconds).
    if is_practice_scoped(actor):
        own = PcpAssignment.objects.filter(practice_id=scoped_practice_id(actor))
        qs = qs.filter(pk__in=own.values("member_id"))
    if q:
        for term in q.split():
            qs = qs.filter(
                Q(last_name__istartswith=term)
                | Q(first_name__istartswith=term)
                | Q(payer_member_id__iexact=term)
                | Q(mbi__iexact=term)
            )
    if payer_id is not None:
        qs = qs.filter(payer_id=payer_id)
    if practice_id is not None or provider_id is not None:
        pcp = PcpAssignment.objects.all()
        if practice_id is not None:
            pcp = pcp.filter(practice_id=practice_id)
        if provider_id is not None:
            pcp = pcp.filter(provider_id=provider_id)
        if eligible_on is not None:
            pcp = pcp.filter(_in_force(eligible_on))
        qs = qs.filter(pk__in=pcp.values("member_id"))
    if eligible_on is not None:
        qs = qs.filter(
            Exists(EligibilitySpan.objects.filter(Q(member=OuterRef("pk")) & _in_force(eligible_on)))
        )
    return qs.order_by("last_name", "first_name", "pk")


def member_page(
    actor: Actor,
    *,
    page: int | str | None = 1,
    per_page: int | str | None = None,
    purpose: str,
    **filters: object,
) -> Page[Member]:
    """One page of the member directory; the members on it are recorded as read."""
    result = paginate(member_queryset(actor, **filters), page, per_page)  # type: ignore[arg-type]
    audit.record_read(
        actor,
        object_type="membership.member",
        action="list",
        member_ids=[m.pk for m in result.items],
        purpose=purpose,
    )
    return result


def member_get(actor: Actor, member_id: int, *, purpose: str) -> Member:
    """One member, recorded as read. NotFound also when the member is outside the actor's scope."""
    try:
        member = member_queryset(actor).get(pk=member_id)
    except Member.DoesNotExist:
        raise NotFound(f"member {member_id}") from None
    audit.record_read(
        actor,
        object_type="membership.member",
        object_id=str(member.pk),
        member_ids=[member.pk],
        purpose=purpose,
    )
    return member


def member_eligibility(actor: Actor, member: Member) -> QuerySet[EligibilitySpan]:
    """Eligibility spans of a member already read through `member_get`."""
    require(actor, Perm.VIEW_MEMBERS)
    return member.eligibility_spans.select_related("product__payer").order_by("valid_from")


def member_pcp_history(actor: Actor, member: Member) -> QuerySet[PcpAssignment]:
    require(actor, Perm.VIEW_MEMBERS)
    return member.pcp_assignments.select_related("provider", "practice").order_by("valid_from")


def member_current_pcp(actor: Actor, member: Member, on: dt.date) -> PcpAssignment | None:
    return member_pcp_history(actor, member).filter(_in_force(on)).first()


EXPORT_COLUMNS = (
    "payer_code",
    "payer_member_id",
    "mbi",
    "last_name",
    "first_name",
    "date_of_birth",
    "sex",
    "city",
    "state",
    "zip_code",
    "pcp_npi",
    "pcp_name",
    "practice_code",
)


def member_export_rows(
    actor: Actor, *, on: dt.date, purpose: str, **filters: object
) -> Iterator[tuple[object, ...]]:
    """Rows for a member CSV export, with the PCP in force on `on`. The whole export is recorded as one
    read listing every member in it (written before the first row is handed out)."""
    qs = member_queryset(actor, **filters)  # type: ignore[arg-type]
    ids = list(qs.values_list("pk", flat=True))
    audit.record_read(
        actor, object_type="membership.member", action="export", member_ids=ids, purpose=purpose
    )
    pcp_by_member: dict[int, PcpAssignment] = {}
    pcps = PcpAssignment.objects.filter(_in_force(on), member_id__in=ids).select_related(
        "provider", "practice"
    )
    if is_practice_scoped(actor):
        pcps = pcps.filter(practice_id=scoped_practice_id(actor))
    for pcp in pcps.iterator(chunk_size=2000):
        pcp_by_member[pcp.member_id] = pcp
    for m in qs.iterator(chunk_size=2000):
        current = pcp_by_member.get(m.pk)
        yield (
            m.payer.code,
            m.payer_member_id,
            m.mbi,
            m.last_name,
            m.first_name,
            m.date_of_birth.isoformat(),
            m.sex,
            m.city,
            m.state,
            m.zip_code,
            current.provider.npi if current else "",
            str(current.provider) if current else "",
            current.practice.code if current else "",
        )


@dataclass(frozen=True)
class PanelSize:
    """A PCP's current panel: members assigned to them on a date, against their panel limit."""

    provider_id: int
    provider_name: str
    panel: int
    panel_limit: int | None


def pcp_panel_sizes(actor: Actor, *, on: dt.date, limit: int = 10) -> list[PanelSize]:
    """The largest PCP panels on `on` (members with an assignment in force), largest first: one aggregate
    query over provider ids, then one for those providers' names. A practice user gets only the panels at
    their own practice. No member-level data leaves here, so nothing is written to the audit log."""
    require(actor, Perm.VIEW_MEMBERS)
    qs = PcpAssignment.objects.filter(_in_force(on))
    if is_practice_scoped(actor):
        qs = qs.filter(practice_id=scoped_practice_id(actor))
    # Grouping by the bare id (no join) is several times faster than grouping by the provider's columns.
    rows = list(
        qs.values("provider_id").annotate(panel=Count("id")).order_by("-panel", "provider_id")[:limit]
    )
    providers = Provider.objects.in_bulk([row["provider_id"] for row in rows])
    return [
        PanelSize(
            row["provider_id"],
            str(providers[row["provider_id"]]),
            row["panel"],
            providers[row["provider_id"]].panel_limit,
        )
        for row in rows
    ]


# ----------------------------------------------------------------------------------- eligibility inquiry

ELIGIBILITY_PURPOSE = "eligibility inquiry"


@dataclass(frozen=True)
class EligibilityAnswer:
    """Is the member covered on a date, by which product, with which PCP: what an eligibility inquiry
    (the API's or an X12 270's) answers."""

    member_pk: int
    member_id: str
    """The payer's member id."""
    mbi: str
    payer_code: str
    last_name: str
    first_name: str
    date_of_birth: dt.date
    sex: str
    on: dt.date
    active: bool
    product_code: str | None = None
    product_name: str | None = None
    coverage_from: dt.date | None = None
    coverage_to: dt.date | None = None
    """The eligibility span in force on `on` (None: open-ended, or no span)."""
    pcp_npi: str | None = None
    pcp_last_name: str | None = None
    pcp_first_name: str | None = None
    pcp_name: str | None = None
    practice_name: str | None = None

    @property
    def member_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def eligibility_on(
    actor: Actor | None,
    *,
    member_id: str,
    on: dt.date,
    payer_code: str | None = None,
    purpose: str = ELIGIBILITY_PURPOSE,
) -> EligibilityAnswer:
    """The member with the payer's id `member_id` (of payer `payer_code`, or of whichever payer holds it),
    their coverage and PCP on `on`, recorded as read. `actor` None is the system (the `openipa edi
    eligibility` command): no scope.

    NotFound for an unknown id and for a member outside a practice user's scope alike (the refusal is
    not logged as a read). Without `payer_code`, an id held by two payers the actor can see is
    ValidationFailed naming them. A practice user sees a PCP only at their own practice."""
    qs = Member.objects.select_related("payer") if actor is None else member_queryset(actor)
    qs = qs.filter(payer_member_id=member_id).order_by("payer__code")
    if payer_code:
        qs = qs.filter(payer__code=payer_code)
    matches = list(qs[:3])
    if not matches:
        where = f" of payer {payer_code}" if payer_code else ""
        raise NotFound(f"member {member_id}{where}")
    if len(matches) > 1:
        codes = ", ".join(m.payer.code for m in matches)
        raise ValidationFailed.single(
            "payer", f"Member id {member_id} is held by more than one payer ({codes}): name the payer."
        )
    member = matches[0]
    span = (
        EligibilitySpan.objects.filter(_in_force(on), member=member)
        .select_related("product")
        .order_by("-valid_from")
        .first()
    )
    pcps = PcpAssignment.objects.filter(_in_force(on), member=member).select_related("provider", "practice")
    if actor is not None and is_practice_scoped(actor):
        pcps = pcps.filter(practice_id=scoped_practice_id(actor))
    pcp = pcps.order_by("-valid_from").first()
    audit.record_read(
        actor,
        object_type="membership.member",
        object_id=str(member.pk),
        member_ids=[member.pk],
        purpose=purpose,
    )
    return EligibilityAnswer(
        member_pk=member.pk,
        member_id=member.payer_member_id,
        mbi=member.mbi,
        payer_code=member.payer.code,
        last_name=member.last_name,
        first_name=member.first_name,
        date_of_birth=member.date_of_birth,
        sex=member.sex,
        on=on,
        active=span is not None,
        product_code=span.product.code if span else None,
        product_name=span.product.name if span else None,
        coverage_from=span.valid_from if span else None,
        coverage_to=span.valid_to if span else None,
        pcp_npi=pcp.provider.npi if pcp else None,
        pcp_last_name=pcp.provider.last_name if pcp else None,
        pcp_first_name=pcp.provider.first_name if pcp else None,
        pcp_name=str(pcp.provider) if pcp else None,
        practice_name=(pcp.practice.dba_name or pcp.practice.legal_name) if pcp else None,
    )
