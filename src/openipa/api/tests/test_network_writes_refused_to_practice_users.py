"""Alice (a practice user) and the auditor change nothing through the new network and DOFR doors: every
write is refused (403 for her own practice's records, 404 for another practice's) and nothing is written."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from openipa.api.tests.conftest import error_of
from openipa.contracts.models import DofrEntry
from openipa.core.models import AuditEvent
from openipa.network.models import Affiliation, ContractParticipation, Location, ParticipationAgreement
from openipa.network.services import agreement_create, contract_join


def _state() -> tuple[object, ...]:
    return (
        Location.objects.count(),
        list(ParticipationAgreement.objects.values_list("pk", "status", "valid_to")),
        list(ContractParticipation.objects.values_list("pk", "valid_to")),
        list(Affiliation.objects.values_list("pk", "valid_to")),
        DofrEntry.objects.count(),
        AuditEvent.objects.filter(kind="write").count(),
    )


@pytest.mark.parametrize("persona", ["alice", "auditor"])
def test_every_new_write_is_refused_and_changes_nothing(api_as, small_ipa, persona):
    admin = small_ipa.users["admin"]
    agreement = agreement_create(
        actor=admin, practice=small_ipa.practice_a, data={"valid_from": dt.date(2026, 1, 1)}
    )
    joined = contract_join(
        actor=admin, agreement=agreement, contract=small_ipa.contract, valid_from=dt.date(2026, 1, 1)
    )
    affiliation = Affiliation.objects.get(provider=small_ipa.pcp_a)
    client = api_as(persona)
    practice = small_ipa.practice_a.pk
    before = _state()
    calls = [
        (
            "post",
            f"/api/v1/practices/{practice}/locations",
            {"name": "X", "address_line1": "1", "city": "C", "state": "CA", "zip_code": "1"},
        ),
        ("post", f"/api/v1/practices/{practice}/agreements", {"valid_from": "2027-01-01"}),
        ("patch", f"/api/v1/agreements/{agreement.pk}", {"status": "terminated"}),
        (
            "post",
            f"/api/v1/agreements/{agreement.pk}/contracts",
            {"contract_id": small_ipa.contract.pk, "valid_from": "2026-01-01"},
        ),
        ("patch", f"/api/v1/agreements/{agreement.pk}/contracts/{joined.pk}", {"valid_to": "2026-03-31"}),
        (
            "post",
            f"/api/v1/providers/{small_ipa.pcp_a.pk}/affiliations",
            {"practice_id": practice, "valid_from": "2027-01-01"},
        ),
        ("patch", f"/api/v1/affiliations/{affiliation.pk}", {"valid_to": "2026-03-31"}),
        (
            "put",
            f"/api/v1/contracts/terms/{small_ipa.term.pk}/dofr",
            {"entries": [{"service_category": "Lab", "responsible_party": "ipa"}]},
        ),
    ]
    for method, url, body in calls:
        response = getattr(client, method)(url, data=json.dumps(body), content_type="application/json")
        assert response.status_code == 403, (url, response.content)
        error_of(response)
    assert _state() == before


def test_alice_cannot_find_another_practices_agreement_or_affiliation(api_as, small_ipa):
    agreement = agreement_create(
        actor=small_ipa.users["admin"],
        practice=small_ipa.practice_b,
        data={"valid_from": dt.date(2026, 1, 1)},
    )
    affiliation = Affiliation.objects.get(provider=small_ipa.pcp_b)
    client = api_as("alice")
    for url, body in (
        (f"/api/v1/agreements/{agreement.pk}", {"status": "terminated"}),
        (f"/api/v1/affiliations/{affiliation.pk}", {"valid_to": "2026-03-31"}),
    ):
        response = client.patch_json(url, body)
        assert response.status_code == 404
        assert "Birch" not in response.content.decode()
    response = client.post_json(
        f"/api/v1/practices/{small_ipa.practice_b.pk}/locations",
        {"name": "X", "address_line1": "1", "city": "C", "state": "CA", "zip_code": "1"},
    )
    assert response.status_code == 404
    assert not Location.objects.exists()
