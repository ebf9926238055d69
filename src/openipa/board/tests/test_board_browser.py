"""In a real browser: a board member signs in, opens the board dashboard, sees the traffic lights and the charts,
and follows the cash-to-claims light to its drill-down (inputs and arithmetic), then back."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from openipa.board.tests.conftest import AS_OF, OFFER_TITLE
from openipa.web.tests.test_browser_personas import sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_board_member_reads_the_lights_and_drills_down(
    browser_page: Page,
    live_server: Any,
    transactional_db: None,
    board_ipa: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import expect

    monkeypatch.setattr("openipa.board.views.today", lambda: AS_OF)
    page, base = browser_page, live_server.url
    sign_in(page, base, "boardie")
    page.goto(f"{base}/board/")
    expect(page.get_by_role("heading", name="Board dashboard")).to_be_visible()
    expect(page.get_by_test_id("board-period")).to_contain_text("Quarter 2026-Q2")
    lights = page.get_by_test_id("rbo-lights")
    expect(lights.locator("a.board-light")).to_have_count(5)
    expect(page.get_by_test_id("light-cash_to_claims")).to_have_attribute("data-light", "green")
    expect(page.get_by_test_id("light-claims_timeliness")).to_have_attribute("data-light", "red")
    expect(page.locator("svg[aria-labelledby^='board-pmpm']")).to_be_visible()
    expect(page.locator("svg[aria-labelledby^='board-quality']")).to_be_visible()
    expect(page.get_by_test_id("lob-table")).to_contain_text("$4,507.89")
    expect(page.locator("main")).not_to_contain_text(OFFER_TITLE)

    page.get_by_label("Period").fill("2026-05")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("board-period")).to_contain_text("Month 2026-05")

    page.get_by_role("link", name="Quarter 2026-Q2").click()
    page.get_by_test_id("light-cash_to_claims").click()
    page.wait_for_url(re.compile(r".*/board/criteria/cash_to_claims/\?period=2026-Q2$"))
    expect(page.get_by_role("heading", name="Cash-to-claims ratio")).to_be_visible()
    expect(page.get_by_test_id("criterion-arithmetic")).to_have_text(
        "$9,000.00 / ($2,000.00 + $557.77) = 3.5187"
    )
    expect(page.get_by_test_id("criterion-inputs")).to_contain_text("Claims payable")
    expect(page.locator("main a[href*='/ledger/']")).to_have_count(
        0
    )  # the board sees figures, not ledger pages
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page.get_by_test_id("rbo-lights")).to_be_visible()
