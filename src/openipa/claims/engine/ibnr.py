"""IBNR reserves: claims incurred but not reported (or not yet paid), estimated from lag triangles.

Pure (no Django, no I/O). The flow, each step a function a service or the CLI can call and show:

1. ``lag_triangle(paid, as_of=..., months=..., group_by=[...])``: paid claim lines -> the cumulative paid
   triangle, one row per group, incurred month and lag (0 = paid in the month of service).
2. ``development_factors(triangle, method=...)``: the chain ladder's age-to-age factors by one of
   ``METHODS``, their cumulative development factors (CDF) and completion factors (1 / CDF).
3. ``override_factors(factors, overrides)``: the same frame with a user's selected age-to-age factors
   put in place of computed ones (marked ``override``) and the CDFs and completion factors recomputed.
4. ``estimate(triangle, factors, member_months=...)``: per incurred month the paid to date, the completion
   factor, the ultimate and the IBNR, by chain ladder or, where the month is too immature, by a PMPM
   projection; totals per group and overall.
5. ``compare(previous_estimate, triangle_now)``: hindsight, last estimate against the run-out since.

Exactness. Money is integer cents. Factors are integers in millionths (``*_micro`` columns: 1_250_000 is
1.250000). Every rounding is half-up (a half goes away from zero), done once on an exact ratio:

- an age-to-age factor is the exact ratio (or exact mean of ratios) rounded to 6 decimals;
- a CDF is the exact product of the rounded age-to-age factors from its lag on (the last one being the
  tail), rounded to 6 decimals;
- a completion factor is 1 / CDF rounded to 6 decimals;
- a chain-ladder ultimate is paid / completion rounded to the cent;
- a projected PMPM is rounded to the cent and the PMPM ultimate is that PMPM times the member-months.

So anyone can redo each number from the ones shown before it. docs/reserves.md explains the method to users.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from openipa.core.engine.frames import EngineInputError, Schema, conform, require, require_not_null
from openipa.core.money import D

GroupKey = tuple[Any, ...]

MICRO = 1_000_000
"""Factors are integers in millionths: ``MICRO`` is 1.000000."""

VOLUME_WEIGHTED = "volume_weighted"
SIMPLE = "simple"
VOLUME_WEIGHTED_LAST_N = "volume_weighted_last_n"
SIMPLE_EXCLUDING_HIGH_LOW = "simple_excluding_high_low"
METHODS = (VOLUME_WEIGHTED, SIMPLE, VOLUME_WEIGHTED_LAST_N, SIMPLE_EXCLUDING_HIGH_LOW)
"""Averaging methods for age-to-age factors: all-period volume weighted (sum of next-lag cumulative over sum
of this-lag cumulative), simple average of the individual ratios, volume weighted over the last N incurred
months only, and the simple average without the single highest and lowest ratio."""

CHAIN_LADDER = "chain_ladder"
PMPM = "pmpm"
COMPUTED = "computed"
OVERRIDE = "override"

DEFAULT_THRESHOLD = D("0.5")
"""Incurred months whose completion factor is below this are projected by PMPM instead of chain ladder."""
NO_TREND = D(0)
NO_TAIL = D(1)
DEFAULT_PMPM_MONTHS = 12
"""How many of the most recent chain-ladder months the PMPM projection is based on."""

PAID_SCHEMA: Schema = {"incurred_date": pl.Date, "paid_date": pl.Date, "paid_cents": pl.Int64}
"""``paid``: one row per paid claim line (plus the grouping columns): date of service, paid date, amount
(a recoupment is negative)."""

TRIANGLE_SCHEMA: Schema = {
    "incurred_month": pl.Date,
    "lag": pl.Int32,
    "paid_cents": pl.Int64,
    "cumulative_cents": pl.Int64,
}
"""The triangle (after the grouping columns): every incurred month of the window with every lag from 0 up to
the as-of month; ``paid_cents`` paid at that lag, ``cumulative_cents`` paid from lag 0 through it."""

FACTOR_SCHEMA: Schema = {
    "lag": pl.Int32,
    "age_to_age_micro": pl.Int64,
    "periods": pl.Int32,
    "source": pl.String,
    "note": pl.String,
    "cdf_micro": pl.Int64,
    "completion_micro": pl.Int64,
    "cdf_source": pl.String,
}
"""Factors (after the grouping columns), one row per lag 0..L. ``age_to_age_micro`` at lag k develops
cumulative paid from lag k to k+1; at the last lag L it is the tail (L to ultimate, 1.000000 unless given).
``periods`` is how many incurred months the average used; ``source`` computed | override; ``note`` says
when a fallback was taken. ``cdf_micro`` at lag k is the product of the age-to-age factors from k through
L, ``completion_micro`` is 1 / CDF, ``cdf_source`` is override when any factor in that product was."""

OVERRIDE_SCHEMA: Schema = {"lag": pl.Int32, "age_to_age": pl.String}
"""``overrides`` (after the grouping columns): the selected age-to-age factor as decimal text, "1.0425"."""

MEMBER_MONTH_SCHEMA: Schema = {"month": pl.Date, "member_months": pl.Int64}
"""``member_months`` (after the grouping columns): member-months per group and month (first of month)."""

ESTIMATE_SCHEMA: Schema = {
    "incurred_month": pl.Date,
    "lag": pl.Int32,
    "paid_cents": pl.Int64,
    "completion_micro": pl.Int64,
    "method": pl.String,
    "chain_ladder_ultimate_cents": pl.Int64,
    "member_months": pl.Int64,
    "pmpm_cents": pl.Int64,
    "ultimate_cents": pl.Int64,
    "ibnr_cents": pl.Int64,
    "factor_source": pl.String,
    "note": pl.String,
}
"""Per group and incurred month: ``lag`` months of development at the as-of month, paid to date, the
completion factor, the method (chain_ladder | pmpm), the chain-ladder ultimate (null when the completion
factor is 0), the member-months and PMPM (PMPM months only), the ultimate, the IBNR, whether the completion
factor came from computed or overridden factors, and a note."""

GROUP_TOTAL_SCHEMA: Schema = {
    "paid_cents": pl.Int64,
    "ultimate_cents": pl.Int64,
    "ibnr_cents": pl.Int64,
    "chain_ladder_months": pl.Int32,
    "pmpm_months": pl.Int32,
}

HINDSIGHT_SCHEMA: Schema = {
    "incurred_month": pl.Date,
    "method": pl.String,
    "paid_then_cents": pl.Int64,
    "ibnr_then_cents": pl.Int64,
    "ultimate_then_cents": pl.Int64,
    "paid_now_cents": pl.Int64,
    "runout_cents": pl.Int64,
    "remaining_ibnr_cents": pl.Int64,
    "note": pl.String,
}
"""Hindsight per group and incurred month: the previous estimate's paid, IBNR and ultimate; paid now; the
run-out (paid now - paid then); ``remaining_ibnr_cents`` = IBNR then - run-out (positive: still expected or
over-reserved; negative: the run-out already went beyond the reserve). Null where the month is not in the
current triangle (it fell out of the window)."""

_TRIANGLE_COLUMNS = tuple(TRIANGLE_SCHEMA)
_FACTOR_COLUMNS = tuple(FACTOR_SCHEMA)
_ESTIMATE_COLUMNS = tuple(ESTIMATE_SCHEMA)


IbnrInputError = EngineInputError
"""An input frame or parameter is unusable; the message names the frame, the field and the row or group."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """The IBNR estimate at one as-of month.

    ``months``: group columns + ESTIMATE_SCHEMA, one row per group and incurred month, oldest first.
    ``groups``: group columns + GROUP_TOTAL_SCHEMA, one row per group. The ``total_*`` fields add up all
    groups. ``factor_source`` is override when any completion factor used came from an overridden factor.
    """

    as_of_month: dt.date
    group_by: tuple[str, ...]
    months: pl.DataFrame
    groups: pl.DataFrame
    total_paid_cents: int
    total_ultimate_cents: int
    total_ibnr_cents: int
    factor_source: str
    threshold: Decimal
    pmpm_months: int
    monthly_trend: Decimal


# ---------------------------------------------------------------------------------------------- helpers


def _round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to an integer, halves away from zero; denominator > 0."""
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def _fraction_to_micro(value: Fraction) -> int:
    return _round_half_up(value.numerator * MICRO, value.denominator)


