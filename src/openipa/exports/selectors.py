"""Reads for the Tuva export: the other apps' tables straight into Polars frames (``core.frames.query_frame``),
no model instances, filtered by payer and dates in SQL. Read-only; the mapping is ``engine.tuva``.

Member data is PHI: the export is IPA staff's alone (:func:`require_exporter`); the service records the read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from openipa.claims.models import Claim, ClaimLine, ClaimPaymentRun
from openipa.clinical.models import PharmacyFill
from openipa.contracts.models import Payer
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.frames import query_frame
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped
from openipa.membership.models import EligibilitySpan, PcpAssignment

CLAIM_BATCH = 20_000
"""Claims read, mapped and written per batch (their lines come with them): bounds the memory of a big export."""

FINAL_CLAIM_STATUSES = (Claim.Status.ADJUDICATED, Claim.Status.PAID)
"""Claims exported: decided ones. Received and pended claims are not final; a replaced or voided claim
(status reversed) and the void itself (frequency 8) are not either: Tuva wants final claims only."""


@dataclass(frozen=True)
class Filters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    payer_code: str | None = None


def require_exporter(actor: Actor | None) -> None:
    """The command line (no actor) or IPA staff who may read both members and claims; never a practice user."""
    if actor is None:
        return
    if is_practice_scoped(actor):
        raise PermissionDenied("a practice user may not export the IPA's member data")
    if not (has_perm(actor, Perm.VIEW_MEMBERS) and has_perm(actor, Perm.VIEW_CLAIMS)):
        raise PermissionDenied("the Tuva export needs the view_members and view_claims permissions")


def check_filters(filters: Filters) -> Payer | None:
    """The payer named (or None); refuses an unknown payer code and a --from after --to."""
    errors: dict[str, list[str]] = {}
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        errors["date_from"] = [f"--from {filters.date_from} is after --to {filters.date_to}."]
    payer = None
    if filters.payer_code is not None:
        payer = Payer.objects.filter(code=filters.payer_code).first()
        if payer is None:
            known = ", ".join(Payer.objects.order_by("code").values_list("code", flat=True)) or "none"
            errors["payer"] = [f"no payer with code {filters.payer_code!r} (known: {known})."]
    if errors:
        raise ValidationFailed(errors)
    return payer


def _text(path: str) -> Cast:
    return Cast(path, output_field=CharField())


def _overlapping(qs: QuerySet[EligibilitySpan], filters: Filters) -> QuerySet[EligibilitySpan]:
    if filters.date_to:
        qs = qs.filter(valid_from__lte=filters.date_to)
    if filters.date_from:
        qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=filters.date_from))
    return qs


def eligibility_spans(filters: Filters) -> pl.DataFrame:
    """Eligibility spans that overlap the dates, of the payer's members, with demographics and the roster file
    that last set each span."""
    qs = EligibilitySpan.objects.all()
    if filters.payer_code:
        qs = qs.filter(member__payer__code=filters.payer_code)
    qs = _overlapping(qs, filters).order_by("member_id", "valid_from", "id")
    return query_frame(
        qs,
        {
            "member_id": ("member_id", pl.Int64),
            "payer_member_id": ("member__payer_member_id", pl.String),
            "first_name": ("member__first_name", pl.String),
            "last_name": ("member__last_name", pl.String),
            "birth_date": ("member__date_of_birth", pl.Date),
            "death_date": ("member__date_of_death", pl.Date),
            "sex": ("member__sex", pl.String),
            "address": ("member__address_line1", pl.String),
            "city": ("member__city", pl.String),
            "state": ("member__state", pl.String),
            "zip_code": ("member__zip_code", pl.String),
            "phone": ("member__phone", pl.String),
            "orec": ("member__orec", pl.String),
            "dual_status": ("member__medicaid_dual_status", pl.String),
            "valid_from": ("valid_from", pl.Date),
            "valid_to": ("valid_to", pl.Date),
            "payer_name": ("product__payer__name", pl.String),
            "product_name": ("product__name", pl.String),
            "line_of_business": ("product__line_of_business", pl.String),
            "file_name": ("source_import__file_name", pl.String),
            "file_date": ("source_import__file_date", pl.Date),
            "ingested": (_text("source_import__created_at"), pl.String),
        },
    )


def coverage_spans(filters: Filters) -> pl.DataFrame:
    """Every eligibility span of the payer's members (any dates: a claim's plan is the span on its date),
    as the engine's ``spans`` columns it needs for coverage."""
    qs = EligibilitySpan.objects.all()
    if filters.payer_code:
        qs = qs.filter(member__payer__code=filters.payer_code)
    return query_frame(
        qs.order_by("member_id", "valid_from"),
        {
            "member_id": ("member_id", pl.Int64),
            "valid_from": ("valid_from", pl.Date),
            "valid_to": ("valid_to", pl.Date),
            "payer_name": ("product__payer__name", pl.String),
            "product_name": ("product__name", pl.String),
        },
    )


