"""Reads of capitation, scoped to the acting user: remittances, reconciliations and their discrepancies,
distribution runs, and the practices' statements.

Everything but statements is IPA staff's (VIEW_FINANCE: finance, auditors, the administrator). A practice
user reads only their own practice's statements, of approved or paid runs; another practice's statement is
NotFound, so its existence is not disclosed. Functions that hand out member-level rows (discrepancy lists,
dispute files, adjustment lines, the remittance file) record the read with its purpose; functions that only
build a query do not, and are not handed to a page as they are.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Abs

from openipa.accounts.models import User
from openipa.capitation.models import (
    Discrepancy,
    DistributionLine,
    DistributionRun,
    PoolShare,
    PracticePayment,
    ReceivedLine,
    Reconciliation,
    RemittanceImport,
)
from openipa.contracts.models import Payer
from openipa.core import audit
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.money import to_decimal
from openipa.core.months import Month
from openipa.core.pagination import Page, paginate
from openipa.core.roles import Actor, Perm, Role, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.ledger import selectors as ledger_selectors

OPEN_STATUSES = (Discrepancy.Status.OPEN, Discrepancy.Status.DISPUTED)
STATEMENT_RUN_STATUSES = (DistributionRun.Status.APPROVED, DistributionRun.Status.PAID)
"""What a practice user sees: a draft may still change, so it is not a statement yet."""
QUEUE_SORTS: dict[str, str] = {
    "impact": "Largest impact first",
    "owed": "Owed to the IPA first",
    "overpaid": "Overpaid first",
    "oldest": "Oldest first",
    "month": "By month",
}
QUEUE_STATUSES: dict[str, str] = {
    "": "Open or disputed",
    **{value: str(label) for value, label in Discrepancy.Status.choices},
    "all": "Any status",
}
DISPUTE_COLUMNS = ("member_id", "name", "month", "category", "expected", "received", "impact", "cause", "status",
                   "dispute_note", "age_days")  # fmt: skip


def _require_staff(actor: Actor) -> None:
    """Capitation pages are IPA staff's: VIEW_FINANCE, never a practice user."""
    require(actor, Perm.VIEW_FINANCE)
    if is_practice_scoped(actor):
        raise PermissionDenied("capitation is not shown to practice users")


def capitation_payers(actor: Actor) -> QuerySet[Payer]:
    """The payers, for the capitation pages' filters and forms."""
    _require_staff(actor)
    return Payer.objects.order_by("name", "pk")


def payer_get(actor: Actor, payer_id: int) -> Payer:
    try:
        return capitation_payers(actor).get(pk=payer_id)
    except Payer.DoesNotExist:
        raise NotFound(f"payer {payer_id}") from None


def can_act(actor: Actor) -> bool:
    """Upload, reconcile, prepare and approve runs, work discrepancies: finance alone."""
    return has_perm(actor, Perm.EDIT_FINANCE) and not is_practice_scoped(actor)


# -- remittances -------------------------------------------------------------------------------------------


def remittance_list(
    actor: Actor, *, payer_id: int | None = None, status: str = "", q: str = ""
) -> QuerySet[RemittanceImport]:
    """Remittance files received, newest first: totals and who/when only (no member rows), so not audited."""
    _require_staff(actor)
    qs = RemittanceImport.objects.select_related("payer")
    if payer_id is not None:
        qs = qs.filter(payer_id=payer_id)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(
            Q(file_name__icontains=q)
            | Q(trace_number__iexact=q)
            | Q(sha256__iexact=q)
            | Q(imported_by__iexact=q)
        )
    return qs.order_by("-created_at", "-id")


def remittance_get(actor: Actor, remittance_id: int) -> RemittanceImport:
    try:
        return remittance_list(actor).select_related("duplicate_of").get(pk=remittance_id)
    except RemittanceImport.DoesNotExist:
        raise NotFound(f"remittance {remittance_id}") from None


@dataclass(frozen=True)
class ReceivedTotal:
    """What one file paid for one coverage month, by kind of line."""

    month: dt.date
    kind: str
    label: str
    lines: int
    cents: int


