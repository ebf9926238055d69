"""Reads for the practice and PCP scorecards: the engine's frames (:mod:`openipa.performance.engine.scorecard`)
from membership, claims payments, capitation distributions, claim lines, UM requests, risk runs and quality
runs, and the scorecards themselves, scoped to the actor.

Who sees what (``Perm.VIEW_SCORECARDS``):

- IPA staff see every practice's and every PCP's scorecard, and the league table of all practices; their peer
  figures are over every practice (or PCP) with the minimum member-months.
- A practice user sees its own practice's scorecard and its own PCPs' (a PCP is the practice's whose panel had
  it last in the period); anything else is ``NotFound``, as if it did not exist. Its peer figures are
  aggregates (mean, quartiles) of the OTHER practices with the minimum member-months, shown only when they
  come from at least ``min_peer_practices`` practices (the data file's K): never a list, a rank, a minimum or
  a maximum.

Everything a scorecard shows is an aggregate over a practice's or PCP's members: these reads are not audited
(as the under-service watch's). The inputs' identity (quality runs, risk runs, the data file's versions) is
in ``Scorecard.sources``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from django.db.models import Count, F, Q, Sum

from openipa.capitation.models import DistributionLine, DistributionRun
from openipa.claims.models import Claim, ClaimLine, ClaimPaymentRun
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.frames import query_frame
from openipa.core.roles import Actor, Perm, is_practice_scoped, require
from openipa.membership.models import EligibilitySpan, PcpAssignment
from openipa.network.models import Practice, Provider
from openipa.performance.engine import scorecard as sc
from openipa.performance.engine import watch
from openipa.quality.gapdata import load_targets
from openipa.quality.models import MeasureResult, QualityRun, RateResult
from openipa.risk import selectors as risk_selectors
from openipa.risk.models import CodingGap, MemberScore, RiskRun
from openipa.utilization import selectors as um_selectors
from openipa.utilization.models import AuthEvent, AuthRequest
from openipa.utilization.reports import DECISION_ACTIONS

TREND_METRICS = ("risk_adjusted_cost_pmpm", "admissions_per_1000", "ed_per_1000", "imaging_per_1000",
                 "referrals_per_1000")  # fmt: skip


def require_view(actor: Actor) -> None:
    require(actor, Perm.VIEW_SCORECARDS)
    if is_practice_scoped(actor) and actor.practice_id is None:
        raise PermissionDenied("a practice user without a practice sees no scorecard")


def sees_league(actor: Actor) -> bool:
    """IPA staff with the scorecards' view (not a practice user) see every practice."""
    return not is_practice_scoped(actor)


# -- the engine's frames -----------------------------------------------------------------------------------------


def _overlapping(qs: Any, first: dt.date, last: dt.date) -> Any:
    return qs.filter(valid_from__lte=last).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first))


