"""The pend queue: pended lines oldest first with their age and why they pend, and a form per line to pay or
deny it (always with a reason) through `decide_pend`. A refusal is shown next to the line and changes nothing."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from openipa.claims.forms import PendDecisionForm
from openipa.claims.selectors import claims as selectors
from openipa.claims.services.pends import decide_pend
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.money import format_money
from openipa.core.roles import Perm, require
from openipa.membership.views.common import actor_of
from openipa.ui import charts
from openipa.ui.errors import domain_errors

PURPOSE = "pend queue"


def _prefix(line_id: int) -> str:
    return f"line{line_id}"


def _queue(request: HttpRequest, *, bound: PendDecisionForm | None = None, bound_line: int = 0,
           status: int = 200) -> HttpResponse:  # fmt: skip
    actor = actor_of(request)
    page = selectors.pend_queue(actor, page=request.GET.get("page"), purpose=PURPOSE)
    can_edit = selectors.can_edit_claims(actor)
    rows = [
        (item, bound if bound is not None and item.line.pk == bound_line else PendDecisionForm(prefix=_prefix(item.line.pk)))
        for item in page.items
    ]  # fmt: skip
    refusal: list[str] = []
    if bound is not None and all(item.line.pk != bound_line for item in page.items):
        # the line is no longer in the queue (decided meanwhile): its refusal goes on top of the page
        refusal = [str(m) for messages_ in bound.errors.values() for m in messages_]
    aging = selectors.pend_aging(actor)
    chart = charts.bar_chart(
        [label for label, _n in aging],
        [charts.Series("Pended lines", tuple(float(n) for _label, n in aging))],
        title="Pended lines by days since received",
        x_label="Days since received",
        y_label="Lines",
        chart_id="pend-aging",
        plot_height=180,
    )
    context = {
        "page": page, "rows": rows, "can_edit": can_edit, "refusal": refusal, "aging": aging,
        "chart": mark_safe(chart),  # charts escape every text they write
    }  # fmt: skip
    return render(request, "web/claims/pend_queue.html", context, status=status)


@never_cache
@domain_errors
@require_GET
def pend_queue(request: HttpRequest) -> HttpResponse:
    return _queue(request)


@never_cache
@domain_errors
@require_POST
def pend_decide(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Pay or deny one pended line. Refused (400, the queue with the line's errors): nothing changed."""
    actor = actor_of(request)
    require(actor, Perm.EDIT_CLAIMS)
    if not selectors.can_edit_claims(actor):
        raise PermissionDenied("practice users do not decide pended lines")
    line = selectors.pended_line_get(actor, pk)
    form = PendDecisionForm(request.POST, prefix=_prefix(line.pk))
    if form.is_valid():
        try:
            override = decide_pend(actor=actor, line=line, **form.service_kwargs())
        except ValidationFailed as exc:
            form.put_errors(exc)
        else:
            what = (
                f"paid ({format_money(override.allowed_cents or 0)} allowed)"
                if override.decision == "pay"
                else f"denied (CARC {override.carc})"
            )
            messages.success(request, f"Claim {line.claim_id} line {line.number} was {what}.")
            return redirect(reverse("web:claims:pend_queue"))
    return _queue(request, bound=form, bound_line=line.pk, status=400)


urlpatterns = [
    path("claims/pends/", pend_queue, name="pend_queue"),
    path("claims/pends/<int:pk>/decide/", pend_decide, name="pend_decide"),
]
