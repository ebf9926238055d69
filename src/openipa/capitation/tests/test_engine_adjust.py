"""Adjustment lines: the differences between an approved distribution and its recomputation."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.capitation.engine import (
    ADJUSTMENT_SCHEMA,
    AGREEMENT_SCHEMA,
    DISTRIBUTION_MEMBER_MONTH_SCHEMA,
    LINE_AMOUNTS,
    REASONS,
    SPECIALIST_SCHEMA,
    DistributionRules,
    adjustment_lines,
    distribute,
)

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
AGREEMENTS = pl.DataFrame([(1, 10_000, 50), (2, 8_000, 0), (3, 0, 0)], schema=AGREEMENT_SCHEMA, orient="row")
SPECIALISTS = pl.DataFrame([(9, "cardiology", 1000, 300_000)], schema=SPECIALIST_SCHEMA, orient="row")


def lines_for(rows: Sequence[tuple[int, int | None, int]], rules: DistributionRules = RULES) -> pl.DataFrame:
    """rows: (member_id, practice_id, share_cents) in March 2026 -> the distribution's lines."""
    mm = pl.DataFrame(
        [(m, MARCH, p, None if p is None else p * 100, 5, 40, "F", 1000, share) for m, p, share in rows],
        schema=DISTRIBUTION_MEMBER_MONTH_SCHEMA,
        orient="row",
    )
    pool = sum(share for _, _, share in rows)
    return distribute(pool, mm, rules, AGREEMENTS, SPECIALISTS).lines


APPROVED = [(101, 1, 35_000), (102, 1, 33_333), (103, 2, 50_000), (104, None, 20_000)]
RECOMPUTED = [(101, 1, 36_000), (102, 2, 33_333), (103, 2, 50_000), (105, 1, 10_000)]


def amounts(frame: pl.DataFrame, member_id: int, practice_id: int | None) -> tuple[int, ...]:
    key = pl.col("practice_id").is_null() if practice_id is None else pl.col("practice_id") == practice_id
    rows = frame.filter((pl.col("member_id") == member_id) & key).select(LINE_AMOUNTS).rows()
    assert len(rows) == 1
    return rows[0]


def test_each_kind_of_change_gets_its_reason_and_its_deltas():
    """101's share goes 35000 -> 36000 at practice 1 (rate change): admin 3550 -> 3650, risk pool 1750 ->
    1800, specialist 7100 -> 7300, quality 1050 -> 1080, retained 17300 -> 17920; PCP unchanged. 102 moves
    from practice 1 to 2 (changed PCP: -3600 PCP net for practice 1, a recoupment, +3600 for practice 2). 104
    disappears (retro term: everything reversed), 105 is new (retro add). The quality pool is shared, so
    103's quality share moves too (rate change) although its own share did not change."""
    approved, recomputed = lines_for(APPROVED), lines_for(RECOMPUTED)
    out = adjustment_lines(approved, recomputed)
    assert out.schema == pl.Schema(ADJUSTMENT_SCHEMA)
    assert out.select("member_id", "practice_id", "reason").rows() == [
        (101, 1, "rate change"),
        (102, 1, "changed PCP"),
        (102, 2, "changed PCP"),
        (103, 2, "rate change"),
        (104, None, "retro term"),
        (105, 1, "retro add"),
    ]
    rate = out.row(0, named=True)
    assert {c: rate[c] for c in LINE_AMOUNTS if rate[c] and c != "quality_share_cents"} == {
        "share_cents": 1_000,
        "admin_fee_cents": 100,
        "risk_pool_cents": 50,
        "specialist_cents": 200,
        "quality_cents": 30,
        "retained_cents": 620,
    }
    old_pcp, new_pcp = out.row(1, named=True), out.row(2, named=True)
    assert (old_pcp["pcp_net_cents"], new_pcp["pcp_net_cents"]) == (-3_600, 3_600)
    assert amounts(out, 102, 1) == tuple(-v for v in amounts(approved, 102, 1))
    assert amounts(out, 102, 2) == amounts(recomputed, 102, 2)
    assert amounts(out, 104, None) == tuple(-v for v in amounts(approved, 104, None))
    assert amounts(out, 105, 1) == amounts(recomputed, 105, 1)
    assert out.row(3, named=True)["share_cents"] == 0
    assert out.row(3, named=True)["quality_share_cents"] != 0
    assert out.row(4, named=True)["provider_id"] is None
    assert out.row(5, named=True)["provider_id"] == 100