def remittance_totals(actor: Actor, record: RemittanceImport) -> list[ReceivedTotal]:
    """The file's lines summed by month and kind (counts, no members)."""
    _require_staff(actor)
    labels = dict(ReceivedLine.Kind.choices)
    rows = (
        ReceivedLine.objects.filter(remittance=record)
        .values("month", "kind")
        .order_by("month", "kind")
        .annotate(lines=Count("id"), cents=Sum("amount_cents"))
    )
    return [
        ReceivedTotal(
            r["month"], r["kind"], str(labels.get(r["kind"], r["kind"])), r["lines"], int(r["cents"] or 0)
        )
        for r in rows
    ]


def remittance_file(actor: Actor, record: RemittanceImport, *, purpose: str) -> Path:
    """The file as received, for download: recorded as an access, and as a read of the members it paid."""
    _require_staff(actor)
    root = (Path(settings.VAR_DIR) / "imports" / "capitation").resolve()
    path = (Path(settings.VAR_DIR) / record.stored_path).resolve()
    if not record.stored_path or not path.is_relative_to(root) or not path.is_file():
        raise NotFound(f"the file of remittance {record.pk}")
    audit.record_access(
        actor,
        object_type="capitation.remittanceimport",
        action="download",
        purpose=purpose,
        details={"remittance": record.pk, "file_name": record.file_name, "sha256": record.sha256},
    )
    source = record.duplicate_of_id or record.pk
    audit.record_read(
        actor,
        object_type="capitation.remittanceimport",
        object_id=str(record.pk),
        action="download",
        member_ids=ReceivedLine.objects.filter(remittance_id=source, member__isnull=False)
        .values_list("member_id", flat=True)
        .distinct(),
        purpose=purpose,
    )
    return path


# -- reconciliation ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayerSummary:
    """One payer on the capitation overview."""

    payer: Payer
    months: int
    latest: Reconciliation | None
    expected_cents: int
    received_cents: int
    variance_cents: int
    open_count: int
    open_impact_cents: int
    drafts: int
    last_remittance: RemittanceImport | None


def capitation_overview(actor: Actor) -> list[PayerSummary]:
    """Per payer: months reconciled and their totals, open discrepancies, runs awaiting approval, the last
    file received. Payers with nothing yet are listed too (with zeros), so the page says where to start."""
    payers = list(capitation_payers(actor))
    recs: dict[int, list[Reconciliation]] = defaultdict(list)
    for rec in Reconciliation.objects.order_by("payer_id", "-month"):
        recs[rec.payer_id].append(rec)
    opened = {
        r["payer_id"]: r
        for r in Discrepancy.objects.filter(status__in=OPEN_STATUSES)
        .values("payer_id")
        .order_by("payer_id")
        .annotate(count=Count("id"), impact=Sum("impact_cents"))
    }
    drafts = dict(
        DistributionRun.objects.filter(status=DistributionRun.Status.DRAFT)
        .values("payer_id")
        .order_by("payer_id")
        .annotate(n=Count("id"))
        .values_list("payer_id", "n")
    )
    out = []
    for payer in payers:
        last = RemittanceImport.objects.filter(payer=payer).order_by("-created_at", "-id").first()
        rows = recs.get(payer.pk, [])
        o = opened.get(payer.pk) or {}
        out.append(
            PayerSummary(
                payer=payer,
                months=len(rows),
                latest=rows[0] if rows else None,
                expected_cents=sum(r.expected_cents for r in rows),
                received_cents=sum(r.received_cents for r in rows),
                variance_cents=sum(r.variance_cents for r in rows),
                open_count=int(o.get("count") or 0),
                open_impact_cents=int(o.get("impact") or 0),
                drafts=int(drafts.get(payer.pk, 0)),
                last_remittance=last,
            )
        )
    return out


@dataclass(frozen=True)
class CategoryAmount:
    code: str
    label: str
    count: int
    cents: int


