"""Approved risk runs feed capitation (a risk-adjusted PCP method, risk-adjusted contract terms) and the
under-service watch; a draft run does not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openipa.accounts.services import user_create
from openipa.capitation.models import DistributionRule
from openipa.capitation.services.runs import distribute_month
from openipa.capitation.tests.conftest import paid_month
from openipa.contracts.models import RateCell
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.network.models import ParticipationAgreement
from openipa.risk import selectors, services
from openipa.risk.models import MemberScore, RiskRun

pytestmark = pytest.mark.django_db
MAY = Month(2026, 5)


@pytest.fixture
def cap_ipa(risk_ipa: Any) -> Any:
    """The capitation tests' setup with a risk-adjusted PCP method: $200.00 PMPM x the member's RAF."""
    for low, high, pmpm in ((65, 74, "300.00"), (75, 120, "350.00")):
        RateCell.objects.create(term=risk_ipa.term, product=risk_ipa.product, age_min=low, age_max=high, sex="U",
                                pmpm=pmpm)  # fmt: skip
    DistributionRule.objects.create(
        contract=risk_ipa.contract, valid_from=dt.date(2026, 1, 1), pcp_method="risk_adjusted", pcp_pmpm="200.00",
        risk_pool_percent="2.000", specialist_percent="5.000", quality_percent="3.000",
    )  # fmt: skip
    for practice in (risk_ipa.practice_a, risk_ipa.practice_b):
        ParticipationAgreement.objects.create(practice=practice, valid_from=dt.date(2026, 1, 1),
                                              admin_fee_percent="10.000", admin_fee_pmpm="0")  # fmt: skip
    risk_ipa.users["fin2"] = user_create(actor=None, username="fin2", password="x" * 12, role=Role.FINANCE)
    paid_month(risk_ipa, MAY, "may")
    return risk_ipa


def _pcp_gross(run: Any) -> dict[int, int]:
    return dict(run.lines.values_list("member_id", "pcp_gross_cents"))


def test_a_risk_adjusted_pcp_method_pays_by_the_approved_runs_payment_raf(cap_ipa: Any) -> None:
    fin = cap_ipa.users["fin"]
    a, b = cap_ipa.member_a.pk, cap_ipa.member_b.pk
    before = distribute_month(actor=fin, payer=cap_ipa.payer, month=MAY)
    assert _pcp_gross(before) == {a: 20000, b: 20000}
    assert before.inputs["raf"]["risk_run_id"] is None
    assert before.inputs["raf"]["assumed"] == 2
    assert (
        "PCP capitation x RAF: no approved risk run for 2026; 1.000 assumed for 2 member(s) without a score"
        in (before.inputs["notes"])
    )
    # a draft run changes nothing
    draft = services.score_members(cap_ipa.users["quality"], year=2026)
    assert _pcp_gross(distribute_month(actor=fin, payer=cap_ipa.payer, month=MAY)) == {a: 20000, b: 20000}
    services.approve_run(cap_ipa.users["quality2"], draft)
    after = distribute_month(actor=fin, payer=cap_ipa.payer, month=MAY)
    rafs = {
        m: int(r or 0)
        for m, r in MemberScore.objects.filter(run=draft).values_list("member_id", "payment_raf_milli")
    }
    assert rafs[a] != 1000
    # $200.00 x RAF, half-up to the cent
    assert _pcp_gross(after) == {m: (20000 * r * 2 + 1000) // 2000 for m, r in rafs.items()}
    assert after.inputs["raf"] == {
        "risk_run_id": draft.pk, "payment_year": 2026, "scored": 2, "assumed": 0, "assumed_member_ids": [],
        "note": f"payment RAF of approved risk run {draft.pk}; 1.000 assumed for 0 member(s) without a score",
    }  # fmt: skip


def test_a_member_without_a_score_is_paid_at_an_assumed_one(cap_ipa: Any) -> None:
    run = services.score_members(cap_ipa.users["quality"], year=2026)
    services.approve_run(cap_ipa.users["quality2"], run)
    frame = selectors.approved_payment_rafs(2026)
    assert sorted(frame["member_id"].to_list()) == sorted([cap_ipa.member_a.pk, cap_ipa.member_b.pk])
    assert set(frame["run_id"].to_list()) == {run.pk}
    # the 2025 payment year has no approved run: everyone assumed
    assert selectors.approved_payment_rafs(2025).height == 0
    # Bert's score left out of a later approved run (his sex unknown): his 1.000 is assumed, and listed
    from openipa.membership.models import Member

    Member.objects.filter(pk=cap_ipa.member_b.pk).update(sex="U")
    later = services.score_members(cap_ipa.users["quality"], year=2026)
    services.approve_run(cap_ipa.users["quality2"], later)
    dist = distribute_month(actor=cap_ipa.users["fin"], payer=cap_ipa.payer, month=MAY)
    assert dist.inputs["raf"]["assumed_member_ids"] == [cap_ipa.member_b.pk]
    assert _pcp_gross(dist)[cap_ipa.member_b.pk] == 20000
    assert RiskRun.objects.filter(status="approved").count() == 2


def test_the_under_service_watch_is_risk_adjusted_once_a_run_is_approved(risk_ipa: Any) -> None:
    from openipa.performance import selectors as watch_selectors
    from openipa.performance.engine import watch

    period = watch.Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    quality = risk_ipa.users["quality"]
    assert not watch_selectors.watch_report(quality, period=period).risk_adjusted
    run = services.score_members(quality, year=2026)
    assert not watch_selectors.watch_report(quality, period=period).risk_adjusted
    services.approve_run(risk_ipa.users["quality2"], run)
    report = watch_selectors.watch_report(quality, period=period)
    assert report.risk_adjusted
    amy = MemberScore.objects.get(run=run, member=risk_ipa.member_a)
    practice_a = next(u for u in report.practices if u.key == risk_ipa.practice_a.pk)
    assert amy.payment_raf_milli is not None
    assert practice_a.row["risk"] == pytest.approx(amy.payment_raf_milli / 1000)


def test_expected_capitation_of_a_risk_adjusted_term_uses_the_approved_run(risk_ipa: Any) -> None:
    """A term paying a $900.00 risk-adjusted base: expected = base x RAF, 1.000 assumed (and flagged) without an
    approved run."""
    from openipa.capitation.services.reconcile import expected_frame
    from openipa.contracts.models import ContractTerm
    from openipa.membership import selectors as membership_selectors

    ContractTerm.objects.filter(pk=risk_ipa.term.pk).update(
        capitation_basis="risk_adjusted", risk_base_rate="900.00"
    )

    def expected() -> dict[int, tuple[int, int, bool]]:
        roster = membership_selectors.month_roster(
            None, payer_id=risk_ipa.payer.pk, month=MAY, purpose="test"
        )
        frame = expected_frame(None, risk_ipa.payer, MAY, roster)
        return {r["member_id"]: (r["raf_milli"], r["expected_cents"], r["raf_assumed"])
                for r in frame.iter_rows(named=True)}  # fmt: skip

    a, b = risk_ipa.member_a.pk, risk_ipa.member_b.pk
    assert expected() == {a: (1000, 90000, True), b: (1000, 90000, True)}
    run = services.score_members(risk_ipa.users["quality"], year=2026)
    services.approve_run(risk_ipa.users["quality2"], run)
    rafs = {
        m: int(r or 0)
        for m, r in MemberScore.objects.filter(run=run).values_list("member_id", "payment_raf_milli")
    }
    assert expected() == {m: (r, (90000 * r * 2 + 1000) // 2000, False) for m, r in rafs.items()}
