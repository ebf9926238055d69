"""The practice portal home: what a practice user lands on. Reads only, composed from the other apps' selectors,
always for the actor's own practice (a practice user; anyone else is refused).

The cards: the panel (members today, PCP panels), open care gaps by measure and by PCP, the latest statements
(capitation, incentive settlements, shared savings, membership-fee invoices and the fee balance), claims by
status this month and the last claims, open authorization requests by due time, offers awaiting the practice's
answer, a compact scorecard, and the value of membership by month.

The value of membership (``value_months``, pure arithmetic on the ledger's flows) is, per month of the ledger's
accounting dates:

- capitation: credits less debits on PROVIDER_CAPITATION_PAYABLE (2100) in entries that moved no cash, plus the
  admin fee deducted from the practice's capitation (the approved runs' ``admin_fee_cents``, in the month of the
  run's ledger entry, its accounting date): capitation before the fee;
- shared savings: debits less credits on SHARED_SAVINGS_DISTRIBUTED (5300);
- incentives: credits less debits on INCENTIVES_PAYABLE (2650) in entries that moved no cash, less the shared
  savings (their distribution credits 2650 too), less what a settlement charged the practice (debits on
  PRACTICE_RECEIVABLE 1300 that are not membership fees);
- fees: the membership fees invoiced (credits less debits on MEMBERSHIP_FEE_REVENUE 4300) plus the admin fee;
- net value: received (capitation before the fee + incentives + shared savings) less fees;
- and, for the record, the cash: paid to the practice (debits on 2100 and 2650 in entries that credited CASH)
  and paid by it (credits on 1300 in entries that debited CASH).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from openipa.association import selectors as fee_selectors
from openipa.capitation import selectors as cap_selectors
from openipa.capitation.models import DistributionLine, DistributionRun
from openipa.claims.models import Claim, ClaimLine
from openipa.claims.selectors import claims as claim_selectors
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, scoped_practice_id
from openipa.credentialing.models import CommitteeDecision
from openipa.incentives import selectors as incentive_selectors
from openipa.ledger import accounts
from openipa.ledger import selectors as ledger_selectors
from openipa.ledger.models import JournalEntry
from openipa.ledger.selectors import PracticeFlow
from openipa.messenger import selectors as messenger_selectors
from openipa.messenger.models import OfferPackage, OfferResponse
from openipa.network.models import Affiliation, Practice
from openipa.performance import scorecard_selectors
from openipa.performance.engine import scorecard as sc
from openipa.quality import selectors as quality_selectors
from openipa.quality.models import MeasureResult, QualityRun
from openipa.savings import selectors as savings_selectors
from openipa.utilization import selectors as um_selectors
from openipa.utilization.models import AuthRequest

VALUE_MONTHS = 12
"""The value of membership covers this many months, ending with the current one."""
LATEST = 5
"""Rows in each short list (statements, claims, requests)."""
PURPOSE = "practice portal home"


def portal_practice(actor: Actor) -> Practice:
    """The practice whose portal this is: the practice user's own. Staff have their own dashboard."""
    if not is_practice_scoped(actor):
        raise PermissionDenied("the practice portal is for practice users")
    practice_id = scoped_practice_id(actor)
    try:
        return Practice.objects.get(pk=practice_id)
    except Practice.DoesNotExist:
        raise NotFound(f"practice {practice_id}") from None


# -- value of membership: the arithmetic --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValueMonth:
    """One month of what membership was worth to the practice, in cents (see the module's docstring)."""

    month: Month
    capitation_cents: int  # before the admin fee
    incentives_cents: int
    shared_savings_cents: int
    membership_fee_cents: int
    admin_fee_cents: int
    paid_to_practice_cents: int
    paid_by_practice_cents: int

    @property
    def received_cents(self) -> int:
        return self.capitation_cents + self.incentives_cents + self.shared_savings_cents

    @property
    def fees_cents(self) -> int:
        return self.membership_fee_cents + self.admin_fee_cents

    @property
    def net_cents(self) -> int:
        return self.received_cents - self.fees_cents


