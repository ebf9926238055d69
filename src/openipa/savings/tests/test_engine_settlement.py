"""Golden settlements computed by hand, MSR table boundaries, quality gates, caps and the loss corridor."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.savings.engine.settlement import (
    BENEFICIARY_YEAR,
    PMPM,
    TARGET_MLR,
    MsrBand,
    QualityStep,
    SettlementError,
    Terms,
    Totals,
    loss_sharing_rate,
    msr_from_table,
    settle,
)
from openipa.savings.terms_data import msr_table, track

D = Decimal

PAYER = Terms(benchmark_basis=PMPM, benchmark_amount=D("1000.00"), msr_percent=D("2"), first_dollar=False,
              sharing_percent=D("50"), quality_min_score=D("70"), savings_cap_percent=D("10"), two_sided=True,
              mlr_percent=D("2"), loss_sharing_percent=D("40"), loss_cap_percent=D("3"))  # fmt: skip
"""Benchmark $1,000 PMPM; 12,000 member-months make a $12,000,000.00 benchmark."""


def totals(cost_dollars: int, *, score_num: int = 80, score_den: int = 100, mm: int = 12_000) -> Totals:
    return Totals(member_months=mm, cost_cents=cost_dollars * 100, quality_numerator=score_num,
                  quality_denominator=score_den)  # fmt: skip


def test_payer_golden_savings_above_the_corridor() -> None:
    # savings 600,000 (5%); MSR 2% = 240,000 met; shareable above the MSR 360,000; x 50% = 180,000; cap 1.2M
    s = settle(PAYER, totals(11_400_000))
    assert s.benchmark_cents == 1_200_000_000
    assert s.savings_cents == 60_000_000
    assert s.savings_rate == D("5.00")
    assert s.msr_cents == 24_000_000
    assert s.msr_met
    assert s.earned_cents == 18_000_000
    assert s.cap_cents == 120_000_000
    assert not s.cap_binding
    assert s.shared_cents == 18_000_000
    assert s.steps[-1].cents == 18_000_000


def test_first_dollar_shares_all_savings_once_past_the_msr() -> None:
    terms = Terms(**{**PAYER.__dict__, "first_dollar": True})
    assert settle(terms, totals(11_400_000)).shared_cents == 30_000_000  # 600,000 x 50%


def test_savings_exactly_at_the_msr_pass_one_cent_less_fails() -> None:
    first = Terms(**{**PAYER.__dict__, "first_dollar": True})
    at = settle(first, Totals(member_months=12_000, cost_cents=1_200_000_000 - 24_000_000,
                              quality_numerator=8, quality_denominator=10))  # fmt: skip
    assert at.msr_met
    assert at.shared_cents == 12_000_000
    assert (
        settle(
            PAYER,
            at_totals := Totals(
                member_months=12_000, cost_cents=1_176_000_000, quality_numerator=8, quality_denominator=10
            ),
        ).shared_cents
        == 0
    )
    assert at_totals.quality_score == D("80.00")
    below = settle(first, Totals(member_months=12_000, cost_cents=1_200_000_000 - 23_999_999,
                                 quality_numerator=8, quality_denominator=10))  # fmt: skip
    assert not below.msr_met
    assert below.shared_cents == 0


def test_quality_gate_pass_and_fail() -> None:
    passed = settle(PAYER, totals(11_400_000, score_num=7000, score_den=10_000))  # 70.00: at the minimum
    assert passed.quality_met
    assert passed.shared_cents == 18_000_000
    failed = settle(PAYER, totals(11_400_000, score_num=6999, score_den=10_000))  # 69.99
    assert not failed.quality_met
    assert failed.shared_cents == 0
    assert failed.msr_met
    no_score = settle(PAYER, totals(11_400_000, score_num=0, score_den=0))
    assert not no_score.quality_met
    assert no_score.shared_cents == 0


def test_sliding_quality_scale() -> None:
    scale = (QualityStep(D("60"), D("50")), QualityStep(D("70"), D("75")), QualityStep(D("80"), D("100")))
    terms = Terms(**{**PAYER.__dict__, "quality_min_score": None, "quality_scale": scale})
    assert settle(terms, totals(11_400_000, score_num=725, score_den=1000)).shared_cents == 13_500_000  # 75%
    assert settle(terms, totals(11_400_000, score_num=80, score_den=100)).shared_cents == 18_000_000  # 100%
    assert settle(terms, totals(11_400_000, score_num=60, score_den=100)).shared_cents == 9_000_000  # 50%
    assert settle(terms, totals(11_400_000, score_num=5999, score_den=10_000)).shared_cents == 0


def test_savings_cap_binds() -> None:
    terms = Terms(**{**PAYER.__dict__, "savings_cap_percent": D("1")})
    s = settle(terms, totals(11_400_000))
    assert s.earned_cents == 18_000_000
    assert s.cap_cents == 12_000_000
    assert s.cap_binding
    assert s.shared_cents == 12_000_000


def test_two_sided_loss_inside_the_corridor_is_zero() -> None:
    s = settle(PAYER, totals(12_100_000))  # loss 100,000 < MLR 240,000
    assert s.savings_cents == -10_000_000
    assert not s.mlr_met
    assert s.shared_cents == 0


def test_two_sided_loss_beyond_the_corridor_and_its_cap() -> None:
    # loss 1,000,000 past MLR; above the MLR 760,000 x 40% = 304,000; cap 3% = 360,000 not binding
    s = settle(PAYER, totals(13_000_000))
    assert s.mlr_met
    assert s.shared_cents == -30_400_000
    assert not s.loss_cap_binding
    capped = settle(Terms(**{**PAYER.__dict__, "loss_cap_percent": D("2")}), totals(13_000_000))
    assert capped.loss_cap_binding
    assert capped.shared_cents == -24_000_000
    first_dollar = settle(Terms(**{**PAYER.__dict__, "first_dollar": True}), totals(13_000_000))
    assert first_dollar.shared_cents == -36_000_000  # 1,000,000 x 40% = 400,000, capped at 360,000
    assert first_dollar.loss_cap_binding


def test_one_sided_terms_never_owe() -> None:
    terms = Terms(**{**PAYER.__dict__, "two_sided": False})
    assert settle(terms, totals(20_000_000)).shared_cents == 0


def test_mssp_golden() -> None:
    # 5,000 beneficiaries x 12 months at $12,000 per beneficiary-year = $60,000,000; MSR 3.9% = 2,340,000;
    # savings 3,000,000 (5%) -> first dollar x 75% = 2,250,000; cap 20% = 12,000,000
    msr = msr_from_table(5_000, msr_table("mssp_one_sided"))
    terms = Terms(benchmark_basis=BENEFICIARY_YEAR, benchmark_amount=D("12000"), msr_percent=msr,
                  first_dollar=True, sharing_percent=D("75"), quality_min_score=D("40"),
                  savings_cap_percent=D("20"))  # fmt: skip
    s = settle(terms, Totals(member_months=60_000, cost_cents=5_700_000_000, quality_numerator=1,
                             quality_denominator=2))  # fmt: skip
    assert msr == D("3.9")
    assert s.benchmark_cents == 6_000_000_000
    assert s.msr_cents == 234_000_000
    assert s.msr_met
    assert s.shared_cents == 225_000_000
    assert s.cap_cents == 1_200_000_000


@pytest.mark.parametrize(
    ("beneficiaries", "percent"),
    [(5_000, "3.900"), (5_999, "3.600"), (6_000, "3.600"), (6_999, "3.400"), (7_000, "3.400"), (7_999, "3.200"),
     (8_000, "3.200"), (9_999, "3.000"), (10_000, "3.000"), (14_999, "2.700"), (15_000, "2.700"),
     (19_999, "2.500"), (20_000, "2.500"), (49_999, "2.200"), (50_000, "2.200"), (59_999, "2.000"),
     (60_000, "2.000"), (60_001, "2.000"), (1_000_000, "2.000")],
)  # fmt: skip
def test_msr_table_band_edges(beneficiaries: int, percent: str) -> None:
    """42 CFR 425.604(b): the low-end MSR at a band's first number, the high-end MSR at its last number."""
    assert msr_from_table(beneficiaries, msr_table("mssp_one_sided")) == D(percent)


