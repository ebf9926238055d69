"""The audit log page, for the administrator and the auditor only: filters by actor, member, object and
date range, and the same filters as a CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.utils import timezone

from openipa.core import audit
from openipa.web.tests.pages import results


@pytest.fixture
def events(small_ipa):
    """Reads of Alice's and Bob's members by ops on two days, and one write by fin."""
    ops, fin = small_ipa.users["ops"], small_ipa.users["fin"]
    day1 = timezone.make_aware(dt.datetime(2026, 3, 2, 10, 0))
    day2 = timezone.make_aware(dt.datetime(2026, 3, 9, 23, 30))
    with mock.patch("django.utils.timezone.now", return_value=day1):
        audit.record_read(
            ops, object_type="membership.member", member_ids=[small_ipa.member_a.pk], purpose="call"
        )
    with mock.patch("django.utils.timezone.now", return_value=day2):
        audit.record_read(
            ops, object_type="membership.member", member_ids=[small_ipa.member_b.pk], purpose="visit"
        )
        audit.record_write(fin, "payer.update", small_ipa.payer, before={"name": "A"}, after={"name": "B"})


@pytest.mark.parametrize("persona", ["admin", "auditor"])
def test_the_administrator_and_the_auditor_read_the_log(client_for, events, persona):
    response = client_for(persona).get("/audit/")
    assert response.status_code == 200
    body = results(response)
    assert "payer.update" in body
    assert "visit" in body
    assert "call" in body


@pytest.mark.parametrize("persona", ["ops", "fin", "messenger", "alice"])
def test_everyone_else_is_refused_the_log_and_its_export(client_for, events, persona):
    client = client_for(persona)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


def test_filter_by_actor(client_for, events):
    body = results(client_for("auditor").get("/audit/", {"actor": "FIN"}))
    assert "payer.update" in body
    assert "visit" not in body


def test_filter_by_member_finds_every_event_that_touched_it(client_for, events, small_ipa):
    body = results(client_for("auditor").get("/audit/", {"member": small_ipa.member_b.pk}))
    assert "visit" in body
    assert "call" not in body


def test_filter_by_object_type_and_id(client_for, events, small_ipa):
    client = client_for("auditor")
    body = results(client.get("/audit/", {"object_type": "contracts.payer"}))
    assert "payer.update" in body
    assert "visit" not in body
    body = results(client.get("/audit/", {"object_type": "contracts.payer", "object_id": "999"}))
    assert "No events match." in body


def test_filter_by_date_range_in_the_sites_time_zone(client_for, events):
    client = client_for("auditor")
    body = results(client.get("/audit/", {"date_from": "2026-03-01", "date_to": "2026-03-02"}))
    assert "call" in body
    assert "visit" not in body
    # 23:30 on March 9 (Pacific) is already March 10 in UTC, but it is March 9 on the page.
    body = results(client.get("/audit/", {"date_from": "2026-03-09", "date_to": "2026-03-09"}))
    assert "visit" in body
    assert "payer.update" in body
    assert "call" not in body


def test_a_backwards_date_range_is_reported_next_to_the_end_date(client_for, events):
    response = client_for("auditor").get("/audit/", {"date_from": "2026-03-09", "date_to": "2026-03-01"})
    assert "The end date is before the start date." in response.content.decode()


def test_the_write_shows_what_changed(client_for, events):
    body = results(client_for("admin").get("/audit/", {"actor": "fin"}))
    assert "name: &#x27;A&#x27; -&gt; &#x27;B&#x27;" in body


def test_the_export_is_csv_with_the_same_filters(client_for, events, small_ipa):
    response = client_for("auditor").get("/audit/export.csv", {"actor": "ops"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["purpose"] for r in rows] == ["visit", "call"]  # newest first
    assert rows[0]["member_ids"] == str(small_ipa.member_b.pk)
    assert rows[0]["at"].startswith("2026-03-")


def test_the_page_links_the_export_with_the_current_filters(client_for, events):
    body = client_for("auditor").get("/audit/", {"actor": "ops", "page": "1"}).content.decode()
    assert 'href="/audit/export.csv?actor=ops"' in body


def test_taking_an_export_of_the_log_is_itself_recorded(client_for, events):
    from openipa.core.models import AuditEvent

    response = client_for("auditor").get("/audit/export.csv", {"actor": "ops"})
    b"".join(response.streaming_content)
    event = AuditEvent.objects.filter(object_type="core.auditevent", action="export").get()
    assert (event.actor_username, event.kind, event.purpose) == ("auditor", "read", "audit log export")
    assert event.changes == {"actor_username": [None, "ops"]}
