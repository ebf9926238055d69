"""Writes to payers, products, contracts and their term versions. One transaction each, audited."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from openipa.contracts.models import Contract, ContractTerm, DofrEntry, Payer, Product, RateCell
from openipa.core import audit
from openipa.core.dating import check_no_overlaps, validate_range
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Actor, Perm, require

PAYER_FIELDS = ("name", "code", "x12_payer_id")
CONTRACT_FIELDS = ("payer", "number", "name", "legal_basis", "status", "valid_from", "valid_to")
TERM_FIELDS = (
    "valid_from",
    "valid_to",
    "capitation_basis",
    "percent_of_premium",
    "risk_base_rate",
    "admin_fee_percent",
    "admin_fee_pmpm",
    "reinsurance_pmpm",
    "withhold_percent",
    "retro_window_months",
    "proration_rule",
    "cutoff_day",
    "age_reference_month",
    "notes",
)
RATE_TABLE_COLUMNS = ("product_code", "age_min", "age_max", "sex", "pmpm")


def _pick(data: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {k: data[k] for k in fields if k in data}


@transaction.atomic
def payer_create(*, actor: Actor, data: Mapping[str, Any]) -> Payer:
    require(actor, Perm.EDIT_CONTRACTS)
    values = _pick(data, PAYER_FIELDS)
    values["code"] = str(values.get("code", "")).strip().upper()
    if Payer.objects.filter(code=values["code"]).exists():
        raise ValidationFailed.single("code", f"Payer code {values['code']} is taken.")
    payer = Payer(**values)
    payer.full_clean()
    payer.save()
    audit.record_write(actor, "payer.create", payer, after=audit.snapshot(payer))
    return payer


@transaction.atomic
def payer_update(*, actor: Actor, payer: Payer, data: Mapping[str, Any]) -> Payer:
    require(actor, Perm.EDIT_CONTRACTS)
    payer = Payer.objects.select_for_update().get(pk=payer.pk)
    before = audit.snapshot(payer)
    values = _pick(data, PAYER_FIELDS)
    if "code" in values:
        values["code"] = str(values["code"]).strip().upper()
        if Payer.objects.filter(code=values["code"]).exclude(pk=payer.pk).exists():
            raise ValidationFailed.single("code", f"Payer code {values['code']} is taken.")
    for key, value in values.items():
        setattr(payer, key, value)
    payer.full_clean()
    payer.save()
    audit.record_write(actor, "payer.update", payer, before=before, after=audit.snapshot(payer))
    return payer


@transaction.atomic
def product_create(*, actor: Actor, payer: Payer, code: str, name: str, line_of_business: str) -> Product:
    require(actor, Perm.EDIT_CONTRACTS)
    code = code.strip().upper()
    if payer.products.filter(code=code).exists():
        raise ValidationFailed.single("code", f"{payer.code} already has a product {code}.")
    product = Product(payer=payer, code=code, name=name, line_of_business=line_of_business)
    product.full_clean()
    product.save()
    audit.record_write(actor, "product.create", product, after=audit.snapshot(product))
    return product


def _check_dates(values: Mapping[str, Any]) -> None:
    try:
        validate_range(values["valid_from"], values.get("valid_to"))
    except ValueError as exc:
        raise ValidationFailed.single("valid_to", str(exc)) from None


@transaction.atomic
def contract_create(*, actor: Actor, data: Mapping[str, Any], products: Sequence[Product] = ()) -> Contract:
    require(actor, Perm.EDIT_CONTRACTS)
    values = _pick(data, CONTRACT_FIELDS)
    _check_dates(values)
    if Contract.objects.filter(number=values.get("number")).exists():
        raise ValidationFailed.single("number", f"Contract number {values.get('number')} is taken.")
    contract = Contract(**values)
    contract.full_clean()
    contract.save()
    _set_products(contract, products)
    audit.record_write(actor, "contract.create", contract, after=audit.snapshot(contract))
    return contract


def _set_products(contract: Contract, products: Sequence[Product]) -> None:
    wrong = [p.code for p in products if p.payer_id != contract.payer_id]
    if wrong:
        raise ValidationFailed.single("products", f"Products {', '.join(wrong)} belong to another payer.")
    contract.products.set(products)


@transaction.atomic
def contract_update(
    *, actor: Actor, contract: Contract, data: Mapping[str, Any], products: Sequence[Product] | None = None
) -> Contract:
    require(actor, Perm.EDIT_CONTRACTS)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    before = audit.snapshot(contract)
    values = _pick(data, CONTRACT_FIELDS)
    if (
        "number" in values
        and Contract.objects.filter(number=values["number"]).exclude(pk=contract.pk).exists()
    ):
        raise ValidationFailed.single("number", f"Contract number {values['number']} is taken.")
    for key, value in values.items():
        setattr(contract, key, value)
    _check_dates({"valid_from": contract.valid_from, "valid_to": contract.valid_to})
    contract.full_clean()
    contract.save()
    if products is not None:
        _set_products(contract, products)
    audit.record_write(actor, "contract.update", contract, before=before, after=audit.snapshot(contract))
    return contract


def _validate_term(term: ContractTerm) -> None:
    errors: dict[str, list[str]] = {}
    basis = term.capitation_basis
    if basis == ContractTerm.CapitationBasis.PERCENT_OF_PREMIUM and not term.percent_of_premium:
        errors["percent_of_premium"] = ["Percent of premium is required for this capitation basis."]
    if basis == ContractTerm.CapitationBasis.RISK_ADJUSTED and not term.risk_base_rate:
        errors["risk_base_rate"] = ["A base rate is required for risk-adjusted capitation."]
    for name in ("admin_fee_percent", "withhold_percent", "percent_of_premium"):
        value = getattr(term, name)
        if value is not None and not Decimal(0) <= Decimal(value) <= Decimal(100):
            errors[name] = ["Must be between 0 and 100 percent."]
    if not 1 <= term.age_reference_month <= 12:
        errors["age_reference_month"] = ["Month must be 1 to 12."]
    if errors:
        raise ValidationFailed(errors)


@transaction.atomic
def term_create(*, actor: Actor, contract: Contract, data: Mapping[str, Any]) -> ContractTerm:
    """Add a term version. It must fall inside the contract's dates and overlap no other version."""
    require(actor, Perm.EDIT_CONTRACTS)
    values = _pick(data, TERM_FIELDS)
    _check_dates(values)
    term = ContractTerm(contract=contract, **values)
    _validate_term(term)
    if term.valid_from < contract.valid_from or (
        contract.valid_to is not None and (term.valid_to is None or term.valid_to > contract.valid_to)
    ):
        raise ValidationFailed.single("valid_from", "The term version must lie within the contract's dates.")
    try:
        check_no_overlaps([*ContractTerm.objects.select_for_update().filter(contract=contract), term])
    except ValueError as exc:
        raise ValidationFailed.single("valid_from", str(exc)) from None
    term.full_clean()
    term.save()
    audit.record_write(actor, "term.create", term, after=audit.snapshot(term))
    return term


