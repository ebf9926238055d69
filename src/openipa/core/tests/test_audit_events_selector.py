"""`audit_events` filters the log by actor, member, object and date range, for those who may read it."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from openipa.core import audit
from openipa.core.errors import PermissionDenied
from openipa.core.selectors import audit_events, audit_export_row, audit_object_types, describe_changes


@pytest.fixture
def log(small_ipa):
    ops = small_ipa.users["ops"]
    at = timezone.make_aware(dt.datetime(2026, 2, 1, 12, 0))
    with mock.patch("django.utils.timezone.now", return_value=at):
        audit.record_read(
            ops,
            object_type="membership.member",
            member_ids=[small_ipa.member_a.pk, small_ipa.member_b.pk],
            purpose="export",
            action="export",
        )
    return small_ipa


def test_only_the_administrator_and_the_auditor_may_read_the_log(log):
    for name in ("ops", "fin", "messenger", "alice"):
        with pytest.raises(PermissionDenied):
            audit_events(log.users[name])
        with pytest.raises(PermissionDenied):
            audit_object_types(log.users[name])
    assert audit_events(log.users["auditor"]).exists()


def test_no_filter_gives_every_event_newest_first(log):
    events = list(audit_events(log.users["auditor"]))
    assert len(events) > 10  # the fixture's writes and the read
    assert events == sorted(events, key=lambda e: (e.at, e.pk), reverse=True)


def test_member_filter_uses_the_member_index(log):
    found = audit_events(log.users["auditor"], member_id=log.member_b.pk, object_type="membership.member")
    actions = [e.action for e in found]
    # member.create, eligibility.add and pcp.assign are indexed by member too, besides the export.
    assert "export" in actions
    assert "member.create" in actions
    assert all(log.member_b.pk in e.member_ids for e in found)


def test_actor_filter_ignores_case(log):
    assert {e.actor_username for e in audit_events(log.users["admin"], actor_username="OPS")} == {"ops"}


def test_date_range_is_inclusive_of_both_days(log):
    auditor = log.users["auditor"]
    day = dt.date(2026, 2, 1)
    assert audit_events(auditor, date_from=day, date_to=day).count() == 1
    assert (
        audit_events(auditor, date_from=day + dt.timedelta(days=1), date_to=dt.date(2026, 2, 28)).count() == 0
    )
    assert audit_events(auditor, date_to=day - dt.timedelta(days=1)).count() == 0


def test_object_types_lists_what_occurs(log):
    types = audit_object_types(log.users["auditor"])
    assert "membership.member" in types
    assert "network.practice" in types
    assert types == sorted(types)


def test_an_export_row_is_plain_text(log):
    event = audit_events(log.users["auditor"], object_type="membership.member", kind="read").get()
    row = audit_export_row(event)
    assert row[1:3] == ("read", "ops")
    assert row[9] == f"{log.member_a.pk} {log.member_b.pk}"


def test_changes_read_as_one_line():
    assert describe_changes({"city": ["A", "B"], "n": 3}) == "city: 'A' -> 'B'; n: 3"
    assert describe_changes(None) == ""
