"""Reads for the board dashboard (VIEW_BOARD: administrator, finance, auditor, board). Aggregates only: no
member, no practice's fee-for-service rate and no messenger offer is ever returned, so nothing here is written
to the audit log. ``actor=None`` is the system itself (the command line).

Sources (docs/board.md says the same):

- **Revenue**: capitation received from payers (``capitation.ReceivedLine`` of applied remittances), by coverage
  month. The ledger is not the source: an approved distribution moves the pool from "received, undistributed"
  to payables, the administrative fee and retained surplus, so gross capitation revenue is never one account.
  A member's line takes the line of business of the member's product in force on the coverage month's first day
  (else its last day); payer lines without a member are assigned by ``engine.revenue_by_lob``.
- **Claims paid**: the reserves' paid claim lines (``claims.selectors.reserves.paid_lines_frame``: lines paid by
  a *paid* claims payment run dated by the period's end, reversals negative), by month of service and the
  member's line of business on that day.
- **Capitation to practices**: the PCP net, quality and specialist cents of approved or paid distribution lines
  of the coverage month (what the runs make payable to practices), by the line's product.
- **IBNR**: the newest *approved* reserve estimate as of a month no later than the period's last (a draft only
  when none is approved), its months inside the period, by line of business when the estimate is grouped so.
- **Member-months**: the reserves' member-months by line of business (a member counts once a month per line of
  business when eligible on at least one day).
- **Ledger balances** at the end of the period's last day, every account, for the RBO criteria.
- **Claims timeliness**: the claims dashboard's own count (``claims.selectors.dashboard.timeliness``) for the
  claims received in the period, as of the day asked.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
from django.db.models import BigIntegerField, Case, CharField, ExpressionWrapper, F, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, NullIf, Round

from openipa.board import engine
from openipa.board.engine import Period
from openipa.capitation.models import DistributionLine, DistributionRun, ReceivedLine, RemittanceImport
from openipa.claims.models import ClaimLine, ClaimPaymentRun, IbnrEstimate
from openipa.claims.selectors import dashboard as claims_dashboard
from openipa.claims.selectors import reserves
from openipa.contracts.models import Product
from openipa.core.frames import query_frame
from openipa.core.money import decimal_text
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, Role, require
from openipa.ledger.accounts import CHART
from openipa.ledger.models import Account, JournalLine
from openipa.membership.selectors import lines_of_business_on
from openipa.quality.gapdata import load_targets
from openipa.quality.models import QualityRun, RateResult

CRITERIA_PATH = Path(__file__).resolve().parent / "data" / "rbo_criteria.json"
QUALITY_RUNS_SHOWN = 8
TOP_DRIVERS = 8
DISTRIBUTED = (DistributionRun.Status.APPROVED, DistributionRun.Status.PAID)


def require_board(actor: Actor | None) -> None:
    """VIEW_BOARD, for any page, export or read of the dashboard (None: the system)."""
    if actor is not None:
        require(actor, Perm.VIEW_BOARD)


@dataclass(frozen=True)
class _FiguresReader:
    """The actor the board passes to the claims dashboard's timeliness count, after checking VIEW_BOARD itself:
    that function wants a claims reader, and the count it returns is two integers per month, no claim. Reusing
    it keeps one definition of "decided within 45 working days" for the claims staff and the board."""

    pk: object = None
    username: str = "board-dashboard"
    role: str = Role.AUDITOR.value
    practice_id: int | None = None


# -- the criteria file ---------------------------------------------------------------------------------------


@cache
def _criteria_cached(path: str, mtime_ns: int) -> tuple[engine.CriteriaVersion, ...]:
    with open(path, encoding="utf-8") as handle:
        doc = json.load(handle)
    return tuple(engine.parse_criteria(doc, known_accounts=[a.code for a in CHART]))


def load_criteria(path: Path | None = None) -> list[engine.CriteriaVersion]:
    """Every version of the RBO criteria file (checked; engine.BoardInputError when malformed)."""
    path = path or CRITERIA_PATH
    try:
        mtime = path.stat().st_mtime_ns
        return list(_criteria_cached(str(path), mtime))
    except (OSError, json.JSONDecodeError) as exc:
        raise engine.BoardInputError(f"{path}: {exc}") from None


# -- revenue, cost and member-months ---------------------------------------------------------------------------


def _lobs_by_product() -> dict[int, str]:
    return {pk: str(lob) for pk, lob in Product.objects.values_list("pk", "line_of_business")}


def _payer_lobs() -> dict[int, list[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for payer_id, lob in Product.objects.values_list("payer_id", "line_of_business"):
        found[int(payer_id)].add(str(lob))
    return {k: sorted(v) for k, v in found.items()}


def _empty(schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def revenue_frame(period: Period) -> pl.DataFrame:
    """Capitation received per line of business and coverage month (engine.LOB_MONTH_SCHEMA)."""
    # straight into a frame (a quarter of a 25,000-member IPA is some 75,000 lines: no Python row each)
    lines = query_frame(
        ReceivedLine.objects.filter(
            remittance__status=RemittanceImport.Status.APPLIED,
            month__gte=period.first.first_day,
            month__lte=period.last.first_day,
        ),
        {
            "line_id": ("pk", pl.Int64),
            "payer_id": ("payer_id", pl.Int64),
            "member_id": ("member_id", pl.Int64),
            "month": ("month", pl.Date),
            "cents": ("amount_cents", pl.Int64),
        },
    )
    if lines.height == 0:
        return _empty(engine.LOB_MONTH_SCHEMA)
    with_member = lines.filter(pl.col("member_id").is_not_null())
    lob = _empty({"line_id": pl.Int64, "line_of_business": pl.String})
    if with_member.height:
        first = lines_of_business_on(
            with_member.select("line_id", "member_id", pl.col("month").alias("service_from"))
        )
        rest = with_member.join(first, on="line_id", how="anti")
        last = (
            lines_of_business_on(
                rest.select("line_id", "member_id", pl.col("month").dt.month_end().alias("service_from"))
            )
            if rest.height
            else lob
        )
        lob = pl.concat([first, last])
    tagged = lines.join(lob, on="line_id", how="left").with_columns(
        pl.when(pl.col("member_id").is_not_null())
        .then(pl.col("line_of_business").fill_null("unknown"))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("line_of_business")
    )
    return engine.revenue_by_lob(tagged.select(*engine.REVENUE_SCHEMA), _payer_lobs())


def claims_frame(period: Period) -> pl.DataFrame:
    """Claims paid per line of business and month of service (engine.LOB_MONTH_SCHEMA)."""
    paid = reserves.paid_lines_frame(None, first=period.first, last=period.last)
    if paid.height == 0:
        return _empty(engine.LOB_MONTH_SCHEMA)
    return (
        paid.group_by("line_of_business", pl.col("incurred_date").dt.truncate("1mo").alias("month"))
        .agg(pl.col("paid_cents").sum().cast(pl.Int64).alias("cents"))
        .select("line_of_business", "month", "cents")
    )


def capitation_frame(period: Period) -> pl.DataFrame:
    """Capitation made payable to practices per line of business and coverage month (LOB_MONTH_SCHEMA)."""
    rows = (
        DistributionLine.objects.filter(
            run__status__in=DISTRIBUTED, month__gte=period.first.first_day, month__lte=period.last.first_day
        )
        .values("product_id", "month")
        .order_by()
        .annotate(cents=Sum(F("pcp_net_cents") + F("quality_cents") + F("specialist_cents")))
    )
    lobs = _lobs_by_product()
    data = [
        (lobs.get(r["product_id"], engine.UNASSIGNED) if r["product_id"] else engine.UNASSIGNED, r["month"],
         int(r["cents"] or 0))
        for r in rows
    ]  # fmt: skip
    frame = pl.DataFrame(data, schema=engine.LOB_MONTH_SCHEMA, orient="row")
    return frame.group_by("line_of_business", "month").agg(pl.col("cents").sum())


def ibnr_estimate(last: Month) -> IbnrEstimate | None:
    """The newest approved estimate as of ``last`` or earlier; the newest draft when none is approved."""
    found = IbnrEstimate.objects.filter(as_of__lte=last.first_day)
    return (
        found.filter(status=IbnrEstimate.Status.APPROVED).order_by("-as_of", "-id").first()
        or found.order_by("-as_of", "-id").first()
    )


def ibnr_frame(estimate: IbnrEstimate | None) -> pl.DataFrame:
    """The estimate's IBNR per line of business (``unassigned`` when not grouped by it) and incurred month."""
    if estimate is None:
        return _empty(engine.LOB_MONTH_SCHEMA)
    totals: dict[tuple[str, dt.date], int] = defaultdict(int)
    for row in estimate.results or []:
        month = Month.parse(str(row["incurred_month"])[:7]).first_day  # stored as YYYY-MM
        lob = str(row.get("line_of_business") or engine.UNASSIGNED)
        totals[(lob, month)] += int(row.get("ibnr_cents") or 0)
    return pl.DataFrame(
        [(lob, month, cents) for (lob, month), cents in sorted(totals.items())],
        schema=engine.LOB_MONTH_SCHEMA,
        orient="row",
    )


