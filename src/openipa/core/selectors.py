"""Reads of the kernel's own tables: the audit log, for the administrator and the auditor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from openipa.core import audit
from openipa.core.models import AuditEvent, AuditMember
from openipa.core.roles import Actor, Perm, require

AUDIT_EXPORT_COLUMNS = (
    "at",
    "kind",
    "actor_username",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "member_count",
    "member_ids",
    "purpose",
    "ip_address",
    "changes",
)


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the site's time zone (the day a user means on a page)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_events(
    actor: Actor,
    *,
    actor_username: str = "",
    member_id: int | None = None,
    object_type: str = "",
    object_id: str = "",
    kind: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events matching every given filter, newest first. Dates are inclusive, in the site's time zone.

    `member_id` finds every event that touched that member: through the `AuditMember` index, so exports
    listing thousands of members are found too, and through the registered member sets that hold the member
    (an approved run's statement export names its set rather than indexing each member). Raise PermissionDenied unless the actor may view the log.
    """
    require(actor, Perm.VIEW_AUDIT)
    qs = AuditEvent.objects.all()
    if actor_username:
        qs = qs.filter(actor_username__iexact=actor_username.strip())
    if member_id is not None:
        indexed = Exists(AuditMember.objects.filter(event=OuterRef("pk"), member_id=member_id))
        sets = audit.member_sets_holding(member_id)
        qs = qs.filter(indexed | Q(member_set__in=sets)) if sets else qs.filter(indexed)
    if object_type:
        qs = qs.filter(object_type=object_type.strip())
    if object_id:
        qs = qs.filter(object_id=object_id.strip())
    if kind:
        qs = qs.filter(kind=kind)
    if date_from is not None:
        qs = qs.filter(at__gte=_start_of(date_from))
    if date_to is not None:
        # Up to the end of date_to: before midnight at the start of the next day.
        qs = qs.filter(at__lt=_start_of(date_to + dt.timedelta(days=1)))
    return qs.order_by("-at", "-id")


def audit_object_types(actor: Actor) -> list[str]:
    """The object types that occur in the log, for a filter's choices."""
    require(actor, Perm.VIEW_AUDIT)
    return list(AuditEvent.objects.order_by("object_type").values_list("object_type", flat=True).distinct())


def audit_export_row(event: AuditEvent) -> tuple[object, ...]:
    """One CSV row of an event, in the order of AUDIT_EXPORT_COLUMNS."""
    return (
        event.at.isoformat(),
        event.kind,
        event.actor_username,
        event.actor_role,
        event.action,
        event.object_type,
        event.object_id,
        event.object_repr,
        event.member_count,
        " ".join(str(m) for m in event.member_ids or []),
        event.purpose,
        event.ip_address or "",
        describe_changes(event.changes),
    )


def describe_changes(changes: object) -> str:
    """A change record ({field: [old, new]}) as one readable line: `city: 'A' -> 'B'; ...`."""
    if not isinstance(changes, dict):
        return ""
    parts = []
    for key, value in sorted(changes.items()):
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{key}: {value[0]!r} -> {value[1]!r}")
        else:
            parts.append(f"{key}: {value!r}")
    return "; ".join(parts)


def audit_export_rows(actor: Actor, *, purpose: str, **filters: object) -> Iterator[tuple[object, ...]]:
    """CSV rows of the filtered log. The export itself is recorded (who took which slice of the log, and
    why) before the first row is handed out."""
    qs = audit_events(actor, **filters)  # type: ignore[arg-type]
    audit.record_access(
        actor,
        object_type="core.auditevent",
        action="export",
        purpose=purpose,
        details={k: v for k, v in filters.items() if v not in (None, "")},
    )
    return (audit_export_row(event) for event in qs.iterator(chunk_size=2000))
