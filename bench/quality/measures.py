"""The quality measures benchmark (issue 8): the pure engine on synthetic members, claims and clinical rows.

    python bench/quality/measures.py [--members 100000] [--claims-per-member 20] [--year 2025] [--seed 7] [--json]

Generates, per member: a birth date (ages 0-90, so children's and adults' measures both have populations),
sex, one to two enrollment spans (some with a gap of 1-90 days in the measurement year, some ending early),
``--claims-per-member`` claim lines (default 20: 1,000,000 members -> 20,000,000 lines) with one or two
ICD-10-CM diagnoses and one procedure code drawn from a pool of measure-relevant and unrelated codes over
ten years (ischemic vascular disease and PCI among them, for SPC), statin refill series for a fifth of the
members (30- or 90-day supplies, refilled early or late) plus one unrelated fill each for a tenth, about six
clinical rows (blood-pressure pairs, HbA1c, GMI, eGFR, uACR; CVX immunizations for children; procedures)
and one encounter. Then times ``openipa.quality.engine.evaluate`` with the shipped definitions and starter
value sets (input checks, coded events, every measure, rates), and prints the rates. Generation is not
timed. Peak RSS is the whole process's (generation included). ``end_to_end.py`` writes the same data to
Parquet files and times reading them, building the inputs, the engine and writing the results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from openipa.quality.engine import MeasureInputs, evaluate, load_measures, starter_value_sets  # noqa: E402

DX_POOL = [
    "I10", "I10", "E11.9", "E11.65", "E10.9", "Z00.00", "Z00.129", "Z00.121", "J06.9", "M54.50", "R10.9",
    "K21.9", "E78.5", "F32.9", "Z12.31", "J45.909", "R05.9", "Z23", "M25.561", "E66.9", "L30.9", "H52.4",
    "K59.00", "Z79.4", "F32.9", "F41.1", "I25.10",
]  # fmt: skip
DX_RARE = ["Z85.038", "R54", "G30.9", "I50.9", "N18.6", "Z51.5"]
"""Exclusion diagnoses: drawn for 1 in 100 diagnoses."""
PX_POOL = [
    "99213", "99214", "99212", "99203", "99213", "99214", "77067", "45378", "82274", "81528", "3074F",
    "3075F", "3077F", "3078F", "3079F", "3080F", "3044F", "3046F", "3051F", "92250", "2023F", "99391",
    "99392", "99394", "99395", "99396", "80053", "85025", "36415", "G0439", "90471", "71046", "93000", "99284", "99238", "90834",
]  # fmt: skip
PX_RARE = ["Q5003", "44150", "92928", "92928"]
"""Hospice, total colectomy and PCI: drawn for 1 in 1,000 procedures."""
STATIN_NDCS = ["72603028201", "63304083090", "00378395277", "57237016990", "68180047902", "68180046901"]
"""Atorvastatin 10, 80 and 40 mg, rosuvastatin 10 mg, simvastatin 20 mg, lovastatin 40 mg (starter set)."""
OTHER_NDCS = ["00071015523", "00093721001", "99999999999"]
ENCOUNTER_POOL = [("CPT", "99213"), ("CPT", "99214"), ("HCPCS", "G0439"), ("CPT", "99395"), ("CPT", "99284")]
PROCEDURE_POOL = [("CPT", "77067"), ("CPT", "45378"), ("CPT", "92250"), ("CPTII", "3074F"), ("CPT", "82274")]
LAB_POOL = [  # (system, code, low, high)
    ("LOINC", "4548-4", 5.0, 12.0),
    ("LOINC", "97506-0", 5.5, 10.0),
    ("LOINC", "48642-3", 15.0, 110.0),
    ("LOINC", "9318-7", 2.0, 400.0),
    ("LOINC", "2093-3", 120.0, 280.0),
]
CVX_POOL = ["20", "10", "03", "49", "08", "21", "133", "83", "116", "141", "110", "120"]
DAY_2016 = (dt.date(2016, 1, 1) - dt.date(1970, 1, 1)).days


class _Random:
    """Seeded uniform draws as Polars expressions over a row index (no per-row Python): each draw hashes
    the index with its own seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.draws = 0

    def _next(self) -> int:
        self.draws += 1
        return self.seed * 1_000_003 + self.draws

    def integers(self, low: int, high: int) -> pl.Expr:
        """Uniform in [low, high)."""
        return (pl.col("i").hash(self._next()) % (high - low)).cast(pl.Int64) + low

    def uniform(self) -> pl.Expr:
        """Uniform in [0, 1)."""
        return (pl.col("i").hash(self._next()) % 1_000_000).cast(pl.Float64) / 1_000_000

    def normal(self, mean: float, sd: float) -> pl.Expr:
        """Approximately normal: the sum of twelve uniforms, centred."""
        return pl.sum_horizontal([self.uniform() for _ in range(12)]).sub(6.0).mul(sd).add(mean)