def member_months_frame(period: Period) -> pl.DataFrame:
    frame = reserves.member_months_frame(
        None, first=period.first, last=period.last, group_by=["line_of_business"]
    )
    return frame.select("line_of_business", "month", pl.col("member_months").cast(pl.Int64))


# -- ledger balances -----------------------------------------------------------------------------------------


def _cents(field: str) -> Cast:
    """A decimal amount as integer cents in SQL (SQLite keeps decimals as floats: sum the rounded cents)."""
    return Cast(Round(ExpressionWrapper(F(field) * 100, output_field=BigIntegerField())), BigIntegerField())


def balances(as_of: dt.date) -> tuple[engine.AccountBalance, ...]:
    """Every account's balance at the end of ``as_of``, signed by its normal side, in code order."""
    sums = {
        r["account_id"]: (int(r["debits"] or 0), int(r["credits"] or 0))
        for r in JournalLine.objects.filter(entry__date__lte=as_of)
        .values("account_id")
        .order_by("account_id")
        .annotate(debits=Sum(_cents("debit")), credits=Sum(_cents("credit")))
    }
    out = []
    for account in Account.objects.order_by("code"):
        debits, credits = sums.get(account.pk, (0, 0))
        net = debits - credits
        out.append(
            engine.AccountBalance(
                account.code, account.name, account.kind, net if account.debit_normal else -net
            )
        )
    return tuple(out)


