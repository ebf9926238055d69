"""Writes for accounts: users, API tokens, sign-in throttling. Each function is one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openipa.accounts.models import ApiToken, LoginFailure, User
from openipa.core import audit
from openipa.core.roles import Actor, Perm, Role, require

TOKEN_PREFIX = "oipa_"


class AccountError(ValueError):
    """Bad input for an account operation; the message says which field and why."""


@transaction.atomic
def user_create(
    *,
    actor: Actor | None,
    username: str,
    password: str | None = None,
    encoded_password: str | None = None,
    role: str,
    practice_id: int | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """Create a user with one role. `actor` None means the system (set-up, demo build).

    Give either `password` (hashed here, with Argon2 in production) or `encoded_password`, a hash already
    made by `django.contrib.auth.hashers.make_password`: many users sharing one initial password (the demo
    logins) then cost one slow hash instead of one each.
    """
    if (password is None) == (encoded_password is None):
        raise AccountError("password: give exactly one of password and encoded_password")
    if actor is not None:
        require(actor, Perm.MANAGE_USERS)
    try:
        role_value = Role(role)
    except ValueError:
        raise AccountError(f"role: unknown role {role!r}") from None
    if role_value == Role.PRACTICE_USER and practice_id is None:
        raise AccountError("practice: a practice user must be bound to a practice")
    if role_value != Role.PRACTICE_USER and practice_id is not None:
        raise AccountError("practice: only practice users are bound to a practice")
    if User.objects.filter(username=username).exists():
        raise AccountError(f"username: {username!r} is taken")
    user = User(
        username=username,
        role=role_value.value,
        practice_id=practice_id,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    if encoded_password is not None:
        user.password = encoded_password
    else:
        user.set_password(password)
    user.save()
    audit.record_write(
        actor, "user.create", user, after=audit.snapshot(user, ["username", "role", "practice"])
    )
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    record: ApiToken


@transaction.atomic
def token_create(*, actor: Actor | None, user: User, name: str = "") -> IssuedToken:
    """Issue a bearer token acting as `user`. The plain token is returned once; only its hash is kept."""
    if actor is not None and actor.pk != user.pk:
        require(actor, Perm.MANAGE_USERS)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(user=user, name=name, prefix=token[:12], token_hash=_hash_token(token))
    audit.record_write(actor, "token.create", record, after={"user": user.username, "name": name})
    return IssuedToken(token=token, record=record)


@transaction.atomic
def token_revoke(*, actor: Actor, token: ApiToken) -> None:
    if actor.pk != token.user_id:
        require(actor, Perm.MANAGE_USERS)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record_write(actor, "token.revoke", token)


def token_authenticate(token: str) -> User | None:
    """The active user a bearer token acts as, or None for an unknown, revoked or inactive one."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    record = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash_token(token), revoked_at__isnull=True)
        .first()
    )
    if record is None or not record.user.is_active:
        return None
    now = timezone.now()
    # Touch last_used_at at most once a minute so an API client does not write on every request.
    if record.last_used_at is None or now - record.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user


def login_is_throttled(*, username: str, ip_address: str | None) -> bool:
    """True when this user name or this address has failed too often within the throttle window."""
    since = timezone.now() - dt.timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    limit = settings.LOGIN_THROTTLE_FAILURES
    recent = LoginFailure.objects.filter(at__gte=since)
    if recent.filter(username=username).count() >= limit:
        return True
    return ip_address is not None and recent.filter(ip_address=ip_address).count() >= limit * 4


@transaction.atomic
def login_failed(*, username: str, ip_address: str | None) -> None:
    LoginFailure.objects.create(username=username[:150], ip_address=ip_address)
    audit.record_auth(username, "login.failed", ip_address=ip_address)


@transaction.atomic
def login_succeeded(*, user: User, ip_address: str | None) -> None:
    LoginFailure.objects.filter(username=user.username).delete()
    audit.record_auth(user.username, "login.succeeded", actor=user, ip_address=ip_address)
