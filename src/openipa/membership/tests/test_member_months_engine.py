"""The member-month engine agrees with the kernel's per-member definition for any set of spans."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.core.months import Month, member_months
from openipa.membership import engine


def month_index(m: Month) -> int:
    return m.year * 12 + m.month - 1


span = st.tuples(
    st.integers(min_value=0, max_value=3),  # member
    st.integers(min_value=0, max_value=17),  # first month offset from 2025-01
    st.one_of(st.none(), st.integers(min_value=0, max_value=8)),  # length in months, None = open
)


@settings(max_examples=300, deadline=None)
@given(st.lists(span, min_size=1, max_size=12))
def test_engine_matches_the_per_member_definition(raw):
    base = Month(2025, 1)
    rows = []
    by_member: dict[int, list[tuple[dt.date, dt.date | None]]] = {}
    for member, offset, length in raw:
        first = base + offset
        last = None if length is None else first + length
        payer = member % 2  # members 0 and 2 at payer 0, 1 and 3 at payer 1
        rows.append((member, payer, month_index(first), None if last is None else month_index(last)))
        by_member.setdefault(member, []).append((first.first_day, None if last is None else last.last_day))
    frame = pl.DataFrame(rows, schema=engine.SPAN_SCHEMA, orient="row")
    low, high, counts = engine.member_months(frame)

    expected: Counter[tuple[int, int]] = Counter()
    start, end = Month(low // 12, low % 12 + 1), Month(high // 12, high % 12 + 1)
    for member, spans in by_member.items():
        for month, covered in member_months(spans, start, end).items():
            expected[(member % 2, month_index(month))] += covered
    got = {(p, m): n for p, m, n in counts.iter_rows()}
    payers = {member % 2 for member in by_member}
    assert set(got) == {(p, m) for p in payers for m in range(low, high + 1)}
    assert got == {key: expected.get(key, 0) for key in got}


def test_overlapping_spans_of_one_member_count_once():
    frame = pl.DataFrame([(1, 9, 100, 105), (1, 9, 103, None)], schema=engine.SPAN_SCHEMA, orient="row")
    low, high, counts = engine.member_months(frame)
    assert (low, high) == (100, 105)
    assert counts["n"].to_list() == [1] * 6


def test_no_spans_is_an_error_not_an_empty_answer():
    with pytest.raises(ValueError, match="at least one span"):
        engine.member_months(pl.DataFrame(schema=engine.SPAN_SCHEMA))
