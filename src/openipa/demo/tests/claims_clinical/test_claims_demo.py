"""The demo's claims year, on the package's shared demo (shared.py), through the real services: the noise
the generator put in is what adjudication finds, eleven months are paid by approved runs, the last is
adjudicated and unpaid, and the ledger balances."""

from __future__ import annotations

from pathlib import Path

import pytest

from openipa.accounts.models import User
from openipa.claims.models import (
    Claim,
    ClaimImport,
    ClaimLine,
    ClaimPaymentRun,
    InterestRule,
    StopLossPolicy,
)
from openipa.contracts.models import ContractTerm, DofrEntry, ServiceCategoryRule
from openipa.core.months import Month
from openipa.demo import claims as demo_claims
from openipa.demo import engine
from openipa.demo.engine import fees
from openipa.demo.engine.claims import STOP_LOSS_ATTACHMENT_CENTS, claim_members, is_high_cost
from openipa.demo.services import DemoSummary
from openipa.demo.tests.claims_clinical.shared import AS_OF, MEMBERS, SEED, demo_var_dir
from openipa.ledger.selectors import trial_balance
from openipa.membership.models import Member
from openipa.network.models import ParticipationAgreement, Practice


@pytest.fixture(scope="module")
def built(claims_clinical_demo: DemoSummary) -> tuple[DemoSummary, Path]:
    """The package's shared demo (shared.py) and where it wrote its files."""
    return claims_clinical_demo, demo_var_dir()


@pytest.fixture
def demo(built: tuple[DemoSummary, Path], db: None) -> tuple[DemoSummary, Path]:
    return built


def test_every_months_files_are_applied(demo: tuple[DemoSummary, Path]) -> None:
    summary, var = demo
    imports = ClaimImport.objects.all()
    assert imports.count() == summary.claim_files >= 12 * 8  # a professional and a facility file a week
    assert set(imports.values_list("status", flat=True)) == {"applied"}
    assert Claim.objects.count() == summary.claims
    assert ClaimLine.objects.count() == summary.claim_lines
    months = {p.name for p in (var / "demo" / "claims").iterdir()}
    assert months == {str(m) for m in Month.range(AS_OF - 11, AS_OF)}


def test_the_claims_setup_is_loaded(demo: tuple[DemoSummary, Path]) -> None:
    assert ServiceCategoryRule.objects.count() == len(fees.SERVICE_CATEGORIES)
    for term in ContractTerm.objects.all():
        assert (term.claims_locality, term.timely_filing_days) == (fees.DEFAULT_LOCALITY_ID, 90)
        assert Practice.objects.filter(code__startswith="SUPPORT").count() == 7
        dofr = dict(DofrEntry.objects.filter(term=term).values_list("service_category", "responsible_party"))
        assert {k: dofr[k] for k in fees.DOFR} == fees.DOFR
    assert set(InterestRule.objects.values_list("line_of_business", flat=True)) == {
        "commercial", "medicaid", "medicare_advantage"}  # fmt: skip
    assert (
        ParticipationAgreement.objects.filter(practice__code__startswith="SUPPORT", status="active").count()
        == 7
    )


def _denied_claims(carc: str) -> int:
    return ClaimLine.objects.filter(outcome="denied", carc=carc).values("claim_id").distinct().count()


def test_adjudication_finds_the_noise(demo: tuple[DemoSummary, Path]) -> None:
    noise = dict(demo[0].claim_noise)
    assert min(noise.values()) > 0
    # every exact duplicate is denied as one (CARC 18); a replacement sent unchanged in its lines can be too
    assert noise["exact_duplicate"] <= _denied_claims("18") <= noise["exact_duplicate"] + noise["replacement"]
    # late claims fail timely filing (CARC 29); so can a replacement of an old claim
    assert noise["late"] <= _denied_claims("29") <= noise["late"] + noise["replacement"]
    assert _denied_claims("197") == noise["unauthorized"]  # advanced imaging without an authorization
    # services outside coverage (26: before it, 27: after it)
    assert noise["ineligible"] <= _denied_claims("26") + _denied_claims("27") <= noise["ineligible"] + 10