# -- claims timeliness and cost drivers ------------------------------------------------------------------------


def timeliness(period: Period, as_of: dt.date) -> tuple[int, int]:
    """(decided within 45 working days, counted) for the claims received in the period."""
    months = claims_dashboard.timeliness(_FiguresReader(), first=period.first, last=period.last, as_of=as_of)
    return sum(m.on_time for m in months), sum(m.counted for m in months)


@dataclass(frozen=True)
class Drivers:
    member_months: int
    paid_cents: int
    categories: list[engine.Driver]
    diagnoses: list[engine.Driver]
    places: list[engine.Driver]


def drivers(period: Period, member_months: int) -> Drivers:
    """Claims paid in the period (as ``claims_frame`` counts them) by service category, ICD-10-CM chapter of
    the line's first diagnosis and place of service: the top ones and the rest, with PMPM."""
    runs = ClaimPaymentRun.objects.filter(
        status=ClaimPaymentRun.Status.PAID, payment_date__lte=period.last.last_day
    ).values("pk")
    window = ClaimLine.objects.filter(
        service_from__gte=period.first.first_day, service_from__lte=period.last.last_day
    ).exclude(paid_cents=0)
    keys = {
        "category": Coalesce(NullIf(F("service_category"), Value("")), Value(reserves.UNSPECIFIED_CATEGORY)),
        "place": Case(
            When(~Q(place_of_service=""), then=F("place_of_service")),
            default=F("claim__place_of_service"),
            output_field=CharField(),
        ),
        "dx": F("diagnosis_codes"),
    }
    by_key: dict[str, dict[str, int]] = {
        "category": defaultdict(int),
        "dx": defaultdict(int),
        "place": defaultdict(int),
    }
    for field_name, sign in (("payment_run_id__in", 1), ("reversal_run_id__in", -1)):
        rows = (
            window.filter(**{field_name: runs})
            .annotate(category=keys["category"], place=keys["place"], dx=keys["dx"])
            .values("category", "place", "dx")
            .order_by()
            .annotate(cents=Sum("paid_cents"))
        )
        for r in rows:
            cents = sign * int(r["cents"] or 0)
            by_key["category"][str(r["category"])] += cents
            by_key["place"][str(r["place"] or "")] += cents
            first_dx = str(r["dx"] or "").split(",")[0]
            by_key["dx"][engine.icd10_chapter(first_dx)] += cents
    total = sum(by_key["category"].values())
    categories = engine.top_drivers(
        dict(by_key["category"]), {}, member_months=member_months, top=TOP_DRIVERS
    )
    diagnoses = engine.top_drivers(dict(by_key["dx"]), {}, member_months=member_months, top=TOP_DRIVERS)
    places = engine.top_drivers(
        dict(by_key["place"]),
        {k: engine.place_label(k) for k in by_key["place"]},
        member_months=member_months,
        top=TOP_DRIVERS,
    )
    return Drivers(member_months, total, categories, diagnoses, places)


