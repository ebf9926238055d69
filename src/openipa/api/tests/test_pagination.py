"""Lists come in pages: `page` and `per_page` in, {"items", "page", "per_page", "total", "pages"} out."""

from __future__ import annotations

from openipa.api.tests.conftest import error_of


def test_a_list_reports_its_page_and_totals(api_as):
    body = api_as("admin").get("/api/v1/providers?per_page=2").json()
    assert {k: body[k] for k in ("page", "per_page", "total", "pages")} == {
        "page": 1,
        "per_page": 2,
        "total": 3,
        "pages": 2,
    }
    assert [p["last_name"] for p in body["items"]] == ["Alder", "Birch"]


def test_the_second_page_holds_the_rest(api_as):
    body = api_as("admin").get("/api/v1/providers?per_page=2&page=2").json()
    assert body["page"] == 2
    assert [p["last_name"] for p in body["items"]] == ["Cardio"]


def test_a_page_past_the_end_gives_the_last_page(api_as):
    body = api_as("admin").get("/api/v1/providers?per_page=2&page=50").json()
    assert body["page"] == 2
    assert len(body["items"]) == 1


def test_the_default_page_size_is_25(api_as):
    body = api_as("admin").get("/api/v1/practices").json()
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 25, 2, 1)


def test_a_page_size_above_200_is_refused(api_as):
    response = api_as("admin").get("/api/v1/practices?per_page=201")
    assert response.status_code == 422
    assert "per_page" in error_of(response)["fields"]


def test_an_empty_result_is_one_empty_page(api_as):
    body = api_as("admin").get("/api/v1/practices?q=nothing-matches").json()
    assert body == {"items": [], "page": 1, "per_page": 25, "total": 0, "pages": 1}