def pcp_spans(filters: Filters) -> pl.DataFrame:
    """PCP assignment spans (the payer's assignment from its roster) that overlap the dates."""
    qs = PcpAssignment.objects.all()
    if filters.payer_code:
        qs = qs.filter(member__payer__code=filters.payer_code)
    if filters.date_to:
        qs = qs.filter(valid_from__lte=filters.date_to)
    if filters.date_from:
        qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=filters.date_from))
    return query_frame(
        qs.order_by("member_id", "valid_from", "id"),
        {
            "member_id": ("member_id", pl.Int64),
            "valid_from": ("valid_from", pl.Date),
            "valid_to": ("valid_to", pl.Date),
            "npi": ("provider__npi", pl.String),
            "practice_name": ("practice__legal_name", pl.String),
        },
    )


def _final_claims(filters: Filters) -> QuerySet[Claim]:
    qs = Claim.objects.filter(status__in=FINAL_CLAIM_STATUSES, member__isnull=False).exclude(
        frequency=Claim.Frequency.VOID
    )
    if filters.payer_code:
        qs = qs.filter(member__payer__code=filters.payer_code)
    if filters.date_from:
        qs = qs.filter(service_from__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(service_from__lte=filters.date_to)
    return qs


def claim_counts(filters: Filters) -> tuple[int, int]:
    """(claims, lines) the export will write."""
    qs = _final_claims(filters)
    return qs.count(), ClaimLine.objects.filter(claim__in=qs).count()


def unlinked_claims(filters: Filters) -> int:
    """Final claims in the dates whose member is unknown (not exported: Tuva needs a person)."""
    qs = Claim.objects.filter(status__in=FINAL_CLAIM_STATUSES, member__isnull=True).exclude(
        frequency=Claim.Frequency.VOID
    )
    if filters.payer_code:
        return 0  # a claim without a member has no payer to match
    if filters.date_from:
        qs = qs.filter(service_from__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(service_from__lte=filters.date_to)
    return qs.count()


def paid_dates() -> pl.DataFrame:
    """Payment runs paid: (payment_run_id, paid_date). A line's paid date is its run's payment date."""
    return query_frame(
        ClaimPaymentRun.objects.filter(status=ClaimPaymentRun.Status.PAID),
        {"payment_run_id": ("id", pl.Int64), "paid_date": ("payment_date", pl.Date)},
    )


def claim_batches(
    filters: Filters, *, batch: int | None = None
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """(headers, lines) of the final claims, ``batch`` (default ``CLAIM_BATCH``) claims at a time in id order."""
    batch = batch or CLAIM_BATCH
    ids = query_frame(_final_claims(filters).order_by("id"), {"id": ("id", pl.Int64)})["id"]
    runs = paid_dates()
    for start in range(0, len(ids), batch):
        chunk = ids.slice(start, batch)
        low, high = int(chunk[0]), int(chunk[-1])
        claims = _final_claims(filters).filter(id__gte=low, id__lte=high)
        headers = (
            query_frame(
                claims.order_by("id"),
                {
                    "claim_pk": ("id", pl.Int64),
                    "kind": ("kind", pl.String),
                    "member_id": ("member_id", pl.Int64),
                    "payer_member_id": ("member__payer_member_id", pl.String),
                    "member_payer": ("member__payer__name", pl.String),
                    "claim_from": ("service_from", pl.Date),
                    "claim_to": ("service_to", pl.Date),
                    "place_of_service": ("place_of_service", pl.String),
                    "type_of_bill": ("type_of_bill", pl.String),
                    "rendering_npi": ("rendering_npi", pl.String),
                    "billing_npi": ("billing_npi", pl.String),
                    "billing_tin": ("billing_tin", pl.String),
                    "facility_npi": ("facility_npi", pl.String),
                    "diagnoses": (_text("diagnoses"), pl.String),
                    "billing_practice_id": ("billing_practice_id", pl.Int64),
                    "file_name": ("source__file_name", pl.String),
                    "file_date": ("source__received_on", pl.Date),
                    "ingested": (_text("source__created_at"), pl.String),
                },
            )
            .with_columns(pl.col("billing_practice_id").is_not_null().alias("in_network"))
            .drop("billing_practice_id")
        )
        lines = query_frame(
            ClaimLine.objects.filter(claim__in=claims).order_by("claim_id", "number"),
            {
                "claim_pk": ("claim_id", pl.Int64),
                "number": ("number", pl.Int64),
                "code": ("code", pl.String),
                "modifiers": ("modifiers", pl.String),
                "revenue_code": ("revenue_code", pl.String),
                "units": (_text("units"), pl.String),
                "charge_cents": ("charge_cents", pl.Int64),
                "allowed_cents": ("allowed_cents", pl.Int64),
                "cost_share_cents": ("cost_share_cents", pl.Int64),
                "paid_cents": ("paid_cents", pl.Int64),
                "line_from": ("service_from", pl.Date),
                "line_to": ("service_to", pl.Date),
                "place_of_service": ("place_of_service", pl.String),
                "rendering_npi": ("rendering_npi", pl.String),
                "payment_run_id": ("payment_run_id", pl.Int64),
            },
        )
        lines = lines.join(runs, on="payment_run_id", how="left").drop("payment_run_id")
        yield headers, lines


def pharmacy_fills(filters: Filters) -> pl.DataFrame:
    """Fills (paid and reversed) of known members dispensed in the dates, with the file each came in."""
    qs = PharmacyFill.objects.filter(member__isnull=False)
    if filters.payer_code:
        qs = qs.filter(member__payer__code=filters.payer_code)
    if filters.date_from:
        qs = qs.filter(fill_date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(fill_date__lte=filters.date_to)
    return query_frame(
        qs.order_by("id"),
        {
            "source_code": ("source__code", pl.String),
            "claim_id": ("claim_id", pl.String),
            "status": ("status", pl.String),
            "member_id": ("member_id", pl.Int64),
            "payer_member_id": ("member__payer_member_id", pl.String),
            "member_payer": ("member__payer__name", pl.String),
            "ndc": ("ndc", pl.String),
            "fill_date": ("fill_date", pl.Date),
            "days_supply": ("days_supply", pl.Int64),
            "quantity": (_text("quantity"), pl.String),
            "prescriber_npi": ("prescriber_npi", pl.String),
            "pharmacy_npi": ("pharmacy_npi", pl.String),
            "paid_cents": ("paid_cents", pl.Int64),
            "file_name": ("clinical_import__file_name", pl.String),
            "file_date": ("clinical_import__imported_at", pl.Date),
            "ingested": (_text("clinical_import__imported_at"), pl.String),
        },
    )
