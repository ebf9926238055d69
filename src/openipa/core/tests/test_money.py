"""Exact money conversions, rounding and formatting."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.core.money import (
    D,
    format_money,
    percent_of,
    pmpm_total,
    round_cents,
    to_cents,
    to_decimal,
)

cents = st.integers(min_value=-(10**15), max_value=10**15)
# Decimal dollar amounts with any number of places, far beyond the default 28-digit context.
dollar_amounts = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**30), max_value=10**30)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.005"), 101),
        (Decimal("1.004"), 100),
        (Decimal("-1.005"), -101),
        (Decimal("-0.004"), 0),
        (Decimal("12.34"), 1234),
        (Decimal("0"), 0),
        (5, 500),
        (-3, -300),
        ("12.345", 1235),
        (" 7.1 ", 710),
        ("1E+2", 10000),
    ],
)
def test_to_cents_rounds_half_up_away_from_zero(value: Decimal | int | str, expected: int) -> None:
    assert to_cents(value) == expected


def test_to_cents_refuses_float() -> None:
    with pytest.raises(TypeError, match="float"):
        to_cents(1.10)  # type: ignore[arg-type]


def test_to_cents_refuses_bool() -> None:
    with pytest.raises(TypeError):
        to_cents(True)


@pytest.mark.parametrize("text", ["", "abc", "$12.00", "1,000", "12..3", "NaN", "Infinity", "-inf"])
def test_to_cents_refuses_strings_that_are_not_finite_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="number"):
        to_cents(text)


def test_to_decimal_always_has_two_places() -> None:
    assert str(to_decimal(0)) == "0.00"
    assert str(to_decimal(100)) == "1.00"
    assert str(to_decimal(-5)) == "-0.05"
    assert str(to_decimal(123456)) == "1234.56"


def test_to_decimal_refuses_float_cents() -> None:
    with pytest.raises(TypeError):
        to_decimal(1.0)  # type: ignore[arg-type]


@given(cents)
def test_to_decimal_and_to_cents_round_trip(amount: int) -> None:
    assert to_cents(to_decimal(amount)) == amount
    assert to_decimal(amount).as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (123456, "$1,234.56"),
        (-300, "-$3.00"),
        (0, "$0.00"),
        (5, "$0.05"),
        (-5, "-$0.05"),
        (100000000, "$1,000,000.00"),
    ],
)
def test_format_money_writes_dollars_with_thousands_separators(amount: int, text: str) -> None:
    assert format_money(amount) == text


@given(cents)
def test_format_money_can_be_read_back(amount: int) -> None:
    text = format_money(amount)
    assert to_cents(text.replace("$", "").replace(",", "")) == amount


def test_d_builds_decimals_from_strings_ints_and_decimals() -> None:
    assert D("1.10") == Decimal("1.10")
    assert D(3) == Decimal(3)
    assert D(Decimal("2.5")) == Decimal("2.5")


def test_d_refuses_float_because_it_has_already_lost_cents() -> None:
    with pytest.raises(TypeError, match="float"):
        D(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["x", "NaN", "Infinity"])
def test_d_refuses_non_numbers_and_non_finite_values(text: str) -> None:
    with pytest.raises(ValueError, match="number"):
        D(text)


def test_d_refuses_non_finite_decimals() -> None:
    with pytest.raises(ValueError, match="finite"):
        D(Decimal("sNaN"))


def test_round_cents_refuses_anything_but_decimal() -> None:
    with pytest.raises(TypeError):
        round_cents(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        round_cents("1.5")  # type: ignore[arg-type]


@given(dollar_amounts)
def test_round_cents_is_within_half_a_cent(value: Decimal) -> None:
    # Fraction, not Decimal arithmetic: a 28-digit Decimal context would itself round `value * 100`.
    assert abs(round_cents(value) - Fraction(value) * 100) <= Fraction(1, 2)


@given(dollar_amounts)
def test_round_cents_is_symmetric_around_zero(value: Decimal) -> None:
    # copy_negate is exact; unary minus would round to the Decimal context's 28 digits.
    assert round_cents(value.copy_negate()) == -round_cents(value)


def test_round_cents_is_exact_beyond_the_default_decimal_precision() -> None:
    # 31 significant digits: a 28-digit Decimal context would round before we do.
    assert round_cents(Decimal("12345678901234567890123456789.005")) == 1234567890123456789012345678901


def test_percent_of_rounds_once_half_up() -> None:
    assert percent_of(10_000, Decimal("12.5")) == 1250
    assert percent_of(1, Decimal("50")) == 1  # 0.5 cent rounds up
    assert percent_of(-1, Decimal("50")) == -1
    assert percent_of(333, Decimal("33.3333")) == 111
    assert percent_of(10_000, Decimal("0")) == 0


def test_percent_of_refuses_float_percent() -> None:
    with pytest.raises(TypeError):
        percent_of(100, 12.5)  # type: ignore[arg-type]


@given(cents, st.decimals(min_value=0, max_value=1000, places=6))
def test_percent_of_is_within_half_a_cent_of_the_exact_value(amount: int, percent: Decimal) -> None:
    exact = Fraction(amount) * Fraction(percent) / 100
    assert abs(percent_of(amount, percent) - exact) <= Fraction(1, 2)


def test_pmpm_total_rounds_the_total_not_each_member() -> None:
    assert pmpm_total(Decimal("10.005"), 3) == 3002
    assert pmpm_total(Decimal("45.50"), 1200) == 5_460_000
    assert pmpm_total(Decimal("45.50"), 0) == 0


def test_pmpm_total_is_negative_for_retroactive_terminations() -> None:
    assert pmpm_total(Decimal("45.50"), -2) == -9100


def test_pmpm_total_refuses_float_rate() -> None:
    with pytest.raises(TypeError):
        pmpm_total(45.5, 3)  # type: ignore[arg-type]


@given(st.decimals(min_value=0, max_value=10_000, places=2), st.integers(min_value=-(10**6), max_value=10**6))
def test_pmpm_total_of_a_whole_cent_rate_is_exact(rate: Decimal, months: int) -> None:
    assert pmpm_total(rate, months) == to_cents(rate) * months


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_decimal_text_is_the_text_of_the_decimal(cents: int) -> None:
    from openipa.core.money import decimal_text, to_decimal

    assert decimal_text(cents) == str(to_decimal(cents))
