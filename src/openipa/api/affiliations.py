"""Affiliations of providers with practices: ending one (creating one is under /providers/{id})."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from openipa.api.auth import actor
from openipa.api.schemas import ERRORS, AffiliationEnd, AffiliationOut, ObjectId
from openipa.network import selectors, services
from openipa.network.models import Affiliation

router = Router(tags=["providers"])


@router.patch("/{affiliation_id}", response={200: AffiliationOut, **ERRORS})
def end_affiliation(request: HttpRequest, payload: AffiliationEnd, affiliation_id: ObjectId) -> Affiliation:
    """End an affiliation on `valid_to`. Refused, with the count, while members still have the provider as
    PCP at that practice after that day."""
    who = actor(request)
    affiliation = selectors.affiliation_get(who, affiliation_id)
    return services.affiliation_end(actor=who, affiliation=affiliation, valid_to=payload.valid_to)
