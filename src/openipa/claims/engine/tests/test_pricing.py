"""Claim line pricing: hand-priced golden lines for each method and modifier, dating, units and rounding,
unpriced reasons, input errors, and properties (never negative, percent scales exactly, ranking independent of
line order) against a Fraction reference.

The golden lines use the made-up fixtures in data/ (RVUs of PPRRVU_TEST.csv, locality 0118218 with GPCIs
work 1.045, PE 1.185, MP 0.724) and a conversion factor of $33.4009. Each test's comment shows the arithmetic.
"""

from __future__ import annotations

import datetime as dt
import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.claims.engine.pricing import (
    CODE_RATE_SCHEMA,
    CONTRACT_TERM_SCHEMA,
    CONVERSION_FACTOR_SCHEMA,
    LINE_SCHEMA,
    PRICED_SCHEMA,
    price_lines,
)
from openipa.contracts.engine.rbrvs import read_gpci_file, read_rvu_file
from openipa.core.engine.frames import EngineInputError

DATA = Path(__file__).parent / "data"
DOS = dt.date(2026, 3, 2)
JAN26 = dt.date(2026, 1, 1)
LA = "0118218"
RVUS = read_rvu_file(DATA / "PPRRVU_TEST.csv", valid_from=JAN26)
GPCIS = read_gpci_file(DATA / "GPCI_TEST.csv", valid_from=JAN26)
CF = pl.DataFrame(
    {"valid_from": [JAN26], "valid_to": [None], "conversion_factor_e4": [334009]},
    schema=CONVERSION_FACTOR_SCHEMA,
)
Row = dict[str, Any]


def line(
    line_id: int,
    code: str,
    *modifiers: str,
    claim: int = 1,
    contract: int = 10,
    pos: str = "11",
    units: int = 1,
    billed: int = 100_000,
    date: dt.date = DOS,
    locality: str | None = LA,
) -> Row:
    return {
        "line_id": line_id,
        "claim_id": claim,
        "contract_id": contract,
        "service_date": date,
        "code": code,
        "modifiers": list(modifiers),
        "place_of_service": pos,
        "locality_id": locality,
        "units": units,
        "billed_cents": billed,
    }


def term(
    method: str = "medicare_rbrvs",
    percent: int | None = None,
    *,
    cap: bool = False,
    contract: int = 10,
    term_id: int = 1,
    valid_from: dt.date | None = JAN26,
    valid_to: dt.date | None = None,
) -> Row:
    return {
        "term_id": term_id,
        "contract_id": contract,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "method": method,
        "percent_milli": percent,
        "cap_at_billed": cap,
    }


def price(
    lines: list[Row],
    terms: list[Row] | None = None,
    *,
    rates: list[Row] | None = None,
    rvus: pl.DataFrame = RVUS,
    cf: pl.DataFrame = CF,
) -> pl.DataFrame:
    result = price_lines(
        pl.DataFrame(lines, schema=LINE_SCHEMA),
        pl.DataFrame(terms if terms is not None else [term()], schema=CONTRACT_TERM_SCHEMA),
        rvus,
        GPCIS,
        cf,
        pl.DataFrame(rates or [], schema=CODE_RATE_SCHEMA),
    )
    assert result.schema == PRICED_SCHEMA
    assert result["line_id"].to_list() == [r["line_id"] for r in lines]  # one row per line, input order
    return result


def allowed(result: pl.DataFrame) -> list[int | None]:
    return result["allowed_cents"].to_list()


def test_rbrvs_non_facility_golden_line_explained() -> None:
    # 99213, POS 11 (office: non-facility PE 1.20):
    # 1.30 x 1.045 + 1.20 x 1.185 + 0.10 x 0.724 = 1.3585 + 1.422 + 0.0724 = 2.8529
    # 2.8529 x 33.4009 = 95.289427... -> $95.29
    row = price([line(1, "99213")]).row(0, named=True)
    assert row["allowed_cents"] == 9529
    assert row["method"] == "medicare_rbrvs"
    assert (row["work_rvu_centi"], row["pe_rvu_centi"], row["mp_rvu_centi"]) == (130, 120, 10)
    assert (row["pw_gpci_milli"], row["pe_gpci_milli"], row["mp_gpci_milli"]) == (1045, 1185, 724)
    assert (row["conversion_factor_e4"], row["percent_milli"], row["pe_setting"]) == (
        334009,
        100000,
        "nonfacility",
    )
    assert row["reason"] is None
    assert row["capped"] is False


