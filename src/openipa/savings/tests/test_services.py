"""Snapshots, settlement runs, approval, payment and the ledger on the small IPA (numbers in conftest.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.months import Month
from openipa.ledger import accounts
from openipa.ledger.models import JournalLine
from openipa.savings import selectors, services
from openipa.savings.models import PracticeShare, SavingsTerm, SettlementRun
from openipa.savings.tests.conftest import CUTOFF, TERM, paid_claim

JAN, DEC = Month(2026, 1), Month(2026, 12)


def snap(ss: Any, **kwargs: Any) -> Any:
    return services.take_snapshot(
        ss.users["fin"], contract=ss.contract, first=JAN, last=DEC, cutoff=CUTOFF, **kwargs
    )


def test_snapshot_reads_attribution_and_costs_paid_by_the_cutoff(ss: Any) -> None:
    s = snap(ss)
    assert (s.members, s.member_months, s.paid_cents, s.cost_cents) == (2, 24, 600_000, 600_000)
    by_practice = {p["practice_id"]: p for p in s.practices}
    assert by_practice[ss.practice_a.pk]["cost_cents"] == 200_000
    assert by_practice[ss.practice_b.pk]["cost_cents"] == 400_000
    assert len(s.months) == 12


def test_golden_settlement_and_distribution(ss: Any) -> None:
    run = services.prepare_run(ss.users["fin"], snapshot=snap(ss), formula=ss.formula)
    assert (run.benchmark_cents, run.cost_cents, run.savings_cents) == (1_200_000, 600_000, 600_000)
    assert run.result["cap_binding"] is True
    assert run.shared_cents == 120_000
    assert (run.reserve_cents, run.admin_fee_cents, run.distributable_cents) == (12_000, 6_000, 102_000)
    shares = {s.practice_id: s for s in run.shares.all()}
    assert shares[ss.practice_a.pk].pools == {"member_months": 30_600, "efficiency": 27_200}
    assert shares[ss.practice_b.pk].pools == {"member_months": 30_600, "efficiency": 13_600}
    assert shares[ss.practice_a.pk].total_cents == 57_800
    assert shares[ss.practice_b.pk].total_cents == 44_200


def test_a_snapshot_settles_the_same_after_the_data_changes(ss: Any) -> None:
    first = snap(ss)
    again = snap(ss)
    assert again.content_sha256 == first.content_sha256
    before = services.settle_snapshot(first)
    paid_claim(ss, ss.member_a, dt.date(2026, 7, 1), 300_000, dt.date(2027, 1, 5))
    assert services.settle_snapshot(first) == before
    later = snap(ss)
    assert later.content_sha256 != first.content_sha256
    assert later.cost_cents == first.cost_cents + 300_000


def test_approval_by_another_finance_user_posts_the_ledger(ss: Any) -> None:
    run = services.prepare_run(ss.users["fin"], snapshot=snap(ss), formula=ss.formula)
    with pytest.raises(services.RunRefused, match="another finance user"):
        services.approve_run(ss.users["fin"], run)
    with pytest.raises(PermissionDenied):
        services.approve_run(ss.users["admin"], run)
    run.refresh_from_db()
    assert run.status == SettlementRun.Status.DRAFT
    assert not JournalLine.objects.exists()
    services.approve_run(ss.users["fin2"], run)
    run.refresh_from_db()
    assert (run.status, run.approved_by) == ("approved", "fin2")
    lines = JournalLine.objects.select_related("account")
    by_account: dict[str, int] = {}
    for line in lines:
        by_account[line.account.code] = by_account.get(line.account.code, 0) + int(
            (line.debit - line.credit) * 100
        )
    assert by_account[accounts.SHARED_SAVINGS_RECEIVABLE] == 120_000
    assert by_account[accounts.SHARED_SAVINGS_REVENUE] == -120_000
    assert by_account[accounts.SHARED_SAVINGS_DISTRIBUTED] == 102_000
    assert by_account[accounts.INCENTIVES_PAYABLE] == -102_000
    practice_lines = lines.filter(account__code=accounts.INCENTIVES_PAYABLE, practice_id=ss.practice_a.pk)
    assert [int(x.credit * 100) for x in practice_lines] == [57_800]
    with pytest.raises(services.RunRefused, match="only a draft"):
        services.approve_run(ss.users["fin2"], run)


def test_pay_writes_the_ach_and_pays_out_of_cash(ss: Any, tmp_path: Path) -> None:
    run = services.prepare_run(ss.users["fin"], snapshot=snap(ss), formula=ss.formula)
    with pytest.raises(services.RunRefused, match="only an approved"):
        services.pay_run(ss.users["fin"], run, out=tmp_path / "x.ach")
    assert not (tmp_path / "x.ach").exists()
    services.approve_run(ss.users["fin2"], run)
    services.pay_run(ss.users["fin"], run, out=tmp_path / "savings.ach", effective=dt.date(2027, 4, 20))
    run.refresh_from_db()
    assert run.status == "paid"
    assert run.payment_total_cents == 102_000
    assert (tmp_path / "savings.ach").read_text().count("\n") > 4
    assert set(PracticeShare.objects.filter(run=run).values_list("status", flat=True)) == {"sent"}
    cash = JournalLine.objects.filter(account__code=accounts.CASH).get()
    assert int(cash.credit * 100) == 102_000
    with pytest.raises(services.RunRefused):
        services.pay_run(ss.users["fin"], run, out=tmp_path / "again.ach")


def test_a_loss_beyond_the_corridor_is_owed_and_not_distributed(ss: Any, tmp_path: Path) -> None:
    # cost 6,000 + 10,000 = 16,000 > benchmark 12,000: loss 4,000 (33%) x 40% = 1,600, cap 5% = 600
    paid_claim(ss, ss.member_a, dt.date(2026, 8, 1), 1_000_000, dt.date(2027, 2, 1))
    run = services.prepare_run(ss.users["fin"], snapshot=snap(ss), formula=None)
    assert run.savings_cents == -400_000
    assert run.shared_cents == -60_000
    assert run.result["loss_cap_binding"] is True
    assert not run.shares.exists()
    services.approve_run(ss.users["fin2"], run)
    loss = JournalLine.objects.get(account__code=accounts.SHARED_LOSS_PAYABLE)
    assert int(loss.credit * 100) == 60_000
    with pytest.raises(services.RunRefused, match="nothing to pay"):
        services.pay_run(ss.users["fin"], run, out=tmp_path / "x.ach")


def test_savings_need_a_formula(ss: Any) -> None:
    with pytest.raises(ValidationFailed, match="formula"):
        services.prepare_run(ss.users["fin"], snapshot=snap(ss), formula=None)


def test_practice_users_see_only_their_own_statement(ss: Any) -> None:
    run = services.prepare_run(ss.users["fin"], snapshot=snap(ss), formula=ss.formula)
    share_a = run.shares.get(practice=ss.practice_a)
    share_b = run.shares.get(practice=ss.practice_b)
    alice = ss.users["alice"]
    with pytest.raises(NotFound):  # a draft run's shares are staff's
        selectors.statement_get(alice, share_a.pk)
    services.approve_run(ss.users["fin2"], run)
    assert selectors.statement_get(alice, share_a.pk) == share_a
    with pytest.raises(NotFound):
        selectors.statement_get(alice, share_b.pk)
    assert list(selectors.statement_list(alice)) == [share_a]
    with pytest.raises(PermissionDenied):
        selectors.run_list(alice)


def test_terms_are_versioned_and_never_overlap(ss: Any) -> None:
    with pytest.raises(ValidationFailed, match="overlaps"):
        services.term_create(ss.users["fin"], contract=ss.contract, data=TERM)
    later = services.term_create(ss.users["fin"], contract=ss.contract,
                                 data={**TERM, "valid_from": dt.date(2027, 1, 1), "valid_to": None})  # fmt: skip
    assert later.version == 2
    assert SavingsTerm.objects.filter(contract=ss.contract).count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [({"benchmark_amount": "0"}, "benchmark_amount"), ({"msr_percent": "120"}, "msr_percent"),
     ({"kind": "mssp"}, "benchmark_basis"), ({"msr_source": "table", "msr_table": "nope"}, "msr_table"),
     ({"quality_scale": [["x", "1"]]}, "quality_scale"), ({"benchmark_amount": 1.5}, "benchmark_amount"),
     ({"line_of_business": "dental"}, "line_of_business"), ({"sharing_percent": None}, "sharing_percent")],
)  # fmt: skip
def test_bad_terms_are_refused_and_nothing_is_written(ss: Any, change: dict[str, Any], field: str) -> None:
    data = {**TERM, "valid_from": dt.date(2028, 1, 1), "valid_to": None, **change}
    with pytest.raises(ValidationFailed) as caught:
        services.term_create(ss.users["fin"], contract=ss.contract, data=data)
    assert field in caught.value.fields
    assert SavingsTerm.objects.filter(contract=ss.contract).count() == 1


def test_mssp_track_defaults_come_from_the_data_file(ss: Any) -> None:
    term = services.term_create(ss.users["fin"], contract=ss.contract, data={
        "kind": "mssp", "name": "ACO", "benchmark_basis": "beneficiary_year", "benchmark_amount": "12000",
        "msr_source": "fixed", "msr_percent": "2", "track": "ENHANCED", "valid_from": dt.date(2028, 1, 1),
    })  # fmt: skip
    assert (term.sharing_percent, term.savings_cap_percent, term.two_sided) == (
        Decimal(75),
        Decimal(20),
        True,
    )
    assert (term.loss_sharing_percent, term.loss_cap_percent) == (Decimal(40), Decimal(15))
    assert (term.loss_sharing_floor_percent, term.loss_sharing_ceiling_percent) == (Decimal(40), Decimal(75))
    assert term.loss_cap_revenue_percent is None


def test_basic_level_terms_carry_both_loss_caps(ss: Any) -> None:
    term = services.term_create(ss.users["fin"], contract=ss.contract, data={
        "kind": "mssp", "name": "ACO", "benchmark_basis": "beneficiary_year", "benchmark_amount": "12000",
        "msr_source": "table", "msr_table": "mssp_one_sided", "track": "BASIC_E", "valid_from": dt.date(2028, 1, 1),
    })  # fmt: skip
    assert (term.sharing_percent, term.savings_cap_percent, term.two_sided) == (
        Decimal(50),
        Decimal(10),
        True,
    )
    assert (term.loss_sharing_percent, term.loss_cap_percent, term.loss_cap_revenue_percent) == (
        Decimal(30),
        Decimal(4),
        Decimal(8),
    )
    assert term.loss_sharing_floor_percent is None
    terms = services.engine_terms(term, beneficiaries=7_500, on=dt.date(2028, 1, 1))
    assert terms.msr_percent == Decimal("3.300")
    assert terms.loss_cap_revenue_percent == Decimal(8)


def test_snapshot_refusals(ss: Any) -> None:
    with pytest.raises(ValidationFailed, match="before the period ends"):
        services.take_snapshot(
            ss.users["fin"], contract=ss.contract, first=JAN, last=DEC, cutoff=dt.date(2026, 6, 1)
        )
    with pytest.raises(PermissionDenied):
        services.take_snapshot(ss.users["alice"], contract=ss.contract, first=JAN, last=DEC, cutoff=CUTOFF)
    with pytest.raises(NotFound):
        services.take_snapshot(ss.users["fin"], contract=ss.contract, first=Month(2025, 1), last=Month(2025, 12),
                               cutoff=CUTOFF)  # fmt: skip


def test_forecast_as_of_september(ss: Any) -> None:
    # as of 30 Sep 2026 nothing is paid yet (the run is dated 2027): the forecast sees Jan..Sep with no cost
    paid_claim(ss, ss.member_a, dt.date(2026, 2, 1), 90_000, dt.date(2026, 9, 15))
    f = services.make_forecast(ss.users["fin"], contract=ss.contract, first=JAN, last=DEC,
                               as_of=dt.date(2026, 9, 30), samples=200, seed=1)  # fmt: skip
    r = f.result
    assert r["observed_member_months"] == 18
    assert r["expected_member_months"] == 24
    assert r["projected_cost_cents"] == 120_000  # 90,000 x 24 / 18
    assert r["benchmark_cents"] == 1_200_000
    assert r["interval"]["low"] <= r["savings_cents"] <= r["interval"]["high"]
    assert 0 <= r["probabilities"]["msr_met"] <= 1


def _estimate(group_by: list[str], factors: list[dict[str, Any]]) -> Any:
    from openipa.claims.models import IbnrEstimate

    return IbnrEstimate.objects.create(as_of=dt.date(2027, 3, 1), status="approved", method="volume_weighted",
                                       group_by=group_by, factors=factors, results=[], prepared_by="x",
                                       approved_by="y")  # fmt: skip


def test_ibnr_completion_and_immature_months_at_the_run_rate(ss: Any) -> None:
    # lags from the cut-off month (2027-03): March 2026 is lag 12 (completion 0.8: mature, 200,000 / 0.8 =
    # 250,000); June 2026 is lag 9 (0.4, below the 0.5 threshold: immature). The 22 mature member-months cost
    # 250,000, so June's 2 member-months cost round(250,000 / 22) = 11,364 each (B's 400,000 paid is replaced).
    SavingsTerm.objects.filter(pk=ss.savings_term.pk).update(ibnr_completion=True)
    _estimate([], [{"lag": 12, "completion_micro": 800_000}, {"lag": 9, "completion_micro": 400_000}])
    s = snap(ss)
    assert s.ibnr_estimate is not None
    by_practice = {p["practice_id"]: p for p in s.practices}
    assert by_practice[ss.practice_a.pk]["cost_cents"] == 250_000 + 11_364
    assert by_practice[ss.practice_b.pk]["cost_cents"] == 11_364
    assert s.cost_cents == 272_728
    assert s.paid_cents == 600_000
    june = next(m for m in s.months if m["month"] == "2026-06-01")
    assert (june["mature"], june["completion_micro"], june["cost_cents"]) == (False, 400_000, 22_728)
    assert any("run-rate" in n for n in s.inputs["notes"])


def test_an_estimate_grouped_by_service_category_is_refused(ss: Any) -> None:
    SavingsTerm.objects.filter(pk=ss.savings_term.pk).update(ibnr_completion=True)
    _estimate(["service_category"], [])
    with pytest.raises(ValidationFailed, match="grouped by service_category"):
        snap(ss)
