"""In a real browser, each persona signs in and sees the navigation of their role; a practice user opens
her own member and is refused another practice's member by URL.

Chromium is Debian's (/usr/bin/chromium) driven by Playwright through the repository's `browser_page`
fixture (conftest.py at the root). Without Chromium these tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from openipa.conftest import PASSWORD
from openipa.web.tests.test_navigation_by_role import ALL, FINANCE, OPS, PRACTICE

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from openipa.conftest import SmallIpa

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOT = Path("/tmp/openipa-dashboard-admin.png")

NAV = ALL


@pytest.fixture
def page(browser_page: Page) -> Page:
    return browser_page


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def nav_labels(page: Page) -> list[str]:
    return [
        t.strip() for t in page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()
    ]


@pytest.mark.parametrize(
    ("username", "expected"),
    [("system-setup", NAV), ("ops", OPS), ("fin", FINANCE), ("alice", PRACTICE)],
)
def test_each_persona_sees_the_navigation_of_their_role(
    page: Page, live_server, transactional_db, small_ipa: SmallIpa, username: str, expected: list[str]
) -> None:
    sign_in(page, live_server.url, username)
    assert nav_labels(page) == expected
    assert page.get_by_test_id("user").inner_text() == username


def test_staff_dashboard_draws_the_member_months_chart_and_looks_clean(
    page: Page, live_server, transactional_db, small_ipa: SmallIpa
) -> None:
    from playwright.sync_api import expect

    sign_in(page, live_server.url, "system-setup")
    chart = page.locator("svg.chart")
    expect(chart).to_have_count(1)  # loaded by htmx after the page
    assert chart.locator("title").first.text_content() == "Member-months by payer and month"
    assert page.locator("svg.chart rect.bar").count() > 0
    # The stylesheet is served and applied (no CDN): the sidebar is dark, the body is not Times.
    sidebar_bg = page.locator(".sidebar").evaluate("e => getComputedStyle(e).backgroundColor")
    assert sidebar_bg == "rgb(20, 34, 54)"
    # htmx comes from the package's own static files.
    assert page.evaluate("typeof window.htmx") == "object"
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000


def test_practice_user_opens_her_member_and_is_refused_another_practices_member(
    page: Page, live_server, transactional_db, small_ipa: SmallIpa
) -> None:
    sign_in(page, live_server.url, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members", exact=True).click()
    page.get_by_role("link", name="Anders, Amy").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Amy Anders"
    assert page.get_by_role("heading", name="PCP history").is_visible()
    assert "Ada Alder" in page.locator("main").inner_text()

    response = page.goto(f"{live_server.url}/members/{small_ipa.member_b.pk}/")
    assert response is not None
    assert response.status == 404
    body = page.locator("body").inner_text()
    assert "Page not found" in body
    for secret in ("Brooks", "Bert", "SUN0002", "Birch", "1948"):
        assert secret not in body


def test_search_as_you_type_narrows_the_provider_directory(
    page: Page, live_server, transactional_db, small_ipa: SmallIpa
) -> None:
    sign_in(page, live_server.url, "ops")
    page.goto(f"{live_server.url}/providers/")
    from playwright.sync_api import expect

    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_label("Search").press_sequentially("card", delay=30)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Cardio")
    # The address follows the search, so the result can be bookmarked or reloaded without htmx.
    expect(page).to_have_url(re.compile(r"q=card"))
