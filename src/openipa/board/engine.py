"""The board dashboard's arithmetic: pure functions, no Django. Frames and numbers in, figures out.

- **Periods**: a month (``2026-09``), a quarter (``2026-Q3``) or a year to date (``2026-09-YTD``: January
  through September; ``2026-YTD``: January through the last month closed by the day asked, December for a
  past year).
- **PMPM** is cents per member-month rounded half away from zero to the cent; **MLR** is medical cost over
  revenue, a ratio to four places (half up); both are None when there is nothing to divide by.
- **Revenue by line of business**: member lines carry the line of business of the member's product; a payer's
  lines without a member (adjustments, interest) go to the payer's one line of business, or, for a payer with
  several, are split with ``core.money.allocate`` in proportion to that payer's member revenue of the month per
  line of business (``unassigned`` when there is none to weigh by).
- **Lights**: a criterion's value is green when it passes the version's ``green`` threshold, amber when it
  fails that but passes ``amber``, red otherwise, and grey (unknown) when there is no value to judge.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import polars as pl

from openipa.core.dating import check_no_overlaps, pick_in_force
from openipa.core.money import allocate, format_money
from openipa.core.months import Month

UNASSIGNED = "unassigned"
OTHER = "All other"

LOB_LABELS: dict[str, str] = {
    "medicare_advantage": "Medicare Advantage",
    "medicaid": "Medi-Cal / Medicaid",
    "commercial": "Commercial",
    "unknown": "Not eligible on the day",
    UNASSIGNED: "Unassigned",
}
LOB_ORDER = ("medicare_advantage", "medicaid", "commercial", "unknown", UNASSIGNED)


def lob_label(lob: str) -> str:
    return LOB_LABELS.get(lob, lob.replace("_", " ").capitalize())


class BoardInputError(ValueError):
    """Input the dashboard cannot use (a period it cannot read, a malformed criteria file)."""


# -- periods -----------------------------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YTD = re.compile(r"^(\d{4})(?:-(\d{2}))?-(?:YTD|ytd)$")


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YTD = "ytd"


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first: Month
    last: Month

    @property
    def months(self) -> list[Month]:
        return list(Month.range(self.first, self.last))

    @property
    def code(self) -> str:
        """The text that reads back as this period."""
        if self.kind == PeriodKind.MONTH:
            return str(self.last)
        if self.kind == PeriodKind.QUARTER:
            return f"{self.last.year}-Q{(self.last.month - 1) // 3 + 1}"
        return f"{self.last}-YTD"

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return f"month {self.last}"
        if self.kind == PeriodKind.QUARTER:
            return f"quarter {self.code} ({self.first} to {self.last})"
        return f"year to date {self.first} to {self.last}"


def parse_period(text: str, *, today: dt.date) -> Period:
    """``2026-09`` (a month), ``2026-Q3`` (a quarter), ``2026-09-YTD`` (January to September) or ``2026-YTD``
    (January to the last month closed by ``today``; December for a past year). Raise BoardInputError."""
    text = (text or "").strip()
    try:
        if m := _MONTH.match(text):
            month = Month(int(m[1]), int(m[2]))
            return Period(PeriodKind.MONTH, month, month)
        if m := _QUARTER.match(text):
            year, quarter = int(m[1]), int(m[2])
            return Period(PeriodKind.QUARTER, Month(year, 3 * quarter - 2), Month(year, 3 * quarter))
        if m := _YTD.match(text):
            year = int(m[1])
            if m[2] is not None:
                last = Month(year, int(m[2]))
            else:
                closed = Month.of(today) - 1
                if closed.year < year:
                    raise BoardInputError(f"period {text!r}: no month of {year} is closed on {today}")
                last = closed if closed.year == year else Month(year, 12)
            return Period(PeriodKind.YTD, Month(year, 1), last)
    except ValueError as exc:
        if isinstance(exc, BoardInputError):
            raise
        raise BoardInputError(f"period {text!r}: {exc}") from None
    raise BoardInputError(
        f"period {text!r}: expected a month (2026-09), a quarter (2026-Q3) or a year to date (2026-09-YTD)"
    )


def default_period(today: dt.date) -> Period:
    """The last quarter wholly closed by ``today`` (a board reviews closed quarters)."""
    last = Month.of(today) - 1
    last = last - (last.month % 3)
    return Period(PeriodKind.QUARTER, last - 2, last)


# -- ratios ------------------------------------------------------------------------------------------------


def pmpm_cents(cents: int, member_months: int) -> int | None:
    """Cents per member-month, rounded half away from zero; None without member-months."""
    if member_months <= 0:
        return None
    sign = -1 if cents < 0 else 1
    return sign * ((2 * abs(cents) + member_months) // (2 * member_months))


def ratio(part: int, whole: int, places: int = 4) -> Decimal | None:
    """``part / whole`` to ``places`` decimals, half up; None when ``whole`` is 0."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a percentage to one decimal, half up; None when ``whole`` is 0."""
    if whole == 0:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# -- revenue, cost, PMPM and MLR by line of business ---------------------------------------------------------

