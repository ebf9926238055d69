"""Fixtures of the test harness itself, shared by every test (under src/openipa and tests/).

`browser_page` gives a fresh Playwright page in Debian's Chromium (/usr/bin/chromium; `make browser`
installs it). Pair it with pytest-django's `live_server` to drive the real site. Without Chromium the
browser tests skip, except under CI=true, where they fail: CI must run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings as hypothesis_settings

from openipa.devtools.browser import CHROMIUM, CHROMIUM_ARGS, in_ci, is_installed
from openipa.devtools.testrun import note_deselected

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Property tests check results, not speed: on a loaded 2-core machine one example can take longer than
# hypothesis's default 200 ms deadline, which failed a money property at random. No deadline, everywhere.
hypothesis_settings.register_profile("openipa", deadline=None)
hypothesis_settings.load_profile("openipa")

# Playwright's sync API keeps an asyncio loop running in the test's thread; without this Django would refuse
# ORM calls from a test (or fixture) that also drives the browser ("SynchronousOnlyOperation").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

_WIDE_SCOPES = ("module", "package")


def pytest_configure(config: pytest.Config) -> None:
    """The browser tests' live server runs one request's view at a time.

    Django's live server gives each request a thread, and on SQLite every one of those threads uses the test's
    own in-memory connection (the only way they can see its data). A page that loads several parts at once over
    htmx (the practice portal's cards) had three request threads on that one connection, and they deadlocked:
    the test waited on the browser forever and a CI run never finished. The server keeps its threads (a browser
    opens connections ahead of need and may leave one idle: a server without threads would wait on it), but
    the application behind it runs under one lock, response body included, so the connection is used by one
    request at a time.
    """
    import threading
    from collections.abc import Callable

    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    class OneViewAtATime(ThreadedWSGIServer):
        def set_app(self, application: Any) -> None:
            lock = threading.Lock()

            def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
                with lock:
                    response = application(environ, start_response)
                    try:
                        return list(response)
                    finally:
                        close = getattr(response, "close", None)
                        if close is not None:
                            close()

            super().set_app(serialized)

    setattr(LiveServerThread, "server_class", OneViewAtATime)  # noqa: B010 (the stubs do not declare it)


def _sets_up_per_module(item: pytest.Item) -> bool:
    """Whether ``item`` needs a module- or package-wide fixture: a demo built for the module, a browser."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(defs and defs[-1].scope in _WIDE_SCOPES for defs in info.name2fixturedefs.values())


DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_setup", "django_db_reset_sequences", "django_db_serialized_rollback",
     "live_server"}
)  # fmt: skip
"""pytest-django's fixtures that open the test database, directly or under another fixture (``fixturenames``
is the closure). A test with none of them and without the django_db mark cannot: pytest-django blocks it.
(Not ``django_db_blocker``: pytest-django's own autouse fixtures ask for it; a fixture of ours that unblocks
the database for a module's demo also asks for ``django_db_setup``.)"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="deselect the tests that open no database (the test runner's PostgreSQL run: they ran on SQLite "
        "and cannot give a different answer on another database)",
    )


def opens_the_database(item: pytest.Item) -> bool:
    """Whether ``item`` can touch the test database: the django_db mark, or a fixture that opens it."""
    if item.get_closest_marker("django_db") is not None:
        return True
    return not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules with a module-wide set-up (a demo build, a browser) run first, the rest after, each in its
    collected order; with ``--database-tests-only``, the tests that open no database are deselected.

    The test runner hands whole modules to the pytest-xdist workers as they free up (`--dist loadscope`,
    openipa.devtools.testrun): with the costly modules first, both workers start on them and the cheap ones
    fill in at the end, so neither worker is left with a long queue while the other idles. Same order on
    every worker, as xdist requires.
    """
    if config.getoption("database_tests_only", default=False):
        kept: list[pytest.Item] = []
        dropped: list[pytest.Item] = []
        for item in items:
            (kept if opens_the_database(item) else dropped).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept
            note_deselected(len(dropped))  # for the test runner's summary (xdist's controller sees none)
    heavy = {item.nodeid.split("::")[0] for item in items if _sets_up_per_module(item)}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in heavy)


@cache
def shares_a_package_fixture(directory: Path) -> bool:
    """Whether the test package in ``directory`` has a package-scoped fixture in its conftest (a demo built
    once for all its modules): the package then goes to one xdist worker whole, so it is built once."""
    conftest = directory / "conftest.py"
    if not conftest.is_file():
        return False
    text = conftest.read_text(encoding="utf-8")
    shared = directory / "shared.py"
    if shared.is_file():
        text += shared.read_text(encoding="utf-8")
    return 'scope="package"' in text


def scheduling_unit(rootdir: Path, nodeid: str) -> str:
    """The unit of work the test runner hands a worker: the test's module (pytest-xdist's loadscope), or
    its package when :func:`shares_a_package_fixture`."""
    module = nodeid.split("::")[0]
    package = Path(module).parent
    if module.endswith(".py") and shares_a_package_fixture(rootdir / package):
        return package.as_posix()
    return nodeid.rsplit("::", 1)[0]


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # optional: `-p no:xdist` has no such hook
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadscope`` with :func:`scheduling_unit` as the scope (other modes: xdist's own)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    rootdir = Path(str(config.rootpath))

    class ByModuleOrSharedPackage(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scheduling_unit(rootdir, nodeid)

    return ByModuleOrSharedPackage(config, log)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium per test module (each test still gets its own context through browser_page).

    Module scope, not session: while Playwright runs, its asyncio loop is the thread's running loop, which
    would break tests elsewhere that start an event loop of their own (asyncio.run, async views).
    """
    if not is_installed(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (install it with `make browser`)"
        if in_ci():
            pytest.fail(f"{message}; CI must run the browser tests", pytrace=False)
        pytest.skip(f"{message}: browser test skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Browser) -> Iterator[Page]:
    """A page in a fresh browser context (own cookies and storage), closed after the test."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
