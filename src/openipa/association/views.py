"""Pages of the association app.

Membership fees: terms per practice (adding one, ending one), invoice runs (prepare, approve, issue), an invoice (and its PDF, and a
credit note against it), payments received (and recording one), balances and aging with a chart, a practice's
statement of account (page, PDF, CSV). A practice user reaches its own invoices, payments and statement only;
runs, terms and every practice's balances are staff pages (VIEW_FINANCE); writing is EDIT_FINANCE.

Programs: the list, a program with its results chart (participants vs baseline, comparison practices and the
target), create and edit (EDIT_CLINICAL), practices joining and leaving.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openipa.association import documents, engine, selectors, services
from openipa.association.forms import (
    CreditForm,
    EndTermForm,
    IssueForm,
    JoinForm,
    LeaveForm,
    PaymentForm,
    PrepareForm,
    ProgramForm,
    StatementForm,
    TermFilterForm,
    TermForm,
)
from openipa.association.models import FeeTerm, Invoice, InvoiceRun, Program
from openipa.core.errors import ValidationFailed
from openipa.core.money import format_money
from openipa.core.pagination import paginate
from openipa.core.roles import Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.membership.views.common import actor_of
from openipa.ui import charts
from openipa.ui.errors import domain_errors
from openipa.ui.forms import apply_errors, valid_data
from openipa.ui.responses import attachment


def _base(request: HttpRequest) -> dict[str, Any]:
    actor = actor_of(request)
    return {
        "scoped": is_practice_scoped(actor),
        "can_edit": has_perm(actor, Perm.EDIT_FINANCE),
        "own_practice_id": actor.practice_id if is_practice_scoped(actor) else None,
    }


# -- fees: landing, terms -------------------------------------------------------------------------------------


@never_cache
@domain_errors
@require_GET
def fees_home(request: HttpRequest) -> HttpResponseBase:
    """Staff land on balances; a practice user on its own statement of account."""
    actor = actor_of(request)
    selectors.require_fee_view(actor)
    if is_practice_scoped(actor):
        return redirect("web:association:statement", practice_id=scoped_practice_id(actor))
    return redirect("web:association:balances")


def _terms_page(
    request: HttpRequest, form: TermForm, *, status: int = 200, end: EndTermForm | None = None,
    ended: FeeTerm | None = None,
) -> HttpResponse:  # fmt: skip
    actor = actor_of(request)
    filters = TermFilterForm(request.GET or None)
    chosen = valid_data(filters).get("practice")
    terms = selectors.fee_terms(actor, practice_id=chosen.pk if chosen is not None else None)
    page = paginate(terms, request.GET.get("page"))
    context = {**_base(request), "page": page, "form": form, "end": end, "ended": ended, "filters": filters}
    return render(request, "web/association/term_list.html", context, status=status)


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def term_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    selectors.require_fee_staff(actor)
    form = TermForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require(actor, Perm.EDIT_FINANCE)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "practice"}
            try:
                term = services.fee_term_create(
                    actor=actor, practice=form.cleaned_data["practice"], data=data
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Fee term saved for {term.practice.code} from {term.valid_from}.")
                return redirect("web:association:term_list")
        status = 400
    return _terms_page(request, form, status=status)


@never_cache
@domain_errors
@require_POST
def term_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a fee term on a day (finance). Refusals (before it began, months already invoiced by it, another
    term) are shown on the terms page with nothing changed."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    term = selectors.fee_term_get(actor, pk)
    form = EndTermForm(request.POST)
    if form.is_valid():
        try:
            term = services.fee_term_end(actor=actor, term=term, valid_to=form.cleaned_data["valid_to"])
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Fee term of {term.practice.code} from {term.valid_from} ends on "
                                      f"{term.valid_to}.")  # fmt: skip
            drafts = selectors.drafts_priced_by(term)
            if drafts:
                messages.warning(request, "Draft run(s) " + ", ".join(f"{r.pk} ({r.month:%Y-%m})" for r in drafts)
                                 + " priced a month after the new end by this term: prepare them again.")  # fmt: skip
            return redirect(
                f"{reverse('web:association:term_list')}?{urlencode({'practice': term.practice.code})}"
            )
    return _terms_page(request, TermForm(), status=400, end=form, ended=term)


# -- fees: runs -----------------------------------------------------------------------------------------------


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def run_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    selectors.require_fee_staff(actor)
    form = PrepareForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require(actor, Perm.EDIT_FINANCE)
        if form.is_valid():
            try:
                run = services.prepare_invoices(actor=actor, month=form.cleaned_data["month"])
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Draft run {run.pk} prepared: {format_money(run.total_cents)}.")
                return redirect("web:association:run_detail", pk=run.pk)
        status = 400
    context = {**_base(request), "runs": selectors.runs(actor), "form": form}
    return render(request, "web/association/run_list.html", context, status=status)


def _run_context(request: HttpRequest, run: InvoiceRun, issue: IssueForm | None = None) -> dict[str, Any]:
    actor = actor_of(request)
    invoices = list(selectors.run_invoices(actor, run))
    can_edit = has_perm(actor, Perm.EDIT_FINANCE)
    return {
        **_base(request), "run": run, "invoices": invoices,
        "can_approve": can_edit and run.status == InvoiceRun.Status.DRAFT and run.prepared_by != actor.username,
        "own_draft": run.status == InvoiceRun.Status.DRAFT and run.prepared_by == actor.username,
        "can_issue": can_edit and run.status == InvoiceRun.Status.APPROVED,
        "issue": issue or IssueForm(initial={"issue_date": timezone.localdate()}),
    }  # fmt: skip


@never_cache
@domain_errors
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.run_get(actor_of(request), pk)
    return render(request, "web/association/run_detail.html", _run_context(request, run))


@never_cache
@domain_errors
@require_POST
def run_approve(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    run = selectors.run_get(actor, pk)
    try:
        services.approve_run(actor=actor, run=run)
    except ValidationFailed as exc:
        messages.error(request, str(exc.fields.get("", [str(exc)])[0]))
    else:
        messages.success(request, f"Run {run.pk} approved.")
    return redirect("web:association:run_detail", pk=run.pk)


@never_cache
@domain_errors
@require_POST
def run_issue(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    run = selectors.run_get(actor, pk)
    form = IssueForm(request.POST)
    if form.is_valid():
        try:
            services.issue_run(actor=actor, run=run, issue_date=form.cleaned_data["issue_date"])
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Run {run.pk} issued and posted to the ledger.")
            return redirect("web:association:run_detail", pk=run.pk)
    return render(request, "web/association/run_detail.html", _run_context(request, run, form), status=400)


# -- fees: invoices -------------------------------------------------------------------------------------------


@never_cache
@domain_errors
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    page = paginate(selectors.issued_invoices(actor), request.GET.get("page"))
    return render(request, "web/association/invoice_list.html", {**_base(request), "page": page})


def _invoice_context(
    request: HttpRequest, invoice: Invoice, credit: CreditForm | None = None
) -> dict[str, Any]:
    actor = actor_of(request)
    issued = invoice.run.status == InvoiceRun.Status.ISSUED
    applied = list(invoice.applications.select_related("payment", "credit_note"))
    open_cents = invoice.total_cents - sum(a.amount_cents for a in applied)
    return {
        **_base(request), "invoice": invoice, "lines": list(invoice.lines.all()), "applied": applied,
        "open_cents": open_cents if not invoice.is_credit_note else 0,
        "notes": list(invoice.credit_notes.select_related("run")) if not invoice.is_credit_note else [],
        "can_credit": has_perm(actor, Perm.EDIT_FINANCE) and issued and not invoice.is_credit_note,
        "credit": credit or CreditForm(), "revenue_definition": documents.REVENUE_DEFINITION,
        "has_base": any(line.kind == "base" for line in invoice.lines.all()),
    }  # fmt: skip


@never_cache
@domain_errors
@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = selectors.invoice_get(actor_of(request), pk)
    return render(request, "web/association/invoice_detail.html", _invoice_context(request, invoice))


@never_cache
@domain_errors
@require_GET
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = selectors.invoice_get(actor_of(request), pk)
    return attachment(HttpResponse(documents.invoice_pdf(invoice), content_type="application/pdf"),
                       f"{invoice.number}.pdf")  # fmt: skip


@never_cache
@domain_errors
@require_POST
def invoice_credit(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    invoice = selectors.invoice_get(actor, pk)
    form = CreditForm(request.POST)
    if form.is_valid():
        try:
            run = services.credit_note(actor=actor, invoice=invoice, amount=form.cleaned_data["amount"] or None,
                                       reason=form.cleaned_data["reason"])  # fmt: skip
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, f"Credit note prepared as draft run {run.pk}: another finance user approves it."
            )
            return redirect("web:association:run_detail", pk=run.pk)
    context = _invoice_context(request, invoice, form)
    return render(request, "web/association/invoice_detail.html", context, status=400)


# -- fees: payments, balances, statements ---------------------------------------------------------------------


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def payment_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    selectors.require_fee_view(actor)
    form = PaymentForm(request.POST or None) if has_perm(actor, Perm.EDIT_FINANCE) else None
    status = 200
    if request.method == "POST":
        require(actor, Perm.EDIT_FINANCE)
        assert form is not None
        if form.is_valid():
            data = form.cleaned_data
            invoice = None
            if data["invoice"]:
                invoice = selectors.invoice_by_number(actor, data["invoice"])
                if invoice is None:
                    form.add_error("invoice", f"No invoice {data['invoice']!r}.")
            if not form.errors:
                try:
                    payment = services.record_payment(
                        actor=actor, practice=data["practice"], amount=data["amount"], received_on=data["received_on"],
                        method=data["method"], reference=data["reference"], invoice=invoice,
                    )  # fmt: skip
                except ValidationFailed as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(request, f"Payment of {format_money(payment.amount_cents)} from "
                                              f"{payment.practice.code} recorded and applied.")  # fmt: skip
                    return redirect("web:association:payment_list")
        status = 400
    page = paginate(selectors.payments(actor), request.GET.get("page"))
    return render(request, "web/association/payment_list.html", {**_base(request), "page": page, "form": form},
                  status=status)  # fmt: skip


def _aging_chart(rows: list[selectors.Balance]) -> SafeString:
    shown = [r for r in rows if r.aging.open_cents][:40]
    svg = charts.bar_chart(
        [r.practice.code for r in shown],
        [charts.Series(bucket, tuple(r.aging.buckets[bucket] / 100 for r in shown)) for bucket in engine.BUCKETS],
        title="Open membership fees by age", x_label="Practice", y_label="Dollars", stacked=True,
        chart_id="fee-aging", plot_height=220,
    )  # fmt: skip
    return mark_safe(svg)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def balances(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = StatementForm(request.GET or None)
    as_of = (form.cleaned_data.get("end") if form.is_valid() else None) or timezone.localdate()
    rows = selectors.balances(actor, as_of=as_of)
    totals = {b: sum(r.aging.buckets[b] for r in rows) for b in engine.BUCKETS}
    context = {
        **_base(request), "rows": rows, "as_of": as_of, "buckets": engine.BUCKETS, "totals": totals,
        "credit_total": sum(r.aging.credit_cents for r in rows),
        "balance_total": sum(r.aging.balance_cents for r in rows),
        "chart": _aging_chart(rows) if any(r.aging.open_cents for r in rows) else "",
    }  # fmt: skip
    return render(request, "web/association/balances.html", context)


def _statement(request: HttpRequest, practice_id: int) -> tuple[Any, engine.Statement, StatementForm]:
    form = StatementForm(request.GET or None)
    start, end = form.period(timezone.localdate())
    practice, st = selectors.statement_of_account(actor_of(request), practice_id, start=start, end=end)
    return practice, st, form


@never_cache
@domain_errors
@require_GET
def statement(request: HttpRequest, practice_id: int) -> HttpResponse:
    practice, st, form = _statement(request, practice_id)
    context = {
        **_base(request),
        "practice": practice,
        "st": st,
        "form": form,
        "query": request.GET.urlencode(),
    }
    return render(request, "web/association/statement.html", context)


@never_cache
@domain_errors
@require_GET
def statement_pdf(request: HttpRequest, practice_id: int) -> HttpResponse:
    practice, st, _form = _statement(request, practice_id)
    return attachment(HttpResponse(documents.statement_pdf(practice, st), content_type="application/pdf"),
                       f"statement-{practice.code}-{st.end.isoformat()}.pdf")  # fmt: skip


@never_cache
@domain_errors
@require_GET
def statement_csv(request: HttpRequest, practice_id: int) -> HttpResponse:
    practice, st, _form = _statement(request, practice_id)
    body = documents.statement_csv(practice, st)
    return attachment(HttpResponse(body, content_type="text/csv; charset=utf-8"),
                       f"statement-{practice.code}-{st.end.isoformat()}.csv")  # fmt: skip


# -- programs -------------------------------------------------------------------------------------------------


@never_cache
@domain_errors
@require_GET
def program_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    programs = list(selectors.programs(actor))
    context = {
        "programs": programs,
        "can_edit": has_perm(actor, Perm.EDIT_CLINICAL),
        "scoped": is_practice_scoped(actor),
    }
    return render(request, "web/association/program_list.html", context)


def _program_chart(results: selectors.ProgramResults, scoped: bool) -> SafeString:
    """One line per group across the runs. A group not shown at some run (too few practices for a practice user,
    or nobody in the denominator) is left out of the chart; the table says why."""
    labels = [f"{p.run.as_of:%Y-%m-%d}" for p in results.points]
    groups: list[tuple[str, list[selectors.GroupRate | None]]] = [
        ("Participating practices", [p.participants for p in results.points]),
        ("Other practices", [p.comparison for p in results.points]),
    ]
    if scoped:
        groups.insert(0, ("Your practice", [p.own for p in results.points]))
    series = [
        charts.Series(
            name, tuple(float(r.value * 100) for r in rates if r is not None and r.value is not None)
        )
        for name, rates in groups
        if all(r is not None and r.value is not None for r in rates)
    ]
    baseline = results.baseline.value if results.baseline is not None else None
    for name, value in (("Baseline", baseline), ("Target", results.target)):
        if value is not None:
            series.append(charts.Series(name, tuple(float(value * 100) for _label in labels)))
    svg = charts.line_chart(
        labels, series, title=f"{results.program.rate} by quality run", x_label="Quality run (as of)",
        y_label="Rate (%)", chart_id="program-results",
    )  # fmt: skip
    return mark_safe(svg)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def program_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    program = selectors.program_get(actor, pk)
    results = selectors.program_results(actor, program)
    scoped = is_practice_scoped(actor)
    can_edit = has_perm(actor, Perm.EDIT_CLINICAL)
    context = {
        "program": program, "results": results, "scoped": scoped, "can_edit": can_edit,
        "chart": _program_chart(results, scoped) if results.points else "",
        "participants": [] if scoped else list(program.participants.select_related("practice")),
        "participant_count": program.participants.filter(left_on__isnull=True).count(),
        "min_peers": selectors.min_peer_practices(timezone.localdate()),
        "join": JoinForm() if can_edit else None, "leave": LeaveForm() if can_edit else None,
    }  # fmt: skip
    return render(request, "web/association/program_detail.html", context)


def _program_data(form: ProgramForm) -> dict[str, Any]:
    return {k: v for k, v in form.cleaned_data.items() if k != "practices"}


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def program_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require(actor, Perm.EDIT_CLINICAL)
    form = ProgramForm(request.POST or None, initial={"status": Program.Status.PLANNED})
    if request.method == "POST":
        if form.is_valid():
            chosen = list(form.cleaned_data["practices"]) or None
            try:
                program = services.program_create(actor=actor, data=_program_data(form), practices=chosen)
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Program {program.name} created.")
                return redirect("web:association:program_detail", pk=program.pk)
        return render(
            request, "web/association/program_form.html", {"form": form, "program": None}, status=400
        )
    return render(request, "web/association/program_form.html", {"form": form, "program": None})


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def program_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    require(actor, Perm.EDIT_CLINICAL)
    program = selectors.program_get(actor, pk)
    initial = {f: getattr(program, f) for f in services.PROGRAM_FIELDS}
    form = ProgramForm(request.POST or None, initial=initial)
    form.fields["practices"].disabled = True
    form.fields["practices"].help_text = "Practices join and leave on the program's page."
    if request.method == "POST":
        if form.is_valid():
            try:
                services.program_update(actor=actor, program=program, data=_program_data(form))
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Program saved.")
                return redirect("web:association:program_detail", pk=program.pk)
        return render(
            request, "web/association/program_form.html", {"form": form, "program": program}, status=400
        )
    return render(request, "web/association/program_form.html", {"form": form, "program": program})


@never_cache
@domain_errors
@require_POST
def program_join(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    require(actor, Perm.EDIT_CLINICAL)
    program = selectors.program_get(actor, pk)
    form = JoinForm(request.POST)
    if form.is_valid():
        try:
            services.participant_join(actor=actor, program=program, practice=form.cleaned_data["practice"],
                                      joined_on=form.cleaned_data["joined_on"])  # fmt: skip
        except ValidationFailed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{form.cleaned_data['practice'].code} joined.")
    else:
        messages.error(request, "Choose a practice and the day it joins.")
    return redirect("web:association:program_detail", pk=program.pk)


@never_cache
@domain_errors
@require_POST
def program_leave(request: HttpRequest, pk: int, participant_id: int) -> HttpResponseBase:
    actor = actor_of(request)
    require(actor, Perm.EDIT_CLINICAL)
    program = selectors.program_get(actor, pk)
    participant = selectors.participant_get(actor, program, participant_id)
    form = LeaveForm(request.POST)
    if form.is_valid():
        try:
            services.participant_leave(
                actor=actor, participant=participant, left_on=form.cleaned_data["left_on"]
            )
        except ValidationFailed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "The practice left the program.")
    else:
        messages.error(request, "Give the day the practice leaves.")
    return redirect("web:association:program_detail", pk=program.pk)
