"""Who may call the API: bearer tokens for systems, the site's session (with CSRF) for people, nobody else."""

from __future__ import annotations

import io
import json

from django.core.management import call_command
from django.test import Client

from openipa.accounts.services import token_create, token_revoke
from openipa.api.tests.conftest import ApiClient, error_of
from openipa.conftest import PASSWORD
from openipa.network.models import Practice, Region

NEW_REGION_PRACTICE = {
    "code": "CEDAR",
    "legal_name": "Cedar Internal Medicine",
    "tin": "95-1234567",
    "address_line1": "200 Lake Ave",
    "city": "Pasadena",
    "state": "CA",
    "zip_code": "91101",
    "region": "SGV",
}


def _bearer(token: str) -> ApiClient:
    return ApiClient(headers={"Authorization": f"Bearer {token}"})


def test_a_bearer_token_acts_as_its_user(small_ipa):
    issued = token_create(actor=None, user=small_ipa.users["alice"])
    response = _bearer(issued.token).get("/api/v1/practices")
    assert response.status_code == 200
    assert [p["code"] for p in response.json()["items"]] == ["ALDER"]


def test_a_revoked_token_is_refused_with_401(small_ipa):
    issued = token_create(actor=None, user=small_ipa.users["ops"])
    token_revoke(actor=small_ipa.users["ops"], token=issued.record)
    response = _bearer(issued.token).get("/api/v1/practices")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_refused_with_401(small_ipa):
    response = _bearer("oipa_not-a-real-token").get("/api/v1/practices")
    assert response.status_code == 401
    assert "token" in error_of(response)["message"].lower()


def test_a_token_of_a_deactivated_user_is_refused(small_ipa):
    user = small_ipa.users["ops"]
    issued = token_create(actor=None, user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert _bearer(issued.token).get("/api/v1/practices").status_code == 401


def test_a_bad_token_does_not_fall_back_to_the_session(small_ipa):
    client = ApiClient(headers={"Authorization": "Bearer oipa_wrong"})
    client.force_login(small_ipa.users["admin"])
    assert client.get("/api/v1/practices").status_code == 401


def test_a_signed_in_session_works(small_ipa):
    client = ApiClient()
    assert client.login(username="fin", password=PASSWORD)
    response = client.get(f"/api/v1/practices/{small_ipa.practice_a.pk}")
    assert response.status_code == 200
    assert response.json()["bank"]["masked"] is False  # fin is finance: bank details in clear


def test_anonymous_requests_get_401_json_not_a_login_redirect(small_ipa):
    for path in ("/api/v1/practices", f"/api/v1/members/{small_ipa.member_a.pk}", "/api/v1/contracts"):
        response = Client().get(path)
        assert response.status_code == 401, path
        assert response["Content-Type"].startswith("application/json")
        assert error_of(response)["code"] == "unauthorized"


def test_an_anonymous_post_gets_401_not_a_csrf_error(small_ipa):
    response = ApiClient(enforce_csrf_checks=True).post_json("/api/v1/practices", NEW_REGION_PRACTICE)
    assert response.status_code == 401


def test_a_session_post_without_the_csrf_token_is_refused_and_writes_nothing(small_ipa):
    client = ApiClient(enforce_csrf_checks=True)
    client.force_login(small_ipa.users["admin"])
    response = client.post_json("/api/v1/practices", NEW_REGION_PRACTICE)
    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"
    assert not Practice.objects.filter(code="CEDAR").exists()


def test_a_session_post_with_the_csrf_token_works(small_ipa):
    client = ApiClient(enforce_csrf_checks=True)
    client.force_login(small_ipa.users["admin"])
    client.get("/api/v1/docs")  # any page rendering a CSRF token sets the cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/practices",
        data=json.dumps(NEW_REGION_PRACTICE),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201, response.content
    assert response.json()["region"] == Region.objects.get().code


def test_a_bearer_post_needs_no_csrf_token(small_ipa):
    issued = token_create(actor=None, user=small_ipa.users["admin"])
    client = ApiClient(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {issued.token}"})
    assert client.post_json("/api/v1/practices", NEW_REGION_PRACTICE).status_code == 201


def test_a_token_printed_by_the_token_command_opens_the_api(small_ipa):
    out = io.StringIO()
    call_command("token", "create", "--user", "fin", "--name", "ledger-sync", stdout=out)
    response = _bearer(out.getvalue().strip()).get("/api/v1/payers")
    assert response.status_code == 200
    assert response.json()["total"] == 1
