"""The trial balance, an account's activity with its running balance, the journal; and who may read them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.pagination import paginate
from openipa.ledger import accounts, selectors
from openipa.ledger.accounts import CHART, Kind
from openipa.ledger.models import Account, JournalEntry
from openipa.ledger.services import reverse_entry
from openipa.ledger.tests.conftest import cr, dr, receipt

pytestmark = pytest.mark.django_db

JAN = dt.date(2026, 1, 31)
FEB = dt.date(2026, 2, 28)
MAR = dt.date(2026, 3, 31)


@pytest.fixture
def books(post, small_ipa):
    """Three months: capitation received, distributed to the two practices, part of it paid out."""
    a, b, payer = small_ipa.practice_a.pk, small_ipa.practice_b.pk, small_ipa.payer.pk
    post(receipt(100_000), date=JAN, source_type="capitation_import", source_id="820-1")
    post(
        [
            dr(accounts.CAPITATION_UNDISTRIBUTED, 100_000, payer_id=payer),
            cr(accounts.PROVIDER_CAPITATION_PAYABLE, 50_000, practice_id=a, payer_id=payer),
            cr(accounts.PROVIDER_CAPITATION_PAYABLE, 38_000, practice_id=b, payer_id=payer),
            cr(accounts.ADMIN_FEE_REVENUE, 12_000, payer_id=payer),
        ],
        date=FEB,
        source_id=1,
    )
    post(
        [dr(accounts.PROVIDER_CAPITATION_PAYABLE, 50_000, practice_id=a), cr(accounts.CASH, 50_000)],
        date=MAR,
        source_type="payment",
        source_id="ach-1",
    )
    return small_ipa


def row(report: selectors.TrialBalance, code: str) -> selectors.TrialBalanceRow:
    return next(r for r in report.rows if r.code == code)


def test_the_trial_balance_lists_every_account_with_equal_totals(books, fin):
    report = selectors.trial_balance(fin)
    assert [r.code for r in report.rows] == sorted(a.code for a in CHART)
    assert report.balanced
    assert report.total_debit_cents == report.total_credit_cents == 50_000  # cash = payable + fee revenue
    cash = row(report, accounts.CASH)
    assert (cash.debit_cents, cash.credit_cents, cash.balance_cents) == (50_000, 0, 50_000)
    payable = row(report, accounts.PROVIDER_CAPITATION_PAYABLE)
    assert (payable.debit_cents, payable.credit_cents, payable.balance_cents) == (0, 38_000, 38_000)
    assert row(report, accounts.CAPITATION_UNDISTRIBUTED).balance_cents == 0
    assert row(report, accounts.ADMIN_FEE_REVENUE).balance_cents == 12_000


def test_a_balance_against_the_normal_side_is_negative(post, fin):
    post([dr(accounts.RETAINED_SURPLUS, 700), cr(accounts.CASH, 700)])
    report = selectors.trial_balance(fin)
    surplus = row(report, accounts.RETAINED_SURPLUS)
    assert (surplus.debit_cents, surplus.credit_cents, surplus.balance_cents) == (700, 0, -700)
    cash = row(report, accounts.CASH)
    assert (cash.debit_cents, cash.credit_cents, cash.balance_cents) == (0, 700, -700)


def test_the_trial_balance_as_of_a_date_counts_entries_dated_on_or_before_it(books, fin):
    jan = selectors.trial_balance(fin, as_of=JAN)
    assert jan.total_debit_cents == 100_000
    assert row(jan, accounts.CASH).balance_cents == 100_000
    assert row(jan, accounts.PROVIDER_CAPITATION_PAYABLE).balance_cents == 0
    assert selectors.trial_balance(fin, as_of=dt.date(2025, 12, 31)).total_debit_cents == 0
    assert (
        row(selectors.trial_balance(fin, as_of=FEB), accounts.PROVIDER_CAPITATION_PAYABLE).balance_cents
        == 88_000
    )


def test_inactive_accounts_show_only_while_they_hold_a_balance(books, fin):
    Account.objects.filter(code__in=[accounts.CASH, accounts.RISK_POOL_LIABILITY]).update(active=False)
    codes = [r.code for r in selectors.trial_balance(fin).rows]
    assert accounts.CASH in codes
    assert accounts.RISK_POOL_LIABILITY not in codes
    assert not row(selectors.trial_balance(fin), accounts.CASH).active


def test_totals_by_kind(books, fin):
    by_kind = {k.kind: k for k in selectors.trial_balance(fin).by_kind()}
    assert list(by_kind) == list(Kind)
    assert by_kind[Kind.ASSET].balance_cents == 50_000
    assert by_kind[Kind.LIABILITY].balance_cents == 38_000
    assert by_kind[Kind.REVENUE].balance_cents == 12_000
    assert by_kind[Kind.EXPENSE].balance_cents == 0


def test_the_csv_rows_end_with_the_totals(books, fin):
    rows = list(selectors.trial_balance_export_rows(fin, as_of=FEB))
    assert rows[0] == ("1000", "Cash - operating", "asset", "1000.00", "0.00", "1000.00", "debit")
    assert rows[-1] == ("", "Total", "", "1000.00", "1000.00", "", "")


# -- account activity ----------------------------------------------------------------------------------


def cents(line: Any, name: str) -> int:
    return int(getattr(line, name))


def test_account_activity_runs_the_balance_newest_first(books, fin):
    activity = selectors.account_activity(fin, accounts.PROVIDER_CAPITATION_PAYABLE)
    lines = list(activity.lines)
    assert [line.entry.date for line in lines] == [MAR, FEB, FEB]
    assert [cents(line, "amount_cents") for line in lines] == [-50_000, 38_000, 50_000]
    assert [cents(line, "running_cents") for line in lines] == [38_000, 88_000, 50_000]
    assert (activity.opening_cents, activity.closing_cents) == (0, 38_000)
    assert (activity.debit_cents, activity.credit_cents) == (50_000, 88_000)


def test_account_activity_starts_from_the_balance_before_the_range(books, fin):
    activity = selectors.account_activity(fin, accounts.CASH, date_from=FEB, date_to=MAR)
    assert activity.opening_cents == 100_000
    assert [cents(line, "running_cents") for line in activity.lines] == [50_000]
    assert activity.closing_cents == 50_000
    only_jan = selectors.account_activity(fin, accounts.CASH, date_to=JAN)
    assert [cents(line, "running_cents") for line in only_jan.lines] == [100_000]
    assert only_jan.closing_cents == 100_000


def test_account_activity_of_one_practice_or_payer(books, fin):
    a = books.practice_a.pk
    by_practice = selectors.account_activity(fin, accounts.PROVIDER_CAPITATION_PAYABLE, practice_id=a)
    assert [cents(line, "running_cents") for line in by_practice.lines] == [0, 50_000]
    by_payer = selectors.account_activity(fin, accounts.PROVIDER_CAPITATION_PAYABLE, payer_id=books.payer.pk)
    assert [cents(line, "running_cents") for line in by_payer.lines] == [88_000, 50_000]
    assert by_payer.closing_cents == 88_000


def test_a_page_of_activity_keeps_the_running_balance_of_the_whole_range(post, fin):
    for i in range(1, 31):
        post(receipt(i * 100), date=dt.date(2026, 1, i))
    activity = selectors.account_activity(fin, accounts.CASH)
    page = paginate(activity.lines, 2, 10)
    # newest first: page 2 holds days 20..11; the balance after day n is 100 * n(n+1)/2
    assert [cents(line, "running_cents") for line in page.items] == [
        100 * n * (n + 1) // 2 for n in range(20, 10, -1)
    ]
    assert page.total == 30


def test_account_activity_refuses_a_reversed_range_and_an_unknown_account(fin):
    with pytest.raises(ValidationFailed):
        selectors.account_activity(fin, accounts.CASH, date_from=FEB, date_to=JAN)
    with pytest.raises(NotFound):
        selectors.account_activity(fin, "9999")


# -- journal -------------------------------------------------------------------------------------------


def test_the_journal_lists_entries_newest_first_with_their_totals(books, fin):
    assert [e.number for e in selectors.journal(fin)] == [3, 2, 1]
    page = selectors.journal_page(fin, page=1, per_page=2)
    assert [(r.entry.number, r.line_count, r.total_cents) for r in page.items] == [
        (3, 2, 50_000),
        (2, 4, 100_000),
    ]
    assert (page.total, page.pages) == (3, 2)
    last = selectors.journal_page(fin, page=2, per_page=2, source_type="capitation_import")
    assert [(r.entry.number, r.line_count, r.total_cents) for r in last.items] == [(1, 2, 100_000)]


def test_the_journal_filters_by_source_and_dates(books, fin):
    assert [e.number for e in selectors.journal(fin, source_type="payment")] == [3]
    assert [e.number for e in selectors.journal(fin, date_from=FEB, date_to=FEB)] == [2]
    assert [e.number for e in selectors.journal(fin, date_to=FEB)] == [2, 1]
    assert selectors.source_types(fin) == ["capitation_import", "capitation_run", "payment"]


def test_an_entry_by_number_with_its_lines(books, fin):
    entry = selectors.entry_get(fin, 2)
    lines = selectors.entry_lines(fin, entry)
    rows: list[Any] = list(lines.lines)
    assert [(line.account.code, line.debit_cents, line.credit_cents) for line in rows] == [
        ("2000", 100_000, 0),
        ("2100", 0, 50_000),
        ("2100", 0, 38_000),
        ("4100", 0, 12_000),
    ]
    assert (lines.count, lines.total_cents) == (4, 100_000)
    with pytest.raises(NotFound):
        selectors.entry_get(fin, 99)


def test_a_reversed_entry_knows_its_reversal(books, fin):
    entry = selectors.entry_get(fin, 3)
    reversal = reverse_entry(actor=fin, entry=entry, date=MAR, memo="bounced")
    assert selectors.entry_get(fin, 3).reversal == reversal
    assert selectors.entry_get(fin, reversal.number).reverses == entry
    assert selectors.entry_get(fin, 1).reversal is None


# -- access --------------------------------------------------------------------------------------------


def every_selector(actor: Any) -> list[Any]:
    return [
        lambda: selectors.trial_balance(actor),
        lambda: list(selectors.trial_balance_export_rows(actor)),
        lambda: selectors.account_list(actor),
        lambda: selectors.account_get(actor, accounts.CASH),
        lambda: selectors.account_activity(actor, accounts.CASH),
        lambda: selectors.journal(actor),
        lambda: selectors.journal_page(actor),
        lambda: selectors.source_types(actor),
        lambda: selectors.entry_get(actor, 1),
        lambda: selectors.entry_lines(actor, JournalEntry.objects.get(number=1)),
    ]


@pytest.mark.parametrize("persona", ["ops", "messenger", "alice", "bob"])
def test_roles_without_finance_read_nothing(books, persona):
    for read in every_selector(books.users[persona]):
        with pytest.raises(PermissionDenied):
            read()


@pytest.mark.parametrize("persona", ["fin", "auditor", "admin"])
def test_finance_the_auditor_and_the_administrator_read_the_ledger(books, persona):
    for read in every_selector(books.users[persona]):
        read()
