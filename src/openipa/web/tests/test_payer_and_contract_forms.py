"""Payers, contracts and term versions are created and edited by finance through pages, with the
services' rules shown next to the fields."""

from __future__ import annotations

from openipa.contracts.models import Contract, ContractTerm, Payer
from openipa.web.tests.pages import field_errors, html


def test_finance_creates_a_payer_and_a_duplicate_code_is_refused(client_for, small_ipa):
    client = client_for("fin")
    response = client.post("/payers/new/", {"name": "Golden Plan", "code": "gold", "x12_payer_id": "G1"})
    payer = Payer.objects.get(code="GOLD")
    assert response["Location"] == f"/payers/{payer.pk}/"
    response = client.post("/payers/new/", {"name": "Another", "code": "sun"})
    assert field_errors(response, "code") == ["Payer code SUN is taken."]
    assert Payer.objects.count() == 2


def test_finance_creates_a_contract_with_its_products(client_for, small_ipa):
    data = {
        "payer": small_ipa.payer.pk,
        "number": "SUN-2027",
        "name": "Sunrise 2027",
        "legal_basis": "capitated_risk",
        "status": "draft",
        "valid_from": "2027-01-01",
        "products": [small_ipa.product.pk],
    }
    response = client_for("fin").post("/contracts/new/", data)
    contract = Contract.objects.get(number="SUN-2027")
    assert response["Location"] == f"/contracts/{contract.pk}/"
    assert list(contract.products.all()) == [small_ipa.product]


def test_a_contract_ending_before_it_starts_is_refused_at_the_end_date(client_for, small_ipa):
    data = {
        "payer": small_ipa.payer.pk,
        "number": "SUN-BAD",
        "name": "Backwards",
        "legal_basis": "capitated_risk",
        "status": "draft",
        "valid_from": "2027-01-01",
        "valid_to": "2026-01-01",
    }
    response = client_for("fin").post("/contracts/new/", data)
    assert field_errors(response, "valid_to")
    assert not Contract.objects.filter(number="SUN-BAD").exists()


def test_a_contract_is_edited(client_for, small_ipa):
    client = client_for("fin")
    form = html(client.get(f"/contracts/{small_ipa.contract.pk}/edit/"))
    assert 'value="SUN-2026"' in form
    data = {
        "payer": small_ipa.payer.pk,
        "number": "SUN-2026",
        "name": "Sunrise capitation 2026 (amended)",
        "legal_basis": "capitated_risk",
        "status": "active",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "products": [small_ipa.product.pk],
    }
    assert client.post(f"/contracts/{small_ipa.contract.pk}/edit/", data).status_code == 302
    assert Contract.objects.get(pk=small_ipa.contract.pk).name.endswith("(amended)")


def test_an_overlapping_term_version_is_refused_next_to_its_start_date(client_for, small_ipa):
    data = {
        "valid_from": "2026-06-01",
        "capitation_basis": "pmpm_table",
        "admin_fee_percent": "10",
        "admin_fee_pmpm": "0",
        "reinsurance_pmpm": "0",
        "withhold_percent": "0",
        "retro_window_months": "6",
        "proration_rule": "cutoff",
        "cutoff_day": "15",
        "age_reference_month": "1",
    }
    response = client_for("fin").post(f"/contracts/{small_ipa.contract.pk}/terms/new/", data)
    assert response.status_code == 200
    assert field_errors(response, "valid_from")
    assert ContractTerm.objects.filter(contract=small_ipa.contract).count() == 1


def test_a_percent_of_premium_term_needs_its_percent(client_for, small_ipa):
    data = {
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "capitation_basis": "percent_of_premium",
        "admin_fee_percent": "10",
        "admin_fee_pmpm": "0",
        "reinsurance_pmpm": "0",
        "withhold_percent": "0",
        "retro_window_months": "6",
        "proration_rule": "cutoff",
        "cutoff_day": "15",
        "age_reference_month": "1",
    }
    ContractTerm.objects.filter(pk=small_ipa.term.pk).delete()
    response = client_for("fin").post(f"/contracts/{small_ipa.contract.pk}/terms/new/", data)
    assert field_errors(response, "percent_of_premium") == [
        "Percent of premium is required for this capitation basis."
    ]
    data["percent_of_premium"] = "85"
    response = client_for("fin").post(f"/contracts/{small_ipa.contract.pk}/terms/new/", data)
    term = ContractTerm.objects.get(contract=small_ipa.contract)
    assert response["Location"] == f"/contracts/terms/{term.pk}/"
