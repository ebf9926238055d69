"""Reads of member data, scoped to the acting user and written to the audit log.

A practice user sees a member when the member has (or had) a PCP assignment at the user's practice.
Every function that hands out member-level data records the read with its purpose; a function that only
builds a query (`member_queryset`) does not, and must not be handed to a page or API as is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
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


# ------------------------------------------------------------------------------ rosters and eligibility pages
#
# Reads behind the roster pages (imports, their change reports, the payers' roster profiles), the member
# timeline, the member-months report and the PCP panel list. Roster imports are IPA staff's business: a
# practice user is refused them outright. Member-level rows are recorded as read; aggregate counts are not.
# (Imported here, not at the top, so that this section is only appended to a file others also extend.)

import math  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import polars as pl  # noqa: E402
from django.conf import settings  # noqa: E402

from openipa.contracts.models import Payer, Product  # noqa: E402
from openipa.core.errors import PermissionDenied  # noqa: E402
from openipa.core.frames import query_frame  # noqa: E402
from openipa.core.months import Month, months_between  # noqa: E402
from openipa.core.pagination import clamp_page  # noqa: E402
from openipa.core.roles import has_perm  # noqa: E402
from openipa.membership import engine  # noqa: E402
from openipa.membership.models import RosterChange, RosterImport  # noqa: E402
from openipa.network.models import Affiliation, Practice  # noqa: E402


def _require_roster_staff(actor: Actor) -> None:
    """Roster imports list members of every practice: IPA staff who read members, never a practice user."""
    require(actor, Perm.VIEW_MEMBERS)
    if is_practice_scoped(actor):
        raise PermissionDenied("roster imports are not shown to practice users")


def roster_payers(actor: Actor) -> QuerySet[Payer]:
    """The payers whose rosters the actor may upload or read about."""
    if not has_perm(actor, Perm.EDIT_MEMBERS):
        _require_roster_staff(actor)
    return Payer.objects.order_by("name", "pk")


def roster_import_list(
    actor: Actor, *, payer_id: int | None = None, status: str = "", q: str = ""
) -> QuerySet[RosterImport]:
    """Roster imports, newest first: counts and who/when only (no member rows), so not audited."""
    _require_roster_staff(actor)
    qs = RosterImport.objects.select_related("payer", "duplicate_of")
    if payer_id is not None:
        qs = qs.filter(payer_id=payer_id)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(file_name__icontains=q) | Q(sha256__iexact=q) | Q(imported_by__iexact=q))
    return qs.order_by("-created_at", "-id")


def roster_import_get(actor: Actor, import_id: int) -> RosterImport:
    """One import's header (counts, status, who/when). NotFound when there is no such import."""
    try:
        return roster_import_list(actor).get(pk=import_id)
    except RosterImport.DoesNotExist:
        raise NotFound(f"roster import {import_id}") from None


def roster_file_visible(actor: Actor) -> bool:
    """The file as received holds every member in it: staff who import rosters, and auditors."""
    return not is_practice_scoped(actor) and (
        has_perm(actor, Perm.EDIT_MEMBERS) or has_perm(actor, Perm.VIEW_AUDIT)
    )


@dataclass(frozen=True)
class SpanText:
    """One span of a roster change's new timeline, with names instead of ids."""

    what: str
    valid_from: str
    valid_to: str | None


@dataclass(frozen=True)
class ChangeRow:
    """A RosterChange with what it did in words: fields before -> after, coverage and PCP spans."""

    change: RosterChange
    fields: tuple[tuple[str, object, object], ...]
    coverage: tuple[SpanText, ...]
    pcp: tuple[SpanText, ...]


@dataclass(frozen=True)
class RosterReport:
    record: RosterImport
    changes: Page[ChangeRow]
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    """The import's errors and warnings, each with `member_pk` when it names a member on file."""


def _span_texts(raw: object, name: Callable[[object], str]) -> tuple[SpanText, ...]:
    out: list[SpanText] = []
    if not isinstance(raw, list):
        return ()
    for item in raw:
        if isinstance(item, list) and len(item) == 3:
            key, start, end = item
            out.append(SpanText(name(key), str(start), None if end is None else str(end)))
    return tuple(out)


