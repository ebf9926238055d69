"""Planning one roster record against a member's current record: pure computation, no Django.

A member's coverage is a list of non-overlapping spans (product, first day, last day or open); so is their PCP
history (provider and practice). A roster record states what the plan says is true from some day on:

- an add, change, reinstatement or full-file (audit) record *overwrites* the member's timeline from each
  coverage line's begin date: before it, history is kept; from it, the line's product runs to its end date
  (or stays open) and nothing else follows;
- a termination *truncates* the timeline after the last covered day (a termination before a span started
  cancels that span);
- a reinstatement without a coverage line reopens the latest span.

The planner turns the new timelines into the fewest span operations (keep, update dates, insert, delete),
merges abutting spans of the same product or PCP, and names the first day on which the member's record
differs, which is what retro flags are measured from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from openipa.core.months import Month, months_between

ONE_DAY = dt.timedelta(days=1)

Action = Literal["add", "change", "term", "reinstate", "audit"]
Kind = Literal["add", "change", "term", "reinstate"]

Interval = tuple[Hashable, dt.date, dt.date | None]
"""(key, first day, last day inclusive or None for open). The key is a product id, or (provider, practice)."""

DEMOGRAPHIC_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "address_line1",
    "city",
    "state",
    "zip_code",
)
_DEMOGRAPHIC_SET = frozenset(DEMOGRAPHIC_FIELDS)


@dataclass(frozen=True, slots=True)
class SpanRow:
    """A span as stored: its row id (None if not stored yet), key and dates."""

    id: int | None
    key: Hashable
    start: dt.date
    end: dt.date | None


@dataclass(frozen=True, slots=True)
class MemberState:
    """The member's current record: demographics, coverage spans and PCP spans."""

    demographics: Mapping[str, object]
    coverage: tuple[SpanRow, ...] = ()
    pcp: tuple[SpanRow, ...] = ()


@dataclass(frozen=True, slots=True)
class Instruction:
    """What one roster record asks for, already resolved to product and provider keys."""

    action: Action
    demographics: Mapping[str, object] = field(default_factory=dict)
    """Only the fields the file gave."""
    coverage: tuple[Interval, ...] = ()
    """In-scope coverage lines: (product, begin, end)."""
    pcp: tuple[Interval, ...] = ()
    """PCP choices: ((provider, practice), begin, end)."""
    term_date: dt.date | None = None
    """For a termination: the last covered day."""


@dataclass(frozen=True, slots=True)
class SpanOps:
    insert: tuple[Interval, ...] = ()
    update: tuple[tuple[int, dt.date, dt.date | None], ...] = ()
    """(row id, new first day, new last day)."""
    delete: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.insert or self.update or self.delete)


@dataclass(frozen=True, slots=True)
class Plan:
    kind: Kind | None
    """None: the record changes nothing."""
    demographics: Mapping[str, tuple[object, object]]
    """field -> (before, after)."""
    coverage: SpanOps
    pcp: SpanOps
    effective: dt.date | None
    """The first day the member's coverage or PCP differs (None if only demographics changed)."""
    new_coverage: tuple[Interval, ...] = ()
    new_pcp: tuple[Interval, ...] = ()


# -- timelines ---------------------------------------------------------------------------------------


def _sorted(intervals: Iterable[Interval]) -> list[Interval]:
    return sorted(intervals, key=lambda i: i[1])


def merge_abutting(intervals: Iterable[Interval]) -> list[Interval]:
    """Join spans of the same key where one ends the day before the next starts."""
    out: list[Interval] = []
    for key, start, end in _sorted(intervals):
        if out:
            pkey, pstart, pend = out[-1]
            if pkey == key and pend is not None and pend + ONE_DAY == start:
                out[-1] = (pkey, pstart, end)
                continue
        out.append((key, start, end))
    return out


def overwrite(intervals: Iterable[Interval], start: dt.date, new: Interval | None) -> list[Interval]:
    """History before ``start`` kept (a span running past it is cut the day before); from ``start`` on only
    ``new`` (which should begin at ``start``)."""
    out: list[Interval] = []
    for key, s, e in intervals:
        if s >= start:
            continue
        if e is None or e >= start:
            e = start - ONE_DAY
        out.append((key, s, e))
    if new is not None:
        out.append(new)
    return merge_abutting(out)


def truncate(intervals: Iterable[Interval], last_day: dt.date) -> list[Interval]:
    """Nothing after ``last_day``: later spans dropped, a span running past it ends on it."""
    out: list[Interval] = []
    for key, s, e in intervals:
        if s > last_day:
            continue
        if e is None or e > last_day:
            e = last_day
        out.append((key, s, e))
    return _sorted(out)


def reopen_latest(intervals: Iterable[Interval]) -> list[Interval]:
    items = _sorted(intervals)
    if items and items[-1][2] is not None:
        key, s, _e = items[-1]
        items[-1] = (key, s, None)
    return items


def value_on(intervals: Iterable[Interval], day: dt.date) -> Hashable | None:
    for key, s, e in intervals:
        if s <= day and (e is None or day <= e):
            return key
    return None


def first_difference(old: Sequence[Interval], new: Sequence[Interval]) -> dt.date | None:
    """The first day on which the two timelines give a different key (or one has none), else None."""
    days: set[dt.date] = set()
    for _k, s, e in (*old, *new):
        days.add(s)
        if e is not None:
            days.add(e + ONE_DAY)
    for day in sorted(days):
        if value_on(old, day) != value_on(new, day):
            return day
    return None


