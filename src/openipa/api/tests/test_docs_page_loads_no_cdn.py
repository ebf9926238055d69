"""The docs page and its OpenAPI document are served by the application itself, with no CDN."""

from __future__ import annotations

import re

from django.test import Client


def test_the_docs_page_loads_swagger_from_our_static_files(small_ipa):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert all(a.startswith("/static/") for a in assets), assets
    assert "cdn" not in html.lower()
    assert '"url": "/api/v1/openapi.json"' in html


def test_the_swagger_assets_are_served(small_ipa):
    client = Client()
    for name in ("swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css"):
        response = client.get(f"/static/ninja/{name}")
        assert response.status_code == 200, name


def test_the_openapi_document_is_public_and_lists_the_resources(small_ipa):
    schema = Client().get("/api/v1/openapi.json").json()
    assert schema["info"]["version"] == "1"
    assert {
        "/api/v1/practices",
        "/api/v1/providers",
        "/api/v1/members",
        "/api/v1/payers",
        "/api/v1/contracts",
    } <= set(schema["paths"])
    assert set(schema["components"]["securitySchemes"]) == {"BearerToken", "SessionCookie"}


def test_the_api_root_points_to_the_schema_and_docs(small_ipa):
    body = Client().get("/api/v1/").json()
    assert (body["openapi"], body["docs"]) == ("openapi.json", "docs")
