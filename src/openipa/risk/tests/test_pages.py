"""The Risk pages: runs with the charts and the approve button, member scores, a member's diagnoses behind each
HCC, the coding gaps per PCP and their CSV; refusals, practice scoping and audited reads."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse

from openipa.core.models import AuditEvent
from openipa.risk import services
from openipa.risk.models import RiskRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(risk_ipa: Any) -> RiskRun:
    return services.score_members(risk_ipa.users["quality"], year=2026)


def _reads(object_type: str, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind=AuditEvent.Kind.READ, object_type=object_type, action=action))


def test_the_runs_page_shows_charts_means_and_approves(risk_ipa: Any, run: RiskRun, client_for: Any) -> None:
    page = client_for("quality2").get(reverse("web:risk:home"))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="risk-by-practice-title"' in text
    assert 'id="risk-spread-title"' in text
    assert "Alder Family Medicine" in text
    assert 'data-testid="approve"' in text
    assert f'data-testid="mean-payment-raf">0.{run.mean_payment_raf_milli:03d}<' in text
    # the preparer has no approve button, and is refused if they post
    own = client_for("quality")
    assert 'data-testid="approve"' not in own.get(reverse("web:risk:home")).content.decode()
    own.post(reverse("web:risk:approve", args=[run.pk]))
    assert RiskRun.objects.get(pk=run.pk).status == "draft"
    response = client_for("quality2").post(reverse("web:risk:approve", args=[run.pk]))
    assert response.status_code == 302
    assert RiskRun.objects.get(pk=run.pk).status == "approved"


@pytest.mark.parametrize("persona", ["fin", "messenger"])
def test_the_pages_are_refused_without_view_gaps(risk_ipa: Any, run: RiskRun, client_for: Any,
                                                     persona: str) -> None:  # fmt: skip
    client = client_for(persona)
    for url in (reverse("web:risk:home"), reverse("web:risk:run", args=[run.pk]), reverse("web:risk:gaps"),
                reverse("web:risk:member", args=[run.pk, risk_ipa.member_a.pk]),
                reverse("web:risk:gaps") + "?format=csv"):  # fmt: skip
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("web:risk:approve", args=[run.pk])).status_code == 403
    assert RiskRun.objects.get(pk=run.pk).status == "draft"
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.READ, object_type__startswith="risk.").exists()


def test_the_auditor_reads_but_cannot_approve(risk_ipa: Any, run: RiskRun, client_for: Any) -> None:
    client = client_for("auditor")
    assert client.get(reverse("web:risk:home")).status_code == 200
    assert client.post(reverse("web:risk:approve", args=[run.pk])).status_code == 403
    assert RiskRun.objects.get(pk=run.pk).status == "draft"


def test_member_scores_and_a_member_with_the_diagnoses_behind_each_hcc(risk_ipa: Any, run: RiskRun,
                                                                       client_for: Any) -> None:  # fmt: skip
    client = client_for("quality")
    listing = client.get(reverse("web:risk:run", args=[run.pk])).content.decode()
    assert "Anders, Amy" in listing
    assert "Brooks, Bert" in listing
    (read,) = _reads("risk.memberscore", "list")
    assert sorted(read.member_ids) == sorted([risk_ipa.member_a.pk, risk_ipa.member_b.pk])
    only_38 = client.get(reverse("web:risk:run", args=[run.pk]), {"hcc": "38"}).content.decode()
    assert "Anders, Amy" in only_38
    assert "Brooks, Bert" not in only_38
    detail = client.get(reverse("web:risk:member", args=[run.pk, risk_ipa.member_a.pk])).content.decode()
    assert "Diabetes with Glycemic, Unspecified, or No Complications" in detail
    assert "E119" in detail
    assert f"claim line {risk_ipa.amy_line.pk}" in detail
    assert "N1831" in detail
    assert "I4891" not in detail  # the HIE is not accepted for risk adjustment
    (view,) = _reads("risk.memberscore", "view")
    assert view.member_ids == [risk_ipa.member_a.pk]
    bert = client.get(reverse("web:risk:member", args=[run.pk, risk_ipa.member_b.pk])).content.decode()
    assert "coded in 2024 (E1122" in bert


def test_coding_gaps_per_pcp_with_filters_and_an_audited_csv(
    risk_ipa: Any, run: RiskRun, client_for: Any
) -> None:
    client = client_for("quality")
    page = client.get(reverse("web:risk:gaps")).content.decode()
    assert page.count("Birch, Ben (1245319599)</option>") == 1  # each PCP once in the filter
    assert "Birch, Ben" in page or "Ben Birch" in page
    assert "oral anticoagulant filled" in page
    suspects = client.get(reverse("web:risk:gaps"), {"run": run.pk, "kind": "recapture"}).content.decode()
    assert "oral anticoagulant filled" not in suspects
    assert "coded in 2024" in suspects
    none = client.get(reverse("web:risk:gaps"), {"run": run.pk, "practice": risk_ipa.practice_a.pk}).content
    assert b'data-testid="no-gaps"' in none
    response = client.get(reverse("web:risk:gaps"), {"run": run.pk, "format": "csv", "kind": "suspect"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["run_id", "payment_year", "practice"]
    assert sorted((r[8], r[9], r[11]) for r in rows[1:]) == [
        ("suspect", "238", "anticoagulant-af-vte"), ("suspect", "329", "egfr-ckd3")
    ]  # fmt: skip
    (export,) = _reads("risk.codinggap", "export")
    assert export.member_ids == [risk_ipa.member_b.pk]


def test_a_practice_scoped_reader_sees_only_its_practices_members(
    risk_ipa: Any, run: RiskRun, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A practice user (VIEW_GAPS) sees its own practice's members only (the selectors scope by the PCP's
    practice)."""
    bob = client_for("bob")
    listing = bob.get(reverse("web:risk:run", args=[run.pk])).content.decode()
    assert "Brooks, Bert" in listing
    assert "Anders, Amy" not in listing
    assert bob.get(reverse("web:risk:member", args=[run.pk, risk_ipa.member_a.pk])).status_code == 404
    home = bob.get(reverse("web:risk:home")).content.decode()
    assert "Alder Family Medicine" not in home
    alice_gaps = client_for("alice").get(reverse("web:risk:gaps"), {"format": "csv"}).content.decode()
    assert alice_gaps.strip().count("\n") == 0  # the header only: Amy has no gap
    assert client_for("alice").post(reverse("web:risk:approve", args=[run.pk])).status_code == 403


