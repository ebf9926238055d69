"""Users, bearer tokens and sign-in throttling."""

from __future__ import annotations

import pytest
from django.test import override_settings

from openipa.accounts import services
from openipa.accounts.models import ApiToken, User
from openipa.core.errors import PermissionDenied
from openipa.core.models import AuditEvent


def test_practice_user_must_have_a_practice(db):
    with pytest.raises(services.AccountError, match="practice"):
        services.user_create(actor=None, username="p", password="x-y-z-123", role="practice_user")
    assert not User.objects.filter(username="p").exists()


def test_staff_user_cannot_be_bound_to_a_practice(small_ipa):
    with pytest.raises(services.AccountError):
        services.user_create(
            actor=None, username="o2", password="x", role="operations", practice_id=small_ipa.practice_a.pk
        )


def test_unknown_role_is_refused(db):
    with pytest.raises(services.AccountError, match="unknown role"):
        services.user_create(actor=None, username="x", password="x", role="owner")


def test_only_an_administrator_creates_users(small_ipa):
    with pytest.raises(PermissionDenied):
        services.user_create(actor=small_ipa.users["ops"], username="new", password="x", role="quality")
    assert not User.objects.filter(username="new").exists()


def test_token_authenticates_until_revoked_and_only_its_hash_is_stored(small_ipa):
    ops = small_ipa.users["ops"]
    issued = services.token_create(actor=None, user=ops, name="nightly")
    assert services.token_authenticate(issued.token) == ops
    assert issued.token not in str(list(ApiToken.objects.values()))
    services.token_revoke(actor=ops, token=issued.record)
    assert services.token_authenticate(issued.token) is None


def test_unknown_or_malformed_token_is_refused(db):
    assert services.token_authenticate("oipa_nope") is None
    assert services.token_authenticate("Bearer whatever") is None


def test_token_of_deactivated_user_is_refused(small_ipa):
    ops = small_ipa.users["ops"]
    issued = services.token_create(actor=None, user=ops)
    User.objects.filter(pk=ops.pk).update(is_active=False)
    assert services.token_authenticate(issued.token) is None


@override_settings(LOGIN_THROTTLE_FAILURES=3)
def test_repeated_failures_throttle_the_user_name_and_success_clears_it(small_ipa):
    for _ in range(3):
        services.login_failed(username="ops", ip_address="127.0.0.1")
    assert services.login_is_throttled(username="ops", ip_address="10.0.0.1")
    assert not services.login_is_throttled(username="fin", ip_address="10.0.0.1")
    services.login_succeeded(user=small_ipa.users["ops"], ip_address="127.0.0.1")
    assert not services.login_is_throttled(username="ops", ip_address="10.0.0.1")
    assert AuditEvent.objects.filter(kind="auth", action="login.failed").count() == 3


def test_production_settings_hash_passwords_with_argon2():
    import importlib

    import openipa.config.settings as real

    importlib.reload(real)
    assert real.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_user_created_with_an_encoded_password_can_sign_in(db):
    from django.contrib.auth import authenticate
    from django.contrib.auth.hashers import make_password

    services.user_create(
        actor=None, username="q1", encoded_password=make_password("s3cret-pw"), role="quality"
    )
    assert authenticate(username="q1", password="s3cret-pw") is not None


def test_exactly_one_kind_of_password_is_required(db):
    with pytest.raises(services.AccountError, match="exactly one"):
        services.user_create(actor=None, username="q2", role="quality")
    with pytest.raises(services.AccountError, match="exactly one"):
        services.user_create(actor=None, username="q2", password="a", encoded_password="b", role="quality")
    assert not User.objects.filter(username="q2").exists()