def diff_spans(old: Sequence[SpanRow], new: Sequence[Interval]) -> SpanOps:
    """The fewest row operations turning ``old`` rows into ``new`` intervals.

    Identical spans are kept; a new span reuses a leftover old row of the same key that overlaps it (or
    starts on the same day) by updating its dates; other old rows are deleted and other new spans inserted.
    """
    remaining = list(old)
    todo: list[Interval] = []
    for interval in new:
        match = next((r for r in remaining if (r.key, r.start, r.end) == interval), None)
        if match is not None:
            remaining.remove(match)
        else:
            todo.append(interval)
    inserts: list[Interval] = []
    updates: list[tuple[int, dt.date, dt.date | None]] = []
    for key, s, e in todo:
        reuse = next(
            (
                r
                for r in remaining
                if r.id is not None
                and r.key == key
                and r.start <= (e or dt.date.max)
                and s <= (r.end or dt.date.max)
            ),
            None,
        )
        if reuse is not None and reuse.id is not None:
            remaining.remove(reuse)
            updates.append((reuse.id, s, e))
        else:
            inserts.append((key, s, e))
    deletes = tuple(r.id for r in remaining if r.id is not None)
    return SpanOps(tuple(inserts), tuple(updates), deletes)


# -- planning ------------------------------------------------------------------------------------


def _intervals(rows: Iterable[SpanRow]) -> list[Interval]:
    return _sorted((r.key, r.start, r.end) for r in rows)


def plan_member(current: MemberState | None, ins: Instruction) -> Plan:
    """What applying ``ins`` to a member (``None``: not on file yet) changes."""
    if current is None and ins.action != "term":
        return _plan_new(ins)
    old_cov = _intervals(current.coverage) if current else []
    old_pcp = _intervals(current.pcp) if current else []
    cov = list(old_cov)
    pcp = list(old_pcp)
    if ins.action == "term":
        if ins.term_date is not None:
            cov = truncate(cov, ins.term_date)
            pcp = truncate(pcp, ins.term_date)
    else:
        for key, begin, end in _sorted(ins.coverage):
            cov = overwrite(cov, begin, (key, begin, end))
        if ins.action == "reinstate" and not ins.coverage:
            cov = reopen_latest(cov)
        for key, begin, end in _sorted(ins.pcp):
            pcp = overwrite(pcp, begin, (key, begin, end))
        # a PCP is assigned only while the member is covered: cut PCP spans running past the last coverage
        if cov and cov[-1][2] is not None:
            pcp = truncate(pcp, cov[-1][2])

    demo: dict[str, tuple[object, object]] = {}
    before = current.demographics if current else {}
    for name in DEMOGRAPHIC_FIELDS:
        if name in ins.demographics:
            after = ins.demographics[name]
            if after in (None, "") or before.get(name) == after:
                continue
            demo[name] = (before.get(name), after)

    cov_ops = diff_spans(current.coverage if current else (), cov)
    pcp_ops = diff_spans(current.pcp if current else (), pcp)
    days = [d for d in (first_difference(old_cov, cov), first_difference(old_pcp, pcp)) if d is not None]
    effective = min(days) if days else None

    kind: Kind | None
    if current is None:
        kind = "add"
    elif not (demo or cov_ops or pcp_ops):
        kind = None
    elif ins.action == "term" and cov_ops:
        kind = "term"
    elif ins.action == "reinstate" and cov_ops:
        kind = "reinstate"
    elif ins.action == "add" and effective is not None and value_on(old_cov, effective) is None and cov_ops:
        kind = "add"
    else:
        kind = "change"
    return Plan(kind, demo, cov_ops, pcp_ops, effective, tuple(cov), tuple(pcp))


def _plan_new(ins: Instruction) -> Plan:
    """The common case of a large first file, without diffing against an empty record."""
    demo = {
        name: (None, value)
        for name, value in ins.demographics.items()
        if name in _DEMOGRAPHIC_SET and value is not None and value != ""
    }
    if len(ins.coverage) == 1 and len(ins.pcp) <= 1:
        # one coverage line and at most one PCP: nothing to merge or cut but the PCP's end
        line = ins.coverage[0]
        begin, end = line[1], line[2]
        pcp: tuple[Interval, ...] = ()
        if ins.pcp:
            key, pbegin, pend = ins.pcp[0]
            if end is not None and (pend is None or pend > end):
                pend = end
            if end is None or pbegin <= end:
                pcp = ((key, pbegin, pend),)
        effective: dt.date = min(begin, pcp[0][1]) if pcp else begin
        return Plan("add", demo, SpanOps((line,)), SpanOps(pcp), effective, (line,), pcp)
    cov: list[Interval] = []
    for key, begin, end in _sorted(ins.coverage):
        cov = overwrite(cov, begin, (key, begin, end))
    pcps: list[Interval] = []
    for key, begin, end in _sorted(ins.pcp):
        pcps = overwrite(pcps, begin, (key, begin, end))
    if cov and cov[-1][2] is not None:
        pcps = truncate(pcps, cov[-1][2])
    first = cov[0][1] if cov else (pcps[0][1] if pcps else None)
    if pcps and first is not None:
        first = min(first, pcps[0][1])
    return Plan("add", demo, SpanOps(tuple(cov)), SpanOps(tuple(pcps)), first, tuple(cov), tuple(pcps))


def retro_months(effective: dt.date, reference: dt.date) -> int:
    """Whole months between the month of ``effective`` and the (later) month of ``reference``; 0 if the change
    takes effect in the reference month or after it."""
    return max(0, months_between(Month.of(effective), Month.of(reference)))
