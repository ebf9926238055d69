"""The audit log can be added to and never changed or deleted through the application."""

from __future__ import annotations

import pytest

from openipa.core import audit
from openipa.core.models import AuditEvent


def test_audit_event_cannot_be_updated_or_deleted(db):
    event = audit.record_write(None, "thing.do", object_type="x", object_id="1", after={"a": 1})
    event.action = "changed"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "thing.do"


def test_read_of_no_members_writes_nothing(db):
    assert audit.record_read(None, object_type="m", member_ids=[], purpose="p") is None
    assert AuditEvent.objects.count() == 0


def test_diff_lists_only_changed_fields():
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {"b": [2, 3], "c": [None, 4]}


def test_end_validity_saves_the_end_alone_and_audits_before_and_after(small_ipa):
    import datetime as dt

    from openipa.contracts.models import ContractTerm

    term = small_ipa.term
    term.valid_to = None
    term.save(update_fields=["valid_to"])
    stale = ContractTerm.objects.get(pk=term.pk)
    audit.end_validity(small_ipa.users["admin"], stale, dt.date(2026, 6, 30), "contract.term_end")
    assert ContractTerm.objects.get(pk=term.pk).valid_to == dt.date(2026, 6, 30)
    event = AuditEvent.objects.get(action="contract.term_end")
    assert (event.object_id, event.changes) == (str(term.pk), {"valid_to": [None, "2026-06-30"]})
    assert event.actor_username == small_ipa.users["admin"].username
