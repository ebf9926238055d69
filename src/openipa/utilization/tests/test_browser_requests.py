"""In a real browser: a practice user submits a prior authorization and sees its due time, the UM nurse finds
it in her queue and escalates it (she has no deny button), the medical director denies it with a reason and
the criteria, and the decision notice is there to download."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from openipa.conftest import PASSWORD
from openipa.utilization.models import AuthRequest

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from openipa.conftest import SmallIpa

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path("/tmp")
REASON = "A repeat echocardiogram within a year needs a change in symptoms, which the notes do not document."


def _sign_in(page: Page, base_url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def test_submit_escalate_deny_and_the_notice(
    browser_page: Page, live_server: Any, transactional_db: Any, um: SmallIpa, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    base = live_server.url

    # the practice submits for its own member, with a document
    _sign_in(page, base, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Authorizations").click()
    page.get_by_role("link", name="New request").first.click()
    page.get_by_label("Kind").select_option("prior_auth")
    page.get_by_label("Member id").fill("SUN0001")
    page.get_by_label("Requesting provider").select_option("1234567893")
    page.get_by_label("Servicing provider NPI").fill("1003000126")
    page.get_by_label("Diagnoses").fill("I50.9, R06.00")
    page.get_by_label("Clinical notes").fill("Worsening dyspnea on exertion for two months.")
    page.get_by_label("Line 1 CPT or HCPCS code").fill("93306")
    page.get_by_label("Line 1 units").fill("1")
    page.get_by_label("Line 1 from").fill("2026-03-10")
    page.get_by_label("Line 1 to").fill("2026-03-31")
    notes = tmp_path / "cardiology-notes.pdf"
    notes.write_bytes(b"%PDF-1.4 cardiology notes")
    page.get_by_label("Attachments").set_input_files(str(notes))
    page.screenshot(path=str(SCREENSHOTS / "openipa-authorization-new.png"), full_page=True)
    page.get_by_role("button", name="Submit the request").click()
    expect(page.get_by_role("status")).to_contain_text("a decision is due by")
    request = AuthRequest.objects.get()
    expect(page.get_by_test_id("request-status")).to_have_text("Received")
    expect(page.get_by_test_id("clock-rule")).to_contain_text("42 CFR 422.568(b)(1) as amended by CMS-0057-F")
    expect(page.get_by_role("link", name="cardiology-notes.pdf")).to_be_visible()
    expect(page.get_by_test_id("escalate-form")).to_have_count(0)

    # the nurse finds it in her queue and escalates it; she cannot deny
    _sign_in(page, base, "nurse")
    page.goto(f"{base}/authorizations/?queue=nurse")
    page.get_by_role("link", name=request.number).click()
    expect(page.get_by_role("button", name="Deny")).to_have_count(0)
    page.get_by_label("Why a physician").fill("Repeat echo within a year: needs a physician's review.")
    page.get_by_role("button", name="Escalate").click()
    expect(page.get_by_test_id("request-status")).to_have_text("Physician review")

    # the medical director denies it with the reason and the criteria
    _sign_in(page, base, "md")
    page.goto(f"{base}/authorizations/?queue=physician")
    page.get_by_role("link", name=request.number).click()
    page.get_by_label("Specific reason").fill(REASON)
    page.get_by_label("Criteria (text)").fill("Internal policy UM-CARD-003 v2")
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_test_id("request-status")).to_have_text("Denied")
    expect(page.get_by_test_id("decision")).to_contain_text(REASON)
    link = page.get_by_test_id("notice-link")
    expect(link).to_have_count(1)
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "notice.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-"
    page.screenshot(path=str(SCREENSHOTS / "openipa-authorization-denied.png"), full_page=True)

    # the practice sees the denial, its notice and may appeal
    _sign_in(page, base, "alice")
    page.goto(f"{base}/authorizations/{request.pk}/")
    expect(page.get_by_test_id("notice-link")).to_have_count(1)
    expect(page.get_by_test_id("appeal-open-form")).to_be_visible()


def test_the_queue_alerts_on_overdue_requests_and_filters_in_place(
    browser_page: Page, live_server: Any, transactional_db: Any, um: SmallIpa
) -> None:
    import datetime as dt

    from django.utils import timezone
    from playwright.sync_api import expect

    from openipa.utilization import services
    from openipa.utilization.tests.conftest import request_input

    def submit(received: dt.datetime, **overrides: Any) -> AuthRequest:
        return services.submit_request(actor=um.users["ops"], data=request_input(**overrides), source="staff",
                                       received_at=received)  # fmt: skip

    now = timezone.now()
    late = submit(now - dt.timedelta(days=9))
    referral = submit(now, kind="referral")
    expedited = submit(now, urgency="expedited")
    page = browser_page
    _sign_in(page, live_server.url, "nurse")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Authorizations").click()
    rows = page.get_by_test_id("requests").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("id", f"request-{late.pk}")
    alert = page.get_by_test_id("overdue-alert")
    expect(alert).to_contain_text("1 open request is past its due time")
    page.screenshot(path=str(SCREENSHOTS / "openipa-authorizations-queue.png"), full_page=True)
    # filters apply in place (htmx) and the address keeps them
    page.get_by_label("Kind").select_option("referral")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("id", f"request-{referral.pk}")
    assert "kind=referral" in page.url
    page.get_by_label("Kind").select_option("")
    page.get_by_label("Urgency").select_option("expedited")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("id", f"request-{expedited.pk}")
    alert.get_by_role("link").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("id", f"request-{late.pk}")
    expect(rows.first).to_have_attribute("data-overdue", "true")
    expect(page.get_by_label("Overdue only")).to_be_checked()
