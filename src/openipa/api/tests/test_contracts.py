"""Contracts through the API: list, detail with term versions, rate cells and DOFR, create and update."""

from __future__ import annotations

from openipa.api.tests.conftest import error_of
from openipa.contracts.models import Contract
from openipa.contracts.services import dofr_set, rate_table_import

RATES = "product_code,age_min,age_max,sex,pmpm\nMAHMO,0,64,U,410.00\nMAHMO,65,120,F,812.50\n"


def test_finance_lists_contracts_with_filters(api_as, small_ipa):
    client = api_as("fin")
    assert [c["number"] for c in client.get("/api/v1/contracts").json()["items"]] == ["SUN-2026"]
    assert client.get("/api/v1/contracts?status=draft").json()["total"] == 0
    assert client.get(f"/api/v1/contracts?payer_id={small_ipa.payer.pk}").json()["total"] == 1
    assert client.get("/api/v1/contracts?legal_basis=messenger_ffs").json()["total"] == 0


def test_the_detail_holds_terms_rates_and_dofr(api_as, small_ipa):
    admin = small_ipa.users["admin"]
    rate_table_import(actor=admin, term=small_ipa.term, text=RATES)
    dofr_set(actor=admin, term=small_ipa.term, entries={"Inpatient": "plan", "Professional": "ipa"})
    body = api_as("fin").get(f"/api/v1/contracts/{small_ipa.contract.pk}").json()
    assert [p["code"] for p in body["products"]] == ["MAHMO"]
    [term] = body["terms"]
    assert (term["capitation_basis"], term["admin_fee_percent"], term["reinsurance_pmpm"]) == (
        "pmpm_table",
        "12.000",
        "3.50",
    )
    assert [(c["age_min"], c["sex"], c["pmpm"]) for c in term["rate_cells"]] == [
        (0, "U", "410.00"),
        (65, "F", "812.50"),
    ]
    assert [(d["service_category"], d["responsible_party"]) for d in term["dofr"]] == [
        ("Inpatient", "plan"),
        ("Professional", "ipa"),
    ]


def test_finance_adds_a_contract_with_products(api_as, small_ipa):
    response = api_as("fin").post_json(
        "/api/v1/contracts",
        {
            "payer_id": small_ipa.payer.pk,
            "number": "SUN-2027",
            "name": "Sunrise capitation 2027",
            "legal_basis": "capitated_risk",
            "valid_from": "2027-01-01",
            "products": ["mahmo"],
        },
    )
    assert response.status_code == 201, response.content
    contract = Contract.objects.get(number="SUN-2027")
    assert [p.code for p in contract.products.all()] == ["MAHMO"]
    assert response.json()["terms"] == []


def test_unknown_payer_or_product_is_a_field_error(api_as, small_ipa):
    client = api_as("fin")
    base = {"number": "X-1", "name": "X", "legal_basis": "capitated_risk", "valid_from": "2027-01-01"}
    response = client.post_json("/api/v1/contracts", {**base, "payer_id": 999999})
    assert list(error_of(response)["fields"]) == ["payer_id"]
    response = client.post_json(
        "/api/v1/contracts", {**base, "payer_id": small_ipa.payer.pk, "products": ["NOPE"]}
    )
    assert list(error_of(response)["fields"]) == ["products"]
    assert not Contract.objects.filter(number="X-1").exists()


def test_an_end_before_the_start_is_a_field_error(api_as, small_ipa):
    response = api_as("fin").patch_json(
        f"/api/v1/contracts/{small_ipa.contract.pk}", {"valid_to": "2025-01-01"}
    )
    assert response.status_code == 422
    assert "valid_to" in error_of(response)["fields"]
    assert str(Contract.objects.get(pk=small_ipa.contract.pk).valid_to) == "2026-12-31"


def test_finance_updates_a_contract(api_as, small_ipa):
    response = api_as("fin").patch_json(
        f"/api/v1/contracts/{small_ipa.contract.pk}", {"status": "terminated", "products": []}
    )
    assert response.status_code == 200, response.content
    contract = Contract.objects.get(pk=small_ipa.contract.pk)
    assert contract.status == "terminated"
    assert list(contract.products.all()) == []
