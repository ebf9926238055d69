"""Adjudicate the claim lines waiting: build the engines' inputs from the database, run pricing, the code edits
and the rule pack, and write every line's decision, in one transaction, as one recorded AdjudicationRun.

Replacements and voids are handled first: a claim with frequency 7 or 8 reverses every line of the claim it
names (REF*F8). A reversed line that had not been paid yet simply stops counting; one already paid is remitted
as a reversal in the next payment run. A void's own lines are reversals too; a replacement's lines are then
adjudicated like any other (the original's lines no longer count as history for duplicates).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from openipa.claims.engine import adjudicate as engine
from openipa.claims.engine.edits import mue_edits, ptp_edits
from openipa.claims.engine.pricing import price_lines
from openipa.claims.models import AdjudicationRun, Claim, ClaimLine, ProcedurePairEdit, UnitLimit
from openipa.claims.selectors import claims as claim_selectors
from openipa.contracts import selectors as contract_selectors
from openipa.core import audit
from openipa.core.bulk import update_frame
from openipa.core.frames import query_frame
from openipa.core.roles import Actor, Perm, require
from openipa.membership import selectors as membership_selectors
from openipa.utilization import selectors as utilization_selectors

Outcome = ClaimLine.Outcome
LINE_COLUMNS: dict[str, tuple[str, Any]] = {
    "line_id": ("pk", pl.Int64),
    "claim_id": ("claim_id", pl.Int64),
    "member_id": ("claim__member_id", pl.Int64),
    "service_from": ("service_from", pl.Date),
    "service_to": ("service_to", pl.Date),
    "received_on": ("claim__received_on", pl.Date),
    "code": ("code", pl.String),
    "modifiers": ("modifiers", pl.String),
    "revenue_code": ("revenue_code", pl.String),
    "units": ("units", pl.String),
    "charge_cents": ("charge_cents", pl.Int64),
    "place_of_service": ("place_of_service", pl.String),
    "billing_npi": ("claim__billing_npi", pl.String),
    "billing_tin": ("claim__billing_tin", pl.String),
    "rendering_npi": ("rendering_npi", pl.String),
    "frequency": ("claim__frequency", pl.String),
    "original_id": ("claim__original_id", pl.Int64),
}


def _waiting() -> pl.DataFrame:
    frame = query_frame(ClaimLine.objects.filter(outcome=Outcome.NEW).order_by("pk"), LINE_COLUMNS)
    # units are exact decimals in the database; the engines count thousandths (and pricing whole units)
    return frame.with_columns(
        (pl.col("units").str.to_decimal(scale=3) * 1000).cast(pl.Int64).alias("units_milli")
    ).drop("units")


def _history(member_ids: list[int], exclude_claims: list[int]) -> pl.DataFrame:
    """Earlier lines of these members that count for duplicates: decided payable or pending, not reversed."""
    schema = {"line_id": ("pk", pl.Int64), "member_id": ("claim__member_id", pl.Int64), "code": ("code", pl.String),
              "modifiers": ("modifiers", pl.String), "service_from": ("service_from", pl.Date),
              "billing_npi": ("claim__billing_npi", pl.String), "rendering_npi": ("rendering_npi", pl.String),
              "units": ("units", pl.String), "charge_cents": ("charge_cents", pl.Int64)}  # fmt: skip
    frames = []
    for start in range(0, len(member_ids), 20_000):
        rows = ClaimLine.objects.filter(
            claim__member_id__in=member_ids[start : start + 20_000],
            outcome__in=(Outcome.PAID, Outcome.PENDED),
        ).exclude(claim_id__in=exclude_claims)
        frames.append(query_frame(rows, schema))
    frame = pl.concat(frames) if frames else pl.DataFrame(schema={k: v[1] for k, v in schema.items()})
    return frame.with_columns(
        (pl.col("units").str.to_decimal(scale=3) * 1000).cast(pl.Int64).alias("units_milli")
    ).drop("units")


def _edit_lines(lines: pl.DataFrame) -> pl.DataFrame:
    return lines.select(
        "line_id", "claim_id", pl.col("service_from").alias("service_date"), "code",
        pl.col("modifiers").str.split(",").list.eval(pl.element().filter(pl.element() != "")).alias("modifiers"),
        ((pl.col("units_milli") + 999) // 1000).alias("units"),
    ).filter(pl.col("code") != "")  # fmt: skip


def _edits(lines: pl.DataFrame) -> pl.DataFrame:
    edit_lines = _edit_lines(lines)
    pairs = pl.DataFrame(
        list(ProcedurePairEdit.objects.values_list("column1", "column2", "valid_from", "valid_to",
                                                   "modifier_indicator")),
        schema={"column1": pl.String, "column2": pl.String, "valid_from": pl.Date, "valid_to": pl.Date,
                "modifier_indicator": pl.Int8}, orient="row",
    )  # fmt: skip
    limits = pl.DataFrame(
        list(UnitLimit.objects.values_list("code", "max_units", "mai", "valid_from", "valid_to")),
        schema={"code": pl.String, "max_units": pl.Int64, "mai": pl.Int8, "valid_from": pl.Date,
                "valid_to": pl.Date}, orient="row",
    )  # fmt: skip
    found = pl.concat([
        ptp_edits(edit_lines, pairs).select(list(engine.FINDING_SCHEMA)),
        mue_edits(edit_lines, limits, deny_whole_line=True).select(list(engine.FINDING_SCHEMA)),
    ])  # fmt: skip
    return found.filter(pl.col("outcome").is_in(["deny", "pend"]))


def _prices(enriched: pl.DataFrame, frames: contract_selectors.ClaimsFrames) -> pl.DataFrame:
    """The allowed amount of every line with a contract: pricing engine output as PRICE_SCHEMA (+ detail)."""
    contracts = frames.terms.select("term_id", "contract_id", "locality_id").unique(subset=["term_id"])
    priced_in = (
        enriched.filter(pl.col("term_id").is_not_null())
        .join(contracts, on="term_id", how="left")
        .select(
            "line_id", "claim_id", "contract_id", pl.col("service_from").alias("service_date"),
            pl.coalesce(pl.when(pl.col("code") != "").then(pl.col("code")), pl.col("revenue_code")).alias("code"),
            pl.col("modifiers").str.split(",").list.eval(pl.element().filter(pl.element() != "")).alias("modifiers"),
            "place_of_service", pl.col("locality_id").fill_null(""),
            ((pl.col("units_milli") + 500) // 1000).clip(lower_bound=1).alias("units"),
            pl.col("charge_cents").alias("billed_cents"),
        )
    )  # fmt: skip
    terms = frames.terms.unique(subset=["term_id"]).select(
        "term_id", "contract_id", "valid_from", "valid_to", "method", "percent_milli", "cap_at_billed"
    )
    priced = price_lines(
        priced_in, terms, frames.rvus, frames.gpcis, frames.conversion_factors, frames.code_rates
    )
    detail = pl.struct(["method", "term_id", "rvu_modifier", "pe_setting", "locality_id", "conversion_factor_e4",
                        "percent_milli", "rate_cents", "mult_proc_percent", "bilateral_percent", "fee_cents",
                        "capped", "reason"])  # fmt: skip
    return priced.select("line_id", "allowed_cents", detail.struct.json_encode().alias("pricing"))


def adjudicate_waiting(
    *, actor: Actor | None, who: str = "", today: dt.date | None = None
) -> AdjudicationRun:
    """Adjudicate every line not decided yet (see the module docstring). ``actor`` None is the system (CLI)."""
    if actor is not None:
        require(actor, Perm.EDIT_CLAIMS)
    started = time.perf_counter()
    today = today or timezone.localdate()
    run_by = (who or (getattr(actor, "username", "") if actor is not None else "") or "system")[:150]
    lines = _waiting()
    corrections = lines.filter(pl.col("frequency").is_in(["7", "8"]))
    originals = [int(x) for x in corrections["original_id"].drop_nulls().unique().to_list()]
    voids = lines.filter(pl.col("frequency") == "8")
    decide = lines.filter(pl.col("frequency") != "8")
    member_ids = [int(m) for m in decide["member_id"].drop_nulls().unique().to_list()]
    frames = contract_selectors.claims_frames(actor)
    pairs = decide.select("billing_npi", "billing_tin").unique().rows()
    npis = set(decide["billing_npi"].to_list()) | set(decide["rendering_npi"].to_list())
    first_day = decide["service_from"].min() if decide.height else today
    since = first_day if isinstance(first_day, dt.date) else today
    ctx = engine.Context(
        spans=membership_selectors.eligibility_spans_frame(member_ids),
        providers=claim_selectors.provider_status_frame(npis, pairs, since, credentialed_on=today),
        category_rules=frames.category_rules,
        terms=frames.terms,
        dofr=frames.dofr,
        authorizations=utilization_selectors.approved_authorizations_frame(member_ids),
        history=_history(member_ids, originals),
        prices=pl.DataFrame(schema=engine.PRICE_SCHEMA),
        cost_shares=frames.cost_shares,
        edits=_edits(decide) if decide.height else None,
        requirements=utilization_selectors.requirements_frame(),
    )
    if decide.height:
        enriched = engine.enrich(decide, ctx)
        prices = _prices(enriched, frames)
        ctx = engine.Context(**{**ctx.__dict__, "prices": prices})
        result = engine.adjudicate(decide, ctx)
        decided = _with_json(result.lines.join(prices.select("line_id", "pricing"), on="line_id", how="left"),
                             result.findings)  # fmt: skip
    else:
        decided = pl.DataFrame()
    now = timezone.now()
    with transaction.atomic():
        run = AdjudicationRun.objects.create(run_by=run_by, inputs={"as_of": today.isoformat()})
        reversed_count = _reverse(originals, voids, run.pk, now)
        counts = {"paid": 0, "denied": 0, "pended": 0}
        paid_total = 0
        if decided.height:
            counts.update(dict(decided.group_by("outcome").len().iter_rows()))
            paid_total = int(decided["paid_cents"].sum())
            results = decided.select(
                "line_id", "outcome", pl.col("party").fill_null("").alias("responsible"),
                pl.col("category").fill_null("").alias("service_category"), "allowed_cents", "cost_share_cents",
                "paid_cents", "carc", "rarc", pl.col("pend_reason").str.slice(0, 200),
                pl.col("findings_json").alias("findings"), pl.col("pricing_json").alias("pricing"),
            )  # fmt: skip
            # the findings and pricing as the JSON text Polars built; the run's time and id written once
            update_frame(ClaimLine, results, key="line_id",
                         constants={"adjudicated_at": now, "adjudication_run_id": run.pk})  # fmt: skip
        _claim_statuses([int(c) for c in decide["claim_id"].unique().to_list()] if decide.height else [])
        run.lines = decided.height if decided.height else 0
        run.paid, run.denied, run.pended = counts["paid"], counts["denied"], counts["pended"]
        run.reversed = reversed_count
        run.paid_cents = paid_total
        run.seconds = time.perf_counter() - started
        run.save()
        audit.record_write(actor, "claims.adjudicate", run,
                           after={"lines": run.lines, "paid": run.paid, "denied": run.denied, "pended": run.pended,
                                  "reversed": run.reversed})  # fmt: skip
    return run


def _with_json(decided: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """``findings_json`` (every rule's finding of the line, as a JSON list) and ``pricing_json`` (the pricing
    detail with the cost share's copay and coinsurance parts), written as text by Polars: a million lines'
    JSON in one vectorized step, not a Python dict per line."""
    listed = (
        findings.select("line_id", pl.struct("rule", "outcome", "carc", "rarc", "message").struct.json_encode().alias("j"))
        .group_by("line_id")
        .agg(pl.concat_str([pl.lit("["), pl.col("j").str.join(","), pl.lit("]")]).alias("findings_json"))
    )  # fmt: skip
    base = pl.col("pricing").fill_null("{").str.strip_suffix("}")
    parts = pl.concat_str([
        base, pl.when(pl.col("pricing").is_null()).then(pl.lit("")).otherwise(pl.lit(",")),
        pl.lit('"copay_cents":'), pl.col("copay_cents").cast(pl.String), pl.lit(',"coinsurance_cents":'),
        pl.col("coinsurance_cents").cast(pl.String), pl.lit("}"),
    ])  # fmt: skip
    return decided.join(listed, on="line_id", how="left").with_columns(
        pl.col("findings_json").fill_null("[]"), parts.alias("pricing_json")
    )


def _reverse(originals: list[int], voids: pl.DataFrame, run_id: int, now: dt.datetime) -> int:
    """Reverse the lines of the claims replaced or voided, and mark the voids' own lines as reversals."""
    reversed_lines = ClaimLine.objects.filter(claim_id__in=originals).exclude(outcome=Outcome.REVERSED)
    # the original decision's day and run stay (timeliness is measured from them); the correction claim says
    # what reversed the line
    count = reversed_lines.update(
        outcome=Outcome.REVERSED,
        adjudicated_at=Coalesce("adjudicated_at", Value(now)),
        adjudication_run_id=Coalesce("adjudication_run_id", Value(run_id)),
    )
    Claim.objects.filter(pk__in=originals).update(status=Claim.Status.REVERSED)
    void_ids = [int(x) for x in voids["line_id"].to_list()]
    if void_ids:
        ClaimLine.objects.filter(pk__in=void_ids).update(
            outcome=Outcome.REVERSED, adjudicated_at=now, adjudication_run_id=run_id,
            pend_reason="void of the original claim",
        )  # fmt: skip
        # the voids' claims by key: an UPDATE through the join to the lines can take PostgreSQL minutes
        void_claims = set(ClaimLine.objects.filter(pk__in=void_ids).values_list("claim_id", flat=True))
        Claim.objects.filter(pk__in=void_claims).update(status=Claim.Status.ADJUDICATED)
    return int(count)


def _claim_statuses(claim_ids: list[int]) -> None:
    """A claim with any pended line is pended; otherwise it is adjudicated. The pended lines are few (read by
    the index of lines waiting), and the claims' statuses are written as one frame."""
    if not claim_ids:
        return
    pended = pl.Series(
        "id",
        list(ClaimLine.objects.filter(outcome=Outcome.PENDED).values_list("claim_id", flat=True).distinct()),
        dtype=pl.Int64,
    )  # fmt: skip
    statuses = pl.DataFrame({"id": claim_ids}, schema={"id": pl.Int64}).with_columns(
        pl.when(pl.col("id").is_in(pended.implode()))
        .then(pl.lit(Claim.Status.PENDED.value))
        .otherwise(pl.lit(Claim.Status.ADJUDICATED.value))
        .alias("status")
    )
    update_frame(Claim, statuses, key="id")


def result_json(run: AdjudicationRun) -> dict[str, Any]:
    """The CLI's ``--json``: counts by outcome and the auto-adjudication rate."""
    return {
        "run_id": run.pk,
        "lines": run.lines,
        "by_outcome": {"paid": run.paid, "denied": run.denied, "pended": run.pended},
        "reversed": run.reversed,
        "paid_cents": run.paid_cents,
        "auto_adjudication_rate": round(run.auto_adjudication_rate, 4),
    }