@dataclass(frozen=True)
class MonthRow:
    """One coverage month of a payer: its latest reconciliation (if any) and what is on file now."""

    month: Month
    reconciliation: Reconciliation | None
    received_now_cents: int
    open_count: int
    open_impact_cents: int
    categories: tuple[CategoryAmount, ...]

    @property
    def stale(self) -> bool:
        """Receipts changed since the month was reconciled: reconcile it again."""
        return (
            self.reconciliation is not None and self.reconciliation.received_cents != self.received_now_cents
        )


@dataclass(frozen=True)
class PayerReconciliation:
    payer: Payer
    rows: list[MonthRow]
    categories: list[tuple[str, str]]
    """The categories with a variance in any month, in the model's order: the table's columns."""

    @property
    def reconciled(self) -> list[MonthRow]:
        return [r for r in self.rows if r.reconciliation is not None]


def _categories(by_category: object) -> tuple[CategoryAmount, ...]:
    labels = dict(Discrepancy.Category.choices)
    data = by_category if isinstance(by_category, dict) else {}
    out = []
    for code, label in labels.items():
        item = data.get(code)
        if isinstance(item, dict):
            out.append(
                CategoryAmount(code, str(label), int(item.get("count") or 0), int(item.get("cents") or 0))
            )
    return tuple(out)


def payer_reconciliation(actor: Actor, payer_id: int) -> PayerReconciliation:
    """A payer's months, newest first: every month reconciled or with money received (totals only)."""
    payer = payer_get(actor, payer_id)
    recs = {r.month: r for r in Reconciliation.objects.filter(payer=payer)}
    received = dict(
        ReceivedLine.objects.filter(payer=payer, remittance__status=RemittanceImport.Status.APPLIED)
        .values("month")
        .order_by("month")
        .annotate(cents=Sum("amount_cents"))
        .values_list("month", "cents")
    )
    opened: dict[dt.date, tuple[int, int]] = {
        r["month"]: (r["n"], int(r["impact"] or 0))
        for r in Discrepancy.objects.filter(payer=payer, status__in=OPEN_STATUSES)
        .values("month")
        .order_by("month")
        .annotate(n=Count("id"), impact=Sum("impact_cents"))
    }
    rows = []
    for day in sorted(set(recs) | set(received), reverse=True):
        rec = recs.get(day)
        n, impact = opened.get(day, (0, 0))
        rows.append(
            MonthRow(Month.of(day), rec, int(received.get(day) or 0), n, impact,
                     _categories(rec.by_category) if rec else ())
        )  # fmt: skip
    present = {c.code for r in rows for c in r.categories}
    categories = [(code, str(label)) for code, label in Discrepancy.Category.choices if code in present]
    return PayerReconciliation(payer, rows, categories)


@dataclass(frozen=True)
class DiscrepancyRow:
    """A discrepancy with its age in days (to its closing, for a closed one)."""

    discrepancy: Discrepancy
    age_days: int


def _age(d: Discrepancy, now: dt.datetime) -> int:
    return max(0, ((d.closed_at or now) - d.opened_at).days)


def _rows(items: list[Discrepancy], now: dt.datetime) -> list[DiscrepancyRow]:
    return [DiscrepancyRow(d, _age(d, now)) for d in items]


def _record_discrepancy_read(
    actor: Actor, items: list[Discrepancy], purpose: str, object_id: str = ""
) -> None:
    audit.record_read(
        actor,
        object_type="capitation.discrepancy",
        object_id=object_id,
        action="list",
        member_ids=[d.member_id for d in items if d.member_id],
        purpose=purpose,
    )


@dataclass(frozen=True)
class CategoryStatus:
    """One category of a payer-month's discrepancies: how many and how much, open and in all."""

    code: str
    label: str
    count: int
    impact_cents: int
    open_count: int
    open_impact_cents: int


@dataclass(frozen=True)
class PayerMonth:
    payer: Payer
    month: Month
    reconciliation: Reconciliation | None
    categories: list[CategoryStatus]
    discrepancies: Page[DiscrepancyRow]


