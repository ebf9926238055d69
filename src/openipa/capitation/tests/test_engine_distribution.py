"""Distribution: the worked example of docs/capitation-rules.md, each PCP method and split, bad input, and
properties that must hold for any input (the parts sum to the pool, every payout cent maps to a line)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.capitation.engine import (
    AGREEMENT_SCHEMA,
    COMPONENTS,
    DISTRIBUTION_MEMBER_MONTH_SCHEMA,
    LINE_SCHEMA,
    PAYOUT_SCHEMA,
    POOL_SHARE_SCHEMA,
    SPECIALIST_SCHEMA,
    DistributionRules,
    EngineInputError,
    distribute,
)
from openipa.core.engine.rounding import MAX_AMOUNT_CENTS, MAX_FACTOR
from openipa.core.money import allocate

MARCH = dt.date(2026, 3, 1)

RULES = DistributionRules(
    rule_id=7,
    term_id=3,
    reinsurance_pmpm_cents=250,
    withhold_percent_milli=10_000,
    risk_pool_percent_milli=5_000,
    pcp_method="flat",
    pcp_pmpm_cents=4_000,
    age_sex_factors=(),
    specialist_percent_milli=20_000,
    specialist_pmpm_cents=100,
    specialist_split="claims_volume",
    quality_percent_milli=3_000,
    default_admin_fee_percent_milli=12_000,
    default_admin_fee_pmpm_cents=0,
)
AGREEMENTS = pl.DataFrame([(1, 10_000, 50), (2, 8_000, 0)], schema=AGREEMENT_SCHEMA, orient="row")
SPECIALISTS = pl.DataFrame(
    [(9, "cardiology", 1000, 300_000), (8, "dermatology", 1000, 100_000)],
    schema=SPECIALIST_SCHEMA,
    orient="row",
)


def mm_frame(rows: Sequence[tuple[Any, ...]]) -> pl.DataFrame:
    """rows: (member_id, practice_id, share_cents[, age, sex, raf_milli]), all in March 2026."""
    full = []
    for row in rows:
        member_id, practice_id, share, *rest = row
        age, sex, raf = (*rest, 40, "F", 1000)[:3] if len(rest) < 3 else rest
        provider = None if practice_id is None else practice_id * 100
        full.append((member_id, MARCH, practice_id, provider, 5, age, sex, raf, share))
    if not full:
        return pl.DataFrame(schema=DISTRIBUTION_MEMBER_MONTH_SCHEMA)
    return pl.DataFrame(full, schema=DISTRIBUTION_MEMBER_MONTH_SCHEMA, orient="row")


EXAMPLE = mm_frame([(101, 1, 35_000), (102, 1, 33_333), (103, 2, 50_000), (104, None, 20_000)])


def test_worked_example_of_the_rules_document():
    """docs/capitation-rules.md, "Worked example".

    Per line: admin = share x admin% + admin pmpm (practice 1: 10% + 50; practice 2: 8%; none: default 12%),
    reinsurance 250, risk pool 5%, PCP flat 4000 (withhold 10% = 400, net 3600) only with a practice,
    specialist 20% + 100, quality 3%, retained = the rest.
      101: 3500+50=3550, 250, 1750, 4000, 7000+100=7100, 1050 -> retained 35000-17700 = 17300
      102: 3333.3->3333+50=3383, 250, 1666.65->1667, 4000, 6666.6->6667+100=6767, 999.99->1000 -> 16266
      103: 4000, 250, 2500, 4000, 10100, 1500 -> 27650
      104: 2400, 250, 1000, 0, 4100, 600 -> 11650
    Unmatched 139567 - 138333 = 1234. Specialist pool 28067 split 3:1 by claims = 21050.25 / 7016.75 ->
    21050 / 7017. Quality pool 4150 split 2:1 by member-months = 2766.67 / 1383.33 -> 2767 / 1383; practice
    1's 2767 over its two lines: 1384 (101), 1383 (102).
    """
    result = distribute(139_567, EXAMPLE, RULES, AGREEMENTS, SPECIALISTS)
    assert result.components == {
        "admin_fee": 13_333,
        "reinsurance": 1_000,
        "withhold": 8_117,
        "pcp": 10_800,
        "specialist": 28_067,
        "quality": 4_150,
        "retained": 74_100,
    }
    assert result.detail == {
        "withhold": 1_200,
        "risk_pool": 6_917,
        "pcp_gross": 12_000,
        "retained_lines": 72_866,
        "unmatched": 1_234,
    }
    assert result.unmatched_cents == 1_234
    lines = result.lines
    assert lines.schema == pl.Schema(LINE_SCHEMA)
    assert lines.drop("month").rows() == [
        (101, 1, 100, 5, 7, 3, 35_000, 3_550, 250, 1_750, 4_000, 400, 3_600, 7_100, 1_050, 17_300, 1_384),
        (102, 1, 100, 5, 7, 3, 33_333, 3_383, 250, 1_667, 4_000, 400, 3_600, 6_767, 1_000, 16_266, 1_383),
        (103, 2, 200, 5, 7, 3, 50_000, 4_000, 250, 2_500, 4_000, 400, 3_600, 10_100, 1_500, 27_650, 1_383),
        (104, None, None, 5, 7, 3, 20_000, 2_400, 250, 1_000, 0, 0, 0, 4_100, 600, 11_650, 0),
    ]
    assert result.pool_shares.schema == pl.Schema(POOL_SHARE_SCHEMA)
    assert result.pool_shares.rows() == [
        ("quality", 1, 2, 2_767, "member-months"),
        ("quality", 2, 1, 1_383, "member-months"),
        ("specialist", 8, 100_000, 7_017, "claims volume (cents)"),
        ("specialist", 9, 300_000, 21_050, "claims volume (cents)"),
    ]
    assert result.practice_payouts.schema == pl.Schema(PAYOUT_SCHEMA)
    assert result.practice_payouts.rows() == [
        (1, 8_000, 800, 7_200, 2_767, 0, 9_967),
        (2, 4_000, 400, 3_600, 1_383, 0, 4_983),
        (8, 0, 0, 0, 0, 7_017, 7_017),
        (9, 0, 0, 0, 0, 21_050, 21_050),
    ]
    assert result.notes == (
        "1234 cents of the pool match no member-month (payer adjustments, interest, payments for members not "
        "eligible) and are retained",
    )


def test_age_sex_and_risk_adjusted_pcp_rates_round_half_up():
    """PCP base 3333: age/sex factor 1.155 -> 3849.615 -> 3850 (withhold 10% = 385); the female band beats
    the any-sex band for the same ages (1.200 -> 3999.6 -> 4000); RAF 0.875 -> 2916.375 -> 2916."""
    rules = dataclasses.replace(
        RULES,
        pcp_method="age_sex",
        pcp_pmpm_cents=3_333,
        age_sex_factors=((0, 64, "U", 1_155), (0, 64, "F", 1_200), (65, 200, "U", 2_000)),
    )
    mm = mm_frame([(1, 1, 0, 64, "M", None), (2, 1, 0, 64, "F", None), (3, 1, 0, 65, "M", None)])
    lines = distribute(0, mm, rules, AGREEMENTS, SPECIALISTS).lines
    assert lines.select("pcp_gross_cents", "withhold_cents", "pcp_net_cents").rows() == [
        (3_850, 385, 3_465),
        (4_000, 400, 3_600),
        (6_666, 667, 5_999),
    ]
    rules = dataclasses.replace(RULES, pcp_method="risk_adjusted", pcp_pmpm_cents=3_333)
    mm = mm_frame([(1, 1, 0, None, "M", 875), (2, None, 0, None, "M", None)])
    lines = distribute(0, mm, rules, AGREEMENTS, SPECIALISTS).lines
    assert lines["pcp_gross_cents"].to_list() == [2_916, 0]


def test_negative_shares_round_away_from_zero_and_can_leave_a_deficit():
    """share -33333 at practice 2: admin 8% = -2666.64 -> -2667; risk 5% = -1666.65 -> -1667; specialist
    20% = -6666.6 -> -6667 + 100 = -6567; quality 3% = -999.99 -> -1000; the PMPM amounts (reinsurance 250,
    PCP 4000) still apply, so retained = -33333 + 2667 - 250 + 1667 - 4000 + 6567 + 1000 = -25682."""
    result = distribute(-33_333, mm_frame([(1, 2, -33_333)]), RULES, AGREEMENTS, SPECIALISTS)
    line = result.lines.row(0, named=True)
    assert (
        line["admin_fee_cents"],
        line["risk_pool_cents"],
        line["specialist_cents"],
        line["quality_cents"],
    ) == (
        -2_667,
        -1_667,
        -6_567,
        -1_000,
    )
    assert line["retained_cents"] == -25_682
    assert line["quality_share_cents"] == -1_000
    assert result.components["retained"] == -25_682
    assert sum(result.components.values()) == -33_333


def test_specialist_splits():
    specialists = pl.DataFrame(
        [(8, "cardiology", 3_000, 0), (8, "radiology", 1_000, 0), (9, "dermatology", 1_000, 0)],
        schema=SPECIALIST_SCHEMA,
        orient="row",
    )
    mm = mm_frame([(1, 1, 9_900)])  # specialist = 1980 + 100 = 2080
    by = {}
    for split in ("equal", "specialty_weight", "claims_volume"):
        result = distribute(
            9_900, mm, dataclasses.replace(RULES, specialist_split=split), AGREEMENTS, specialists
        )
        pool = result.pool_shares.filter(pl.col("pool") == "specialist")
        by[split] = (pool.rows(), result.notes)
    # equal: one share per listed specialty, so practice 8 (two specialties) gets 2/3: 1386.67 -> 1387.
    assert by["equal"] == (
        [
            ("specialist", 8, 2, 1_387, "equal: one share per listed specialty"),
            ("specialist", 9, 1, 693, "equal: one share per listed specialty"),
        ],
        (),
    )
    assert by["specialty_weight"][0] == [
        ("specialist", 8, 4_000, 1_664, "specialty weight (thousandths)"),
        ("specialist", 9, 1_000, 416, "specialty weight (thousandths)"),
    ]
    fallback = "equal: the claims volume is 0 for every specialist"
    assert by["claims_volume"] == (
        [("specialist", 8, 2, 1_387, fallback), ("specialist", 9, 1, 693, fallback)],
        (f"specialist pool split {fallback}",),
    )


def test_a_pool_with_nobody_to_pay_is_retained_and_said_so():
    empty = pl.DataFrame(schema=SPECIALIST_SCHEMA)
    result = distribute(20_000, mm_frame([(104, None, 20_000)]), RULES, AGREEMENTS, empty)
    line = result.lines.row(0, named=True)
    assert (line["specialist_cents"], line["quality_cents"], line["quality_share_cents"]) == (0, 0, 0)
    assert line["retained_cents"] == 20_000 - 2_400 - 250 - 1_000
    assert result.components["specialist"] == result.components["quality"] == 0
    assert result.pool_shares.height == 0
    assert result.practice_payouts.height == 0
    assert result.notes == (
        "no specialist listed: the specialist sub-capitation is retained",
        "no member-month has a PCP practice: the quality pool is retained",
    )


def test_empty_member_months_retain_the_whole_pool():
    result = distribute(5_000, mm_frame([]), RULES, AGREEMENTS.clear(), SPECIALISTS)
    assert result.components == dict.fromkeys(COMPONENTS, 0) | {"retained": 5_000}
    assert result.lines.height == 0
    assert result.lines.schema == pl.Schema(LINE_SCHEMA)
    assert result.practice_payouts.rows() == [(8, 0, 0, 0, 0, 0, 0), (9, 0, 0, 0, 0, 0, 0)]


def test_output_is_sorted_and_deterministic_whatever_the_input_order():
    shuffled = EXAMPLE.reverse().with_columns(pl.lit("ignored").alias("extra"))
    first = distribute(139_567, EXAMPLE, RULES, AGREEMENTS, SPECIALISTS)
    second = distribute(139_567, shuffled, RULES, AGREEMENTS.reverse(), SPECIALISTS.reverse())
    assert first.lines.equals(second.lines)
    assert first.pool_shares.equals(second.pool_shares)
    assert first.practice_payouts.equals(second.practice_payouts)
    assert first.lines["member_id"].to_list() == [101, 102, 103, 104]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"withhold_percent_milli": MAX_FACTOR + 1},
            "rules: withhold_percent_milli must be between 0 and 100000",
        ),
        ({"pcp_pmpm_cents": -1}, "rules: pcp_pmpm_cents must be between 0 and"),
        ({"quality_percent_milli": True}, "rules: quality_percent_milli must be an int, not bool"),
        ({"pcp_method": "capitated"}, "rules: pcp_method must be one of flat, age_sex, risk_adjusted"),
        ({"specialist_split": "random"}, "rules: specialist_split must be one of equal"),
        (
            {"age_sex_factors": ((0, 64, "U", 1000), (60, 70, "U", 1000))},
            "rules: age_sex_factors bands for sex U overlap at age 60",
        ),
        (
            {"age_sex_factors": ((10, 5, "U", 1000),)},
            r"rules: age_sex_factors\[0\] age_max must be between 10",
        ),
        ({"age_sex_factors": ((0, 5, "X", 1000),)}, r"rules: age_sex_factors\[0\] sex must be F, M or U"),
        (
            {"age_sex_factors": ((0, 5, "U"),)},
            r"rules: age_sex_factors\[0\] must be \(age_min, age_max, sex, factor\)",
        ),
    ],
)
def test_rules_are_checked_when_built(change, message):
    with pytest.raises(EngineInputError, match=message):
        dataclasses.replace(RULES, **change)


def test_bad_input_names_the_frame_the_field_and_the_row():
    with pytest.raises(
        EngineInputError,
        match="agreements: no participation agreement for a practice with "
        "member-months: practice_id 2, member_id 103, month 2026-03-01",
    ):
        distribute(0, EXAMPLE, RULES, AGREEMENTS.filter(pl.col("practice_id") == 1), SPECIALISTS)
    with pytest.raises(
        EngineInputError, match="member_months: more than one row for the same member_id, month, "
    ):
        distribute(0, pl.concat([EXAMPLE, EXAMPLE]), RULES, AGREEMENTS, SPECIALISTS)
    with pytest.raises(EngineInputError, match="member_months: share_cents is beyond"):
        distribute(0, mm_frame([(1, 1, MAX_AMOUNT_CENTS + 1)]), RULES, AGREEMENTS, SPECIALISTS)
    with pytest.raises(EngineInputError, match=r"member_months: missing column.* share_cents"):
        distribute(0, EXAMPLE.drop("share_cents"), RULES, AGREEMENTS, SPECIALISTS)
    with pytest.raises(EngineInputError, match="agreements: admin_fee_percent_milli must be between 0"):
        distribute(
            0,
            EXAMPLE,
            RULES,
            AGREEMENTS.with_columns(pl.lit(-1).alias("admin_fee_percent_milli")),
            SPECIALISTS,
        )
    with pytest.raises(EngineInputError, match="specialists: claims_cents must be between 0"):
        distribute(0, EXAMPLE, RULES, AGREEMENTS, SPECIALISTS.with_columns(pl.lit(-5).alias("claims_cents")))
    age_sex = dataclasses.replace(RULES, pcp_method="age_sex", age_sex_factors=((0, 64, "U", 1000),))
    with pytest.raises(
        EngineInputError,
        match="rules: no age_sex_factors band for a member-month's age and sex: "
        "member_id 1, month 2026-03-01, age 65, sex M",
    ):
        distribute(0, mm_frame([(1, 1, 0, 65, "M", None)]), age_sex, AGREEMENTS, SPECIALISTS)
    with pytest.raises(EngineInputError, match="member_months: age is empty"):
        distribute(0, mm_frame([(1, 1, 0, None, "M", None)]), age_sex, AGREEMENTS, SPECIALISTS)
    risk = dataclasses.replace(RULES, pcp_method="risk_adjusted")
    with pytest.raises(EngineInputError, match="member_months: raf_milli is empty"):
        distribute(0, mm_frame([(1, 1, 0, 40, "M", None)]), risk, AGREEMENTS, SPECIALISTS)
    with pytest.raises(EngineInputError, match="pool_cents must be int cents, not float"):
        distribute(1.5, EXAMPLE, RULES, AGREEMENTS, SPECIALISTS)  # type: ignore[arg-type]


# -- properties ---------------------------------------------------------------------------------------------

percents = st.integers(0, MAX_FACTOR)
pmpms = st.integers(0, 10**7)


@st.composite
def scenario(
    draw: st.DrawFn,
) -> tuple[int, pl.DataFrame, DistributionRules, pl.DataFrame, pl.DataFrame]:
    method = draw(st.sampled_from(["flat", "age_sex", "risk_adjusted"]))
    rules = DistributionRules(
        rule_id=draw(st.integers(1, 9)),
        term_id=draw(st.integers(1, 9)),
        reinsurance_pmpm_cents=draw(pmpms),
        withhold_percent_milli=draw(percents),
        risk_pool_percent_milli=draw(percents),
        pcp_method=method,
        pcp_pmpm_cents=draw(pmpms),
        age_sex_factors=(
            (0, 17, "U", draw(percents)),
            (18, 200, "U", draw(percents)),
            (18, 64, "F", draw(percents)),
        ),
        specialist_percent_milli=draw(percents),
        specialist_pmpm_cents=draw(pmpms),
        specialist_split=draw(st.sampled_from(["equal", "specialty_weight", "claims_volume"])),
        quality_percent_milli=draw(percents),
        default_admin_fee_percent_milli=draw(percents),
        default_admin_fee_pmpm_cents=draw(pmpms),
    )
    share = st.one_of(st.integers(-(10**6), 10**6), st.integers(-MAX_AMOUNT_CENTS, MAX_AMOUNT_CENTS))
    keys = draw(st.lists(st.tuples(st.integers(1, 30), st.sampled_from([1, 2, 3])), unique=True, max_size=25))
    rows = []
    for member_id, month in keys:
        rows.append(
            (
                member_id,
                dt.date(2026, month, 1),
                draw(st.sampled_from([None, 1, 2, 3])),
                draw(st.integers(1, 50)),
                draw(st.sampled_from([5, 6])),
                draw(st.integers(0, 110)),
                draw(st.sampled_from("FMU")),
                draw(st.integers(0, MAX_FACTOR)),
                draw(share),
            )
        )
    mm = pl.DataFrame(rows, schema=DISTRIBUTION_MEMBER_MONTH_SCHEMA, orient="row")
    agreements = pl.DataFrame(
        [(p, draw(percents), draw(pmpms)) for p in (1, 2, 3)], schema=AGREEMENT_SCHEMA, orient="row"
    )
    specialist_rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from([2, 8, 9]), st.sampled_from(["a", "b"]), percents, st.integers(0, 10**9)
            ),
            unique_by=lambda r: (r[0], r[1]),
            max_size=5,
        )
    )
    specialists = pl.DataFrame(specialist_rows, schema=SPECIALIST_SCHEMA, orient="row")
    pool = draw(st.one_of(st.integers(-(10**20), 10**20), st.just(None)))
    if pool is None:
        pool = int(mm["share_cents"].sum()) if mm.height else 0
    return pool, mm, rules, agreements, specialists


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_every_cent_of_the_pool_is_accounted_for(case):
    pool, mm, rules, agreements, specialists = case
    result = distribute(pool, mm, rules, agreements, specialists)
    components, lines = result.components, result.lines
    assert tuple(components) == COMPONENTS
    assert sum(components.values()) == pool

    def col(name: str) -> int:
        return sum(lines[name].to_list())

    assert result.unmatched_cents == pool - col("share_cents")
    assert components["admin_fee"] == col("admin_fee_cents")
    assert components["reinsurance"] == col("reinsurance_cents")
    assert components["withhold"] == col("withhold_cents") + col("risk_pool_cents")
    assert components["pcp"] == col("pcp_net_cents")
    assert components["specialist"] == col("specialist_cents")
    assert components["quality"] == col("quality_cents")
    assert components["retained"] == col("retained_cents") + result.unmatched_cents
    assert result.detail["risk_pool"] == col("risk_pool_cents")

    parts = ["admin_fee_cents", "reinsurance_cents", "risk_pool_cents", "pcp_gross_cents", "specialist_cents"]
    for line in lines.iter_rows(named=True):
        assert (
            line["share_cents"]
            == sum(line[p] for p in parts) + line["quality_cents"] + line["retained_cents"]
        )
        assert line["pcp_gross_cents"] == line["withhold_cents"] + line["pcp_net_cents"]
        if line["practice_id"] is None:
            assert line["pcp_gross_cents"] == line["quality_share_cents"] == 0
    assert lines.select("member_id", "month").rows() == sorted(lines.select("member_id", "month").rows())

    pools = result.pool_shares
    quality_pool = pools.filter(pl.col("pool") == "quality")
    specialist_pool = pools.filter(pl.col("pool") == "specialist")
    assert sum(quality_pool["cents"].to_list()) == components["quality"]
    if specialists.height:
        assert sum(specialist_pool["cents"].to_list()) == components["specialist"]
    else:
        assert components["specialist"] == 0
    for practice_id, weight, cents in quality_pool.select("practice_id", "weight", "cents").iter_rows():
        own = lines.filter(pl.col("practice_id") == practice_id)
        assert own.height == weight
        # Every payout cent maps to a line: allocate(payout, [1] * n) in line order.
        assert own["quality_share_cents"].to_list() == allocate(cents, [1] * own.height)

    payouts = result.practice_payouts
    for row in payouts.iter_rows(named=True):
        assert row["net_cents"] == row["pcp_net_cents"] + row["quality_cents"] + row["specialist_cents"]
        own = lines.filter(pl.col("practice_id") == row["practice_id"])
        assert row["pcp_net_cents"] == sum(own["pcp_net_cents"].to_list())
        assert row["quality_cents"] == sum(own["quality_share_cents"].to_list())
    assert (
        sum(payouts["net_cents"].to_list())
        == components["pcp"] + components["quality"] + components["specialist"]
    )

    again = distribute(pool, mm.sample(fraction=1.0, shuffle=True, seed=1), rules, agreements, specialists)
    assert again.lines.equals(lines)
    assert again.pool_shares.equals(pools)
    assert again.practice_payouts.equals(payouts)
    assert again.components == components