def _change_rows(changes: list[RosterChange]) -> list[ChangeRow]:
    """Describe a page of changes, looking up the products, providers and practices they name in bulk."""
    product_ids: set[int] = set()
    provider_ids: set[int] = set()
    practice_ids: set[int] = set()
    for c in changes:
        detail = c.detail if isinstance(c.detail, dict) else {}
        for item in detail.get("coverage") or []:
            if isinstance(item, list) and item and isinstance(item[0], int):
                product_ids.add(item[0])
        for item in detail.get("pcp") or []:
            if isinstance(item, list) and item and isinstance(item[0], list) and len(item[0]) == 2:
                provider_ids.add(int(item[0][0]))
                practice_ids.add(int(item[0][1]))
    products = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "code"))
    providers = Provider.objects.in_bulk(list(provider_ids))
    practices = dict(Practice.objects.filter(pk__in=practice_ids).values_list("pk", "legal_name"))

    def product_name(key: object) -> str:
        return products.get(key, f"product {key}") if isinstance(key, int) else str(key)

    def pcp_name(key: object) -> str:
        if isinstance(key, list) and len(key) == 2:
            provider = providers.get(int(key[0]))
            who = str(provider) if provider is not None else f"provider {key[0]}"
            return f"{who} at {practices.get(int(key[1]), f'practice {key[1]}')}"
        return str(key)

    rows = []
    for c in changes:
        detail = c.detail if isinstance(c.detail, dict) else {}
        fields = detail.get("fields") or {}
        rows.append(
            ChangeRow(
                change=c,
                fields=tuple(
                    (str(k).replace("_", " "), v[0], v[1])
                    for k, v in sorted(fields.items())
                    if isinstance(v, list) and len(v) == 2
                ),
                coverage=_span_texts(detail.get("coverage"), product_name),
                pcp=_span_texts(detail.get("pcp"), pcp_name),
            )
        )
    return rows


def roster_import_report(
    actor: Actor,
    import_id: int,
    *,
    kind: str = "",
    retro_only: bool = False,
    outside_only: bool = False,
    page: int | str | None = 1,
    per_page: int | str | None = 50,
    purpose: str,
) -> RosterReport:
    """One import with a page of its changes (filtered by kind, retro or outside the retro window). The
    members on the page and those named in the warnings and errors are recorded as read."""
    record = roster_import_get(actor, import_id)
    qs = RosterChange.objects.filter(roster_import=record).select_related("member").order_by("id")
    if kind:
        qs = qs.filter(kind=kind)
    if retro_only:
        qs = qs.filter(retro_months__gt=0)
    if outside_only:
        qs = qs.filter(outside_window=True)
    result = paginate(qs, page, per_page)
    named = {
        str(item["member_id"])
        for item in [*(record.warnings or []), *(record.errors or [])]
        if isinstance(item, dict) and item.get("member_id")
    }
    member_pks = (
        dict(
            Member.objects.filter(payer_id=record.payer_id, payer_member_id__in=named).values_list(
                "payer_member_id", "pk"
            )
        )
        if named
        else {}
    )
    audit.record_read(
        actor,
        object_type="membership.rosterimport",
        object_id=str(record.pk),
        action="list",
        member_ids=[c.member_id for c in result.items] + list(member_pks.values()),
        purpose=purpose,
    )
    rows = _change_rows(result.items)
    changes = Page(items=rows, number=result.number, per_page=result.per_page, total=result.total)

    def with_pks(items: object) -> list[dict[str, Any]]:
        listed = items if isinstance(items, list) else []
        return [
            {**item, "member_pk": member_pks.get(str(item.get("member_id") or ""))}
            for item in listed
            if isinstance(item, dict)
        ]

    return RosterReport(record, changes, with_pks(record.errors), with_pks(record.warnings))


def roster_import_file(actor: Actor, record: RosterImport, *, purpose: str) -> Path:
    """The file as received, for download: recorded as a read of the members the import changed (and as an
    access in any case, since the file names members it did not change)."""
    if not roster_file_visible(actor):
        raise PermissionDenied("the roster file is for staff who import rosters, and auditors")
    root = (Path(settings.VAR_DIR) / "imports" / "roster").resolve()
    path = (Path(settings.VAR_DIR) / record.stored_path).resolve()
    if not record.stored_path or not path.is_relative_to(root) or not path.is_file():
        raise NotFound(f"the file of roster import {record.pk}")
    audit.record_access(
        actor,
        object_type="membership.rosterimport",
        action="download",
        purpose=purpose,
        details={"roster_import": record.pk, "file_name": record.file_name, "sha256": record.sha256},
    )
    audit.record_read(
        actor,
        object_type="membership.rosterimport",
        object_id=str(record.pk),
        action="download",
        member_ids=RosterChange.objects.filter(roster_import=record).values_list("member_id", flat=True),
        purpose=purpose,
    )
    return path


# -- the member timeline


@dataclass(frozen=True)
class TimelineSpan:
    """An eligibility or PCP span on a member's timeline, with the roster file that last set it."""

    lane: str
    kind: str
    """"eligibility" or "pcp"."""
    valid_from: dt.date
    valid_to: dt.date | None
    import_id: int | None
    file_name: str
    row: EligibilitySpan | PcpAssignment
    """The span itself (with its product, or provider and practice, loaded)."""


@dataclass(frozen=True)
class TimelineChange:
    """One roster change of the member, with the file it came in."""

    import_id: int
    file_name: str
    received: dt.datetime
    kind: str
    kind_label: str
    effective: dt.date
    retro_months: int
    outside_window: bool