def payer_month(
    actor: Actor,
    payer_id: int,
    month: Month,
    *,
    category: str = "",
    page: int | str | None = 1,
    per_page: int | str | None = 50,
    purpose: str,
    now: dt.datetime,
) -> PayerMonth:
    """A payer-month's reconciliation and its discrepancies (every status) by category; the members on the
    page are recorded as read."""
    payer = payer_get(actor, payer_id)
    rec = Reconciliation.objects.filter(payer=payer, month=month.first_day).first()
    base = Discrepancy.objects.filter(payer=payer, month=month.first_day)
    sums: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "c": 0, "on": 0, "oc": 0})
    for r in (
        base.values("category", "status").order_by("category").annotate(n=Count("id"), c=Sum("impact_cents"))
    ):
        s = sums[r["category"]]
        s["n"] += r["n"]
        s["c"] += int(r["c"] or 0)
        if r["status"] in OPEN_STATUSES:
            s["on"] += r["n"]
            s["oc"] += int(r["c"] or 0)
    categories = [
        CategoryStatus(code, str(label), sums[code]["n"], sums[code]["c"], sums[code]["on"], sums[code]["oc"])
        for code, label in Discrepancy.Category.choices
        if code in sums
    ]
    qs = base.select_related("member", "owner")
    if category:
        qs = qs.filter(category=category)
    result = paginate(
        qs.order_by("category", Abs("impact_cents").desc(), "payer_member_id", "pk"), page, per_page
    )
    _record_discrepancy_read(actor, result.items, purpose, object_id=f"{payer.code} {month}")
    rows = Page(_rows(result.items, now), result.number, result.per_page, result.total)
    return PayerMonth(payer, month, rec, categories, rows)


def open_discrepancy_count(actor: Actor, payer_id: int, month: Month) -> int:
    """How many of the payer-month's discrepancies are open or disputed."""
    _require_staff(actor)
    return Discrepancy.objects.filter(
        payer_id=payer_id, month=month.first_day, status__in=OPEN_STATUSES
    ).count()


def discrepancy_owners(actor: Actor) -> QuerySet[User]:
    """Who may own a discrepancy: active finance users."""
    _require_staff(actor)
    return User.objects.filter(is_active=True, role=Role.FINANCE).order_by("username")


def discrepancy_queue(
    actor: Actor,
    *,
    now: dt.datetime,
    payer_id: int | None = None,
    month: Month | None = None,
    category: str = "",
    status: str = "",
    owner: str = "",
    min_age_days: int | None = None,
    sort: str = "impact",
) -> QuerySet[Discrepancy]:
    """The work queue as a query (not audited: hand it to `discrepancy_page`). ``status`` "" is open or
    disputed, "all" any; ``owner`` "" anyone, "none" unassigned, else a user id."""
    _require_staff(actor)
    qs = Discrepancy.objects.select_related("payer", "member", "owner")
    if status == "all":
        pass
    elif status:
        qs = qs.filter(status=status)
    else:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if payer_id is not None:
        qs = qs.filter(payer_id=payer_id)
    if month is not None:
        qs = qs.filter(month=month.first_day)
    if category:
        qs = qs.filter(category=category)
    if owner == "none":
        qs = qs.filter(owner__isnull=True)
    elif owner.isdigit():
        qs = qs.filter(owner_id=int(owner))
    if min_age_days:
        qs = qs.filter(opened_at__lte=now - dt.timedelta(days=min_age_days))
    order: tuple[Any, ...] = {
        "owed": (F("impact_cents").desc(), "opened_at"),
        "overpaid": (F("impact_cents").asc(), "opened_at"),
        "oldest": ("opened_at",),
        "month": ("-month", "payer__name", "category"),
    }.get(sort, (Abs("impact_cents").desc(), "opened_at"))
    return qs.order_by(*order, "pk")