def _index(n: int) -> pl.DataFrame:
    return pl.DataFrame({"i": pl.int_range(n, eager=True, dtype=pl.Int64)})


def _pick(pool: list[str], index: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(pool, dtype=pl.String)).gather(index)


def _day(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Int32).cast(pl.Date)


def generate(members: int, claims_per_member: int, year: int, seed: int) -> MeasureInputs:
    rnd = _Random(seed)
    my_end = (dt.date(year, 12, 31) - dt.date(1970, 1, 1)).days
    base = _index(members).with_columns(
        pl.col("i").cast(pl.String).alias("member_id"),
        (my_end - rnd.integers(0, 90 * 365)).alias("birth"),
        _pick(["F", "M"], rnd.integers(0, 2)).alias("sex"),
        (rnd.uniform() < 0.10).alias("has_gap"),
        (my_end - rnd.integers(60, 300)).alias("gap_at"),
        rnd.integers(1, 91).alias("gap_len"),
        (rnd.uniform() < 0.03).alias("ends_early"),
        (my_end - rnd.integers(1, 200)).alias("early_end"),
        (my_end - rnd.integers(365, 12 * 365)).alias("start"),
    )
    members_frame = base.select(
        "member_id",
        _day(pl.col("birth")).alias("birth_date"),
        "sex",
        pl.lit(None, dtype=pl.Date).alias("death_date"),
    )
    first = base.select(
        "member_id",
        _day(pl.max_horizontal("start", "birth")).alias("start_date"),
        _day(
            pl.when(pl.col("has_gap") | pl.col("ends_early")).then(
                pl.max_horizontal(
                    pl.when("has_gap").then(pl.col("gap_at")).otherwise(pl.col("early_end")), "start", "birth"
                )
            )
        ).alias("end_date"),
    )
    second = base.filter("has_gap").select(
        "member_id",
        _day(pl.col("gap_at") + pl.col("gap_len") + 1).alias("start_date"),
        pl.lit(None, dtype=pl.Date).alias("end_date"),
    )
    enrollment = pl.concat([first, second])
    births = base.select("i", "birth")
    n = members * claims_per_member
    claims = (
        _index(n)
        .with_columns(rnd.integers(0, members).alias("owner"))
        .join(births.rename({"i": "owner"}), on="owner")
        .sort("i")
        .with_columns(pl.max_horizontal("birth", pl.lit(DAY_2016)).alias("lo"))
        .with_columns(
            pl.when(rnd.uniform() < 0.6).then(730).otherwise(my_end - pl.col("lo")).clip(1).alias("span")
        )
        .select(
            pl.col("i").cast(pl.String).alias("claim_line_id"),
            pl.col("owner").cast(pl.String).alias("member_id"),
            _day(pl.max_horizontal(my_end - (rnd.uniform() * pl.col("span")).cast(pl.Int64), "lo")).alias(
                "service_date"
            ),
            pl.concat_list(
                pl.when(rnd.uniform() < 0.01)
                .then(_pick(DX_RARE, rnd.integers(0, len(DX_RARE))))
                .otherwise(_pick(DX_POOL, rnd.integers(0, len(DX_POOL)))),
                pl.when(rnd.uniform() < 0.5).then(_pick(DX_POOL, rnd.integers(0, len(DX_POOL)))),
            )
            .list.drop_nulls()
            .alias("diagnosis_codes"),
            pl.concat_list(
                pl.when(rnd.uniform() < 0.001)
                .then(_pick(PX_RARE, rnd.integers(0, len(PX_RARE))))
                .otherwise(_pick(PX_POOL, rnd.integers(0, len(PX_POOL))))
            ).alias("procedure_codes"),
        )
    )
    return MeasureInputs(
        members_frame,
        enrollment,
        claims=claims,
        pharmacy=_pharmacy(rnd, my_end, members),
        clinical=_clinical(rnd, births, my_end, members),
        encounters=_encounters(rnd, my_end, members),
    )


