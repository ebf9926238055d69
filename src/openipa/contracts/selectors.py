"""Reads of payers, products and contracts. Everything here is financial: practice users see none of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import polars as pl
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


# -- the contract terms as frames, for the capitation engines ---------------------------------------------

_CENTS = Decimal(100)
_MILLI = Decimal(1000)


@dataclass(frozen=True)
class PricingFrames:
    """The terms (one row per term x product the contract covers) and rate cells of a payer's contracts, in the
    shapes of ``capitation.engine.expected`` (TERM_SCHEMA, RATE_CELL_SCHEMA); ``terms_by_id`` keeps the term
    rows themselves for windows, fees and names."""

    terms: pl.DataFrame
    rate_cells: pl.DataFrame
    terms_by_id: dict[int, ContractTerm]
    product_codes: dict[int, str]


def pricing_frames(actor: Actor | None, payer: Payer) -> PricingFrames:
    """Every term version of the payer's active contracts, with its rate cells; money in cents, percents in
    thousandths of a percent. ``actor`` None is the system (a CLI run)."""
    if actor is not None:
        require(actor, Perm.VIEW_CONTRACTS)
    terms = list(
        ContractTerm.objects.filter(contract__payer=payer, contract__status=Contract.Status.ACTIVE)
        .select_related("contract")
        .prefetch_related("contract__products")
    )
    term_rows = []
    for term in terms:
        for product in term.contract.products.all():
            term_rows.append(
                (
                    term.pk, product.pk, term.valid_from, term.valid_to, term.capitation_basis,
                    None if term.percent_of_premium is None else int(term.percent_of_premium * _MILLI),
                    None if term.risk_base_rate is None else int(term.risk_base_rate * _CENTS),
                    term.proration_rule, term.cutoff_day, term.age_reference_month,
                )
            )  # fmt: skip
    cells = [
        (c.term_id, c.pk, c.product_id, c.age_min, c.age_max, c.sex, int(c.pmpm * _CENTS))
        for c in RateCell.objects.filter(term__in=terms)
    ]
    return PricingFrames(
        terms=pl.DataFrame(
            term_rows,
            schema={"term_id": pl.Int64, "product_id": pl.Int64, "valid_from": pl.Date, "valid_to": pl.Date,
                    "basis": pl.String, "percent_milli": pl.Int64, "risk_base_cents": pl.Int64,
                    "proration": pl.String, "cutoff_day": pl.Int32, "age_reference_month": pl.Int32},
            orient="row",
        ),
        rate_cells=pl.DataFrame(
            cells,
            schema={"term_id": pl.Int64, "rate_cell_id": pl.Int64, "product_id": pl.Int64, "age_min": pl.Int32,
                    "age_max": pl.Int32, "sex": pl.String, "pmpm_cents": pl.Int64},
            orient="row",
        ),
        terms_by_id={t.pk: t for t in terms},
        product_codes=dict(Product.objects.filter(payer=payer).values_list("pk", "code")),
    )  # fmt: skip


def term_of_contract_on(contract_id: int, on: dt.date) -> ContractTerm | None:
    """The version of a contract's terms in force on ``on`` (versions never overlap). A lookup for batch runs
    (the run records which version priced it), so it takes no actor."""
    return (
        ContractTerm.objects.filter(contract_id=contract_id, valid_from__lte=on)
        .exclude(valid_to__lt=on)
        .order_by("-valid_from")
        .first()
    )


# -- claims: what prices a line and who pays for it --------------------------------------------------------


@dataclass(frozen=True)
class ClaimsFrames:
    """The effective-dated data claims adjudication reads, as frames shaped for the claims engines."""

    terms: pl.DataFrame
    """Per term version and product: term_id, contract_id, product_id, valid_from, valid_to, timely_filing_days,
    method, percent_milli, cap_at_billed, locality_id."""
    dofr: pl.DataFrame
    category_rules: pl.DataFrame
    cost_shares: pl.DataFrame
    rvus: pl.DataFrame
    gpcis: pl.DataFrame
    conversion_factors: pl.DataFrame
    code_rates: pl.DataFrame


def claims_frames(actor: Actor | None) -> ClaimsFrames:
    """Every active contract's claims terms, the DOFR, the service-category rules, cost shares and the fee
    schedules. ``actor`` None is the system (a CLI run)."""
    from openipa.contracts.models import (
        CodeRate,
        ConversionFactor,
        CostShare,
        GpciEntry,
        RvuEntry,
        ServiceCategoryRule,
    )

    if actor is not None:
        require(actor, Perm.VIEW_CONTRACTS)
    terms = list(
        ContractTerm.objects.filter(contract__status=Contract.Status.ACTIVE).prefetch_related(
            "contract__products"
        )
    )
    term_rows = [
        (
            t.pk,
            t.contract_id,
            p.pk,
            t.valid_from,
            t.valid_to,
            t.timely_filing_days,
            t.claims_pricing,
            int(t.claims_percent_of_medicare * _MILLI),
            t.claims_lesser_of_charge,
            t.claims_locality,
        )
        for t in terms
        for p in t.contract.products.all()
    ]
    dates = {"valid_from": pl.Date, "valid_to": pl.Date}
    return ClaimsFrames(
        terms=pl.DataFrame(
            term_rows,
            schema={
                "term_id": pl.Int64,
                "contract_id": pl.Int64,
                "product_id": pl.Int64,
                **dates,
                "timely_filing_days": pl.Int32,
                "method": pl.String,
                "percent_milli": pl.Int64,
                "cap_at_billed": pl.Boolean,
                "locality_id": pl.String,
            },
            orient="row",
        ),
        dofr=pl.DataFrame(
            list(DofrEntry.objects.values_list("term_id", "service_category", "responsible_party")),
            schema={"term_id": pl.Int64, "category": pl.String, "party": pl.String},
            orient="row",
        ),
        category_rules=pl.DataFrame(
            list(
                ServiceCategoryRule.objects.values_list(
                    "pk",
                    "category",
                    "priority",
                    "code_from",
                    "code_to",
                    "revenue_from",
                    "revenue_to",
                    "places_of_service",
                    "provider_kind",
                    "emergency",
                    "requires_authorization",
                    "valid_from",
                    "valid_to",
                )
            ),
            schema={
                "category_rule_id": pl.Int64,
                "category": pl.String,
                "priority": pl.Int32,
                "code_from": pl.String,
                "code_to": pl.String,
                "revenue_from": pl.String,
                "revenue_to": pl.String,
                "places": pl.String,
                "provider_kind": pl.String,
                "emergency": pl.Boolean,
                "requires_authorization": pl.Boolean,
                **dates,
            },
            orient="row",
        ),
        cost_shares=pl.DataFrame(
            [
                (
                    c.product_id,
                    c.service_category,
                    int(c.copay * _CENTS),
                    int(c.coinsurance_percent * _MILLI),
                    c.valid_from,
                    c.valid_to,
                )
                for c in CostShare.objects.all()
            ],
            schema={
                "product_id": pl.Int64,
                "category": pl.String,
                "copay_cents": pl.Int64,
                "coinsurance_milli": pl.Int64,
                **dates,
            },
            orient="row",
        ),
        rvus=pl.DataFrame(
            list(
                RvuEntry.objects.values_list(
                    "code",
                    "modifier",
                    "status",
                    "work_rvu_centi",
                    "pe_nonfacility_rvu_centi",
                    "pe_facility_rvu_centi",
                    "mp_rvu_centi",
                    "mult_proc",
                    "bilat_surg",
                    "valid_from",
                    "valid_to",
                )
            ),
            schema={
                "code": pl.String,
                "modifier": pl.String,
                "status": pl.String,
                "work_rvu_centi": pl.Int64,
                "pe_nonfacility_rvu_centi": pl.Int64,
                "pe_facility_rvu_centi": pl.Int64,
                "mp_rvu_centi": pl.Int64,
                "mult_proc": pl.Int8,
                "bilat_surg": pl.Int8,
                **dates,
            },
            orient="row",
        ),
        gpcis=pl.DataFrame(
            list(
                GpciEntry.objects.values_list(
                    "locality_id", "pw_gpci_milli", "pe_gpci_milli", "mp_gpci_milli", "valid_from", "valid_to"
                )
            ),
            schema={
                "locality_id": pl.String,
                "pw_gpci_milli": pl.Int64,
                "pe_gpci_milli": pl.Int64,
                "mp_gpci_milli": pl.Int64,
                **dates,
            },
            orient="row",
        ),
        conversion_factors=pl.DataFrame(
            [(c.valid_from, c.valid_to, int(c.amount * 10_000)) for c in ConversionFactor.objects.all()],
            schema={**dates, "conversion_factor_e4": pl.Int64},
            orient="row",
        ),
        code_rates=pl.DataFrame(
            [
                (r.contract_id, r.code, r.modifier, int(r.rate * _CENTS), r.valid_from, r.valid_to)
                for r in CodeRate.objects.all()
            ],
            schema={
                "contract_id": pl.Int64,
                "code": pl.String,
                "modifier": pl.String,
                "rate_cents": pl.Int64,
                **dates,
            },
            orient="row",
        ),
    )


def active_contract_of_product(product_id: int, on: dt.date) -> Contract | None:
    """The active contract in force on a day that covers a product (the latest begun), or None. A lookup for
    intake (which contract a request falls under), so it takes no actor."""
    return (
        Contract.objects.filter(
            Q(products__id=product_id, status=Contract.Status.ACTIVE, valid_from__lte=on)
            & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        )
        .order_by("-valid_from", "-pk")
        .first()
    )
