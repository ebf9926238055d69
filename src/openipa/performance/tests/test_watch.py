"""The under-service watch read from the database (panels, requests made through the UM services, claims), its
refusals, and its page by role (staff 200, a practice user and finance 403), linked from the utilization
reports and the authorization tabs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse

from openipa.claims.models import Claim, ClaimImport, ClaimLine
from openipa.conftest import SmallIpa
from openipa.core.errors import PermissionDenied
from openipa.core.models import AuditEvent
from openipa.performance import selectors
from openipa.performance.engine import watch
from openipa.utilization import reports as um_reports
from openipa.utilization.models import AuthRequest, WatchThreshold

pytestmark = pytest.mark.django_db

YEAR_2026 = watch.Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def _url() -> str:
    return reverse("web:performance:under_service_watch")


def _ed_claim(um: SmallIpa, on: dt.date, *, void: bool = False) -> None:
    source = ClaimImport.objects.first() or ClaimImport.objects.create(
        file_name="t.837", sha256="0" * 64, format="x12", status="applied", received_on=on, imported_by="t"
    )
    claim = Claim.objects.create(
        source=source, kind="professional", patient_control_number=f"P{Claim.objects.count()}", member=um.member_a,
        member_key="SUN0001", billing_npi="1912301953", service_from=on, service_to=on, received_on=on,
        charge_cents=10000, place_of_service="23", frequency="8" if void else "1",
    )  # fmt: skip
    ClaimLine.objects.create(claim=claim, number=1, code="99284", units=1, charge_cents=10000, service_from=on,
                             service_to=on)  # fmt: skip


def test_the_watch_reads_panels_requests_and_claims(um: SmallIpa, decided: dict[str, AuthRequest]) -> None:
    """Member A (practice A's panel, eligible from 1 January 2026) has the 8 requests of March and two ED visits
    (a void does not count); member B (practice B) has none. Practice A: 12 member-months in 2026, requests
    8 x 12,000 / 12 = 8,000 per 1,000, ED 2,000 per 1,000; one denial of 5 initial decisions (r1-r4, r8). Both practices are
    far under the 600 member-months minimum: nothing is flagged."""
    _ed_claim(um, dt.date(2026, 4, 1))
    _ed_claim(um, dt.date(2026, 5, 1))
    _ed_claim(um, dt.date(2026, 6, 1), void=True)
    report = selectors.watch_report(um.users["quality"], period=YEAR_2026)
    assert report.previous == watch.Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert not report.risk_adjusted
    practices = {u.key: u for u in report.practices}
    a, b = practices[um.practice_a.pk], practices[um.practice_b.pk]
    assert a.name == um.practice_a.legal_name
    assert (a.row["member_months"], a.row["requests"], a.row["ed_visits"]) == (12, 8, 2)
    assert (a.row["decided"], a.row["denied"]) == (5, 1)
    assert a.row["ed_rate"] == pytest.approx(2000)
    assert (b.row["member_months"], b.row["requests"], b.row["ed_visits"]) == (12, 0, 0)
    assert report.flagged_practices == []
    assert report.flagged_pcps == []
    assert {u.key for u in report.pcps} == {um.pcp_a.pk, um.pcp_b.pk}


def test_the_requests_frame_of_utilization_is_the_engines(
    um: SmallIpa, decided: dict[str, AuthRequest]
) -> None:
    """Utilization restates the engine's request columns (it may not import this app): they must not drift, and
    the frame the watch reads from it is the engine's schema."""
    assert um_reports.WATCH_REQUEST_SCHEMA == watch.REQUEST_SCHEMA
    inputs = selectors.watch_inputs(um.users["quality"], dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert inputs["requests"].schema == watch.REQUEST_SCHEMA
    assert inputs["requests"].height == 8


def test_the_watch_without_thresholds_in_force_or_with_a_reversed_period_is_refused(um: SmallIpa) -> None:
    from openipa.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="before the first"):
        selectors.watch_report(
            um.users["quality"], period=watch.Period(dt.date(2026, 6, 1), dt.date(2026, 1, 31))
        )
    WatchThreshold.objects.update(valid_to=dt.date(2025, 12, 31))
    with pytest.raises(
        ValidationFailed, match="no under-service watch thresholds are in force on 2026-12-31"
    ):
        selectors.watch_report(um.users["quality"], period=YEAR_2026)


@pytest.mark.parametrize("user", ["alice", "fin"])
def test_the_watch_refuses_practice_users_and_roles_without_um(
    um: SmallIpa, decided: dict[str, AuthRequest], user: str
) -> None:
    actor = um.users[user]
    before = AuditEvent.objects.count()
    for call in (
        lambda: selectors.watch_report(actor, period=YEAR_2026),
        lambda: selectors.watch_inputs(actor, dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert AuditEvent.objects.count() == before


# -- the page


@pytest.mark.parametrize("user", ["nurse", "md", "quality", "auditor", "ops"])
def test_staff_with_view_um_see_the_watch_page(
    um: SmallIpa, decided: dict[str, AuthRequest], client_for: Any, user: str
) -> None:
    page = client_for(user).get(_url(), {"month_from": "2026-01", "month_to": "2026-12"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Not risk-adjusted: no risk scores" in text
    assert 'id="um-watch-referrals-title"' in text
    assert um.practice_a.legal_name in text
    # the utilization reports' link bar, this page marked as the current one
    assert f'href="{reverse("web:utilization:sla_dashboard")}"' in text
    assert f'href="{reverse("web:utilization:cms_metrics")}"' in text
    assert f'href="{_url()}" aria-current="page"' in text


@pytest.mark.parametrize("user", ["alice", "fin"])
def test_practice_users_and_finance_get_403(
    um: SmallIpa, decided: dict[str, AuthRequest], client_for: Any, user: str
) -> None:
    before = AuditEvent.objects.count()
    assert client_for(user).get(_url(), {"month_from": "2026-01", "month_to": "2026-12"}).status_code == 403
    assert AuditEvent.objects.count() == before


def test_the_watch_is_under_performance_and_no_longer_under_authorizations(
    um: SmallIpa, client_for: Any
) -> None:
    assert _url() == "/performance/watch/"
    with pytest.raises(NoReverseMatch):
        reverse("web:utilization:under_service_watch")
    assert client_for("quality").get("/authorizations/watch/").status_code == 404


def test_the_utilization_pages_link_the_watch(um: SmallIpa, client_for: Any) -> None:
    client = client_for("md")
    link = f'href="{_url()}"'
    for name in ("sla_dashboard", "cms_metrics", "queue"):
        page = client.get(reverse(f"web:utilization:{name}"))
        assert page.status_code == 200
        assert link in page.content.decode(), name


def test_the_watch_page_without_members_or_without_thresholds(um: SmallIpa, client_for: Any) -> None:
    client = client_for("quality")
    url = _url()
    empty = client.get(url, {"month_from": "2020-01", "month_to": "2020-12"})
    assert empty.status_code == 200
    assert "No member was on a panel in this period." in empty.content.decode()
    WatchThreshold.objects.update(valid_to=dt.date(2025, 12, 31))
    refused = client.get(url, {"month_from": "2026-01", "month_to": "2026-06"})
    assert refused.status_code == 200
    text = refused.content.decode()
    assert "no under-service watch thresholds are in force on 2026-06-30" in text
    assert "Not risk-adjusted" not in text


def test_the_watch_page_without_filters_shows_the_last_twelve_months(um: SmallIpa, client_for: Any) -> None:
    from django.utils import timezone

    today = timezone.localdate()
    watch_page = client_for("nurse").get(_url()).content.decode()
    last = today.replace(day=1) - dt.timedelta(days=1)
    assert f'value="{last:%Y-%m}"' in watch_page


def test_the_watch_page_with_a_reversed_period_says_so(um: SmallIpa, client_for: Any) -> None:
    page = client_for("nurse").get(_url(), {"month_from": "2026-06", "month_to": "2026-01"})
    assert page.status_code == 200
    assert "The last month is before the first." in page.content.decode()


@pytest.mark.browser
@pytest.mark.slow
def test_browser_the_watch(
    browser_page: Any, live_server: Any, transactional_db: Any, um: SmallIpa, decided: dict[str, AuthRequest]
) -> None:
    """In a real browser the medical director goes from the SLA dashboard to the watch through the reports'
    link bar, reads it for 2026, and goes back to the dashboard through the same bar."""
    from playwright.sync_api import expect

    from openipa.conftest import PASSWORD

    page = browser_page
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("md")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}{reverse('web:utilization:sla_dashboard')}")
    page.get_by_role("navigation", name="Utilization reports").get_by_role(
        "link", name="Under-service watch"
    ).click()
    page.wait_for_url(f"{base}{_url()}")
    expect(page.get_by_test_id("risk-note")).to_contain_text("Not risk-adjusted: no risk scores")
    page.get_by_label("From month").fill("2026-01")
    page.get_by_label("To month").fill("2026-12")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("watch-practices")).to_contain_text(um.practice_a.legal_name)
    expect(page.locator("svg[aria-labelledby^='um-watch-referrals']")).to_be_visible()
    page.screenshot(path="/tmp/performance-watch.png", full_page=True)
    page.get_by_role("navigation", name="Utilization reports").get_by_role(
        "link", name="SLA dashboard"
    ).click()
    page.wait_for_url(f"{base}{reverse('web:utilization:sla_dashboard')}")