REVENUE_SCHEMA: dict[str, Any] = {"payer_id": pl.Int64, "month": pl.Date, "line_of_business": pl.String,
                                  "cents": pl.Int64}  # fmt: skip
"""Member revenue lines (line_of_business from the member's product) and payer lines (line_of_business null)."""
LOB_MONTH_SCHEMA: dict[str, Any] = {"line_of_business": pl.String, "month": pl.Date, "cents": pl.Int64}
MEMBER_MONTH_SCHEMA: dict[str, Any] = {
    "line_of_business": pl.String,
    "month": pl.Date,
    "member_months": pl.Int64,
}
FIGURE_COLUMNS = ("member_months", "revenue_cents", "claims_cents", "capitation_cents", "ibnr_cents")


def revenue_by_lob(lines: pl.DataFrame, payer_lobs: Mapping[int, Sequence[str]]) -> pl.DataFrame:
    """Revenue per line of business and month (LOB_MONTH_SCHEMA) from REVENUE_SCHEMA lines: payer lines (null
    line of business) go to the payer's only line of business, or are split by ``allocate`` over the payer's
    member revenue of that month per line of business (weights below zero count as zero), else to
    ``unassigned``. The result sums to the lines' total."""
    lines = lines.select(*REVENUE_SCHEMA).cast(REVENUE_SCHEMA)  # type: ignore[arg-type]
    member = lines.filter(pl.col("line_of_business").is_not_null())
    rows: list[tuple[str, dt.date, int]] = [
        (str(lob), month, int(cents))
        for lob, month, cents in member.group_by("line_of_business", "month")
        .agg(pl.col("cents").sum())
        .iter_rows()
    ]
    weights: dict[tuple[int, dt.date], dict[str, int]] = {}
    for payer, month, lob, cents in (
        member.group_by("payer_id", "month", "line_of_business").agg(pl.col("cents").sum()).iter_rows()
    ):
        weights.setdefault((int(payer), month), {})[str(lob)] = int(cents)
    payer_only = (
        lines.filter(pl.col("line_of_business").is_null())
        .group_by("payer_id", "month")
        .agg(pl.col("cents").sum())
    )
    for payer, month, cents in payer_only.sort("payer_id", "month").iter_rows():
        lobs = sorted(set(payer_lobs.get(int(payer), ())))
        if len(lobs) == 1:
            rows.append((lobs[0], month, int(cents)))
            continue
        found = {k: max(v, 0) for k, v in sorted(weights.get((int(payer), month), {}).items())}
        if not found or sum(found.values()) == 0:
            rows.append((UNASSIGNED, month, int(cents)))
            continue
        for lob, part in zip(found, allocate(int(cents), list(found.values())), strict=True):
            rows.append((lob, month, part))
    frame = pl.DataFrame(rows, schema=LOB_MONTH_SCHEMA, orient="row")
    return (
        frame.group_by("line_of_business", "month")
        .agg(pl.col("cents").sum())
        .sort("line_of_business", "month")
    )


