"""The DOFR table is edited on the contract term page: one line per service category with a party select,
empty lines to add categories, a box to remove one. A refused table changes nothing and each error is
shown next to its field on its line."""

from __future__ import annotations

from typing import Any

from openipa.contracts.models import DofrEntry
from openipa.contracts.services import dofr_set
from openipa.web.tests.pages import field_errors, html


def _post(small_ipa: Any, lines: list[tuple[str, str, str, bool]]) -> dict[str, object]:
    data: dict[str, object] = {"dofr-TOTAL_FORMS": str(len(lines)), "dofr-INITIAL_FORMS": "0"}
    for i, (category, party, notes, remove) in enumerate(lines):
        data[f"dofr-{i}-service_category"] = category
        data[f"dofr-{i}-responsible_party"] = party
        data[f"dofr-{i}-notes"] = notes
        if remove:
            data[f"dofr-{i}-remove"] = "on"
    return data


def _table(small_ipa: Any) -> list[tuple[str, str]]:
    return list(
        DofrEntry.objects.filter(term=small_ipa.term).values_list("service_category", "responsible_party")
    )


def test_the_page_offers_a_line_per_category_and_empty_lines_to_finance(client_for, small_ipa):
    dofr_set(actor=small_ipa.users["fin"], term=small_ipa.term, entries={"Inpatient": "plan"})
    body = html(client_for("fin").get(f"/contracts/terms/{small_ipa.term.pk}/"))
    assert f'action="/contracts/terms/{small_ipa.term.pk}/dofr/"' in body
    assert 'name="dofr-0-service_category" value="Inpatient"' in body
    assert 'name="dofr-TOTAL_FORMS" value="4"' in body  # one filled line and three empty ones


def test_lines_are_saved_added_and_removed_in_one_go(client_for, small_ipa):
    dofr_set(actor=small_ipa.users["fin"], term=small_ipa.term, entries={"Inpatient": "plan", "Lab": "ipa"})
    client = client_for("fin")
    response = client.post(
        f"/contracts/terms/{small_ipa.term.pk}/dofr/",
        _post(
            small_ipa,
            [
                ("Inpatient", "hospital", "per diem", False),
                ("Lab", "ipa", "", True),
                ("Professional", "ipa", "", False),
                ("", "", "", False),
            ],
        ),
    )
    assert response.status_code == 302
    assert _table(small_ipa) == [("Inpatient", "hospital"), ("Professional", "ipa")]
    assert "Saved the DOFR table: 2 service categories." in html(client.get(response["Location"]))


def test_errors_are_shown_next_to_their_line_and_nothing_changes(client_for, small_ipa):
    dofr_set(actor=small_ipa.users["fin"], term=small_ipa.term, entries={"Inpatient": "plan"})
    response = client_for("fin").post(
        f"/contracts/terms/{small_ipa.term.pk}/dofr/",
        _post(
            small_ipa,
            [
                ("Inpatient", "hospital", "", False),
                ("Transport", "", "", False),
                ("inpatient", "ipa", "", False),
            ],
        ),
    )
    assert response.status_code == 400
    assert field_errors(response, "dofr-1-responsible_party") == ["Choose who pays for this category."]
    assert field_errors(response, "dofr-0-service_category") == []
    assert _table(small_ipa) == [("Inpatient", "plan")]


def test_a_duplicate_category_found_by_the_service_is_shown_on_its_line(client_for, small_ipa):
    response = client_for("fin").post(
        f"/contracts/terms/{small_ipa.term.pk}/dofr/",
        _post(
            small_ipa,
            [("Inpatient", "plan", "", False), ("", "", "", False), ("INPATIENT", "ipa", "", False)],
        ),
    )
    assert response.status_code == 400
    assert field_errors(response, "dofr-2-service_category") == [
        "&#x27;INPATIENT&#x27; is already listed (row 1); give each category one party."
    ]
    assert "The DOFR table was not saved; nothing changed." in html(response)
    assert _table(small_ipa) == []


def test_operations_read_the_dofr_table_without_a_form(client_for, small_ipa):
    dofr_set(actor=small_ipa.users["fin"], term=small_ipa.term, entries={"Inpatient": "plan"})
    body = html(client_for("ops").get(f"/contracts/terms/{small_ipa.term.pk}/"))
    assert "Health plan" in body
    assert "dofr-TOTAL_FORMS" not in body
