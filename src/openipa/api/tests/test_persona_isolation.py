"""Alice (a practice user at Alder) reads nothing of Birch's members, providers' private data or finances,
and changes nothing, through any API door. Refusals are 404 or 403, and their bodies carry none of the
other practice's data."""

from __future__ import annotations

import json

import pytest

from openipa.api.tests.conftest import error_of
from openipa.contracts.models import Contract, Payer
from openipa.core.models import AuditEvent
from openipa.network.models import Practice, Provider


def _member_b_values(small_ipa) -> list[str]:
    member = small_ipa.member_b
    return [member.first_name, member.last_name, member.payer_member_id, member.date_of_birth.isoformat()]


def test_another_practices_member_is_not_found_and_not_echoed(api_as, small_ipa):
    response = api_as("alice").get(f"/api/v1/members/{small_ipa.member_b.pk}")
    assert response.status_code == 404
    error_of(response)
    text = response.content.decode()
    for value in _member_b_values(small_ipa):
        assert value not in text


def test_a_refused_member_read_is_not_audited_as_a_read(api_as, small_ipa):
    client = api_as("alice")
    before = AuditEvent.objects.filter(kind="read").count()
    client.get(f"/api/v1/members/{small_ipa.member_b.pk}")
    assert AuditEvent.objects.filter(kind="read").count() == before


def test_the_member_list_holds_only_her_members_whatever_the_filter(api_as, small_ipa):
    client = api_as("alice")
    for query in (
        "",
        "?q=brooks",
        f"?practice_id={small_ipa.practice_b.pk}",
        f"?provider_id={small_ipa.pcp_b.pk}",
    ):
        response = client.get(f"/api/v1/members{query}")
        assert response.status_code == 200
        ids = [m["id"] for m in response.json()["items"]]
        assert small_ipa.member_b.pk not in ids, query
        for value in _member_b_values(small_ipa):
            assert value not in response.content.decode(), query
    assert [m["id"] for m in client.get("/api/v1/members").json()["items"]] == [small_ipa.member_a.pk]


def test_the_practice_list_holds_only_her_practice(api_as, small_ipa):
    body = api_as("alice").get("/api/v1/practices?q=birch").json()
    assert body["items"] == []
    body = api_as("alice").get("/api/v1/practices").json()
    assert [p["id"] for p in body["items"]] == [small_ipa.practice_a.pk]


def test_the_other_practice_is_not_found(api_as, small_ipa):
    response = api_as("alice").get(f"/api/v1/practices/{small_ipa.practice_b.pk}")
    assert response.status_code == 404
    text = response.content.decode()
    for value in ("Birch", small_ipa.practice_b.tin, "987654321", "Second Bank"):
        assert value not in text


def test_her_own_practices_bank_details_are_masked(api_as, small_ipa):
    bank = api_as("alice").get(f"/api/v1/practices/{small_ipa.practice_a.pk}").json()["bank"]
    assert bank["masked"] is True
    assert bank["account_number"].endswith("6789")
    assert "000123456789" not in json.dumps(bank)


def test_bank_details_are_masked_for_admin_operations_and_auditor_and_clear_for_finance(api_as, small_ipa):
    path = f"/api/v1/practices/{small_ipa.practice_b.pk}"
    for who in ("admin", "ops", "auditor"):
        bank = api_as(who).get(path).json()["bank"]
        assert bank["masked"] is True, who
        assert bank["account_number"] == "•••••4321", who
        assert "987654321" not in json.dumps(bank), who
        assert "322271627" not in json.dumps(bank), who
    fin = api_as("fin").get(path).json()["bank"]
    assert (fin["masked"], fin["account_number"], fin["routing_number"]) == (False, "987654321", "322271627")


