"""Incentive settlement pages: runs (list, prepare, detail with a chart of amounts per practice, approve, pay, the payment file),
formula versions (the list with what each changed, and a new version's form, finance only), and statements (a practice user's own only: page, PDF, CSV)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.pagination import paginate
from openipa.core.roles import Perm, has_perm, is_practice_scoped, require
from openipa.incentives import selectors, services, statements
from openipa.incentives.forms import (
    FORM_NAMES,
    FormulaForm,
    PrepareForm,
    VersionChoiceForm,
    initial_from,
    measure_rows,
    tier_rows,
)
from openipa.incentives.models import Kind, SettlementRun
from openipa.ledger.services import entries_for
from openipa.membership.views.common import actor_of
from openipa.ui import charts
from openipa.ui.errors import domain_errors
from openipa.ui.forms import apply_errors
from openipa.ui.responses import attachment


def _list(request: HttpRequest, form: PrepareForm, status: int = 200) -> HttpResponse:
    actor = actor_of(request)
    page = paginate(selectors.run_list(actor, kind=request.GET.get("kind", "")), request.GET.get("page"))
    context = {"page": page, "prepare": form, "can_act": selectors.can_act(actor)}
    return render(request, "web/incentives/run_list.html", context, status=status)


@never_cache
@domain_errors
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    return _list(request, PrepareForm())


@never_cache
@domain_errors
@require_POST
def run_prepare(request: HttpRequest) -> HttpResponseBase:
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    form = PrepareForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            run = services.prepare_settlement(actor=actor, contract=data["contract"], kind=data["kind"],
                                              period=data["period"], quality_run_id=form.quality_run_id(),
                                              pool_cents=form.pool_cents())  # fmt: skip
        except ValueError as exc:
            form.add_error(None, f"No settlement was prepared: {exc}")
        else:
            messages.success(
                request, f"Settlement {run.pk} was prepared ({run.get_status_display().lower()})."
            )
            return redirect("web:incentives:run_detail", pk=run.pk)
    return _list(request, form, status=400)


def _chart(run: SettlementRun, lines: list[Any]) -> str:
    labels = [line.practice.code for line in lines]
    owed = tuple(max(0, (line.difference_cents + 50) // 100) for line in lines)
    charged = tuple(max(0, (-line.difference_cents + 50) // 100) for line in lines)
    series = [charts.Series("Owed to the practice", owed)]
    if any(charged):
        series.append(charts.Series("Charged to the practice", charged))
    return mark_safe(charts.bar_chart(
        labels, series, title=f"Settlement {run.pk}: amount per practice", x_label="Practice", y_label="Dollars",
        chart_id="settlement-amounts", plot_height=220,
    ))  # fmt: skip


@never_cache
@domain_errors
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    lines = list(selectors.run_lines(actor, run))
    is_draft = run.status == SettlementRun.Status.DRAFT
    can_act = selectors.can_act(actor)
    context = {
        "run": run,
        "lines": lines,
        "chart": _chart(run, lines) if lines else "",
        "notes": [str(n) for n in (run.inputs or {}).get("notes", [])],
        "entries": entries_for("incentive_settlement", run.pk),
        "payment_files": list(run.payment_files.all()),
        "formula_rows": statements._formula_rows(run.formula_params or {}),
        "can_approve": can_act and is_draft and actor.username != run.prepared_by,
        "own_draft": can_act and is_draft and actor.username == run.prepared_by,
        "can_pay": can_act and run.status == SettlementRun.Status.APPROVED,
        "can_download": can_act and has_perm(actor, Perm.VIEW_BANK),
    }
    return render(request, "web/incentives/run_detail.html", context)


@never_cache
@domain_errors
@require_POST
def run_approve(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    run = selectors.run_get(actor, pk)
    try:
        services.approve_settlement(actor=actor, run=run)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Settlement {run.pk} is approved and posted to the ledger.")
    return redirect("web:incentives:run_detail", pk=run.pk)


@never_cache
@domain_errors
@require_POST
def run_pay(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Write the run's NACHA file under var/payments/ and mark it paid."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    run = selectors.run_get(actor, pk)
    out = (
        Path(settings.VAR_DIR)
        / "payments"
        / "outgoing"
        / f"incentive-{run.pk}-{timezone.localtime():%Y%m%d%H%M%S}.ach"
    )
    try:
        record = services.pay_settlement(actor=actor, run=run, out=out)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Settlement {run.pk} is paid: {record.entries} credits in {record.file_name}."
        )
    return redirect("web:incentives:run_detail", pk=run.pk)


@never_cache
@domain_errors
@require_GET
def payment_file(request: HttpRequest, pk: int, file_pk: int) -> HttpResponseBase:
    """The NACHA file a payment wrote (the kept copy), to send to the bank: finance only (bank accounts)."""
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    try:
        name, data = selectors.payment_file(actor, run, file_pk)
    except selectors.PaymentFileChanged as exc:
        messages.error(request, str(exc).capitalize() + ".")
        return redirect("web:incentives:run_detail", pk=run.pk)
    return attachment(HttpResponse(data, content_type="text/plain; charset=ascii"), name)


@never_cache
@domain_errors
@require_GET
def formula_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    versions = list(selectors.formula_list(actor))
    before = selectors.formula_history(actor, versions)
    used = selectors.runs_by_formula(actor, [f.pk for f in versions])
    formulas = [
        {"f": f, "rows": statements._formula_rows(f.params or {}), "before": before.get(f.pk),
         "changes": statements.formula_changes(before[f.pk].params if f.pk in before else None, f.params or {}),
         "runs": used.get(f.pk, [])}
        for f in versions
    ]  # fmt: skip
    can_act = selectors.can_act(actor)
    chooser = VersionChoiceForm(contracts=selectors.contracts_for_formulas(actor)) if can_act else None
    context = {"formulas": formulas, "can_act": can_act, "chooser": chooser}
    return render(request, "web/incentives/formula_list.html", context)


def _formula_forms(
    request: HttpRequest, kind: str, start: dict[str, Any], initial: dict[str, Any]
) -> tuple[FormulaForm, Any, Any]:
    data = request.POST if request.method == "POST" else None
    today = timezone.localdate()
    form = FormulaForm(data, kind=kind, initial=initial, categories=selectors.service_categories())
    measures = measure_rows(
        data, start, selectors.measure_choices([today.year - 1, today.year, today.year + 1])
    )
    tiers = tier_rows(data, start)
    return form, measures, tiers


def _apply_formula_errors(form: FormulaForm, exc: ValidationFailed) -> None:
    """The service names a formula field: dollars fields by their form name, the measures and tiers on top."""
    fields: dict[str, list[str]] = {}
    for name, found in exc.fields.items():
        target = FORM_NAMES.get(name, name)
        if name in ("measures", "tiers", "params"):
            target = ""
        fields.setdefault(target, []).extend(found)
    apply_errors(form, ValidationFailed(fields))


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def formula_new(request: HttpRequest) -> HttpResponseBase:
    """A new version of a contract's formula of one kind, its form filled from the latest version. Each save
    is a new version; the version in force is ended the day before (when asked and no settled run used it)."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    contracts = selectors.contracts_for_formulas(actor)
    choice = VersionChoiceForm(request.GET, contracts=contracts)
    if not choice.is_valid():
        raise NotFound("choose a contract and a kind of formula")
    contract, kind = choice.cleaned_data["contract"], choice.cleaned_data["kind"]
    latest = selectors.formula_latest(contract, kind)
    start: dict[str, Any] = dict(latest.params) if latest is not None else {}
    initial = {**initial_from(start), "end_previous": True,
               "name": latest.name if latest is not None else f"{contract.number} {Kind(kind).label.lower()}"}  # fmt: skip
    if latest is not None and latest.valid_to is not None:
        initial["valid_from"] = latest.valid_to + dt.timedelta(days=1)
    form, measures, tiers = _formula_forms(request, kind, start, initial)
    status = 200
    if request.method == "POST":
        status = 400
        uses_rows = kind != Kind.RISK_POOL
        rows_valid = (
            (measures.is_valid() and (kind != Kind.WITHHOLD or tiers.is_valid())) if uses_rows else True
        )
        if form.is_valid() and rows_valid:
            items = [i for i in (row.item() for row in measures) if i is not None] if uses_rows else []
            levels = (
                [t for t in (row.item() for row in tiers) if t is not None] if kind == Kind.WITHHOLD else []
            )
            data = form.cleaned_data
            try:
                formula = services.save_formula(
                    actor=actor, contract=contract, kind=kind, name=data["name"], params=form.params(items, levels),
                    valid_from=data["valid_from"], valid_to=data.get("valid_to"), notes=data.get("notes", ""),
                    end_previous=bool(data.get("end_previous")),
                )  # fmt: skip
            except ValidationFailed as exc:
                _apply_formula_errors(form, exc)
            else:
                messages.success(request, f"Version {formula.pk} of {contract.number}'s {formula.get_kind_display().lower()} "
                                          f"formula saved, in force from {formula.valid_from}.")  # fmt: skip
                drafts = selectors.stale_drafts(actor, formula)
                if drafts:
                    messages.warning(request, "Draft settlement(s) " + ", ".join(str(r.pk) for r in drafts)
                                     + " used the version this one replaces: prepare them again.")  # fmt: skip
                return redirect("web:incentives:formula_list")
    context = {"form": form, "measures": measures, "tiers": tiers, "contract": contract, "kind": kind,
               "kind_label": Kind(kind).label, "latest": latest, "query": request.GET.urlencode()}  # fmt: skip
    return render(request, "web/incentives/formula_form.html", context, status=status)


@never_cache
@domain_errors
@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    page = paginate(selectors.statement_list(actor), request.GET.get("page"))
    return render(
        request, "web/incentives/statement_list.html", {"page": page, "scoped": is_practice_scoped(actor)}
    )


@never_cache
@domain_errors
@require_GET
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    s = statements.statement(selectors.statement_line(actor, pk))
    return render(request, "web/incentives/statement.html", {"s": s, "scoped": is_practice_scoped(actor)})


@never_cache
@domain_errors
@require_GET
def statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    s = statements.statement(selectors.statement_line(actor_of(request), pk))
    return attachment(
        HttpResponse(statements.statement_pdf(s), content_type="application/pdf"), f"{s.file_stem}.pdf"
    )


@never_cache
@domain_errors
@require_GET
def statement_csv(request: HttpRequest, pk: int) -> HttpResponse:
    s = statements.statement(selectors.statement_line(actor_of(request), pk))
    return attachment(HttpResponse(statements.statement_csv(s), content_type="text/csv; charset=utf-8"),
                       f"{s.file_stem}.csv")  # fmt: skip
