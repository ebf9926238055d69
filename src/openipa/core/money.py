"""Exact money: integer cents in engines, `Decimal` dollars at the edges, never float.

Every rounding here is half-up in the `decimal.ROUND_HALF_UP` sense: a half cent rounds away from zero,
so -0.005 becomes -1 cent and 0.005 becomes 1 cent. Rounding is done on exact integer ratios, never on a
`Decimal` context, so no amount is too large to round correctly.

Splitting an amount into parts (a pool across practices, a payment across lines) must go through
`allocate`, the one helper that guarantees the parts sum to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction

Cents = int
"""An amount of money in integer cents. An alias, so it documents intent without costing a conversion."""

_CENTS_PER_DOLLAR = 100


def D(value: str | int | Decimal) -> Decimal:  # noqa: N802 - short on purpose, like Beancount's D()
    """Return `value` as a finite `Decimal`; the one constructor for decimals in the code base.

    Raise TypeError for float (binary floats cannot hold most decimal fractions, so a float amount has
    already lost cents) and for bool; raise ValueError for a string that is not a number and for NaN or
    infinity.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise TypeError(f"D() takes str, int or Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    else:
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def _round_half_up(numerator: int, denominator: int) -> int:
    """Return numerator / denominator rounded to an integer, halves away from zero."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def _dollars_to_cents(value: Fraction) -> int:
    return _round_half_up(value.numerator * _CENTS_PER_DOLLAR, value.denominator)


def round_cents(value: Decimal) -> int:
    """Return the dollar amount `value` in integer cents, rounded half-up (away from zero).

    Raise TypeError if `value` is not a Decimal, ValueError if it is NaN or infinite.
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"round_cents() takes a Decimal, not {type(value).__name__}")
    return _dollars_to_cents(Fraction(D(value)))


def to_cents(value: Decimal | int | str) -> int:
    """Return the dollar amount `value` in integer cents, rounded half-up.

    An int is whole dollars (`to_cents(5) == 500`); a string is parsed as a decimal number of dollars
    (`to_cents("12.345") == 1235`). Raise TypeError for float and bool, ValueError for a string that is not
    a number.
    """
    return round_cents(D(value))


def to_decimal(cents: int) -> Decimal:
    """Return integer `cents` as a Decimal number of dollars with exactly two places (150 -> 1.50)."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"to_decimal() takes int cents, not {type(cents).__name__}")
    # scaleb keeps the exponent at -2, so even 0 and 100 come out as 0.00 and 1.00, without rounding.
    return Decimal(cents).scaleb(-2)


def format_money(cents: int) -> str:
    """Return `cents` formatted for people: 123456 -> "$1,234.56", -300 -> "-$3.00"."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"format_money() takes int cents, not {type(cents).__name__}")
    dollars, rest = divmod(abs(cents), _CENTS_PER_DOLLAR)
    sign = "-" if cents < 0 else ""
    return f"{sign}${dollars:,}.{rest:02d}"


def decimal_text(cents: int) -> str:
    """Return `cents` as a plain decimal amount for files: 123456 -> "1234.56", -5 -> "-0.05" (the text of
    `to_decimal(cents)`, without building a Decimal: exports write millions of them)."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"decimal_text() takes int cents, not {type(cents).__name__}")
    dollars, rest = divmod(abs(cents), _CENTS_PER_DOLLAR)
    return f"{'-' if cents < 0 else ''}{dollars}.{rest:02d}"


def percent_of(cents: int, percent: Decimal) -> int:
    """Return `percent` percent of `cents`, rounded half-up to a whole cent.

    `percent_of(10_000, Decimal("12.5")) == 1250`. The product is computed exactly before the single
    rounding, so no precision is lost however many digits `percent` has.
    """
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"percent_of() takes int cents, not {type(cents).__name__}")
    if not isinstance(percent, Decimal):
        raise TypeError(f"percent_of() takes a Decimal percent, not {type(percent).__name__}")
    exact = Fraction(cents) * Fraction(D(percent)) / 100
    return _round_half_up(exact.numerator, exact.denominator)


def pmpm_total(rate: Decimal, member_months: int) -> int:
    """Return the cents due for `member_months` at `rate` dollars per member per month.

    Rounded once, half-up, on the total rather than per member: 3 member-months at $10.005 are $30.02
    (3001.5 cents rounds to 3002), not 3 x $10.01. Negative member months (retroactive terminations) give
    a negative total.
    """
    if not isinstance(rate, Decimal):
        raise TypeError(f"pmpm_total() takes a Decimal rate, not {type(rate).__name__}")
    if isinstance(member_months, bool) or not isinstance(member_months, int):
        raise TypeError(f"pmpm_total() takes int member_months, not {type(member_months).__name__}")
    return _dollars_to_cents(Fraction(D(rate)) * member_months)


def _weight(value: int | Decimal, index: int) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TypeError(f"weight {index} must be int or Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"weight {index} is not a finite number: {value}")
    if value < 0:
        raise ValueError(f"weight {index} is negative: {value}")
    return Fraction(value)


def allocate(total: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Split `total` cents into one integer part per weight, in proportion to the weights.

    Contract:

    - `sum(result) == total`, always, and `len(result) == len(weights)`.
    - Each part is within one cent of its exact share `total * w / sum(weights)`; a zero weight gets 0.
    - Largest remainder method: every part first gets the floor of its exact share, then the cents left
      over go one each to the parts with the largest fractional remainders. Equal remainders are broken
      by position, lower index first, so the result depends only on the inputs (never on hashing, dict
      order or randomness) and a larger weight never gets less than a smaller one.
    - A negative `total` is allocated as its absolute value and then negated, so every part is <= 0 and
      the leftover cents of a debit land on the same parts as they would for the matching credit.
    - Weights are non-negative ints or Decimals. Raise ValueError for an empty sequence, a negative
      weight, or all-zero weights with a non-zero total (all-zero weights with total 0 give all zeros);
      raise TypeError for float or bool weights.
    """
    if isinstance(total, bool) or not isinstance(total, int):
        raise TypeError(f"allocate() takes int cents, not {type(total).__name__}")
    if len(weights) == 0:
        raise ValueError("allocate() needs at least one weight")
    exact_weights = [_weight(w, i) for i, w in enumerate(weights)]
    weight_sum = sum(exact_weights, Fraction(0))
    if weight_sum == 0:
        if total == 0:
            return [0] * len(weights)
        raise ValueError(f"cannot allocate {total} cents: all weights are zero")

    amount = abs(total)
    shares = [amount * w / weight_sum for w in exact_weights]
    parts = [s.numerator // s.denominator for s in shares]
    leftover = amount - sum(parts)
    # Sort key: largest fractional remainder first, then lowest index. The leftover is always smaller than
    # the number of parts with a non-zero remainder, so zero-weight parts never receive a cent.
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in order[:leftover]:
        parts[i] += 1
    if total < 0:
        return [-p for p in parts]
    return parts
