"""Property: whatever balanced entries are posted (and reversed), the trial balance balances and every
account's balance is the sum of its lines, signed by its normal side, as of any date."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.core.money import allocate
from openipa.ledger import selectors
from openipa.ledger.accounts import CHART
from openipa.ledger.services import Posting, post_entry, reverse_entry

pytestmark = pytest.mark.django_db

CODES = [a.code for a in CHART]
DEBIT_NORMAL = {a.code: a.kind.debit_normal for a in CHART}
START = dt.date(2026, 1, 1)


@st.composite
def balanced_entry(draw: Any) -> tuple[int, list[Posting]]:
    """Debits on some accounts, their total split over credit accounts by `allocate`; sides then swapped
    at random per line pair, so any account may be debited or credited."""
    debits = draw(st.lists(st.tuples(st.sampled_from(CODES), st.integers(1, 10**11)), min_size=1, max_size=5))
    credit_codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=5))
    weights = draw(st.lists(st.integers(1, 1000), min_size=len(credit_codes), max_size=len(credit_codes)))
    total = sum(amount for _, amount in debits)
    parts = allocate(total, weights)
    postings = [Posting(code, debit_cents=amount) for code, amount in debits]
    postings += [
        Posting(code, credit_cents=part) for code, part in zip(credit_codes, parts, strict=True) if part
    ]
    if draw(st.booleans()):
        postings = [
            Posting(p.account, debit_cents=p.credit_cents, credit_cents=p.debit_cents) for p in postings
        ]
    day = draw(st.integers(0, 7))  # few days, so entries often fall on the as-of date itself
    return day, postings


def expected_balances(entries: list[tuple[dt.date, list[Posting]]], as_of: dt.date | None) -> dict[str, int]:
    net_debit: dict[str, int] = defaultdict(int)
    for date, postings in entries:
        if as_of is not None and date > as_of:
            continue
        for p in postings:
            net_debit[p.account] += p.debit_cents - p.credit_cents
    return {code: net_debit[code] if DEBIT_NORMAL[code] else -net_debit[code] for code in CODES}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entries=st.lists(balanced_entry(), min_size=1, max_size=6),
    reverse=st.lists(st.integers(0, 5), max_size=2, unique=True),
    as_of_day=st.none() | st.integers(0, 12),
)
def test_random_balanced_postings_keep_the_trial_balance_balanced(small_ipa, entries, reverse, as_of_day):
    fin = small_ipa.users["fin"]
    with transaction.atomic():
        posted = []
        ledger: list[tuple[dt.date, list[Posting]]] = []
        for i, (day, postings) in enumerate(entries):
            date = START + dt.timedelta(days=day)
            posted.append(
                post_entry(
                    actor=fin, date=date, memo="random", postings=postings, source_type="test", source_id=i
                )
            )
            ledger.append((date, postings))
        for i in reverse:
            if i < len(posted):
                _, postings = ledger[i]
                date = posted[i].date + dt.timedelta(days=3)
                reverse_entry(actor=fin, entry=posted[i], date=date, memo="undo")
                mirrored = [
                    Posting(p.account, debit_cents=p.credit_cents, credit_cents=p.debit_cents)
                    for p in postings
                ]
                ledger.append((date, mirrored))

        as_of = None if as_of_day is None else START + dt.timedelta(days=as_of_day)
        report = selectors.trial_balance(fin, as_of=as_of)
        assert report.balanced
        assert report.total_debit_cents == report.total_credit_cents
        assert {r.code: r.balance_cents for r in report.rows} == expected_balances(ledger, as_of)
        for r in report.rows:
            assert r.debit_cents >= 0
            assert r.credit_cents >= 0
            assert not (r.debit_cents and r.credit_cents)
        for code in CODES[:3]:
            activity = selectors.account_activity(fin, code, date_to=as_of)
            assert activity.closing_cents == expected_balances(ledger, as_of)[code]
        transaction.set_rollback(True)
