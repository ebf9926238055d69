"""Reads of the association app: fee terms, invoice runs, invoices, payments, balances and aging, statements of
account; health-improvement programs and their results.

Who sees what: IPA staff with VIEW_FINANCE see every practice's fees; a practice user sees its own practice's
invoices, payments and statement only (another practice's: NotFound, so it cannot learn it exists). Programs
need VIEW_GAPS; a practice user sees the programs its practice takes part in, its own rate, and the other
participants only as an aggregate of at least K practices other than its own (`min_peer_practices`, the
scorecards' effective-dated K), never one practice's rate.

Revenue through the IPA (the base of a percent-of-revenue fee) is read here from the other apps' tables, read
only: capitation (`PracticePayment` of approved or paid distribution runs of the month: PCP net plus
specialist and quality shares), claims (`ClaimPayment.net_cents` of approved or paid claims payment runs whose
payment date is in the month) and incentives (credits to ledger account 2650 with the practice's id, dated in
the month).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db.models import Count, Q, QuerySet, Sum

from openipa.association import engine
from openipa.association.models import (
    FeePayment,
    FeeTerm,
    Invoice,
    InvoiceRun,
    PaymentApplication,
    Program,
    ProgramParticipant,
)
from openipa.capitation.models import DistributionRun, PracticePayment
from openipa.claims.models import ClaimPayment, ClaimPaymentRun
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.money import to_cents
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.ledger import accounts
from openipa.ledger.models import JournalLine
from openipa.network.models import Practice
from openipa.performance.engine.scorecard import load_data as load_scorecard_data
from openipa.quality.models import MeasureResult, QualityRun


def min_peer_practices(on: dt.date) -> int:
    """K: a practice user sees a figure that includes other practices only when at least K practices OTHER than
    its own are behind it (so no single other practice's rate can be read off, nor worked out by subtracting its
    own). The scorecards' effective-dated setting (performance/data/scorecard.json, ADR 0019), in force on `on`."""
    return load_scorecard_data().settings_on(on).min_peer_practices


# -- access ---------------------------------------------------------------------------------------------------


def can_view_fees(actor: Actor) -> bool:
    if is_practice_scoped(actor):
        return actor.practice_id is not None
    return has_perm(actor, Perm.VIEW_FINANCE)


def require_fee_view(actor: Actor) -> None:
    if not can_view_fees(actor):
        raise PermissionDenied(f"role {actor.role!r} may not see membership fees")


def require_fee_staff(actor: Actor) -> None:
    """Runs and every practice's balances: IPA staff with VIEW_FINANCE only."""
    if is_practice_scoped(actor):
        raise PermissionDenied("practice users see their own invoices and statement only")
    require(actor, Perm.VIEW_FINANCE)


def practice_for(actor: Actor, practice_id: int) -> Practice:
    """The practice whose fees the actor asks about: a practice user's own only."""
    require_fee_view(actor)
    if is_practice_scoped(actor) and practice_id != scoped_practice_id(actor):
        raise NotFound(f"no practice {practice_id}")
    try:
        return Practice.objects.get(pk=practice_id)
    except Practice.DoesNotExist:
        raise NotFound(f"no practice {practice_id}") from None


def practice_by_code(code: str) -> Practice | None:
    return Practice.objects.filter(code__iexact=code.strip()).first()


# -- revenue through the IPA ----------------------------------------------------------------------------------

PAID_RUN_STATUSES = (DistributionRun.Status.APPROVED, DistributionRun.Status.PAID)


