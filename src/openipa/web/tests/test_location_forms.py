"""Adding and changing a practice's locations through the pages: the practice page lists them and links to
the forms for users who may edit the network; errors appear next to the field."""

from __future__ import annotations

from openipa.core.models import AuditEvent
from openipa.network.models import Location
from openipa.web.tests.pages import field_errors, html

SITE = {"name": "Annex", "address_line1": "5 Side St", "city": "Arcadia", "state": "ca", "zip_code": "91006"}


def test_a_location_is_added_and_listed_on_the_practice_page(client_for, small_ipa):
    client = client_for("ops")
    practice = small_ipa.practice_a
    response = client.post(f"/practices/{practice.pk}/locations/new/", SITE)
    assert response.status_code == 302
    assert response["Location"] == f"/practices/{practice.pk}/"
    location = Location.objects.get(practice=practice)
    assert location.state == "CA"
    body = html(client.get(response["Location"]))
    assert "Saved location Annex." in body
    assert "5 Side St, Arcadia, CA 91006" in body
    assert f'href="/practices/locations/{location.pk}/edit/"' in body


def test_a_bad_state_is_shown_next_to_the_state_field(client_for, small_ipa):
    response = client_for("ops").post(
        f"/practices/{small_ipa.practice_a.pk}/locations/new/", {**SITE, "state": "C1"}
    )
    assert response.status_code == 200
    assert field_errors(response, "state") == ["Use the two-letter state code."]
    assert not Location.objects.exists()


def test_a_duplicate_name_is_shown_next_to_the_name_field(client_for, small_ipa):
    client = client_for("ops")
    url = f"/practices/{small_ipa.practice_a.pk}/locations/new/"
    client.post(url, SITE)
    response = client.post(url, {**SITE, "name": "annex"})
    assert field_errors(response, "name") == ["ALDER already has a location named &#x27;annex&#x27;."]
    assert Location.objects.count() == 1


def test_a_location_is_edited_through_its_form(client_for, small_ipa):
    client = client_for("ops")
    client.post(f"/practices/{small_ipa.practice_a.pk}/locations/new/", SITE)
    location = Location.objects.get()
    form = html(client.get(f"/practices/locations/{location.pk}/edit/"))
    assert 'value="5 Side St"' in form
    response = client.post(f"/practices/locations/{location.pk}/edit/", {**SITE, "phone": "626-555-0177"})
    assert response.status_code == 302
    location.refresh_from_db()
    assert location.phone == "626-555-0177"
    assert AuditEvent.objects.filter(action="location.update", object_id=str(location.pk)).exists()
