"""IBNR reserve pages: the latest estimates and a form to prepare one; an estimate's report (parameters, the
triangle, factors and IBNR by incurred month per group, paid vs IBNR chart, hindsight) and its approval by a
second finance user. Reserves are IPA-wide money: VIEW_FINANCE to read, EDIT_FINANCE to prepare or approve."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from openipa.claims.engine import ibnr
from openipa.claims.models import IbnrEstimate
from openipa.claims.selectors import reserves as selectors
from openipa.claims.services.reserves import ReserveRefused, approve_estimate, estimate_ibnr
from openipa.core.money import format_money
from openipa.core.roles import Actor, Perm, has_perm, require
from openipa.membership.forms import MonthField
from openipa.membership.views.common import actor_of
from openipa.ui import charts
from openipa.ui.errors import domain_errors

METHOD_LABELS = {
    ibnr.VOLUME_WEIGHTED: "All-period volume weighted",
    ibnr.SIMPLE: "Simple average",
    ibnr.VOLUME_WEIGHTED_LAST_N: "Last N periods, volume weighted",
    ibnr.SIMPLE_EXCLUDING_HIGH_LOW: "Simple average excluding high and low",
}


class PrepareEstimateForm(forms.Form):
    as_of = MonthField(label="As of month", help_text="YYYY-MM: payments through the end of this month")
    method = forms.ChoiceField(choices=list(METHOD_LABELS.items()), initial=ibnr.VOLUME_WEIGHTED)
    periods = forms.IntegerField(
        required=False, min_value=1, max_value=120, help_text="N, for the last-N method"
    )
    months = forms.IntegerField(
        initial=24, min_value=1, max_value=120, help_text="Incurred months in the triangle"
    )
    threshold = forms.DecimalField(
        initial=ibnr.DEFAULT_THRESHOLD, min_value=0, max_value=1, decimal_places=3,
        help_text="Months less complete than this are projected by PMPM",
    )  # fmt: skip
    pmpm_months = forms.IntegerField(initial=ibnr.DEFAULT_PMPM_MONTHS, min_value=6, max_value=12,
                                     label="PMPM base months")  # fmt: skip
    tail = forms.DecimalField(initial=1, min_value=0, decimal_places=6, help_text="Oldest lag to ultimate")
    monthly_trend = forms.DecimalField(initial=0, decimal_places=6, help_text="e.g. 0.004 for 0.4% a month")

    def __init__(self, data: Any = None) -> None:
        super().__init__(data, prefix="prepare")


def _can_act(actor: Actor) -> bool:
    return has_perm(actor, Perm.EDIT_FINANCE)


def _list_context(actor: Actor, form: PrepareEstimateForm) -> dict[str, Any]:
    return {"estimates": selectors.estimate_list(actor), "prepare": form, "can_act": _can_act(actor)}


@never_cache
@domain_errors
@require_GET
def reserves(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    return render(request, "web/claims/reserve_list.html", _list_context(actor, PrepareEstimateForm()))


@never_cache
@domain_errors
@require_POST
def reserve_prepare(request: HttpRequest) -> HttpResponseBase:
    """Prepare a draft estimate; the service's refusal is shown on the form and nothing is written."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    form = PrepareEstimateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            estimate = estimate_ibnr(
                actor, data["as_of"], method=data["method"],
                periods=data["periods"] if data["method"] == ibnr.VOLUME_WEIGHTED_LAST_N else None,
                months=data["months"], threshold=data["threshold"], pmpm_months=data["pmpm_months"],
                tail=data["tail"], monthly_trend=data["monthly_trend"],
            )  # fmt: skip
        except ReserveRefused as exc:
            form.add_error(None, f"No estimate was prepared as of {data['as_of']}: {exc}")
        else:
            messages.success(
                request,
                f"Draft estimate {estimate.pk} as of {data['as_of']}: IBNR {format_money(estimate.total_ibnr_cents)}.",
            )
            return redirect("web:claims:reserve_detail", pk=estimate.pk)
    return render(request, "web/claims/reserve_list.html", _list_context(actor, form), status=400)


@dataclass
class GroupReport:
    """One group's part of the report: its name, totals, triangle rows, factors and months."""

    name: str
    totals: dict[str, Any]
    lags: list[int] = field(default_factory=list)
    triangle: list[tuple[str, list[int | None]]] = field(default_factory=list)
    factors: list[dict[str, Any]] = field(default_factory=list)
    months: list[dict[str, Any]] = field(default_factory=list)


