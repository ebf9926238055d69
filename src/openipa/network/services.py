"""Writes to the network registry. Each function is one transaction and writes one audit record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q

from openipa.core import audit
from openipa.core.dating import check_no_overlaps, describe_range, validate_range
from openipa.core.errors import ValidationFailed
from openipa.core.identifiers import IdentifierError, validate_npi, validate_tin
from openipa.core.models import EffectiveDated
from openipa.core.roles import Actor, Perm, require
from openipa.core.uniqueness import holder
from openipa.network.models import (
    Affiliation,
    ContractParticipation,
    Location,
    ParticipationAgreement,
    Practice,
    Provider,
    Region,
)

if TYPE_CHECKING:
    from openipa.contracts.models import Contract

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
LOCATION_FIELDS = ("name", "address_line1", "city", "state", "zip_code", "phone", "is_primary")
AGREEMENT_FIELDS = (
    "valid_from",
    "valid_to",
    "status",
    "admin_fee_percent",
    "admin_fee_pmpm",
    "signed_on",
    "non_exclusive",
    "notes",
)
# What an agreement keeps once made: its start is its identity (a new start is a new agreement).
AGREEMENT_UPDATE_FIELDS = (
    "valid_to", "status", "admin_fee_percent", "admin_fee_pmpm", "signed_on", "non_exclusive", "notes"
)  # fmt: skip
# Admin-fee terms are financial: set (or changed from zero) only by a user who may read contracts.
AGREEMENT_FEE_FIELDS = ("admin_fee_percent", "admin_fee_pmpm")


def _digits(value: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts superscripts and other scripts' digits."""
    return value.isascii() and value.isdigit()


def _routing_ok(routing: str) -> bool:
    """ABA routing number checksum: 3-7-1 weights over the nine digits sum to a multiple of ten."""
    if len(routing) != 9 or not _digits(routing):
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10 == 0


def _refuse_bank_fields(data: Mapping[str, Any]) -> None:
    """Bank details are not part of a practice's network record: finance changes them on their own."""
    sent = [f for f in BANK_FIELDS if f in data]
    if sent:
        raise ValidationFailed(
            {
                f: [
                    "Bank details are changed on their own, by finance: use the practice's bank details "
                    "form (PUT /api/v1/practices/{id}/bank in the API)."
                ]
                for f in sent
            }
        )


