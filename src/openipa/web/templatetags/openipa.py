"""Small template filters of the shell."""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()


@register.filter
def in_force(item: object, on: dt.date) -> bool:
    """True when an effective-dated row (valid_from, valid_to inclusive, None open) covers the date `on`."""
    start = getattr(item, "valid_from", None)
    end = getattr(item, "valid_to", None)
    if not isinstance(start, dt.date) or not isinstance(on, dt.date):
        return False
    return start <= on and (end is None or on <= end)


@register.filter
def describe_changes(changes: object) -> str:
    """An audit event's change record as one readable line."""
    from openipa.core.selectors import describe_changes as describe

    return describe(changes)


@register.filter
def can(user: object, perm: str) -> bool:
    """True when the signed-in ``user``'s role has the permission named ``perm`` (``user|can:"view_finance"``):
    pages show a link only to those it would not refuse."""
    from openipa.core.roles import Perm, has_perm

    if not getattr(user, "is_authenticated", False):
        return False
    return has_perm(user, Perm(perm))  # type: ignore[arg-type]
