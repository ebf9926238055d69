"""The scorecard engine on a hand-computed fixture (two practices, three members, the first quarter of 2026),
the period grammar, the data file's checks, the peer rules and properties of the exact arithmetic."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.performance.engine import scorecard as sc
from openipa.performance.engine import watch

D = dt.date
Q1 = sc.parse_period("2026-Q1", D(2026, 11, 27))


def _frame(rows: list[tuple[object, ...]], schema: Mapping[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict(schema), orient="row")


def inputs() -> dict[str, pl.DataFrame]:
    eligibility = _frame([(1, D(2025, 1, 1), None), (2, D(2026, 1, 1), None), (3, D(2026, 1, 1), None)],
                         watch.ELIGIBILITY_SCHEMA)  # fmt: skip
    assignments = _frame(
        [(1, 1, 11, D(2025, 6, 1), None), (2, 1, 11, D(2026, 1, 1), None), (3, 2, 21, D(2026, 2, 15), None)],
        watch.ASSIGNMENT_SCHEMA,
    )
    paid = _frame(
        [(1, D(2026, 1, 10), 10_000), (2, D(2026, 2, 5), 5_000), (2, D(2026, 2, 5), -1_000),
         (3, D(2026, 1, 20), 7_000),  # member 3 is on no panel on 20 January: nobody's
         (3, D(2026, 3, 1), 3_000), (1, D(2026, 4, 2), 99_999)],  # April: outside the quarter
        sc.PAID_SCHEMA,
    )  # fmt: skip
    capitation = _frame(
        [(1, D(2026, 1, 1), 1, 11, 2_000), (1, D(2026, 2, 1), 1, 11, 2_000), (1, D(2026, 3, 1), 1, 11, 2_000),
         (2, D(2026, 1, 1), 1, 11, 2_000), (3, D(2026, 3, 1), 2, 21, 1_500)],
        sc.CAPITATION_SCHEMA,
    )  # fmt: skip
    lines = _frame(
        [(1, D(2026, 1, 15), "professional", "23", "", "", "99284"),
         (1, D(2026, 2, 1), "institutional", "", "0111", "0100", ""),
         (2, D(2026, 3, 3), "professional", "22", "", "", "71046"),
         (2, D(2026, 3, 3), "institutional", "", "0131", "0320", "71046"),  # the same study: counted once
         (2, D(2026, 3, 3), "professional", "11", "", "", "80053"),  # a lab code: not imaging
         (3, D(2026, 3, 9), "professional", "11", "", "", "7001A")],  # not a CPT code
        watch.CLAIM_LINE_SCHEMA,
    )  # fmt: skip
    requests = _frame(
        [(1, D(2026, 1, 5), "referral", "approved"), (2, D(2026, 2, 5), "referral", "denied"),
         (1, D(2026, 3, 1), "prior_auth", "")],
        watch.REQUEST_SCHEMA,
    )  # fmt: skip
    risk = _frame([(1, 2026, 1200), (3, 2025, 2000)], sc.RISK_SCHEMA)  # member 3: only 2025
    return {"eligibility": eligibility, "assignments": assignments, "paid": paid, "capitation": capitation,
            "claim_lines": lines, "requests": requests, "risk": risk}  # fmt: skip


def quality_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    latest = _frame(
        [("BCS-E", "BCS-E", 1, "", 1, 11, True, True, False), ("BCS-E", "BCS-E", 2, "", 1, 11, True, False, True),
         ("BCS-E", "BCS-E", 3, "", 2, 21, False, False, False)],  # member 3: excluded now
        sc.QUALITY_SCHEMA,
    )  # fmt: skip
    baseline = _frame(
        [("BCS-E", "BCS-E", 1, "", 1, 11, True, False, True), ("BCS-E", "BCS-E", 2, "", 1, 11, True, False, True),
         ("BCS-E", "BCS-E", 3, "", 2, 21, True, False, True)],
        sc.QUALITY_SCHEMA,
    )  # fmt: skip
    return latest, baseline


def metrics(unit: str = "practice") -> dict[int, sc.UnitMetrics]:
    frames = inputs()
    monthly = sc.monthly_counts(**frames, first=Q1.first, last=Q1.last, unit=unit,
                                imaging_ranges=[("70010", "79999")])  # fmt: skip
    latest, baseline = quality_frames()
    members = sc.members_at_end(frames["eligibility"], frames["assignments"], Q1.first, Q1.last, unit)
    prior = _frame([(1, "18"), (1, "85"), (2, "38")], sc.HCC_SCHEMA)
    open_gaps = _frame([(1, "85"), (3, "19")], sc.HCC_SCHEMA)
    found = sc.unit_metrics(
        monthly, Q1.months, unit, quality=sc.quality_counts(latest, unit),
        closures=sc.gaps_closed(latest, baseline, unit),
        recapture=sc.recapture_counts(members, prior, open_gaps, unit),
    )  # fmt: skip
    return {m.unit: m for m in found}


def test_golden_practice_scorecards() -> None:
    """Practice 1: members 1 and 2 all quarter (6 member-months). Claims 10,000 + 5,000 - 1,000 and capitation
    4 x 2,000 = 22,000 cents: 3,666.67 cents, $36.67 PMPM. Member 1 scores 1.200 (3 scored member-months),
    member 2 none: mean RAF of the scored 3,600 / 3 = 1.200; the risk adjustment counts member 2's 3 unscored
    member-months at 1.000: (3 x 1.2 + 3 x 1.0) / 6 = 1.1, risk-adjusted 22,000 / 6 / 1.1 = $33.33. One admission, one
    ED visit, one imaging study, two referrals: 12,000 / 6 = 2,000.00 per 1,000 each, referrals 4,000.00.
    Decided 2 (the open request is not), denied 1: 0.5. HCCs 18, 85, 38 of the prior year, 85 still open:
    2 / 3. BCS-E: 1 / 2; both were gaps at baseline, one closed: 0.5.
    Practice 2: member 3 from 15 February (2 member-months); the January claim was before the panel:
    3,000 + 1,500 = 4,500 / 2 = $22.50, no 2026 score: RAF 1.000, risk-adjusted $22.50."""
    found = metrics()
    one, two = found[1], found[2]
    assert (one.member_months, one.claims_cents, one.capitation_cents) == (6, 14_000, 8_000)
    v = one.values
    assert v["cost_pmpm"] == Decimal("36.67")
    assert v["raf"] == Decimal("1.200")
    assert v["risk_adjusted_cost_pmpm"] == Decimal("33.33")
    assert (one.admissions, one.ed_visits, one.imaging, one.referrals) == (1, 1, 1, 2)
    assert v["admissions_per_1000"] == v["ed_per_1000"] == v["imaging_per_1000"] == Decimal("2000.00")
    assert v["referrals_per_1000"] == Decimal("4000.00")
    assert (one.decided, one.denied, v["denial_rate"]) == (2, 1, Decimal("0.5000"))
    assert (one.prior_hccs, one.open_recaptures, v["recapture_rate"]) == (3, 1, Decimal("0.6667"))
    assert v[sc.quality_key("BCS-E", "BCS-E")] == Decimal("0.5000")
    assert (one.baseline_gaps, one.gaps_closed, v["gap_closure_rate"]) == (2, 1, Decimal("0.5000"))
    assert (two.member_months, two.claims_cents, two.capitation_cents) == (2, 3_000, 1_500)
    assert two.values["cost_pmpm"] == two.values["risk_adjusted_cost_pmpm"] == Decimal("22.50")
    assert two.values["raf"] == Decimal("1.000")
    assert two.imaging == 0  # 7001A is no CPT code
    assert two.values["denial_rate"] is None  # nothing decided: no rate, not 0
    assert two.values["recapture_rate"] is None  # member 3 had no prior-year HCC
    assert two.values[sc.quality_key("BCS-E", "BCS-E")] is None  # no denominator
    assert two.baseline_gaps == 0
    assert two.values["gap_closure_rate"] is None


def test_pcp_scorecards_use_the_same_attribution() -> None:
    found = metrics("pcp")
    assert set(found) == {11, 21}
    assert found[11].values["risk_adjusted_cost_pmpm"] == Decimal("33.33")
    assert found[21].member_months == 2


def test_without_a_baseline_run_gaps_closed_are_unknown() -> None:
    frames = inputs()
    monthly = sc.monthly_counts(**frames, first=Q1.first, last=Q1.last, unit="practice",
                                imaging_ranges=[("70010", "79999")])  # fmt: skip
    found = sc.unit_metrics(monthly, Q1.months, "practice", closures=None)
    assert all(m.gaps_closed is None and m.values["gap_closure_rate"] is None for m in found)


def test_monthly_values_for_the_trend() -> None:
    frames = inputs()
    months = sc.trend_months(Q1)
    assert len(months) == 12
    assert months[0] == D(2025, 4, 1)
    assert months[-1] == D(2026, 3, 1)
    monthly = sc.monthly_counts(**frames, first=months[0], last=Q1.last, unit="practice",
                                imaging_ranges=[("70010", "79999")])  # fmt: skip
    cost = sc.monthly_values(monthly, "practice", 1, months, "cost_pmpm")
    # member 1 alone from June 2025 (no cost), then January: 10,000 + 4,000 / 2 member-months = $70.00
    assert cost[:2] == [None, None]
    assert cost[2] == Decimal("0.00")
    assert cost[-3] == Decimal("70.00")


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [("2026-07", D(2026, 7, 1), D(2026, 7, 31)), ("2026-q3", D(2026, 7, 1), D(2026, 9, 30)),
     ("2026-YTD", D(2026, 1, 1), D(2026, 10, 31)), ("2025-YTD", D(2025, 1, 1), D(2025, 12, 31)),
     ("2024", D(2024, 1, 1), D(2024, 12, 31)), ("2024-02", D(2024, 2, 1), D(2024, 2, 29))],
)  # fmt: skip
def test_periods(text: str, first: dt.date, last: dt.date) -> None:
    period = sc.parse_period(text, D(2026, 11, 27))
    assert (period.first, period.last) == (first, last)


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "2027-YTD", "26-Q1", "", "Q3-2026", "2026-00"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"period|month|complete"):
        sc.parse_period(text, D(2026, 11, 27))


def test_ytd_in_january_has_no_complete_month() -> None:
    with pytest.raises(ValueError, match="no complete month"):
        sc.parse_period("2026-YTD", D(2026, 1, 15))
    assert sc.default_period(D(2026, 2, 1)).label == "2025-Q4"
    assert sc.default_period(D(2026, 11, 27)).label == "2026-Q3"


def test_the_shipped_data_file_is_valid_and_illustrative() -> None:
    data = sc.load_data()
    assert data.illustrative
    settings = data.settings_on(D(2026, 9, 30))
    assert settings.min_peer_practices >= 2
    assert settings.min_member_months >= 1
    assert data.imaging_on(D(2026, 9, 30)).ranges == (("70010", "79999"),)
    assert data.targets_on(D(2026, 9, 30))["recapture_rate"].better == "higher"


def _doc(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "settings": [{"valid_from": "2020-01-01", "valid_to": None, "min_member_months": 12, "min_peer_practices": 5}],
        "imaging": [{"valid_from": "2020-01-01", "valid_to": None, "ranges": [["70010", "79999"]]}],
        "targets": {"denial_rate": [{"valid_from": "2020-01-01", "valid_to": "2025-12-31", "value": "0.1",
                                     "better": "lower"},
                                    {"valid_from": "2026-01-01", "valid_to": None, "value": "0.08",
                                     "better": "lower"}]},
    }  # fmt: skip
    doc.update(overrides)
    return doc


def test_targets_are_effective_dated() -> None:
    data = sc.parse_data(_doc())
    assert data.targets_on(D(2025, 6, 30))["denial_rate"].value == Decimal("0.1")
    assert data.targets_on(D(2026, 6, 30))["denial_rate"].value == Decimal("0.08")
    assert data.targets_on(D(2026, 6, 30))["denial_rate"].met(Decimal("0.0800")) is True
    assert data.targets_on(D(2026, 6, 30))["denial_rate"].met(Decimal("0.0801")) is False


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"settings": []}, "at least one version"),
     ({"settings": [{"valid_from": "2020-13-01", "min_member_months": 1, "min_peer_practices": 5}]}, "a date"),
     ({"settings": [{"valid_from": "2020-01-01", "min_member_months": 0, "min_peer_practices": 5}]},
      "min_member_months"),
     ({"settings": [{"valid_from": "2020-01-01", "min_member_months": 1, "min_peer_practices": 1}]},
      "min_peer_practices"),
     ({"imaging": [{"valid_from": "2020-01-01", "ranges": [["79999", "70010"]]}]}, "ranges"),
     ({"targets": {"nonsense": []}}, "not a scorecard metric"),
     ({"targets": {"denial_rate": [{"valid_from": "2020-01-01", "value": "x", "better": "lower"}]}}, "number"),
     ({"targets": {"denial_rate": [{"valid_from": "2020-01-01", "value": "1", "better": "up"}]}}, "better"),
     ({"settings": [{"valid_from": "2021-01-01", "valid_to": "2020-01-01", "min_member_months": 1,
                     "min_peer_practices": 5}]}, "before")],
)  # fmt: skip
def test_bad_data_files_are_refused(overrides: dict[str, object], message: str, tmp_path: Path) -> None:
    with pytest.raises(sc.ScorecardDataError, match=message):
        sc.parse_data(_doc(**overrides))


def test_overlapping_settings_are_refused(tmp_path: Path) -> None:
    two = {"valid_from": "2020-01-01", "valid_to": None, "min_member_months": 12, "min_peer_practices": 5}
    path = tmp_path / "scorecard.json"
    path.write_text(json.dumps(_doc(settings=[two, two])))
    with pytest.raises(sc.ScorecardDataError, match="2 versions"):
        sc.load_data(path).settings_on(D(2026, 1, 1))


# -- peers ------------------------------------------------------------------------------------------------------


def test_peers_need_k_other_practices() -> None:
    """K = 5: with the practice itself and 4 others, "not enough peers"; with 5 others, the aggregates."""
    values = {u: Decimal(u) for u in range(1, 7)}
    groups = {u: u for u in values}
    four_others = {u: values[u] for u in range(1, 6)}
    assert sc.peer_stats(four_others, groups, eligible=four_others, exclude_group=1, min_groups=5,
                         places=Decimal("0.01")) is None  # fmt: skip
    stats = sc.peer_stats(
        values, groups, eligible=values, exclude_group=1, min_groups=5, places=Decimal("0.01")
    )
    assert stats is not None
    # the others 2..6: mean 4, quartiles by linear interpolation 3, 4, 5
    assert (stats.units, stats.groups) == (5, 5)
    assert (stats.mean, stats.p25, stats.median, stats.p75) == (Decimal("4.00"), Decimal("3.00"), Decimal("4.00"),
                                                                Decimal("5.00"))  # fmt: skip


def test_peers_count_groups_not_units_and_skip_small_or_valueless_units() -> None:
    """PCP peers: 6 PCPs of only 3 other practices are not 5 practices; an ineligible (small) unit and a unit
    without a value do not count."""
    values: dict[int, Decimal | None] = {10: Decimal(1), 11: Decimal(2), 20: Decimal(3), 21: Decimal(4),
                                         30: Decimal(5), 31: Decimal(6), 40: None, 50: Decimal(9)}  # fmt: skip
    groups = {10: 1, 11: 1, 20: 2, 21: 2, 30: 3, 31: 3, 40: 4, 50: 5}
    eligible = [10, 11, 20, 21, 30, 31, 40]  # 50 is under the minimum panel
    assert sc.peer_stats(values, groups, eligible=eligible, exclude_group=9, min_groups=4,
                         places=Decimal("0.01")) is None  # fmt: skip
    stats = sc.peer_stats(values, groups, eligible=eligible, exclude_group=None, min_groups=3,
                          places=Decimal("0.01"))  # fmt: skip
    assert stats is not None
    assert stats.units == 6
    assert stats.median == Decimal("3.50")


@given(st.lists(st.decimals(min_value=0, max_value=10_000, places=2), min_size=1, max_size=40))
def test_quantiles_lie_within_the_values(values: list[Decimal]) -> None:
    ordered = sorted(values)
    q = [sc.quantile(ordered, Fraction(n, 4)) for n in (1, 2, 3)]
    assert ordered[0] <= q[0] <= q[1] <= q[2] <= ordered[-1]


# -- exactness properties ---------------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_per_1000_is_exact_from_counts(count: int, member_months: int) -> None:
    value = sc.per_1000(count, member_months)
    assert value is not None
    exact = Fraction(count * 12_000, member_months)
    assert abs(Fraction(value) - exact) <= Fraction(1, 200)  # within half a hundredth
    assert value.as_tuple().exponent == -2


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_ratios_are_in_zero_to_one(a: int, b: int) -> None:
    numerator, denominator = min(a, b), max(a, b)
    value = sc.ratio(numerator, denominator)
    if denominator == 0:
        assert value is None
    else:
        assert value is not None
        assert Decimal(0) <= value <= Decimal(1)
        assert abs(Fraction(value) - Fraction(numerator, denominator)) <= Fraction(1, 20_000)


@given(st.integers(min_value=-10**9, max_value=10**10), st.integers(min_value=1, max_value=10**5),
       st.integers(min_value=1, max_value=10**7), st.integers(min_value=1, max_value=10**5))  # fmt: skip
def test_cost_pmpm_is_exact_cents(cents: int, member_months: int, raf_milli_months: int, scored: int) -> None:
    raf = sc.mean_raf(raf_milli_months, scored)
    value = sc.cost_pmpm(cents, member_months, raf)
    assert value is not None
    exact = Fraction(cents, member_months) / raf / 100
    assert abs(Fraction(value) - exact) <= Fraction(1, 200)
    assert sc.cost_pmpm(cents, 0, raf) is None
    assert sc.mean_raf(5, 0) == 1


def test_half_even_rounding() -> None:
    assert sc.per_1000(1, 24_000) == Decimal("0.50")  # exactly 0.5
    assert sc.ratio(1, 80_000) == Decimal("0.0000")  # 0.0000125 -> 0.0000
    assert sc.ratio(3, 80_000) == Decimal("0.0000")  # 0.0000375 -> 0.0000 (under the half)
    assert sc.ratio(1, 20_000) == Decimal("0.0000")  # exactly half: to even
    assert sc.ratio(3, 20_000) == Decimal("0.0002")  # 1.5 ten-thousandths: to even, up


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=30))
def test_unit_rates_stay_in_range(rows: list[tuple[int, int]]) -> None:
    """Denial and recapture rates of any counts are in 0..1 and the per-1,000 rates are the exact formula."""
    for decided, denied_raw in rows:
        denied = min(decided, denied_raw)
        m = sc._with_values(sc.UnitMetrics(
            unit=1, member_months=decided + 1, claims_cents=0, capitation_cents=0, scored_member_months=0,
            raf_milli_months=0, admissions=denied, ed_visits=0, imaging=0, referrals=decided, decided=decided,
            denied=denied, prior_hccs=decided, open_recaptures=denied, baseline_gaps=decided, gaps_closed=denied,
            quality=(),
        ))  # fmt: skip
        for key in ("denial_rate", "recapture_rate", "gap_closure_rate"):
            value = m.values[key]
            assert value is None or Decimal(0) <= value <= Decimal(1)
        assert m.values["referrals_per_1000"] == sc.per_1000(decided, decided + 1)
