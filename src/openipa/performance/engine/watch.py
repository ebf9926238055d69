"""The under-service watch (pure Polars, no Django): per practice and per PCP, how often their members are
referred and authorized, how often those requests are denied, and how often the members end up in the
emergency department or admitted, against the peers; flagged where a practice refers far less than its peers
while its members' outcomes are worse (docs/utilization.md, "Under-service watch").

- **Member-months**: a member counts in a month of the period for a practice (or PCP) when eligible and on its
  panel on the same day, at least one day of the month (the membership report's definition).
- **Attribution**: a request or an outcome is the practice's (PCP's) whose panel the member was on, eligible,
  on the day it happened (the request's receipt, the visit's date); events of members on no panel that day
  count for nobody.
- **Rates** per 1,000 member-years: events / member-months x 12,000. Referrals are requests of kind
  ``referral``; authorization requests are every kind; the denial rate is initial denials over initial
  decisions, in percent.
- **Outcomes from claims**: an ED visit is a member's day with a claim line at place of service 23, a
  revenue code 0450-0459 or 0981, or an ED evaluation code 99281-99285; an inpatient admission is a member's
  first day of an institutional claim of bill type 11x, or an initial hospital care code 99221-99223 (an
  admitting physician's claim) where no facility claim starts that day. Voids and reversed claims are left out
  by the reader.
- **Risk adjustment**: when a risk score per member is given, a unit's rates are divided by its members'
  mean risk score (weighted by member-months) before being compared; without scores the rates are raw.
- **Peers**: the median over the units (practices, or PCPs) with at least `min_member_months`.
- **Flags**, for units with at least `min_member_months`: *under-referring with worse outcomes* when the
  referral rate is below `referral_ratio` x the peer median while the ED or admission rate is above
  `outcome_ratio` x the peer median or above `outcome_ratio` x its own rate of the previous period (unknown
  when no claim line at all falls in the previous period: no claims history); *high
  denials* when the denial rate is above `denial_ratio` x the peer median. A ratio to a peer median of 0 is
  never a reason (nothing to compare with).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

ELIGIBILITY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member": pl.Int64, "start": pl.Date, "end": pl.Date,  # end null: open-ended
}  # fmt: skip
ASSIGNMENT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member": pl.Int64, "practice": pl.Int64, "pcp": pl.Int64, "start": pl.Date, "end": pl.Date,
}  # fmt: skip
REQUEST_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member": pl.Int64, "on": pl.Date, "kind": pl.String,
    "outcome": pl.String,  # the initial decision: approved | modified | denied | deemed_approved | withdrawn | ""
}  # fmt: skip
CLAIM_LINE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member": pl.Int64, "on": pl.Date, "claim_kind": pl.String, "place_of_service": pl.String,
    "type_of_bill": pl.String, "revenue_code": pl.String, "code": pl.String,
}  # fmt: skip
RISK_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {"member": pl.Int64, "risk": pl.Float64}

ED_PLACE = "23"
ED_REVENUE_PREFIX, ED_REVENUE_OTHER = "045", "0981"
ED_CODES = ("99281", "99282", "99283", "99284", "99285")
INPATIENT_BILL = "11"  # the type of bill's facility and classification: hospital inpatient
ADMIT_CODES = ("99221", "99222", "99223")
DECIDED = ("approved", "modified", "denied", "deemed_approved")
FAR = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class Thresholds:
    referral_ratio: float
    outcome_ratio: float
    denial_ratio: float
    min_member_months: int


@dataclass(frozen=True)
class Period:
    first: dt.date  # a first day of a month
    last: dt.date  # a last day of a month

    def previous(self) -> Period:
        """The period of the same number of months just before this one."""
        months = (self.last.year * 12 + self.last.month) - (self.first.year * 12 + self.first.month) + 1
        index = self.first.year * 12 + self.first.month - 1 - months
        first = dt.date(index // 12, index % 12 + 1, 1)
        return Period(first, self.first - dt.timedelta(days=1))


RATES = ("referral_rate", "request_rate", "ed_rate", "admit_rate")


def panels(eligibility: pl.DataFrame, assignments: pl.DataFrame) -> pl.DataFrame:
    """Days a member was eligible and on a PCP's panel at a practice: the overlap of each eligibility span with
    each assignment of the member (member, practice, pcp, start, end; end never null)."""
    return (
        eligibility.with_columns(pl.col("end").fill_null(FAR))
        .join(assignments.with_columns(pl.col("end").fill_null(FAR)), on="member", suffix="_pcp")
        .select(
            "member", "practice", "pcp",
            pl.max_horizontal("start", "start_pcp").alias("start"),
            pl.min_horizontal("end", "end_pcp").alias("end"),
        )
        .filter(pl.col("start") <= pl.col("end"))
    )  # fmt: skip


def _month_index(column: str) -> pl.Expr:
    return pl.col(column).dt.year().cast(pl.Int64) * 12 + pl.col(column).dt.month().cast(pl.Int64) - 1


def member_months(panel: pl.DataFrame, period: Period, unit: str) -> pl.DataFrame:
    """Member-months of `period` per `unit` (practice or pcp): distinct (member, month) with a panel day."""
    return (
        member_months_by_member(panel, period, unit)
        .group_by(unit)
        .agg(pl.col("mm").sum().cast(pl.Int64).alias("member_months"))
    )


def _attributed(events: pl.DataFrame, panel: pl.DataFrame, period: Period, unit: str) -> pl.DataFrame:
    """Events of `period` joined to the unit whose panel the member was on that day (once per unit)."""
    within = events.filter(pl.col("on").is_between(period.first, period.last))
    return (
        within.with_row_index("event")
        .join(panel, on="member")
        .filter(pl.col("on").is_between(pl.col("start"), pl.col("end")))
        .unique(["event", unit])
    )


def outcome_events(lines: pl.DataFrame) -> pl.DataFrame:
    """ED visits and inpatient admissions from claim lines: (member, on, outcome ed|admission), one per member,
    day and outcome."""
    ed = lines.filter(
        (pl.col("place_of_service") == ED_PLACE)
        | pl.col("revenue_code").str.starts_with(ED_REVENUE_PREFIX)
        | (pl.col("revenue_code") == ED_REVENUE_OTHER)
        | pl.col("code").is_in(list(ED_CODES))
    ).select("member", "on", pl.lit("ed").alias("outcome"))
    facility = lines.filter(
        (pl.col("claim_kind") == "institutional") & (pl.col("type_of_bill").str.slice(1, 2) == INPATIENT_BILL)
    ).select("member", "on")
    physician = lines.filter(pl.col("code").is_in(list(ADMIT_CODES))).select("member", "on")
    admissions = pl.concat([facility, physician.join(facility, on=["member", "on"], how="anti")]).select(
        "member", "on", pl.lit("admission").alias("outcome")
    )
    return pl.concat([ed, admissions]).unique().sort("member", "on", "outcome")


def _rates(panel: pl.DataFrame, requests: pl.DataFrame, outcomes: pl.DataFrame, period: Period, unit: str,
           risk: pl.DataFrame | None) -> pl.DataFrame:  # fmt: skip
    months = member_months(panel, period, unit)
    req = (
        _attributed(requests, panel, period, unit)
        .group_by(unit)
        .agg(
            (pl.col("kind") == "referral").sum().cast(pl.Int64).alias("referrals"),
            pl.len().cast(pl.Int64).alias("requests"),
            pl.col("outcome").is_in(list(DECIDED)).sum().cast(pl.Int64).alias("decided"),
            (pl.col("outcome") == "denied").sum().cast(pl.Int64).alias("denied"),
        )
    )
    out = (
        _attributed(outcomes, panel, period, unit)
        .group_by(unit)
        .agg(
            (pl.col("outcome") == "ed").sum().cast(pl.Int64).alias("ed_visits"),
            (pl.col("outcome") == "admission").sum().cast(pl.Int64).alias("admissions"),
        )
    )
    counts = ("referrals", "requests", "decided", "denied", "ed_visits", "admissions")
    frame = (
        months.join(req, on=unit, how="left")
        .join(out, on=unit, how="left")
        .with_columns(pl.col(c).fill_null(0) for c in counts)
    )
    if risk is not None:
        weights = _risk_by_unit(panel, risk, period, unit)
        frame = frame.join(weights, on=unit, how="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("risk"))
    per_thousand = 12_000.0 / pl.col("member_months").cast(pl.Float64)
    divisor = pl.col("risk").fill_null(1.0)
    divisor = pl.when(divisor > 0).then(divisor).otherwise(1.0)
    return frame.with_columns(
        (pl.col("referrals") * per_thousand / divisor).alias("referral_rate"),
        (pl.col("requests") * per_thousand / divisor).alias("request_rate"),
        (pl.col("ed_visits") * per_thousand / divisor).alias("ed_rate"),
        (pl.col("admissions") * per_thousand / divisor).alias("admit_rate"),
        pl.when(pl.col("decided") > 0)
        .then(pl.col("denied").cast(pl.Float64) * 100.0 / pl.col("decided").cast(pl.Float64))
        .otherwise(None)
        .alias("denial_rate"),
    )


def _risk_by_unit(panel: pl.DataFrame, risk: pl.DataFrame, period: Period, unit: str) -> pl.DataFrame:
    """The unit's members' mean risk score, each member weighted by their member-months in the unit."""
    per_member = member_months_by_member(panel, period, unit)
    return (
        per_member.join(risk, on="member", how="inner")
        .group_by(unit)
        .agg(((pl.col("risk") * pl.col("mm")).sum() / pl.col("mm").sum()).alias("risk"))
    )


def member_months_by_member(panel: pl.DataFrame, period: Period, unit: str) -> pl.DataFrame:
    """Per member and unit: the months of `period` with at least one panel day (`mm`)."""
    low = period.first.year * 12 + period.first.month - 1
    high = period.last.year * 12 + period.last.month - 1
    return (
        panel.filter((pl.col("start") <= period.last) & (pl.col("end") >= period.first))
        .select(
            "member",
            unit,
            pl.int_ranges(
                _month_index("start").clip(low, high), _month_index("end").clip(low, high) + 1
            ).alias("month"),
        )
        .explode("month")
        .unique(["member", unit, "month"])
        .group_by("member", unit)
        .agg(pl.len().cast(pl.Float64).alias("mm"))
    )


def watch(
    *,
    eligibility: pl.DataFrame,
    assignments: pl.DataFrame,
    requests: pl.DataFrame,
    claim_lines: pl.DataFrame,
    period: Period,
    thresholds: Thresholds,
    unit: str = "practice",
    risk: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The watch per `unit` ("practice" or "pcp") over `period`, one row per unit with member-months in it:
    counts, rates (risk-adjusted when `risk` is given), the previous period's outcome rates, the peer medians,
    `flagged` and `reasons` (a list of sentences). Sorted flagged first, then by referral rate."""
    if unit not in ("practice", "pcp"):
        raise ValueError(f"unit is practice or pcp, not {unit!r}")
    panel = panels(eligibility, assignments)
    outcomes = outcome_events(claim_lines)
    current = _rates(panel, requests, outcomes, period, unit, risk)
    before = period.previous()
    previous = _rates(panel, requests, outcomes, before, unit, risk).select(
        unit,
        pl.col("member_months").alias("prev_member_months"),
        pl.col("ed_rate").alias("prev_ed_rate"),
        pl.col("admit_rate").alias("prev_admit_rate"),
    )
    if not claim_lines["on"].is_between(before.first, before.last).any():
        # no claim on file for the previous period (members enrolled before the IPA's claims history starts):
        # its outcome rates are unknown, not zero
        previous = previous.with_columns(pl.lit(None, dtype=pl.Float64).alias(c)
                                         for c in ("prev_ed_rate", "prev_admit_rate"))  # fmt: skip
    frame = current.join(previous, on=unit, how="left")
    qualifies = pl.col("member_months") >= thresholds.min_member_months
    peers = frame.filter(qualifies)
    medians = {
        f"peer_{name}": (None if peers.height == 0 else peers[name].median())
        for name in (*RATES, "denial_rate")
    }
    frame = frame.with_columns(
        qualifies.alias("qualifies"),
        *(pl.lit(value, dtype=pl.Float64).alias(name) for name, value in medians.items()),
    )
    reasons = _reasons(frame.to_dicts(), thresholds)
    return (
        frame.with_columns(
            pl.Series("reasons", reasons, dtype=pl.List(pl.String)),
        )
        .with_columns((pl.col("reasons").list.len() > 0).alias("flagged"))
        .sort(["flagged", "referral_rate", unit], descending=[True, False, False])
    )


