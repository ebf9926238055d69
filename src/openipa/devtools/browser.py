"""Make sure Debian's Chromium is there for the browser tests: ``python -m openipa.devtools.browser``.

Playwright drives the system's /usr/bin/chromium (its own browser download is not used). When Chromium is
missing and we are root with apt-get, it is installed from Debian's packages. When it cannot be had, the
browser tests skip, except under CI=true, where this exits non-zero with the reason. Imports nothing from
Django.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
PACKAGE = "chromium"
# Flags for launching it in tests: headless as root, and quiet on a machine without outside network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def is_installed(path: Path = CHROMIUM) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _run_quietly(cmd: Sequence[str], log: Path, timeout: float) -> int:
    """Run `cmd` with its output in `log`, printing a dot every few seconds so a long install shows life."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
        done = threading.Event()

        def dots() -> None:
            while not done.wait(5):
                print(".", end="", flush=True)

        ticker = threading.Thread(target=dots, daemon=True)
        ticker.start()
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return -1
        finally:
            done.set()
            ticker.join()


def _tail(log: Path, lines: int = 20) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.strip().splitlines()[-lines:])


def install(path: Path = CHROMIUM) -> str | None:
    """Install Chromium with apt-get; returns None on success, else why it could not be installed."""
    if os.geteuid() != 0:
        return "not running as root, so it cannot be installed with apt-get (sudo apt-get install chromium)"
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        return "apt-get not found, so it cannot be installed here"
    # Wait for another apt or dpkg (an unattended upgrade, say) instead of failing on its lock.
    lock_wait = ["-o", "DPkg::Lock::Timeout=600"]
    steps = [
        [apt_get, *lock_wait, "update"],
        [apt_get, *lock_wait, "install", "-y", PACKAGE],
    ]
    with tempfile.TemporaryDirectory(prefix="openipa-browser-") as tmp:
        log = Path(tmp) / "apt.log"
        print(f"Installing {PACKAGE} with apt-get (output in a log, shown on failure)", end="", flush=True)
        started = time.monotonic()
        for cmd in steps:
            code = _run_quietly(cmd, log, timeout=1500)
            if code != 0:
                print(" failed", flush=True)
                how = "timed out" if code == -1 else f"exited {code}"
                return f"`{' '.join(cmd[:1] + cmd[3:])}` {how}:\n{_tail(log)}"
        print(f" done in {time.monotonic() - started:.0f}s", flush=True)
    if not is_installed(path):
        return f"apt-get installed {PACKAGE} but {path} is still missing"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m openipa.devtools.browser",
        description=f"Install Debian's Chromium ({CHROMIUM}) for the browser tests when it is missing.",
    )
    parser.add_argument("--path", type=Path, default=CHROMIUM, help=argparse.SUPPRESS)  # for testing this
    options = parser.parse_args(argv)
    path: Path = options.path
    if is_installed(path):
        return 0
    reason = install(path)
    if reason is None:
        print(f"Chromium installed at {path}", flush=True)
        return 0
    if in_ci():
        print(f"Chromium not found at {path} and could not be installed (CI=true): {reason}", file=sys.stderr)
        return 1
    print(f"Chromium not found at {path}: browser tests will skip. ({reason})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
