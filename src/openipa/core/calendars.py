"""Working-day calendars, loaded from data: which days are business days, and counting them.

Deadlines in the domain (claims payment, prompt-pay interest, authorization clocks, file cut-offs) are
often stated in business days of a given jurisdiction. The holiday rules live in `data/holidays.json` as
rows with year ranges (see `data/README.md`), so a new or moved holiday is a data change.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

_WEEKDAYS = {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5, "SUN": 6}
_KINDS = frozenset({"fixed", "nth_weekday", "last_weekday", "day_after"})
_OBSERVED = frozenset({"none", "nearest_weekday", "sunday_to_monday"})
_SATURDAY, _SUNDAY = 5, 6


@dataclass(frozen=True, slots=True)
class HolidayRule:
    """One row of a calendar: how to find a holiday's date in a year, and which years it applies to."""

    name: str
    kind: str
    month: int = 0
    day: int = 0
    weekday: int = 0
    n: int = 0
    of: str = ""
    days: int = 0
    observed: str = "none"
    valid_from_year: int | None = None
    valid_to_year: int | None = None
    closed: bool = True

    def applies_in(self, year: int) -> bool:
        """Return True if the rule is in force in `year`."""
        after_start = self.valid_from_year is None or year >= self.valid_from_year
        before_end = self.valid_to_year is None or year <= self.valid_to_year
        return after_start and before_end

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> HolidayRule:
        """Return the rule described by a JSON row; raise ValueError naming the row if it is malformed."""
        name = row.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"holiday row without a name: {row!r}")
        try:
            return cls(
                name=name,
                kind=row["kind"],
                month=row.get("month", 0),
                day=row.get("day", 0),
                weekday=_WEEKDAYS[row["weekday"]] if row["kind"] in ("nth_weekday", "last_weekday") else 0,
                n=row.get("n", 0),
                of=row.get("of", ""),
                days=row.get("days", 0),
                observed=row.get("observed", "none"),
                valid_from_year=row.get("valid_from_year"),
                valid_to_year=row.get("valid_to_year"),
                closed=row.get("closed", True),
            )
        except KeyError as exc:
            raise ValueError(f"holiday {name!r}: missing or unknown {exc}") from None

    def __post_init__(self) -> None:
        problem = ""
        numbers = (self.month, self.day, self.weekday, self.n, self.days)
        years = (self.valid_from_year, self.valid_to_year)
        if not all(type(v) is int for v in numbers) or not all(v is None or type(v) is int for v in years):
            problem = "month, day, n, days and years must be whole numbers"
        elif not isinstance(self.closed, bool):
            problem = "closed must be true or false"
        elif self.kind not in _KINDS:
            problem = f"unknown kind {self.kind!r}"
        elif self.observed not in _OBSERVED:
            problem = f"unknown observed rule {self.observed!r}"
        elif self.kind != "day_after" and not 1 <= self.month <= 12:
            problem = f"month must be 1..12, got {self.month}"
        elif self.kind == "fixed" and not 1 <= self.day <= _stdlib_calendar.monthrange(2000, self.month)[1]:
            problem = f"day {self.day} does not exist in month {self.month}"
        elif self.kind == "nth_weekday" and not 1 <= self.n <= 5:
            problem = f"n must be 1..5, got {self.n}"
        elif self.kind == "day_after" and (not self.of or self.days < 1):
            problem = "day_after needs 'of' (a holiday name) and 'days' >= 1"
        elif self.observed != "none" and self.kind != "fixed":
            problem = "only fixed-date holidays can shift off a weekend"
        if problem:
            raise ValueError(f"holiday {self.name!r}: {problem}")

    def observe(self, actual: date) -> date:
        """Return the day the holiday is observed when it falls on `actual`.

        Only a fixed-date holiday on a weekend moves, as its `observed` rule says; one that stays on a
        Saturday or Sunday is returned as is (it closes no weekday, but still names the day).
        """
        weekday = actual.weekday()
        if self.observed == "nearest_weekday" and weekday == _SATURDAY:
            return actual - timedelta(days=1)
        if self.observed in ("nearest_weekday", "sunday_to_monday") and weekday == _SUNDAY:
            return actual + timedelta(days=1)
        return actual


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date | None:
    first = date(year, month, 1)
    day = 1 + (weekday - first.weekday()) % 7 + 7 * (n - 1)
    if day > _stdlib_calendar.monthrange(year, month)[1]:
        return None
    return date(year, month, day)


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month, _stdlib_calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


