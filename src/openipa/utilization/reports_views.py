"""Pages of the utilization reports: the SLA dashboard and the CMS-0057-F metrics (page and CSV); their link
bar also leads to the under-service watch, a page of ``openipa.performance``. Thin: a form, one report
selector, charts (``openipa.ui.charts``, inline SVG) and a template. IPA staff only (the selectors refuse
practice users and roles without VIEW_UM: a 403 page)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from openipa.core.errors import ValidationFailed
from openipa.membership.views.common import actor_of
from openipa.ui import charts
from openipa.ui.errors import domain_errors
from openipa.utilization import reports

DEFAULT_WEEKS = 12
OUTCOME_ORDER = ("approved", "modified", "deemed_approved", "denied")


def _safe(svg: str) -> SafeString:
    return mark_safe(svg)  # charts escape every text they write


def _links(request: HttpRequest) -> dict[str, str]:
    """The reports' URLs in the namespace this page was reached through (the including urls module names it),
    the under-service watch's (in the performance app's namespace), and the view name of a request's page for
    `{% url %}` in the lists."""
    match = request.resolver_match
    prefix = f"{match.namespace}:" if match is not None and match.namespace else ""
    names = ("sla_dashboard", "cms_metrics", "cms_metrics_csv")
    return {
        **{name: reverse(prefix + name) for name in names},
        "under_service_watch": reverse("web:performance:under_service_watch"),
        "request_detail": f"{prefix}detail",
    }


# -- SLA dashboard


class DashboardForm(forms.Form):
    week_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    week_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def window(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """The dates asked for, or the last 12 weeks through today."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        last = data.get("week_to") or today
        first = data.get("week_from") or last - dt.timedelta(weeks=DEFAULT_WEEKS - 1)
        return first, last


def _dashboard_charts(d: reports.SlaDashboard) -> dict[str, SafeString]:
    labels = [w.strftime("%b %d") for w in d.weeks]

    def per_week(urgency: str, key: str) -> tuple[float, ...]:
        values = []
        for w in d.weeks:
            row = d.timeliness_row(w, urgency)
            values.append(float(row[key]) if row and row[key] is not None else 0.0)
        return tuple(values)

    # bars, not lines: a week without decisions of an urgency has no bar (a line would fall to 0)
    on_time = charts.bar_chart(
        labels,
        [charts.Series("Standard", per_week("standard", "on_time_pct")),
         charts.Series("Expedited", per_week("expedited", "on_time_pct"))],
        title="Decisions on time, per week", x_label="Week of decision", y_label="% on time", stacked=False,
        chart_id="um-on-time", plot_height=200,
    )  # fmt: skip
    counts = {(r["week"], r["outcome"]): r["n"] for r in d.outcomes.iter_rows(named=True)}
    outcomes = charts.bar_chart(
        labels,
        [charts.Series(reports.OUTCOME_LABELS[o], tuple(float(counts.get((w, o), 0)) for w in d.weeks))
         for o in OUTCOME_ORDER],
        title="Decisions per week by outcome", x_label="Week of decision", y_label="Requests",
        chart_id="um-outcomes", plot_height=200,
    )  # fmt: skip
    hours = charts.bar_chart(
        labels,
        [charts.Series("Standard", per_week("standard", "hours_mean")),
         charts.Series("Expedited", per_week("expedited", "hours_mean"))],
        title="Average hours from receipt to decision", x_label="Week of decision", y_label="Hours",
        stacked=False, chart_id="um-hours", plot_height=200,
    )  # fmt: skip
    open_chart = charts.bar_chart(
        [label for _s, label, _std, _exp in d.open_by_status],
        [charts.Series("Standard", tuple(float(s) for _s, _l, s, _e in d.open_by_status)),
         charts.Series("Expedited", tuple(float(e) for _s, _l, _st, e in d.open_by_status))],
        title="Open requests by status", x_label="Status", y_label="Requests", chart_id="um-open",
        plot_height=200,
    )  # fmt: skip
    return {
        "on_time": _safe(on_time),
        "outcomes": _safe(outcomes),
        "hours": _safe(hours),
        "open": _safe(open_chart),
    }


