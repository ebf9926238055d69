"""Posted entries and lines are never changed or deleted through the ORM, and the database itself refuses
lines that break the one-side rule and a second reversal of an entry."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from openipa.ledger import accounts
from openipa.ledger.models import Account, ImmutableError, JournalEntry, JournalLine
from openipa.ledger.tests.conftest import receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(post):
    return post(receipt(5_000))


def test_an_entry_cannot_be_saved_again(entry):
    entry.memo = "changed"
    with pytest.raises(ImmutableError, match="post a reversing entry"):
        entry.save()
    assert JournalEntry.objects.get(pk=entry.pk).memo == "January capitation"


def test_an_entry_cannot_be_deleted(entry):
    with pytest.raises(ImmutableError):
        entry.delete()
    with pytest.raises(ImmutableError):
        JournalEntry.objects.filter(pk=entry.pk).delete()
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


def test_entries_and_lines_cannot_be_updated_in_bulk(entry):
    with pytest.raises(ImmutableError):
        JournalEntry.objects.filter(pk=entry.pk).update(memo="changed")
    with pytest.raises(ImmutableError):
        JournalLine.objects.filter(entry=entry).update(debit=Decimal("1.00"))
    assert sorted(JournalLine.objects.values_list("debit", flat=True)) == [Decimal("0.00"), Decimal("50.00")]


def test_a_line_cannot_be_saved_changed_or_deleted(entry):
    line = entry.lines.first()
    line.debit, line.credit = line.credit, line.debit
    with pytest.raises(ImmutableError):
        line.save()
    with pytest.raises(ImmutableError):
        line.delete()
    with pytest.raises(ImmutableError):
        JournalLine.objects.filter(entry=entry).delete()
    assert entry.lines.count() == 2


def test_a_new_line_cannot_be_added_to_a_posted_entry(entry):
    cash = Account.objects.get(code=accounts.CASH)
    with pytest.raises(ImmutableError):
        JournalLine(entry=entry, account=cash, debit=Decimal("1.00")).save()
    assert entry.lines.count() == 2


def test_an_account_with_lines_cannot_be_deleted(entry):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        Account.objects.get(code=accounts.CASH).delete()


def _raw_line(entry: JournalEntry, debit: Decimal, credit: Decimal) -> None:
    cash = Account.objects.get(code=accounts.CASH)
    with transaction.atomic():
        JournalLine.objects.bulk_create([JournalLine(entry=entry, account=cash, debit=debit, credit=credit)])


@pytest.mark.parametrize(
    ("debit", "credit"),
    [("1.00", "1.00"), ("0.00", "0.00"), ("-1.00", "0.00"), ("0.00", "-1.00"), ("-1.00", "2.00")],
)
def test_the_database_refuses_a_line_without_exactly_one_positive_side(entry, debit, credit):
    with pytest.raises(IntegrityError):
        _raw_line(entry, Decimal(debit), Decimal(credit))


def test_the_database_refuses_a_second_reversal_of_an_entry(entry, post):
    def reversal(number: int) -> JournalEntry:
        return JournalEntry(
            number=number,
            date=entry.date,
            memo="reversal",
            source_type="capitation_run",
            source_id="1",
            posted_at=timezone.now(),
            posted_by="fin",
            reverses=entry,
        )

    reversal(10).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        reversal(11).save()


def test_the_database_refuses_a_duplicate_entry_number(entry):
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry(
            number=entry.number,
            date=entry.date,
            memo="duplicate",
            source_type="payment",
            source_id="1",
            posted_at=timezone.now(),
            posted_by="fin",
        ).save()