def _clean_practice(data: Mapping[str, Any], instance: Practice | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values = {k: data[k] for k in PRACTICE_FIELDS if k in data}
    if "tin" in values:
        try:
            values["tin"] = validate_tin(str(values["tin"]))
        except IdentifierError as exc:
            errors["tin"] = [str(exc)]
        else:
            other = holder(Practice.objects.filter(tin=values["tin"]), instance)
            if other is not None:
                errors["tin"] = [f"TIN {values['tin']} already belongs to practice {other.code}."]
    if "code" in values:
        values["code"] = str(values["code"]).strip().upper()
        if holder(Practice.objects.filter(code=values["code"]), instance) is not None:
            errors["code"] = [f"Code {values['code']} is taken."]
    if "state" in values:
        values["state"] = str(values["state"]).strip().upper()
        if len(values["state"]) != 2 or not values["state"].isalpha():
            errors["state"] = ["Use the two-letter state code."]
    if errors:
        raise ValidationFailed(errors)
    return values


@transaction.atomic
def practice_create(*, actor: Actor, data: Mapping[str, Any]) -> Practice:
    """Register a practice, without bank details: finance adds them with `practice_bank_update`."""
    require(actor, Perm.EDIT_NETWORK)
    _refuse_bank_fields(data)
    values = _clean_practice(data, None)
    practice = Practice(**values)
    practice.full_clean()
    practice.save()
    audit.record_write(actor, "practice.create", practice, after=audit.snapshot(practice))
    return practice


@transaction.atomic
def practice_update(*, actor: Actor, practice: Practice, data: Mapping[str, Any]) -> Practice:
    """Change a practice's network record. Its bank details are not part of it (`practice_bank_update`)."""
    require(actor, Perm.EDIT_NETWORK)
    _refuse_bank_fields(data)
    practice = Practice.objects.select_for_update().get(pk=practice.pk)
    before = audit.snapshot(practice)
    for key, value in _clean_practice(data, practice).items():
        setattr(practice, key, value)
    practice.full_clean()
    practice.save()
    audit.record_write(actor, "practice.update", practice, before=before, after=audit.snapshot(practice))
    return practice


def _clean_bank(data: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    others = sorted(str(k) for k in data if k not in BANK_FIELDS)
    if others:
        errors[""] = [f"Only bank details are changed here, not {', '.join(others)}."]
    values = {k: str(data[k] or "").strip() for k in BANK_FIELDS if k in data}
    routing = values.get("bank_routing_number", "")
    if routing and not _routing_ok(routing):
        errors["bank_routing_number"] = ["Routing number must be 9 digits with a valid ABA check digit."]
    account = values.get("bank_account_number", "")
    if account and (not _digits(account) or not 4 <= len(account) <= 17):
        errors["bank_account_number"] = ["Account number must be 4 to 17 digits."]
    if errors:
        raise ValidationFailed(errors)
    return values


@transaction.atomic
def practice_bank_update(*, actor: Actor, practice: Practice, data: Mapping[str, Any]) -> Practice:
    """Change a practice's EFT bank details (the fields of BANK_FIELDS sent; "" clears one). Finance only:
    the roles that edit the network, the administrator included, cannot redirect a practice's payments.

    The audit record masks the numbers; a number replaced by another shows as `***` -> `*** (changed)`,
    so the log says that it changed without saying what it was or became.
    """
    require(actor, Perm.EDIT_BANK)
    values = _clean_bank(data)
    practice = Practice.objects.select_for_update().get(pk=practice.pk)
    before = audit.snapshot(practice, BANK_FIELDS)
    replaced = [
        k for k, v in values.items() if k in audit.SECRET_FIELDS and v and getattr(practice, k) not in ("", v)
    ]
    for key, value in values.items():
        setattr(practice, key, value)
    practice.full_clean()
    practice.save()
    after = audit.snapshot(practice, BANK_FIELDS)
    for key in replaced:
        after[key] = "*** (changed)"
    audit.record_write(actor, "practice.bank_update", practice, before=before, after=after)
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
            other = holder(Provider.objects.filter(npi=values["npi"]), instance)
            if other is not None:
                errors["npi"] = [f"NPI {values['npi']} is already registered to {other}."]
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


def _range_error(field: str, valid_from: dt.date, valid_to: dt.date | None) -> None:
    try:
        validate_range(valid_from, valid_to)
    except ValueError as exc:
        raise ValidationFailed.single(field, str(exc)) from None


def _end_error(valid_from: dt.date, valid_to: dt.date | None, new_end: dt.date) -> str | None:
    """Why `new_end` cannot end a span that runs `valid_from..valid_to`, or None when it can. Ending a span
    sets its end or brings it forward; a later end would be a new commitment, made by a new span."""
    if new_end < valid_from:
        return f"It starts on {valid_from.isoformat()}; it cannot end before that."
    if valid_to is not None and new_end > valid_to:
        return f"It already ends on {valid_to.isoformat()}; an end can only be brought forward."
    return None


# ------------------------------------------------------------------------------------------ locations


def _clean_location(data: Mapping[str, Any], practice: Practice, instance: Location | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values = {k: data[k] for k in LOCATION_FIELDS if k in data}
    for name in ("name", "address_line1", "city", "zip_code", "phone"):
        if name in values:
            values[name] = str(values[name] or "").strip()
    location_name = values.get("name")
    if location_name and holder(practice.locations.filter(name__iexact=location_name), instance) is not None:
        errors["name"] = [f"{practice.code} already has a location named {values['name']!r}."]
    if "state" in values:
        values["state"] = str(values["state"] or "").strip().upper()
        if len(values["state"]) != 2 or not values["state"].isalpha():
            errors["state"] = ["Use the two-letter state code."]
    if "is_primary" in values:
        values["is_primary"] = bool(values["is_primary"])
    if errors:
        raise ValidationFailed(errors)
    return values


def _save_location(location: Location) -> None:
    location.full_clean()
    location.save()
    if location.is_primary:  # a practice has one primary location: the new one takes over
        Location.objects.filter(practice_id=location.practice_id, is_primary=True).exclude(
            pk=location.pk
        ).update(is_primary=False)


@transaction.atomic
def location_create(*, actor: Actor, practice: Practice, data: Mapping[str, Any]) -> Location:
    """Add a location (site) to a practice. Names are unique within the practice; marking it primary
    makes the practice's previous primary location an ordinary one."""
    require(actor, Perm.EDIT_NETWORK)
    practice = Practice.objects.select_for_update().get(pk=practice.pk)
    location = Location(practice=practice, **_clean_location(data, practice, None))
    _save_location(location)
    audit.record_write(actor, "location.create", location, after=audit.snapshot(location))
    return location


@transaction.atomic
def location_update(*, actor: Actor, location: Location, data: Mapping[str, Any]) -> Location:
    require(actor, Perm.EDIT_NETWORK)
    location = Location.objects.select_for_update().select_related("practice").get(pk=location.pk)
    before = audit.snapshot(location)
    for key, value in _clean_location(data, location.practice, location).items():
        setattr(location, key, value)
    _save_location(location)
    audit.record_write(actor, "location.update", location, before=before, after=audit.snapshot(location))
    return location


# --------------------------------------------------------------------------------------- affiliations


@transaction.atomic
def affiliation_end(*, actor: Actor, affiliation: Affiliation, valid_to: dt.date) -> Affiliation:
    """End a provider's affiliation with a practice on `valid_to` (inclusive), or bring its end forward.

    Refused while members still have the provider as PCP at that practice after that date: their PCP
    assignments must be ended or moved first, or they would be assigned to a PCP who no longer practises
    there.
    """
    require(actor, Perm.EDIT_NETWORK)
    affiliation = (
        Affiliation.objects.select_for_update().select_related("provider", "practice").get(pk=affiliation.pk)
    )
    problem = _end_error(affiliation.valid_from, affiliation.valid_to, valid_to)
    if problem:
        raise ValidationFailed.single("valid_to", f"The affiliation: {problem}")
    continuing = affiliation.provider.pcp_assignments.filter(practice_id=affiliation.practice_id).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=valid_to)
    )
    if affiliation.valid_to is not None:  # assignments under a later affiliation span are not this one's
        continuing = continuing.filter(valid_from__lte=affiliation.valid_to)
    members = continuing.values("member_id").distinct().count()
    if members:
        raise ValidationFailed.single(
            "valid_to",
            f"{members} member(s) have {affiliation.provider} as PCP at {affiliation.practice.legal_name} "
            f"after {valid_to.isoformat()}; end or move those PCP assignments first.",
        )
    before = audit.snapshot(affiliation)
    affiliation.valid_to = valid_to
    affiliation.save(update_fields=["valid_to"])
    audit.record_write(
        actor, "affiliation.end", affiliation, before=before, after=audit.snapshot(affiliation)
    )
    return affiliation


# ----------------------------------------------------------------------------------------- agreements


def _decimal(raw: Any, *, places: int, maximum: Decimal) -> tuple[Decimal | None, str]:
    """An amount from a form, the API or a script, or None and why it is not one."""
    if raw is None or raw == "":
        return None, "Enter an amount (0 for none)."
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None, f"{raw!r} is not a number."
    if not value.is_finite() or not Decimal(0) <= value <= maximum:
        return None, f"Must be between 0 and {maximum}."
    exact = value.quantize(Decimal(1).scaleb(-places))
    if value != exact:
        return None, f"Use at most {places} decimals."
    return exact, ""


def _clean_agreement(data: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values = {k: data[k] for k in fields if k in data}
    for name, places, maximum in (
        ("admin_fee_percent", 3, Decimal(100)),
        ("admin_fee_pmpm", 2, Decimal("99999999.99")),
    ):
        if name in values:
            amount, problem = _decimal(values[name], places=places, maximum=maximum)
            if problem:
                errors[name] = [problem]
            values[name] = amount
    if "status" in values and values["status"] not in ParticipationAgreement.Status.values:
        errors["status"] = [
            f"{values['status']!r} is not one of {', '.join(ParticipationAgreement.Status.values)}."
        ]
    if "notes" in values:
        values["notes"] = str(values["notes"] or "")
    if errors:
        raise ValidationFailed(errors)
    return values


def _require_fee_rights(actor: Actor, values: Mapping[str, Any], *, changed_only: bool) -> None:
    """Admin-fee terms are financial: only a user who may read contracts may set them. On create, zero
    fees (the default) need no such right."""
    fees = [values[f] for f in AGREEMENT_FEE_FIELDS if f in values]
    if any(fees) or (changed_only and fees):
        require(actor, Perm.VIEW_CONTRACTS)


@transaction.atomic
def agreement_create(*, actor: Actor, practice: Practice, data: Mapping[str, Any]) -> ParticipationAgreement:
    """Record a practice's participation agreement with the IPA. A practice's agreements never overlap."""
    require(actor, Perm.EDIT_NETWORK)
    values = _clean_agreement(data, AGREEMENT_FIELDS)
    _require_fee_rights(actor, values, changed_only=False)
    if not isinstance(values.get("valid_from"), dt.date):
        raise ValidationFailed.single("valid_from", "Enter the date the agreement starts.")
    _range_error("valid_to", values["valid_from"], values.get("valid_to"))
    practice = Practice.objects.select_for_update().get(pk=practice.pk)
    agreement = ParticipationAgreement(practice=practice, **values)
    try:
        check_no_overlaps([*practice.agreements.all(), agreement])
    except ValueError as exc:
        raise ValidationFailed.single("valid_from", f"Another agreement of {practice.code}: {exc}") from None
    agreement.full_clean()
    agreement.save()
    audit.record_write(actor, "agreement.create", agreement, after=audit.snapshot(agreement))
    return agreement


@transaction.atomic
def agreement_update(
    *, actor: Actor, agreement: ParticipationAgreement, data: Mapping[str, Any]
) -> ParticipationAgreement:
    """Change an agreement's status, admin-fee terms, end date, signing date or notes (its start is its
    identity). A new end may not overlap the practice's next agreement, nor cut short a contract the
    practice has joined under it."""
    require(actor, Perm.EDIT_NETWORK)
    values = _clean_agreement(data, AGREEMENT_UPDATE_FIELDS)
    _require_fee_rights(actor, values, changed_only=True)
    Practice.objects.select_for_update().get(pk=agreement.practice_id)
    agreement = ParticipationAgreement.objects.select_for_update().get(pk=agreement.pk)
    before = audit.snapshot(agreement)
    for key, value in values.items():
        setattr(agreement, key, value)
    _range_error("valid_to", agreement.valid_from, agreement.valid_to)
    others = ParticipationAgreement.objects.filter(practice_id=agreement.practice_id).exclude(pk=agreement.pk)
    try:
        check_no_overlaps([*others, agreement])
    except ValueError as exc:
        raise ValidationFailed.single("valid_to", f"Another agreement of the practice: {exc}") from None
    if agreement.valid_to is not None:
        after_end = agreement.contract_participations.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=agreement.valid_to)
        ).count()
        if after_end:
            raise ValidationFailed.single(
                "valid_to",
                f"{after_end} joined contract(s) continue after {agreement.valid_to.isoformat()}; "
                "leave them by that date first.",
            )
    agreement.full_clean()
    agreement.save()
    audit.record_write(actor, "agreement.update", agreement, before=before, after=audit.snapshot(agreement))
    return agreement