@dataclass(frozen=True)
class MemberTimeline:
    spans: tuple[TimelineSpan, ...]
    changes: tuple[TimelineChange, ...]
    today: dt.date
    show_imports: bool
    """Links to the import reports: IPA staff only, never a practice user."""

    @property
    def eligibility(self) -> tuple[TimelineSpan, ...]:
        return tuple(s for s in self.spans if s.kind == "eligibility")

    @property
    def pcp(self) -> tuple[TimelineSpan, ...]:
        return tuple(s for s in self.spans if s.kind == "pcp")


TIMELINE_CHANGES = 200


def member_timeline(actor: Actor, member: Member, *, today: dt.date) -> MemberTimeline:
    """Eligibility and PCP spans of a member already read through `member_get`, and the roster changes
    behind them (the latest TIMELINE_CHANGES), newest first."""
    require(actor, Perm.VIEW_MEMBERS)
    imports = dict(
        RosterImport.objects.filter(
            Q(pk__in=member.eligibility_spans.values("source_import_id"))
            | Q(pk__in=member.pcp_assignments.values("source_import_id"))
        ).values_list("pk", "file_name")
    )
    spans: list[TimelineSpan] = []
    for span in member_eligibility(actor, member):
        spans.append(
            TimelineSpan(
                f"{span.product.code} · {span.product.name}",
                "eligibility",
                span.valid_from,
                span.valid_to,
                span.source_import_id,
                imports.get(span.source_import_id, "") if span.source_import_id else "",
                span,
            )
        )
    for pcp in member_pcp_history(actor, member):
        spans.append(
            TimelineSpan(
                f"{pcp.provider} · {pcp.practice.legal_name}",
                "pcp",
                pcp.valid_from,
                pcp.valid_to,
                pcp.source_import_id,
                imports.get(pcp.source_import_id, "") if pcp.source_import_id else "",
                pcp,
            )
        )
    changes = (
        RosterChange.objects.filter(member=member)
        .select_related("roster_import")
        .order_by("-roster_import__created_at", "-id")[:TIMELINE_CHANGES]
    )
    return MemberTimeline(
        spans=tuple(spans),
        changes=tuple(
            TimelineChange(
                c.roster_import_id,
                c.roster_import.file_name,
                c.roster_import.created_at,
                c.kind,
                c.get_kind_display(),
                c.effective,
                c.retro_months,
                c.outside_window,
            )
            for c in changes
        ),
        today=today,
        show_imports=not is_practice_scoped(actor),
    )


# -- member-months by payer, product, practice or PCP

MEMBER_MONTH_GROUPS: dict[str, str] = {
    "payer": "Payer",
    "product": "Product",
    "practice": "Practice",
    "pcp": "PCP",
}
_GROUP_COLUMN = {"payer": "payer", "product": "product", "practice": "practice", "pcp": "pcp"}
MAX_REPORT_MONTHS = 60
_EPOCH = dt.date(1970, 1, 1).toordinal()  # polars dates count days from 1970-01-01
_FAR = dt.date(9999, 12, 31).toordinal() - _EPOCH
_CHUNK = 100_000


@dataclass(frozen=True)
class MonthsRow:
    key: int
    label: str
    values: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True)
class MemberMonthsReport:
    """Member-months per group (payer, product, practice or PCP) and month, every month of the range.

    A member counts in a month when eligible on at least one day of it; by practice or PCP, when eligible
    and assigned to that practice's (or that PCP's) panel on the same day. `totals` counts each member
    once a month, whichever groups they fall in (a member who changed PCP mid-month is in two PCP rows).
    """

    group_by: str
    months: tuple[str, ...]
    rows: tuple[MonthsRow, ...]
    """Largest total first."""
    totals: tuple[int, ...]
    scoped: bool

    @property
    def total(self) -> int:
        return sum(self.totals)


def _day(value: dt.date | None) -> int | None:
    return None if value is None else value.toordinal() - _EPOCH


def _frame(rows: Iterator[tuple[Any, ...]], schema: dict[str, Any]) -> pl.DataFrame:
    """Rows of ints (dates already turned into day numbers) into a frame, chunk by chunk."""
    frames = []
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK:
            frames.append(pl.DataFrame(chunk, schema=schema, orient="row"))
            chunk = []
    if chunk or not frames:
        frames.append(pl.DataFrame(chunk, schema=schema, orient="row"))
    return pl.concat(frames)


def _overlapping(qs: QuerySet[Any], first: Month, last: Month) -> QuerySet[Any]:
    return qs.filter(valid_from__lte=last.last_day).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=first.first_day)
    )


