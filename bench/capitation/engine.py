"""Time the pure capitation engines on N synthetic member-months: expected capitation, then the distribution.

    python -m bench.capitation.engine --member-months 1000000

Prints one JSON row (seconds for each engine and together, peak memory of this process). The frames are built
before the clock starts; the rates, ages, practices and shares are drawn from a seeded generator.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from openipa.capitation.engine.distribution import DistributionRules, distribute  # noqa: E402
from openipa.capitation.engine.expected import expected_capitation  # noqa: E402

MONTH = dt.date(2026, 10, 1)


def frames(n: int, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """n member-months over 3 products and 2,000 PCPs in 40 practices; a rate table of 5-year bands by sex."""
    ids = pl.int_range(0, n, eager=True)
    mm = pl.DataFrame({"member_id": ids}).with_columns(
        pl.lit(MONTH).alias("month"),
        ((pl.col("member_id") * 7 + seed) % 3 + 1).cast(pl.Int64).alias("product_id"),
        (pl.lit(MONTH) - pl.duration(days=(pl.col("member_id") * 37 % 32000) + 1)).alias("birth_date"),
        pl.when(pl.col("member_id") % 2 == 0).then(pl.lit("F")).otherwise(pl.lit("M")).alias("sex"),
        pl.when(pl.col("member_id") % 50 == 0).then(15).otherwise(31).cast(pl.Int32).alias("covered_days"),
        pl.when(pl.col("member_id") % 50 == 0)
        .then(17)
        .otherwise(1)
        .cast(pl.Int32)
        .alias("first_covered_day"),
        pl.lit(31, dtype=pl.Int32).alias("days_in_month"),
    )
    terms = pl.DataFrame(
        [(1, p, dt.date(2020, 1, 1), None, "pmpm_table", None, None, "daily", 15, 1) for p in (1, 2, 3)],
        schema={"term_id": pl.Int64, "product_id": pl.Int64, "valid_from": pl.Date, "valid_to": pl.Date,
                "basis": pl.String, "percent_milli": pl.Int64, "risk_base_cents": pl.Int64, "proration": pl.String,
                "cutoff_day": pl.Int32, "age_reference_month": pl.Int32},
        orient="row",
    )  # fmt: skip
    cells = pl.DataFrame(
        [(1, p * 1000 + a * 10 + (s == "M"), p, a * 5, a * 5 + 4 if a < 23 else 120, s, 20000 + p * 1000 + a * 700)
         for p in (1, 2, 3) for a in range(24) for s in ("F", "M")],
        schema={"term_id": pl.Int64, "rate_cell_id": pl.Int64, "product_id": pl.Int64, "age_min": pl.Int32,
                "age_max": pl.Int32, "sex": pl.String, "pmpm_cents": pl.Int64},
        orient="row",
    )  # fmt: skip
    return mm, terms, cells


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--member-months", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.member_months
    mm, terms, cells = frames(n)
    rules = DistributionRules(
        rule_id=1, term_id=1, reinsurance_pmpm_cents=350, withhold_percent_milli=10_000,
        risk_pool_percent_milli=2_000, pcp_method="age_sex", pcp_pmpm_cents=12_000,
        age_sex_factors=((0, 17, "U", 800), (18, 64, "U", 1000), (65, 120, "U", 1600)),
        specialist_percent_milli=5_000, specialist_pmpm_cents=0, specialist_split="specialty_weight",
        quality_percent_milli=3_000, default_admin_fee_percent_milli=12_000, default_admin_fee_pmpm_cents=0,
    )  # fmt: skip
    agreements = pl.DataFrame(
        {"practice_id": list(range(1, 41)), "admin_fee_percent_milli": [10_000 + i * 50 for i in range(40)],
         "admin_fee_pmpm_cents": [100 * (i % 3) for i in range(40)]}
    )  # fmt: skip
    specialists = pl.DataFrame(
        {"practice_id": list(range(41, 51)), "specialty": ["Cardiology"] * 5 + ["Orthopedics"] * 5,
         "weight_milli": [1500] * 5 + [1000] * 5, "claims_cents": [0] * 10}
    )  # fmt: skip
    start = time.perf_counter()
    expected = expected_capitation(mm, terms, cells)
    priced = time.perf_counter()
    members = expected.join(mm.select("member_id", "sex"), on="member_id").select(
        "member_id", "month", "product_id", "age", "sex",
        ((pl.col("member_id") % 2000) // 50 + 1).alias("practice_id"),
        (pl.col("member_id") % 2000 + 1).alias("provider_id"),
        pl.lit(1000, dtype=pl.Int64).alias("raf_milli"),
        pl.col("expected_cents").alias("share_cents"),
    )  # fmt: skip
    pool = int(members["share_cents"].sum()) + 12_345
    result = distribute(pool, members, rules, agreements, specialists)
    done = time.perf_counter()
    assert sum(result.components.values()) == pool
    print(json.dumps({
        "case": "capitation engines (expected + distribution)", "db": "-", "members": n,
        "seconds": round(done - start, 2), "expected_seconds": round(priced - start, 2),
        "distribution_seconds": round(done - priced, 2), "per_second": round(n / (done - start)),
        "unit": "member-months/s", "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
