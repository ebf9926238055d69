"""The board engine without a database: periods, PMPM and MLR, revenue by line of business (exact: parts sum to
the whole), the lights at their boundaries under the shipped criteria file, the criteria file's checks."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.board import engine
from openipa.board.engine import Light
from openipa.board.selectors import CRITERIA_PATH, last_closed_month
from openipa.core.months import Month
from openipa.ledger.accounts import CHART

d = dt.date
DOC: dict[str, Any] = json.loads(CRITERIA_PATH.read_text(encoding="utf-8"))
VERSIONS = engine.parse_criteria(DOC, known_accounts=[a.code for a in CHART])
SHIPPED = engine.criteria_on(VERSIONS, d(2026, 6, 30))


# -- periods -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first", "last", "code"),
    [
        ("2026-09", "2026-09", "2026-09", "2026-09"),
        ("2026-Q3", "2026-07", "2026-09", "2026-Q3"),
        ("2026-q1", "2026-01", "2026-03", "2026-Q1"),
        ("2026-09-YTD", "2026-01", "2026-09", "2026-09-YTD"),
        ("2026-YTD", "2026-01", "2026-10", "2026-10-YTD"),  # today 15 Nov: October is the last closed month
        ("2025-YTD", "2025-01", "2025-12", "2025-12-YTD"),
    ],
)
def test_periods_parse_and_read_back(text: str, first: str, last: str, code: str) -> None:
    period = engine.parse_period(text, today=d(2026, 11, 15))
    assert (str(period.first), str(period.last), period.code) == (first, last, code)
    assert engine.parse_period(period.code, today=d(2026, 11, 15)) == period


@pytest.mark.parametrize(
    "text", ["", "2026", "2026-13", "2026-Q5", "2026-Q0", "Q3-2026", "2026-00-YTD", "2027-YTD"]
)
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(engine.BoardInputError):
        engine.parse_period(text, today=d(2026, 11, 15))


def test_the_default_period_is_the_quarter_of_the_last_closed_month() -> None:
    assert engine.default_period(d(2026, 7, 1)).code == "2026-Q2"
    assert engine.default_period(d(2026, 1, 10)).code == "2025-Q4"


# -- ratios ------------------------------------------------------------------------------------------------


def test_pmpm_rounds_half_away_from_zero_and_mlr_to_four_places() -> None:
    assert engine.pmpm_cents(450_789, 6) == 75_132  # 75,131.5
    assert engine.pmpm_cents(-450_789, 6) == -75_132
    assert engine.pmpm_cents(470_000, 6) == 78_333  # 78,333.33
    assert engine.pmpm_cents(100, 0) is None
    assert engine.ratio(470_000, 450_789) == Decimal("1.0426")
    assert engine.ratio(3, 8) == Decimal("0.3750")
    assert engine.ratio(1, 0) is None
    assert engine.percent(6, 7) == Decimal("85.7")
    assert engine.percent(1, 0) is None


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**7))
def test_pmpm_is_within_half_a_cent(cents: int, member_months: int) -> None:
    pmpm = engine.pmpm_cents(cents, member_months)
    assert pmpm is not None
    assert abs(Decimal(pmpm) - Decimal(cents) / member_months) <= Decimal("0.5")


def test_figures_add_cost_and_derive_pmpm_and_mlr() -> None:
    f = engine.Figures("x", member_months=4, revenue_cents=100_000, claims_cents=50_000, capitation_cents=20_000,
                       ibnr_cents=10_000)  # fmt: skip
    assert (f.cost_cents, f.margin_cents, f.cost_pmpm, f.revenue_pmpm) == (80_000, 20_000, 20_000, 25_000)
    assert (f.mlr, f.mlr_percent) == (Decimal("0.8000"), Decimal("80.0"))
    empty = engine.Figures("y", 0, 0, 0, 0, 0)
    assert (empty.mlr, empty.cost_pmpm) == (None, None)


# -- revenue by line of business -----------------------------------------------------------------------------


def _revenue(rows: list[tuple[int, dt.date, str | None, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=engine.REVENUE_SCHEMA, orient="row")


def test_payer_lines_follow_the_payers_only_line_of_business_or_are_allocated() -> None:
    apr = d(2026, 4, 1)
    lines = _revenue([
        (1, apr, "medicare_advantage", 150_000), (1, apr, "commercial", 40_000), (1, apr, None, 1_000),
        (2, apr, None, 500), (3, apr, None, 300),
    ])  # fmt: skip
    out = engine.revenue_by_lob(lines, {1: ["commercial", "medicare_advantage"], 2: ["medicaid"],
                                        3: ["commercial", "medicaid"]})  # fmt: skip
    got = {r[0]: r[2] for r in out.iter_rows()}
    # allocate(1000, [40000, 150000]) = [211, 789]; payer 3 has no member revenue to weigh by
    assert got == {
        "commercial": 40_211,
        "medicare_advantage": 150_789,
        "medicaid": 500,
        engine.UNASSIGNED: 300,
    }


@given(
    st.lists(
        st.tuples(
            st.integers(1, 3),
            st.integers(1, 3),
            st.sampled_from(["medicare_advantage", "medicaid", "commercial", None]),
            st.integers(-50_000, 500_000),
        ),
        max_size=40,
    ),
)
def test_revenue_by_lob_keeps_every_cent(rows: list[tuple[int, int, str | None, int]]) -> None:
    lines = _revenue([(p, d(2026, m, 1), lob, c) for p, m, lob, c in rows])
    out = engine.revenue_by_lob(lines, {1: ["medicare_advantage"], 2: ["medicaid", "commercial"], 3: []})
    assert int(out["cents"].sum() or 0) == sum(c for *_x, c in rows)
    for month in {m for _p, m, _l, _c in rows}:
        assert int(out.filter(pl.col("month") == d(2026, month, 1))["cents"].sum() or 0) == sum(
            c for _p, m, _l, c in rows if m == month
        )


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=12), st.integers(1, 10**6))
def test_cost_drivers_always_sum_to_the_whole(amounts: list[int], member_months: int) -> None:
    paid = {f"k{i}": v for i, v in enumerate(amounts)}
    rows = engine.top_drivers(paid, {}, member_months=member_months, top=5)
    assert sum(r.paid_cents for r in rows) == sum(amounts)
    assert len(rows) == min(len(amounts), 5) + (1 if len(amounts) > 5 else 0)
    shown = [r.paid_cents for r in rows if r.label != engine.OTHER]
    assert shown == sorted(shown, reverse=True)


def test_lob_month_frame_has_every_month_of_each_active_lob() -> None:
    months = [Month(2026, 4), Month(2026, 5)]
    empty = pl.DataFrame(schema=engine.LOB_MONTH_SCHEMA)
    frame = engine.lob_month_frame(
        revenue=pl.DataFrame([("commercial", d(2026, 4, 1), 100)], schema=engine.LOB_MONTH_SCHEMA, orient="row"),
        claims=pl.DataFrame([("medicare_advantage", d(2026, 5, 1), 70), ("medicare_advantage", d(2026, 7, 1), 9)],
                            schema=engine.LOB_MONTH_SCHEMA, orient="row"),
        capitation=empty, ibnr=empty,
        member_months=pl.DataFrame([("medicaid", d(2026, 4, 1), 0)], schema=engine.MEMBER_MONTH_SCHEMA, orient="row"),
        months=months,
    )  # fmt: skip
    assert frame.select("line_of_business", "month").rows() == [
        ("medicare_advantage", d(2026, 4, 1)), ("medicare_advantage", d(2026, 5, 1)),
        ("commercial", d(2026, 4, 1)), ("commercial", d(2026, 5, 1)),
    ]  # fmt: skip
    assert engine.figures(frame, "all").claims_cents == 70  # July is outside


def test_icd10_chapters_and_places() -> None:
    assert engine.icd10_chapter("E11.9") == "Endocrine, nutritional and metabolic"
    assert engine.icd10_chapter("D50") == "Blood and immune disorders"
    assert engine.icd10_chapter("D49") == "Neoplasms"
    assert engine.icd10_chapter("T88") == "Injury and poisoning"
    assert engine.icd10_chapter("O9A") == "Pregnancy and childbirth"
    assert engine.icd10_chapter("") == engine.NO_DIAGNOSIS
    assert engine.place_label("23") == "23 Emergency room"
    assert engine.place_label("99") == "99 (other)"


# -- lights at their boundaries (the shipped file) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "light"),
    [("0.75", Light.GREEN), ("0.7500", Light.GREEN), ("3.5", Light.GREEN), ("0.7499", Light.AMBER),
     ("0.65", Light.AMBER), ("0.6499", Light.RED), ("0", Light.RED), (None, Light.UNKNOWN)],
)  # fmt: skip
def test_cash_to_claims_boundaries(value: str | None, light: Light) -> None:
    assert SHIPPED.numeric["cash_to_claims"].light(None if value is None else Decimal(value)) == light


@pytest.mark.parametrize(("value", "light"), [("95", Light.GREEN), ("95.0", Light.GREEN), ("100", Light.GREEN),
                                              ("94.9", Light.AMBER), ("90.0", Light.AMBER), ("89.9", Light.RED)])  # fmt: skip
def test_claims_timeliness_boundaries(value: str, light: Light) -> None:
    assert SHIPPED.numeric["claims_timeliness"].light(Decimal(value)) == light


@pytest.mark.parametrize(("cents", "light"), [(1, Light.GREEN), (0, Light.RED), (-1, Light.RED)])
def test_working_capital_and_tne_must_be_positive(cents: int, light: Light) -> None:
    assert SHIPPED.numeric["working_capital"].light(cents) == light
    assert SHIPPED.numeric["tangible_net_equity"].light(cents) == light


def _inputs(**overrides: Any) -> engine.RboInputs:
    balances = (
        engine.AccountBalance("1000", "Cash", "asset", 75_000),
        engine.AccountBalance("2800", "Claims payable", "liability", 60_000),
        engine.AccountBalance("3000", "Retained surplus", "equity", 15_000),
    )
    base: dict[str, Any] = {"as_of": d(2026, 6, 30), "balances": balances, "ibnr_cents": 40_000, "ibnr_status": "approved",
                                "ibnr_method": "volume_weighted", "ibnr_as_of": d(2026, 6, 1), "last_closed": Month(2026, 6),
                                "timely_on_time": 95, "timely_counted": 100}  # fmt: skip
    base.update(overrides)
    return engine.RboInputs(**base)


def test_assess_at_exactly_the_thresholds() -> None:
    # cash 750.00 / (600.00 + 400.00) = 0.75 exactly: green; working capital 750 - 600 - 400 < 0: red
    lights = {c.key: c for c in engine.assess(_inputs(), SHIPPED)}
    assert lights["cash_to_claims"].value == Decimal("0.7500")
    assert lights["cash_to_claims"].light == Light.GREEN
    assert lights["cash_to_claims"].arithmetic == "$750.00 / ($600.00 + $400.00) = 0.7500"
    assert lights["working_capital"].value == -25_000
    assert lights["working_capital"].light == Light.RED
    assert lights["tangible_net_equity"].value == 15_000 - 40_000
    assert lights["claims_timeliness"].light == Light.GREEN
    # one cent less cash: 0.7499 -> amber
    less = engine.assess(_inputs(balances=(engine.AccountBalance("1000", "Cash", "asset", 74_990),
                                           *_inputs().balances[1:])), SHIPPED)  # fmt: skip
    assert less[0].value == Decimal("0.7499")
    assert less[0].light == Light.AMBER


def test_a_claims_liability_below_zero_is_not_judged() -> None:
    balances = (engine.AccountBalance("1000", "Cash", "asset", 75_000),
                engine.AccountBalance("2800", "Claims payable", "liability", -60_000))  # fmt: skip
    (c2c, *_rest) = engine.assess(_inputs(balances=balances, ibnr_cents=10_000), SHIPPED)
    assert c2c.value is None
    assert c2c.light == Light.UNKNOWN
    assert "below zero" in c2c.value_text


def test_assess_without_data_is_grey_or_red() -> None:
    lights = {c.key: c for c in engine.assess(_inputs(balances=(), ibnr_cents=None, ibnr_status=None, ibnr_method="",
                                                      ibnr_as_of=None, timely_on_time=0, timely_counted=0),
                                              SHIPPED)}  # fmt: skip
    assert lights["cash_to_claims"].light == Light.UNKNOWN
    assert lights["claims_timeliness"].light == Light.UNKNOWN
    assert lights["ibnr_documented"].light == Light.RED
    assert lights["working_capital"].light == Light.RED  # zero is not positive
    draft = {c.key: c for c in engine.assess(_inputs(ibnr_status="draft"), SHIPPED)}
    assert draft["ibnr_documented"].light == Light.AMBER


# -- the criteria file ----------------------------------------------------------------------------------------


def test_the_shipped_file_holds_the_regulatory_thresholds() -> None:
    assert SHIPPED.numeric["cash_to_claims"].green == engine.Threshold(">=", Decimal("0.75"))
    assert SHIPPED.numeric["claims_timeliness"].green == engine.Threshold(">=", Decimal("95"))
    assert SHIPPED.intangible_assets == ()
    assert "1000" in SHIPPED.cash_accounts
    assert "2800" in SHIPPED.current_liabilities


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["versions"], [], "non-empty"),
        (["versions", 0, "valid_from"], "2026-13-01", "valid_from"),
        (["versions", 0, "valid_to"], "1999-01-01", "before"),
        (["versions", 0, "cash_accounts"], ["9999"], "not accounts of the chart"),
        (["versions", 0, "criteria", "cash_to_claims", "green"], ["=", "0.75"], "expected"),
        (["versions", 0, "criteria", "cash_to_claims", "green"], [">=", "x"], "not a number"),
        (["versions", 0, "criteria", "cash_to_claims", "amber"], [">=", "0.80"], "above green"),
        (["versions", 0, "criteria", "ibnr_documented"], {"green": "approved"}, "statuses"),
    ],
)
def test_a_malformed_criteria_file_is_refused(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(engine.BoardInputError, match=message):
        engine.parse_criteria(_broken(path, value), known_accounts=[a.code for a in CHART])


def test_versions_are_effective_dated_and_may_not_overlap() -> None:
    later = copy.deepcopy(DOC["versions"][0])
    later.update(valid_from="2027-01-01")
    later["criteria"]["cash_to_claims"]["green"] = [">=", "0.80"]
    first = dict(DOC["versions"][0], valid_to="2026-12-31")
    versions = engine.parse_criteria({"versions": [first, later]})
    assert engine.criteria_on(versions, d(2026, 12, 31)).numeric["cash_to_claims"].green.value == Decimal(
        "0.75"
    )
    assert engine.criteria_on(versions, d(2027, 1, 1)).numeric["cash_to_claims"].green.value == Decimal(
        "0.80"
    )
    with pytest.raises(engine.BoardInputError, match="no version"):
        engine.criteria_on(versions, d(1999, 1, 1))
    with pytest.raises(engine.BoardInputError):
        engine.parse_criteria({"versions": [DOC["versions"][0], later]})


@pytest.mark.parametrize(
    ("period", "as_of", "closed"),
    [("2026-Q2", d(2026, 7, 15), "2026-06"), ("2026-Q2", d(2026, 6, 30), "2026-06"),
     ("2026-Q2", d(2026, 6, 29), "2026-05"), ("2026-10", d(2026, 10, 31), "2026-10"),
     ("2026-10-YTD", d(2026, 10, 15), "2026-09")],
)  # fmt: skip
def test_the_last_closed_month(period: str, as_of: dt.date, closed: str) -> None:
    assert str(last_closed_month(engine.parse_period(period, today=as_of), as_of)) == closed
