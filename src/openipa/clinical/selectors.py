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
