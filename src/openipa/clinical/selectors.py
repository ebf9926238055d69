"""Reads of clinical data. Patients and their records are member data: scoped and audited where handed out
(the pages and exports that come with issue 8); the summaries here are counts."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from openipa.clinical.models import ClinicalSource


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
