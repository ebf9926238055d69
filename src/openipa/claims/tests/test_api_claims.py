"""The claims API: POST /api/v1/claims/imports (the CLI's --json), GET /api/v1/claims/{id} (scoped to the
billing practice for practice users, 404 outside it, every read audited)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from openipa.api.tests.conftest import ApiClient, error_of
from openipa.claims.models import Claim, ClaimImport, ClaimLine
from openipa.claims.services.adjudication import adjudicate_waiting
from openipa.claims.services.intake import import_claims, result_json
from openipa.claims.tests.conftest import claim_file
from openipa.core.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/claims"


@pytest.fixture
def api_as(claims_ipa: Any) -> Any:
    """`api_as("bob")`: a client sending a fresh bearer token of that persona."""
    from openipa.accounts.services import token_create

    def make(name: str) -> ApiClient:
        issued = token_create(actor=None, user=claims_ipa.users[name], name="test")
        return ApiClient(headers={"Authorization": f"Bearer {issued.token}"})

    return make


def post_file(client: ApiClient, data: bytes, name: str = "claims.837", **form: str) -> Any:
    return client.post(f"{URL}/imports", {"file": SimpleUploadedFile(name, data), **form})


def _adjudicated(tmp_path: Path) -> Claim:
    import_claims(actor=None, path=claim_file(tmp_path), received_on=dt.date(2026, 11, 2))
    adjudicate_waiting(actor=None)
    return Claim.objects.get()


def test_an_upload_answers_what_the_cli_prints(claims_ipa: Any, api_as: Any, tmp_path: Path) -> None:
    response = post_file(api_as("ops"), claim_file(tmp_path).read_bytes(), received_on="2026-11-02")
    assert response.status_code == 201, response.content
    record = ClaimImport.objects.get()
    assert response.json() == result_json(record)
    assert (record.status, record.claims, record.received_on, record.imported_by) == (
        "applied", 1, dt.date(2026, 11, 2), "ops"
    )  # fmt: skip
    again = post_file(api_as("ops"), claim_file(tmp_path).read_bytes())
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert Claim.objects.count() == 1


def test_a_hostile_upload_is_rejected_with_positions_and_nothing_applied(
    claims_ipa: Any, api_as: Any, tmp_path: Path
) -> None:
    text = claim_file(tmp_path).read_text().replace("*UN*1.00***1", "*UN*-1.00***1", 1)
    response = post_file(api_as("fin"), text.encode(), name="hostile.837")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "rejected"
    assert body["errors"]
    assert body["errors"][0]["segment_id"] == "SV1"
    assert body["errors"][0]["segment"] > 0
    assert Claim.objects.count() == 0
    assert ClaimLine.objects.count() == 0


@pytest.mark.parametrize("who", ["alice", "auditor", "messenger"])
def test_roles_that_do_not_import_are_refused(claims_ipa: Any, api_as: Any, tmp_path: Path, who: str) -> None:
    response = post_file(api_as(who), claim_file(tmp_path).read_bytes())
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert ClaimImport.objects.count() == 0


def test_an_upload_without_a_file_or_with_a_bad_date_is_a_422(
    claims_ipa: Any, api_as: Any, tmp_path: Path
) -> None:
    client = api_as("ops")
    assert client.post(f"{URL}/imports", {}).status_code == 422
    bad = post_file(client, claim_file(tmp_path).read_bytes(), received_on="2026-13-40")
    assert bad.status_code == 422
    assert "received_on" in error_of(bad)["fields"]
    future = post_file(client, claim_file(tmp_path).read_bytes(), received_on="2999-01-01")
    assert future.status_code == 422
    assert ClaimImport.objects.count() == 0


def test_a_claim_with_its_lines_and_decisions(claims_ipa: Any, api_as: Any, tmp_path: Path) -> None:
    claim = _adjudicated(tmp_path)
    response = api_as("ops").get(f"{URL}/{claim.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["patient_control_number"], body["billing_tin"]) == (
        claim.pk,
        "26463774",
        "234567891",
    )
    lines = {line["code"]: line for line in body["lines"]}
    assert set(lines) == set(ClaimLine.objects.values_list("code", flat=True))
    paid = ClaimLine.objects.get(code="99213")
    assert lines["99213"]["outcome"] == "paid"
    assert lines["99213"]["allowed_cents"] == paid.allowed_cents
    assert lines["99213"]["pricing"] == paid.pricing
    pended = ClaimLine.objects.get(code="99214")
    assert (lines["99214"]["outcome"], lines["99214"]["pend_reason"]) == ("pended", pended.pend_reason)
    assert body["paid_cents"] == sum(line["paid_cents"] for line in body["lines"])
    assert body["diagnoses"][0] == {"qualifier": claim.diagnoses[0][0], "code": claim.diagnoses[0][1]}


def test_reading_a_claim_is_audited(claims_ipa: Any, api_as: Any, tmp_path: Path) -> None:
    claim = _adjudicated(tmp_path)
    api_as("bob").get(f"{URL}/{claim.pk}")
    event = AuditEvent.objects.get(kind="read", object_type="claims.claim", object_id=str(claim.pk))
    assert (event.actor_username, event.member_ids, event.purpose) == ("bob", [claim.member_id], "api")


def test_practice_users_read_only_the_claims_their_practice_billed(
    claims_ipa: Any, api_as: Any, tmp_path: Path
) -> None:
    claim = _adjudicated(tmp_path)
    assert api_as("bob").get(f"{URL}/{claim.pk}").status_code == 200
    before = AuditEvent.objects.filter(kind="read").count()
    refused = api_as("alice").get(f"{URL}/{claim.pk}")
    unknown = api_as("alice").get(f"{URL}/{claim.pk + 1000}")
    assert (refused.status_code, unknown.status_code) == (404, 404)
    assert error_of(refused)["message"] == error_of(unknown)["message"].replace(
        str(claim.pk + 1000), str(claim.pk)
    )
    assert AuditEvent.objects.filter(kind="read").count() == before
    messenger = api_as("messenger").get(f"{URL}/{claim.pk}")
    assert messenger.status_code == 403
