"""IBNR engine: a golden triangle worked by hand, each averaging method, PMPM projection, overrides,
hindsight, edge cases and properties.

The golden triangle (as of 2026-04, four incurred months, no grouping), cumulative paid in cents:

    incurred   lag 0     lag 1     lag 2     lag 3
    2026-01    100000    150000    165000    168300
    2026-02    120000    174000    193140
    2026-03     90000    140400
    2026-04    110000

Individual age-to-age ratios: lag 0->1: 1.5, 1.45, 1.56; lag 1->2: 1.1, 1.11; lag 2->3: 1.02.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from openipa.claims.engine.ibnr import (
    CHAIN_LADDER,
    COMPUTED,
    ESTIMATE_SCHEMA,
    FACTOR_SCHEMA,
    HINDSIGHT_SCHEMA,
    OVERRIDE,
    PMPM,
    SIMPLE,
    SIMPLE_EXCLUDING_HIGH_LOW,
    TRIANGLE_SCHEMA,
    VOLUME_WEIGHTED,
    VOLUME_WEIGHTED_LAST_N,
    Estimate,
    IbnrInputError,
    compare,
    development_factors,
    estimate,
    lag_triangle,
    micro_text,
    override_factors,
    triangle_wide,
)

d = dt.date
JAN, FEB, MAR, APR = d(2026, 1, 1), d(2026, 2, 1), d(2026, 3, 1), d(2026, 4, 1)


def paid_lines(rows: list[tuple[dt.date, dt.date, int]], **groups: list[str]) -> pl.DataFrame:
    data: dict[str, list[object]] = {
        "incurred_date": [r[0] for r in rows],
        "paid_date": [r[1] for r in rows],
        "paid_cents": [r[2] for r in rows],
    }
    data.update({name: list(values) for name, values in groups.items()})
    return pl.DataFrame(data)


GOLDEN_LINES = [
    # 2026-01: 100000 at lag 0 (two lines), 50000 at lag 1, 15000 at lag 2, 3300 at lag 3
    (d(2026, 1, 5), d(2026, 1, 20), 60_000),
    (d(2026, 1, 28), d(2026, 1, 31), 40_000),
    (d(2026, 1, 9), d(2026, 2, 14), 50_000),
    (d(2026, 1, 30), d(2026, 3, 2), 15_000),
    (d(2026, 1, 2), d(2026, 4, 30), 3_300),
    # 2026-02: 120000, 54000, 19140
    (d(2026, 2, 3), d(2026, 2, 27), 120_000),
    (d(2026, 2, 10), d(2026, 3, 12), 54_000),
    (d(2026, 2, 11), d(2026, 4, 1), 20_000),
    (d(2026, 2, 11), d(2026, 4, 2), -860),  # a recoupment
    # 2026-03: 90000, 50400
    (d(2026, 3, 1), d(2026, 3, 31), 90_000),
    (d(2026, 3, 15), d(2026, 4, 15), 50_400),
    # 2026-04: 110000
    (d(2026, 4, 2), d(2026, 4, 29), 110_000),
    # left out: paid after April (May), and incurred before the window (December 2025)
    (d(2026, 1, 5), d(2026, 5, 1), 7_777),
    (d(2026, 4, 30), d(2026, 5, 3), 8_888),
    (d(2025, 12, 20), d(2026, 1, 10), 9_999),
]
GOLDEN = paid_lines(GOLDEN_LINES)
MEMBER_MONTHS = pl.DataFrame({"month": [JAN, FEB, MAR, APR], "member_months": [100, 100, 90, 110]})


def golden_triangle() -> pl.DataFrame:
    # as_of mid-April: the whole of April's payments count
    return lag_triangle(GOLDEN, as_of=d(2026, 4, 15), months=4, group_by=[])


def factor_rows(factors: pl.DataFrame) -> list[tuple[int, str, str, str]]:
    return [
        (lag, micro_text(ata), micro_text(cdf), micro_text(done))
        for lag, ata, cdf, done in factors.select(
            "lag", "age_to_age_micro", "cdf_micro", "completion_micro"
        ).rows()
    ]


def test_the_triangle_is_cumulative_by_incurred_month_and_lag_up_to_the_as_of_month():
    triangle = golden_triangle()
    assert triangle.schema == pl.Schema(TRIANGLE_SCHEMA)
    assert triangle_wide(triangle).rows() == [
        (JAN, 100_000, 150_000, 165_000, 168_300),
        (FEB, 120_000, 174_000, 193_140, None),
        (MAR, 90_000, 140_400, None, None),
        (APR, 110_000, None, None, None),
    ]
    assert triangle.filter(pl.col("incurred_month") == FEB)["paid_cents"].to_list() == [
        120_000,
        54_000,
        19_140,
    ]


def test_golden_chain_ladder_by_volume_weighted_factors():
    """Volume weighted, every factor rounded half-up to 6 places:
    lag 0: (150000 + 174000 + 140400) / (100000 + 120000 + 90000) = 464400 / 310000 = 1.4980645.. -> 1.498065
    lag 1: (165000 + 193140) / (150000 + 174000) = 358140 / 324000 = 1.1053703.. -> 1.105370
    lag 2: 168300 / 165000 = 1.020000; lag 3 (tail): 1.000000
    CDFs (exact products of the rounded factors, then rounded):
    lag 3: 1.000000; lag 2: 1.020000; lag 1: 1.105370 x 1.02 = 1.1274774 -> 1.127477;
    lag 0: 1.498065 x 1.1274774 = 1.689034431231 -> 1.689034
    completion = 1 / CDF: 1/1.689034 = 0.59205439.. -> 0.592054; 1/1.127477 = 0.88693605.. -> 0.886936;
    1/1.02 = 0.98039215.. -> 0.980392; 1.000000
    Estimates (ultimate = paid / completion to the cent, IBNR = ultimate - paid):
    2026-01 lag 3: 168300 / 1 = 168300, IBNR 0
    2026-02 lag 2: 193140 / 0.980392 = 197002.83.. -> 197003, IBNR 3863
    2026-03 lag 1: 140400 / 0.886936 = 158297.78.. -> 158298, IBNR 17898
    2026-04 lag 0: 110000 / 0.592054 = 185793.86.. -> 185794, IBNR 75794
    Totals: paid 611840, ultimate 709395, IBNR 97555."""
    triangle = golden_triangle()
    factors = development_factors(triangle)
    assert factors.schema == pl.Schema(FACTOR_SCHEMA)
    assert factor_rows(factors) == [
        (0, "1.498065", "1.689034", "0.592054"),
        (1, "1.105370", "1.127477", "0.886936"),
        (2, "1.020000", "1.020000", "0.980392"),
        (3, "1.000000", "1.000000", "1.000000"),
    ]
    assert factors["periods"].to_list() == [3, 2, 1, 0]
    assert set(factors["source"]) == {COMPUTED}

    result = estimate(triangle, factors, member_months=MEMBER_MONTHS)
    assert result.months.schema == pl.Schema(ESTIMATE_SCHEMA)
    assert result.months.select(
        "incurred_month", "lag", "paid_cents", "ultimate_cents", "ibnr_cents"
    ).rows() == [
        (JAN, 3, 168_300, 168_300, 0),
        (FEB, 2, 193_140, 197_003, 3_863),
        (MAR, 1, 140_400, 158_298, 17_898),
        (APR, 0, 110_000, 185_794, 75_794),
    ]
    assert set(result.months["method"]) == {CHAIN_LADDER}
    assert result.months["pmpm_cents"].null_count() == 4
    assert (result.total_paid_cents, result.total_ultimate_cents, result.total_ibnr_cents) == (
        611_840,
        709_395,
        97_555,
    )
    assert result.groups.rows() == [(611_840, 709_395, 97_555, 4, 0)]
    assert result.factor_source == COMPUTED
    assert result.as_of_month == APR


@pytest.mark.parametrize(
    ("method", "periods", "expected", "notes"),
    [
        # lag 0: (1.5 + 1.45 + 1.56) / 3 = 1.5033333.. -> 1.503333; lag 1: (1.1 + 1.11) / 2 = 1.105
        (SIMPLE, None, ["1.503333", "1.105000", "1.020000"], [None, None, None]),
        # lag 0 without the highest (1.56) and lowest (1.45): 1.5; lag 1 has only two ratios: their mean
        (
            SIMPLE_EXCLUDING_HIGH_LOW,
            None,
            ["1.500000", "1.105000", "1.020000"],
            [None, "only 2 ratio(s): simple average of all", "only 1 ratio(s): simple average of all"],
        ),
        # last 2 months: lag 0 (174000 + 140400) / (120000 + 90000) = 314400 / 210000 = 1.4971428.. -> 1.497143;
        # lag 1 has only two months anyway: 1.105370
        (VOLUME_WEIGHTED_LAST_N, 2, ["1.497143", "1.105370", "1.020000"], [None, None, None]),
        # last 1 month: lag 0 140400 / 90000 = 1.56; lag 1 193140 / 174000 = 1.11
        (VOLUME_WEIGHTED_LAST_N, 1, ["1.560000", "1.110000", "1.020000"], [None, None, None]),
        (VOLUME_WEIGHTED, None, ["1.498065", "1.105370", "1.020000"], [None, None, None]),
    ],
)
def test_each_averaging_method(method, periods, expected, notes):
    factors = development_factors(golden_triangle(), method=method, periods=periods)
    assert [micro_text(v) for v in factors["age_to_age_micro"]][:3] == expected
    assert factors["note"].to_list()[:3] == notes
    assert factors["note"].to_list()[3] == "tail"


def test_simple_average_cdf_and_completion():
    """Simple: CDF lag 0 = 1.503333 x 1.105 x 1.02 = 1.6944066243 -> 1.694407, completion 1/1.694407 =
    0.59017697.. -> 0.590177; 2026-04 ultimate 110000 / 0.590177 = 186384.76.. -> 186385."""
    triangle = golden_triangle()
    factors = development_factors(triangle, method=SIMPLE)
    assert factor_rows(factors)[0] == (0, "1.503333", "1.694407", "0.590177")
    result = estimate(triangle, factors)
    assert result.months.row(3, named=True)["ultimate_cents"] == 186_385


def test_a_tail_factor_develops_every_month():
    """Tail 1.01: CDF lag 3 = 1.01, completion 1/1.01 = 0.990099; 2026-01 168300 / 0.990099 = 169983.00..
    -> 169983, IBNR 1683."""
    triangle = golden_triangle()
    factors = development_factors(triangle, tail=Decimal("1.01"))
    assert factor_rows(factors)[3] == (3, "1.010000", "1.010000", "0.990099")
    assert estimate(triangle, factors).months.row(0, named=True)["ibnr_cents"] == 1_683


def test_the_newest_month_below_the_threshold_is_projected_by_pmpm():
    """Threshold 0.6: 2026-04 (completion 0.592054) is projected. Base: the last 2 chain-ladder months,
    2026-02 (ultimate 197003, 100 member-months) and 2026-03 (158298, 90): PMPM = 355301 / 190 = 1870.005..
    -> 1870 cents; ultimate 1870 x 110 = 205700; IBNR 205700 - 110000 = 95700."""
    triangle = golden_triangle()
    result = estimate(
        triangle,
        development_factors(triangle),
        member_months=MEMBER_MONTHS,
        threshold=Decimal("0.6"),
        pmpm_months=2,
    )
    april = result.months.row(3, named=True)
    assert (april["method"], april["member_months"], april["pmpm_cents"]) == (PMPM, 110, 1_870)
    assert (april["ultimate_cents"], april["ibnr_cents"]) == (205_700, 95_700)
    assert april["chain_ladder_ultimate_cents"] == 185_794
    assert april["note"] == "PMPM of 2026-02..2026-03"
    assert result.months["method"].to_list() == [CHAIN_LADDER, CHAIN_LADDER, CHAIN_LADDER, PMPM]
    assert result.total_ibnr_cents == 3_863 + 17_898 + 95_700
    assert result.groups.rows() == [(611_840, 168_300 + 197_003 + 158_298 + 205_700, 117_461, 3, 1)]


def test_pmpm_with_all_base_months_and_with_trend():
    """Default 12 base months (all three chain-ladder months): (168300 + 197003 + 158298) / 290 = 523601 / 290
    = 1805.52 -> 1806; ultimate 1806 x 110 = 198660.
    Trend 1% a month, base 2026-02..03: 197003 x 1.01^2 = 200962.7603, 158298 x 1.01 = 159880.98; sum
    360843.7403 / 190 = 1899.177.. -> 1899; ultimate 1899 x 110 = 208890."""
    triangle = golden_triangle()
    factors = development_factors(triangle)
    every = estimate(triangle, factors, member_months=MEMBER_MONTHS, threshold=Decimal("0.6"))
    assert every.months.row(3, named=True)["pmpm_cents"] == 1_806
    assert every.months.row(3, named=True)["ultimate_cents"] == 198_660
    assert every.months.row(3, named=True)["note"] == "PMPM of 2026-01..2026-03"
    trended = estimate(
        triangle,
        factors,
        member_months=MEMBER_MONTHS,
        threshold=Decimal("0.6"),
        pmpm_months=2,
        monthly_trend=Decimal("0.01"),
    )
    assert trended.months.row(3, named=True)["pmpm_cents"] == 1_899
    assert trended.months.row(3, named=True)["ultimate_cents"] == 208_890


def test_a_projection_below_paid_is_floored_at_paid():
    """April with 10 member-months: 1870 x 10 = 18700 < 110000 paid, so ultimate = paid and IBNR 0."""
    triangle = golden_triangle()
    small = MEMBER_MONTHS.with_columns(
        pl.when(pl.col("month") == APR).then(10).otherwise(pl.col("member_months")).alias("member_months")
    )
    result = estimate(
        triangle, development_factors(triangle), member_months=small, threshold=Decimal("0.6"), pmpm_months=2
    )
    april = result.months.row(3, named=True)
    assert (april["ultimate_cents"], april["ibnr_cents"]) == (110_000, 0)
    assert "projection 18700 below paid" in april["note"]


def test_overridden_factors_are_used_and_said_so():
    """Override lag 0 with 1.6: CDF = 1.6 x 1.105370 x 1.02 = 1.80396384 -> 1.803964, completion
    1/1.803964 = 0.55433478.. -> 0.554335; 2026-04 ultimate 110000 / 0.554335 = 198435.96.. -> 198436,
    IBNR 88436. Other months keep computed factors."""
    triangle = golden_triangle()
    computed = development_factors(triangle)
    chosen = override_factors(computed, pl.DataFrame({"lag": [0], "age_to_age": ["1.6"]}))
    assert factor_rows(chosen)[0] == (0, "1.600000", "1.803964", "0.554335")
    assert chosen["source"].to_list() == [OVERRIDE, COMPUTED, COMPUTED, COMPUTED]
    assert chosen["note"][0] == "selected; computed 1.498065"
    assert factor_rows(chosen)[1:] == factor_rows(computed)[1:]
    result = estimate(triangle, chosen)
    assert result.factor_source == OVERRIDE
    assert result.months["factor_source"].to_list() == [COMPUTED, COMPUTED, COMPUTED, OVERRIDE]
    assert result.months.row(3, named=True)["ultimate_cents"] == 198_436
    assert result.months.row(3, named=True)["ibnr_cents"] == 88_436
    assert result.months["ultimate_cents"].to_list()[:3] == [168_300, 197_003, 158_298]


def test_overriding_a_later_factor_changes_every_younger_cdf():
    """Override lag 2 with 1.05: CDF lag 2 = 1.05 (completion 0.952381), so 2026-02 193140 / 0.952381 =
    202797.00.. -> 202797; lags 0 and 1 are marked override through their CDFs."""
    triangle = golden_triangle()
    chosen = override_factors(
        development_factors(triangle), pl.DataFrame({"lag": [2], "age_to_age": ["1.05"]})
    )
    assert chosen["cdf_source"].to_list() == [OVERRIDE, OVERRIDE, OVERRIDE, COMPUTED]
    result = estimate(triangle, chosen)
    assert result.months.row(1, named=True)["ultimate_cents"] == 202_797
    assert result.months["factor_source"].to_list() == [COMPUTED, OVERRIDE, OVERRIDE, OVERRIDE]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lag": [9], "age_to_age": ["1.1"]}, "lag 9: no such group and lag"),
        ({"lag": [0], "age_to_age": ["1.1234567"]}, "more than 6 decimal places"),
        ({"lag": [0], "age_to_age": ["0"]}, "must be positive"),
        ({"lag": [0], "age_to_age": ["abc"]}, "not a number"),
        ({"lag": [0, 0], "age_to_age": ["1.1", "1.2"]}, "more than one factor for the same group and lag"),
        ({"lag": [0], "age_to_age": ["1.1"], "region": ["x"]}, "region are not group columns"),
    ],
)
def test_bad_overrides_are_refused(overrides, message):
    with pytest.raises(IbnrInputError, match=message):
        override_factors(development_factors(golden_triangle()), pl.DataFrame(overrides))


PREVIOUS = pl.DataFrame(
    [
        (d(2025, 12, 1), 3, 9_999, 1_000_000, CHAIN_LADDER, 9_999, None, None, 9_999, 0, COMPUTED, None),
        (JAN, 2, 165_000, 980_000, CHAIN_LADDER, 168_367, None, None, 168_367, 3_367, COMPUTED, None),
        (FEB, 1, 174_000, 890_000, CHAIN_LADDER, 195_506, None, None, 195_506, 21_506, COMPUTED, None),
        (MAR, 0, 90_000, 590_000, CHAIN_LADDER, 152_542, None, None, 152_542, 62_542, COMPUTED, None),
    ],
    schema=ESTIMATE_SCHEMA,
    orient="row",
)


def test_hindsight_compares_last_months_estimate_with_the_runout():
    """Paid then (March) vs now (April): 2026-01 165000 -> 168300 (run-out 3300 against IBNR 3367: 67 left);
    2026-02 174000 -> 193140 (19140 against 21506: 2366 left); 2026-03 90000 -> 140400 (50400 against 62542:
    12142 left). 2025-12 is out of April's 4-month window."""
    out = compare(PREVIOUS, golden_triangle())
    assert out.schema == pl.Schema(HINDSIGHT_SCHEMA)
    assert out.select("incurred_month", "paid_now_cents", "runout_cents", "remaining_ibnr_cents").rows() == [
        (d(2025, 12, 1), None, None, None),
        (JAN, 168_300, 3_300, 67),
        (FEB, 193_140, 19_140, 2_366),
        (MAR, 140_400, 50_400, 12_142),
    ]
    assert out["note"].to_list() == ["not in the current triangle", None, None, None]


