"""The stop-loss page (finance and auditors): the policies, with a form to add one (finance), the alerts newest
first, and per policy the members over the attachment with what is recoverable and a chart of the largest
members' paid against the attachment. Practice users and staff without finance reading are refused."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from openipa.claims.selectors import stoploss as selectors
from openipa.claims.services.stoploss import policy_create
from openipa.contracts import selectors as contract_selectors
from openipa.contracts.models import Payer, Product
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.money import format_money
from openipa.core.roles import Actor, Perm, require
from openipa.membership.views.common import actor_of
from openipa.ui import charts
from openipa.ui.errors import domain_errors
from openipa.ui.forms import DateInput, apply_errors

PURPOSE = "stop-loss: alerts and recoverables"


class PolicyForm(forms.Form):
    """Parses and types the input; policy_create holds the rules and its refusals go next to the fields."""

    name = forms.CharField(max_length=200)
    carrier = forms.CharField(max_length=200, required=False, label="Reinsurer")
    payer: forms.ModelChoiceField[Payer] = forms.ModelChoiceField(
        queryset=Payer.objects.none(), required=False, empty_label="Every payer"
    )
    product: forms.ModelChoiceField[Product] = forms.ModelChoiceField(
        queryset=Product.objects.none(), required=False, empty_label="Every product"
    )
    valid_from = forms.DateField(
        label="Policy year from", widget=DateInput, help_text="First date of service."
    )
    valid_to = forms.DateField(label="Policy year to", widget=DateInput, help_text="Last date of service.")
    attachment = forms.DecimalField(
        max_digits=12, decimal_places=2, label="Attachment point ($)", help_text="Per member per policy year."
    )
    coinsurance_percent = forms.DecimalField(
        max_digits=6, decimal_places=3, initial="90", label="Coinsurance (%)",
        help_text="The reinsurer's share above the attachment.",
    )  # fmt: skip
    maximum = forms.DecimalField(
        max_digits=12, decimal_places=2, required=False, label="Maximum reimbursement ($)",
        help_text="Per member per policy year; empty: none.",
    )  # fmt: skip
    categories = forms.CharField(
        max_length=500, required=False, label="Covered categories",
        help_text="Service categories, comma separated (professional, institutional...); empty: all.",
    )  # fmt: skip

    def __init__(self, data: Any = None, *, actor: Actor) -> None:
        super().__init__(data)
        cast("forms.ModelChoiceField[Any]", self.fields["payer"]).queryset = contract_selectors.payer_list(
            actor
        )
        cast(
            "forms.ModelChoiceField[Any]", self.fields["product"]
        ).queryset = contract_selectors.product_list(actor)


def _dollars(cents: int) -> int:
    """Whole dollars, half-up, for bar heights (the table beside the chart has the cents)."""
    return max(0, (cents + 50) // 100)


def _chart(report: selectors.PolicyRecoverables) -> str:
    rows = report.chart
    svg = charts.bar_chart(
        [r.payer_member_id for r in rows],
        [
            charts.Series(
                "Paid up to the attachment", tuple(_dollars(r.up_to_attachment_cents) for r in rows)
            ),
            charts.Series(
                "Paid above the attachment", tuple(_dollars(r.above_attachment_cents) for r in rows)
            ),
        ],
        title=f"{report.policy.name}: members' eligible paid against the "
        f"{format_money(report.attachment_cents)} attachment",
        x_label="Member",
        y_label="Dollars",
        stacked=True,
        chart_id=f"stoploss-{report.policy.pk}",
        plot_height=200,
    )
    return mark_safe(svg)  # charts escape every text they write


def _page(request: HttpRequest, actor: Actor, form: PolicyForm | None, status: int = 200) -> HttpResponse:
    report = selectors.stoploss_report(actor, purpose=PURPOSE)
    can_add = selectors.can_add_policy(actor)
    context: dict[str, Any] = {
        "report": report,
        "policies": [(p, _chart(p) if p.chart else "") for p in report.policies],
        "can_add": can_add,
        "form": (form or PolicyForm(actor=actor)) if can_add else None,
    }
    return render(request, "web/claims/stoploss.html", context, status=status)


@never_cache
@domain_errors
@require_GET
def stoploss(request: HttpRequest) -> HttpResponse:
    return _page(request, actor_of(request), None)


@never_cache
@domain_errors
@require_POST
def stoploss_policy_create(request: HttpRequest) -> HttpResponseBase:
    """Add a policy (finance); a refusal is shown next to the fields and nothing is saved."""
    actor = actor_of(request)
    if not selectors.can_add_policy(actor):
        raise PermissionDenied("only finance adds stop-loss policies")
    require(actor, Perm.EDIT_FINANCE)
    form = PolicyForm(request.POST, actor=actor)
    if form.is_valid():
        try:
            policy = policy_create(actor=actor, data=form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Stop-loss policy {policy.name} was added.")
            return redirect("web:claims:stoploss")
    return _page(request, actor, form, status=400)


urlpatterns: list[URLPattern] = [
    path("claims/stoploss/", stoploss, name="stoploss"),
    path("claims/stoploss/policies/", stoploss_policy_create, name="stoploss_policy_create"),
]