@dataclass(frozen=True)
class Figures:
    """Revenue against medical cost for one line of business (or all) over some months."""

    label: str
    member_months: int
    revenue_cents: int
    claims_cents: int
    capitation_cents: int
    ibnr_cents: int

    @property
    def cost_cents(self) -> int:
        """Medical cost: claims paid + capitation to practices + IBNR (the estimate)."""
        return self.claims_cents + self.capitation_cents + self.ibnr_cents

    @property
    def margin_cents(self) -> int:
        return self.revenue_cents - self.cost_cents

    @property
    def revenue_pmpm(self) -> int | None:
        return pmpm_cents(self.revenue_cents, self.member_months)

    @property
    def cost_pmpm(self) -> int | None:
        return pmpm_cents(self.cost_cents, self.member_months)

    @property
    def claims_pmpm(self) -> int | None:
        return pmpm_cents(self.claims_cents, self.member_months)

    @property
    def capitation_pmpm(self) -> int | None:
        return pmpm_cents(self.capitation_cents, self.member_months)

    @property
    def ibnr_pmpm(self) -> int | None:
        return pmpm_cents(self.ibnr_cents, self.member_months)

    @property
    def mlr(self) -> Decimal | None:
        """Medical loss ratio: medical cost / revenue, four places."""
        return ratio(self.cost_cents, self.revenue_cents)

    @property
    def mlr_percent(self) -> Decimal | None:
        return percent(self.cost_cents, self.revenue_cents)


def lob_month_frame(
    *,
    revenue: pl.DataFrame,
    claims: pl.DataFrame,
    capitation: pl.DataFrame,
    ibnr: pl.DataFrame,
    member_months: pl.DataFrame,
    months: Sequence[Month],
) -> pl.DataFrame:
    """One row per line of business and month of ``months`` (a line of business listed when it has any
    figure): FIGURE_COLUMNS. The money frames are LOB_MONTH_SCHEMA, ``member_months`` MEMBER_MONTH_SCHEMA;
    rows outside ``months`` are left out."""
    firsts = [m.first_day for m in months]
    parts = []
    for name, frame, column in (
        ("revenue_cents", revenue, "cents"),
        ("claims_cents", claims, "cents"),
        ("capitation_cents", capitation, "cents"),
        ("ibnr_cents", ibnr, "cents"),
        ("member_months", member_months, "member_months"),
    ):
        parts.append(
            frame.filter(pl.col("month").is_in(firsts))
            .group_by("line_of_business", "month")
            .agg(pl.col(column).sum().cast(pl.Int64).alias("value"))
            .with_columns(pl.lit(name).alias("figure"))
        )
    long = pl.concat([p.select("line_of_business", "month", "figure", "value") for p in parts])
    active = set(long.filter(pl.col("value") != 0)["line_of_business"].to_list())
    lobs = [lob for lob in LOB_ORDER if lob in active] + sorted(active - set(LOB_ORDER))
    grid = pl.DataFrame(
        [(lob, month) for lob in lobs for month in firsts],
        schema={"line_of_business": pl.String, "month": pl.Date},
        orient="row",
    )
    wide = long.pivot(
        on="figure", index=["line_of_business", "month"], values="value", aggregate_function="sum"
    )
    for column in FIGURE_COLUMNS:
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.Int64).alias(column))
    return (
        grid.join(wide, on=["line_of_business", "month"], how="left")
        .select("line_of_business", "month", *[pl.col(c).fill_null(0).cast(pl.Int64) for c in FIGURE_COLUMNS])
        .with_columns(
            pl.col("line_of_business")
            .replace_strict({lob: i for i, lob in enumerate(lobs)}, return_dtype=pl.Int64)
            .alias("_order")
        )
        .sort("_order", "month")
        .drop("_order")
    )


def figures(frame: pl.DataFrame, label: str) -> Figures:
    """The sums of a lob_month_frame (or its filtered part) as one Figures."""
    sums = {c: int(frame[c].sum() or 0) if frame.height else 0 for c in FIGURE_COLUMNS}
    return Figures(label=label, **sums)


def by_lob(frame: pl.DataFrame) -> list[Figures]:
    """Figures per line of business, in the frame's order."""
    lobs = list(dict.fromkeys(frame["line_of_business"].to_list()))
    return [figures(frame.filter(pl.col("line_of_business") == lob), lob) for lob in lobs]


def by_month(frame: pl.DataFrame, months: Sequence[Month], lob: str | None = None) -> list[Figures]:
    """Figures per month (all lines of business, or one), labelled YYYY-MM."""
    if lob is not None:
        frame = frame.filter(pl.col("line_of_business") == lob)
    return [figures(frame.filter(pl.col("month") == m.first_day), str(m)) for m in months]


# -- top cost drivers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Driver:
    key: str
    label: str
    paid_cents: int
    pmpm_cents: int | None
    share_percent: Decimal | None