def _panel_frames(first: dt.date, last: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    eligibility = query_frame(
        _overlapping(EligibilitySpan.objects.all(), first, last),
        {"member": ("member_id", pl.Int64), "start": ("valid_from", pl.Date), "end": ("valid_to", pl.Date)},
    )
    assignments = query_frame(
        _overlapping(PcpAssignment.objects.all(), first, last),
        {"member": ("member_id", pl.Int64), "practice": ("practice_id", pl.Int64), "pcp": ("provider_id", pl.Int64),
         "start": ("valid_from", pl.Date), "end": ("valid_to", pl.Date)},
    )  # fmt: skip
    return eligibility, assignments


def paid_frame(first: dt.date, last: dt.date) -> pl.DataFrame:
    """Claims paid: each payment of a claim line with a member and a date of service from `first` through
    `last` by a claims payment run that is paid, and each reversal of one (negative), dated by the line's date
    of service (PAID_SCHEMA)."""
    runs = list(
        ClaimPaymentRun.objects.filter(status=ClaimPaymentRun.Status.PAID).values_list("pk", flat=True)
    )
    window = ClaimLine.objects.filter(
        claim__member__isnull=False, service_from__gte=first, service_from__lte=last
    ).exclude(paid_cents=0)
    columns = {"member": ("claim__member_id", pl.Int64), "on": ("service_from", pl.Date),
               "cents": ("paid_cents", pl.Int64)}  # fmt: skip
    paid = query_frame(window.filter(payment_run_id__in=runs), columns)
    reversed_ = query_frame(window.filter(reversal_run_id__in=runs), columns).with_columns(-pl.col("cents"))
    return pl.concat([paid, reversed_]).cast(sc.PAID_SCHEMA)  # type: ignore[arg-type]


def capitation_frame(first: dt.date, last: dt.date) -> pl.DataFrame:
    """Capitation paid for each month from `first` through `last`: the PCP capitation net of the withhold plus
    the specialist sub-capitation of the lines of paid distribution runs (adjustment runs' lines are
    differences, negative for recoupments), to the line's practice and PCP (CAPITATION_SCHEMA). The sum is
    taken in the database per month, practice and PCP (the scorecard needs no member here, and a year of
    member-months is hundreds of thousands of lines): ``member`` is null."""
    rows = (
        DistributionLine.objects.filter(
            run__status=DistributionRun.Status.PAID, month__gte=first, month__lte=last
        )
        .values("month", "practice_id", "provider_id")
        .order_by()
        .annotate(cents=Sum(F("pcp_net_cents") + F("specialist_cents")))
    )
    return pl.DataFrame(
        [(None, r["month"], r["practice_id"], r["provider_id"], int(r["cents"] or 0)) for r in rows],
        schema=sc.CAPITATION_SCHEMA,
        orient="row",
    )


def claim_lines_frame(first: dt.date, last: dt.date, imaging: Sequence[tuple[str, str]]) -> pl.DataFrame:
    """Claim lines that may be ED visits, admissions (the watch's filter) or imaging (a code in one of the
    ranges), not voids, not of reversed claims (watch.CLAIM_LINE_SCHEMA)."""
    imaging_q = Q()
    for low, high in imaging:
        imaging_q |= Q(code__gte=low, code__lte=high)
    lines = (
        ClaimLine.objects.filter(claim__member__isnull=False, service_from__gte=first, service_from__lte=last)
        .exclude(claim__status=Claim.Status.REVERSED)
        .exclude(claim__frequency=Claim.Frequency.VOID)
        .filter(
            Q(place_of_service=watch.ED_PLACE)
            | Q(claim__place_of_service=watch.ED_PLACE)
            | Q(revenue_code__startswith=watch.ED_REVENUE_PREFIX)
            | Q(revenue_code=watch.ED_REVENUE_OTHER)
            | Q(code__in=[*watch.ED_CODES, *watch.ADMIT_CODES])
            | Q(claim__kind=Claim.Kind.INSTITUTIONAL, claim__type_of_bill__startswith="0" + watch.INPATIENT_BILL)
            | imaging_q
        )
        .values_list(
            "claim__member_id", "service_from", "claim__kind", "place_of_service", "claim__place_of_service",
            "claim__type_of_bill", "revenue_code", "code",
        )
    )  # fmt: skip
    return pl.DataFrame(
        [
            (m, on, kind, pos or claim_pos, tob, rev, code)
            for m, on, kind, pos, claim_pos, tob, rev, code in lines
        ],
        schema=watch.CLAIM_LINE_SCHEMA,
        orient="row",
    )


def requests_frame(first: dt.date, last: dt.date) -> pl.DataFrame:
    """UM requests received from `first` through `last` (the IPA's local dates): member, date, kind and the
    initial outcome (the first decision of its history; "withdrawn" for a withdrawn request without one; ""
    while open), as the under-service watch reads them (watch.REQUEST_SCHEMA)."""
    zone = um_selectors.ipa_zone()
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    rows = list(
        AuthRequest.objects.filter(received_at__gte=start, received_at__lt=end).values_list(
            "pk", "member_id", "received_at", "kind", "status"
        )
    )
    decisions: dict[int, str] = {}
    ids = [r[0] for r in rows]
    for i in range(0, len(ids), 20_000):
        events = (
            AuthEvent.objects.filter(request_id__in=ids[i : i + 20_000], action__in=list(DECISION_ACTIONS))
            .order_by("request_id", "at", "id")
            .values_list("request_id", "action")
        )
        for request_id, action in events:
            decisions.setdefault(request_id, DECISION_ACTIONS[action])
    withdrawn = AuthRequest.Status.WITHDRAWN
    return pl.DataFrame(
        [(member, received.astimezone(zone).date(), kind,
          decisions.get(pk, "withdrawn" if status == withdrawn else ""))
         for pk, member, received, kind, status in rows],
        schema=watch.REQUEST_SCHEMA,
        orient="row",
    )  # fmt: skip


def risk_frame(years: Sequence[int]) -> tuple[pl.DataFrame, dict[int, int]]:
    """The payment RAF of each member in the latest approved risk run of each payment year (RISK_SCHEMA), and
    the run id per year."""
    parts, runs = [], {}
    for year in sorted(set(years)):
        rafs = risk_selectors.approved_payment_rafs(year)
        if rafs.height:
            runs[year] = int(rafs["run_id"][0])
        parts.append(
            rafs.select(
                pl.col("member_id").alias("member"),
                pl.lit(year, dtype=pl.Int64).alias("year"),
                pl.col("raf_milli").cast(pl.Int64),
            )
        )
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=sc.RISK_SCHEMA)
    return frame.cast(sc.RISK_SCHEMA), runs  # type: ignore[arg-type]


