"""Reads of the savings app: what a snapshot or a forecast reads from the other apps (read-only, in batch,
written to the audit log as one access), and the scoped reads behind the pages.

Attribution: a member counts in a month when covered by the contract's payer on the 1st of the month (in a
product of the term's line of business, when it names one) and assigned to a PCP at a practice (the
assignment covering most of the month, as capitation attributes). One such month is one member-month, and
the member's cost in that month is attributed to that practice.

Costs: claim lines with a date of service (``service_from``) in an attributed month of the member, paid by
a claims payment run that is paid and dated on or before the cut-off; a reversal remitted by then counts
negated. Completion (IBNR): with the terms' ``ibnr_completion``, the latest approved IBNR estimate as of the
cut-off month or before gives a completion factor per lag (months from the incurred month to the cut-off
month): a month whose factor is at or above the estimate's threshold is completed (paid / factor, to the
cent, per practice); a month below it is immature and costed at the run-rate PMPM of the mature months times
its member-months (as the IBNR engine's PMPM method does).

Quality: the named quality run's member results for the payer's members (denominator, not excluded): the
numerator counts as met for a normal rate, not being in it for an inverse rate (lower is better). The quality
score is the pooled rate: met / denominators, in percent.

Risk: the named risk run's member scores (``raf_milli``), averaged over the attributed members it scored.
Revenue: what the payer paid (capitation received lines) for the attributed member-months.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import QuerySet

from openipa.capitation.models import ReceivedLine
from openipa.claims.models import ClaimLine, ClaimPaymentRun, IbnrEstimate
from openipa.contracts.models import Contract, Product
from openipa.core import audit
from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.frames import query_frame
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped, require, scoped_practice_id
from openipa.membership.selectors import month_roster
from openipa.quality.models import MeasureResult, QualityRun, RateResult
from openipa.risk.models import MemberScore, RiskRun
from openipa.savings.models import (
    DistributionFormula,
    Forecast,
    PracticeShare,
    SavingsTerm,
    SettlementRun,
    Snapshot,
)

MICRO = 1_000_000
PURPOSE = "shared savings: attribution, costs, quality and risk"
ATTRIBUTION_SCHEMA = {"member_id": pl.Int64, "month": pl.Date, "practice_id": pl.Int64}


@dataclass(frozen=True)
class Gathered:
    """What the snapshot and the forecast read, member by member, before it is frozen."""

    attribution: pl.DataFrame  # member_id, month, practice_id
    costs: pl.DataFrame  # member_id, month, paid_cents (attributed months only)
    quality: pl.DataFrame  # member_id, quality_numerator, quality_denominator
    raf: pl.DataFrame  # member_id, raf_milli
    revenue_cents: int
    completion: dict[dt.date, int]  # month -> completion factor in millionths
    threshold_micro: int
    notes: tuple[str, ...]


def _months(first: Month, last: Month) -> list[Month]:
    return list(Month.range(first, last))


def attribution_frame(actor: Actor | None, term: SavingsTerm, first: Month, last: Month) -> pl.DataFrame:
    """One row per attributed member-month: member, month (first day) and practice."""
    contract = term.contract
    products: set[int] | None = None
    if term.line_of_business:
        products = set(
            Product.objects.filter(
                payer_id=contract.payer_id, line_of_business=term.line_of_business
            ).values_list("pk", flat=True)
        )
    parts = []
    for month in _months(first, last):
        roster = month_roster(actor, payer_id=contract.payer_id, month=month, purpose=PURPOSE)
        kept = roster.filter((pl.col("first_covered_day") == 1) & pl.col("practice_id").is_not_null())
        if products is not None:
            kept = kept.filter(pl.col("product_id").is_in(list(products)))
        parts.append(
            kept.select(
                "member_id",
                pl.lit(month.first_day, dtype=pl.Date).alias("month"),
                pl.col("practice_id").cast(pl.Int64),
            )
        )
    if not parts:
        return pl.DataFrame(schema=ATTRIBUTION_SCHEMA)
    return pl.concat(parts).cast(ATTRIBUTION_SCHEMA).sort("member_id", "month")  # type: ignore[arg-type]


def paid_frame(payer_id: int, first: Month, last: Month, cutoff: dt.date) -> pl.DataFrame:
    """Member, incurred month and cents of every payment (reversal negative) paid by the cut-off."""
    runs = list(
        ClaimPaymentRun.objects.filter(
            status=ClaimPaymentRun.Status.PAID, payment_date__lte=cutoff
        ).values_list("pk", flat=True)
    )
    schema = {"member_id": pl.Int64, "month": pl.Date, "paid_cents": pl.Int64}
    if not runs:
        return pl.DataFrame(schema=schema)
    window = ClaimLine.objects.filter(
        service_from__gte=first.first_day, service_from__lte=last.last_day, claim__member__payer_id=payer_id
    ).exclude(paid_cents=0)
    columns: Any = {
        "member_id": ("claim__member_id", pl.Int64),
        "incurred": ("service_from", pl.Date),
        "paid_cents": ("paid_cents", pl.Int64),
    }
    parts = []
    for field, sign in (("payment_run_id", 1), ("reversal_run_id", -1)):
        rows = query_frame(window.filter(**{f"{field}__in": runs}), columns)
        parts.append(rows.with_columns(pl.col("paid_cents") * sign))
    lines = pl.concat(parts).drop_nulls("member_id")
    return (
        lines.with_columns(pl.col("incurred").dt.truncate("1mo").alias("month"))
        .group_by("member_id", "month")
        .agg(pl.col("paid_cents").sum())
        .select(*schema)
        .cast(schema)  # type: ignore[arg-type]
    )


def quality_frame(run: QualityRun | None, payer_id: int) -> pl.DataFrame:
    """Per member of the payer: measure-rate denominators and how many of them were met."""
    schema = {"member_id": pl.Int64, "quality_numerator": pl.Int64, "quality_denominator": pl.Int64}
    if run is None:
        return pl.DataFrame(schema=schema)
    inverse = {
        (m, r) for m, r in RateResult.objects.filter(run=run, inverse=True).values_list("measure", "rate")
    }
    rows = query_frame(
        MeasureResult.objects.filter(run=run, payer_id=payer_id, denominator=True, excluded=False),
        {"member_id": ("member_id", pl.Int64), "measure": ("measure", pl.String), "rate": ("rate", pl.String),
         "numerator": ("numerator", pl.Boolean)},
    )  # fmt: skip
    inverse_frame = pl.DataFrame(
        {
            "measure": [m for m, _ in inverse],
            "rate": [r for _, r in inverse],
            "inverse": [True] * len(inverse),
        },
        schema={"measure": pl.String, "rate": pl.String, "inverse": pl.Boolean},
    )
    return (
        rows.join(inverse_frame, on=["measure", "rate"], how="left")
        .with_columns((pl.col("numerator") != pl.col("inverse").fill_null(False)).alias("met"))
        .group_by("member_id")
        .agg(pl.col("met").sum().alias("quality_numerator"), pl.len().alias("quality_denominator"))
        .cast(schema)  # type: ignore[arg-type]
    )


def raf_frame(run: RiskRun | None) -> pl.DataFrame:
    schema = {"member_id": pl.Int64, "raf_milli": pl.Int64}
    if run is None:
        return pl.DataFrame(schema=schema)
    return query_frame(
        MemberScore.objects.filter(run=run),
        {"member_id": ("member_id", pl.Int64), "raf_milli": ("raf_milli", pl.Int64)},
    )


def revenue_cents(payer_id: int, attribution: pl.DataFrame) -> int:
    """What the payer paid (received lines of any kind) for the attributed member-months."""
    if attribution.height == 0:
        return 0
    first = attribution["month"].min()
    last = attribution["month"].max()
    received = query_frame(
        ReceivedLine.objects.filter(payer_id=payer_id, month__gte=first, month__lte=last, member_id__isnull=False),
        {"member_id": ("member_id", pl.Int64), "month": ("month", pl.Date), "amount_cents": ("amount_cents", pl.Int64)},
    )  # fmt: skip
    joined = received.join(attribution.select("member_id", "month"), on=["member_id", "month"], how="semi")
    return int(joined["amount_cents"].sum() or 0)


def latest_ibnr(cutoff: dt.date) -> IbnrEstimate | None:
    """The latest approved IBNR estimate as of the cut-off's month or before."""
    return (
        IbnrEstimate.objects.filter(
            status=IbnrEstimate.Status.APPROVED, as_of__lte=Month.of(cutoff).first_day
        )
        .order_by("-as_of", "-id")
        .first()
    )


