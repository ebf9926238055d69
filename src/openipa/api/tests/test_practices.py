"""Practices through the API: list and search, detail with bank details, create, partial update, and the
bank details' own endpoint (finance only)."""

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


def test_the_detail_holds_the_practice_and_its_bank_details_masked_for_the_admin(api_as, small_ipa):
    body = api_as("admin").get(f"/api/v1/practices/{small_ipa.practice_b.pk}").json()
    assert body["legal_name"] == "Birch Pediatrics"
    assert body["bank"] == {
        "bank_name": "Second Bank",
        "routing_number": "•••••1627",
        "account_number": "•••••4321",
        "masked": True,
    }


def test_finance_reads_the_bank_details_in_clear(api_as, small_ipa):
    body = api_as("fin").get(f"/api/v1/practices/{small_ipa.practice_b.pk}").json()
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


def test_bank_fields_are_refused_on_create_pointing_to_the_bank_endpoint(api_as):
    for who in ("ops", "admin", "fin"):
        response = api_as(who).post_json(
            "/api/v1/practices",
            {**NEW_PRACTICE, "bank_routing_number": "121000358", "bank_account_number": "12345678"},
        )
        assert response.status_code == 422, (who, response.content)
        assert "PUT /api/v1/practices/{id}/bank" in error_of(response)["message"]
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


BANK = {"bank_name": "Third Bank", "bank_routing_number": "011000015", "bank_account_number": "55554444"}


def _bank_of(practice_pk: int) -> tuple[str, str, str]:
    p = Practice.objects.get(pk=practice_pk)
    return (p.bank_name, p.bank_routing_number, p.bank_account_number)


def test_bank_fields_are_refused_on_patch_and_nothing_changes(api_as, small_ipa):
    path = f"/api/v1/practices/{small_ipa.practice_a.pk}"
    clients = {who: api_as(who) for who in ("admin", "fin")}  # issuing a token is itself audited
    writes = AuditEvent.objects.filter(kind="write").count()
    for who, client in clients.items():
        response = client.patch_json(path, {"phone": "626-555-0199", "bank_account_number": "55554444"})
        assert response.status_code == 422, (who, response.content)
        assert "PUT /api/v1/practices/{id}/bank" in error_of(response)["message"]
    practice = Practice.objects.get(pk=small_ipa.practice_a.pk)
    assert (practice.phone, practice.bank_account_number) == ("", "000123456789")
    assert AuditEvent.objects.filter(kind="write").count() == writes


def test_finance_replaces_the_bank_details(api_as, small_ipa):
    response = api_as("fin").put_json(f"/api/v1/practices/{small_ipa.practice_a.pk}/bank", BANK)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "bank_name": "Third Bank",
        "routing_number": "011000015",
        "account_number": "55554444",
        "masked": False,
    }
    assert _bank_of(small_ipa.practice_a.pk) == ("Third Bank", "011000015", "55554444")
    event = AuditEvent.objects.filter(action="practice.bank_update", actor_username="fin").latest("pk")
    assert event.object_id == str(small_ipa.practice_a.pk)
    assert event.changes == {
        "bank_name": ["First Bank", "Third Bank"],
        "bank_routing_number": ["***", "*** (changed)"],
        "bank_account_number": ["***", "*** (changed)"],
    }
    assert "55554444" not in str(event.changes)
    assert "011000015" not in str(event.changes)


def test_only_finance_may_change_bank_details(api_as, small_ipa):
    path = f"/api/v1/practices/{small_ipa.practice_a.pk}/bank"
    clients = {who: api_as(who) for who in ("admin", "ops", "auditor", "messenger", "alice")}
    writes = AuditEvent.objects.filter(kind="write").count()
    for who, client in clients.items():
        response = client.put_json(path, BANK)
        assert response.status_code == 403, (who, response.content)
        assert error_of(response)["code"] == "forbidden"
    assert _bank_of(small_ipa.practice_a.pk) == ("First Bank", "121000358", "000123456789")
    assert AuditEvent.objects.filter(kind="write").count() == writes


def test_another_practices_bank_endpoint_is_not_found(api_as, small_ipa):
    response = api_as("alice").put_json(f"/api/v1/practices/{small_ipa.practice_b.pk}/bank", BANK)
    assert response.status_code == 404
    assert api_as("fin").put_json("/api/v1/practices/999999/bank", BANK).status_code == 404
    assert _bank_of(small_ipa.practice_b.pk) == ("Second Bank", "322271627", "987654321")


def test_a_bad_routing_number_is_a_field_error(api_as, small_ipa):
    path = f"/api/v1/practices/{small_ipa.practice_a.pk}/bank"
    response = api_as("fin").put_json(
        path, {**BANK, "bank_routing_number": "123456789", "bank_account_number": "12ab"}
    )
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert fields["bank_routing_number"] == ["Routing number must be 9 digits with a valid ABA check digit."]
    assert fields["bank_account_number"] == ["Account number must be 4 to 17 digits."]
    assert _bank_of(small_ipa.practice_a.pk) == ("First Bank", "121000358", "000123456789")


def test_the_bank_body_needs_all_three_fields_and_no_others(api_as, small_ipa):
    path = f"/api/v1/practices/{small_ipa.practice_a.pk}/bank"
    client = api_as("fin")
    missing = client.put_json(path, {"bank_name": "Third Bank"})
    assert missing.status_code == 422
    assert set(error_of(missing)["fields"]) == {"bank_routing_number", "bank_account_number"}
    extra = client.put_json(path, {**BANK, "tin": "999999999"})
    assert extra.status_code == 422
    assert list(error_of(extra)["fields"]) == ["tin"]
    assert _bank_of(small_ipa.practice_a.pk) == ("First Bank", "121000358", "000123456789")


def test_empty_values_clear_the_bank_details(api_as, small_ipa):
    path = f"/api/v1/practices/{small_ipa.practice_a.pk}/bank"
    empty = {"bank_name": "", "bank_routing_number": "", "bank_account_number": ""}
    response = api_as("fin").put_json(path, empty)
    assert response.status_code == 200, response.content
    assert _bank_of(small_ipa.practice_a.pk) == ("", "", "")
