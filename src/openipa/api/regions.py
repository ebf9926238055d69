"""Regions: the codes practices are grouped by (and that `POST /practices` takes)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from openipa.api.auth import actor
from openipa.api.pagination import paged
from openipa.api.schemas import ERRORS, PageParams, RegionPage
from openipa.network import selectors

router = Router(tags=["regions"])


@router.get("", response={200: RegionPage, **ERRORS})
def list_regions(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    """All regions."""
    return paged(selectors.region_list(actor(request)).order_by("name", "pk"), paging)
