"""The CMS-0057-F prior authorization metrics and the SLA figures of the UM dashboard (pure Polars, no Django).

CMS-0057-F (42 CFR 422.122(c) for Medicare Advantage, 438.210(f) for Medicaid managed care) requires each
year's public report of: the share of standard prior authorization requests approved, denied, approved after
appeal; the share of requests approved after an extension of the review time frame; the share of expedited
requests approved and denied; and the average and median time from receipt to decision for standard and for
expedited requests. The definitions chosen here (docs/utilization.md, "CMS-0057-F metrics"):

- **Which requests.** Kinds ``prior_auth`` and ``referral`` (an IPA's referral to a specialist is a prior
  authorization of that care). Admission notifications ask for no decision; post-stabilization care is part
  of emergency services (42 CFR 422.113(c)) on its own one-hour rule. Withdrawn requests are left out, and so
  are requests not decided yet.
- **Which year.** The calendar year, in the IPA's time zone, of the *initial* decision (an appeal decided in
  the next year still counts with the request's year).
- **Approved** is the initial decision approved, modified (a partial approval: CMS counts a request approved
  in part as approved; the modified share is also given on its own) or deemed approved (no decision in time
  means approved by law). **Denied** is the initial decision denied. So approved + denied = 100% of the
  requests decided.
- **Approved after appeal**: requests whose initial decision was adverse (denied, or modified) and whose appeal
  was overturned or partly overturned, divided by *all* the standard requests decided in the year (the rule's
  "percentage of standard prior authorization requests"), not by the appealed ones; the appealed count is given
  too so the other ratio can be read.
- **Approved after an extension**: requests whose time frame was extended and whose initial decision approved
  them (in full, in part or deemed), over the requests of that urgency decided in the year.
- **Decision time**: hours from ``received_at`` to the initial decision (an auto-approval is 0 hours), mean and
  median.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import polars as pl

KINDS = ("prior_auth", "referral")
APPROVING = ("approved", "modified", "deemed_approved")
DENYING = ("denied",)
ADVERSE = ("denied", "modified")
APPEAL_APPROVING = ("overturned", "partial")

REQUEST_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "contract": pl.String,  # a label (number and name), "" for requests without a contract
    "line_of_business": pl.String,
    "kind": pl.String,
    "urgency": pl.String,  # standard | expedited
    "received_at": pl.Datetime("us", "UTC"),
    "due_at": pl.Datetime("us", "UTC"),  # the due time in force at the decision (after an extension)
    "decided_at": pl.Datetime("us", "UTC"),  # the initial decision; null while open
    "outcome": pl.String,  # the initial decision: approved | modified | denied | deemed_approved | withdrawn | ""
    "extended": pl.Boolean,
    "appeal_outcome": pl.String,  # the last appeal's status: overturned | partial | upheld | open | withdrawn | ""
}

METRIC_COLUMNS = (
    "contract", "line_of_business", "year",
    "standard_decided", "standard_approved", "standard_denied", "standard_modified",
    "standard_appealed", "standard_approved_after_appeal", "standard_extended_approved",
    "expedited_decided", "expedited_approved", "expedited_denied", "expedited_extended_approved",
    "standard_approved_pct", "standard_denied_pct", "standard_modified_pct",
    "standard_approved_after_appeal_pct", "standard_approved_after_extension_pct",
    "expedited_approved_pct", "expedited_denied_pct", "expedited_approved_after_extension_pct",
    "standard_hours_mean", "standard_hours_median", "expedited_hours_mean", "expedited_hours_median",
)  # fmt: skip


def empty_requests() -> pl.DataFrame:
    return pl.DataFrame(schema=REQUEST_SCHEMA)


def _hours() -> pl.Expr:
    return (pl.col("decided_at") - pl.col("received_at")).dt.total_microseconds().cast(pl.Float64) / 3.6e9


def _pct(numerator: str, denominator: str) -> pl.Expr:
    return (
        pl.when(pl.col(denominator) > 0)
        .then(pl.col(numerator).cast(pl.Float64) * 100.0 / pl.col(denominator).cast(pl.Float64))
        .otherwise(None)
    )


def decided_in_scope(
    requests: pl.DataFrame, *, tz: str = "UTC", kinds: Iterable[str] = KINDS
) -> pl.DataFrame:
    """The requests the metrics count: of `kinds`, decided (initially), not withdrawn; with `year` (of the
    decision in `tz`) and `hours` (receipt to decision)."""
    return requests.filter(
        pl.col("kind").is_in(list(kinds))
        & pl.col("decided_at").is_not_null()
        & pl.col("outcome").is_in([*APPROVING, *DENYING])
    ).with_columns(
        pl.col("decided_at").dt.convert_time_zone(tz).dt.year().cast(pl.Int32).alias("year"),
        _hours().alias("hours"),
        pl.col("contract").fill_null(""),
        pl.col("appeal_outcome").fill_null(""),
        pl.col("extended").fill_null(False),
    )


def cms_metrics(requests: pl.DataFrame, *, tz: str = "UTC", kinds: Iterable[str] = KINDS) -> pl.DataFrame:
    """The CMS-0057-F metrics per contract, line of business and year of decision (columns METRIC_COLUMNS),
    sorted by contract, line of business and year. Shares are percentages (null when nothing was decided),
    times are hours."""
    rows = decided_in_scope(requests, tz=tz, kinds=kinds)
    std = pl.col("urgency") == "standard"
    exp = pl.col("urgency") == "expedited"
    approving = pl.col("outcome").is_in(list(APPROVING))
    denied = pl.col("outcome").is_in(list(DENYING))
    adverse = pl.col("outcome").is_in(list(ADVERSE))
    appealed = adverse & pl.col("appeal_outcome").is_in(["overturned", "partial", "upheld", "open"])
    after_appeal = adverse & pl.col("appeal_outcome").is_in(list(APPEAL_APPROVING))
    extended_approved = pl.col("extended") & approving

    def count(condition: pl.Expr) -> pl.Expr:
        return condition.sum().cast(pl.Int64)

    grouped = (
        rows.group_by("contract", "line_of_business", "year")
        .agg(
            count(std).alias("standard_decided"),
            count(std & approving).alias("standard_approved"),
            count(std & denied).alias("standard_denied"),
            count(std & (pl.col("outcome") == "modified")).alias("standard_modified"),
            count(std & appealed).alias("standard_appealed"),
            count(std & after_appeal).alias("standard_approved_after_appeal"),
            count(std & extended_approved).alias("standard_extended_approved"),
            count(exp).alias("expedited_decided"),
            count(exp & approving).alias("expedited_approved"),
            count(exp & denied).alias("expedited_denied"),
            count(exp & extended_approved).alias("expedited_extended_approved"),
            pl.col("hours").filter(std).mean().alias("standard_hours_mean"),
            pl.col("hours").filter(std).median().alias("standard_hours_median"),
            pl.col("hours").filter(exp).mean().alias("expedited_hours_mean"),
            pl.col("hours").filter(exp).median().alias("expedited_hours_median"),
        )
        .with_columns(
            _pct("standard_approved", "standard_decided").alias("standard_approved_pct"),
            _pct("standard_denied", "standard_decided").alias("standard_denied_pct"),
            _pct("standard_modified", "standard_decided").alias("standard_modified_pct"),
            _pct("standard_approved_after_appeal", "standard_decided").alias(
                "standard_approved_after_appeal_pct"
            ),
            _pct("standard_extended_approved", "standard_decided").alias(
                "standard_approved_after_extension_pct"
            ),
            _pct("expedited_approved", "expedited_decided").alias("expedited_approved_pct"),
            _pct("expedited_denied", "expedited_decided").alias("expedited_denied_pct"),
            _pct("expedited_extended_approved", "expedited_decided").alias(
                "expedited_approved_after_extension_pct"
            ),
        )
    )
    if grouped.height == 0:
        return pl.DataFrame(schema={c: _metric_dtype(c) for c in METRIC_COLUMNS})
    return grouped.select(METRIC_COLUMNS).sort("contract", "line_of_business", "year")


def _metric_dtype(column: str) -> type[pl.DataType]:
    if column in ("contract", "line_of_business"):
        return pl.String
    if column == "year":
        return pl.Int32
    if column.endswith(("_pct", "_mean", "_median")):
        return pl.Float64
    return pl.Int64


# -- SLA figures of the dashboard


def _week(column: str, tz: str) -> pl.Expr:
    """The Monday of the (local) week of a timestamp."""
    local = pl.col(column).dt.convert_time_zone(tz).dt.date()
    return (local - pl.duration(days=local.dt.weekday() - 1)).alias("week")


def on_time() -> pl.Expr:
    """Decided by the due time in force (an extension taken in time moves it). A deemed approval is never on
    time: the law approved the request because nobody decided it."""
    return (pl.col("decided_at") <= pl.col("due_at")) & (pl.col("outcome") != "deemed_approved")


def weekly_timeliness(requests: pl.DataFrame, *, tz: str = "UTC") -> pl.DataFrame:
    """Per week of initial decision and urgency: decided, on time, late, the on-time share (percent) and the
    mean hours from receipt to decision. Every kind; withdrawn and open requests left out."""
    rows = requests.filter(
        pl.col("decided_at").is_not_null() & pl.col("outcome").is_in([*APPROVING, *DENYING])
    )
    return (
        rows.with_columns(_week("decided_at", tz), on_time().alias("on_time"), _hours().alias("hours"))
        .group_by("week", "urgency")
        .agg(
            pl.len().cast(pl.Int64).alias("decided"),
            pl.col("on_time").sum().cast(pl.Int64).alias("on_time"),
            pl.col("hours").mean().alias("hours_mean"),
        )
        .with_columns((pl.col("decided") - pl.col("on_time")).alias("late"))
        .with_columns(_pct("on_time", "decided").alias("on_time_pct"))
        .select("week", "urgency", "decided", "on_time", "late", "on_time_pct", "hours_mean")
        .sort("week", "urgency")
    )


def weekly_outcomes(requests: pl.DataFrame, *, tz: str = "UTC") -> pl.DataFrame:
    """Per week of initial decision and outcome (approved, modified, denied, deemed approved): how many."""
    rows = requests.filter(
        pl.col("decided_at").is_not_null() & pl.col("outcome").is_in([*APPROVING, *DENYING])
    )
    return (
        rows.with_columns(_week("decided_at", tz))
        .group_by("week", "outcome")
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .sort("week", "outcome")
    )


def weeks(first: dt.date, last: dt.date) -> list[dt.date]:
    """The Mondays of the weeks from the one holding `first` through the one holding `last`."""
    start = first - dt.timedelta(days=first.weekday())
    out = []
    while start <= last:
        out.append(start)
        start += dt.timedelta(days=7)
    return out