def test_hindsight_takes_an_estimate_and_a_reserve_that_ran_short_is_negative():
    """March's own estimate: the triangle at 2026-03 (3 months) gives 2026-03 lag 0 -> 1 factor
    (150000 + 174000) / (100000 + 120000) = 1.472727.., so the run-out of 2026-03 (50400) is compared with
    its reserve; a month whose run-out passed its IBNR shows a negative remainder."""
    march = lag_triangle(GOLDEN, as_of=d(2026, 3, 31), months=3, group_by=[])
    previous = estimate(march, development_factors(march))
    assert isinstance(previous, Estimate)
    out = compare(previous, golden_triangle())
    ibnr_then = previous.months["ibnr_cents"].to_list()
    assert out["runout_cents"].to_list() == [3_300, 19_140, 50_400]
    assert out["remaining_ibnr_cents"].to_list() == [
        ibnr_then[0] - 3_300,
        ibnr_then[1] - 19_140,
        ibnr_then[2] - 50_400,
    ]
    # 2026-01 was fully developed in March's triangle (its last lag, 2, is the tail): IBNR 0, run-out 3300
    assert ibnr_then[0] == 0
    assert out["remaining_ibnr_cents"][0] == -3_300


def test_groups_get_their_own_triangles_factors_and_totals():
    lines = paid_lines(
        [
            (d(2026, 3, 1), d(2026, 3, 5), 1_000),
            (d(2026, 3, 1), d(2026, 4, 5), 500),
            (d(2026, 4, 1), d(2026, 4, 5), 2_000),
            (d(2026, 3, 1), d(2026, 3, 5), 4_000),
            (d(2026, 3, 1), d(2026, 4, 5), 4_000),
            (d(2026, 4, 1), d(2026, 4, 5), 3_000),
        ],
        line_of_business=["mcare", "mcare", "mcare", "mcal", "mcal", "mcal"],
        service_category=["prof", "prof", "prof", "prof", "prof", "prof"],
    )
    triangle = lag_triangle(lines, as_of=APR, months=2, group_by=["line_of_business", "service_category"])
    assert triangle.columns[:2] == ["line_of_business", "service_category"]
    factors = development_factors(triangle)
    # mcal: 8000 / 4000 = 2.0; mcare: 1500 / 1000 = 1.5
    assert factors.filter(pl.col("lag") == 0).select("line_of_business", "age_to_age_micro").rows() == [
        ("mcal", 2_000_000),
        ("mcare", 1_500_000),
    ]
    result = estimate(triangle, factors)
    # mcal April: 3000 / 0.5 = 6000 (IBNR 3000); mcare April: 2000 / 0.666667 = 2999.99.. -> 3000 (IBNR 1000)
    assert result.groups.rows() == [
        ("mcal", "prof", 11_000, 14_000, 3_000, 2, 0),
        ("mcare", "prof", 3_500, 4_500, 1_000, 2, 0),
    ]
    assert result.total_ibnr_cents == 4_000
    assert result.group_by == ("line_of_business", "service_category")


