"""Half-up rounding of integer products, as Polars expressions, and the bounds that keep it exact.

Every capitation amount is a product of cents and an integer-scaled factor (a percent in thousandths of a
percent, a RAF or factor in thousandths, covered days over days in the month), rounded once to a cent. The
rounding is `decimal.ROUND_HALF_UP`: a half cent goes away from zero, so 0.5 -> 1 and -0.5 -> -1, exactly as
`openipa.core.money` rounds. It is done in 64-bit integer arithmetic, which is exact as long as the doubled
product fits; the engines check their inputs against `MAX_AMOUNT_CENTS` and `MAX_FACTOR` first, so an input
that could overflow is refused with a clear error instead of wrapping silently.
"""

from __future__ import annotations

import polars as pl

MAX_AMOUNT_CENTS = 10**11
"""The largest absolute single amount an engine accepts: $1 billion for one member-month or rate."""

MAX_FACTOR = 100_000
"""The largest multiplier numerator accepted: 100% in thousandths of a percent, or a RAF/factor of 100.000."""

# The largest product rounded is a PCP rate scaled by a factor (up to 100x) and then withheld at a percent:
# twice that must stay below 2**63 for `half_up` to be exact.
assert 2 * (MAX_AMOUNT_CENTS * MAX_FACTOR // 1000) * MAX_FACTOR < 2**63


def half_up(amount: pl.Expr, numerator: pl.Expr | int, denominator: int) -> pl.Expr:
    """Return `amount * numerator / denominator` rounded half-up (away from zero) to an integer.

    `amount` and `numerator` are Int64 expressions (or an int numerator); `denominator` is a positive int.
    Nulls propagate. No intermediate exceeds 2**63 while 0 <= numerator <= MAX_FACTOR and |amount| is at most
    an input amount scaled by a factor (MAX_AMOUNT_CENTS * MAX_FACTOR / 1000).
    """
    if denominator <= 0:
        raise ValueError(f"half_up needs a positive denominator, got {denominator}")
    product = amount * numerator
    magnitude = (product.abs() * 2 + denominator) // (2 * denominator)
    return pl.when(product < 0).then(-magnitude).otherwise(magnitude)


def half_up_by(amount: pl.Expr, numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """Return `amount * numerator / denominator` rounded half-up, with a per-row positive `denominator`.

    Used for daily proration (covered days over days in the month), where the denominator is a column.
    """
    product = amount * numerator
    magnitude = (product.abs() * 2 + denominator) // (denominator * 2)
    return pl.when(product < 0).then(-magnitude).otherwise(magnitude)
