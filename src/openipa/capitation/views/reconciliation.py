"""Reconciliation pages: the capitation overview (one row per payer), a payer's months (expected, received,
variance by category, a chart), reconciling a month, one payer-month's discrepancies by category, and the
payer's dispute file (CSV)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from openipa.capitation import selectors
from openipa.capitation.forms import ReconcileForm
from openipa.capitation.models import Discrepancy
from openipa.capitation.services.reconcile import reconcile
from openipa.core.errors import NotFound
from openipa.core.money import format_money
from openipa.core.months import Month
from openipa.core.roles import Perm, require
from openipa.membership.views.common import actor_of, csv_download, page_or_results
from openipa.ui import charts
from openipa.ui.errors import domain_errors

MONTH_PURPOSE = "capitation reconciliation: a payer-month's discrepancies"
DISPUTE_PURPOSE = "capitation dispute file for the payer"
CHART_MONTHS = 24


def _dollars(cents: int) -> int:
    """Whole dollars, half-up, for a chart's bar heights (the table beside it has the cents). A negative
    amount (a month of recoupments) is drawn as no bar: the charts start at zero."""
    return max(0, (cents + 50) // 100)


@never_cache
@domain_errors
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Per payer: months reconciled, their totals, open discrepancies, drafts awaiting approval."""
    actor = actor_of(request)
    context = {"payers": selectors.capitation_overview(actor), "can_act": selectors.can_act(actor)}
    return render(request, "web/capitation/overview.html", context)


def _chart(report: selectors.PayerReconciliation) -> str:
    rows = list(reversed(report.reconciled))[-CHART_MONTHS:]
    recs = [r.reconciliation for r in rows if r.reconciliation is not None]
    svg = charts.bar_chart(
        [str(r.month) for r in rows],
        [
            charts.Series("Expected", tuple(_dollars(r.expected_cents) for r in recs)),
            charts.Series("Received", tuple(_dollars(r.received_cents) for r in recs)),
        ],
        title=f"Expected and received capitation from {report.payer.name} by month",
        x_label="Coverage month",
        y_label="Dollars",
        stacked=False,
        chart_id="payer-reconciliation",
        plot_height=200,
    )
    return mark_safe(svg)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def payer_detail(request: HttpRequest, payer_pk: int) -> HttpResponse:
    actor = actor_of(request)
    report = selectors.payer_reconciliation(actor, payer_pk)
    latest = report.rows[0].month if report.rows else Month.of(timezone.localdate())
    context: dict[str, Any] = {
        "report": report,
        "payer": report.payer,
        "chart": _chart(report) if report.reconciled else "",
        "form": ReconcileForm(initial={"month": str(latest)}),
        "can_act": selectors.can_act(actor),
    }
    return render(request, "web/capitation/payer.html", context)


@never_cache
@domain_errors
@require_POST
def reconcile_month(request: HttpRequest, payer_pk: int) -> HttpResponseBase:
    """Reconcile one month of the payer (finance), then show that month."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    payer = selectors.payer_get(actor, payer_pk)
    form = ReconcileForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("web:capitation:payer_detail", payer_pk=payer.pk)
    month: Month = form.cleaned_data["month"]
    try:
        record = reconcile(actor=actor, payer=payer, month=month)
    except ValueError as exc:
        messages.error(request, f"{payer.code} {month} was not reconciled: {exc}")
        return redirect("web:capitation:payer_detail", payer_pk=payer.pk)
    opened = selectors.open_discrepancy_count(actor, payer.pk, month)
    messages.success(
        request,
        f"Reconciled {payer.code} {month}: expected {format_money(record.expected_cents)}, received "
        f"{format_money(record.received_cents)}, variance {format_money(record.variance_cents)}; "
        f"{opened} open discrepanc{'y' if opened == 1 else 'ies'}.",
    )
    return redirect("web:capitation:payer_month", payer_pk=payer.pk, month=str(month))


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError:
        raise NotFound(f"month {text}") from None


@never_cache
@domain_errors
@require_GET
def payer_month(request: HttpRequest, payer_pk: int, month: str) -> HttpResponse:
    """A payer-month: its reconciliation, its discrepancies by category, and the discrepancies themselves."""
    actor = actor_of(request)
    category = request.GET.get("category", "")
    if category not in Discrepancy.Category.values:
        category = ""
    report = selectors.payer_month(
        actor, payer_pk, _month(month), category=category, page=request.GET.get("page"),
        purpose=MONTH_PURPOSE, now=timezone.now(),
    )  # fmt: skip
    context: dict[str, Any] = {
        "report": report,
        "payer": report.payer,
        "month": report.month,
        "rec": report.reconciliation,
        "page": report.discrepancies,
        "category": category,
        "category_label": dict(Discrepancy.Category.choices).get(category, ""),
        "can_act": selectors.can_act(actor),
    }
    return page_or_results(request, "web/capitation/payer_month.html", "web/capitation/_month_discrepancies.html",
                           context)  # fmt: skip


@never_cache
@domain_errors
@require_GET
def dispute_file(request: HttpRequest, payer_pk: int) -> HttpResponse:
    """The payer's open and disputed discrepancies as CSV, to send with a dispute; recorded as read."""
    actor = actor_of(request)
    now = timezone.now()
    payer, rows = selectors.dispute_rows(actor, payer_pk, purpose=DISPUTE_PURPOSE, now=now)
    name = f"disputes-{payer.code}-{timezone.localdate().isoformat()}.csv"
    return csv_download(name, selectors.DISPUTE_COLUMNS, rows)