def _pharmacy(rnd: _Random, my_end: int, members: int) -> pl.DataFrame:
    """A statin refill series for about a fifth of the members (first fill in the year or the one before,
    30 or 90 days, each refill 0.8 to 1.4 supplies later: some adherent, some not), and one other fill for
    about a tenth."""
    users = (
        _index(members)
        .filter(rnd.uniform() < 0.2)
        .with_columns(
            (my_end - rnd.integers(0, 500)).alias("first"),
            pl.when(rnd.uniform() < 0.6).then(30).otherwise(90).alias("supply"),
            (0.8 + rnd.uniform() * 0.6).alias("pace"),
            _pick(STATIN_NDCS, rnd.integers(0, len(STATIN_NDCS))).alias("ndc"),
        )
        .with_columns(pl.int_ranges(0, 13).alias("k"))
        .explode("k")
        .with_columns(
            (pl.col("first") + (pl.col("k") * pl.col("supply") * pl.col("pace")).cast(pl.Int64)).alias("day")
        )
        .filter(pl.col("day") <= my_end)
        .select("i", "ndc", "day", "supply")
    )
    others = (
        _index(members)
        .filter(rnd.uniform() < 0.1)
        .select(
            "i",
            _pick(OTHER_NDCS, rnd.integers(0, len(OTHER_NDCS))).alias("ndc"),
            (my_end - rnd.integers(0, 365)).alias("day"),
            pl.lit(30, dtype=pl.Int64).alias("supply"),
        )
    )
    return (
        pl.concat([users, others], how="vertical_relaxed")
        .with_row_index("n")
        .select(
            pl.col("n").cast(pl.String).alias("fill_id"),
            pl.col("i").cast(pl.String).alias("member_id"),
            "ndc",
            _day(pl.col("day")).alias("fill_date"),
            pl.col("supply").cast(pl.Int32).alias("days_supply"),
        )
    )


def _encounters(rnd: _Random, my_end: int, members: int) -> pl.DataFrame:
    """One encounter (office, wellness, preventive or ED visit) per member on average, in the last 500 days."""
    return (
        _index(members)
        .with_columns(rnd.integers(0, len(ENCOUNTER_POOL)).alias("which"))
        .select(
            pl.col("i").cast(pl.String).alias("encounter_id"),
            rnd.integers(0, members).cast(pl.String).alias("member_id"),
            _pick([e[0] for e in ENCOUNTER_POOL], pl.col("which")).alias("code_system"),
            _pick([e[1] for e in ENCOUNTER_POOL], pl.col("which")).alias("code"),
            _day(my_end - rnd.integers(0, 500)).alias("encounter_date"),
        )
    )


