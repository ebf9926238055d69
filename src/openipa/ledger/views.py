"""Pages of the ledger: the trial balance (and its CSV), an account's activity, the journal, one entry and
its reversal. Reading needs VIEW_FINANCE and reversing EDIT_FINANCE; the selectors and services refuse
everyone else, and `domain_errors` turns the refusal into the 403 page."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from openipa.accounts.models import User
from openipa.core.errors import PermissionDenied
from openipa.core.pagination import paginate
from openipa.core.roles import Perm, has_perm, require
from openipa.ledger import selectors, services
from openipa.ledger.forms import AccountActivityForm, JournalFilterForm, ReverseForm, TrialBalanceForm
from openipa.ledger.models import JournalEntry
from openipa.ui import charts
from openipa.ui.errors import domain_errors

ENTRY_LINES_PER_PAGE = 100


def _actor(request: HttpRequest) -> User:
    """The signed-in user (LoginRequiredMiddleware keeps anonymous requests out)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("not signed in")
    return user


def _page_or_results(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    """The whole page, or only its results when htmx asks (filters as you type)."""
    htmx = getattr(request, "htmx", None)
    partial_only = bool(htmx) and not getattr(htmx, "history_restore_request", False)
    response = render(request, partial if partial_only else template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _dollars(cents: int) -> int:
    """Whole dollars, half-up, for a chart's bar heights (the table beside it has the cents)."""
    return (cents + 50) // 100


def _chart(report: selectors.TrialBalance) -> str:
    kinds = report.by_kind()
    svg = charts.bar_chart(
        [k.kind.plural for k in kinds],
        [
            charts.Series("Debit balances", tuple(_dollars(k.debit_cents) for k in kinds)),
            charts.Series("Credit balances", tuple(_dollars(k.credit_cents) for k in kinds)),
        ],
        title="Balances by kind of account",
        x_label="Kind of account",
        y_label="Dollars",
        stacked=False,
        chart_id="trial-balance",
        plot_height=180,
    )
    return mark_safe(svg)  # charts escape every text they write


@never_cache
@domain_errors
@require_GET
def trial_balance(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = TrialBalanceForm(request.GET)
    as_of = form.as_of_date()
    report = selectors.trial_balance(actor, as_of=as_of)
    context = {
        "form": form,
        "report": report,
        "kinds": report.by_kind(),
        "chart": _chart(report),
        "export_query": f"as_of={as_of.isoformat()}" if as_of else "",
    }
    return _page_or_results(
        request, "web/ledger/trial_balance.html", "web/ledger/_trial_balance.html", context
    )


@never_cache
@domain_errors
@require_GET
def trial_balance_csv(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    as_of = TrialBalanceForm(request.GET).as_of_date()
    rows = list(selectors.trial_balance_export_rows(actor, as_of=as_of))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(selectors.TRIAL_BALANCE_COLUMNS)
    writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"trial-balance-{as_of.isoformat() if as_of else timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@domain_errors
@require_GET
def account_detail(request: HttpRequest, code: str) -> HttpResponse:
    actor = _actor(request)
    account = selectors.account_get(actor, code)
    form = AccountActivityForm(request.GET, actor=actor)
    activity = selectors.account_activity(actor, account.code, **form.filters())
    context = {
        "form": form,
        "account": account,
        "activity": activity,
        "page": paginate(activity.lines, request.GET.get("page")),
    }
    return _page_or_results(request, "web/ledger/account.html", "web/ledger/_account_lines.html", context)


@never_cache
@domain_errors
@require_GET
def journal(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = JournalFilterForm(request.GET, actor=actor)
    page = selectors.journal_page(actor, page=request.GET.get("page"), **form.filters())
    context = {"form": form, "page": page}
    return _page_or_results(request, "web/ledger/journal.html", "web/ledger/_journal.html", context)


def _lines_context(request: HttpRequest, actor: User, entry: JournalEntry) -> dict[str, Any]:
    """An entry and one page of its lines (a run's entry may have thousands)."""
    lines = selectors.entry_lines(actor, entry)
    return {
        "entry": entry,
        "page": paginate(lines.lines, request.GET.get("page"), ENTRY_LINES_PER_PAGE),
        "total_cents": lines.total_cents,
    }


@never_cache
@domain_errors
@require_GET
def entry_detail(request: HttpRequest, number: int) -> HttpResponse:
    actor = _actor(request)
    entry = selectors.entry_get(actor, number)
    context = {
        **_lines_context(request, actor, entry),
        "can_reverse": has_perm(actor, Perm.EDIT_FINANCE)
        and entry.reverses_id is None
        and entry.reversal is None,
    }
    return render(request, "web/ledger/entry.html", context)


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def entry_reverse(request: HttpRequest, number: int) -> HttpResponse:
    """The confirmation page of a reversal (GET), and the reversal itself (POST)."""
    actor = _actor(request)
    require(actor, Perm.EDIT_FINANCE)
    entry = selectors.entry_get(actor, number)
    today = timezone.localdate()
    initial = {"date": max(today, entry.date), "memo": f"Reversal of entry {entry.number}: "}
    form = ReverseForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            reversal = services.reverse_entry(
                actor=actor, entry=entry, date=form.cleaned_data["date"], memo=form.cleaned_data["memo"]
            )
        except services.LedgerError as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
        else:
            messages.success(request, f"Entry {entry.number} is reversed by entry {reversal.number}.")
            return redirect("web:ledger:entry_detail", number=reversal.number)
    context = {**_lines_context(request, actor, entry), "form": form}
    return render(request, "web/ledger/reverse.html", context, status=400 if form.errors else 200)
