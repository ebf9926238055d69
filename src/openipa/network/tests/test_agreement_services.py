"""Participation agreements: dates that do not overlap, fees within bounds, admin-fee terms set only by
roles that may read contracts, and an end date that cannot cut short a contract joined under it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.network import services
from openipa.network.models import ParticipationAgreement

JAN = dt.date(2026, 1, 1)


def _agreement(small_ipa: Any, **data: Any) -> ParticipationAgreement:
    return services.agreement_create(
        actor=small_ipa.users["ops"], practice=small_ipa.practice_a, data={"valid_from": JAN, **data}
    )


def test_an_agreement_is_created_with_its_fees_and_audited(small_ipa):
    agreement = _agreement(small_ipa, admin_fee_percent="12.5", admin_fee_pmpm=Decimal("1.25"))
    assert (agreement.admin_fee_percent, agreement.admin_fee_pmpm) == (Decimal("12.5"), Decimal("1.25"))
    assert AuditEvent.objects.filter(action="agreement.create", object_id=str(agreement.pk)).exists()


def test_an_overlapping_agreement_of_the_same_practice_is_refused_naming_both_spans(small_ipa):
    _agreement(small_ipa, valid_to=dt.date(2026, 12, 31))
    with pytest.raises(ValidationFailed) as err:
        _agreement(small_ipa, valid_from=dt.date(2026, 6, 1))
    assert "2026-01-01..2026-12-31 overlaps 2026-06-01..open" in err.value.fields["valid_from"][0]
    assert ParticipationAgreement.objects.count() == 1


def test_an_end_before_the_start_is_refused_on_the_end_field(small_ipa):
    with pytest.raises(ValidationFailed) as err:
        _agreement(small_ipa, valid_to=dt.date(2025, 12, 31))
    assert "valid_to" in err.value.fields


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("admin_fee_percent", "101", "Must be between 0 and 100."),
        ("admin_fee_percent", "-1", "Must be between 0 and 100."),
        ("admin_fee_percent", "1.2345", "Use at most 3 decimals."),
        ("admin_fee_pmpm", "abc", "'abc' is not a number."),
        ("admin_fee_pmpm", "2.001", "Use at most 2 decimals."),
        ("status", "lapsed", "'lapsed' is not one of draft, active, terminated."),
    ],
)
def test_bad_fees_and_statuses_are_named_on_their_field(small_ipa, field, value, message):
    with pytest.raises(ValidationFailed) as err:
        _agreement(small_ipa, **{field: value})
    assert err.value.fields == {field: [message]}
    assert not ParticipationAgreement.objects.exists()


def test_credentialing_adds_an_agreement_without_fees_but_may_not_set_fees(small_ipa):
    from openipa.accounts.services import user_create
    from openipa.core.roles import Role

    cred = user_create(actor=None, username="cred", password="x" * 12, role=Role.CREDENTIALING)
    agreement = services.agreement_create(actor=cred, practice=small_ipa.practice_a, data={"valid_from": JAN})
    with pytest.raises(PermissionDenied):
        services.agreement_update(actor=cred, agreement=agreement, data={"admin_fee_percent": "5"})
    with pytest.raises(PermissionDenied):
        services.agreement_create(
            actor=cred, practice=small_ipa.practice_b, data={"valid_from": JAN, "admin_fee_pmpm": "2.00"}
        )
    agreement.refresh_from_db()
    assert agreement.admin_fee_percent == 0
    assert ParticipationAgreement.objects.count() == 1


def test_status_fees_and_end_are_changed_and_the_change_audited(small_ipa):
    agreement = _agreement(small_ipa)
    services.agreement_update(
        actor=small_ipa.users["ops"],
        agreement=agreement,
        data={"status": "terminated", "admin_fee_percent": "10", "valid_to": dt.date(2026, 12, 31)},
    )
    agreement.refresh_from_db()
    assert (agreement.status, agreement.admin_fee_percent, agreement.valid_to) == (
        "terminated",
        Decimal("10.000"),
        dt.date(2026, 12, 31),
    )
    event = AuditEvent.objects.get(action="agreement.update")
    assert event.changes["status"] == ["active", "terminated"]
    assert event.changes["valid_to"] == [None, "2026-12-31"]


def test_the_start_of_an_agreement_is_not_changed_by_an_update(small_ipa):
    agreement = _agreement(small_ipa)
    services.agreement_update(
        actor=small_ipa.users["ops"], agreement=agreement, data={"valid_from": dt.date(2027, 1, 1)}
    )
    agreement.refresh_from_db()
    assert agreement.valid_from == JAN


def test_extending_an_end_into_the_next_agreement_is_refused(small_ipa):
    first = _agreement(small_ipa, valid_to=dt.date(2026, 6, 30))
    _agreement(small_ipa, valid_from=dt.date(2026, 7, 1))
    with pytest.raises(ValidationFailed) as err:
        services.agreement_update(actor=small_ipa.users["ops"], agreement=first, data={"valid_to": None})
    assert "overlaps" in err.value.fields["valid_to"][0]
    first.refresh_from_db()
    assert first.valid_to == dt.date(2026, 6, 30)


def test_an_end_that_would_cut_short_a_joined_contract_is_refused_with_the_count(small_ipa):
    agreement = _agreement(small_ipa)
    services.contract_join(
        actor=small_ipa.users["ops"], agreement=agreement, contract=small_ipa.contract, valid_from=JAN
    )
    with pytest.raises(ValidationFailed) as err:
        services.agreement_update(
            actor=small_ipa.users["ops"], agreement=agreement, data={"valid_to": dt.date(2026, 6, 30)}
        )
    assert err.value.fields["valid_to"] == [
        "1 joined contract(s) continue after 2026-06-30; leave them by that date first."
    ]


@pytest.mark.parametrize("persona", ["alice", "auditor", "fin"])
def test_roles_that_may_not_edit_the_network_add_or_change_no_agreement(small_ipa, persona):
    agreement = _agreement(small_ipa)
    who = small_ipa.users[persona]
    with pytest.raises(PermissionDenied):
        services.agreement_create(actor=who, practice=small_ipa.practice_b, data={"valid_from": JAN})
    with pytest.raises(PermissionDenied):
        services.agreement_update(actor=who, agreement=agreement, data={"status": "terminated"})
    agreement.refresh_from_db()
    assert agreement.status == "active"
    assert ParticipationAgreement.objects.count() == 1
