"""Network registry writes: validation messages, nothing written on refusal, audit of every write."""

from __future__ import annotations

import datetime as dt

import pytest

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.network import selectors, services
from openipa.network.models import Affiliation, Practice, Provider

PROVIDER = {
    "first_name": "Dee",
    "last_name": "Derm",
    "degree": "MD",
    "taxonomy_code": "207N00000X",
    "specialty": "Dermatology",
    "kind": "specialist",
}


def test_bad_npi_check_digit_is_refused_with_the_expected_digit(small_ipa):
    with pytest.raises(ValidationFailed) as err:
        services.provider_create(actor=small_ipa.users["ops"], data={**PROVIDER, "npi": "1234567890"})
    assert "check digit" in err.value.fields["npi"][0]
    assert "expected 3" in err.value.fields["npi"][0]
    assert not Provider.objects.filter(npi="1234567890").exists()


def test_duplicate_npi_names_the_provider_who_has_it(small_ipa):
    with pytest.raises(ValidationFailed) as err:
        services.provider_create(actor=small_ipa.users["ops"], data={**PROVIDER, "npi": "1234567893"})
    assert "already registered" in err.value.fields["npi"][0]
    assert Provider.objects.filter(npi="1234567893").count() == 1


def test_malformed_tin_is_refused(small_ipa):
    data = {
        "code": "CEDAR",
        "legal_name": "Cedar Clinic",
        "tin": "12-34",
        "address_line1": "2 Elm",
        "city": "Covina",
        "state": "CA",
        "zip_code": "91722",
        "region": small_ipa.region,
    }
    with pytest.raises(ValidationFailed) as err:
        services.practice_create(actor=small_ipa.users["ops"], data=data)
    assert "tin" in err.value.fields
    assert not Practice.objects.filter(code="CEDAR").exists()


def test_duplicate_tin_is_refused(small_ipa):
    data = {
        "code": "CEDAR",
        "legal_name": "Cedar Clinic",
        "tin": "12-3456789",
        "address_line1": "2 Elm",
        "city": "Covina",
        "state": "CA",
        "zip_code": "91722",
        "region": small_ipa.region,
    }
    with pytest.raises(ValidationFailed) as err:
        services.practice_create(actor=small_ipa.users["ops"], data=data)
    assert "ALDER" in err.value.fields["tin"][0]


def test_bad_routing_number_is_refused(small_ipa):
    with pytest.raises(ValidationFailed) as err:
        services.practice_update(
            actor=small_ipa.users["admin"],
            practice=small_ipa.practice_a,
            data={"bank_routing_number": "123456789"},
        )
    assert "bank_routing_number" in err.value.fields


def test_provider_update_is_audited_with_before_and_after(small_ipa):
    services.provider_update(
        actor=small_ipa.users["ops"], provider=small_ipa.specialist, data={"accepting_new_patients": False}
    )
    event = AuditEvent.objects.filter(action="provider.update").get()
    assert event.actor_username == "ops"
    assert event.changes == {"accepting_new_patients": [True, False]}


def test_practice_user_cannot_edit_a_practice_and_nothing_changes(small_ipa):
    writes = AuditEvent.objects.filter(kind="write").count()
    with pytest.raises(PermissionDenied):
        services.practice_update(
            actor=small_ipa.users["alice"], practice=small_ipa.practice_a, data={"legal_name": "Renamed"}
        )
    small_ipa.practice_a.refresh_from_db()
    assert small_ipa.practice_a.legal_name == "Alder Family Medicine"
    assert AuditEvent.objects.filter(kind="write").count() == writes


def test_operations_cannot_change_bank_details(small_ipa):
    with pytest.raises(PermissionDenied):
        services.practice_update(
            actor=small_ipa.users["ops"],
            practice=small_ipa.practice_a,
            data={"bank_account_number": "11112222"},
        )


def test_bank_details_are_clear_for_finance_and_masked_for_operations(small_ipa):
    clear = selectors.practice_bank_details(small_ipa.users["fin"], small_ipa.practice_a)
    masked = selectors.practice_bank_details(small_ipa.users["ops"], small_ipa.practice_a)
    assert clear["account_number"] == "000123456789"
    assert masked["account_number"].endswith("6789")
    assert "000123456789" not in str(masked)


def test_bank_numbers_never_enter_the_audit_log_in_clear(small_ipa):
    for event in AuditEvent.objects.filter(action="practice.create"):
        assert "000123456789" not in str(event.changes)


def test_overlapping_affiliation_is_refused(small_ipa):
    with pytest.raises(ValidationFailed):
        services.affiliation_create(
            actor=small_ipa.users["ops"],
            provider=small_ipa.pcp_a,
            practice=small_ipa.practice_a,
            valid_from=dt.date(2026, 6, 1),
        )
    assert Affiliation.objects.filter(provider=small_ipa.pcp_a).count() == 1


def test_practice_user_sees_only_own_practice(small_ipa):
    alice = small_ipa.users["alice"]
    assert list(selectors.practice_list(alice)) == [small_ipa.practice_a]


def test_private_provider_data_is_visible_only_inside_the_practice(small_ipa):
    alice = small_ipa.users["alice"]
    assert selectors.provider_private_visible(alice, small_ipa.pcp_a)
    assert not selectors.provider_private_visible(alice, small_ipa.pcp_b)
    assert selectors.provider_private_visible(small_ipa.users["ops"], small_ipa.pcp_b)
