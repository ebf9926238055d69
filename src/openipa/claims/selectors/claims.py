"""Reads of claims, their lines, the 837 files they came in and the pend queue, scoped to the acting user.

Claims staff (VIEW_CLAIMS: operations, finance, the administrator, auditors) read every claim. A practice user
reads only the claims their practice billed: ``Claim.billing_practice`` is theirs, or the billing TIN is their
practice's TIN (intake does not resolve the practice, so the TIN is what usually matches). Another practice's
claim answers NotFound, exactly as an id that does not exist. The 837 files and the pend queue are staff's
alone: a file holds many practices' claims.

A claim is member-level data: every page of claims and every claim read is recorded in the audit log (the
members on the page, or the claim's member), with the caller's purpose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from openipa.claims.models import (
    AdjudicationRun,
    Claim,
    ClaimImport,
    ClaimLine,
    ClaimPaymentRun,
    LineInterest,
    PendOverride,
)
from openipa.core import audit
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.pagination import Page, paginate
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.credentialing import selectors as credentialing_selectors
from openipa.network import selectors as network_selectors

CLAIM_TYPE = "claims.claim"
IMPORT_TYPE = "claims.claimimport"
LINE_TYPE = "claims.claimline"


def can_read_claims(actor: Actor) -> bool:
    """Claims staff, or a practice user (who reads their own practice's claims only)."""
    return has_perm(actor, Perm.VIEW_CLAIMS) or (is_practice_scoped(actor) and actor.practice_id is not None)


def can_edit_claims(actor: Actor) -> bool:
    """May import 837 files and work the pend queue (never a practice user)."""
    return has_perm(actor, Perm.EDIT_CLAIMS) and not is_practice_scoped(actor)


def _require_staff(actor: Actor) -> None:
    """The 837 files and the pend queue: claims staff only."""
    require(actor, Perm.VIEW_CLAIMS)
    if is_practice_scoped(actor):
        raise PermissionDenied("claims files and the pend queue are not shown to practice users")


def claim_scope(actor: Actor) -> QuerySet[Claim]:
    """Every claim the actor may read (PermissionDenied for roles that read no claim)."""
    qs = Claim.objects.all()
    if is_practice_scoped(actor):
        practice_id = scoped_practice_id(actor)
        _code, tin = network_selectors.practice_codes_and_tins([practice_id]).get(practice_id, ("", ""))
        mine = Q(billing_practice_id=practice_id)
        if tin:
            mine |= Q(billing_tin=tin)
        return qs.filter(mine)
    require(actor, Perm.VIEW_CLAIMS)
    return qs


def claim_queryset(
    actor: Actor,
    *,
    status: str = "",
    received_from: dt.date | None = None,
    received_to: dt.date | None = None,
    payee: str = "",
    member_id: str = "",
) -> QuerySet[Claim]:
    """Claims in the actor's scope, newest received first. ``payee`` is a billing NPI (10 digits) or TIN (9);
    ``member_id`` the member id as sent on the claim or the member's payer id on file."""
    qs = claim_scope(actor)
    if status:
        qs = qs.filter(status=status)
    if received_from is not None:
        qs = qs.filter(received_on__gte=received_from)
    if received_to is not None:
        qs = qs.filter(received_on__lte=received_to)
    payee = payee.strip()
    if payee:
        qs = qs.filter(Q(billing_npi=payee) | Q(billing_tin=payee.replace("-", "")))
    member_id = member_id.strip()
    if member_id:
        qs = qs.filter(Q(member_key__iexact=member_id) | Q(member__payer_member_id__iexact=member_id))
    return qs.select_related("member").order_by("-received_on", "-id")


def claim_page(
    actor: Actor,
    *,
    page: int | str | None = 1,
    per_page: int | str | None = None,
    purpose: str,
    **filters: object,
) -> Page[Claim]:
    """One page of claims; the members on it are recorded as read."""
    result = paginate(claim_queryset(actor, **filters), page, per_page)  # type: ignore[arg-type]
    audit.record_read(
        actor,
        object_type=CLAIM_TYPE,
        action="list",
        member_ids=[c.member_id for c in result.items if c.member_id],
        purpose=purpose,
    )
    return result


def claim_get(actor: Actor, claim_id: int, *, purpose: str) -> Claim:
    """One claim, recorded as a read of its member. NotFound outside the actor's scope."""
    try:
        claim = claim_scope(actor).select_related("member", "source", "original").get(pk=claim_id)
    except Claim.DoesNotExist:
        raise NotFound(f"claim {claim_id}") from None
    audit.record_read(
        actor,
        object_type=CLAIM_TYPE,
        object_id=str(claim.pk),
        member_ids=[claim.member_id] if claim.member_id else [],
        purpose=purpose,
    )
    if not claim.member_id:
        # no member on file: still a read of a patient's claim (the name and birth date as sent)
        audit.record_access(
            actor, object_type=CLAIM_TYPE, action="view", purpose=purpose,
            details={"claim": claim.pk, "member_key": claim.member_key},
        )  # fmt: skip
    return claim


@dataclass(frozen=True)
class LineView:
    """One line of a claim with what was decided about it, and the runs that decided and paid it."""

    line: ClaimLine
    payment_run: ClaimPaymentRun | None
    reversal_run: ClaimPaymentRun | None
    interest: list[LineInterest]
    overrides: list[PendOverride]

    @property
    def pointers(self) -> list[str]:
        return [c for c in self.line.diagnosis_codes.split(",") if c]


@dataclass(frozen=True)
class ClaimDetail:
    claim: Claim
    lines: list[LineView]
    adjudication_runs: list[AdjudicationRun]
    corrections: list[Claim]
    """Replacements and voids of this claim (in the actor's scope)."""
    can_see_source: bool
    """The 837 file's record is staff's: a practice user sees the claim, not the whole file."""

    @property
    def allowed_cents(self) -> int:
        return sum(v.line.allowed_cents or 0 for v in self.lines)

    @property
    def cost_share_cents(self) -> int:
        return sum(v.line.cost_share_cents for v in self.lines)

    @property
    def paid_cents(self) -> int:
        return sum(v.line.paid_cents for v in self.lines)


def claim_detail(actor: Actor, claim_id: int, *, purpose: str) -> ClaimDetail:
    """A claim with its lines, each line's decision, findings, pricing, the run that paid it (and the run that
    reversed that payment), interest, examiner decisions, and the claim's corrections. Audited as a read."""
    claim = claim_get(actor, claim_id, purpose=purpose)
    lines = list(ClaimLine.objects.filter(claim=claim).order_by("number"))
    run_ids = {x for line in lines for x in (line.payment_run_id, line.reversal_run_id) if x}
    runs = {r.pk: r for r in ClaimPaymentRun.objects.filter(pk__in=run_ids)}
    interest: dict[int, list[LineInterest]] = {}
    for item in LineInterest.objects.filter(line__in=lines).select_related("rule").order_by("pk"):
        interest.setdefault(item.line_id, []).append(item)
    overrides: dict[int, list[PendOverride]] = {}
    for override in PendOverride.objects.filter(line__in=lines).order_by("decided_at", "pk"):
        overrides.setdefault(override.line_id, []).append(override)
    adjudications = sorted({line.adjudication_run_id for line in lines if line.adjudication_run_id})
    views = [
        LineView(
            line=line,
            payment_run=runs.get(line.payment_run_id) if line.payment_run_id else None,
            reversal_run=runs.get(line.reversal_run_id) if line.reversal_run_id else None,
            interest=interest.get(line.pk, []),
            overrides=overrides.get(line.pk, []),
        )
        for line in lines
    ]
    return ClaimDetail(
        claim=claim,
        lines=views,
        adjudication_runs=list(AdjudicationRun.objects.filter(pk__in=adjudications).order_by("pk")),
        corrections=list(claim_scope(actor).filter(original=claim).order_by("pk")),
        can_see_source=has_perm(actor, Perm.VIEW_CLAIMS) and not is_practice_scoped(actor),
    )


def claim_statuses() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in Claim.Status.choices]


