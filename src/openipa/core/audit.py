"""Writing the audit log. Services call `record_write`; selectors that return member data call `record_read`.

Nothing here updates or deletes: the log is append-only through the application.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.db import models, transaction

from openipa.core.bulk import insert_rows
from openipa.core.models import AuditEvent, AuditMember
from openipa.core.roles import Actor

# Field names whose values never go into the log in clear (they would make the log itself sensitive).
SECRET_FIELDS = frozenset({"password", "bank_account_number", "bank_routing_number", "token", "token_hash"})
# Bookkeeping timestamps change on every save and say nothing the event's own time does not.
SKIPPED_FIELDS = frozenset({"updated_at"})


# The client address of the request being served, bound by the web layer's middleware, so every event
# recorded while serving it carries the address without each service passing it along.
_request_ip: ContextVar[str | None] = ContextVar("openipa_audit_request_ip", default=None)


@contextmanager
def request_address(ip_address: str | None) -> Iterator[None]:
    """Within this block, events that are not given an address get `ip_address`."""
    token = _request_ip.set(ip_address)
    try:
        yield
    finally:
        _request_ip.reset(token)


def _ip(explicit: str | None) -> str | None:
    return explicit if explicit is not None else _request_ip.get()


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, Decimal)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of a model instance, plain-JSON, secrets masked."""
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        name = field.attname
        if field.name in SKIPPED_FIELDS or (
            fields is not None and field.name not in fields and name not in fields
        ):
            continue
        value = getattr(obj, name)
        out[field.name] = "***" if field.name in SECRET_FIELDS and value else _plain(value)
    return out


def end_validity(actor: Actor | None, obj: models.Model, valid_to: dt.date, action: str) -> None:
    """End a dated row (a formula or terms version, a rule, a seat's term) on ``valid_to``: that field alone is
    saved and the change audited as ``action`` with its value before and after. Inside the caller's
    transaction; the caller has checked that ending it there is allowed."""
    before = snapshot(obj, ["valid_to"])
    setattr(obj, "valid_to", valid_to)  # noqa: B010 (any model with the field)
    obj.save(update_fields=["valid_to"])
    record_write(actor, action, obj, before=before, after=snapshot(obj, ["valid_to"]))


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """{field: [old, new]} for the fields that changed; a create has old None, a delete new None."""
    before = before or {}
    after = after or {}
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


# -- member sets --------------------------------------------------------------------------------------------
# A statement export reads a few hundred thousand members at once. When what was read is a set that can never
# change (the member-months of an approved run), the event names the set instead of indexing every member; the
# app that owns the set says which of its sets hold a member, so "who read member X" still finds the event.

_MEMBER_SETS: dict[str, Callable[[int], Iterable[str]]] = {}


def register_member_set(kind: str, holding: Callable[[int], Iterable[str]]) -> None:
    """Register a kind of immutable member set: ``holding(member_id)`` gives the keys of the sets of this kind
    that hold the member. An app registers its kinds when it is ready (``AppConfig.ready``)."""
    if ":" in kind:
        raise ValueError(f"a member set kind has no colon: {kind!r}")
    _MEMBER_SETS[kind] = holding


def member_sets_holding(member_id: int) -> list[str]:
    """The names (``kind:key``) of every registered member set that holds ``member_id``."""
    return [f"{kind}:{key}" for kind, holding in _MEMBER_SETS.items() for key in holding(member_id)]


def _check_member_set(name: str) -> None:
    kind, sep, key = name.partition(":")
    if not sep or not key or kind not in _MEMBER_SETS:
        raise ValueError(f"{name!r} is not 'kind:key' of a registered member set")


def _actor_fields(actor: Actor | None) -> dict[str, Any]:
    if actor is None:
        return {"actor_id": None, "actor_username": "system", "actor_role": ""}
    pk = actor.pk
    return {
        "actor_id": int(pk) if isinstance(pk, int) else None,
        "actor_username": actor.username,
        "actor_role": actor.role,
    }


def _index_members(event: AuditEvent, member_ids: list[int]) -> None:
    # plain rows, not model instances: a statement or an export can name a few hundred thousand members. The
    # callers write the event and its index in one transaction (outside one, SQLite commits row by row).
    if member_ids:
        insert_rows(AuditMember, ("event_id", "member_id"), ((event.pk, m) for m in member_ids))


def record_write(
    actor: Actor | None,
    action: str,
    obj: models.Model | None = None,
    *,
    object_type: str = "",
    object_id: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    member_ids: Iterable[int] = (),
    purpose: str = "",
    ip_address: str | None = None,
) -> AuditEvent:
    """Record one service write. Call it inside the service's transaction so both commit or neither."""
    members = sorted({int(m) for m in member_ids})
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    with transaction.atomic():
        event = AuditEvent.objects.create(
            kind=AuditEvent.Kind.WRITE,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=str(obj)[:200] if obj is not None else "",
            changes=diff(before, after),
            member_ids=members[:50],
            member_count=len(members),
            purpose=purpose,
            ip_address=_ip(ip_address),
            **_actor_fields(actor),
        )
        _index_members(event, members)
    return event


def record_read(
    actor: Actor | None,
    *,
    object_type: str,
    member_ids: Iterable[int],
    purpose: str,
    object_id: str = "",
    action: str = "view",
    ip_address: str | None = None,
    member_set: str = "",
) -> AuditEvent | None:
    """Record a read of member-level data (a member page, a member API response, an export).

    ``member_set`` (``kind:key`` of a registered set, see :func:`register_member_set`): the read was of exactly
    that immutable set, ``member_ids`` being its members; the event names the set instead of indexing each
    member. Returns None, and writes nothing, when the read returned no member.
    """
    members = sorted({int(m) for m in member_ids})
    if not members:
        return None
    if member_set:
        _check_member_set(member_set)
    with transaction.atomic():
        event = AuditEvent.objects.create(
            kind=AuditEvent.Kind.READ,
            action=action,
            object_type=object_type,
            object_id=object_id,
            member_ids=members[:50],
            member_count=len(members),
            member_set=member_set,
            purpose=purpose,
            ip_address=_ip(ip_address),
            **_actor_fields(actor),
        )
        if not member_set:
            _index_members(event, members)
    return event


def record_access(
    actor: Actor | None,
    *,
    object_type: str,
    action: str,
    purpose: str,
    details: Mapping[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Record a read that is not of member rows but still sensitive (e.g. an export of the audit log
    itself); `details` (the filters used, say) go into `changes` as {key: [None, value]}."""
    return AuditEvent.objects.create(
        kind=AuditEvent.Kind.READ,
        action=action,
        object_type=object_type,
        purpose=purpose,
        changes=diff(None, {k: _plain(v) for k, v in (details or {}).items()}),
        ip_address=_ip(ip_address),
        **_actor_fields(actor),
    )


def record_auth(
    username: str, action: str, *, actor: Actor | None = None, ip_address: str | None = None
) -> None:
    fields = _actor_fields(actor)
    fields["actor_username"] = username[:150]
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.AUTH, action=action, object_type="auth", ip_address=_ip(ip_address), **fields
    )
