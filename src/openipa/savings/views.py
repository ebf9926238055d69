"""Shared savings pages: the overview (terms, formulas and their versions, runs, forecasts, and the forms to
settle and to forecast), adding a contract's terms and a formula's next version, a term, a run (its working,
distribution, approve and pay), practice statements (page, PDF, CSV) and a forecast.

Finance pages need VIEW_FINANCE (preparing, approving and paying, adding terms and formulas: EDIT_FINANCE,
checked by the views before any form is shown and by the services);
a practice user reaches only its own practice's statements of approved or paid runs (the selectors scope,
another practice's statement is a 404)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openipa.contracts import selectors as contract_selectors
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.money import format_money
from openipa.core.months import Month
from openipa.core.roles import Perm, has_perm, is_practice_scoped, require
from openipa.membership.forms import MonthField
from openipa.membership.views.common import actor_of
from openipa.network.models import Practice
from openipa.quality.models import QualityRun
from openipa.risk.models import RiskRun
from openipa.savings import selectors, services, statements
from openipa.savings.forms import FormulaForm, TermForm, formula_initial
from openipa.savings.models import DistributionFormula, SavingsTerm
from openipa.ui import charts
from openipa.ui.errors import domain_errors
from openipa.ui.forms import apply_errors
from openipa.ui.responses import attachment


class SettleForm(forms.Form):
    term = forms.ModelChoiceField(queryset=SavingsTerm.objects.select_related("contract"), label="Terms")
    month_from = MonthField(label="First month", help_text="YYYY-MM")
    month_to = MonthField(label="Last month", help_text="YYYY-MM")
    cutoff = forms.DateField(label="Claims paid by (cut-off)", help_text="YYYY-MM-DD")
    quality_run = forms.ModelChoiceField(queryset=QualityRun.objects.order_by("-id"), required=False)
    risk_run = forms.ModelChoiceField(queryset=RiskRun.objects.order_by("-id"), required=False)
    formula = forms.ModelChoiceField(
        queryset=DistributionFormula.objects.all(),
        required=False,
        help_text="Empty: the formula in force on the period's last day.",
    )


class ForecastForm(forms.Form):
    term = forms.ModelChoiceField(queryset=SavingsTerm.objects.select_related("contract"), label="Terms")
    year = forms.IntegerField(min_value=2000, max_value=2100)
    as_of = forms.DateField(label="As of", help_text="YYYY-MM-DD")
    samples = forms.IntegerField(min_value=10, max_value=10_000, initial=1000)
    seed = forms.IntegerField(min_value=0, initial=1)
    quality_run = forms.ModelChoiceField(queryset=QualityRun.objects.order_by("-id"), required=False)
    risk_run = forms.ModelChoiceField(queryset=RiskRun.objects.order_by("-id"), required=False)


def _overview(request: HttpRequest, settle_form: SettleForm | None = None,
              forecast_form: ForecastForm | None = None, status: int = 200) -> HttpResponse:  # fmt: skip
    actor = actor_of(request)
    context = {
        "terms": selectors.term_list(actor),
        "formulas": selectors.formula_list(actor),
        "runs": selectors.run_list(actor)[:50],
        "forecasts": selectors.forecast_list(actor)[:20],
        "can_edit": has_perm(actor, Perm.EDIT_FINANCE),
        "settle_form": settle_form or SettleForm(),
        "forecast_form": forecast_form or ForecastForm(initial={"samples": 1000, "seed": 1}),
    }
    return render(request, "web/savings/overview.html", context, status=status)


@never_cache
@domain_errors
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if is_practice_scoped(actor):
        return redirect("web:savings:statement_list")
    return _overview(request)


@never_cache
@domain_errors
@require_POST
def settle(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = SettleForm(request.POST)
    if not form.is_valid():
        return _overview(request, settle_form=form, status=400)
    data = form.cleaned_data
    try:
        formula = services.settlement_formula(data["month_to"].last_day, data["formula"])
        snapshot = services.take_snapshot(
            actor, contract=data["term"].contract, first=data["month_from"], last=data["month_to"],
            cutoff=data["cutoff"], quality_run=data["quality_run"], risk_run=data["risk_run"],
        )  # fmt: skip
        run = services.prepare_run(actor, snapshot=snapshot, formula=formula)
    except ValidationFailed as error:
        apply_errors(form, error)
        return _overview(request, settle_form=form, status=400)
    messages.success(request, f"Settlement run {run.pk} prepared (a draft).")
    return redirect("web:savings:run_detail", pk=run.pk)


@never_cache
@domain_errors
@require_POST
def forecast_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = ForecastForm(request.POST)
    if not form.is_valid():
        return _overview(request, forecast_form=form, status=400)
    data = form.cleaned_data
    try:
        record = services.make_forecast(
            actor, contract=data["term"].contract, first=Month(data["year"], 1), last=Month(data["year"], 12),
            as_of=data["as_of"], samples=data["samples"], seed=data["seed"], quality_run=data["quality_run"],
            risk_run=data["risk_run"],
        )  # fmt: skip
    except ValidationFailed as error:
        apply_errors(form, error)
        return _overview(request, forecast_form=form, status=400)
    return redirect("web:savings:forecast_detail", pk=record.pk)


def _ended(version: SavingsTerm | DistributionFormula, end_previous: bool) -> str:
    previous = selectors.version_ending_before(version) if end_previous else None
    return f" Version {previous.version} now ends on {previous.valid_to}." if previous is not None else ""


def _term_form_page(request: HttpRequest, form: TermForm, status: int = 200) -> HttpResponse:
    return render(request, "web/savings/term_form.html", {"form": form}, status=status)


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def term_create(request: HttpRequest) -> HttpResponse:
    """Add the next version of a contract's terms (as ``openipa savings add-terms`` does)."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    contracts = contract_selectors.contract_list(actor)
    if request.method != "POST":
        initial: dict[str, Any] = {}
        if str(request.GET.get("contract", "")).isdigit():
            initial["contract"] = contracts.filter(pk=int(request.GET["contract"])).first()
        return _term_form_page(request, TermForm(initial=initial, contracts=contracts))
    form = TermForm(request.POST, contracts=contracts)
    if not form.is_valid():
        return _term_form_page(request, form, status=400)
    try:
        term = services.term_create(actor, contract=form.cleaned_data["contract"], data=form.term_data(),
                                    end_previous=form.cleaned_data["end_previous"])  # fmt: skip
    except ValidationFailed as error:
        apply_errors(form, error)
        return _term_form_page(request, form, status=400)
    messages.success(request, f"Terms {term.name} v{term.version} saved for contract {term.contract.number}."
                     + _ended(term, form.cleaned_data["end_previous"]))  # fmt: skip
    return redirect("web:savings:term_detail", pk=term.pk)