def member_months_report(
    actor: Actor,
    *,
    group_by: str,
    first: Month,
    last: Month,
    payer_id: int | None = None,
    practice_id: int | None = None,
) -> MemberMonthsReport:
    """Member-months from `first` through `last` by `group_by` (a key of MEMBER_MONTH_GROUPS), counted by
    the membership engine. A practice user gets only the member-months of their own practice's panels
    (`practice_id` is then ignored). Counts only, so nothing is written to the audit log."""
    require(actor, Perm.VIEW_MEMBERS)
    if group_by not in MEMBER_MONTH_GROUPS:
        raise ValidationFailed.single("group_by", f"Group by one of {', '.join(MEMBER_MONTH_GROUPS)}.")
    if last < first:
        raise ValidationFailed.single("month_to", "The last month is before the first.")
    if months_between(first, last) >= MAX_REPORT_MONTHS:
        raise ValidationFailed.single("month_to", f"Choose at most {MAX_REPORT_MONTHS} months.")
    scoped = is_practice_scoped(actor)
    if scoped:
        practice_id = scoped_practice_id(actor)
    span_schema = {
        "member": pl.Int64,
        "payer": pl.Int64,
        "product": pl.Int64,
        "start": pl.Int64,
        "end": pl.Int64,
    }
    eligibility = _overlapping(EligibilitySpan.objects.all(), first, last)
    if payer_id is not None:
        eligibility = eligibility.filter(member__payer_id=payer_id)
    spans = _frame(
        (
            (m, payer, product, _day(start), _day(end))
            for m, payer, product, start, end in eligibility.values_list(
                "member_id", "member__payer_id", "product_id", "valid_from", "valid_to"
            ).iterator(chunk_size=5000)
        ),
        span_schema,
    ).with_columns(pl.col("end").fill_null(_FAR))
    if group_by in ("practice", "pcp") or practice_id is not None:
        assignments = _overlapping(PcpAssignment.objects.all(), first, last)
        if practice_id is not None:
            assignments = assignments.filter(practice_id=practice_id)
        pcp = _frame(
            (
                (m, provider, practice, _day(start), _day(end))
                for m, provider, practice, start, end in assignments.values_list(
                    "member_id", "provider_id", "practice_id", "valid_from", "valid_to"
                ).iterator(chunk_size=5000)
            ),
            {"member": pl.Int64, "pcp": pl.Int64, "practice": pl.Int64, "start": pl.Int64, "end": pl.Int64},
        ).with_columns(pl.col("end").fill_null(_FAR))
        # eligible and on the panel on the same days: the overlap of each pair of spans of a member
        spans = (
            spans.join(pcp, on="member", suffix="_pcp")
            .with_columns(
                pl.max_horizontal("start", "start_pcp").alias("start"),
                pl.min_horizontal("end", "end_pcp").alias("end"),
            )
            .filter(pl.col("start") <= pl.col("end"))
        )
    low, high = first.index, last.index
    spans = spans.with_columns(
        _as_month("start").clip(low, high).alias("first"), _as_month("end").clip(low, high).alias("last")
    )
    labels = tuple(str(Month._from_index(i)) for i in range(low, high + 1))

    def counted(key: str | None) -> dict[int, list[int]]:
        frame = spans.select(
            "member",
            (pl.col(key) if key else pl.lit(0, dtype=pl.Int64)).alias("payer"),
            "first",
            "last",
        )
        out: dict[int, list[int]] = {}
        if frame.height == 0:
            return out
        _lo, _hi, counts = engine.member_months(frame)
        for group, month, n in counts.iter_rows():
            if low <= month <= high:
                out.setdefault(int(group), [0] * len(labels))[month - low] = int(n)
        return out

    by_group = counted(_GROUP_COLUMN[group_by])
    totals = counted(None).get(0, [0] * len(labels))
    names = _group_names(group_by, list(by_group))
    rows = sorted(
        (MonthsRow(key, names.get(key, str(key)), tuple(values)) for key, values in by_group.items()),
        key=lambda r: (-r.total, r.label),
    )
    return MemberMonthsReport(group_by, labels, tuple(rows), tuple(totals), scoped)


def _as_month(column: str) -> pl.Expr:
    """A day number column as a month index (year * 12 + month - 1)."""
    day = pl.col(column).cast(pl.Date)
    return day.dt.year().cast(pl.Int64) * 12 + day.dt.month().cast(pl.Int64) - 1


def _group_names(group_by: str, keys: list[int]) -> dict[int, str]:
    if group_by == "payer":
        return {
            pk: f"{code} · {name}"
            for pk, code, name in Payer.objects.filter(pk__in=keys).values_list("pk", "code", "name")
        }
    if group_by == "product":
        return {
            pk: f"{payer} {code}"
            for pk, payer, code in Product.objects.filter(pk__in=keys).values_list(
                "pk", "payer__code", "code"
            )
        }
    if group_by == "practice":
        return dict(Practice.objects.filter(pk__in=keys).values_list("pk", "legal_name"))
    return {pk: f"{p} ({p.npi})" for pk, p in Provider.objects.in_bulk(keys).items()}


# -- PCP panels


@dataclass(frozen=True)
class PanelRow:
    """A PCP at a practice on a date: members assigned there, against the PCP's limit.

    `provider_panel` is the PCP's panel at every practice the actor may see (for a practice user, their own
    practice only); the over-limit flag compares it with the limit."""

    provider_id: int
    name: str
    npi: str
    practice_id: int
    practice_code: str
    practice_name: str
    panel: int
    provider_panel: int
    panel_limit: int | None
    accepting_new_patients: bool

    @property
    def over_limit(self) -> bool:
        return self.panel_limit is not None and self.provider_panel > self.panel_limit