def completion_by_lag(estimate: IbnrEstimate, line_of_business: str) -> dict[int, int]:
    """Lag -> completion factor (millionths) of the estimate: its ungrouped factors, or those of the line of
    business when grouped by it alone. Raise ValidationFailed when the estimate is grouped otherwise."""
    keys = list(estimate.group_by or [])
    rows = list(estimate.factors or [])
    if keys == ["line_of_business"]:
        if not line_of_business:
            raise NotFound(
                f"IBNR estimate {estimate.pk} is grouped by line of business: name one on the terms"
            )
        rows = [r for r in rows if r.get("line_of_business") == line_of_business]
    elif keys:
        raise ValidationFailed.single(
            "ibnr_estimate",
            f"IBNR estimate {estimate.pk} is grouped by {', '.join(keys)}: settle with an estimate that is not "
            "grouped, or grouped by line of business alone",
        )
    return {int(r["lag"]): int(r["completion_micro"]) for r in rows}


def gather(
    actor: Actor | None,
    term: SavingsTerm,
    *,
    first: Month,
    last: Month,
    cutoff: dt.date,
    quality_run: QualityRun | None,
    risk_run: RiskRun | None,
    ibnr_estimate: IbnrEstimate | None,
) -> Gathered:
    """Read everything a snapshot (or forecast) of ``term`` over ``first``..``last`` at ``cutoff`` needs."""
    payer_id = term.contract.payer_id
    attribution = attribution_frame(actor, term, first, last)
    paid = paid_frame(payer_id, first, last, cutoff)
    costs = attribution.join(paid, on=["member_id", "month"], how="inner").select(
        "member_id", "month", "paid_cents"
    )
    notes: list[str] = []
    completion: dict[dt.date, int] = {}
    threshold_micro = 0
    if term.ibnr_completion and ibnr_estimate is not None:
        by_lag = completion_by_lag(ibnr_estimate, term.line_of_business)
        threshold_micro = int(ibnr_estimate.threshold * MICRO)
        cut = Month.of(cutoff)
        for month in _months(first, last):
            lag = cut.index - month.index
            completion[month.first_day] = by_lag.get(lag, MICRO) if lag >= 0 else 0
        notes.append(f"completed with IBNR estimate {ibnr_estimate.pk} (as of {ibnr_estimate.as_of:%Y-%m})")
    elif term.ibnr_completion:
        notes.append("no approved IBNR estimate as of the cut-off: paid claims only, not completed")
    attributed = attribution.select("member_id").unique()
    quality = quality_frame(quality_run, payer_id).join(attributed, on="member_id", how="semi")
    raf = raf_frame(risk_run).join(attributed, on="member_id", how="semi")
    if quality_run is None:
        notes.append("no quality run named: no quality score")
    audit.record_access(
        actor,
        object_type="savings.snapshot",
        action="batch_read",
        purpose=PURPOSE,
        details={"term": term.pk, "first": str(first), "last": str(last), "cutoff": str(cutoff),
                 "members": attributed.height},
    )  # fmt: skip
    return Gathered(
        attribution=attribution,
        costs=costs,
        quality=quality,
        raf=raf,
        revenue_cents=revenue_cents(payer_id, attribution) if term.benchmark_basis == "target_mlr" else 0,
        completion=completion,
        threshold_micro=threshold_micro,
        notes=tuple(notes),
    )