def _quality_rows(run: QualityRun) -> pl.DataFrame:
    return query_frame(
        MeasureResult.objects.filter(run=run),
        {
            "measure": ("measure", pl.String),
            "rate": ("rate", pl.String),
            "member": ("member_id", pl.Int64),
            "episode": ("episode_id", pl.String),
            "practice": ("practice_id", pl.Int64),
            "pcp": ("pcp_id", pl.Int64),
            "denominator": ("denominator", pl.Boolean),
            "numerator": ("numerator", pl.Boolean),
            "gap": ("gap", pl.Boolean),
        },
    ).cast(sc.QUALITY_SCHEMA)  # type: ignore[arg-type]


def quality_runs(period: sc.ScorePeriod) -> tuple[QualityRun | None, QualityRun | None]:
    """(latest, baseline): the latest quality run as of the period's end (of several as of one day, the latest
    made), and the baseline its gaps are compared with: the latest run of the same measurement year as of
    before the period began, else the earliest as of within the period (None when that is the latest run)."""
    latest = QualityRun.objects.filter(as_of__lte=period.last).order_by("-as_of", "-run_at", "-pk").first()
    if latest is None:
        return None, None
    same_year = QualityRun.objects.filter(measurement_year=latest.measurement_year)
    baseline = same_year.filter(as_of__lt=period.first).order_by("-as_of", "-run_at", "-pk").first()
    if baseline is None:
        baseline = (
            same_year.filter(as_of__gte=period.first, as_of__lt=latest.as_of).order_by("as_of", "-run_at", "-pk")
            .first()
        )  # fmt: skip
    return latest, baseline


def quality_trend_counts(
    latest: QualityRun, unit: str, limit: int = 12
) -> tuple[list[QualityRun], pl.DataFrame]:
    """The runs of the latest run's measurement year as of its day or before (the latest made per as-of day, the
    last `limit`, earliest first), and per run and unit the results in a denominator and those without an open
    gap (run, <unit>, denominator, met)."""
    per_day: dict[dt.date, QualityRun] = {}
    for run in QualityRun.objects.filter(
        measurement_year=latest.measurement_year, as_of__lte=latest.as_of
    ).order_by("as_of", "run_at", "pk"):
        per_day[run.as_of] = run
    runs = [per_day[day] for day in sorted(per_day)][-limit:]
    field = "practice_id" if unit == "practice" else "pcp_id"
    rows = (
        MeasureResult.objects.filter(run__in=runs, denominator=True, **{f"{field}__isnull": False})
        .values("run_id", field)
        .annotate(den=Count("pk"), met=Count("pk", filter=Q(gap=False)))
        .order_by()
    )
    frame = pl.DataFrame(
        [(r["run_id"], r[field], r["den"], r["met"]) for r in rows],
        schema={"run": pl.Int64, unit: pl.Int64, "denominator": pl.Int64, "met": pl.Int64},
        orient="row",
    )
    return runs, frame