# ------------------------------------------------------------------------------------------ 837 files


def import_list(actor: Actor, *, status: str = "", q: str = "") -> QuerySet[ClaimImport]:
    """The 837 files received, newest first (counts, no members). Staff only."""
    _require_staff(actor)
    qs = ClaimImport.objects.all()
    if status:
        qs = qs.filter(status=status)
    q = q.strip()
    if q:
        qs = qs.filter(Q(file_name__icontains=q) | Q(sha256__iexact=q) | Q(imported_by__iexact=q))
    return qs.order_by("-created_at", "-id")


def import_get(actor: Actor, import_id: int) -> ClaimImport:
    try:
        return import_list(actor).select_related("duplicate_of").get(pk=import_id)
    except ClaimImport.DoesNotExist:
        raise NotFound(f"claims import {import_id}") from None


def import_file(actor: Actor, record: ClaimImport, *, purpose: str) -> Path:
    """The 837 as received, for download: recorded as an access and as a read of the members it names."""
    _require_staff(actor)
    root = (Path(settings.VAR_DIR) / "imports" / "claims").resolve()
    path = (Path(settings.VAR_DIR) / record.stored_path).resolve()
    if not record.stored_path or not path.is_relative_to(root) or not path.is_file():
        raise NotFound(f"the file of claims import {record.pk}")
    audit.record_access(
        actor, object_type=IMPORT_TYPE, action="download", purpose=purpose,
        details={"import": record.pk, "file_name": record.file_name, "sha256": record.sha256},
    )  # fmt: skip
    source = record.duplicate_of_id or record.pk
    audit.record_read(
        actor,
        object_type=IMPORT_TYPE,
        object_id=str(record.pk),
        action="download",
        member_ids=Claim.objects.filter(source_id=source, member__isnull=False)
        .values_list("member_id", flat=True)
        .distinct(),
        purpose=purpose,
    )
    return path


