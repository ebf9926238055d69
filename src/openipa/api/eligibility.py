"""Eligibility inquiry: is a member covered on a date, by which product, with which PCP.

The same answer an X12 270 gets from `openipa edi eligibility`. Scoped like the member endpoints (a practice
user asking about a member not assigned to their practice gets the 404 an unknown id gets) and recorded in
the audit log with the purpose "eligibility inquiry".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from openipa.api.auth import actor
from openipa.api.schemas import ERRORS, Text
from openipa.membership import selectors

router = Router(tags=["eligibility"])


class EligibilityQuery(Schema):
    member_id: Text = Field(..., min_length=1, max_length=40, description="The payer's member id.")
    date: dt.date = Field(..., description="The date asked about (YYYY-MM-DD).")
    payer: Text | None = Field(
        None,
        min_length=1,
        max_length=16,
        description="Payer code; needed only when two payers use the same member id.",
    )


class EligibilityMember(Schema):
    name: str
    date_of_birth: dt.date


class EligibilityProduct(Schema):
    code: str
    name: str


class EligibilityCoverage(Schema):
    from_: dt.date = Field(..., alias="from", description="First day of the eligibility span.")
    to: dt.date | None = Field(..., description="Last day of the span; null: open-ended.")


class EligibilityPcp(Schema):
    npi: str
    name: str
    practice: str


class EligibilityOut(Schema):
    member_id: str
    payer: str
    date: dt.date
    active: bool
    member: EligibilityMember
    product: EligibilityProduct | None
    coverage: EligibilityCoverage | None
    pcp: EligibilityPcp | None = Field(
        ..., description="The PCP assigned on the date (for a practice user: only one at their practice)."
    )


@router.get("", response={200: EligibilityOut, **ERRORS}, by_alias=True)
def check_eligibility(request: HttpRequest, query: Query[EligibilityQuery]) -> dict[str, Any]:
    """Active or not on `date`, with the product, the span and the PCP. 404 for an unknown member or one
    outside the caller's scope; 422 for a bad date, or an id two payers use without `payer`."""
    answer = selectors.eligibility_on(
        actor(request), member_id=query.member_id, on=query.date, payer_code=query.payer
    )
    return {
        "member_id": answer.member_id,
        "payer": answer.payer_code,
        "date": answer.on,
        "active": answer.active,
        "member": {"name": answer.member_name, "date_of_birth": answer.date_of_birth},
        "product": (
            {"code": answer.product_code, "name": answer.product_name} if answer.product_code else None
        ),
        "coverage": (
            {"from": answer.coverage_from, "to": answer.coverage_to} if answer.coverage_from else None
        ),
        "pcp": (
            {"npi": answer.pcp_npi, "name": answer.pcp_name, "practice": answer.practice_name}
            if answer.pcp_npi
            else None
        ),
    }
