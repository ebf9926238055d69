"""The utilization reports on requests made through the services: the requests frame (initial decisions, not
the appeal's), the CMS-0057-F report and its CSV (audited), the SLA dashboard, the requests frame the
under-service watch reads (the watch itself: ``openipa.performance``), and the pages by role (staff 200, a
practice user and finance 403)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse

from openipa.conftest import SmallIpa
from openipa.core.errors import PermissionDenied
from openipa.core.models import AuditEvent
from openipa.utilization import reports, services
from openipa.utilization.engine.intake import ServiceInput
from openipa.utilization.models import AuthRequest
from openipa.utilization.tests.conftest import at, request_input

pytestmark = pytest.mark.django_db

REASON = "Not medically necessary under the policy cited."


def _submit(um: SmallIpa, received: str, **overrides: Any) -> AuthRequest:
    return services.submit_request(actor=um.users["ops"], data=request_input(**overrides), source="portal",
                                   received_at=at(received))  # fmt: skip


@pytest.fixture
def decided(um: SmallIpa) -> dict[str, AuthRequest]:
    """Requests of March 2026 (Medicare Advantage, the small IPA's contract), received on Monday 2 March at 14:00
    (PST; daylight saving starts on 8 March) unless said:
    r1 standard, approved 3 March 09:00 (19 h); r2 standard, denied 5 March 11:00 (69 h), appeal overturned 12 March;
    r3 standard, extended, approved 16 March 10:00 PDT (331 h); r4 expedited, approved 3 March 10:00 (20 h);
    r5 standard, open (due 9 March: overdue); r6 standard received 13 March, open, due 20 March 23:59:59;
    r7 withdrawn; r8 standard approved 11 March 10:00 PDT (211 h, late: due 9 March)."""
    nurse, md, md2 = um.users["nurse"], um.users["md"], um.users["md2"]
    r = {name: _submit(um, "2026-03-02 14:00") for name in ("r1", "r2", "r3", "r5", "r7", "r8")}
    r["r4"] = _submit(um, "2026-03-02 14:00", urgency="expedited")
    r["r6"] = _submit(um, "2026-03-13 14:00")
    services.decide(actor=nurse, request=r["r1"], decision="approve", now=at("2026-03-03 09:00"))
    services.decide(actor=md, request=r["r2"], decision="deny", reason=REASON, criteria="UM-CARD-003 v2",
                    now=at("2026-03-05 11:00"))  # fmt: skip
    appeal = services.open_appeal(actor=um.users["ops"], request=r["r2"], appellant="Dr. Ada Alder",
                                  grounds="New symptoms since the last echo.", received_at=at("2026-03-06 10:00"))  # fmt: skip
    services.decide_appeal(actor=md2, appeal=appeal, outcome="overturned", reason="New symptoms documented in notes.",
                           now=at("2026-03-12 10:00"))  # fmt: skip
    services.extend(
        actor=nurse, request=r["r3"], reason="Awaiting the cardiology notes", now=at("2026-03-03 09:00")
    )
    services.decide(actor=md, request=r["r3"], decision="approve", now=at("2026-03-16 10:00"))
    services.decide(actor=nurse, request=r["r4"], decision="approve", now=at("2026-03-03 10:00"))
    services.withdraw(actor=um.users["ops"], request=r["r7"], reason="Not needed", now=at("2026-03-03 12:00"))
    services.decide(actor=nurse, request=r["r8"], decision="approve", now=at("2026-03-11 10:00"))
    return r


def test_the_requests_frame_keeps_the_initial_decision(um: SmallIpa, decided: dict[str, AuthRequest]) -> None:
    frame = reports.requests_frame(um.users["nurse"])
    assert frame.height == 8
    by_received = {(r["outcome"], r["appeal_outcome"], r["extended"]) for r in frame.iter_rows(named=True)}
    assert ("denied", "overturned", False) in by_received  # r2: approved on appeal, counted as denied first
    assert ("approved", "", True) in by_received  # r3
    assert ("withdrawn", "", False) in by_received
    r2 = frame.filter(frame["appeal_outcome"] == "overturned").row(0, named=True)
    assert r2["decided_at"] == at("2026-03-05 11:00")  # not the appeal's 12 March
    assert r2["contract"] == f"{um.contract.number} {um.contract.name}"


def test_cms_metrics_on_requests_made_through_the_services(
    um: SmallIpa, decided: dict[str, AuthRequest]
) -> None:
    """Standard decided: r1, r2, r3, r8 = 4 (r5, r6 open, r7 withdrawn): approved r1 r3 r8 = 75%, denied r2 =
    25%; approved after appeal r2 = 25%; extended and approved r3 = 25%. Hours 19, 69, 331 (across the change to
    daylight time), 211: mean 157.5, median (69 + 211) / 2 = 140. Expedited: r4, approved in 20 h."""
    report = reports.cms_metrics_report(um.users["quality"], year=2026)
    assert len(report.rows) == 1
    row = report.rows[0]
    assert (row["line_of_business"], row["year"], row["standard_decided"]) == ("medicare_advantage", 2026, 4)
    assert (row["standard_approved_pct"], row["standard_denied_pct"]) == (75.0, 25.0)
    assert (row["standard_approved_after_appeal_pct"], row["standard_approved_after_extension_pct"]) == (
        25.0,
        25.0,
    )
    assert (row["standard_hours_mean"], row["standard_hours_median"]) == (157.5, 140.0)
    assert (row["expedited_decided"], row["expedited_approved_pct"], row["expedited_hours_median"]) == (
        1,
        100.0,
        20.0,
    )
    assert reports.cms_metrics_report(um.users["quality"], year=2025).rows == []
    assert reports.cms_metrics_report(um.users["quality"], contract_id=um.contract.pk + 999).rows == []
    assert report.years == [2026]


@pytest.mark.parametrize("user", ["alice", "fin"])
def test_the_reports_refuse_practice_users_and_roles_without_um(
    um: SmallIpa, decided: dict[str, AuthRequest], user: str
) -> None:
    actor = um.users[user]
    before = AuditEvent.objects.count()
    for call in (
        lambda: reports.requests_frame(actor),
        lambda: reports.cms_metrics_report(actor),
        lambda: reports.sla_dashboard(
            actor, first=dt.date(2026, 3, 2), last=dt.date(2026, 3, 20), now=at("2026-03-20 09:00")
        ),
        lambda: reports.watch_requests_frame(actor, first=dt.date(2026, 1, 1), last=dt.date(2026, 12, 31)),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert AuditEvent.objects.count() == before


def test_the_sla_dashboard(um: SmallIpa, decided: dict[str, AuthRequest]) -> None:
    """Weeks of 2, 9 and 16 March. Standard: week of 2 March r1 and r2 on time; week of 9 March r8 late; week of
    16 March r3 on time (due 23 March after the extension). Expedited: r4 on time in the week of 2 March. At
    20 March 09:00, r5 is overdue and r6 due within 24 hours (both read and audited)."""
    before = AuditEvent.objects.filter(kind="read", object_type="utilization.authrequest").count()
    d = reports.sla_dashboard(um.users["nurse"], first=dt.date(2026, 3, 2), last=dt.date(2026, 3, 20),
                              now=at("2026-03-20 09:00"))  # fmt: skip
    assert d.weeks == [dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 3, 16)]
    got = {
        (r["week"], r["urgency"]): (r["decided"], r["on_time"], r["late"])
        for r in d.timeliness.iter_rows(named=True)
    }
    assert got == {
        (dt.date(2026, 3, 2), "standard"): (2, 2, 0),
        (dt.date(2026, 3, 2), "expedited"): (1, 1, 0),
        (dt.date(2026, 3, 9), "standard"): (1, 0, 1),
        (dt.date(2026, 3, 16), "standard"): (1, 1, 0),
    }
    assert d.totals() == {"decided": 5, "on_time": 4, "late": 1}
    outcomes = {(r["week"], r["outcome"]): r["n"] for r in d.outcomes.iter_rows(named=True)}
    assert outcomes[(dt.date(2026, 3, 2), "denied")] == 1
    assert [r.number for r in d.overdue] == [decided["r5"].number]
    assert [r.number for r in d.due_soon] == [decided["r6"].number]
    assert ("received", "Received", 2, 0) in d.open_by_status
    after = AuditEvent.objects.filter(kind="read", object_type="utilization.authrequest").count()
    assert after == before + 1


def test_the_sla_dashboard_refuses_a_reversed_or_too_long_window(um: SmallIpa) -> None:
    from openipa.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="before the first"):
        reports.sla_dashboard(
            um.users["nurse"],
            first=dt.date(2026, 3, 20),
            last=dt.date(2026, 3, 2),
            now=at("2026-03-20 09:00"),
        )
    with pytest.raises(ValidationFailed, match="at most"):
        reports.sla_dashboard(
            um.users["nurse"], first=dt.date(2024, 1, 1), last=dt.date(2026, 3, 2), now=at("2026-03-20 09:00")
        )


def test_the_watch_requests_frame_has_each_requests_initial_outcome(
    um: SmallIpa, decided: dict[str, AuthRequest]
) -> None:
    """The requests received in the window (local dates), member and kind, with the first decision of their
    history: r2 stays denied after its appeal; r5 is open (""); r7 is withdrawn. A request received
    after the window's last day is left out."""
    frame = reports.watch_requests_frame(
        um.users["quality"], first=dt.date(2026, 3, 1), last=dt.date(2026, 3, 12)
    )
    assert frame.schema == reports.WATCH_REQUEST_SCHEMA
    assert set(frame["member"]) == {um.member_a.pk}
    assert set(frame["on"]) == {dt.date(2026, 3, 2)}  # r6 (13 March) is after the window
    assert sorted(frame["outcome"]) == [
        "",
        "approved",
        "approved",
        "approved",
        "approved",
        "denied",
        "withdrawn",
    ]
    assert set(frame["kind"]) == {"prior_auth"}
    late = reports.watch_requests_frame(
        um.users["quality"], first=dt.date(2026, 3, 13), last=dt.date(2026, 3, 13)
    )
    assert (late.height, late["outcome"].to_list()) == (1, [""])


def test_the_watch_requests_frame_counts_receipt_in_the_ipas_time_zone(um: SmallIpa) -> None:
    """Received on 31 March at 23:30 in Los Angeles (1 April in UTC): a request of March."""
    _submit(um, "2026-03-31 23:30")
    march = reports.watch_requests_frame(
        um.users["nurse"], first=dt.date(2026, 3, 1), last=dt.date(2026, 3, 31)
    )
    assert march["on"].to_list() == [dt.date(2026, 3, 31)]
    april = reports.watch_requests_frame(
        um.users["nurse"], first=dt.date(2026, 4, 1), last=dt.date(2026, 4, 30)
    )
    assert april.height == 0


# -- pages


def _urls() -> dict[str, str]:
    return {name: reverse(f"web:utilization:{name}") for name in
            ("sla_dashboard", "cms_metrics", "cms_metrics_csv")}  # fmt: skip


@pytest.mark.parametrize("user", ["nurse", "md", "quality", "auditor", "ops"])
def test_staff_with_view_um_see_the_report_pages(
    um: SmallIpa, decided: dict[str, AuthRequest], client_for: Any, user: str
) -> None:
    client = client_for(user)
    urls = _urls()
    page = client.get(urls["sla_dashboard"], {"week_from": "2026-03-02", "week_to": "2026-03-20"})
    assert page.status_code == 200
    text = page.content.decode()
    for chart in ("um-on-time", "um-outcomes", "um-hours", "um-open"):
        assert f'id="{chart}-title"' in text
    assert "<title>Standard, Mar 02: 100</title>" in text  # on time: r1 and r2
    assert "<title>Standard, Mar 09:" not in text.split('id="um-hours-title"')[0]  # r8 late: 0%, no bar
    assert "<title>Denied, Mar 02: 1</title>" in text
    assert decided["r5"].number in text  # overdue (today is after March)
    assert reverse("web:utilization:detail", args=[decided["r5"].pk]) in text
    metrics_page = client.get(urls["cms_metrics"], {"year": "2026"})
    assert metrics_page.status_code == 200
    assert 'id="um-cms-metrics-title"' in metrics_page.content.decode()
    assert "75.0%" in metrics_page.content.decode()


@pytest.mark.parametrize("user", ["alice", "fin"])
def test_practice_users_and_finance_get_403_and_no_export_is_recorded(
    um: SmallIpa, decided: dict[str, AuthRequest], client_for: Any, user: str
) -> None:
    client = client_for(user)
    before = AuditEvent.objects.filter(object_type="utilization.cms_metrics").count()
    for url in _urls().values():
        assert client.get(url).status_code == 403
    assert client.get(_urls()["cms_metrics"], {"format": "csv"}).status_code == 403
    assert AuditEvent.objects.filter(object_type="utilization.cms_metrics").count() == before


def _read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


@pytest.mark.parametrize("how", ["path", "format"])
def test_the_metrics_csv_is_the_report_and_its_download_is_audited(
    um: SmallIpa, decided: dict[str, AuthRequest], client_for: Any, how: str
) -> None:
    client = client_for("quality")
    urls = _urls()
    if how == "path":
        response = client.get(urls["cms_metrics_csv"], {"year": "2026", "contract": str(um.contract.pk)})
    else:
        response = client.get(
            urls["cms_metrics"], {"year": "2026", "contract": str(um.contract.pk), "format": "csv"}
        )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "prior-authorization-metrics-2026.csv" in response["Content-Disposition"]
    rows = _read_csv(response.content)
    header, data = rows[0], rows[1:]
    assert header[:4] == ["Contract", "Line of business", "Year", "Standard requests decided"]
    assert len(data) == 1
    row = dict(zip(header, data[0], strict=True))
    assert row["Contract"] == f"{um.contract.number} {um.contract.name}"
    assert row["Standard approved %"] == "75.00"
    assert row["Standard denied %"] == "25.00"
    assert row["Standard approved after appeal %"] == "25.00"
    assert row["Standard approved after extension %"] == "25.00"
    assert row["Standard decision time, mean hours"] == "157.50"
    assert row["Standard decision time, median hours"] == "140.00"
    assert row["Expedited approved %"] == "100.00"
    assert row["Expedited denied %"] == "0.00"
    event = AuditEvent.objects.get(object_type="utilization.cms_metrics")
    assert (event.kind, event.action, event.actor_username) == ("read", "export", "quality")
    assert event.changes["year"] == [None, 2026]
    assert event.changes["contract_id"] == [None, um.contract.pk]


def test_the_metrics_page_is_not_audited_as_an_export(
    um: SmallIpa, decided: dict[str, AuthRequest], client_for: Any
) -> None:
    client_for("quality").get(_urls()["cms_metrics"])
    assert not AuditEvent.objects.filter(object_type="utilization.cms_metrics").exists()


def test_an_empty_year_says_so(um: SmallIpa, client_for: Any) -> None:
    page = client_for("md").get(_urls()["cms_metrics"])
    assert page.status_code == 200
    assert "No referral or prior authorization was decided" in page.content.decode()
    rows = _read_csv(client_for("md").get(_urls()["cms_metrics_csv"]).content)
    assert len(rows) == 1


def test_services_outside_a_request_do_not_change_the_report(um: SmallIpa) -> None:
    """A request decided by rule (auto-approval) is a decision at 0 hours."""
    from openipa.utilization.models import AutoApprovalRule

    AutoApprovalRule.objects.create(name="Cardiology referrals", kind="referral", valid_from=dt.date(2026, 1, 1),
                                    in_network_only=False)  # fmt: skip
    request = _submit(um, "2026-03-02 14:00", kind="referral",
                      services=[ServiceInput("99204", 1, dt.date(2026, 3, 10), dt.date(2026, 3, 31))])  # fmt: skip
    assert request.status == AuthRequest.Status.APPROVED
    row = reports.cms_metrics_report(um.users["md"]).rows[0]
    assert (row["standard_decided"], row["standard_approved_pct"], row["standard_hours_median"]) == (
        1,
        100.0,
        0.0,
    )


def test_the_pages_without_filters_show_their_default_window(um: SmallIpa, client_for: Any) -> None:
    from django.utils import timezone

    client = client_for("nurse")
    today = timezone.localdate()
    dashboard = client.get(_urls()["sla_dashboard"]).content.decode()
    assert f'value="{today:%Y-%m-%d}"' in dashboard
    assert f'value="{today - dt.timedelta(weeks=11):%Y-%m-%d}"' in dashboard


def test_the_dashboard_page_with_a_reversed_window_says_so(um: SmallIpa, client_for: Any) -> None:
    page = client_for("nurse").get(
        _urls()["sla_dashboard"], {"week_from": "2026-03-20", "week_to": "2026-03-02"}
    )
    assert page.status_code == 200
    assert "the last week is before the first" in page.content.decode()


@pytest.mark.browser
@pytest.mark.slow
def test_browser_the_reports(
    browser_page: Any, live_server: Any, transactional_db: Any, um: SmallIpa, decided: dict[str, AuthRequest]
) -> None:
    """In a real browser the medical director reads the dashboard's charts and overdue list, filters the metrics
    by year and downloads the CSV through its link (audited). The way to the watch: performance's tests."""
    from playwright.sync_api import expect

    from openipa.conftest import PASSWORD

    page = browser_page
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("md")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}{_urls()['sla_dashboard']}?week_from=2026-03-02&week_to=2026-03-20")
    expect(page.get_by_role("heading", name="Overdue alerts")).to_be_visible()
    expect(page.get_by_test_id("overdue")).to_contain_text(decided["r5"].number)
    expect(page.locator("svg[aria-labelledby^='um-on-time']")).to_be_visible()
    page.screenshot(path="/tmp/um-reports-dashboard.png", full_page=True)
    page.get_by_role("link", name="CMS-0057-F metrics").click()
    page.get_by_label("Year of decision").select_option("2026")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("metrics")).to_contain_text("75.0%")
    page.screenshot(path="/tmp/um-reports-metrics.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    path = download.value.path()
    rows = _read_csv(path.read_bytes())
    assert rows[1][2] == "2026"
    assert AuditEvent.objects.filter(object_type="utilization.cms_metrics", action="export").count() == 1