def test_facility_place_of_service_uses_facility_pe() -> None:
    # POS 22 (outpatient hospital): facility PE 0.55. 1.3585 + 0.55 x 1.185 + 0.0724 = 2.08265
    # 2.08265 x 33.4009 = 69.562384... -> $69.56.  POS 21 too; POS 02 (telehealth) is non-facility.
    result = price([line(1, "99213", pos="22"), line(2, "99213", pos="21"), line(3, "99213", pos="2")])
    assert allowed(result) == [6956, 6956, 9529]
    assert result["pe_setting"].to_list() == ["facility", "facility", "nonfacility"]


def test_units_multiply_before_the_single_rounding() -> None:
    # 3 units at POS 22: 3 x 69.562384385 = 208.687153... -> $208.69, not 3 x $69.56 = $208.68.
    assert allowed(price([line(1, "99213", pos="22", units=3)])) == [20869]


def test_professional_and_technical_components() -> None:
    # 93000 global: 0.17x1.045 + 0.30x1.185 + 0.01x0.724 = 0.54039 x 33.4009 = 18.0495 -> $18.05
    # 93000-26:     0.17x1.045 + 0.07x1.185 + 0.01x0.724 = 0.26784 x 33.4009 =  8.9461 -> $8.95
    # 93000-TC:     0.00       + 0.23x1.185 + 0.00       = 0.27255 x 33.4009 =  9.1034 -> $9.10
    result = price([line(1, "93000"), line(2, "93000", "26"), line(3, "93000", "TC", "59")])
    assert allowed(result) == [1805, 895, 910]
    assert result["rvu_modifier"].to_list() == ["", "26", "TC"]
    assert result["work_rvu_centi"].to_list() == [17, 17, 0]


def test_bilateral_pays_150_percent_only_with_indicator_1() -> None:
    # 20610-50 (BILAT SURG 1), non-facility: 0.79x1.045 + 1.10x1.185 + 0.09x0.724 = 2.19421
    # 2.19421 x 33.4009 x 1.5 = 109.932883... -> $109.93 ; without 50: 73.2886 -> $73.29
    # 99213-50 (BILAT SURG 0): no adjustment, $95.29.
    result = price(
        [line(1, "20610", "50"), line(2, "20610", claim=2), line(3, "99213", "50", claim=3)],
    )
    assert allowed(result) == [10993, 7329, 9529]
    assert result["bilateral_percent"].to_list() == [150, 100, 100]


def test_multiple_procedures_rank_by_fee_and_halve_the_rest() -> None:
    # Claim 1, one date: 64721 (MULT PROC 2) $504.62 and 20610 (MULT PROC 2) $73.29, 99213 (MULT PROC 0).
    # 64721 ranks first and pays 100%: 15.10805 x 33.4009 = 504.6225 -> $504.62
    # 20610 ranks second and pays 50%: 73.288588789 x 0.5 = 36.644294 -> $36.64
    # 99213 is not subject: $95.29.   The same 20610 on another date (line 4) is first on its date: $73.29.
    result = price(
        [
            line(1, "20610"),
            line(2, "64721", "51"),
            line(3, "99213"),
            line(4, "20610", date=dt.date(2026, 3, 3)),
        ]
    )
    assert allowed(result) == [3664, 50462, 9529, 7329]
    assert result["mult_proc_rank"].to_list() == [2, 1, None, 1]
    assert result["mult_proc_percent"].to_list() == [50, 100, 100, 100]