def test_the_pages_without_any_run(risk_ipa: Any, client_for: Any) -> None:
    client = client_for("quality")
    assert "No risk run yet" in client.get(reverse("web:risk:home")).content.decode()
    assert "No risk run yet" in client.get(reverse("web:risk:gaps")).content.decode()
    assert client.get(reverse("web:risk:run", args=[999])).status_code == 404
    assert client.get(reverse("web:risk:home"), {"run": "999"}).status_code == 404


@pytest.mark.browser
@pytest.mark.slow
def test_browser_risk_pages_and_approval(browser_page: Any, live_server: Any, transactional_db: Any,
                                         risk_ipa: Any) -> None:  # fmt: skip
    """In a real browser the second quality user opens Risk from the navigation, sees the charts, opens a
    member's diagnoses and the gaps, and approves the run the first prepared."""
    from playwright.sync_api import expect

    from openipa.conftest import PASSWORD

    run = services.score_members(risk_ipa.users["quality"], year=2026)
    page = browser_page
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("quality2")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    page.get_by_role("link", name="Risk", exact=True).click()
    page.wait_for_url(f"{base}{reverse('web:risk:home')}")
    expect(page.locator("svg[aria-labelledby^='risk-by-practice']")).to_be_visible()
    expect(page.locator("svg[aria-labelledby^='risk-spread']")).to_be_visible()
    page.get_by_role("link", name="Member scores").first.click()
    page.get_by_role("link", name="Anders, Amy").click()
    expect(page.get_by_test_id("hccs")).to_contain_text("E119")
    page.get_by_role("link", name="Coding gaps").click()
    expect(page.get_by_test_id("pcp-gaps")).to_contain_text("coded in 2024")
    page.screenshot(path="/tmp/risk-gaps.png", full_page=True)
    page.get_by_role("link", name="Runs").click()
    page.get_by_role("button", name=f"Approve run {run.pk}").click()
    expect(page.get_by_test_id("runs")).to_contain_text("Approved")
    page.screenshot(path="/tmp/risk-runs.png", full_page=True)
    assert RiskRun.objects.get(pk=run.pk).approved_by == "quality2"
