"""The discrepancy work queue, and acting on one row: assign, dispute, resolve with a note, write off.

A row's form posts with htmx and gets the row back (with the refusal in it, if any); without JavaScript the
same form posts plainly and lands back on the page it came from, with the outcome as a message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from openipa.accounts.models import User
from openipa.capitation import selectors
from openipa.capitation.forms import DiscrepancyActionForm, QueueFilterForm
from openipa.capitation.models import Discrepancy
from openipa.capitation.services import discrepancies as service
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Perm, require
from openipa.membership.views.common import actor_of, is_htmx_partial, page_or_results, query_without_page
from openipa.ui.errors import domain_errors

QUEUE_PURPOSE = "capitation discrepancy work queue"
DONE = {
    "assign": "assigned",
    "dispute": "marked disputed",
    "resolve": "resolved",
    "write_off": "written off",
}


def _row_context(actor: User, row: selectors.DiscrepancyRow, **extra: Any) -> dict[str, Any]:
    return {
        "row": row,
        "can_act": selectors.can_act(actor),
        "owners": list(selectors.discrepancy_owners(actor)),
        "show_payer": True,
        **extra,
    }


@never_cache
@domain_errors
@require_GET
def work_queue(request: HttpRequest) -> HttpResponse:
    """Open and disputed discrepancies (or as filtered), largest impact first, a page at a time."""
    actor = actor_of(request)
    form = QueueFilterForm(request.GET, actor=actor)
    filters = form.filters()
    page, total = selectors.discrepancy_page(
        actor, now=timezone.now(), purpose=QUEUE_PURPOSE, page=request.GET.get("page"), **filters
    )
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "total_impact": total,
        "can_act": selectors.can_act(actor),
        "owners": list(selectors.discrepancy_owners(actor)),
        "show_payer": True,
        "next": request.get_full_path(),
        "query": query_without_page(request),
    }
    return page_or_results(request, "web/capitation/work_queue.html", "web/capitation/_queue.html", context)


def _apply(actor: User, d: Discrepancy, form: DiscrepancyActionForm) -> Discrepancy:
    data = form.cleaned_data
    action = data["action"]
    if action == "assign":
        return service.assign_discrepancy(actor=actor, discrepancy=d, owner=data.get("owner"))
    if action == "dispute":
        return service.dispute_discrepancy(actor=actor, discrepancy=d, note=data.get("note") or "")
    if action == "resolve":
        return service.resolve_discrepancy(actor=actor, discrepancy=d, note=data.get("note") or "")
    return service.write_off_discrepancy(actor=actor, discrepancy=d, note=data.get("note") or "")


def _back(request: HttpRequest) -> HttpResponseBase:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("web:capitation:work_queue")


@never_cache
@domain_errors
@require_POST
def discrepancy_act(request: HttpRequest, pk: int) -> HttpResponseBase:
    """One action on one discrepancy (finance). htmx gets the row back; a plain POST goes back to the page."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_FINANCE)
    d = selectors.discrepancy_get(actor, pk)
    form = DiscrepancyActionForm(request.POST, actor=actor)
    problems: list[str] = []
    done = ""
    if not form.is_valid():
        problems = form.messages()
    else:
        try:
            _apply(actor, d, form)
        except ValidationFailed as exc:
            problems = [m for msgs in exc.fields.values() for m in msgs]
        else:
            done = (
                f"{d.get_category_display()} of {d.payer_member_id or d.payer.code} {d.month:%Y-%m} "
                + (DONE[form.cleaned_data["action"]])
            )
    if is_htmx_partial(request):
        row = selectors.discrepancy_row(actor, pk, purpose=QUEUE_PURPOSE, now=timezone.now())
        context = _row_context(actor, row, problems=problems, done=done, next=request.POST.get("next", ""))
        return render(request, "web/capitation/_discrepancy_row.html", context)
    for problem in problems:
        messages.error(request, problem)
    if done:
        messages.success(request, f"{done}.")
    return _back(request)
