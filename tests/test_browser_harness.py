"""The browser harness works: Chromium starts, renders and runs scripts, and reaches the live server.

Deliberately independent of the site's pages, which are built elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = pytest.mark.browser


def test_chromium_renders_a_page_and_runs_its_script(browser_page: Page) -> None:
    browser_page.goto(
        "data:text/html,<title>harness</title><h1>OpenIPA harness</h1>"
        "<button onclick=\"document.querySelector('h1').textContent='clicked'\">go</button>"
    )
    assert browser_page.title() == "harness"
    assert browser_page.locator("h1").inner_text() == "OpenIPA harness"
    browser_page.get_by_role("button", name="go").click()
    assert browser_page.locator("h1").inner_text() == "clicked"


def test_chromium_reaches_the_live_server(browser_page: Page, live_server: LiveServer) -> None:
    response = browser_page.goto(f"{live_server.url}/static/openipa-harness-no-such-file.txt")
    assert response is not None
    assert response.status == 404
    assert response.url.startswith(live_server.url)
    assert browser_page.locator("body").inner_text().strip() != ""


def test_the_live_server_runs_one_view_at_a_time_and_answers_parallel_requests(
    live_server: LiveServer,
) -> None:
    """On SQLite every request thread of the live server shares the test's one in-memory connection; three at
    once deadlocked it. The root conftest's server keeps its threads (an idle connection the browser opened
    ahead of need must not block the others) and runs the views under one lock."""
    import socketserver
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    httpd = live_server.thread.httpd
    assert isinstance(httpd, socketserver.ThreadingMixIn)
    app = httpd.get_app()
    assert app is not None
    assert app.__name__ == "serialized"

    def fetch(_: int) -> int:
        with urllib.request.urlopen(f"{live_server.url}/login/", timeout=30) as response:
            return int(response.status)

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(fetch, range(12))) == [200] * 12
