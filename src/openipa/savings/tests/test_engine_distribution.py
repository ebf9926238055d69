"""Distribution to practices: a golden split by hand, the fallback of an empty pool, refusals, and the
exactness properties (parts sum to the distributable amount, nobody negative)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.savings.engine.distribution import (
    EFFICIENCY,
    MEMBER_MONTHS,
    QUALITY,
    DistributionError,
    Formula,
    Pool,
    PracticeKeys,
    distribute,
)

D = Decimal
FORMULA = Formula(reserve_percent=D("10"), admin_fee_percent=D("5"),
                  pools=(Pool(MEMBER_MONTHS, D("50")), Pool(QUALITY, D("30")), Pool(EFFICIENCY, D("20"))))  # fmt: skip
A = PracticeKeys(practice_id=1, member_months=600, cost_cents=500_000, quality_score=D("80.00"))
B = PracticeKeys(practice_id=2, member_months=400, cost_cents=450_000, quality_score=D("60.00"))


def test_golden_distribution() -> None:
    # 1,000.00: reserve 100.00, fee 50.00, distributable 850.00 -> pools 425.00 / 255.00 / 170.00.
    # member-months 600:400 -> 255.00 / 170.00; quality 80x600 : 60x400 = 2:1 -> 170.00 / 85.00;
    # efficiency: A 1,000,000 x 600 - 500,000 x 1,000 = 100,000,000; B 400M - 450M < 0 -> 0: A takes 170.00
    d = distribute(100_000, benchmark_cents=1_000_000, practices=[B, A], formula=FORMULA)
    assert (d.reserve_cents, d.admin_fee_cents, d.distributable_cents) == (10_000, 5_000, 85_000)
    assert d.pools == {MEMBER_MONTHS: 42_500, QUALITY: 25_500, EFFICIENCY: 17_000}
    a, b = d.shares
    assert a.practice_id == 1
    assert a.pools == {MEMBER_MONTHS: 25_500, QUALITY: 17_000, EFFICIENCY: 17_000}
    assert b.pools == {MEMBER_MONTHS: 17_000, QUALITY: 8_500, EFFICIENCY: 0}
    assert a.total_cents == 59_500
    assert b.total_cents == 25_500
    assert a.efficiency_weight == 100_000_000
    assert b.efficiency_weight == 0
    assert d.fallbacks == ()


def test_empty_pool_falls_back_to_member_months() -> None:
    costly = [PracticeKeys(1, 600, 2_000_000, None), PracticeKeys(2, 400, 2_000_000, None)]
    d = distribute(100_000, benchmark_cents=1_000_000, practices=costly, formula=FORMULA)
    assert set(d.fallbacks) == {QUALITY, EFFICIENCY}
    assert [s.total_cents for s in d.shares] == [51_000, 34_000]


def test_practices_without_member_months_get_nothing_listed() -> None:
    d = distribute(1_000, benchmark_cents=1_000, practices=[A, PracticeKeys(3, 0, 0, D(90))], formula=FORMULA)
    assert [s.practice_id for s in d.shares] == [1]


@pytest.mark.parametrize(
    ("formula", "message"),
    [(Formula(D(60), D(50), (Pool(MEMBER_MONTHS, D(100)),)), "more than 100"),
     (Formula(D(0), D(0), (Pool(MEMBER_MONTHS, D(60)),)), "sum to 100"),
     (Formula(D(0), D(0), (Pool("size", D(100)),)), "unknown key"),
     (Formula(D(0), D(0), ()), "at least one"),
     (Formula(D(-1), D(0), (Pool(MEMBER_MONTHS, D(100)),)), "reserve_percent"),
     (Formula(D(0), D(0), (Pool(MEMBER_MONTHS, D(50)), Pool(MEMBER_MONTHS, D(50)))), "each key once")],
)  # fmt: skip
def test_bad_formulas_are_refused(formula: Formula, message: str) -> None:
    with pytest.raises(DistributionError, match=message):
        distribute(1_000, benchmark_cents=1_000, practices=[A], formula=formula)


def test_losses_and_empty_networks_are_refused() -> None:
    with pytest.raises(DistributionError, match="loss"):
        distribute(-1, benchmark_cents=1_000, practices=[A], formula=FORMULA)
    with pytest.raises(DistributionError, match="nobody"):
        distribute(1_000, benchmark_cents=1_000, practices=[], formula=FORMULA)
    with pytest.raises(DistributionError, match="once"):
        distribute(1_000, benchmark_cents=1_000, practices=[A, A], formula=FORMULA)


practice = st.builds(
    PracticeKeys,
    practice_id=st.integers(min_value=1, max_value=10_000),
    member_months=st.integers(min_value=0, max_value=50_000),
    cost_cents=st.integers(min_value=0, max_value=10**10),
    quality_score=st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2)),
)
percent = st.decimals(min_value=0, max_value=40, places=3)


@given(
    shared=st.integers(min_value=0, max_value=10**11),
    benchmark=st.integers(min_value=1, max_value=10**11),
    practices=st.lists(practice, min_size=1, max_size=25, unique_by=lambda p: p.practice_id).filter(
        lambda ps: any(p.member_months for p in ps)
    ),
    reserve=percent,
    fee=percent,
    split=st.integers(min_value=1, max_value=98),
    split2=st.integers(min_value=1, max_value=98),
)
def test_parts_sum_exactly_and_nobody_is_negative(
    shared: int,
    benchmark: int,
    practices: list[PracticeKeys],
    reserve: Decimal,
    fee: Decimal,
    split: int,
    split2: int,
) -> None:
    first, second = sorted((split, split2))
    if first == second:
        second = first + 1
    formula = Formula(reserve, fee, (Pool(MEMBER_MONTHS, D(first)), Pool(QUALITY, D(second - first)),
                                     Pool(EFFICIENCY, D(100 - second))))  # fmt: skip
    d = distribute(shared, benchmark_cents=benchmark, practices=practices, formula=formula)
    assert d.reserve_cents + d.admin_fee_cents + d.distributable_cents == shared
    assert sum(d.pools.values()) == d.distributable_cents
    assert sum(s.total_cents for s in d.shares) == d.distributable_cents
    for key, amount in d.pools.items():
        assert sum(s.pools[key] for s in d.shares) == amount
    assert all(part >= 0 for s in d.shares for part in s.pools.values())
    assert d.distributable_cents >= 0
