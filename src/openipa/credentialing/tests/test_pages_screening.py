"""The screening pages: the screening page (alerts by score, runs, the sweep, overdue in red), an alert with its
review, the upload form; auditors read only; practice users are refused and change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from openipa.core.models import AuditEvent
from openipa.credentialing.models import Exclusion, ScreeningHit, ScreeningRun
from openipa.credentialing.services import screen
from openipa.credentialing.tests.conftest import DATA
from openipa.web.tests.pages import field_errors, html, nav_labels

pytestmark = pytest.mark.django_db


@pytest.fixture
def cred_client(screening_ipa: Any) -> Client:
    client = Client()
    client.force_login(screening_ipa.users["cred"])
    return client


def _run(ipa: Any, **kwargs: Any) -> ScreeningRun:
    return screen(actor=ipa.users["cred"], leie_path=DATA / "leie_small.csv", **kwargs)


def _upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (DATA / name).read_bytes(), content_type="text/csv")


def test_the_screening_page_lists_open_alerts_highest_score_first(
    screening_ipa: Any, cred_client: Client
) -> None:
    run = _run(screening_ipa)
    response = cred_client.get("/credentialing/screening/")
    assert response.status_code == 200
    body = html(response)
    assert "Credentialing" in nav_labels(response)
    alerts = body[body.index('data-testid="alerts"') : body.index('id="runs"')]
    smith = ScreeningHit.objects.get(provider=screening_ipa.smith)
    top = ScreeningHit.objects.filter(score=100).order_by("created_at", "id")
    positions = [alerts.index(f'id="alert-{h.pk}"') for h in [*top, smith]]
    assert positions == sorted(positions)
    assert "94.7" in alerts
    assert "Name and date of birth" in alerts
    assert f'href="/credentialing/screening/runs/{run.pk}/"' in body
    assert 'data-testid="next-due"' in body
    assert 'data-testid="overdue"' not in body
    assert 'href="/credentialing/screening/upload/"' in body


def test_an_overdue_sweep_is_shown_in_red(screening_ipa: Any, cred_client: Client) -> None:
    body = html(cred_client.get("/credentialing/screening/"))
    assert 'data-testid="overdue"' in body
    assert "no screening has run yet" in body
    _run(screening_ipa, today=dt.date(2020, 1, 1))
    body = html(cred_client.get("/credentialing/screening/"))
    assert 'class="overdue" style="color: var(--danger);"' in body
    assert "2020-01-31: overdue by" in body


def test_reviewing_an_alert_from_its_page(screening_ipa: Any, cred_client: Client) -> None:
    _run(screening_ipa)
    hit = ScreeningHit.objects.get(provider=screening_ipa.pcp_a)
    page = html(cred_client.get(f"/credentialing/screening/alerts/{hit.pk}/"))
    assert "ALDER" in page
    assert "1970-01-02" in page
    assert f'action="/credentialing/screening/alerts/{hit.pk}/review/"' in page
    refused = cred_client.post(
        f"/credentialing/screening/alerts/{hit.pk}/review/", {"decision": "confirmed", "note": ""}
    )
    assert refused.status_code == 400
    assert field_errors(refused, "note") == ["say why: a review needs a note"]
    hit.refresh_from_db()
    assert hit.status == "open"
    done = cred_client.post(
        f"/credentialing/screening/alerts/{hit.pk}/review/",
        {"decision": "confirmed", "note": "same DOB, same license"},
    )
    assert done.status_code == 302
    assert done["Location"] == "/credentialing/screening/"
    hit.refresh_from_db()
    assert (hit.status, hit.reviewer) == ("confirmed", "cred")
    assert Exclusion.objects.filter(hit=hit).exists()
    body = html(cred_client.get("/credentialing/screening/"))
    assert "was confirmed: the provider is recorded as excluded" in body
    again = cred_client.post(
        f"/credentialing/screening/alerts/{hit.pk}/review/",
        {"decision": "dismissed", "note": "second thoughts"},
    )
    assert again.status_code == 400
    assert f"alert {hit.pk} was already confirmed by cred" in html(again)
    hit.refresh_from_db()
    assert hit.status == "confirmed"
    assert f'id="alert-{hit.pk}"' not in body


def test_the_upload_form_runs_the_same_screening(screening_ipa: Any, cred_client: Client) -> None:
    assert cred_client.get("/credentialing/screening/upload/").status_code == 200
    response = cred_client.post(
        "/credentialing/screening/upload/",
        {"leie": _upload("leie_malformed.csv"), "sam": _upload("sam_small.csv")},
    )
    run = ScreeningRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/credentialing/screening/runs/{run.pk}/"
    assert (run.matches, run.rejected_rows, run.run_by) == (4, 4, "cred")
    page = html(cred_client.get(response["Location"]))
    assert "Screened 6 providers: 4 matches, 4 new alerts, 4 rejected rows." in page
    rejected = page[page.index('data-testid="rejected-leie"') :]
    assert '<td class="num">4</td><td>DOB &#x27;19701399&#x27; is not a date (YYYYMMDD)</td>' in rejected


def test_an_upload_not_in_the_layout_stays_on_the_form_and_changes_nothing(
    screening_ipa: Any, cred_client: Client
) -> None:
    response = cred_client.post("/credentialing/screening/upload/", {"leie": _upload("not_leie.csv")})
    assert response.status_code == 400
    body = html(response)
    assert "not_leie.csv is not in the OIG LEIE layout: the header lacks columns LASTNAME" in body
    assert not ScreeningRun.objects.exists()


def test_the_auditor_reads_but_is_offered_no_review(screening_ipa: Any, client_for: Any) -> None:
    _run(screening_ipa)
    hit = ScreeningHit.objects.get(provider=screening_ipa.pcp_a)
    client = client_for("auditor")
    assert client.get("/credentialing/screening/").status_code == 200
    page = html(client.get(f"/credentialing/screening/alerts/{hit.pk}/"))
    assert "/review/" not in page
    assert (
        client.post(
            f"/credentialing/screening/alerts/{hit.pk}/review/", {"decision": "dismissed", "note": "x"}
        ).status_code
        == 403
    )
    assert client.get("/credentialing/screening/upload/").status_code == 403
    hit.refresh_from_db()
    assert hit.status == "open"


def test_a_practice_user_is_refused_everywhere_and_nothing_changes(
    screening_ipa: Any, client_for: Any
) -> None:
    run = _run(screening_ipa)
    hit = ScreeningHit.objects.get(provider=screening_ipa.pcp_a)
    events = AuditEvent.objects.filter(kind="write").count()
    client = client_for("alice")
    assert "Credentialing" not in nav_labels(client.get("/"))
    for url in (
        "/credentialing/screening/",
        f"/credentialing/screening/runs/{run.pk}/",
        f"/credentialing/screening/alerts/{hit.pk}/",
        "/credentialing/screening/upload/",
    ):
        assert client.get(url).status_code == 403, url
    review = client.post(
        f"/credentialing/screening/alerts/{hit.pk}/review/", {"decision": "dismissed", "note": "mine"}
    )
    assert review.status_code == 403
    upload = client.post("/credentialing/screening/upload/", {"leie": _upload("leie_small.csv")})
    assert upload.status_code == 403
    hit.refresh_from_db()
    assert hit.status == "open"
    assert not Exclusion.objects.exists()
    assert ScreeningRun.objects.count() == 1
    assert AuditEvent.objects.filter(kind="write").count() == events
