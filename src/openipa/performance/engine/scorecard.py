"""Practice and PCP scorecards (pure Polars and Decimal, no Django): per unit (practice or PCP) and period, the
metrics below, the peers' aggregates and the IPA's targets (docs/scorecards.md, ADR 0019).

- **Member-months and attribution** are the under-service watch's (:mod:`openipa.performance.engine.watch`): a
  member counts in a month for a unit when eligible and on its panel on the same day, at least one day of the
  month; an event (a claim payment, a visit, a request) is the unit's whose panel the member was on, eligible,
  on the day it happened. Capitation is the unit's that the distribution line paid (its practice, its PCP).
- **Cost PMPM** = (claims paid + capitation) / member-months, in cents, rounded half-even to the cent once at
  the end. Claims paid: payments of the claim lines whose date of service is in the month, less their
  reversals. **Risk-adjusted cost PMPM** = cost PMPM / the unit's mean payment RAF (each scored member weighted
  by member-months; 1.000 when no member of the unit has a score), computed exactly and rounded once.
- **Utilization per 1,000 member-years** = count x 12,000 / member-months, rounded half-even to 0.01:
  admissions and ED visits (the watch's :func:`~openipa.performance.engine.watch.outcome_events`), referrals
  (UM requests of kind ``referral``) and imaging studies (a member's day and CPT code in the imaging ranges,
  counted once however many lines bill it).
- **Denial rate** = initial denials / initial decisions (approved, modified, denied, deemed approved).
- **RAF** = the mean payment RAF above (3 decimals). **Recapture rate** = (prior-year HCCs - those still open
  as recapture gaps) / prior-year HCCs, of the members the unit had at the end of the period.
- **Quality**: numerator / denominator per measure and rate of the latest quality run (the run's own
  attribution). **Gaps closed** = results that were a gap in the baseline run and are in the measure and no
  longer a gap in the latest run; the **gap closure rate** divides them by the baseline's gaps that are still
  in the measure.
- **Peers**: per metric, the mean (of the units' values), 25th percentile, median and 75th percentile (linear
  interpolation) over the units with at least the minimum member-months, leaving out the group asked for
  (a practice user's own practice), and only when they come from at least the minimum number of groups
  (other practices); otherwise ``None``: "not enough peers".
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl

from openipa.performance.engine import watch

DATA_PATH = Path(__file__).resolve().parent.parent / "data" / "scorecard.json"

PAID_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member": pl.Int64,
    "on": pl.Date,
    "cents": pl.Int64,
}
CAPITATION_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member": pl.Int64, "month": pl.Date, "practice": pl.Int64, "pcp": pl.Int64, "cents": pl.Int64,
}  # fmt: skip
RISK_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member": pl.Int64, "year": pl.Int64, "raf_milli": pl.Int64,  # the payment RAF of the payment year
}  # fmt: skip
QUALITY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "measure": pl.String, "rate": pl.String, "member": pl.Int64, "episode": pl.String, "practice": pl.Int64,
    "pcp": pl.Int64, "denominator": pl.Boolean, "numerator": pl.Boolean, "gap": pl.Boolean,
}  # fmt: skip
HCC_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {"member": pl.Int64, "hcc": pl.String}

UNITS = ("practice", "pcp")
PER_1000 = Decimal("0.01")
RATIO = Decimal("0.0001")
RAF = Decimal("0.001")
MONEY = Decimal("0.01")


class ScorecardDataError(ValueError):
    """The scorecard data file is malformed: the message names the file and the place."""


# -- the metrics -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricSpec:
    key: str
    label: str
    kind: str  # money (dollars) | per_1000 | ratio | raf | count
    better: str  # lower | higher | none
    group: str  # cost | utilization | risk | um | quality


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("risk_adjusted_cost_pmpm", "Risk-adjusted cost PMPM", "money", "lower", "cost"),
    MetricSpec("cost_pmpm", "Cost PMPM (not risk-adjusted)", "money", "lower", "cost"),
    MetricSpec("admissions_per_1000", "Admissions per 1,000", "per_1000", "lower", "utilization"),
    MetricSpec("ed_per_1000", "ED visits per 1,000", "per_1000", "lower", "utilization"),
    MetricSpec("imaging_per_1000", "Imaging studies per 1,000", "per_1000", "lower", "utilization"),
    MetricSpec("referrals_per_1000", "Referrals per 1,000 (UM referral rate)", "per_1000", "lower", "um"),
    MetricSpec("denial_rate", "UM denial rate", "ratio", "lower", "um"),
    MetricSpec("raf", "Mean payment RAF", "raf", "none", "risk"),
    MetricSpec("recapture_rate", "HCC recapture rate", "ratio", "higher", "risk"),
    MetricSpec("gap_closure_rate", "Care gap closure rate", "ratio", "higher", "quality"),
)
SPECS: dict[str, MetricSpec] = {m.key: m for m in METRICS}


def quality_key(measure: str, rate: str) -> str:
    return f"quality:{measure}:{rate}"


@dataclass(frozen=True)
class QualityRate:
    measure: str
    rate: str
    numerator: int
    denominator: int

    @property
    def key(self) -> str:
        return quality_key(self.measure, self.rate)

    @property
    def value(self) -> Decimal | None:
        return ratio(self.numerator, self.denominator)


@dataclass(frozen=True)
class UnitMetrics:
    """One unit's counts and metrics over a period. ``values`` maps a metric key (METRICS, and
    ``quality:<measure>:<rate>``) to its value, None where it has no denominator."""

    unit: int
    member_months: int
    claims_cents: int
    capitation_cents: int
    scored_member_months: int
    raf_milli_months: int  # sum of payment RAF (thousandths) x member-months over scored member-months
    admissions: int
    ed_visits: int
    imaging: int
    referrals: int
    decided: int
    denied: int
    prior_hccs: int
    open_recaptures: int
    baseline_gaps: int | None  # None: no baseline quality run
    gaps_closed: int | None
    quality: tuple[QualityRate, ...]
    values: dict[str, Decimal | None] = field(default_factory=dict)

    @property
    def cost_cents(self) -> int:
        return self.claims_cents + self.capitation_cents


# -- exact arithmetic --------------------------------------------------------------------------------------------


def _exact(value: Fraction, places: Decimal) -> Decimal:
    """A fraction rounded half-even to `places`, without an intermediate inexact division."""
    scale = Fraction(1) / Fraction(places)
    scaled = value * scale
    floor = scaled.numerator // scaled.denominator
    rest = scaled - floor
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1):
        floor += 1
    return (Decimal(floor) * places).quantize(places)


def per_1000(count: int, member_months: int) -> Decimal | None:
    """Events per 1,000 member-years: count x 12,000 / member-months, half-even to 0.01 (None without
    member-months)."""
    if member_months <= 0:
        return None
    return _exact(Fraction(count * 12_000, member_months), PER_1000)


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator, half-even to 0.0001 (None without a denominator)."""
    if denominator <= 0:
        return None
    return _exact(Fraction(numerator, denominator), RATIO)


