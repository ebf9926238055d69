"""Time the pure claims engines on N synthetic claim lines with realistic context frames.

    python -m bench.claims.engine --lines 1000000 [--seed 7]

What ``openipa claims adjudicate`` runs between reading the database and writing the decisions, in the same
order: the service-category and contract enrichment, pricing (percent of Medicare from a PPRRVU file in CMS's
layout read by read_rvu_file, the demo's GPCI file, lesser of charge), the code edits (procedure-to-procedure
pairs, medically unlikely units) and the rule pack (eligibility, provider, DOFR, authorization, code edits,
duplicates, timely filing, pricing) with cost shares. Prints one JSON row: seconds for each step and together,
lines per second for the whole and for the rule pack alone, the outcome counts, and this process's peak memory.

The frames are built before the clock starts, from a seeded generator: claims of one to ten lines (5.5 on
average) for a pool of members (two claims each on average), 200 billing groups (two not contracted, one
excluded) and 2,000 rendering doctors (PCPs and specialists), the bench 837's codes plus authorized and
unauthorized advanced imaging, places of service 11/02/21/23, modifiers 25/59/26/RT/LT, some members not
identified, not yet covered or no longer covered, some claims received late, and a history of earlier lines
holding exact and suspect duplicates. The service categories and DOFR are the demo's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.claims import generate  # noqa: E402
from bench.claims.setup_db import HCPCS_LEVEL_II, PAIRS, UNIT_LIMITS, rvu_file  # noqa: E402

from openipa.claims.engine import adjudicate as engine  # noqa: E402
from openipa.claims.engine.edits import mue_edits, ptp_edits  # noqa: E402
from openipa.claims.engine.pricing import price_lines  # noqa: E402
from openipa.contracts.engine.rbrvs import read_gpci_file, read_rvu_file  # noqa: E402
from openipa.demo.engine import fees  # noqa: E402

RECEIVED = dt.date(2026, 11, 2)
FEES_FROM = dt.date(2026, 1, 1)
START = dt.date(2000, 1, 1)
GROUPS = 200
DOCTORS = 2_000
IMAGING = "70551"
"""Advanced imaging (needs an authorization under the demo's rules): 1% of lines, half of them authorized."""
CODES = (*generate.CODES, *["99213"] * 8, *["99214"] * 5, *["36415"] * 4, *["85025"] * 3, *["80053"] * 3)
"""The bench 837's codes, the common ones weighted up."""
PLACES = ("11",) * 16 + ("02", "02", "21", "23")
MODIFIERS = ("",) * 34 + ("25", "59", "26", "RT", "LT", "25")


def _h(column: str, seed: int, modulo: int) -> pl.Expr:
    """A deterministic pseudo-random integer in [0, modulo) from a column (Polars' seeded hash)."""
    return (pl.col(column).hash(seed) % modulo).cast(pl.Int64)


def _pick(values: tuple[str, ...], column: str, seed: int) -> pl.Expr:
    return pl.lit(pl.Series(values)).gather(_h(column, seed, len(values)))


def frames(n: int, seed: int) -> tuple[pl.DataFrame, engine.Context, dict[str, pl.DataFrame]]:
    """The lines (adjudication's LINE_SCHEMA plus claim_id), the context without prices, and the schedules."""
    rng = random.Random(f"claims-engine-{seed}")
    sizes: list[int] = []
    total = 0
    while total < n:  # one to ten lines a claim; the last claim takes what is left
        sizes.append(min(rng.randint(1, 10), n - total))
        total += sizes[-1]
    claims_n = len(sizes)
    members = max(1, claims_n // 2)
    claims = pl.DataFrame({
        "claim_id": range(1, claims_n + 1),
        "size": sizes,
        "member_id": [None if rng.random() < 0.005 else rng.randint(1, members) for _ in sizes],
        "group": [rng.randrange(GROUPS) for _ in sizes],
        "doctor": [rng.randrange(DOCTORS) for _ in sizes],
        "first_day": [RECEIVED - dt.timedelta(days=rng.randrange(1, 90)) for _ in sizes],
        "received_on": [RECEIVED + dt.timedelta(days=120) if rng.random() < 0.01 else RECEIVED for _ in sizes],
        "place_of_service": [rng.choice(PLACES) for _ in sizes],
    }, schema_overrides={"member_id": pl.Int64})  # fmt: skip
    lines = (
        claims.with_columns(pl.int_ranges(0, pl.col("size")).alias("number"))
        .explode("number")
        .with_row_index("line_id", offset=1)
        .with_columns(pl.col("line_id").cast(pl.Int64))
    )
    lines = lines.with_columns(
        pl.when(_h("line_id", seed, 100) == 0).then(pl.lit(IMAGING)).otherwise(_pick(CODES, "line_id", seed + 1))
        .alias("code"),
        _pick(MODIFIERS, "line_id", seed + 2).alias("modifiers"),
        (pl.col("first_day") + pl.duration(days=_h("line_id", seed + 3, 3))).alias("service_from"),
        pl.when(_h("line_id", seed + 4, 20) < 18).then(1000).otherwise((_h("line_id", seed + 4, 20) - 16) * 1000)
        .alias("units_milli"),
        pl.format("1{}", pl.col("group").cast(pl.String).str.zfill(9)).alias("billing_npi"),
        pl.format("2{}", pl.col("doctor").cast(pl.String).str.zfill(9)).alias("rendering_npi"),
    ).with_columns(
        pl.col("service_from").alias("service_to"),
        pl.lit("").alias("revenue_code"),
        ((pl.col("code").hash(1) % 15_000 + 1_000) * pl.col("units_milli") // 1000).cast(pl.Int64)
        .alias("charge_cents"),
    )  # fmt: skip
    lines = lines.select(
        "line_id", "claim_id", *[c for c in engine.LINE_SCHEMA if c not in ("line_id", "claim_id")]
    )
    member_ids = pl.int_range(1, members + 1, eager=True).alias("member_id")
    spans = pl.DataFrame({"member_id": member_ids}).with_columns(
        (pl.col("member_id") % 3 + 1).cast(pl.Int64).alias("product_id"),
        pl.when(pl.col("member_id") % 50 == 0).then(pl.lit(dt.date(2026, 10, 1)))
        .otherwise(pl.lit(dt.date(2020, 1, 1))).alias("valid_from"),
        pl.when(pl.col("member_id") % 33 == 0).then(pl.lit(dt.date(2026, 8, 31)))
        .otherwise(pl.lit(None, pl.Date)).alias("valid_to"),
    )  # fmt: skip
    taxonomy = [rng.random() < 0.6 for _ in range(DOCTORS)]
    providers = pl.DataFrame(
        [(f"1{g:09d}", "group", g not in (7, 8), None, g == 9, None) for g in range(GROUPS)]
        + [(f"2{d:09d}", "pcp" if taxonomy[d] else "specialist", True, None, False, None) for d in range(DOCTORS)],
        schema=engine.PROVIDER_SCHEMA, orient="row",
    )  # fmt: skip
    rules = [(i + 1, r.category, r.priority, r.code_from, r.code_to, r.revenue_from, r.revenue_to, r.places,
              r.provider_kind, r.emergency, r.requires_authorization, START, None)
             for i, r in enumerate(fees.SERVICE_CATEGORIES)]  # fmt: skip
    rules.append(
        (len(rules) + 1, HCPCS_LEVEL_II, 150, "A0000", "V9999", "", "", "", "", False, False, START, None)
    )
    category_rules = pl.DataFrame(rules, schema=engine.CATEGORY_RULE_SCHEMA, orient="row")
    terms = pl.DataFrame(
        [(p, 1, START, None, 90) for p in (1, 2, 3)], schema=engine.TERM_SCHEMA, orient="row"
    )
    dofr = pl.DataFrame(
        [(1, c, p) for c, p in {**fees.DOFR, HCPCS_LEVEL_II: fees.IPA}.items()],
        schema=engine.DOFR_SCHEMA,
        orient="row",
    )
    imaging = lines.filter((pl.col("code") == IMAGING) & pl.col("member_id").is_not_null())
    authorizations = imaging.filter(pl.col("line_id") % 2 == 0).select(
        "member_id", pl.format("PA{}", pl.col("line_id")).alias("number"), "code",
        pl.col("rendering_npi").alias("servicing_npi"), pl.lit(1000, pl.Int64).alias("units_milli"),
        (pl.col("service_from") - pl.duration(days=10)).alias("valid_from"),
        (pl.col("service_from") + pl.duration(days=50)).alias("valid_to"),
    )  # fmt: skip
    # earlier lines: 2% of the batch again (exact duplicates), 1% the same service from another group (suspect),
    # and as many unrelated earlier visits
    known = lines.filter(pl.col("member_id").is_not_null())
    exact = known.filter(_h("line_id", seed + 5, 50) == 0)
    suspect = known.filter(_h("line_id", seed + 6, 100) == 0).with_columns(
        pl.lit("1000000199").alias("billing_npi")
    )
    older = known.filter(_h("line_id", seed + 7, 33) == 0).with_columns(
        (pl.col("service_from") - pl.duration(days=120)).alias("service_from")
    )
    history = pl.concat([exact, suspect, older]).with_row_index("h").select(
        (pl.col("h").cast(pl.Int64) + 10_000_000_000).alias("line_id"), *[c for c in engine.HISTORY_SCHEMA if c != "line_id"]
    )  # fmt: skip
    cost_shares = pl.DataFrame(
        [(p, fees.SPECIALIST, 1500, 0, START, None) for p in (1, 2, 3)]
        + [(p, fees.BEHAVIORAL, 0, 10_000, START, None) for p in (1, 2, 3)],
        schema=engine.COST_SHARE_SCHEMA, orient="row",
    )  # fmt: skip
    ctx = engine.Context(
        spans=spans, providers=providers, category_rules=category_rules, terms=terms, dofr=dofr,
        authorizations=authorizations, history=history, prices=engine.empty(engine.PRICE_SCHEMA),
        cost_shares=cost_shares,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="openipa-bench-fees-") as tmp:
        rvus = read_rvu_file(rvu_file(Path(tmp) / "PPRRVU_BENCH.csv", seed), valid_from=FEES_FROM)
        gpcis = read_gpci_file(fees.write_gpci_file(Path(tmp) / "GPCI_BENCH.csv"), valid_from=FEES_FROM)
    schedules = {
        "terms": pl.DataFrame(
            [(1, 1, START, None, "percent_of_medicare", 100_000, True)],
            schema={"term_id": pl.Int64, "contract_id": pl.Int64, "valid_from": pl.Date, "valid_to": pl.Date,
                    "method": pl.String, "percent_milli": pl.Int64, "cap_at_billed": pl.Boolean}, orient="row",
        ),
        "rvus": rvus,
        "gpcis": gpcis,
        "conversion_factors": pl.DataFrame(
            {"valid_from": [FEES_FROM], "valid_to": [None], "conversion_factor_e4": [int(fees.CONVERSION_FACTOR * 10_000)]},
            schema={"valid_from": pl.Date, "valid_to": pl.Date, "conversion_factor_e4": pl.Int64},
        ),
        "pairs": pl.DataFrame([(a, b, START, None, m) for a, b, m in PAIRS],
                              schema={"column1": pl.String, "column2": pl.String, "valid_from": pl.Date,
                                      "valid_to": pl.Date, "modifier_indicator": pl.Int8}, orient="row"),
        "limits": pl.DataFrame([(c, u, 1, START, None) for c, u in UNIT_LIMITS],
                               schema={"code": pl.String, "max_units": pl.Int64, "mai": pl.Int8, "valid_from": pl.Date,
                                       "valid_to": pl.Date}, orient="row"),
    }  # fmt: skip
    return lines, ctx, schedules


def _modifier_list() -> pl.Expr:
    return pl.col("modifiers").str.split(",").list.eval(pl.element().filter(pl.element() != ""))


def run(lines: pl.DataFrame, ctx: engine.Context, schedules: dict[str, pl.DataFrame]) -> dict[str, Any]:
    """The engines in the service's order; seconds per step and the outcome counts."""
    t0 = time.perf_counter()
    edit_lines = lines.select(
        "line_id", "claim_id", pl.col("service_from").alias("service_date"), "code", _modifier_list().alias("modifiers"),
        ((pl.col("units_milli") + 999) // 1000).alias("units"),
    )  # fmt: skip
    edits = pl.concat([
        ptp_edits(edit_lines, schedules["pairs"]).select(list(engine.FINDING_SCHEMA)),
        mue_edits(edit_lines, schedules["limits"], deny_whole_line=True).select(list(engine.FINDING_SCHEMA)),
    ]).filter(pl.col("outcome").is_in(["deny", "pend"]))  # fmt: skip
    t1 = time.perf_counter()
    enriched = engine.enrich(lines, ctx)
    priced_in = enriched.filter(pl.col("term_id").is_not_null()).select(
        "line_id", "claim_id", pl.lit(1, pl.Int64).alias("contract_id"), pl.col("service_from").alias("service_date"),
        "code", _modifier_list().alias("modifiers"), "place_of_service",
        pl.lit(fees.DEFAULT_LOCALITY_ID).alias("locality_id"),
        ((pl.col("units_milli") + 500) // 1000).clip(lower_bound=1).alias("units"),
        pl.col("charge_cents").alias("billed_cents"),
    )  # fmt: skip
    priced = price_lines(priced_in, schedules["terms"], schedules["rvus"], schedules["gpcis"],
                         schedules["conversion_factors"])  # fmt: skip
    detail = pl.struct(["method", "term_id", "pe_setting", "conversion_factor_e4", "percent_milli", "fee_cents",
                        "capped", "reason"])  # fmt: skip
    prices = priced.select("line_id", "allowed_cents", detail.struct.json_encode().alias("pricing"))
    t2 = time.perf_counter()
    result = engine.adjudicate(lines, engine.Context(**{**ctx.__dict__, "prices": prices, "edits": edits}))
    t3 = time.perf_counter()
    return {
        "edits_seconds": round(t1 - t0, 2),
        "pricing_seconds": round(t2 - t1, 2),
        "adjudicate_seconds": round(t3 - t2, 2),
        "seconds": round(t3 - t0, 2),
        "counts": result.counts(),
        "findings": result.findings.height,
        "paid_cents": int(result.lines["paid_cents"].sum()),
        "denials_by_carc": dict(
            sorted(result.lines.filter(pl.col("outcome") == "denied").group_by("carc").len().iter_rows())
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    args = parser.parse_args(argv)
    built = time.perf_counter()
    lines, ctx, schedules = frames(args.lines, args.seed)
    build_seconds = time.perf_counter() - built
    timed = run(lines, ctx, schedules)
    n = lines.height
    assert sum(timed["counts"].values()) == n
    print(json.dumps({
        "case": "claims engines (edits + pricing + rule pack)", "db": "-", "lines": n,
        **{k: v for k, v in timed.items() if k.endswith("seconds")},
        "per_second": round(n / timed["seconds"]), "unit": "lines/s",
        "adjudicate_per_second": round(n / timed["adjudicate_seconds"]),
        "counts": timed["counts"], "denials_by_carc": timed["denials_by_carc"], "findings": timed["findings"],
        "frames_seconds": round(build_seconds, 2),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
