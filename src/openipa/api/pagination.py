"""Paged responses: `{"items": [...], "page": n, "per_page": n, "total": n, "pages": n}`.

The numbers come from `openipa.core.pagination`, so the pages of the site and of the API agree.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from openipa.api.schemas import PageParams
from openipa.core.pagination import Page, paginate


def page_out(page: Page[Any]) -> dict[str, Any]:
    """The response body for one page; ninja serializes the rows with the operation's response schema."""
    return {
        "items": page.items,
        "page": page.number,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


def paged(qs: QuerySet[Any], params: PageParams) -> dict[str, Any]:
    return page_out(paginate(qs, params.page, params.per_page))