def micro_text(micro: int) -> str:
    """Return a factor in millionths as decimal text with 6 places: ``micro_text(1_250_000) == "1.250000"``."""
    sign = "-" if micro < 0 else ""
    whole, part = divmod(abs(micro), MICRO)
    return f"{sign}{whole}.{part:06d}"


def micro_of(value: Decimal | str, what: str) -> int:
    """Return a decimal factor as an integer in millionths; raise IbnrInputError (naming `what`) if it has
    more than 6 decimal places or is not a finite number."""
    try:
        number = D(value) if isinstance(value, (str, Decimal)) else D(str(value))
    except (TypeError, ValueError) as error:
        raise IbnrInputError(f"{what}: {error}") from None
    scaled = Fraction(number) * MICRO
    if scaled.denominator != 1:
        raise IbnrInputError(f"{what}: {value} has more than 6 decimal places")
    return int(scaled)


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_of_index(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def _describe(keys: Sequence[str], values: GroupKey) -> str:
    if not keys:
        return "all claims"
    return ", ".join(f"{k} {v}" for k, v in zip(keys, values, strict=True))


def _require_columns(frame: pl.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise IbnrInputError(f"{name}: missing column(s) {', '.join(missing)}")


def _conform(frame: pl.DataFrame, schema: Schema, keys: Sequence[str], name: str) -> pl.DataFrame:
    """Return `frame` with the `keys` columns as they are, then `schema`'s columns cast to its types."""
    _require_columns(frame, [*keys, *schema], name)
    return conform(frame, {**{k: frame.schema[k] for k in keys}, **schema}, name)


def _split(frame: pl.DataFrame, keys: Sequence[str]) -> list[tuple[GroupKey, pl.DataFrame]]:
    """The frame's groups by `keys`, in sorted key order; one group with key () when there are no keys."""
    if not keys:
        return [((), frame)]
    parts = frame.partition_by(list(keys), as_dict=True, maintain_order=True)
    return sorted(parts.items(), key=lambda item: tuple((v is None, v) for v in item[0]))


def _group_columns(frame: pl.DataFrame, own: Sequence[str]) -> list[str]:
    return [c for c in frame.columns if c not in own]


def _key_frame(keys: Sequence[str], key_dtypes: Mapping[str, Any], rows: list[GroupKey]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={k: key_dtypes[k] for k in keys}, orient="row")


def _framed(
    keys: Sequence[str], key_dtypes: Mapping[str, Any], schema: Schema, rows: list[tuple[Any, ...]]
) -> pl.DataFrame:
    full: Schema = {k: key_dtypes[k] for k in keys}
    full.update(schema)
    return pl.DataFrame(rows, schema=full, orient="row")


# ---------------------------------------------------------------------------------------------- triangle


def lag_triangle(paid: pl.DataFrame, *, as_of: dt.date, months: int, group_by: Sequence[str]) -> pl.DataFrame:
    """Return the cumulative paid triangle of the `months` incurred months ending with `as_of`'s month.

    `paid` has PAID_SCHEMA's columns and the `group_by` columns (e.g. line_of_business, service_category).
    Only payments made through the end of `as_of`'s month count; claim lines incurred before the window are
    left out. The result has the `group_by` columns then TRIANGLE_SCHEMA's, one row for every group (that
    has a payment in the window), incurred month and lag 0..(as-of month - incurred month), zero where
    nothing was paid, sorted by group, incurred month and lag. With no `group_by` there is one group and
    the triangle always has its rows, even with no payment at all.

    Raise IbnrInputError for a missing column, a null, or a line paid before its date of service.
    """
    name = "paid"
    keys = list(group_by)
    if months < 1:
        raise IbnrInputError(f"months must be at least 1, got {months}")
    if len(set(keys)) != len(keys) or set(keys) & {*PAID_SCHEMA, *TRIANGLE_SCHEMA}:
        raise IbnrInputError(f"group_by {keys}: repeated or reserved column name")
    lines = _conform(paid, PAID_SCHEMA, keys, name).with_row_index("row", offset=1)
    show = ["row", "incurred_date", "paid_date"]
    require_not_null(lines, [*keys, *PAID_SCHEMA], ["row"], name)
    require(
        lines,
        pl.col("paid_date") < pl.col("incurred_date"),
        show,
        f"{name}: paid_date is before incurred_date",
    )

    last = _month_index(as_of)
    first = last - months + 1
    cutoff = _month_of_index(last + 1) - dt.timedelta(days=1)
    inc_index = pl.col("incurred_date").dt.year().cast(pl.Int32) * 12 + pl.col("incurred_date").dt.month() - 1
    paid_index = pl.col("paid_date").dt.year().cast(pl.Int32) * 12 + pl.col("paid_date").dt.month() - 1
    window = lines.filter(
        (pl.col("paid_date") <= cutoff) & (pl.col("incurred_date") >= _month_of_index(first))
    ).select(
        *keys,
        pl.col("incurred_date").dt.truncate("1mo").alias("incurred_month"),
        (paid_index - inc_index).cast(pl.Int32).alias("lag"),
        "paid_cents",
    )
    sums = window.group_by([*keys, "incurred_month", "lag"]).agg(pl.col("paid_cents").sum())

    cells = [(_month_of_index(i), lag) for i in range(first, last + 1) for lag in range(last - i + 1)]
    grid = pl.DataFrame(cells, schema={"incurred_month": pl.Date, "lag": pl.Int32}, orient="row")
    if keys:
        grid = window.select(keys).unique().join(grid, how="cross")
    return (
        grid.join(sums, on=[*keys, "incurred_month", "lag"], how="left")
        .with_columns(pl.col("paid_cents").fill_null(0))
        .sort([*keys, "incurred_month", "lag"])
        .with_columns(
            pl.col("paid_cents").cum_sum().over([*keys, "incurred_month"]).alias("cumulative_cents")
        )
        .select(*keys, *_TRIANGLE_COLUMNS)
    )


def triangle_wide(triangle: pl.DataFrame) -> pl.DataFrame:
    """Return the triangle as it is printed: one row per group and incurred month, cumulative paid cents in
    columns ``lag_0``, ``lag_1``... (null below the diagonal, where the lag is not yet observed)."""
    keys = _group_columns(triangle, _TRIANGLE_COLUMNS)
    frame = _conform(triangle, TRIANGLE_SCHEMA, keys, "triangle")
    if frame.height == 0:
        return frame.select(*keys, "incurred_month")
    width = frame.select(pl.col("lag").max()).item() + 1
    wide = frame.pivot(
        on="lag", index=[*keys, "incurred_month"], values="cumulative_cents", sort_columns=True
    )
    wide = wide.rename({str(lag): f"lag_{lag}" for lag in range(width) if str(lag) in wide.columns})
    return wide.select(*keys, "incurred_month", *[f"lag_{lag}" for lag in range(width)]).sort(
        [*keys, "incurred_month"]
    )


def _checked_triangle(triangle: pl.DataFrame) -> tuple[pl.DataFrame, list[str], int]:
    """The triangle conformed, its group columns and its as-of month index; raise on an incomplete grid."""
    name = "triangle"
    keys = _group_columns(triangle, _TRIANGLE_COLUMNS)
    frame = _conform(triangle, TRIANGLE_SCHEMA, keys, name)
    require_not_null(frame, _TRIANGLE_COLUMNS, [*keys, "incurred_month", "lag"], name)
    if frame.height == 0:
        return frame, keys, 0
    require(frame, pl.col("lag") < 0, [*keys, "incurred_month", "lag"], f"{name}: lag is negative")
    require(
        frame,
        pl.len().over([*keys, "incurred_month", "lag"]) > 1,
        [*keys, "incurred_month", "lag"],
        f"{name}: more than one row for the same group, incurred_month and lag",
    )
    diagonal = frame.select(
        (
            pl.col("incurred_month").dt.year().cast(pl.Int32) * 12
            + pl.col("incurred_month").dt.month()
            - 1
            + pl.col("lag")
        )
        .max()
        .alias("d")
    ).item()
    as_of = int(diagonal)
    # Every incurred month must have every lag up to the as-of month, or its latest lag is not "paid to date".
    counts = frame.group_by([*keys, "incurred_month"]).agg(
        pl.len().alias("n"), pl.col("lag").max().alias("top")
    )
    require(
        counts,
        (
            pl.col("top")
            != as_of
            - (
                pl.col("incurred_month").dt.year().cast(pl.Int32) * 12
                + pl.col("incurred_month").dt.month()
                - 1
            )
        )
        | (pl.col("n") != pl.col("top") + 1),
        [*keys, "incurred_month"],
        f"{name}: incomplete row (every lag from 0 to the as-of month {_month_of_index(as_of):%Y-%m} is needed)",
    )
    return frame.sort([*keys, "incurred_month", "lag"]), keys, as_of


def _cumulative_rows(group: pl.DataFrame) -> dict[dt.date, list[int]]:
    """incurred month -> cumulative paid at lag 0, 1, ... (as far as observed)."""
    rows: dict[dt.date, list[int]] = {}
    for month, _lag, cumulative in group.select("incurred_month", "lag", "cumulative_cents").iter_rows():
        rows.setdefault(month, []).append(cumulative)
    return rows


# ---------------------------------------------------------------------------------------------- factors


def _age_to_age(
    pairs: list[tuple[int, int]], method: str, periods: int | None
) -> tuple[int, int, str | None]:
    """(factor in millionths, periods used, note) from (cumulative at k, at k+1) pairs, oldest month first."""
    if method == VOLUME_WEIGHTED_LAST_N:
        assert periods is not None
        pairs = pairs[-periods:]
    if method in (VOLUME_WEIGHTED, VOLUME_WEIGHTED_LAST_N):
        below = sum(a for a, _ in pairs)
        if below <= 0:
            return MICRO, 0, "no paid volume at this lag: factor 1"
        return _fraction_to_micro(Fraction(sum(b for _, b in pairs), below)), len(pairs), None
    ratios = sorted(Fraction(b, a) for a, b in pairs if a > 0)
    note = None
    if method == SIMPLE_EXCLUDING_HIGH_LOW:
        if len(ratios) >= 3:
            ratios = ratios[1:-1]
        elif ratios:
            note = f"only {len(ratios)} ratio(s): simple average of all"
    if not ratios:
        return MICRO, 0, "no month with paid at this lag: factor 1"
    return _fraction_to_micro(sum(ratios, Fraction(0)) / len(ratios)), len(ratios), note


def _with_cdfs(
    rows: list[tuple[int, int, int, str, str | None]], what: str
) -> list[tuple[int, int, int, str, str | None, int, int, str]]:
    """Add cdf, completion and cdf_source to (lag, age_to_age, periods, source, note) rows of one group."""
    out: list[tuple[int, int, int, str, str | None, int, int, str]] = []
    product = Fraction(1)
    overridden = False
    for lag, factor, periods, source, note in sorted(rows, reverse=True):
        if factor <= 0:
            raise IbnrInputError(
                f"factors: {what}, lag {lag}: age_to_age {micro_text(factor)} must be positive"
            )
        product *= Fraction(factor, MICRO)
        overridden = overridden or source == OVERRIDE
        cdf = _fraction_to_micro(product)
        if cdf <= 0:
            raise IbnrInputError(f"factors: {what}, lag {lag}: the CDF rounds to 0")
        completion = _round_half_up(MICRO * MICRO, cdf)
        out.append(
            (lag, factor, periods, source, note, cdf, completion, OVERRIDE if overridden else COMPUTED)
        )
    return out[::-1]


def development_factors(
    triangle: pl.DataFrame,
    *,
    method: str = VOLUME_WEIGHTED,
    periods: int | None = None,
    tail: Decimal = NO_TAIL,
) -> pl.DataFrame:
    """Return the chain-ladder factors of every group of `triangle` (as lag_triangle returns it).

    The age-to-age factor from lag k to k+1 averages, by `method` (one of METHODS), the incurred months that
    have lag k+1 observed; `periods` is the N of VOLUME_WEIGHTED_LAST_N (and only of it). Volume-weighted
    methods use every such month; simple averages skip a month with nothing paid by lag k (its ratio has no
    value). A lag with no usable month gets factor 1 and a note. The last lag's factor is `tail` (default 1).
    The result has the group columns then FACTOR_SCHEMA's, sorted by group and lag.
    """
    if method not in METHODS:
        raise IbnrInputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == VOLUME_WEIGHTED_LAST_N:
        if periods is None or periods < 1:
            raise IbnrInputError(f"{VOLUME_WEIGHTED_LAST_N} needs periods >= 1, got {periods}")
    elif periods is not None:
        raise IbnrInputError(f"periods applies only to {VOLUME_WEIGHTED_LAST_N}, not to {method}")
    tail_micro = micro_of(tail, "tail")
    if tail_micro <= 0:
        raise IbnrInputError(f"tail must be positive, got {tail}")
    frame, keys, _as_of = _checked_triangle(triangle)
    out: list[tuple[Any, ...]] = []
    for key, group in _split(frame, keys):
        cumulative = _cumulative_rows(group)
        width = max(len(row) for row in cumulative.values())
        rows: list[tuple[int, int, int, str, str | None]] = []
        for lag in range(width - 1):
            pairs = [(row[lag], row[lag + 1]) for _m, row in sorted(cumulative.items()) if len(row) > lag + 1]
            factor, used, note = _age_to_age(pairs, method, periods)
            rows.append((lag, factor, used, COMPUTED, note))
        rows.append((width - 1, tail_micro, 0, COMPUTED, "tail"))
        out.extend((*key, *row) for row in _with_cdfs(rows, _describe(keys, key)))
    return _framed(keys, frame.schema, FACTOR_SCHEMA, out)


def override_factors(factors: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """Return `factors` with the age-to-age factors of `overrides` (group columns + OVERRIDE_SCHEMA) put in,
    marked ``override`` (note: the computed factor they replace), and CDFs and completions recomputed.

    Raise IbnrInputError for an override of a group or lag that `factors` does not have, a repeated one, a
    factor that is not a positive decimal with at most 6 places.
    """
    keys = _group_columns(factors, _FACTOR_COLUMNS)
    base = _conform(factors, FACTOR_SCHEMA, keys, "factors")
    _require_columns(overrides, [*keys, *OVERRIDE_SCHEMA], "overrides")
    extra = [c for c in overrides.columns if c not in (*keys, *OVERRIDE_SCHEMA)]
    if extra:
        raise IbnrInputError(f"overrides: column(s) {', '.join(extra)} are not group columns of the factors")
    wanted = _conform(overrides, OVERRIDE_SCHEMA, keys, "overrides")
    require_not_null(wanted, [*keys, *OVERRIDE_SCHEMA], [*keys, "lag"], "overrides")
    require(
        wanted,
        pl.len().over([*keys, "lag"]) > 1,
        [*keys, "lag"],
        "overrides: more than one factor for the same group and lag",
    )
    chosen: dict[tuple[GroupKey, int], int] = {}
    for row in wanted.iter_rows(named=True):
        key = tuple(row[k] for k in keys)
        what = f"overrides: {_describe(keys, key)}, lag {row['lag']}"
        micro = micro_of(row["age_to_age"], f"{what}, age_to_age")
        if micro <= 0:
            raise IbnrInputError(f"{what}: age_to_age must be positive, got {row['age_to_age']}")
        chosen[(key, row["lag"])] = micro
    out: list[tuple[Any, ...]] = []
    for key, group in _split(base, keys):
        rows: list[tuple[int, int, int, str, str | None]] = []
        for lag, factor, used, source, note, *_ in group.select(_FACTOR_COLUMNS).iter_rows():
            if (key, lag) in chosen:
                selected = chosen.pop((key, lag))
                rows.append((lag, selected, used, OVERRIDE, f"selected; computed {micro_text(factor)}"))
            else:
                rows.append((lag, factor, used, source, note))
        out.extend((*key, *row) for row in _with_cdfs(rows, _describe(keys, key)))
    if chosen:
        (key, lag), _ = next(iter(chosen.items()))
        raise IbnrInputError(
            f"overrides: {_describe(keys, key)}, lag {lag}: no such group and lag in the factors"
        )
    return _framed(keys, base.schema, FACTOR_SCHEMA, out)


# ---------------------------------------------------------------------------------------------- estimate


def _checked_member_months(
    member_months: pl.DataFrame, keys: Sequence[str], key_dtypes: Mapping[str, Any]
) -> dict[tuple[GroupKey, dt.date], int]:
    name = "member_months"
    _require_columns(member_months, [*keys, *MEMBER_MONTH_SCHEMA], name)
    frame = _conform(member_months, MEMBER_MONTH_SCHEMA, [], name).with_columns(
        *[member_months[k].cast(key_dtypes[k]) for k in keys]
    )
    show = [*keys, "month"]
    require_not_null(frame, [*keys, *MEMBER_MONTH_SCHEMA], show, name)
    require(frame, pl.col("month").dt.day() != 1, show, f"{name}: month is not the first day of a month")
    require(frame, pl.col("member_months") < 0, show, f"{name}: member_months is negative")
    require(frame, pl.len().over(show) > 1, show, f"{name}: more than one row for the same group and month")
    return {
        (tuple(row[: len(keys)]), row[len(keys)]): row[len(keys) + 1]
        for row in frame.select(*keys, "month", "member_months").iter_rows()
    }


def estimate(
    triangle: pl.DataFrame,
    factors: pl.DataFrame,
    *,
    member_months: pl.DataFrame | None = None,
    threshold: Decimal = DEFAULT_THRESHOLD,
    pmpm_months: int = DEFAULT_PMPM_MONTHS,
    monthly_trend: Decimal = NO_TREND,
) -> Estimate:
    """Return the IBNR estimate of every group and incurred month of `triangle`, using `factors` (computed by
    development_factors or with a user's selections from override_factors; each month says which).

    A month whose completion factor is at least `threshold` (0..1) is developed by chain ladder: ultimate =
    paid / completion. A younger month is projected: ultimate = PMPM x its member-months, floored at paid.
    The PMPM comes from the group's `pmpm_months` most recent chain-ladder months: the sum of their
    ultimates, each trended to the projected month at `monthly_trend` per month compounded ((1+t)^months
    apart), over the sum of their member-months, rounded to the cent. `member_months` (group columns +
    MEMBER_MONTH_SCHEMA) is needed only when some month is projected.

    Raise IbnrInputError for factors missing a group or lag, a projected month (or its base) without
    member-months or with zero, a group with no chain-ladder month to take a PMPM from.
    """
    threshold_micro = micro_of(threshold, "threshold")
    if not 0 <= threshold_micro <= MICRO:
        raise IbnrInputError(f"threshold must be between 0 and 1, got {threshold}")
    if pmpm_months < 1:
        raise IbnrInputError(f"pmpm_months must be at least 1, got {pmpm_months}")
    trend = Fraction(D(monthly_trend))
    if trend <= -1:
        raise IbnrInputError(f"monthly_trend must be above -1, got {monthly_trend}")
    frame, keys, as_of = _checked_triangle(triangle)
    fkeys = _group_columns(factors, _FACTOR_COLUMNS)
    if sorted(fkeys) != sorted(keys):
        raise IbnrInputError(f"factors: grouped by {fkeys}, the triangle by {keys}")
    checked = _conform(factors, FACTOR_SCHEMA, keys, "factors")
    require_not_null(checked, ["lag", "completion_micro", "cdf_source"], [*keys, "lag"], "factors")
    completion: dict[tuple[GroupKey, int], tuple[int, str]] = {
        (tuple(row[: len(keys)]), row[len(keys)]): (row[len(keys) + 1], row[len(keys) + 2])
        for row in checked.select(*keys, "lag", "completion_micro", "cdf_source").iter_rows()
    }
    exposure: dict[tuple[GroupKey, dt.date], int] | None = None

    def exposure_of(key: GroupKey, month: dt.date, purpose: str) -> int:
        nonlocal exposure
        where = f"{_describe(keys, key)}, month {month:%Y-%m}"
        if member_months is None:
            raise IbnrInputError(f"member_months are needed to {purpose} ({where}) and none were given")
        if exposure is None:
            exposure = _checked_member_months(member_months, keys, frame.schema)
        value = exposure.get((key, month))
        if value is None:
            raise IbnrInputError(f"member_months: no row for {where}, needed to {purpose}")
        return value

    out: list[tuple[Any, ...]] = []
    overridden = False
    for key, group in _split(frame, keys):
        what = _describe(keys, key)
        latest = group.group_by("incurred_month", maintain_order=True).agg(
            pl.col("lag").last(), pl.col("cumulative_cents").last()
        )
        rows: list[dict[str, Any]] = []
        for month, lag, paid in latest.sort("incurred_month").iter_rows():
            found = completion.get((key, lag))
            if found is None:
                raise IbnrInputError(f"factors: no factor for {what}, lag {lag}")
            done, source = found
            overridden = overridden or source == OVERRIDE
            cl = _round_half_up(paid * MICRO, done) if done > 0 else None
            rows.append(
                {
                    "incurred_month": month,
                    "lag": lag,
                    "paid_cents": paid,
                    "completion_micro": done,
                    "method": CHAIN_LADDER if done >= threshold_micro else PMPM,
                    "chain_ladder_ultimate_cents": cl,
                    "member_months": None,
                    "pmpm_cents": None,
                    "ultimate_cents": cl,
                    "factor_source": source,
                    "note": None,
                }
            )
        projected = [r for r in rows if r["method"] == PMPM]
        if projected:
            base = [r for r in rows if r["method"] == CHAIN_LADDER][-pmpm_months:]
            if not base:
                raise IbnrInputError(
                    f"{what}: no incurred month has a completion factor of at least {threshold}, so there is "
                    "no chain-ladder month to take a PMPM from"
                )
            base_exposure = 0
            for r in base:
                r["member_months"] = exposure_of(key, r["incurred_month"], "take the PMPM from")
                base_exposure += r["member_months"]
            if base_exposure == 0:
                raise IbnrInputError(
                    f"member_months: {what}: zero member-months in the PMPM base months "
                    f"{base[0]['incurred_month']:%Y-%m} to {base[-1]['incurred_month']:%Y-%m}"
                )
            first_base = base[0]["incurred_month"]
            last_base = base[-1]["incurred_month"]
            for r in projected:
                mm = exposure_of(key, r["incurred_month"], "project a PMPM ultimate")
                if mm == 0:
                    raise IbnrInputError(
                        f"member_months: {what}, month {r['incurred_month']:%Y-%m}: zero member-months, "
                        "cannot project its PMPM ultimate"
                    )
                target = _month_index(r["incurred_month"])
                trended = sum(
                    (
                        b["ultimate_cents"] * (1 + trend) ** (target - _month_index(b["incurred_month"]))
                        for b in base
                    ),
                    Fraction(0),
                )
                pmpm = _round_half_up(trended.numerator, trended.denominator * base_exposure)
                projection = pmpm * mm
                r["member_months"] = mm
                r["pmpm_cents"] = pmpm
                basis = f"PMPM of {first_base:%Y-%m}..{last_base:%Y-%m}"
                if projection < r["paid_cents"]:
                    r["ultimate_cents"] = r["paid_cents"]
                    r["note"] = f"{basis}; projection {projection} below paid: ultimate = paid"
                else:
                    r["ultimate_cents"] = projection
                    r["note"] = basis
        for r in rows:
            if r["ultimate_cents"] is None:
                raise IbnrInputError(
                    f"factors: {what}, lag {r['lag']}: completion factor 0 with a threshold of {threshold}; "
                    "raise the threshold so the month is projected by PMPM"
                )
            r["ibnr_cents"] = r["ultimate_cents"] - r["paid_cents"]
            out.append((*key, *(r[c] for c in _ESTIMATE_COLUMNS)))

    months = _framed(keys, frame.schema, ESTIMATE_SCHEMA, out)
    if keys:
        groups = (
            months.group_by(keys, maintain_order=True)
            .agg(
                pl.col("paid_cents").sum(),
                pl.col("ultimate_cents").sum(),
                pl.col("ibnr_cents").sum(),
                (pl.col("method") == CHAIN_LADDER).sum().cast(pl.Int32).alias("chain_ladder_months"),
                (pl.col("method") == PMPM).sum().cast(pl.Int32).alias("pmpm_months"),
            )
            .select(*keys, *GROUP_TOTAL_SCHEMA)
        )
    else:
        groups = pl.DataFrame(
            [
                (
                    sum(months["paid_cents"]),
                    sum(months["ultimate_cents"]),
                    sum(months["ibnr_cents"]),
                    months.filter(pl.col("method") == CHAIN_LADDER).height,
                    months.filter(pl.col("method") == PMPM).height,
                )
            ],
            schema=GROUP_TOTAL_SCHEMA,
            orient="row",
        )
    return Estimate(
        as_of_month=_month_of_index(as_of) if frame.height else dt.date(1970, 1, 1),
        group_by=tuple(keys),
        months=months,
        groups=groups,
        total_paid_cents=sum(int(v) for v in months["paid_cents"]),
        total_ultimate_cents=sum(int(v) for v in months["ultimate_cents"]),
        total_ibnr_cents=sum(int(v) for v in months["ibnr_cents"]),
        factor_source=OVERRIDE if overridden else COMPUTED,
        threshold=D(threshold),
        pmpm_months=pmpm_months,
        monthly_trend=D(monthly_trend),
    )


# ---------------------------------------------------------------------------------------------- hindsight


def compare(previous_estimate: Estimate | pl.DataFrame, triangle_now: pl.DataFrame) -> pl.DataFrame:
    """Return the hindsight of `previous_estimate` (an Estimate or its ``months`` frame) against the paid
    amounts of `triangle_now` (a later lag_triangle with the same grouping): group columns then
    HINDSIGHT_SCHEMA, one row per month of the previous estimate, in its order.
    """
    previous = previous_estimate.months if isinstance(previous_estimate, Estimate) else previous_estimate
    keys = _group_columns(previous, _ESTIMATE_COLUMNS)
    then = _conform(previous, ESTIMATE_SCHEMA, keys, "previous_estimate")
    frame, now_keys, _as_of = _checked_triangle(triangle_now)
    if sorted(now_keys) != sorted(keys):
        raise IbnrInputError(f"triangle_now: grouped by {now_keys}, the previous estimate by {keys}")
    paid_now = (
        frame.sort([*keys, "incurred_month", "lag"])
        .group_by([*keys, "incurred_month"])
        .agg(pl.col("cumulative_cents").last().alias("paid_now_cents"))
    )
    if keys:
        paid_now = paid_now.with_columns(*[pl.col(k).cast(then.schema[k]) for k in keys])
    joined = then.join(paid_now, on=[*keys, "incurred_month"], how="left", maintain_order="left")
    runout = pl.col("paid_now_cents") - pl.col("paid_cents")
    return joined.select(
        *keys,
        "incurred_month",
        "method",
        pl.col("paid_cents").alias("paid_then_cents"),
        pl.col("ibnr_cents").alias("ibnr_then_cents"),
        pl.col("ultimate_cents").alias("ultimate_then_cents"),
        "paid_now_cents",
        runout.alias("runout_cents"),
        (pl.col("ibnr_cents") - runout).alias("remaining_ibnr_cents"),
        pl.when(pl.col("paid_now_cents").is_null())
        .then(pl.lit("not in the current triangle"))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("note"),
    )
