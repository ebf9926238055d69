"""Late-payment interest: deadlines counted by hand on the US-CA working-day calendar, Medicare Advantage
calendar days, rule versions, the minimum, rounding, errors and properties.

US-CA holidays used below (from core/data/holidays.json): 2026-01-01 New Year's Day, 2026-01-19 Martin Luther
King Jr. Day, 2026-02-16 Presidents' Day, 2026-11-11 Veterans Day, 2026-11-26/27 Thanksgiving and the day
after, 2026-12-25 Christmas, 2027-01-01 New Year's Day.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.claims.engine.interest import INTEREST_SCHEMA, EngineInputError, due_date, interest_due

d = dt.date
KNOX_KEENE = "commercial_hmo"
MA = "medicare_advantage"


def rule(
    rule_id: int,
    lob: str = KNOX_KEENE,
    *,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    limit: int = 45,
    working: bool = True,
    calendar: str | None = "US-CA",
    rate: int = 15_000,
    minimum: int = 0,
    next_day: bool = True,
) -> dict[str, object]:
    return {
        "rule_id": rule_id,
        "line_of_business": lob,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "limit_days": limit,
        "working_days": working,
        "calendar_code": calendar,
        "rate_milli": rate,
        "minimum_interest_cents": minimum,
        "count_from_next_day": next_day,
    }


def rules(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(
        list(rows),
        schema_overrides={"valid_from": pl.Date, "valid_to": pl.Date, "calendar_code": pl.String},
    )


# Medicare Advantage: 30 calendar days at the Treasury Prompt Payment Act rate of each half year. 4-7/8% for
# July-December 2024 is the Bureau of the Fiscal Service notice; 4-1/8% for January-June 2026 as reported
# for that half year. Test data: the rows of 2025 are left out on purpose.
MA_RULES = [
    rule(
        10,
        MA,
        valid_from=d(2024, 7, 1),
        valid_to=d(2024, 12, 31),
        limit=30,
        working=False,
        calendar=None,
        rate=4_875,
    ),
    rule(
        11,
        MA,
        valid_from=d(2026, 1, 1),
        valid_to=d(2026, 6, 30),
        limit=30,
        working=False,
        calendar=None,
        rate=4_125,
    ),
]
RULES = rules(rule(1), *MA_RULES)


def line(
    line_id: int, received: dt.date, paid: int, lob: str = KNOX_KEENE, *, clean: bool = True
) -> dict[str, object]:
    return {
        "line_id": line_id,
        "line_of_business": lob,
        "received_on": received,
        "paid_cents": paid,
        "clean": clean,
    }


def run(rows: list[dict[str, object]], paid_on: dt.date, rule_frame: pl.DataFrame = RULES) -> pl.DataFrame:
    return interest_due(pl.DataFrame(rows), rule_frame, paid_on)


def test_45_working_days_skip_weekends_and_california_holidays() -> None:
    # Received Friday 2026-01-02. January after the 2nd: 19 working days (MLK day on the 19th); February: 19
    # (Presidents' Day on the 16th), 38 in all; March 2-6 makes 43, the 9th 44, the 10th 45.
    assert due_date(d(2026, 1, 2), 45, "US-CA", True) == d(2026, 3, 10)
    # counting the day of receipt as day 1 moves the deadline a working day earlier
    assert due_date(d(2026, 1, 2), 45, "US-CA", False) == d(2026, 3, 9)
    # Received Friday 2026-10-30: November has 18 (Veterans Day, Thanksgiving and the day after closed),
    # December 22 (Christmas closed): 40; 2027-01-01 is closed, January 4-8 makes 45.
    assert due_date(d(2026, 10, 30), 45, "US-CA", True) == d(2027, 1, 8)
    # calendar days: 30 days after 2024-09-02, or 29 when the day of receipt is day 1
    assert due_date(d(2024, 9, 2), 30, None, True) == d(2024, 10, 2)
    assert due_date(d(2024, 9, 2), 30, "", False) == d(2024, 10, 1)


def test_knox_keene_interest_by_hand() -> None:
    rows = [line(1, d(2026, 1, 2), 123_456)]
    on_time = run(rows, d(2026, 3, 10))
    assert on_time.rows() == [(1, 1, d(2026, 3, 10), 0, 15_000, 0, 0)]
    # one day late: 123,456 x 15% / 365 = 50.7353... -> 51
    assert run(rows, d(2026, 3, 11))["interest_cents"].to_list() == [51]
    # ten days late: 123,456 x 15% x 10 / 365 = 507.3534... -> 507
    late = run(rows, d(2026, 3, 20))
    assert late.rows() == [(1, 1, d(2026, 3, 10), 10, 15_000, 507, 507)]
    assert late.schema == pl.Schema(INTEREST_SCHEMA)


def test_medicare_advantage_calendar_days_at_the_treasury_rate_of_the_payment_date() -> None:
    # due 2024-10-02; paid 2024-10-17: 15 days x 4.875%: 250,000 x 0.04875 x 15 / 365 = 500.856... -> 501
    result = run([line(1, d(2024, 9, 2), 250_000, MA)], d(2024, 10, 17))
    assert result.rows() == [(1, 10, d(2024, 10, 2), 15, 4_875, 501, 501)]


def test_the_rule_version_in_force_on_the_payment_date_applies() -> None:
    # Received 2025-12-01, due 2025-12-31, paid 2026-01-10: the 2026 rate 4.125% applies to all 10 days:
    # 250,000 x 0.04125 x 10 / 365 = 282.534... -> 283
    assert run([line(1, d(2025, 12, 1), 250_000, MA)], d(2026, 1, 10)).rows() == [
        (1, 11, d(2025, 12, 31), 10, 4_125, 283, 283)
    ]
    # paid in 2025, when these rules have no MA row: no rule, no interest
    assert run([line(1, d(2025, 10, 1), 250_000, MA)], d(2025, 12, 20)).rows() == [
        (1, None, None, 0, None, 0, 0)
    ]
    # a new Knox-Keene version (a hypothetical 30 working days from July 2026) takes over on its first day
    switched = rules(rule(1, valid_to=d(2026, 6, 30)), rule(2, valid_from=d(2026, 7, 1), limit=30))
    # Received Friday 2026-05-01: May has 19 working days after it (Memorial Day closed); June 1-12 makes 29,
    # June 15 is the 30th; the 45th is July 6 (July 4 is a Saturday and US-CA offices stay open on the 3rd).
    received = d(2026, 5, 1)
    assert due_date(received, 30, "US-CA", True) == d(2026, 6, 15)
    assert due_date(received, 45, "US-CA", True) == d(2026, 7, 6)
    before = run([line(1, received, 100_000)], d(2026, 6, 30), switched)
    after = run([line(1, received, 100_000)], d(2026, 7, 1), switched)
    assert before.select("rule_id", "due_on", "days_late").rows() == [(1, d(2026, 7, 6), 0)]
    assert after.select("rule_id", "due_on", "days_late").rows() == [(2, d(2026, 6, 15), 16)]


def test_no_interest_for_unclean_or_non_paying_lines() -> None:
    result = run(
        [
            line(1, d(2026, 1, 2), 123_456, clean=False),
            line(2, d(2026, 1, 2), 0),
            line(3, d(2026, 1, 2), -500),
        ],
        d(2026, 4, 30),
    )
    assert result.select("line_id", "days_late", "interest_cents").rows() == [
        (1, 0, 0),
        (2, 51, 0),
        (3, 51, 0),
    ]


def test_interest_below_the_minimum_is_not_paid() -> None:
    with_minimum = rules(rule(1, minimum=200))
    rows = [line(1, d(2026, 1, 2), 123_456)]
    assert run(rows, d(2026, 3, 11), with_minimum).select("computed_cents", "interest_cents").rows() == [
        (51, 0)
    ]
    assert run(rows, d(2026, 3, 20), with_minimum).select("computed_cents", "interest_cents").rows() == [
        (507, 507)
    ]
    # exactly the minimum is paid: 200 cents at 15% for one day needs 486,667 cents (200.0001...)
    assert run([line(1, d(2026, 1, 2), 486_667)], d(2026, 3, 11), with_minimum)[
        "interest_cents"
    ].to_list() == [200]


def test_interest_rounds_half_up_once() -> None:
    calendar_days = rules(rule(1, limit=1, working=False, calendar=None, rate=5_000))
    # 365 cents x 5% x 10 days / 365 = 0.5 -> 1; 1,095 cents -> 1.5 -> 2; 364 cents -> 0.4986 -> 0
    rows = [line(1, d(2026, 1, 1), 365), line(2, d(2026, 1, 1), 1_095), line(3, d(2026, 1, 1), 364)]
    assert run(rows, d(2026, 1, 12), calendar_days)["interest_cents"].to_list() == [1, 2, 0]


def test_large_amounts_and_long_delays_stay_exact() -> None:
    full_rate = rules(rule(1, limit=1, working=False, calendar=None, rate=100_000))
    paid_on = d(2026, 1, 2) + dt.timedelta(days=36_000)
    result = run([line(1, d(2026, 1, 1), 10**11)], paid_on, full_rate)
    # 10^11 x 36,000 / 365 = 9,863,013,698,630.137 -> ...630
    assert result.select("days_late", "interest_cents").rows() == [(36_000, 9_863_013_698_630)]


@pytest.mark.parametrize(
    ("rule_frame", "match"),
    [
        (
            rules(rule(1), rule(2, valid_from=d(2026, 1, 1))),
            "two versions in force on the same day: "
            "line_of_business commercial_hmo, rule_id 1, rule_id_other 2",
        ),
        (rules(rule(1, calendar="US-XX")), "calendar_code: unknown calendar 'US-XX'.*rule_id 1"),
        (rules(rule(1, limit=0)), "limit_days must be at least 1: rule_id 1"),
        (rules(rule(1, rate=-1)), "rate_milli must be between 0 and 100000"),
        (rules(rule(1)).drop("working_days"), "interest rules: missing column\\(s\\) working_days"),
        (rules(rule(1), rule(1, MA)), "more than one row for the same rule_id"),
    ],
)
def test_bad_rules_are_refused_naming_the_rule(rule_frame: pl.DataFrame, match: str) -> None:
    with pytest.raises(EngineInputError, match=match):
        run([line(1, d(2026, 1, 2), 100)], d(2026, 3, 1), rule_frame)


def test_bad_lines_are_refused_naming_the_line() -> None:
    with pytest.raises(
        EngineInputError, match="lines: received_on is after the payment date 2026-03-01: line_id 7"
    ):
        run([line(7, d(2026, 3, 2), 100)], d(2026, 3, 1))
    with pytest.raises(EngineInputError, match="lines: clean is empty: line_id 8"):
        interest_due(
            pl.DataFrame([line(8, d(2026, 1, 2), 100)]).with_columns(pl.lit(None, pl.Boolean).alias("clean")),
            RULES,
            d(2026, 3, 1),
        )
    with pytest.raises(EngineInputError, match="lines: column paid_cents"):
        interest_due(
            pl.DataFrame([line(9, d(2026, 1, 2), 100)]).with_columns(pl.lit("x").alias("paid_cents")),
            RULES,
            d(2026, 3, 1),
        )


# -- properties ---------------------------------------------------------------------------------------------

_received = st.dates(d(2025, 1, 1), d(2026, 12, 31))
_rule = st.tuples(st.integers(1, 60), st.booleans(), st.integers(0, 100_000), st.booleans())


def _reference(paid: int, rate: int, days: int) -> int:
    exact = Fraction(max(paid, 0) * rate * days, 100_000 * 365)
    return int(exact + Fraction(1, 2)) if exact >= 0 else 0  # half up for non-negative values


@settings(max_examples=60, deadline=None)
@given(
    received=_received,
    paid=st.integers(-(10**6), 10**11),
    spec=_rule,
    extra=st.integers(0, 400),
    later=st.integers(0, 400),
)
def test_interest_is_never_negative_exact_and_grows_with_the_delay(
    received: dt.date, paid: int, spec: tuple[int, bool, int, bool], extra: int, later: int
) -> None:
    limit, working, rate, next_day = spec
    rule_frame = rules(
        rule(
            1,
            limit=limit,
            working=working,
            calendar="US-CA" if working else None,
            rate=rate,
            next_day=next_day,
        )
    )
    paid_on = received + dt.timedelta(days=extra)
    first = run([line(1, received, paid)], paid_on, rule_frame).row(0, named=True)
    second = run([line(1, received, paid)], paid_on + dt.timedelta(days=later), rule_frame).row(0, named=True)
    for result, day in ((first, paid_on), (second, paid_on + dt.timedelta(days=later))):
        assert result["interest_cents"] >= 0
        assert result["days_late"] == max(0, (day - result["due_on"]).days)
        assert result["interest_cents"] == _reference(paid, rate, result["days_late"])
    assert second["days_late"] >= first["days_late"]
    assert second["interest_cents"] >= first["interest_cents"]
