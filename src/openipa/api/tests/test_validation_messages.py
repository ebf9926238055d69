"""Bad identifiers get a clear per-field message on create and on update, and nothing is written."""

from __future__ import annotations

import pytest

from openipa.api.tests.conftest import error_of
from openipa.core.models import AuditEvent
from openipa.network.models import Practice, Provider

PROVIDER = {
    "npi": "1987654328",
    "last_name": "Oak",
    "taxonomy_code": "207R00000X",
    "specialty": "Internal Medicine",
    "kind": "pcp",
}
PRACTICE = {
    "code": "CEDAR",
    "legal_name": "Cedar Internal Medicine",
    "tin": "951234567",
    "address_line1": "200 Lake Ave",
    "city": "Pasadena",
    "state": "CA",
    "zip_code": "91101",
    "region": "SGV",
}


@pytest.fixture
def ops(api_as):
    return api_as("ops")


@pytest.fixture
def unchanged(ops, small_ipa):
    """Snapshot (taken after the client's token was issued) of everything a refused write could have
    touched; call it to compare."""

    def snapshot() -> tuple[object, ...]:
        return (
            sorted(Provider.objects.values_list("pk", "npi", "last_name")),
            sorted(Practice.objects.values_list("pk", "tin", "code")),
            AuditEvent.objects.filter(kind="write").count(),
        )

    before = snapshot()
    return lambda: snapshot() == before


def _field_message(response, field: str) -> str:
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field]
    return " ".join(error["fields"][field])


def test_a_bad_npi_check_digit_is_refused_on_create(ops, unchanged):
    response = ops.post_json("/api/v1/providers", {**PROVIDER, "npi": "1987654320"})
    assert "check digit" in _field_message(response, "npi")
    assert unchanged()


def test_a_bad_npi_check_digit_is_refused_on_update(ops, small_ipa, unchanged):
    response = ops.patch_json(f"/api/v1/providers/{small_ipa.pcp_a.pk}", {"npi": "1234567890"})
    assert "check digit" in _field_message(response, "npi")
    assert unchanged()


def test_a_duplicate_npi_is_refused_on_create(ops, small_ipa, unchanged):
    response = ops.post_json("/api/v1/providers", {**PROVIDER, "npi": small_ipa.pcp_b.npi})
    message = _field_message(response, "npi")
    assert "already registered" in message
    assert small_ipa.pcp_b.npi in message
    assert unchanged()


def test_a_duplicate_npi_is_refused_on_update(ops, small_ipa, unchanged):
    response = ops.patch_json(f"/api/v1/providers/{small_ipa.pcp_a.pk}", {"npi": small_ipa.pcp_b.npi})
    assert "already registered" in _field_message(response, "npi")
    assert unchanged()


@pytest.mark.parametrize("tin", ["12345", "12-34567890", "ABCDEFGHI", "00-1234567"])
def test_a_malformed_tin_is_refused_on_create(ops, unchanged, tin):
    response = ops.post_json("/api/v1/practices", {**PRACTICE, "tin": tin})
    assert "TIN" in _field_message(response, "tin")
    assert unchanged()


def test_a_malformed_tin_is_refused_on_update(ops, small_ipa, unchanged):
    response = ops.patch_json(f"/api/v1/practices/{small_ipa.practice_a.pk}", {"tin": "12-345"})
    assert "TIN" in _field_message(response, "tin")
    assert unchanged()


def test_a_duplicate_tin_is_refused(ops, small_ipa, unchanged):
    response = ops.post_json("/api/v1/practices", {**PRACTICE, "tin": small_ipa.practice_b.tin})
    assert "already belongs" in _field_message(response, "tin")
    assert unchanged()


def test_the_message_names_the_field_for_people_too(ops, unchanged):
    response = ops.post_json("/api/v1/providers", {**PROVIDER, "npi": "1987654320"})
    assert error_of(response)["message"].startswith("The input is not valid: npi:")
