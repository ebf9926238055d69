"""Practices. A practice user sees only their own practice. Bank details are masked except for finance, and
only finance changes them, on their own endpoint (`PUT /practices/{id}/bank`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from openipa.api.auth import actor
from openipa.api.pagination import paged
from openipa.api.schemas import (
    ERRORS,
    AgreementIn,
    AgreementOut,
    BankDetails,
    BankDetailsIn,
    LocationIn,
    LocationOut,
    ObjectId,
    PageParams,
    PracticeDetail,
    PracticeFilters,
    PracticeIn,
    PracticePage,
    PracticePatch,
    With,
)
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Actor
from openipa.network import selectors, services
from openipa.network.models import Location, ParticipationAgreement, Practice

router = Router(tags=["practices"])


def agreement_view(who: Actor, agreement: ParticipationAgreement) -> With:
    """An agreement as the caller may see it: admin-fee terms, notes and joined contracts are financial."""
    if selectors.agreement_fees_visible(who):
        return With(agreement, contracts=list(agreement.contract_participations.all()))
    return With(agreement, admin_fee_percent=None, admin_fee_pmpm=None, notes=None, contracts=None)


def _detail(who: Actor, practice: Practice) -> With:
    return With(
        practice,
        bank=selectors.practice_bank_details(who, practice),
        locations=list(selectors.practice_locations(who, practice)),
        agreements=[agreement_view(who, a) for a in selectors.practice_agreements(who, practice)],
    )


def _with_region(who: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """The service takes a Region; the API takes its code."""
    values = dict(data)
    if "region" in values:
        code = str(values["region"]).strip().upper()
        region = selectors.region_list(who).filter(code=code).first()
        if region is None:
            raise ValidationFailed.single("region", f"No region with code {code!r}.")
        values["region"] = region
    return values


@router.get("", response={200: PracticePage, **ERRORS})
def list_practices(
    request: HttpRequest, filters: Query[PracticeFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """Practices, by legal name. A practice user gets only their own."""
    qs = selectors.practice_list(
        actor(request), q=filters.q, region=filters.region, status=filters.status or ""
    )
    return paged(qs, paging)


@router.get("/{practice_id}", response={200: PracticeDetail, **ERRORS})
def get_practice(request: HttpRequest, practice_id: ObjectId) -> With:
    """One practice, with its EFT bank details (masked unless the caller is in finance)."""
    who = actor(request)
    return _detail(who, selectors.practice_get(who, practice_id))


@router.post("", response={201: PracticeDetail, **ERRORS})
def create_practice(request: HttpRequest, payload: PracticeIn) -> Status[With]:
    """Register a practice (operations, credentialing, administrators). Bank details are not part of it:
    finance sets them with `PUT /practices/{id}/bank`."""
    who = actor(request)
    practice = services.practice_create(actor=who, data=_with_region(who, payload.model_dump()))
    return Status(201, _detail(who, practice))


@router.patch("/{practice_id}", response={200: PracticeDetail, **ERRORS})
def update_practice(request: HttpRequest, payload: PracticePatch, practice_id: ObjectId) -> With:
    """Change the fields sent; the others keep their values. Bank details: `PUT /practices/{id}/bank`."""
    who = actor(request)
    practice = selectors.practice_get(who, practice_id)
    data = _with_region(who, payload.model_dump(exclude_unset=True))
    return _detail(who, services.practice_update(actor=who, practice=practice, data=data))


@router.put("/{practice_id}/bank", response={200: BankDetails, **ERRORS})
def set_bank_details(request: HttpRequest, payload: BankDetailsIn, practice_id: ObjectId) -> dict[str, Any]:
    """Replace a practice's EFT bank details (finance only; others get 403 and nothing changes). The
    routing number must carry a valid ABA check digit; "" clears a field. Audited with the numbers masked."""
    who = actor(request)
    practice = selectors.practice_get(who, practice_id)
    practice = services.practice_bank_update(actor=who, practice=practice, data=payload.model_dump())
    return selectors.practice_bank_details(who, practice)


@router.post("/{practice_id}/locations", response={201: LocationOut, **ERRORS})
def create_location(request: HttpRequest, payload: LocationIn, practice_id: ObjectId) -> Status[Location]:
    """Add a location (site) to a practice; names are unique within the practice."""
    who = actor(request)
    practice = selectors.practice_get(who, practice_id)
    return Status(201, services.location_create(actor=who, practice=practice, data=payload.model_dump()))


@router.post("/{practice_id}/agreements", response={201: AgreementOut, **ERRORS})
def create_agreement(request: HttpRequest, payload: AgreementIn, practice_id: ObjectId) -> Status[With]:
    """Add a participation agreement; a practice's agreements may not overlap. Non-zero admin fees need
    contract access."""
    who = actor(request)
    practice = selectors.practice_get(who, practice_id)
    agreement = services.agreement_create(actor=who, practice=practice, data=payload.model_dump())
    return Status(201, agreement_view(who, agreement))
