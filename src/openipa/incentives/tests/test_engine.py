"""The pure settlement engine: golden settlements computed by hand (the arithmetic in the comments), boundaries
of the gate and the tiers, caps binding and not, bad inputs refused, and exactness properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.core.money import percent_of
from openipa.incentives import engine
from openipa.incentives.engine import Counts, FormulaError, PracticeInput, Score

TARGETS = {
    ("CBP", "CBP"): engine.Target(Decimal("0.72"), (Decimal("0.55"), Decimal("0.64"), Decimal("0.72"), Decimal("0.80"))),
    ("COL-E", "COL-E"): engine.Target(Decimal("0.72"), (Decimal("0.50"), Decimal("0.60"), Decimal("0.70"), Decimal("0.78"))),
    ("GSD", "GSD >9"): engine.Target(Decimal("0.20"), (Decimal("0.40"), Decimal("0.30"), Decimal("0.22"), Decimal("0.15"))),
}  # fmt: skip
MEASURES = [{"measure": "CBP", "weight": 40}, {"measure": "COL-E", "weight": 30},
            {"measure": "GSD", "rate": "GSD >9", "weight": 30}]  # fmt: skip


def _score(milli: int | None) -> Score:
    return Score(milli, 0, 0, ())


def quality(**extra: object) -> engine.QualityParams:
    return engine.parse_quality({"measures": MEASURES, "threshold": "60", **extra})


def withhold() -> engine.WithholdParams:
    return engine.parse_withhold({"measures": MEASURES, "tiers": [{"min_score": "60", "percent": "50"},
                                                                   {"min_score": "80", "percent": "100"}]})  # fmt: skip


# -- periods and parameters -----------------------------------------------------------------------------------


def test_periods():
    assert engine.parse_period("2026") == engine.Period("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert engine.parse_period("2026q3") == engine.Period("2026Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert engine.parse_period("2026-Q4").last == dt.date(2026, 12, 31)
    assert len(engine.parse_period("2026Q1").months()) == 3
    for bad in ("26", "2026Q5", "2026-13", "", "1999"):
        with pytest.raises(FormulaError):
            engine.parse_period(bad)


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("quality", {"measures": []}, "non-empty"),
        ("quality", {"measures": MEASURES, "threshold": "101"}, "threshold"),
        ("quality", {"measures": MEASURES, "threshold": 60.5}, "threshold"),
        ("quality", {"measures": MEASURES, "pool_source": "fixed"}, "fixed_pool_cents"),
        ("quality", {"measures": MEASURES, "basis": "luck"}, "basis"),
        ("quality", {"measures": [{"measure": "CBP", "weight": 0}]}, "weight"),
        ("quality", {"measures": [{"measure": "CBP", "weight": 5}, {"measure": "CBP", "weight": 5}]}, "twice"),
        ("quality", {"measures": MEASURES, "bogus": 1}, "unknown"),
        ("withhold", {"measures": MEASURES, "tiers": [{"min_score": "80", "percent": "50"},
                                                      {"min_score": "60", "percent": "100"}]}, "smaller percent"),
        ("withhold", {"measures": MEASURES, "tiers": []}, "tiers"),
        ("risk_pool", {"surplus_share_percent": "50", "cap_kind": "percent_of_capitation"}, "cap_percent"),
        ("risk_pool", {"surplus_share_percent": "150"}, "surplus_share_percent"),
        ("risk_pool", {"surplus_share_percent": "50", "service_categories": [""]}, "service_categories"),
        ("other", {}, "kind"),
    ],
)  # fmt: skip
def test_bad_parameters_refused(kind, params, message):
    with pytest.raises(FormulaError, match=message):
        engine.parse_params(kind, params)


# -- scores ---------------------------------------------------------------------------------------------------


def test_score_by_target_golden():
    scoring = engine.parse_quality({"measures": MEASURES, "min_denominator": 5}).scoring
    counts = {("CBP", "CBP"): Counts(30, 40), ("COL-E", "COL-E"): Counts(10, 20),
              ("GSD", "GSD >9"): Counts(1, 3, inverse=True)}  # fmt: skip
    result = engine.score(scoring, counts, TARGETS)
    # CBP 30/40 = 0.75 >= 0.72: 40 points; COL-E 10/20 = 0.50 < 0.72: 0 of 30; GSD >9: denominator 3 < 5, not
    # counted. 100 x 40 / 70 = 57.142857... -> 57.143
    assert (result.earned_milli, result.available_milli, result.score_milli) == (40_000, 70_000, 57_143)
    assert [m.counted for m in result.measures] == [True, True, False]


def test_score_by_stars_and_inverse_rate():
    scoring = engine.parse_quality({"measures": MEASURES, "scoring": "stars"}).scoring
    counts = {("CBP", "CBP"): Counts(75, 100), ("COL-E", "COL-E"): Counts(40, 100),
              ("GSD", "GSD >9"): Counts(15, 100, inverse=True)}  # fmt: skip
    result = engine.score(scoring, counts, TARGETS)
    # CBP 0.75: >= .55 .64 .72 -> 4 stars: 40 x 4/5 = 32; COL-E 0.40: below .50 -> 1 star: 30 x 1/5 = 6;
    # GSD >9 0.15 (lower is better): <= .40 .30 .22 .15 -> 5 stars: 30. 68 of 100 -> 68.000
    assert [m.stars for m in result.measures] == [4, 1, 5]
    assert result.score_milli == 68_000


def test_rate_exactly_at_target_meets_it():
    scoring = engine.parse_quality({"measures": [{"measure": "CBP", "weight": 10}]}).scoring
    assert engine.score(scoring, {("CBP", "CBP"): Counts(72, 100)}, TARGETS).score_milli == 100_000
    assert engine.score(scoring, {("CBP", "CBP"): Counts(71, 100)}, TARGETS).score_milli == 0


def test_score_without_target_refused_and_no_denominator_unscored():
    scoring = engine.parse_quality({"measures": [{"measure": "XYZ", "weight": 10}]}).scoring
    with pytest.raises(FormulaError, match="no target"):
        engine.score(scoring, {}, TARGETS)
    own = engine.parse_quality({"measures": [{"measure": "XYZ", "weight": 10, "target": "0.5"}]}).scoring
    assert engine.score(own, {}, TARGETS).score_milli is None


# -- quality pool ---------------------------------------------------------------------------------------------


def test_quality_pool_golden():
    practices = [PracticeInput(1, 1200, score=_score(90_000)), PracticeInput(2, 600, score=_score(75_000)),
                 PracticeInput(3, 900, score=_score(59_999))]  # fmt: skip
    result = engine.settle_quality(quality(), 1_000_000, practices)
    # weights: 90 x 1200 = 108,000 and 75 x 600 = 45,000 (x1000); practice 3 is below the gate of 60.
    # 1,000,000 x 108/153 = 705,882.35; x 45/153 = 294,117.65: floors 705,882 + 294,117, the cent left goes to
    # the larger remainder (.65): 705,882 and 294,118.
    assert [line.amount_cents for line in result.lines] == [705_882, 294_118, 0]
    assert [line.qualifies for line in result.lines] == [True, True, False]
    assert result.pool_kept_cents == 0
    assert result.release_cents == 1_000_000


def test_quality_gate_boundary():
    at = [PracticeInput(1, 10, score=_score(60_000))]
    below = [PracticeInput(1, 10, score=_score(59_999))]
    assert engine.settle_quality(quality(), 5_000, at).lines[0].amount_cents == 5_000
    result = engine.settle_quality(quality(), 5_000, below)
    assert result.lines[0].amount_cents == 0
    assert result.pool_kept_cents == 5_000
    assert "no practice qualified" in result.notes[0]


def test_quality_slice_golden():
    practices = [PracticeInput(1, 300, score=_score(80_000)), PracticeInput(2, 100, score=_score(50_000))]
    result = engine.settle_quality(quality(basis="slice"), 40_000, practices)
    # slices by member-months: 30,000 and 10,000; practice 1 earns 80% = 24,000 (6,000 unearned); practice 2
    # is below the gate of 60: earns 0, its 10,000 unearned.
    assert [(x.base_cents, x.amount_cents, x.kept_cents) for x in result.lines] == [(30_000, 24_000, 6_000),
                                                                                    (10_000, 0, 10_000)]  # fmt: skip
    assert result.totals["kept_cents"] == 16_000


# -- withhold -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "percent", "returned"),
    [(80_000, "100", 12_345), (79_999, "50", 6_173), (60_000, "50", 6_173), (59_999, "0", 0), (None, "0", 0)],
)
def test_withhold_tiers_at_boundaries(score, percent, returned):
    result = engine.settle_withhold(
        withhold(), [PracticeInput(1, 12, withheld_cents=12_345, score=_score(score))]
    )
    line = result.lines[0]
    # 50% of 12,345 = 6,172.5 -> 6,173 (half-up); kept 6,172
    assert line.percent == Decimal(percent)
    assert line.amount_cents == returned
    assert line.amount_cents + line.kept_cents == 12_345


# -- risk pool ------------------------------------------------------------------------------------------------


def _risk(**extra: object) -> engine.RiskPoolParams:
    return engine.parse_risk_pool({"surplus_share_percent": "50", "deficit_share_percent": "40", **extra})


def test_risk_pool_surplus_golden():
    practices = [PracticeInput(1, 1200, funded_cents=500_000, cost_cents=350_000),
                 PracticeInput(2, 600, funded_cents=300_000, cost_cents=250_000)]  # fmt: skip
    result = engine.settle_risk_pool(_risk(), practices)
    # funded 800,000 - cost 600,000 = surplus 200,000; 50% = 100,000 by member-months 2:1 -> 66,666.67 and
    # 33,333.33 -> 66,667 and 33,333; the IPA keeps 800,000 - 100,000 = 700,000
    assert [x.amount_cents for x in result.lines] == [66_667, 33_333]
    assert result.pool_kept_cents == 700_000
    assert result.totals["result_cents"] == 200_000
    by_efficiency = engine.settle_risk_pool(_risk(surplus_basis="efficiency"), practices)
    # efficiency: 150,000 and 50,000 under what they funded -> 75,000 and 25,000
    assert [x.amount_cents for x in by_efficiency.lines] == [75_000, 25_000]


def test_risk_pool_deficit_cap_binding_and_not():
    practices = [PracticeInput(1, 1200, funded_cents=200_000, cost_cents=400_000, capitation_cents=1_000_000),
                 PracticeInput(2, 600, funded_cents=100_000, cost_cents=200_000, capitation_cents=300_000)]  # fmt: skip
    result = engine.settle_risk_pool(_risk(cap_kind="percent_of_capitation", cap_percent="10"), practices)
    # deficit 300,000; practices' 40% = 120,000 by member-months: 80,000 and 40,000. Caps 10% of capitation:
    # 100,000 (not binding: charged 80,000) and 30,000 (binding: charged 30,000, 10,000 borne by the IPA)
    assert [(x.amount_cents, x.cap_cents, x.cap_applied) for x in result.lines] == [(-80_000, 100_000, False),
                                                                                    (-30_000, 30_000, True)]  # fmt: skip
    # the pool released 300,000 and the IPA recognizes it plus the 110,000 charged
    assert result.release_cents == 300_000
    assert result.pool_kept_cents == 410_000
    assert result.totals["charged_cents"] == 110_000
    assert result.notes[0] == "funded $3,000.00, target cost (claims paid) $6,000.00: deficit $3,000.00"
    assert "caps held back $100.00 of the practices' share: borne by the IPA" in result.notes
    amount_cap = engine.settle_risk_pool(_risk(cap_kind="amount", cap_cents=50_000), practices)
    assert [x.amount_cents for x in amount_cap.lines] == [-50_000, -40_000]


def test_negative_inputs_refused():
    with pytest.raises(FormulaError, match="negative"):
        engine.settle_withhold(withhold(), [PracticeInput(1, 1, withheld_cents=-1)])
    with pytest.raises(FormulaError, match="twice"):
        engine.settle_risk_pool(_risk(), [PracticeInput(1, 1), PracticeInput(1, 2)])
    with pytest.raises(FormulaError, match="pool"):
        engine.settle_quality(quality(), -5, [PracticeInput(1, 1)])


# -- properties -----------------------------------------------------------------------------------------------

cents = st.integers(min_value=0, max_value=10**10)
practice_inputs = st.lists(
    st.tuples(st.integers(0, 5000), cents, cents, cents, cents, st.one_of(st.none(), st.integers(0, 100_000))),
    min_size=1,
    max_size=12,
).map(lambda rows: [PracticeInput(i + 1, mm, withheld_cents=w, funded_cents=f, capitation_cents=c, cost_cents=k,
                                  score=_score(s)) for i, (mm, w, f, c, k, s) in enumerate(rows)])  # fmt: skip


@given(practice_inputs, cents, st.sampled_from(["pool", "slice"]))
def test_quality_pool_exact(practices, pool, basis):
    result = engine.settle_quality(quality(basis=basis), pool, practices)
    amounts = [x.amount_cents for x in result.lines]
    assert all(a >= 0 for a in amounts)
    assert all(x.kept_cents >= 0 for x in result.lines)
    assert sum(amounts) + result.totals["kept_cents"] == pool
    if (
        basis == "pool" and any(x.qualifies for x in result.lines) and any(x.weight for x in result.lines)
    ):  # a qualifying practice with a weight: the whole pool is shared
        assert sum(amounts) == pool
    assert all(x.amount_cents == 0 for x in result.lines if not x.qualifies)


@given(practice_inputs)
def test_withhold_kept_plus_returned_is_withheld(practices):
    result = engine.settle_withhold(withhold(), practices)
    for line, p in zip(result.lines, practices, strict=True):
        assert 0 <= line.amount_cents <= p.withheld_cents
        assert line.amount_cents + line.kept_cents == p.withheld_cents


@given(practice_inputs, st.sampled_from(["member_months", "efficiency"]), st.integers(0, 10**8))
def test_risk_pool_exact_and_capped(practices, basis, cap):
    result = engine.settle_risk_pool(_risk(surplus_basis=basis, cap_kind="amount", cap_cents=cap), practices)
    amounts = [x.amount_cents for x in result.lines]
    assert result.release_cents == sum(amounts) + result.pool_kept_cents
    if result.totals["result_cents"] >= 0:
        assert all(a >= 0 for a in amounts)
        assert sum(amounts) == percent_of(result.totals["result_cents"], Decimal(50)) or not any(
            p.member_months for p in practices
        )
    else:
        assert all(-cap <= a <= 0 for a in amounts)
        assert -sum(amounts) <= percent_of(-result.totals["result_cents"], Decimal(40))