# -------------------------------------------------------------------------------- contract participation


def _outside(
    valid_from: dt.date, valid_to: dt.date | None, outer: EffectiveDated, what: str
) -> dict[str, list[str]]:
    """Per-field messages when `valid_from..valid_to` does not lie within `outer`'s dates."""
    span = describe_range(outer.valid_from, outer.valid_to)
    errors: dict[str, list[str]] = {}
    if valid_from < outer.valid_from:
        errors["valid_from"] = [f"Before the {what} starts ({span})."]
    elif outer.valid_to is not None and valid_from > outer.valid_to:
        errors["valid_from"] = [f"After the {what} ends ({span})."]
    if outer.valid_to is not None and (valid_to is None or valid_to > outer.valid_to):
        errors["valid_to"] = [f"After the {what} ends ({span})."]
    return errors


@transaction.atomic
def contract_join(
    *,
    actor: Actor,
    agreement: ParticipationAgreement,
    contract: Contract,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
) -> ContractParticipation:
    """The practice joins (opts in to) a payer contract under its agreement, from `valid_from`.

    Without `valid_to` it stays in until the agreement or the contract ends, whichever is first. The
    dates must lie within both; spans of one contract under one agreement never overlap. Which contracts
    a practice joined is financial, so this also needs the right to read contracts.
    """
    require(actor, Perm.EDIT_NETWORK)
    require(actor, Perm.VIEW_CONTRACTS)
    agreement = ParticipationAgreement.objects.select_for_update().get(pk=agreement.pk)
    if valid_to is None:
        ends = [d for d in (agreement.valid_to, contract.valid_to) if d is not None]
        valid_to = min(ends) if ends else None
    _range_error("valid_to", valid_from, valid_to)
    errors: dict[str, list[str]] = {}
    for outer, what in ((agreement, "agreement"), (contract, f"contract {contract.number}")):
        for field, messages in _outside(valid_from, valid_to, outer, what).items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)
    participation = ContractParticipation(
        agreement=agreement, contract=contract, valid_from=valid_from, valid_to=valid_to
    )
    existing = ContractParticipation.objects.filter(agreement=agreement, contract=contract)
    try:
        check_no_overlaps([*existing, participation])
    except ValueError as exc:
        raise ValidationFailed.single(
            "valid_from", f"The practice already takes part in {contract.number} then: {exc}"
        ) from None
    participation.save()
    audit.record_write(actor, "contract.join", participation, after=audit.snapshot(participation))
    return participation


