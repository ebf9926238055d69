"""The demo's membership fees and programs on a module-scoped demo: a fee term for every practice with an
agreement, three issued months of invoices (prepared by finance, approved by finance-2), payments with late
payers and one overpayment (a credit balance), the ledger's receivable by practice equal to the balances, and two
programs with results from the demo's quality runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openipa.accounts.models import User
from openipa.association import selectors
from openipa.association.models import FeeTerm, Invoice, InvoiceRun, Program
from openipa.demo import association as demo_association
from openipa.demo.services import DemoSummary
from openipa.demo.tests.value_based.shared import PROGRESS, TODAY
from openipa.ledger import accounts
from openipa.ledger.models import JournalLine


@pytest.fixture(scope="module")
def built(value_based_demo: DemoSummary) -> demo_association.AssociationSummary:
    assert value_based_demo.association is not None
    return value_based_demo.association


@pytest.fixture
def db_access(built: Any, db: None) -> None:
    return None


def test_terms_invoices_and_workflow(built: demo_association.AssociationSummary, db_access: None) -> None:
    assert built.terms == FeeTerm.objects.count() > 30
    assert 0 < built.percent_terms < built.terms
    runs = InvoiceRun.objects.filter(pk__in=built.runs).order_by("month")
    assert [f"{r.month:%Y-%m}" for r in runs] == ["2026-07", "2026-08", "2026-09"]
    assert {(r.status, r.prepared_by, r.approved_by) for r in runs} == {("issued", "finance", "finance-2")}
    assert built.invoices == Invoice.objects.count() >= 3 * 30
    assert PROGRESS[demo_association.STAGE][-1][0] == PROGRESS[demo_association.STAGE][-1][1]


def test_payments_late_payers_and_a_credit(
    built: demo_association.AssociationSummary, db_access: None
) -> None:
    finance = User.objects.get(username="finance")
    balances = {b.practice.code: b.aging for b in selectors.balances(finance, as_of=TODAY)}
    assert built.payments > 40
    assert built.late_practices
    assert balances[built.overpaid_practice].balance_cents == -10_000
    assert any(
        balances[code].buckets["90+"] or balances[code].buckets["61-90"] for code in built.late_practices
    )
    # the ledger's practice receivable, practice by practice, is the balance the fee tables give
    ledger: dict[int, int] = {}
    for line in JournalLine.objects.filter(
        account__code=accounts.PRACTICE_RECEIVABLE, entry__source_type__startswith="membership_fee"
    ):
        assert line.practice_id is not None  # every fee posting names its practice
        ledger[line.practice_id] = ledger.get(line.practice_id, 0) + int((line.debit - line.credit) * 100)
    by_id = {b.practice.pk: b.aging.balance_cents for b in selectors.balances(finance, as_of=TODAY)}
    assert {k: v for k, v in ledger.items() if v} == {k: v for k, v in by_id.items() if v}


def test_programs_have_results(built: demo_association.AssociationSummary, db_access: None) -> None:
    assert len(built.programs) == 2
    quality = User.objects.get(username="quality")
    for program in Program.objects.filter(pk__in=built.programs):
        results = selectors.program_results(quality, program)
        assert len(results.points) >= 2
        assert results.baseline is not None
        assert results.baseline.denominator > 0
        assert any(p.participants and p.participants.denominator for p in results.points)
    assert Program.objects.filter(pk=built.programs[0], participants__left_on__isnull=False).exists()
    assert dt.date(2026, 12, 31) in set(Program.objects.values_list("end", flat=True))