def test_a_month_without_payments_has_zero_rows_and_no_ratio():
    """February has no claim line: its row is all zeros. The simple average skips it (1.5 and 1.56 are
    averaged: 1.53); volume weighting counts its zeros: (150000 + 0 + 140400) / (100000 + 0 + 90000) =
    1.528421.. -> 1.528421."""
    lines = GOLDEN.filter(pl.col("incurred_date").dt.month() != 2)
    triangle = lag_triangle(lines, as_of=APR, months=4, group_by=[])
    assert triangle.filter(pl.col("incurred_month") == FEB)["cumulative_cents"].to_list() == [0, 0, 0]
    assert development_factors(triangle, method=SIMPLE)["age_to_age_micro"][0] == 1_530_000
    assert development_factors(triangle)["age_to_age_micro"][0] == 1_528_421
    february = estimate(triangle, development_factors(triangle)).months.row(1, named=True)
    assert (february["paid_cents"], february["ultimate_cents"], february["ibnr_cents"]) == (0, 0, 0)


def test_a_lag_without_volume_gets_factor_one_and_a_note():
    lines = paid_lines([(d(2026, 4, 2), d(2026, 4, 3), 500), (d(2026, 3, 2), d(2026, 4, 3), 500)])
    factors = development_factors(lag_triangle(lines, as_of=APR, months=2, group_by=[]))
    assert factors.row(0, named=True)["age_to_age_micro"] == 1_000_000
    assert factors.row(0, named=True)["note"] == "no paid volume at this lag: factor 1"


