"""reverse_entry: the mirror of an entry, linked to it, netting to zero; refused a second time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openipa.core.errors import PermissionDenied
from openipa.core.models import AuditEvent
from openipa.ledger import accounts, selectors
from openipa.ledger.models import Account, JournalEntry, JournalLine
from openipa.ledger.services import LedgerError, entries_for, reverse_entry
from openipa.ledger.tests.conftest import JAN31, cr, dr

pytestmark = pytest.mark.django_db

FEB1 = dt.date(2026, 2, 1)


@pytest.fixture
def entry(post, small_ipa):
    return post(
        [
            dr(accounts.CAPITATION_UNDISTRIBUTED, 100_000, payer_id=small_ipa.payer.pk),
            cr(
                accounts.PROVIDER_CAPITATION_PAYABLE,
                70_000,
                practice_id=small_ipa.practice_a.pk,
                memo="ALDER",
            ),
            cr(accounts.WITHHOLD_LIABILITY, 18_000, practice_id=small_ipa.practice_a.pk),
            cr(accounts.ADMIN_FEE_REVENUE, 12_000),
        ],
        source_id=9,
    )


def lines_of(entry: JournalEntry) -> list[tuple[Any, ...]]:
    return list(
        entry.lines.order_by("id").values_list(
            "account__code", "debit", "credit", "practice_id", "payer_id", "memo"
        )
    )


def test_a_reversal_mirrors_every_line_and_links_to_the_entry(entry, fin):
    reversal = reverse_entry(actor=fin, entry=entry, date=FEB1, memo="Run 9 voided")
    assert reversal.reverses == entry
    assert JournalEntry.objects.get(pk=entry.pk).reversal == reversal
    assert reversal.number == entry.number + 1
    assert (reversal.date, reversal.memo, reversal.source_type, reversal.source_id) == (
        FEB1,
        "Run 9 voided",
        "capitation_run",
        "9",
    )
    mirrored = [
        (code, credit, debit, practice, payer, memo)
        for code, debit, credit, practice, payer, memo in lines_of(entry)
    ]
    assert lines_of(reversal) == mirrored


def test_an_entry_and_its_reversal_net_to_zero(entry, fin):
    before = selectors.trial_balance(fin, as_of=JAN31)
    reverse_entry(actor=fin, entry=entry, date=FEB1, memo="voided")
    assert any(r.balance_cents for r in before.rows)
    after = selectors.trial_balance(fin)
    assert all(r.debit_cents == r.credit_cents == r.balance_cents == 0 for r in after.rows)
    assert after.total_debit_cents == after.total_credit_cents == 0
    # as of the entry's date, the reversal dated later does not count yet
    assert selectors.trial_balance(fin, as_of=JAN31) == before


def test_entries_for_the_source_list_the_entry_and_its_reversal(entry, fin):
    reversal = reverse_entry(actor=fin, entry=entry, date=FEB1, memo="voided")
    assert entries_for("capitation_run", 9) == [entry, reversal]


def test_a_second_reversal_is_refused(entry, fin):
    first = reverse_entry(actor=fin, entry=entry, date=FEB1, memo="voided")
    with pytest.raises(
        LedgerError, match=f"entry {entry.number} was already reversed by entry {first.number}"
    ):
        reverse_entry(actor=fin, entry=entry, date=FEB1, memo="again")
    assert JournalEntry.objects.count() == 2


def test_a_stale_copy_of_the_entry_cannot_reverse_it_twice(entry, fin):
    stale = JournalEntry.objects.get(pk=entry.pk)
    reverse_entry(actor=fin, entry=entry, date=FEB1, memo="voided")
    with pytest.raises(LedgerError, match="already reversed"):
        reverse_entry(actor=fin, entry=stale, date=FEB1, memo="again")


def test_a_reversal_is_not_itself_reversed(entry, fin):
    reversal = reverse_entry(actor=fin, entry=entry, date=FEB1, memo="voided")
    with pytest.raises(
        LedgerError, match="is itself the reversal of another entry; post a new entry instead"
    ):
        reverse_entry(actor=fin, entry=reversal, date=FEB1, memo="undo the undo")


def test_a_reversal_dated_before_the_entry_is_refused(entry, fin):
    with pytest.raises(
        LedgerError, match="the reversal's date 2026-01-30 is before the entry's date 2026-01-31"
    ):
        reverse_entry(actor=fin, entry=entry, date=dt.date(2026, 1, 30), memo="too early")
    assert JournalEntry.objects.count() == 1


def test_a_reversal_needs_a_memo(entry, fin):
    with pytest.raises(LedgerError, match="memo is empty"):
        reverse_entry(actor=fin, entry=entry, date=FEB1, memo="  ")


def test_an_inactive_account_still_takes_a_reversal(entry, fin):
    Account.objects.filter(code=accounts.WITHHOLD_LIABILITY).update(active=False)
    reversal = reverse_entry(actor=fin, entry=entry, date=FEB1, memo="voided")
    assert reversal.lines.filter(account__code=accounts.WITHHOLD_LIABILITY).exists()


@pytest.mark.parametrize("persona", ["admin", "auditor", "ops", "alice"])
def test_only_finance_reverses(entry, small_ipa, persona):
    with pytest.raises(PermissionDenied):
        reverse_entry(actor=small_ipa.users[persona], entry=entry, date=FEB1, memo="no")
    assert JournalEntry.objects.count() == 1
    assert JournalLine.objects.count() == 4


def test_a_reversal_is_audited(entry, fin):
    reversal = reverse_entry(actor=fin, entry=entry, date=FEB1, memo="voided")
    event = AuditEvent.objects.get(action="ledger.reverse")
    assert event.object_id == str(reversal.pk)
    assert event.changes["reverses"] == [None, entry.pk]