@pytest.mark.parametrize(
    ("beneficiaries", "percent"),
    # CMS's example: 7,500 lies at the midpoint of 7,000..7,999 -> 3.3% (exactly 3.4 - 0.2 x 500/999 = 3.29990)
    [(7_500, "3.300"), (5_500, "3.750"), (5_001, "3.900"), (5_998, "3.600"), (6_500, "3.500"),
     (12_500, "2.850"), (35_000, "2.350"), (55_000, "2.100"), (8_333, "3.167")],
)  # fmt: skip
def test_msr_table_is_interpolated_inside_a_band(beneficiaries: int, percent: str) -> None:
    # 5,500: 3.9 - 0.3 x 500/999 = 3.74985 -> 3.750; 5,001: 3.9 - 0.3/999 = 3.8997 -> 3.900;
    # 12,500: 3.0 - 0.3 x 2,500/4,999 = 2.84997 -> 2.850; 35,000: 2.5 - 0.3 x 15,000/29,999 = 2.35 -> 2.350;
    # 8,333: 3.2 - 0.1 x 333/999 = 3.16667 -> 3.167
    assert msr_from_table(beneficiaries, msr_table("mssp_one_sided")) == D(percent)


def test_msr_table_below_the_minimum_is_refused() -> None:
    with pytest.raises(SettlementError, match="below the minimum of 5,000"):
        msr_from_table(4_999, msr_table("mssp_one_sided"))
    with pytest.raises(SettlementError, match="rise"):
        msr_from_table(10, [MsrBand(10, 19, D(1), D(1)), MsrBand(5, None, D(2), D(2))])
    with pytest.raises(SettlementError, match="open-ended"):
        msr_from_table(10, [MsrBand(10, None, D(1), D(1)), MsrBand(20, None, D(2), D(2))])
    with pytest.raises(SettlementError, match="ends before"):
        msr_from_table(10, [MsrBand(10, 5, D(1), D(1))])
    with pytest.raises(SettlementError, match="no band"):
        msr_from_table(25, [MsrBand(10, 19, D(1), D(1)), MsrBand(30, None, D(2), D(2))])
    with pytest.raises(SettlementError, match="empty"):
        msr_from_table(10, [])