@dataclass(frozen=True)
class RateRow:
    line: int
    product_code: str
    age_min: int
    age_max: int
    sex: str
    pmpm: Decimal


def parse_rate_table(text: str, *, filename: str = "rate table") -> list[RateRow]:
    """Parse a rate-table CSV (product_code, age_min, age_max, sex, pmpm). Every bad row is reported with
    its line and column; nothing is returned unless the whole file is good."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in RATE_TABLE_COLUMNS if c not in header]
    if missing:
        raise ValidationFailed.single("file", f"{filename}, line 1: missing column(s) {', '.join(missing)}")
    errors: list[str] = []
    rows: list[RateRow] = []
    for line, raw in enumerate(reader, start=2):
        rec = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        where = f"{filename}, line {line}"
        try:
            age_min, age_max = int(rec["age_min"]), int(rec["age_max"])
        except ValueError:
            errors.append(f"{where}, column age_min/age_max: ages must be whole numbers")
            continue
        sex = rec["sex"].upper() or "U"
        if sex not in {"F", "M", "U"}:
            errors.append(f"{where}, column sex: {rec['sex']!r} is not F, M or U")
            continue
        try:
            pmpm = Decimal(rec["pmpm"].replace("$", "").replace(",", ""))
        except InvalidOperation:
            errors.append(f"{where}, column pmpm: {rec['pmpm']!r} is not an amount")
            continue
        if pmpm < 0 or pmpm != pmpm.quantize(Decimal("0.01")):
            errors.append(f"{where}, column pmpm: {rec['pmpm']!r} must be >= 0 with at most 2 decimals")
            continue
        if age_max < age_min or age_min < 0:
            errors.append(f"{where}, column age_max: band {age_min}-{age_max} is empty")
            continue
        rows.append(RateRow(line, rec["product_code"].upper(), age_min, age_max, sex, pmpm))
    # Bands for one product and sex must not overlap, or a member-month would have two prices.
    by_key: dict[tuple[str, str], list[RateRow]] = {}
    for row in rows:
        by_key.setdefault((row.product_code, row.sex), []).append(row)
    for (product, sex), group in by_key.items():
        group.sort(key=lambda r: r.age_min)
        for a, b in itertools.pairwise(group):
            if b.age_min <= a.age_max:
                errors.append(
                    f"{filename}, line {b.line}, column age_min: band {b.age_min}-{b.age_max} for {product} "
                    f"sex {sex} overlaps line {a.line} ({a.age_min}-{a.age_max})"
                )
    if not rows and not errors:
        errors.append(f"{filename}: no rate rows")
    if errors:
        raise ValidationFailed({"file": errors})
    return rows


@transaction.atomic
def rate_table_import(
    *, actor: Actor, term: ContractTerm, text: str, filename: str = "rate table"
) -> list[RateCell]:
    """Replace a term version's rate table from CSV: all rows valid, or nothing changes."""
    require(actor, Perm.EDIT_CONTRACTS)
    rows = parse_rate_table(text, filename=filename)
    products = {p.code: p for p in term.contract.products.all()}
    unknown = sorted({r.product_code for r in rows if r.product_code not in products})
    if unknown:
        lines = [
            f"{filename}, line {r.line}, column product_code: {r.product_code!r} is not a product of "
            f"contract {term.contract.number}"
            for r in rows
            if r.product_code in unknown
        ]
        raise ValidationFailed({"file": lines})
    before = {"rate_cells": term.rate_cells.count()}
    term.rate_cells.all().delete()
    cells = RateCell.objects.bulk_create(
        RateCell(
            term=term,
            product=products[r.product_code],
            age_min=r.age_min,
            age_max=r.age_max,
            sex=r.sex,
            pmpm=r.pmpm,
        )
        for r in rows
    )
    audit.record_write(
        actor, "rate_table.import", term, before=before, after={"rate_cells": len(cells), "file": filename}
    )
    return cells


