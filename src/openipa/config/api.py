"""The REST API: one NinjaAPI mounted at /api/v1/, the routers of `openipa.api` and of the apps, and its URL
patterns. It lives with the site's configuration, above every app it mounts (`openipa.api` holds only what the
routers share: authentication, pages, schemas and errors, and the network's own routers).

Its OpenAPI document is at /api/v1/openapi.json and a Swagger UI at /api/v1/docs, served from ninja's own
static files ("ninja" is in INSTALLED_APPS; nothing loads from a CDN).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import URLPattern, URLResolver, path, re_path
from ninja import NinjaAPI
from ninja.operation import Operation

from openipa.api import (
    affiliations,
    agreements,
    contracts,
    eligibility,
    errors,
    members,
    payers,
    practices,
    providers,
    regions,
)
from openipa.api.auth import AUTH
from openipa.claims import api as claims_api
from openipa.messenger import api as messenger_api
from openipa.utilization import api as utilization_api

DESCRIPTION = """\
The OpenIPA REST API.

**Authentication.** Either the site's session (sign in at /login/; requests that change something must send
the CSRF token in an `X-CSRFToken` header) or a bearer token for systems: `openipa token create --user NAME`
prints one; send it as `Authorization: Bearer <token>`. A token acts with its user's role and scope.

**Scope.** A practice user sees only their own practice and the members assigned to it; asking for anything
else answers 404. Financial resources (payers, contracts) answer 403 to roles without access. Every read of
member data is written to the audit log.

**Pages.** Lists take `page` and `per_page` (1-200) and answer
`{"items": [...], "page": n, "per_page": n, "total": n, "pages": n}`.

**Errors.** Always `{"error": {"status": 422, "code": "validation_error", "message": "...",
"fields": {"npi": ["..."]}}}`; `fields` only on validation errors.
"""


class OpenIpaApi(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Short, stable ids ("list_practices") rather than ninja's module-qualified ones.
        return operation.view_func.__name__


api = OpenIpaApi(
    title="OpenIPA API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=AUTH,
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)

api.add_router("/regions", regions.router)
api.add_router("/practices", practices.router)
api.add_router("/providers", providers.router)
api.add_router("/affiliations", affiliations.router)
api.add_router("/agreements", agreements.router)
api.add_router("/members", members.router)
api.add_router("/eligibility", eligibility.router)
api.add_router("/payers", payers.router)
api.add_router("/contracts", contracts.router)
api.add_router("/claims", claims_api.router)
api.add_router("/offers", messenger_api.router)
api.add_router("/authorizations", utilization_api.router)


def _not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other path under /api/v1/: a 404 in the API's error format, not the site's HTML page."""
    return api.create_response(request, errors.error_body(404, f"Not found: {request.path}"), status=404)


def _index(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """/api/v1/ itself: where the schema and the docs are."""
    body = {"title": api.title, "version": api.version, "openapi": "openapi.json", "docs": "docs"}
    return api.create_response(request, body, status=200)


def _answering_for_itself(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """One of the API's views, made to answer for itself.

    The site's LoginRequiredMiddleware would redirect anonymous requests to /login/; the API answers 401
    in its error format instead (and its schema and docs page are public). Ninja answers a method a path
    does not have with a plain-text 405; that becomes the error format too, keeping the Allow header.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            body = errors.error_body(405, f"Method {request.method} is not allowed here; allowed: {allowed}.")
            json_response = api.create_response(request, body, status=405)
            json_response["Allow"] = allowed
            return json_response
        return response

    return login_not_required(wrapper)


def api_urls() -> tuple[list[URLPattern | URLResolver], str, str]:
    """What to `path("api/v1/", ...)`: ninja's patterns, each answering for itself (no login redirect,
    errors in the API's format), plus a JSON 404 for everything else below the prefix."""
    ninja_patterns, app_name, namespace = api.urls
    # ninja's own root view raises Http404 outside any handler (an HTML page); keep its name, which ninja
    # reverses to find the API's prefix, with a JSON answer.
    patterns = [
        path("", _index, name="api-root") if getattr(p, "name", None) == "api-root" else p
        for p in ninja_patterns
    ]
    patterns.append(re_path(r"^.*$", _not_found, name="not-found"))
    for pattern in patterns:
        if isinstance(pattern, URLPattern):  # ninja's URLs are a flat list of patterns
            pattern.callback = _answering_for_itself(pattern.callback)
    return patterns, app_name, namespace
