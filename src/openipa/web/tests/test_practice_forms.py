"""Creating and editing practices through the page: errors appear next to the field that caused them, and
a refused form writes nothing. The practice form has no bank fields, for anyone: finance changes bank details
on their own page (test_practice_bank_details)."""

from __future__ import annotations

from typing import Any

from openipa.core.models import AuditEvent
from openipa.network.models import Practice
from openipa.web.tests.pages import field_errors, html


def _data(small_ipa: Any, **overrides: object) -> dict[str, object]:
    data = {
        "code": "cedar",
        "legal_name": "Cedar Internal Medicine",
        "tin": "45-6789012",
        "address_line1": "9 Oak Ave",
        "city": "Arcadia",
        "state": "ca",
        "zip_code": "91006",
        "region": small_ipa.region.pk,
        "status": "active",
    }
    data.update(overrides)
    return data


def test_a_practice_is_created_and_the_page_goes_to_it(client_for, small_ipa):
    response = client_for("ops").post("/practices/new/", _data(small_ipa))
    practice = Practice.objects.get(code="CEDAR")
    assert response.status_code == 302
    assert response["Location"] == f"/practices/{practice.pk}/"
    assert (practice.tin, practice.state) == ("456789012", "CA")
    assert AuditEvent.objects.filter(action="practice.create", object_id=str(practice.pk)).exists()


def test_a_malformed_tin_is_shown_next_to_the_tin_field(client_for, small_ipa):
    response = client_for("ops").post("/practices/new/", _data(small_ipa, tin="12-34"))
    assert response.status_code == 200
    errors = field_errors(response, "tin")
    assert len(errors) == 1
    assert "TIN" in errors[0]
    assert field_errors(response, "legal_name") == []
    assert 'aria-invalid="true"' in html(response)
    assert not Practice.objects.filter(code="CEDAR").exists()


def test_a_tin_with_a_prefix_the_irs_never_assigns_is_refused(client_for, small_ipa):
    response = client_for("ops").post("/practices/new/", _data(small_ipa, tin="07-1234567"))
    assert field_errors(response, "tin")
    assert not Practice.objects.filter(code="CEDAR").exists()


def test_a_duplicate_tin_names_the_practice_that_has_it(client_for, small_ipa):
    response = client_for("ops").post("/practices/new/", _data(small_ipa, tin="123456789"))
    assert field_errors(response, "tin") == ["TIN 123456789 already belongs to practice ALDER."]
    assert Practice.objects.count() == 2


def test_missing_required_fields_are_marked_and_the_input_is_kept(client_for, small_ipa):
    response = client_for("ops").post("/practices/new/", _data(small_ipa, city="", legal_name="Kept Name"))
    assert field_errors(response, "city") == ["This field is required."]
    assert 'value="Kept Name"' in html(response)


def test_operations_edit_a_practice_without_seeing_bank_fields(client_for, small_ipa):
    client = client_for("ops")
    form = html(client.get(f"/practices/{small_ipa.practice_a.pk}/edit/"))
    assert 'value="Alder Family Medicine"' in form
    assert "bank_account_number" not in form
    assert "000123456789" not in form
    data = _data(small_ipa, code="ALDER", legal_name="Alder Family Medicine Group", tin="123456789")
    response = client.post(f"/practices/{small_ipa.practice_a.pk}/edit/", data)
    assert response.status_code == 302
    practice = Practice.objects.get(pk=small_ipa.practice_a.pk)
    assert practice.legal_name == "Alder Family Medicine Group"
    assert practice.bank_account_number == "000123456789"  # untouched


def test_the_administrators_practice_form_has_no_bank_fields_and_ignores_posted_ones(client_for, small_ipa):
    client = client_for("admin")
    for url in ("/practices/new/", f"/practices/{small_ipa.practice_a.pk}/edit/"):
        form = html(client.get(url))
        for value in (
            "bank_name",
            "bank_routing_number",
            "bank_account_number",
            "000123456789",
            "First Bank",
        ):
            assert value not in form, (url, value)
    data = _data(
        small_ipa,
        code="ALDER",
        tin="123456789",
        bank_name="Mallory Bank",
        bank_routing_number="011000015",
        bank_account_number="66667777",
    )
    response = client.post(f"/practices/{small_ipa.practice_a.pk}/edit/", data)
    assert response.status_code == 302
    practice = Practice.objects.get(pk=small_ipa.practice_a.pk)
    assert (practice.bank_name, practice.bank_routing_number, practice.bank_account_number) == (
        "First Bank",
        "121000358",
        "000123456789",
    )
    assert not AuditEvent.objects.filter(
        action="practice.bank_update", actor_username="system-setup"
    ).exists()
