"""Effective dating: choosing the version of a rate, term or rule that is in force on a date.

A dated item is anything with `valid_from` and `valid_to` dates, both inclusive, `valid_to` None meaning
open-ended: dataclasses, named tuples and Django model instances (`core.models.EffectiveDated`) alike.
Versions of one thing must not overlap, or "the rate on that date" would have two answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol, TypeVar


class Dated(Protocol):
    """Anything with an inclusive validity range. Read-only, so frozen dataclasses qualify too."""

    @property
    def valid_from(self) -> date: ...

    @property
    def valid_to(self) -> date | None: ...


T = TypeVar("T", bound=Dated)


class OverlapError(ValueError):
    """Two versions of the same thing are in force on the same day."""


def validate_range(valid_from: date, valid_to: date | None) -> None:
    """Return None if the range is well formed; raise ValueError if `valid_to` is before `valid_from`.

    A one-day range (`valid_to == valid_from`) is allowed.
    """
    if valid_to is not None and valid_to < valid_from:
        raise ValueError(f"valid_to {valid_to} is before valid_from {valid_from}")


def overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    """Return True if the inclusive ranges a and b share at least one day (None ends are open)."""
    a_ends_before_b = a_to is not None and a_to < b_from
    b_ends_before_a = b_to is not None and b_to < a_from
    return not (a_ends_before_b or b_ends_before_a)


def in_force(item: Dated, on: date) -> bool:
    """Return True if `on` falls within the item's validity range, ends included."""
    return item.valid_from <= on and (item.valid_to is None or on <= item.valid_to)


def describe_range(valid_from: date, valid_to: date | None) -> str:
    """Return the range for messages: "2026-01-01..2026-06-30" or "2026-07-01..open"."""
    return f"{valid_from.isoformat()}..{'open' if valid_to is None else valid_to.isoformat()}"


def pick_in_force(versions: Iterable[T], on: date) -> T | None:
    """Return the one version in force on `on`, or None if none is.

    Raise OverlapError if more than one is in force: that is corrupt data, and silently picking one would
    price a claim or a member-month by an arbitrary rule.
    """
    found: T | None = None
    for version in versions:
        if not in_force(version, on):
            continue
        if found is not None:
            raise OverlapError(
                f"two versions are in force on {on}: "
                f"{describe_range(found.valid_from, found.valid_to)} and "
                f"{describe_range(version.valid_from, version.valid_to)}"
            )
        found = version
    return found


def find_overlaps(versions: Iterable[T]) -> list[tuple[T, T]]:
    """Return every pair of versions whose ranges share a day; an empty list if there are none.

    Each pair is (earlier-starting, later-starting) and pairs come in order of the second element's start,
    so the result is deterministic for a given input. Runs in O(n log n + pairs).
    """
    items = list(versions)
    for item in items:
        validate_range(item.valid_from, item.valid_to)
    # Stable sort: versions that start on the same day keep their input order.
    ordered = sorted(items, key=lambda v: v.valid_from)
    pairs: list[tuple[T, T]] = []
    active: list[T] = []
    for current in ordered:
        # Every earlier-starting version that has not ended by now overlaps `current`; drop the rest,
        # which cannot overlap anything later either because later versions start no earlier.
        active = [a for a in active if a.valid_to is None or a.valid_to >= current.valid_from]
        pairs.extend((a, current) for a in active)
        active.append(current)
    return pairs


def check_no_overlaps(versions: Iterable[T]) -> None:
    """Return None if no two versions overlap; raise OverlapError naming both ranges of the first overlap.

    Also raise ValueError for a version whose `valid_to` is before its `valid_from`.
    """
    pairs = find_overlaps(versions)
    if pairs:
        a, b = pairs[0]
        raise OverlapError(
            f"{describe_range(a.valid_from, a.valid_to)} overlaps "
            f"{describe_range(b.valid_from, b.valid_to)}"
            + (f" (and {len(pairs) - 1} more overlapping pair(s))" if len(pairs) > 1 else "")
        )
