"""Distribution run pages: the runs by payer-month, preparing one, a run's detail (pool, components,
payments, pool shares, adjustment lines, ledger entry) and its approval by a second finance user."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from openipa.accounts.models import User
from openipa.capitation import selectors
from openipa.capitation.forms import PrepareRunForm, RunFilterForm
from openipa.capitation.models import DistributionRun
from openipa.capitation.services.runs import approve_run, distribute_month
from openipa.core.money import format_money
from openipa.core.pagination import paginate
from openipa.core.roles import Perm, require
from openipa.membership.views.common import actor_of, page_or_results
from openipa.ui import charts
from openipa.ui.errors import domain_errors

LINES_PURPOSE = "capitation run: adjustment lines"
COMPONENTS = (
    ("admin_fee", "Admin fee"),
    ("reinsurance", "Reinsurance"),
    ("withhold", "Withhold and risk pool"),
    ("pcp", "PCP capitation (net)"),
    ("specialist", "Specialist sub-capitation"),
    ("quality", "Quality pool"),
    ("retained", "Retained"),
)


def _list_context(request: HttpRequest, actor: User, prepare: PrepareRunForm) -> dict[str, Any]:
    form = RunFilterForm(request.GET, actor=actor)
    page = paginate(selectors.run_list(actor, **form.filters()), request.GET.get("page"))
    return {"form": form, "page": page, "prepare": prepare, "can_act": selectors.can_act(actor)}


@never_cache
@domain_errors
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    context = _list_context(request, actor, PrepareRunForm(actor=actor))
    return page_or_results(request, "web/capitation/run_list.html", "web/capitation/_runs.html", context)


@never_cache
@domain_errors
@require_POST
def run_prepare(request: HttpRequest) -> HttpResponseBase:
    """Prepare the payer-month's run (a draft, or an adjustment run after an approved one)."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    form = PrepareRunForm(request.POST, actor=actor)
    if form.is_valid():
        payer, month = form.cleaned_data["payer"], form.cleaned_data["month"]
        try:
            run = distribute_month(actor=actor, payer=payer, month=month)
        except ValueError as exc:
            form.add_error(None, f"No run was prepared for {payer.code} {month}: {exc}")
        else:
            kind = "An adjustment run" if run.kind == DistributionRun.Kind.ADJUSTMENT else "A draft run"
            messages.success(
                request, f"{kind} of {payer.code} {month} was prepared: pool {format_money(run.pool_cents)}."
            )
            return redirect("web:capitation:run_detail", pk=run.pk)
    context = _list_context(request, actor, form)
    return render(request, "web/capitation/run_list.html", context, status=400)


def _components(run: DistributionRun) -> list[tuple[str, int]]:
    values = run.components or {}
    return [(label, int(values.get(key, 0))) for key, label in COMPONENTS]


def _chart(run: DistributionRun, components: list[tuple[str, int]]) -> str:
    """A bar per component, in dollars. An adjustment run's components are differences: increases and
    decreases are two series, since the bars start at zero."""
    labels = [label for label, _c in components]
    up = tuple(max(0, (c + 50) // 100) for _l, c in components)
    down = tuple(max(0, (-c + 50) // 100) for _l, c in components)
    series = [charts.Series("Increase" if any(down) else "Amount", up)]
    if any(down):
        series.append(charts.Series("Decrease", down))
    svg = charts.bar_chart(
        labels,
        series,
        title=f"Where run {run.pk}'s pool went",
        x_label="Component",
        y_label="Dollars",
        stacked=True,
        chart_id="run-components",
        plot_height=200,
    )
    return mark_safe(svg)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    detail = selectors.run_detail(actor, pk)
    run = detail.run
    components = _components(run)
    lines = None
    if run.kind == DistributionRun.Kind.ADJUSTMENT:
        lines = selectors.run_lines(actor, run, page=request.GET.get("page"), purpose=LINES_PURPOSE)
    is_draft = run.status == DistributionRun.Status.DRAFT
    context: dict[str, Any] = {
        "detail": detail,
        "run": run,
        "components": components,
        "components_total": sum(c for _l, c in components),
        "chart": _chart(run, components),
        "notes": [str(n) for n in (run.inputs or {}).get("notes", [])],
        "page": lines,
        "can_act": selectors.can_act(actor),
        "can_approve": selectors.can_act(actor) and is_draft and actor.username != run.prepared_by,
        "own_draft": selectors.can_act(actor) and is_draft and actor.username == run.prepared_by,
    }
    return render(request, "web/capitation/run_detail.html", context)


@never_cache
@domain_errors
@require_POST
def run_approve(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Approve a draft; the service refuses the preparer and anything but a draft, and says why."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    run = selectors.run_get(actor, pk)
    try:
        approve_run(actor=actor, run=run)
    except ValueError as exc:  # RunRefused, or the ledger refusing the entry
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Run {run.pk} is approved and posted to the ledger.")
    return redirect("web:capitation:run_detail", pk=run.pk)
