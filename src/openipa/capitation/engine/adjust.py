"""Adjustment lines: what changes when an approved distribution is recomputed with corrected inputs.

Approved runs are immutable, so a retro add, retro term, PCP change or rate correction is paid (or
recouped) by an adjustment run carrying only the differences. Lines are compared per (member_id, month,
practice_id): a member-month that moved to another practice becomes a negative line for the old practice
and a positive one for the new, so each practice's statement shows its own recoupment or payment. A
negative pcp_net delta is a recoupment. The deltas of every money column sum exactly to the difference of
the two runs' totals, because every line of either run lands in exactly one output row.
"""

from __future__ import annotations

import polars as pl

from openipa.capitation.engine.distribution import LINE_AMOUNTS, LINE_SCHEMA
from openipa.core.engine.frames import Schema, conform, require_not_null

REASONS = ("retro add", "retro term", "changed PCP", "rate change")

ADJUSTMENT_SCHEMA: Schema = {
    "member_id": pl.Int64,
    "month": pl.Date,
    "practice_id": pl.Int64,
    "provider_id": pl.Int64,
    "product_id": pl.Int64,
    "rule_id": pl.Int64,
    "term_id": pl.Int64,
    **dict.fromkeys(LINE_AMOUNTS, pl.Int64),
    "reason": pl.String,
}
"""Descriptive columns come from the recomputed line when there is one; money columns are recomputed minus
approved, in cents."""

_KEY = ["member_id", "month", "practice_id"]
_DESCRIPTORS = ["provider_id", "product_id", "rule_id", "term_id"]


def _by_key(frame: pl.DataFrame, name: str, side: str) -> pl.DataFrame:
    """Return one row per (member_id, month, practice_id) with money summed and the columns suffixed."""
    lines = conform(frame, LINE_SCHEMA, name)
    require_not_null(lines, ["member_id", "month", *LINE_AMOUNTS], ("member_id", "month", "product_id"), name)
    grouped = (
        lines.sort("member_id", "month", "practice_id", "product_id", nulls_last=False)
        .group_by(_KEY, maintain_order=True)
        .agg(
            *[pl.col(c).first() for c in _DESCRIPTORS],
            *[pl.col(c).cast(pl.Int128).sum().cast(pl.Int64) for c in LINE_AMOUNTS],
        )
    )
    return grouped.rename({c: f"{c}_{side}" for c in grouped.columns if c not in _KEY}).with_columns(
        pl.lit(True).alias(f"line_{side}")
    )


def _member_months(frame: pl.DataFrame, side: str) -> pl.DataFrame:
    return frame.select("member_id", "month").unique().with_columns(pl.lit(True).alias(f"month_{side}"))


def adjustment_lines(approved: pl.DataFrame, recomputed: pl.DataFrame) -> pl.DataFrame:
    """Return the per (member_id, month, practice_id) deltas recomputed - approved (ADJUSTMENT_SCHEMA).

    Both frames are `Distribution.lines` of the same payer-month. Only rows with a non-zero delta are kept,
    sorted by member_id, month, practice_id. `reason` is "retro add" for a member-month only the recomputed
    run has, "retro term" for one only the approved run has, "changed PCP" for a member-month whose practice
    differs (one row per practice), and "rate change" otherwise.
    """
    old = _by_key(approved, "approved", "old")
    new = _by_key(recomputed, "recomputed", "new")
    joined = (
        old.join(new, on=_KEY, how="full", coalesce=True, nulls_equal=True)
        .join(_member_months(old, "old"), on=["member_id", "month"], how="left")
        .join(_member_months(new, "new"), on=["member_id", "month"], how="left")
        .with_columns(pl.col(f"{p}_{s}").fill_null(False) for p in ("line", "month") for s in ("old", "new"))
    )
    reason = (
        pl.when(pl.col("line_old") & pl.col("line_new"))
        .then(pl.lit("rate change"))
        .when(pl.col("month_old") & pl.col("month_new"))
        .then(pl.lit("changed PCP"))
        .when(pl.col("month_new"))
        .then(pl.lit("retro add"))
        .otherwise(pl.lit("retro term"))
    )
    deltas = joined.select(
        *_KEY,
        *[pl.coalesce(f"{c}_new", f"{c}_old").alias(c) for c in _DESCRIPTORS],
        *[(pl.col(f"{c}_new").fill_null(0) - pl.col(f"{c}_old").fill_null(0)).alias(c) for c in LINE_AMOUNTS],
        reason.alias("reason"),
    )
    changed = pl.any_horizontal([pl.col(c) != 0 for c in LINE_AMOUNTS])
    return (
        deltas.filter(changed)
        .sort(_KEY, nulls_last=False)
        .select([pl.col(c).cast(t) for c, t in ADJUSTMENT_SCHEMA.items()])
    )