def _clinical(rnd: _Random, births: pl.DataFrame, my_end: int, members: int) -> pl.DataFrame:
    bp = _index(members).with_columns(
        rnd.integers(0, members).alias("owner"),
        (my_end - rnd.integers(0, 500)).alias("day"),
        rnd.normal(134, 16).round().alias("sys"),
        rnd.normal(82, 10).round().alias("dia"),
    )
    systolic = bp.select(
        "owner",
        "day",
        pl.lit("LOINC").alias("code_system"),
        pl.lit("8480-6").alias("code"),
        pl.col("sys").alias("value"),
    )
    diastolic = bp.select(
        "owner",
        "day",
        pl.lit("LOINC").alias("code_system"),
        pl.lit("8462-4").alias("code"),
        pl.col("dia").alias("value"),
    )
    low = pl.Series([p[2] for p in LAB_POOL])
    high = pl.Series([p[3] for p in LAB_POOL])
    labs = (
        _index(members * 2)
        .with_columns(rnd.integers(0, len(LAB_POOL)).alias("which"))
        .select(
            rnd.integers(0, members).alias("owner"),
            (my_end - rnd.integers(0, 500)).alias("day"),
            pl.lit("LOINC").alias("code_system"),
            _pick([p[1] for p in LAB_POOL], pl.col("which")).alias("code"),
            (
                pl.lit(low).gather(pl.col("which"))
                + rnd.uniform() * (pl.lit(high).gather(pl.col("which")) - pl.lit(low).gather(pl.col("which")))
            )
            .round(1)
            .alias("value"),
        )
    )
    shots = (
        _index(members)
        .with_columns(rnd.integers(0, members).alias("owner"))
        .join(births.rename({"i": "owner"}), on="owner")
        .sort("i")
        .select(
            "owner",
            pl.min_horizontal(pl.col("birth") + rnd.integers(42, 730), pl.lit(my_end)).alias("day"),
            pl.lit("CVX").alias("code_system"),
            _pick(CVX_POOL, rnd.integers(0, len(CVX_POOL))).alias("code"),
            pl.lit(None, dtype=pl.Float64).alias("value"),
        )
    )
    procedures = (
        _index(members // 2)
        .with_columns(rnd.integers(0, len(PROCEDURE_POOL)).alias("which"))
        .select(
            rnd.integers(0, members).alias("owner"),
            (my_end - rnd.integers(0, 800)).alias("day"),
            _pick([p[0] for p in PROCEDURE_POOL], pl.col("which")).alias("code_system"),
            _pick([p[1] for p in PROCEDURE_POOL], pl.col("which")).alias("code"),
            pl.lit(None, dtype=pl.Float64).alias("value"),
        )
    )
    rows = pl.concat([systolic, diastolic, labs, shots, procedures], how="vertical_relaxed")
    return rows.with_row_index("n").select(
        pl.col("n").cast(pl.String).alias("clinical_id"),
        pl.col("owner").cast(pl.String).alias("member_id"),
        "code_system",
        "code",
        pl.col("value").cast(pl.Float64),
        pl.lit(None, dtype=pl.String).alias("unit"),
        _day(pl.col("day")).alias("observed_date"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--claims-per-member", type=int, default=20)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    inputs = generate(args.members, args.claims_per_member, args.year, args.seed)
    generated = time.perf_counter() - started
    measures, value_sets = load_measures(args.year), starter_value_sets(args.year)
    started = time.perf_counter()
    results = evaluate(inputs, measures, value_sets)
    seconds = time.perf_counter() - started
    assert inputs.claims is not None
    assert inputs.clinical is not None
    row = {
        "case": "quality measures engine",
        "members": args.members,
        "claim_lines": inputs.claims.height,
        "clinical_rows": inputs.clinical.height,
        "result_rows": results.members.height,
        "generate_seconds": round(generated, 1),
        "seconds": round(seconds, 1),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores",
    }
    if args.json:
        print(json.dumps({"row": row, "rates": results.rates.to_dicts()}))
    else:
        with pl.Config(tbl_rows=50, tbl_cols=10):
            print(results.rates)
        for key, value in row.items():
            print(f"{key}: {value:,}" if isinstance(value, int) else f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
