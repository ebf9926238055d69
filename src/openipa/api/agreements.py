"""Participation agreements (practice x IPA) and the payer contracts a practice joins under them.

Their dates and status are network data; their admin-fee terms and joined contracts are financial, shown
and changed only by roles that may read contracts.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from openipa.api.auth import actor
from openipa.api.practices import agreement_view
from openipa.api.schemas import (
    ERRORS,
    AgreementOut,
    AgreementPatch,
    ContractJoinIn,
    ContractLeaveIn,
    ObjectId,
    ParticipationOut,
    With,
)
from openipa.contracts import selectors as contract_selectors
from openipa.core.errors import NotFound, ValidationFailed
from openipa.network import selectors, services
from openipa.network.models import ContractParticipation

router = Router(tags=["agreements"])


@router.patch("/{agreement_id}", response={200: AgreementOut, **ERRORS})
def update_agreement(request: HttpRequest, payload: AgreementPatch, agreement_id: ObjectId) -> With:
    """Change the status, admin-fee terms, end date, signing date or notes sent; the start stays."""
    who = actor(request)
    agreement = selectors.agreement_get(who, agreement_id)
    data = payload.model_dump(exclude_unset=True)
    return agreement_view(who, services.agreement_update(actor=who, agreement=agreement, data=data))


@router.post("/{agreement_id}/contracts", response={201: ParticipationOut, **ERRORS})
def join_contract(
    request: HttpRequest, payload: ContractJoinIn, agreement_id: ObjectId
) -> Status[ContractParticipation]:
    """The practice joins a payer contract under this agreement. The dates must lie within the agreement's
    and the contract's."""
    who = actor(request)
    agreement = selectors.agreement_get(who, agreement_id)
    try:
        contract = contract_selectors.contract_get(who, payload.contract_id)
    except NotFound:
        raise ValidationFailed.single("contract_id", f"No contract with id {payload.contract_id}.") from None
    participation = services.contract_join(
        actor=who,
        agreement=agreement,
        contract=contract,
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
    )
    return Status(201, participation)


@router.patch("/{agreement_id}/contracts/{participation_id}", response={200: ParticipationOut, **ERRORS})
def leave_contract(
    request: HttpRequest, payload: ContractLeaveIn, agreement_id: ObjectId, participation_id: ObjectId
) -> ContractParticipation:
    """The practice leaves a contract it joined under this agreement, after `valid_to`."""
    who = actor(request)
    participation = selectors.participation_get(who, participation_id)
    if participation.agreement_id != agreement_id:
        raise NotFound(f"contract participation {participation_id} of agreement {agreement_id}")
    return services.contract_leave(actor=who, participation=participation, valid_to=payload.valid_to)
