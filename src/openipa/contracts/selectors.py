"""Reads of payers, products and contracts. Everything here is financial: practice users see none of it."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet

from openipa.contracts.models import Contract, ContractTerm, DofrEntry, Payer, Product, RateCell
from openipa.core.dating import pick_in_force
from openipa.core.errors import NotFound
from openipa.core.roles import Actor, Perm, require


def payer_list(actor: Actor, *, q: str = "") -> QuerySet[Payer]:
    require(actor, Perm.VIEW_CONTRACTS)
    qs = Payer.objects.annotate(product_count=Count("products", distinct=True))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__iexact=q) | Q(x12_payer_id=q))
    return qs.order_by("name", "pk")


def payer_get(actor: Actor, payer_id: int) -> Payer:
    try:
        return payer_list(actor).get(pk=payer_id)
    except Payer.DoesNotExist:
        raise NotFound(f"payer {payer_id}") from None


def payer_by_code(actor: Actor, code: str) -> Payer:
    try:
        return payer_list(actor).get(code=code.upper())
    except Payer.DoesNotExist:
        raise NotFound(f"payer {code}") from None


def product_list(actor: Actor, *, payer_id: int | None = None) -> QuerySet[Product]:
    require(actor, Perm.VIEW_CONTRACTS)
    qs = Product.objects.select_related("payer")
    if payer_id is not None:
        qs = qs.filter(payer_id=payer_id)
    return qs.order_by("payer__name", "code")


def contract_list(
    actor: Actor, *, q: str = "", payer_id: int | None = None, status: str = "", legal_basis: str = ""
) -> QuerySet[Contract]:
    require(actor, Perm.VIEW_CONTRACTS)
    qs = Contract.objects.select_related("payer")
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(number__icontains=q) | Q(payer__code__iexact=q))
    if payer_id is not None:
        qs = qs.filter(payer_id=payer_id)
    if status:
        qs = qs.filter(status=status)
    if legal_basis:
        qs = qs.filter(legal_basis=legal_basis)
    return qs.order_by("payer__name", "number", "pk")


def contract_get(actor: Actor, contract_id: int) -> Contract:
    try:
        return contract_list(actor).get(pk=contract_id)
    except Contract.DoesNotExist:
        raise NotFound(f"contract {contract_id}") from None


def term_list(actor: Actor, contract: Contract) -> QuerySet[ContractTerm]:
    require(actor, Perm.VIEW_CONTRACTS)
    return contract.terms.order_by("-valid_from")


def term_get(actor: Actor, term_id: int) -> ContractTerm:
    require(actor, Perm.VIEW_CONTRACTS)
    try:
        return ContractTerm.objects.select_related("contract__payer").get(pk=term_id)
    except ContractTerm.DoesNotExist:
        raise NotFound(f"contract term {term_id}") from None


def term_in_force(actor: Actor, contract: Contract, on: dt.date) -> ContractTerm | None:
    """The term version in force on a date, or None when the contract has none then."""
    return pick_in_force(term_list(actor, contract), on)


def rate_cells(actor: Actor, term: ContractTerm) -> QuerySet[RateCell]:
    require(actor, Perm.VIEW_CONTRACTS)
    return term.rate_cells.select_related("product").order_by("product__code", "age_min", "sex")


def dofr_entries(actor: Actor, term: ContractTerm) -> QuerySet[DofrEntry]:
    require(actor, Perm.VIEW_CONTRACTS)
    return term.dofr_entries.order_by("service_category")


def retro_windows(payer: Payer, on: dt.date) -> dict[int, int]:
    """Product id -> the retro window (months) of the contract term in force on ``on`` that covers it.

    Where two contracts cover one product, the longer window counts. Products under no contract in force are
    absent. A lookup for roster ingestion (no money in it), so it takes no actor.
    """
    windows: dict[int, int] = {}
    terms = ContractTerm.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
        valid_from__lte=on,
        contract__payer=payer,
        contract__status=Contract.Status.ACTIVE,
    ).values_list("contract__products", "retro_window_months")
    for product_id, months in terms:
        if product_id is not None:
            windows[product_id] = max(windows.get(product_id, 0), months)
    return windows


def product_ids_by_code(payer: Payer) -> dict[str, int]:
    """The payer's products: code (upper case, trimmed) -> id. A lookup for roster ingestion (no money in
    it), so it takes no actor."""
    return {
        code.strip().upper(): pk for pk, code in Product.objects.filter(payer=payer).values_list("pk", "code")
    }
