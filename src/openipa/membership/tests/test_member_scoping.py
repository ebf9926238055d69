"""A practice user reads only members assigned to their practice; every read is audited."""

from __future__ import annotations

import pytest

from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.models import AuditEvent
from openipa.membership import selectors


def test_practice_user_lists_only_own_members(small_ipa):
    alice = small_ipa.users["alice"]
    page = selectors.member_page(alice, purpose="test")
    assert [m.pk for m in page.items] == [small_ipa.member_a.pk]


def test_practice_user_cannot_get_other_practice_member_and_nothing_is_logged_as_read(small_ipa):
    alice = small_ipa.users["alice"]
    before = AuditEvent.objects.filter(kind="read").count()
    with pytest.raises(NotFound):
        selectors.member_get(alice, small_ipa.member_b.pk, purpose="test")
    assert AuditEvent.objects.filter(kind="read").count() == before


def test_member_read_is_audited_with_actor_and_purpose(small_ipa):
    ops = small_ipa.users["ops"]
    selectors.member_get(ops, small_ipa.member_b.pk, purpose="care coordination")
    event = AuditEvent.objects.filter(kind="read").first()
    assert event is not None
    assert (event.actor_username, event.purpose, event.member_ids) == (
        "ops",
        "care coordination",
        [small_ipa.member_b.pk],
    )


def test_messenger_cannot_read_members(small_ipa):
    with pytest.raises(PermissionDenied):
        selectors.member_page(small_ipa.users["messenger"], purpose="test")


def test_export_of_practice_user_holds_only_own_members(small_ipa):
    import datetime as dt

    rows = list(
        selectors.member_export_rows(small_ipa.users["alice"], on=dt.date(2026, 6, 1), purpose="export")
    )
    assert [r[1] for r in rows] == ["SUN0001"]
    event = AuditEvent.objects.filter(kind="read", action="export").get()
    assert event.member_ids == [small_ipa.member_a.pk]
