"""The root conftest runs modules with a module-wide set-up first (the test runner hands whole modules to
the xdist workers in that order: `--dist loadscope --no-loadscope-reorder`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conftest import pytest_collection_modifyitems

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


def _item(nodeid: str, **scopes: str) -> Any:
    return _Item(nodeid, _Info({name: (_Def(scope),) for name, scope in scopes.items()}))


def test_modules_with_a_module_wide_fixture_come_first_each_in_its_order() -> None:
    items = [
        _item("a/test_cheap.py::test_1", db="function"),
        _item("a/test_demo.py::test_1", demo="module"),
        _item("a/test_cheap.py::test_2", django_db_setup="session"),
        _item("a/test_demo.py::test_2"),  # needs no module fixture itself: its module still counts
        _item("b/test_browser.py::test_1", chromium="module", db="function"),
        _item("b/test_pkg.py::test_1", shared="package"),
    ]
    pytest_collection_modifyitems(items)
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
