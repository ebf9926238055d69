"""In Chromium: finance opens the trial balance, follows an entry and reverses it through the confirmation
page; the trial balance then shows the accounts back at zero."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest

from openipa.conftest import PASSWORD
from openipa.ledger import accounts
from openipa.ledger.models import JournalEntry
from openipa.ledger.services import post_entry
from openipa.ledger.tests.conftest import cr, dr

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("OPENIPA_SCREENSHOTS", "")


def shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def test_finance_reverses_an_entry_in_the_browser(
    browser_page: Any, live_server: Any, transactional_db: None, small_ipa: Any
) -> None:
    page = browser_page
    entry = post_entry(
        actor=small_ipa.users["fin"],
        date=dt.date(2026, 1, 31),
        memo="January capitation, Sunrise",
        postings=[
            dr(accounts.CASH, 100_000, payer_id=small_ipa.payer.pk),
            cr(accounts.PROVIDER_CAPITATION_PAYABLE, 61_000, practice_id=small_ipa.practice_a.pk),
            cr(accounts.PROVIDER_CAPITATION_PAYABLE, 27_000, practice_id=small_ipa.practice_b.pk),
            cr(accounts.ADMIN_FEE_REVENUE, 12_000),
        ],
        source_type="capitation_run",
        source_id=5,
    )
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("fin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/ledger/")
    totals = page.locator("tr[data-totals]")
    assert totals.inner_text().split() == ["Total", "$1,000.00", "$1,000.00"]
    shot(page, "trial-balance")

    page.goto(f"{live_server.url}/ledger/entries/")
    page.get_by_role("link", name=str(entry.number), exact=True).click()
    page.wait_for_url(f"{live_server.url}/ledger/entries/{entry.number}/")
    shot(page, "entry")
    page.get_by_role("link", name="Reverse this entry").click()
    page.get_by_label("Memo").fill("Run 5 voided: wrong rate table")
    page.get_by_role("button", name="Post the reversal").click()
    assert page.locator(".alert.error").is_visible()  # the confirmation box was not ticked
    assert JournalEntry.objects.count() == 1
    page.get_by_label("Post the reversal").check()
    page.get_by_role("button", name="Post the reversal").click()
    page.wait_for_url(f"{live_server.url}/ledger/entries/{entry.number + 1}/")
    assert "reverses" in page.locator(".alert").first.inner_text()
    shot(page, "reversal")

    page.goto(f"{live_server.url}/ledger/")
    assert page.locator("tr[data-totals]").inner_text().split() == ["Total", "$0.00", "$0.00"]
    page.goto(f"{live_server.url}/ledger/accounts/{accounts.PROVIDER_CAPITATION_PAYABLE}/")
    shot(page, "account")
