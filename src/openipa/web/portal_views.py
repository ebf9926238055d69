"""The practice portal home's cards that load after the page (htmx): care gaps, claims, authorizations, the
scorecard and the value of membership. Each answers a fragment to htmx and a page of its own otherwise; each is
the signed-in practice user's own practice only (anyone else: 403)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from openipa.accounts.models import User
from openipa.core.errors import PermissionDenied
from openipa.ui import charts
from openipa.ui.errors import domain_errors
from openipa.web import portal


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("not signed in")
    return user


def _card(request: HttpRequest, partial: str, title: str, context: dict[str, Any]) -> HttpResponse:
    """The card's fragment for htmx, or the card on a page of its own (the link in each loading indicator)."""
    if request.headers.get("HX-Request") == "true":
        response = render(request, partial, context)
    else:
        response = render(
            request, "web/portal/card_page.html", {**context, "partial": partial, "title": title}
        )
    patch_vary_headers(response, ("HX-Request",))
    return response


@never_cache
@domain_errors
@require_GET
def gaps_card(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    portal.portal_practice(actor)
    return _card(request, "web/portal/_gaps.html", "Open care gaps", {"gaps": portal.gaps(actor)})


@never_cache
@domain_errors
@require_GET
def claims_card(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    portal.portal_practice(actor)
    card = portal.claims(actor, timezone.localdate())
    return _card(request, "web/portal/_claims.html", "Claims", {"claims": card})


@never_cache
@domain_errors
@require_GET
def authorizations_card(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    practice = portal.portal_practice(actor)
    now = timezone.now()
    card = portal.authorizations(actor, practice, now)
    return _card(
        request, "web/portal/_authorizations.html", "Authorization requests", {"auth": card, "now": now}
    )


@never_cache
@domain_errors
@require_GET
def scorecard_card(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    practice = portal.portal_practice(actor)
    card = portal.scorecard(actor, practice, timezone.localdate())
    return _card(request, "web/portal/_scorecard.html", "Scorecard", {"score": card, "practice": practice})


def value_chart(value: portal.ValueOfMembership) -> str:
    """Money received through the IPA stacked above zero, fees below it, per month (dollars, for drawing
    only: the table beside it has the exact amounts)."""
    categories = [m.first_day.strftime("%b %y") for m in value.months]

    def dollars(cents: list[int]) -> tuple[float, ...]:
        return tuple(c / 100 for c in cents)

    rows = value.rows
    series = [
        charts.Series("Capitation", dollars([r.capitation_cents for r in rows])),
        charts.Series("Incentives", dollars([r.incentives_cents for r in rows])),
        charts.Series("Shared savings", dollars([r.shared_savings_cents for r in rows])),
        charts.Series("Membership fees", dollars([-r.membership_fee_cents for r in rows])),
        charts.Series("Admin fee", dollars([-r.admin_fee_cents for r in rows])),
    ]
    return charts.bar_chart(
        categories,
        series,
        title="Value of membership by month",
        x_label="Month",
        y_label="Dollars",
        stacked=True,
        chart_id="value-of-membership",
        description="Money received through the IPA (above zero) and fees paid to it (below zero), by month.",
    )


@never_cache
@domain_errors
@require_GET
def value_card(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    practice = portal.portal_practice(actor)
    value = portal.value_of_membership(actor, practice.pk, timezone.localdate())
    context = {"value": value, "chart": mark_safe(value_chart(value))}  # the charts escape every text
    return _card(request, "web/portal/_value.html", "Value of membership", context)
