"""Opening a member page, listing members and exporting them are written to the audit log with who, which
members and why; the export's PCP columns belong to each member."""

from __future__ import annotations

import csv
import io

from openipa.core.models import AuditEvent, AuditMember


def test_opening_a_member_page_records_the_read_with_its_purpose(client_for, small_ipa):
    client_for("ops").get(f"/members/{small_ipa.member_b.pk}/")
    event = AuditEvent.objects.filter(kind="read", action="view").latest("id")
    assert (event.actor_username, event.actor_role, event.purpose) == ("ops", "operations", "member page")
    assert (event.object_type, event.object_id) == ("membership.member", str(small_ipa.member_b.pk))
    assert AuditMember.objects.filter(event=event, member_id=small_ipa.member_b.pk).exists()


def test_a_directory_page_records_the_members_it_showed(client_for, small_ipa):
    client_for("alice").get("/members/")
    event = AuditEvent.objects.filter(kind="read", action="list").latest("id")
    assert (event.actor_username, event.purpose, event.member_ids) == (
        "alice",
        "member directory",
        [small_ipa.member_a.pk],
    )


def test_an_export_is_one_read_listing_every_exported_member(client_for, small_ipa):
    response = client_for("ops").get("/members/export.csv")
    b"".join(response.streaming_content)
    event = AuditEvent.objects.filter(kind="read", action="export").get()
    assert event.purpose == "member CSV export"
    assert sorted(event.member_ids) == sorted([small_ipa.member_a.pk, small_ipa.member_b.pk])


def test_the_export_gives_each_member_their_own_pcp(client_for, small_ipa):
    response = client_for("ops").get("/members/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    pcps = {row["payer_member_id"]: (row["pcp_npi"], row["practice_code"]) for row in rows}
    assert pcps == {"SUN0001": ("1234567893", "ALDER"), "SUN0002": ("1245319599", "BIRCH")}


def test_a_refused_export_records_nothing_and_sends_no_rows(client_for, small_ipa):
    response = client_for("messenger").get("/members/export.csv")
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(kind="read").exists()
