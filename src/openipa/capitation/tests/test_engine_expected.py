"""Expected capitation: the worked example of docs/capitation-rules.md, edge cases, errors, and a property
test against a row-by-row reference written with Decimal and core.months.age_on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.capitation.engine import (
    EXPECTED_MEMBER_MONTH_SCHEMA,
    EXPECTED_SCHEMA,
    PREMIUM_SCHEMA,
    RAF_SCHEMA,
    RATE_CELL_SCHEMA,
    TERM_SCHEMA,
    EngineInputError,
    expected_capitation,
)
from openipa.core.engine.frames import Schema
from openipa.core.engine.rounding import MAX_AMOUNT_CENTS, MAX_FACTOR, half_up, half_up_by
from openipa.core.months import Month, age_on

MARCH = dt.date(2026, 3, 1)
Row = dict[str, Any]
Key = tuple[int, dt.date]


def member_month(
    member_id: int,
    product_id: int,
    birth: dt.date | None,
    sex: str,
    first_day: int = 1,
    covered: int | None = None,
    month: dt.date = MARCH,
) -> Row:
    days = Month.of(month).days
    return {
        "member_id": member_id,
        "month": month,
        "product_id": product_id,
        "birth_date": birth,
        "sex": sex,
        "covered_days": covered if covered is not None else days - first_day + 1,
        "first_covered_day": first_day,
        "days_in_month": days,
    }


def term(
    term_id: int,
    product_id: int,
    basis: str,
    *,
    valid_from: dt.date = dt.date(2025, 1, 1),
    valid_to: dt.date | None = None,
    percent: int | None = None,
    base: int | None = None,
    proration: str = "cutoff",
    cutoff: int | None = 15,
    reference: int = 1,
) -> Row:
    return {
        "term_id": term_id,
        "product_id": product_id,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "basis": basis,
        "percent_milli": percent,
        "risk_base_cents": base,
        "proration": proration,
        "cutoff_day": cutoff,
        "age_reference_month": reference,
    }


def cell(
    term_id: int, rate_cell_id: int, product_id: int, age_min: int, age_max: int, sex: str, pmpm: int
) -> Row:
    return dict(
        zip(RATE_CELL_SCHEMA, (term_id, rate_cell_id, product_id, age_min, age_max, sex, pmpm), strict=True)
    )


def frame(rows: Sequence[Any], schema: Schema) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


# The worked example of docs/capitation-rules.md.
TERMS = [
    term(1, 10, "pmpm_table", valid_to=dt.date(2026, 6, 30)),
    term(4, 10, "pmpm_table", valid_from=dt.date(2026, 7, 1)),
    term(2, 20, "percent_of_premium", percent=85_000, proration="daily"),
    term(3, 30, "risk_adjusted", base=95_050, proration="daily"),
]
CELLS = [
    cell(1, 100, 10, 0, 64, "U", 30_000),
    cell(1, 101, 10, 65, 120, "U", 90_000),
    cell(1, 102, 10, 65, 120, "F", 95_000),
    cell(4, 400, 10, 0, 64, "U", 31_000),
]
ANA, BEA, CARL, DAN, EVE, FINN, GUS = 1, 2, 3, 4, 5, 6, 7
EXAMPLE = [
    member_month(ANA, 10, dt.date(1961, 1, 1), "F"),
    member_month(BEA, 10, dt.date(1961, 1, 2), "F"),
    member_month(CARL, 10, dt.date(1960, 6, 15), "M", first_day=15),
    member_month(DAN, 10, dt.date(1960, 6, 15), "M", first_day=16),
    member_month(BEA, 10, dt.date(1961, 1, 2), "F", month=dt.date(2026, 7, 1)),
    member_month(EVE, 20, dt.date(1980, 5, 5), "F", first_day=22),
    member_month(FINN, 30, dt.date(1950, 2, 2), "M", first_day=12),
    member_month(GUS, 30, dt.date(1951, 3, 3), "M"),
]


def run_example() -> pl.DataFrame:
    return expected_capitation(
        pl.DataFrame(EXAMPLE, schema=EXPECTED_MEMBER_MONTH_SCHEMA),
        pl.DataFrame(TERMS, schema=TERM_SCHEMA),
        pl.DataFrame(CELLS, schema=RATE_CELL_SCHEMA),
        pl.DataFrame([{"member_id": EVE, "month": MARCH, "premium_cents": 123_456}], schema=PREMIUM_SCHEMA),
        pl.DataFrame([{"member_id": FINN, "month": MARCH, "raf_milli": 1235}], schema=RAF_SCHEMA),
    )


def test_worked_example_of_the_rules_document():
    """Hand-computed in docs/capitation-rules.md (March 2026 has 31 days).

    Ana: born 1961-01-01, age 65 on the reference day 2026-01-01 (birthday counts), female 65+ cell 95000
    beats the any-sex 65+ cell 90000. Bea: born 1961-01-02, age 64, cell 0-64 30000. Carl: coverage from
    the 15th = cutoff 15, full 90000. Dan: from the 16th, 0. Bea in July: term 4 (term 1 ended 2026-06-30),
    31000. Eve: 123456 x 85% = 104937.6 -> 104938, x 10/31 = 33850.97 -> 33851. Finn: 95050 x 1.235 =
    117386.75 -> 117387, x 20/31 = 75733.55 -> 75734. Gus: no RAF, assumed 1.000: 95050 x 31/31.
    """
    out = run_example()
    assert out.schema == pl.Schema(EXPECTED_SCHEMA)
    rows = out.select(
        "member_id", "term_id", "age", "rate_cell_id", "full_month_cents", "expected_cents"
    ).rows()
    assert rows == [
        (ANA, 1, 65, 102, 95_000, 95_000),
        (BEA, 1, 64, 100, 30_000, 30_000),
        (CARL, 1, 65, 101, 90_000, 90_000),
        (DAN, 1, 65, 101, 90_000, 0),
        (BEA, 4, 64, 400, 31_000, 31_000),
        (EVE, 2, 45, None, 104_938, 33_851),
        (FINN, 3, 75, None, 117_387, 75_734),
        (GUS, 3, 74, None, 95_050, 95_050),
    ]
    assert out["proration_factor"].to_list() == [
        "full month: coverage starts day 1 <= cutoff day 15",
        "full month: coverage starts day 1 <= cutoff day 15",
        "full month: coverage starts day 15 <= cutoff day 15",
        "none: coverage starts day 16 > cutoff day 15",
        "full month: coverage starts day 1 <= cutoff day 15",
        "10/31",
        "20/31",
        "31/31",
    ]
    assert out["raf_milli"].to_list() == [None, None, None, None, None, None, 1235, 1000]
    assert out["raf_assumed"].to_list() == [False] * 7 + [True]
    assert out["problem"].to_list() == [None] * 8
    assert out["basis"].to_list()[-3:] == ["percent_of_premium", "risk_adjusted", "risk_adjusted"]


def run_one(
    mm_row: Row,
    terms: list[Row] = TERMS,
    cells: list[Row] = CELLS,
    premiums: pl.DataFrame | None = None,
    raf: pl.DataFrame | None = None,
) -> Row:
    return expected_capitation(
        pl.DataFrame([mm_row], schema=EXPECTED_MEMBER_MONTH_SCHEMA),
        pl.DataFrame(terms, schema=TERM_SCHEMA),
        frame(cells, RATE_CELL_SCHEMA),
        premiums,
        raf,
    ).row(0, named=True)


@pytest.mark.parametrize(
    ("reference", "birth", "age"),
    [
        (7, dt.date(1961, 7, 1), 65),  # reference day after the service month: still 1 July of its year
        (7, dt.date(1961, 7, 2), 64),
        (3, dt.date(1961, 2, 28), 65),
        (3, dt.date(1960, 2, 29), 66),  # a leap-day birthday has passed by 1 March
        (1, dt.date(2026, 2, 10), 0),  # born after the reference day: a newborn is 0, not -1
    ],
)
def test_age_is_taken_on_the_first_of_the_reference_month_of_the_service_year(reference, birth, age):
    terms = [term(1, 10, "pmpm_table", reference=reference)]
    cells = [cell(1, 1, 10, 0, 64, "U", 100), cell(1, 2, 10, 65, 200, "U", 200)]
    row = run_one(member_month(1, 10, birth, "M"), terms, cells)
    assert row["age"] == age
    assert row["expected_cents"] == (100 if age <= 64 else 200)


def test_age_band_edges_are_inclusive_and_sex_specific_cells_win_only_for_their_sex():
    cells = [
        cell(1, 1, 10, 0, 17, "U", 100),
        cell(1, 2, 10, 18, 64, "U", 200),
        cell(1, 3, 10, 18, 64, "M", 250),
    ]
    terms = [term(1, 10, "pmpm_table")]
    at = {
        (dt.date(2008, 1, 1), "M"): (18, 3, 250),  # 18 on the reference day: the upper band, male cell
        (dt.date(2008, 1, 1), "F"): (18, 2, 200),
        (dt.date(2008, 1, 1), "U"): (18, 2, 200),
        (dt.date(2008, 1, 2), "M"): (17, 1, 100),
        (dt.date(1961, 1, 2), "M"): (64, 3, 250),
    }
    for (birth, sex), (age, cell_id, cents) in at.items():
        row = run_one(member_month(1, 10, birth, sex), terms, cells)
        assert (row["age"], row["rate_cell_id"], row["expected_cents"]) == (age, cell_id, cents), (birth, sex)


def test_daily_proration_rounds_half_up():
    terms = [term(1, 10, "pmpm_table", proration="daily")]
    april = dt.date(2026, 4, 1)
    row = run_one(
        member_month(1, 10, dt.date(1990, 1, 1), "F", first_day=16, month=april),
        terms,
        [cell(1, 1, 10, 0, 99, "U", 10_001)],
    )
    assert (row["proration_factor"], row["expected_cents"]) == ("15/30", 5001)  # 5000.5 -> 5001
    row = run_one(
        member_month(1, 10, dt.date(1990, 1, 1), "F", first_day=16, month=april),
        terms,
        [cell(1, 1, 10, 0, 99, "U", 9_999)],
    )
    assert row["expected_cents"] == 5000  # 4999.5 -> 5000


def test_cutoff_with_daily_coverage_is_all_or_nothing():
    terms = [term(1, 20, "percent_of_premium", percent=50_000, cutoff=1)]
    premiums = pl.DataFrame([(1, MARCH, 1001)], schema=PREMIUM_SCHEMA, orient="row")
    whole = run_one(member_month(1, 20, None, "U"), terms, [], premiums)
    assert (whole["full_month_cents"], whole["expected_cents"], whole["problem"]) == (501, 501, None)
    late = run_one(member_month(1, 20, None, "U", first_day=2), terms, [], premiums)
    assert (late["full_month_cents"], late["expected_cents"]) == (501, 0)


def test_unpriceable_member_months_stay_with_zero_and_a_reason():
    premiums = pl.DataFrame(schema=PREMIUM_SCHEMA)
    cases = [
        (
            member_month(1, 99, dt.date(1990, 1, 1), "F"),
            "no contract term in force for product 99 on 2026-03-01",
        ),
        (member_month(2, 10, None, "F"), "no birth date, so no age to choose a rate cell"),
        (
            member_month(3, 10, dt.date(1900, 1, 1), "F"),
            "no rate cell in term 1 for product 10, age 126, sex F",
        ),
        (member_month(4, 20, dt.date(1990, 1, 1), "F"), "no premium for this member-month"),
        (
            member_month(5, 10, dt.date(1990, 1, 1), "F", month=dt.date(2024, 12, 1)),
            "no contract term in force for product 10 on 2024-12-01",
        ),
    ]
    out = expected_capitation(
        pl.DataFrame([mm for mm, _ in cases], schema=EXPECTED_MEMBER_MONTH_SCHEMA),
        pl.DataFrame(TERMS, schema=TERM_SCHEMA),
        pl.DataFrame(CELLS, schema=RATE_CELL_SCHEMA),
        premiums,
    )
    assert out["member_id"].to_list() == [1, 2, 3, 4, 5]
    assert out["problem"].to_list() == [reason for _, reason in cases]
    assert out["expected_cents"].to_list() == [0] * 5
    assert out["full_month_cents"].to_list() == [None] * 5
    assert out["term_id"].to_list() == [None, 1, 1, 2, None]


def test_empty_input_gives_an_empty_frame_of_the_output_shape():
    out = expected_capitation(
        pl.DataFrame(schema=EXPECTED_MEMBER_MONTH_SCHEMA),
        pl.DataFrame(schema=TERM_SCHEMA),
        pl.DataFrame(schema=RATE_CELL_SCHEMA),
    )
    assert out.height == 0
    assert out.schema == pl.Schema(EXPECTED_SCHEMA)


def test_input_types_are_conformed_and_extra_columns_ignored():
    mm = pl.DataFrame([member_month(ANA, 10, dt.date(1961, 1, 1), "F")]).with_columns(
        pl.lit("x").alias("note")
    )
    out = expected_capitation(mm, pl.DataFrame(TERMS, schema=TERM_SCHEMA), pl.DataFrame(CELLS))
    assert out["expected_cents"].to_list() == [95_000]


def with_change(rows: list[Row], schema: Schema, **changes: object) -> pl.DataFrame:
    return pl.DataFrame([{**rows[0], **changes}, *rows[1:]], schema=schema)


@pytest.mark.parametrize(
    ("target", "changes", "message"),
    [
        (
            "mm",
            {"sex": "X"},
            "member_months: sex must be F, M or U: member_id 1, month 2026-03-01, product_id 10",
        ),
        ("mm", {"month": dt.date(2026, 3, 2)}, "member_months: month is not the first day of a month"),
        ("mm", {"days_in_month": 30}, "member_months: days_in_month does not match the month"),
        ("mm", {"first_covered_day": 0}, "member_months: first_covered_day is not a day of the month"),
        ("mm", {"covered_days": 32}, "member_months: covered_days must be between 1"),
        ("mm", {"covered_days": None}, "member_months: covered_days is empty: member_id 1"),
        ("mm", {"birth_date": dt.date(2026, 4, 1)}, "member_months: birth_date is after the month"),
        ("terms", {"basis": "capitated"}, "terms: basis must be one of pmpm_table"),
        ("terms", {"proration": "weekly"}, "terms: proration must be one of cutoff, daily"),
        ("terms", {"cutoff_day": None}, "terms: a cutoff term needs a cutoff_day from 1 to 31: term_id 1"),
        ("terms", {"age_reference_month": 13}, "terms: age_reference_month must be from 1 to 12"),
        ("terms", {"valid_to": dt.date(2024, 1, 1)}, "terms: valid_to is before valid_from"),
        (
            "terms",
            {"valid_to": dt.date(2026, 7, 1)},
            "terms: two terms are in force for the same product on the same day: product_id 10, previous_term 1, "
            "term_id 4",
        ),
        ("terms", {"valid_to": None}, "terms: two terms are in force for the same product on the same day"),
        (
            "cells",
            {"age_max": 70},
            "rate_cells: two cells of the same sex overlap in age: term_id 1, product_id 10",
        ),
        ("cells", {"age_min": 70}, "rate_cells: the age band must have 0 <= age_min <= age_max"),
        ("cells", {"pmpm_cents": MAX_AMOUNT_CENTS + 1}, "rate_cells: pmpm_cents is beyond"),
        ("cells", {"sex": "f"}, "rate_cells: sex must be F, M or U"),
        ("cells", {"rate_cell_id": 101}, "rate_cells: more than one row for the same term_id, rate_cell_id"),
    ],
)
def test_bad_input_names_the_frame_the_field_and_the_row(target, changes, message):
    mm = [member_month(1, 10, dt.date(1961, 1, 1), "F")]
    inputs = {
        "mm": pl.DataFrame(mm, schema=EXPECTED_MEMBER_MONTH_SCHEMA),
        "terms": pl.DataFrame(TERMS, schema=TERM_SCHEMA),
        "cells": pl.DataFrame(CELLS, schema=RATE_CELL_SCHEMA),
    }
    source = {"mm": mm, "terms": TERMS, "cells": CELLS}[target]
    schema = {"mm": EXPECTED_MEMBER_MONTH_SCHEMA, "terms": TERM_SCHEMA, "cells": RATE_CELL_SCHEMA}[target]
    inputs[target] = with_change(source, schema, **changes)
    with pytest.raises(EngineInputError) as raised:
        expected_capitation(inputs["mm"], inputs["terms"], inputs["cells"])
    assert str(raised.value).startswith(message)


def test_terms_missing_the_field_their_basis_needs_are_refused():
    mm = pl.DataFrame([member_month(1, 10, dt.date(1961, 1, 1), "F")], schema=EXPECTED_MEMBER_MONTH_SCHEMA)
    cells = pl.DataFrame(CELLS, schema=RATE_CELL_SCHEMA)
    for bad, message in [
        (
            term(9, 20, "percent_of_premium"),
            "terms: a percent_of_premium term needs percent_milli: term_id 9",
        ),
        (term(9, 20, "risk_adjusted"), "terms: a risk_adjusted term needs risk_base_cents: term_id 9"),
        (term(9, 20, "percent_of_premium", percent=MAX_FACTOR + 1), "terms: percent_milli must be between 0"),
    ]:
        with pytest.raises(EngineInputError, match=message):
            expected_capitation(mm, pl.DataFrame([bad], schema=TERM_SCHEMA), cells)


def test_missing_columns_wrong_types_and_duplicates_are_refused():
    mm = pl.DataFrame([member_month(1, 10, dt.date(1961, 1, 1), "F")], schema=EXPECTED_MEMBER_MONTH_SCHEMA)
    terms, cells = pl.DataFrame(TERMS, schema=TERM_SCHEMA), pl.DataFrame(CELLS, schema=RATE_CELL_SCHEMA)
    with pytest.raises(EngineInputError, match="member_months: missing column"):
        expected_capitation(mm.drop("sex", "days_in_month"), terms, cells)
    with pytest.raises(EngineInputError, match="terms: column cutoff_day is String, expected Int32"):
        expected_capitation(mm, terms.with_columns(pl.lit("fifteen").alias("cutoff_day")), cells)
    with pytest.raises(EngineInputError, match="member_months: more than one row for the same member_id"):
        expected_capitation(pl.concat([mm, mm]), terms, cells)
    premium = pl.DataFrame([(1, MARCH, 5), (1, MARCH, 6)], schema=PREMIUM_SCHEMA, orient="row")
    with pytest.raises(EngineInputError, match="premiums: more than one row for the same member_id, month"):
        expected_capitation(mm, terms, cells, premium)
    raf = pl.DataFrame([(1, MARCH, -1)], schema=RAF_SCHEMA, orient="row")
    with pytest.raises(EngineInputError, match="raf: raf_milli must be between 0 and"):
        expected_capitation(mm, terms, cells, raf=raf)


# -- rounding ----------------------------------------------------------------------------------------------


def decimal_half_up(numerator: int, denominator: int) -> int:
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


amounts = st.integers(min_value=-MAX_AMOUNT_CENTS * 100, max_value=MAX_AMOUNT_CENTS * 100)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(amounts, st.integers(min_value=0, max_value=MAX_FACTOR)), min_size=1, max_size=30),
    st.sampled_from([1, 2, 3, 7, 1000, 100_000]),
)
def test_half_up_matches_decimal_round_half_up(pairs, denominator):
    df = pl.DataFrame(pairs, schema={"a": pl.Int64, "b": pl.Int64}, orient="row")
    got = df.select(half_up(pl.col("a"), pl.col("b"), denominator))[:, 0].to_list()
    assert got == [decimal_half_up(a * b, denominator) for a, b in pairs]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(amounts, st.integers(0, 31), st.integers(28, 31)), min_size=1, max_size=30))
def test_half_up_by_matches_decimal_round_half_up(rows):
    df = pl.DataFrame(rows, schema={"a": pl.Int64, "n": pl.Int64, "d": pl.Int64}, orient="row")
    got = df.select(half_up_by(pl.col("a"), pl.col("n"), pl.col("d")))[:, 0].to_list()
    assert got == [decimal_half_up(a * n, d) for a, n, d in rows]


def test_half_up_rounds_halves_away_from_zero():
    df = pl.DataFrame({"a": [5, -5, 15, -15, 4, -4]})
    assert df.select(half_up(pl.col("a"), 1, 10))[:, 0].to_list() == [1, -1, 2, -2, 0, 0]
    with pytest.raises(ValueError, match="positive denominator"):
        half_up(pl.col("a"), 1, 0)


# -- property: the engine agrees with a row-by-row reference ------------------------------------------------


def reference(
    mm: list[Row], terms: list[Row], cells: list[Row], premiums: dict[Key, int], raf: dict[Key, int]
) -> list[tuple[int | None, int | None, int | None, int, bool]]:
    """The rules of docs/capitation-rules.md, one member-month at a time, with Decimal arithmetic."""
    out: list[tuple[int | None, int | None, int | None, int, bool]] = []
    for row in mm:
        month = row["month"]
        in_force = [
            t
            for t in terms
            if t["product_id"] == row["product_id"]
            and t["valid_from"] <= month
            and (t["valid_to"] is None or month <= t["valid_to"])
        ]
        if not in_force:
            out.append((None, None, None, 0, False))
            continue
        t = in_force[0]
        age = None
        if row["birth_date"] is not None:
            ref = dt.date(month.year, t["age_reference_month"], 1)
            age = 0 if ref < row["birth_date"] else age_on(row["birth_date"], ref)
        score = raf.get((row["member_id"], month))
        assumed = t["basis"] == "risk_adjusted" and score is None
        full = None
        if t["basis"] == "pmpm_table" and age is not None:
            matching = [
                c
                for c in cells
                if c["term_id"] == t["term_id"]
                and c["product_id"] == row["product_id"]
                and c["age_min"] <= age <= c["age_max"]
                and c["sex"] in (row["sex"], "U")
            ]
            matching.sort(key=lambda c: c["sex"] == "U")
            full = matching[0]["pmpm_cents"] if matching else None
        elif t["basis"] == "percent_of_premium":
            premium = premiums.get((row["member_id"], month))
            full = None if premium is None else decimal_half_up(premium * t["percent_milli"], 100_000)
        elif t["basis"] == "risk_adjusted":
            full = decimal_half_up(t["risk_base_cents"] * (1000 if score is None else score), 1000)
        if full is None:
            expected = 0
        elif t["proration"] == "cutoff":
            expected = full if row["first_covered_day"] <= t["cutoff_day"] else 0
        else:
            expected = decimal_half_up(full * row["covered_days"], row["days_in_month"])
        out.append((t["term_id"], age, full, expected, assumed))
    return out


months = st.sampled_from(
    [dt.date(2025, 11, 1), dt.date(2026, 2, 1), dt.date(2026, 7, 1), dt.date(2028, 2, 1)]
)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[Row], list[Row], list[Row], dict[Key, int], dict[Key, int]]:
    terms: list[Row] = []
    for product in (1, 2):
        split = draw(st.sampled_from([None, dt.date(2026, 1, 1), dt.date(2026, 7, 1)]))
        spans: list[tuple[dt.date, dt.date | None]] = (
            [(dt.date(2025, 1, 1), None)]
            if split is None
            else [(dt.date(2025, 1, 1), split - dt.timedelta(days=1)), (split, None)]
        )
        for valid_from, valid_to in spans:
            basis = draw(st.sampled_from(["pmpm_table", "percent_of_premium", "risk_adjusted"]))
            terms.append(
                term(
                    len(terms) + 1,
                    product,
                    basis,
                    valid_from=valid_from,
                    valid_to=valid_to,
                    percent=draw(st.integers(0, MAX_FACTOR)),
                    base=draw(st.integers(0, 10**9)),
                    proration=draw(st.sampled_from(["cutoff", "daily"])),
                    cutoff=draw(st.integers(1, 31)),
                    reference=draw(st.integers(1, 12)),
                )
            )
    cells: list[Row] = []
    for t in terms:
        for sex in draw(st.sets(st.sampled_from("FMU"))):
            edges = sorted(draw(st.sets(st.integers(0, 110), min_size=2, max_size=5)))
            for low, high in pairwise(edges):
                cells.append(
                    cell(
                        t["term_id"],
                        len(cells) + 1,
                        t["product_id"],
                        low,
                        high - 1,
                        sex,
                        draw(st.integers(0, 10**8)),
                    )
                )
    mm: list[Row] = []
    premiums: dict[Key, int] = {}
    raf: dict[Key, int] = {}
    for member_id in range(draw(st.integers(0, 12))):
        month = draw(months)
        days = Month.of(month).days
        first = draw(st.integers(1, days))
        birth = draw(st.one_of(st.none(), st.dates(dt.date(1915, 1, 1), month + dt.timedelta(days=20))))
        mm.append(
            member_month(
                member_id,
                draw(st.sampled_from([1, 2, 3])),
                birth,
                draw(st.sampled_from("FMU")),
                first_day=first,
                covered=draw(st.integers(1, days - first + 1)),
                month=month,
            )
        )
        if draw(st.booleans()):
            premiums[(member_id, month)] = draw(st.integers(-(10**9), 10**9))
        if draw(st.booleans()):
            raf[(member_id, month)] = draw(st.integers(0, MAX_FACTOR))
    return mm, terms, cells, premiums, raf


@settings(max_examples=150, deadline=None)
@given(scenario())
def test_engine_agrees_with_the_row_by_row_reference(case):
    mm, terms, cells, premiums, raf = case
    out = expected_capitation(
        frame(mm, EXPECTED_MEMBER_MONTH_SCHEMA),
        frame(terms, TERM_SCHEMA),
        frame(cells, RATE_CELL_SCHEMA),
        frame([(m, mo, p) for (m, mo), p in premiums.items()], PREMIUM_SCHEMA),
        frame([(m, mo, r) for (m, mo), r in raf.items()], RAF_SCHEMA),
    )
    assert out["member_id"].to_list() == [row["member_id"] for row in mm]
    got = out.select("term_id", "age", "full_month_cents", "expected_cents", "raf_assumed").rows()
    assert got == reference(mm, terms, cells, premiums, raf)
    assert (out.filter(pl.col("problem").is_not_null())["expected_cents"] == 0).all()
    assert out.filter(pl.col("full_month_cents").is_null())["problem"].null_count() == 0
