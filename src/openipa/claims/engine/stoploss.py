"""Specific (per member) stop-loss: accumulators, attachment-point alerts and recoverables.

A risk-bearing IPA buys reinsurance against catastrophic members: for each member and policy year, once the
claims the IPA paid for covered services pass the attachment point, the reinsurer pays a coinsurance share
of the excess, up to an optional maximum per member. Policies are data (POLICY_SCHEMA); everything here is a
pure function over frames, so a run is repeatable and testable without a database.

- :func:`accumulate` adds a batch of paid lines (reversals negative) to the accumulators of earlier runs and
  returns the new accumulators and the alert events (50%, 75% and 100% of the attachment, each at most once
  per member and policy).
- :func:`recoverables` lists, per policy, the members over the attachment, the excess and the amount
  recoverable from the reinsurer, with totals.

Lines are applied in ``line_id`` order (line ids are assigned as lines are paid, so this is payment order),
whatever the row order of the frame: the same lines always give the same accumulators and the same events.
docs/stop-loss.md explains the domain and the rules for users.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from openipa.core.engine.frames import (
    EngineInputError,
    Schema,
    conform,
    in_force,
    require,
    require_amount,
    require_factor,
    require_not_null,
    require_unique,
)
from openipa.core.engine.rounding import MAX_AMOUNT_CENTS, half_up

POLICY_SCHEMA: Schema = {
    "policy_id": pl.Int64,
    "payer_id": pl.Int64,  # null: lines of every payer
    "product_id": pl.Int64,  # null: every product (of the payer, if one is given)
    "valid_from": pl.Date,  # the policy year
    "valid_to": pl.Date,
    "attachment_cents": pl.Int64,  # per member per policy year
    "coinsurance_milli": pl.Int64,  # share the reinsurer pays above the attachment; 90% = 90000
    "max_reimbursement_cents": pl.Int64,  # per member per policy year; null: no maximum
    "categories": pl.String,  # covered service categories, comma separated; empty: all
}
PAID_LINE_SCHEMA: Schema = {
    "line_id": pl.Int64,
    "member_id": pl.Int64,
    "payer_id": pl.Int64,
    "product_id": pl.Int64,
    "category": pl.String,
    "service_from": pl.Date,  # the date of service chooses the policy year
    "paid_cents": pl.Int64,  # negative for a reversal
}
ACCUMULATOR_SCHEMA: Schema = {
    "policy_id": pl.Int64,
    "member_id": pl.Int64,
    "paid_cents": pl.Int64,  # eligible paid so far in the policy year
    "recoverable_cents": pl.Int64,
    "alerted_pct": pl.Int32,  # the highest threshold already alerted: 0, 50, 75 or 100
}
EVENT_SCHEMA: Schema = {
    "policy_id": pl.Int64,
    "member_id": pl.Int64,
    "threshold_pct": pl.Int32,  # 50, 75 or 100 (% of the attachment point)
    "paid_cents": pl.Int64,  # the accumulator just after the crossing line
    "crossed_by_line_id": pl.Int64,
}
MEMBER_RECOVERABLE_SCHEMA: Schema = {
    "policy_id": pl.Int64,
    "member_id": pl.Int64,
    "paid_cents": pl.Int64,
    "attachment_cents": pl.Int64,
    "excess_cents": pl.Int64,
    "recoverable_cents": pl.Int64,
    "capped": pl.Boolean,  # the maximum reimbursement limited the recoverable
}
POLICY_TOTAL_SCHEMA: Schema = {
    "policy_id": pl.Int64,
    "members_over": pl.Int64,
    "paid_cents": pl.Int64,
    "excess_cents": pl.Int64,
    "recoverable_cents": pl.Int64,
}
THRESHOLDS = (50, 75, 100)
"""Alert thresholds, in percent of the attachment point, in increasing order."""

_PERCENT_MILLI = 100_000  # 100% in thousandths of a percent


def _policies(policies: pl.DataFrame) -> pl.DataFrame:
    frame = conform(policies, POLICY_SCHEMA, "policies")
    key = ("policy_id",)
    require_not_null(
        frame,
        ["policy_id", "valid_from", "valid_to", "attachment_cents", "coinsurance_milli"],
        key,
        "policies",
    )
    require_unique(frame, ["policy_id"], "policies")
    require(frame, pl.col("valid_to") < pl.col("valid_from"), key, "policies: valid_to is before valid_from")
    require(frame, pl.col("attachment_cents") <= 0, key, "policies: attachment_cents must be positive")
    require_amount(frame, "attachment_cents", key, "policies")
    require_factor(frame, "coinsurance_milli", key, "policies")
    require(
        frame, pl.col("max_reimbursement_cents") < 0, key, "policies: max_reimbursement_cents is negative"
    )
    require_amount(frame, "max_reimbursement_cents", key, "policies")
    return frame.with_columns(pl.col("categories").fill_null(""))


def _previous(previous: pl.DataFrame, policies: pl.DataFrame) -> pl.DataFrame:
    frame = conform(previous, ACCUMULATOR_SCHEMA, "previous accumulators")
    key = ("policy_id", "member_id")
    require_not_null(
        frame, ["policy_id", "member_id", "paid_cents", "alerted_pct"], key, "previous accumulators"
    )
    require_unique(frame, ["policy_id", "member_id"], "previous accumulators")
    require(
        frame,
        ~pl.col("alerted_pct").is_in([0, *THRESHOLDS]),
        key,
        "previous accumulators: alerted_pct must be 0, 50, 75 or 100",
    )
    require_amount(frame, "paid_cents", key, "previous accumulators")
    unknown = frame.join(policies.select("policy_id"), on="policy_id", how="anti")
    require(unknown, pl.lit(True), key, "previous accumulators: no such policy")
    return frame


def _lines(paid_lines: pl.DataFrame) -> pl.DataFrame:
    frame = conform(paid_lines, PAID_LINE_SCHEMA, "paid lines")
    key = ("line_id",)
    require_not_null(frame, ["line_id", "member_id", "service_from", "paid_cents"], key, "paid lines")
    require_unique(frame, ["line_id"], "paid lines")
    require_amount(frame, "paid_cents", key, "paid lines")
    return frame


def assign_policies(paid_lines: pl.DataFrame, policies: pl.DataFrame) -> pl.DataFrame:
    """Return the eligible lines with the policy each one counts towards: line_id, member_id, paid_cents,
    policy_id.

    A policy matches a line when its payer and product scope include the line's (a null scope matches all),
    its policy year holds the date of service and it covers the line's category (empty categories: all; a
    line without a category matches only such a policy). Lines no policy matches are left out. When several
    match, the most specific scope wins (payer and product, then product, then payer, then all); two equally
    specific policies for one line are an error naming the line.
    """
    lines = _lines(paid_lines)
    frame = _policies(policies)
    # One row per policy and covered category (null: all categories), then one keyed join per combination of
    # wildcards (payer, product, category), so the work grows with the lines, not lines x policies.
    scopes = (
        frame.select(
            "policy_id",
            pl.col("payer_id").alias("policy_payer_id"),
            pl.col("product_id").alias("policy_product_id"),
            pl.col("categories")
            .str.split(",")
            .list.eval(pl.element().str.strip_chars())
            .list.eval(pl.element().filter(pl.element() != ""))
            .alias("policy_category"),
            "valid_from",
            "valid_to",
        )
        .explode(
            "policy_category", empty_as_null=True
        )  # an empty list (no category named) becomes one null row: all categories
        .unique()
    )
    keys = (
        ("payer_id", "policy_payer_id"),
        ("product_id", "policy_product_id"),
        ("category", "policy_category"),
    )
    parts = []
    for wildcards in range(2 ** len(keys)):
        chosen = scopes
        left_on: list[str] = []
        right_on: list[str] = []
        for bit, (line_key, policy_key) in enumerate(keys):
            if wildcards >> bit & 1:
                chosen = chosen.filter(pl.col(policy_key).is_null())
            else:
                chosen = chosen.filter(pl.col(policy_key).is_not_null())
                left_on.append(line_key)
                right_on.append(policy_key)
        if chosen.height == 0:
            continue
        joined = (
            lines.join(chosen, left_on=left_on, right_on=right_on, how="inner", coalesce=False)
            if left_on
            else lines.join(chosen, how="cross")
        )
        parts.append(
            joined.filter(in_force(pl.col("service_from"))).select(
                "line_id", "member_id", "paid_cents", "policy_id", "policy_payer_id", "policy_product_id"
            )
        )
    empty = pl.DataFrame(
        schema={
            "line_id": pl.Int64,
            "member_id": pl.Int64,
            "paid_cents": pl.Int64,
            "policy_id": pl.Int64,
            "policy_payer_id": pl.Int64,
            "policy_product_id": pl.Int64,
        }
    )
    matched = (
        pl.concat([empty, *parts])
        .unique(["line_id", "policy_id"])
        .with_columns(
            (
                pl.col("policy_product_id").is_not_null().cast(pl.Int32) * 2
                + pl.col("policy_payer_id").is_not_null().cast(pl.Int32)
            ).alias("specificity")
        )
        .filter(pl.col("specificity") == pl.col("specificity").max().over("line_id"))
    )
    require(
        matched.with_columns(
            pl.col("policy_id").min().over("line_id").alias("policy_id"),
            pl.col("policy_id").max().over("line_id").alias("and_policy_id"),
        ),
        pl.len().over("line_id") > 1,
        ("line_id", "policy_id", "and_policy_id"),
        "paid lines: more than one stop-loss policy of the same scope covers the line",
    )
    return matched.select("line_id", "member_id", "paid_cents", "policy_id")


def _recoverable(paid: pl.Expr) -> pl.Expr:
    """min(max reimbursement, coinsurance x max(0, paid - attachment)), rounded half up once; needs the
    policy's columns."""
    excess = pl.max_horizontal(paid - pl.col("attachment_cents"), pl.lit(0, pl.Int64))
    share = half_up(excess, pl.col("coinsurance_milli"), _PERCENT_MILLI)
    return (
        pl.when(pl.col("max_reimbursement_cents").is_null())
        .then(share)
        .otherwise(pl.min_horizontal(share, pl.col("max_reimbursement_cents")))
    )