def value_months(
    flows: Iterable[PracticeFlow], admin_fees: dict[Month, int], months: Sequence[Month]
) -> list[ValueMonth]:
    """Each of `months` (in order, zero when nothing happened) from the practice's ledger flows and the admin
    fees deducted from its capitation by month. Pure: no database."""
    # net (debits - credits) by month, account and cash
    net: dict[tuple[Month, str, bool], int] = defaultdict(int)
    for f in flows:
        net[(f.month, f.account, f.cash)] += f.net_cents
    out = []
    for m in months:

        def both(account: str, m: Month = m) -> int:
            return net[(m, account, False)] + net[(m, account, True)]

        admin = admin_fees.get(m, 0)
        shared = both(accounts.SHARED_SAVINGS_DISTRIBUTED)
        membership = -both(accounts.MEMBERSHIP_FEE_REVENUE)
        charged = net[(m, accounts.PRACTICE_RECEIVABLE, False)] - membership
        out.append(
            ValueMonth(
                month=m,
                capitation_cents=-net[(m, accounts.PROVIDER_CAPITATION_PAYABLE, False)] + admin,
                incentives_cents=-net[(m, accounts.INCENTIVES_PAYABLE, False)] - shared - charged,
                shared_savings_cents=shared,
                membership_fee_cents=membership,
                admin_fee_cents=admin,
                paid_to_practice_cents=net[(m, accounts.PROVIDER_CAPITATION_PAYABLE, True)]
                + net[(m, accounts.INCENTIVES_PAYABLE, True)],
                paid_by_practice_cents=-net[(m, accounts.PRACTICE_RECEIVABLE, True)],
            )
        )
    return out


@dataclass(frozen=True)
class ValueTotals:
    capitation_cents: int
    incentives_cents: int
    shared_savings_cents: int
    membership_fee_cents: int
    admin_fee_cents: int
    received_cents: int
    fees_cents: int
    net_cents: int
    paid_to_practice_cents: int
    paid_by_practice_cents: int


def value_totals(rows: Sequence[ValueMonth]) -> ValueTotals:
    return ValueTotals(
        capitation_cents=sum(r.capitation_cents for r in rows),
        incentives_cents=sum(r.incentives_cents for r in rows),
        shared_savings_cents=sum(r.shared_savings_cents for r in rows),
        membership_fee_cents=sum(r.membership_fee_cents for r in rows),
        admin_fee_cents=sum(r.admin_fee_cents for r in rows),
        received_cents=sum(r.received_cents for r in rows),
        fees_cents=sum(r.fees_cents for r in rows),
        net_cents=sum(r.net_cents for r in rows),
        paid_to_practice_cents=sum(r.paid_to_practice_cents for r in rows),
        paid_by_practice_cents=sum(r.paid_by_practice_cents for r in rows),
    )


# -- value of membership: the reads -------------------------------------------------------------------------------


def _month_of(value: dt.date | dt.datetime) -> Month:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return Month.of(value)


def admin_fees_by_month(practice_id: int, first: Month, last: Month) -> dict[Month, int]:
    """The admin fee deducted from the practice's capitation by approved (or paid) runs, by the month of the
    run's ledger entry (its accounting date; the approval's own month when no entry was posted)."""
    runs = DistributionRun.objects.filter(
        status__in=[DistributionRun.Status.APPROVED, DistributionRun.Status.PAID], approved_at__isnull=False
    )
    sums = list(
        DistributionLine.objects.filter(practice_id=practice_id, run__in=runs)
        .values("run_id", "run__approved_at")
        .order_by("run_id")
        .annotate(cents=Sum("admin_fee_cents"))
    )
    posted = dict(
        JournalEntry.objects.filter(
            source_type="capitation_run", source_id__in=[str(s["run_id"]) for s in sums]
        ).values_list("source_id", "date")
    )
    out: dict[Month, int] = defaultdict(int)
    for s in sums:
        day = posted.get(str(s["run_id"]))
        month = Month.of(day) if day is not None else _month_of(s["run__approved_at"])
        if first <= month <= last:
            out[month] += int(s["cents"] or 0)
    return dict(out)


@dataclass(frozen=True, slots=True)
class ServiceMonth:
    """Services the IPA performed for the practice in a month (counts)."""

    month: Month
    claims_adjudicated: int
    authorizations_decided: int
    gaps_closed: int
    credentialing_decisions: int


def _counts_by_month(rows: Iterable[dict[str, Any]], key: str = "month") -> dict[Month, int]:
    out: dict[Month, int] = defaultdict(int)
    for r in rows:
        if r[key] is not None:
            out[_month_of(r[key])] += int(r["n"])
    return out