# -- quality trajectory ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureTrend:
    measure: str
    rate: str
    name: str
    inverse: bool
    percents: tuple[Decimal | None, ...]
    """The network rate in each run shown, in percent to one place (None: not in that run or no denominator)."""
    target_percent: Decimal | None

    @property
    def latest(self) -> Decimal | None:
        return next((p for p in reversed(self.percents) if p is not None), None)

    @property
    def met(self) -> bool | None:
        if self.latest is None or self.target_percent is None:
            return None
        return self.latest <= self.target_percent if self.inverse else self.latest >= self.target_percent


@dataclass(frozen=True)
class Trajectory:
    runs: tuple[str, ...]
    """Each run shown, oldest first: "MY2026 as of 2026-06-30"."""
    measures: tuple[MeasureTrend, ...]


def quality_trajectory(last_day: dt.date) -> Trajectory:
    """The network rate of each measure across the latest quality runs as of ``last_day`` or earlier."""
    runs = list(
        QualityRun.objects.filter(as_of__lte=last_day).order_by("-as_of", "-run_at", "-pk")[
            :QUALITY_RUNS_SHOWN
        ]
    )
    runs.reverse()
    if not runs:
        return Trajectory((), ())
    index = {run.pk: i for i, run in enumerate(runs)}
    values: dict[tuple[str, str], list[Decimal | None]] = {}
    meta: dict[tuple[str, str], tuple[str, bool]] = {}
    for r in RateResult.objects.filter(run_id__in=list(index)).order_by("measure", "rate", "pk"):
        key = (r.measure, r.rate)
        row = values.setdefault(key, [None] * len(runs))
        row[index[r.run_id]] = engine.percent(r.numerator, r.denominator)
        meta[key] = (r.measure_name, r.inverse)
    targets = load_targets(runs[-1].measurement_year)
    measures = []
    for key in sorted(values):
        target = targets.get(key)
        measures.append(
            MeasureTrend(
                key[0], key[1], meta[key][0], meta[key][1], tuple(values[key]),
                None if target is None else (target.target * 100).quantize(Decimal("0.1")),
            )
        )  # fmt: skip
    labels = tuple(f"MY{run.measurement_year} as of {run.as_of:%Y-%m-%d}" for run in runs)
    return Trajectory(labels, tuple(measures))


# -- the dashboard ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    period: Period
    as_of: dt.date
    frame: pl.DataFrame
    """engine.lob_month_frame: per line of business and month."""
    lobs: list[engine.Figures]
    total: engine.Figures
    months: list[engine.Figures]
    estimate: IbnrEstimate | None
    criteria_version: engine.CriteriaVersion
    criteria: list[engine.Criterion]
    balances: tuple[engine.AccountBalance, ...]
    """The ledger balances the criteria were judged on."""
    drivers: Drivers
    quality: Trajectory

    @property
    def balance_day(self) -> dt.date:
        """The day the ledger balances are taken at: the period's end, or ``as_of`` when that is earlier."""
        return min(self.period.last.last_day, self.as_of)

    @property
    def has_ibnr(self) -> bool:
        return self.total.ibnr_cents != 0

    def criterion(self, key: str) -> engine.Criterion:
        for c in self.criteria:
            if c.key == key:
                return c
        raise KeyError(key)

    def months_of(self, lob: str) -> list[engine.Figures]:
        return engine.by_month(self.frame, self.period.months, lob)


def last_closed_month(period: Period, as_of: dt.date) -> Month:
    """The month whose reserve must be documented: the period's last month once it is over on ``as_of`` (a
    month is over on its last day), else the last month over by ``as_of``."""
    current = Month.of(as_of)
    closed = current if as_of == current.last_day else current - 1
    return min(period.last, closed, key=lambda m: m.index)


STEPS = (
    "revenue",
    "claims",
    "capitation",
    "reserves",
    "ledger",
    "claims timeliness",
    "cost drivers",
    "quality",
)
"""What board_dashboard reads, in order: ``progress`` is called with each before it is read."""


