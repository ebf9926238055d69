"""Middleware of the web shell."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import resolve_url

from openipa.core import audit


class HtmxLoginRedirectMiddleware:
    """When a session has expired during an htmx request (search as you type, a lazy chart), the login
    redirect would be followed by htmx and the sign-in page drawn inside the results area. Turn the
    redirect into an `HX-Redirect`, which makes the browser load the sign-in page as a whole page.

    It must come before `LoginRequiredMiddleware` in MIDDLEWARE so that it sees that middleware's response.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        is_htmx = request.headers.get("HX-Request") == "true"
        if is_htmx and response.status_code == 302:
            location = response.get("Location", "")
            if location.startswith(resolve_url(settings.LOGIN_URL)):
                replacement = HttpResponse(status=204)
                replacement["HX-Redirect"] = location
                return replacement
        return response


class AuditAddressMiddleware:
    """Bind the client's address for the audit log while a request (page or API) is served.

    REMOTE_ADDR is the peer that connected; behind a reverse proxy, have the proxy set it (for example
    with waitress's trusted-proxy options) rather than trusting a client-supplied X-Forwarded-For.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with audit.request_address(request.META.get("REMOTE_ADDR") or None):
            return self.get_response(request)
