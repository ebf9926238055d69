"""Providers: the public directory for everyone with network access; private fields (date of birth,
personal phone) only for IPA staff and the provider's own practices."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from openipa.api.auth import actor
from openipa.api.pagination import paged
from openipa.api.schemas import (
    ERRORS,
    AffiliationIn,
    AffiliationOut,
    ObjectId,
    PageParams,
    ProviderDetail,
    ProviderFilters,
    ProviderIn,
    ProviderPage,
    ProviderPatch,
    ProviderPrivate,
    With,
)
from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.roles import Actor
from openipa.network import selectors, services
from openipa.network.models import Affiliation, Location, Practice, Provider

router = Router(tags=["providers"])


def _detail(who: Actor, provider: Provider) -> With:
    private = None
    if selectors.provider_private_visible(who, provider):
        private = ProviderPrivate(
            date_of_birth=provider.date_of_birth, personal_phone=provider.personal_phone
        )
    return With(provider, affiliations=list(selectors.provider_affiliations(who, provider)), private=private)


@router.get("", response={200: ProviderPage, **ERRORS})
def list_providers(
    request: HttpRequest, filters: Query[ProviderFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """The provider directory (public fields only), by name."""
    qs = selectors.provider_list(
        actor(request),
        q=filters.q,
        kind=filters.kind or "",
        specialty=filters.specialty,
        practice_id=filters.practice_id,
        accepting=filters.accepting,
    )
    return paged(qs, paging)


@router.get("/{provider_id}", response={200: ProviderDetail, **ERRORS})
def get_provider(request: HttpRequest, provider_id: ObjectId) -> With:
    """One provider with affiliations; `private` is null unless the caller may see private data."""
    who = actor(request)
    return _detail(who, selectors.provider_get(who, provider_id))


@router.post("", response={201: ProviderDetail, **ERRORS})
def create_provider(request: HttpRequest, payload: ProviderIn) -> Status[With]:
    """Register a provider. The NPI must be well formed (check digit) and not registered yet."""
    who = actor(request)
    provider = services.provider_create(actor=who, data=payload.model_dump())
    return Status(201, _detail(who, provider))


@router.patch("/{provider_id}", response={200: ProviderDetail, **ERRORS})
def update_provider(request: HttpRequest, payload: ProviderPatch, provider_id: ObjectId) -> With:
    """Change the fields sent; the others keep their values."""
    who = actor(request)
    provider = selectors.provider_get(who, provider_id)
    data = payload.model_dump(exclude_unset=True)
    return _detail(who, services.provider_update(actor=who, provider=provider, data=data))


def _practice_and_location(who: Actor, payload: AffiliationIn) -> tuple[Practice, Location | None]:
    """The service takes a practice and a location; the API takes their ids."""
    try:
        practice = selectors.practice_get(who, payload.practice_id)
    except NotFound:
        raise ValidationFailed.single("practice_id", f"No practice with id {payload.practice_id}.") from None
    if payload.location_id is None:
        return practice, None
    try:
        location = selectors.location_get(who, payload.location_id)
    except NotFound:
        location = None
    if location is None or location.practice_id != practice.pk:
        raise ValidationFailed.single(
            "location_id", f"Practice {practice.code} has no location with id {payload.location_id}."
        )
    return practice, location


@router.post("/{provider_id}/affiliations", response={201: AffiliationOut, **ERRORS})
def create_affiliation(
    request: HttpRequest, payload: AffiliationIn, provider_id: ObjectId
) -> Status[Affiliation]:
    """Affiliate the provider with a practice (and optionally one of its locations) over a span of dates;
    spans with the same practice may not overlap."""
    who = actor(request)
    provider = selectors.provider_get(who, provider_id)
    practice, location = _practice_and_location(who, payload)
    affiliation = services.affiliation_create(
        actor=who,
        provider=provider,
        practice=practice,
        location=location,
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
    )
    return Status(201, affiliation)
