"""Decision clocks: the rules as seeded (data/clocks.json) and the engine's arithmetic across weekends,
holidays, daylight-saving changes and the 2026 rule change (CMS-0057-F)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.core.calendars import get_calendar
from openipa.utilization.engine import clocks
from openipa.utilization.engine.clocks import Clock, NoClockRule

LA = ZoneInfo("America/Los_Angeles")
CALENDARS = {"US-CA": get_calendar("US-CA")}


def _rules() -> list[Clock]:
    return [
        Clock(rule_id=n, **{k: row[k] for k in Clock.__dataclass_fields__ if k != "rule_id"})
        for n, row in enumerate(clocks.packaged_rules(), start=1)
    ]


RULES = _rules()


def la(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=LA)


def end_of(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59, 59), tzinfo=LA)


def due(received: dt.datetime, lob: str, urgency: str = "standard", *, kind: str = "prior_auth", state: str = "CA",
        applies_to: str = "request") -> dt.datetime:  # fmt: skip
    rule = clocks.pick_rule(RULES, line_of_business=lob, jurisdiction=state, kind=kind, urgency=urgency,
                            applies_to=applies_to, on=clocks.local_date(received, LA))  # fmt: skip
    return clocks.due_at(received, rule, LA, CALENDARS)


def test_medicare_advantage_standard_moves_from_14_to_7_days_on_2026_01_01() -> None:
    assert due(la("2025-12-31 10:00"), "medicare_advantage") == end_of("2026-01-14")
    assert due(la("2026-01-01 00:30"), "medicare_advantage") == end_of("2026-01-08")
    assert due(la("2025-12-20 10:00"), "medicaid") == end_of("2026-01-03")
    assert due(la("2026-01-02 10:00"), "medicaid") == end_of("2026-01-09")


def test_the_rule_is_chosen_by_the_local_day_of_receipt_not_utc() -> None:
    # 23:30 in Los Angeles on New Year's Eve is already 2026 in UTC: still the 14-day rule
    received = la("2025-12-31 23:30")
    assert received.astimezone(dt.UTC).year == 2026
    assert due(received, "medicare_advantage") == end_of("2026-01-14")


def test_seventy_two_hours_are_real_hours_across_the_spring_and_fall_changes() -> None:
    # 2026-03-08 02:00 PST -> PDT: 72 real hours from Friday noon end Monday 13:00 by the wall clock
    assert due(la("2026-03-06 12:00"), "medicare_advantage", "expedited") == la("2026-03-09 13:00")
    # 2026-11-01 02:00 PDT -> PST: they end at 11:00
    assert due(la("2026-10-30 12:00"), "medicare_advantage", "expedited") == la("2026-11-02 11:00")
    assert due(la("2026-03-06 12:00"), "medicare_advantage", "expedited") - la(
        "2026-03-06 12:00"
    ) == dt.timedelta(hours=72)


def test_calendar_days_end_at_local_midnight_whatever_the_offset() -> None:
    received = la("2026-03-05 10:00")  # PST; the due day is in PDT
    assert due(received, "medicare_advantage") == end_of("2026-03-12")
    assert due(received, "medicare_advantage").astimezone(LA).utcoffset() == dt.timedelta(hours=-7)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ("2026-03-02 09:00", "2026-03-09"),  # Monday: Tue..Mon
        ("2026-03-07 09:00", "2026-03-13"),  # Saturday: counting starts Monday
        ("2026-11-20 16:00", "2026-12-01"),  # Thanksgiving and the day after are California holidays
        ("2026-12-23 09:00", "2026-12-31"),  # Christmas
    ],
)
def test_california_commercial_five_business_days(received: str, expected: str) -> None:
    assert due(la(received), "commercial") == end_of(expected)


def test_california_commercial_expedited_is_72_hours_and_other_states_follow_erisa() -> None:
    assert due(la("2026-03-02 09:00"), "commercial", "expedited") == la("2026-03-05 09:00")
    assert due(la("2026-03-02 09:00"), "commercial", state="TX") == end_of("2026-03-17")  # 15 calendar days


def test_post_stabilization_clocks_by_line_of_business() -> None:
    received = la("2026-05-01 03:10")
    kinds = {"kind": "post_stabilization"}
    assert due(received, "commercial", "expedited", **kinds) == la(
        "2026-05-01 03:40"
    )  # California: 30 minutes
    assert due(received, "medicare_advantage", "expedited", **kinds) == la("2026-05-01 04:10")  # one hour
    rule = clocks.pick_rule(RULES, line_of_business="medicaid", jurisdiction="CA", kind="post_stabilization",
                            urgency="expedited", applies_to="request", on=received.date())  # fmt: skip
    assert rule.deemed_approved


def test_appeals_have_their_own_clocks() -> None:
    assert due(la("2026-03-06 10:00"), "medicare_advantage", applies_to="appeal") == end_of("2026-04-05")
    # 72 real hours across the spring change: 11:00 by the wall clock
    assert due(la("2026-03-06 10:00"), "medicaid", "expedited", applies_to="appeal") == la("2026-03-09 11:00")


def test_extensions() -> None:
    rule = clocks.pick_rule(RULES, line_of_business="medicare_advantage", jurisdiction="CA", kind="prior_auth",
                            urgency="standard", applies_to="request", on=dt.date(2026, 3, 2))  # fmt: skip
    original = clocks.due_at(la("2026-03-02 14:00"), rule, LA)
    assert clocks.extended_due_at(original, rule, LA) == end_of("2026-03-23")
    assert clocks.extended_due_at(original, rule, LA, 3) == end_of("2026-03-12")
    with pytest.raises(ValueError, match="1 to 14"):
        clocks.extended_due_at(original, rule, LA, 0)
    california = clocks.pick_rule(RULES, line_of_business="commercial", jurisdiction="CA", kind="prior_auth",
                                  urgency="standard", applies_to="request", on=dt.date(2026, 3, 2))  # fmt: skip
    with pytest.raises(ValueError, match="allows no extension"):
        clocks.extended_due_at(original, california, LA)


def test_no_rule_is_an_error_naming_what_was_looked_for() -> None:
    with pytest.raises(
        NoClockRule, match="no request clock for exchange, CA, prior_auth, standard on 2026-03-02"
    ):
        due(la("2026-03-02 09:00"), "exchange")
    with pytest.raises(ValueError, match="time zone"):
        clocks.local_date(dt.datetime(2026, 3, 2, 9), LA)


def test_time_left_is_shown_plainly() -> None:
    assert clocks.format_time_left(dt.timedelta(days=2, hours=4, minutes=5)) == "2d 4h"
    assert clocks.format_time_left(dt.timedelta(hours=3, minutes=5)) == "3h 05m"
    assert clocks.format_time_left(dt.timedelta(minutes=12, seconds=30)) == "12m"
    assert clocks.format_time_left(dt.timedelta(hours=-26)) == "overdue 1d 2h"


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=st.just(dt.UTC)),
    lob=st.sampled_from(["medicare_advantage", "medicaid", "commercial"]),
    urgency=st.sampled_from(["standard", "expedited"]),
    kind=st.sampled_from(["prior_auth", "referral", "post_stabilization"]),
)  # fmt: skip
def test_due_is_after_receipt_and_day_clocks_end_at_local_midnight(
    moment: dt.datetime, lob: str, urgency: str, kind: str
) -> None:
    urgency = "expedited" if kind == "post_stabilization" else urgency
    rule = clocks.pick_rule(RULES, line_of_business=lob, jurisdiction="CA", kind=kind, urgency=urgency,
                            applies_to="request", on=clocks.local_date(moment, LA))  # fmt: skip
    due_at = clocks.due_at(moment, rule, LA, CALENDARS)
    assert due_at > moment
    if rule.unit.endswith("days"):
        local = due_at.astimezone(LA)
        assert local.time() == dt.time(23, 59, 59)
        assert (
            dt.timedelta(days=rule.amount)
            <= local.date() - clocks.local_date(moment, LA)
            <= dt.timedelta(days=rule.amount * 2 + 6)
        )
    else:
        assert due_at - moment == dt.timedelta(**{rule.unit: rule.amount})
