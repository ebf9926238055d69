"""OpenIPA benchmarks: throughput and peak memory of the platform's batch paths at machine size.

Each case runs as its own process (`.venv/bin/openipa ...`) against a fresh SQLite database in a temporary
directory, so the peak resident memory reported is that process's alone (from getrusage of the child).

    python bench/run.py                      # the default cases
    python bench/run.py --members 1000000    # one demo build of that size, then stats
    python bench/run.py --postgres           # the same cases on a throw-away PostgreSQL as well

Results are printed as a table and appended to bench/out/results.jsonl; copy the figures you want to keep
into bench/RESULTS.md with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OPENIPA = ROOT / ".venv" / "bin" / "openipa"
OUT = ROOT / "bench" / "out"


def run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, int, str]:
    """Run one command; return wall seconds, that process's peak RSS in MiB, and its stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True, cwd=cwd)
        # wait4 gives the resource usage of this one child, not the maximum over all children so far.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout = out.read()
        if proc.returncode != 0:
            sys.stderr.write(stdout[-2000:] + err.read()[-4000:])
            raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    return wall, usage.ru_maxrss // 1024, stdout


def run_child(module: str, kind: str, path: Path) -> tuple[dict[str, Any], int]:
    """Run ``python -m module --child kind path`` (one parser in a fresh interpreter); return the JSON it
    prints and its peak RSS in MiB."""
    _wall, rss, out = run(
        [sys.executable, "-m", module, "--child", kind, str(path)], dict(os.environ), cwd=ROOT
    )
    result: dict[str, Any] = json.loads(out)
    return result, rss


def pyx12_validate(path: Path) -> dict[str, Any]:
    """Validate ``path`` with pyx12 (the independent X12 validator parsers are compared with): seconds, CPU
    seconds, whether it is valid, and its first errors."""
    import logging

    from pyx12 import params, x12n_document

    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            errors.append(record.getMessage())

    logger = logging.getLogger("pyx12")
    logger.addHandler(Collect(logging.ERROR))
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    start, cpu = time.perf_counter(), time.process_time()
    with path.open(encoding="latin-1") as fh:
        valid = x12n_document.x12n_document(params.params(), fh, None, None)
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "valid": bool(valid),
        "errors": len(errors),
        "first_errors": errors[:5],
    }


@contextlib.contextmanager
def database(kind: str) -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="openipa-bench-") as tmp:
        env["OPENIPA_VAR_DIR"] = tmp
        env["SECRET_KEY"] = "bench-only-secret-key"
        if kind == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
            yield env
        else:
            sys.path.insert(0, str(ROOT / "src"))
            from openipa.devtools.pgtmp import temporary_postgres

            with temporary_postgres() as url:
                env["DATABASE_URL"] = url
                yield env


def bench_demo(members: int, kind: str) -> list[dict[str, object]]:
    results = []
    with database(kind) as env:
        subprocess.run([str(OPENIPA), "migrate", "--noinput", "-v", "0"], env=env, check=True)
        wall, rss, _ = run(
            [
                str(OPENIPA),
                "demo",
                "--no-serve",
                "--members",
                str(members),
                "--seed",
                "7",
                "--as-of",
                "2026-10",
            ],
            env,
        )
        results.append(
            {
                "case": "demo build",
                "db": kind,
                "members": members,
                "seconds": round(wall, 2),
                "per_second": round(members / wall),
                "unit": "members/s",
                "peak_mib": rss,
            }
        )
        wall, rss, out = run([str(OPENIPA), "stats", "--json"], env)
        member_months = sum(json.loads(out)["member_months"]["by_payer"].values())
        results.append(
            {
                "case": "stats --json",
                "db": kind,
                "members": members,
                "seconds": round(wall, 2),
                "per_second": round(member_months / wall),
                "unit": "member-months/s",
                "peak_mib": rss,
            }
        )
    return results


def machine() -> str:
    """The machine the figures were measured on, as the results record it."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def record(rows: list[dict[str, Any]], bench: str | None = None) -> None:
    """Append result rows to bench/out/results.jsonl with the machine and the time."""
    OUT.mkdir(parents=True, exist_ok=True)
    extra = {"bench": bench} if bench else {}
    with (OUT / "results.jsonl").open("a") as fh:
        for r in rows:
            fh.write(
                json.dumps({**extra, **r, "machine": machine(), "at": time.strftime("%Y-%m-%d %H:%M")}) + "\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, action="append", help="demo sizes (repeatable)")
    parser.add_argument("--postgres", action="store_true", help="also run on a throw-away PostgreSQL")
    args = parser.parse_args()
    sizes = sorted(args.members or [25_000, 200_000])
    kinds = ["sqlite", "postgresql"] if args.postgres else ["sqlite"]
    print(f"{'case':<14} {'db':<10} {'members':>9} {'seconds':>8} {'throughput':>24} {'peak MiB':>9}")
    for kind in kinds:
        for members in sizes:
            for r in bench_demo(members, kind):
                print(
                    f"{r['case']:<14} {r['db']:<10} {r['members']:>9} {r['seconds']:>8} "
                    f"{str(r['per_second']) + ' ' + str(r['unit']):>24} {r['peak_mib']:>9}"
                )
                record([r])


if __name__ == "__main__":
    main()
