"""Users, their one role and (for practice users) their practice; API tokens; failed sign-in attempts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from openipa.core.roles import ROLE_CHOICES, Role


class User(AbstractUser):
    role = models.CharField(max_length=32, choices=ROLE_CHOICES)
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    class Meta:
        constraints = [
            # A practice user is bound to exactly one practice; nobody else is bound to any.
            models.CheckConstraint(
                condition=(Q(role=Role.PRACTICE_USER) & Q(practice__isnull=False))
                | (~Q(role=Role.PRACTICE_USER) & Q(practice__isnull=True)),
                name="user_practice_iff_practice_user",
            ),
        ]

    @property
    def role_label(self) -> str:
        try:
            return Role(self.role).label
        except ValueError:
            return self.role


class ApiToken(models.Model):
    """A bearer token for a system acting as a user. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.username})"


class LoginFailure(models.Model):
    """One failed sign-in, kept for throttling (by user name and by address) and for the audit page."""

    username = models.CharField(max_length=150, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} failed at {self.at:%Y-%m-%d %H:%M}"
