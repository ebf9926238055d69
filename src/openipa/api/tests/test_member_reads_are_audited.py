"""Every read of member data through the API is in the audit log: who, which members, why."""

from __future__ import annotations

from openipa.core.models import AuditEvent, AuditMember


def test_a_member_get_records_a_read_with_actor_and_purpose(api_as, small_ipa):
    api_as("ops").get(f"/api/v1/members/{small_ipa.member_b.pk}")
    event = AuditEvent.objects.filter(kind="read").get()
    assert (event.actor_username, event.actor_role, event.purpose, event.action) == (
        "ops",
        "operations",
        "api",
        "view",
    )
    assert event.member_ids == [small_ipa.member_b.pk]
    assert AuditMember.objects.filter(event=event, member_id=small_ipa.member_b.pk).exists()


def test_a_member_list_records_the_members_on_the_page(api_as, small_ipa):
    api_as("alice").get("/api/v1/members")
    event = AuditEvent.objects.filter(kind="read").get()
    assert (event.actor_username, event.action, event.purpose) == ("alice", "list", "api")
    assert event.member_ids == [small_ipa.member_a.pk]


def test_an_empty_member_list_records_nothing(api_as):
    api_as("ops").get("/api/v1/members?q=nobody")
    assert not AuditEvent.objects.filter(kind="read").exists()


def test_reads_of_practices_and_providers_are_not_member_reads(api_as, small_ipa):
    client = api_as("ops")
    client.get("/api/v1/practices")
    client.get(f"/api/v1/providers/{small_ipa.pcp_a.pk}")
    assert not AuditEvent.objects.filter(kind="read").exists()
