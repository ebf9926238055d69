"""The one allocation helper: largest remainder, deterministic, parts always sum to the whole."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.core.money import allocate

totals = st.integers(min_value=-(10**12), max_value=10**12)
int_weights = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40).filter(any)
decimal_weights = st.lists(
    st.decimals(min_value=0, max_value=10**6, places=4), min_size=1, max_size=40
).filter(lambda ws: any(w > 0 for w in ws))
weights = st.one_of(int_weights, decimal_weights)


def exact_share(total: int, ws: list[int] | list[Decimal], i: int) -> Fraction:
    return Fraction(total) * Fraction(ws[i]) / sum((Fraction(w) for w in ws), Fraction(0))


def test_allocate_splits_evenly_when_it_can() -> None:
    assert allocate(300, [1, 1, 1]) == [100, 100, 100]


def test_allocate_gives_leftover_cents_to_lower_indexes_on_ties() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(200, [1, 1, 1]) == [67, 67, 66]


def test_allocate_gives_leftover_cents_to_the_largest_remainders_first() -> None:
    # Exact shares 16.67, 33.33, 50.0: the one leftover cent goes to the .67.
    assert allocate(100, [1, 2, 3]) == [17, 33, 50]


def test_allocate_accepts_decimal_weights() -> None:
    assert allocate(1000, [Decimal("0.25"), Decimal("0.75")]) == [250, 750]
    assert allocate(100, [Decimal("1.5"), 1, Decimal("0.5")]) == [50, 33, 17]


def test_allocate_negative_total_mirrors_the_positive_allocation() -> None:
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]


def test_allocate_zero_total_gives_zeros() -> None:
    assert allocate(0, [5, 3]) == [0, 0]
    assert allocate(0, [0, 0]) == [0, 0]


def test_allocate_zero_weight_gets_nothing() -> None:
    assert allocate(101, [0, 1, 0, 1]) == [0, 51, 0, 50]


def test_allocate_refuses_all_zero_weights_for_a_nonzero_total() -> None:
    with pytest.raises(ValueError, match="all weights are zero"):
        allocate(100, [0, 0])


def test_allocate_refuses_negative_weights() -> None:
    with pytest.raises(ValueError, match="weight 1 is negative"):
        allocate(100, [1, -1])


def test_allocate_refuses_empty_weights() -> None:
    with pytest.raises(ValueError, match="at least one weight"):
        allocate(100, [])


def test_allocate_refuses_float_weights_and_float_totals() -> None:
    with pytest.raises(TypeError, match="float"):
        allocate(100, [1.0, 2])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        allocate(100.0, [1, 2])  # type: ignore[arg-type]


def test_allocate_refuses_non_finite_decimal_weights() -> None:
    with pytest.raises(ValueError, match="finite"):
        allocate(100, [Decimal("NaN"), 1])


@given(totals, weights)
def test_allocate_parts_sum_to_total(total: int, ws: list[int] | list[Decimal]) -> None:
    parts = allocate(total, ws)
    assert len(parts) == len(ws)
    assert sum(parts) == total


@given(totals, weights)
def test_allocate_each_part_is_within_one_cent_of_its_exact_share(
    total: int, ws: list[int] | list[Decimal]
) -> None:
    for i, part in enumerate(allocate(total, ws)):
        assert abs(part - exact_share(total, ws, i)) < 1


@given(totals, weights)
def test_allocate_parts_take_the_sign_of_the_total(total: int, ws: list[int] | list[Decimal]) -> None:
    parts = allocate(total, ws)
    if total >= 0:
        assert all(p >= 0 for p in parts)
    else:
        assert all(p <= 0 for p in parts)
    assert allocate(-total, ws) == [-p for p in parts]


@given(totals, weights)
def test_allocate_is_deterministic(total: int, ws: list[int] | list[Decimal]) -> None:
    assert allocate(total, ws) == allocate(total, list(ws))


@given(totals, weights)
def test_allocate_larger_weight_never_gets_less(total: int, ws: list[int] | list[Decimal]) -> None:
    parts = [abs(p) for p in allocate(total, ws)]
    for i in range(len(ws)):
        for j in range(len(ws)):
            if ws[i] > ws[j]:
                assert parts[i] >= parts[j]


@given(totals, st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=50))
def test_allocate_equal_weights_favour_lower_indexes_on_ties(total: int, weight: int, count: int) -> None:
    parts = [abs(p) for p in allocate(total, [weight] * count)]
    assert parts == sorted(parts, reverse=True)
    assert max(parts) - min(parts) <= 1


@given(totals, weights)
def test_allocate_zero_weights_always_get_zero(total: int, ws: list[int] | list[Decimal]) -> None:
    parts = allocate(total, ws)
    assert all(p == 0 for p, w in zip(parts, ws, strict=True) if w == 0)


@given(totals, int_weights, st.integers(min_value=2, max_value=1000))
def test_allocate_is_unchanged_by_scaling_the_weights(total: int, ws: list[int], factor: int) -> None:
    assert allocate(total, ws) == allocate(total, [w * factor for w in ws])
