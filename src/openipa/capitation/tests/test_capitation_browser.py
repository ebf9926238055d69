"""In a real browser: finance uploads a remittance behind the progress indicator, reconciles the month and
resolves a discrepancy in the work queue with htmx (the row changes in place); a practice user follows
"Statements" to her practice's statement and downloads its PDF."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from openipa.capitation.models import Discrepancy, Reconciliation, RemittanceImport
from openipa.capitation.tests.remit_files import member, write_820_file
from openipa.capitation.tests.test_pages_common import *  # noqa: F403 (the fixtures)
from openipa.web.tests.test_browser_personas import sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_finance_uploads_reconciles_and_resolves_a_discrepancy(
    browser_page: Page, live_server: Any, transactional_db: None, capitated: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page, base = browser_page, live_server.url
    path = write_820_file(
        tmp_path / "may.820",
        [member("SUN0001", [(30000, None, None)]), member("SUN0002", [(35000, None, None)], ent=2)],
    )
    sign_in(page, base, "fin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Capitation").click()
    page.get_by_role("link", name="Upload a remittance").click()
    page.get_by_label("Payer").select_option(label="Sunrise Health Plan")
    page.get_by_label("Remittance file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url(re.compile(r".*/capitation/remittances/\d+/$"))
    expect(page.locator("main")).to_contain_text("may.820 was applied: $650.00 for 2026-05")
    assert RemittanceImport.objects.get().status == "applied"

    page.get_by_role("link", name="Sunrise Health Plan").first.click()
    page.get_by_role("button", name="Reconcile this month").click()
    page.wait_for_url(re.compile(r".*/capitation/payers/\d+/2026-05/$"))
    expect(page.locator("main")).to_contain_text("variance $50.00; 1 open discrepancy.")
    assert Reconciliation.objects.get().variance_cents == 5000

    page.get_by_role("navigation", name="Capitation").get_by_role("link", name="Work queue").click()
    row = page.get_by_test_id("discrepancy-row").first
    expect(row).to_contain_text("Anders, Amy")
    row.locator("summary").click()
    row.get_by_label("Note").fill("payer corrected the rate cell")
    url_before = page.url
    row.get_by_role("button", name="Resolve").click()
    expect(page.get_by_test_id("status").first).to_have_text("Resolved")
    expect(page.get_by_test_id("discrepancy-row").first).to_contain_text("payer corrected the rate cell")
    assert page.url == url_before  # the row changed in place
    d = Discrepancy.objects.get()
    assert (d.status, d.resolution) == ("resolved", "payer corrected the rate cell")


def test_a_practice_user_opens_her_statement_and_downloads_the_pdf(
    browser_page: Page, live_server: Any, transactional_db: None, world: Any
) -> None:
    from playwright.sync_api import expect

    page, base = browser_page, live_server.url
    sign_in(page, base, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statements", exact=True).click()
    expect(page.locator("main")).not_to_contain_text("Birch Pediatrics")
    page.get_by_role("link", name="2026-05").click()
    expect(page.get_by_test_id("statement-net")).to_have_text("$190.50")
    expect(page.get_by_test_id("member-lines")).to_contain_text("Anders, Amy")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    download = info.value
    assert download.suggested_filename == f"statement-ALDER-SUN-2026-05-run{world.run.pk}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
