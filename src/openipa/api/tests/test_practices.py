"""Practices through the API: list and search, detail with bank details, create, partial update."""

from __future__ import annotations

from openipa.api.tests.conftest import error_of
from openipa.core.models import AuditEvent
from openipa.network.models import Practice

NEW_PRACTICE = {
    "code": "cedar",
    "legal_name": "Cedar Internal Medicine",
    "tin": "95-1234567",
    "address_line1": "200 Lake Ave",
    "city": "Pasadena",
    "state": "ca",
    "zip_code": "91101",
    "region": "SGV",
}


def test_staff_list_every_practice_by_name(api_as):
    body = api_as("ops").get("/api/v1/practices").json()
    assert [p["code"] for p in body["items"]] == ["ALDER", "BIRCH"]
    assert body["items"][0]["region"] == "SGV"


def test_the_list_searches_and_filters(api_as):
    client = api_as("ops")
    assert [p["code"] for p in client.get("/api/v1/practices?q=birch").json()["items"]] == ["BIRCH"]
    assert [p["code"] for p in client.get("/api/v1/practices?q=12-3456789").json()["items"]] == ["ALDER"]
    assert client.get("/api/v1/practices?status=terminated").json()["total"] == 0
    assert client.get("/api/v1/practices?region=SGV").json()["total"] == 2


def test_the_detail_holds_the_practice_and_its_bank_details(api_as, small_ipa):
    body = api_as("admin").get(f"/api/v1/practices/{small_ipa.practice_b.pk}").json()
    assert body["legal_name"] == "Birch Pediatrics"
    assert body["bank"] == {
        "bank_name": "Second Bank",
        "routing_number": "322271627",
        "account_number": "987654321",
        "masked": False,
    }


def test_operations_create_a_practice(api_as):
    response = api_as("ops").post_json("/api/v1/practices", NEW_PRACTICE)
    assert response.status_code == 201, response.content
    body = response.json()
    practice = Practice.objects.get(pk=body["id"])
    assert (practice.code, practice.tin, practice.state, practice.region.code) == (
        "CEDAR",
        "951234567",
        "CA",
        "SGV",
    )
    assert AuditEvent.objects.filter(action="practice.create", actor_username="ops").count() == 1


def test_an_unknown_region_code_is_a_field_error(api_as):
    response = api_as("ops").post_json("/api/v1/practices", {**NEW_PRACTICE, "region": "NOPE"})
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["region"]
    assert not Practice.objects.filter(code="CEDAR").exists()


def test_operations_cannot_set_bank_details(api_as):
    response = api_as("ops").post_json(
        "/api/v1/practices",
        {**NEW_PRACTICE, "bank_routing_number": "121000358", "bank_account_number": "12345678"},
    )
    assert response.status_code == 403
    assert not Practice.objects.filter(code="CEDAR").exists()


def test_a_patch_changes_only_the_fields_sent(api_as, small_ipa):
    response = api_as("ops").patch_json(
        f"/api/v1/practices/{small_ipa.practice_a.pk}", {"phone": "626-555-0199", "status": "suspended"}
    )
    assert response.status_code == 200, response.content
    practice = Practice.objects.get(pk=small_ipa.practice_a.pk)
    assert (practice.phone, practice.status, practice.legal_name) == (
        "626-555-0199",
        "suspended",
        "Alder Family Medicine",
    )


def test_finance_and_admin_change_bank_details(api_as, small_ipa):
    response = api_as("admin").patch_json(
        f"/api/v1/practices/{small_ipa.practice_a.pk}", {"bank_account_number": "55554444"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["bank"]["account_number"] == "55554444"