def revenue_by_practice(month: Month, practice_ids: list[int] | None = None) -> dict[int, engine.Revenue]:
    """Each practice's revenue through the IPA in `month` (practices with none are left out)."""
    capitation: dict[int, int] = defaultdict(int)
    claims: dict[int, int] = defaultdict(int)
    incentives: dict[int, int] = defaultdict(int)
    cap = PracticePayment.objects.filter(run__month=month.first_day, run__status__in=PAID_RUN_STATUSES)
    claim_rows = ClaimPayment.objects.filter(
        run__status__in=(ClaimPaymentRun.Status.APPROVED, ClaimPaymentRun.Status.PAID),
        run__payment_date__gte=month.first_day,
        run__payment_date__lte=month.last_day,
        practice__isnull=False,
    )
    ledger = JournalLine.objects.filter(
        account__code=accounts.INCENTIVES_PAYABLE,
        entry__date__gte=month.first_day,
        entry__date__lte=month.last_day,
        practice__isnull=False,
        credit__gt=0,
    )
    if practice_ids is not None:
        cap = cap.filter(practice_id__in=practice_ids)
        claim_rows = claim_rows.filter(practice_id__in=practice_ids)
        ledger = ledger.filter(practice_id__in=practice_ids)
    for row in cap.values("practice_id").annotate(
        net=Sum("pcp_net_cents"), spec=Sum("specialist_cents"), qual=Sum("quality_cents")
    ):
        capitation[row["practice_id"]] += (row["net"] or 0) + (row["spec"] or 0) + (row["qual"] or 0)
    for row in claim_rows.values("practice_id").annotate(net=Sum("net_cents")):
        claims[row["practice_id"]] += row["net"] or 0
    for row in ledger.values("practice_id").annotate(total=Sum("credit")):
        incentives[row["practice_id"]] += to_cents(row["total"] or Decimal(0))
    ids = set(capitation) | set(claims) | set(incentives)
    return {pid: engine.Revenue(capitation[pid], claims[pid], incentives[pid]) for pid in ids}


def revenue_sources(month: Month) -> dict[str, object]:
    """What a month's revenue was read from, recorded on the run: the capitation and claims payment runs."""
    return {
        "capitation_runs": sorted(
            set(
                PracticePayment.objects.filter(
                    run__month=month.first_day, run__status__in=PAID_RUN_STATUSES
                ).values_list("run_id", flat=True)
            )
        ),
        "claims_payment_runs": sorted(
            set(
                ClaimPayment.objects.filter(
                    run__status__in=(ClaimPaymentRun.Status.APPROVED, ClaimPaymentRun.Status.PAID),
                    run__payment_date__gte=month.first_day,
                    run__payment_date__lte=month.last_day,
                ).values_list("run_id", flat=True)
            )
        ),
        "incentives_ledger_account": accounts.INCENTIVES_PAYABLE,
    }


# -- terms, runs, invoices ------------------------------------------------------------------------------------


def fee_terms(actor: Actor, *, practice_id: int | None = None) -> QuerySet[FeeTerm]:
    require_fee_view(actor)
    qs = FeeTerm.objects.select_related("practice", "agreement").order_by("practice__code", "-valid_from")
    if is_practice_scoped(actor):
        qs = qs.filter(practice_id=scoped_practice_id(actor))
    elif practice_id is not None:
        qs = qs.filter(practice_id=practice_id)
    return qs


def fee_term_get(actor: Actor, term_id: int) -> FeeTerm:
    require_fee_staff(actor)
    term = FeeTerm.objects.select_related("practice").filter(pk=term_id).first()
    if term is None:
        raise NotFound(f"no fee term {term_id}")
    return term


def drafts_priced_by(term: FeeTerm) -> list[InvoiceRun]:
    """Draft runs with an invoice priced by ``term`` for a month after it ends: prepare them again."""
    if term.valid_to is None:
        return []
    return list(
        InvoiceRun.objects.filter(status=InvoiceRun.Status.DRAFT, invoices__lines__term=term,
                                  invoices__month__gt=term.valid_to).distinct().order_by("month", "pk")
    )  # fmt: skip


def term_in_force(terms: list[FeeTerm], month: Month) -> FeeTerm | None:
    """The term that prices `month`: in force on its last day, else one that ended during it (no proration)."""
    last = [
        t
        for t in terms
        if t.valid_from <= month.last_day and (t.valid_to is None or t.valid_to >= month.last_day)
    ]
    if last:
        return last[0]
    during = [
        t
        for t in terms
        if t.valid_from <= month.last_day and t.valid_to is not None and t.valid_to >= month.first_day
    ]
    return max(during, key=lambda t: t.valid_from) if during else None


def runs(actor: Actor, *, limit: int = 100) -> list[InvoiceRun]:
    require_fee_staff(actor)
    return list(InvoiceRun.objects.order_by("-month", "-id")[:limit])


def run_get(actor: Actor, run_id: int) -> InvoiceRun:
    require_fee_staff(actor)
    try:
        return InvoiceRun.objects.get(pk=run_id)
    except InvoiceRun.DoesNotExist:
        raise NotFound(f"no fee run {run_id}") from None


def run_invoices(actor: Actor, run: InvoiceRun) -> QuerySet[Invoice]:
    require_fee_staff(actor)
    return run.invoices.select_related("practice").order_by("practice__code")


