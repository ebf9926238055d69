"""The demo's incentive settlements, made through the incentives services as finance would, after every other
stage: a formula version of each kind for each contract with a distribution rule, then for the last complete
quarter a quality-pool settlement and a withhold-return settlement (prepared by ``finance``, approved by
``finance-2`` and paid by a NACHA file under ``var/demo/payments/``) and a risk-pool settlement left as a draft
for a new user to look at and approve.

The demo's monthly capitation runs pay the quality pool out with each month's capitation, so the quality pool
liability holds nothing: the demo's quality formulas use a fixed pool per quarter, funded from the IPA's
capitation revenue (docs/incentives.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from openipa.accounts.models import User
from openipa.capitation.models import DistributionRule
from openipa.contracts.models import Contract
from openipa.incentives import engine, services
from openipa.incentives.models import Kind, SettlementLine
from openipa.quality.gapdata import load_targets
from openipa.quality.models import QualityRun, RateResult

ProgressFn = Callable[[str, int, int], None]
STAGE = "Incentive settlements"
QUALITY_POOL_CENTS = 2_500_000
"""The demo's fixed quality pool per contract and quarter: $25,000."""
MAX_MEASURES = 6
WITHHOLD_TIERS = [{"min_score": "80", "percent": "100"}, {"min_score": "60", "percent": "50"},
                  {"min_score": "40", "percent": "25"}]  # fmt: skip


@dataclass(frozen=True)
class IncentivesSummary:
    period: str = ""
    formulas: int = 0
    paid_runs: tuple[int, ...] = ()
    approved_runs: tuple[int, ...] = ()
    """Approved runs that owe no practice anything (nothing to pay)."""
    draft_runs: tuple[int, ...] = ()
    paid_cents: int = 0
    skipped: tuple[str, ...] = ()


def last_complete_quarter(today: dt.date) -> engine.Period:
    """The last quarter that ended before ``today``'s month began (the demo leaves its last month undistributed)."""
    first = today.replace(day=1)
    quarter = (first.month - 1) // 3  # quarters wholly before this month, this year
    if quarter == 0:
        return engine.parse_period(f"{first.year - 1}Q4")
    return engine.parse_period(f"{first.year}Q{quarter}")


def _measures(run: QualityRun) -> list[dict[str, object]]:
    """The run's rates that have an IPA target, the first MAX_MEASURES by name, weighted equally (or near)."""
    targets = load_targets(run.measurement_year)
    keys = sorted(
        {(r.measure, r.rate) for r in RateResult.objects.filter(run=run, denominator__gt=0)} & set(targets)
    )
    keys = keys[:MAX_MEASURES]
    weights = [100 // len(keys)] * len(keys) if keys else []
    for i in range(100 - sum(weights)):
        weights[i] += 1
    return [{"measure": m, "rate": r, "weight": w} for (m, r), w in zip(keys, weights, strict=True)]


def build_incentives(*, seed: int, today: dt.date, progress: ProgressFn | None = None) -> IncentivesSummary:
    """Formulas for the demo contracts and the last complete quarter's settlements (see the module's doc).
    Deterministic for a seed: nothing here is random (the seed is the demo's, kept for the stage's signature)."""
    del seed
    preparer = User.objects.get(username="finance")
    approver = User.objects.get(username="finance-2")
    period = last_complete_quarter(today)
    quality = QualityRun.objects.filter(measurement_year=period.year).order_by("-run_at", "-pk").first()
    contracts = list(
        Contract.objects.filter(
            pk__in=DistributionRule.objects.values("contract_id"), status=Contract.Status.ACTIVE
        )
        .select_related("payer")
        .order_by("number")
    )
    steps = max(len(contracts), 1)
    if progress is not None:
        progress(STAGE, 0, steps)
    measures = _measures(quality) if quality is not None else []
    formulas = 0
    paid: list[int] = []
    approved: list[int] = []
    drafts: list[int] = []
    skipped: list[str] = []
    paid_cents = 0
    for n, contract in enumerate(contracts, start=1):
        valid_from = max(contract.valid_from, dt.date(period.year, 1, 1))
        common: dict[str, Any] = {"actor": preparer, "contract": contract, "valid_from": valid_from}
        kinds: list[str] = [Kind.RISK_POOL]
        services.save_formula(**common, kind=Kind.RISK_POOL, name=f"{contract.payer.code} risk pool {period.year}",
                              params={"service_categories": [], "surplus_share_percent": "50",
                                      "surplus_basis": "member_months", "deficit_share_percent": "50",
                                      "cap_kind": "percent_of_capitation", "cap_percent": "10"})  # fmt: skip
        formulas += 1
        if measures:
            services.save_formula(**common, kind=Kind.QUALITY, name=f"{contract.payer.code} quality pool {period.year}",
                                  params={"measures": measures, "scoring": "target", "min_denominator": 5,
                                          "threshold": "50", "pool_source": "fixed",
                                          "fixed_pool_cents": QUALITY_POOL_CENTS, "basis": "pool"})  # fmt: skip
            services.save_formula(**common, kind=Kind.WITHHOLD,
                                  name=f"{contract.payer.code} withhold return {period.year}",
                                  params={"measures": measures, "scoring": "stars", "min_denominator": 5,
                                          "tiers": WITHHOLD_TIERS, "unscored_percent": "100"})  # fmt: skip
            formulas += 2
            kinds = [Kind.QUALITY, Kind.WITHHOLD, Kind.RISK_POOL]
        for kind in kinds:
            try:
                run = services.prepare_settlement(actor=preparer, contract=contract, kind=kind, period=period.label,
                                                  quality_run_id=quality.pk if quality is not None else None)  # fmt: skip
            except services.SettlementRefused as exc:
                skipped.append(f"{contract.number} {kind}: {exc}")
                continue
            if kind == Kind.RISK_POOL:
                drafts.append(run.pk)
                continue
            services.approve_settlement(actor=approver, run=run)
            if not run.lines.filter(pay_status=SettlementLine.PayStatus.PENDING).exists():
                approved.append(run.pk)  # owes no practice anything (a contract without a withhold)
                continue
            out = (
                Path(settings.VAR_DIR) / "demo" / "payments" / f"incentive-{run.pk}-{contract.payer.code}.ach"
            )
            try:
                record = services.pay_settlement(actor=preparer, run=run, out=out, effective=today)
            except services.SettlementRefused as exc:
                skipped.append(f"{contract.number} {kind} payment: {exc}")
                continue
            paid.append(run.pk)
            paid_cents += record.total_cents
        if progress is not None:
            progress(STAGE, n, steps)
    return IncentivesSummary(period=period.label, formulas=formulas, paid_runs=tuple(paid), approved_runs=tuple(approved), draft_runs=tuple(drafts),
                             paid_cents=paid_cents, skipped=tuple(skipped))  # fmt: skip
