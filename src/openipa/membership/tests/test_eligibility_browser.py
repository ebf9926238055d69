"""In a real browser: operations uploads a roster, waits on the progress indicator, and lands on the import's
report; a bad file lands on a report of what is wrong, and nothing was applied."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from openipa.membership.models import Member, RosterImport
from openipa.membership.tests.roster_files import NPI_A, M, roster_834
from openipa.web.tests.test_browser_personas import sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _upload(page: Page, base_url: str, path: Path) -> None:
    page.goto(f"{base_url}/rosters/upload/")
    page.get_by_label("Payer").select_option(label="Sunrise Health Plan")
    page.get_by_label("Roster file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url(re.compile(r".*/rosters/\d+/$"))


def test_upload_applies_and_shows_the_report(
    browser_page: Page, live_server: Any, transactional_db: None, small_ipa: Any, tmp_path: Path
) -> None:
    path = tmp_path / "june.834"
    path.write_bytes(roster_834([M("NEW01", pcp_npi=NPI_A), M("NEW02", last="ROE")]))
    sign_in(browser_page, live_server.url, "ops")
    _upload(browser_page, live_server.url, path)
    body = browser_page.locator("main").inner_text()
    assert "Applied" in body or "applied" in body
    assert Member.objects.filter(payer_member_id__in=["NEW01", "NEW02"]).count() == 2
    assert RosterImport.objects.get().imported_by == "ops"


def test_rejected_upload_shows_errors_and_applies_nothing(
    browser_page: Page, live_server: Any, transactional_db: None, small_ipa: Any, tmp_path: Path
) -> None:
    path = tmp_path / "bad.834"
    path.write_bytes(roster_834([M("NEW01"), M("NEW02", plan="GOLDPPO")]))
    sign_in(browser_page, live_server.url, "ops")
    _upload(browser_page, live_server.url, path)
    body = browser_page.locator("main").inner_text()
    assert "plan 'GOLDPPO' is not a product of SUN" in body
    assert not Member.objects.filter(payer_member_id__in=["NEW01", "NEW02"]).exists()
    assert RosterImport.objects.get().status == "rejected"
