"""The demo's membership fees and health-improvement programs, made through the association services as finance
and quality staff would, after every other stage:

- a membership-fee term for every practice with a participation agreement (about one in five pays a percent of
  its revenue through the IPA, with a minimum and a maximum; the rest a flat monthly fee);
- invoices for the three months before ``today``'s month, each prepared by ``finance``, approved by
  ``finance-2`` and issued on the 1st of the following month;
- payments: most practices pay each invoice 5 to 25 days after it is issued; a few pay late (only their first
  invoice) or not at all; one overpays by $100.00 (a credit balance);
- two programs in the first two regions (by code), one on blood-pressure control (CBP) and one on diabetes
  control (GSD <8), with the year's first quality run as the baseline and one practice leaving the first
  program part way (when the demo has quality runs).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from openipa.accounts.models import User
from openipa.association import services
from openipa.association.models import Invoice, InvoiceRun, ProgramParticipant
from openipa.core.money import decimal_text
from openipa.core.months import Month
from openipa.network.models import ParticipationAgreement, Region
from openipa.quality.models import QualityRun

ProgressFn = Callable[[str, int, int], None]
STAGE = "Membership fees and programs"
MONTHS = 3
PROGRAMS = (
    ("CBP", "CBP", "Blood pressure control", "0.7000"),
    ("GSD", "GSD <8", "Diabetes A1c control", "0.6000"),
)


@dataclass(frozen=True)
class AssociationSummary:
    terms: int = 0
    percent_terms: int = 0
    runs: tuple[int, ...] = ()
    invoices: int = 0
    invoiced_cents: int = 0
    payments: int = 0
    paid_cents: int = 0
    late_practices: tuple[str, ...] = ()
    overpaid_practice: str = ""
    programs: tuple[int, ...] = ()


def _terms(rng: random.Random, first: Month, finance: User) -> tuple[int, int]:
    terms = percent = 0
    agreements = ParticipationAgreement.objects.select_related("practice").order_by(
        "practice__code", "valid_from"
    )
    for agreement in agreements:
        if agreement.valid_to is not None and agreement.valid_to < first.first_day:
            continue
        data: dict[str, object]
        if rng.random() < 0.2:
            data = {"method": "percent_of_revenue", "percent": str(Decimal(rng.randrange(150, 301)) / 100),
                    "minimum": "150.00", "maximum": "1500.00"}  # fmt: skip
            percent += 1
        else:
            data = {"method": "flat_monthly", "amount": f"{rng.randrange(6, 17) * 25}.00"}
        data |= {"valid_from": agreement.valid_from, "valid_to": agreement.valid_to, "payment_days": 30}
        services.fee_term_create(actor=finance, practice=agreement.practice, data=data)
        terms += 1
    return terms, percent


def _payments(rng: random.Random, today: dt.date, finance: User) -> tuple[int, int, tuple[str, ...], str]:
    """Pay the issued invoices (see the module's doc); return payments, cents, late practices, the overpayer."""
    by_practice: dict[int, list[Invoice]] = {}
    for invoice in Invoice.objects.filter(run__status=InvoiceRun.Status.ISSUED, credits__isnull=True).select_related(
        "practice"
    ).order_by("practice__code", "issue_date"):  # fmt: skip
        by_practice.setdefault(invoice.practice_id, []).append(invoice)
    count = cents = 0
    late: list[str] = []
    overpaid = ""
    for invoices in by_practice.values():
        practice = invoices[0].practice
        roll = rng.random()
        if roll < 0.08:
            late.append(practice.code)  # pays nothing yet
            continue
        chosen = invoices[:1] if roll < 0.2 else invoices
        if roll < 0.2:
            late.append(practice.code)
        for n, invoice in enumerate(chosen):
            assert invoice.issue_date is not None
            received = invoice.issue_date + dt.timedelta(days=rng.randrange(5, 26))
            if received > today:
                continue
            amount = invoice.total_cents
            if not overpaid and n == len(chosen) - 1 and roll >= 0.2:
                overpaid, amount = practice.code, amount + 10_000
            services.record_payment(
                actor=finance, practice=practice, amount=decimal_text(amount), received_on=received,
                method=rng.choice(("ach", "ach", "check", "wire")), reference=f"{practice.code}-{invoice.number[3:9]}",
                today=today,
            )  # fmt: skip
            count += 1
            cents += amount
    return count, cents, tuple(sorted(late)), overpaid


def _programs(today: dt.date, quality: User) -> tuple[int, ...]:
    runs = list(QualityRun.objects.filter(as_of__lte=today).order_by("as_of", "run_at", "pk"))
    if len(runs) < 2:
        return ()
    baseline = runs[0]
    year_end = dt.date(baseline.as_of.year, 12, 31)
    made = []
    for region, (measure, rate, title, target) in zip(
        Region.objects.order_by("code")[:2], PROGRAMS, strict=False
    ):
        program = services.program_create(actor=quality, data={
            "name": f"{title}: {region.name}", "region": region, "group_name": "", "measure": measure, "rate": rate,
            "initiative": f"Practices of {region.name} share outreach lists, call members with an open {measure} gap "
                          "and review results together each month.",
            "baseline_run": baseline, "target_rate": target, "start": baseline.as_of + dt.timedelta(days=1),
            "end": year_end, "status": "active"})  # fmt: skip
        made.append(program.pk)
    if made:
        first = ProgramParticipant.objects.filter(program_id=made[0]).order_by("practice__code").last()
        leave_on = runs[len(runs) // 2].as_of
        if first is not None and first.joined_on <= leave_on:
            services.participant_leave(actor=quality, participant=first, left_on=leave_on)
    return tuple(made)


def build_association(*, seed: int, today: dt.date, progress: ProgressFn | None = None) -> AssociationSummary:
    """Fee terms, three issued months of invoices, payments and two programs (see the module's doc).
    Deterministic for a seed."""
    rng = random.Random(f"association-{seed}")
    finance = User.objects.get(username="finance")
    approver = User.objects.get(username="finance-2")
    quality = User.objects.filter(role="quality").order_by("username").first()
    last = Month.of(today) - 1
    months = [last - (MONTHS - 1 - i) for i in range(MONTHS)]
    steps = 2 + MONTHS + 1
    if progress is not None:
        progress(STAGE, 0, steps)
    terms, percent = _terms(rng, months[0], finance)
    if progress is not None:
        progress(STAGE, 1, steps)
    runs: list[int] = []
    for n, month in enumerate(months, start=1):
        run = services.prepare_invoices(actor=finance, month=month)
        services.approve_run(actor=approver, run=run)
        issue = min(month.next().first_day, today)
        services.issue_run(actor=finance, run=run, issue_date=issue)
        runs.append(run.pk)
        if progress is not None:
            progress(STAGE, 1 + n, steps)
    count, cents, late, overpaid = _payments(rng, today, finance)
    if progress is not None:
        progress(STAGE, steps - 1, steps)
    programs = _programs(today, quality) if quality is not None else ()
    if progress is not None:
        progress(STAGE, steps, steps)
    issued = Invoice.objects.filter(run_id__in=runs)
    return AssociationSummary(
        terms=terms, percent_terms=percent, runs=tuple(runs), invoices=issued.count(),
        invoiced_cents=sum(i.total_cents for i in issued), payments=count, paid_cents=cents, late_practices=late,
        overpaid_practice=overpaid, programs=programs,
    )  # fmt: skip
