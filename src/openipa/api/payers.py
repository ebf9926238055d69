"""Payers and their products. Financial: practice users are refused (403)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from openipa.api.auth import actor
from openipa.api.pagination import paged
from openipa.api.schemas import (
    ERRORS,
    ObjectId,
    PageParams,
    PayerDetail,
    PayerFilters,
    PayerIn,
    PayerPage,
    PayerPatch,
    With,
)
from openipa.contracts import selectors, services
from openipa.contracts.models import Payer
from openipa.core.roles import Actor

router = Router(tags=["payers"])


def _detail(who: Actor, payer: Payer) -> With:
    # Re-read through the selector, which annotates the product count.
    payer = selectors.payer_get(who, payer.pk)
    return With(payer, products=list(selectors.product_list(who, payer_id=payer.pk)))


@router.get("", response={200: PayerPage, **ERRORS})
def list_payers(
    request: HttpRequest, filters: Query[PayerFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """Payers by name."""
    return paged(selectors.payer_list(actor(request), q=filters.q), paging)


@router.get("/{payer_id}", response={200: PayerDetail, **ERRORS})
def get_payer(request: HttpRequest, payer_id: ObjectId) -> With:
    """One payer with its products."""
    who = actor(request)
    return _detail(who, selectors.payer_get(who, payer_id))


@router.post("", response={201: PayerDetail, **ERRORS})
def create_payer(request: HttpRequest, payload: PayerIn) -> Status[With]:
    """Add a payer (finance and administrators)."""
    who = actor(request)
    payer = services.payer_create(actor=who, data=payload.model_dump())
    return Status(201, _detail(who, payer))


@router.patch("/{payer_id}", response={200: PayerDetail, **ERRORS})
def update_payer(request: HttpRequest, payload: PayerPatch, payer_id: ObjectId) -> With:
    """Change the fields sent (finance and administrators)."""
    who = actor(request)
    payer = selectors.payer_get(who, payer_id)
    payer = services.payer_update(actor=who, payer=payer, data=payload.model_dump(exclude_unset=True))
    return _detail(who, payer)