def test_multiple_procedure_ties_break_by_line_id_and_bilateral_counts_at_150() -> None:
    # Two 20610 lines of equal fee: the lower line_id ranks first. A bilateral 20610-50 ($109.93) outranks both.
    result = price([line(7, "20610"), line(5, "20610"), line(9, "20610", "50")])
    assert result["mult_proc_rank"].to_list() == [3, 2, 1]
    # 73.288588789 x 0.5 = 36.64 each; 109.9328831835 at 100%.
    assert allowed(result) == [3664, 3664, 10993]


def test_percent_of_medicare() -> None:
    # 110% of 99213: 95.289427610 x 1.10 = 104.818370... -> $104.82 (one rounding, not 110% of $95.29 = $104.819)
    # 112.5% of 93000-26: 8.946097056 x 1.125 = 10.064359 -> $10.06
    result = price(
        [line(1, "99213"), line(2, "93000", "26", contract=11)],
        [term("percent_of_medicare", 110_000), term("percent_of_medicare", 112_500, contract=11, term_id=2)],
    )
    assert allowed(result) == [10482, 1006]
    assert result["percent_milli"].to_list() == [110_000, 112_500]


def test_code_rate_table_modifier_row_wins_and_units() -> None:
    # Contract pays flat: 99213 $80.00; 93000 $40.00, 93000-26 $15.00.  3 units of 99213 = $240.00.
    # 20610-50 at a flat $100.00 with BILAT SURG 1: $150.00.
    rates = [
        {
            "contract_id": 10,
            "code": "99213",
            "modifier": "",
            "rate_cents": 8000,
            "valid_from": None,
            "valid_to": None,
        },
        {
            "contract_id": 10,
            "code": "93000",
            "modifier": "",
            "rate_cents": 4000,
            "valid_from": None,
            "valid_to": None,
        },
        {
            "contract_id": 10,
            "code": "93000",
            "modifier": "26",
            "rate_cents": 1500,
            "valid_from": None,
            "valid_to": None,
        },
        {
            "contract_id": 10,
            "code": "20610",
            "modifier": None,
            "rate_cents": 10000,
            "valid_from": None,
            "valid_to": None,
        },
    ]
    result = price(
        [
            line(1, "99213", units=3),
            line(2, "93000"),
            line(3, "93000", "26"),
            line(4, "20610", "50", claim=2),
        ],
        [term("code_rate")],
        rates=rates,
    )
    assert allowed(result) == [24000, 4000, 1500, 15000]
    assert result["rate_cents"].to_list() == [8000, 4000, 1500, 10000]
    assert result["work_rvu_centi"].to_list() == [None] * 4  # RBRVS inputs are not shown for a flat rate


def test_percent_of_billed_and_cap_at_billed() -> None:
    # 40% of $123.45 = $49.38.  Capped RBRVS: fee $95.29 but billed $50.00 -> allowed $50.00.
    result = price(
        [
            line(1, "99213", billed=12345, contract=12),
            line(2, "99213", billed=5000),
            line(3, "99213", billed=20000),
        ],
        [term("medicare_rbrvs", cap=True), term("percent_of_billed", 40_000, contract=12, term_id=2)],
    )
    assert allowed(result) == [4938, 5000, 9529]
    assert result["fee_cents"].to_list() == [4938, 9529, 9529]
    assert result["capped"].to_list() == [False, True, False]


def test_date_of_service_picks_the_version() -> None:
    # CF $33.4009 through 2026, $34.0000 from 2027: 2.8529 x 34 = 96.9986 -> $97.00.
    # The 2027 RVU file changes 99213's work RVU to 1.40: 1.40x1.045 + 1.422 + 0.0724 = 2.9574 x 34 = 100.5516.
    cf = pl.DataFrame(
        {
            "valid_from": [JAN26, dt.date(2027, 1, 1)],
            "valid_to": [dt.date(2026, 12, 31), None],
            "conversion_factor_e4": [334009, 340000],
        },
        schema=CONVERSION_FACTOR_SCHEMA,
    )
    new = RVUS.filter(code="99213").with_columns(work_rvu_centi=pl.lit(140, dtype=pl.Int64))
    rvus = pl.concat(
        [
            RVUS.with_columns(valid_to=pl.lit(dt.date(2027, 6, 30))),
            new.with_columns(valid_from=pl.lit(dt.date(2027, 7, 1))),
        ]
    )
    dates = [dt.date(2026, 12, 31), dt.date(2027, 1, 1), dt.date(2027, 7, 1)]
    result = price([line(i, "99213", date=d) for i, d in enumerate(dates)], rvus=rvus, cf=cf)
    assert allowed(result) == [9529, 9700, 10055]


