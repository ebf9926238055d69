"""The whole check, as `make test` runs it: ``python -m openipa.devtools.testrun [options] [-- pytest args]``.

1. `ruff check .` and `ruff format --check .`; on an error, stop there.
2. The whole pytest suite on SQLite, with `mypy` running beside it (it takes one core for half a minute);
   a mypy error fails the check and the PostgreSQL run is not started.
3. The suite's tests that open a database on a throw-away PostgreSQL server started from the machine's
   binaries (openipa.devtools.pgtmp), never a server already running on the machine. The tests that open
   none (parsers, engines, property tests: half the suite) ran in step 2 and are deselected here: the
   database cannot change their answer. With ``--only postgresql`` the whole suite runs on PostgreSQL.

Then a summary: one line per database and, last, the total as ``N passed, N failed, N skipped``. The exit
code is non-zero when anything failed, when pytest ran no test (its exit code 5), and under CI=true when
PostgreSQL could not be started (elsewhere that run is skipped with the reason).

Options: ``--only sqlite|postgresql``, ``--no-lint``, ``-n/--workers N|auto|0`` (pytest-xdist processes
per run); anything after ``--`` goes to pytest, e.g. ``-- -k money -x``. Imports nothing from Django.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from openipa.devtools.pgtmp import (
    PostgresUnavailableError,
    raise_keyboard_interrupt_on_sigterm,
    temporary_postgres,
)

if TYPE_CHECKING:
    import pytest

DATABASES = ("sqlite", "postgresql")
COUNTS_ENV = "OPENIPA_TESTRUN_COUNTS"  # where pytest, with this module as a plugin, writes its counts
NO_TESTS = 5  # pytest's exit code when it ran no test
PYTEST_EXIT_MEANINGS = {
    1: "tests failed",
    2: "interrupted (or errors during collection)",
    3: "internal error",
    4: "usage error",
    5: "no tests collected",
}


def default_workers() -> str:
    """pytest-xdist workers per run: one per usable core, 2 to 4 (none on a single core).

    Measured on the 2-core machine with the 558-test suite (docs/adr/0002-test-harness.md): `-n 2` took the
    SQLite run from ~76 s to ~60 s and the PostgreSQL run from ~86 s to ~65 s, although each worker pays the
    whole start-up again (imports, Django, collection, its own test database: ~9 s of CPU). Past 4 workers
    that start-up and the memory grow faster than the suite shrinks.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return "0" if cores < 2 else str(min(cores, 4))


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def project_root() -> Path:
    """The checkout: src/openipa/devtools/testrun.py -> ../../../.. (editable install), else the cwd."""
    here = Path(__file__).resolve().parents[3]
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    deselected: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.passed + other.passed,
            self.failed + other.failed,
            self.skipped + other.skipped,
            self.deselected + other.deselected,
        )

    def __str__(self) -> str:
        text = f"{self.passed} passed, {self.failed} failed"
        if self.skipped:
            text += f", {self.skipped} skipped"
        return f"{text}, {self.deselected} deselected" if self.deselected else text


@dataclass
class Outcome:
    """One phase: its name, whether it passed, what it counted and how long it took."""

    name: str
    ok: bool
    seconds: float = 0.0
    counts: Counts | None = None
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [str(self.counts)] if self.counts is not None else []
        parts += self.notes
        status = "; ".join(parts) or ("ok" if self.ok else "FAILED")
        return f"{self.name + ':':<12} {status} ({self.seconds:.1f}s)"