def recapture_frames(year: int) -> tuple[pl.DataFrame, pl.DataFrame, RiskRun | None, RiskRun | None]:
    """(prior HCCs, open recapture gaps, prior run, current run) for service year `year`: the prior year's HCCs
    are the payment HCCs of the latest approved run of payment year `year` (diagnoses of `year` - 1); the ones
    still open are the recapture gaps of the latest run of payment year `year` + 1 (diagnoses of `year`;
    approved preferred, else the latest draft, the PCPs' work list). Empty frames when a run is missing."""
    prior_run = risk_selectors.latest_approved_run(year)
    current = risk_selectors.latest_approved_run(year + 1) or (
        RiskRun.objects.filter(payment_year=year + 1).order_by("-prepared_at", "-pk").first()
    )
    empty = pl.DataFrame(schema=sc.HCC_SCHEMA)
    if prior_run is None or current is None:
        return empty, empty, prior_run, current
    prior = pl.DataFrame(
        [(member, str(hcc)) for member, hccs in MemberScore.objects.filter(run=prior_run).values_list("member_id",
                                                                                                    "hccs")
         for hcc in (hccs or [])],
        schema=sc.HCC_SCHEMA, orient="row",
    )  # fmt: skip
    still_open = query_frame(
        CodingGap.objects.filter(run=current, kind=CodingGap.Kind.RECAPTURE),
        {"member": ("member_id", pl.Int64), "hcc": ("hcc", pl.String)},
    )
    return prior, still_open, prior_run, current


# -- the computation over every unit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """What a scorecard was computed from, to reproduce it."""

    quality_run_id: int | None
    quality_as_of: dt.date | None
    baseline_run_id: int | None
    baseline_as_of: dt.date | None
    risk_run_ids: dict[int, int]  # payment year -> approved run
    recapture_prior_run_id: int | None
    recapture_run_id: int | None
    settings: sc.Settings
    imaging: sc.ImagingRanges
    illustrative: bool


@dataclass(frozen=True)
class Computed:
    period: sc.ScorePeriod
    unit: str
    metrics: dict[int, sc.UnitMetrics]
    monthly: pl.DataFrame
    months: list[dt.date]
    groups: dict[int, int]  # unit -> practice
    eligible: list[int]  # units with the minimum member-months
    targets: dict[str, sc.Target]
    sources: Sources
    quality_runs: list[QualityRun]
    quality_met: dict[tuple[int, int], Decimal | None]  # (run, unit) -> share of results without an open gap


@dataclass(frozen=True)
class Inputs:
    """What the scorecards of a period are computed from, read once: the same for practices and PCPs (a
    practice's page computes both from one read)."""

    period: sc.ScorePeriod
    data: sc.ScorecardData
    months: list[dt.date]
    first: dt.date
    eligibility: pl.DataFrame
    assignments: pl.DataFrame
    risk: pl.DataFrame
    risk_runs: dict[int, int]
    paid: pl.DataFrame
    capitation: pl.DataFrame
    claim_lines: pl.DataFrame
    requests: pl.DataFrame
    latest: QualityRun | None
    baseline: QualityRun | None
    latest_rows: pl.DataFrame | None
    baseline_rows: pl.DataFrame | None
    prior: pl.DataFrame
    still_open: pl.DataFrame
    prior_run: RiskRun | None
    current_run: RiskRun | None
    targets: dict[str, sc.Target]