# Level C: 2% of ACO participant revenue, at most 1% of the benchmark ($12,000,000 -> $120,000).
LEVEL_C = Terms(**{**PAYER.__dict__, "first_dollar": True, "loss_sharing_percent": D("30"),
                   "loss_cap_percent": D("1"), "loss_cap_revenue_percent": D("2")})  # fmt: skip


def test_revenue_based_loss_cap_is_capped_at_the_benchmark_percent() -> None:
    # loss $1,000,000 x 30% = $300,000 owed before the cap
    small = settle(LEVEL_C, Totals(member_months=12_000, cost_cents=1_300_000_000, quality_numerator=8,
                                   quality_denominator=10, participant_revenue_cents=300_000_000))  # fmt: skip
    assert small.shared_cents == -6_000_000  # 2% of $3,000,000 revenue = $60,000 < $120,000
    assert small.loss_cap_binding
    large = settle(LEVEL_C, Totals(member_months=12_000, cost_cents=1_300_000_000, quality_numerator=8,
                                   quality_denominator=10, participant_revenue_cents=5_000_000_000))  # fmt: skip
    assert large.shared_cents == -12_000_000  # 2% of $50,000,000 = $1,000,000, capped at 1% of benchmark
    unknown = settle(LEVEL_C, totals(13_000_000))
    assert unknown.shared_cents == -12_000_000  # revenue not known: the benchmark cap applies
    assert any("revenue not known" in step.label for step in unknown.steps)


def test_revenue_cap_needs_the_benchmark_cap_and_floor_needs_ceiling() -> None:
    with pytest.raises(SettlementError, match="loss_cap_percent"):
        settle(Terms(**{**LEVEL_C.__dict__, "loss_cap_percent": None}), totals(13_000_000))
    with pytest.raises(SettlementError, match="loss_sharing_ceiling_percent"):
        settle(Terms(**{**PAYER.__dict__, "loss_sharing_floor_percent": D(40)}), totals(13_000_000))
    with pytest.raises(SettlementError, match="below the floor"):
        settle(Terms(**{**PAYER.__dict__, "loss_sharing_floor_percent": D(75),
                        "loss_sharing_ceiling_percent": D(40)}), totals(13_000_000))  # fmt: skip
    with pytest.raises(SettlementError, match="loss_cap_revenue_percent"):
        settle(Terms(**{**LEVEL_C.__dict__, "loss_cap_revenue_percent": D(101)}), totals(13_000_000))


ENHANCED = Terms(benchmark_basis=PMPM, benchmark_amount=D("1000.00"), first_dollar=True, sharing_percent=D("75"),
                 quality_scale=(QualityStep(D("0"), D("40")), QualityStep(D("50"), D("80")),
                                QualityStep(D("90"), D("100"))),
                 savings_cap_percent=D("20"), two_sided=True, loss_sharing_percent=D("40"),
                 loss_cap_percent=D("15"), loss_sharing_floor_percent=D("40"),
                 loss_sharing_ceiling_percent=D("75"))  # fmt: skip


@pytest.mark.parametrize(
    ("quality", "rate"),
    # final sharing 75% x 100% = 75% -> 25%, floor 40%; 75% x 80% = 60% -> 40%; 75% x 40% = 30% -> 70%;
    # no quality at all: 0% -> 100%, ceiling 75%
    [(D(100), D(40)), (D(80), D(40)), (D(40), D(70)), (D(0), D(75))],
)
def test_enhanced_loss_rate_is_one_minus_the_final_sharing_rate_within_40_and_75(quality: D, rate: D) -> None:
    assert loss_sharing_rate(ENHANCED, quality) == rate