def test_contract_term_switch_by_date() -> None:
    # Through June: 100% of Medicare; from July: 120%. 95.289427610 x 1.2 = 114.347313 -> $114.35
    terms = [
        term(valid_to=dt.date(2026, 6, 30)),
        term("percent_of_medicare", 120_000, term_id=2, valid_from=dt.date(2026, 7, 1)),
    ]
    result = price(
        [line(1, "99213", date=dt.date(2026, 6, 30)), line(2, "99213", date=dt.date(2026, 7, 1))], terms
    )
    assert allowed(result) == [9529, 11435]
    assert result["term_id"].to_list() == [1, 2]


def test_unpriced_lines_keep_null_and_a_reason() -> None:
    result = price(
        [
            line(1, "99213", contract=99),
            line(2, "12345"),
            line(3, "99999"),
            line(4, "99213", locality="9999999"),
            line(5, "99213", locality=None),
            line(6, "99213", date=dt.date(2025, 12, 31)),
            line(7, "93000", "53"),
            line(8, "99213", contract=13),
        ],
        [
            term(),
            term(valid_from=None, contract=99, term_id=2, valid_to=dt.date(2025, 1, 1)),
            term("code_rate", contract=13, term_id=3),
        ],
    )
    assert allowed(result) == [None] * 8
    assert result["reason"].to_list() == [
        "no pricing terms for contract 99 in force on 2026-03-02",
        "no RVU for code 12345 modifier '' on 2026-03-02",
        "RVU status B of code 99999 is not separately payable",
        "no GPCI for locality 9999999 on 2026-03-02",
        "no locality on the line",
        "no pricing terms for contract 10 in force on 2025-12-31",
        "no RVU for code 93000 modifier '53' on 2026-03-02",
        "no code rate for code 99213 on 2026-03-02 in contract 13",
    ]


def test_no_conversion_factor_is_a_reason() -> None:
    cf = CF.with_columns(valid_from=pl.lit(dt.date(2026, 6, 1)))
    assert price([line(1, "99213")], cf=cf)["reason"].to_list() == [
        "no conversion factor in force on 2026-03-02"
    ]


def test_input_errors_name_frame_field_and_row() -> None:
    with pytest.raises(EngineInputError, match=r"lines: units out of 1\.\.100000: line_id 1"):
        price([line(1, "99213", units=0)])
    with pytest.raises(EngineInputError, match="lines: line_id repeats: line_id 1"):
        price([line(1, "99213"), line(1, "93000")])
    with pytest.raises(EngineInputError, match="terms: method must be one of"):
        price([line(1, "99213")], [term("cheapest")])
    with pytest.raises(
        EngineInputError, match="terms: percent_milli is empty for a percent method: term_id 1"
    ):
        price([line(1, "99213")], [term("percent_of_medicare")])
    with pytest.raises(EngineInputError, match="terms: more than one version in force"):
        price([line(1, "99213")], [term(), term(term_id=2)])
    with pytest.raises(EngineInputError, match="lines: missing column"):
        price_lines(
            pl.DataFrame({"line_id": [1]}), pl.DataFrame(schema=CONTRACT_TERM_SCHEMA), RVUS, GPCIS, CF
        )


# --- properties -----------------------------------------------------------------------------------------


def reference_cents(
    work: int, pe: int, mp: int, g: tuple[int, int, int], cf: int, percent: int, units: int
) -> int:
    exact = (
        (
            (Fraction(work, 100) * Fraction(g[0], 1000) + Fraction(pe, 100) * Fraction(g[1], 1000))
            + Fraction(mp, 100) * Fraction(g[2], 1000)
        )
        * Fraction(cf, 10_000)
        * Fraction(percent, 100_000)
        * units
        * 100
    )
    return int(exact + Fraction(1, 2)) if exact >= 0 else -int(-exact + Fraction(1, 2))