def content_hash(frames: Sequence[pl.DataFrame]) -> str:
    """SHA-256 of the frames written as CSV, in a fixed order: the fingerprint of the member-level input."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(frame.sort(frame.columns).write_csv().encode())
    return digest.hexdigest()


# -- pages --------------------------------------------------------------------------------------------


def _staff_finance(actor: Actor) -> None:
    require(actor, Perm.VIEW_FINANCE)


def can_view_statements(actor: Actor) -> bool:
    return has_perm(actor, Perm.VIEW_FINANCE) or (is_practice_scoped(actor) and actor.practice_id is not None)


def term_list(actor: Actor) -> QuerySet[SavingsTerm]:
    _staff_finance(actor)
    return SavingsTerm.objects.select_related("contract", "contract__payer").order_by(
        "contract__number", "-valid_from", "-version"
    )


def term_get(actor: Actor, pk: int) -> SavingsTerm:
    _staff_finance(actor)
    try:
        return SavingsTerm.objects.select_related("contract", "contract__payer").get(pk=pk)
    except SavingsTerm.DoesNotExist:
        raise NotFound(f"no savings term {pk}") from None


def formula_list(actor: Actor) -> QuerySet[DistributionFormula]:
    _staff_finance(actor)
    return DistributionFormula.objects.all()


def version_ending_before(
    version: SavingsTerm | DistributionFormula,
) -> SavingsTerm | DistributionFormula | None:
    """The version of the same contract's terms (or of the same formula) that ends the day before ``version``
    starts, if any: after ``end_previous``, the version that was ended (versions never overlap)."""
    day_before = version.valid_from - dt.timedelta(days=1)
    if isinstance(version, SavingsTerm):
        return SavingsTerm.objects.filter(contract_id=version.contract_id, valid_to=day_before).first()
    return DistributionFormula.objects.filter(name=version.name, valid_to=day_before).first()


def contract_by_number(number: str) -> Contract:
    try:
        return Contract.objects.select_related("payer").get(number=number)
    except Contract.DoesNotExist:
        raise NotFound(f"no contract numbered {number!r}") from None


def run_list(actor: Actor) -> QuerySet[SettlementRun]:
    _staff_finance(actor)
    return SettlementRun.objects.select_related("snapshot", "snapshot__term", "snapshot__contract", "formula")


def run_get(actor: Actor, pk: int) -> SettlementRun:
    _staff_finance(actor)
    try:
        return run_list(actor).get(pk=pk)
    except SettlementRun.DoesNotExist:
        raise NotFound(f"no settlement run {pk}") from None


def snapshot_list(actor: Actor) -> QuerySet[Snapshot]:
    _staff_finance(actor)
    return Snapshot.objects.select_related("term", "contract")


def statement_list(actor: Actor) -> QuerySet[PracticeShare]:
    """Shares of approved and paid runs: a practice user's own practice's only."""
    qs = PracticeShare.objects.select_related(
        "run", "run__snapshot", "run__snapshot__term", "practice"
    ).filter(run__status__in=[SettlementRun.Status.APPROVED, SettlementRun.Status.PAID])
    if is_practice_scoped(actor):
        return qs.filter(practice_id=scoped_practice_id(actor)).order_by("-run_id")
    _staff_finance(actor)
    return qs.order_by("-run_id", "practice__legal_name")


def statement_get(actor: Actor, pk: int) -> PracticeShare:
    """One practice's share, as its statement; another practice's is NotFound for a practice user, and a
    draft run's shares are staff's alone."""
    if not can_view_statements(actor):
        raise PermissionDenied("statements are finance's and each practice's own")
    qs = PracticeShare.objects.select_related(
        "run", "run__snapshot", "run__snapshot__term", "run__snapshot__contract", "run__formula", "practice"
    )
    if is_practice_scoped(actor):
        qs = qs.filter(
            practice_id=scoped_practice_id(actor),
            run__status__in=[SettlementRun.Status.APPROVED, SettlementRun.Status.PAID],
        )
    try:
        return qs.get(pk=pk)
    except PracticeShare.DoesNotExist:
        raise NotFound(f"no statement {pk}") from None


def forecast_list(actor: Actor) -> QuerySet[Forecast]:
    _staff_finance(actor)
    return Forecast.objects.select_related("contract", "term")


def forecast_get(actor: Actor, pk: int) -> Forecast:
    _staff_finance(actor)
    try:
        return forecast_list(actor).get(pk=pk)
    except Forecast.DoesNotExist:
        raise NotFound(f"no forecast {pk}") from None
