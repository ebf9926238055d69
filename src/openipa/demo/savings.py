"""The demo's shared savings: terms for the Medicare Advantage contract (a payer deal) and an MSSP-style term on a
synthetic ACO contract with the same payer, a settled, approved and paid run, and forecasts of this year.

The demo has twelve months of claims, not a prior calendar year, so the "prior-year" settlement is of the last
twelve full months available (the demo's window), with claims paid by the demo's last day and completed with
an IBNR estimate (prepared by ``finance`` and approved by ``finance-2`` through the claims services). Its
benchmarks are set from the data: the payer deal's PMPM 10% above the window's paid PMPM, the ACO's
per-beneficiary-year benchmark 6% above it, so the example earns savings; the MSSP-style term takes its
minimum savings rate from the one-sided table when the ACO has at least 5,000 assigned beneficiaries, and a
fixed 2% (a two-sided ACO's elected MSR) otherwise. Everything goes through the services, as users would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from django.conf import settings

from openipa.accounts.models import User
from openipa.claims.models import IbnrEstimate
from openipa.claims.services import reserves as reserve_services
from openipa.contracts.models import Contract, LineOfBusiness, Product
from openipa.contracts.services import contract_create
from openipa.core.months import Month
from openipa.quality.models import QualityRun
from openipa.risk.models import RiskRun
from openipa.savings import selectors, services
from openipa.savings.models import SavingsTerm

STAGE = "Shared savings"
ProgressFn = Callable[[str, int, int], None]
MA = LineOfBusiness.MEDICARE_ADVANTAGE
PAYER_MARGIN = Fraction(110, 100)
ACO_MARGIN = Fraction(106, 100)
FORECAST_SAMPLES = 1000


@dataclass(frozen=True)
class SavingsSummary:
    payer_contract: str = ""
    aco_contract: str = ""
    terms: int = 0
    settled_run: int = 0
    settled_from: str = ""
    settled_to: str = ""
    shared_cents: int = 0
    practices_paid: int = 0
    forecasts: tuple[int, ...] = ()
    ibnr_estimate: int | None = None
    aco_msr: str = ""


def _stage(progress: ProgressFn | None, done: int, total: int) -> None:
    if progress is not None:
        progress(STAGE, done, total)


def _ma_contract() -> Contract | None:
    payers = Product.objects.filter(line_of_business=MA).values_list("payer_id", flat=True)
    return Contract.objects.filter(payer_id__in=list(payers)).order_by("number").first()


def _paid_pmpm(contract: Contract, first: Month, last: Month, cutoff: dt.date) -> Fraction:
    """The window's paid cost per attributed member-month, in cents (what the demo's benchmarks build on)."""
    probe = SavingsTerm(contract=contract, line_of_business=MA)
    attribution = selectors.attribution_frame(None, probe, first, last)
    paid = selectors.paid_frame(contract.payer_id, first, last, cutoff)
    attributed = attribution.join(paid, on=["member_id", "month"], how="inner")
    months = max(attribution.height, 1)
    return Fraction(int(attributed["paid_cents"].sum() or 0), months)


def _dollars(cents: Fraction) -> Decimal:
    return Decimal(round(cents)) / 100


def _ibnr(today: dt.date, preparer: User, approver: User) -> IbnrEstimate | None:
    try:
        estimate = reserve_services.estimate_ibnr(
            preparer, Month.of(today), months=12, group_by=["line_of_business"]
        )
        return reserve_services.approve_estimate(approver, estimate)
    except reserve_services.ReserveRefused:
        return None


def build_savings(*, seed: int, today: dt.date, progress: ProgressFn | None = None) -> SavingsSummary:
    """Terms, a formula, the settled and paid run of the last twelve full months, and forecasts of this year.
    Deterministic for a database built by the demo with ``seed`` (the forecasts' bootstrap is seeded by it)."""
    contract = _ma_contract()
    if contract is None:
        return SavingsSummary()
    total = 6
    _stage(progress, 0, total)
    finance = User.objects.get(username="finance")
    finance_2 = User.objects.get(username="finance-2")
    last = Month.of(today) if today == Month.of(today).last_day else Month.of(today) - 1
    first = last - 11
    estimate = _ibnr(today, finance, finance_2)
    _stage(progress, 1, total)
    pmpm = _paid_pmpm(contract, first, last, today)
    if pmpm <= 0:
        # a demo built without claims has no cost to set a benchmark from, nor anything to settle
        _stage(progress, total, total)
        return SavingsSummary(payer_contract=contract.number)
    if estimate is not None:
        pmpm = pmpm * Fraction(int(estimate.total_paid_cents + estimate.total_ibnr_cents),
                               max(int(estimate.total_paid_cents), 1))  # fmt: skip
    services.term_create(finance, contract=contract, data={
        "kind": "payer", "name": f"{contract.payer.name} shared savings", "line_of_business": MA,
        "benchmark_basis": "pmpm", "benchmark_amount": _dollars(pmpm * PAYER_MARGIN), "msr_source": "fixed",
        "msr_percent": "2", "first_dollar": False, "sharing_percent": "50", "quality_min_score": "40",
        "quality_scale": [["40", "50"], ["55", "75"], ["70", "100"]], "savings_cap_percent": "10",
        "two_sided": True, "mlr_percent": "2", "loss_sharing_percent": "30", "loss_cap_percent": "5",
        "risk_adjust": False, "ibnr_completion": True, "valid_from": first.first_day,
    })  # fmt: skip
    products = list(Product.objects.filter(payer=contract.payer, line_of_business=MA))
    aco = contract_create(actor=finance, data={
        "payer": contract.payer, "number": f"ACO-{contract.payer.code}-{first.year}",
        "name": f"{contract.payer.name} accountable care (MSSP-style)", "legal_basis": "clinically_integrated",
        "valid_from": first.first_day,
    }, products=products)  # fmt: skip
    probe = SavingsTerm(contract=aco, line_of_business=MA)
    beneficiaries = selectors.attribution_frame(None, probe, first, last).select("member_id").n_unique()
    table = beneficiaries >= 5_000
    services.term_create(finance, contract=aco, data={
        "kind": "mssp", "name": "ACO shared savings (ENHANCED)", "line_of_business": MA, "track": "ENHANCED",
        "benchmark_basis": "beneficiary_year", "benchmark_amount": _dollars(pmpm * 12 * ACO_MARGIN),
        "msr_source": "table" if table else "fixed", "msr_table": "mssp_one_sided" if table else "",
        "msr_percent": "0" if table else "2", "mlr_percent": "2", "first_dollar": True, "quality_min_score": "40",
        "quality_standard": "the quality performance standard: a pooled quality score of at least 40%",
        "ibnr_completion": True, "valid_from": first.first_day,
    })  # fmt: skip
    formula = services.formula_create(finance, data={
        "name": "standard", "reserve_percent": "5", "admin_fee_percent": "3", "valid_from": first.first_day,
        "pools": [{"key": "member_months", "percent": "50"}, {"key": "quality", "percent": "30"},
                  {"key": "efficiency", "percent": "20"}],
    })  # fmt: skip
    _stage(progress, 2, total)
    quality_run = QualityRun.objects.order_by("-as_of", "-id").first()
    risk_run = RiskRun.objects.filter(status=RiskRun.Status.APPROVED).order_by("-payment_year", "-id").first()
    snapshot = services.take_snapshot(finance, contract=contract, first=first, last=last, cutoff=today,
                                      quality_run=quality_run, risk_run=risk_run, ibnr_estimate=estimate)  # fmt: skip
    run = services.prepare_run(finance, snapshot=snapshot, formula=formula)
    _stage(progress, 3, total)
    run = services.approve_run(finance_2, run)
    paid = 0
    if run.shared_cents > 0:
        out = Path(settings.VAR_DIR) / "demo" / "payments" / f"savings-run-{run.pk}.ach"
        run = services.pay_run(finance, run, out=out, effective=today + dt.timedelta(days=1))
        paid = run.shares.filter(status="sent").count()
    _stage(progress, 4, total)
    forecasts = []
    year_first, year_last = Month(today.year, 1), Month(today.year, 12)
    for target in (contract, aco):
        forecasts.append(services.make_forecast(
            finance, contract=target, first=year_first, last=year_last, as_of=today, samples=FORECAST_SAMPLES,
            seed=seed, quality_run=quality_run, risk_run=risk_run,
        ).pk)  # fmt: skip
    _stage(progress, total, total)
    return SavingsSummary(
        payer_contract=contract.number, aco_contract=aco.number, terms=2, settled_run=run.pk,
        settled_from=str(first), settled_to=str(last), shared_cents=run.shared_cents, practices_paid=paid,
        forecasts=tuple(forecasts), ibnr_estimate=estimate.pk if estimate else None,
        aco_msr="table" if table else "fixed 2%",
    )  # fmt: skip
