"""Properties over random populations: one row per unit, rates in [0, 1], numerator within the denominator,
evidence behind every hit and exclusion (and owned by the member), and results independent of input row order."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.quality.engine import evaluate, load_measures, starter_value_sets

from .builders import World

MEASURES = load_measures(2025)
VALUE_SETS = starter_value_sets(2025)
DX = ["F32.9", "I10", "E11.9", "E10.65", "Z85.038", "R54", "G30.9", "N18.6", "Z51.5", "Z00.129"]
PX = [
    "99284",
    "99238",
    "90834",
    "77067",
    "45378",
    "82274",
    "3074F",
    "3079F",
    "3077F",
    "3046F",
    "92250",
    "Q5003",
    "99391",
    "99394",
]
FACTS = [
    ("LOINC", "8480-6", 110.0, 170.0),
    ("LOINC", "8462-4", 60.0, 110.0),
    ("LOINC", "4548-4", 5.0, 12.0),
    ("LOINC", "48642-3", 20.0, 100.0),
    ("LOINC", "9318-7", 1.0, 300.0),
    ("CVX", "20", 0.0, 0.0),
    ("CVX", "03", 0.0, 0.0),
]
DAY0 = dt.date(2014, 1, 1)
RECENT = dt.date(2023, 6, 1)
days = st.one_of(
    st.integers(0, (dt.date(2026, 1, 31) - DAY0).days).map(lambda n: DAY0 + dt.timedelta(days=n)),
    st.integers(0, (dt.date(2026, 1, 31) - RECENT).days).map(lambda n: RECENT + dt.timedelta(days=n)),
)


def _after(start: dt.date) -> st.SearchStrategy[dt.date]:
    return st.integers(0, 4000).map(lambda n: start + dt.timedelta(days=n))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    w = World()
    for index in range(draw(st.integers(1, 12))):
        member = f"m{index}"
        birth = draw(
            st.one_of(
                st.dates(dt.date(1935, 1, 1), dt.date(2007, 12, 31)),
                st.dates(dt.date(2022, 1, 1), dt.date(2024, 12, 31)),
            )
        )
        spans: list[tuple[dt.date, dt.date | None]] = []
        if draw(st.booleans()):  # half the members are enrolled throughout, so measures have populations
            spans.append((DAY0, None))
        for _ in range(draw(st.integers(0, 2))):
            start = draw(days)
            end = draw(st.one_of(st.none(), _after(start)))
            spans.append((start, end))
        death = draw(st.one_of(st.none(), st.none(), days))
        w.member(member, birth, draw(st.sampled_from(["F", "M"])), enrolled=tuple(spans), death=death)
        for _ in range(draw(st.integers(0, 10))):
            w.claim(
                member,
                draw(days),
                dx=tuple(draw(st.lists(st.sampled_from(DX), max_size=2))),
                px=tuple(draw(st.lists(st.sampled_from(PX), max_size=2))),
            )
        for _ in range(draw(st.integers(0, 10))):
            system, code, low, high = draw(st.sampled_from(FACTS))
            value = draw(st.floats(low, high).map(lambda v: round(v, 1))) if high else None
            w.fact(member, draw(days), system, code, value)
    return w


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), st.randoms(use_true_random=False))
def test_measure_invariants(world, rnd):
    inputs = world.inputs()
    results = evaluate(inputs, MEASURES, VALUE_SETS)
    rows = results.members
    assert not rows.select("rate", "member_id", "episode_id").is_duplicated().any()
    assert (
        rows.filter(pl.col("measure").is_in(["FUM", "FUH"]) != pl.col("episode_id").is_not_null()).height == 0
    )
    assert rows.filter(pl.col("numerator") & ~pl.col("denominator")).height == 0
    assert rows.filter(pl.col("denominator") == pl.col("excluded")).height == 0
    assert rows.filter(pl.col("excluded") != pl.col("exclusion_reason").is_not_null()).height == 0
    assert rows.filter(pl.col("excluded") & (pl.col("exclusion_evidence").list.len() == 0)).height == 0
    no_evidence = rows.filter(pl.col("numerator") & (pl.col("numerator_evidence").list.len() == 0))
    assert set(no_evidence["rate"].to_list()) <= {"GSD >9"}  # an untested member counts as poorly controlled
    for rate in results.rates.iter_rows(named=True):
        assert rate["denominator"] == rate["eligible"] - rate["excluded"]
        if rate["denominator"]:
            assert 0.0 <= rate["rate_value"] <= 1.0
        else:
            assert rate["rate_value"] is None
    owner = {f"claim:{c['claim_line_id']}": c["member_id"] for c in world.claims}
    owner |= {f"clinical:{c['clinical_id']}": c["member_id"] for c in world.clinical}
    owner |= {f"member:{m['member_id']}": m["member_id"] for m in world.members}
    for column in ("denominator_evidence", "exclusion_evidence", "numerator_evidence"):
        for member, evidence in rows.select("member_id", column).iter_rows():
            for ident in evidence:
                assert owner[ident] == member
    shuffled = World(
        members=rnd.sample(world.members, len(world.members)),
        spans=rnd.sample(world.spans, len(world.spans)),
        claims=rnd.sample(world.claims, len(world.claims)),
        clinical=rnd.sample(world.clinical, len(world.clinical)),
    )
    again = evaluate(shuffled.inputs(), MEASURES, VALUE_SETS)
    assert again.members.equals(results.members)
    assert again.rates.equals(results.rates)
