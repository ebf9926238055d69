"""Offers in the REST API, behind the messenger-model firewall (ADR 0012).

- `GET /api/v1/offers`: the messenger sees every offer; a practice user the offers conveyed to its practice.
- `GET /api/v1/offers/{id}/responses`: the messenger sees each practice's response; a practice user only its
  own. Every other role gets 403, and every answer is written to the audit log (fee data).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from openipa.api.auth import actor
from openipa.api.pagination import paged
from openipa.api.schemas import ERRORS, ObjectId, PageOut, PageParams
from openipa.core.roles import is_practice_scoped, scoped_practice_id
from openipa.messenger import selectors
from openipa.messenger.models import OfferPackage, OfferResponse

router = Router(tags=["offers"])


class OfferOut(Schema):
    id: int
    title: str
    payer_code: str
    payer_name: str
    basis: str
    percent_of_medicare: Decimal | None
    effective_from: dt.date
    effective_to: dt.date | None
    respond_by: dt.date
    status: str
    terms: str


class OfferPage(PageOut):
    items: list[OfferOut]


class ResponseOut(Schema):
    id: int
    practice_id: int
    practice_code: str
    practice_name: str
    decision: str
    counter_terms: str
    counter_percent_of_medicare: Decimal | None
    signed_by: str
    signature: str
    responded_at: dt.datetime
    under_standing_authorization: bool
    transmitted_at: dt.datetime | None


def _offer(offer: OfferPackage) -> dict[str, Any]:
    return {
        "id": offer.pk, "title": offer.title, "payer_code": offer.payer.code, "payer_name": offer.payer.name,
        "basis": offer.basis, "percent_of_medicare": offer.percent_of_medicare, "effective_from": offer.effective_from,
        "effective_to": offer.effective_to, "respond_by": offer.respond_by, "status": offer.status, "terms": offer.terms,
    }  # fmt: skip


def _response(r: OfferResponse) -> dict[str, Any]:
    practice = r.conveyance.practice
    return {
        "id": r.pk, "practice_id": practice.pk, "practice_code": practice.code, "practice_name": practice.legal_name,
        "decision": r.decision, "counter_terms": r.counter_terms,
        "counter_percent_of_medicare": r.counter_percent_of_medicare, "signed_by": r.signed_by.get_username(),
        "signature": r.signature, "responded_at": r.responded_at,
        "under_standing_authorization": r.under_standing_authorization_id is not None,
        "transmitted_at": r.transmitted_at,
    }  # fmt: skip


@router.get("", response={200: OfferPage, **ERRORS})
def list_offers(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    """Offers, newest first: all for the messenger, those conveyed to the caller's practice for a practice
    user. 403 for every other role."""
    who = actor(request)
    page = paged(selectors.offer_list(who), params)
    page["items"] = [_offer(o) for o in page["items"]]
    if page["items"]:
        selectors.record_offer_list(who, [o["id"] for o in page["items"]])
    return page


@router.get("/{offer_id}/responses", response={200: list[ResponseOut], **ERRORS})
def list_responses(request: HttpRequest, offer_id: ObjectId) -> list[dict[str, Any]]:
    """Each practice's responses to an offer, newest first, one row per response (never totals): every
    practice's for the messenger, the caller's own practice's for a practice user. 404 for an offer not
    conveyed to the caller's practice; 403 for every other role."""
    who = actor(request)
    offer = selectors.offer_get(who, offer_id, purpose="api")
    rows = selectors.responses(who, offer)
    if is_practice_scoped(who):  # belt and braces: the selector already keeps the practice's own
        rows = rows.filter(conveyance__practice_id=scoped_practice_id(who))
    return [_response(r) for r in rows]
