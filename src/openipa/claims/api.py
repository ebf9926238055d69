"""Claims in the REST API: uploading an 837 (the same import as `openipa import-claims`) and reading one claim
with its lines and what was decided about each.

A claim is scoped like the pages: claims staff read every claim, a practice user only the claims its practice
billed (another practice's claim answers the 404 an unknown id gets); every claim read is recorded in the
audit log with the purpose "api". Uploading is for claims editors (operations, finance, the administrator).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from openipa.api.auth import actor
from openipa.api.schemas import ERRORS, ObjectId
from openipa.claims.selectors import claims as selectors
from openipa.claims.services.intake import import_claims, result_json
from openipa.core.errors import ValidationFailed
from openipa.membership.views.common import on_disk

PURPOSE = "api"

router = Router(tags=["claims"])


# ------------------------------------------------------------------------------------------ schemas


class ImportIssue(Schema):
    segment: int | None = Field(..., description="The segment's number in the file (0: the file as a whole).")
    segment_id: str | None
    element: int | None
    message: str


class ImportOut(Schema):
    """What `openipa import-claims --json` prints."""

    import_id: int
    status: str = Field(
        ..., description="applied, rejected (nothing applied) or duplicate (nothing changed)."
    )
    claims: int
    lines: int
    charge_cents: int
    unknown_members: int
    warnings: list[dict[str, Any]]
    errors: list[ImportIssue]


class FindingOut(Schema):
    rule: str
    outcome: str = ""
    carc: str = ""
    rarc: str = ""
    message: str = ""


class LineOut(Schema):
    number: int
    code: str
    modifiers: list[str]
    revenue_code: str
    units: str = Field(..., description="A decimal number, as text (exact).")
    charge_cents: int
    service_from: dt.date
    service_to: dt.date
    place_of_service: str
    diagnosis_codes: list[str]
    rendering_npi: str
    outcome: str = Field(..., description="new, paid, denied, pended or reversed.")
    responsible: str
    service_category: str
    allowed_cents: int | None
    cost_share_cents: int
    paid_cents: int
    carc: str
    rarc: str
    pend_reason: str
    findings: list[FindingOut]
    pricing: dict[str, Any]
    adjudicated_at: dt.datetime | None
    adjudication_run_id: int | None
    payment_run_id: int | None
    reversal_run_id: int | None


class DiagnosisOut(Schema):
    qualifier: str
    code: str


class ClaimOut(Schema):
    id: int
    kind: str
    patient_control_number: str
    frequency: str = Field(..., description="1 original, 7 replacement, 8 void.")
    original_id: int | None
    corrections: list[int] = Field(..., description="Replacements and voids of this claim.")
    status: str
    member_key: str
    member_id: int | None
    billing_npi: str
    billing_tin: str
    billing_name: str
    rendering_npi: str
    referring_npi: str
    place_of_service: str
    type_of_bill: str
    prior_authorization: str
    service_from: dt.date
    service_to: dt.date
    received_on: dt.date
    charge_cents: int
    allowed_cents: int
    cost_share_cents: int
    paid_cents: int
    diagnoses: list[DiagnosisOut]
    lines: list[LineOut]


def _finding(item: Any) -> dict[str, str]:
    item = item if isinstance(item, dict) else {"rule": str(item)}
    return {k: str(item.get(k) or "") for k in ("rule", "outcome", "carc", "rarc", "message")}


def _claim_out(detail: selectors.ClaimDetail) -> dict[str, Any]:
    c = detail.claim
    lines = []
    for view in detail.lines:
        line = view.line
        lines.append({
            "number": line.number, "code": line.code, "modifiers": [m for m in line.modifiers.split(",") if m],
            "revenue_code": line.revenue_code, "units": str(line.units), "charge_cents": line.charge_cents,
            "service_from": line.service_from, "service_to": line.service_to,
            "place_of_service": line.place_of_service, "diagnosis_codes": view.pointers,
            "rendering_npi": line.rendering_npi, "outcome": line.outcome, "responsible": line.responsible,
            "service_category": line.service_category, "allowed_cents": line.allowed_cents,
            "cost_share_cents": line.cost_share_cents, "paid_cents": line.paid_cents, "carc": line.carc,
            "rarc": line.rarc, "pend_reason": line.pend_reason,
            "findings": [_finding(f) for f in (line.findings or [])],
            "pricing": dict(line.pricing or {}), "adjudicated_at": line.adjudicated_at,
            "adjudication_run_id": line.adjudication_run_id, "payment_run_id": line.payment_run_id,
            "reversal_run_id": line.reversal_run_id,
        })  # fmt: skip
    return {
        "id": c.pk, "kind": c.kind, "patient_control_number": c.patient_control_number, "frequency": c.frequency,
        "original_id": c.original_id, "corrections": [x.pk for x in detail.corrections], "status": c.status,
        "member_key": c.member_key, "member_id": c.member_id, "billing_npi": c.billing_npi,
        "billing_tin": c.billing_tin, "billing_name": c.billing_name, "rendering_npi": c.rendering_npi,
        "referring_npi": c.referring_npi, "place_of_service": c.place_of_service, "type_of_bill": c.type_of_bill,
        "prior_authorization": c.prior_authorization, "service_from": c.service_from, "service_to": c.service_to,
        "received_on": c.received_on, "charge_cents": c.charge_cents, "allowed_cents": detail.allowed_cents,
        "cost_share_cents": detail.cost_share_cents, "paid_cents": detail.paid_cents,
        "diagnoses": [{"qualifier": str(q), "code": str(code)} for q, code in c.diagnoses],
        "lines": lines,
    }  # fmt: skip


# ------------------------------------------------------------------------------------------ endpoints


@router.post("/imports", response={200: ImportOut, 201: ImportOut, **ERRORS})
def import_claims_file(
    request: HttpRequest,
    file: File[UploadedFile],
    received_on: Form[dt.date | None] = None,
) -> Status[dict[str, Any]]:
    """Upload an 837P or 837I (multipart, field `file`; `received_on` YYYY-MM-DD, default today). Answers the
    import record as `openipa import-claims --json` prints it: 201 when applied; 200 when rejected (the file,
    its errors with their segment and element, and its 999 are kept; nothing was applied) or a duplicate
    (nothing changed). 403 for roles that do not import claims."""
    who = actor(request)
    if received_on is not None and received_on > timezone.localdate() + dt.timedelta(days=1):
        raise ValidationFailed.single("received_on", "claims cannot be received in the future")
    with on_disk(file, "claims") as (path, name):
        record = import_claims(
            actor=who, path=path, file_name=name, received_on=received_on, imported_by=who.username
        )
    return Status(201 if record.status == "applied" else 200, result_json(record))


@router.get("/{claim_id}", response={200: ClaimOut, **ERRORS})
def get_claim(request: HttpRequest, claim_id: ObjectId) -> dict[str, Any]:
    """One claim with its diagnoses and lines, each line's outcome, amounts, CARC/RARC, pend reason, the
    findings of every rule, the pricing and the runs that decided and paid it. Recorded as a read of the
    member. 404 for an unknown claim or one outside the caller's scope."""
    return _claim_out(selectors.claim_detail(actor(request), claim_id, purpose=PURPOSE))
