"""The API's one error format, and the exception handlers that produce it.

Every refusal, from authentication to a broken business rule, answers

    {"error": {"status": 422, "code": "validation_error", "message": "...", "fields": {"npi": ["..."]}}}

`fields` is present only for validation errors; it maps a field name ("" for the input as a whole) to
messages. Clients branch on `status` and `code`; `message` is for people.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("openipa.api")

CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "validation_error",
    429: "throttled",
    500: "server_error",
}


class CsrfFailed(HttpError):
    """A session-authenticated unsafe request without a valid CSRF token."""

    def __init__(self) -> None:
        super().__init__(
            403, "CSRF check failed: send the csrftoken cookie's value in an X-CSRFToken header."
        )


def error_body(
    status: int, message: str, *, code: str = "", fields: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status, "code": code or CODES.get(status, "error"), "message": message}
    if fields is not None:
        error["fields"] = {name: list(messages) for name, messages in fields.items()}
    return {"error": error}


def _field_name(loc: Sequence[Any]) -> str:
    """A dotted field name from a pydantic error location as ninja reports it.

    Ninja prefixes the source ("body", "query", "path"); a JSON body adds the parameter's name next, which
    means nothing to a client, so `("body", "payload", "npi")` becomes `npi`. A body that is missing or
    is not an object (`("body", "payload")`) is reported against the input as a whole ("").
    """
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
        source, parts = parts[0], parts[1:]
        if source == "body" and parts:
            parts = parts[1:]
    return ".".join(parts)


def ninja_fields(errors: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        fields.setdefault(_field_name(err.get("loc", ())), []).append(str(err.get("msg", "invalid")))
    return fields


def install(api: NinjaAPI) -> None:
    """Replace ninja's default handlers (each with its own shape) by ones answering in the error format."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    def on_validation_failed(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
        return respond(request, 422, error_body(422, f"The input is not valid: {exc}", fields=exc.fields))

    def on_ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields = ninja_fields(exc.errors)
        summary = "; ".join(f"{name or 'input'}: {' '.join(msgs)}" for name, msgs in fields.items())
        return respond(request, 422, error_body(422, f"The input is not valid: {summary}", fields=fields))

    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        # A model's full_clean() caught what the service's own checks did not: still the client's input.
        if hasattr(exc, "error_dict"):
            fields = {("" if k == "__all__" else k): v for k, v in exc.message_dict.items()}
        else:
            fields = {"": list(exc.messages)}
        summary = "; ".join(f"{name or 'input'}: {' '.join(msgs)}" for name, msgs in fields.items())
        return respond(request, 422, error_body(422, f"The input is not valid: {summary}", fields=fields))

    def on_permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 403, error_body(403, f"Forbidden: {exc}"))

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        # The selector's message names only what the client asked for ("member 12"), never whether it
        # exists outside the client's scope.
        detail = str(exc) if isinstance(exc, NotFound) and str(exc) else request.path
        return respond(request, 404, error_body(404, f"Not found: {detail}"))

    def on_authentication(request: HttpRequest, exc: Exception) -> HttpResponse:
        message = str(exc) if str(exc) != "Unauthorized" else "Authentication required"
        response = respond(
            request,
            401,
            error_body(
                401, f"{message}: sign in, or send 'Authorization: Bearer <token>' (openipa token create)."
            ),
        )
        response["WWW-Authenticate"] = 'Bearer realm="openipa"'
        return response

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = "csrf_failed" if isinstance(exc, CsrfFailed) else ""
        return respond(request, exc.status_code, error_body(exc.status_code, exc.message, code=code))

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        return respond(request, 500, error_body(500, "Internal error; it has been logged."))

    # The most specific class in an exception's MRO wins, so the catch-all Exception comes into play only
    # for errors no other handler names.
    handlers: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
        (ValidationFailed, on_validation_failed),
        (NinjaValidationError, on_ninja_validation),
        (DjangoValidationError, on_django_validation),
        (PermissionDenied, on_permission_denied),
        (NotFound, on_not_found),
        (Http404, on_not_found),
        (AuthenticationError, on_authentication),
        (HttpError, on_http_error),
        (Exception, on_unexpected),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)
