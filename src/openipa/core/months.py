"""Calendar months, ages, and member-month counting from eligibility spans.

Capitation is paid per member per month, so the month is a value of its own here, not a date that happens
to be the first. Eligibility spans are `(start, end)` date pairs, both ends inclusive; an end of None
means the span is still open.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

Span = tuple[date, date | None]
"""An eligibility span: first and last covered day, inclusive; last None means open-ended."""

_MONTH_PATTERN = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month. Ordered, hashable, immutable; `str(Month(2026, 3)) == "2026-03"`."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year must be 1..9999, got {self.year}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """Return the month written as "YYYY-MM"; raise ValueError for anything else."""
        match = _MONTH_PATTERN.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"not a month (expected YYYY-MM): {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        """Return the month that contains `day`."""
        return cls(day.year, day.month)

    @classmethod
    def range(cls, start: Month, end: Month) -> Iterator[Month]:
        """Yield every month from `start` through `end`, both included; nothing if `end` is before `start`."""
        current = start
        while current <= end:
            yield current
            if current == end:
                # Avoid stepping past December 9999, which is not a valid Month.
                return
            current = current.next()

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def index(self) -> int:
        """Months since January of year 0; consecutive months have consecutive indexes."""
        return self.year * 12 + self.month - 1

    @classmethod
    def _from_index(cls, index: int) -> Month:
        year, month0 = divmod(index, 12)
        return cls(year, month0 + 1)

    @property
    def first_day(self) -> date:
        """The first day of the month."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The last day of the month (February 29 in leap years)."""
        return date(self.year, self.month, self.days)

    @property
    def days(self) -> int:
        """The number of days in the month."""
        return calendar.monthrange(self.year, self.month)[1]

    def next(self) -> Month:
        """The month after this one."""
        return self + 1

    def prev(self) -> Month:
        """The month before this one."""
        return self - 1

    def __add__(self, months: int) -> Month:
        if isinstance(months, bool) or not isinstance(months, int):
            return NotImplemented
        return Month._from_index(self.index + months)

    def __sub__(self, months: int) -> Month:
        if isinstance(months, bool) or not isinstance(months, int):
            return NotImplemented
        return Month._from_index(self.index - months)


def months_between(a: Month, b: Month) -> int:
    """Return how many months `b` is after `a`: 2 from 2026-01 to 2026-03, negative if `b` is earlier."""
    return b.index - a.index


def age_on(birth: date, on: date) -> int:
    """Return the age in whole years of someone born on `birth`, on the day `on`.

    A February 29 birthday is reached on March 1 in common years (on February 28 the person is still the
    younger age), the usual rule for legal ages in the US. Raise ValueError if `on` is before `birth`.
    """
    if on < birth:
        raise ValueError(f"{on} is before the birth date {birth}")
    had_birthday = (on.month, on.day) >= (birth.month, birth.day)
    return on.year - birth.year - (0 if had_birthday else 1)


def _merged(spans: Iterable[Span]) -> list[tuple[date, date]]:
    """Return the union of `spans` as sorted, disjoint, non-adjacent closed intervals.

    Open ends become `date.max`. Raise ValueError for a span that ends before it starts.
    """
    closed: list[tuple[date, date]] = []
    for start, end in spans:
        last = date.max if end is None else end
        if last < start:
            raise ValueError(f"span ends before it starts: {start}..{end}")
        closed.append((start, last))
    closed.sort()
    merged: list[tuple[date, date]] = []
    for start, last in closed:
        # Adjacent spans (one ends the day before the next starts) merge too; the sum of days is the same
        # either way, but fewer intervals make the per-month scans cheaper.
        if merged and (merged[-1][1] == date.max or start <= merged[-1][1] + timedelta(days=1)):
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((start, last))
    return merged


def _days_in(merged: list[tuple[date, date]], month: Month) -> int:
    first, last = month.first_day, month.last_day
    total = 0
    for start, end in merged:
        if start > last:
            break
        lo, hi = max(start, first), min(end, last)
        if lo <= hi:
            total += (hi - lo).days + 1
    return total


def covered_days(spans: Iterable[Span], month: Month) -> int:
    """Return how many days of `month` fall inside at least one span (overlaps counted once).

    For daily proration: `covered_days(spans, m) / m.days` of a month's rate.
    """
    return _days_in(_merged(spans), month)


def covers_month(spans: Iterable[Span], month: Month) -> bool:
    """Return True if the spans cover at least one day of `month`."""
    return covered_days(spans, month) > 0


def member_months(spans: Iterable[Span], start: Month, end: Month) -> dict[Month, int]:
    """Return, for each month from `start` through `end` inclusive, 1 if the spans cover a day of it, else 0.

    The spans are one member's: however many spans overlap a month, it counts once. Every month of the
    range is a key, in order, so the result lines up with other per-month series.
    """
    merged = _merged(spans)
    return {m: 1 if _days_in(merged, m) > 0 else 0 for m in Month.range(start, end)}