def mean_raf(raf_milli_months: int, scored_member_months: int) -> Fraction:
    """The member-month weighted mean payment RAF, exact; 1 when no member-month is scored."""
    if scored_member_months <= 0:
        return Fraction(1)
    return Fraction(raf_milli_months, scored_member_months * 1000)


def adjusting_raf(raf_milli_months: int, scored_member_months: int, member_months: int) -> Fraction:
    """The divisor of the risk-adjusted cost, exact: the member-month weighted mean payment RAF over ALL the
    unit's member-months, an unscored member-month counting 1.000 (not risk-adjusted), as the cost it divides
    is every member's. (Dividing every member's cost by the scored members' mean RAF alone would scale a
    panel's commercial and Medi-Cal cost by its Medicare members' RAF.) 1 without member-months."""
    if member_months <= 0:
        return Fraction(1)
    unscored = max(member_months - scored_member_months, 0)
    return Fraction(raf_milli_months + 1000 * unscored, member_months * 1000)


def cost_pmpm(cost_cents: int, member_months: int, raf: Fraction = Fraction(1)) -> Decimal | None:
    """(cost / member-months) / raf in dollars, half-even to the cent, from exact cents (None without
    member-months or with a RAF of zero)."""
    if member_months <= 0 or raf <= 0:
        return None
    return _exact(Fraction(cost_cents, member_months) / raf / 100, MONEY)


