"""A small IPA for the scorecards, on the utilization fixtures (`um`, `decided`: member A's eight requests of
March 2026, five decided, one denied): claims paid, capitation paid, an ED visit, an imaging study, risk runs
and quality runs for the first quarter of 2026, and a way to add practices (each with one PCP and one member
eligible all year) and to set the scorecard data (minimum panel, K)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from openipa.capitation.models import DistributionLine, DistributionRun
from openipa.claims.models import Claim, ClaimImport, ClaimLine, ClaimPaymentRun
from openipa.conftest import SmallIpa
from openipa.performance.engine import scorecard as sc
from openipa.quality.models import MeasureResult, QualityRun, RateResult
from openipa.risk.models import CodingGap, MemberScore, RiskRun

D = dt.date
_NPIS = ("1003000035", "1003000084", "1003000175", "1003000217", "1003000266")


def set_data(monkeypatch: pytest.MonkeyPatch, *, min_member_months: int = 1, k: int = 2) -> None:
    doc = {
        "illustrative": True,
        "settings": [{"valid_from": "2020-01-01", "valid_to": None, "min_member_months": min_member_months,
                      "min_peer_practices": k}],
        "imaging": [{"valid_from": "2020-01-01", "valid_to": None, "ranges": [["70010", "79999"]]}],
        "targets": {"risk_adjusted_cost_pmpm": [{"valid_from": "2020-01-01", "valid_to": None, "value": "100.00",
                                                 "better": "lower"}]},
    }  # fmt: skip
    monkeypatch.setattr(sc, "load_data", lambda path=None: sc.parse_data(doc))


def add_practice(ipa: SmallIpa, n: int, code: str, name: str) -> tuple[Any, Any, Any]:
    """A practice with one PCP and one member on its panel, eligible from 1 January 2026."""
    from openipa.membership.services import eligibility_add, member_create, pcp_assign
    from openipa.network.services import affiliation_create, practice_create, provider_create

    system = ipa.users["admin"]
    practice = practice_create(actor=system, data={"code": code, "legal_name": name, "tin": f"9{n:08d}",
                                                   "address_line1": "1 Main St", "city": "Pasadena", "state": "CA",
                                                   "zip_code": "91101", "region": ipa.region})  # fmt: skip
    pcp = provider_create(actor=system, data={"npi": _NPIS[n], "first_name": "Pat", "last_name": f"Doc{code.title()}",
                                              "degree": "MD", "taxonomy_code": "207Q00000X", "specialty": "Family Medicine",
                                              "kind": "pcp", "panel_limit": 1000})  # fmt: skip
    affiliation_create(actor=system, provider=pcp, practice=practice, valid_from=D(2026, 1, 1))
    member = member_create(actor=None, data={"payer": ipa.payer, "payer_member_id": f"SUN{code}", "first_name": "Mo",
                                             "last_name": f"Member{code.title()}", "date_of_birth": D(1950, 1, 1),
                                             "sex": "F", "city": "Pasadena", "state": "CA"})  # fmt: skip
    eligibility_add(actor=None, member=member, product=ipa.product, valid_from=D(2026, 1, 1), valid_to=None)
    pcp_assign(actor=None, member=member, provider=pcp, valid_from=D(2026, 1, 1), valid_to=None)
    return practice, pcp, member


def _claim(ipa: SmallIpa, on: dt.date, code: str, *, paid: int = 0, run: int | None = None,
           reversal: int | None = None, pos: str = "11") -> None:  # fmt: skip
    source = ClaimImport.objects.first() or ClaimImport.objects.create(
        file_name="t.837", sha256="0" * 64, format="x12", status="applied", received_on=on, imported_by="t"
    )
    claim = Claim.objects.create(
        source=source, kind="professional", patient_control_number=f"S{Claim.objects.count()}", member=ipa.member_a,
        member_key="SUN0001", billing_npi="1912301953", service_from=on, service_to=on, received_on=on,
        charge_cents=50_000, place_of_service=pos, status="paid",
    )  # fmt: skip
    ClaimLine.objects.create(claim=claim, number=1, code=code, units=1, charge_cents=50_000, service_from=on,
                             service_to=on, outcome="paid", paid_cents=paid, payment_run_id=run,
                             reversal_run_id=reversal)  # fmt: skip


def _risk_run(year: int, status: str) -> RiskRun:
    return RiskRun.objects.create(payment_year=year, model="V28", window_start=D(year - 1, 1, 1),
                                  window_end=D(year - 1, 12, 31), status=status, prepared_by="t",
                                  prepared_at=timezone.now())  # fmt: skip


def _quality_run(as_of: dt.date) -> QualityRun:
    run = QualityRun.objects.create(measurement_year=2026, as_of=as_of, run_at=timezone.now(), run_by="t",
                                    definitions_sha256="0" * 64, value_sets_sha256="0" * 64, member_count=2,
                                    status="complete")  # fmt: skip
    RateResult.objects.create(run=run, measure="BCS-E", measure_name="Breast Cancer Screening", rate="BCS-E",
                              eligible=1, excluded=0, denominator=1, numerator=0)  # fmt: skip
    return run


def build(ipa: SmallIpa) -> SmallIpa:
    """Practice A (member A, PCP A), first quarter of 2026, by hand:
    - claims paid 30,000 cents (a paid run); 20,000 paid and reversed by paid runs (0); 40,000 in a draft run
      (not paid: left out);
    - capitation: 3 months x (5,000 PCP net + 1,000 specialist) in a paid run = 18,000; a draft run's 9,999 left out;
    - an ED visit on 10 February (POS 23, 99284), an imaging study 71046 on 5 March;
    - payment RAF 1.500 (approved run of payment year 2026); prior-year HCCs 18 and 85, 85 still a recapture gap
      in the 2027 draft run;
    - BCS-E: a gap in the 31 January run, met in the 31 March run.
    Practice B (member B): nothing but its 3 member-months."""
    paid = ClaimPaymentRun.objects.create(status="paid", through=D(2026, 3, 31), payment_date=D(2026, 4, 5),
                                          prepared_by="t")  # fmt: skip
    later = ClaimPaymentRun.objects.create(status="paid", through=D(2026, 4, 30), payment_date=D(2026, 5, 5),
                                           prepared_by="t")  # fmt: skip
    draft = ClaimPaymentRun.objects.create(status="draft", through=D(2026, 3, 31), payment_date=D(2026, 4, 5),
                                           prepared_by="t")  # fmt: skip
    _claim(ipa, D(2026, 1, 20), "99214", paid=30_000, run=paid.pk)
    _claim(ipa, D(2026, 1, 21), "99215", paid=20_000, run=paid.pk, reversal=later.pk)
    _claim(ipa, D(2026, 1, 22), "99215", paid=40_000, run=draft.pk)
    _claim(ipa, D(2026, 2, 10), "99284", pos="23")
    _claim(ipa, D(2026, 3, 5), "71046")
    cap = DistributionRun.objects.create(payer=ipa.payer, month=D(2026, 1, 1), status="paid", prepared_by="t")
    cap_draft = DistributionRun.objects.create(
        payer=ipa.payer, month=D(2026, 1, 1), status="draft", prepared_by="t"
    )
    for month in (D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1)):
        DistributionLine.objects.create(run=cap, member=ipa.member_a, month=month, practice=ipa.practice_a,
                                        provider=ipa.pcp_a, pcp_net_cents=5_000, specialist_cents=1_000)  # fmt: skip
    DistributionLine.objects.create(run=cap_draft, member=ipa.member_a, month=D(2026, 1, 1), practice=ipa.practice_a,
                                    provider=ipa.pcp_a, pcp_net_cents=9_999)  # fmt: skip
    prior = _risk_run(2026, "approved")
    MemberScore.objects.create(run=prior, member=ipa.member_a, practice=ipa.practice_a, provider=ipa.pcp_a, age=75,
                               model="V28", segment="CNA", category="F75_79", raf_milli=1400, payment_raf_milli=1500,
                               hccs=["18", "85"])  # fmt: skip
    current = _risk_run(2027, "draft")
    CodingGap.objects.create(run=current, member=ipa.member_a, practice=ipa.practice_a, provider=ipa.pcp_a,
                             kind="recapture", hcc="85", reason="prior year")  # fmt: skip
    for as_of, gap in ((D(2026, 1, 31), True), (D(2026, 3, 31), False)):
        run = _quality_run(as_of)
        MeasureResult.objects.create(run=run, measure="BCS-E", rate="BCS-E", member=ipa.member_a, excluded=False,
                                     denominator=True, numerator=not gap, gap=gap, practice=ipa.practice_a,
                                     pcp=ipa.pcp_a)  # fmt: skip
    return ipa
