"""Months, ages and member-month counting."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.core.months import (
    Month,
    Span,
    age_on,
    covered_days,
    covers_month,
    member_months,
    months_between,
)

months = st.builds(Month, st.integers(min_value=1900, max_value=2200), st.integers(min_value=1, max_value=12))
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def spans(draw: st.DrawFn) -> Span:
    start = draw(dates)
    if draw(st.booleans()) and draw(st.booleans()):
        return (start, None)
    return (start, start + timedelta(days=draw(st.integers(min_value=0, max_value=800))))


span_lists = st.lists(spans(), max_size=6)


def brute_days(spans: list[Span], month: Month) -> int:
    day, count = month.first_day, 0
    while day <= month.last_day:
        if any(s <= day and (e is None or day <= e) for s, e in spans):
            count += 1
        day += timedelta(days=1)
    return count


# ------------------------------------------------------------------------------------------- Month


def test_month_parses_and_prints_as_year_dash_month() -> None:
    assert Month.parse("2026-03") == Month(2026, 3)
    assert str(Month(2026, 3)) == "2026-03"
    assert str(Month(987, 1)) == "0987-01"


@pytest.mark.parametrize("text", ["2026-3", "2026-13", "2026-00", "202603", "March 2026", "", "2026-03-01"])
def test_month_parse_refuses_anything_but_year_dash_month(text: str) -> None:
    with pytest.raises(ValueError, match="month"):
        Month.parse(text)


def test_month_refuses_out_of_range_parts() -> None:
    with pytest.raises(ValueError, match="month must be"):
        Month(2026, 0)
    with pytest.raises(ValueError, match="year must be"):
        Month(0, 5)


def test_month_knows_its_first_and_last_day_and_length() -> None:
    feb_leap, feb = Month(2024, 2), Month(2026, 2)
    assert feb_leap.first_day == date(2024, 2, 1)
    assert feb_leap.last_day == date(2024, 2, 29)
    assert feb_leap.days == 29
    assert feb.days == 28
    assert Month(2026, 12).last_day == date(2026, 12, 31)


def test_month_steps_across_year_ends() -> None:
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2026, 1).prev() == Month(2025, 12)
    assert Month(2026, 3) + 13 == Month(2027, 4)
    assert Month(2026, 3) - 15 == Month(2024, 12)


def test_month_of_a_date_is_the_month_containing_it() -> None:
    assert Month.of(date(2026, 3, 31)) == Month(2026, 3)


def test_month_is_ordered_and_hashable() -> None:
    assert Month(2025, 12) < Month(2026, 1) < Month(2026, 2)
    assert len({Month(2026, 1), Month(2026, 1), Month(2026, 2)}) == 2


def test_month_cannot_be_changed() -> None:
    m = Month(2026, 1)
    with pytest.raises(AttributeError):
        m.month = 2  # type: ignore[misc]


def test_month_range_includes_both_ends() -> None:
    assert list(Month.range(Month(2025, 11), Month(2026, 2))) == [
        Month(2025, 11),
        Month(2025, 12),
        Month(2026, 1),
        Month(2026, 2),
    ]
    assert list(Month.range(Month(2026, 2), Month(2026, 2))) == [Month(2026, 2)]
    assert list(Month.range(Month(2026, 3), Month(2026, 2))) == []


def test_month_range_can_end_in_the_last_representable_month() -> None:
    assert list(Month.range(Month(9999, 11), Month(9999, 12))) == [Month(9999, 11), Month(9999, 12)]


def test_months_between_counts_steps_from_a_to_b() -> None:
    assert months_between(Month(2026, 1), Month(2026, 3)) == 2
    assert months_between(Month(2026, 3), Month(2026, 1)) == -2
    assert months_between(Month(2025, 12), Month(2026, 1)) == 1


@given(months, st.integers(min_value=-1000, max_value=1000))
def test_month_addition_and_months_between_agree(m: Month, n: int) -> None:
    assert months_between(m, m + n) == n
    assert (m + n) - n == m


@given(months)
def test_month_parse_reads_back_what_str_writes(m: Month) -> None:
    assert Month.parse(str(m)) == m


@given(months)
def test_month_next_starts_the_day_after_the_last_day(m: Month) -> None:
    assert m.next().first_day == m.last_day + timedelta(days=1)
    assert m.next().prev() == m
    assert (m.last_day - m.first_day).days + 1 == m.days


@given(months, months)
def test_month_range_length_matches_months_between(a: Month, b: Month) -> None:
    assert len(list(Month.range(a, b))) == max(0, months_between(a, b) + 1)


# ------------------------------------------------------------------------------------------- age_on


def test_age_on_counts_whole_years() -> None:
    assert age_on(date(1960, 6, 15), date(2026, 6, 14)) == 65
    assert age_on(date(1960, 6, 15), date(2026, 6, 15)) == 66
    assert age_on(date(2026, 6, 15), date(2026, 6, 15)) == 0


def test_age_on_feb_29_birthday_is_reached_on_march_1_in_common_years() -> None:
    birth = date(2000, 2, 29)
    assert age_on(birth, date(2001, 2, 28)) == 0
    assert age_on(birth, date(2001, 3, 1)) == 1
    assert age_on(birth, date(2004, 2, 29)) == 4
    assert age_on(birth, date(2004, 2, 28)) == 3


def test_age_on_refuses_a_date_before_birth() -> None:
    with pytest.raises(ValueError, match="before the birth date"):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


@given(dates, dates)
def test_age_on_never_decreases_and_grows_by_at_most_one_a_year(birth: date, on: date) -> None:
    if on < birth:
        birth, on = on, birth
    age = age_on(birth, on)
    assert age >= 0
    later = on + timedelta(days=366)
    assert age_on(birth, later) in (age + 1, age + 2)
    assert age_on(birth, on + timedelta(days=1)) in (age, age + 1)


# ------------------------------------------------------------------------------------------- spans


def test_member_months_count_a_month_once_for_any_covered_day() -> None:
    spans: list[Span] = [(date(2026, 1, 31), date(2026, 2, 1)), (date(2026, 4, 10), date(2026, 4, 12))]
    assert member_months(spans, Month(2026, 1), Month(2026, 5)) == {
        Month(2026, 1): 1,
        Month(2026, 2): 1,
        Month(2026, 3): 0,
        Month(2026, 4): 1,
        Month(2026, 5): 0,
    }


def test_member_months_overlapping_spans_still_count_once() -> None:
    spans: list[Span] = [(date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 2, 1), None)]
    assert set(member_months(spans, Month(2026, 1), Month(2026, 6)).values()) == {1}


def test_member_months_open_span_covers_every_later_month() -> None:
    result = member_months([(date(2026, 3, 15), None)], Month(2026, 1), Month(2030, 12))
    assert result[Month(2026, 2)] == 0
    assert all(result[m] == 1 for m in Month.range(Month(2026, 3), Month(2030, 12)))


def test_member_months_without_spans_is_all_zero() -> None:
    assert member_months([], Month(2026, 1), Month(2026, 2)) == {Month(2026, 1): 0, Month(2026, 2): 0}


def test_spans_ending_before_they_start_are_refused() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        covered_days([(date(2026, 2, 1), date(2026, 1, 31))], Month(2026, 1))


def test_covered_days_does_not_double_count_overlaps() -> None:
    spans: list[Span] = [
        (date(2026, 1, 1), date(2026, 1, 10)),
        (date(2026, 1, 5), date(2026, 1, 15)),
        (date(2026, 1, 16), date(2026, 1, 16)),
    ]
    assert covered_days(spans, Month(2026, 1)) == 16
    assert covered_days([(date(2025, 12, 20), None)], Month(2026, 2)) == 28


def test_covers_month_is_true_for_a_single_day() -> None:
    assert covers_month([(date(2026, 1, 31), date(2026, 1, 31))], Month(2026, 1))
    assert not covers_month([(date(2026, 1, 31), date(2026, 1, 31))], Month(2026, 2))


@given(span_lists, months.filter(lambda m: 1989 <= m.year <= 2045))
def test_covered_days_matches_a_day_by_day_count(spans: list[Span], month: Month) -> None:
    days = covered_days(spans, month)
    assert days == brute_days(spans, month)
    assert 0 <= days <= month.days
    assert covers_month(spans, month) == (days > 0)


@given(span_lists, months.filter(lambda m: 1989 <= m.year <= 2043))
def test_member_months_are_zero_or_one_and_agree_with_covers_month(spans: list[Span], start: Month) -> None:
    end = start + 24
    result = member_months(spans, start, end)
    assert list(result) == list(Month.range(start, end))
    for m, count in result.items():
        assert count == (1 if covers_month(spans, m) else 0)


@given(span_lists, months.filter(lambda m: 1989 <= m.year <= 2045))
def test_covered_days_does_not_depend_on_span_order(spans: list[Span], month: Month) -> None:
    assert covered_days(spans, month) == covered_days(list(reversed(spans)), month)
    assert covered_days(spans + spans, month) == covered_days(spans, month)
