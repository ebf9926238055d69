"""Claims payment run pages: the runs, preparing one (through date, payment date), a run's detail (totals,
payees, interest lines, ledger entries), approval by a second finance user, each payee's 835 and the run's
NACHA file (once: paying the run)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from openipa.accounts.models import User
from openipa.claims.models import ClaimPaymentRun
from openipa.claims.selectors import runs as selectors
from openipa.claims.services.payments import approve_run, pay_run, prepare_run
from openipa.core.money import format_money
from openipa.core.pagination import paginate
from openipa.core.roles import Perm, require
from openipa.membership.views.common import actor_of, page_or_results
from openipa.ui import charts
from openipa.ui.errors import domain_errors

DETAIL_PURPOSE = "claims payment run: interest lines"
REMIT_PURPOSE = "claims payment run: 835 download"
STATUSES = {"": "Any status", **{value: str(label) for value, label in ClaimPaymentRun.Status.choices}}


class PrepareRunForm(forms.Form):
    through = forms.DateField(
        label="Decided through", help_text="Lines decided on or before this day are paid.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip
    payment_date = forms.DateField(
        label="Payment date", required=False, help_text="The day the money arrives (interest runs to it); "
        "tomorrow if left blank.", widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip

    def __init__(self, data: Any = None) -> None:
        super().__init__(data, prefix="prepare", initial={"through": timezone.localdate()})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        through, payment_date = data.get("through"), data.get("payment_date")
        if through and payment_date and payment_date < through:
            self.add_error("payment_date", "The payment date is before the through date.")
        return data


class RunFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=list(STATUSES.items()))

    def filters(self) -> dict[str, str]:
        return {"status": self.cleaned_data.get("status", "") if self.is_valid() else ""}


def _list_context(request: HttpRequest, actor: User, prepare: PrepareRunForm) -> dict[str, Any]:
    form = RunFilterForm(request.GET)
    page = paginate(selectors.run_list(actor, **form.filters()), request.GET.get("page"))
    return {"form": form, "page": page, "prepare": prepare, "can_act": selectors.can_act(actor)}


@never_cache
@domain_errors
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    context = _list_context(request, actor, PrepareRunForm())
    return page_or_results(request, "web/claims/run_list.html", "web/claims/run_table.html", context)


@never_cache
@domain_errors
@require_POST
def run_prepare(request: HttpRequest) -> HttpResponseBase:
    """Prepare the draft run of every line decided through the date (a draft prepared again is replaced)."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    selectors.run_list(actor)  # practice users: refused
    form = PrepareRunForm(request.POST)
    if form.is_valid():
        through: dt.date = form.cleaned_data["through"]
        try:
            run = prepare_run(actor=actor, through=through, payment_date=form.cleaned_data["payment_date"])
        except ValueError as exc:  # RunRefused
            form.add_error(None, f"No run was prepared through {through}: {exc}")
        else:
            messages.success(
                request,
                f"Draft run {run.pk} was prepared: {run.lines} lines, net {format_money(run.net_cents)}.",
            )
            return redirect("web:claims:run_detail", pk=run.pk)
    context = _list_context(request, actor, form)
    return render(request, "web/claims/run_list.html", context, status=400)


def _chart(detail: selectors.RunDetail) -> str:
    """Per payee, in whole dollars: paid, interest and reversed (as a positive bar beside them)."""
    payees = detail.payments
    labels = [p.payee_name or p.payee_npi for p in payees]

    def dollars(cents: int) -> int:
        return (abs(cents) + 50) // 100

    series = [
        charts.Series("Paid", tuple(dollars(p.paid_cents) for p in payees)),
        charts.Series("Interest", tuple(dollars(p.interest_cents) for p in payees)),
    ]
    if any(p.reversal_cents for p in payees):
        series.append(charts.Series("Reversed", tuple(dollars(p.reversal_cents) for p in payees)))
    svg = charts.bar_chart(
        labels, series, title=f"Run {detail.run.pk} by payee", x_label="Payee", y_label="Dollars",
        stacked=False, chart_id="claims-run-payees", plot_height=200,
    )  # fmt: skip
    return mark_safe(svg)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    detail = selectors.run_detail(actor, pk, purpose=DETAIL_PURPOSE)
    run = detail.run
    can_act = selectors.can_act(actor)
    is_draft = run.status == ClaimPaymentRun.Status.DRAFT
    context: dict[str, Any] = {
        "detail": detail,
        "run": run,
        "chart": _chart(detail),
        "can_act": can_act,
        "can_approve": can_act and is_draft and actor.username != run.prepared_by,
        "own_draft": can_act and is_draft and actor.username == run.prepared_by,
        "can_pay": can_act and run.status == ClaimPaymentRun.Status.APPROVED and bool(detail.sendable),
        "remitted": run.status != ClaimPaymentRun.Status.DRAFT,
    }
    return render(request, "web/claims/run_detail.html", context)


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
    return redirect("web:claims:run_detail", pk=run.pk)


def _attachment(data: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@domain_errors
@require_GET
def run_remittance(request: HttpRequest, pk: int, payment_pk: int) -> HttpResponseBase:
    """One payee's 835 of an approved or paid run."""
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    if run.status == ClaimPaymentRun.Status.DRAFT:
        messages.error(request, f"Run {run.pk} is a draft: its 835s are written once it is approved.")
        return redirect("web:claims:run_detail", pk=run.pk)
    payment = selectors.payment_get(actor, run, payment_pk)
    name, data = selectors.remittance_bytes(actor, run, payment, purpose=REMIT_PURPOSE)
    return _attachment(data, name, "application/edi-x12")


@never_cache
@domain_errors
@require_POST
def run_pay(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Pay an approved run: the NACHA file is written (and kept), the run marked paid and the cash posted; the
    file is handed back once, as this response."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    run = selectors.run_get(actor, pk)
    name = f"claims-run-{run.pk}.ach"
    with tempfile.TemporaryDirectory(prefix="openipa-nacha-") as tmp:
        out = Path(tmp) / name
        try:
            pay_run(actor=actor, run=run, out=out)
        except ValueError as exc:  # RunRefused
            messages.error(request, str(exc))
            return redirect("web:claims:run_detail", pk=run.pk)
        data = out.read_bytes()
    return _attachment(data, name, "text/plain; charset=ascii")


urlpatterns = [
    path("claims/runs/", run_list, name="run_list"),
    path("claims/runs/prepare/", run_prepare, name="run_prepare"),
    path("claims/runs/<int:pk>/", run_detail, name="run_detail"),
    path("claims/runs/<int:pk>/approve/", run_approve, name="run_approve"),
    path("claims/runs/<int:pk>/pay/", run_pay, name="run_pay"),
    path("claims/runs/<int:pk>/835/<int:payment_pk>/", run_remittance, name="run_remittance"),
]