def test_a_single_month_is_fully_complete():
    triangle = lag_triangle(GOLDEN, as_of=APR, months=1, group_by=[])
    assert triangle.rows() == [(APR, 0, 110_000, 110_000)]
    factors = development_factors(triangle)
    assert factor_rows(factors) == [(0, "1.000000", "1.000000", "1.000000")]
    result = estimate(triangle, factors)
    assert (result.total_paid_cents, result.total_ibnr_cents) == (110_000, 0)


def test_no_payment_at_all_gives_an_empty_but_complete_triangle():
    triangle = lag_triangle(GOLDEN.clear(), as_of=APR, months=2, group_by=[])
    assert triangle.rows() == [(MAR, 0, 0, 0), (MAR, 1, 0, 0), (APR, 0, 0, 0)]
    assert estimate(triangle, development_factors(triangle)).total_ibnr_cents == 0


def test_zero_member_months_for_a_projected_month_is_a_clear_error():
    triangle = golden_triangle()
    zero = MEMBER_MONTHS.with_columns(
        pl.when(pl.col("month") == APR).then(0).otherwise(pl.col("member_months")).alias("member_months")
    )
    with pytest.raises(IbnrInputError, match="all claims, month 2026-04: zero member-months"):
        estimate(triangle, development_factors(triangle), member_months=zero, threshold=Decimal("0.6"))


