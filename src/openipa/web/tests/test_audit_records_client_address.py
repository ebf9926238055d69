"""Events recorded while serving a request carry the client's address, for pages and the API alike."""

from __future__ import annotations

from openipa.core.models import AuditEvent


def test_member_page_read_records_the_client_address(client_for, small_ipa):
    client = client_for("ops")
    client.get(f"/members/{small_ipa.member_a.pk}/", REMOTE_ADDR="203.0.113.7")
    event = AuditEvent.objects.filter(kind="read", object_id=str(small_ipa.member_a.pk)).get()
    assert event.ip_address == "203.0.113.7"


def test_api_member_read_records_the_client_address(client_for, small_ipa):
    client = client_for("ops")
    client.get(f"/api/v1/members/{small_ipa.member_b.pk}", REMOTE_ADDR="198.51.100.9")
    event = AuditEvent.objects.filter(kind="read", object_id=str(small_ipa.member_b.pk)).get()
    assert event.ip_address == "198.51.100.9"
