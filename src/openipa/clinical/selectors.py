"""Reads of clinical data. Patients and their records are member data: scoped and audited where handed out
(the pages and exports that come with issue 8); the summaries here are counts."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from openipa.clinical.models import ClinicalImport, ClinicalSource, SourcePatient
from openipa.core import audit
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require


def source_summary() -> list[dict[str, Any]]:
    """Each source with its file count and its patients by match state (counts only: the operator's list)."""
    rows = ClinicalSource.objects.annotate(
        n_imports=Count("imports", distinct=True),
        n_linked=Count("patients", filter=Q(patients__match="linked"), distinct=True),
        n_review=Count("patients", filter=Q(patients__match="review"), distinct=True),
        n_unmatched=Count("patients", filter=Q(patients__match="unmatched"), distinct=True),
    ).order_by("code")
    return [
        {"code": s.code, "name": s.name, "kind": s.kind, "format": s.default_format, "active": s.active,
         "accepted_for_risk": s.accepted_for_risk, "imports": s.n_imports, "linked": s.n_linked,
         "review": s.n_review, "unmatched": s.n_unmatched}
        for s in rows
    ]  # fmt: skip


def _require_staff(actor: Actor) -> None:
    require(actor, Perm.VIEW_CLINICAL)
    if is_practice_scoped(actor):
        raise PermissionDenied("clinical data intake is for IPA staff")


def can_edit(actor: Actor) -> bool:
    return has_perm(actor, Perm.EDIT_CLINICAL) and not is_practice_scoped(actor)


def sources(actor: Actor) -> QuerySet[ClinicalSource]:
    _require_staff(actor)
    return ClinicalSource.objects.filter(active=True).order_by("code")


def recent_imports(actor: Actor, limit: int = 25) -> list[ClinicalImport]:
    """The latest files (counts only: no member data)."""
    _require_staff(actor)
    return list(ClinicalImport.objects.select_related("source").order_by("-imported_at", "-pk")[:limit])


def import_get(actor: Actor, import_id: int) -> ClinicalImport:
    _require_staff(actor)
    try:
        return ClinicalImport.objects.select_related("source").get(pk=import_id)
    except ClinicalImport.DoesNotExist:
        raise NotFound(f"no clinical import {import_id}") from None


def review_count(actor: Actor) -> int:
    _require_staff(actor)
    return SourcePatient.objects.filter(match=SourcePatient.Match.REVIEW).count()


def review_queue(actor: Actor, *, limit: int = 50) -> list[SourcePatient]:
    """The patients waiting for a matching decision, oldest import first, with their candidates. Member data:
    the candidates' member ids are recorded as read."""
    _require_staff(actor)
    patients = list(
        SourcePatient.objects.filter(match=SourcePatient.Match.REVIEW)
        .select_related("source", "last_import")
        .order_by("last_import__imported_at", "pk")[:limit]
    )
    member_ids = {
        int(c["member_id"]) for p in patients for c in p.candidates if c.get("member_id") is not None
    }
    member_ids |= {p.member_id for p in patients if p.member_id is not None}
    audit.record_read(actor, object_type="clinical.sourcepatient", member_ids=member_ids,
                      purpose="patient matching review")  # fmt: skip
    return patients


def review_patient(actor: Actor, patient_id: int) -> SourcePatient:
    _require_staff(actor)
    try:
        return SourcePatient.objects.select_related("source").get(pk=patient_id)
    except SourcePatient.DoesNotExist:
        raise NotFound(f"no patient {patient_id}") from None


# -- risk adjustment (openipa.risk): batch lookups, no actor (the risk services check the permission and record
# what they hand out) ----------------------------------------------------------------------------------------

import datetime as dt  # noqa: E402

import polars as pl  # noqa: E402

from openipa.clinical.models import ClinicalRecord, PharmacyFill  # noqa: E402

RISK_CONDITION_SCHEMA: dict[str, type[pl.DataType]] = {
    "member_id": pl.Int64, "diagnosis_code": pl.String, "service_date": pl.Date, "clinical_record_id": pl.Int64,
}  # fmt: skip


def risk_conditions_frame(*, first: dt.date, last: dt.date) -> pl.DataFrame:
    """ICD-10-CM conditions (encounter diagnoses and problem-list entries) of linked members dated ``first``
    through ``last``, from sources accepted for risk adjustment only (``ClinicalSource.accepted_for_risk``):
    RISK_CONDITION_SCHEMA, one row per member and code with its earliest date and that record. A record counts
    with its primary code or any ICD-10-CM coding it carries; entered-in-error records are left out."""
    records = (
        ClinicalRecord.objects.filter(
            kind="condition",
            member__isnull=False,
            date__gte=first,
            date__lte=last,
            source__accepted_for_risk=True,
        )
        .exclude(status="entered-in-error")
        .values_list("pk", "member_id", "date", "code_system", "code", "codes")
    )
    rows: list[tuple[int, str, dt.date | None, int]] = []
    for pk, member_id, day, system, code, codes in records.iterator(chunk_size=20_000):
        found = {code} if system == "ICD10CM" and code else set()
        found.update(str(c[1]) for c in codes or () if len(c) == 2 and c[0] == "ICD10CM" and c[1])
        rows.extend((member_id, c.replace(".", "").strip().upper(), day, pk) for c in sorted(found))
    frame = pl.DataFrame(rows, schema=RISK_CONDITION_SCHEMA, orient="row")
    return frame.sort(["member_id", "diagnosis_code", "service_date", "clinical_record_id"]).unique(
        ["member_id", "diagnosis_code"], keep="first", maintain_order=True
    )


def risk_lab_results_frame(*, first: dt.date, last: dt.date, loinc_codes: list[str]) -> pl.DataFrame:
    """Observations of linked members with one of ``loinc_codes`` dated ``first`` through ``last`` and a numeric
    value (clinical_record_id, member_id, code, value, unit, comparator, observed_date), for suspecting
    conditions from lab values and vitals."""
    records = ClinicalRecord.objects.filter(
        kind="observation", member__isnull=False, code_system="LOINC", code__in=loinc_codes,
        date__gte=first, date__lte=last, value__isnull=False,
    ).exclude(status__in=["entered-in-error", "cancelled"])  # fmt: skip
    rows = (
        (pk, member, code, None if value is None else float(value), unit, comparator, day)
        for pk, member, code, value, unit, comparator, day in records.values_list(
            "pk", "member_id", "code", "value", "unit", "comparator", "date"
        ).iterator(chunk_size=20_000)
    )
    return pl.DataFrame(
        list(rows),
        schema={"clinical_record_id": pl.Int64, "member_id": pl.Int64, "code": pl.String, "value": pl.Float64,
                "unit": pl.String, "comparator": pl.String, "observed_date": pl.Date},
        orient="row",
    )  # fmt: skip


def risk_fills_frame(*, first: dt.date, last: dt.date) -> pl.DataFrame:
    """Paid pharmacy fills not reversed of linked members, filled ``first`` through ``last`` (fill_id,
    member_id, ndc, drug_name, fill_date), for suspecting conditions from medications."""
    reversed_ids = PharmacyFill.objects.filter(status=PharmacyFill.Status.REVERSED).values("claim_id")
    fills = (
        PharmacyFill.objects.filter(
            member__isnull=False, status=PharmacyFill.Status.PAID, fill_date__gte=first, fill_date__lte=last
        )
        .exclude(claim_id__in=reversed_ids)
        .values_list("pk", "member_id", "ndc", "drug_name", "fill_date")
    )
    return pl.DataFrame(
        list(fills.iterator(chunk_size=20_000)),
        schema={"fill_id": pl.Int64, "member_id": pl.Int64, "ndc": pl.String, "drug_name": pl.String,
                "fill_date": pl.Date},
        orient="row",
    )  # fmt: skip
