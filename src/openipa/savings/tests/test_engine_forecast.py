"""The forecast on synthetic years whose answer is known: deterministic members (the projection equals the
hand-computed number and the interval collapses) and noisy members (the 90% interval covers the true
savings, and the probability of passing the MSR is near the normal approximation)."""

from __future__ import annotations

import math
import random
import statistics
from decimal import Decimal

import polars as pl
import pytest

from openipa.savings.engine.forecast import ForecastError, forecast, histogram
from openipa.savings.engine.settlement import PMPM, Terms

D = Decimal


def members(costs: list[int], mm: int = 12, num: int = 1, den: int = 1) -> pl.DataFrame:
    n = len(costs)
    return pl.DataFrame({"member_id": list(range(1, n + 1)), "member_months": [mm] * n, "cost_cents": costs,
                         "quality_numerator": [num] * n, "quality_denominator": [den] * n})  # fmt: skip


def test_deterministic_year_projects_the_hand_computed_answer_and_the_interval_collapses() -> None:
    # 100 members, 10 months observed at $100 PMPM ($1,000 each): run-rate $100 PMPM x 1,200 expected
    # member-months = $120,000 projected; benchmark $110 PMPM x 1,200 = $132,000; savings $12,000 (9.09%)
    terms = Terms(benchmark_basis=PMPM, benchmark_amount=D("110"), msr_percent=D("2"), sharing_percent=D("50"),
                  savings_cap_percent=D("10"))  # fmt: skip
    f = forecast(
        members([100_000] * 100, mm=10), terms=terms, expected_member_months=1_200, samples=200, seed=3
    )
    assert f.projected_cost_cents == 12_000_000
    assert f.point.benchmark_cents == 13_200_000
    assert f.point.savings_cents == 1_200_000
    assert f.point.shared_cents == 600_000  # first dollar x 50%; cap 1,320,000
    assert f.savings_low_cents == f.savings_median_cents == f.savings_high_cents == 1_200_000
    assert f.shared_low_cents == f.shared_high_cents == 600_000
    assert f.p_msr_met == 1.0
    assert f.p_quality_met == 1.0
    assert f.p_savings_cap == 0.0
    assert f.p_loss_shared == 0.0
    assert histogram(f.savings_samples) == [(1_200_000, 1_200_000, 200)]


def test_noisy_year_interval_covers_the_truth_and_msr_probability_matches_the_normal_approximation() -> None:
    n, mean, sd = 2_000, 120_000, 40_000  # a member-year costs $1,200 on average (PMPM $100)
    rng = random.Random(7)
    costs = [max(0, round(rng.gauss(mean, sd))) for _ in range(n)]
    terms = Terms(
        benchmark_basis=PMPM, benchmark_amount=D("102"), msr_percent=D("1"), sharing_percent=D("50")
    )
    f = forecast(members(costs), terms=terms, expected_member_months=n * 12, samples=1_000, seed=1)
    true_savings = n * (12 * 10_200 - mean)  # 4,800,000 cents
    assert f.savings_low_cents <= true_savings <= f.savings_high_cents
    observed = f.point.savings_cents
    spread = math.sqrt(n) * statistics.pstdev(costs)
    analytic = 0.5 * (1 + math.erf((observed - f.point.msr_cents) / spread / math.sqrt(2)))
    assert abs(f.p_msr_met - analytic) < 0.05
    # the interval's half-width is about 1.645 standard errors
    assert abs((f.savings_high_cents - f.savings_low_cents) / 2 - 1.645 * spread) < 0.15 * 1.645 * spread


def test_same_seed_same_answer_other_seed_other_samples() -> None:
    terms = Terms(benchmark_basis=PMPM, benchmark_amount=D("100"))
    frame = members([1_000 * i for i in range(1, 200)])
    one = forecast(frame, terms=terms, expected_member_months=199 * 12, samples=300, seed=5)
    two = forecast(frame, terms=terms, expected_member_months=199 * 12, samples=300, seed=5)
    three = forecast(frame, terms=terms, expected_member_months=199 * 12, samples=300, seed=6)
    assert one.savings_samples == two.savings_samples
    assert one.savings_samples != three.savings_samples


def test_quality_gate_probability() -> None:
    # every member has 1 of 2 measures met: the score is 50.00 in every resample; gate at 50 passes, 50.01 fails
    terms = Terms(benchmark_basis=PMPM, benchmark_amount=D("100"), quality_min_score=D("50"))
    frame = members([10_000] * 50, num=1, den=2)
    assert forecast(frame, terms=terms, expected_member_months=600, samples=50).p_quality_met == 1.0
    stricter = Terms(benchmark_basis=PMPM, benchmark_amount=D("100"), quality_min_score=D("50.01"))
    assert forecast(frame, terms=stricter, expected_member_months=600, samples=50).p_quality_met == 0.0


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [(members([]), {}, "nobody"), (members([1], mm=0), {}, "no member-months"),
     (members([1]), {"expected_member_months": 1}, "fewer than"), (members([1]), {"samples": 0}, "samples"),
     (members([1]).drop("cost_cents"), {}, "missing columns")],
)  # fmt: skip
def test_bad_inputs_are_refused(frame: pl.DataFrame, kwargs: dict[str, int], message: str) -> None:
    options = {"expected_member_months": 12, "samples": 10, **kwargs}
    with pytest.raises(ForecastError, match=message):
        forecast(frame, terms=Terms(benchmark_basis=PMPM, benchmark_amount=D("1")), **options)
