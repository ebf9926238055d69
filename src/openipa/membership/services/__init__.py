"""Writes to members, eligibility spans and PCP assignment spans (roster ingestion builds on these)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from openipa.contracts.models import Product
from openipa.core import audit
from openipa.core.dating import check_no_overlaps, validate_range
from openipa.core.errors import ValidationFailed
from openipa.core.identifiers import IdentifierError, validate_mbi
from openipa.core.roles import Actor, Perm, require
from openipa.core.uniqueness import holder
from openipa.membership.models import EligibilitySpan, Member, PcpAssignment
from openipa.network import selectors as network_selectors
from openipa.network.models import Provider

MEMBER_FIELDS = (
    "payer",
    "payer_member_id",
    "mbi",
    "first_name",
    "last_name",
    "date_of_birth",
    "date_of_death",
    "sex",
    "address_line1",
    "city",
    "state",
    "zip_code",
    "phone",
    "language",
    # what CMS-HCC risk scores need (openipa.risk): checked against the field's choices by full_clean
    "orec",
    "crec",
    "kidney_transplant_date",
    "medicaid_dual_status",
    "long_term_institutional",
)


def _clean_member(data: Mapping[str, Any], instance: Member | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values = {k: data[k] for k in MEMBER_FIELDS if k in data}
    if values.get("mbi"):
        try:
            values["mbi"] = validate_mbi(str(values["mbi"]))
        except IdentifierError as exc:
            errors["mbi"] = [str(exc)]
    dob = values.get("date_of_birth", instance.date_of_birth if instance else None)
    if isinstance(dob, dt.date) and dob > dt.date.today():
        errors["date_of_birth"] = ["Date of birth is in the future."]
    dod = values.get("date_of_death")
    if isinstance(dod, dt.date) and isinstance(dob, dt.date) and dod < dob:
        errors["date_of_death"] = ["Date of death is before date of birth."]
    transplant = values.get("kidney_transplant_date")
    if isinstance(transplant, str) and transplant.strip():
        try:
            transplant = values["kidney_transplant_date"] = dt.date.fromisoformat(transplant.strip())
        except ValueError:
            errors["kidney_transplant_date"] = [
                f"Kidney transplant date {transplant!r} is not a date (YYYY-MM-DD)."
            ]
    elif transplant == "":
        transplant = values["kidney_transplant_date"] = None
    elif transplant is not None and not isinstance(transplant, dt.date):
        errors["kidney_transplant_date"] = ["Kidney transplant date is not a date."]
    if isinstance(transplant, dt.date):
        if transplant > dt.date.today():
            errors["kidney_transplant_date"] = ["Kidney transplant date is in the future."]
        elif isinstance(dob, dt.date) and transplant < dob:
            errors["kidney_transplant_date"] = ["Kidney transplant date is before date of birth."]
    payer = values.get("payer", instance.payer if instance else None)
    member_id = values.get("payer_member_id", instance.payer_member_id if instance else None)
    others = Member.objects.filter(payer=payer, payer_member_id=member_id)
    if payer is not None and member_id and holder(others, instance) is not None:
        errors["payer_member_id"] = [f"{payer} already has member {member_id}."]
    if errors:
        raise ValidationFailed(errors)
    return values


@transaction.atomic
def member_create(*, actor: Actor | None, data: Mapping[str, Any]) -> Member:
    if actor is not None:
        require(actor, Perm.EDIT_MEMBERS)
    member = Member(**_clean_member(data, None))
    member.full_clean()
    member.save()
    audit.record_write(actor, "member.create", member, after=audit.snapshot(member), member_ids=[member.pk])
    return member


@transaction.atomic
def member_update(*, actor: Actor | None, member: Member, data: Mapping[str, Any]) -> Member:
    if actor is not None:
        require(actor, Perm.EDIT_MEMBERS)
    member = Member.objects.select_for_update().get(pk=member.pk)
    before = audit.snapshot(member)
    for key, value in _clean_member(data, member).items():
        setattr(member, key, value)
    member.full_clean()
    member.save()
    audit.record_write(
        actor, "member.update", member, before=before, after=audit.snapshot(member), member_ids=[member.pk]
    )
    return member


def _range(valid_from: dt.date, valid_to: dt.date | None) -> None:
    try:
        validate_range(valid_from, valid_to)
    except ValueError as exc:
        raise ValidationFailed.single("valid_to", str(exc)) from None


@transaction.atomic
def eligibility_add(
    *, actor: Actor | None, member: Member, product: Product, valid_from: dt.date, valid_to: dt.date | None
) -> EligibilitySpan:
    """Add an eligibility span. A member's spans never overlap (one product at a time per payer)."""
    if actor is not None:
        require(actor, Perm.EDIT_MEMBERS)
    _range(valid_from, valid_to)
    if product.payer_id != member.payer_id:
        raise ValidationFailed.single("product", "The product belongs to another payer than the member.")
    span = EligibilitySpan(member=member, product=product, valid_from=valid_from, valid_to=valid_to)
    try:
        check_no_overlaps([*EligibilitySpan.objects.select_for_update().filter(member=member), span])
    except ValueError as exc:
        raise ValidationFailed.single("valid_from", str(exc)) from None
    span.save()
    audit.record_write(actor, "eligibility.add", span, after=audit.snapshot(span), member_ids=[member.pk])
    return span


@transaction.atomic
def pcp_assign(
    *, actor: Actor | None, member: Member, provider: Provider, valid_from: dt.date, valid_to: dt.date | None
) -> PcpAssignment:
    """Assign a PCP from a date. The practice is the one the provider is affiliated with on that date."""
    if actor is not None:
        require(actor, Perm.EDIT_MEMBERS)
    _range(valid_from, valid_to)
    if provider.kind != Provider.Kind.PCP:
        raise ValidationFailed.single("provider", f"{provider} is not a primary care provider.")
    practice_id = network_selectors.practice_of_provider_on(provider, valid_from)
    if practice_id is None:
        raise ValidationFailed.single("provider", f"{provider} has no practice affiliation on {valid_from}.")
    span = PcpAssignment(
        member=member,
        provider=provider,
        practice_id=practice_id,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    try:
        check_no_overlaps([*PcpAssignment.objects.select_for_update().filter(member=member), span])
    except ValueError as exc:
        raise ValidationFailed.single("valid_from", str(exc)) from None
    span.save()
    audit.record_write(actor, "pcp.assign", span, after=audit.snapshot(span), member_ids=[member.pk])
    return span
