"""Locations and participation agreements through the API: created under a practice, listed in its detail,
changed with PATCH; admin-fee terms and joined contracts are null for roles that may not read contracts."""

from __future__ import annotations

import datetime as dt

from openipa.accounts.services import user_create
from openipa.api.tests.conftest import error_of
from openipa.core.models import AuditEvent
from openipa.core.roles import Role
from openipa.network.models import Location, ParticipationAgreement
from openipa.network.services import agreement_create

SITE = {"name": "Annex", "address_line1": "5 Side St", "city": "Arcadia", "state": "ca", "zip_code": "91006"}


def test_operations_add_a_location_and_the_practice_detail_lists_it(api_as, small_ipa):
    client = api_as("ops")
    response = client.post_json(f"/api/v1/practices/{small_ipa.practice_a.pk}/locations", SITE)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["practice_id"], body["state"], body["is_primary"]) == (small_ipa.practice_a.pk, "CA", False)
    detail = client.get(f"/api/v1/practices/{small_ipa.practice_a.pk}").json()
    assert [loc["name"] for loc in detail["locations"]] == ["Annex"]


def test_a_duplicate_location_name_is_a_field_error(api_as, small_ipa):
    client = api_as("ops")
    client.post_json(f"/api/v1/practices/{small_ipa.practice_a.pk}/locations", SITE)
    response = client.post_json(f"/api/v1/practices/{small_ipa.practice_a.pk}/locations", SITE)
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["name"]
    assert Location.objects.count() == 1


def test_an_unknown_location_field_is_refused(api_as, small_ipa):
    response = api_as("ops").post_json(
        f"/api/v1/practices/{small_ipa.practice_a.pk}/locations", {**SITE, "suite": "4"}
    )
    assert response.status_code == 422
    assert not Location.objects.exists()


def test_operations_add_an_agreement_with_fees(api_as, small_ipa):
    response = api_as("ops").post_json(
        f"/api/v1/practices/{small_ipa.practice_a.pk}/agreements",
        {"valid_from": "2026-01-01", "admin_fee_percent": "12.5", "admin_fee_pmpm": 1.5, "status": "draft"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["admin_fee_percent"], body["admin_fee_pmpm"], body["contracts"]) == (
        "draft",
        "12.500",
        "1.50",
        [],
    )


def test_an_overlapping_agreement_is_a_field_error(api_as, small_ipa):
    client = api_as("ops")
    url = f"/api/v1/practices/{small_ipa.practice_a.pk}/agreements"
    client.post_json(url, {"valid_from": "2026-01-01"})
    response = client.post_json(url, {"valid_from": "2026-06-01"})
    assert response.status_code == 422
    assert "overlaps" in error_of(response)["fields"]["valid_from"][0]
    assert ParticipationAgreement.objects.count() == 1


def test_a_fee_above_100_percent_is_a_field_error(api_as, small_ipa):
    response = api_as("ops").post_json(
        f"/api/v1/practices/{small_ipa.practice_a.pk}/agreements",
        {"valid_from": "2026-01-01", "admin_fee_percent": 150},
    )
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["admin_fee_percent"]


def test_a_patch_changes_status_fees_and_end(api_as, small_ipa):
    agreement = agreement_create(
        actor=small_ipa.users["admin"],
        practice=small_ipa.practice_a,
        data={"valid_from": dt.date(2026, 1, 1)},
    )
    response = api_as("ops").patch_json(
        f"/api/v1/agreements/{agreement.pk}",
        {"status": "terminated", "valid_to": "2026-12-31", "admin_fee_pmpm": "3.00"},
    )
    assert response.status_code == 200, response.content
    agreement.refresh_from_db()
    assert (agreement.status, agreement.valid_to, str(agreement.admin_fee_pmpm)) == (
        "terminated",
        dt.date(2026, 12, 31),
        "3.00",
    )
    assert AuditEvent.objects.filter(action="agreement.update", actor_username="ops").exists()


def test_the_start_of_an_agreement_cannot_be_patched(api_as, small_ipa):
    agreement = agreement_create(
        actor=small_ipa.users["admin"],
        practice=small_ipa.practice_a,
        data={"valid_from": dt.date(2026, 1, 1)},
    )
    response = api_as("ops").patch_json(f"/api/v1/agreements/{agreement.pk}", {"valid_from": "2027-01-01"})
    assert response.status_code == 422
    assert "valid_from" in error_of(response)["fields"]


def test_fees_and_contracts_are_null_for_roles_without_contract_access(api_as, small_ipa):
    agreement_create(
        actor=small_ipa.users["admin"],
        practice=small_ipa.practice_a,
        data={"valid_from": dt.date(2026, 1, 1), "admin_fee_percent": "12", "notes": "side letter"},
    )
    body = api_as("alice").get(f"/api/v1/practices/{small_ipa.practice_a.pk}").json()
    (agreement,) = body["agreements"]
    assert agreement["valid_from"] == "2026-01-01"
    assert (agreement["admin_fee_percent"], agreement["admin_fee_pmpm"], agreement["notes"]) == (
        None,
        None,
        None,
    )
    assert agreement["contracts"] is None
    assert (
        "side letter"
        not in api_as("alice").get(f"/api/v1/practices/{small_ipa.practice_a.pk}").content.decode()
    )


def test_credentialing_may_add_an_agreement_but_not_set_its_fees(api_as, small_ipa):
    small_ipa.users["cred"] = user_create(
        actor=None, username="cred", password="x" * 12, role=Role.CREDENTIALING
    )
    client = api_as("cred")
    url = f"/api/v1/practices/{small_ipa.practice_a.pk}/agreements"
    refused = client.post_json(url, {"valid_from": "2026-01-01", "admin_fee_percent": 5})
    assert refused.status_code == 403
    assert not ParticipationAgreement.objects.exists()
    response = client.post_json(url, {"valid_from": "2026-01-01"})
    assert response.status_code == 201, response.content
    assert response.json()["admin_fee_percent"] is None


def test_an_agreement_is_non_exclusive_unless_said_and_the_flag_is_patched_and_shown(
    api_as, client_for, small_ipa
):
    client = api_as("ops")
    created = client.post_json(
        f"/api/v1/practices/{small_ipa.practice_a.pk}/agreements", {"valid_from": "2026-01-01"}
    )
    assert created.status_code == 201, created.content
    assert created.json()["non_exclusive"] is True
    agreement_id = created.json()["id"]
    patched = client.patch_json(f"/api/v1/agreements/{agreement_id}", {"non_exclusive": False})
    assert patched.status_code == 200, patched.content
    assert ParticipationAgreement.objects.get(pk=agreement_id).non_exclusive is False
    assert AuditEvent.objects.filter(action="agreement.update", actor_username="ops").exists()
    page = client_for("ops").get(f"/practices/{small_ipa.practice_a.pk}/").content.decode()
    assert f'data-testid="agreement-{agreement_id}-exclusivity">exclusive<' in page
