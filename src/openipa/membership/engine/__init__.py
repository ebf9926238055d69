"""Pure computation over membership data (no Django): member-months from eligibility spans."""

from __future__ import annotations

import polars as pl

# One row per eligibility span: member id, payer id, first and last month as indexes (year * 12 + month - 1);
# `last` is null for an open-ended span.
SPAN_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member": pl.Int64,
    "payer": pl.Int64,
    "first": pl.Int64,
    "last": pl.Int64,
}


def member_months(spans: pl.DataFrame) -> tuple[int, int, pl.DataFrame]:
    """Count, per payer and month, the members whose spans cover at least one day of the month.

    Return (low, high, counts): the month range of the data (from the earliest first month to the latest
    month any span starts or ends in; open spans run through `high`) and a frame (payer, month, n) with a
    row for every payer that has spans and every month in the range, zeros included. A member with
    overlapping spans counts once per month. `spans` must not be empty.

    Memory grows with the number of spans, not of member-months: a member with one span is counted by a
    +1 at its first month and a -1 after its last, summed along the months; only members with several spans
    (which may overlap themselves) are expanded to one row per month and deduplicated.
    """
    if spans.height == 0:
        raise ValueError("member_months needs at least one span")
    bounds = spans.select(
        pl.col("first").min().alias("low"),
        pl.max_horizontal(pl.col("first").max(), pl.col("last").max()).alias("high"),
    ).row(0)
    low, high = int(bounds[0]), int(bounds[1])
    spans = spans.with_columns(pl.col("last").fill_null(high))
    per_member = pl.len().over("member")

    single = spans.filter(per_member == 1)
    edges = pl.concat(
        [
            single.group_by("payer", pl.col("first").alias("month")).agg(pl.len().cast(pl.Int64).alias("d")),
            single.group_by("payer", (pl.col("last") + 1).alias("month")).agg(
                (-pl.len().cast(pl.Int64)).alias("d")
            ),
        ]
    )
    change_points = (
        edges.group_by("payer", "month")
        .agg(pl.col("d").sum())
        .sort("payer", "month")
        .with_columns(pl.col("d").cum_sum().over("payer").alias("n"))
        .select("payer", "month", "n")
    )
    multi = (
        spans.filter(per_member > 1)
        .select("member", "payer", pl.int_ranges("first", pl.col("last") + 1).alias("month"))
        .explode("month")
        .unique(["member", "payer", "month"])
        .group_by("payer", "month")
        .agg(pl.len().cast(pl.Int64).alias("n"))
    )
    months = pl.DataFrame({"month": pl.int_range(low, high + 1, eager=True).cast(pl.Int64)})
    grid = spans.select("payer").unique().join(months, how="cross")
    # A running count holds from its change point until the next one: carry it forward month by month.
    from_single = (
        grid.join(change_points, on=["payer", "month"], how="left")
        .sort("payer", "month")
        .with_columns(pl.col("n").forward_fill().over("payer").fill_null(0))
    )
    counts = (
        pl.concat([from_single.select("payer", "month", "n"), multi.select("payer", "month", "n")])
        .group_by("payer", "month")
        .agg(pl.col("n").sum())
        .sort("payer", "month")
    )
    return low, high, counts
