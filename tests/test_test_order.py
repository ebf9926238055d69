"""The root conftest runs modules with a module-wide set-up first (the test runner hands whole modules to
the xdist workers in that order: `--dist loadscope --no-loadscope-reorder`), hands a package with a shared
demo to one worker whole, and on the PostgreSQL run deselects the tests that open no database."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    opens_the_database,
    pytest_collection_modifyitems,
    scheduling_unit,
    shares_a_package_fixture,
)

from openipa.devtools import testrun


@dataclass
class _Def:
    scope: str


@dataclass
class _Info:
    name2fixturedefs: dict[str, tuple[_Def, ...]] = field(default_factory=dict)


@dataclass
class _Item:
    nodeid: str
    _fixtureinfo: _Info
    marks: tuple[str, ...] = ()

    @property
    def fixturenames(self) -> list[str]:
        return list(self._fixtureinfo.name2fixturedefs)

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.marks else None


@dataclass
class _Config:
    database_tests_only: bool = False
    deselected: list[Any] = field(default_factory=list)

    def getoption(self, name: str, default: Any = None) -> Any:
        assert name == "database_tests_only"
        return self.database_tests_only

    @property
    def hook(self) -> Any:
        config = self

        class _Hook:
            def pytest_deselected(self, items: list[Any]) -> None:
                config.deselected.extend(items)

        return _Hook()


def _item(nodeid: str, marks: tuple[str, ...] = (), **scopes: str) -> Any:
    return _Item(nodeid, _Info({name: (_Def(scope),) for name, scope in scopes.items()}), marks)


def test_modules_with_a_module_wide_fixture_come_first_each_in_its_order() -> None:
    items = [
        _item("a/test_cheap.py::test_1", db="function"),
        _item("a/test_demo.py::test_1", demo="module"),
        _item("a/test_cheap.py::test_2", django_db_setup="session"),
        _item("a/test_demo.py::test_2"),  # needs no module fixture itself: its module still counts
        _item("b/test_browser.py::test_1", chromium="module", db="function"),
        _item("b/test_pkg.py::test_1", shared="package"),
    ]
    pytest_collection_modifyitems(_Config(), items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == [
        "a/test_demo.py::test_1",
        "a/test_demo.py::test_2",
        "b/test_browser.py::test_1",
        "b/test_pkg.py::test_1",
        "a/test_cheap.py::test_1",
        "a/test_cheap.py::test_2",
    ]


def test_the_runner_hands_whole_modules_to_the_workers_in_that_order(monkeypatch: Any, tmp_path: Any) -> None:
    seen: list[list[str]] = []

    class _Done:
        returncode = 0

    def fake_run(cmd: list[str], **_: Any) -> _Done:
        seen.append(cmd)
        return _Done()

    monkeypatch.setattr(testrun.subprocess, "run", fake_run)
    testrun.run_pytest("sqlite", tmp_path, None, "2", ["-k", "money"])
    testrun.run_pytest("sqlite", tmp_path, None, "0", [])
    with_workers, without = seen
    assert with_workers[with_workers.index("-n") + 1] == "2"
    assert with_workers[with_workers.index("--dist") + 1] == "loadscope"
    assert "--no-loadscope-reorder" in with_workers
    assert with_workers[-2:] == ["-k", "money"]
    assert "-n" not in without
    assert "--dist" not in without


def _mixed() -> list[Any]:
    return [
        _item(
            "a/test_parser.py::test_1", tmp_path="function", django_db_blocker="session"
        ),  # pytest-django's autouse
        _item("a/test_models.py::test_1", db="function", django_db_setup="session"),
        _item("a/test_marked.py::test_1", marks=("django_db",)),
        _item("a/test_demo.py::test_1", demo="module", django_db_setup="session"),
        _item("a/test_browser.py::test_1", chromium="module", live_server="session"),
        _item("a/test_engine.py::test_1", monkeypatch="function"),
    ]


def test_a_test_opens_the_database_by_the_mark_or_a_database_fixture() -> None:
    assert [opens_the_database(i) for i in _mixed()] == [False, True, True, True, True, False]


def test_database_tests_only_deselects_the_others_and_says_so(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv(testrun.COUNTS_ENV, str(tmp_path / "counts.json"))  # not this run's own
    items = _mixed()
    config = _Config(database_tests_only=True)
    pytest_collection_modifyitems(config, items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == [
        "a/test_demo.py::test_1", "a/test_browser.py::test_1", "a/test_models.py::test_1", "a/test_marked.py::test_1",
    ]  # fmt: skip
    assert [i.nodeid for i in config.deselected] == ["a/test_parser.py::test_1", "a/test_engine.py::test_1"]
    everything = _mixed()
    pytest_collection_modifyitems(_Config(), everything)  # type: ignore[arg-type]
    assert len(everything) == 6
    # the count reaches the runner's summary, though xdist's controller never sees a worker's deselection
    assert (tmp_path / "counts.json.deselected").read_text() == "2"

    class _Reporter:
        stats: dict[str, list[Any]] = {"passed": [object()] * 4}

    testrun.pytest_terminal_summary(_Reporter(), object())  # type: ignore[arg-type]
    counts = testrun.read_counts(tmp_path / "counts.json")
    assert counts == testrun.Counts(passed=4, deselected=2)


def test_a_package_with_a_shared_demo_is_one_unit_of_work(tmp_path: Path) -> None:
    shared = tmp_path / "src" / "pkg" / "shared_demo"
    shared.mkdir(parents=True)
    (shared / "conftest.py").write_text('@pytest.fixture(scope="package")\ndef demo(): ...\n')
    plain = tmp_path / "src" / "pkg" / "plain"
    plain.mkdir()
    (plain / "conftest.py").write_text('@pytest.fixture(scope="module")\ndef demo(): ...\n')
    assert shares_a_package_fixture(shared)
    assert not shares_a_package_fixture(plain)
    assert not shares_a_package_fixture(tmp_path / "src" / "pkg")  # no conftest at all
    unit = scheduling_unit
    assert unit(tmp_path, "src/pkg/shared_demo/test_a.py::test_1") == "src/pkg/shared_demo"
    assert unit(tmp_path, "src/pkg/shared_demo/test_b.py::Test::test_1") == "src/pkg/shared_demo"
    assert unit(tmp_path, "src/pkg/plain/test_c.py::test_1") == "src/pkg/plain/test_c.py"
    assert unit(tmp_path, "src/pkg/plain/test_c.py::Test::test_1") == "src/pkg/plain/test_c.py::Test"


def test_the_projects_value_based_demo_package_is_one_unit() -> None:
    root = Path(__file__).resolve().parents[1]
    package = "src/openipa/demo/tests/value_based"
    assert scheduling_unit(root, f"{package}/test_savings_demo.py::test_x") == package
    assert scheduling_unit(root, "src/openipa/demo/tests/test_build.py::test_x") == (
        "src/openipa/demo/tests/test_build.py"
    )


def test_the_postgresql_run_after_sqlite_runs_only_the_database_tests(
    monkeypatch: Any, tmp_path: Path
) -> None:
    seen: list[tuple[str, list[str]]] = []
    counts = {"passed": 0, "failed": 0, "skipped": 0, "deselected": 12}

    class _Done:
        returncode = 0

    def fake_run(cmd: list[str], env: dict[str, str], **_: Any) -> _Done:
        seen.append((env.get("DATABASE_URL", "sqlite"), cmd))
        Path(env[testrun.COUNTS_ENV]).write_text(json.dumps(counts))
        return _Done()

    monkeypatch.setattr(testrun.subprocess, "run", fake_run)
    sqlite = testrun.run_pytest("sqlite", tmp_path, None, "2", [])
    pg = testrun.run_pytest("postgresql", tmp_path, "postgresql://x", "2", [], database_tests_only=True)
    assert "--database-tests-only" not in seen[0][1]
    assert "--database-tests-only" in seen[1][1]
    assert sqlite.ok
    assert pg.ok
    assert "12 deselected" in pg.line()

    _Done.returncode = testrun.NO_TESTS  # a selection of tests that open no database: they ran on SQLite
    assert testrun.run_pytest("postgresql", tmp_path, "postgresql://x", "2", [], database_tests_only=True).ok
    assert not testrun.run_pytest("sqlite", tmp_path, None, "2", []).ok  # no test at all is still a failure


@pytest.mark.parametrize(("only", "expected"), [(None, True), ("postgresql", False)])
def test_main_deselects_on_postgresql_only_after_a_sqlite_run(
    monkeypatch: Any, only: str | None, expected: bool
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(testrun, "run_pytest", lambda *a, **k: testrun.Outcome("sqlite", ok=True))

    def fake_pg(*args: Any, database_tests_only: bool = False) -> testrun.Outcome:
        calls.append(database_tests_only)
        return testrun.Outcome("postgresql", ok=True)

    monkeypatch.setattr(testrun, "postgres_run", fake_pg)
    testrun.main(["--no-lint"] + (["--only", only] if only else []))
    assert calls == [expected]


@pytest.mark.parametrize("mypy_code", [0, 1])
def test_mypy_runs_beside_the_sqlite_run_and_its_failure_stops_postgresql(
    monkeypatch: Any, tmp_path: Path, mypy_code: int
) -> None:
    events: list[str] = []

    class _Done:
        returncode = 0

    class _Mypy:
        def __init__(self, cmd: list[str], stdout: Any, **_: Any) -> None:
            events.append("mypy started")
            stdout.write(b"mypy says\n")

        def wait(self) -> int:
            events.append("mypy waited")
            return mypy_code

        def poll(self) -> int:
            return mypy_code

    def fake_run(cmd: list[str], **_: Any) -> _Done:
        events.append("ruff " + cmd[-1])
        return _Done()

    def fake_pytest(name: str, *args: Any, **kwargs: Any) -> testrun.Outcome:
        events.append(name)
        return testrun.Outcome(name, ok=True)

    def fake_pg(*args: Any, **kwargs: Any) -> testrun.Outcome:
        events.append("postgresql")
        return testrun.Outcome("postgresql", ok=True)

    monkeypatch.setattr(testrun.subprocess, "run", fake_run)
    monkeypatch.setattr(testrun.subprocess, "Popen", _Mypy)
    monkeypatch.setattr(testrun, "run_pytest", fake_pytest)
    monkeypatch.setattr(testrun, "postgres_run", fake_pg)
    code = testrun.main([])
    # mypy is waited for by a thread of its own (its time) and by the runner after the SQLite run
    assert "mypy waited" in events
    in_order = [e for e in events if e != "mypy waited"]
    assert in_order == ["ruff .", "ruff .", "mypy started", "sqlite"] + (
        ["postgresql"] if mypy_code == 0 else []
    )
    assert code == mypy_code
