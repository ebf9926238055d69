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
