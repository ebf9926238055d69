"""Detail pages show the record and what hangs off it: a practice's providers and agreements, a provider's
affiliations, a member's eligibility spans and PCP history, a payer's products, a contract's term versions."""

from __future__ import annotations

from openipa.network.services import agreement_create
from openipa.web.tests.pages import html


def test_a_practice_page_shows_its_address_providers_and_agreements(client_for, small_ipa):
    import datetime as dt

    agreement_create(
        actor=small_ipa.users["admin"],
        practice=small_ipa.practice_b,
        data={"valid_from": dt.date(2026, 1, 1), "admin_fee_percent": "12.500"},
    )
    body = html(client_for("ops").get(f"/practices/{small_ipa.practice_b.pk}/"))
    assert "<h1>Birch Pediatrics" in body
    assert "23-4567891" in body  # the TIN, readable
    assert "Ben Birch, DO" in body
    assert "Cy Cardio, MD" in body
    assert "2026-01-01" in body
    assert "12.500" in body
    assert f'href="/members/?practice={small_ipa.practice_b.pk}"' in body
    assert f'href="/practices/{small_ipa.practice_b.pk}/edit/"' in body  # ops may edit the network


def test_a_provider_page_shows_directory_data_private_data_and_affiliations(client_for, small_ipa):
    body = html(client_for("ops").get(f"/providers/{small_ipa.pcp_a.pk}/"))
    assert "<h1>Ada Alder, MD</h1>" in body
    assert "1234567893" in body
    assert "207Q00000X" in body
    assert "Family Medicine" in body
    assert "1970-01-02" in body
    assert "626-555-0101" in body
    assert "Alder Family Medicine" in body


def test_a_member_page_shows_eligibility_spans_and_pcp_history(client_for, small_ipa):
    response = client_for("ops").get(f"/members/{small_ipa.member_a.pk}/")
    assert response.status_code == 200
    body = html(response)
    assert "<h1>Amy Anders" in body
    assert "SUN0001" in body
    assert "1EG4TE5MK73" in body
    assert "1950-03-04" in body
    assert "Sunrise Medicare HMO" in body  # eligibility: the product
    assert "Ada Alder, MD" in body
    assert "Alder Family Medicine" in body
    assert body.count("2026-01-01") == 2
    assert "Who read this member" not in body  # only for those who may read the audit log


def test_the_auditor_can_jump_from_a_member_to_who_read_it(client_for, small_ipa):
    body = html(client_for("auditor").get(f"/members/{small_ipa.member_a.pk}/"))
    assert f'href="/audit/?member={small_ipa.member_a.pk}"' in body


def test_a_payer_page_shows_products_and_contracts(client_for, small_ipa):
    body = html(client_for("fin").get(f"/payers/{small_ipa.payer.pk}/"))
    assert "<h1>Sunrise Health Plan</h1>" in body
    assert "Sunrise Medicare HMO" in body
    assert "Medicare Advantage HMO" in body
    assert "SUN-2026" in body


def test_a_contract_page_shows_its_term_versions(client_for, small_ipa):
    body = html(client_for("fin").get(f"/contracts/{small_ipa.contract.pk}/"))
    assert "Sunrise capitation 2026" in body
    assert "Capitated risk" in body
    assert f'href="/contracts/terms/{small_ipa.term.pk}/"' in body
    assert "12.000" in body
    assert "3.50" in body
    assert f'href="/contracts/{small_ipa.contract.pk}/terms/new/"' in body


def test_a_term_page_shows_rates_and_the_upload_form_to_finance(client_for, small_ipa):
    body = html(client_for("fin").get(f"/contracts/terms/{small_ipa.term.pk}/"))
    assert "PMPM rate table" in body
    assert "No rates yet." in body
    assert 'enctype="multipart/form-data"' in body


def test_a_term_page_has_no_upload_form_for_read_only_roles(client_for, small_ipa):
    body = html(client_for("auditor").get(f"/contracts/terms/{small_ipa.term.pk}/"))
    assert "PMPM rate table" in body
    assert "multipart/form-data" not in body


def test_a_missing_record_is_the_404_page(client_for, small_ipa):
    for url in ("/practices/999999/", "/providers/999999/", "/members/999999/", "/payers/999999/"):
        response = client_for("admin").get(url)
        assert response.status_code == 404, url
        assert "Page not found" in html(response)
