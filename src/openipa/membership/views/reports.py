"""The member-months report (by payer, product, practice or PCP over a month range, chart and table) and the
PCP panel list with its CSV. Counts only: nothing here is member-level, so nothing is audited; a practice
user gets their own practice's numbers alone (the selectors see to it)."""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from openipa.core.errors import ValidationFailed
from openipa.core.pagination import Page, clamp_page
from openipa.core.roles import is_practice_scoped
from openipa.membership import selectors
from openipa.membership.forms import MemberMonthsForm, PanelFilterForm
from openipa.membership.views.common import actor_of, csv_download, page_or_results, query_without_page
from openipa.ui import charts
from openipa.ui.errors import domain_errors
from openipa.ui.forms import apply_errors

CHART_SERIES = 7
"""The largest groups get a series each; the rest are summed as one "Other" series."""
TABLE_ROWS = 50


def _chart(report: selectors.MemberMonthsReport) -> str:
    label = selectors.MEMBER_MONTH_GROUPS[report.group_by]
    top = report.rows[:CHART_SERIES]
    rest = report.rows[CHART_SERIES:]
    series = [charts.Series(r.label, tuple(float(v) for v in r.values)) for r in top]
    if rest:
        other = tuple(float(sum(r.values[i] for r in rest)) for i in range(len(report.months)))
        series.append(charts.Series(f"Other ({len(rest)} more)", other))
    svg = charts.bar_chart(
        list(report.months),
        series,
        title=f"Member-months by {label.lower()} and month",
        x_label="Coverage month",
        y_label="Member-months",
        stacked=True,
        chart_id="member-months-report",
    )
    return mark_safe(svg)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def member_months_report(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = MemberMonthsForm(request.GET, actor=actor, today=timezone.localdate())
    args = form.report_args()
    try:
        report = selectors.member_months_report(actor, **args)
    except ValidationFailed as exc:  # the form's defaults keep to the rules; kept for safety
        apply_errors(form, exc)
        args = MemberMonthsForm({}, actor=actor, today=timezone.localdate()).report_args()
        report = selectors.member_months_report(actor, **args)
    number, size = clamp_page(request.GET.get("page"), TABLE_ROWS)
    number = min(number, max(1, math.ceil(len(report.rows) / size)))
    rows = list(report.rows[(number - 1) * size : number * size])
    context: dict[str, Any] = {
        "form": form,
        "report": report,
        "first": args["first"],
        "last": args["last"],
        "group_label": selectors.MEMBER_MONTH_GROUPS[report.group_by],
        "page": Page(items=rows, number=number, per_page=size, total=len(report.rows)),
        "chart": _chart(report),
        "scoped": is_practice_scoped(actor),
    }
    return page_or_results(
        request, "web/eligibility/member_months.html", "web/eligibility/_member_months.html", context
    )


@never_cache
@domain_errors
@require_GET
def pcp_panels(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = PanelFilterForm(request.GET, actor=actor, today=timezone.localdate())
    filters = form.filters()
    page = selectors.pcp_panel_page(actor, page=request.GET.get("page"), **filters)
    context = {
        "form": form,
        "page": page,
        "on": filters["on"],
        "export_query": query_without_page(request),
        "scoped": is_practice_scoped(actor),
    }
    return page_or_results(
        request, "web/eligibility/pcp_panels.html", "web/eligibility/_panels.html", context
    )


@never_cache
@domain_errors
@require_GET
def pcp_panels_export(request: HttpRequest) -> HttpResponse:
    """The filtered panel list as CSV, scoped like the page."""
    actor = actor_of(request)
    form = PanelFilterForm(request.GET, actor=actor, today=timezone.localdate())
    filters = form.filters()
    rows = selectors.pcp_panel_export_rows(actor, **filters)
    return csv_download(f"pcp-panels-{filters['on'].isoformat()}.csv", selectors.PANEL_EXPORT_COLUMNS, rows)