class Calendar:
    """A working-day calendar: weekends plus holiday rules. Build one with `get_calendar(code)`.

    Instances are immutable; holiday dates are computed once per year and cached.
    """

    def __init__(
        self,
        code: str,
        name: str,
        rules: tuple[HolidayRule, ...],
        *,
        weekend: frozenset[int] = frozenset({_SATURDAY, _SUNDAY}),
        first_year: int = 1,
        source: str = "",
    ) -> None:
        names = {r.name for r in rules}
        for rule in rules:
            if rule.kind == "day_after" and rule.of not in names:
                raise ValueError(f"calendar {code}: holiday {rule.name!r} refers to unknown {rule.of!r}")
        if len(weekend) >= 7:
            raise ValueError(f"calendar {code}: a week needs at least one business day")
        self.code = code
        self.name = name
        self.rules = rules
        self.weekend = weekend
        self.first_year = first_year
        self.source = source
        self._by_year: dict[tuple[int, bool], dict[date, str]] = {}

    def __repr__(self) -> str:
        return f"<Calendar {self.code}>"

    @classmethod
    def from_data(cls, code: str, data: Mapping[str, Any]) -> Calendar:
        """Return the calendar described by one entry of `holidays.json`; raise ValueError if malformed."""
        try:
            weekend = frozenset(_WEEKDAYS[d] for d in data.get("weekend", ["SAT", "SUN"]))
        except KeyError as exc:
            raise ValueError(f"calendar {code}: unknown weekday {exc}") from None
        return cls(
            code,
            data.get("name", code),
            tuple(HolidayRule.from_row(row) for row in data["holidays"]),
            weekend=weekend,
            first_year=data.get("first_year", 1),
            source=data.get("source", ""),
        )

    def _actual_date(self, rule: HolidayRule, year: int, depth: int = 0) -> date | None:
        if not rule.applies_in(year):
            return None
        if rule.kind == "fixed":
            return date(year, rule.month, rule.day)
        if rule.kind == "nth_weekday":
            return _nth_weekday(year, rule.month, rule.weekday, rule.n)
        if rule.kind == "last_weekday":
            return _last_weekday(year, rule.month, rule.weekday)
        if depth > len(self.rules):
            raise ValueError(f"calendar {self.code}: day_after rules form a cycle at {rule.name!r}")
        # day_after: offset from the actual (not observed) date of the first rule of that name in force.
        for other in self.rules:
            if other.name == rule.of:
                base = self._actual_date(other, year, depth + 1)
                if base is not None:
                    return base + timedelta(days=rule.days)
        return None

    def _compute(self, year: int, include_open: bool) -> dict[date, str]:
        found: dict[date, list[str]] = {}
        # An observed date can fall in the neighbouring year (a Saturday January 1 is observed on
        # December 31), so rules are evaluated for the years either side too.
        for rule_year in (year - 1, year, year + 1):
            if not 1 <= rule_year <= 9999:
                continue
            for rule in self.rules:
                if not (rule.closed or include_open):
                    continue
                actual = self._actual_date(rule, rule_year)
                if actual is None:
                    continue
                observed = rule.observe(actual) if rule.closed else actual
                if observed.year != year:
                    continue
                label = rule.name if observed == actual else f"{rule.name} (observed)"
                if rule.closed:
                    found.setdefault(observed, []).append(label)
                else:
                    found.setdefault(observed, []).append(f"{label} (offices open)")
        return {d: " / ".join(found[d]) for d in sorted(found)}

    def holidays(self, year: int, *, include_open: bool = False) -> dict[date, str]:
        """Return the holidays of `year` as {date: name}, sorted by date.

        Dates are the days offices close: a fixed holiday moved off a weekend appears on its observed day
        with "(observed)" added to its name. With `include_open=True`, legal holidays on which offices stay
        open are listed too, marked "(offices open)". Raise ValueError for a year before the calendar's
        data is complete.
        """
        if year < self.first_year:
            raise ValueError(f"calendar {self.code} has holiday data from {self.first_year}, not {year}")
        key = (year, include_open)
        if key not in self._by_year:
            self._by_year[key] = self._compute(year, include_open)
        return dict(self._by_year[key])

    def _is_holiday(self, day: date) -> bool:
        key = (day.year, False)
        if key not in self._by_year:
            self.holidays(day.year)
        return day in self._by_year[key]

    def is_business_day(self, day: date) -> bool:
        """Return True if `day` is neither a weekend day nor a day offices close for a holiday."""
        return day.weekday() not in self.weekend and not self._is_holiday(day)

    def add_business_days(self, start: date, n: int) -> date:
        """Return the date `n` business days after `start`, skipping weekends and holidays.

        `start` itself never counts, so with `n >= 1` the result is a business day after `start` even
        when `start` is a holiday; `n == 0` returns `start` unchanged. Raise ValueError if `n` is negative.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        day = start
        remaining = n
        while remaining:
            day += timedelta(days=1)
            if self.is_business_day(day):
                remaining -= 1
        return day

    def business_days_between(self, a: date, b: date) -> int:
        """Return the number of business days after `a` up to and including `b`.

        So `business_days_between(a, add_business_days(a, n)) == n`, and `a == b` gives 0. If `b` is
        before `a` the count is negative: `-business_days_between(b, a)`.
        """
        if b < a:
            return -self.business_days_between(b, a)
        span = (b - a).days
        full_weeks, extra = divmod(span, 7)
        count = full_weeks * (7 - len(self.weekend))
        count += sum(1 for i in range(1, extra + 1) if (a.weekday() + i) % 7 not in self.weekend)
        for year in range(a.year, b.year + 1):
            for holiday in self.holidays(year):
                if a < holiday <= b and holiday.weekday() not in self.weekend:
                    count -= 1
        return count


def load_calendars(data: Mapping[str, Any]) -> dict[str, Calendar]:
    """Return every calendar in a parsed `holidays.json` document, by code."""
    return {code: Calendar.from_data(code, entry) for code, entry in data["calendars"].items()}


@cache
def _packaged_calendars() -> dict[str, Calendar]:
    text = resources.files("openipa.core").joinpath("data/holidays.json").read_text(encoding="utf-8")
    return load_calendars(json.loads(text))


def calendar_codes() -> list[str]:
    """Return the codes of the packaged calendars, sorted."""
    return sorted(_packaged_calendars())


def get_calendar(code: str) -> Calendar:
    """Return the packaged calendar `code` ("US-FED", "US-CA"); loaded once, then cached.

    Raise ValueError naming the known codes if `code` is unknown.
    """
    calendars = _packaged_calendars()
    if code not in calendars:
        raise ValueError(f"unknown calendar {code!r}; known: {', '.join(sorted(calendars))}")
    return calendars[code]
