"""In a real browser, a credentialing user records a verification with its document on a file's checklist,
decides a complete file in committee, finds its letter to send, and reads the expirables chart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from openipa.conftest import PASSWORD
from openipa.credentialing.models import CommitteeDecision
from openipa.credentialing.services import open_file
from openipa.credentialing.tests.files_helpers import verified_file, verify

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path("/tmp")


def _sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill("cred")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def test_verify_decide_and_send_the_letter(
    browser_page: Page, live_server: Any, transactional_db: Any, screening_ipa: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    cred = screening_ipa.users["cred"]
    today = timezone.localdate()
    complete = verified_file(cred, screening_ipa.pcp_a, today - dt.timedelta(days=3), tmp_path)
    partial = open_file(actor=cred, provider=screening_ipa.pcp_b, kind="initial", opened_on=today)
    verify(cred, partial, "license", today, tmp_path, expires_on=today + dt.timedelta(days=40))
    _sign_in(page, live_server.url)

    page.goto(f"{live_server.url}/credentialing/files/{partial.pk}/")
    expect(page.get_by_test_id("state-sanctions")).to_have_text("Missing")
    page.locator("#element-sanctions").get_by_role("link", name="Verify").click()
    page.get_by_label("Source").fill("OIG LEIE online search")
    page.get_by_label("Method").select_option("online")
    page.get_by_label("Result").select_option("verified")
    document = tmp_path / "leie-search.pdf"
    document.write_bytes(b"%PDF-1.4 no match")
    page.get_by_label("Document").set_input_files(str(document))
    page.get_by_role("button", name="Record the verification").click()
    expect(page.get_by_test_id("state-sanctions")).to_have_text("Verified")
    expect(page.get_by_role("link", name="leie-search.pdf")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "openipa-credentialing-file.png"), full_page=True)

    page.goto(f"{live_server.url}/credentialing/committee/")
    page.locator(f"#queue-{complete.pk}").get_by_role("link").click()
    page.get_by_label("Approve", exact=True).check()
    page.get_by_label("Minutes").fill("Reviewed; no adverse findings. Approved unanimously.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_test_id("file-status")).to_have_text("Decided")
    decision = CommitteeDecision.objects.get(file=complete)
    page.goto(f"{live_server.url}/credentialing/committee/")
    expect(page.locator(f"#letter-{decision.pk}")).to_be_visible()
    page.locator(f"#letter-{decision.pk}").get_by_role("button", name="Sent").click()
    expect(page.locator(f"#letter-{decision.pk}")).to_have_count(0)

    page.goto(f"{live_server.url}/credentialing/expirables/")
    expect(page.locator("svg.chart")).to_have_count(1)
    assert page.locator("svg.chart rect.bar").count() > 0
    page.screenshot(path=str(SCREENSHOTS / "openipa-credentialing-expirables.png"), full_page=True)