def top_drivers(
    paid: Mapping[str, int], labels: Mapping[str, str], *, member_months: int, top: int = 8
) -> list[Driver]:
    """The ``top`` keys by paid amount (ties by key), then one "All other" row for the rest when there is a
    rest: the rows always sum to the whole."""
    total = sum(paid.values())
    ordered = sorted(paid.items(), key=lambda kv: (-kv[1], kv[0]))
    shown, rest = ordered[:top], ordered[top:]

    def row(key: str, label: str, cents: int) -> Driver:
        return Driver(key, label, cents, pmpm_cents(cents, member_months), percent(cents, total))

    rows = [row(k, labels.get(k, k), v) for k, v in shown]
    if rest:
        rows.append(row("", OTHER, sum(v for _k, v in rest)))
    return rows


# ICD-10-CM chapters by the code's first three characters (CMS/NCHS ICD-10-CM tabular list).
ICD10_CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("A00", "B99", "Infectious and parasitic diseases"),
    ("C00", "D49", "Neoplasms"),
    ("D50", "D89", "Blood and immune disorders"),
    ("E00", "E89", "Endocrine, nutritional and metabolic"),
    ("F01", "F99", "Mental and behavioral"),
    ("G00", "G99", "Nervous system"),
    ("H00", "H59", "Eye and adnexa"),
    ("H60", "H95", "Ear and mastoid"),
    ("I00", "I99", "Circulatory system"),
    ("J00", "J99", "Respiratory system"),
    ("K00", "K95", "Digestive system"),
    ("L00", "L99", "Skin and subcutaneous tissue"),
    ("M00", "M99", "Musculoskeletal and connective tissue"),
    ("N00", "N99", "Genitourinary system"),
    ("O00", "O9A", "Pregnancy and childbirth"),
    ("P00", "P96", "Perinatal conditions"),
    ("Q00", "Q99", "Congenital anomalies"),
    ("R00", "R99", "Symptoms and abnormal findings"),
    ("S00", "T88", "Injury and poisoning"),
    ("U00", "U85", "Codes for special purposes"),
    ("V00", "Y99", "External causes"),
    ("Z00", "Z99", "Health status and contact with services"),
)
NO_DIAGNOSIS = "No diagnosis"


def icd10_chapter(code: str) -> str:
    """The ICD-10-CM chapter of a code (dots ignored), NO_DIAGNOSIS when blank, "Other codes" when unknown."""
    head = code.replace(".", "").strip().upper()[:3]
    if not head:
        return NO_DIAGNOSIS
    for low, high, name in ICD10_CHAPTERS:
        if low <= head <= high:
            return name
    return "Other codes"


PLACES_OF_SERVICE: dict[str, str] = {
    "02": "Telehealth",
    "10": "Telehealth in the home",
    "11": "Office",
    "12": "Home",
    "19": "Outpatient hospital (off campus)",
    "20": "Urgent care",
    "21": "Inpatient hospital",
    "22": "Outpatient hospital",
    "23": "Emergency room",
    "24": "Ambulatory surgical center",
    "31": "Skilled nursing facility",
    "32": "Nursing facility",
    "81": "Independent laboratory",
    "": "Institutional (no place of service)",
}


def place_label(code: str) -> str:
    return (
        f"{code} {PLACES_OF_SERVICE[code]}"
        if code in PLACES_OF_SERVICE and code
        else (PLACES_OF_SERVICE[""] if not code else f"{code} (other)")
    )


# -- RBO criteria: the data file -----------------------------------------------------------------------------


