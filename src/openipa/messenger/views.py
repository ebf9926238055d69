"""The offer pages (ADR 0012). The messenger records a payer's offer, conveys it to each practice on its own,
reads each practice's answer on that practice's own page and carries it to the payer as that practice's file.
A practice user sees the offers conveyed to its practice, answers them (signed), and keeps its own standing
minimum. No page lists or counts answers across practices; every other role is refused."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.roles import Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.membership.views.common import actor_of
from openipa.messenger import selectors, services
from openipa.messenger.forms import OfferForm, ResponseForm, StandingAuthorizationForm
from openipa.messenger.models import Conveyance, OfferPackage, OfferResponse, StandingAuthorization
from openipa.network.models import ParticipationAgreement, Practice
from openipa.ui.errors import domain_errors


@never_cache
@domain_errors
@require_GET
def offer_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    offers = list(selectors.offer_list(actor))
    rows: list[tuple[OfferPackage, Conveyance | None, OfferResponse | None]] = []
    if is_practice_scoped(actor):
        for offer in offers:
            conveyance = selectors.my_conveyance(actor, offer)
            rows.append((offer, conveyance, selectors.latest_response(actor, conveyance)))
    else:
        rows = [(offer, None, None) for offer in offers]
    if offers:
        selectors.record_offer_list(actor, [o.pk for o in offers])
    context = {"rows": rows, "practice_view": is_practice_scoped(actor),
               "can_convey": has_perm(actor, Perm.CONVEY_OFFERS)}  # fmt: skip
    return render(request, "web/messenger/offer_list.html", context)


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def offer_create(request: HttpRequest) -> HttpResponseBase:
    actor = actor_of(request)
    require(actor, Perm.CONVEY_OFFERS)
    form = OfferForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            offer = services.offer_create(actor=actor, **form.service_kwargs())
        except ValidationFailed as exc:
            form.put_errors(exc)
        else:
            messages.success(
                request, f"Offer “{offer.title}” recorded. Convey it to each practice from its page."
            )
            return redirect(reverse("web:messenger:offer_detail", args=[offer.pk]))
    status = 400 if request.method == "POST" else 200
    return render(request, "web/messenger/offer_form.html", {"form": form}, status=status)


def _practices_for(offer: OfferPackage) -> list[Practice]:
    today = timezone.localdate()
    ids = (
        ParticipationAgreement.objects.filter(
            status=ParticipationAgreement.Status.ACTIVE, valid_from__lte=today
        )
        .exclude(valid_to__lt=today)
        .values_list("practice_id", flat=True)
    )
    return list(Practice.objects.filter(pk__in=ids).order_by("legal_name"))


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def offer_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The messenger: the offer and one row per practice (conveyed or not; its own page for its answer). A
    practice user: the offer as conveyed to it, its answers, and the form to answer."""
    actor = actor_of(request)
    offer = selectors.offer_get(actor, pk, purpose="offer page")
    rates = list(selectors.offer_rates(actor, offer))
    if is_practice_scoped(actor):
        conveyance = selectors.my_conveyance(actor, offer)
        form = ResponseForm(request.POST or None)
        if request.method == "POST":
            if form.is_valid():
                try:
                    services.respond(actor=actor, conveyance=conveyance, **form.service_kwargs())
                except ValidationFailed as exc:
                    form.put_errors(exc)
                else:
                    messages.success(request, "Your practice's answer was recorded and signed.")
                    return redirect(reverse("web:messenger:offer_detail", args=[offer.pk]))
        else:
            services.mark_viewed(actor=actor, conveyance=conveyance)
        context = {
            "offer": offer, "rates": rates, "conveyance": conveyance, "form": form,
            "responses": list(selectors.conveyance_responses(actor, conveyance)),
        }  # fmt: skip
        return render(
            request, "web/messenger/offer_practice.html", context, status=400 if form.errors else 200
        )
    if request.method == "POST":
        raise PermissionDenied("the messenger does not answer offers")
    conveyed = {c.practice_id: c for c in selectors.conveyance_list(actor, offer)}
    practices = [(p, conveyed.get(p.pk)) for p in _practices_for(offer)]
    practices += [(c.practice, c) for pid, c in conveyed.items() if pid not in {p.pk for p, _ in practices}]
    context = {"offer": offer, "rates": rates, "practices": practices,
               "can_convey": has_perm(actor, Perm.CONVEY_OFFERS)}  # fmt: skip
    return render(request, "web/messenger/offer_detail.html", context)


@never_cache
@domain_errors
@require_POST
def convey(request: HttpRequest, pk: int, practice_pk: int) -> HttpResponseBase:
    """Convey the offer to one practice (one at a time, by design)."""
    actor = actor_of(request)
    require(actor, Perm.CONVEY_OFFERS)
    offer = selectors.offer_get(actor, pk, purpose="convey")
    try:
        practice = Practice.objects.get(pk=practice_pk)
    except Practice.DoesNotExist:
        raise NotFound("no such practice") from None
    try:
        services.convey(actor=actor, offer=offer, practice=practice)
    except ValidationFailed as exc:
        messages.error(request, f"Not conveyed: {exc}")
    else:
        messages.success(request, f"Conveyed to {practice}.")
    return redirect(reverse("web:messenger:offer_detail", args=[offer.pk]))


