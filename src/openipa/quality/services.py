"""Writes of quality measurement: a stored run of every measure of a measurement year (ADR 0015).

``run_measures(actor, year=2026, as_of=None, run_by="")`` reads the database's members, eligibility, claims,
clinical records and pharmacy fills (``selectors.measure_inputs``), evaluates the shipped definitions with the
open starter value sets, derives each open care gap (``gapdata``), attributes every result to the member's PCP,
practice and payer on the as-of date, and stores it all in one transaction (bulk inserts). The run reads what
was dated on or before the as-of date (a year-to-date run: runs through the year make the trend). Quality staff
(EDIT_CLINICAL, not practice users); ``actor=None`` is the system (the command line).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from openipa.core.bulk import insert_frame
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.roles import Actor, Perm, is_practice_scoped, require
from openipa.quality import selectors
from openipa.quality.engine import (
    DefinitionError,
    coded_events,
    evaluate,
    load_measures,
    missing_value_sets,
    starter_value_sets,
)
from openipa.quality.gapdata import gap_columns, load_gap_specs
from openipa.quality.models import MeasureResult, QualityRun, RateResult

RESULT_COLUMNS = (
    "measure", "rate", "member_id", "episode_id", "excluded", "exclusion_reason", "denominator", "numerator",
    "denominator_evidence", "exclusion_evidence", "numerator_evidence", "practice_id", "pcp_id", "payer_id",
    "gap", "gap_reason", "gap_due",
)  # fmt: skip
_RATE_PLACES = Decimal("0.000001")


def check_can_run(actor: Actor | None) -> None:
    if actor is None:
        return
    require(actor, Perm.EDIT_CLINICAL)
    if is_practice_scoped(actor):
        raise PermissionDenied("quality runs are for IPA staff")


def default_as_of(year: int, today: dt.date) -> dt.date:
    """Today, capped at 31 December of the measurement year."""
    return min(today, dt.date(year, 12, 31))


def _sha256_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _value_set_files() -> list[Path]:
    folder = resources.files("openipa.quality") / "data" / "valuesets"
    return [Path(str(e)) for e in sorted(folder.iterdir(), key=lambda e: e.name) if e.name.endswith(".csv")]


def _json_list(column: str) -> pl.Expr:
    """A list of evidence ids as its JSON text (ids are ``kind:digits``: nothing to escape)."""
    quoted = pl.col(column).list.eval(pl.concat_str(pl.lit('"'), pl.element(), pl.lit('"')))
    return pl.concat_str(pl.lit("["), quoted.list.join(","), pl.lit("]")).alias(column)


def _rate_value(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(_RATE_PLACES, rounding=ROUND_HALF_EVEN)


def _rate_result(run: QualityRun, row: dict[str, Any], names: dict[str, str]) -> RateResult:
    return RateResult(
        run=run, measure=row["measure"], measure_name=names.get(row["measure"], ""), rate=row["rate"],
        eligible=row["eligible"], excluded=row["excluded"], denominator=row["denominator"],
        numerator=row["numerator"], rate_value=_rate_value(row["numerator"], row["denominator"]),
        inverse=bool(row["inverse"]),
    )  # fmt: skip


def run_measures(
    actor: Actor | None,
    *,
    year: int,
    as_of: dt.date | None = None,
    run_by: str = "",
    now: dt.datetime | None = None,
) -> QualityRun:
    """Run every measure of measurement year ``year`` on the database and store the run (a new one each time).

    ``as_of`` (default: today, capped at 31 December of the year; not before 1 January of it): the day each
    result's PCP, practice and payer are taken on, and the last day whose claims, records and fills are read.
    Raises ValidationFailed for a year without definitions or
    an as-of date before the year, PermissionDenied for an actor who may not run measures."""
    check_can_run(actor)
    now = now or timezone.now()
    as_of = as_of or default_as_of(year, timezone.localdate(now))
    if as_of < dt.date(year, 1, 1):
        raise ValidationFailed({"as_of": [f"{as_of} is before measurement year {year}"]})
    try:
        measures = load_measures(year)
    except DefinitionError as exc:
        raise ValidationFailed({"year": [str(exc)]}) from None
    value_sets = starter_value_sets(year)
    specs = load_gap_specs(year)
    inputs, left_out = selectors.measure_inputs_and_left_out(through=as_of)
    results = evaluate(inputs, measures, value_sets)
    # the coded events gap reasons need: the latest results they quote and the episodes' index events
    needed = {vs for spec in specs.values() for vs in spec.latest_value_sets}
    needed |= {vs for m in measures.measures if m.episodes is not None for vs in m.episodes.value_sets}
    events = coded_events(inputs, value_sets.filter(pl.col("value_set").is_in(sorted(needed))))
    clinical = (
        inputs.clinical if inputs.clinical is not None else pl.DataFrame(schema={"clinical_id": pl.Int64})
    )
    units = (
        clinical.select(
            pl.concat_str(pl.lit("clinical:"), pl.col("clinical_id").cast(pl.String)).alias("evidence_id"),
            pl.col("unit") if "unit" in clinical.columns else pl.lit(None, dtype=pl.String).alias("unit"),
        )
        if clinical.height
        else pl.DataFrame(schema={"evidence_id": pl.String, "unit": pl.String})
    )
    names = {m.id: m.name for m in measures.measures}
    members = gap_columns(results.members, results.rates, events, units, specs, names, year)
    attribution = selectors.attribution_on(as_of)
    frame = (
        members.with_columns(pl.col("member_id").cast(pl.Int64))
        .join(attribution, on="member_id", how="left")
        .with_columns(
            pl.col("episode_id").fill_null(""),
            pl.col("exclusion_reason").fill_null(""),
            _json_list("denominator_evidence"),
            _json_list("exclusion_evidence"),
            _json_list("numerator_evidence"),
        )
        .select(RESULT_COLUMNS)
        .sort("measure", "rate", "member_id", "episode_id")
    )
    missing = missing_value_sets(measures, value_sets)
    counts = {name: frame_.height for name, frame_ in inputs.frames().items()}
    counts |= {f"left_out_{name}": n for name, n in left_out.counts().items()}
    with transaction.atomic():
        run = QualityRun.objects.create(
            measurement_year=year,
            as_of=as_of,
            run_at=now,
            run_by=run_by or (actor.username if actor is not None else "system"),
            definitions_sha256=_sha256_files([Path(measures.source)]),
            value_sets_sha256=_sha256_files(_value_set_files()),
            input_counts=counts,
            member_count=inputs.members.height,
            result_count=frame.height,
            gap_count=int(frame["gap"].sum() or 0),
            missing_value_sets=missing,
            status=QualityRun.Status.MISSING_VALUE_SETS if missing else QualityRun.Status.COMPLETE,
        )
        insert_frame(MeasureResult, frame, constants={"run_id": run.pk})
        RateResult.objects.bulk_create(
            _rate_result(run, row, names) for row in results.rates.iter_rows(named=True)
        )
    return run
