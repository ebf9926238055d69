"""Every refusal has one shape: {"error": {"status", "code", "message", "fields"?}}."""

from __future__ import annotations

from django.test import Client

from openipa.api.tests.conftest import error_of


def test_an_unknown_object_is_a_404_in_the_error_format(api_as):
    response = api_as("admin").get("/api/v1/practices/999999")
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "not_found"
    assert "fields" not in error


def test_an_unknown_path_under_the_api_is_a_json_404(api_as):
    response = api_as("admin").get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_malformed_query_parameter_is_a_422_naming_the_field(api_as):
    response = api_as("admin").get("/api/v1/members?eligible_on=yesterday&per_page=0")
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"eligible_on", "per_page"}


def test_a_malformed_body_field_is_a_422_naming_the_field(api_as, small_ipa):
    response = api_as("admin").patch_json(f"/api/v1/providers/{small_ipa.pcp_a.pk}", {"panel_limit": -1})
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["panel_limit"]


def test_an_unknown_body_field_is_refused_rather_than_ignored(api_as, small_ipa):
    response = api_as("admin").patch_json(f"/api/v1/providers/{small_ipa.pcp_a.pk}", {"speciality": "X"})
    assert response.status_code == 422
    assert "speciality" in error_of(response)["fields"]


def test_null_for_a_field_that_cannot_be_empty_is_a_422(api_as, small_ipa):
    response = api_as("admin").patch_json(f"/api/v1/practices/{small_ipa.practice_a.pk}", {"city": None})
    assert response.status_code == 422
    assert "city" in error_of(response)["fields"]


def test_a_body_that_is_not_json_is_a_400(api_as):
    response = api_as("admin").post("/api/v1/payers", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_a_body_that_is_not_an_object_is_reported_against_the_whole_input(api_as):
    response = api_as("admin").post("/api/v1/payers", data="[]", content_type="application/json")
    assert response.status_code == 422
    assert "" in error_of(response)["fields"]


def test_a_forbidden_resource_is_a_403(api_as):
    response = api_as("alice").get("/api/v1/contracts")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_anonymous_is_a_401(small_ipa):
    response = Client().get("/api/v1/payers")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_a_nul_character_is_refused_on_every_database(api_as):
    response = api_as("admin").get("/api/v1/practices?q=a%00b")
    assert response.status_code == 422
    assert "q" in error_of(response)["fields"]


def test_the_published_schema_documents_the_error_shape(small_ipa):
    schema = Client().get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "OpenIPA API"
    assert set(schema["components"]["schemas"]["ErrorDetail"]["properties"]) == {
        "status",
        "code",
        "message",
        "fields",
    }
    responses = schema["paths"]["/api/v1/members/{member_id}"]["get"]["responses"]
    assert {"200", "401", "403", "404", "422"} <= set(responses)


def test_a_method_the_path_does_not_have_is_a_405_in_the_error_format(api_as, small_ipa):
    response = api_as("admin").delete(f"/api/v1/members/{small_ipa.member_a.pk}")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert response["Allow"] == "GET"
