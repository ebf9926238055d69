"""Parse throughput of an 837P file: read_837_columns and read_837 over N claims, pyx12 over the first K, in the
same run.

    python bench/claims/parse.py [--claims 200000] [--seed 7] [--pyx12-claims 2000] [--reuse] [--json]

The file is generated with bench/claims/generate.py into bench/out/claims/ (``--reuse`` keeps one
already generated with the same size and seed). Each parser runs in its own process, timed inside that
process (interpreter start-up not counted); its peak resident memory is read from ``wait4``, so it is that
process's alone. read_837_columns (the bulk path claims intake takes) reads the file into a claims frame and
a lines frame with Polars, on every core; read_837 (the reference reader, one core) maps every claim to a
Claim837 and counts its service lines; neither stores anything. pyx12 validates the K-claim file of the same seed (the generator's first K
claims are the same whatever N is) against its 005010X222A1 map; claims per second are comparable.
Rows are printed and appended to bench/out/results.jsonl (bench/run.py's ``record``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if not __package__:  # run as a script (PEP 366): import this directory as the package bench.claims
    sys.path.insert(0, str(ROOT))
    __package__ = "bench.claims"
    importlib.import_module(__package__)

from bench.run import OUT, machine, pyx12_validate, record, run_child  # noqa: E402

from openipa.edi.t837 import Claim837, read_837  # noqa: E402
from openipa.edi.t837_columns import read_837_columns  # noqa: E402

from . import generate  # noqa: E402

PYX12_CLAIMS = 2_000


def _child_read_837(path: Path) -> dict[str, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    claims = lines = problems = 0
    for item in read_837(path):
        if isinstance(item, Claim837):
            claims += 1
            lines += len(item.lines)
        else:
            problems += 1
    return {
        "claims": claims,
        "lines": lines,
        "problems": problems,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
    }


def _child_read_837_columns(path: Path) -> dict[str, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    read = read_837_columns(path)
    if read is None:
        raise SystemExit(f"read_837_columns does not read {path}: read_837 says what is wrong with it")
    return {
        "claims": read.claims.height,
        "lines": read.lines.height,
        "problems": 0,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
    }


def _row(case: str, result: dict[str, Any], rss: int, path: Path) -> dict[str, Any]:
    return {
        "case": case,
        "claims": result["claims"],
        "lines": result["lines"],
        "problems": result["problems"],
        "seconds": round(result["seconds"], 2),
        "cpu_seconds": round(result["cpu_seconds"], 2),
        "per_second": round(result["claims"] / result["seconds"]),
        "lines_per_second": round(result["lines"] / result["seconds"]),
        "unit": "claims/s",
        "peak_mib": rss,
        "file_mib": round(path.stat().st_size / 2**20, 1),
    }


def generated(claims: int, seed: int, reuse: bool) -> Path:
    path = OUT / "claims" / f"claims-{claims}-seed{seed}.837"
    if not (reuse and path.exists()):
        path.parent.mkdir(parents=True, exist_ok=True)
        generate.write(path, claims=claims, seed=seed)
    return path


def parse(claims: int, seed: int, pyx12_claims: int, reuse: bool) -> list[dict[str, Any]]:
    path = generated(claims, seed, reuse)
    columns, columns_rss = run_child("bench.claims.parse", "read_837_columns", path)
    ours, ours_rss = run_child("bench.claims.parse", "read_837", path)
    rows: list[dict[str, Any]] = [
        _row("read_837_columns (bulk path, Polars)", columns, columns_rss, path),
        _row("read_837 (reference reader, one core)", ours, ours_rss, path),
    ]
    if pyx12_claims <= 0:
        return rows
    with tempfile.TemporaryDirectory(prefix="openipa-bench-pyx12-") as tmp:
        prefix = Path(tmp) / f"first-{pyx12_claims}.837"
        generate.write(prefix, claims=pyx12_claims, seed=seed)
        theirs, theirs_rss = run_child("bench.claims.parse", "pyx12", prefix)
        prefix_mib = round(prefix.stat().st_size / 2**20, 1)
    rate = pyx12_claims / theirs["seconds"]
    rows.append(
        {
            "case": f"pyx12 validation (first {pyx12_claims:,} claims)",
            "claims": pyx12_claims,
            "seconds": round(theirs["seconds"], 2),
            "cpu_seconds": round(theirs["cpu_seconds"], 2),
            "per_second": round(rate),
            "unit": "claims/s",
            "peak_mib": theirs_rss,
            "file_mib": prefix_mib,
            "valid": theirs["valid"],
            "errors": theirs["errors"],
            "first_errors": theirs["first_errors"],
            "ratio": round(rows[0]["per_second"] / rate, 1),
            "ratio_read_837": round(rows[1]["per_second"] / rate, 1),
        }
    )
    return rows


def describe(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in rows[:2]:
        lines.append(
            f"{r['case']}: {r['claims']:,} claims, {r['lines']:,} lines ({r['file_mib']} MiB) in {r['seconds']} s "
            f"(CPU {r['cpu_seconds']} s) = {r['per_second']:,} claims/s, {r['lines_per_second']:,} lines/s, "
            f"peak {r['peak_mib']} MiB" + (f"; {r['problems']} claim problems" if r["problems"] else "")
        )
    if len(rows) > 2:
        p = rows[2]
        verdict = "valid" if p["valid"] else f"INVALID ({p['errors']} errors: {p['first_errors']})"
        lines.append(
            f"pyx12 (an independent validator) on the first {p['claims']:,} claims: {p['per_second']:,} claims/s, "
            f"peak {p['peak_mib']} MiB, file {verdict}; read_837_columns is {p['ratio']}x faster, "
            f"read_837 {p['ratio_read_837']}x"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--pyx12-claims", type=int, default=PYX12_CLAIMS, help="0 skips pyx12")
    parser.add_argument("--reuse", action="store_true", help="keep a file already generated")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=["read_837_columns", "read_837", "pyx12"], help=argparse.SUPPRESS)
    parser.add_argument("file", type=Path, nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "read_837_columns":
        print(json.dumps(_child_read_837_columns(args.file)))
        return
    if args.child == "read_837":
        print(json.dumps(_child_read_837(args.file)))
        return
    if args.child == "pyx12":
        print(json.dumps(pyx12_validate(args.file)))
        return
    rows = parse(args.claims, args.seed, args.pyx12_claims, args.reuse)
    record(rows, "claims")
    print(json.dumps(rows, indent=2) if args.json else "\n".join([*describe(rows), f"machine: {machine()}"]))


if __name__ == "__main__":
    main()
