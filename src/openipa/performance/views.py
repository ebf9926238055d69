"""The under-service watch page: a form of months, the watch report (``openipa.performance.selectors``), a
chart (``openipa.ui.charts``, inline SVG) and a template. IPA staff with the UM view only (the selector refuses
practice users and roles without VIEW_UM: a 403 page). Its link bar is the utilization reports'."""

from __future__ import annotations

import datetime as dt
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
from openipa.core.months import Month
from openipa.membership.forms import MonthField
from openipa.membership.views.common import actor_of
from openipa.performance import selectors
from openipa.performance.engine import watch
from openipa.ui import charts
from openipa.ui.errors import domain_errors

UM_REPORTS = ("sla_dashboard", "cms_metrics", "cms_metrics_csv")


def _links() -> dict[str, str]:
    """The URLs of the utilization reports' link bar (``web/utilization/reports/_links.html``)."""
    return {
        **{name: reverse(f"web:utilization:{name}") for name in UM_REPORTS},
        "under_service_watch": reverse("web:performance:under_service_watch"),
    }


class WatchForm(forms.Form):
    month_from = MonthField(label="From month", required=False, help_text="YYYY-MM")
    month_to = MonthField(label="To month", required=False, help_text="YYYY-MM")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("month_from"), data.get("month_to")
        if first and last and last < first:
            self.add_error("month_to", "The last month is before the first.")
        return data

    def period(self, today: dt.date) -> watch.Period:
        """The months asked for, or the last twelve complete months."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        last: Month = data.get("month_to") or Month.of(today) - 1
        first: Month = data.get("month_from") or last - 11
        return watch.Period(first.first_day, last.last_day)


def _watch_chart(report: selectors.WatchReport) -> SafeString:
    units = [u for u in report.practices if u.row["qualifies"]] or report.practices
    median = float(report.peers.get("peer_referral_rate") or 0)
    svg = charts.bar_chart(
        [u.name for u in units],
        [charts.Series("Referrals per 1,000 member-years", tuple(float(u.row["referral_rate"]) for u in units)),
         charts.Series("Peer median", tuple(median for _u in units))],
        title="Referral rate per practice against the peer median", x_label="Practice",
        y_label="Referrals per 1,000", stacked=False, chart_id="um-watch-referrals", plot_height=220,
    )  # fmt: skip
    return mark_safe(svg)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def under_service_watch(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    selectors.require_staff(actor)
    default = WatchForm({}).period(timezone.localdate())
    form = WatchForm(request.GET or None, initial={"month_from": f"{default.first:%Y-%m}",
                                                   "month_to": f"{default.last:%Y-%m}"})  # fmt: skip
    period = form.period(timezone.localdate())
    try:
        report: selectors.WatchReport | None = selectors.watch_report(actor, period=period)
    except ValidationFailed as exc:
        report = None
        form.add_error(None, "; ".join(m for messages in exc.fields.values() for m in messages))
    chart = _watch_chart(report) if report is not None else ""
    context = {"form": form, "report": report, "period": period, "chart": chart, "links": _links()}
    return render(request, "web/performance/watch.html", context)
