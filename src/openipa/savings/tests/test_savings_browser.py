"""In Chromium: finance opens "New version" of the open-ended formula ``standard``, sees the grouped form (each
group a fieldset whose legend is a small muted heading, no box), ticks "End the version in force the day
before" and saves: v1 now ends on 2026-12-31. With OPENIPA_SCREENSHOTS set, the form is saved as a picture."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest

from openipa.conftest import PASSWORD
from openipa.savings.models import DistributionFormula

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("OPENIPA_SCREENSHOTS", "")


def test_finance_ends_the_open_formula_with_a_new_version(
    browser_page: Any, live_server: Any, transactional_db: None, ss: Any
) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("fin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/savings/formulas/new/?from={ss.formula.pk}")
    legend = page.locator("fieldset.form-group legend").first
    style = legend.evaluate(
        "e => { const s = getComputedStyle(e); return [s.textTransform, s.cssFloat, s.fontWeight]; }"
    )
    assert style == ["uppercase", "left", "600"]
    fieldsets = page.locator("fieldset.form-group")
    assert fieldsets.count() == 3
    assert fieldsets.nth(0).evaluate("e => getComputedStyle(e).borderTopWidth") == "0px"
    assert fieldsets.nth(1).evaluate("e => getComputedStyle(e).borderTopWidth") == "1px"
    checkbox = page.get_by_label("End the version in force the day before")
    assert not checkbox.is_checked()
    page.get_by_label("In force from").fill("2027-01-01")
    checkbox.check()
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/savings-formula-new-version.png", full_page=True)
    page.get_by_role("button", name="Save the new version").click()
    page.wait_for_url(f"{live_server.url}/savings/")
    assert "Version 1 now ends on 2026-12-31" in page.inner_text("body")
    ss.formula.refresh_from_db()
    assert ss.formula.valid_to == dt.date(2026, 12, 31)
    assert DistributionFormula.objects.get(name="standard", version=2).valid_from == dt.date(2027, 1, 1)