rvu_value = st.integers(0, 100_000)


@settings(max_examples=60, deadline=None)
@given(
    work=rvu_value,
    pe=rvu_value,
    mp=rvu_value,
    gpci=st.tuples(st.integers(0, 3000), st.integers(0, 3000), st.integers(0, 3000)),
    cf=st.integers(0, 1_000_000),
    percent=st.integers(0, 1_000_000),
    units=st.integers(1, 999),
)
def test_property_rbrvs_matches_exact_reference_and_is_never_negative(
    work: int, pe: int, mp: int, gpci: tuple[int, int, int], cf: int, percent: int, units: int
) -> None:
    rvus = RVUS.filter(code="99213").with_columns(
        work_rvu_centi=pl.lit(work, dtype=pl.Int64),
        pe_nonfacility_rvu_centi=pl.lit(pe, dtype=pl.Int64),
        mp_rvu_centi=pl.lit(mp, dtype=pl.Int64),
    )
    gpcis = GPCIS.with_columns(
        pw_gpci_milli=pl.lit(gpci[0], dtype=pl.Int64),
        pe_gpci_milli=pl.lit(gpci[1], dtype=pl.Int64),
        mp_gpci_milli=pl.lit(gpci[2], dtype=pl.Int64),
    )
    cfs = CF.with_columns(conversion_factor_e4=pl.lit(cf, dtype=pl.Int64))
    result = price_lines(
        pl.DataFrame([line(1, "99213", units=units)], schema=LINE_SCHEMA),
        pl.DataFrame([term("percent_of_medicare", percent)], schema=CONTRACT_TERM_SCHEMA),
        rvus,
        gpcis,
        cfs,
    )
    got = result["allowed_cents"][0]
    assert got is not None
    assert got >= 0
    assert got == reference_cents(work, pe, mp, gpci, cf, percent, units)


@settings(max_examples=40, deadline=None)
@given(percent=st.integers(0, 500_000), units=st.integers(1, 50), pos=st.sampled_from(["11", "22"]))
def test_property_percent_of_medicare_scales_exactly(percent: int, units: int, pos: str) -> None:
    # P% of Medicare is the exact Medicare amount times P/100, rounded once: compare with 100% at full precision.
    lines = [line(1, "99213", pos=pos, units=units), line(2, "99213", pos=pos, units=units, contract=11)]
    result = price(lines, [term(), term("percent_of_medicare", percent, contract=11, term_id=2)])
    pe = 55 if pos == "22" else 120
    full = reference_cents(130, pe, 10, (1045, 1185, 724), 334009, 100_000, units)
    assert result["allowed_cents"][0] == full
    assert result["allowed_cents"][1] == reference_cents(
        130, pe, 10, (1045, 1185, 724), 334009, percent, units
    )
    assert (
        abs(result["allowed_cents"][1] - Fraction(full * percent, 100_000)) <= Fraction(percent, 100_000) + 1
    )


@settings(max_examples=40, deadline=None)
@given(
    codes=st.lists(
        st.tuples(st.sampled_from(["20610", "64721", "99213", "93000"]), st.booleans(), st.integers(1, 3)),
        min_size=1,
        max_size=8,
    ),
    seed=st.integers(0, 10_000),
)
def test_property_multiple_procedure_ranking_ignores_line_order(
    codes: list[tuple[str, bool, int]], seed: int
) -> None:
    lines = [
        line(i, code, *(["50"] if bilateral else []), units=units)
        for i, (code, bilateral, units) in enumerate(codes)
    ]
    shuffled = lines[:]
    random.Random(seed).shuffle(shuffled)
    first = price(lines).sort("line_id")
    second = price(shuffled).sort("line_id")
    assert first.equals(second)
    ranks = first.filter(pl.col("mult_proc_rank").is_not_null())
    assert sorted(ranks["mult_proc_rank"].to_list()) == list(range(1, ranks.height + 1))
    assert all(a is None or a >= 0 for a in first["allowed_cents"].to_list())