@transaction.atomic
def contract_leave(
    *, actor: Actor, participation: ContractParticipation, valid_to: dt.date
) -> ContractParticipation:
    """The practice leaves a contract it joined: its last day in it is `valid_to` (set, or brought forward)."""
    require(actor, Perm.EDIT_NETWORK)
    require(actor, Perm.VIEW_CONTRACTS)
    participation = ContractParticipation.objects.select_for_update().get(pk=participation.pk)
    problem = _end_error(participation.valid_from, participation.valid_to, valid_to)
    if problem:
        raise ValidationFailed.single("valid_to", f"The participation: {problem}")
    before = audit.snapshot(participation)
    participation.valid_to = valid_to
    participation.save(update_fields=["valid_to"])
    audit.record_write(
        actor, "contract.leave", participation, before=before, after=audit.snapshot(participation)
    )
    return participation


@transaction.atomic
def region_create(*, actor: Actor, code: str, name: str) -> Region:
    require(actor, Perm.EDIT_NETWORK)
    code = code.strip().upper()
    if Region.objects.filter(code=code).exists():
        raise ValidationFailed.single("code", f"Region {code} exists.")
    region = Region.objects.create(code=code, name=name)
    audit.record_write(actor, "region.create", region, after=audit.snapshot(region))
    return region