@dataclass(frozen=True)
class DofrRow:
    """One line of a DOFR table as entered: who pays for a service category."""

    service_category: str
    responsible_party: str
    notes: str = ""


DOFR_CATEGORY_MAX = 100
DOFR_NOTES_MAX = 200


def check_dofr_rows(rows: Sequence[DofrRow]) -> list[DofrRow]:
    """The rows tidied (spaces trimmed), or ValidationFailed with every problem keyed by the row it is on:
    `entries.<index>.<field>`, the index counting from 0 in the order given. Categories are compared
    without regard to case, so "Lab" and "lab" cannot both be listed."""
    errors: dict[str, list[str]] = {}
    parties = DofrEntry.Party.values
    seen: dict[str, int] = {}
    tidy: list[DofrRow] = []
    for index, row in enumerate(rows):
        where = f"entries.{index}"
        category = str(row.service_category or "").strip()
        notes = str(row.notes or "").strip()
        if not category:
            errors[f"{where}.service_category"] = ["Name the service category."]
        elif len(category) > DOFR_CATEGORY_MAX:
            errors[f"{where}.service_category"] = [f"At most {DOFR_CATEGORY_MAX} characters."]
        elif category.casefold() in seen:
            first = seen[category.casefold()]
            errors[f"{where}.service_category"] = [
                f"{category!r} is already listed (row {first + 1}); give each category one party."
            ]
        else:
            seen[category.casefold()] = index
        if row.responsible_party not in parties:
            errors[f"{where}.responsible_party"] = [
                f"{row.responsible_party!r} is not a party; use one of {', '.join(parties)}."
            ]
        if len(notes) > DOFR_NOTES_MAX:
            errors[f"{where}.notes"] = [f"At most {DOFR_NOTES_MAX} characters."]
        tidy.append(DofrRow(category, row.responsible_party, notes))
    if errors:
        raise ValidationFailed(errors)
    return tidy


@transaction.atomic
def dofr_set(
    *, actor: Actor, term: ContractTerm, entries: Mapping[str, str] | Sequence[DofrRow]
) -> list[DofrEntry]:
    """Replace a term version's DOFR table: service category -> responsible party (and a note).

    `entries` is a mapping of category to party, or rows (with notes). All rows valid, or nothing
    changes; an empty table clears it.
    """
    require(actor, Perm.EDIT_CONTRACTS)
    if isinstance(entries, Mapping):
        rows = [DofrRow(cat, party) for cat, party in sorted(entries.items())]
    else:
        rows = list(entries)
    rows = check_dofr_rows(rows)
    term = ContractTerm.objects.select_for_update().get(pk=term.pk)
    before = {e.service_category: e.responsible_party for e in term.dofr_entries.all()}
    term.dofr_entries.all().delete()
    created = DofrEntry.objects.bulk_create(
        DofrEntry(
            term=term,
            service_category=r.service_category,
            responsible_party=r.responsible_party,
            notes=r.notes,
        )
        for r in sorted(rows, key=lambda r: r.service_category.casefold())
    )
    after = {r.service_category: r.responsible_party for r in rows}
    audit.record_write(actor, "dofr.set", term, before=before, after=after)
    return created