PANEL_EXPORT_COLUMNS = (
    "on",
    "npi",
    "provider",
    "practice_code",
    "practice",
    "panel",
    "panel_all_practices",
    "panel_limit",
    "accepting_new_patients",
    "over_limit",
)


def pcp_panel_rows(
    actor: Actor,
    *,
    on: dt.date,
    practice_id: int | None = None,
    q: str = "",
    over_limit: bool = False,
) -> list[PanelRow]:
    """Every PCP affiliated with a practice on `on`, or with members assigned there on `on`, and their
    panel. A practice user gets only their own practice. Counts, not members: not audited."""
    require(actor, Perm.VIEW_MEMBERS)
    if is_practice_scoped(actor):
        practice_id = scoped_practice_id(actor)
    affiliations = Affiliation.objects.filter(_in_force(on), provider__kind=Provider.Kind.PCP)
    assignments = PcpAssignment.objects.filter(_in_force(on))
    if practice_id is not None:
        affiliations = affiliations.filter(practice_id=practice_id)
        assignments = assignments.filter(practice_id=practice_id)
    pairs = affiliations.values_list("provider_id", "practice_id").distinct()
    panels: dict[tuple[int, int], int] = dict.fromkeys(pairs, 0)
    for provider_pk, practice_pk, n in (
        assignments.values("provider_id", "practice_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("provider_id", "practice_id", "n")
    ):
        panels[(provider_pk, practice_pk)] = n
    providers = Provider.objects.in_bulk({p for p, _ in panels})
    practices = Practice.objects.in_bulk({pr for _, pr in panels})
    per_provider: dict[int, int] = {}
    for (provider_pk, _practice_pk), n in panels.items():
        per_provider[provider_pk] = per_provider.get(provider_pk, 0) + n
    terms = [t.casefold() for t in q.split()]
    rows = []
    for (provider_id, practice_id_), n in panels.items():
        provider, practice = providers[provider_id], practices[practice_id_]
        text = f"{provider.first_name} {provider.last_name} {provider.npi}".casefold()
        if any(t not in text for t in terms):
            continue
        row = PanelRow(
            provider_id,
            str(provider),
            provider.npi,
            practice_id_,
            practice.code,
            practice.legal_name,
            n,
            per_provider[provider_id],
            provider.panel_limit,
            provider.accepting_new_patients,
        )
        if over_limit and not row.over_limit:
            continue
        rows.append(row)
    rows.sort(
        key=lambda r: (
            r.practice_name,
            providers[r.provider_id].last_name,
            providers[r.provider_id].first_name,
            r.provider_id,
        )
    )
    return rows


def pcp_panel_page(
    actor: Actor, *, page: int | str | None = 1, per_page: int | str | None = None, **filters: Any
) -> Page[PanelRow]:
    rows = pcp_panel_rows(actor, **filters)
    number, size = clamp_page(page, per_page)
    number = min(number, max(1, math.ceil(len(rows) / size)))
    return Page(
        items=rows[(number - 1) * size : number * size], number=number, per_page=size, total=len(rows)
    )


def pcp_panel_export_rows(actor: Actor, **filters: Any) -> list[tuple[object, ...]]:
    """The panel list as CSV rows (PANEL_EXPORT_COLUMNS), scoped like the page."""
    on = filters["on"]
    return [
        (
            on.isoformat(),
            r.npi,
            r.name,
            r.practice_code,
            r.practice_name,
            r.panel,
            r.provider_panel,
            "" if r.panel_limit is None else r.panel_limit,
            "yes" if r.accepting_new_patients else "no",
            "yes" if r.over_limit else "no",
        )
        for r in pcp_panel_rows(actor, **filters)
    ]


# -- roster profiles

from openipa.contracts import selectors as contract_selectors  # noqa: E402
from openipa.membership.models import RosterProfile  # noqa: E402


def roster_profile_get(actor: Actor, payer_id: int) -> tuple[Payer, RosterProfile]:
    """A payer and its roster profile (the defaults, unsaved, when none was set). Payer settings are read by
    whoever reads contracts, never by a practice user."""
    if is_practice_scoped(actor):
        raise PermissionDenied("roster profiles are not shown to practice users")
    payer = contract_selectors.payer_get(actor, payer_id)
    profile = RosterProfile.objects.filter(payer=payer).select_related("default_product").first()
    return payer, profile if profile is not None else RosterProfile(payer=payer)


# -- the roster of one payer-month, for capitation --------------------------------------------------------

MONTH_ROSTER_SCHEMA: dict[str, Any] = {
    "member_id": pl.Int64,
    "payer_member_id": pl.String,
    "product_id": pl.Int64,
    "birth_date": pl.Date,
    "sex": pl.String,
    "date_of_death": pl.Date,
    "covered_days": pl.Int32,
    "first_covered_day": pl.Int32,
    "days_in_month": pl.Int32,
    "practice_id": pl.Int64,
    "provider_id": pl.Int64,
    "coverage_file_date": pl.Date,
}


def _day_numbers(frame: pl.DataFrame) -> pl.DataFrame:
    """Every date column as days since 1970-01-01 (Int64), as the month arithmetic below counts."""
    return frame.with_columns(pl.col(pl.Date).cast(pl.Int64))


def month_roster(actor: Actor | None, *, payer_id: int, month: Month, purpose: str) -> pl.DataFrame:
    """Every member of the payer covered on at least one day of ``month``, one row each (MONTH_ROSTER_SCHEMA).

    - ``covered_days``: days of the month the member's eligibility covers; ``first_covered_day``: the first
      of them (1 when covered from the 1st).
    - ``product_id``: the product of the span covering the most days of the month (on a tie, the later one).
    - ``practice_id``/``provider_id``: the PCP assignment covering the most of the member's covered days in the
      month (on a tie, the later one); null when no PCP was assigned.
    - ``coverage_file_date``: the date of the roster file that set the span of the first covered day (null
      when the span was entered by hand); a file dated after the month made a retro add.

    A batch read (capitation) of member-level data: written to the audit log as one access with the payer,
    month, member count and purpose, rather than a row per member. ``actor`` None is the system (a CLI run).
    """
    if actor is not None:
        require(actor, Perm.VIEW_MEMBERS)
        if is_practice_scoped(actor):
            raise PermissionDenied("A practice user cannot read a payer's whole roster.")
    m0 = month.first_day.toordinal() - _EPOCH
    m1 = month.last_day.toordinal() - _EPOCH
    spans = _day_numbers(
        query_frame(
            _overlapping(EligibilitySpan.objects.filter(member__payer_id=payer_id), month, month),
            {
                "member_id": ("member_id", pl.Int64),
                "product_id": ("product_id", pl.Int64),
                "start": ("valid_from", pl.Date),
                "end": ("valid_to", pl.Date),
                "file": ("source_import__file_date", pl.Date),
                # the member's own columns come with the spans: the query joins the member table anyway
                "payer_member_id": ("member__payer_member_id", pl.String),
                "born": ("member__date_of_birth", pl.Date),
                "sex": ("member__sex", pl.String),
                "died": ("member__date_of_death", pl.Date),
            },
        )
    ).with_columns(
        pl.col("start").clip(m0, m1).alias("start"), pl.col("end").fill_null(_FAR).clip(m0, m1).alias("end")
    )
    spans = spans.with_columns((pl.col("end") - pl.col("start") + 1).alias("days"))
    coverage = (
        spans.sort(["member_id", "days", "start"], descending=[False, True, True])
        .group_by("member_id", maintain_order=True)
        .agg(
            pl.col("product_id").first(),
            pl.col("days").sum().alias("covered_days"),
            pl.col("start").min().alias("first_start"),
            pl.col("file").sort_by("start").first().alias("file"),
            pl.col("start").min().alias("cover_from"),
            pl.col("end").max().alias("cover_to"),
            pl.col("payer_member_id").first(),
            pl.col("born").first(),
            pl.col("sex").first(),
            pl.col("died").first(),
        )
    )
    pcp = _day_numbers(
        query_frame(
            _overlapping(PcpAssignment.objects.filter(member__payer_id=payer_id), month, month),
            {"member_id": ("member_id", pl.Int64), "provider_id": ("provider_id", pl.Int64),
             "practice_id": ("practice_id", pl.Int64), "p_start": ("valid_from", pl.Date),
             "p_end": ("valid_to", pl.Date)},
        )
    )  # fmt: skip
    chosen = (
        pcp.join(coverage.select("member_id", "cover_from", "cover_to"), on="member_id")
        .with_columns(
            (
                pl.min_horizontal(pl.col("p_end").fill_null(_FAR), "cover_to")
                - pl.max_horizontal("p_start", "cover_from")
                + 1
            ).alias("overlap"),
        )
        .filter(pl.col("overlap") > 0)
        .sort(["member_id", "overlap", "p_start"], descending=[False, True, True])
        .group_by("member_id", maintain_order=True)
        .agg(pl.col("practice_id").first(), pl.col("provider_id").first())
    )
    frame = (
        coverage.join(chosen, on="member_id", how="left")
        .select(
            "member_id",
            "payer_member_id",
            "product_id",
            pl.col("born").cast(pl.Date).alias("birth_date"),
            "sex",
            pl.col("died").cast(pl.Date).alias("date_of_death"),
            pl.col("covered_days").cast(pl.Int32),
            (pl.col("first_start") - m0 + 1).cast(pl.Int32).alias("first_covered_day"),
            pl.lit(month.days, dtype=pl.Int32).alias("days_in_month"),
            "practice_id",
            "provider_id",
            pl.col("file").cast(pl.Date).alias("coverage_file_date"),
        )
        .sort("member_id")
    )
    audit.record_access(
        actor,
        object_type="membership.member",
        action="batch_read",
        purpose=purpose,
        details={"payer_id": payer_id, "month": str(month), "members": frame.height},
    )
    return frame


def retro_term_dates(member_ids: list[int], month: Month) -> dict[int, dt.date]:
    """Member id -> the date of the roster file that ended coverage reaching into ``month`` after the month had
    begun (a retro term), for those of ``member_ids`` it happened to. A lookup for reconciliation (dates only),
    so it takes no actor."""
    found: dict[int, dt.date] = {}
    for start in range(0, len(member_ids), 5000):
        changes = RosterChange.objects.filter(
            member_id__in=member_ids[start : start + 5000],
            kind=RosterChange.Kind.TERM,
            effective__lte=month.last_day,
            roster_import__file_date__gt=month.first_day,
        ).values_list("member_id", "roster_import__file_date")
        for member_id, filed in changes:
            if filed is not None and (member_id not in found or filed < found[member_id]):
                found[member_id] = filed
    return found


def member_ids_by_payer_id(payer_id: int) -> dict[str, int]:
    """The payer's members on file: payer member id -> member id. A lookup for file imports (ids only), so it
    takes no actor."""
    return dict(Member.objects.filter(payer_id=payer_id).values_list("payer_member_id", "pk"))


def members_by_payer_member_id(keys: Iterable[str]) -> dict[str, list[tuple[int, str]]]:
    """Payer member id -> [(member id, payer code)] for each key on file (a key can be on file for two payers).
    A lookup for claim files (ids only), so it takes no actor."""
    wanted = sorted(set(keys))
    found: dict[str, list[tuple[int, str]]] = {}
    for start in range(0, len(wanted), 5000):
        rows = Member.objects.filter(payer_member_id__in=wanted[start : start + 5000]).values_list(
            "payer_member_id", "pk", "payer__code"
        )
        for key, pk, payer in rows:
            found.setdefault(key, []).append((pk, payer))
    return found


def members_by_key(payer_member_id: str, payer_code: str = "", *, limit: int = 2) -> list[Member]:
    """The members on file under a payer member id (of one payer when `payer_code` is given), at most `limit`:
    a lookup for intake of requests and files, which answer "unknown" or "ambiguous" themselves. No actor: the
    caller scopes and audits what it hands out."""
    qs = Member.objects.filter(payer_member_id=payer_member_id.strip()).select_related("payer")
    if payer_code.strip():
        qs = qs.filter(payer__code=payer_code.strip())
    return list(qs.order_by("pk")[:limit])


def matching_frame() -> pl.DataFrame:
    """Every member's identifying fields for patient matching (member_id, payer_id: the payer's code,
    payer_member_id, mbi, names, date_of_birth, sex, address_line, city, zip, phone). A lookup for clinical
    data intake, which records what it links; no actor."""
    rows = Member.objects.values_list(
        "pk", "payer__code", "payer_member_id", "mbi", "last_name", "first_name", "date_of_birth", "sex",
        "address_line1", "city", "zip_code", "phone",
    ).order_by("pk")  # fmt: skip
    schema = {"member_id": pl.Int64, "payer_id": pl.String, "payer_member_id": pl.String, "mbi": pl.String,
              "last_name": pl.String, "first_name": pl.String, "date_of_birth": pl.Date, "sex": pl.String,
              "address_line": pl.String, "city": pl.String, "zip": pl.String, "phone": pl.String}  # fmt: skip
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def members_by_ids(member_ids: list[int]) -> list[Member]:
    """Members by id (a lookup for services that were handed ids by a reviewed list; no actor)."""
    return list(Member.objects.filter(pk__in=member_ids).order_by("pk"))


def coverage_on(member_id: int, on: dt.date) -> EligibilitySpan | None:
    """The member's eligibility span in force on a day (the latest begun, with its product), or None. A lookup
    for intake (no member data beyond the product), so it takes no actor."""
    return (
        EligibilitySpan.objects.filter(Q(member_id=member_id) & _in_force(on))
        .select_related("product")
        .order_by("-valid_from", "-pk")
        .first()
    )


def pcp_practice_on(member_id: int, on: dt.date) -> int | None:
    """The practice of the member's PCP assignment in force on a day, or None (a lookup: ids only)."""
    return (
        PcpAssignment.objects.filter(Q(member_id=member_id) & _in_force(on))
        .order_by("-valid_from", "-pk")
        .values_list("practice_id", flat=True)
        .first()
    )


def death_dates(member_ids: list[int]) -> dict[int, dt.date]:
    """Member id -> date of death, for those of ``member_ids`` who died. A lookup for reconciliation (dates
    only), so it takes no actor."""
    found: dict[int, dt.date] = {}
    for start in range(0, len(member_ids), 5000):
        for pk, died in Member.objects.filter(
            pk__in=member_ids[start : start + 5000], date_of_death__isnull=False
        ).values_list("pk", "date_of_death"):
            if died is not None:
                found[pk] = died
    return found


def eligibility_spans_frame(member_ids: Iterable[int]) -> pl.DataFrame:
    """Every eligibility span of ``member_ids`` (member_id, product_id, valid_from, valid_to): the coverage claims
    adjudication checks dates of service against. A lookup for a batch run (no member data beyond ids and
    dates), so it takes no actor."""
    ids = sorted(set(member_ids))
    schema = {"member_id": ("member_id", pl.Int64), "product_id": ("product_id", pl.Int64),
              "valid_from": ("valid_from", pl.Date), "valid_to": ("valid_to", pl.Date)}  # fmt: skip
    frames = [
        query_frame(EligibilitySpan.objects.filter(member_id__in=ids[start : start + 20_000]), schema)
        for start in range(0, len(ids), 20_000)
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema={k: v[1] for k, v in schema.items()})


def lines_of_business_on(lines: pl.DataFrame) -> pl.DataFrame:
    """For rows (line_id, member_id, service_from): the line of business of the member's product on that day
    (line_id, line_of_business; rows of members not covered that day are absent). A lookup for batch runs
    (claims interest, reserves), so it takes no actor."""
    from openipa.contracts.models import Product

    spans = eligibility_spans_frame(int(m) for m in lines["member_id"].drop_nulls().unique().to_list())
    lob = pl.DataFrame(
        list(Product.objects.values_list("pk", "line_of_business")),
        schema={"product_id": pl.Int64, "line_of_business": pl.String},
        orient="row",
    )
    return (
        lines.join(spans, on="member_id", how="inner")
        .filter(
            (pl.col("valid_from") <= pl.col("service_from"))
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= pl.col("service_from")))
        )
        .sort(["line_id", "valid_from"], descending=[False, True])
        .unique(subset=["line_id"], keep="first", maintain_order=True)
        .join(lob, on="product_id", how="left")
        .select("line_id", "line_of_business")
    )