# -- periods -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePeriod:
    """A month, a quarter, a year to date or a year: its label as written (2026-07, 2026-Q3, 2026-YTD, 2026)."""

    label: str
    first: dt.date
    last: dt.date

    @property
    def months(self) -> list[dt.date]:
        return month_starts(self.first, self.last)


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    out: list[dt.date] = []
    index = first.year * 12 + first.month - 1
    while True:
        day = dt.date(index // 12, index % 12 + 1, 1)
        if day > last:
            return out
        out.append(day)
        index += 1


def parse_period(text: str, today: dt.date) -> ScorePeriod:
    """``YYYY-MM`` (a month), ``YYYY-Qn`` (a quarter), ``YYYY-YTD`` (January through the last complete month
    before `today`'s in `today`'s year; the whole year for an earlier year) or ``YYYY`` (a calendar year).
    ValueError names what is wrong."""
    value = (text or "").strip().upper()
    if m := re.fullmatch(r"(\d{4})-(\d{2})", value):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r}: month {month} is not 01-12")
        return ScorePeriod(value, dt.date(year, month, 1), _month_end(year, month))
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", value):
        year, quarter = int(m[1]), int(m[2])
        return ScorePeriod(value, dt.date(year, quarter * 3 - 2, 1), _month_end(year, quarter * 3))
    if m := re.fullmatch(r"(\d{4})-YTD", value):
        year = int(m[1])
        if year > today.year or (year == today.year and today.month == 1):
            raise ValueError(f"{text!r}: no complete month of {year} yet")
        last_month = 12 if year < today.year else today.month - 1
        return ScorePeriod(value, dt.date(year, 1, 1), _month_end(year, last_month))
    if m := re.fullmatch(r"(\d{4})", value):
        year = int(m[1])
        return ScorePeriod(value, dt.date(year, 1, 1), dt.date(year, 12, 31))
    raise ValueError(f"{text!r}: a period is YYYY-MM, YYYY-Qn, YYYY-YTD or YYYY")


def default_period(today: dt.date) -> ScorePeriod:
    """The last complete quarter before `today`."""
    quarter = (today.month - 1) // 3  # 0..3: complete quarters this year
    if quarter == 0:
        return parse_period(f"{today.year - 1}-Q4", today)
    return parse_period(f"{today.year}-Q{quarter}", today)


