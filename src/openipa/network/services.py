"""Writes to the network registry. Each function is one transaction and writes one audit record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from openipa.core import audit
from openipa.core.dating import check_no_overlaps, validate_range
from openipa.core.errors import ValidationFailed
from openipa.core.identifiers import IdentifierError, validate_npi, validate_tin
from openipa.core.roles import Actor, Perm, require
from openipa.network.models import Affiliation, Location, ParticipationAgreement, Practice, Provider, Region

PRACTICE_FIELDS = (
    "code",
    "legal_name",
    "dba_name",
    "tin",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip_code",
    "phone",
    "region",
    "status",
)
BANK_FIELDS = ("bank_name", "bank_routing_number", "bank_account_number")
PROVIDER_FIELDS = (
    "npi",
    "first_name",
    "last_name",
    "degree",
    "taxonomy_code",
    "specialty",
    "kind",
    "accepting_new_patients",
    "panel_limit",
    "date_of_birth",
    "personal_phone",
)


def _routing_ok(routing: str) -> bool:
    """ABA routing number checksum: 3-7-1 weights over the nine digits sum to a multiple of ten."""
    if len(routing) != 9 or not routing.isdigit():
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10 == 0


def _clean_practice(data: Mapping[str, Any], instance: Practice | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values = {k: data[k] for k in (*PRACTICE_FIELDS, *BANK_FIELDS) if k in data}
    if "tin" in values:
        try:
            values["tin"] = validate_tin(str(values["tin"]))
        except IdentifierError as exc:
            errors["tin"] = [str(exc)]
        else:
            dup = Practice.objects.filter(tin=values["tin"])
            if instance is not None:
                dup = dup.exclude(pk=instance.pk)
            if dup.exists():
                errors["tin"] = [f"TIN {values['tin']} already belongs to practice {dup.get().code}."]
    if "code" in values:
        values["code"] = str(values["code"]).strip().upper()
        dup_code = Practice.objects.filter(code=values["code"])
        if instance is not None:
            dup_code = dup_code.exclude(pk=instance.pk)
        if dup_code.exists():
            errors["code"] = [f"Code {values['code']} is taken."]
    if "state" in values:
        values["state"] = str(values["state"]).strip().upper()
        if len(values["state"]) != 2 or not values["state"].isalpha():
            errors["state"] = ["Use the two-letter state code."]
    routing = str(values.get("bank_routing_number") or "")
    if routing and not _routing_ok(routing):
        errors["bank_routing_number"] = ["Routing number must be 9 digits with a valid ABA check digit."]
    account = str(values.get("bank_account_number") or "")
    if account and (not account.isdigit() or not 4 <= len(account) <= 17):
        errors["bank_account_number"] = ["Account number must be 4 to 17 digits."]
    if errors:
        raise ValidationFailed(errors)
    return values


@transaction.atomic
def practice_create(*, actor: Actor, data: Mapping[str, Any]) -> Practice:
    require(actor, Perm.EDIT_NETWORK)
    if any(data.get(f) for f in BANK_FIELDS):
        require(actor, Perm.VIEW_BANK)
    values = _clean_practice(data, None)
    practice = Practice(**values)
    practice.full_clean()
    practice.save()
    audit.record_write(actor, "practice.create", practice, after=audit.snapshot(practice))
    return practice


@transaction.atomic
def practice_update(*, actor: Actor, practice: Practice, data: Mapping[str, Any]) -> Practice:
    """Change a practice. Bank details can be changed only by a user who may read them in clear."""
    require(actor, Perm.EDIT_NETWORK)
    if any(f in data for f in BANK_FIELDS):
        require(actor, Perm.VIEW_BANK)
    practice = Practice.objects.select_for_update().get(pk=practice.pk)
    before = audit.snapshot(practice)
    for key, value in _clean_practice(data, practice).items():
        setattr(practice, key, value)
    practice.full_clean()
    practice.save()
    audit.record_write(actor, "practice.update", practice, before=before, after=audit.snapshot(practice))
    return practice


def _clean_provider(data: Mapping[str, Any], instance: Provider | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values = {k: data[k] for k in PROVIDER_FIELDS if k in data}
    if "npi" in values:
        try:
            values["npi"] = validate_npi(str(values["npi"]))
        except IdentifierError as exc:
            errors["npi"] = [str(exc)]
        else:
            dup = Provider.objects.filter(npi=values["npi"])
            if instance is not None:
                dup = dup.exclude(pk=instance.pk)
            if dup.exists():
                errors["npi"] = [f"NPI {values['npi']} is already registered to {dup.get()}."]
    taxonomy = str(values.get("taxonomy_code", "") or "")
    if "taxonomy_code" in values and (len(taxonomy) != 10 or taxonomy[-1] != "X"):
        errors["taxonomy_code"] = ["A NUCC taxonomy code has 10 characters ending in X, e.g. 207Q00000X."]
    if values.get("panel_limit") is not None and int(values["panel_limit"]) < 0:
        errors["panel_limit"] = ["Panel limit cannot be negative."]
    if errors:
        raise ValidationFailed(errors)
    return values


@transaction.atomic
def provider_create(*, actor: Actor, data: Mapping[str, Any]) -> Provider:
    require(actor, Perm.EDIT_NETWORK)
    provider = Provider(**_clean_provider(data, None))
    provider.full_clean()
    provider.save()
    audit.record_write(actor, "provider.create", provider, after=audit.snapshot(provider))
    return provider


@transaction.atomic
def provider_update(*, actor: Actor, provider: Provider, data: Mapping[str, Any]) -> Provider:
    require(actor, Perm.EDIT_NETWORK)
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    before = audit.snapshot(provider)
    for key, value in _clean_provider(data, provider).items():
        setattr(provider, key, value)
    provider.full_clean()
    provider.save()
    audit.record_write(actor, "provider.update", provider, before=before, after=audit.snapshot(provider))
    return provider


@transaction.atomic
def affiliation_create(
    *,
    actor: Actor,
    provider: Provider,
    practice: Practice,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    location: Location | None = None,
) -> Affiliation:
    """Affiliate a provider with a practice; spans for the same provider and practice may not overlap."""
    require(actor, Perm.EDIT_NETWORK)
    try:
        validate_range(valid_from, valid_to)
    except ValueError as exc:
        raise ValidationFailed.single("valid_to", str(exc)) from None
    if location is not None and location.practice_id != practice.pk:
        raise ValidationFailed.single("location", "The location belongs to another practice.")
    new = Affiliation(
        provider=provider, practice=practice, location=location, valid_from=valid_from, valid_to=valid_to
    )
    existing = list(Affiliation.objects.select_for_update().filter(provider=provider, practice=practice))
    try:
        check_no_overlaps([*existing, new])
    except ValueError as exc:
        raise ValidationFailed.single("valid_from", str(exc)) from None
    new.save()
    audit.record_write(actor, "affiliation.create", new, after=audit.snapshot(new))
    return new


@transaction.atomic
def agreement_create(*, actor: Actor, practice: Practice, data: Mapping[str, Any]) -> ParticipationAgreement:
    require(actor, Perm.EDIT_NETWORK)
    agreement = ParticipationAgreement(practice=practice, **data)
    try:
        validate_range(agreement.valid_from, agreement.valid_to)
        check_no_overlaps([*practice.agreements.select_for_update(), agreement])
    except ValueError as exc:
        raise ValidationFailed.single("valid_from", str(exc)) from None
    agreement.full_clean()
    agreement.save()
    audit.record_write(actor, "agreement.create", agreement, after=audit.snapshot(agreement))
    return agreement


@transaction.atomic
def region_create(*, actor: Actor, code: str, name: str) -> Region:
    require(actor, Perm.EDIT_NETWORK)
    code = code.strip().upper()
    if Region.objects.filter(code=code).exists():
        raise ValidationFailed.single("code", f"Region {code} exists.")
    region = Region.objects.create(code=code, name=name)
    audit.record_write(actor, "region.create", region, after=audit.snapshot(region))
    return region
