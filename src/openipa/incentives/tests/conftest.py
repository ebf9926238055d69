"""The small IPA with a settled first quarter of 2026: approved capitation runs (their member-month lines with
withhold, risk pool and PCP capitation), a quality run, and a claim the IPA paid. Numbers (by hand):

- Alder (practice A): member A in January, February and March: 3 member-months, withheld 3 x 1,000 = 3,000,
  risk pool 3 x 500 = 1,500, PCP capitation 3 x 20,000 = 60,000 cents. CBP 3 of 4: 0.75 >= 0.72 target.
- Birch (practice B): member B in January and February: 2 member-months, withheld 2 x 800 = 1,600, risk pool
  2 x 400 = 800, PCP capitation 2 x 16,000 = 32,000 cents. CBP 2 of 4: 0.50, below the target.
- Claims the IPA paid: member A, a service on 10 February, 3,000 cents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from openipa.accounts.services import user_create
from openipa.capitation.models import DistributionLine, DistributionRun
from openipa.claims.models import Claim, ClaimImport, ClaimLine
from openipa.core.roles import Role
from openipa.incentives import services
from openipa.quality.models import MeasureResult, QualityRun, RateResult

PASSWORD = "x" * 12
MEASURES = [{"measure": "CBP", "weight": 100}]


def capitation_run(ipa: Any, month: dt.date, lines: list[tuple[Any, Any, int, int, int]], kind: str = "regular"
                   ) -> DistributionRun:  # fmt: skip
    """An approved run of ``month`` with lines (member, practice, withhold, risk pool, PCP gross cents)."""
    run = DistributionRun.objects.create(payer=ipa.payer, month=month, kind=kind, status="approved",
                                         prepared_by="t", approved_by="u", pool_cents=0)  # fmt: skip
    for member, practice, withhold, risk, gross in lines:
        DistributionLine.objects.create(run=run, member=member, month=month, practice=practice,
                                        withhold_cents=withhold, risk_pool_cents=risk, pcp_gross_cents=gross)  # fmt: skip
    return run


@pytest.fixture
def ipa(small_ipa: Any) -> Any:
    a, b = small_ipa.practice_a, small_ipa.practice_b
    for month in (dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)):
        lines = [(small_ipa.member_a, a, 1000, 500, 20000)]
        if month.month < 3:
            lines.append((small_ipa.member_b, b, 800, 400, 16000))
        capitation_run(small_ipa, month, lines)
    # a draft run of April is not an input
    DistributionRun.objects.create(payer=small_ipa.payer, month=dt.date(2026, 4, 1), prepared_by="t")
    quality = QualityRun.objects.create(measurement_year=2026, as_of=dt.date(2026, 3, 31), run_at=timezone.now(),
                                        run_by="t", definitions_sha256="0" * 64, value_sets_sha256="0" * 64,
                                        member_count=2, status="complete")  # fmt: skip
    RateResult.objects.create(run=quality, measure="CBP", rate="CBP", eligible=8, excluded=0, denominator=8,
                              numerator=5)  # fmt: skip
    for member, practice, hits in ((small_ipa.member_a, a, 3), (small_ipa.member_b, b, 2)):
        for i in range(4):
            MeasureResult.objects.create(run=quality, measure="CBP", rate="CBP", member=member, episode_id=str(i),
                                         excluded=False, denominator=True, numerator=i < hits, practice=practice)  # fmt: skip
    source = ClaimImport.objects.create(file_name="x.837", sha256="0" * 64, format="x12", status="imported",
                                        received_on=dt.date(2026, 3, 1), imported_by="t")  # fmt: skip
    claim = Claim.objects.create(source=source, kind="professional", patient_control_number="C1", member=small_ipa.member_a,
                                 member_key="SUN0001", billing_npi="1912301953", service_from=dt.date(2026, 2, 10),
                                 service_to=dt.date(2026, 2, 10), received_on=dt.date(2026, 2, 20), charge_cents=9000,
                                 status="paid")  # fmt: skip
    ClaimLine.objects.create(claim=claim, number=1, code="99213", units=1, charge_cents=9000,
                             service_from=dt.date(2026, 2, 10), service_to=dt.date(2026, 2, 10), outcome="paid",
                             responsible="ipa", service_category="professional", paid_cents=3000, payment_run_id=1)  # fmt: skip
    ClaimLine.objects.create(claim=claim, number=2, code="99214", units=1, charge_cents=9000,
                             service_from=dt.date(2026, 2, 10), service_to=dt.date(2026, 2, 10), outcome="paid",
                             responsible="health_plan", paid_cents=7000, payment_run_id=1)  # fmt: skip
    small_ipa.users["fin2"] = user_create(actor=None, username="fin2", password=PASSWORD, role=Role.FINANCE)
    small_ipa.quality_run = quality
    return small_ipa


def add_formulas(ipa: Any, **quality: Any) -> dict[str, Any]:
    fin = ipa.users["fin"]
    common = {"actor": fin, "contract": ipa.contract, "valid_from": dt.date(2026, 1, 1)}
    return {
        "quality": services.save_formula(**common, kind="quality", name="Quality pool 2026",
                                         params={"measures": MEASURES, "threshold": "60", "pool_source": "fixed",
                                                 "fixed_pool_cents": 100_000, **quality}),
        "withhold": services.save_formula(**common, kind="withhold", name="Withhold return 2026",
                                          params={"measures": MEASURES, "tiers": [
                                              {"min_score": "80", "percent": "100"},
                                              {"min_score": "60", "percent": "50"}]}),
        "risk_pool": services.save_formula(**common, kind="risk_pool", name="Professional risk pool 2026",
                                           params={"service_categories": ["professional"], "surplus_share_percent": "50",
                                                   "deficit_share_percent": "100", "cap_kind": "amount",
                                                   "cap_cents": 300}),
    }  # fmt: skip
