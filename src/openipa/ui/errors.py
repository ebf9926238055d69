"""Turning the domain's refusals into pages: PermissionDenied -> 403 page, NotFound -> 404 page.

A decorator rather than a middleware, so the shell needs no change to the project's settings and the
REST API keeps its own error format. Django's own 404 (an unknown URL) renders the same 404.html.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from openipa.core.errors import NotFound, PermissionDenied

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def forbidden(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403.html", {"reason": reason}, status=403)


def not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", {}, status=404)


def domain_errors(view: V) -> V:
    """Answer a view's PermissionDenied with the 403 page and its NotFound with the 404 page.

    The messages of these exceptions name roles and ids; they are not shown, so a refusal tells the
    user nothing about what exists outside their scope.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            return forbidden(request)
        except NotFound:
            return not_found(request)

    return cast(V, wrapper)
