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