def discrepancy_page(
    actor: Actor,
    *,
    now: dt.datetime,
    purpose: str,
    page: int | str | None = 1,
    per_page: int | str | None = 50,
    **filters: Any,
) -> tuple[Page[DiscrepancyRow], int]:
    """One page of the queue, and the total impact of every discrepancy the filters select; the members on
    the page are recorded as read."""
    qs = discrepancy_queue(actor, now=now, **filters)
    total = int(qs.order_by().aggregate(t=Sum("impact_cents"))["t"] or 0)
    result = paginate(qs, page, per_page)
    _record_discrepancy_read(actor, result.items, purpose)
    return Page(_rows(result.items, now), result.number, result.per_page, result.total), total


def discrepancy_get(actor: Actor, discrepancy_id: int) -> Discrepancy:
    _require_staff(actor)
    try:
        return Discrepancy.objects.select_related("payer", "member", "owner").get(pk=discrepancy_id)
    except Discrepancy.DoesNotExist:
        raise NotFound(f"discrepancy {discrepancy_id}") from None


def discrepancy_row(actor: Actor, discrepancy_id: int, *, purpose: str, now: dt.datetime) -> DiscrepancyRow:
    """One discrepancy as a row of the queue (after an action on it); its member is recorded as read."""
    d = discrepancy_get(actor, discrepancy_id)
    _record_discrepancy_read(actor, [d], purpose, object_id=str(d.pk))
    return DiscrepancyRow(d, _age(d, now))


def _dollars(cents: int) -> str:
    return str(to_decimal(cents))


def dispute_rows(
    actor: Actor, payer_id: int, *, purpose: str, now: dt.datetime
) -> tuple[Payer, list[tuple[object, ...]]]:
    """The payer's open and disputed discrepancies as rows of DISPUTE_COLUMNS (amounts in dollars, exact),
    oldest month first: the file the IPA sends the payer. Every member in it is recorded as read."""
    payer = payer_get(actor, payer_id)
    items = list(
        Discrepancy.objects.filter(payer=payer, status__in=OPEN_STATUSES)
        .select_related("member")
        .order_by("month", "category", "payer_member_id", "pk")
    )
    audit.record_read(
        actor,
        object_type="capitation.discrepancy",
        object_id=payer.code,
        action="export",
        member_ids=[d.member_id for d in items if d.member_id],
        purpose=purpose,
    )
    audit.record_access(
        actor,
        object_type="capitation.discrepancy",
        action="export",
        purpose=purpose,
        details={"payer": payer.code, "rows": len(items)},
    )
    rows: list[tuple[object, ...]] = []
    for d in items:
        name = f"{d.member.last_name}, {d.member.first_name}" if d.member else ""
        rows.append((
            d.payer_member_id, name, d.month.strftime("%Y-%m"), d.get_category_display(), _dollars(d.expected_cents),
            _dollars(d.received_cents), _dollars(d.impact_cents), d.cause, d.get_status_display(), d.dispute_note,
            _age(d, now),
        ))  # fmt: skip
    return payer, rows


# -- runs --------------------------------------------------------------------------------------------------


def run_list(
    actor: Actor,
    *,
    payer_id: int | None = None,
    month: Month | None = None,
    status: str = "",
    kind: str = "",
) -> QuerySet[DistributionRun]:
    """Distribution runs, newest month first, with their practice count and total net."""
    _require_staff(actor)
    qs = DistributionRun.objects.select_related("payer").annotate(
        practices=Count("payments", distinct=True), net_cents=Sum("payments__net_cents")
    )
    if payer_id is not None:
        qs = qs.filter(payer_id=payer_id)
    if month is not None:
        qs = qs.filter(month=month.first_day)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-month", "payer__name", "-id")


def run_get(actor: Actor, run_id: int) -> DistributionRun:
    _require_staff(actor)
    try:
        return DistributionRun.objects.select_related("payer", "adjusts").get(pk=run_id)
    except DistributionRun.DoesNotExist:
        raise NotFound(f"run {run_id}") from None


