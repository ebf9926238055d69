"""End-to-end roster import timing: `openipa import-roster FILE --payer BENCH --json` on a fresh database.

`run_import(path, members, kinds)` prepares the database (bench/eligibility/setup_db.py, not timed), then times
the import as its own process and reads that process's peak resident memory from wait4. `kinds` are "sqlite"
and/or "postgresql" (a throw-away server started from the machine's PostgreSQL binaries).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import OPENIPA, database, run  # noqa: E402  (the platform bench's fresh database and timing)

PYTHON = ROOT / ".venv" / "bin" / "python"


def run_import(path: Path, members: int, kinds: list[str]) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    for kind in kinds:
        with database(kind) as env:
            subprocess.run([str(PYTHON), str(ROOT / "bench" / "eligibility" / "setup_db.py"), str(path)],
                           env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
            wall, rss, out = run(
                [str(OPENIPA), "import-roster", str(path), "--payer", "BENCH", "--json"], env
            )
            result = json.loads(out)
            if result["status"] != "applied":
                raise SystemExit(f"the import was {result['status']}: {result['errors'][:3]}")
            wall2, rss2, out2 = run(
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
