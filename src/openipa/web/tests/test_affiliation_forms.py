"""Affiliations through the provider page: add one (practice, optional location, dates) and end one.
A refusal (overlap, a location of another practice, members still assigned) is shown next to the field."""

from __future__ import annotations

import datetime as dt

from openipa.network.models import Affiliation
from openipa.network.services import location_create
from openipa.web.tests.pages import field_errors, html

SITE = {"name": "Annex", "address_line1": "5 Side St", "city": "Arcadia", "state": "CA", "zip_code": "91006"}


def test_a_provider_is_affiliated_with_a_practice_at_a_location(client_for, small_ipa):
    location = location_create(actor=small_ipa.users["admin"], practice=small_ipa.practice_a, data=SITE)
    client = client_for("ops")
    provider = small_ipa.specialist
    page = html(client.get(f"/providers/{provider.pk}/"))
    assert f'href="/providers/{provider.pk}/affiliations/new/"' in page
    form = html(client.get(f"/providers/{provider.pk}/affiliations/new/"))
    assert "ALDER · Annex (Arcadia)" in form
    response = client.post(
        f"/providers/{provider.pk}/affiliations/new/",
        {"practice": small_ipa.practice_a.pk, "location": location.pk, "valid_from": "2026-03-01"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/providers/{provider.pk}/"
    affiliation = Affiliation.objects.get(provider=provider, practice=small_ipa.practice_a)
    assert (affiliation.location_id, affiliation.valid_from) == (location.pk, dt.date(2026, 3, 1))


def test_a_location_of_another_practice_is_shown_next_to_the_location_field(client_for, small_ipa):
    location = location_create(actor=small_ipa.users["admin"], practice=small_ipa.practice_b, data=SITE)
    response = client_for("ops").post(
        f"/providers/{small_ipa.specialist.pk}/affiliations/new/",
        {"practice": small_ipa.practice_a.pk, "location": location.pk, "valid_from": "2026-03-01"},
    )
    assert field_errors(response, "location") == ["The location belongs to another practice."]
    assert not Affiliation.objects.filter(
        practice=small_ipa.practice_a, provider=small_ipa.specialist
    ).exists()


def test_an_overlapping_affiliation_is_shown_next_to_the_start_date(client_for, small_ipa):
    response = client_for("ops").post(
        f"/providers/{small_ipa.specialist.pk}/affiliations/new/",
        {"practice": small_ipa.practice_b.pk, "valid_from": "2026-05-01"},
    )
    assert "overlaps" in field_errors(response, "valid_from")[0]
    assert Affiliation.objects.filter(provider=small_ipa.specialist).count() == 1


def test_an_affiliation_is_ended_from_the_provider_page(client_for, small_ipa):
    client = client_for("ops")
    affiliation = Affiliation.objects.get(provider=small_ipa.specialist)
    assert f'href="/providers/affiliations/{affiliation.pk}/end/"' in html(
        client.get(f"/providers/{small_ipa.specialist.pk}/")
    )
    response = client.post(f"/providers/affiliations/{affiliation.pk}/end/", {"valid_to": "2026-06-30"})
    assert response.status_code == 302
    affiliation.refresh_from_db()
    assert affiliation.valid_to == dt.date(2026, 6, 30)
    assert "ends on 2026-06-30" in html(client.get(response["Location"]))


def test_members_still_assigned_are_counted_next_to_the_end_date(client_for, small_ipa):
    affiliation = Affiliation.objects.get(provider=small_ipa.pcp_a)
    response = client_for("ops").post(
        f"/providers/affiliations/{affiliation.pk}/end/", {"valid_to": "2026-06-30"}
    )
    assert response.status_code == 200
    errors = field_errors(response, "valid_to")
    assert errors[0].startswith(
        "1 member(s) have Ada Alder, MD as PCP at Alder Family Medicine after 2026-06-30"
    )
    affiliation.refresh_from_db()
    assert affiliation.valid_to is None