def load_inputs(period: sc.ScorePeriod) -> Inputs:
    """Every read the scorecards of `period` need (the frames of the 12 trend months and the period, the
    quality and risk runs, the data file's versions in force, the targets)."""
    data = sc.load_data()
    imaging = data.imaging_on(period.last)
    months = sc.trend_months(period)
    first = min(months[0], period.first)
    eligibility, assignments = _panel_frames(first, period.last)
    risk, risk_runs = risk_frame(range(first.year, period.last.year + 1))
    latest, baseline = quality_runs(period)
    latest_rows = _quality_rows(latest) if latest is not None else None
    baseline_rows = _quality_rows(baseline) if latest is not None and baseline is not None else None
    prior, still_open, prior_run, current_run = recapture_frames(period.last.year)
    targets = data.targets_on(period.last)
    if latest is not None:
        inverse = set(
            RateResult.objects.filter(run=latest, inverse=True).values_list("measure", "rate").distinct()
        )
        for (measure, rate), target in load_targets(latest.measurement_year).items():
            targets[sc.quality_key(measure, rate)] = sc.Target(
                period.first, None, target.target, "lower" if (measure, rate) in inverse else "higher"
            )
    return Inputs(
        period=period, data=data, months=months, first=first, eligibility=eligibility, assignments=assignments,
        risk=risk, risk_runs=risk_runs, paid=paid_frame(first, period.last),
        capitation=capitation_frame(first, period.last),
        claim_lines=claim_lines_frame(first, period.last, imaging.ranges),
        requests=requests_frame(first, period.last), latest=latest, baseline=baseline, latest_rows=latest_rows,
        baseline_rows=baseline_rows, prior=prior, still_open=still_open, prior_run=prior_run,
        current_run=current_run, targets=targets,
    )  # fmt: skip


def _compute(period: sc.ScorePeriod, unit: str, inputs: Inputs | None = None) -> Computed:
    """Every unit's metrics over `period` (`unit`: practice or pcp), from `inputs` (read now when not given)."""
    i = inputs if inputs is not None and inputs.period == period else load_inputs(period)
    settings = i.data.settings_on(period.last)
    imaging = i.data.imaging_on(period.last)
    monthly = sc.monthly_counts(
        eligibility=i.eligibility, assignments=i.assignments, paid=i.paid, capitation=i.capitation,
        claim_lines=i.claim_lines, requests=i.requests, risk=i.risk, first=i.first, last=period.last, unit=unit,
        imaging_ranges=imaging.ranges,
    )  # fmt: skip
    latest, baseline = i.latest, i.baseline
    quality: dict[int, tuple[sc.QualityRate, ...]] = {}
    closures: dict[int, tuple[int, int]] | None = None
    if i.latest_rows is not None:
        quality = sc.quality_counts(i.latest_rows, unit)
        if i.baseline_rows is not None:
            closures = sc.gaps_closed(i.latest_rows, i.baseline_rows, unit)
    members = sc.members_at_end(i.eligibility, i.assignments, period.first, period.last, unit)
    found = sc.unit_metrics(
        monthly, period.months, unit, quality=quality, closures=closures,
        recapture=sc.recapture_counts(members, i.prior, i.still_open, unit),
    )  # fmt: skip
    if unit == "practice":
        groups = {m.unit: m.unit for m in found}
    else:
        latest_practice = (
            watch.panels(i.eligibility, i.assignments)
            .filter(pl.col("start") <= period.last)
            .sort("pcp", "end", "start", "practice")
            .unique("pcp", keep="last")
        )
        groups = dict(latest_practice.select("pcp", "practice").iter_rows())
    eligible = [m.unit for m in found if m.member_months >= settings.min_member_months]
    sources = Sources(
        quality_run_id=latest.pk if latest else None, quality_as_of=latest.as_of if latest else None,
        baseline_run_id=baseline.pk if baseline else None, baseline_as_of=baseline.as_of if baseline else None,
        risk_run_ids=i.risk_runs, recapture_prior_run_id=i.prior_run.pk if i.prior_run else None,
        recapture_run_id=i.current_run.pk if i.current_run else None, settings=settings, imaging=imaging,
        illustrative=i.data.illustrative,
    )  # fmt: skip
    trend_runs: list[QualityRun] = []
    met: dict[tuple[int, int], Decimal | None] = {}
    if latest is not None:
        trend_runs, met_counts = quality_trend_counts(latest, unit)
        met = sc.quality_met_share(met_counts, unit)
    return Computed(period, unit, {m.unit: m for m in found}, monthly, i.months, groups, eligible,
                    dict(i.targets), sources, trend_runs, met)  # fmt: skip


