"""A practice user (and other roles without the right) sees none of the network and DOFR forms, and a POST
to any of them is refused (403) with nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest

from openipa.contracts.models import DofrEntry
from openipa.core.models import AuditEvent
from openipa.network.models import Affiliation, ContractParticipation, Location, ParticipationAgreement
from openipa.network.services import agreement_create, contract_join, location_create
from openipa.web.tests.pages import html

SITE = {"name": "Annex", "address_line1": "5 Side St", "city": "Arcadia", "state": "CA", "zip_code": "91006"}


@pytest.fixture
def network(small_ipa):
    admin = small_ipa.users["admin"]
    agreement = agreement_create(
        actor=admin, practice=small_ipa.practice_a, data={"valid_from": dt.date(2026, 1, 1)}
    )
    participation = contract_join(
        actor=admin, agreement=agreement, contract=small_ipa.contract, valid_from=dt.date(2026, 1, 1)
    )
    location = location_create(actor=admin, practice=small_ipa.practice_a, data=SITE)
    return {"agreement": agreement, "participation": participation, "location": location}


def _state() -> tuple[object, ...]:
    return (
        list(Location.objects.values_list("pk", "name", "phone")),
        list(ParticipationAgreement.objects.values_list("pk", "status", "valid_to", "admin_fee_percent")),
        list(ContractParticipation.objects.values_list("pk", "valid_to")),
        list(Affiliation.objects.values_list("pk", "valid_to")),
        list(DofrEntry.objects.values_list("pk")),
        AuditEvent.objects.filter(kind="write").count(),
    )


def test_alice_sees_no_forms_on_her_practice_and_provider_pages(client_for, small_ipa, network):
    client = client_for("alice")
    practice_page = html(client.get(f"/practices/{small_ipa.practice_a.pk}/"))
    assert "Annex" in practice_page  # she reads her practice's locations
    for link in ("/locations/new/", "/agreements/new/", "/join/", "/leave/", "/edit/"):
        assert link not in practice_page
    provider_page = html(client.get(f"/providers/{small_ipa.pcp_a.pk}/"))
    assert "/affiliations/new/" not in provider_page
    assert "/end/" not in provider_page


def test_alice_does_not_see_fees_or_joined_contracts(client_for, small_ipa, network):
    page = html(client_for("alice").get(f"/practices/{small_ipa.practice_a.pk}/"))
    assert "Admin fee" not in page
    assert "SUN-2026" not in page


@pytest.mark.parametrize("persona", ["alice", "auditor"])
def test_posts_to_every_network_form_are_refused_and_change_nothing(client_for, small_ipa, network, persona):
    client = client_for(persona)
    practice = small_ipa.practice_a
    affiliation = Affiliation.objects.get(provider=small_ipa.pcp_a)
    before = _state()
    posts = [
        (f"/practices/{practice.pk}/locations/new/", {**SITE, "name": "Other"}),
        (f"/practices/locations/{network['location'].pk}/edit/", {**SITE, "phone": "1"}),
        (f"/practices/{practice.pk}/agreements/new/", {"valid_from": "2027-01-01", "status": "active"}),
        (f"/practices/agreements/{network['agreement'].pk}/edit/", {"status": "terminated"}),
        (
            f"/practices/agreements/{network['agreement'].pk}/join/",
            {"contract": small_ipa.contract.pk, "valid_from": "2026-01-01"},
        ),
        (f"/practices/participations/{network['participation'].pk}/leave/", {"valid_to": "2026-03-31"}),
        (
            f"/providers/{small_ipa.pcp_a.pk}/affiliations/new/",
            {"practice": practice.pk, "valid_from": "2027-01-01"},
        ),
        (f"/providers/affiliations/{affiliation.pk}/end/", {"valid_to": "2026-03-31"}),
        (
            f"/contracts/terms/{small_ipa.term.pk}/dofr/",
            {
                "dofr-TOTAL_FORMS": "1",
                "dofr-INITIAL_FORMS": "0",
                "dofr-0-service_category": "Lab",
                "dofr-0-responsible_party": "ipa",
            },
        ),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert client.get(url).status_code in (403, 405), url
    assert _state() == before


def test_alice_cannot_reach_another_practices_forms_either(client_for, small_ipa):
    response = client_for("alice").post(f"/practices/{small_ipa.practice_b.pk}/locations/new/", SITE)
    assert response.status_code == 403
    assert not Location.objects.exists()


def test_operations_may_not_edit_the_dofr_table(client_for, small_ipa):
    response = client_for("ops").post(
        f"/contracts/terms/{small_ipa.term.pk}/dofr/",
        {
            "dofr-TOTAL_FORMS": "1",
            "dofr-INITIAL_FORMS": "0",
            "dofr-0-service_category": "Lab",
            "dofr-0-responsible_party": "ipa",
        },
    )
    assert response.status_code == 403
    assert not DofrEntry.objects.exists()
