"""Joining and leaving payer contracts through the API, under a practice's agreement."""

from __future__ import annotations

import datetime as dt

import pytest

from openipa.api.tests.conftest import error_of
from openipa.network.models import ContractParticipation
from openipa.network.services import agreement_create


@pytest.fixture
def agreement(small_ipa):
    return agreement_create(
        actor=small_ipa.users["admin"],
        practice=small_ipa.practice_a,
        data={"valid_from": dt.date(2026, 1, 1)},
    )


def test_operations_join_a_contract_and_the_agreement_lists_it(api_as, small_ipa, agreement):
    client = api_as("ops")
    response = client.post_json(
        f"/api/v1/agreements/{agreement.pk}/contracts",
        {"contract_id": small_ipa.contract.pk, "valid_from": "2026-02-01"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["contract_number"], body["valid_from"], body["valid_to"]) == (
        "SUN-2026",
        "2026-02-01",
        "2026-12-31",
    )
    detail = client.get(f"/api/v1/practices/{small_ipa.practice_a.pk}").json()
    assert [c["id"] for c in detail["agreements"][0]["contracts"]] == [body["id"]]


def test_an_unknown_contract_is_a_field_error(api_as, agreement):
    response = api_as("ops").post_json(
        f"/api/v1/agreements/{agreement.pk}/contracts", {"contract_id": 999999, "valid_from": "2026-02-01"}
    )
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["contract_id"]


def test_dates_outside_the_contract_are_a_field_error(api_as, small_ipa, agreement):
    response = api_as("ops").post_json(
        f"/api/v1/agreements/{agreement.pk}/contracts",
        {"contract_id": small_ipa.contract.pk, "valid_from": "2026-02-01", "valid_to": "2027-01-31"},
    )
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "valid_to": ["After the contract SUN-2026 ends (2026-01-01..2026-12-31)."]
    }
    assert not ContractParticipation.objects.exists()


def test_the_practice_leaves_a_contract(api_as, small_ipa, agreement):
    client = api_as("ops")
    joined = client.post_json(
        f"/api/v1/agreements/{agreement.pk}/contracts",
        {"contract_id": small_ipa.contract.pk, "valid_from": "2026-01-01"},
    ).json()
    response = client.patch_json(
        f"/api/v1/agreements/{agreement.pk}/contracts/{joined['id']}", {"valid_to": "2026-06-30"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["valid_to"] == "2026-06-30"
    wrong_agreement = client.patch_json(
        f"/api/v1/agreements/{agreement.pk + 1}/contracts/{joined['id']}", {"valid_to": "2026-05-31"}
    )
    assert wrong_agreement.status_code == 404
    assert ContractParticipation.objects.get().valid_to == dt.date(2026, 6, 30)
