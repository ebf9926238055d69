"""GET /api/v1/eligibility: active or not on a date, product, coverage span and PCP; scoped and audited."""

from __future__ import annotations

from django.test import Client

from openipa.api.tests.conftest import error_of
from openipa.core.models import AuditEvent
from openipa.membership.models import EligibilitySpan

URL = "/api/v1/eligibility"


def test_active_member(api_as, small_ipa):
    response = api_as("ops").get(URL, {"member_id": "SUN0001", "date": "2026-03-15"})
    assert response.status_code == 200
    assert response.json() == {
        "member_id": "SUN0001",
        "payer": "SUN",
        "date": "2026-03-15",
        "active": True,
        "member": {"name": "Amy Anders", "date_of_birth": "1950-03-04"},
        "product": {"code": "MAHMO", "name": "Sunrise Medicare HMO"},
        "coverage": {"from": "2026-01-01", "to": None},
        "pcp": {"npi": "1234567893", "name": "Ada Alder, MD", "practice": "Alder Family Medicine"},
    }
    (event,) = AuditEvent.objects.filter(kind="read")
    assert (event.actor_username, event.purpose, event.member_ids) == (
        "ops",
        "eligibility inquiry",
        [small_ipa.member_a.pk],
    )


def test_inactive_before_and_after_the_span(api_as, small_ipa):
    client = api_as("ops")
    before = client.get(URL, {"member_id": "SUN0002", "date": "2025-12-31"}).json()
    assert (before["active"], before["product"], before["coverage"], before["pcp"]) == (
        False,
        None,
        None,
        None,
    )
    EligibilitySpan.objects.filter(member=small_ipa.member_b).update(valid_to="2026-02-28")
    last = client.get(URL, {"member_id": "SUN0002", "date": "2026-02-28"}).json()
    assert (last["active"], last["coverage"]) == (True, {"from": "2026-01-01", "to": "2026-02-28"})
    after = client.get(URL, {"member_id": "SUN0002", "date": "2026-03-01"}).json()
    assert (after["active"], after["product"], after["coverage"]) == (False, None, None)
    assert after["pcp"]["npi"] == "1245319599"  # the PCP assignment still runs; coverage does not


def test_unknown_member_and_other_practices_member_get_the_same_404(api_as):
    alice = api_as("alice")
    unknown = alice.get(URL, {"member_id": "SUN9999", "date": "2026-03-15"})
    refused = alice.get(URL, {"member_id": "SUN0002", "date": "2026-03-15"})
    assert unknown.status_code == refused.status_code == 404
    assert error_of(unknown)["message"] == "Not found: member SUN9999"
    assert error_of(refused)["message"] == "Not found: member SUN0002"
    assert not AuditEvent.objects.filter(kind="read").exists()
    own = alice.get(URL, {"member_id": "SUN0001", "date": "2026-03-15"})
    assert own.status_code == 200


def test_bad_and_missing_input_is_422(api_as):
    client = api_as("ops")
    for params, field in (
        ({"member_id": "SUN0001", "date": "2026-13-01"}, "date"),
        ({"member_id": "SUN0001", "date": "yesterday"}, "date"),
        ({"member_id": "SUN0001"}, "date"),
        ({"date": "2026-03-15"}, "member_id"),
        ({"member_id": "", "date": "2026-03-15"}, "member_id"),
        ({"member_id": "X" * 41, "date": "2026-03-15"}, "member_id"),
        ({"member_id": "SUN0001", "date": "2026-03-15", "payer": "P" * 17}, "payer"),
    ):
        response = client.get(URL, params)
        assert response.status_code == 422, params
        assert field in error_of(response)["fields"], params


def test_an_id_two_payers_use_needs_the_payer(api_as, small_ipa):
    from openipa.contracts.services import payer_create
    from openipa.membership.services import member_create

    moon = payer_create(actor=small_ipa.users["admin"], data={"name": "Moonrise", "code": "MOON"})
    member_create(
        actor=None,
        data={"payer": moon, "payer_member_id": "SUN0001", "first_name": "Mo", "last_name": "Moon",
              "date_of_birth": "1990-01-02", "sex": "M"},
    )  # fmt: skip
    client = api_as("ops")
    ambiguous = client.get(URL, {"member_id": "SUN0001", "date": "2026-03-15"})
    assert ambiguous.status_code == 422
    assert "(MOON, SUN)" in error_of(ambiguous)["fields"]["payer"][0]
    chosen = client.get(URL, {"member_id": "SUN0001", "date": "2026-03-15", "payer": "MOON"}).json()
    assert (chosen["payer"], chosen["active"], chosen["member"]["name"]) == ("MOON", False, "Mo Moon")
    assert client.get(URL, {"member_id": "SUN0001", "date": "2026-03-15", "payer": "NOPE"}).status_code == 404


def test_bearer_token_is_required_and_roles_are_checked(api_as, small_ipa):
    anonymous = Client().get(URL, {"member_id": "SUN0001", "date": "2026-03-15"})
    assert anonymous.status_code == 401
    assert error_of(anonymous)["code"] == "unauthorized"
    bad = Client(headers={"Authorization": "Bearer oipa_nope"}).get(
        URL, {"member_id": "SUN0001", "date": "2026-03-15"}
    )
    assert bad.status_code == 401
    messenger = api_as("messenger").get(URL, {"member_id": "SUN0001", "date": "2026-03-15"})
    assert messenger.status_code == 403
    assert not AuditEvent.objects.filter(kind="read").exists()


def test_openapi_document_publishes_the_shape(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/eligibility"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"member_id", "date", "payer"}
    coverage = schema["components"]["schemas"]["EligibilityCoverage"]
    assert set(coverage["properties"]) == {"from", "to"}