class Light(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    UNKNOWN = "grey"

    @property
    def label(self) -> str:
        return {"green": "Met", "amber": "Watch", "red": "Not met", "grey": "No data"}[self.value]


_OPS = (">=", ">")


@dataclass(frozen=True)
class Threshold:
    op: str
    value: Decimal

    def passes(self, value: Decimal) -> bool:
        return value >= self.value if self.op == ">=" else value > self.value

    @property
    def text(self) -> str:
        return f"{self.op} {self.value}"


@dataclass(frozen=True)
class NumericRule:
    green: Threshold
    amber: Threshold | None

    def light(self, value: Decimal | int | None) -> Light:
        if value is None:
            return Light.UNKNOWN
        number = Decimal(value)
        if self.green.passes(number):
            return Light.GREEN
        if self.amber is not None and self.amber.passes(number):
            return Light.AMBER
        return Light.RED


@dataclass(frozen=True)
class StatusRule:
    green: frozenset[str]
    amber: frozenset[str]

    def light(self, status: str | None) -> Light:
        if status in self.green:
            return Light.GREEN
        if status in self.amber:
            return Light.AMBER
        return Light.RED


NUMERIC_CRITERIA = ("cash_to_claims", "working_capital", "tangible_net_equity", "claims_timeliness")
STATUS_CRITERIA = ("ibnr_documented",)
ACCOUNT_LISTS = ("cash_accounts", "current_assets", "current_liabilities", "claims_payable_accounts",
                 "intangible_assets")  # fmt: skip


@dataclass(frozen=True)
class CriteriaVersion:
    valid_from: dt.date
    valid_to: dt.date | None
    source: str
    cash_accounts: tuple[str, ...]
    current_assets: tuple[str, ...]
    current_liabilities: tuple[str, ...]
    claims_payable_accounts: tuple[str, ...]
    intangible_assets: tuple[str, ...]
    unbooked_ibnr_is_a_liability: bool
    numeric: Mapping[str, NumericRule] = field(default_factory=dict)
    status: Mapping[str, StatusRule] = field(default_factory=dict)


def _threshold(raw: Any, where: str) -> Threshold:
    if not (isinstance(raw, list) and len(raw) == 2 and raw[0] in _OPS and isinstance(raw[1], str)):
        raise BoardInputError(f'{where}: expected [">=" or ">", "number as text"]')
    try:
        value = Decimal(raw[1])
    except InvalidOperation:
        raise BoardInputError(f"{where}: {raw[1]!r} is not a number") from None
    if not value.is_finite():
        raise BoardInputError(f"{where}: {raw[1]!r} is not a finite number")
    return Threshold(raw[0], value)


def _date(raw: Any, where: str, *, optional: bool) -> dt.date | None:
    if raw is None and optional:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise BoardInputError(f"{where}: expected a date YYYY-MM-DD") from None


def parse_criteria(doc: Any, *, known_accounts: Sequence[str] | None = None) -> list[CriteriaVersion]:
    """Every version of the criteria file, checked: dates, thresholds (amber never above green), account lists
    (codes of the chart when ``known_accounts`` is given) and no two versions in force on one day."""
    versions_raw = doc.get("versions") if isinstance(doc, dict) else None
    if not isinstance(versions_raw, list) or not versions_raw:
        raise BoardInputError("$.versions: expected a non-empty list")
    versions = []
    for i, raw in enumerate(versions_raw):
        where = f"$.versions[{i}]"
        if not isinstance(raw, dict):
            raise BoardInputError(f"{where}: expected an object")
        valid_from = _date(raw.get("valid_from"), f"{where}.valid_from", optional=False)
        assert valid_from is not None
        valid_to = _date(raw.get("valid_to"), f"{where}.valid_to", optional=True)
        if valid_to is not None and valid_to < valid_from:
            raise BoardInputError(f"{where}: valid_to {valid_to} is before valid_from {valid_from}")
        lists: dict[str, tuple[str, ...]] = {}
        for name in ACCOUNT_LISTS:
            codes = raw.get(name)
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise BoardInputError(f"{where}.{name}: expected a list of account codes")
            unknown = [c for c in codes if known_accounts is not None and c not in known_accounts]
            if unknown:
                raise BoardInputError(f"{where}.{name}: not accounts of the chart: {', '.join(unknown)}")
            lists[name] = tuple(codes)
        criteria = raw.get("criteria")
        if not isinstance(criteria, dict):
            raise BoardInputError(f"{where}.criteria: expected an object")
        numeric: dict[str, NumericRule] = {}
        for name in NUMERIC_CRITERIA:
            rule = criteria.get(name)
            if not isinstance(rule, dict):
                raise BoardInputError(f"{where}.criteria.{name}: expected an object")
            green = _threshold(rule.get("green"), f"{where}.criteria.{name}.green")
            amber = (
                None
                if rule.get("amber") is None
                else _threshold(rule["amber"], f"{where}.criteria.{name}.amber")
            )
            if amber is not None and amber.value > green.value:
                raise BoardInputError(
                    f"{where}.criteria.{name}: amber {amber.value} is above green {green.value}"
                )
            numeric[name] = NumericRule(green, amber)
        status: dict[str, StatusRule] = {}
        for name in STATUS_CRITERIA:
            rule = criteria.get(name)
            if not isinstance(rule, dict) or not all(
                isinstance(rule.get(k), list) and all(isinstance(s, str) for s in rule[k])
                for k in ("green", "amber")
            ):
                raise BoardInputError(f"{where}.criteria.{name}: expected green and amber lists of statuses")
            status[name] = StatusRule(frozenset(rule["green"]), frozenset(rule["amber"]))
        versions.append(
            CriteriaVersion(
                valid_from=valid_from,
                valid_to=valid_to,
                source=str(raw.get("source", "")),
                unbooked_ibnr_is_a_liability=bool(raw.get("unbooked_ibnr_is_a_liability", True)),
                numeric=numeric,
                status=status,
                **lists,
            )
        )
    try:
        check_no_overlaps(versions)
    except ValueError as exc:
        raise BoardInputError(f"$.versions: {exc}") from None
    return versions


def criteria_on(versions: Sequence[CriteriaVersion], on: dt.date) -> CriteriaVersion:
    found = pick_in_force(versions, on)
    if found is None:
        raise BoardInputError(f"no version of the RBO criteria is in force on {on}")
    return found


# -- RBO criteria: the assessment ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountBalance:
    code: str
    name: str
    kind: str
    balance_cents: int
    """Signed by the account's normal side: + is a normal balance."""


@dataclass(frozen=True)
class RboInputs:
    as_of: dt.date
    balances: tuple[AccountBalance, ...]
    ibnr_cents: int | None
    """The reserve estimate's IBNR (None: no estimate)."""
    ibnr_status: str | None
    ibnr_method: str
    ibnr_as_of: dt.date | None
    last_closed: Month
    timely_on_time: int
    timely_counted: int


@dataclass(frozen=True)
class Step:
    """One line of a drill-down: a labelled amount (cents), count or text, with the accounts it sums."""

    label: str
    cents: int | None = None
    text: str = ""
    accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Criterion:
    key: str
    title: str
    light: Light
    value_text: str
    threshold_text: str
    steps: tuple[Step, ...]
    arithmetic: str
    value: Decimal | int | None = None


CRITERION_TITLES: dict[str, str] = {
    "cash_to_claims": "Cash-to-claims ratio",
    "working_capital": "Working capital",
    "tangible_net_equity": "Tangible net equity",
    "ibnr_documented": "IBNR estimated and documented",
    "claims_timeliness": "Claims decided within 45 working days",
}


def _sum(balances: Mapping[str, AccountBalance], codes: Sequence[str]) -> int:
    return sum(balances[c].balance_cents for c in codes if c in balances)


def _money_threshold(rule: NumericRule) -> str:
    text = f"green {rule.green.op} {format_money(int(rule.green.value))}"
    if rule.amber is not None:
        text += f", amber {rule.amber.op} {format_money(int(rule.amber.value))}"
    return text


def _plain_threshold(rule: NumericRule, suffix: str = "") -> str:
    text = f"green {rule.green.op} {rule.green.value}{suffix}"
    if rule.amber is not None:
        text += f", amber {rule.amber.op} {rule.amber.value}{suffix}"
    return text


def assess(inputs: RboInputs, version: CriteriaVersion) -> list[Criterion]:
    """The five RBO criteria of ``inputs`` under ``version``, each with its light and the arithmetic."""
    bal = {b.code: b for b in inputs.balances}
    ibnr = inputs.ibnr_cents or 0
    unbooked = ibnr if version.unbooked_ibnr_is_a_liability else 0
    out: list[Criterion] = []

    cash = _sum(bal, version.cash_accounts)
    payable = _sum(bal, version.claims_payable_accounts)
    claims_liability = payable + ibnr
    # a claims liability below zero (claims payable with a debit balance: payments posted before the approvals
    # they settle) makes the ratio meaningless: not judged, and said so
    c2c = ratio(cash, claims_liability) if claims_liability > 0 else None
    rule = version.numeric["cash_to_claims"]
    out.append(Criterion(
        "cash_to_claims", CRITERION_TITLES["cash_to_claims"],
        rule.light(c2c),
        f"{c2c}" if c2c is not None else "no claims liability" if claims_liability == 0 else (
            "not judged: the claims liability is below zero (claims payable has a debit balance)"),
        _plain_threshold(rule),
        (Step("Cash and cash equivalents", cash, accounts=version.cash_accounts),
         Step("Claims payable", payable, accounts=version.claims_payable_accounts),
         Step("IBNR (reserve estimate)", ibnr),
         Step("Claims liability (claims payable + IBNR)", claims_liability)),
        f"{format_money(cash)} / ({format_money(payable)} + {format_money(ibnr)}) = "
        + ("-" if c2c is None else str(c2c)),
        c2c,
    ))  # fmt: skip

    assets = _sum(bal, version.current_assets)
    liabilities = _sum(bal, version.current_liabilities)
    working = assets - liabilities - unbooked
    rule = version.numeric["working_capital"]
    out.append(Criterion(
        "working_capital", CRITERION_TITLES["working_capital"], rule.light(working), format_money(working),
        _money_threshold(rule),
        (Step("Current assets", assets, accounts=version.current_assets),
         Step("Current liabilities on the ledger", liabilities, accounts=version.current_liabilities),
         Step("IBNR not booked on the ledger", unbooked)),
        f"{format_money(assets)} - {format_money(liabilities)} - {format_money(unbooked)} = {format_money(working)}",
        working,
    ))  # fmt: skip

    equity = sum(b.balance_cents for b in inputs.balances if b.kind == "equity")
    revenue = sum(b.balance_cents for b in inputs.balances if b.kind == "revenue")
    expense = sum(b.balance_cents for b in inputs.balances if b.kind == "expense")
    intangibles = _sum(bal, version.intangible_assets)
    tne = equity + revenue - expense - unbooked - intangibles
    rule = version.numeric["tangible_net_equity"]
    equity_codes = tuple(b.code for b in inputs.balances if b.kind == "equity")
    out.append(Criterion(
        "tangible_net_equity", CRITERION_TITLES["tangible_net_equity"], rule.light(tne), format_money(tne),
        _money_threshold(rule),
        (Step("Equity accounts", equity, accounts=equity_codes),
         Step("Revenue not yet closed to equity", revenue),
         Step("Expenses not yet closed to equity", expense),
         Step("IBNR not booked on the ledger", unbooked),
         Step("Intangible assets", intangibles, accounts=version.intangible_assets,
              text="" if version.intangible_assets else "the chart of accounts has no intangible asset account")),
        f"{format_money(equity)} + {format_money(revenue)} - {format_money(expense)} - {format_money(unbooked)} "
        f"- {format_money(intangibles)} = {format_money(tne)}",
        tne,
    ))  # fmt: skip

    status_rule = version.status["ibnr_documented"]
    status = inputs.ibnr_status
    documented = status is not None and bool(inputs.ibnr_method) and inputs.ibnr_as_of is not None
    light = status_rule.light(status if documented else None)
    estimate_text = (
        f"{status} estimate as of {inputs.ibnr_as_of:%Y-%m}, method {inputs.ibnr_method}"
        if documented and inputs.ibnr_as_of is not None
        else f"no estimate as of {inputs.last_closed}"
    )
    short = (
        f"{status} ({inputs.ibnr_as_of:%Y-%m})" if documented and inputs.ibnr_as_of is not None else "none"
    )
    out.append(Criterion(
        "ibnr_documented", CRITERION_TITLES["ibnr_documented"], light, short,
        f"green: {', '.join(sorted(status_rule.green))}; amber: {', '.join(sorted(status_rule.amber)) or '-'}",
        (Step("Last closed month", text=str(inputs.last_closed)),
         Step("Estimate", text=estimate_text),
         Step("IBNR of the newest approved estimate by the period's end", inputs.ibnr_cents)),
        f"an estimate as of {inputs.last_closed} with its method: {estimate_text}",
        None,
    ))  # fmt: skip

    share = percent(inputs.timely_on_time, inputs.timely_counted)
    rule = version.numeric["claims_timeliness"]
    out.append(Criterion(
        "claims_timeliness", CRITERION_TITLES["claims_timeliness"], rule.light(share),
        "no claims past their deadline yet" if share is None else f"{share}%",
        _plain_threshold(rule, "%"),
        (Step("Claims decided within 45 working days", text=f"{inputs.timely_on_time:,}"),
         Step("Claims counted (decided, or open past the deadline)", text=f"{inputs.timely_counted:,}")),
        f"{inputs.timely_on_time:,} / {inputs.timely_counted:,} = " + ("-" if share is None else f"{share}%"),
        share,
    ))  # fmt: skip
    return out