def _key(row: dict[str, Any], keys: list[str]) -> tuple[Any, ...]:
    return tuple(row.get(k) for k in keys)


def _groups(estimate: IbnrEstimate) -> list[GroupReport]:
    keys = list(estimate.group_by or [])
    inputs = estimate.inputs or {}
    reports: dict[tuple[Any, ...], GroupReport] = {}
    for totals in inputs.get("groups", []):
        key = _key(totals, keys)
        reports[key] = GroupReport(" / ".join(str(v) for v in key) or "All claims", totals)
    cells: dict[tuple[Any, ...], dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for row in inputs.get("triangle", []):
        cells[_key(row, keys)][row["incurred_month"]][int(row["lag"])] = int(row["cumulative_cents"])
    for key, by_month in cells.items():
        report = reports.get(key)
        if report is None:
            continue
        width = max((max(lags) for lags in by_month.values() if lags), default=-1) + 1
        report.lags = list(range(width))
        report.triangle = [(m, [by_month[m].get(lag) for lag in report.lags]) for m in sorted(by_month)]
    for row in estimate.factors:
        if (report := reports.get(_key(row, keys))) is not None:
            report.factors.append({**row, **{c: ibnr.micro_text(int(row[c])) for c in
                                             ("age_to_age_micro", "cdf_micro", "completion_micro")}})  # fmt: skip
    for row in estimate.results:
        if (report := reports.get(_key(row, keys))) is not None:
            completion = ibnr.micro_text(int(row["completion_micro"]))
            report.months.append({**row, "completion": completion})
    return list(reports.values())


def _chart(estimate: IbnrEstimate) -> str:
    """Paid and IBNR stacked by incurred month (all groups), whole dollars. A negative amount (net
    recoupments) is drawn as zero: bars start at zero; the table beside has the exact cents."""
    paid: dict[str, int] = defaultdict(int)
    reserve: dict[str, int] = defaultdict(int)
    for row in estimate.results:
        paid[row["incurred_month"]] += int(row["paid_cents"])
        reserve[row["incurred_month"]] += int(row["ibnr_cents"])
    months = sorted(paid)
    svg = charts.bar_chart(
        months,
        [
            charts.Series("Paid to date", tuple(max(0, (paid[m] + 50) // 100) for m in months)),
            charts.Series("IBNR", tuple(max(0, (reserve[m] + 50) // 100) for m in months)),
        ],
        title=f"Paid and IBNR by incurred month, as of {estimate.as_of:%Y-%m}",
        x_label="Incurred month",
        y_label="Dollars",
        stacked=True,
        chart_id="ibnr-by-month",
    )
    return mark_safe(svg)  # charts escape every text they write


def _by_month(estimate: IbnrEstimate) -> list[tuple[str, int, int, int]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in estimate.results:
        t = totals[row["incurred_month"]]
        t[0] += int(row["paid_cents"])
        t[1] += int(row["ibnr_cents"])
        t[2] += int(row["ultimate_cents"])
    return [(m, *totals[m]) for m in sorted(totals)]  # type: ignore[misc]


@never_cache
@domain_errors
@require_GET
def reserve_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    estimate = selectors.estimate_get(actor, pk)
    is_draft = estimate.status == IbnrEstimate.Status.DRAFT
    can_act = _can_act(actor)
    context: dict[str, Any] = {
        "estimate": estimate,
        "method_label": METHOD_LABELS.get(estimate.method, estimate.method),
        "inputs": estimate.inputs or {},
        "groups": _groups(estimate),
        "by_month": _by_month(estimate),
        "chart": _chart(estimate),
        "hindsight": selectors.hindsight(actor, estimate),
        "can_approve": can_act and is_draft and actor.username != estimate.prepared_by,
        "own_draft": can_act and is_draft and actor.username == estimate.prepared_by,
    }
    return render(request, "web/claims/reserve_detail.html", context)


@never_cache
@domain_errors
@require_POST
def reserve_approve(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Approve a draft; the service refuses the preparer and anything but a draft, and says why."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    estimate = selectors.estimate_get(actor, pk)
    try:
        approve_estimate(actor, estimate)
    except ReserveRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Estimate {estimate.pk} is approved.")
    return redirect("web:claims:reserve_detail", pk=estimate.pk)


urlpatterns = [
    path("claims/reserves/", reserves, name="reserves"),
    path("claims/reserves/prepare/", reserve_prepare, name="reserve_prepare"),
    path("claims/reserves/<int:pk>/", reserve_detail, name="reserve_detail"),
    path("claims/reserves/<int:pk>/approve/", reserve_approve, name="reserve_approve"),
]