# -- scorecards --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricRow:
    key: str
    label: str
    kind: str  # money | per_1000 | ratio | raf
    group: str  # cost | utilization | um | risk | quality
    better: str  # lower | higher | none
    value: Decimal | None
    peers: sc.PeerStats | None  # None: not enough peers (or none with a value)
    target: Decimal | None
    met: bool | None


@dataclass(frozen=True)
class TrendSeries:
    key: str
    label: str
    values: list[Decimal | None]  # the unit's value in each month
    peer_median: list[Decimal | None]  # None in a month without enough peers


@dataclass(frozen=True)
class Scorecard:
    """One practice's or PCP's scorecard for a period.

    - ``unit``: "practice" or "pcp"; ``unit_id`` the practice's or the provider's id; ``name`` and ``code`` (the
      practice's code, the PCP's NPI); ``practice_id``/``practice_name``: the practice (for a PCP: the one whose
      panel had it last in the period).
    - ``period``: the ScorePeriod (label, first, last).
    - ``counts``: the engine's UnitMetrics (member-months, claims and capitation cents, event counts, HCC and gap
      counts, the quality numerators and denominators).
    - ``rows``: one MetricRow per metric (METRICS, then each quality measure/rate the unit has): the value
      (Decimal, None when it has no denominator), the peers' PeerStats (mean, p25, median, p75, and how many
      units and practices are behind them; None: "not enough peers"), the target (Decimal or None) and
      whether it is met.
    - ``trend``: TrendSeries of the monthly metrics over the 12 months ending with the period (``months``).
    - ``quality_trend``: the share of the unit's quality results (in a denominator) without an open care gap in
      each quality run of the measurement year (``quality_dates``: the runs' as-of days), and the peers' median.
    - ``raf_defaulted``: no member had a payment RAF: costs are divided by 1.000.
    - ``qualifies``: the unit has the minimum member-months to count among the peers.
    - ``sources``: the runs and data versions it was computed from.
    """

    unit: str
    unit_id: int
    name: str
    code: str
    practice_id: int | None
    practice_name: str
    period: sc.ScorePeriod
    counts: sc.UnitMetrics
    rows: list[MetricRow]
    months: list[dt.date]
    trend: list[TrendSeries]
    quality_dates: list[dt.date]
    quality_trend: TrendSeries
    raf_defaulted: bool
    qualifies: bool
    min_peer_practices: int
    sources: Sources

    def row(self, key: str) -> MetricRow:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)


def _empty_metrics(unit_id: int) -> sc.UnitMetrics:
    return sc._with_values(sc.UnitMetrics(unit_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, None, None, ()))


def _measure_names(run_id: int | None) -> dict[str, str]:
    if run_id is None:
        return {}
    return dict(RateResult.objects.filter(run_id=run_id).values_list("measure", "measure_name"))


