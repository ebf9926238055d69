"""Payer contracts with their term versions, rate tables and DOFR. Financial: practice users get 403."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from openipa.api.auth import actor
from openipa.api.pagination import paged
from openipa.api.schemas import (
    ERRORS,
    ContractDetail,
    ContractFilters,
    ContractIn,
    ContractPage,
    ContractPatch,
    DofrIn,
    DofrTableOut,
    ObjectId,
    PageParams,
    With,
)
from openipa.contracts import selectors, services
from openipa.contracts.models import Contract, Payer, Product
from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.roles import Actor

router = Router(tags=["contracts"])


def _detail(who: Actor, contract: Contract) -> With:
    terms = [
        With(
            term,
            rate_cells=list(selectors.rate_cells(who, term)),
            dofr=list(selectors.dofr_entries(who, term)),
        )
        for term in selectors.term_list(who, contract)
    ]
    products = list(selectors.product_list(who).filter(contracts=contract).order_by("code"))
    return With(contract, products=products, terms=terms)


def _payer(who: Actor, payer_id: int) -> Payer:
    try:
        return selectors.payer_get(who, payer_id)
    except NotFound:
        raise ValidationFailed.single("payer_id", f"No payer with id {payer_id}.") from None


def _products(who: Actor, payer: Payer, codes: Sequence[str]) -> list[Product]:
    wanted = {c.strip().upper() for c in codes}
    found = list(selectors.product_list(who, payer_id=payer.pk).filter(code__in=wanted))
    missing = sorted(wanted - {p.code for p in found})
    if missing:
        raise ValidationFailed.single("products", f"{payer.code} has no product(s) {', '.join(missing)}.")
    return found


@router.get("", response={200: ContractPage, **ERRORS})
def list_contracts(
    request: HttpRequest, filters: Query[ContractFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """Contracts by payer and number."""
    qs = selectors.contract_list(
        actor(request),
        q=filters.q,
        payer_id=filters.payer_id,
        status=filters.status or "",
        legal_basis=filters.legal_basis or "",
    )
    return paged(qs, paging)


@router.get("/{contract_id}", response={200: ContractDetail, **ERRORS})
def get_contract(request: HttpRequest, contract_id: ObjectId) -> With:
    """One contract with its products and term versions (each with rate cells and DOFR entries)."""
    who = actor(request)
    return _detail(who, selectors.contract_get(who, contract_id))


@router.post("", response={201: ContractDetail, **ERRORS})
def create_contract(request: HttpRequest, payload: ContractIn) -> Status[With]:
    """Add a contract (finance and administrators). Term versions and rates are added afterwards."""
    who = actor(request)
    data = payload.model_dump(exclude={"payer_id", "products"})
    payer = _payer(who, payload.payer_id)
    products = _products(who, payer, payload.products)
    contract = services.contract_create(actor=who, data={**data, "payer": payer}, products=products)
    return Status(201, _detail(who, contract))


@router.patch("/{contract_id}", response={200: ContractDetail, **ERRORS})
def update_contract(request: HttpRequest, payload: ContractPatch, contract_id: ObjectId) -> With:
    """Change the fields sent; `products`, when sent, replaces the contract's products."""
    who = actor(request)
    contract = selectors.contract_get(who, contract_id)
    data = payload.model_dump(exclude_unset=True, exclude={"products"})
    products = None
    if "products" in payload.model_fields_set:
        products = _products(who, contract.payer, payload.products)
    contract = services.contract_update(actor=who, contract=contract, data=data, products=products)
    return _detail(who, contract)


@router.put("/terms/{term_id}/dofr", response={200: DofrTableOut, **ERRORS})
def set_dofr(request: HttpRequest, payload: DofrIn, term_id: ObjectId) -> dict[str, Any]:
    """Replace a term version's DOFR table (service category -> responsible party). All entries valid, or
    nothing changes; each error names its entry, e.g. `entries.2.service_category`."""
    who = actor(request)
    term = selectors.term_get(who, term_id)
    rows = [services.DofrRow(e.service_category, e.responsible_party, e.notes) for e in payload.entries]
    services.dofr_set(actor=who, term=term, entries=rows)
    return {"term_id": term.pk, "entries": list(selectors.dofr_entries(who, term))}
