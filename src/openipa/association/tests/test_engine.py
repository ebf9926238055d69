"""The fee and account arithmetic, no database: golden cases by hand and properties over generated inputs."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.association import engine
from openipa.core.money import percent_of

percents = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100), places=4)
cents = st.integers(min_value=0, max_value=10**11)
maybe_cents = st.none() | st.integers(min_value=0, max_value=10**9)


def test_flat_fee() -> None:
    fee = engine.fee_for_month(engine.Term("flat_monthly", 25_000), engine.Revenue(10**8, 0, 0))
    assert fee.total_cents == 25_000
    assert fee.lines[0].arithmetic == "flat $250.00 a month"


def test_percent_fee_rounds_half_up_once_on_the_sum() -> None:
    # 2.5% of $0.10 + $0.10 + $0.10 = 2.5% of 30 cents = 0.75 -> 1 cent; per component 0.25 each -> 0 cents
    fee = engine.fee_for_month(
        engine.Term("percent_of_revenue", percent=Decimal("2.5")), engine.Revenue(10, 10, 10)
    )
    assert fee.total_cents == 1
    assert sum(percent_of(c, Decimal("2.5")) for c in (10, 10, 10)) == 0


def test_negative_revenue_counts_as_zero_then_the_minimum() -> None:
    term = engine.Term("percent_of_revenue", percent=Decimal(3), minimum_cents=5_000)
    fee = engine.fee_for_month(term, engine.Revenue(-20_000, 5_000, 0))
    assert fee.total_cents == 5_000
    assert fee.lines[-1].arithmetic == (
        "revenue -$150.00 counts as $0.00; 3% of $0.00 = $0.00; below the minimum, so $50.00"
    )


@pytest.mark.parametrize(
    ("term", "problem"),
    [
        (engine.Term("weekly"), "unknown method"),
        (engine.Term("flat_monthly", 0), "needs an amount"),
        (engine.Term("percent_of_revenue", percent=Decimal(0)), "needs a percent"),
        (engine.Term("percent_of_revenue", percent=Decimal(101)), "between 0 and 100"),
        (
            engine.Term("percent_of_revenue", percent=Decimal(1), minimum_cents=9, maximum_cents=8),
            "below the minimum",
        ),
        (engine.Term("flat_monthly", -1), "negative"),
    ],
)
def test_unsound_terms_are_refused(term: engine.Term, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        engine.fee_for_month(term, engine.Revenue())


@given(cap=cents, claims=cents, incentives=cents, percent=percents, low=maybe_cents, high=maybe_cents)
def test_percent_fee_properties(
    cap: int, claims: int, incentives: int, percent: Decimal, low: int | None, high: int | None
) -> None:
    if low is not None and high is not None and high < low:
        low, high = high, low
    term = engine.Term("percent_of_revenue", percent=percent, minimum_cents=low, maximum_cents=high)
    fee = engine.fee_for_month(term, engine.Revenue(cap, claims, incentives))
    raw = percent_of(cap + claims + incentives, percent)
    # the fee is the one rounding on the sum, then the corridor
    expected = raw if low is None else max(raw, low)
    expected = expected if high is None else min(expected, high)
    assert fee.total_cents == expected >= 0
    assert sum(line.amount_cents for line in fee.lines) == fee.total_cents
    # exact to within half a cent of the true fee; per-component rounding would differ from it by at most a cent
    exact = Fraction(cap + claims + incentives) * Fraction(percent) / 100
    assert abs(raw - exact) <= Fraction(1, 2)
    per_line = sum(percent_of(c, percent) for c in (cap, claims, incentives))
    assert abs(raw - per_line) <= 1


@given(
    opens=st.lists(st.integers(min_value=-500, max_value=100_000), min_size=0, max_size=8),
    amount=st.integers(min_value=1, max_value=500_000),
    first=st.none() | st.integers(min_value=0, max_value=7),
)
def test_payment_application_properties(opens: list[int], amount: int, first: int | None) -> None:
    start = dt.date(2026, 1, 1)
    items = [engine.OpenItem(i, start + dt.timedelta(days=7 * i), o) for i, o in enumerate(opens)]
    applied, left = engine.apply_payment(amount, items, first=first)
    assert sum(c for _i, c in applied) + left == amount
    assert left >= 0
    by_id = dict(applied)
    for item in items:
        assert 0 <= by_id.get(item.invoice_id, 0) <= max(item.open_cents, 0)
    if left > 0:  # money left over: every invoice was paid off
        assert all(by_id.get(i.invoice_id, 0) == i.open_cents for i in items if i.open_cents > 0)
    # oldest first: a later invoice (other than the named one) gets money only when the older ones are paid off
    rest = [i for i in items if i.invoice_id != first and i.open_cents > 0]
    for older, newer in itertools.pairwise(rest):
        if by_id.get(newer.invoice_id, 0) > 0:
            assert by_id.get(older.invoice_id, 0) == older.open_cents


def test_payment_application_refuses_nothing() -> None:
    with pytest.raises(ValueError, match="positive"):
        engine.apply_payment(0, [])


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-3, "0-30"),
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
    ],
)
def test_aging_bucket_boundaries(days: int, bucket: str) -> None:
    on = dt.date(2026, 1, 1)
    assert engine.bucket_of(on, on + dt.timedelta(days=days)) == bucket


@given(
    amounts=st.lists(st.integers(min_value=-(10**6), max_value=10**6).filter(bool), max_size=12),
    offsets=st.lists(st.integers(min_value=0, max_value=120), min_size=12, max_size=12),
)
def test_statement_balances_carry(amounts: list[int], offsets: list[int]) -> None:
    base = dt.date(2026, 1, 1)
    txns = [
        engine.Txn(base + dt.timedelta(days=offsets[i]), i, "x", str(i), a) for i, a in enumerate(amounts)
    ]
    start, end = base + dt.timedelta(days=30), base + dt.timedelta(days=90)
    st_ = engine.statement(txns, start, end)
    assert st_.opening_cents == sum(t.amount_cents for t in txns if t.on < start)
    assert st_.closing_cents == st_.opening_cents + sum(r.txn.amount_cents for r in st_.rows)
    assert st_.closing_cents == sum(t.amount_cents for t in txns if t.on <= end)


def test_rate_text() -> None:
    assert engine.percent_text(engine.rate(2, 3)) == "66.7%"
    assert engine.percent_text(engine.rate(1, 8)) == "12.5%"
    assert engine.percent_text(engine.rate(0, 0)) == "n/a"
    with pytest.raises(ValueError, match="negative"):
        engine.rate(-1, 2)