def _gaps_closed(actor: Actor, practice_id: int, first: Month, last: Month) -> dict[Month, int]:
    """Care gaps open in one quality run and no longer open in the next run of the same measurement year, the
    member attributed to the practice in the later run; counted in the later run's as-of month."""
    out: dict[Month, int] = defaultdict(int)
    runs = list(QualityRun.objects.order_by("measurement_year", "as_of", "run_at", "pk"))
    for before, after in itertools.pairwise(runs):
        if before.measurement_year != after.measurement_year:
            continue
        month = Month.of(after.as_of)
        if not first <= month <= last:
            continue
        keys = ("member_id", "measure", "rate", "episode_id")
        was_open = set(
            MeasureResult.objects.filter(run=before, gap=True, member_id__in=MeasureResult.objects.filter(
                run=after, practice_id=practice_id).values("member_id")).values_list(*keys)
        )  # fmt: skip
        now = MeasureResult.objects.filter(run=after, practice_id=practice_id)
        still_open = set(now.filter(gap=True).values_list(*keys))
        present = set(now.values_list(*keys))
        out[month] += len((was_open & present) - still_open)
    return dict(out)


def services_by_month(actor: Actor, practice_id: int, months: Sequence[Month]) -> list[ServiceMonth]:
    """Claims of the practice with a line adjudicated in the month, its authorization requests decided, care gaps
    closed for its members, and credentialing committee decisions on its providers."""
    first, last = months[0], months[-1]
    start, end = first.first_day, last.last_day
    claims = _counts_by_month(
        ClaimLine.objects.filter(
            claim__in=claim_selectors.claim_scope(actor),
            adjudicated_at__date__gte=start,
            adjudicated_at__date__lte=end,
        )
        .annotate(month=TruncMonth("adjudicated_at"))
        .values("month")
        .order_by("month")
        .annotate(n=Count("claim_id", distinct=True))
    )
    decided = _counts_by_month(
        um_selectors.request_queryset(actor, practice_id=practice_id)
        .filter(decided_at__date__gte=start, decided_at__date__lte=end)
        .annotate(month=TruncMonth("decided_at"))
        .values("month")
        .order_by("month")
        .annotate(n=Count("id"))
    )
    gaps = _gaps_closed(actor, practice_id, first, last)
    providers = Affiliation.objects.filter(practice_id=practice_id).values("provider_id")
    credentialing = _counts_by_month(
        CommitteeDecision.objects.filter(
            provider_id__in=providers, decided_on__gte=start, decided_on__lte=end
        )
        .exclude(decision=CommitteeDecision.Decision.DEFER)
        .annotate(month=TruncMonth("decided_on"))
        .values("month")
        .order_by("month")
        .annotate(n=Count("id"))
    )
    return [
        ServiceMonth(m, claims.get(m, 0), decided.get(m, 0), gaps.get(m, 0), credentialing.get(m, 0))
        for m in months
    ]


@dataclass(frozen=True)
class ValueOfMembership:
    months: list[Month]
    rows: list[ValueMonth]
    totals: ValueTotals
    services: list[ServiceMonth]

    @property
    def service_totals(self) -> dict[str, int]:
        return {
            "claims_adjudicated": sum(s.claims_adjudicated for s in self.services),
            "authorizations_decided": sum(s.authorizations_decided for s in self.services),
            "gaps_closed": sum(s.gaps_closed for s in self.services),
            "credentialing_decisions": sum(s.credentialing_decisions for s in self.services),
        }


def value_of_membership(actor: Actor, practice_id: int, today: dt.date) -> ValueOfMembership:
    """The last VALUE_MONTHS months (ending with `today`'s) of money and services, for the actor's practice."""
    last = Month.of(today)
    first = last - (VALUE_MONTHS - 1)
    months = list(Month.range(first, last))
    flows = ledger_selectors.practice_monthly_flows(actor, practice_id, first, last)
    rows = value_months(flows, admin_fees_by_month(practice_id, first, last), months)
    return ValueOfMembership(months, rows, value_totals(rows), services_by_month(actor, practice_id, months))


# -- the other cards ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statements:
    capitation: list[Any]
    incentives: list[Any]
    savings: list[Any]
    invoices: list[Any]
    fee_balance: Any  # association's Aging, or None without fee activity


def statements(actor: Actor, practice: Practice, today: dt.date) -> Statements:
    """The latest statements of each kind, the practice's own (each app's selector scopes them)."""
    balance = next(
        (b.aging for b in fee_selectors.balances(actor, as_of=today) if b.practice.pk == practice.pk), None
    )
    return Statements(
        capitation=list(cap_selectors.statement_list(actor, practice_id=practice.pk)[:LATEST]),
        incentives=list(incentive_selectors.statement_list(actor).filter(practice_id=practice.pk)[:LATEST]),
        savings=list(savings_selectors.statement_list(actor).filter(practice_id=practice.pk)[:LATEST]),
        invoices=list(fee_selectors.issued_invoices(actor, practice_id=practice.pk)[:LATEST]),
        fee_balance=balance,
    )


