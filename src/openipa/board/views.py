"""The board dashboard's pages: the dashboard (a period form, the RBO traffic lights, revenue against cost PMPM
and MLR by line of business, membership, reserves, top cost drivers, the quality trajectory), one drill-down
page per RBO criterion, and the CSV of the figures. VIEW_BOARD (a 403 page otherwise).

Links to the ledger, claims and reserves pages are offered only to whoever may open them (VIEW_FINANCE,
VIEW_CLAIMS): a board member sees the figures and never a link to a page with member-level data, contracts or
offers."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from openipa.board import engine, selectors
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped
from openipa.membership.views.common import actor_of
from openipa.ui import charts
from openipa.ui.errors import domain_errors


def today() -> dt.date:
    """The day the pages judge the criteria on (a function, so tests can fix it)."""
    return timezone.localdate()


class PeriodForm(forms.Form):
    period = forms.CharField(
        label="Period", required=False, max_length=16, help_text="2026-09, 2026-Q3 or 2026-09-YTD"
    )

    def resolve(self, today: Any) -> engine.Period:
        """The period asked for, the default (the quarter of the last closed month) when blank or invalid (the
        form then carries the error)."""
        text = (self.data.get("period") or "").strip() if self.is_bound else ""
        if not text:
            return engine.default_period(today)
        try:
            return engine.parse_period(text, today=today)
        except engine.BoardInputError as exc:
            self.is_valid()
            self.add_error("period", str(exc))
            return engine.default_period(today)


def _dollars(cents: int | None) -> float:
    """A chart value (a drawing, not money): dollars, never below zero."""
    return 0.0 if cents is None else max(cents, 0) / 100


def _chart_lobs(dashboard: selectors.Dashboard) -> list[engine.Figures]:
    return [f for f in dashboard.lobs if f.member_months or f.revenue_cents or f.cost_cents]


def _pmpm_chart(dashboard: selectors.Dashboard) -> SafeString:
    lobs = [*_chart_lobs(dashboard), dashboard.total]
    names = [engine.lob_label(f.label) if f is not dashboard.total else "All" for f in lobs]
    svg = charts.bar_chart(
        names,
        [charts.Series("Revenue PMPM", tuple(_dollars(f.revenue_pmpm) for f in lobs)),
         charts.Series("Medical cost PMPM", tuple(_dollars(f.cost_pmpm) for f in lobs))],
        title="Revenue against medical cost per member per month", x_label="Line of business",
        y_label="Dollars PMPM", stacked=False, chart_id="board-pmpm", plot_height=220,
    )  # fmt: skip
    return mark_safe(svg)  # charts escape every text they write


def _mlr_chart(dashboard: selectors.Dashboard) -> SafeString:
    lobs = [*_chart_lobs(dashboard), dashboard.total]
    names = [engine.lob_label(f.label) if f is not dashboard.total else "All" for f in lobs]
    svg = charts.bar_chart(
        names,
        [charts.Series("Medical loss ratio (%)", tuple(float(max(f.mlr_percent or Decimal(0), Decimal(0)))
                                                        for f in lobs))],
        title="Medical loss ratio by line of business", x_label="Line of business", y_label="Percent of revenue",
        chart_id="board-mlr", plot_height=200,
    )  # fmt: skip
    return mark_safe(svg)


def _trend_chart(dashboard: selectors.Dashboard) -> SafeString:
    months = [str(m) for m in dashboard.period.months]
    svg = charts.line_chart(
        months,
        [charts.Series("Revenue PMPM", tuple(_dollars(f.revenue_pmpm) for f in dashboard.months)),
         charts.Series("Medical cost PMPM", tuple(_dollars(f.cost_pmpm) for f in dashboard.months))],
        title="Revenue and medical cost PMPM by month", x_label="Month", y_label="Dollars PMPM",
        chart_id="board-trend", plot_height=200,
    )  # fmt: skip
    return mark_safe(svg)


def _membership_chart(dashboard: selectors.Dashboard) -> SafeString:
    lobs = [f for f in dashboard.lobs if f.member_months]
    months = [str(m) for m in dashboard.period.months]
    series = [
        charts.Series(
            engine.lob_label(f.label), tuple(float(m.member_months) for m in dashboard.months_of(f.label))
        )
        for f in lobs
    ]
    svg = charts.bar_chart(
        months, series, title="Member-months by line of business", x_label="Month", y_label="Member-months",
        chart_id="board-membership", plot_height=200,
    )  # fmt: skip
    return mark_safe(svg)


def _drivers_chart(dashboard: selectors.Dashboard) -> SafeString:
    rows = dashboard.drivers.categories
    svg = charts.bar_chart(
        [d.label for d in rows],
        [charts.Series("Paid PMPM", tuple(_dollars(d.pmpm_cents) for d in rows))],
        title="Claims paid PMPM by service category", x_label="Service category", y_label="Dollars PMPM",
        chart_id="board-drivers", plot_height=200,
    )  # fmt: skip
    return mark_safe(svg)


def _quality_chart(dashboard: selectors.Dashboard) -> SafeString:
    trajectory = dashboard.quality
    series = [
        charts.Series(f"{m.measure}" if m.measure == m.rate else f"{m.measure} {m.rate}",
                      tuple(float(p) if p is not None else 0.0 for p in m.percents))
        for m in trajectory.measures
    ]  # fmt: skip
    svg = charts.line_chart(
        list(trajectory.runs), series, title="Network rate per measure across the quality runs",
        x_label="Quality run", y_label="Percent", chart_id="board-quality", plot_height=240,
    )  # fmt: skip
    return mark_safe(svg)


@dataclass(frozen=True)
class StaffLinks:
    """Pages of other apps offered to whoever may open them (empty strings otherwise)."""

    trial_balance: str = ""
    claims_dashboard: str = ""
    reserves: str = ""
    estimate: str = ""

    def account(self, code: str) -> str:
        return reverse("web:ledger:account_detail", args=[code]) if self.trial_balance else ""


def staff_links(actor: Actor, dashboard: selectors.Dashboard | selectors.Solvency) -> StaffLinks:
    finance = has_perm(actor, Perm.VIEW_FINANCE) and not is_practice_scoped(actor)
    claims = has_perm(actor, Perm.VIEW_CLAIMS) and not is_practice_scoped(actor)
    return StaffLinks(
        trial_balance=reverse("web:ledger:trial_balance") if finance else "",
        claims_dashboard=reverse("web:claims:dashboard") if claims else "",
        reserves=reverse("web:claims:reserves") if finance else "",
        estimate=(
            reverse("web:claims:reserve_detail", args=[dashboard.estimate.pk])
            if finance and dashboard.estimate is not None
            else ""
        ),
    )


def _period(request: HttpRequest) -> tuple[Actor, PeriodForm, engine.Period, dt.date]:
    actor = actor_of(request)
    selectors.require_board(actor)
    day = today()
    form = PeriodForm(request.GET or None, initial={"period": engine.default_period(day).code})
    return actor, form, form.resolve(day), day


def _dashboard(request: HttpRequest) -> tuple[Actor, PeriodForm, selectors.Dashboard]:
    actor, form, period, day = _period(request)
    return actor, form, selectors.board_dashboard(actor, period=period, as_of=day)


def _quick_periods(today: Any) -> list[tuple[str, str]]:
    period = engine.default_period(today)
    last = Month.of(today) - 1
    return [
        (f"Month {last}", str(last)),
        (f"Quarter {period.code}", period.code),
        (f"Year to date {last}", f"{last}-YTD"),
    ]


@never_cache
@domain_errors
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    actor, form, board = _dashboard(request)
    context = {
        "form": form,
        "board": board,
        "period": board.period,
        "lobs": [(engine.lob_label(f.label), f) for f in board.lobs],
        "pmpm_chart": _pmpm_chart(board),
        "mlr_chart": _mlr_chart(board),
        "trend_chart": _trend_chart(board),
        "membership_chart": _membership_chart(board),
        "drivers_chart": _drivers_chart(board),
        "quality_chart": _quality_chart(board) if board.quality.runs else "",
        "links": staff_links(actor, board),
        "estimate_groups": ", ".join(str(g).replace("_", " ") for g in (board.estimate.group_by or []))
        if board.estimate is not None
        else "",
        "quick": _quick_periods(today()),
        "csv_url": reverse("web:board:dashboard_csv") + f"?period={board.period.code}",
    }
    return render(request, "web/board/dashboard.html", context)


@never_cache
@domain_errors
@require_GET
def criterion(request: HttpRequest, key: str) -> HttpResponse:
    if key not in engine.CRITERION_TITLES:
        raise Http404("no such criterion")
    actor, form, period, day = _period(request)
    board = selectors.solvency(actor, period=period, as_of=day)
    found = board.criterion(key)
    links = staff_links(actor, board)
    steps = [(s, [(code, links.account(code)) for code in s.accounts]) for s in found.steps]
    context = {
        "form": form,
        "board": board,
        "criterion": found,
        "steps": steps,
        "links": links,
        "version": board.criteria_version,
        "balances": [b for b in board.balances if b.balance_cents],
        "back_url": reverse("web:board:dashboard") + f"?period={board.period.code}",
    }
    return render(request, "web/board/criterion.html", context)


@never_cache
@domain_errors
@require_GET
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    _actor, _form, board = _dashboard(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(selectors.CSV_HEADER)
    writer.writerows(selectors.dashboard_csv_rows(board))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="board-{board.period.code}.csv"'
    response["Cache-Control"] = "no-store"
    return response
