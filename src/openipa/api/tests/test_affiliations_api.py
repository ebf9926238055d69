"""Affiliations through the API: created under a provider (practice, optional location, dates) and ended
with PATCH; refusals are field errors in the one error format."""

from __future__ import annotations

import datetime as dt

from openipa.api.tests.conftest import error_of
from openipa.network.models import Affiliation
from openipa.network.services import location_create

SITE = {"name": "Annex", "address_line1": "5 Side St", "city": "Arcadia", "state": "CA", "zip_code": "91006"}


def test_operations_affiliate_a_provider_at_a_location(api_as, small_ipa):
    location = location_create(actor=small_ipa.users["admin"], practice=small_ipa.practice_a, data=SITE)
    response = api_as("ops").post_json(
        f"/api/v1/providers/{small_ipa.specialist.pk}/affiliations",
        {"practice_id": small_ipa.practice_a.pk, "location_id": location.pk, "valid_from": "2026-03-01"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["provider_id"], body["practice_code"], body["location"], body["valid_to"]) == (
        small_ipa.specialist.pk,
        "ALDER",
        "Annex",
        None,
    )


def test_a_location_of_another_practice_is_a_field_error(api_as, small_ipa):
    location = location_create(actor=small_ipa.users["admin"], practice=small_ipa.practice_b, data=SITE)
    response = api_as("ops").post_json(
        f"/api/v1/providers/{small_ipa.specialist.pk}/affiliations",
        {"practice_id": small_ipa.practice_a.pk, "location_id": location.pk, "valid_from": "2026-03-01"},
    )
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["location_id"]


def test_an_unknown_practice_and_an_overlap_are_field_errors(api_as, small_ipa):
    client = api_as("ops")
    url = f"/api/v1/providers/{small_ipa.specialist.pk}/affiliations"
    unknown = client.post_json(url, {"practice_id": 999999, "valid_from": "2026-03-01"})
    assert list(error_of(unknown)["fields"]) == ["practice_id"]
    overlap = client.post_json(url, {"practice_id": small_ipa.practice_b.pk, "valid_from": "2026-03-01"})
    assert "overlaps" in error_of(overlap)["fields"]["valid_from"][0]
    assert Affiliation.objects.filter(provider=small_ipa.specialist).count() == 1


def test_an_affiliation_is_ended(api_as, small_ipa):
    affiliation = Affiliation.objects.get(provider=small_ipa.specialist)
    response = api_as("ops").patch_json(f"/api/v1/affiliations/{affiliation.pk}", {"valid_to": "2026-06-30"})
    assert response.status_code == 200, response.content
    assert response.json()["valid_to"] == "2026-06-30"
    affiliation.refresh_from_db()
    assert affiliation.valid_to == dt.date(2026, 6, 30)


def test_ending_it_while_members_are_assigned_says_how_many(api_as, small_ipa):
    affiliation = Affiliation.objects.get(provider=small_ipa.pcp_a)
    response = api_as("ops").patch_json(f"/api/v1/affiliations/{affiliation.pk}", {"valid_to": "2026-06-30"})
    assert response.status_code == 422
    assert error_of(response)["fields"]["valid_to"][0].startswith("1 member(s) have Ada Alder, MD as PCP")
    affiliation.refresh_from_db()
    assert affiliation.valid_to is None


def test_the_end_date_is_required(api_as, small_ipa):
    affiliation = Affiliation.objects.get(provider=small_ipa.specialist)
    response = api_as("ops").patch_json(f"/api/v1/affiliations/{affiliation.pk}", {})
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["valid_to"]