def banner(text: str) -> None:
    print(f"\n===== {text} =====", flush=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Pytest hook (this module is loaded with `-p`): write the counts of pytest's own summary line to the
    file named by $OPENIPA_TESTRUN_COUNTS. Errors count as failed, xpassed as passed, xfailed as skipped."""
    path = os.environ.get(COUNTS_ENV)
    if not path or hasattr(config, "workerinput"):  # an xdist worker sees only its share
        return

    def count(key: str) -> int:
        return sum(
            1
            for report in terminalreporter.stats.get(key, [])
            if getattr(report, "count_towards_summary", True)
        )

    counts = Counts(
        passed=count("passed") + count("xpassed"),
        failed=count("failed") + count("error"),
        skipped=count("skipped") + count("xfailed"),
        deselected=len(terminalreporter.stats.get("deselected", [])) or _deselected_by_workers(path),
    )
    Path(path).write_text(json.dumps(asdict(counts)))


def note_deselected(count: int) -> None:
    """Called where tests are deselected (the root conftest, on each xdist worker, whose deselections the
    controller's summary never sees): kept beside the counts file for :func:`pytest_terminal_summary`."""
    path = os.environ.get(COUNTS_ENV)
    if path:
        Path(f"{path}.deselected").write_text(str(count))


def _deselected_by_workers(path: str) -> int:
    try:
        return int(Path(f"{path}.deselected").read_text())
    except (OSError, ValueError):
        return 0


def read_counts(path: Path) -> Counts | None:
    try:
        return Counts(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


@dataclass
class Lint:
    """ruff's outcome, and mypy still running beside the first test run (:func:`start_lint`)."""

    ruff: Outcome
    mypy: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    started: float = 0.0
    ended: list[float] = field(default_factory=list)
    """When mypy ended (a thread waits for it), so its own time is reported, not the tests'."""

    def __post_init__(self) -> None:
        if self.mypy is not None:
            self._waiter = threading.Thread(target=self._wait, daemon=True)
            self._waiter.start()

    def _wait(self) -> None:
        assert self.mypy is not None
        self.mypy.wait()
        self.ended.append(time.monotonic())

    def finish(self) -> Outcome:
        """Wait for mypy, print what it printed, and return the lint's outcome (ruff's if it failed)."""
        if self.mypy is None or self.log is None:
            return self.ruff
        code = self.mypy.wait()
        self._waiter.join()
        banner("lint: mypy (ran beside the tests)")
        print(self.log.read_text(errors="replace"), end="", flush=True)
        self.log.unlink(missing_ok=True)
        seconds = self.ruff.seconds + (self.ended[-1] if self.ended else time.monotonic()) - self.started
        if code != 0:
            return Outcome("lint", ok=False, seconds=seconds, notes=["`mypy` failed"])
        return Outcome("lint", ok=True, seconds=seconds, notes=["ruff and mypy clean"])

    def stop(self) -> None:
        if self.mypy is not None and self.mypy.poll() is None:
            self.mypy.kill()
            self.mypy.wait()


def start_lint(root: Path) -> Lint:
    """`ruff check .` and `ruff format --check .` (a second), then mypy started in the background: it takes
    one core for half a minute, which the first test run would otherwise leave idle."""
    banner("lint: ruff check ., ruff format --check . (mypy starts beside the tests)")
    started = time.monotonic()
    for name, cmd in (
        ("ruff check .", [sys.executable, "-m", "ruff", "check", "."]),
        ("ruff format --check .", [sys.executable, "-m", "ruff", "format", "--check", "."]),
    ):
        code = subprocess.run(cmd, cwd=root, check=False).returncode
        if code != 0:
            return Lint(
                Outcome("lint", ok=False, seconds=time.monotonic() - started, notes=[f"`{name}` failed"])
            )
    ruff = Outcome("lint", ok=True, seconds=time.monotonic() - started)
    handle, name = tempfile.mkstemp(prefix="openipa-mypy-", suffix=".log")
    log = Path(name)
    with os.fdopen(handle, "wb") as out:
        mypy = subprocess.Popen(
            [sys.executable, "-m", "mypy"], cwd=root, stdout=out, stderr=subprocess.STDOUT
        )
    return Lint(ruff, mypy, log, time.monotonic())


def _xdist_unwanted(extra: Sequence[str]) -> bool:
    """Pytest arguments that need a single process (a debugger) or turn xdist off themselves."""
    joined = " ".join(extra)
    return any(arg in {"--pdb", "--trace"} for arg in extra) or "no:xdist" in joined


def run_pytest(
    name: str,
    root: Path,
    database_url: str | None,
    workers: str,
    extra: Sequence[str],
    *,
    database_tests_only: bool = False,
) -> Outcome:
    """Run the whole suite against one database; DATABASE_URL unset means SQLite. With
    ``database_tests_only`` (the PostgreSQL run after the SQLite one) the tests that open no database are
    deselected: they ran on SQLite, and a database they never open cannot change their answer."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    with tempfile.TemporaryDirectory(prefix="openipa-pytest-") as tmp:
        env[COUNTS_ENV] = str(Path(tmp) / "counts.json")
        cmd = [sys.executable, "-m", "pytest", "-p", "openipa.devtools.testrun"]
        if workers != "0" and not _xdist_unwanted(extra):
            # Whole modules to each worker, in the collected order (costly modules first: the root
            # conftest), so a module's demo is built once, on one worker, and no worker is left with a
            # long queue of them at the end (`--dist load` handed out large batches of consecutive tests).
            cmd += ["-n", workers, "--dist", "loadscope", "--no-loadscope-reorder"]
        if database_tests_only:
            cmd.append("--database-tests-only")
        cmd += extra
        banner(f"{name}: {' '.join(cmd[1:])}")
        started = time.monotonic()
        code = subprocess.run(cmd, cwd=root, env=env, check=False).returncode
        seconds = time.monotonic() - started
        counts = read_counts(Path(env[COUNTS_ENV]))
    if database_tests_only and code == NO_TESTS and counts is not None and counts.deselected:
        # the selection (-k, paths) held only tests that open no database, and those ran on SQLite
        return Outcome(
            name, ok=True, seconds=seconds, counts=counts, notes=["no selected test opens a database"]
        )
    outcome = Outcome(name, ok=code == 0, seconds=seconds, counts=counts)
    if code != 0:
        outcome.notes.append(f"pytest exit {code}: {PYTEST_EXIT_MEANINGS.get(code, 'failed')}")
    if counts is None:
        outcome.notes.append("no counts (pytest wrote no report)")
    return outcome


def postgres_run(
    root: Path, workers: str, extra: Sequence[str], required: bool, *, database_tests_only: bool = False
) -> Outcome:
    banner("postgresql: starting a throw-away server")
    started = time.monotonic()
    try:
        with temporary_postgres() as url:
            startup = time.monotonic() - started
            print(f"PostgreSQL up in {startup:.1f}s at {url}", flush=True)
            outcome = run_pytest(
                "postgresql", root, url, workers, extra, database_tests_only=database_tests_only
            )
            outcome.notes.append(f"server start {startup:.1f}s")
    except PostgresUnavailableError as exc:
        reason = str(exc)
        if required:
            why = "CI=true" if in_ci() else "--only postgresql"
            print(
                f"PostgreSQL not available: {reason}\nThis is a failure ({why}).", file=sys.stderr, flush=True
            )
            first = reason.splitlines()[0]
            return Outcome(
                "postgresql",
                ok=False,
                seconds=time.monotonic() - started,
                notes=[f"FAILED: not available: {first}"],
            )
        print(f"PostgreSQL not available: {reason}; skipped the PostgreSQL run", file=sys.stderr, flush=True)
        return Outcome(
            "postgresql",
            ok=True,
            seconds=time.monotonic() - started,
            notes=[f"skipped: not available: {reason.splitlines()[0]}"],
        )
    outcome.seconds = time.monotonic() - started  # including the server's start and stop
    return outcome


def parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    args = list(argv)
    extra: list[str] = []
    if "--" in args:
        extra = args[args.index("--") + 1 :]
        args = args[: args.index("--")]
    parser = argparse.ArgumentParser(
        prog="python -m openipa.devtools.testrun",
        description="ruff and mypy, then the whole pytest suite on SQLite and on a throw-away PostgreSQL. "
        "Arguments after -- go to pytest.",
    )
    parser.add_argument("--only", choices=DATABASES, help="run the suite on this database only")
    parser.add_argument("--no-lint", action="store_true", help="skip ruff and mypy")
    parser.add_argument(
        "-n",
        "--workers",
        default=os.environ.get("OPENIPA_TEST_WORKERS") or default_workers(),
        help="pytest-xdist worker processes per run: a number, 'auto', or 0 for none "
        f"(default: one per core, 2 to 4, here {default_workers()}; or $OPENIPA_TEST_WORKERS)",
    )
    return parser.parse_args(args), extra


def main(argv: Sequence[str] | None = None) -> int:
    options, extra = parse(sys.argv[1:] if argv is None else argv)
    raise_keyboard_interrupt_on_sigterm()
    root = project_root()
    started = time.monotonic()
    outcomes: list[Outcome] = []
    linting: Lint | None = None
    try:
        if not options.no_lint:
            linting = start_lint(root)
            if not linting.ruff.ok:
                print(
                    f"\n{linting.ruff.line()}\nLint failed: fix it first; the tests were not run.", flush=True
                )
                return 1
        if options.only in (None, "sqlite"):
            outcomes.append(run_pytest("sqlite", root, None, options.workers, extra))
        lint_ok = True
        if linting is not None:
            outcomes.insert(0, linting.finish())
            linting = None
            lint_ok = outcomes[0].ok
            if not lint_ok:
                print(
                    f"\n{outcomes[0].line()}\nLint failed: fix it first; the PostgreSQL run is not started."
                )
        if options.only in (None, "postgresql") and lint_ok:
            required = in_ci() or options.only == "postgresql"
            # after the SQLite run, only the tests that open a database run again (ADR 0002)
            outcomes.append(
                postgres_run(root, options.workers, extra, required, database_tests_only=options.only is None)
            )
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr, flush=True)
        return 130
    finally:
        if linting is not None:
            linting.stop()
    total = Counts()
    for outcome in outcomes:
        total += outcome.counts or Counts()
    ok = all(outcome.ok for outcome in outcomes)
    banner(f"summary ({time.monotonic() - started:.0f}s in all): {'OK' if ok else 'FAILED'}")
    for outcome in outcomes:
        print(outcome.line())
    print(total, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
