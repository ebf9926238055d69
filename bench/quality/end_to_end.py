"""The quality measures benchmark end to end (issue 8): files on disk -> engine inputs -> every measure -> results.

    python bench/quality/end_to_end.py [--members 1000000] [--claims-per-member 20] [--year 2025]
                                       [--dir var/bench/quality] [--keep] [--json]

1. Generate (not timed): ``measures.generate``'s synthetic members, enrollment, claim lines, pharmacy fills,
   clinical rows (BP pairs, HbA1c, GMI, eGFR, uACR, CVX doses, procedures) and encounters, written as Parquet
   files to ``--dir`` the way a warehouse extract would hold them: claim lines flat (``dx1``, ``dx2``,
   ``px``), fills with their NDC as printed (some 11-digit, some hyphenated).
2. Timed, in a fresh process (so its peak RSS is the run's alone): **read** the six files; **build** the
   engine inputs (claim code lists from the flat columns, dtypes the engine checks); **evaluate** every
   measure of the year (SPC included) with the starter value sets; **write** the per-member results and the
   rates to Parquet.

Prints the wall time of each phase, the end-to-end time, throughput (claim lines per second end to end),
the child's CPU seconds and peak RSS, and the 1-minute load average before and after (the machine may be
shared: wall time well above CPU time / cores means the run waited for the CPU). The files are removed afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
for entry in (ROOT / "src", ROOT):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from bench.quality.measures import generate  # noqa: E402

from openipa.quality.engine import MeasureInputs, evaluate, load_measures, starter_value_sets  # noqa: E402

SOURCES = ("members", "enrollment", "claims", "pharmacy", "clinical", "encounters")


def write_files(folder: Path, members: int, claims_per_member: int, year: int, seed: int) -> dict[str, int]:
    """Generate the synthetic sources and write them to ``folder`` as Parquet; their row counts."""
    folder.mkdir(parents=True, exist_ok=True)
    inputs = generate(members, claims_per_member, year, seed)
    assert inputs.claims is not None
    assert inputs.pharmacy is not None
    claims = inputs.claims.select(
        "claim_line_id",
        "member_id",
        "service_date",
        pl.col("diagnosis_codes").list.get(0, null_on_oob=True).alias("dx1"),
        pl.col("diagnosis_codes").list.get(1, null_on_oob=True).alias("dx2"),
        pl.col("procedure_codes").list.get(0, null_on_oob=True).alias("px"),
    )
    # Every third fill's NDC as printed on the label (4-4-2 or 5-4-1 with hyphens): the engine pads it.
    hyphenated = pl.concat_str(
        pl.col("ndc").str.slice(1, 4),
        pl.lit("-"),
        pl.col("ndc").str.slice(5, 4),
        pl.lit("-"),
        pl.col("ndc").str.slice(9, 2),
    )
    pharmacy = inputs.pharmacy.with_columns(
        pl.when((pl.col("fill_id").str.tail(1).is_in(["0", "3", "6"])) & pl.col("ndc").str.starts_with("0"))
        .then(hyphenated)
        .otherwise(pl.col("ndc"))
        .alias("ndc")
    )
    frames = {
        "members": inputs.members,
        "enrollment": inputs.enrollment,
        "claims": claims,
        "pharmacy": pharmacy,
        "clinical": inputs.clinical,
        "encounters": inputs.encounters,
    }
    counts = {}
    for name, frame in frames.items():
        assert frame is not None
        frame.write_parquet(folder / f"{name}.parquet")
        counts[name] = frame.height
    return counts


def run(folder: Path, year: int, out: Path) -> dict[str, object]:
    """Read the files, build the inputs, evaluate, write the results; wall seconds per phase."""
    seconds: dict[str, float] = {}
    load_before = os.getloadavg()[0]
    cpu_started = time.process_time()
    started = time.perf_counter()
    raw = {name: pl.read_parquet(folder / f"{name}.parquet") for name in SOURCES}
    seconds["read"] = time.perf_counter() - started

    mark = time.perf_counter()
    claims = raw["claims"].select(
        "claim_line_id",
        "member_id",
        "service_date",
        # Joined and split rather than concat_list + drop_nulls: the same lists, about ten times faster.
        pl.concat_str("dx1", "dx2", separator="|", ignore_nulls=True).str.split("|").alias("diagnosis_codes"),
        pl.concat_str("px", separator="|", ignore_nulls=True).str.split("|").alias("procedure_codes"),
    )
    inputs = MeasureInputs(
        members=raw["members"],
        enrollment=raw["enrollment"],
        claims=claims,
        pharmacy=raw["pharmacy"],
        clinical=raw["clinical"],
        encounters=raw["encounters"],
    )
    del raw
    measures, value_sets = load_measures(year), starter_value_sets(year)
    seconds["build"] = time.perf_counter() - mark

    mark = time.perf_counter()
    results = evaluate(inputs, measures, value_sets)
    seconds["evaluate"] = time.perf_counter() - mark

    mark = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    results.members.write_parquet(out / "member_results.parquet")
    results.rates.write_parquet(out / "rates.parquet")
    seconds["write"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    assert inputs.claims is not None
    return {
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "claim_lines": inputs.claims.height,
        "claim_lines_per_second": round(inputs.claims.height / seconds["total"]),
        "result_rows": results.members.height,
        "measures": len(measures.measures),
        "rates": results.rates.to_dicts(),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "cpu_seconds": round(cpu, 1),
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--claims-per-member", type=int, default=20)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "bench" / "quality")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and results")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--run-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder: Path = args.dir
    if args.run_only:
        print(json.dumps(run(folder / "input", args.year, folder / "output")))
        return 0
    started = time.perf_counter()
    counts = write_files(folder / "input", args.members, args.claims_per_member, args.year, args.seed)
    generated = time.perf_counter() - started
    on_disk = sum(f.stat().st_size for f in (folder / "input").iterdir())
    try:
        child = subprocess.run(
            [sys.executable, __file__, "--run-only", "--dir", str(folder), "--year", str(args.year)],
            check=True,
            capture_output=True,
            text=True,
        )
        measured = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    row = {
        "case": "quality measures end to end (Parquet in, Parquet out)",
        "members": args.members,
        **{f"{name}_rows": count for name, count in counts.items()},
        "input_mib": on_disk // (1024 * 1024),
        "generate_seconds": round(generated, 1),
        **{f"{phase}_seconds": value for phase, value in measured["seconds"].items()},
        "claim_lines_per_second": measured["claim_lines_per_second"],
        "cpu_seconds": measured["cpu_seconds"],
        "load_average_before_after": measured["load_average"],
        "result_rows": measured["result_rows"],
        "peak_mib": measured["peak_mib"],
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
    }
    if args.json:
        print(json.dumps({"row": row, "rates": measured["rates"]}))
    else:
        with pl.Config(tbl_rows=50, tbl_cols=10):
            print(pl.DataFrame(measured["rates"]))
        for key, value in row.items():
            print(f"{key}: {value:,}" if isinstance(value, int) else f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