@never_cache
@domain_errors
@require_GET
def sla_dashboard(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    reports.require_staff(actor)
    now = timezone.now()
    first, last = DashboardForm({}).window(timezone.localdate(now))
    form = DashboardForm(request.GET or None, initial={"week_from": first, "week_to": last})
    first, last = form.window(timezone.localdate(now))
    try:
        dashboard = reports.sla_dashboard(actor, first=first, last=last, now=now)
    except ValidationFailed as exc:
        for field, messages in exc.fields.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
        first, last = DashboardForm({}).window(timezone.localdate(now))
        dashboard = reports.sla_dashboard(actor, first=first, last=last, now=now)
    rows = []
    for w in dashboard.weeks:
        rows.append((w, dashboard.timeliness_row(w, "standard"), dashboard.timeliness_row(w, "expedited")))
    context = {
        "form": form,
        "d": dashboard,
        "weekly": rows,
        "charts": _dashboard_charts(dashboard),
        "totals": dashboard.totals(),
        "due_soon_hours": reports.DUE_SOON_HOURS,
        "links": _links(request),
    }
    return render(request, "web/utilization/reports/dashboard.html", context)


# -- CMS-0057-F metrics


class MetricsForm(forms.Form):
    contract = forms.TypedChoiceField(label="Contract", required=False, coerce=int, empty_value=None)
    year = forms.TypedChoiceField(label="Year of decision", required=False, coerce=int, empty_value=None)

    def __init__(self, data: Any, *, contracts: list[tuple[int, str]], years: list[int]) -> None:
        super().__init__(data)
        self.fields["contract"].choices = [("", "All contracts"), *contracts]  # type: ignore[attr-defined]
        self.fields["year"].choices = [("", "All years"), *((y, str(y)) for y in years)]  # type: ignore[attr-defined]


def _metrics_filters(request: HttpRequest) -> tuple[MetricsForm, int | None, int | None]:
    base = reports.cms_metrics_choices()
    form = MetricsForm(request.GET, contracts=base[0], years=base[1])
    if form.is_valid():
        return form, form.cleaned_data.get("contract"), form.cleaned_data.get("year")
    return form, None, None


def _metrics_chart(report: reports.MetricsReport) -> SafeString:
    labels = [f"{r['contract'].split(' ')[0]} {r['year']}" for r in report.rows]

    def values(key: str) -> tuple[float, ...]:
        return tuple(float(r[key] or 0) for r in report.rows)

    svg = charts.bar_chart(
        labels,
        [charts.Series("Standard approved %", values("standard_approved_pct")),
         charts.Series("Standard denied %", values("standard_denied_pct")),
         charts.Series("Expedited approved %", values("expedited_approved_pct")),
         charts.Series("Expedited denied %", values("expedited_denied_pct"))],
        title="Prior authorization decisions by contract and year", x_label="Contract and year",
        y_label="% of requests decided", stacked=False, chart_id="um-cms-metrics", plot_height=220,
    )  # fmt: skip
    return _safe(svg)


def _csv(report: reports.MetricsReport) -> HttpResponse:
    out = io.StringIO()
    csv.writer(out).writerows(reports.metrics_csv_rows(report))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"prior-authorization-metrics-{report.year or 'all-years'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@domain_errors
@require_GET
def cms_metrics(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    reports.require_staff(actor)
    form, contract_id, year = _metrics_filters(request)
    report = reports.cms_metrics_report(actor, contract_id=contract_id, year=year)
    if request.GET.get("format") == "csv":
        reports.record_metrics_export(actor, report)
        return _csv(report)
    query = request.GET.copy()
    query.pop("format", None)
    context = {"form": form, "report": report, "chart": _metrics_chart(report), "query": query.urlencode(),
               "links": _links(request)}  # fmt: skip
    return render(request, "web/utilization/reports/metrics.html", context)


@never_cache
@domain_errors
@require_GET
def cms_metrics_csv(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    reports.require_staff(actor)
    _form, contract_id, year = _metrics_filters(request)
    report = reports.cms_metrics_report(actor, contract_id=contract_id, year=year)
    reports.record_metrics_export(actor, report)
    return _csv(report)