def _scorecard(computed: Computed, unit_id: int, exclude_group: int | None, min_groups: int, name: str,
               code: str, practice_id: int | None, practice_name: str) -> Scorecard:  # fmt: skip
    counts = computed.metrics.get(unit_id) or _empty_metrics(unit_id)
    values = {key: {u: m.values.get(key) for u, m in computed.metrics.items()} for key in
              sc.all_keys(computed.metrics.values())}  # fmt: skip
    names = _measure_names(computed.sources.quality_run_id)
    rows = []
    for key in [m.key for m in sc.METRICS] + [q.key for q in counts.quality]:
        spec = sc.SPECS.get(key)
        if spec is None:
            _q, measure, rate = key.split(":", 2)
            label = f"{measure} {names.get(measure, '')}".strip() + ("" if rate == measure else f": {rate}")
            spec = sc.MetricSpec(key, label, "ratio", computed.targets[key].better if key in computed.targets
                                 else "higher", "quality")  # fmt: skip
        peers = sc.peer_stats(values.get(key, {}), computed.groups, eligible=computed.eligible,
                              exclude_group=exclude_group, min_groups=min_groups, places=sc.places_of(key))  # fmt: skip
        target = computed.targets.get(key)
        value = counts.values.get(key)
        rows.append(MetricRow(key, spec.label, spec.kind, spec.group, spec.better, value, peers,
                              target.value if target else None, target.met(value) if target else None))  # fmt: skip
    trend = []
    by_month = sc.values_by_month(computed.monthly, computed.unit)
    for key in TREND_METRICS:
        own = [by_month.get((unit_id, month), {}).get(key) for month in computed.months]
        medians: list[Decimal | None] = []
        for month in computed.months:
            month_values = {u: by_month.get((u, month), {}).get(key) for u in computed.eligible}
            stats = sc.peer_stats(month_values, computed.groups, eligible=computed.eligible,
                                  exclude_group=exclude_group, min_groups=min_groups, places=sc.places_of(key))  # fmt: skip
            medians.append(stats.median if stats else None)
        trend.append(TrendSeries(key, sc.SPECS[key].label, own, medians))
    q_own: list[Decimal | None] = []
    q_medians: list[Decimal | None] = []
    for run in computed.quality_runs:
        q_own.append(computed.quality_met.get((run.pk, unit_id)))
        run_values = {u: computed.quality_met.get((run.pk, u)) for u in computed.eligible}
        stats = sc.peer_stats(run_values, computed.groups, eligible=computed.eligible, exclude_group=exclude_group,
                              min_groups=min_groups, places=sc.RATIO)  # fmt: skip
        q_medians.append(stats.median if stats else None)
    quality_trend = TrendSeries("quality_met", "Quality results without an open gap", q_own, q_medians)
    return Scorecard(
        unit=computed.unit, unit_id=unit_id, name=name, code=code, practice_id=practice_id,
        practice_name=practice_name, period=computed.period, counts=counts, rows=rows, months=computed.months,
        trend=trend, quality_dates=[r.as_of for r in computed.quality_runs], quality_trend=quality_trend,
        raf_defaulted=counts.scored_member_months == 0, qualifies=unit_id in computed.eligible,
        min_peer_practices=min_groups, sources=computed.sources,
    )  # fmt: skip


def _peer_rule(actor: Actor, computed: Computed) -> tuple[int | None, int]:
    """(group to leave out, minimum groups): a practice user's own practice and K; staff: none and 1."""
    if is_practice_scoped(actor):
        return actor.practice_id, computed.sources.settings.min_peer_practices
    return None, 1


def _practice(actor: Actor, practice_id: int) -> Practice:
    if is_practice_scoped(actor) and practice_id != actor.practice_id:
        raise NotFound("no such practice")
    try:
        return Practice.objects.get(pk=practice_id)
    except Practice.DoesNotExist:
        raise NotFound("no such practice") from None


def practice_scorecard(
    actor: Actor, practice_id: int, period: sc.ScorePeriod, *, inputs: Inputs | None = None
) -> Scorecard:
    """The scorecard of practice `practice_id` over `period` (see :class:`Scorecard` for its shape): a practice
    user's own practice only (another: NotFound), its peers the other practices' aggregates when there are at
    least K of them; staff: any practice, peers over all practices."""
    require_view(actor)
    practice = _practice(actor, practice_id)
    computed = _compute(period, "practice", inputs)
    exclude, min_groups = _peer_rule(actor, computed)
    return _scorecard(computed, practice.pk, exclude, min_groups, practice.legal_name, practice.code,
                      practice.pk, practice.legal_name)  # fmt: skip


