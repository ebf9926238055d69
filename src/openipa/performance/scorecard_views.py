"""The scorecard pages: the home (the league table of all practices for IPA staff; a practice user goes to its own
practice's card), a practice's and a PCP's scorecard with trend charts, and each scorecard's CSV. The period is a
choice (``?period=2026-Q3``: a month, a quarter, a year to date or a year). Scoping is the selectors'
(``openipa.performance.scorecard_selectors``): another practice's card is a 404 for a practice user, the league
a 403; roles without VIEW_SCORECARDS get a 403."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from openipa.core.roles import is_practice_scoped
from openipa.membership.views.common import actor_of
from openipa.performance import scorecard_selectors as sel
from openipa.performance.engine import scorecard as sc
from openipa.ui import charts
from openipa.ui.errors import domain_errors

NOT_ENOUGH = "not enough peers"
LEAGUE_COLUMNS = ("risk_adjusted_cost_pmpm", "admissions_per_1000", "ed_per_1000", "imaging_per_1000",
                  "referrals_per_1000", "denial_rate", "raf", "recapture_rate", "gap_closure_rate")  # fmt: skip


def fmt(value: Decimal | None, kind: str) -> str:
    """A metric's value for people: money $1,234.56, per 1,000 with one decimal, ratios as percents, RAF with
    three decimals; an em dash when there is none."""
    if value is None:
        return "\u2014"
    if kind == "money":
        sign = "-" if value < 0 else ""
        return f"{sign}${abs(value):,.2f}"
    if kind == "per_1000":
        return f"{value:,.1f}"
    if kind == "ratio":
        return f"{value * 100:.1f}%"
    if kind == "raf":
        return f"{value:.3f}"
    return f"{value}"


@dataclass(frozen=True)
class DisplayRow:
    key: str
    label: str
    group: str
    value: str
    target: str
    met: bool | None
    peers: dict[str, str] | None  # mean, p25, median, p75; None: not enough peers
    peer_count: str


def _display(card: sel.Scorecard) -> list[DisplayRow]:
    out = []
    for r in card.rows:
        peers = None
        count = ""
        if r.peers is not None:
            peers = {name: fmt(getattr(r.peers, name), r.kind) for name in ("mean", "p25", "median", "p75")}
            count = f"{r.peers.units} {'practices' if card.unit == 'practice' else 'PCPs'}"
            if card.unit == "pcp":
                count += f" of {r.peers.groups} practices"
        out.append(DisplayRow(r.key, r.label, r.group, fmt(r.value, r.kind),
                              fmt(r.target, r.kind) if r.target is not None else "", r.met, peers, count))  # fmt: skip
    return out


def _period(request: HttpRequest) -> tuple[sc.ScorePeriod, str]:
    """The period asked for (``?period=``), or the last complete quarter; and an error to show (the default is
    used then)."""
    today = timezone.localdate()
    text = request.GET.get("period", "").strip()
    if not text:
        return sc.default_period(today), ""
    try:
        return sc.parse_period(text, today), ""
    except ValueError as exc:
        return sc.default_period(today), str(exc)


def _choices(today: dt.date) -> list[str]:
    """Quick picks: this year to date, the last four quarters, the last three months."""
    picks: list[str] = []
    if today.month > 1:
        picks.append(f"{today.year}-YTD")
    quarter = sc.default_period(today)
    year, q = quarter.first.year, (quarter.first.month - 1) // 3 + 1
    for _ in range(4):
        picks.append(f"{year}-Q{q}")
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    month = dt.date(today.year, today.month, 1)
    for _ in range(3):
        month = (month - dt.timedelta(days=1)).replace(day=1)
        picks.append(f"{month:%Y-%m}")
    return picks


def _safe(svg: str) -> SafeString:
    return mark_safe(svg)  # charts escape every text they write


def _trend_charts(card: sel.Scorecard) -> list[SafeString]:
    """One line chart per monthly metric: the unit's value and the peers' median, over the months in which the
    unit had members (a month without a value, or a negative one, is not drawn)."""
    out = []
    for t in card.trend:
        kept = [i for i, v in enumerate(t.values) if v is not None and v >= 0]
        if not kept:
            continue
        labels = [f"{card.months[i]:%Y-%m}" for i in kept]
        series = [charts.Series(card.name if card.unit == "pcp" else "This practice",
                                tuple(float(t.values[i] or 0) for i in kept))]  # fmt: skip
        medians = [t.peer_median[i] for i in kept]
        if all(m is not None and m >= 0 for m in medians):
            series.append(charts.Series("Peer median", tuple(float(m or 0) for m in medians)))
        out.append(_safe(charts.line_chart(labels, series, title=t.label, x_label="Month", y_label=t.label,
                                           chart_id=f"scorecard-{t.key}", width=520, plot_height=180)))  # fmt: skip
    q = card.quality_trend
    kept = [i for i, v in enumerate(q.values) if v is not None]
    if kept:
        labels = [f"{card.quality_dates[i]:%Y-%m-%d}" for i in kept]
        series = [charts.Series(card.name if card.unit == "pcp" else "This practice",
                                tuple(float((q.values[i] or 0) * 100) for i in kept))]  # fmt: skip
        medians = [q.peer_median[i] for i in kept]
        if all(m is not None for m in medians):
            series.append(charts.Series("Peer median", tuple(float((m or 0) * 100) for m in medians)))
        out.append(_safe(charts.line_chart(labels, series, title="Quality results without an open gap (%)",
                                           x_label="Quality run as of", y_label="Percent",
                                           chart_id="scorecard-quality", width=520, plot_height=180)))  # fmt: skip
    return out


def _links(card: sel.Scorecard, period: sc.ScorePeriod) -> dict[str, str]:
    name = "practice_scorecard" if card.unit == "practice" else "pcp_scorecard"
    query = f"?period={period.label}"
    return {
        "csv": reverse(f"web:performance:{name}_csv", args=[card.unit_id]) + query,
        "practice": reverse("web:performance:practice_scorecard", args=[card.practice_id]) + query
        if card.practice_id
        else "",
    }


def _render_card(request: HttpRequest, card: sel.Scorecard, period: sc.ScorePeriod, error: str,
                 pcps: list[sel.UnitLine]) -> HttpResponse:  # fmt: skip
    actor = actor_of(request)
    context: dict[str, Any] = {
        "card": card,
        "rows": _display(card),
        "groups": (("cost", "Cost"), ("utilization", "Utilization"), ("um", "Utilization management"),
                   ("risk", "Risk adjustment"), ("quality", "Quality")),
        "charts": _trend_charts(card),
        "period": period,
        "period_error": error,
        "choices": _choices(timezone.localdate()),
        "links": _links(card, period),
        "practice_user": is_practice_scoped(actor),
        "pcps": [(line, fmt(line.values.get("risk_adjusted_cost_pmpm"), "money"),
                  reverse("web:performance:pcp_scorecard", args=[line.unit_id]) + f"?period={period.label}")
                 for line in pcps],
        "money": {"claims": fmt(Decimal(card.counts.claims_cents) / 100, "money"),
                  "capitation": fmt(Decimal(card.counts.capitation_cents) / 100, "money")},
    }  # fmt: skip
    return render(request, "web/performance/scorecard.html", context)


@never_cache
@domain_errors
@require_GET
def scorecard_home(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    sel.require_view(actor)
    period, error = _period(request)
    if not sel.sees_league(actor):
        url = reverse("web:performance:practice_scorecard", args=[actor.practice_id])
        return redirect(f"{url}?period={period.label}")
    league = sel.league(actor, period)
    lines = [
        (line, [fmt(line.values.get(key), sc.SPECS[key].kind) for key in LEAGUE_COLUMNS],
         reverse("web:performance:practice_scorecard", args=[line.unit_id]) + f"?period={period.label}")
        for line in league.lines
    ]  # fmt: skip
    peers = []
    for key in LEAGUE_COLUMNS:
        p = league.peers.get(key)
        kind = sc.SPECS[key].kind
        peers.append({n: fmt(getattr(p, n), kind) for n in ("mean", "p25", "median", "p75")} if p else None)
    qualified = [line for line in league.lines if line.qualifies
                 and line.values.get("risk_adjusted_cost_pmpm") is not None]  # fmt: skip
    chart: SafeString | str = ""
    cost_values = [line.values["risk_adjusted_cost_pmpm"] or Decimal(0) for line in qualified]
    if qualified and all(v >= 0 for v in cost_values):
        median = league.peers.get("risk_adjusted_cost_pmpm")
        series = [charts.Series("Risk-adjusted cost PMPM", tuple(float(v) for v in cost_values))]
        if median is not None:
            series.append(charts.Series("Peer median", tuple(float(median.median) for _ in qualified)))
        chart = _safe(charts.bar_chart([line.code for line in qualified], series, stacked=False,
                                       title="Risk-adjusted cost PMPM per practice against the peer median",
                                       x_label="Practice", y_label="Dollars PMPM", chart_id="scorecard-league",
                                       plot_height=220))  # fmt: skip
    context = {
        "league": league,
        "lines": lines,
        "columns": [sc.SPECS[key].label for key in LEAGUE_COLUMNS],
        "peers": peers,
        "chart": chart,
        "period": period,
        "period_error": error,
        "choices": _choices(timezone.localdate()),
        "csv": reverse("web:performance:scorecard_league_csv") + f"?period={period.label}",
    }
    return render(request, "web/performance/scorecards.html", context)


@never_cache
@domain_errors
@require_GET
def practice_scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    period, error = _period(request)
    card, pcps = sel.practice_page(actor, pk, period)
    return _render_card(request, card, period, error, pcps)


@never_cache
@domain_errors
@require_GET
def pcp_scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    period, error = _period(request)
    card = sel.pcp_scorecard(actor, pk, period)
    return _render_card(request, card, period, error, [])


def _csv(header: Iterable[object], rows: Iterable[Iterable[object]], name: str) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _plain(value: Decimal | None) -> str:
    return "" if value is None else str(value)


CARD_HEADER = ("unit", "name", "code", "period", "metric", "label", "value", "target", "target_met", "peer_mean",
               "peer_p25", "peer_median", "peer_p75", "peer_units")  # fmt: skip


def card_rows(card: sel.Scorecard) -> list[list[str]]:
    """The scorecard as CSV rows (CARD_HEADER): exact values (money in dollars, rates as fractions); empty peer
    cells where there are not enough peers."""
    rows = []
    for r in card.rows:
        p = r.peers
        rows.append([card.unit, card.name, card.code, card.period.label, r.key, r.label, _plain(r.value),
                     _plain(r.target), "" if r.met is None else str(r.met).lower(),
                     *((_plain(p.mean), _plain(p.p25), _plain(p.median), _plain(p.p75), str(p.units)) if p
                       else ("", "", "", "", NOT_ENOUGH))])  # fmt: skip
    return rows


@never_cache
@domain_errors
@require_GET
def practice_scorecard_csv(request: HttpRequest, pk: int) -> HttpResponse:
    period, _error = _period(request)
    card = sel.practice_scorecard(actor_of(request), pk, period)
    return _csv(CARD_HEADER, card_rows(card), f"scorecard-{card.code}-{period.label}.csv")


@never_cache
@domain_errors
@require_GET
def pcp_scorecard_csv(request: HttpRequest, pk: int) -> HttpResponse:
    period, _error = _period(request)
    card = sel.pcp_scorecard(actor_of(request), pk, period)
    return _csv(CARD_HEADER, card_rows(card), f"scorecard-pcp-{card.code}-{period.label}.csv")


@never_cache
@domain_errors
@require_GET
def league_csv(request: HttpRequest) -> HttpResponse:
    period, _error = _period(request)
    league = sel.league(actor_of(request), period)
    keys = [m.key for m in sc.METRICS]
    rows = [[line.code, line.name, period.label, str(line.member_months), str(line.qualifies).lower(),
             *(_plain(line.values.get(k)) for k in keys)] for line in league.lines]  # fmt: skip
    return _csv(["code", "name", "period", "member_months", "peer", *keys], rows,
                f"scorecards-{period.label}.csv")  # fmt: skip
