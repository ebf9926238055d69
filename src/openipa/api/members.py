"""Members: scoped to the caller (a practice user sees members assigned to their practice) and every
read recorded in the audit log with the purpose "api"."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from openipa.api.auth import actor
from openipa.api.pagination import page_out
from openipa.api.schemas import (
    ERRORS,
    MemberDetail,
    MemberFilters,
    MemberPage,
    ObjectId,
    PageParams,
    With,
)
from openipa.membership import selectors

PURPOSE = "api"

router = Router(tags=["members"])


@router.get("", response={200: MemberPage, **ERRORS})
def list_members(
    request: HttpRequest, filters: Query[MemberFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """Members by name. The members on the page are recorded as read."""
    page = selectors.member_page(
        actor(request),
        page=paging.page,
        per_page=paging.per_page,
        purpose=PURPOSE,
        **filters.model_dump(exclude_none=True, exclude_defaults=True),
    )
    return page_out(page)


@router.get("/{member_id}", response={200: MemberDetail, **ERRORS})
def get_member(request: HttpRequest, member_id: ObjectId) -> With:
    """One member with eligibility spans and PCP history; recorded as read. 404 outside the caller's scope."""
    who = actor(request)
    member = selectors.member_get(who, member_id, purpose=PURPOSE)
    return With(
        member,
        eligibility=list(selectors.member_eligibility(who, member)),
        pcp_history=list(selectors.member_pcp_history(who, member)),
    )