@dataclass(frozen=True)
class Solvency:
    """The RBO criteria of a period judged on ``as_of``, and what they were judged on: what a criterion's page
    shows (it reads no revenue, cost, driver or quality figure)."""

    period: Period
    as_of: dt.date
    estimate: IbnrEstimate | None
    criteria_version: engine.CriteriaVersion
    criteria: list[engine.Criterion]
    balances: tuple[engine.AccountBalance, ...]

    @property
    def balance_day(self) -> dt.date:
        return min(self.period.last.last_day, self.as_of)

    def criterion(self, key: str) -> engine.Criterion:
        for c in self.criteria:
            if c.key == key:
                return c
        raise KeyError(key)


def _solvency(
    period: Period, as_of: dt.date, estimate: IbnrEstimate | None, step: Callable[[str], None]
) -> Solvency:
    version = engine.criteria_on(load_criteria(), period.last.last_day)
    closed = last_closed_month(period, as_of)
    documented = IbnrEstimate.objects.filter(as_of=closed.first_day)
    closed_estimate = (
        documented.filter(status=IbnrEstimate.Status.APPROVED).order_by("-id").first()
        or documented.order_by("-id").first()
    )
    step("ledger")
    balance_day = min(period.last.last_day, as_of)
    ledger = balances(balance_day)
    step("claims timeliness")
    on_time, counted = timeliness(period, as_of)
    inputs = engine.RboInputs(
        as_of=balance_day,
        balances=ledger,
        ibnr_cents=None if estimate is None else int(estimate.total_ibnr_cents),
        ibnr_status=None if closed_estimate is None else closed_estimate.status,
        ibnr_method="" if closed_estimate is None else closed_estimate.method,
        ibnr_as_of=None if closed_estimate is None else closed_estimate.as_of,
        last_closed=closed,
        timely_on_time=on_time,
        timely_counted=counted,
    )
    return Solvency(period, as_of, estimate, version, engine.assess(inputs, version), ledger)


def solvency(actor: Actor | None, *, period: Period, as_of: dt.date) -> Solvency:
    """The RBO criteria alone (as ``board_dashboard`` judges them), for a criterion's page: VIEW_BOARD."""
    require_board(actor)
    return _solvency(period, as_of, ibnr_estimate(period.last), lambda _name: None)


def board_dashboard(
    actor: Actor | None, *, period: Period, as_of: dt.date, progress: Callable[[str], None] | None = None
) -> Dashboard:
    """Every figure of the board dashboard for ``period``, judged on ``as_of`` (claims still open then, the
    reserve estimate of the last closed month). ``progress(step)`` is told each of STEPS as it starts."""
    require_board(actor)

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    months = period.months
    step("revenue")
    revenue = revenue_frame(period)
    step("claims")
    claims = claims_frame(period)
    step("capitation")
    capitation = capitation_frame(period)
    step("reserves")
    estimate = ibnr_estimate(period.last)
    member_months = member_months_frame(period)
    frame = engine.lob_month_frame(
        revenue=revenue,
        claims=claims,
        capitation=capitation,
        ibnr=ibnr_frame(estimate),
        member_months=member_months,
        months=months,
    )
    total = engine.figures(frame, "All lines of business")
    rbo = _solvency(period, as_of, estimate, step)
    step("cost drivers")
    cost_drivers = drivers(period, total.member_months)
    step("quality")
    quality = quality_trajectory(period.last.last_day)
    return Dashboard(
        period=period,
        as_of=as_of,
        frame=frame,
        lobs=engine.by_lob(frame),
        total=total,
        months=engine.by_month(frame, months),
        estimate=estimate,
        criteria_version=rbo.criteria_version,
        criteria=rbo.criteria,
        balances=rbo.balances,
        drivers=cost_drivers,
        quality=quality,
    )


CSV_HEADER = ("section", "line_of_business", "month", "item", "value")


