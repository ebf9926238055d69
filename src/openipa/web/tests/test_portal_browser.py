"""In a real browser: a practice user signs in and lands on her practice portal: the statements, the cards loaded
after the page (gaps, claims, authorizations, scorecard), the value-of-membership chart and its table; she follows
her capitation statement's link to the statement. Nothing of the other practice shows."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from openipa.capitation.services.runs import approve_run, distribute_month
from openipa.capitation.tests.test_pages_common import *  # noqa: F403 (the fixtures)
from openipa.capitation.tests.test_pages_common import MAY, paid
from openipa.ledger import accounts
from openipa.ledger.services import Posting, post_entry
from openipa.web.tests.test_browser_personas import sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_practice_user_reads_her_portal_and_opens_a_statement(
    browser_page: Page, live_server: Any, transactional_db: None, capitated: Any
) -> None:
    from playwright.sync_api import expect

    ipa = capitated
    paid(ipa, MAY, "may")
    approve_run(
        actor=ipa.users["fin2"], run=distribute_month(actor=ipa.users["fin"], payer=ipa.payer, month=MAY)
    )
    today = timezone.localdate()
    fee = [Posting(accounts.PRACTICE_RECEIVABLE, debit_cents=2500, practice_id=ipa.practice_a.pk),
           Posting(accounts.MEMBERSHIP_FEE_REVENUE, credit_cents=2500, practice_id=ipa.practice_a.pk)]  # fmt: skip
    post_entry(
        actor=None,
        date=today,
        memo="fee",
        postings=fee,
        source_type="test",
        source_id=1,
    )

    page, base = browser_page, live_server.url
    sign_in(page, base, "alice")
    expect(page.get_by_role("heading", name="Alder Family Medicine")).to_be_visible()
    for card in ("portal-gaps", "portal-claims", "portal-authorizations", "portal-scorecard"):
        expect(page.get_by_test_id(card).locator(".loading")).to_have_count(0)  # loaded after the page
    expect(page.get_by_test_id("portal-gaps")).to_contain_text("No quality run")
    expect(page.get_by_test_id("portal-scorecard").get_by_test_id("scorecard-rows")).to_be_visible()
    expect(page.get_by_test_id("portal-authorizations")).to_contain_text("Open")
    expect(page.get_by_test_id("portal-claims")).to_contain_text("Latest claims")
    value = page.get_by_test_id("portal-value")
    expect(value.locator("svg.chart")).to_be_visible()
    expect(value.locator("svg.chart title").first).to_have_text("Value of membership by month")
    # May's capitation net of the $35.00 admin fee, less the $25.00 membership fee
    expect(value.get_by_test_id("value-net-total")).to_have_text("$165.50")
    expect(page.locator("main")).not_to_contain_text("Birch")

    page.get_by_test_id("capitation-statements").get_by_role(
        "link", name="Sunrise Health Plan May 2026"
    ).click()
    page.wait_for_url(re.compile(r".*/capitation/statements/\d+/$"))
    expect(page.get_by_test_id("statement-net")).to_have_text("$190.50")
