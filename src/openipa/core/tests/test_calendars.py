"""Working-day calendars loaded from data/holidays.json."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.core.calendars import Calendar, HolidayRule, calendar_codes, get_calendar, load_calendars

FED = get_calendar("US-FED")
CA = get_calendar("US-CA")
dates = st.dates(min_value=date(2010, 1, 1), max_value=date(2060, 12, 31))


def test_packaged_calendars_are_federal_and_california() -> None:
    assert calendar_codes() == ["US-CA", "US-FED"]
    assert get_calendar("US-FED") is FED


def test_unknown_calendar_code_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: US-CA, US-FED"):
        get_calendar("US-XX")


def test_us_federal_holidays_2026() -> None:
    assert FED.holidays(2026) == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 19): "Birthday of Martin Luther King, Jr.",
        date(2026, 2, 16): "Washington's Birthday",
        date(2026, 5, 25): "Memorial Day",
        date(2026, 6, 19): "Juneteenth National Independence Day",
        date(2026, 7, 3): "Independence Day (observed)",
        date(2026, 9, 7): "Labor Day",
        date(2026, 10, 12): "Columbus Day",
        date(2026, 11, 11): "Veterans Day",
        date(2026, 11, 26): "Thanksgiving Day",
        date(2026, 12, 25): "Christmas Day",
    }


def test_us_federal_saturday_new_year_is_observed_on_the_last_friday_of_the_year_before() -> None:
    # January 1, 2022 was a Saturday; OPM observed it on Friday December 31, 2021.
    assert FED.holidays(2021)[date(2021, 12, 31)] == "New Year's Day (observed)"
    assert date(2022, 1, 1) not in FED.holidays(2022)
    assert len(FED.holidays(2021)) == 12
    assert len(FED.holidays(2022)) == 10


def test_us_federal_sunday_holiday_is_observed_on_monday() -> None:
    assert FED.holidays(2022)[date(2022, 12, 26)] == "Christmas Day (observed)"
    assert FED.holidays(2022)[date(2022, 6, 20)] == "Juneteenth National Independence Day (observed)"


def test_juneteenth_is_a_federal_holiday_only_from_2021() -> None:
    assert date(2020, 6, 19) not in FED.holidays(2020)
    assert FED.holidays(2021)[date(2021, 6, 18)] == "Juneteenth National Independence Day (observed)"


def test_veterans_day_was_in_october_from_1971_to_1977() -> None:
    assert FED.holidays(1975)[date(1975, 10, 27)] == "Veterans Day"
    assert date(1975, 11, 11) not in FED.holidays(1975)
    assert FED.holidays(1978)[date(1978, 11, 10)] == "Veterans Day (observed)"


def test_mlk_day_is_a_federal_holiday_from_1986() -> None:
    assert date(1985, 1, 21) not in FED.holidays(1985)
    assert FED.holidays(1986)[date(1986, 1, 20)] == "Birthday of Martin Luther King, Jr."


def test_years_before_the_data_is_complete_are_refused() -> None:
    with pytest.raises(ValueError, match="from 1971"):
        FED.holidays(1970)
    with pytest.raises(ValueError, match="from 2010"):
        CA.is_business_day(date(2005, 3, 31))


def test_california_state_holidays_2026() -> None:
    assert CA.holidays(2026) == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 19): "Martin Luther King Jr. Day",
        date(2026, 2, 16): "Presidents' Day",
        date(2026, 3, 31): "Cesar Chavez Day",
        date(2026, 5, 25): "Memorial Day",
        # July 4, 2026 is a Saturday: California gives holiday credit and does not close on Friday.
        date(2026, 7, 4): "Independence Day",
        date(2026, 9, 7): "Labor Day",
        date(2026, 11, 11): "Veterans Day",
        date(2026, 11, 26): "Thanksgiving Day",
        date(2026, 11, 27): "Day after Thanksgiving",
        date(2026, 12, 25): "Christmas Day",
    }
    assert CA.is_business_day(date(2026, 7, 3))
    assert not FED.is_business_day(date(2026, 7, 3))


def test_california_matches_the_calhr_2024_list() -> None:
    closed_weekdays = {d for d in CA.holidays(2024) if d.weekday() < 5}
    assert closed_weekdays == {
        date(2024, 1, 1),
        date(2024, 1, 15),
        date(2024, 2, 19),
        date(2024, 4, 1),  # Cesar Chavez Day, a Sunday, observed Monday
        date(2024, 5, 27),
        date(2024, 7, 4),
        date(2024, 9, 2),
        date(2024, 11, 11),
        date(2024, 11, 28),
        date(2024, 11, 29),
        date(2024, 12, 25),
    }


def test_california_saturday_veterans_day_is_observed_on_friday() -> None:
    assert CA.holidays(2023)[date(2023, 11, 10)] == "Veterans Day (observed)"


def test_california_open_office_holidays_are_listed_only_on_request() -> None:
    with_open = CA.holidays(2026, include_open=True)
    assert with_open[date(2026, 6, 19)] == "Juneteenth (offices open)"
    assert with_open[date(2026, 9, 25)] == "Native American Day (offices open)"
    assert with_open[date(2026, 2, 12)] == "Lincoln Day (offices open)"
    assert with_open[date(2026, 10, 12)] == "Columbus Day (offices open)"
    assert CA.is_business_day(date(2026, 6, 19))
    assert CA.is_business_day(date(2026, 9, 25))
    assert date(2026, 6, 19) not in CA.holidays(2026)


def test_holidays_returns_a_copy_the_caller_may_change() -> None:
    FED.holidays(2026).clear()
    assert len(FED.holidays(2026)) == 11


def test_weekends_and_holidays_are_not_business_days() -> None:
    assert FED.is_business_day(date(2026, 1, 2))
    assert not FED.is_business_day(date(2026, 1, 1))
    assert not FED.is_business_day(date(2026, 1, 3))
    assert not FED.is_business_day(date(2026, 1, 4))


def test_add_business_days_skips_weekends_and_holidays() -> None:
    # Wed Dec 23, 2026 + 2: Thu 24, (Fri 25 Christmas, weekend), Mon 28.
    assert FED.add_business_days(date(2026, 12, 23), 2) == date(2026, 12, 28)
    # Wed Nov 25, 2026 + 1 in California: Thanksgiving and the day after are closed.
    assert CA.add_business_days(date(2026, 11, 25), 1) == date(2026, 11, 30)
    assert FED.add_business_days(date(2026, 11, 25), 1) == date(2026, 11, 27)


def test_add_business_days_zero_returns_the_start() -> None:
    assert FED.add_business_days(date(2026, 1, 3), 0) == date(2026, 1, 3)


def test_add_business_days_from_a_holiday_counts_from_the_next_business_day() -> None:
    assert FED.add_business_days(date(2026, 1, 1), 1) == date(2026, 1, 2)


def test_add_business_days_refuses_negative_counts() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        FED.add_business_days(date(2026, 1, 1), -1)


def test_business_days_between_counts_after_a_through_b() -> None:
    assert FED.business_days_between(date(2026, 1, 2), date(2026, 1, 2)) == 0
    assert FED.business_days_between(date(2026, 1, 2), date(2026, 1, 5)) == 1
    assert FED.business_days_between(date(2026, 1, 5), date(2026, 1, 2)) == -1
    # 2026 has 261 weekdays, and all 11 federal holidays fall on weekdays.
    assert FED.business_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 250


@given(dates, st.integers(min_value=1, max_value=400))
def test_add_business_days_lands_on_a_business_day(start: date, n: int) -> None:
    for cal in (FED, CA):
        assert cal.is_business_day(cal.add_business_days(start, n))


@given(dates, st.integers(min_value=0, max_value=400))
def test_business_days_between_undoes_add_business_days(start: date, n: int) -> None:
    for cal in (FED, CA):
        assert cal.business_days_between(start, cal.add_business_days(start, n)) == n


@given(dates, st.integers(min_value=0, max_value=800))
def test_business_days_between_matches_a_day_by_day_count(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    expected = sum(1 for i in range(1, span + 1) if FED.is_business_day(start + timedelta(days=i)))
    assert FED.business_days_between(start, end) == expected


@given(st.integers(min_value=1971, max_value=2100))
def test_us_federal_holidays_close_weekdays_of_their_own_year(year: int) -> None:
    holidays = FED.holidays(year)
    assert all(d.year == year and d.weekday() < 5 for d in holidays)
    # 9 rules before 1986, 10 until 2020, 11 since; New Year's Day may move out of or into a year.
    assert 8 <= len(holidays) <= 12


def test_calendar_rows_are_validated_when_loaded() -> None:
    bad = {"calendars": {"X": {"holidays": [{"name": "Odd", "kind": "fixed", "month": 2, "day": 30}]}}}
    with pytest.raises(ValueError, match="'Odd': day 30 does not exist"):
        load_calendars(bad)
    bad_ref = {
        "calendars": {"X": {"holidays": [{"name": "After", "kind": "day_after", "of": "Nope", "days": 1}]}}
    }
    with pytest.raises(ValueError, match="unknown 'Nope'"):
        load_calendars(bad_ref)
    with pytest.raises(ValueError, match="unknown kind"):
        HolidayRule.from_row({"name": "Z", "kind": "easter"})
    with pytest.raises(ValueError, match="only fixed-date"):
        HolidayRule.from_row(
            {"name": "Z", "kind": "last_weekday", "month": 5, "weekday": "MON", "observed": "nearest_weekday"}
        )
    with pytest.raises(ValueError, match="whole numbers"):
        HolidayRule.from_row({"name": "Z", "kind": "fixed", "month": "1", "day": 1})
    with pytest.raises(ValueError, match=r"n must be 1\.\.5"):
        HolidayRule(name="Z", kind="nth_weekday", month=1, weekday=0, n=6)


def test_a_calendar_can_be_built_from_rows_in_code() -> None:
    rules = (
        HolidayRule(name="Founders Day", kind="nth_weekday", month=3, weekday=0, n=5, valid_from_year=2026),
    )
    cal = Calendar("TEST", "Test", rules)
    # March 2026 has five Mondays (2, 9, 16, 23, 30); March 2028 has only four, so no holiday.
    assert cal.holidays(2026) == {date(2026, 3, 30): "Founders Day"}
    assert cal.holidays(2028) == {}
    assert cal.holidays(2025) == {}