def offers_awaiting(actor: Actor, practice: Practice) -> list[OfferPackage]:
    """Offers conveyed to the practice, still open, that the practice has not answered; soonest deadline first.
    The list is recorded as a read of fee data (ADR 0012)."""
    if not has_perm(actor, Perm.VIEW_OFFERS):
        return []
    answered = OfferResponse.objects.filter(conveyance__practice_id=practice.pk).values(
        "conveyance__offer_id"
    )
    offers = list(
        messenger_selectors.offer_list(actor)
        .filter(status=OfferPackage.Status.CONVEYED)
        .exclude(pk__in=answered)
        .order_by("respond_by", "pk")
    )
    if offers:
        messenger_selectors.record_offer_list(actor, [o.pk for o in offers])
    return offers


@dataclass(frozen=True)
class GapCard:
    run: QualityRun | None
    total: int = 0
    by_measure: list[dict[str, Any]] = field(default_factory=list)
    by_pcp: list[quality_selectors.PcpGaps] = field(default_factory=list)


def gaps(actor: Actor) -> GapCard:
    """Open care gaps of the latest quality run, the practice's own: counts by measure rate and by PCP."""
    runs = quality_selectors.runs(actor, limit=1)
    if not runs:
        return GapCard(None)
    run = runs[0]
    names = quality_selectors.measure_names(run)
    rows = (
        quality_selectors.gap_queryset(actor, run)
        .order_by()
        .values("measure", "rate")
        .annotate(n=Count("pk"))
        .order_by("-n", "measure", "rate")
    )
    by_measure = [
        {"measure": r["measure"], "rate": r["rate"], "name": names.get(r["measure"], r["measure"]), "gaps": r["n"],
         "filter": f"{r['measure']}|{r['rate']}"}
        for r in rows
    ]  # fmt: skip
    by_pcp = quality_selectors.gaps_by_pcp(actor, run)
    return GapCard(run, sum(r["gaps"] for r in by_measure), by_measure, by_pcp)


@dataclass(frozen=True)
class ClaimCard:
    month: Month
    by_status: list[tuple[str, str, int]]  # (status, label, count) received this month
    total: int
    latest: list[Claim]


def claims(actor: Actor, today: dt.date) -> ClaimCard:
    """The practice's claims received this month by status, and the last claims received (a read of their
    members, audited by the claims selector)."""
    month = Month.of(today)
    found = dict(
        claim_selectors.claim_queryset(actor, received_from=month.first_day, received_to=month.last_day)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    by_status = [
        (value, label, int(found.get(value, 0))) for value, label in claim_selectors.claim_statuses()
    ]
    latest = claim_selectors.claim_page(actor, page=1, per_page=LATEST, purpose=PURPOSE).items
    return ClaimCard(month, by_status, sum(n for _v, _l, n in by_status), list(latest))


@dataclass(frozen=True)
class AuthorizationCard:
    open: int
    overdue: int
    due_24h: int
    next_due: list[AuthRequest]


def authorizations(actor: Actor, practice: Practice, now: dt.datetime) -> AuthorizationCard:
    """The practice's open requests (it requested them): how many, overdue, due within 24 hours, and the next
    ones due (their numbers and due times; recorded as a read)."""
    open_ = um_selectors.request_queryset(actor, status=AuthRequest.OPEN, practice_id=practice.pk)
    counts = open_.aggregate(
        total=Count("id"),
        overdue=Count("id", filter=Q(due_at__lt=now)),
        soon=Count("id", filter=Q(due_at__gte=now, due_at__lt=now + dt.timedelta(hours=24))),
    )
    shown = list(open_[:LATEST])
    if shown:
        um_selectors.record_request_read(actor, shown, purpose=PURPOSE)
    return AuthorizationCard(int(counts["total"]), int(counts["overdue"]), int(counts["soon"]), shown)


SCORECARD_KEYS = ("risk_adjusted_cost_pmpm", "admissions_per_1000", "ed_per_1000", "referrals_per_1000",
                  "denial_rate", "raf", "recapture_rate", "gap_closure_rate")  # fmt: skip


@dataclass(frozen=True)
class ScorecardCard:
    scorecard: scorecard_selectors.Scorecard
    rows: list[scorecard_selectors.MetricRow]


def scorecard(actor: Actor, practice: Practice, today: dt.date) -> ScorecardCard:
    """The practice's scorecard for the last complete quarter: the headline metrics and the quality rows."""
    card = scorecard_selectors.practice_scorecard(actor, practice.pk, sc.default_period(today))
    headline = [r for r in card.rows if r.key in SCORECARD_KEYS]
    quality = [r for r in card.rows if r.group == "quality" and r.key not in SCORECARD_KEYS][:3]
    return ScorecardCard(card, headline + quality)
