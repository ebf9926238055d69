"""The eligibility benchmark: generate an N-member 834 full file, parse it, then import it (when available).

    python bench/eligibility/run.py [--members 1000000] [--json]

1. generate: bench.eligibility.generate writes the file with write_834 (deterministic for a seed) into
   bench/out/eligibility/; ``--reuse`` keeps a file already generated with the same settings.
2. parse: bench.eligibility.parse times read_834 over the whole file and pyx12 over its first
   ``--pyx12-members`` members (each in its own process; peak memory from wait4).
3. import: when bench/eligibility/importing.py is present, its ``run_import(path, members, kinds)``
   imports the file end to end into each database kind (``--db``, default sqlite and postgresql) and
   returns result rows; ``--no-import`` skips it.

The table is printed (``--json``: the rows as JSON) and every row is appended to bench/out/results.jsonl.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if not __package__:  # run as a script (PEP 366): import this directory as the package bench.eligibility
    sys.path.insert(0, str(ROOT))
    __package__ = "bench.eligibility"
    importlib.import_module(__package__)

from bench.run import machine, record  # noqa: E402

from . import generate, parse  # noqa: E402

OUT = ROOT / "bench" / "out"


def _generated(members: int, settings: generate.Settings, reuse: bool) -> tuple[Path, dict[str, Any] | None]:
    """The generated file, and its result row (None when an identical file was reused)."""
    folder = OUT / "eligibility"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"834-{members}-seed{settings.seed}.x12"
    sidecar = path.with_suffix(".json")
    wanted = {"members": members, "seed": settings.seed, "payer_id": settings.payer_id,
              "plans": list(settings.plans)}  # fmt: skip
    if reuse and path.exists() and sidecar.exists():
        saved = json.loads(sidecar.read_text())
        if saved.get("settings") == wanted and saved.get("size") == path.stat().st_size:
            return path, None
    start = time.perf_counter()
    written = generate.write_file(path, members, settings)
    seconds = time.perf_counter() - start
    sidecar.write_text(json.dumps({"settings": wanted, "size": path.stat().st_size}))
    return path, {
        "case": "generate (write_834 to disk)",
        "members": written,
        "seconds": round(seconds, 2),
        "per_second": round(written / seconds),
        "unit": "members/s",
        "file_mib": round(path.stat().st_size / 2**20, 1),
    }


def _import_phase() -> Any:
    """``run_import`` of bench/eligibility/importing.py, or None when that module is not there."""
    if importlib.util.find_spec("bench.eligibility.importing") is None:
        return None
    return importlib.import_module("bench.eligibility.importing").run_import


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'case':<44} {'db':<10} {'members':>9} {'seconds':>8} {'throughput':>20} {'peak MiB':>9}"]
    for r in rows:
        rate = f"{r['per_second']:,} {r['unit']}" if r.get("per_second") is not None else r.get("status", "")
        lines.append(
            f"{r['case']:<44} {r.get('db', '-'):<10} {r['members']:>9,} {r['seconds']:>8} {rate:>20} "
            f"{r.get('peak_mib', '-'):>9}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--payer-id", default=generate.DEFAULT_PAYER_ID)
    parser.add_argument("--plans", default=",".join(generate.DEFAULT_PLANS))
    parser.add_argument("--pyx12-members", type=int, default=parse.PYX12_MEMBERS, help="0 skips pyx12")
    parser.add_argument("--reuse", action="store_true", help="keep a file generated with the same settings")
    parser.add_argument("--no-import", action="store_true", help="skip the import phase")
    parser.add_argument("--db", default="sqlite,postgresql", help="database kinds for the import phase")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    plans = tuple(p.strip() for p in args.plans.split(",") if p.strip())
    settings = generate.Settings(args.seed, args.payer_id, plans)
    say = (lambda text: print(text, file=sys.stderr)) if args.json else print

    say(f"eligibility bench: {args.members:,} members (seed {args.seed})")
    path, generated = _generated(args.members, settings, args.reuse)
    rows: list[dict[str, Any]] = [generated] if generated else []
    say(f"  file: {path} ({'generated' if generated else 'reused'})")
    parsed = parse.parse(path, args.pyx12_members)
    rows += parsed
    for line in parse.describe(parsed):
        say(f"  {line}")
    run_import = None if args.no_import else _import_phase()
    if run_import is not None:
        kinds = [k.strip() for k in args.db.split(",") if k.strip()]
        say(f"  import: {', '.join(kinds)}")
        rows += run_import(path, args.members, kinds)
    elif not args.no_import:
        say("  import: skipped (bench/eligibility/importing.py is not there)")

    record(rows, "eligibility")
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(_table(rows))
        print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
