"""Small helpers the roster and eligibility pages share."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from openipa.accounts.models import User
from openipa.core.errors import PermissionDenied


def actor_of(request: HttpRequest) -> User:
    """The signed-in user (LoginRequiredMiddleware keeps anonymous requests out)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("not signed in")
    return user


def is_htmx_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not getattr(htmx, "history_restore_request", False)


def page_or_results(
    request: HttpRequest, template: str, partial: str, context: dict[str, object], status: int = 200
) -> HttpResponse:
    """The whole page, or only its results when htmx asks (filters as you type)."""
    response = render(request, partial if is_htmx_partial(request) else template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def csv_download(filename: str, header: Iterable[str], rows: Iterable[Iterable[object]]) -> HttpResponse:
    """A small CSV file (built in memory: a panel list, not a member export)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
