"""Providers through the API: the directory, the detail with affiliations and private data, create, update."""

from __future__ import annotations

from openipa.core.models import AuditEvent
from openipa.network.models import Provider

NEW_PROVIDER = {
    "npi": "1987654328",
    "first_name": "Dana",
    "last_name": "Oak",
    "degree": "MD",
    "taxonomy_code": "207R00000X",
    "specialty": "Internal Medicine",
    "kind": "pcp",
}


def test_the_directory_lists_public_fields_only(api_as):
    body = api_as("ops").get("/api/v1/providers").json()
    assert body["total"] == 3
    assert "date_of_birth" not in body["items"][0]
    assert "personal_phone" not in body["items"][0]


def test_the_directory_filters(api_as, small_ipa):
    client = api_as("ops")
    assert [p["npi"] for p in client.get("/api/v1/providers?q=1245319599").json()["items"]] == ["1245319599"]
    assert [p["last_name"] for p in client.get("/api/v1/providers?kind=specialist").json()["items"]] == [
        "Cardio"
    ]
    by_practice = client.get(f"/api/v1/providers?practice_id={small_ipa.practice_b.pk}").json()
    assert [p["last_name"] for p in by_practice["items"]] == ["Birch", "Cardio"]
    assert client.get("/api/v1/providers?specialty=cardiology").json()["total"] == 1


def test_staff_see_affiliations_and_private_data(api_as, small_ipa):
    body = api_as("ops").get(f"/api/v1/providers/{small_ipa.pcp_b.pk}").json()
    assert body["display_name"] == "Ben Birch, DO"
    assert [a["practice_code"] for a in body["affiliations"]] == ["BIRCH"]
    assert body["private"] == {"date_of_birth": "1975-05-06", "personal_phone": "626-555-0202"}


def test_operations_register_a_provider(api_as):
    response = api_as("ops").post_json("/api/v1/providers", NEW_PROVIDER)
    assert response.status_code == 201, response.content
    provider = Provider.objects.get(pk=response.json()["id"])
    assert (provider.npi, provider.last_name, provider.kind) == ("1987654328", "Oak", "pcp")
    assert AuditEvent.objects.filter(action="provider.create", object_id=str(provider.pk)).exists()


def test_a_patch_changes_only_the_fields_sent(api_as, small_ipa):
    response = api_as("ops").patch_json(
        f"/api/v1/providers/{small_ipa.pcp_a.pk}", {"accepting_new_patients": False, "panel_limit": None}
    )
    assert response.status_code == 200, response.content
    provider = Provider.objects.get(pk=small_ipa.pcp_a.pk)
    assert (provider.accepting_new_patients, provider.panel_limit, provider.npi) == (
        False,
        None,
        "1234567893",
    )