# -- risk adjustment (openipa.risk) -------------------------------------------------------------------------

RISK_MEMBER_SCHEMA: dict[str, Any] = {
    "member_id": pl.Int64, "date_of_birth": pl.Date, "sex": pl.String, "orec": pl.String, "crec": pl.String,
    "kidney_transplant_date": pl.Date, "medicaid": pl.String, "lti": pl.Boolean, "date_of_death": pl.Date,
    "practice_id": pl.Int64, "provider_id": pl.Int64,
}  # fmt: skip


def risk_members_frame(
    *, covered_on: dt.date, first: dt.date, last: dt.date, line_of_business: str
) -> pl.DataFrame:
    """The members with an eligibility span of a ``line_of_business`` product in force on ``covered_on`` or
    overlapping ``first``..``last`` (RISK_MEMBER_SCHEMA): birth date, sex, original and current reason for
    entitlement (crec null when unknown), kidney transplant date, Medicaid dual status, long-term
    institutional, date of death, and the PCP (practice, provider) of the latest assignment begun on or before ``covered_on`` (else the latest begun in the window). A lookup for a risk-scoring batch
    (the caller checks the permission and records what it hands out), so it takes no actor."""
    spans = EligibilitySpan.objects.filter(product__line_of_business=line_of_business).filter(
        (Q(valid_from__lte=covered_on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=covered_on)))
        | (Q(valid_from__lte=last) & (Q(valid_to__isnull=True) | Q(valid_to__gte=first)))
    )
    members = query_frame(
        Member.objects.filter(pk__in=spans.values("member_id")),
        {"member_id": ("pk", pl.Int64), "date_of_birth": ("date_of_birth", pl.Date), "sex": ("sex", pl.String),
         "orec": ("orec", pl.String), "crec": ("crec", pl.String),
         "kidney_transplant_date": ("kidney_transplant_date", pl.Date),
         "medicaid": ("medicaid_dual_status", pl.String),
         "lti": ("long_term_institutional", pl.Boolean), "date_of_death": ("date_of_death", pl.Date)},
    )  # fmt: skip
    latest = max(covered_on, last)
    pcps = (
        query_frame(
            PcpAssignment.objects.filter(member_id__in=spans.values("member_id"), valid_from__lte=latest),
            {
                "member_id": ("member_id", pl.Int64),
                "practice_id": ("practice_id", pl.Int64),
                "provider_id": ("provider_id", pl.Int64),
                "valid_from": ("valid_from", pl.Date),
            },
        )
        .with_columns((pl.col("valid_from") <= covered_on).alias("by_then"))
        .sort(["member_id", "by_then", "valid_from"], descending=[False, True, True])
        .unique("member_id", keep="first", maintain_order=True)
        .select("member_id", "practice_id", "provider_id")
    )
    joined = (
        members.join(pcps, on="member_id", how="left")
        .sort("member_id")
        .with_columns(pl.col("crec").replace("", None))  # blank: unknown (the engine's null)
    )
    return joined.select([pl.col(c).cast(t) for c, t in RISK_MEMBER_SCHEMA.items()])