def test_enhanced_loss_owed_uses_the_quality_dependent_rate() -> None:
    # quality 20/100 = 20%: scale step 0 -> 40% earned; final sharing 30% -> loss rate 70%
    s = settle(ENHANCED, Totals(member_months=12_000, cost_cents=1_300_000_000, quality_numerator=20,
                                quality_denominator=100))  # fmt: skip
    assert s.shared_cents == -70_000_000  # $1,000,000 x 70%
    assert loss_sharing_rate(PAYER, D(0)) == D(40)  # a fixed rate stays fixed


def test_track_data_carries_both_loss_caps_and_the_enhanced_bounds() -> None:
    import datetime as dt

    on = dt.date(2026, 1, 1)
    level_e = track("BASIC_E", on)
    assert (level_e.loss_cap_percent, level_e.loss_cap_revenue_percent, level_e.loss_sharing_percent) == (
        D(4),
        D(8),
        D(30),
    )
    enhanced = track("ENHANCED", on)
    assert (enhanced.loss_sharing_floor_percent, enhanced.loss_sharing_ceiling_percent) == (D(40), D(75))
    assert (enhanced.sharing_percent, enhanced.performance_payment_limit_percent) == (D(75), D(20))
    assert track("TRACK_1", dt.date(2015, 1, 1)).status == "verified"
    with pytest.raises(KeyError):
        track("TRACK_1", on)  # agreement periods from 1 July 2019 are BASIC or ENHANCED


def test_target_mlr_and_risk_adjusted_benchmarks() -> None:
    mlr = Terms(
        benchmark_basis=TARGET_MLR, target_mlr_percent=D("85"), msr_percent=D("0"), sharing_percent=D("50")
    )
    s = settle(mlr, Totals(member_months=10, cost_cents=800_000, revenue_cents=1_000_000))
    assert s.benchmark_cents == 850_000
    assert s.shared_cents == 25_000
    risk = Terms(benchmark_basis=PMPM, benchmark_amount=D("1000"), risk_adjust=True, reference_raf_milli=1000)
    assert (
        settle(risk, Totals(member_months=12, cost_cents=0, mean_raf_milli=1100)).benchmark_cents == 1_320_000
    )
    with pytest.raises(SettlementError, match="mean RAF"):
        settle(risk, Totals(member_months=12, cost_cents=0))


@pytest.mark.parametrize(
    ("change", "message"),
    [({"benchmark_amount": D(0)}, "benchmark_amount"), ({"msr_percent": D(101)}, "msr_percent"),
     ({"benchmark_basis": "x"}, "benchmark_basis"), ({"savings_cap_percent": D(-1)}, "savings_cap_percent"),
     ({"quality_scale": (QualityStep(D(70), D(50)), QualityStep(D(60), D(75)))}, "rise")],
)  # fmt: skip
def test_bad_terms_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(SettlementError, match=message):
        settle(Terms(**{**PAYER.__dict__, **change}), totals(11_000_000))


def test_nobody_attributed_is_refused() -> None:
    with pytest.raises(SettlementError, match="member_months"):
        settle(PAYER, totals(1, mm=0))


@given(
    cost=st.integers(min_value=0, max_value=3_000_000_000),
    cap=st.decimals(min_value=0, max_value=30, places=2),
    loss_cap=st.decimals(min_value=0, max_value=30, places=2),
    share=st.decimals(min_value=0, max_value=100, places=3),
    first=st.booleans(),
)
def test_caps_hold_and_nothing_is_shared_inside_the_corridor(
    cost: int, cap: Decimal, loss_cap: Decimal, share: Decimal, first: bool
) -> None:
    terms = Terms(**{**PAYER.__dict__, "savings_cap_percent": cap, "loss_cap_percent": loss_cap,
                     "sharing_percent": share, "loss_sharing_percent": share, "first_dollar": first})  # fmt: skip
    s = settle(
        terms, Totals(member_months=12_000, cost_cents=cost, quality_numerator=9, quality_denominator=10)
    )
    assert s.savings_cents == s.benchmark_cents - cost
    if s.shared_cents > 0:
        assert s.shared_cents <= s.cap_cents if s.cap_cents is not None else True
        assert s.shared_cents <= s.savings_cents
        assert s.msr_met
    if s.shared_cents < 0:
        assert -s.shared_cents <= (s.cap_cents or 0)
        assert -s.shared_cents <= -s.savings_cents
        assert s.mlr_met
    if -s.mlr_cents < s.savings_cents < s.msr_cents:
        assert s.shared_cents == 0
