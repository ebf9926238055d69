"""Locations of a practice: added and changed with validation, one primary per practice, audited, and
refused to roles that may not edit the network."""

from __future__ import annotations

import pytest

from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.network import services
from openipa.network.models import Location

SITE = {
    "name": "Main office",
    "address_line1": "1 Main St",
    "city": "Pasadena",
    "state": "ca",
    "zip_code": "91101",
}


def test_a_location_is_added_with_the_state_upper_cased_and_audited(small_ipa):
    location = services.location_create(
        actor=small_ipa.users["ops"], practice=small_ipa.practice_a, data=SITE
    )
    assert (location.practice_id, location.state) == (small_ipa.practice_a.pk, "CA")
    event = AuditEvent.objects.get(action="location.create")
    assert (event.object_id, event.actor_username) == (str(location.pk), "ops")


def test_a_second_location_with_the_same_name_is_refused_on_the_name_field(small_ipa):
    services.location_create(actor=small_ipa.users["ops"], practice=small_ipa.practice_a, data=SITE)
    with pytest.raises(ValidationFailed) as err:
        services.location_create(
            actor=small_ipa.users["ops"], practice=small_ipa.practice_a, data={**SITE, "name": "MAIN OFFICE"}
        )
    assert "ALDER already has a location named" in err.value.fields["name"][0]
    assert Location.objects.count() == 1


def test_the_same_name_at_another_practice_is_fine(small_ipa):
    services.location_create(actor=small_ipa.users["ops"], practice=small_ipa.practice_a, data=SITE)
    services.location_create(actor=small_ipa.users["ops"], practice=small_ipa.practice_b, data=SITE)
    assert Location.objects.count() == 2


def test_a_bad_state_and_a_missing_city_are_each_named(small_ipa):
    with pytest.raises(ValidationFailed) as err:
        services.location_create(
            actor=small_ipa.users["ops"],
            practice=small_ipa.practice_a,
            data={**SITE, "state": "Cal", "city": ""},
        )
    assert err.value.fields["state"] == ["Use the two-letter state code."]
    assert not Location.objects.exists()


def test_marking_a_location_primary_makes_the_previous_primary_ordinary(small_ipa):
    ops = small_ipa.users["ops"]
    first = services.location_create(
        actor=ops, practice=small_ipa.practice_a, data={**SITE, "is_primary": True}
    )
    second = services.location_create(
        actor=ops, practice=small_ipa.practice_a, data={**SITE, "name": "Annex", "is_primary": True}
    )
    first.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)


def test_a_location_is_changed_and_the_change_audited(small_ipa):
    ops = small_ipa.users["ops"]
    location = services.location_create(actor=ops, practice=small_ipa.practice_a, data=SITE)
    services.location_update(
        actor=ops, location=location, data={"phone": "626-555-0100", "name": "Main office"}
    )
    location.refresh_from_db()
    assert location.phone == "626-555-0100"
    event = AuditEvent.objects.get(action="location.update")
    assert event.changes == {"phone": ["", "626-555-0100"]}


@pytest.mark.parametrize("persona", ["alice", "auditor", "fin"])
def test_roles_that_may_not_edit_the_network_add_no_location(small_ipa, persona):
    with pytest.raises(PermissionDenied):
        services.location_create(actor=small_ipa.users[persona], practice=small_ipa.practice_a, data=SITE)
    assert not Location.objects.exists()
