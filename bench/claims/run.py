"""The claims benchmark (issue 5): N claim lines parsed, adjudicated by the engine alone, then end to end.

    python bench/claims/run.py [--lines 1000000] [--db sqlite,postgresql] [--pyx12-claims 2000] [--json]
                               [--engine-only] [--no-parse] [--no-engine]

The generated 837P has 5.5 lines per claim on average, so N lines are about N / 5.5 claims.

1. parse: ``bench/claims/parse.py`` (read_837 over the whole file, pyx12 over its first claims, in the same
   run; the ratio of their claims per second).
2. engine: ``bench.claims.engine`` (the adjudication engine alone on N synthetic lines with realistic context
   frames; pricing and the code edits timed beside it), in its own process.
3. end to end, per database kind, on a fresh database. Not timed: the eligibility benchmark's 834 of
   claims / 2 members is imported as the roster (``bench/eligibility/setup_db.py``, ``openipa import-roster``)
   and the claims setup added (``bench/claims/setup_db.py``: fee schedules, DOFR, contracts, providers, code
   edits, interest rule, finance users); the 837 is generated for those members (cached under
   bench/out/claims/). Timed, each its own process with its peak memory: ``openipa import-claims``,
   ``openipa claims adjudicate``, ``claims pay``, ``approve``, ``remit`` (one 835 per payee) and ``nacha``.
   The end-to-end row is the sum of the timed steps.

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
if not __package__:  # run as a script (PEP 366): import this directory as the package bench.claims
    sys.path.insert(0, str(ROOT))
    __package__ = "bench.claims"
    importlib.import_module(__package__)

from bench.eligibility import generate as eligibility_generate  # noqa: E402
from bench.eligibility.run import _generated  # noqa: E402
from bench.run import OPENIPA, database, machine, record, run  # noqa: E402

from . import generate, parse  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
OUT = ROOT / "bench" / "out"
LINES_PER_CLAIM = 5.5
"""The generator's mean (one to ten lines per claim, uniformly)."""
RECEIVED = "2026-11-02"
"""The day the claims count as received: the generator's file date (services are up to 90 days before it)."""


def claims_for(lines: int) -> int:
    return max(1, round(lines / LINES_PER_CLAIM))


def _engine(lines: int) -> dict[str, Any]:
    out = subprocess.run([str(PYTHON), "-m", "bench.claims.engine", "--lines", str(lines)], cwd=ROOT, check=True,
                         capture_output=True, text=True)  # fmt: skip
    row: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return row


def member_ids(path_834: Path) -> list[str]:
    """The member ids of the 834, in file order (read once, not timed)."""
    from openipa.edi.t834 import MemberRecord, read_834

    return [m.member_id for m in read_834(path_834) if isinstance(m, MemberRecord)]


def claims_file(path_834: Path, claims: int, seed: int) -> Path:
    """The 837 of ``claims`` claims for the 834's members, generated once and kept under bench/out/claims/."""
    folder = OUT / "claims"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"e2e-{claims}-seed{seed}.837"
    stamp = path.with_suffix(".source")
    source = f"{path_834.name} {path_834.stat().st_size} seed {seed}"
    if not path.exists() or not stamp.exists() or stamp.read_text() != source:
        generate.write(path, claims=claims, seed=seed, members=member_ids(path_834))
        stamp.write_text(source)
    return path


