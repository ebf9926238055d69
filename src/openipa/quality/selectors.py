"""Reads for quality measurement: the engine's input frames from the database, and the rates of a measurement
year. IPA-wide figures for quality staff (VIEW_CLINICAL, not practice users); the per-member results and care
gaps, which are member data, come with their own scoped and audited reads.

Sources: members (birth date, sex, death), eligibility spans, claim lines (with their claim's diagnoses; voids
and reversed claims left out), and clinical records of linked patients (observations, procedures,
immunizations as `clinical`; encounters as `encounters`), and pharmacy fills paid and not reversed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from openipa.claims.models import Claim, ClaimLine
from openipa.clinical.models import ClinicalRecord, PharmacyFill
from openipa.core.errors import PermissionDenied
from openipa.core.roles import Actor, Perm, is_practice_scoped, require
from openipa.membership.models import EligibilitySpan, Member
from openipa.quality.engine import MeasureInputs, evaluate, load_measures, starter_value_sets


def _frame(rows: Any, schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def measure_inputs() -> MeasureInputs:
    """The engine's frames from the database (a batch read: no actor; the callers check it)."""
    members = _frame(Member.objects.values_list("pk", "date_of_birth", "sex", "date_of_death"),
                     {"member_id": pl.Int64, "birth_date": pl.Date, "sex": pl.String, "death_date": pl.Date})  # fmt: skip
    enrollment = _frame(EligibilitySpan.objects.values_list("member_id", "valid_from", "valid_to"),
                        {"member_id": pl.Int64, "start_date": pl.Date, "end_date": pl.Date})  # fmt: skip
    lines = (
        ClaimLine.objects.filter(claim__member__isnull=False)
        .exclude(claim__status=Claim.Status.REVERSED)
        .exclude(claim__frequency=Claim.Frequency.VOID)
        .values_list("pk", "claim__member_id", "service_from", "claim__diagnoses", "code", "place_of_service")
    )
    claims = _frame(
        ((pk, member, day, [code for _qualifier, code in (diagnoses or [])], [code] if code else [], pos)
         for pk, member, day, diagnoses, code, pos in lines.iterator(chunk_size=20_000)),
        {"claim_line_id": pl.Int64, "member_id": pl.Int64, "service_date": pl.Date,
         "diagnosis_codes": pl.List(pl.String), "procedure_codes": pl.List(pl.String), "place_of_service": pl.String},
    )  # fmt: skip
    records = ClinicalRecord.objects.filter(member__isnull=False, date__isnull=False)
    clinical = _frame(
        ((pk, member, system, code, None if value is None else float(value), unit, day)
         for pk, member, system, code, value, unit, day in records.exclude(kind="encounter").values_list(
             "pk", "member_id", "code_system", "code", "value", "unit", "date").iterator(chunk_size=20_000)),
        {"clinical_id": pl.Int64, "member_id": pl.Int64, "code_system": pl.String, "code": pl.String,
         "value": pl.Float64, "unit": pl.String, "observed_date": pl.Date},
    )  # fmt: skip
    encounters = _frame(
        records.filter(kind="encounter").values_list("pk", "member_id", "code_system", "code", "date"),
        {"encounter_id": pl.Int64, "member_id": pl.Int64, "code_system": pl.String, "code": pl.String,
         "encounter_date": pl.Date},
    )  # fmt: skip
    reversed_ids = PharmacyFill.objects.filter(status=PharmacyFill.Status.REVERSED).values("claim_id")
    fills = (
        PharmacyFill.objects.filter(member__isnull=False, status=PharmacyFill.Status.PAID)
        .exclude(claim_id__in=reversed_ids)
        .values_list("pk", "member_id", "ndc", "fill_date", "days_supply")
    )
    pharmacy = _frame(fills, {"fill_id": pl.Int64, "member_id": pl.Int64, "ndc": pl.String, "fill_date": pl.Date,
                              "days_supply": pl.Int64})  # fmt: skip
    return MeasureInputs(members, enrollment, claims, pharmacy, clinical, encounters)


@dataclass(frozen=True)
class QualityRates:
    year: int
    rates: pl.DataFrame
    """The engine's RATE_SCHEMA: measure, rate, eligible, excluded, denominator, numerator, rate_value."""
    members: int


def quality_rates(actor: Actor | None, *, year: int) -> QualityRates:
    """Every measure's rates for a measurement year, with the shipped definitions and the open starter value
    sets. Quality staff only (a practice user is refused: these are network-wide)."""
    if actor is not None:
        require(actor, Perm.VIEW_CLINICAL)
        if is_practice_scoped(actor):
            raise PermissionDenied("network-wide quality rates are for IPA staff")
    inputs = measure_inputs()
    results = evaluate(inputs, load_measures(year), starter_value_sets(year))
    return QualityRates(year=year, rates=results.rates, members=inputs.members.height)
