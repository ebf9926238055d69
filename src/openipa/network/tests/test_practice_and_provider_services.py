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
        services.practice_bank_update(
            actor=small_ipa.users["fin"],
            practice=small_ipa.practice_a,
            data={"bank_routing_number": "123456789"},
        )
    assert err.value.fields["bank_routing_number"] == [
        "Routing number must be 9 digits with a valid ABA check digit."
    ]
    for routing in ("12100035", "1210003580", "12100035²", "١٢١٠٠٠٣٥٨"):  # the last: Arabic-Indic digits
        with pytest.raises(ValidationFailed):
            services.practice_bank_update(
                actor=small_ipa.users["fin"],
                practice=small_ipa.practice_a,
                data={"bank_routing_number": routing},
            )
    small_ipa.practice_a.refresh_from_db()
    assert small_ipa.practice_a.bank_routing_number == "121000358"


def test_bad_account_number_is_refused(small_ipa):
    for account in ("123", "12345678901234567890", "1234-5678", "12345²", "١٢٣٤٥٦"):
        with pytest.raises(ValidationFailed) as err:
            services.practice_bank_update(
                actor=small_ipa.users["fin"],
                practice=small_ipa.practice_a,
                data={"bank_account_number": account},
            )
        assert err.value.fields["bank_account_number"] == ["Account number must be 4 to 17 digits."]


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


def test_only_finance_changes_bank_details_and_a_refusal_changes_and_audits_nothing(small_ipa):
    writes = AuditEvent.objects.filter(kind="write").count()
    for who in ("admin", "ops", "auditor", "messenger", "alice"):
        with pytest.raises(PermissionDenied):
            services.practice_bank_update(
                actor=small_ipa.users[who],
                practice=small_ipa.practice_a,
                data={"bank_account_number": "11112222"},
            )
    small_ipa.practice_a.refresh_from_db()
    assert small_ipa.practice_a.bank_account_number == "000123456789"
    assert AuditEvent.objects.filter(kind="write").count() == writes
    services.practice_bank_update(
        actor=small_ipa.users["fin"], practice=small_ipa.practice_a, data={"bank_account_number": "11112222"}
    )
    small_ipa.practice_a.refresh_from_db()
    assert small_ipa.practice_a.bank_account_number == "11112222"


def test_practice_create_and_update_refuse_bank_fields_pointing_to_the_bank_form(small_ipa):
    writes = AuditEvent.objects.filter(kind="write").count()
    for who in ("admin", "ops"):
        with pytest.raises(ValidationFailed) as err:
            services.practice_update(
                actor=small_ipa.users[who],
                practice=small_ipa.practice_a,
                data={"phone": "626-555-0199", "bank_account_number": "11112222"},
            )
        assert "bank details form" in err.value.fields["bank_account_number"][0]
    with pytest.raises(ValidationFailed) as err:
        services.practice_create(
            actor=small_ipa.users["admin"],
            data={
                "code": "CEDAR",
                "legal_name": "Cedar Clinic",
                "tin": "99-1234567",
                "address_line1": "2 Elm",
                "city": "Covina",
                "state": "CA",
                "zip_code": "91722",
                "region": small_ipa.region,
                "bank_routing_number": "121000358",
            },
        )
    assert "PUT /api/v1/practices/{id}/bank" in err.value.fields["bank_routing_number"][0]
    small_ipa.practice_a.refresh_from_db()
    assert (small_ipa.practice_a.phone, small_ipa.practice_a.bank_account_number) == ("", "000123456789")
    assert not Practice.objects.filter(code="CEDAR").exists()
    assert AuditEvent.objects.filter(kind="write").count() == writes


def test_the_bank_service_changes_only_bank_details(small_ipa):
    with pytest.raises(ValidationFailed) as err:
        services.practice_bank_update(
            actor=small_ipa.users["fin"],
            practice=small_ipa.practice_a,
            data={"bank_name": "Other Bank", "legal_name": "Renamed"},
        )
    assert "legal_name" in err.value.fields[""][0]
    small_ipa.practice_a.refresh_from_db()
    assert (small_ipa.practice_a.legal_name, small_ipa.practice_a.bank_name) == (
        "Alder Family Medicine",
        "First Bank",
    )


def test_bank_details_are_clear_for_finance_and_masked_for_everyone_else(small_ipa):
    clear = selectors.practice_bank_details(small_ipa.users["fin"], small_ipa.practice_a)
    assert (clear["account_number"], clear["routing_number"], clear["masked"]) == (
        "000123456789",
        "121000358",
        False,
    )
    for who in ("admin", "ops", "auditor", "alice"):
        masked = selectors.practice_bank_details(small_ipa.users[who], small_ipa.practice_a)
        assert masked["masked"] is True, who
        assert masked["account_number"] == "••••••••6789", who
        assert masked["routing_number"] == "•••••0358", who


def test_bank_numbers_never_enter_the_audit_log_in_clear(small_ipa):
    fin = small_ipa.users["fin"]
    services.practice_bank_update(
        actor=fin,
        practice=small_ipa.practice_a,
        data={
            "bank_name": "Third Bank",
            "bank_routing_number": "011000015",
            "bank_account_number": "55554444",
        },
    )
    services.practice_bank_update(
        actor=fin,
        practice=small_ipa.practice_a,
        data={"bank_routing_number": "", "bank_account_number": "55554444"},
    )
    events = AuditEvent.objects.filter(action__startswith="practice.")
    assert events.filter(action="practice.bank_update").count() == 4  # two in the fixture, two here
    for event in events:
        for number in ("000123456789", "121000358", "987654321", "322271627", "011000015", "55554444"):
            assert number not in str(event.changes), (event.action, number)
    first, second = events.filter(action="practice.bank_update").order_by("-pk")[:2][::-1]
    # A replaced number shows that it changed, not what it was or became.
    assert first.changes == {
        "bank_name": ["First Bank", "Third Bank"],
        "bank_routing_number": ["***", "*** (changed)"],
        "bank_account_number": ["***", "*** (changed)"],
    }
    assert (first.actor_username, first.actor_role) == ("fin", "finance")
    assert second.changes == {"bank_routing_number": ["***", ""]}


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