# ------------------------------------------------------------------------------------------ pend queue


@dataclass(frozen=True)
class PendedLine:
    line: ClaimLine
    age_days: int
    """Days since the claim was received."""


def pend_queue(
    actor: Actor,
    *,
    page: int | str | None = 1,
    per_page: int | str | None = None,
    purpose: str,
    today: dt.date | None = None,
) -> Page[PendedLine]:
    """Pended lines, oldest received first (then claim and line), with their age in days; the members on the
    page are recorded as read. Staff only."""
    _require_staff(actor)
    qs = (
        ClaimLine.objects.filter(outcome=ClaimLine.Outcome.PENDED)
        .select_related("claim", "claim__member")
        .order_by("claim__received_on", "claim_id", "number")
    )
    result = paginate(qs, page, per_page)
    on = today or timezone.localdate()
    audit.record_read(
        actor,
        object_type=LINE_TYPE,
        action="pend_queue",
        member_ids=[x.claim.member_id for x in result.items if x.claim.member_id],
        purpose=purpose,
    )
    return Page(
        items=[PendedLine(x, (on - x.claim.received_on).days) for x in result.items],
        number=result.number,
        per_page=result.per_page,
        total=result.total,
    )


def pended_line_get(actor: Actor, line_id: int) -> ClaimLine:
    """A line for an examiner's decision (any outcome: the service refuses lines no longer pended)."""
    _require_staff(actor)
    try:
        return ClaimLine.objects.select_related("claim").get(pk=line_id)
    except ClaimLine.DoesNotExist:
        raise NotFound(f"claim line {line_id}") from None


AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-15", 0, 15),
    ("16-30", 16, 30),
    ("31-45", 31, 45),
    ("46-60", 46, 60),
    ("over 60", 61, None),
)
"""Days since received: California's 45 working days make 31-45 calendar days the bucket to watch."""


def pend_aging(actor: Actor, *, today: dt.date | None = None) -> list[tuple[str, int]]:
    """Every pended line counted by its age bucket (counts only, no members). Staff only."""
    _require_staff(actor)
    on = today or timezone.localdate()
    counts = dict.fromkeys((label for label, _low, _high in AGE_BUCKETS), 0)
    rows = (
        ClaimLine.objects.filter(outcome=ClaimLine.Outcome.PENDED)
        .values("claim__received_on")
        .annotate(n=Count("id"))
        .values_list("claim__received_on", "n")
    )
    for received, n in rows:
        age = (on - received).days
        for label, low, high in AGE_BUCKETS:
            if age >= low and (high is None or age <= high):
                counts[label] += n
                break
        else:  # received after today (a future received date): the youngest bucket
            counts[AGE_BUCKETS[0][0]] += n
    return list(counts.items())


def provider_status_frame(
    npis: Iterable[str], tins: Iterable[tuple[str, str]], on: dt.date, *, credentialed_on: dt.date
) -> pl.DataFrame:
    """For adjudication: the network's status of each NPI on ``on`` (kind, contracted; see
    ``network.selectors.provider_status_frame``) with what credentialing knows on ``credentialed_on`` (the day
    of adjudication): credentialed (null where credentialing has no file for the NPI, e.g. a facility) and any
    confirmed exclusion with its first day (the engine denies services from that day). NPIs only credentialing
    knows are added, not contracted."""
    wanted = set(npis)
    network = network_selectors.provider_status_frame(wanted, tins, on)
    known = credentialing_selectors.claims_provider_status(wanted, credentialed_on)
    merged = network.join(known, on="npi", how="full", coalesce=True, suffix="_credentialing")
    return merged.select(
        "npi",
        pl.col("kind").fill_null(""),
        pl.col("contracted").fill_null(False),
        pl.coalesce("credentialed_credentialing", "credentialed").alias("credentialed"),
        (pl.col("excluded").fill_null(False) | pl.col("excluded_credentialing").fill_null(False)).alias(
            "excluded"
        ),
        pl.coalesce("excluded_from_credentialing", "excluded_from").alias("excluded_from"),
    )


