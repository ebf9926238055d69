"""Effective dating: picking the version in force, and refusing overlaps."""

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.core.dating import (
    OverlapError,
    check_no_overlaps,
    find_overlaps,
    in_force,
    overlaps,
    pick_in_force,
    validate_range,
)


@dataclass(frozen=True)
class Rate:
    valid_from: date
    valid_to: date | None
    cents: int = 0


class MutableRow:
    """Stands in for a Django model instance: plain mutable attributes."""

    def __init__(self, valid_from: date, valid_to: date | None) -> None:
        self.valid_from = valid_from
        self.valid_to = valid_to


JAN, JUN, JUL, DEC = date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 1), date(2026, 12, 31)
dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def rates(draw: st.DrawFn) -> Rate:
    start = draw(dates)
    end = None if draw(st.integers(0, 4)) == 0 else start + timedelta(days=draw(st.integers(0, 400)))
    return Rate(start, end, draw(st.integers(0, 10**6)))


def test_in_force_includes_both_ends() -> None:
    rate = Rate(JAN, JUN)
    assert in_force(rate, JAN)
    assert in_force(rate, JUN)
    assert not in_force(rate, JUL)
    assert not in_force(rate, date(2025, 12, 31))


def test_in_force_open_ended_runs_forever() -> None:
    assert in_force(Rate(JAN, None), date(9999, 12, 31))


def test_pick_in_force_chooses_the_version_for_the_date() -> None:
    first, second = Rate(JAN, JUN, 100), Rate(JUL, None, 110)
    assert pick_in_force([first, second], date(2026, 6, 30)) is first
    assert pick_in_force([first, second], date(2026, 7, 1)) is second
    assert pick_in_force([first, second], date(2025, 1, 1)) is None
    assert pick_in_force([], JAN) is None


def test_pick_in_force_refuses_to_choose_between_overlapping_versions() -> None:
    with pytest.raises(OverlapError, match=r"2026-01-01\.\.2026-06-30 and 2026-06-01\.\.open"):
        pick_in_force([Rate(JAN, JUN), Rate(date(2026, 6, 1), None)], date(2026, 6, 15))


def test_pick_in_force_works_with_plain_objects_like_model_instances() -> None:
    row = MutableRow(JAN, None)
    assert pick_in_force([row], JUL) is row


def test_overlaps_treats_ends_as_inclusive_and_none_as_open() -> None:
    assert overlaps(JAN, JUN, JUN, DEC)
    assert not overlaps(JAN, JUN, JUL, DEC)
    assert overlaps(JAN, None, DEC, DEC)
    assert overlaps(JUL, None, JAN, None)
    assert not overlaps(JUL, None, JAN, JUN)


def test_validate_range_allows_one_day_and_open_ranges() -> None:
    validate_range(JAN, JAN)
    validate_range(JAN, None)
    with pytest.raises(ValueError, match="valid_to 2025-12-31 is before valid_from 2026-01-01"):
        validate_range(JAN, date(2025, 12, 31))


def test_find_overlaps_returns_pairs_in_start_order() -> None:
    a, b, c = Rate(JAN, JUN, 1), Rate(JUL, None, 2), Rate(date(2026, 3, 1), date(2026, 8, 1), 3)
    assert find_overlaps([a, b, c]) == [(a, c), (c, b)]
    assert find_overlaps([a, b]) == []


def test_check_no_overlaps_names_both_ranges() -> None:
    check_no_overlaps([Rate(JAN, JUN), Rate(JUL, None)])
    with pytest.raises(OverlapError, match=r"2026-01-01\.\.2026-06-30 overlaps 2026-06-30\.\.open"):
        check_no_overlaps([Rate(JAN, JUN), Rate(JUN, None)])


def test_check_no_overlaps_says_how_many_more_pairs_overlap() -> None:
    with pytest.raises(OverlapError, match=r"and 2 more overlapping pair"):
        check_no_overlaps([Rate(JAN, None), Rate(JUN, None), Rate(JUL, None)])


def test_check_no_overlaps_refuses_backwards_ranges() -> None:
    with pytest.raises(ValueError, match="before valid_from"):
        check_no_overlaps([Rate(JUL, JUN)])


def test_overlap_error_is_a_value_error() -> None:
    assert issubclass(OverlapError, ValueError)


@given(dates, st.one_of(st.none(), dates), dates, st.one_of(st.none(), dates))
def test_overlaps_is_symmetric_and_agrees_with_a_shared_day(
    a_from: date, a_to: date | None, b_from: date, b_to: date | None
) -> None:
    if a_to is not None and a_to < a_from:
        a_from, a_to = a_to, a_from
    if b_to is not None and b_to < b_from:
        b_from, b_to = b_to, b_from
    result = overlaps(a_from, a_to, b_from, b_to)
    assert result == overlaps(b_from, b_to, a_from, a_to)
    # If they share a day, the later start is one.
    shared = max(a_from, b_from)
    assert result == (in_force(Rate(a_from, a_to), shared) and in_force(Rate(b_from, b_to), shared))


@given(st.lists(rates(), max_size=12))
def test_find_overlaps_matches_checking_every_pair(versions: list[Rate]) -> None:
    found = find_overlaps(versions)
    expected = {
        frozenset((i, j))
        for (i, a), (j, b) in combinations(enumerate(versions), 2)
        if overlaps(a.valid_from, a.valid_to, b.valid_from, b.valid_to)
    }
    index = {id(v): i for i, v in enumerate(versions)}
    assert {frozenset((index[id(a)], index[id(b)])) for a, b in found} == expected
    assert all(a.valid_from <= b.valid_from for a, b in found)


@given(st.lists(rates(), max_size=12), dates)
def test_pick_in_force_finds_the_single_version_or_raises(versions: list[Rate], on: date) -> None:
    matching = [v for v in versions if in_force(v, on)]
    if len(matching) > 1:
        with pytest.raises(OverlapError):
            pick_in_force(versions, on)
    else:
        assert pick_in_force(versions, on) is (matching[0] if matching else None)


@given(st.lists(rates(), max_size=12))
def test_check_no_overlaps_raises_exactly_when_find_overlaps_finds_some(versions: list[Rate]) -> None:
    if find_overlaps(versions):
        with pytest.raises(OverlapError):
            check_no_overlaps(versions)
    else:
        check_no_overlaps(versions)
