"""Ending an affiliation: the end may not come before its start nor extend an end already set, and it is
refused, with the count, while members still have the provider as PCP at that practice afterwards."""

from __future__ import annotations

import datetime as dt

import pytest

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.membership.models import PcpAssignment
from openipa.network import services
from openipa.network.models import Affiliation


def _affiliation(small_ipa, provider) -> Affiliation:
    return Affiliation.objects.get(provider=provider)


def test_an_open_affiliation_without_members_is_ended_and_audited(small_ipa):
    affiliation = _affiliation(small_ipa, small_ipa.specialist)
    ended = services.affiliation_end(
        actor=small_ipa.users["ops"], affiliation=affiliation, valid_to=dt.date(2026, 6, 30)
    )
    assert ended.valid_to == dt.date(2026, 6, 30)
    event = AuditEvent.objects.get(action="affiliation.end")
    assert event.changes == {"valid_to": [None, "2026-06-30"]}


def test_an_end_before_the_start_is_refused(small_ipa):
    affiliation = _affiliation(small_ipa, small_ipa.specialist)
    with pytest.raises(ValidationFailed) as err:
        services.affiliation_end(
            actor=small_ipa.users["ops"], affiliation=affiliation, valid_to=dt.date(2025, 12, 31)
        )
    assert "starts on 2026-01-01" in err.value.fields["valid_to"][0]
    affiliation.refresh_from_db()
    assert affiliation.valid_to is None


def test_an_end_can_be_brought_forward_but_not_pushed_back(small_ipa):
    ops = small_ipa.users["ops"]
    affiliation = _affiliation(small_ipa, small_ipa.specialist)
    services.affiliation_end(actor=ops, affiliation=affiliation, valid_to=dt.date(2026, 6, 30))
    services.affiliation_end(actor=ops, affiliation=affiliation, valid_to=dt.date(2026, 3, 31))
    with pytest.raises(ValidationFailed) as err:
        services.affiliation_end(actor=ops, affiliation=affiliation, valid_to=dt.date(2026, 9, 30))
    assert "already ends on 2026-03-31" in err.value.fields["valid_to"][0]
    affiliation.refresh_from_db()
    assert affiliation.valid_to == dt.date(2026, 3, 31)


def test_members_still_assigned_to_the_pcp_there_afterwards_block_the_end_and_are_counted(small_ipa):
    affiliation = _affiliation(small_ipa, small_ipa.pcp_a)
    with pytest.raises(ValidationFailed) as err:
        services.affiliation_end(
            actor=small_ipa.users["ops"], affiliation=affiliation, valid_to=dt.date(2026, 6, 30)
        )
    message = err.value.fields["valid_to"][0]
    assert message.startswith(
        "1 member(s) have Ada Alder, MD as PCP at Alder Family Medicine after 2026-06-30"
    )
    affiliation.refresh_from_db()
    assert affiliation.valid_to is None
    assert not AuditEvent.objects.filter(action="affiliation.end").exists()


def test_once_the_pcp_assignments_end_by_that_day_the_affiliation_can_end(small_ipa):
    PcpAssignment.objects.filter(provider=small_ipa.pcp_a).update(valid_to=dt.date(2026, 6, 30))
    affiliation = _affiliation(small_ipa, small_ipa.pcp_a)
    services.affiliation_end(
        actor=small_ipa.users["ops"], affiliation=affiliation, valid_to=dt.date(2026, 6, 30)
    )
    affiliation.refresh_from_db()
    assert affiliation.valid_to == dt.date(2026, 6, 30)


@pytest.mark.parametrize("persona", ["alice", "auditor", "fin"])
def test_roles_that_may_not_edit_the_network_end_no_affiliation(small_ipa, persona):
    affiliation = _affiliation(small_ipa, small_ipa.specialist)
    with pytest.raises(PermissionDenied):
        services.affiliation_end(
            actor=small_ipa.users[persona], affiliation=affiliation, valid_to=dt.date(2026, 6, 30)
        )
    affiliation.refresh_from_db()
    assert affiliation.valid_to is None