def test_another_practices_provider_shows_no_private_data(api_as, small_ipa):
    response = api_as("alice").get(f"/api/v1/providers/{small_ipa.pcp_b.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["private"] is None
    text = response.content.decode()
    assert "1975-05-06" not in text
    assert "626-555-0202" not in text


def test_her_own_practices_provider_shows_private_data(api_as, small_ipa):
    body = api_as("alice").get(f"/api/v1/providers/{small_ipa.pcp_a.pk}").json()
    assert body["private"] == {"date_of_birth": "1970-01-02", "personal_phone": "626-555-0101"}


def test_the_provider_directory_carries_no_private_data(api_as, small_ipa):
    text = api_as("alice").get("/api/v1/providers?per_page=200").content.decode()
    assert "1975-05-06" not in text
    assert "626-555-0202" not in text


@pytest.mark.parametrize(
    "path", ["/api/v1/payers", "/api/v1/contracts", "/payers/{payer}", "/contracts/{contract}"]
)
def test_financial_resources_are_forbidden(api_as, small_ipa, path):
    path = path.format(payer=small_ipa.payer.pk, contract=small_ipa.contract.pk)
    if not path.startswith("/api"):
        path = "/api/v1" + path
    response = api_as("alice").get(path)
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    text = response.content.decode()
    for value in ("Sunrise", "SUN-2026", "12.000"):
        assert value not in text


def _state() -> tuple[object, ...]:
    return (
        sorted(Practice.objects.values_list("pk", "legal_name", "phone", "tin", "bank_account_number")),
        sorted(Provider.objects.values_list("pk", "npi", "last_name", "personal_phone")),
        sorted(Payer.objects.values_list("pk", "code", "name")),
        sorted(Contract.objects.values_list("pk", "number", "status")),
        AuditEvent.objects.filter(kind="write").count(),
    )


def test_her_attempted_writes_are_refused_and_change_nothing(api_as, small_ipa):
    client = api_as("alice")
    before = _state()
    attempts = [
        ("patch", f"/api/v1/practices/{small_ipa.practice_a.pk}", {"phone": "000"}, 403),
        ("patch", f"/api/v1/practices/{small_ipa.practice_b.pk}", {"phone": "000"}, 404),
        ("patch", f"/api/v1/providers/{small_ipa.pcp_a.pk}", {"personal_phone": "000"}, 403),
        ("patch", f"/api/v1/providers/{small_ipa.pcp_b.pk}", {"last_name": "Mallory"}, 403),
        (
            "post",
            "/api/v1/providers",
            {
                "npi": "1987654328",
                "last_name": "Oak",
                "taxonomy_code": "207R00000X",
                "specialty": "IM",
                "kind": "pcp",
            },
            403,
        ),
        (
            "post",
            "/api/v1/practices",
            {
                "code": "EVIL",
                "legal_name": "Evil",
                "tin": "951234567",
                "address_line1": "1 St",
                "city": "X",
                "state": "CA",
                "zip_code": "90000",
                "region": "SGV",
            },
            403,
        ),
        ("post", "/api/v1/payers", {"name": "Evil", "code": "EVIL"}, 403),
        ("patch", f"/api/v1/payers/{small_ipa.payer.pk}", {"name": "Evil"}, 403),
        (
            "post",
            "/api/v1/contracts",
            {
                "payer_id": small_ipa.payer.pk,
                "number": "E-1",
                "name": "E",
                "legal_basis": "capitated_risk",
                "valid_from": "2027-01-01",
            },
            403,
        ),
        ("patch", f"/api/v1/contracts/{small_ipa.contract.pk}", {"status": "terminated"}, 403),
    ]
    for method, path, body, status in attempts:
        response = getattr(client, f"{method}_json")(path, body)
        assert response.status_code == status, (method, path, response.content)
        error_of(response)
    assert _state() == before


def test_the_auditor_reads_everything_and_writes_nothing(api_as, small_ipa):
    client = api_as("auditor")
    for path in ("/api/v1/members", "/api/v1/payers", f"/api/v1/contracts/{small_ipa.contract.pk}"):
        assert client.get(path).status_code == 200, path
    before = _state()
    response = client.patch_json(f"/api/v1/practices/{small_ipa.practice_a.pk}", {"phone": "000"})
    assert response.status_code == 403
    response = client.post_json("/api/v1/payers", {"name": "Evil", "code": "EVIL"})
    assert response.status_code == 403
    assert _state() == before


def test_the_messenger_sees_contracts_but_no_members(api_as, small_ipa):
    client = api_as("messenger")
    assert client.get("/api/v1/contracts").status_code == 200
    for path in ("/api/v1/members", f"/api/v1/members/{small_ipa.member_a.pk}"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Amy" not in response.content.decode()
