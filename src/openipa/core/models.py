"""Kernel tables: the append-only audit log, and the abstract base for effective-dated rows."""

from __future__ import annotations

from typing import Any

from django.db import models


class EffectiveDated(models.Model):
    """A row in force from `valid_from` through `valid_to` inclusive; `valid_to` empty means open-ended.

    Versions of one thing must not overlap: services check that with `openipa.core.dating` before saving.
    """

    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        abstract = True


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("the audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit log is append-only")


class AuditEvent(models.Model):
    """One write by a service, or one read of member-level data. Never changed, never deleted.

    The actor is stored by value (id and user name), not as a foreign key, so the record outlives the
    account and the log does not depend on any other table.
    """

    class Kind(models.TextChoices):
        WRITE = "write", "Write"
        READ = "read", "Read"
        AUTH = "auth", "Sign-in"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_username = models.CharField(max_length=150, db_index=True)
    actor_role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    member_ids = models.JSONField(default=list, blank=True)
    member_count = models.PositiveIntegerField(default=0)
    member_set = models.CharField(
        max_length=80,
        blank=True,
        db_index=True,
        help_text="For a read of a whole immutable set of members (an approved run's statement), the set's name "
        "('kind:key', see core.audit.register_member_set) instead of one AuditMember row per member.",
    )
    purpose = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit log is append-only")


class AuditMember(models.Model):
    """Index of which members an audit event touched, so 'who read member X' is one indexed lookup."""

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="+")
    member_id = models.BigIntegerField(db_index=True)

    class Meta:
        unique_together = [("event", "member_id")]

    def __str__(self) -> str:
        return f"event {self.event_id} member {self.member_id}"