@never_cache
@domain_errors
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    offer = selectors.offer_get(actor, pk, purpose="close")
    services.close_offer(actor=actor, offer=offer)
    messages.success(request, "The offer is closed: no more answers are taken.")
    return redirect(reverse("web:messenger:offer_detail", args=[offer.pk]))


@never_cache
@domain_errors
@require_GET
def conveyance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The messenger's page for one practice's copy of an offer: its answers and its standing minimum."""
    actor = actor_of(request)
    require(actor, Perm.CONVEY_OFFERS)
    conveyance = selectors.conveyance_get(actor, pk)
    offer = conveyance.offer
    context = {
        "conveyance": conveyance, "offer": offer, "responses": list(selectors.conveyance_responses(actor, conveyance)),
        "standing": selectors.standing_authorization_on(actor, conveyance.practice_id, offer.payer_id, timezone.localdate()),
    }  # fmt: skip
    return render(request, "web/messenger/conveyance_detail.html", context)


@never_cache
@domain_errors
@require_POST
def accept_standing(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    conveyance = selectors.conveyance_get(actor, pk)
    try:
        services.accept_under_standing_authorization(actor=actor, conveyance=conveyance)
    except ValidationFailed as exc:
        messages.error(request, f"Not accepted: {exc}")
    else:
        messages.success(request, f"Accepted for {conveyance.practice} under its standing authorization.")
    return redirect(reverse("web:messenger:conveyance_detail", args=[conveyance.pk]))


@never_cache
@domain_errors
@require_POST
def transmit(request: HttpRequest, pk: int) -> HttpResponseBase:
    """One practice's answer as that practice's own file for the payer (and the answer marked transmitted)."""
    actor = actor_of(request)
    require(actor, Perm.CONVEY_OFFERS)
    try:
        response = OfferResponse.objects.select_related("conveyance", "conveyance__practice", "conveyance__offer",
                                                        "conveyance__offer__payer", "signed_by").get(pk=pk)  # fmt: skip
    except OfferResponse.DoesNotExist:
        raise NotFound("no such response") from None
    selectors.conveyance_get(actor, response.conveyance_id)
    text = services.transmit(actor=actor, response=response)
    practice = response.conveyance.practice
    answer = HttpResponse(text, content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = (
        f'attachment; filename="offer-{response.conveyance.offer_id}-{practice.code}-response-{response.pk}.csv"'
    )
    return answer


@never_cache
@domain_errors
@require_http_methods(["GET", "POST"])
def standing(request: HttpRequest) -> HttpResponseBase:
    """A practice user's own standing authorizations, and the form to set one."""
    actor = actor_of(request)
    require(actor, Perm.RESPOND_OFFERS)
    practice_id = scoped_practice_id(actor)
    form = StandingAuthorizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.standing_authorization_set(actor=actor, **form.service_kwargs())
        except ValidationFailed as exc:
            form.put_errors(exc)
        else:
            messages.success(request, "Your practice's standing authorization was recorded.")
            return redirect(reverse("web:messenger:standing"))
    rows = list(selectors.standing_authorizations(actor, practice_id))
    status = 400 if form.errors else 200
    return render(request, "web/messenger/standing.html", {"rows": rows, "form": form}, status=status)


@never_cache
@domain_errors
@require_POST
def standing_end(request: HttpRequest, pk: int) -> HttpResponseBase:
    actor = actor_of(request)
    require(actor, Perm.RESPOND_OFFERS)
    try:
        authorization = selectors.standing_authorizations(actor, scoped_practice_id(actor)).get(pk=pk)
    except StandingAuthorization.DoesNotExist:
        raise NotFound("no such standing authorization") from None
    try:
        services.standing_authorization_end(actor=actor, authorization=authorization, on=timezone.localdate())
    except ValidationFailed as exc:
        messages.error(request, f"Not ended: {exc}")
    else:
        messages.success(request, "The standing authorization ends today.")
    return redirect(reverse("web:messenger:standing"))


app_name = "messenger"
urlpatterns = [
    path("offers/", offer_list, name="offer_list"),
    path("offers/new/", offer_create, name="offer_create"),
    path("offers/<int:pk>/", offer_detail, name="offer_detail"),
    path("offers/<int:pk>/convey/<int:practice_pk>/", convey, name="convey"),
    path("offers/<int:pk>/close/", close, name="close"),
    path("offers/conveyances/<int:pk>/", conveyance_detail, name="conveyance_detail"),
    path("offers/conveyances/<int:pk>/accept-standing/", accept_standing, name="accept_standing"),
    path("offers/responses/<int:pk>/transmit/", transmit, name="transmit"),
    path("offers/standing/", standing, name="standing"),
    path("offers/standing/<int:pk>/end/", standing_end, name="standing_end"),
]
