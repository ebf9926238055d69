"""Who is calling: a system with a bearer token, or a signed-in person with the site's session cookie.

Bearer tokens are checked first. A request that carries a bearer token which does not authenticate is
refused outright (401) rather than falling back to the session, so a revoked token can never ride on a
browser's cookie. Session requests that change something (POST, PATCH, ...) must carry the CSRF token,
exactly as the site's own forms do.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from openipa.accounts.models import User
from openipa.accounts.services import token_authenticate
from openipa.api.errors import CsrfFailed

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class BearerToken(HttpBearer):
    """`Authorization: Bearer oipa_...`, a token issued by `openipa token create --user NAME`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = token_authenticate(token.strip())
        if user is None:
            raise AuthenticationError(message="Unknown or revoked token")
        return user


class SessionCookie(APIKeyCookie):
    """The site's session (signed in through /login/). Unsafe methods also need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # Unlike ninja's own cookie auth, do not check CSRF before knowing there is a session: an anonymous
        # POST should hear "401 sign in", not "403 CSRF".
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed()
        return user


bearer_token = BearerToken()
session_cookie = SessionCookie()
AUTH: list[Any] = [bearer_token, session_cookie]


def actor(request: HttpRequest) -> User:
    """The authenticated user of an API request (set by one of the classes above)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):  # an operation declared without auth: a programming error
        raise AuthenticationError()
    return user