def test_zero_member_months_in_the_pmpm_base_is_a_clear_error():
    triangle = golden_triangle()
    zero = MEMBER_MONTHS.with_columns(
        pl.when(pl.col("month") < APR).then(0).otherwise(pl.col("member_months")).alias("member_months")
    )
    with pytest.raises(IbnrInputError, match="zero member-months in the PMPM base months 2026-01 to 2026-03"):
        estimate(triangle, development_factors(triangle), member_months=zero, threshold=Decimal("0.6"))


def test_missing_member_months_are_named():
    triangle = golden_triangle()
    factors = development_factors(triangle)
    with pytest.raises(IbnrInputError, match="member_months are needed to take the PMPM from"):
        estimate(triangle, factors, threshold=Decimal("0.6"))
    with pytest.raises(IbnrInputError, match="no row for all claims, month 2026-04"):
        estimate(triangle, factors, member_months=MEMBER_MONTHS.head(3), threshold=Decimal("0.6"))


def test_no_chain_ladder_month_to_base_a_pmpm_on():
    triangle = golden_triangle()
    # with a tail of 1.01 no month is complete, and a threshold of 1 projects them all
    factors = development_factors(triangle, tail=Decimal("1.01"))
    with pytest.raises(IbnrInputError, match="no chain-ladder month to take a PMPM from"):
        estimate(triangle, factors, member_months=MEMBER_MONTHS, threshold=Decimal("1"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lag_triangle(GOLDEN, as_of=APR, months=0, group_by=[]), "months must be at least 1"),
        (lambda: lag_triangle(GOLDEN.drop("paid_date"), as_of=APR, months=2, group_by=[]), "missing column"),
        (lambda: lag_triangle(GOLDEN, as_of=APR, months=2, group_by=["lob"]), "missing column"),
        (
            lambda: lag_triangle(paid_lines([(APR, d(2026, 3, 31), 5)]), as_of=APR, months=2, group_by=[]),
            "paid_date is before incurred_date: row 1",
        ),
        (lambda: development_factors(golden_triangle(), method="median"), "method must be one of"),
        (lambda: development_factors(golden_triangle(), method=VOLUME_WEIGHTED_LAST_N), "needs periods"),
        (lambda: development_factors(golden_triangle(), periods=3), "periods applies only"),
        (lambda: development_factors(golden_triangle(), tail=Decimal("0")), "tail must be positive"),
        (
            lambda: estimate(
                golden_triangle(), development_factors(golden_triangle()), threshold=Decimal("2")
            ),
            "threshold must be between 0 and 1",
        ),
        (
            lambda: estimate(golden_triangle(), development_factors(golden_triangle()).head(2)),
            "no factor for all claims, lag 3",
        ),
        (
            lambda: estimate(
                golden_triangle().filter(pl.col("lag") != 1), development_factors(golden_triangle())
            ),
            "triangle: incomplete row",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_it(call, message):
    with pytest.raises(IbnrInputError, match=message):
        call()


# ---------------------------------------------------------------------------------------------- properties


@st.composite
def triangles(draw):
    months = draw(st.integers(1, 6))
    lines = []
    for offset in range(months):
        incurred = d(2026, 7 - months + offset, 1) if months <= 6 else JAN
        lines.append((incurred, incurred, draw(st.integers(1_000, 1_000_000))))
        for lag in range(1, months - offset):
            paid = d(incurred.year, incurred.month + lag, 1)
            lines.append((incurred, paid, draw(st.integers(0, 300_000))))
    return paid_lines(lines), months


@settings(max_examples=150, deadline=None)
@given(
    data=triangles(),
    method=st.sampled_from([VOLUME_WEIGHTED, SIMPLE, VOLUME_WEIGHTED_LAST_N, SIMPLE_EXCLUDING_HIGH_LOW]),
    bump=st.integers(0, 500_000),
    threshold=st.sampled_from([Decimal(0), Decimal("0.5"), Decimal("0.8"), Decimal("0.95")]),
    mm=st.integers(1, 5_000),
)
def test_with_factors_of_at_least_one_ibnr_is_never_negative(data, method, bump, threshold, mm):
    lines, months = data
    triangle = lag_triangle(lines, as_of=d(2026, 6, 30), months=months, group_by=[])
    factors = development_factors(
        triangle, method=method, periods=2 if method == VOLUME_WEIGHTED_LAST_N else None
    )
    # a user's selection of at least 1 for the first lag
    factors = override_factors(
        factors, pl.DataFrame({"lag": [0], "age_to_age": [micro_text(1_000_000 + bump)]})
    )
    assert (factors["age_to_age_micro"] >= 1_000_000).all()
    assert ((factors["completion_micro"] > 0) & (factors["completion_micro"] <= 1_000_000)).all()
    member_months = pl.DataFrame(
        {"month": sorted(set(triangle["incurred_month"])), "member_months": [mm] * months}
    )
    # the oldest month is at the last lag, whose completion is 1 (no tail), so there is always a PMPM base
    try:
        result = estimate(triangle, factors, member_months=member_months, threshold=threshold)
    except IbnrInputError as error:
        # every month immature: no chain-ladder month to take a PMPM from, which the engine refuses (tested above)
        assume("no chain-ladder month to take a PMPM from" not in str(error))
        raise
    out = result.months
    assert (out["ibnr_cents"] >= 0).all()
    assert (out["ultimate_cents"] >= out["paid_cents"]).all()
    assert result.total_ibnr_cents == result.total_ultimate_cents - result.total_paid_cents
    assert result.total_paid_cents == sum(lines["paid_cents"])


def test_grouped_pmpm_takes_each_groups_own_member_months():
    """Two groups with the golden lines each; group "b" has twice the member-months, so its April PMPM is
    half of "a"'s: a 355301 / 190 = 1870.005.. -> 1870, x 110 = 205700; b 355301 / 380 = 935.002.. -> 935,
    x 220 = 205700."""
    both = pl.concat(
        [
            GOLDEN.with_columns(pl.lit("a").alias("lob")),
            GOLDEN.with_columns(pl.lit("b").alias("lob")),
        ]
    )
    triangle = lag_triangle(both, as_of=APR, months=4, group_by=["lob"])
    exposure = pl.concat(
        [
            MEMBER_MONTHS.with_columns(pl.lit("a").alias("lob")),
            MEMBER_MONTHS.with_columns(pl.lit("b").alias("lob"), pl.col("member_months") * 2),
        ]
    )
    result = estimate(
        triangle,
        development_factors(triangle),
        member_months=exposure,
        threshold=Decimal("0.6"),
        pmpm_months=2,
    )
    april = result.months.filter(pl.col("incurred_month") == APR)
    assert april.select("lob", "member_months", "pmpm_cents", "ultimate_cents").rows() == [
        ("a", 110, 1_870, 205_700),
        ("b", 220, 935, 205_700),
    ]
    with pytest.raises(IbnrInputError, match="no row for lob b, month 2026-04"):
        estimate(
            triangle,
            development_factors(triangle),
            member_months=exposure.filter((pl.col("lob") == "a") | (pl.col("month") < APR)),
            threshold=Decimal("0.6"),
        )