def _above(value: float | None, ratio: float, base: float | None) -> bool:
    return value is not None and base is not None and base > 0 and value > ratio * base


def _reasons(rows: list[dict[str, object]], t: Thresholds) -> list[list[str]]:
    out: list[list[str]] = []
    for r in rows:
        reasons: list[str] = []
        if r["qualifies"]:
            referral = _f(r["referral_rate"])
            peer_referral = _f(r["peer_referral_rate"])
            low_referral = (peer_referral is not None and peer_referral > 0 and referral is not None
                            and referral < t.referral_ratio * peer_referral)  # fmt: skip
            worse: list[str] = []
            for rate, label in (("ed", "ED visits"), ("admit", "inpatient admissions")):
                value = _f(r[f"{rate}_rate"])
                if _above(value, t.outcome_ratio, _f(r[f"peer_{rate}_rate"])):
                    worse.append(f"{label} {value:.1f} per 1,000 over {t.outcome_ratio:g} x the peer median "
                                 f"{_f(r[f'peer_{rate}_rate']):.1f}")  # fmt: skip
                elif _above(value, t.outcome_ratio, _f(r[f"prev_{rate}_rate"])):
                    worse.append(f"{label} {value:.1f} per 1,000 over {t.outcome_ratio:g} x its previous "
                                 f"period's {_f(r[f'prev_{rate}_rate']):.1f}")  # fmt: skip
            if low_referral and worse:
                reasons.append(f"referrals {referral:.1f} per 1,000 under {t.referral_ratio:g} x the peer median "
                               f"{peer_referral:.1f}, while " + "; ".join(worse))  # fmt: skip
            denial, peer_denial = _f(r["denial_rate"]), _f(r["peer_denial_rate"])
            if _above(denial, t.denial_ratio, peer_denial):
                reasons.append(
                    f"denials {denial:.1f}% over {t.denial_ratio:g} x the peer median {peer_denial:.1f}%"
                )
        out.append(reasons)
    return out


def _f(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