def dashboard_csv_rows(dashboard: Dashboard) -> list[tuple[object, ...]]:
    """The dashboard's figures as CSV rows (amounts in dollars with two places, ratios as decimals)."""

    def money(cents: int | None) -> str:
        return "" if cents is None else decimal_text(cents)

    rows: list[tuple[object, ...]] = []
    for f in [*dashboard.lobs, dashboard.total]:
        name = "all" if f is dashboard.total else f.label
        rows += [
            ("period", name, "", "member_months", f.member_months),
            ("period", name, "", "revenue", money(f.revenue_cents)),
            ("period", name, "", "claims_paid", money(f.claims_cents)),
            ("period", name, "", "capitation_to_practices", money(f.capitation_cents)),
            ("period", name, "", "ibnr_estimate", money(f.ibnr_cents)),
            ("period", name, "", "medical_cost", money(f.cost_cents)),
            ("period", name, "", "revenue_pmpm", money(f.revenue_pmpm)),
            ("period", name, "", "cost_pmpm", money(f.cost_pmpm)),
            ("period", name, "", "mlr", "" if f.mlr is None else str(f.mlr)),
        ]
    for lob_name, month, mm, revenue, claims, capitation, ibnr in dashboard.frame.iter_rows():
        rows += [
            ("month", lob_name, f"{month:%Y-%m}", "member_months", mm),
            ("month", lob_name, f"{month:%Y-%m}", "revenue", money(revenue)),
            ("month", lob_name, f"{month:%Y-%m}", "medical_cost", money(claims + capitation + ibnr)),
        ]
    for c in dashboard.criteria:
        rows.append(("rbo", "", "", c.key, c.value_text))
        rows.append(("rbo", "", "", f"{c.key}_light", c.light.value))
    for title, items in (
        ("driver_category", dashboard.drivers.categories),
        ("driver_diagnosis", dashboard.drivers.diagnoses),
        ("driver_place", dashboard.drivers.places),
    ):
        for d in items:
            rows.append((title, "", "", d.label, money(d.paid_cents)))
    for m in dashboard.quality.measures:
        for run, value in zip(dashboard.quality.runs, m.percents, strict=True):
            rows.append(("quality", "", run, f"{m.measure} {m.rate}", "" if value is None else str(value)))
    return rows


def _figures_json(f: engine.Figures) -> dict[str, Any]:
    return {
        "member_months": f.member_months,
        "revenue_cents": f.revenue_cents,
        "claims_paid_cents": f.claims_cents,
        "capitation_to_practices_cents": f.capitation_cents,
        "ibnr_estimate_cents": f.ibnr_cents,
        "medical_cost_cents": f.cost_cents,
        "revenue_pmpm_cents": f.revenue_pmpm,
        "cost_pmpm_cents": f.cost_pmpm,
        "mlr": None if f.mlr is None else str(f.mlr),
    }


def dashboard_json(dashboard: Dashboard) -> dict[str, Any]:
    """The dashboard's figures for ``openipa board --json`` (money in integer cents, ratios as texts)."""
    estimate = dashboard.estimate

    def driver_rows(rows: list[engine.Driver]) -> list[dict[str, Any]]:
        return [{"label": r.label, "paid_cents": r.paid_cents, "pmpm_cents": r.pmpm_cents,
                 "share_percent": None if r.share_percent is None else str(r.share_percent)} for r in rows]  # fmt: skip

    return {
        "period": dashboard.period.code,
        "first_month": str(dashboard.period.first),
        "last_month": str(dashboard.period.last),
        "as_of": dashboard.as_of.isoformat(),
        "balances_as_of": dashboard.balance_day.isoformat(),
        "lines_of_business": {f.label: _figures_json(f) for f in dashboard.lobs},
        "total": _figures_json(dashboard.total),
        "months": {f.label: _figures_json(f) for f in dashboard.months},
        "rbo": {
            c.key: {
                "light": c.light.value,
                "value": c.value_text,
                "thresholds": c.threshold_text,
                "arithmetic": c.arithmetic,
            }
            for c in dashboard.criteria
        },
        "criteria_valid_from": dashboard.criteria_version.valid_from.isoformat(),
        "reserve": None
        if estimate is None
        else {
            "estimate_id": estimate.pk,
            "as_of": f"{estimate.as_of:%Y-%m}",
            "status": estimate.status,
            "method": estimate.method,
            "ibnr_cents": int(estimate.total_ibnr_cents),
        },
        "cost_drivers": {
            "paid_cents": dashboard.drivers.paid_cents,
            "service_category": driver_rows(dashboard.drivers.categories),
            "diagnosis_group": driver_rows(dashboard.drivers.diagnoses),
            "place_of_service": driver_rows(dashboard.drivers.places),
        },
        "quality": {
            "runs": list(dashboard.quality.runs),
            "measures": [
                {
                    "measure": m.measure,
                    "rate": m.rate,
                    "percents": [None if p is None else str(p) for p in m.percents],
                    "target_percent": None if m.target_percent is None else str(m.target_percent),
                    "met": m.met,
                }
                for m in dashboard.quality.measures
            ],
        },
    }