def trend_months(period: ScorePeriod) -> list[dt.date]:
    """The 12 months ending with the period's last month."""
    index = period.last.year * 12 + period.last.month - 1 - 11
    return month_starts(dt.date(index // 12, index % 12 + 1, 1), period.last)


# -- the data file ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    valid_from: dt.date
    valid_to: dt.date | None
    min_member_months: int
    min_peer_practices: int


@dataclass(frozen=True)
class ImagingRanges:
    valid_from: dt.date
    valid_to: dt.date | None
    label: str
    ranges: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Target:
    valid_from: dt.date
    valid_to: dt.date | None
    value: Decimal
    better: str

    def met(self, value: Decimal | None) -> bool | None:
        if value is None:
            return None
        return value <= self.value if self.better == "lower" else value >= self.value


@dataclass(frozen=True)
class ScorecardData:
    settings: tuple[Settings, ...]
    imaging: tuple[ImagingRanges, ...]
    targets: dict[str, tuple[Target, ...]]
    illustrative: bool

    def settings_on(self, on: dt.date) -> Settings:
        found: Settings = _one_in_force(self.settings, on, "settings")
        return found

    def imaging_on(self, on: dt.date) -> ImagingRanges:
        found: ImagingRanges = _one_in_force(self.imaging, on, "imaging")
        return found

    def targets_on(self, on: dt.date) -> dict[str, Target]:
        found = {}
        for key, versions in self.targets.items():
            live = [v for v in versions if _in_force(v.valid_from, v.valid_to, on)]
            if len(live) > 1:
                raise ScorecardDataError(f"two targets of {key} are in force on {on}")
            if live:
                found[key] = live[0]
        return found


def _in_force(first: dt.date, last: dt.date | None, on: dt.date) -> bool:
    return first <= on and (last is None or on <= last)


def _one_in_force(versions: Sequence[Any], on: dt.date, what: str) -> Any:
    live = [v for v in versions if _in_force(v.valid_from, v.valid_to, on)]
    if len(live) != 1:
        raise ScorecardDataError(
            f"{len(live)} versions of the scorecard {what} are in force on {on}: need one"
        )
    return live[0]


def _date(raw: Any, where: str, *, optional: bool = False) -> dt.date | None:
    if raw is None and optional:
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise ScorecardDataError(f"{where}: expected a date YYYY-MM-DD, not {raw!r}") from None


def _dates(raw: Mapping[str, Any], where: str) -> tuple[dt.date, dt.date | None]:
    first = _date(raw.get("valid_from"), f"{where}.valid_from")
    last = _date(raw.get("valid_to"), f"{where}.valid_to", optional=True)
    assert first is not None
    if last is not None and last < first:
        raise ScorecardDataError(f"{where}: valid_to is before valid_from")
    return first, last


def _int(raw: Any, where: str, minimum: int) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < minimum:
        raise ScorecardDataError(f"{where}: expected a whole number >= {minimum}, not {raw!r}")
    return raw


def parse_data(doc: Any, source: str = "scorecard data") -> ScorecardData:
    """The scorecard data document (``data/scorecard.json``'s shape), checked: ScorecardDataError names the
    place of the first fault."""
    if not isinstance(doc, dict):
        raise ScorecardDataError(f"{source}: $: expected an object")
    settings, imaging, targets = [], [], {}
    for i, raw in enumerate(doc.get("settings") or []):
        where = f"{source}: $.settings[{i}]"
        first, last = _dates(raw, where)
        settings.append(Settings(first, last, _int(raw.get("min_member_months"), f"{where}.min_member_months", 1),
                                 _int(raw.get("min_peer_practices"), f"{where}.min_peer_practices", 2)))  # fmt: skip
    for i, raw in enumerate(doc.get("imaging") or []):
        where = f"{source}: $.imaging[{i}]"
        first, last = _dates(raw, where)
        ranges = []
        for j, pair in enumerate(raw.get("ranges") or []):
            ok = (
                isinstance(pair, list)
                and len(pair) == 2
                and all(re.fullmatch(r"\d{5}", str(c)) for c in pair)
            )
            if not ok or pair[0] > pair[1]:
                raise ScorecardDataError(f"{where}.ranges[{j}]: expected [low, high] five-digit CPT codes")
            ranges.append((str(pair[0]), str(pair[1])))
        if not ranges:
            raise ScorecardDataError(f"{where}.ranges: at least one range")
        imaging.append(ImagingRanges(first, last, str(raw.get("label", "")), tuple(ranges)))
    for key, versions in (doc.get("targets") or {}).items():
        if key not in SPECS and not key.startswith("quality:"):
            raise ScorecardDataError(f"{source}: $.targets.{key}: not a scorecard metric")
        parsed = []
        for i, raw in enumerate(versions):
            where = f"{source}: $.targets.{key}[{i}]"
            first, last = _dates(raw, where)
            try:
                value = Decimal(str(raw.get("value")))
            except ArithmeticError:
                raise ScorecardDataError(f"{where}.value: expected a number") from None
            if not value.is_finite() or value < 0:
                raise ScorecardDataError(f"{where}.value: expected a number >= 0")
            if raw.get("better") not in ("lower", "higher"):
                raise ScorecardDataError(f"{where}.better: lower or higher")
            parsed.append(Target(first, last, value, raw["better"]))
        targets[key] = tuple(parsed)
    if not settings or not imaging:
        raise ScorecardDataError(f"{source}: settings and imaging each need at least one version")
    return ScorecardData(tuple(settings), tuple(imaging), targets, bool(doc.get("illustrative")))


def load_data(path: Path = DATA_PATH) -> ScorecardData:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ScorecardDataError(f"{path}: {exc}") from None
    return parse_data(doc, str(path))


# -- counts per unit and month -----------------------------------------------------------------------------------


def _month_index(column: str) -> pl.Expr:
    return pl.col(column).dt.year().cast(pl.Int64) * 12 + pl.col(column).dt.month().cast(pl.Int64) - 1


def _month_of(index: pl.Expr) -> pl.Expr:
    return pl.date(index // 12, index % 12 + 1, 1)


def panel_months(panel: pl.DataFrame, first: dt.date, last: dt.date, unit: str) -> pl.DataFrame:
    """(member, unit, month): the months from `first` through `last` with at least one panel day, once each."""
    low = first.year * 12 + first.month - 1
    high = last.year * 12 + last.month - 1
    return (
        panel.filter((pl.col("start") <= last) & (pl.col("end") >= first))
        .select(
            "member",
            unit,
            pl.int_ranges(
                _month_index("start").clip(low, high), _month_index("end").clip(low, high) + 1
            ).alias("index"),
        )
        .explode("index")
        .unique(["member", unit, "index"])
        .select("member", unit, _month_of(pl.col("index")).alias("month"))
    )


def _attribute(events: pl.DataFrame, panel: pl.DataFrame, unit: str) -> pl.DataFrame:
    """Each event (a row with member and on) once per unit whose panel had the member that day, with its
    month."""
    return (
        events.with_row_index("event")
        .join(panel.select("member", unit, "start", "end"), on="member")
        .filter(pl.col("on").is_between(pl.col("start"), pl.col("end")))
        .unique(["event", unit])
        .with_columns(pl.col("on").dt.truncate("1mo").alias("month"))
    )


def imaging_studies(lines: pl.DataFrame, ranges: Iterable[tuple[str, str]]) -> pl.DataFrame:
    """(member, on): one per member, day and CPT code in one of the ranges (five-digit numeric codes only)."""
    code = pl.col("code")
    five = code.str.contains(r"^\d{5}$")
    inside = pl.lit(False)
    for low, high in ranges:
        inside = inside | ((code >= low) & (code <= high))
    return lines.filter(five & inside).select("member", "on", "code").unique()


COUNT_COLUMNS = ("claims_cents", "capitation_cents", "admissions", "ed_visits", "imaging", "referrals",
                 "decided", "denied")  # fmt: skip


def monthly_counts(
    *,
    eligibility: pl.DataFrame,
    assignments: pl.DataFrame,
    paid: pl.DataFrame,
    capitation: pl.DataFrame,
    claim_lines: pl.DataFrame,
    requests: pl.DataFrame,
    risk: pl.DataFrame,
    first: dt.date,
    last: dt.date,
    unit: str,
    imaging_ranges: Iterable[tuple[str, str]],
) -> pl.DataFrame:
    """Per unit and month from `first` through `last`: member_months, scored_member_months, raf_milli_months
    and COUNT_COLUMNS. Inputs outside the months are ignored."""
    if unit not in UNITS:
        raise ValueError(f"unit is practice or pcp, not {unit!r}")
    panel = watch.panels(eligibility, assignments)
    months = panel_months(panel, first, last, unit)
    risk_months = (
        months.with_columns(pl.col("month").dt.year().cast(pl.Int64).alias("year"))
        .join(risk.unique(["member", "year"], keep="last"), on=["member", "year"], how="inner")
        .group_by(unit, "month")
        .agg(
            pl.len().cast(pl.Int64).alias("scored_member_months"),
            pl.col("raf_milli").sum().cast(pl.Int64).alias("raf_milli_months"),
        )
    )
    base = months.group_by(unit, "month").agg(pl.len().cast(pl.Int64).alias("member_months"))

    def within(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("on").is_between(first, last))

    claims = (
        _attribute(within(paid), panel, unit)
        .group_by(unit, "month")
        .agg(pl.col("cents").sum().cast(pl.Int64).alias("claims_cents"))
    )
    cap = (
        capitation.filter(pl.col("month").is_between(first, last) & pl.col(unit).is_not_null())
        .with_columns(pl.col("month").dt.truncate("1mo"))
        .group_by(unit, "month")
        .agg(pl.col("cents").sum().cast(pl.Int64).alias("capitation_cents"))
    )
    outcomes = (
        _attribute(within(watch.outcome_events(claim_lines)), panel, unit)
        .group_by(unit, "month")
        .agg(
            (pl.col("outcome") == "admission").sum().cast(pl.Int64).alias("admissions"),
            (pl.col("outcome") == "ed").sum().cast(pl.Int64).alias("ed_visits"),
        )
    )
    studies = (
        _attribute(within(imaging_studies(claim_lines, imaging_ranges)), panel, unit)
        .group_by(unit, "month")
        .agg(pl.len().cast(pl.Int64).alias("imaging"))
    )
    um = (
        _attribute(within(requests), panel, unit)
        .group_by(unit, "month")
        .agg(
            (pl.col("kind") == "referral").sum().cast(pl.Int64).alias("referrals"),
            pl.col("outcome").is_in(list(watch.DECIDED)).sum().cast(pl.Int64).alias("decided"),
            (pl.col("outcome") == "denied").sum().cast(pl.Int64).alias("denied"),
        )
    )
    keys = pl.concat(
        [f.select(unit, "month") for f in (base, claims, cap, outcomes, studies, um)], how="vertical"
    ).unique()
    frame = keys
    for part in (base, risk_months, claims, cap, outcomes, studies, um):
        frame = frame.join(part, on=[unit, "month"], how="left")
    columns = ("member_months", "scored_member_months", "raf_milli_months", *COUNT_COLUMNS)
    return frame.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in columns).sort(unit, "month")


# -- period snapshots: quality and recapture -------------------------------------------------------------------


def quality_counts(latest: pl.DataFrame, unit: str) -> dict[int, tuple[QualityRate, ...]]:
    """Per unit: numerator / denominator per (measure, rate) of the latest run's results (the run's
    attribution; results without a unit count for nobody)."""
    rows = (
        latest.filter(pl.col(unit).is_not_null())
        .group_by(unit, "measure", "rate")
        .agg(
            (pl.col("numerator") & pl.col("denominator")).sum().cast(pl.Int64).alias("num"),
            pl.col("denominator").sum().cast(pl.Int64).alias("den"),
        )
        .sort(unit, "measure", "rate")
    )
    out: dict[int, list[QualityRate]] = {}
    for r in rows.iter_rows(named=True):
        out.setdefault(r[unit], []).append(QualityRate(r["measure"], r["rate"], r["num"], r["den"]))
    return {k: tuple(v) for k, v in out.items()}


def gaps_closed(latest: pl.DataFrame, baseline: pl.DataFrame, unit: str) -> dict[int, tuple[int, int]]:
    """Per unit (the latest run's attribution): (baseline gaps still in the measure, those closed). A result is
    (measure, rate, member, episode); it is closed when it was a gap in the baseline and is in the denominator
    and no gap in the latest run."""
    keys = ["measure", "rate", "member", "episode"]
    was_gap = baseline.filter(pl.col("gap")).select(keys).unique()
    still = (
        latest.filter(pl.col("denominator") & pl.col(unit).is_not_null())
        .unique(keys, keep="first")
        .join(was_gap, on=keys, how="inner")
    )
    rows = still.group_by(unit).agg(
        pl.len().cast(pl.Int64).alias("open"), (~pl.col("gap")).sum().cast(pl.Int64).alias("closed")
    )
    return {r[unit]: (r["open"], r["closed"]) for r in rows.iter_rows(named=True)}


def members_at_end(eligibility: pl.DataFrame, assignments: pl.DataFrame, first: dt.date, last: dt.date,
                   unit: str) -> pl.DataFrame:  # fmt: skip
    """(member, unit): the unit whose panel had the member last within the period (the latest panel day; on a
    tie, the latest start, then the lowest unit)."""
    panel = watch.panels(eligibility, assignments).filter(
        (pl.col("start") <= last) & (pl.col("end") >= first)
    )
    return (
        panel.with_columns(pl.min_horizontal("end", pl.lit(last)).alias("until"))
        .sort(["member", "until", "start", unit], descending=[False, True, True, False])
        .unique("member", keep="first")
        .select("member", unit)
    )


def recapture_counts(members: pl.DataFrame, prior: pl.DataFrame, open_gaps: pl.DataFrame,
                     unit: str) -> dict[int, tuple[int, int]]:  # fmt: skip
    """Per unit: (prior-year HCCs of its members, those still open as recapture gaps)."""
    prior = prior.unique()
    still_open = (
        open_gaps.unique()
        .join(prior, on=["member", "hcc"], how="inner")
        .with_columns(pl.lit(True).alias("open"))
    )
    rows = (
        prior.join(members, on="member", how="inner")
        .join(still_open, on=["member", "hcc"], how="left")
        .group_by(unit)
        .agg(pl.len().cast(pl.Int64).alias("prior"), pl.col("open").fill_null(False).sum().cast(pl.Int64))
    )
    return {r[unit]: (r["prior"], r["open"]) for r in rows.iter_rows(named=True)}


# -- metrics -----------------------------------------------------------------------------------------------------


def unit_metrics(
    monthly: pl.DataFrame,
    months: Sequence[dt.date],
    unit: str,
    *,
    quality: Mapping[int, tuple[QualityRate, ...]] | None = None,
    closures: Mapping[int, tuple[int, int]] | None = None,
    recapture: Mapping[int, tuple[int, int]] | None = None,
) -> list[UnitMetrics]:
    """The metrics of each unit over `months` (first days), from :func:`monthly_counts`' frame and the
    period's snapshots. `closures` None: no baseline quality run (gaps closed unknown). Units with any
    member-month, count, quality result or HCC appear; sorted by unit."""
    quality = quality or {}
    recapture = recapture or {}
    sums = (
        monthly.filter(pl.col("month").is_in(list(months)))
        .group_by(unit)
        .agg(pl.col(c).sum().cast(pl.Int64) for c in monthly.columns if c not in (unit, "month"))
    )
    rows = {r[unit]: r for r in sums.iter_rows(named=True)}
    zero = dict.fromkeys(("member_months", "scored_member_months", "raf_milli_months", *COUNT_COLUMNS), 0)
    units = sorted(set(rows) | set(quality) | set(recapture) | set(closures or {}))
    out = []
    for key in units:
        r = {**zero, **rows.get(key, {})}
        prior, still_open = recapture.get(key, (0, 0))
        base_gaps, closed = closures.get(key, (0, 0)) if closures is not None else (None, None)
        m = UnitMetrics(
            unit=key, member_months=r["member_months"], claims_cents=r["claims_cents"],
            capitation_cents=r["capitation_cents"], scored_member_months=r["scored_member_months"],
            raf_milli_months=r["raf_milli_months"], admissions=r["admissions"], ed_visits=r["ed_visits"],
            imaging=r["imaging"], referrals=r["referrals"], decided=r["decided"], denied=r["denied"],
            prior_hccs=prior, open_recaptures=still_open, baseline_gaps=base_gaps, gaps_closed=closed,
            quality=quality.get(key, ()),
        )  # fmt: skip
        out.append(_with_values(m))
    return out


def _with_values(m: UnitMetrics) -> UnitMetrics:
    raf = mean_raf(m.raf_milli_months, m.scored_member_months)
    divisor = adjusting_raf(m.raf_milli_months, m.scored_member_months, m.member_months)
    values: dict[str, Decimal | None] = {
        "risk_adjusted_cost_pmpm": cost_pmpm(m.cost_cents, m.member_months, divisor),
        "cost_pmpm": cost_pmpm(m.cost_cents, m.member_months),
        "admissions_per_1000": per_1000(m.admissions, m.member_months),
        "ed_per_1000": per_1000(m.ed_visits, m.member_months),
        "imaging_per_1000": per_1000(m.imaging, m.member_months),
        "referrals_per_1000": per_1000(m.referrals, m.member_months),
        "denial_rate": ratio(m.denied, m.decided),
        "raf": _exact(raf, RAF) if m.member_months else None,
        "recapture_rate": ratio(m.prior_hccs - m.open_recaptures, m.prior_hccs),
        "gap_closure_rate": ratio(m.gaps_closed or 0, m.baseline_gaps or 0),
    }
    for q in m.quality:
        values[q.key] = q.value
    return UnitMetrics(**{**m.__dict__, "values": values})


def values_by_month(monthly: pl.DataFrame, unit: str) -> dict[tuple[int, dt.date], dict[str, Decimal | None]]:
    """Each (unit, month)'s values of the monthly metrics (cost, utilization, denial, RAF) from
    :func:`monthly_counts`' frame."""
    out = {}
    for r in monthly.iter_rows(named=True):
        m = _with_values(UnitMetrics(
            unit=r[unit], member_months=r["member_months"], claims_cents=r["claims_cents"],
            capitation_cents=r["capitation_cents"], scored_member_months=r["scored_member_months"],
            raf_milli_months=r["raf_milli_months"], admissions=r["admissions"], ed_visits=r["ed_visits"],
            imaging=r["imaging"], referrals=r["referrals"], decided=r["decided"], denied=r["denied"],
            prior_hccs=0, open_recaptures=0, baseline_gaps=None, gaps_closed=None, quality=(),
        ))  # fmt: skip
        out[(r[unit], r["month"])] = m.values
    return out


def monthly_values(monthly: pl.DataFrame, unit: str, key: int, months: Sequence[dt.date],
                   metric: str) -> list[Decimal | None]:  # fmt: skip
    """One unit's value of a monthly metric in each month (None in a month it has no row)."""
    found = values_by_month(monthly.filter(pl.col(unit) == key), unit)
    return [found[(key, month)][metric] if (key, month) in found else None for month in months]


# -- peers -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerStats:
    """Aggregates of at least the minimum number of groups' units: never a list, a rank, a minimum or a
    maximum."""

    units: int
    groups: int
    mean: Decimal
    p25: Decimal
    median: Decimal
    p75: Decimal


def quantile(sorted_values: Sequence[Decimal], q: Fraction) -> Decimal:
    """Linear interpolation between the closest ranks (the 'type 7' quantile), exact in Decimal."""
    if not sorted_values:
        raise ValueError("no values")
    position = q * (len(sorted_values) - 1)
    low = position.numerator // position.denominator
    frac = position - low
    if frac == 0:
        return sorted_values[low]
    lo, hi = sorted_values[low], sorted_values[low + 1]
    return lo + (hi - lo) * Decimal(frac.numerator) / Decimal(frac.denominator)


def peer_stats(
    values: Mapping[int, Decimal | None],
    groups: Mapping[int, int],
    *,
    eligible: Iterable[int],
    exclude_group: int | None,
    min_groups: int,
    places: Decimal,
) -> PeerStats | None:
    """The peers of a metric: the eligible units with a value, less those of `exclude_group`; None unless they
    come from at least `min_groups` distinct groups (a unit's group: its practice)."""
    picked = [
        (u, v)
        for u in eligible
        if (v := values.get(u)) is not None and groups.get(u) is not None and groups[u] != exclude_group
    ]
    distinct = {groups[u] for u, _v in picked}
    if not picked or len(distinct) < min_groups:
        return None
    ordered = sorted(v for _u, v in picked)
    mean = sum(ordered, Decimal(0)) / len(ordered)

    def q(x: Decimal) -> Decimal:
        return x.quantize(places, rounding=ROUND_HALF_EVEN)

    return PeerStats(
        units=len(ordered),
        groups=len(distinct),
        mean=q(mean),
        p25=q(quantile(ordered, Fraction(1, 4))),
        median=q(quantile(ordered, Fraction(1, 2))),
        p75=q(quantile(ordered, Fraction(3, 4))),
    )


def places_of(key: str) -> Decimal:
    spec = SPECS.get(key)
    if spec is None:  # quality rates
        return RATIO
    return {"money": MONEY, "per_1000": PER_1000, "ratio": RATIO, "raf": RAF}.get(spec.kind, Decimal(1))


def all_keys(metrics: Iterable[UnitMetrics]) -> list[str]:
    """The metric keys (METRICS first, then the quality rates in order) any of the units has."""
    quality = sorted({q.key for m in metrics for q in m.quality})
    return [m.key for m in METRICS] + quality


def quality_met_share(counts: pl.DataFrame, unit: str) -> dict[tuple[int, int], Decimal | None]:
    """Per (run, unit): the share of the unit's results in a measure's denominator that are not an open care
    gap (whatever the measure: for an inverse measure the gap is the bad outcome), from a frame of (run, unit,
    denominator, met) counts."""
    return {(r["run"], r[unit]): ratio(r["met"], r["denominator"]) for r in counts.iter_rows(named=True)}