# -- risk adjustment (openipa.risk) -------------------------------------------------------------------------

RISK_DIAGNOSIS_QUALIFIERS = ("ABK", "ABF", "BK", "BF")
"""ICD-10-CM principal and other diagnoses (HI qualifiers); admitting (ABJ), patient's reason for visit (APR) and
external cause (ABN) codes are not risk-adjustment diagnoses."""

RISK_DIAGNOSIS_SCHEMA: dict[str, type[pl.DataType]] = {
    "member_id": pl.Int64, "diagnosis_code": pl.String, "service_date": pl.Date, "claim_line_id": pl.Int64,
}  # fmt: skip


def risk_diagnoses_frame(
    *, first: dt.date, last: dt.date, line_counts: Callable[[bool, str, str, str], bool] | None = None
) -> pl.DataFrame:
    """The principal and other diagnoses of claims with a service line from ``first`` through ``last``
    (RISK_DIAGNOSIS_SCHEMA, code upper case without the dot): one row per member and code, its earliest service
    date and that claim's first line in the window that counts. ``line_counts(institutional, type_of_bill,
    procedure_code, modifiers)`` says whether a line makes its claim's diagnoses count (the risk app's encounter
    filter); without it every line does. Void claims, reversed (replaced or voided) claims and reversed lines are
    left out. A lookup for a risk-scoring batch (its caller checks the permission and records what it hands
    out), so it takes no actor."""
    return _first_per_code(risk_claim_diagnoses(first=first, last=last, line_counts=line_counts))


def _first_per_code(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(["member_id", "diagnosis_code", "service_date", "claim_line_id"]).unique(
        ["member_id", "diagnosis_code"], keep="first", maintain_order=True
    )


def risk_diagnoses_and_encounter_days(
    *, first: dt.date, last: dt.date, line_counts: Callable[[bool, str, str, str], bool] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`risk_diagnoses_frame`, and the days of the members' counting encounters (member_id,
    service_date: the date of each counting claim's first counting line), from one pass over the lines: what
    record-review diagnoses are linked to."""
    every = risk_claim_diagnoses(first=first, last=last, line_counts=line_counts)
    days = every.select("member_id", "service_date").unique().sort(["member_id", "service_date"])
    return _first_per_code(every), days


def risk_claim_diagnoses(
    *, first: dt.date, last: dt.date, line_counts: Callable[[bool, str, str, str], bool] | None = None
) -> pl.DataFrame:
    """Every counting claim's diagnoses (RISK_DIAGNOSIS_SCHEMA), dated by the claim's first counting line in the
    window, before keeping the earliest per code (:func:`risk_diagnoses_frame` says which lines count)."""
    lines = (
        ClaimLine.objects.filter(claim__member__isnull=False, service_from__gte=first, service_from__lte=last)
        .exclude(claim__status=Claim.Status.REVERSED)
        .exclude(claim__frequency=Claim.Frequency.VOID)
        .exclude(outcome=ClaimLine.Outcome.REVERSED)
        .order_by("claim_id", "service_from", "pk")
        .values_list("pk", "claim_id", "claim__member_id", "service_from", "claim__diagnoses", "claim__kind",
                     "claim__type_of_bill", "code", "modifiers")
    )  # fmt: skip
    rows: list[tuple[int, str, dt.date, int]] = []
    seen: set[int] = set()
    institutional_kind = Claim.Kind.INSTITUTIONAL
    for line_id, claim_id, member_id, day, diagnoses, kind, bill_type, code, modifiers in lines.iterator(
        chunk_size=20_000
    ):
        if claim_id in seen:
            continue
        if line_counts is not None and not line_counts(
            kind == institutional_kind, bill_type or "", code or "", modifiers or ""
        ):
            continue
        seen.add(claim_id)
        for pair in diagnoses or ():
            if len(pair) == 2 and str(pair[0]).upper() in RISK_DIAGNOSIS_QUALIFIERS and pair[1]:
                code = str(pair[1]).replace(".", "").strip().upper()
                rows.append((member_id, code, day, line_id))
    return pl.DataFrame(rows, schema=RISK_DIAGNOSIS_SCHEMA, orient="row")