def _formula_form_page(request: HttpRequest, form: FormulaForm, status: int = 200) -> HttpResponse:
    return render(request, "web/savings/formula_form.html", {"form": form}, status=status)


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def formula_create(request: HttpRequest) -> HttpResponse:
    """Add a formula's next version (as ``openipa savings add-formula`` does); versions are never edited."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    if request.method != "POST":
        initial: dict[str, Any] = {}
        if str(request.GET.get("from", "")).isdigit():
            previous = selectors.formula_list(actor).filter(pk=int(request.GET["from"])).first()
            if previous is not None:
                initial = formula_initial(previous)
        return _formula_form_page(request, FormulaForm(initial=initial))
    form = FormulaForm(request.POST)
    if not form.is_valid():
        return _formula_form_page(request, form, status=400)
    try:
        formula = services.formula_create(actor, data=form.formula_data(),
                                          end_previous=form.cleaned_data["end_previous"])  # fmt: skip
    except ValidationFailed as error:
        apply_errors(form, error)
        return _formula_form_page(request, form, status=400)
    messages.success(request, f"Formula {formula.name} v{formula.version} saved."
                     + _ended(formula, form.cleaned_data["end_previous"]))  # fmt: skip
    return redirect("web:savings:overview")


@never_cache
@domain_errors
@require_GET
def term_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    term = selectors.term_get(actor, pk)
    context = {
        "term": term,
        "snapshots": selectors.snapshot_list(actor).filter(term=term)[:20],
        "forecasts": selectors.forecast_list(actor).filter(term=term)[:20],
        "can_edit": has_perm(actor, Perm.EDIT_FINANCE),
    }
    return render(request, "web/savings/term.html", context)


def _shares_chart(rows: list[tuple[str, int]]) -> SafeString:
    svg = charts.bar_chart(
        [code for code, _ in rows], [charts.Series("Share ($)", tuple(c / 100 for _, c in rows))],
        title="Each practice's share", x_label="Practice", y_label="Dollars", chart_id="savings-shares",
    )  # fmt: skip
    return mark_safe(svg)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    shares = list(run.shares.select_related("practice").order_by("-total_cents", "practice__code"))
    names = dict(
        Practice.objects.filter(pk__in=[p["practice_id"] for p in run.snapshot.practices]).values_list(
            "pk", "code"
        )
    )
    context = {
        "run": run,
        "snapshot": run.snapshot,
        "shares": shares,
        "pool_keys": list(run.distribution.get("pools", {})),
        "chart": _shares_chart([(s.practice.code, s.total_cents) for s in shares]) if shares else "",
        "practice_rows": [
            {**p, "code": names.get(p["practice_id"], p["practice_id"])} for p in run.snapshot.practices
        ],
        "can_edit": has_perm(actor, Perm.EDIT_FINANCE),
    }
    return render(request, "web/savings/run.html", context)


@never_cache
@domain_errors
@require_POST
def run_approve(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    try:
        services.approve_run(actor, run)
    except services.RunRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Run {run.pk} approved; its ledger entries are posted.")
    return redirect("web:savings:run_detail", pk=run.pk)


@never_cache
@domain_errors
@require_POST
def run_pay(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    out = (
        Path(settings.VAR_DIR)
        / "payments"
        / "out"
        / f"savings-run-{run.pk}-{timezone.now():%Y%m%d%H%M%S}.ach"
    )
    try:
        services.pay_run(actor, run, out=out)
    except services.RunRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Run {run.pk} paid: {out.name}.")
    return redirect("web:savings:run_detail", pk=run.pk)


@never_cache
@domain_errors
@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not selectors.can_view_statements(actor):
        raise PermissionDenied("statements are finance's and each practice's own")
    rows = selectors.statement_list(actor)[:200]
    return render(
        request, "web/savings/statement_list.html", {"shares": rows, "scoped": is_practice_scoped(actor)}
    )


@never_cache
@domain_errors
@require_GET
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    s = statements.statement(selectors.statement_get(actor, pk))
    return render(request, "web/savings/statement.html", {"s": s, "scoped": is_practice_scoped(actor)})


@never_cache
@domain_errors
@require_GET
def statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    s = statements.statement(selectors.statement_get(actor_of(request), pk))
    return attachment(
        HttpResponse(statements.statement_pdf(s), content_type="application/pdf"), f"{s.file_stem}.pdf"
    )


@never_cache
@domain_errors
@require_GET
def statement_csv(request: HttpRequest, pk: int) -> HttpResponse:
    s = statements.statement(selectors.statement_get(actor_of(request), pk))
    return attachment(HttpResponse(statements.statement_csv(s), content_type="text/csv; charset=utf-8"),
                       f"{s.file_stem}.csv")  # fmt: skip


def _forecast_charts(result: dict[str, Any]) -> tuple[SafeString, SafeString]:
    bins = result.get("histogram") or []
    labels = [format_money(int(lo)).replace(".00", "") for lo, _hi, _n in bins]
    histogram = charts.bar_chart(
        labels, [charts.Series("Resamples", tuple(float(n) for _lo, _hi, n in bins))],
        title="Projected savings across the bootstrap resamples", x_label="Savings (bin from)",
        y_label="Resamples", chart_id="savings-histogram",
    )  # fmt: skip
    interval = result["interval"]
    shared = result["shared_interval"]
    spread = charts.bar_chart(
        ["5th percentile", "median", "95th percentile"],
        [charts.Series("Savings ($)", (interval["low"] / 100, interval["median"] / 100, interval["high"] / 100)),
         charts.Series("Shared ($)", (shared["low"] / 100, shared["median"] / 100, shared["high"] / 100))],
        title="Savings and shared amount: the 90% interval", x_label="Percentile", y_label="Dollars",
        stacked=False, chart_id="savings-interval",
    )  # fmt: skip
    return mark_safe(histogram), mark_safe(spread)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def forecast_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    record = selectors.forecast_get(actor, pk)
    histogram, spread = _forecast_charts(record.result)
    probabilities = [
        ("Minimum savings rate met", record.result["probabilities"]["msr_met"]),
        ("Quality gate met", record.result["probabilities"]["quality_met"]),
        ("Savings cap reached", record.result["probabilities"]["savings_cap"]),
        ("A loss is shared (beyond the minimum loss rate)", record.result["probabilities"]["loss_shared"]),
        ("Loss cap reached", record.result["probabilities"]["loss_cap"]),
    ]
    context = {"f": record, "r": record.result, "histogram": histogram, "spread": spread,
               "probabilities": [(label, p, round(p * 100, 1)) for label, p in probabilities]}  # fmt: skip
    return render(request, "web/savings/forecast.html", context)
