"""`openipa edi stats FILE [--json]`: no database, exit 0 for a good file and 1 for a bad one."""

from __future__ import annotations

import json
import subprocess
import sys

from openipa.edi.tests.helpers import build_834, samples_dir


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from django.core.management import execute_from_command_line; execute_from_command_line(sys.argv)"
    return subprocess.run(
        [sys.executable, "-c", code, "edi", *args],
        capture_output=True,
        text=True,
        env={"DJANGO_SETTINGS_MODULE": "openipa.config.settings", "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_stats_json_on_a_sample():
    path = samples_dir() / "lfh_managed-care.835"
    done = _run("stats", str(path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "file": str(path),
        "interchanges": 1,
        "groups": 1,
        "transactions": 1,
        "segments": 30,
        "by_transaction_set": {"835": {"transactions": 1, "segments": 26, "remittances": 2}},
    }


def test_stats_text_and_errors(tmp_path):
    good = tmp_path / "good.834"
    good.write_bytes(build_834(4))
    done = _run("stats", str(good))
    assert done.returncode == 0, done.stderr
    assert "834: transactions 1, segments 29, members 4" in done.stdout
    bad = tmp_path / "bad.834"
    bad.write_bytes(build_834(4).replace(b"SE*29*", b"SE*28*"))
    done = _run("stats", str(bad))
    assert done.returncode == 1
    assert "segment 31 (SE)" in done.stderr
    assert "segment count 28 does not match 29 segments" in done.stderr
    done = _run("stats", str(bad), "--json")
    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]
    assert (error["segment_number"], error["segment_id"], error["element"]) == (31, "SE", 1)