def _steps(kind: str, path_834: Path, path_837: Path, seed: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with database(kind) as env, tempfile.TemporaryDirectory(prefix="openipa-claims-") as tmp:
        setup = [
            [str(PYTHON), str(ROOT / "bench" / "eligibility" / "setup_db.py"), str(path_834)],
            [str(OPENIPA), "import-roster", str(path_834), "--payer", "BENCH", "--json"],
            [str(PYTHON), str(ROOT / "bench" / "claims" / "setup_db.py"), "--seed", str(seed)],
        ]
        for command in setup:
            subprocess.run(command, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        wall, rss, out = run(
            [str(OPENIPA), "import-claims", str(path_837), "--received", RECEIVED, "--json"], env
        )
        imported = json.loads(out)
        if imported["status"] != "applied":
            raise SystemExit(f"import-claims: {imported['status']}: {imported['errors'][:5]}")
        lines = int(imported["lines"])
        detail: dict[str, Any] = {
            "claims": imported["claims"],
            "unknown_members": imported["unknown_members"],
        }
        rows.append(_row("import-claims (837)", kind, lines, wall, rss, detail))
        wall, rss, out = run([str(OPENIPA), "claims", "adjudicate", "--json"], env)
        decided = json.loads(out)
        rows.append(_row("claims adjudicate", kind, lines, wall, rss,
                         {**decided["by_outcome"], "auto_adjudication_rate": decided["auto_adjudication_rate"]}))  # fmt: skip
        # lines are stamped with the time they were adjudicated: a run through today (the database's) takes them
        today = subprocess.run([str(OPENIPA), "shell", "-c", "from django.utils import timezone; "
                                "print(timezone.localdate())"], env=env, check=True, capture_output=True,
                               text=True).stdout.strip().splitlines()[-1]  # fmt: skip
        wall, rss, out = run(
            [str(OPENIPA), "claims", "pay", "--through", today, "--user", "bench-fin", "--json"], env
        )
        paid = json.loads(out)
        run_id = str(paid["run_id"])
        rows.append(_row("claims pay (draft run)", kind, lines, wall, rss,
                         {"run_lines": paid.get("lines"), "payees": len(paid.get("payees", []))}))  # fmt: skip
        for label, args in (
            ("claims approve (+ ledger)", ["claims", "approve", run_id, "--user", "bench-fin2"]),
            ("claims remit (835s)", ["claims", "remit", run_id, "--out", f"{tmp}/835"]),
            ("claims nacha", ["claims", "nacha", run_id, "--out", f"{tmp}/run.ach"]),
        ):
            wall, rss, _out = run([str(OPENIPA), *args], env)
            rows.append(_row(label, kind, lines, wall, rss))
        files = sorted((Path(tmp) / "835").glob("*"))
        rows[-2]["files"] = len(files)
        rows[-2]["mib"] = round(sum(f.stat().st_size for f in files) / 2**20, 1)
        total = sum(r["seconds"] for r in rows)
        rows.append(
            _row("end to end (sum of the steps)", kind, lines, total, max(r["peak_mib"] for r in rows))
        )
    return rows


def _row(
    case: str, kind: str, lines: int, seconds: float, rss: int, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"case": case, "db": kind, "lines": lines, "seconds": round(seconds, 2),
            "per_second": round(lines / seconds) if seconds else None, "unit": "lines/s", "peak_mib": rss,
            **(extra or {})}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--pyx12-claims", type=int, default=parse.PYX12_CLAIMS, help="0 skips pyx12")
    parser.add_argument("--engine-only", action="store_true", help="only the engine benchmark")
    parser.add_argument("--no-parse", action="store_true", help="skip the parse benchmark")
    parser.add_argument("--no-engine", action="store_true", help="skip the engine benchmark")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    say = (lambda text: print(text, file=sys.stderr)) if args.json else print
    claims = claims_for(args.lines)
    say(f"claims bench: {args.lines:,} lines (~{claims:,} claims, seed {args.seed})")
    rows: list[dict[str, Any]] = []
    if not args.engine_only and not args.no_parse:
        parsed = parse.parse(claims, args.seed, args.pyx12_claims, reuse=True)
        rows += [{**r, "db": "-"} for r in parsed]
        for text in parse.describe(parsed):
            say(f"  {text}")
    if args.engine_only or not args.no_engine:
        engine = _engine(args.lines)
        rows.append(engine)
        say(f"  engine: {engine['seconds']} s for {engine['lines']:,} lines = {engine['per_second']:,} lines/s "
            f"(adjudication alone {engine['adjudicate_per_second']:,} lines/s), peak {engine['peak_mib']} MiB")  # fmt: skip
    if not args.engine_only:
        settings = eligibility_generate.Settings(
            eligibility_generate.DEFAULT_SEED,
            eligibility_generate.DEFAULT_PAYER_ID,
            eligibility_generate.DEFAULT_PLANS,
        )
        path_834, _ = _generated(max(100, claims // 2), settings, reuse=True)
        path_837 = claims_file(path_834, claims, args.seed)
        for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
            say(f"  end to end on {kind} ...")
            rows += _steps(kind, path_834, path_837, args.seed)
    record(rows, "claims")
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'case':<44} {'db':<10} {'count':>9} {'seconds':>8} {'throughput':>20} {'peak MiB':>9}")
    for r in rows:
        count = r.get("lines") or r.get("claims") or 0
        rate = f"{r['per_second']:,} {r['unit']}" if r.get("per_second") is not None else ""
        print(f"{r['case']:<44} {r.get('db', '-'):<10} {count:>9,} {r['seconds']:>8} {rate:>20} "
              f"{r.get('peak_mib', '-'):>9}")  # fmt: skip
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
