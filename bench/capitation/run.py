"""The capitation benchmark: engines on N member-months, then one month's cycle end to end on each database.

    python bench/capitation/run.py [--members 1000000] [--db sqlite,postgresql] [--json]

1. engines: ``bench.capitation.engine`` (expected capitation and the distribution, in one process).
2. end to end, per database kind, on a fresh database: the eligibility benchmark's N-member 834 is imported as
   the roster (``bench/eligibility/setup_db.py`` and ``openipa import-roster``, not timed), the capitation
   setup is added (``bench/capitation/setup_db.py``, not timed), then each step runs as its own process and is
   timed with its peak memory: ``openipa import-capitation`` (the month's 820, written by
   ``bench.capitation.generate`` and cached under bench/out/capitation/), ``openipa capitation reconcile``,
   ``distribute``, ``approve`` (which posts the ledger entry), ``statements`` (a PDF and a CSV per practice)
   and ``openipa payments nacha``. The end-to-end row is the sum of the timed steps.

Rows are printed (``--json``: as JSON) and appended to bench/out/results.jsonl.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if not __package__:
    sys.path.insert(0, str(ROOT))
    __package__ = "bench.capitation"
    importlib.import_module(__package__)

from bench.eligibility import generate as eligibility_generate  # noqa: E402
from bench.eligibility.run import _generated  # noqa: E402
from bench.run import OPENIPA, database, machine, record, run  # noqa: E402

from . import generate  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
OUT = ROOT / "bench" / "out"
MONTH = "2026-10"


def _engine(members: int) -> dict[str, Any]:
    out = subprocess.run([str(PYTHON), "-m", "bench.capitation.engine", "--member-months", str(members)],
                         cwd=ROOT, check=True, capture_output=True, text=True)  # fmt: skip
    row: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return row


def _remittance(path_834: Path, members: int) -> Path:
    folder = OUT / "capitation"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"820-{members}-{MONTH}.x12"
    stamp = path.with_suffix(".source")
    source = f"{path_834.name} {path_834.stat().st_size}"
    if not path.exists() or not stamp.exists() or stamp.read_text() != source:
        generate.write(path_834, path)
        stamp.write_text(source)
    return path


def _steps(kind: str, path_834: Path, path_820: Path, members: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with database(kind) as env, tempfile.TemporaryDirectory(prefix="openipa-cap-") as tmp:
        setup = [
            [str(PYTHON), str(ROOT / "bench" / "eligibility" / "setup_db.py"), str(path_834)],
            [str(OPENIPA), "import-roster", str(path_834), "--payer", "BENCH", "--json"],
            [str(PYTHON), str(ROOT / "bench" / "capitation" / "setup_db.py")],
        ]
        for command in setup:
            subprocess.run(command, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        steps: list[tuple[str, list[str]]] = [
            ("import-capitation (820)", ["import-capitation", str(path_820), "--payer", "BENCH", "--json"]),
            ("capitation reconcile", ["capitation", "reconcile", "--payer", "BENCH", "--month", MONTH, "--json"]),
            ("capitation distribute", ["capitation", "distribute", "--payer", "BENCH", "--month", MONTH, "--user",
                                       "bench-fin", "--json"]),
        ]  # fmt: skip
        run_id = None
        total = 0.0
        for label, args in steps:
            wall, rss, out = run([str(OPENIPA), *args], env)
            total += wall
            rows.append(_row(label, kind, members, wall, rss))
            if label.startswith("capitation distribute"):
                run_id = json.loads(out)["run_id"]
        assert run_id is not None
        for label, args in (
            ("capitation approve (+ ledger)", ["capitation", "approve", str(run_id), "--user", "bench-fin2"]),
            (
                "capitation statements",
                ["capitation", "statements", str(run_id), "--out", f"{tmp}/statements"],
            ),
            ("payments nacha", ["payments", "nacha", str(run_id), "--out", f"{tmp}/run.ach"]),
        ):
            wall, rss, _out = run([str(OPENIPA), *args], env)
            total += wall
            rows.append(_row(label, kind, members, wall, rss))
        rows.append(
            _row("end to end (sum of the steps)", kind, members, total, max(r["peak_mib"] for r in rows))
        )
    return rows


def _row(case: str, kind: str, members: int, seconds: float, rss: int) -> dict[str, Any]:
    return {"case": case, "db": kind, "members": members, "seconds": round(seconds, 2),
            "per_second": round(members / seconds) if seconds else None, "unit": "member-months/s",
            "peak_mib": rss}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--engine-only", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    say = (lambda text: print(text, file=sys.stderr)) if args.json else print
    rows = [_engine(args.members)]
    say(f"engines: {rows[0]['seconds']} s for {args.members:,} member-months")
    if not args.engine_only:
        settings = eligibility_generate.Settings(
            eligibility_generate.DEFAULT_SEED,
            eligibility_generate.DEFAULT_PAYER_ID,
            eligibility_generate.DEFAULT_PLANS,
        )
        path_834, _ = _generated(args.members, settings, reuse=True)
        path_820 = _remittance(path_834, args.members)
        for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
            say(f"end to end on {kind} ...")
            rows += _steps(kind, path_834, path_820, args.members)
    record(rows, "capitation")
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        print(f"{r['case']:<34} {r['db']:<10} {r['members']:>9,} {r['seconds']:>8} {r['peak_mib']:>6} MiB")
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