def test_facility_claims_are_the_hospitals(demo: tuple[DemoSummary, Path]) -> None:
    facility = ClaimLine.objects.filter(claim__kind="institutional")
    assert facility.count() > 0
    assert set(facility.exclude(outcome="reversed").values_list("outcome", "carc", "responsible")) == {
        ("denied", "109", "hospital")}  # fmt: skip
    noise = dict(demo[0].claim_noise)
    assert noise["facility"] <= Claim.objects.filter(kind="institutional", frequency="1").count()


def test_suspect_duplicates_pend_and_corrections_reverse(demo: tuple[DemoSummary, Path]) -> None:
    noise = dict(demo[0].claim_noise)
    pended = ClaimLine.objects.filter(outcome="pended")
    assert pended.values("claim_id").distinct().count() >= noise["suspect_duplicate"]
    # the rest pend because their practitioner is not credentialed (the demo's overdue recredentialings)
    reasons = set(pended.values_list("pend_reason", flat=True))
    assert all(r.startswith("suspect duplicate") or r == "the provider is not credentialed" for r in reasons)
    assert Claim.objects.filter(frequency="7").count() == noise["replacement"]
    assert Claim.objects.filter(frequency="8").count() == noise["void"]
    originals = list(Claim.objects.filter(frequency__in=("7", "8")).values_list("original_id", flat=True))
    assert None not in originals
    assert not ClaimLine.objects.filter(claim_id__in=originals).exclude(outcome="reversed").exists()


def test_eleven_months_are_approved_and_the_last_is_adjudicated_unpaid(
    demo: tuple[DemoSummary, Path],
) -> None:
    summary, _var = demo
    runs = ClaimPaymentRun.objects.order_by("through")
    assert [r.through for r in runs] == [m.last_day for m in Month.range(AS_OF - 11, AS_OF - 1)]
    assert set(runs.values_list("prepared_by", "approved_by")) == {("finance", "finance-2")}
    assert set(runs.values_list("status", flat=True)) <= {"approved", "paid"}
    assert summary.claim_payment_runs == 11
    last = ClaimLine.objects.filter(claim__received_on__gte=AS_OF.first_day)
    assert last.exists()
    assert not last.filter(outcome="new").exists()
    assert not last.filter(payment_run_id__isnull=False).exists()
    earlier = ClaimLine.objects.filter(claim__received_on__lt=AS_OF.first_day, outcome__in=("paid", "denied"))
    assert not earlier.filter(payment_run_id__isnull=True).exists()


def test_eleven_months_are_paid_by_nacha_files(demo: tuple[DemoSummary, Path]) -> None:
    summary, var = demo
    assert set(ClaimPaymentRun.objects.values_list("status", flat=True)) == {"paid"}
    assert summary.claim_payment_files == 11
    assert len(list((var / "demo" / "claims-payments").glob("*.ach"))) == 11


def test_the_ledger_balances(demo: tuple[DemoSummary, Path]) -> None:
    balance = trial_balance(User.objects.get(username="finance"))
    assert balance.total_debit_cents == balance.total_credit_cents
    assert ClaimPaymentRun.objects.filter(net_cents__gt=0).count() == 11


def test_the_catastrophic_members_cross_the_stop_loss_attachment(demo: tuple[DemoSummary, Path]) -> None:
    policy = StopLossPolicy.objects.get()
    assert (policy.valid_from, policy.valid_to) == ((AS_OF - 11).first_day, AS_OF.last_day)
    paid = demo_claims.paid_by_member(policy)
    crossing = {m for m, cents in paid.items() if cents >= int(policy.attachment * 100)}
    data = engine.generate(seed=SEED, members=MEMBERS, as_of=AS_OF)
    catastrophic = {
        m.key
        for month in Month.range(AS_OF - 11, AS_OF)
        for m in claim_members(data, month)
        if is_high_cost(SEED, m)
    }
    keys = dict(Member.objects.filter(pk__in=crossing).values_list("pk", "payer_member_id"))
    assert crossing
    assert {keys[m] for m in crossing} <= catastrophic
    # the generator's $150,000 is crossed in charges; in paid dollars it is out of reach (see the module)
    assert max(paid.values()) < STOP_LOSS_ATTACHMENT_CENTS
