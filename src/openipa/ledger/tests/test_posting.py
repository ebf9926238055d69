"""post_entry: what it accepts, what it refuses (with a message saying why, having written nothing), who may
call it, and that it joins the caller's transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from openipa.core.errors import PermissionDenied
from openipa.core.models import AuditEvent
from openipa.ledger import accounts
from openipa.ledger.models import Account, EntryCounter, JournalEntry, JournalLine
from openipa.ledger.services import LedgerError, Posting, entries_for, post_entry
from openipa.ledger.tests.conftest import JAN31, cr, dr, receipt

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return not JournalEntry.objects.exists() and not JournalLine.objects.exists()


def test_a_balanced_entry_is_posted_with_its_lines(post, fin, small_ipa):
    entry = post(
        [
            dr(accounts.CASH, 100_000, payer_id=small_ipa.payer.pk, memo="EFT 12345"),
            cr(accounts.PROVIDER_CAPITATION_PAYABLE, 60_001, practice_id=small_ipa.practice_a.pk),
            cr(accounts.PROVIDER_CAPITATION_PAYABLE, 27_999, practice_id=small_ipa.practice_b.pk),
            cr(accounts.ADMIN_FEE_REVENUE, 12_000),
        ],
        source_id=42,
    )
    assert entry.number == 1
    assert (entry.date, entry.memo, entry.source_type, entry.source_id) == (
        JAN31,
        "January capitation",
        "capitation_run",
        "42",
    )
    assert entry.posted_by == "fin"
    assert entry.posted_by_user_id == fin.pk
    lines = list(
        entry.lines.order_by("id").values_list(
            "account__code", "debit", "credit", "practice_id", "payer_id", "memo"
        )
    )
    assert lines == [
        ("1000", Decimal("1000.00"), Decimal("0.00"), None, small_ipa.payer.pk, "EFT 12345"),
        ("2100", Decimal("0.00"), Decimal("600.01"), small_ipa.practice_a.pk, None, ""),
        ("2100", Decimal("0.00"), Decimal("279.99"), small_ipa.practice_b.pk, None, ""),
        ("4100", Decimal("0.00"), Decimal("120.00"), None, None, ""),
    ]


def test_numbers_follow_posting_order_without_gaps(post):
    numbers = [post(receipt(100 + i)).number for i in range(3)]
    with pytest.raises(LedgerError):
        post([dr(accounts.CASH, 5), cr(accounts.CAPITATION_UNDISTRIBUTED, 4)])
    numbers.append(post(receipt()).number)
    assert numbers == [1, 2, 3, 4]


def test_the_system_posts_without_an_actor(small_ipa):
    entry = post_entry(
        actor=None, date=JAN31, memo="demo", postings=receipt(), source_type="payment", source_id="demo-1"
    )
    assert entry.posted_by == "system"
    assert entry.posted_by_user_id is None


@pytest.mark.parametrize("persona", ["admin", "ops", "auditor", "messenger", "alice", "bob"])
def test_only_finance_posts(small_ipa, persona):
    with pytest.raises(PermissionDenied):
        post_entry(
            actor=small_ipa.users[persona],
            date=JAN31,
            memo="not allowed",
            postings=receipt(),
            source_type="payment",
            source_id=1,
        )
    assert nothing_written()


def test_posting_is_audited(post, fin):
    entry = post(receipt(250_00))
    event = AuditEvent.objects.get(action="ledger.post")
    assert (event.actor_username, event.object_type, event.object_id) == (
        "fin",
        "ledger.journalentry",
        str(entry.pk),
    )
    assert event.changes["number"] == [None, 1]
    assert event.changes["lines"] == [None, 2]
    assert event.changes["total"] == [None, "250.00"]


# -- refusals ------------------------------------------------------------------------------------------


def refused(post, postings, **kw) -> str:
    with pytest.raises(LedgerError) as info:
        post(postings, **kw)
    assert nothing_written()
    assert not AuditEvent.objects.filter(action="ledger.post").exists()
    return str(info.value)


def test_an_unbalanced_entry_is_refused_saying_by_how_much(post):
    message = refused(post, [dr(accounts.CASH, 10_000), cr(accounts.CAPITATION_UNDISTRIBUTED, 9_999)])
    assert "unbalanced by 1 cents" in message
    assert "debits 10000, credits 9999" in message


def test_an_entry_with_no_postings_is_refused(post):
    assert "needs postings" in refused(post, [])


def test_an_unknown_account_is_refused(post):
    message = refused(post, [dr("9999", 100), cr(accounts.CASH, 100)])
    assert "posting 1: unknown account '9999'" in message


def test_an_inactive_account_is_refused(post):
    Account.objects.filter(code=accounts.PAYER_RECOUPMENTS_PAYABLE).update(active=False)
    message = refused(post, [dr(accounts.CASH, 100), cr(accounts.PAYER_RECOUPMENTS_PAYABLE, 100)])
    assert "posting 2: account 2700 Payer recoupments payable is inactive" in message


@pytest.mark.parametrize("amount", [12.5, 100.0, Decimal("1.00"), "100", True, None])
def test_amounts_other_than_int_cents_are_refused(post, amount):
    message = refused(
        post, [Posting(accounts.CASH, debit_cents=amount), cr(accounts.CAPITATION_UNDISTRIBUTED, 100)]
    )
    assert f"posting 1 (account 1000): debit_cents is a {type(amount).__name__}" in message
    assert "integer cents" in message


def test_a_line_with_both_sides_is_refused(post):
    message = refused(post, [Posting(accounts.CASH, debit_cents=100, credit_cents=100)])
    assert "posting 1 (account 1000): both debit_cents (100) and credit_cents (100) are set" in message


def test_a_line_with_neither_side_is_refused(post):
    message = refused(post, [*receipt(), Posting(accounts.CASH)])
    assert "posting 3 (account 1000): debit_cents and credit_cents are both zero" in message


def test_a_negative_amount_is_refused(post):
    message = refused(post, [dr(accounts.CASH, -100), cr(accounts.CAPITATION_UNDISTRIBUTED, -100)])
    assert "posting 1 (account 1000): debit_cents is negative (-100)" in message
    assert "posting 2 (account 2000): credit_cents is negative (-100)" in message


def test_an_amount_larger_than_a_line_holds_is_refused(post):
    big = 10**14
    message = refused(post, [dr(accounts.CASH, big), cr(accounts.CAPITATION_UNDISTRIBUTED, big)])
    assert "is more than a line holds" in message


def test_unknown_practices_and_payers_are_refused(post, small_ipa):
    message = refused(
        post,
        [
            dr(accounts.CASH, 100, payer_id=987_654),
            cr(accounts.PROVIDER_CAPITATION_PAYABLE, 100, practice_id=123_456),
        ],
    )
    assert "unknown practice id 123456" in message
    assert "unknown payer id 987654" in message


def test_every_problem_is_listed_at_once(post):
    message = refused(post, [dr("9999", 100), cr("8888", 100)], memo="", source_type="Capitation Run")
    for part in (
        "memo is empty",
        "source_type 'Capitation Run'",
        "unknown account '9999'",
        "unknown account '8888'",
    ):
        assert part in message


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("date", dt.datetime(2026, 1, 31, 12, 0), "date must be a date"),
        ("date", "2026-01-31", "date must be a date"),
        ("source_type", "capitation_run\n", "source_type 'capitation_run\\n' must be"),
        ("source_id", "", "source_id must be a non-empty"),
        ("source_id", "x" * 65, "source_id has 65 characters"),
        ("memo", "x" * 501, "memo has 501 characters"),
    ],
)
def test_bad_header_fields_are_refused(post, field, value, expected):
    assert expected in refused(post, receipt(), **{field: value})


def test_a_posting_that_is_not_a_posting_is_refused(post):
    assert "posting 1 is a dict, not a Posting" in refused(post, [{"account": "1000", "debit_cents": 1}])


def test_a_long_list_of_problems_is_cut_short(post):
    message = refused(post, [dr(f"9{i:03d}", 1) for i in range(30)] + [cr(accounts.CASH, 30)])
    assert "and 10 more problems" in message


# -- transactions ------------------------------------------------------------------------------------


def test_a_posting_inside_an_outer_transaction_that_rolls_back_leaves_nothing(post):
    def failing_run() -> None:
        with transaction.atomic():
            post(receipt())
            assert JournalEntry.objects.count() == 1
            raise RuntimeError("run failed")

    with pytest.raises(RuntimeError, match="run failed"):
        failing_run()
    assert nothing_written()
    assert not AuditEvent.objects.filter(action="ledger.post").exists()
    assert post(receipt()).number == 1  # the number was rolled back with the entry


def test_a_run_posts_thousands_of_lines_in_a_few_queries(post, small_ipa, django_assert_max_num_queries):
    practices = [small_ipa.practice_a.pk, small_ipa.practice_b.pk]
    postings = [
        cr(accounts.PROVIDER_CAPITATION_PAYABLE, 100 + i, practice_id=practices[i % 2]) for i in range(3000)
    ]
    postings.append(dr(accounts.CAPITATION_UNDISTRIBUTED, sum(p.credit_cents for p in postings)))
    # SQLite takes at most 999 parameters a statement, so 142 lines an INSERT there (PostgreSQL: 1,000);
    # one query per line would be 3,000.
    with django_assert_max_num_queries(50):
        entry = post(postings)
    assert entry.lines.count() == 3001


def test_entries_for_lists_a_sources_entries_in_posting_order(post):
    first = post(receipt(), source_id=7)
    post(receipt(), source_id=8)
    second = post(receipt(), source_id="7")
    post(receipt(), source_type="payment", source_id=7)
    assert entries_for("capitation_run", 7) == [first, second]
    assert entries_for("capitation_run", "404") == []


def test_the_counter_holds_the_last_number(post):
    post(receipt())
    post(receipt())
    assert EntryCounter.objects.get().last_number == 2


def test_a_practice_or_payer_given_as_anything_but_an_id_is_refused(post, small_ipa):
    message = refused(
        post,
        [
            dr(accounts.CASH, 100, payer_id=str(small_ipa.payer.pk)),
            cr(accounts.PROVIDER_CAPITATION_PAYABLE, 100, practice_id=small_ipa.practice_a),
        ],
    )
    assert (
        f"posting 1 (account 1000): payer_id must be a positive integer id or None, not '{small_ipa.payer.pk}'"
        in message
    )
    assert "posting 2 (account 2100): practice_id must be a positive integer id or None" in message


def test_numbering_continues_after_the_highest_entry_when_the_counter_row_is_missing(post):
    post(receipt())
    post(receipt())
    EntryCounter.objects.all().delete()
    assert post(receipt()).number == 3