def accumulate(
    previous: pl.DataFrame, paid_lines: pl.DataFrame, policies: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add `paid_lines` (PAID_LINE_SCHEMA) to the `previous` accumulators (ACCUMULATOR_SCHEMA, empty for the
    first run) under `policies` (POLICY_SCHEMA); return (accumulators, events).

    The accumulators hold every (policy_id, member_id) of `previous` and of the new eligible lines, with the
    eligible paid summed, the recoverable recomputed and the highest threshold alerted; sorted by policy_id,
    member_id. Events (EVENT_SCHEMA) are the thresholds a member reached for the first time in this run: the
    lines are applied in line_id order and the first line after which the accumulator is at or above a
    threshold not alerted before crosses it. A threshold alerted once is never alerted again, even when
    reversals took the member back below it and later lines cross it again. Raise EngineInputError naming
    the frame, field and row for bad input, and for an accumulator that would exceed MAX_AMOUNT_CENTS.
    """
    frame = _policies(policies)
    before = _previous(previous, frame)
    eligible = assign_policies(paid_lines, frame)

    running = (
        eligible.join(
            before.select("policy_id", "member_id", "paid_cents", "alerted_pct"),
            on=["policy_id", "member_id"],
            how="left",
            suffix="_before",
        )
        .with_columns(pl.col("paid_cents_before").fill_null(0), pl.col("alerted_pct").fill_null(0))
        .sort("policy_id", "member_id", "line_id")
        .with_columns(
            (
                pl.col("paid_cents_before") + pl.col("paid_cents").cum_sum().over("policy_id", "member_id")
            ).alias("running_cents")
        )
        .join(frame.select("policy_id", "attachment_cents"), on="policy_id", how="left")
    )
    require(
        running,
        pl.col("running_cents").abs() > MAX_AMOUNT_CENTS,
        ("policy_id", "member_id", "line_id"),
        f"paid lines: a member's accumulator would exceed +/-{MAX_AMOUNT_CENTS} cents",
    )

    crossings = [
        running.filter(
            (pl.col("alerted_pct") < threshold)
            & (pl.col("running_cents") * 100 >= pl.col("attachment_cents") * threshold)
        )
        .group_by("policy_id", "member_id")
        .agg(
            pl.col("running_cents").first().alias("paid_cents"),
            pl.col("line_id").first().alias("crossed_by_line_id"),
        )
        .with_columns(pl.lit(threshold, pl.Int32).alias("threshold_pct"))
        for threshold in THRESHOLDS
    ]
    events = (
        pl.concat(crossings, how="diagonal")
        .select([pl.col(c).cast(t) for c, t in EVENT_SCHEMA.items()])
        .sort("policy_id", "member_id", "threshold_pct")
    )

    added = eligible.group_by("policy_id", "member_id").agg(pl.col("paid_cents").sum().alias("added_cents"))
    alerted = events.group_by("policy_id", "member_id").agg(pl.col("threshold_pct").max().alias("new_pct"))
    accumulators = (
        before.join(added, on=["policy_id", "member_id"], how="full", coalesce=True)
        .join(alerted, on=["policy_id", "member_id"], how="left")
        .with_columns(
            (pl.col("paid_cents").fill_null(0) + pl.col("added_cents").fill_null(0)).alias("paid_cents"),
            pl.max_horizontal(pl.col("alerted_pct").fill_null(0), pl.col("new_pct").fill_null(0))
            .cast(pl.Int32)
            .alias("alerted_pct"),
        )
        .join(frame, on="policy_id", how="left")
        .with_columns(_recoverable(pl.col("paid_cents")).alias("recoverable_cents"))
        .select([pl.col(c).cast(t) for c, t in ACCUMULATOR_SCHEMA.items()])
        .sort("policy_id", "member_id")
    )
    return accumulators, events


@dataclass(frozen=True)
class Recoverables:
    members: pl.DataFrame
    """MEMBER_RECOVERABLE_SCHEMA: one row per member over the attachment, by policy_id, member_id."""
    totals: pl.DataFrame
    """POLICY_TOTAL_SCHEMA: one row per policy with a member over the attachment, by policy_id."""


def recoverables(accumulators: pl.DataFrame, policies: pl.DataFrame) -> Recoverables:
    """Return, per policy, the members whose eligible paid is above the attachment point, their excess and
    what the reinsurer owes (recomputed from paid_cents and the policy, not read from the accumulators), and
    the totals per policy. Raise EngineInputError for an accumulator of an unknown policy."""
    frame = _policies(policies)
    accs = _previous(accumulators, frame)
    members = (
        accs.select("policy_id", "member_id", "paid_cents")
        .join(frame, on="policy_id", how="left")
        .filter(pl.col("paid_cents") > pl.col("attachment_cents"))
        .with_columns(
            (pl.col("paid_cents") - pl.col("attachment_cents")).alias("excess_cents"),
            _recoverable(pl.col("paid_cents")).alias("recoverable_cents"),
        )
        .with_columns(
            (
                pl.col("max_reimbursement_cents").is_not_null()
                & (
                    half_up(pl.col("excess_cents"), pl.col("coinsurance_milli"), _PERCENT_MILLI)
                    > pl.col("max_reimbursement_cents")
                )
            ).alias("capped")
        )
        .select([pl.col(c).cast(t) for c, t in MEMBER_RECOVERABLE_SCHEMA.items()])
        .sort("policy_id", "member_id")
    )
    totals = (
        members.group_by("policy_id")
        .agg(
            pl.len().cast(pl.Int64).alias("members_over"),
            *[
                pl.col(c).cast(pl.Int128).sum().cast(pl.Int64)
                for c in ("paid_cents", "excess_cents", "recoverable_cents")
            ],
        )
        .select([pl.col(c).cast(t) for c, t in POLICY_TOTAL_SCHEMA.items()])
        .sort("policy_id")
    )
    return Recoverables(members=members, totals=totals)


__all__ = [
    "ACCUMULATOR_SCHEMA",
    "EVENT_SCHEMA",
    "MEMBER_RECOVERABLE_SCHEMA",
    "PAID_LINE_SCHEMA",
    "POLICY_SCHEMA",
    "POLICY_TOTAL_SCHEMA",
    "THRESHOLDS",
    "EngineInputError",
    "Recoverables",
    "accumulate",
    "assign_policies",
    "recoverables",
]
