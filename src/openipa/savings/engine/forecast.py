"""The year-end forecast of a shared savings settlement, with a bootstrap interval over members.

Pure (no Django). Input: one row per attributed member (``MEMBER_SCHEMA``) with the member-months and the
completed cost (claims paid so far divided by the month's completion factor, in integer cents) of the
months observed so far, and the member's quality numerator and denominator; plus the member-months
expected for the whole year (observed + those still to come).

Projection: the run-rate PMPM (cost / member-months observed) times the year's expected member-months:
``projected cost = round(cost x expected / observed)``. The benchmark is taken on the expected
member-months. The point forecast is ``settlement.settle`` on those totals.

Interval: ``samples`` bootstrap resamples of the members, with replacement, seeded (Polars' ``sample``
with a seed derived from ``seed`` and the chunk): each resample's cost, member-months, quality numerator and
denominator are summed (vectorized: one long frame of drawn member indexes per chunk of resamples, grouped by
resample, in integer columns) and the same projection and settlement applied to each resample's sums. Percentiles are
sample values (the inverted empirical CDF), so they are whole cents. The probability of each threshold is
the share of resamples that pass it: MSR met, quality gate met, savings cap reached, MLR crossed (a
shared loss) and loss cap reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from openipa.savings.engine.settlement import Settlement, SettlementError, Terms, Totals, settle

MEMBER_SCHEMA = {
    "member_id": pl.Int64,
    "member_months": pl.Int64,
    "cost_cents": pl.Int64,
    "quality_numerator": pl.Int64,
    "quality_denominator": pl.Int64,
}
DEFAULT_SAMPLES = 1000
CHUNK = 100
LOW_QUANTILE = 0.05
HIGH_QUANTILE = 0.95


class ForecastError(ValueError):
    """Inputs that cannot be forecast; the message names the field."""


@dataclass(frozen=True)
class Forecast:
    point: Settlement
    observed_member_months: int
    expected_member_months: int
    observed_cost_cents: int
    projected_cost_cents: int
    samples: int
    seed: int
    savings_low_cents: int
    savings_median_cents: int
    savings_high_cents: int
    shared_low_cents: int
    shared_median_cents: int
    shared_high_cents: int
    p_msr_met: float
    p_quality_met: float
    p_savings_cap: float
    p_loss_shared: float
    p_loss_cap: float
    savings_samples: tuple[int, ...]
    shared_samples: tuple[int, ...]


def _project(cost: int, observed: int, expected: int) -> int:
    """round half-up(cost x expected / observed), integers only."""
    numerator = 2 * cost * expected + observed
    if cost >= 0:
        return numerator // (2 * observed)
    return -((2 * -cost * expected + observed) // (2 * observed))


def _quantile(ordered: list[int], q: float) -> int:
    """The inverted empirical CDF at ``q`` of sorted values: the smallest value with at least q of them at
    or below it (a sample value, so whole cents)."""
    rank = max(1, -(-round(q * 1_000_000) * len(ordered) // 1_000_000))
    return ordered[min(rank, len(ordered)) - 1]


def forecast(
    members: pl.DataFrame,
    *,
    terms: Terms,
    expected_member_months: int,
    revenue_cents: int = 0,
    mean_raf_milli: int | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 1,
) -> Forecast:
    """Project the year's settlement and bootstrap its interval; raise ForecastError for unusable inputs.

    ``revenue_cents`` (for a target MLR basis) is scaled like the cost, from observed to expected months.
    """
    missing = [c for c in MEMBER_SCHEMA if c not in members.columns]
    if missing:
        raise ForecastError(f"members: missing columns {', '.join(missing)}")
    if members.height == 0:
        raise ForecastError("members: nobody is attributed so far")
    if not 1 <= samples <= 100_000:
        raise ForecastError(f"samples: {samples} (1 to 100,000)")
    frame = members.select(*(pl.col(c).cast(t) for c, t in MEMBER_SCHEMA.items()))
    if frame.select(pl.any_horizontal(pl.all().is_null()).any()).item():
        raise ForecastError("members: a value is missing")
    if (frame["member_months"] < 0).any() or (frame["quality_denominator"] < 0).any():
        raise ForecastError("members: negative member-months or quality denominator")
    sums_all = frame.select(
        pl.col("member_months", "cost_cents", "quality_numerator", "quality_denominator").sum()
    )
    observed, total_cost, total_num, total_den = (int(v) for v in sums_all.row(0))
    if observed <= 0:
        raise ForecastError("members: no member-months observed")
    if expected_member_months < observed:
        raise ForecastError(
            f"expected_member_months: {expected_member_months:,} is fewer than the {observed:,} observed"
        )

    def totals(c: int, m: int, n: int, d: int) -> Totals:
        return Totals(
            member_months=expected_member_months,
            cost_cents=_project(c, m, expected_member_months),
            revenue_cents=_project(revenue_cents, m, expected_member_months) if revenue_cents else 0,
            quality_numerator=n,
            quality_denominator=d,
            mean_raf_milli=mean_raf_milli,
        )

    try:
        point_totals = totals(total_cost, observed, total_num, total_den)
        point = settle(terms, point_totals)
    except SettlementError as error:
        raise ForecastError(str(error)) from None
    n = frame.height
    values = frame.select("member_months", "cost_cents", "quality_numerator", "quality_denominator")
    positions = pl.Series("i", range(n), dtype=pl.Int64)
    savings: list[int] = []
    shared: list[int] = []
    msr = quality = cap = loss = loss_cap = 0
    done = chunk = 0
    while done < samples:
        size = min(CHUNK, samples - done)
        drawn = positions.sample(n * size, with_replacement=True, seed=(seed * 1_000_003 + chunk) % 2**63)
        sums = (
            values[drawn]
            .with_columns((pl.int_range(pl.len(), dtype=pl.Int64) // n).alias("resample"))
            .group_by("resample")
            .agg(pl.all().sum())
            .sort("resample")
        )
        for _, m, c, q_num, q_den in sums.iter_rows():
            # a resample of members with no observed months cannot be projected: it counts as the point
            result = point if m <= 0 else settle(terms, totals(c, m, q_num, q_den))
            savings.append(result.savings_cents)
            shared.append(result.shared_cents)
            msr += result.msr_met
            quality += result.quality_met
            cap += result.cap_binding
            loss += result.shared_cents < 0
            loss_cap += result.loss_cap_binding
        done += size
        chunk += 1
    s = sorted(savings)
    h = sorted(shared)
    return Forecast(
        point=point, observed_member_months=observed, expected_member_months=expected_member_months,
        observed_cost_cents=total_cost, projected_cost_cents=point.cost_cents, samples=samples, seed=seed,
        savings_low_cents=_quantile(s, LOW_QUANTILE), savings_median_cents=_quantile(s, 0.5),
        savings_high_cents=_quantile(s, HIGH_QUANTILE), shared_low_cents=_quantile(h, LOW_QUANTILE),
        shared_median_cents=_quantile(h, 0.5), shared_high_cents=_quantile(h, HIGH_QUANTILE),
        p_msr_met=msr / samples, p_quality_met=quality / samples, p_savings_cap=cap / samples,
        p_loss_shared=loss / samples, p_loss_cap=loss_cap / samples,
        savings_samples=tuple(savings), shared_samples=tuple(shared),
    )  # fmt: skip


def histogram(values: tuple[int, ...], bins: int = 20) -> list[tuple[int, int, int]]:
    """(low cents, high cents, count) of equal-width bins over the values (one bin when all are equal)."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    if lo == hi:
        return [(lo, hi, len(values))]
    width = -(-(hi - lo) // bins)
    counts = [0] * bins
    for v in values:
        counts[min((v - lo) // width, bins - 1)] += 1
    return [(lo + i * width, lo + (i + 1) * width, counts[i]) for i in range(bins)]