def invoice_get(actor: Actor, invoice_id: int) -> Invoice:
    """One invoice: staff any; a practice user its own practice's issued invoices only (else NotFound)."""
    require_fee_view(actor)
    qs = Invoice.objects.select_related("run", "practice", "credits")
    if is_practice_scoped(actor):
        qs = qs.filter(practice_id=scoped_practice_id(actor), run__status=InvoiceRun.Status.ISSUED)
    try:
        return qs.get(pk=invoice_id)
    except Invoice.DoesNotExist:
        raise NotFound(f"no invoice {invoice_id}") from None


def invoice_by_number(actor: Actor, number: str) -> Invoice | None:
    """An invoice by its number, for staff naming it (a payment applied to it): None when there is none."""
    require_fee_staff(actor)
    return Invoice.objects.filter(number=number.strip()).first()


def issued_invoices(actor: Actor, *, practice_id: int | None = None) -> QuerySet[Invoice]:
    require_fee_view(actor)
    qs = Invoice.objects.filter(run__status=InvoiceRun.Status.ISSUED).select_related("practice", "credits")
    if is_practice_scoped(actor):
        qs = qs.filter(practice_id=scoped_practice_id(actor))
    elif practice_id is not None:
        qs = qs.filter(practice_id=practice_id)
    return qs.order_by("-issue_date", "-id")


def payments(actor: Actor, *, practice_id: int | None = None) -> QuerySet[FeePayment]:
    require_fee_view(actor)
    qs = FeePayment.objects.select_related("practice")
    if is_practice_scoped(actor):
        qs = qs.filter(practice_id=scoped_practice_id(actor))
    elif practice_id is not None:
        qs = qs.filter(practice_id=practice_id)
    return qs.order_by("-received_on", "-id")


# -- open items, credits, balances ----------------------------------------------------------------------------


def _applied_to(invoice_ids: list[int]) -> dict[int, int]:
    rows = (
        PaymentApplication.objects.filter(invoice_id__in=invoice_ids)
        .values("invoice_id")
        .annotate(total=Sum("amount_cents"))
    )
    return {r["invoice_id"]: r["total"] or 0 for r in rows}


def open_items(practice_id: int, *, through: dt.date | None = None) -> list[engine.OpenItem]:
    """The practice's issued invoices (not credit notes) with what is still owed on each."""
    qs = Invoice.objects.filter(
        practice_id=practice_id, run__status=InvoiceRun.Status.ISSUED, credits__isnull=True
    )
    if through is not None:
        qs = qs.filter(issue_date__lte=through)
    invoices = list(qs.order_by("issue_date", "id"))
    applied = _applied_to([i.pk for i in invoices])
    return [
        engine.OpenItem(i.pk, i.issue_date or i.month, i.total_cents - applied.get(i.pk, 0)) for i in invoices
    ]


@dataclass(frozen=True)
class Credit:
    """Money (a payment) or a credit note of a practice not yet applied to any invoice."""

    payment_id: int | None
    credit_note_id: int | None
    on: dt.date
    cents: int


