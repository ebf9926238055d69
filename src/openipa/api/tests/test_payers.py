"""Payers through the API: list, detail with products, create and update by finance."""

from __future__ import annotations

from openipa.api.tests.conftest import error_of
from openipa.contracts.models import Payer


def test_finance_lists_payers(api_as):
    body = api_as("fin").get("/api/v1/payers").json()
    assert [(p["code"], p["product_count"]) for p in body["items"]] == [("SUN", 1)]


def test_the_detail_lists_the_products(api_as, small_ipa):
    body = api_as("auditor").get(f"/api/v1/payers/{small_ipa.payer.pk}").json()
    assert body["name"] == "Sunrise Health Plan"
    assert [(p["code"], p["line_of_business"]) for p in body["products"]] == [("MAHMO", "medicare_advantage")]


def test_finance_adds_a_payer(api_as):
    response = api_as("fin").post_json("/api/v1/payers", {"name": "Moonlight Care", "code": "moon"})
    assert response.status_code == 201, response.content
    assert response.json()["code"] == "MOON"
    assert Payer.objects.filter(code="MOON", name="Moonlight Care").exists()


def test_a_duplicate_payer_code_is_a_field_error(api_as):
    response = api_as("fin").post_json("/api/v1/payers", {"name": "Other", "code": "SUN"})
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["code"]
    assert Payer.objects.count() == 1


def test_finance_renames_a_payer(api_as, small_ipa):
    response = api_as("fin").patch_json(f"/api/v1/payers/{small_ipa.payer.pk}", {"name": "Sunrise Health"})
    assert response.status_code == 200, response.content
    assert Payer.objects.get(pk=small_ipa.payer.pk).name == "Sunrise Health"


def test_operations_may_read_but_not_add_payers(api_as):
    client = api_as("ops")
    assert client.get("/api/v1/payers").status_code == 200
    assert client.post_json("/api/v1/payers", {"name": "Moonlight Care", "code": "MOON"}).status_code == 403
    assert not Payer.objects.filter(code="MOON").exists()
