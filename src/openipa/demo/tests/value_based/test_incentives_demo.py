"""The demo's incentive settlements: formulas for the demo contracts, the last complete quarter's quality-pool
and withhold-return settlements approved by the second finance login and paid, a draft risk-pool settlement;
every entry balanced and every practice line with its practice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openipa.demo import incentives as demo_incentives
from openipa.demo.services import DemoSummary
from openipa.demo.tests.value_based.shared import PROGRESS
from openipa.incentives.models import IncentiveFormula, SettlementRun
from openipa.ledger import accounts
from openipa.ledger.models import JournalEntry


@pytest.fixture(scope="module")
def built(value_based_demo: DemoSummary) -> demo_incentives.IncentivesSummary:
    assert value_based_demo.incentives is not None
    return value_based_demo.incentives


@pytest.fixture
def db_access(built: Any, db: None) -> None:
    return None


def test_last_complete_quarter():
    assert demo_incentives.last_complete_quarter(dt.date(2026, 10, 31)).label == "2026Q3"
    assert demo_incentives.last_complete_quarter(dt.date(2026, 9, 30)).label == "2026Q2"
    assert demo_incentives.last_complete_quarter(dt.date(2026, 2, 1)).label == "2025Q4"


def test_settled_and_draft(built, db_access):
    assert built.period == "2026Q3"
    assert not built.skipped, built.skipped
    runs = list(SettlementRun.objects.order_by("pk"))
    paid = [r for r in runs if r.status == "paid"]
    assert {r.kind for r in paid} == {"quality", "withhold"}
    assert [r.pk for r in paid] == list(built.paid_runs)
    assert all(r.paid_cents == 0 for r in runs if r.pk in built.approved_runs)
    assert all(r.payment_files.exists() for r in paid)
    assert all(r.approved_by == "finance-2" and r.prepared_by == "finance" for r in paid)
    assert [r.kind for r in runs if r.status == "draft"] == ["risk_pool"] * len(built.draft_runs)
    assert built.draft_runs
    assert IncentiveFormula.objects.count() == built.formulas
    quality = [r for r in paid if r.kind == "quality"]
    # the fixed pool goes out whole whenever a practice qualifies
    assert all(r.paid_cents == demo_incentives.QUALITY_POOL_CENTS for r in quality)
    assert built.paid_cents > 0
    assert PROGRESS[demo_incentives.STAGE][-1][0] == PROGRESS[demo_incentives.STAGE][-1][1]


def test_entries_balance_with_practices(built, db_access):
    entries = JournalEntry.objects.filter(source_type__in=("incentive_settlement", "incentive_payment"))
    assert entries.count() >= 4
    for entry in entries:
        lines = list(entry.lines.select_related("account"))
        assert sum(x.debit for x in lines) == sum(x.credit for x in lines)
        assert all(x.practice_id for x in lines if x.account.code == accounts.INCENTIVES_PAYABLE)


def test_deterministic_for_a_seed(built, db_access):
    """Preparing the draft risk pool again gives the same amounts (the same inputs, the same formula)."""
    from openipa.accounts.models import User
    from openipa.incentives.services import prepare_settlement

    draft = SettlementRun.objects.filter(status="draft").order_by("pk")[0]
    before = sorted(draft.lines.values_list("practice_id", "amount_cents"))
    again = prepare_settlement(actor=User.objects.get(username="finance"), contract=draft.contract,
                               kind=draft.kind, period=draft.period)  # fmt: skip
    assert sorted(again.lines.values_list("practice_id", "amount_cents")) == before
