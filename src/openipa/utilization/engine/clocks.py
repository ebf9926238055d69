"""Decision clocks: when a request is due, from the moment it was received and the clock rule in force.

The law states some clocks in elapsed time (72 hours, 30 minutes) and others in days (7 calendar days,
5 business days). Elapsed time is counted in absolute time, so a 72-hour clock that spans the change to or
from daylight-saving time is still 72 hours of real time. Days are counted on the IPA's local calendar, and a
request is due at the end of the last day (23:59:59 local): received on a Monday afternoon with 7 calendar
days, it is due the next Monday at 23:59:59 whatever the offset that day. Business days skip weekends and
the holidays of a core calendar; the day of receipt never counts.

Rules are chosen by :func:`pick_rule`: of those in force on the local date of receipt for the line of
business, the most specific wins (a rule for the state over one for any state, a rule for the kind over one
for any kind).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from openipa.core.calendars import Calendar

END_OF_DAY = dt.time(23, 59, 59)

UNITS = frozenset({"calendar_days", "business_days", "hours", "minutes"})


@dataclass(frozen=True, slots=True)
class Clock:
    """One clock rule, as the engine needs it."""

    rule_id: int
    line_of_business: str
    jurisdiction: str
    kind: str
    applies_to: str
    urgency: str
    amount: int
    unit: str
    calendar: str
    extension_days: int
    deemed_approved: bool
    valid_from: dt.date
    valid_to: dt.date | None
    citation: str = ""

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"clock rule {self.rule_id}: unknown unit {self.unit!r}")
        if self.unit == "business_days" and not self.calendar:
            raise ValueError(f"clock rule {self.rule_id}: business days need a calendar")

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def describe(self) -> str:
        unit = self.unit.replace("_", " ")
        return f"{self.amount} {unit[:-1] if self.amount == 1 else unit}"


class NoClockRule(LookupError):
    """No clock rule covers the request: the data must be completed before it can be received."""


def pick_rule(
    rules: Iterable[Clock],
    *,
    line_of_business: str,
    jurisdiction: str,
    kind: str,
    urgency: str,
    applies_to: str,
    on: dt.date,
) -> Clock:
    """The most specific rule in force on `on`; NoClockRule naming what was looked for if none is."""
    candidates = [
        r
        for r in rules
        if r.line_of_business == line_of_business
        and r.applies_to == applies_to
        and r.urgency == urgency
        and r.jurisdiction in ("", jurisdiction)
        and r.kind in ("", kind)
        and r.in_force(on)
    ]
    if not candidates:
        raise NoClockRule(
            f"no {applies_to} clock for {line_of_business}, {jurisdiction or 'any state'}, {kind}, {urgency} "
            f"on {on.isoformat()}"
        )
    return max(candidates, key=lambda r: (r.jurisdiction != "", r.kind != "", r.valid_from, r.rule_id))


def local_date(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    return _aware(moment).astimezone(tz).date()


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("clock times must carry a time zone")
    return moment


def _end_of(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=tz).astimezone(dt.UTC)


def due_at(
    received_at: dt.datetime, clock: Clock, tz: ZoneInfo, calendars: dict[str, Calendar] | None = None
) -> dt.datetime:
    """When a request received at `received_at` is due under `clock` (in UTC)."""
    received = _aware(received_at).astimezone(dt.UTC)
    if clock.unit == "hours":
        return received + dt.timedelta(hours=clock.amount)
    if clock.unit == "minutes":
        return received + dt.timedelta(minutes=clock.amount)
    day = local_date(received, tz)
    if clock.unit == "calendar_days":
        return _end_of(day + dt.timedelta(days=clock.amount), tz)
    calendar = (calendars or {}).get(clock.calendar)
    if calendar is None:
        raise ValueError(f"clock rule {clock.rule_id}: calendar {clock.calendar!r} is not loaded")
    return _end_of(calendar.add_business_days(day, clock.amount), tz)


def extended_due_at(due: dt.datetime, clock: Clock, tz: ZoneInfo, days: int | None = None) -> dt.datetime:
    """The due time after an extension of `days` (at most the rule's `extension_days`, which is the default):
    the end of the day that many calendar days after the original due day. ValueError if the rule allows
    none or `days` is out of range."""
    allowed = clock.extension_days
    days = allowed if days is None else days
    if allowed <= 0:
        raise ValueError(
            f"the {clock.describe()} clock ({clock.citation or clock.rule_id}) allows no extension"
        )
    if not 1 <= days <= allowed:
        raise ValueError(f"an extension is 1 to {allowed} days, not {days}")
    return _end_of(local_date(due, tz) + dt.timedelta(days=days), tz)


def time_left(due: dt.datetime, now: dt.datetime) -> dt.timedelta:
    """Negative when overdue."""
    return _aware(due) - _aware(now)


def format_time_left(left: dt.timedelta) -> str:
    """'2d 4h', '3h 05m', '12m', and 'overdue 1d 2h' for negative times."""
    seconds = int(left.total_seconds())
    prefix = "overdue " if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        body = f"{days}d {hours}h"
    elif hours:
        body = f"{hours}h {minutes:02d}m"
    else:
        body = f"{minutes}m"
    return prefix + body


def clocks_from_rows(rows: Sequence[dict[str, object]]) -> list[Clock]:
    """Clocks from plain rows (as `values()` gives them, `id` for the rule id)."""
    out = []
    for row in rows:
        data = dict(row)
        rule_id = data.pop("id")
        out.append(Clock(rule_id=int(str(rule_id)), **data))  # type: ignore[arg-type]
    return out


def packaged_rules() -> list[dict[str, Any]]:
    """The clock rules shipped in `openipa/utilization/data/clocks.json`, with every field filled and dates
    parsed (what the seed migration writes)."""
    text = resources.files("openipa.utilization").joinpath("data/clocks.json").read_text(encoding="utf-8")
    out = []
    for row in json.loads(text)["rules"]:
        rule: dict[str, Any] = {"jurisdiction": "", "kind": "", "calendar": "", "extension_days": 0,
                                "deemed_approved": False, "valid_to": None, **row}  # fmt: skip
        rule["valid_from"] = dt.date.fromisoformat(rule["valid_from"])
        if rule["valid_to"]:
            rule["valid_to"] = dt.date.fromisoformat(rule["valid_to"])
        out.append(rule)
    return out