def test_identical_runs_have_no_adjustment():
    approved = lines_for(APPROVED)
    out = adjustment_lines(approved, approved.reverse())
    assert out.height == 0
    assert out.schema == pl.Schema(ADJUSTMENT_SCHEMA)


def test_a_pcp_assigned_later_is_a_changed_pcp_and_a_new_rate_a_rate_change():
    approved = lines_for([(1, None, 10_000), (2, 3, 10_000)])
    recomputed = lines_for([(1, 3, 10_000), (2, 3, 10_000)], dataclasses.replace(RULES, pcp_pmpm_cents=4_100))
    out = adjustment_lines(approved, recomputed)
    assert out.select("member_id", "practice_id", "reason", "pcp_net_cents").rows() == [
        (1, None, "changed PCP", 0),
        (1, 3, "changed PCP", 3_690),
        (2, 3, "rate change", 90),  # 4100 - 410 withhold vs 4000 - 400
    ]


@st.composite
def two_runs(draw: st.DrawFn) -> tuple[list[list[tuple[Any, ...]]], list[DistributionRules]]:
    universe = [(m, month) for m in range(1, 9) for month in (1, 2)]
    rows = []
    for _ in range(2):
        chosen = draw(st.lists(st.sampled_from(universe), unique=True, max_size=len(universe)))
        rows.append(
            [
                (
                    m,
                    dt.date(2026, month, 1),
                    draw(st.sampled_from([None, 1, 2, 3])),
                    7,
                    5,
                    40,
                    "M",
                    1000,
                    draw(st.integers(-(10**7), 10**7)),
                )
                for m, month in chosen
            ]
        )
    rules = [
        dataclasses.replace(RULES, pcp_pmpm_cents=draw(st.integers(0, 10**6)), quality_percent_milli=q)
        for q in draw(st.lists(st.integers(0, 100_000), min_size=2, max_size=2))
    ]
    return rows, rules


@settings(max_examples=200, deadline=None)
@given(two_runs())
def test_deltas_sum_to_the_difference_of_totals(case):
    (old_rows, new_rows), (old_rules, new_rules) = case
    runs = []
    for rows, rules in ((old_rows, old_rules), (new_rows, new_rules)):
        mm = pl.DataFrame(rows, schema=DISTRIBUTION_MEMBER_MONTH_SCHEMA, orient="row")
        runs.append(distribute(0, mm, rules, AGREEMENTS, SPECIALISTS).lines)
    approved, recomputed = runs
    out = adjustment_lines(approved, recomputed)
    for column in LINE_AMOUNTS:
        assert sum(out[column].to_list()) == sum(recomputed[column].to_list()) - sum(
            approved[column].to_list()
        )
    assert out.select(LINE_AMOUNTS).rows() == [r for r in out.select(LINE_AMOUNTS).rows() if any(r)]
    keys = out.select("member_id", "month", "practice_id").rows()
    assert len(keys) == len(set(keys))
    assert set(out["reason"].to_list()) <= set(REASONS)

    def present(frame: pl.DataFrame) -> dict[tuple[int, dt.date], int | None]:
        return {(m, mo): p for m, mo, p in frame.select("member_id", "month", "practice_id").rows()}

    before, after = present(approved), present(recomputed)
    for member_id, month, practice_id, reason in out.select(
        "member_id", "month", "practice_id", "reason"
    ).rows():
        key = (member_id, month)
        if key not in before:
            assert reason == "retro add"
        elif key not in after:
            assert reason == "retro term"
        elif before[key] != after[key]:
            assert reason == "changed PCP"
            assert practice_id in (before[key], after[key])
        else:
            assert reason == "rate change"