def unapplied_credits(practice_id: int) -> list[Credit]:
    """Unapplied payments and credit notes, oldest first."""
    out: list[Credit] = []
    pay_applied = dict(
        PaymentApplication.objects.filter(payment__practice_id=practice_id)
        .values("payment_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("payment_id", "total")
    )
    for p in FeePayment.objects.filter(practice_id=practice_id).order_by("received_on", "id"):
        left = p.amount_cents - (pay_applied.get(p.pk) or 0)
        if left > 0:
            out.append(Credit(p.pk, None, p.received_on, left))
    note_applied = dict(
        PaymentApplication.objects.filter(credit_note__practice_id=practice_id)
        .values("credit_note_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("credit_note_id", "total")
    )
    notes = Invoice.objects.filter(
        practice_id=practice_id, run__status=InvoiceRun.Status.ISSUED, credits__isnull=False
    ).order_by("issue_date", "id")
    for n in notes:
        left = -n.total_cents - (note_applied.get(n.pk) or 0)
        if left > 0:
            out.append(Credit(None, n.pk, n.issue_date or n.month, left))
    return sorted(out, key=lambda c: (c.on, c.payment_id or 0, c.credit_note_id or 0))


@dataclass(frozen=True)
class Balance:
    practice: Practice
    aging: engine.Aging


def balances(actor: Actor, *, as_of: dt.date) -> list[Balance]:
    """Every practice with fee activity (staff), or the practice user's own: aging and credit."""
    require_fee_view(actor)
    ids = set(
        Invoice.objects.filter(run__status=InvoiceRun.Status.ISSUED).values_list("practice_id", flat=True)
    ) | set(FeePayment.objects.values_list("practice_id", flat=True))
    if is_practice_scoped(actor):
        ids &= {scoped_practice_id(actor)}
    practices = list(Practice.objects.filter(pk__in=ids).order_by("code"))
    items, credits = _accounts(ids)
    return [Balance(p, engine.aging(items.get(p.pk, []), credits.get(p.pk, 0), as_of)) for p in practices]


def _accounts(practice_ids: set[int]) -> tuple[dict[int, list[engine.OpenItem]], dict[int, int]]:
    """Open items and unapplied credit of many practices in a handful of queries (what `open_items` and
    `unapplied_credits` give one practice at a time)."""
    issued = Invoice.objects.filter(practice_id__in=practice_ids, run__status=InvoiceRun.Status.ISSUED)
    applied_to = _applied_to(list(issued.filter(credits__isnull=True).values_list("pk", flat=True)))
    items: dict[int, list[engine.OpenItem]] = defaultdict(list)
    credits: dict[int, int] = defaultdict(int)
    note_applied = dict(
        PaymentApplication.objects.filter(credit_note__practice_id__in=practice_ids)
        .values("credit_note_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("credit_note_id", "total")
    )
    rows = issued.order_by("issue_date", "id").values_list(
        "pk", "practice_id", "issue_date", "month", "total_cents", "credits_id"
    )
    for pk, practice_id, issue_date, month, total, credits_id in rows:
        if credits_id is None:
            items[practice_id].append(engine.OpenItem(pk, issue_date or month, total - applied_to.get(pk, 0)))
        else:
            credits[practice_id] += max(-total - (note_applied.get(pk) or 0), 0)
    pay_applied = dict(
        PaymentApplication.objects.filter(payment__practice_id__in=practice_ids)
        .values("payment_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("payment_id", "total")
    )
    for pk, practice_id, amount in FeePayment.objects.filter(practice_id__in=practice_ids).values_list(
        "pk", "practice_id", "amount_cents"
    ):
        credits[practice_id] += max(amount - (pay_applied.get(pk) or 0), 0)
    return dict(items), dict(credits)


def statement_of_account(
    actor: Actor, practice_id: int, *, start: dt.date, end: dt.date
) -> tuple[Practice, engine.Statement]:
    practice = practice_for(actor, practice_id)
    txns: list[engine.Txn] = []
    for inv in Invoice.objects.filter(
        practice_id=practice.pk, run__status=InvoiceRun.Status.ISSUED, issue_date__lte=end
    ).order_by("issue_date", "id"):
        kind = "Credit note" if inv.is_credit_note else "Invoice"
        ref = inv.number + (f" (credits {inv.credits.number})" if inv.credits_id and inv.credits else "")
        txns.append(engine.Txn(inv.issue_date or inv.month, inv.pk * 2, kind, ref, inv.total_cents))
    for pay in FeePayment.objects.filter(practice_id=practice.pk, received_on__lte=end):
        txns.append(
            engine.Txn(
                pay.received_on,
                pay.pk * 2 + 1,
                "Payment",
                f"{pay.get_method_display()} {pay.reference}",
                -pay.amount_cents,
            )
        )
    return practice, engine.statement(txns, start, end)


# -- programs -------------------------------------------------------------------------------------------------


def require_program_view(actor: Actor) -> None:
    require(actor, Perm.VIEW_GAPS)


def programs(actor: Actor) -> QuerySet[Program]:
    require_program_view(actor)
    qs = Program.objects.select_related("region", "baseline_run")
    if is_practice_scoped(actor):
        qs = qs.filter(participants__practice_id=scoped_practice_id(actor)).distinct()
    return qs.order_by("-start", "name")


def program_get(actor: Actor, program_id: int) -> Program:
    try:
        return programs(actor).get(pk=program_id)
    except Program.DoesNotExist:
        raise NotFound(f"no program {program_id}") from None


def participant_get(actor: Actor, program: Program, participant_id: int) -> ProgramParticipant:
    """One practice's participation in a program (NotFound when it is another program's)."""
    require_program_view(actor)
    participant = ProgramParticipant.objects.filter(program=program, pk=participant_id).first()
    if participant is None:
        raise NotFound(f"no participant {participant_id}")
    return participant


def participants_on(program: Program, on: dt.date) -> set[int]:
    """The practices taking part in the program on a date."""
    return set(
        ProgramParticipant.objects.filter(program=program, joined_on__lte=on)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=on))
        .values_list("practice_id", flat=True)
    )


def counts_by_practice(run_id: int, measure: str, rate: str) -> dict[int, tuple[int, int]]:
    """(numerator, denominator) per attributed practice of a run's measure rate (excluded members are out of
    the denominator, as the quality engine records them)."""
    rows = (
        MeasureResult.objects.filter(
            run_id=run_id, measure=measure, rate=rate, practice__isnull=False, denominator=True
        )
        .values("practice_id")
        .annotate(den=Count("pk"), num=Count("pk", filter=Q(numerator=True)))
    )
    return {r["practice_id"]: (r["num"], r["den"]) for r in rows}


@dataclass(frozen=True)
class GroupRate:
    numerator: int
    denominator: int
    practices: int

    @property
    def value(self) -> Fraction | None:
        return engine.rate(self.numerator, self.denominator)

    @property
    def text(self) -> str:
        return engine.percent_text(self.value)


def group_rate(counts: dict[int, tuple[int, int]], practice_ids: set[int]) -> GroupRate:
    num = sum(counts[p][0] for p in practice_ids if p in counts)
    den = sum(counts[p][1] for p in practice_ids if p in counts)
    return GroupRate(num, den, len([p for p in practice_ids if p in counts]))


@dataclass(frozen=True)
class ResultPoint:
    run: QualityRun
    participants: GroupRate | None
    """None for a practice user when fewer than K practices other than its own are in it."""
    comparison: GroupRate | None
    own: GroupRate | None
    """The practice user's own practice (None for staff)."""
    by_practice: list[tuple[Practice, GroupRate]]
    """Each participating practice (staff only: empty for a practice user)."""


@dataclass(frozen=True)
class ProgramResults:
    program: Program
    baseline: GroupRate | None
    """None for a practice user when fewer than K practices other than its own made the baseline."""
    points: list[ResultPoint]
    target: Fraction


def program_runs(program: Program) -> list[QualityRun]:
    """The baseline run and the quality runs whose as-of date lies in the program's span, oldest first."""
    in_span = QualityRun.objects.filter(as_of__gte=program.start, as_of__lte=program.end).exclude(
        pk=program.baseline_run_id
    )
    found = [program.baseline_run, *in_span.order_by("as_of", "run_at", "pk")]
    return found


def _others(practice_ids: set[int], counts: dict[int, tuple[int, int]], own_id: int | None) -> int:
    """How many practices other than `own_id` contribute to a group's figure."""
    return len([p for p in practice_ids if p in counts and p != own_id])


def program_results(actor: Actor, program: Program) -> ProgramResults:
    """The program's rate for its participants at each run against the baseline and the other practices."""
    require_program_view(actor)
    scoped = is_practice_scoped(actor)
    own_id = scoped_practice_id(actor) if scoped else None
    names = {p.pk: p for p in Practice.objects.all()}
    points: list[ResultPoint] = []
    for run in program_runs(program):
        counts = counts_by_practice(run.pk, program.measure, program.rate)
        members = participants_on(program, run.as_of)
        if run.pk == program.baseline_run_id and not members:
            members = participants_on(program, program.start)
        others = set(counts) - members
        participants = group_rate(counts, members)
        comparison = group_rate(counts, others)
        own = None
        by_practice: list[tuple[Practice, GroupRate]] = []
        if scoped:
            k = min_peer_practices(run.as_of)
            own = group_rate(counts, {own_id} if own_id in members else set())
            participants_shown = participants if _others(members, counts, own_id) >= k else None
            comparison_shown = comparison if _others(others, counts, own_id) >= k else None
        else:
            participants_shown, comparison_shown = participants, comparison
            by_practice = sorted(
                ((names[p], group_rate(counts, {p})) for p in members if p in names),
                key=lambda pr: pr[0].code,
            )
        points.append(ResultPoint(run, participants_shown, comparison_shown, own, by_practice))
    baseline_counts = counts_by_practice(program.baseline_run_id, program.measure, program.rate)
    made_baseline = len(participants_on(program, program.start) & set(baseline_counts))
    baseline: GroupRate | None = GroupRate(
        program.baseline_numerator, program.baseline_denominator, made_baseline
    )
    starters = participants_on(program, program.start)
    if scoped and _others(starters, baseline_counts, own_id) < min_peer_practices(program.baseline_run.as_of):
        baseline = None
    return ProgramResults(program, baseline, points, Fraction(program.target_rate))
