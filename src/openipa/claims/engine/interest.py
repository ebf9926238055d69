"""Interest on late clean claims: prompt-pay rules as data, one rule version per line of business and date.

A clean claim line paid after its deadline earns the provider simple interest:

    interest_cents = paid_cents x annual rate x days late / 365, rounded half up once to a cent

Rules (RULE_SCHEMA) are effective-dated rows per line of business; the version in force on the payment date
applies (its rate is the rate in effect when the interest is paid, as the Medicare prompt-pay rules say). A
rule states the deadline as a number of days after receipt, counted either in calendar days or in working
days of a calendar from `openipa.core.calendars` (weekends and the holidays its data lists), and whether the
count starts the day after receipt (the usual reading) or on the day of receipt. Days late are the calendar
days after the deadline up to and including the payment date. Typical rows (docs/stop-loss.md):

- California Knox-Keene (28 CCR 1300.71), claims a risk-bearing organization pays for commercial or Medi-Cal
  HMO members: 45 working days (calendar US-CA), 15% a year (15000).
- Medicare Advantage (42 CFR 422.520, non-contracted clean claims): 30 calendar days, at the Prompt Payment
  Act rate the Treasury publishes for each half year (January 1 and July 1): one row per half year.

Nothing here reads a database or a clock; the payment date is an argument.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from openipa.core.calendars import get_calendar
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
from openipa.core.engine.rounding import half_up

RULE_SCHEMA: Schema = {
    "rule_id": pl.Int64,
    "line_of_business": pl.String,
    "valid_from": pl.Date,  # the rule version in force on the payment date applies
    "valid_to": pl.Date,
    "limit_days": pl.Int32,  # the deadline, in days after receipt
    "working_days": pl.Boolean,  # true: limit_days are working days of calendar_code; false: calendar days
    "calendar_code": pl.String,  # e.g. US-CA; needed when working_days
    "rate_milli": pl.Int64,  # annual simple interest in thousandths of a percent: 15% = 15000
    "minimum_interest_cents": pl.Int64,  # interest below this is not paid (0: always paid)
    "count_from_next_day": pl.Boolean,  # true: day 1 is the day after receipt; false: the day of receipt
}
LINE_SCHEMA: Schema = {
    "line_id": pl.Int64,
    "line_of_business": pl.String,
    "received_on": pl.Date,  # receipt of the complete (clean) claim
    "paid_cents": pl.Int64,
    "clean": pl.Boolean,
}
INTEREST_SCHEMA: Schema = {
    "line_id": pl.Int64,
    "rule_id": pl.Int64,  # null: no rule for the line of business on the payment date (no interest)
    "due_on": pl.Date,  # the last day to pay without interest
    "days_late": pl.Int32,  # calendar days after due_on up to the payment date; 0 when on time or not clean
    "rate_milli": pl.Int64,
    "computed_cents": pl.Int64,  # paid x rate x days late / 365, half up
    "interest_cents": pl.Int64,  # computed_cents, or 0 below the rule's minimum
}

_YEAR_DENOMINATOR = 100_000 * 365  # rate in thousandths of a percent, per day of a 365-day year
_MAX_DAYS_LATE = 36_600  # a century: beyond it the dates are wrong, not the claim late


def _rules(rules: pl.DataFrame) -> pl.DataFrame:
    frame = conform(rules, RULE_SCHEMA, "interest rules")
    key = ("rule_id", "line_of_business")
    name = "interest rules"
    require_not_null(
        frame, [c for c in RULE_SCHEMA if c not in ("valid_from", "valid_to", "calendar_code")], key, name
    )
    require_unique(frame, ["rule_id"], name)
    require(frame, pl.col("valid_to") < pl.col("valid_from"), key, f"{name}: valid_to is before valid_from")
    require(frame, pl.col("limit_days") < 1, key, f"{name}: limit_days must be at least 1")
    require_factor(frame, "rate_milli", key, name)
    require(frame, pl.col("minimum_interest_cents") < 0, key, f"{name}: minimum_interest_cents is negative")
    require_amount(frame, "minimum_interest_cents", key, name)
    codes = frame.filter(pl.col("working_days"))["calendar_code"].fill_null("").unique().to_list()
    for code in sorted(codes):
        try:
            get_calendar(code)
        except ValueError as error:
            bad = pl.col("working_days") & (pl.col("calendar_code").fill_null("") == code)
            require(frame, bad, key, f"{name}: calendar_code: {error}")
    overlaps = frame.join(frame, on="line_of_business", suffix="_other").filter(
        (pl.col("rule_id") < pl.col("rule_id_other"))
        & (
            pl.col("valid_from").is_null()
            | pl.col("valid_to_other").is_null()
            | (pl.col("valid_from") <= pl.col("valid_to_other"))
        )
        & (
            pl.col("valid_from_other").is_null()
            | pl.col("valid_to").is_null()
            | (pl.col("valid_from_other") <= pl.col("valid_to"))
        )
    )
    require(
        overlaps,
        pl.lit(True),
        ("line_of_business", "rule_id", "rule_id_other"),
        f"{name}: two versions in force on the same day",
    )
    return frame


def _lines(lines: pl.DataFrame, paid_on: dt.date) -> pl.DataFrame:
    frame = conform(lines, LINE_SCHEMA, "lines")
    key = ("line_id",)
    require_not_null(frame, list(LINE_SCHEMA), key, "lines")
    require_unique(frame, ["line_id"], "lines")
    require_amount(frame, "paid_cents", key, "lines")
    require(
        frame, pl.col("received_on") > paid_on, key, f"lines: received_on is after the payment date {paid_on}"
    )
    return frame


def due_date(
    received_on: dt.date, limit_days: int, calendar_code: str | None, count_from_next_day: bool
) -> dt.date:
    """Return the last day a claim received on `received_on` can be paid without interest.

    With `calendar_code` None (or empty) the limit is in calendar days, else in working days of that
    calendar. When `count_from_next_day` is true the day after receipt is day 1 (45 working days from a
    Friday receipt end on the 45th working day after it); otherwise the day of receipt is day 1 if it is a
    counted day. Raise ValueError for an unknown calendar or a limit below 1.
    """
    if limit_days < 1:
        raise ValueError(f"limit_days must be at least 1, got {limit_days}")
    start = received_on if count_from_next_day else received_on - dt.timedelta(days=1)
    if not calendar_code:
        return start + dt.timedelta(days=limit_days)
    return get_calendar(calendar_code).add_business_days(start, limit_days)


def interest_due(lines: pl.DataFrame, rules: pl.DataFrame, paid_on: dt.date) -> pl.DataFrame:
    """Return the interest owed on each of `lines` (LINE_SCHEMA) paid on `paid_on` (INTEREST_SCHEMA, by
    line_id).

    The rule is the version for the line's line_of_business in force on `paid_on`. Interest is zero for a
    line that is not clean (its clock has not started), has no rule, is paid within the limit, or pays
    nothing (a zero or negative line: a recoupment earns no interest); and when the computed interest is
    below the rule's minimum. Raise EngineInputError naming the frame, field and row for bad input
    (overlapping rule versions, an unknown calendar, a claim received after the payment date).
    """
    frame = _lines(lines, paid_on)
    versions = _rules(rules).filter(in_force(pl.lit(paid_on)))
    matched = frame.join(versions.drop("valid_from", "valid_to"), on="line_of_business", how="left")

    clocks = (
        matched.filter(pl.col("rule_id").is_not_null())
        .select("received_on", "limit_days", "working_days", "calendar_code", "count_from_next_day")
        .unique()
    )
    # Working days are counted in Python, once per distinct receipt date and rule (a few hundred per run).
    due = [
        due_date(received, limit, code if working else None, next_day)
        for received, limit, working, code, next_day in clocks.iter_rows()
    ]
    clocks = clocks.with_columns(pl.Series("due_on", due, dtype=pl.Date))
    with_due = matched.join(
        clocks,
        on=["received_on", "limit_days", "working_days", "calendar_code", "count_from_next_day"],
        how="left",
        nulls_equal=True,
    )

    late = (pl.lit(paid_on) - pl.col("due_on")).dt.total_days()
    days_late = (
        pl.when(pl.col("clean") & pl.col("due_on").is_not_null() & (late > 0))
        .then(late)
        .otherwise(0)
        .cast(pl.Int64)
    )
    with_days = with_due.with_columns(days_late.alias("days_late"))
    require(
        with_days,
        pl.col("days_late") > _MAX_DAYS_LATE,
        ("line_id", "received_on"),
        f"lines: more than {_MAX_DAYS_LATE} days late",
    )

    # paid x rate fits 64 bits (<= 1e16), times days late may not: split it by the year denominator so the
    # whole part is exact and only the remainder is rounded, once.
    base = pl.max_horizontal(pl.col("paid_cents"), pl.lit(0, pl.Int64)) * pl.col("rate_milli").fill_null(0)
    whole = (base // _YEAR_DENOMINATOR) * pl.col("days_late")
    part = half_up(base % _YEAR_DENOMINATOR, pl.col("days_late"), _YEAR_DENOMINATOR)
    computed = (whole + part).alias("computed_cents")
    return (
        with_days.with_columns(computed)
        .with_columns(
            pl.when(pl.col("computed_cents") >= pl.col("minimum_interest_cents").fill_null(0))
            .then(pl.col("computed_cents"))
            .otherwise(0)
            .alias("interest_cents")
        )
        .select([pl.col(c).cast(t) for c, t in INTEREST_SCHEMA.items()])
        .sort("line_id")
    )


__all__ = ["INTEREST_SCHEMA", "LINE_SCHEMA", "RULE_SCHEMA", "EngineInputError", "due_date", "interest_due"]
