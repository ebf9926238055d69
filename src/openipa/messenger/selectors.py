"""Reads of offers, conveyances, responses and standing authorizations, behind the messenger-model firewall.

- The messenger sees every offer, each practice's conveyance and responses one practice at a time, and each
  practice's standing authorization.
- A practice user sees the offers conveyed to its own practice, its own responses and its own standing
  authorization; another practice's conveyance is "not found" (it cannot learn that one exists).
- Every other role (administrator, operations, finance, quality, auditor...) is refused.
- No selector here counts or sums across practices: there is no aggregate of responses to leak.
- Every read of fee data (an offer's rates, a response, a standing authorization) is written to the audit log.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from openipa.core import audit
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.roles import Actor, Perm, is_practice_scoped, require, scoped_practice_id
from openipa.messenger.models import Conveyance, OfferPackage, OfferRate, OfferResponse, StandingAuthorization


def _fee_data_read(actor: Actor, what: str, object_id: object, purpose: str) -> None:
    audit.record_access(
        actor, object_type=f"messenger.{what}", action="view", purpose=purpose, details={"id": object_id}
    )


def offer_list(actor: Actor) -> QuerySet[OfferPackage]:
    """The messenger: every offer. A practice user: the offers conveyed to its practice."""
    require(actor, Perm.VIEW_OFFERS)
    offers = OfferPackage.objects.select_related("payer", "contract")
    if is_practice_scoped(actor):
        return offers.filter(conveyances__practice_id=scoped_practice_id(actor)).distinct()
    return offers


def record_offer_list(actor: Actor, offer_ids: list[int]) -> None:
    """A list of offers was shown (their terms and percent: fee data)."""
    audit.record_access(
        actor, object_type="messenger.offer", action="list", purpose="offers", details={"ids": offer_ids}
    )


def offer_get(actor: Actor, pk: int, *, purpose: str = "offer") -> OfferPackage:
    """One offer with its terms (fee data: audited)."""
    try:
        offer = offer_list(actor).get(pk=pk)
    except OfferPackage.DoesNotExist:
        raise NotFound(f"no offer {pk}") from None
    _fee_data_read(actor, "offer", pk, purpose)
    return offer


def offer_rates(actor: Actor, offer: OfferPackage) -> QuerySet[OfferRate]:
    offer_get(actor, offer.pk, purpose="offer rates")
    return offer.rates.all()


def conveyance_list(actor: Actor, offer: OfferPackage) -> QuerySet[Conveyance]:
    """The messenger: the offer's conveyances, one per practice. A practice user: its own only."""
    require(actor, Perm.VIEW_OFFERS)
    rows = Conveyance.objects.filter(offer=offer).select_related("practice", "offer", "offer__payer")
    if is_practice_scoped(actor):
        return rows.filter(practice_id=scoped_practice_id(actor))
    return rows


def conveyance_get(actor: Actor, pk: int) -> Conveyance:
    require(actor, Perm.VIEW_OFFERS)
    rows = Conveyance.objects.select_related("practice", "offer", "offer__payer")
    if is_practice_scoped(actor):
        rows = rows.filter(practice_id=scoped_practice_id(actor))
    try:
        conveyance = rows.get(pk=pk)
    except Conveyance.DoesNotExist:
        raise NotFound(f"no conveyance {pk}") from None
    _fee_data_read(actor, "conveyance", pk, "conveyance")
    return conveyance


def my_conveyance(actor: Actor, offer: OfferPackage) -> Conveyance:
    """A practice user's own conveyance of ``offer``."""
    if not is_practice_scoped(actor):
        raise PermissionDenied("only a practice user has a conveyance of its own")
    try:
        return conveyance_list(actor, offer).get()
    except Conveyance.DoesNotExist:
        raise NotFound(f"offer {offer.pk} was not conveyed to your practice") from None


def responses(actor: Actor, offer: OfferPackage) -> QuerySet[OfferResponse]:
    """Each response to ``offer``, newest first: every practice's for the messenger (to be read and carried
    to the payer one by one), the practice's own for a practice user. Audited."""
    require(actor, Perm.VIEW_OFFERS)
    rows = OfferResponse.objects.filter(conveyance__offer=offer).select_related(
        "conveyance", "conveyance__practice", "signed_by", "under_standing_authorization"
    )
    if is_practice_scoped(actor):
        rows = rows.filter(conveyance__practice_id=scoped_practice_id(actor))
    _fee_data_read(actor, "responses", offer.pk, "offer responses")
    return rows


def conveyance_responses(actor: Actor, conveyance: Conveyance) -> QuerySet[OfferResponse]:
    """The responses of one practice to its conveyance (the actor must be able to see the conveyance)."""
    conveyance_get(actor, conveyance.pk)
    return conveyance.responses.select_related("signed_by", "under_standing_authorization")


def latest_response(actor: Actor, conveyance: Conveyance) -> OfferResponse | None:
    return conveyance_responses(actor, conveyance).first()


def standing_authorizations(actor: Actor, practice_id: int) -> QuerySet[StandingAuthorization]:
    """A practice's standing authorizations, newest first: its own users' and the messenger's to read."""
    require(actor, Perm.VIEW_OFFERS)
    if is_practice_scoped(actor) and scoped_practice_id(actor) != practice_id:
        raise NotFound("no such practice")
    _fee_data_read(actor, "standing_authorization", practice_id, "standing authorization")
    return StandingAuthorization.objects.filter(practice_id=practice_id).select_related("payer", "signed_by")


def standing_authorization_on(
    actor: Actor, practice_id: int, payer_id: int, on: dt.date
) -> StandingAuthorization | None:
    """The standing authorization in force on ``on`` for offers of ``payer_id`` (one for that payer first,
    else one for any payer)."""
    rows = standing_authorizations(actor, practice_id).filter(valid_from__lte=on).exclude(valid_to__lt=on)
    return rows.filter(payer_id=payer_id).first() or rows.filter(payer__isnull=True).first()
