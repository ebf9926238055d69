"""The demo's capitation year: every payer-month imported and reconciled, eleven months distributed, approved
by the second finance login and paid, the last month left to do; the noise shows up as discrepancies."""

from __future__ import annotations

import pytest

from openipa.capitation.models import (
    Discrepancy,
    DistributionRun,
    PaymentFile,
    Reconciliation,
    RemittanceImport,
)
from openipa.contracts.models import Payer
from openipa.demo.engine.remittances import Owed, plan_remittance
from openipa.demo.services import DemoSummary
from openipa.demo.tests.value_based.shared import AS_OF, demo_var_dir
from openipa.ledger.selectors import trial_balance


@pytest.fixture(scope="module")
def built(value_based_demo: DemoSummary) -> DemoSummary:
    """The package's shared demo (shared.py)."""
    return value_based_demo


def test_the_demo_runs_the_capitation_cycle(built: DemoSummary, db: None) -> None:
    summary = built
    payers = Payer.objects.count()
    assert summary.remittances == payers * 12
    assert RemittanceImport.objects.filter(status="applied").count() == payers * 12
    assert Reconciliation.objects.count() == payers * 12
    regular = DistributionRun.objects.filter(kind="regular")
    assert regular.count() == payers * 11
    assert set(regular.values_list("status", flat=True)) <= {"paid", "approved"}
    assert not regular.filter(month=AS_OF.first_day).exists()  # the latest month is left for a new user
    assert set(regular.values_list("approved_by", flat=True)) == {"finance-2"}
    assert set(regular.values_list("prepared_by", flat=True)) == {"finance"}
    assert PaymentFile.objects.count() == summary.payment_files > 0
    for path in PaymentFile.objects.values_list("stored_path", flat=True):
        assert (demo_var_dir() / path).is_file()
    categories = set(Discrepancy.objects.values_list("category", flat=True))
    assert {"eligible_not_paid", "wrong_rate", "duplicate_payment"} <= categories
    from openipa.accounts.models import User

    balance = trial_balance(User.objects.get(username="finance"))
    assert balance.total_debit_cents == balance.total_credit_cents


def test_the_remittance_noise_is_deterministic_and_adds_up() -> None:
    owed = [Owed(f"M{i}", "L", "F", 30000 + i, 29000, 1, False, new=i % 5 == 0) for i in range(400)]
    first = plan_remittance(seed=3, payer_code="P", month=AS_OF, owed=owed, duplicate=True)
    again = plan_remittance(seed=3, payer_code="P", month=AS_OF, owed=owed, duplicate=True)
    assert first.members == again.members
    assert first.noise["duplicate"] == 1
    assert first.noise["late"] > 0
    paid_keys = {m.key for m in first.members}
    late_keys = {m.key for m in first.late}
    assert not paid_keys & late_keys
    assert first.total_cents == sum(line.cents for m in first.members for line in m.lines)
