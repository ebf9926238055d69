"""End-to-end roster import timing: `openipa import-roster FILE --payer BENCH --json` on a fresh database.

`run_import(path, members, kinds)` prepares the database (bench/eligibility/setup_db.py, not timed), then times
the import as its own process and reads that process's peak resident memory from wait4. `kinds` are "sqlite"
and/or "postgresql" (a throw-away server started from the machine's PostgreSQL binaries).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
OPENIPA = ROOT / ".venv" / "bin" / "openipa"


@contextlib.contextmanager
def _database(kind: str) -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="openipa-bench-import-") as tmp:
        env["OPENIPA_VAR_DIR"] = tmp
        env["SECRET_KEY"] = "bench-only-secret-key"
        if kind == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
            yield env
            return
        sys.path.insert(0, str(ROOT / "src"))
        from openipa.devtools.pgtmp import temporary_postgres

        with temporary_postgres() as url:
            env["DATABASE_URL"] = url
            yield env


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout = out.read()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            sys.stderr.write(stdout[-2000:] + err.read()[-4000:])
            raise SystemExit(f"benchmark command failed ({code}): {' '.join(cmd)}")
    return wall, usage.ru_maxrss // 1024, stdout


def run_import(path: Path, members: int, kinds: list[str]) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    for kind in kinds:
        with _database(kind) as env:
            subprocess.run([str(PYTHON), str(ROOT / "bench" / "eligibility" / "setup_db.py"), str(path)],
                           env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
            wall, rss, out = _timed(
                [str(OPENIPA), "import-roster", str(path), "--payer", "BENCH", "--json"], env
            )
            result = json.loads(out)
            if result["status"] != "applied":
                raise SystemExit(f"the import was {result['status']}: {result['errors'][:3]}")
            wall2, rss2, out2 = _timed(
                [str(OPENIPA), "import-roster", str(path), "--payer", "BENCH", "--json"], env
            )
            results.append(
                {
                    "case": "roster import (834 full file, new members)",
                    "db": kind,
                    "members": members,
                    "seconds": round(wall, 2),
                    "per_second": round(members / wall),
                    "unit": "members/s",
                    "peak_mib": rss,
                    "added": result["added"],
                    "warnings": len(result["warnings"]),
                }
            )
            results.append(
                {
                    "case": "same file again (duplicate by hash)",
                    "db": kind,
                    "members": members,
                    "seconds": round(wall2, 2),
                    "unit": "",
                    "peak_mib": rss2,
                    "status": json.loads(out2)["status"],
                }
            )
    return results