@dataclass(frozen=True)
class RunDetail:
    run: DistributionRun
    payments: list[PracticePayment]
    pool_shares: list[PoolShare]
    entry_number: int | None
    adjustments: list[DistributionRun]
    """Later adjustment runs of this one."""
    reasons: list[tuple[str, int, int]] = field(default_factory=list)
    """For an adjustment run: (reason, member-months, PCP net cents) over its lines."""

    @property
    def payments_net_cents(self) -> int:
        return sum(p.net_cents for p in self.payments)


def run_detail(actor: Actor, run_id: int) -> RunDetail:
    """A run with its payments, pool shares, ledger entry and adjustments (amounts by practice, no members)."""
    run = run_get(actor, run_id)
    payments = list(run.payments.select_related("practice").order_by("practice__legal_name", "pk"))
    shares = list(run.pool_shares.select_related("practice").order_by("pool", "practice__legal_name"))
    entry = (
        ledger_selectors.journal(actor, source_type="capitation_run")
        .filter(source_id=str(run.pk))
        .order_by("number")
        .values_list("number", flat=True)
        .first()
    )
    adjustments = list(run.adjustments.order_by("pk"))
    reasons: list[tuple[str, int, int]] = []
    if run.kind == DistributionRun.Kind.ADJUSTMENT:
        reasons = [
            (r["reason"] or "-", r["n"], int(r["net"] or 0))
            for r in run.lines.values("reason")
            .order_by("reason")
            .annotate(n=Count("id"), net=Sum("pcp_net_cents"))
        ]
    return RunDetail(run, payments, shares, entry, adjustments, reasons)


def run_lines(
    actor: Actor, run: DistributionRun, *, reason: str = "", page: int | str | None = 1, per_page: int | str | None = 50,
    purpose: str,
) -> Page[DistributionLine]:  # fmt: skip
    """A page of a run's member-month lines (an adjustment run's: the differences, with reasons); the
    members on the page are recorded as read."""
    _require_staff(actor)
    qs = run.lines.select_related("member", "practice", "provider")
    if reason:
        qs = qs.filter(reason=reason)
    result = paginate(
        qs.order_by("reason", "member__last_name", "member__first_name", "month", "pk"), page, per_page
    )
    audit.record_read(
        actor,
        object_type="capitation.distributionrun",
        object_id=str(run.pk),
        action="list",
        member_ids=[line.member_id for line in result.items],
        purpose=purpose,
    )
    return result


# -- statements --------------------------------------------------------------------------------------------


def _statement_scope(actor: Actor) -> QuerySet[PracticePayment]:
    """Payments whose statements the actor may read: all (VIEW_FINANCE), or a practice user's own practice's
    of approved or paid runs."""
    qs = PracticePayment.objects.select_related("run", "run__payer", "practice")
    if is_practice_scoped(actor):
        return qs.filter(practice_id=scoped_practice_id(actor), run__status__in=STATEMENT_RUN_STATUSES)
    _require_staff(actor)
    return qs


def statement_list(
    actor: Actor,
    *,
    payer_id: int | None = None,
    practice_id: int | None = None,
    month: Month | None = None,
) -> QuerySet[PracticePayment]:
    """Statements (one per practice per run), newest month first: amounts only, no members."""
    qs = _statement_scope(actor)
    if payer_id is not None:
        qs = qs.filter(run__payer_id=payer_id)
    if practice_id is not None:
        qs = qs.filter(practice_id=practice_id)
    if month is not None:
        qs = qs.filter(run__month=month.first_day)
    return qs.order_by("-run__month", "run__payer__name", "practice__legal_name", "-run_id")


def statement_payment(actor: Actor, payment_id: int) -> PracticePayment:
    """One practice's payment of a run; NotFound outside the actor's scope (another practice's, a draft's)."""
    try:
        return _statement_scope(actor).get(pk=payment_id)
    except PracticePayment.DoesNotExist:
        raise NotFound(f"statement {payment_id}") from None


def statement_payers(actor: Actor) -> QuerySet[Payer]:
    """Payers that have paid the actor's statements (a practice user's own), for the list's filter."""
    ids = _statement_scope(actor).values("run__payer_id")
    return Payer.objects.filter(pk__in=ids).order_by("name", "pk")
