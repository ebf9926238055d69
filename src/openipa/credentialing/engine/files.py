"""Credentialing files, pure: is a file complete on a committee date, which elements are missing or stale and by
when each must be re-verified, the recredentialing clock, expirables buckets. No Django, no I/O.

The rules are data (`RuleVersion`: the verification window in force from a date); the service reads them from the
database and hands them in. The window that applies is the one in force ON THE DECISION DATE: a file decided
2025-06-30 is judged with 180 days, the same file decided 2025-07-01 with 120.

Months are calendar months. ``add_months`` clamps to the last day of the target month: a decision on 2024-02-29
is due for recredentialing on 2027-02-28 (never on March 1st: "36 months, no grace" means never later than 36
calendar months), and one on 2023-08-31 plus 6 months is 2024-02-29.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, the day clamped to the target month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class RuleVersion:
    """One version of the credentialing rules, in force from ``valid_from`` through ``valid_to`` (inclusive)."""

    valid_from: dt.date
    valid_to: dt.date | None
    window_days: int
    recredential_months: int
    letter_days: int


def rule_on(rules: Sequence[RuleVersion], day: dt.date) -> RuleVersion | None:
    """The version in force on ``day`` (the caller keeps versions from overlapping)."""
    for rule in rules:
        if rule.valid_from <= day and (rule.valid_to is None or day <= rule.valid_to):
            return rule
    return None


class ItemState(StrEnum):
    OK = "ok"
    MISSING = "missing"  # never verified (or only "unable to verify", or verified after the date)
    STALE = "stale"  # verified, but longer ago than the window before the date
    EXPIRED = "expired"  # the credential itself (license, DEA, insurance) expired before the date


@dataclass(frozen=True)
class Evidence:
    """The latest verification of one element that counts: its date, whether it verified, its expiry."""

    verified_on: dt.date
    verified: bool
    expires_on: dt.date | None = None


@dataclass(frozen=True)
class Item:
    element: str
    state: ItemState
    verified_on: dt.date | None
    age_days: int | None
    redo_by: dt.date | None
    """The last committee date on which this verification still counts (window and expiry), None if it never
    does."""


@dataclass(frozen=True)
class Completeness:
    on: dt.date
    window_days: int
    items: tuple[Item, ...]

    @property
    def complete(self) -> bool:
        return all(i.state == ItemState.OK for i in self.items)

    @property
    def missing(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.state != ItemState.OK)

    @property
    def good_until(self) -> dt.date | None:
        """The last committee date on which the file is still complete (the earliest redo-by), when complete."""
        if not self.complete or not self.items:
            return None
        dates = [i.redo_by for i in self.items if i.redo_by is not None]
        return min(dates) if dates else None


def counts_until(
    verified_on: dt.date, expires_on: dt.date | None, rules: Sequence[RuleVersion]
) -> dt.date | None:
    """The last decision date D >= verified_on on which a verification of ``verified_on`` still counts: D minus
    the verification no more than the window in force on D, and D not after the credential's expiry. None when
    no such date exists (the rules leave a gap, or the credential expired before it was verified)."""
    best: dt.date | None = None
    for rule in rules:
        start = max(verified_on, rule.valid_from)
        end = verified_on + dt.timedelta(days=rule.window_days)
        if rule.valid_to is not None:
            end = min(end, rule.valid_to)
        if end >= start and (best is None or end > best):
            best = end
    if best is not None and expires_on is not None:
        # the credential must still be valid on the decision date
        best = min(best, expires_on) if expires_on >= verified_on else None
    return best


def completeness(
    required: Iterable[str],
    evidence: Mapping[str, Sequence[Evidence]],
    on: dt.date,
    rules: Sequence[RuleVersion],
) -> Completeness:
    """Judge a file on the committee date ``on``: each required element needs a verification on or before ``on``,
    at most the window (of the rule version in force on ``on``) days old, with a verified result, and a
    credential not expired on ``on``. The latest verification on or before ``on`` is the one judged (a later
    "unable to verify" replaces an earlier success: the last word of the source counts).
    Raise ValueError when no rule version is in force on ``on``."""
    rule = rule_on(rules, on)
    if rule is None:
        raise ValueError(f"no credentialing rules are in force on {on.isoformat()}")
    items: list[Item] = []
    for element in required:
        usable = sorted(
            (e for e in evidence.get(element, ()) if e.verified_on <= on), key=lambda e: e.verified_on
        )
        latest = usable[-1] if usable else None
        if latest is None or not latest.verified:
            items.append(Item(element, ItemState.MISSING, latest.verified_on if latest else None, None, None))
            continue
        age = (on - latest.verified_on).days
        redo = counts_until(latest.verified_on, latest.expires_on, rules)
        if latest.expires_on is not None and latest.expires_on < on:
            state = ItemState.EXPIRED
        elif age > rule.window_days:
            state = ItemState.STALE
        else:
            state = ItemState.OK
        items.append(Item(element, state, latest.verified_on, age, redo))
    return Completeness(on=on, window_days=rule.window_days, items=tuple(items))


# -- clocks ---------------------------------------------------------------------------------------------------


def recredential_due(decided_on: dt.date, months: int) -> dt.date:
    """The date by which the next recredentialing decision must be made: ``months`` calendar months after the
    decision, no grace (clamped to the month's end: 2024-02-29 + 36 months = 2027-02-28)."""
    return add_months(decided_on, months)


def letter_due(decided_on: dt.date, days: int) -> dt.date:
    return decided_on + dt.timedelta(days=days)


def overdue(due: dt.date, on: dt.date) -> bool:
    """Past due: the due date itself is still on time."""
    return on > due


# -- expirables -----------------------------------------------------------------------------------------------

BUCKETS = ((0, "expired"), (30, "30 days"), (60, "60 days"), (90, "90 days"))
"""Upper bounds of days until expiry (inclusive) and their labels; below zero is expired."""


def bucket(expires_on: dt.date, today: dt.date) -> str | None:
    """'expired' (before today), '30 days' (today..+30), '60 days' (+31..+60), '90 days' (+61..+90), or None."""
    days = (expires_on - today).days
    if days < 0:
        return "expired"
    for limit, label in BUCKETS[1:]:
        if days <= limit:
            return label
    return None