def pcp_scorecard(actor: Actor, pcp_id: int, period: sc.ScorePeriod) -> Scorecard:
    """The scorecard of the PCP `pcp_id` over `period`: a practice user's own PCPs only (the PCP's practice is
    the one whose panel had it last in the period; another: NotFound); peers are PCPs (of other practices, at
    least K of them, for a practice user)."""
    require_view(actor)
    try:
        provider = Provider.objects.get(pk=pcp_id)
    except Provider.DoesNotExist:
        raise NotFound("no such PCP") from None
    computed = _compute(period, "pcp")
    practice_id = computed.groups.get(provider.pk)
    if practice_id is None or (is_practice_scoped(actor) and practice_id != actor.practice_id):
        raise NotFound("no such PCP")
    practice = Practice.objects.get(pk=practice_id)
    exclude, min_groups = _peer_rule(actor, computed)
    return _scorecard(computed, provider.pk, exclude, min_groups, str(provider), provider.npi, practice.pk,
                      practice.legal_name)  # fmt: skip


@dataclass(frozen=True)
class UnitLine:
    unit_id: int
    name: str
    code: str
    practice_id: int | None
    member_months: int
    qualifies: bool
    values: dict[str, Decimal | None]


def practice_pcps(
    actor: Actor, practice_id: int, period: sc.ScorePeriod, *, inputs: Inputs | None = None
) -> list[UnitLine]:
    """The PCPs of a practice in the period (its panel had them last) with their headline values: a practice
    user's own practice only."""
    require_view(actor)
    practice = _practice(actor, practice_id)
    computed = _compute(period, "pcp", inputs)
    mine = [u for u, p in computed.groups.items() if p == practice.pk]
    providers = Provider.objects.in_bulk(mine)
    lines = [
        UnitLine(
            u,
            str(providers[u]),
            providers[u].npi,
            practice.pk,
            computed.metrics[u].member_months,
            u in computed.eligible,
            computed.metrics[u].values,
        )
        for u in mine
        if u in providers and u in computed.metrics
    ]
    return sorted(lines, key=lambda line: line.name)


def practice_page(actor: Actor, practice_id: int, period: sc.ScorePeriod) -> tuple[Scorecard, list[UnitLine]]:
    """A practice's scorecard and its PCPs' lines (as ``practice_scorecard`` and ``practice_pcps``, scoped
    alike), computed from one read of the period's inputs."""
    require_view(actor)
    _practice(actor, practice_id)
    inputs = load_inputs(period)
    return (
        practice_scorecard(actor, practice_id, period, inputs=inputs),
        practice_pcps(actor, practice_id, period, inputs=inputs),
    )


@dataclass(frozen=True)
class League:
    period: sc.ScorePeriod
    lines: list[UnitLine]
    peers: dict[str, sc.PeerStats | None]
    targets: dict[str, sc.Target]
    sources: Sources


def league(actor: Actor, period: sc.ScorePeriod) -> League:
    """Every practice's headline metrics over `period` (a practice without members in it: zero member-months and
    no values), with the network's peer aggregates: IPA staff only (a practice user is refused: it sees no list
    of other practices)."""
    require_view(actor)
    if not sees_league(actor):
        raise PermissionDenied("the league table of all practices is for IPA staff")
    computed = _compute(period, "practice")
    lines = []
    for p in Practice.objects.order_by("legal_name", "pk"):
        m = computed.metrics.get(p.pk) or _empty_metrics(p.pk)
        lines.append(
            UnitLine(p.pk, p.legal_name, p.code, p.pk, m.member_months, p.pk in computed.eligible, m.values)
        )
    peers = {
        key: sc.peer_stats({u: m.values.get(key) for u, m in computed.metrics.items()}, computed.groups,
                           eligible=computed.eligible, exclude_group=None, min_groups=1, places=sc.places_of(key))
        for key in (m.key for m in sc.METRICS)
    }  # fmt: skip
    return League(period, lines, peers, computed.targets, computed.sources)
