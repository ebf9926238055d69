"""The claims dashboard: inventory and aging, the share decided within 45 working days, auto-adjudication per
run, denials by CARC and paid PMPM by month, each a chart with its table (definitions in
``openipa.claims.selectors.dashboard``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from openipa.claims.selectors import dashboard as selectors
from openipa.core.months import Month, months_between
from openipa.membership.forms import MonthField
from openipa.membership.views.common import actor_of
from openipa.ui import charts
from openipa.ui.errors import domain_errors

DEFAULT_MONTHS = 12
MAX_MONTHS = 36


class DashboardForm(forms.Form):
    month_from = MonthField(label="From month", required=False, help_text="YYYY-MM")
    month_to = MonthField(label="To month", required=False, help_text="YYYY-MM")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("month_from"), data.get("month_to")
        if first and last:
            if last < first:
                self.add_error("month_to", "The last month is before the first.")
            elif months_between(first, last) >= MAX_MONTHS:
                self.add_error("month_to", f"Choose at most {MAX_MONTHS} months.")
        return data

    def window(self) -> tuple[Month, Month]:
        """The months asked for, or the last twelve through this month; an invalid pair falls back."""
        data = self.cleaned_data if self.is_valid() else {}
        last = data.get("month_to") or Month.of(timezone.localdate())
        first = data.get("month_from") or last - (DEFAULT_MONTHS - 1)
        return first, last


def _dollars(cents: int) -> int:
    return max(0, (cents + 50) // 100)


def _safe(svg: str) -> SafeString:
    return mark_safe(svg)  # charts escape every text they write


def _charts(d: selectors.Dashboard) -> dict[str, SafeString]:
    labels = [b.label for b in d.inventory]
    inventory = charts.bar_chart(
        labels,
        [charts.Series("Not adjudicated", tuple(b.received for b in d.inventory)),
         charts.Series("Pended", tuple(b.pended for b in d.inventory))],
        title="Undecided claims by age", x_label="Days since received", y_label="Claims",
        chart_id="claims-inventory", plot_height=200,
    )  # fmt: skip
    months = [t.month for t in d.timeliness]
    timely = charts.bar_chart(
        months,
        [charts.Series("Decided within 45 working days", tuple(t.on_time for t in d.timeliness)),
         charts.Series("Decided late", tuple(t.late for t in d.timeliness)),
         charts.Series("Open past 45 working days", tuple(t.open_late for t in d.timeliness)),
         charts.Series("Open, still in time", tuple(t.open_in_time for t in d.timeliness))],
        title="Claims by month received and how soon they were decided", x_label="Month received",
        y_label="Claims", chart_id="claims-timeliness", plot_height=200,
    )  # fmt: skip
    runs = charts.bar_chart(
        [f"Run {r.run.pk}" for r in d.runs],
        [charts.Series("Auto-adjudicated %", tuple(float(r.percent or 0) for r in d.runs))],
        title="Auto-adjudication rate per adjudication run", x_label="Adjudication run", y_label="% of lines",
        chart_id="claims-auto-adjudication", plot_height=200,
    )  # fmt: skip
    shown = d.denials.rows[: selectors.CARCS_SHOWN]
    carcs = charts.bar_chart(
        [r.carc for r in shown],
        [charts.Series("Denied lines", tuple(r.lines for r in shown))],
        title="Denied lines by CARC", x_label="Claim adjustment reason code", y_label="Lines",
        chart_id="claims-denials", plot_height=200,
    )  # fmt: skip
    pmpm = charts.bar_chart(
        [p.month for p in d.pmpm],
        [charts.Series("Paid PMPM", tuple(_dollars(p.pmpm_cents or 0) for p in d.pmpm))],
        title="Paid per member per month, by month of service", x_label="Month of service",
        y_label="Dollars", chart_id="claims-pmpm", plot_height=200,
    )  # fmt: skip
    return {
        "inventory": _safe(inventory),
        "timeliness": _safe(timely),
        "runs": _safe(runs),
        "denials": _safe(carcs),
        "pmpm": _safe(pmpm),
    }


@never_cache
@domain_errors
@require_GET
def claims_dashboard(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = DashboardForm(request.GET)
    first, last = form.window()
    dashboard = selectors.claims_dashboard(actor, first=first, last=last)
    context = {
        "form": form,
        "d": dashboard,
        "charts": _charts(dashboard),
        "timely_days": selectors.TIMELY_WORKING_DAYS,
        "calendar": selectors.CALENDAR,
    }
    return render(request, "web/claims/dashboard.html", context)


urlpatterns = [path("claims/dashboard/", claims_dashboard, name="dashboard")]
