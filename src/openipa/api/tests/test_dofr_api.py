"""PUT /contracts/terms/{id}/dofr replaces a term version's DOFR table; each error names its entry."""

from __future__ import annotations

from openipa.api.tests.conftest import error_of
from openipa.contracts.models import DofrEntry
from openipa.contracts.services import dofr_set


def test_finance_replace_the_dofr_table(api_as, small_ipa):
    dofr_set(actor=small_ipa.users["fin"], term=small_ipa.term, entries={"Lab": "plan"})
    response = api_as("fin").put(
        f"/api/v1/contracts/terms/{small_ipa.term.pk}/dofr",
        data={
            "entries": [
                {"service_category": "Professional", "responsible_party": "ipa"},
                {"service_category": "Inpatient", "responsible_party": "hospital", "notes": "per diem"},
            ]
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "term_id": small_ipa.term.pk,
        "entries": [
            {"service_category": "Inpatient", "responsible_party": "hospital", "notes": "per diem"},
            {"service_category": "Professional", "responsible_party": "ipa", "notes": ""},
        ],
    }
    assert not DofrEntry.objects.filter(service_category="Lab").exists()


def test_a_repeated_category_is_named_by_its_entry_and_nothing_changes(api_as, small_ipa):
    dofr_set(actor=small_ipa.users["fin"], term=small_ipa.term, entries={"Lab": "plan"})
    response = api_as("fin").put(
        f"/api/v1/contracts/terms/{small_ipa.term.pk}/dofr",
        data={
            "entries": [
                {"service_category": "Lab", "responsible_party": "ipa"},
                {"service_category": "lab ", "responsible_party": "ipa"},
            ]
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "entries.1.service_category": ["'lab' is already listed (row 1); give each category one party."]
    }
    assert list(DofrEntry.objects.values_list("service_category", "responsible_party")) == [("Lab", "plan")]


def test_an_unknown_party_is_named_by_its_entry(api_as, small_ipa):
    response = api_as("fin").put(
        f"/api/v1/contracts/terms/{small_ipa.term.pk}/dofr",
        data={
            "entries": [
                {"service_category": "Lab", "responsible_party": "ipa"},
                {"service_category": "Transport", "responsible_party": "nobody"},
            ]
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["entries.1.responsible_party"]
    assert not DofrEntry.objects.exists()


def test_operations_may_read_but_not_replace_the_dofr_table(api_as, small_ipa):
    response = api_as("ops").put(
        f"/api/v1/contracts/terms/{small_ipa.term.pk}/dofr",
        data={"entries": [{"service_category": "Lab", "responsible_party": "ipa"}]},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not DofrEntry.objects.exists()
