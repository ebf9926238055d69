"""The demo's shared savings stage: terms for the Medicare Advantage contract and a synthetic ACO, the last twelve
full months settled (approved by a second finance user, paid, posted), and this year's forecasts, all through
the services on what the other stages loaded."""

from __future__ import annotations

import pytest

from openipa.demo import savings as demo_savings
from openipa.demo.services import DemoSummary
from openipa.demo.tests.value_based.shared import PROGRESS, SEED
from openipa.ledger import accounts
from openipa.ledger.models import JournalLine
from openipa.savings import services
from openipa.savings.models import Forecast, PracticeShare, SavingsTerm, SettlementRun


@pytest.fixture(scope="module")
def built(value_based_demo: DemoSummary) -> demo_savings.SavingsSummary:
    assert value_based_demo.savings is not None
    return value_based_demo.savings


@pytest.fixture
def db_access(built: demo_savings.SavingsSummary, db: None) -> None:
    """The module's build, read inside each test's transaction."""


def test_terms_and_the_settled_window(built: demo_savings.SavingsSummary, db_access: None) -> None:
    assert built.terms == 2
    assert SavingsTerm.objects.filter(kind="payer").count() == 1
    assert SavingsTerm.objects.filter(kind="mssp", track="ENHANCED").count() == 1
    assert (built.settled_from, built.settled_to) == ("2025-11", "2026-10")
    run = SettlementRun.objects.get(pk=built.settled_run)
    assert run.approved_by == "finance-2"
    assert run.prepared_by == "finance"
    assert run.shared_cents == built.shared_cents
    assert run.snapshot.member_months > 0
    assert run.snapshot.cost_cents > 0
    assert PROGRESS[demo_savings.STAGE][-1][0] == PROGRESS[demo_savings.STAGE][-1][1]


def test_the_run_settles_again_to_the_same_answer(
    built: demo_savings.SavingsSummary, db_access: None
) -> None:
    run = SettlementRun.objects.get(pk=built.settled_run)
    again = services.settle_snapshot(run.snapshot)
    assert again.shared_cents == run.shared_cents
    assert again.benchmark_cents == run.benchmark_cents


def test_savings_are_distributed_paid_and_posted_by_practice(
    built: demo_savings.SavingsSummary, db_access: None
) -> None:
    run = SettlementRun.objects.get(pk=built.settled_run)
    if run.shared_cents <= 0:
        pytest.fail(f"the demo's benchmark should earn savings: {run.result['steps']}")
    shares = list(PracticeShare.objects.filter(run=run))
    assert sum(s.total_cents for s in shares) == run.distributable_cents
    assert all(s.total_cents >= 0 for s in shares)
    assert run.status == "paid"
    assert built.practices_paid > 0
    distributed = JournalLine.objects.filter(account__code=accounts.SHARED_SAVINGS_DISTRIBUTED)
    assert distributed.filter(practice_id__isnull=False).count() == distributed.count() > 0
    assert sum(int(line.debit * 100) for line in distributed) == run.distributable_cents


def test_forecasts_of_this_year(built: demo_savings.SavingsSummary, db_access: None) -> None:
    assert len(built.forecasts) == 2
    for record in Forecast.objects.filter(pk__in=built.forecasts):
        r = record.result
        assert record.samples == 1000
        assert record.seed == SEED
        assert r["interval"]["low"] <= r["interval"]["median"] <= r["interval"]["high"]
        assert r["expected_member_months"] >= r["observed_member_months"] > 0
        assert sum(n for _lo, _hi, n in r["histogram"]) == 1000
