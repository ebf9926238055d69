"""Settlement services on the small IPA's first quarter (numbers in conftest.py): golden runs of each kind,
approval refusals that change nothing, immutability, balanced entries with practice_id on every practice
line, corrections posting the difference, payment files, formula versions, and statement scoping."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.incentives import selectors, services
from openipa.incentives.models import SettlementLine, SettlementRun
from openipa.incentives.services import SettlementRefused
from openipa.incentives.tests.conftest import MEASURES, add_formulas, capitation_run
from openipa.ledger import accounts
from openipa.ledger.models import JournalEntry, JournalLine
from openipa.ledger.services import entries_for

pytestmark = pytest.mark.django_db


def _prepare(ipa: Any, kind: str, **extra: Any) -> SettlementRun:
    return services.prepare_settlement(actor=ipa.users["fin"], contract=ipa.contract, kind=kind, period="2026Q1",
                                       **extra)  # fmt: skip


def _by_code(run: SettlementRun) -> dict[str, SettlementLine]:
    return {line.practice.code: line for line in run.lines.select_related("practice")}


def _entry_lines(run: SettlementRun) -> list[tuple[str, int, int, int | None]]:
    (entry,) = entries_for("incentive_settlement", run.pk)
    return sorted(
        (line.account.code, int(line.debit * 100), int(line.credit * 100), line.practice_id)
        for line in entry.lines.select_related("account")
    )


def test_quality_pool_fixed_golden_and_approval(ipa):
    add_formulas(ipa)
    run = _prepare(ipa, "quality")
    lines = _by_code(run)
    # Alder: CBP 3/4 = 0.75 >= 0.72: score 100, 3 member-months; Birch: 2/4 = 0.50: score 0, below the gate of
    # 60. The fixed pool of 100,000 goes to Alder alone.
    assert (lines["ALDER"].score_milli, lines["ALDER"].member_months, lines["ALDER"].amount_cents) == (100_000, 3,
                                                                                                      100_000)  # fmt: skip
    assert (lines["BIRCH"].score_milli, lines["BIRCH"].qualifies, lines["BIRCH"].amount_cents) == (
        0,
        False,
        0,
    )
    assert lines["ALDER"].measures[0]["met"] is True
    assert run.quality_run_id == ipa.quality_run.pk
    assert len(run.capitation_run_ids) == 3
    assert run.status == "draft"
    assert not entries_for("incentive_settlement", run.pk)

    with pytest.raises(SettlementRefused, match="another finance user"):
        services.approve_settlement(actor=ipa.users["fin"], run=run)
    run.refresh_from_db()
    assert run.status == "draft"
    assert JournalEntry.objects.filter(source_type="incentive_settlement").count() == 0
    with pytest.raises(PermissionDenied):
        services.approve_settlement(actor=ipa.users["ops"], run=run)

    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    run.refresh_from_db()
    assert run.status == "approved"
    a = ipa.practice_a.pk
    # a fixed pool comes out of the IPA's capitation revenue
    assert _entry_lines(run) == [(accounts.INCENTIVES_PAYABLE, 0, 100_000, a),
                                 (accounts.CAPITATION_REVENUE, 100_000, 0, None)]  # fmt: skip
    run.paid_cents = 1
    with pytest.raises(ValueError, match="cannot change"):
        run.save()
    line = run.lines.get(practice=ipa.practice_a)
    line.amount_cents = 1
    with pytest.raises(ValueError, match="cannot change"):
        line.save()
    assert run.lines.get(practice=ipa.practice_a).amount_cents == 100_000
    with pytest.raises(SettlementRefused, match="only a draft"):
        services.approve_settlement(actor=ipa.users["fin2"], run=run)


def test_withhold_return_golden(ipa):
    add_formulas(ipa)
    run = _prepare(ipa, "withhold")
    lines = _by_code(run)
    # Alder: score 100 >= 80: 100% of 3,000 returned; Birch: score 0 below every tier: 0 of 1,600, all kept
    assert (lines["ALDER"].tier, lines["ALDER"].amount_cents, lines["ALDER"].kept_cents) == (">= 80", 3000, 0)
    assert (lines["BIRCH"].tier, lines["BIRCH"].amount_cents, lines["BIRCH"].kept_cents) == ("below every tier", 0,
                                                                                          1600)  # fmt: skip
    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    a, b = ipa.practice_a.pk, ipa.practice_b.pk
    assert _entry_lines(run) == sorted([(accounts.WITHHOLD_LIABILITY, 4600, 0, None),
                                        (accounts.INCENTIVES_PAYABLE, 0, 3000, a),
                                        (accounts.CAPITATION_REVENUE, 0, 1600, b)])  # fmt: skip


def test_risk_pool_deficit_with_caps(ipa):
    add_formulas(ipa)
    run = _prepare(ipa, "risk_pool")
    lines = _by_code(run)
    # funded 1,500 + 800 = 2,300; professional claims the IPA paid: 3,000 (the health plan's line is not the
    # pool's): deficit 700, 100% charged by member-months 3:2 = 420 and 280; cap 300 each: Alder charged 300
    # (cap binding), Birch 280 (not binding); the IPA bears the 120 the cap held back.
    assert (lines["ALDER"].cost_cents, lines["ALDER"].amount_cents, lines["ALDER"].cap_applied) == (
        3000,
        -300,
        True,
    )
    assert (lines["BIRCH"].cost_cents, lines["BIRCH"].amount_cents, lines["BIRCH"].cap_applied) == (
        0,
        -280,
        False,
    )
    assert (run.release_cents, run.charged_cents, run.pool_kept_cents) == (2300, 580, 2880)
    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    a, b = ipa.practice_a.pk, ipa.practice_b.pk
    assert _entry_lines(run) == sorted([(accounts.RISK_POOL_LIABILITY, 2300, 0, None),
                                        (accounts.PRACTICE_RECEIVABLE, 300, 0, a),
                                        (accounts.PRACTICE_RECEIVABLE, 280, 0, b),
                                        (accounts.CAPITATION_REVENUE, 0, 2880, None)])  # fmt: skip


def test_every_entry_balances_and_practice_lines_carry_the_practice(ipa, tmp_path):
    add_formulas(ipa)
    for kind in ("quality", "withhold", "risk_pool"):
        services.approve_settlement(actor=ipa.users["fin2"], run=_prepare(ipa, kind))
    services.pay_settlement(actor=ipa.users["fin"], run=SettlementRun.objects.get(kind="withhold"),
                            out=tmp_path / "w.ach")  # fmt: skip
    for entry in JournalEntry.objects.filter(source_type__startswith="incentive"):
        lines = list(entry.lines.select_related("account"))
        assert sum(x.debit for x in lines) == sum(x.credit for x in lines)
        for x in lines:
            if x.account.code in (accounts.INCENTIVES_PAYABLE, accounts.PRACTICE_RECEIVABLE):
                assert x.practice_id is not None


def test_pay_writes_nacha_holds_practices_without_bank(ipa, tmp_path):
    add_formulas(ipa, basis="slice", threshold="0")
    run = _prepare(ipa, "quality")
    # slice basis, gate 0: slices by member-months 3:2 of 100,000 = 60,000 and 40,000; Alder earns 100% of its
    # slice, Birch 0% (score 0) of its
    assert [(x.base_cents, x.amount_cents) for x in run.lines.order_by("practice__code")] == [(60_000, 60_000),
                                                                                           (40_000, 0)]  # fmt: skip
    with pytest.raises(SettlementRefused, match="only an approved"):
        services.pay_settlement(actor=ipa.users["fin"], run=run, out=tmp_path / "x.ach")
    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    ipa.practice_a.bank_account_number = ""
    ipa.practice_a.save()
    with pytest.raises(SettlementRefused, match="no payment to send"):
        services.pay_settlement(actor=ipa.users["fin"], run=run, out=tmp_path / "x.ach")
    assert SettlementRun.objects.get(pk=run.pk).status == "approved"


def test_pay_and_ledger(ipa, tmp_path):
    add_formulas(ipa)
    run = _prepare(ipa, "withhold")
    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    record = services.pay_settlement(actor=ipa.users["fin"], run=run, out=tmp_path / "w.ach",
                                     effective=dt.date(2026, 5, 1))  # fmt: skip
    text = Path(tmp_path / "w.ach").read_text()
    assert record.total_cents == 3000
    assert record.entries == 1
    assert "000000300" in text  # the 3,000 cents credit
    lines = _by_code(SettlementRun.objects.get(pk=run.pk))
    assert lines["ALDER"].pay_status == "sent"
    assert lines["BIRCH"].pay_status == "none"
    (entry,) = entries_for("incentive_payment", record.pk)
    paid = {
        (x.account.code, x.practice_id): (x.debit, x.credit) for x in entry.lines.select_related("account")
    }
    assert paid[(accounts.INCENTIVES_PAYABLE, ipa.practice_a.pk)][0] == 30
    with pytest.raises(SettlementRefused, match="paid"):
        services.pay_settlement(actor=ipa.users["fin"], run=run, out=tmp_path / "again.ach")


def test_correction_posts_the_difference(ipa):
    add_formulas(ipa)
    first = _prepare(ipa, "withhold")
    services.approve_settlement(actor=ipa.users["fin2"], run=first)
    with pytest.raises(SettlementRefused, match="nothing changed"):
        _prepare(ipa, "withhold")
    assert SettlementRun.objects.count() == 1
    # a retro adjustment withholds 500 more from Alder in March
    capitation_run(
        ipa, dt.date(2026, 3, 1), [(ipa.member_a, ipa.practice_a, 500, 0, 10000)], kind="adjustment"
    )
    correction = _prepare(ipa, "withhold")
    assert correction.corrects_id == first.pk
    alder = _by_code(correction)["ALDER"]
    assert (alder.amount_cents, alder.previous_amount_cents, alder.difference_cents) == (3500, 3000, 500)
    services.approve_settlement(actor=ipa.users["fin2"], run=correction)
    assert _entry_lines(correction) == sorted([(accounts.WITHHOLD_LIABILITY, 500, 0, None),
                                               (accounts.INCENTIVES_PAYABLE, 0, 500, ipa.practice_a.pk)])  # fmt: skip
    first.refresh_from_db()
    assert first.status == "approved"
    assert _by_code(first)["ALDER"].amount_cents == 3000


def test_prepare_refusals(ipa):
    with pytest.raises(SettlementRefused, match="no withhold formula"):
        _prepare(ipa, "withhold")
    add_formulas(ipa)
    with pytest.raises(SettlementRefused, match="not a year"):
        services.prepare_settlement(
            actor=ipa.users["fin"], contract=ipa.contract, kind="withhold", period="Q1"
        )
    with pytest.raises(SettlementRefused, match="no approved capitation run"):
        services.prepare_settlement(
            actor=ipa.users["fin"], contract=ipa.contract, kind="withhold", period="2026Q3"
        )
    with pytest.raises(SettlementRefused, match="no quality run 999"):
        _prepare(ipa, "withhold", quality_run_id=999)
    with pytest.raises(SettlementRefused, match="only a quality pool"):
        _prepare(ipa, "withhold", pool_cents=5)
    with pytest.raises(PermissionDenied):
        services.prepare_settlement(
            actor=ipa.users["ops"], contract=ipa.contract, kind="withhold", period="2026Q1"
        )
    assert SettlementRun.objects.count() == 0


def test_preparing_again_replaces_the_draft(ipa):
    add_formulas(ipa)
    first = _prepare(ipa, "withhold")
    second = _prepare(ipa, "withhold")
    assert list(SettlementRun.objects.values_list("pk", flat=True)) == [second.pk]
    assert second.pk != first.pk


def test_liability_pool_source_reads_the_ledger(ipa):
    """The monthly capitation run pays the quality pool out (PROVIDER_CAPITATION_PAYABLE), so the quality pool
    liability holds only what something else funded into it: here nothing, then 9,000 posted by hand."""
    from openipa.ledger.services import Posting, post_entry

    add_formulas(ipa, pool_source="liability", fixed_pool_cents=0)
    assert _prepare(ipa, "quality").release_cents == 0
    post_entry(actor=None, date=dt.date(2026, 3, 31), memo="fund", source_type="test", source_id=1, postings=[
        Posting(account=accounts.CAPITATION_UNDISTRIBUTED, debit_cents=9000, payer_id=ipa.payer.pk),
        Posting(account=accounts.QUALITY_POOL_LIABILITY, credit_cents=9000, payer_id=ipa.payer.pk)])  # fmt: skip
    run = _prepare(ipa, "quality")
    assert run.release_cents == 9000
    assert _by_code(run)["ALDER"].amount_cents == 9000
    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    assert _entry_lines(run) == sorted([(accounts.QUALITY_POOL_LIABILITY, 9000, 0, None),
                                        (accounts.INCENTIVES_PAYABLE, 0, 9000, ipa.practice_a.pk)])  # fmt: skip


def test_formula_versions(ipa):
    fin = ipa.users["fin"]
    params = {"measures": MEASURES, "tiers": [{"min_score": "50", "percent": "100"}]}
    services.save_formula(actor=fin, contract=ipa.contract, kind="withhold", name="v1", params=params,
                          valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 2, 15))  # fmt: skip
    with pytest.raises(ValidationFailed, match="overlaps"):
        services.save_formula(actor=fin, contract=ipa.contract, kind="withhold", name="v2", params=params,
                              valid_from=dt.date(2026, 2, 1))  # fmt: skip
    with pytest.raises(ValidationFailed, match="tiers"):
        services.save_formula(actor=fin, contract=ipa.contract, kind="withhold", name="bad",
                              params={"measures": MEASURES}, valid_from=dt.date(2027, 1, 1))  # fmt: skip
    services.save_formula(actor=fin, contract=ipa.contract, kind="withhold", name="v2", params=params,
                          valid_from=dt.date(2026, 2, 16))  # fmt: skip
    with pytest.raises(SettlementRefused, match="changes within 2026Q1"):
        _prepare(ipa, "withhold")


def test_statements_are_scoped(ipa):
    add_formulas(ipa)
    run = _prepare(ipa, "withhold")
    alice, bob = ipa.users["alice"], ipa.users["bob"]
    assert list(selectors.statement_list(alice)) == []  # a draft is no statement yet
    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    own = list(selectors.statement_list(alice))
    assert [x.practice_id for x in own] == [ipa.practice_a.pk]
    theirs = run.lines.get(practice=ipa.practice_b)
    with pytest.raises(NotFound):
        selectors.statement_line(alice, theirs.pk)
    assert selectors.statement_line(bob, theirs.pk).pk == theirs.pk
    with pytest.raises(PermissionDenied):
        selectors.run_list(alice)
    assert JournalLine.objects.filter(practice=ipa.practice_a).exists()


def test_unearned_pool_to_revenue_or_carried(ipa):
    """A liability-funded pool of 10,000, slice basis, gate 0: slices 6,000 (Alder, 3 mm) and 4,000 (Birch, 2 mm);
    Alder earns 100% of its slice, Birch 0% of its (score 0). Unearned 4,000 goes to revenue, or stays."""
    from openipa.ledger.services import Posting, post_entry

    post_entry(actor=None, date=dt.date(2026, 3, 31), memo="fund", source_type="test", source_id=1, postings=[
        Posting(account=accounts.CAPITATION_UNDISTRIBUTED, debit_cents=10_000, payer_id=ipa.payer.pk),
        Posting(account=accounts.QUALITY_POOL_LIABILITY, credit_cents=10_000, payer_id=ipa.payer.pk)])  # fmt: skip
    add_formulas(ipa, pool_source="liability", fixed_pool_cents=0, basis="slice", threshold="0")
    run = _prepare(ipa, "quality")
    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    a, b = ipa.practice_a.pk, ipa.practice_b.pk
    assert _entry_lines(run) == sorted([(accounts.QUALITY_POOL_LIABILITY, 10_000, 0, None),
                                        (accounts.INCENTIVES_PAYABLE, 0, 6_000, a),
                                        (accounts.CAPITATION_REVENUE, 0, 4_000, b)])  # fmt: skip


def test_carried_pool_stays_in_the_liability(ipa):
    from openipa.ledger.services import Posting, post_entry

    post_entry(actor=None, date=dt.date(2026, 3, 31), memo="fund", source_type="test", source_id=1, postings=[
        Posting(account=accounts.CAPITATION_UNDISTRIBUTED, debit_cents=10_000, payer_id=ipa.payer.pk),
        Posting(account=accounts.QUALITY_POOL_LIABILITY, credit_cents=10_000, payer_id=ipa.payer.pk)])  # fmt: skip
    add_formulas(
        ipa, pool_source="liability", fixed_pool_cents=0, basis="slice", threshold="0", unearned="carry"
    )
    run = _prepare(ipa, "quality")
    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    assert _entry_lines(run) == sorted([(accounts.QUALITY_POOL_LIABILITY, 6_000, 0, None),
                                        (accounts.INCENTIVES_PAYABLE, 0, 6_000, ipa.practice_a.pk)])  # fmt: skip


def test_practice_without_bank_details_is_held(ipa, tmp_path):
    services.save_formula(actor=ipa.users["fin"], contract=ipa.contract, kind="withhold", name="half back",
                          valid_from=dt.date(2026, 1, 1),
                          params={"measures": MEASURES, "tiers": [{"min_score": "0", "percent": "50"}]})  # fmt: skip
    run = _prepare(ipa, "withhold")
    services.approve_settlement(actor=ipa.users["fin2"], run=run)
    ipa.practice_a.bank_routing_number = ""
    ipa.practice_a.save()
    record = services.pay_settlement(actor=ipa.users["fin"], run=run, out=tmp_path / "x.ach")
    # 50% of 3,000 = 1,500 for Alder (held: no bank details), 50% of 1,600 = 800 for Birch (sent)
    assert (record.entries, record.total_cents) == (1, 800)
    lines = _by_code(SettlementRun.objects.get(pk=run.pk))
    assert (lines["ALDER"].pay_status, lines["BIRCH"].pay_status) == ("held", "sent")
    assert lines["BIRCH"].trace_number


def test_a_draft_prepared_before_another_approval_is_refused(ipa):
    add_formulas(ipa)
    first = _prepare(ipa, "withhold")
    services.approve_settlement(actor=ipa.users["fin2"], run=first)
    capitation_run(ipa, dt.date(2026, 3, 1), [(ipa.member_b, ipa.practice_b, 200, 0, 0)], kind="adjustment")
    correction = _prepare(ipa, "withhold")
    # someone approves the correction; a stale copy of an older draft can no longer be approved
    SettlementRun.objects.filter(pk=correction.pk).update(corrects=None)
    with pytest.raises(SettlementRefused, match="prepare it again"):
        services.approve_settlement(actor=ipa.users["fin2"], run=correction)
    assert SettlementRun.objects.get(pk=correction.pk).status == "draft"
