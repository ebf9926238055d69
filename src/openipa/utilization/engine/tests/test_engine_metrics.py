"""The CMS-0057-F metrics engine on a hand-made set of requests, and properties that hold for any set."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.utilization.engine import metrics

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def row(contract: str, lob: str, kind: str, urgency: str, hours: float | None, outcome: str, *,
        extended: bool = False, appeal: str = "", received: dt.datetime = T0) -> dict[str, Any]:  # fmt: skip
    decided = None if hours is None else received + dt.timedelta(hours=hours)
    return {"contract": contract, "line_of_business": lob, "kind": kind, "urgency": urgency,
            "received_at": received, "due_at": received + dt.timedelta(days=7), "decided_at": decided,
            "outcome": outcome, "extended": extended, "appeal_outcome": appeal}  # fmt: skip


MA, MCD = "medicare_advantage", "medicaid"
GOLDEN = [
    # contract C1, Medicare Advantage, standard
    row("C1", MA, "prior_auth", "standard", 24, "approved"),  # 1
    row("C1", MA, "referral", "standard", 0, "approved"),  # 2 auto-approved
    row("C1", MA, "prior_auth", "standard", 48, "modified"),  # 3
    row("C1", MA, "prior_auth", "standard", 72, "denied", appeal="overturned"),  # 4
    row("C1", MA, "prior_auth", "standard", 120, "denied", appeal="upheld"),  # 5
    row("C1", MA, "prior_auth", "standard", 96, "denied"),  # 6
    row("C1", MA, "prior_auth", "standard", 240, "approved", extended=True),  # 7
    row("C1", MA, "prior_auth", "standard", 200, "modified", extended=True, appeal="partial"),  # 8
    # expedited
    row("C1", MA, "prior_auth", "expedited", 10, "approved"),  # 9
    row("C1", MA, "prior_auth", "expedited", 30, "denied"),  # 10
    row("C1", MA, "referral", "expedited", 20, "approved", extended=True),  # 11
    # left out
    row("C1", MA, "prior_auth", "standard", 5, "withdrawn"),  # 12 withdrawn
    row("C1", MA, "prior_auth", "standard", None, ""),  # 13 still open
    row("C1", MA, "admission", "standard", 1, "approved"),  # 14 a notification
    row("C1", MA, "post_stabilization", "expedited", 1, "deemed_approved"),  # 15 emergency services
    # decided at 05:00 UTC on 1 January 2026: still 31 December 2025 in Los Angeles
    row(
        "C1", MA, "prior_auth", "standard", 24, "approved", received=dt.datetime(2025, 12, 31, 5, tzinfo=UTC)
    ),  # 16
    # contract C2, Medicaid
    row("C2", MCD, "prior_auth", "standard", 48, "denied"),  # 17
    row("C2", MCD, "prior_auth", "standard", 24, "approved"),  # 18
]


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=metrics.REQUEST_SCHEMA)


def by_key(result: pl.DataFrame) -> dict[tuple[str, str, int], dict[str, Any]]:
    return {(r["contract"], r["line_of_business"], r["year"]): r for r in result.iter_rows(named=True)}


def test_golden_set_in_utc() -> None:
    """Counted by hand (UTC: request 16 is decided in 2026).

    C1 / Medicare Advantage / 2026, standard: requests 1-8 and 16 = 9 decided (12 withdrawn, 13 open, 14 an
    admission notification and 15 post-stabilization care are not counted).
    - approved (in full, in part or deemed): 1, 2, 3, 7, 8, 16 = 6 -> 66.667%; of which modified 3, 8 = 2 -> 22.222%
    - denied: 4, 5, 6 = 3 -> 33.333%
    - appealed adverse decisions: 4 (overturned), 5 (upheld), 8 (partial) = 3; approved after appeal: 4 and 8 = 2
      -> 2 / 9 = 22.222% (of all standard requests decided, not of the 3 appealed)
    - extended and approved: 7, 8 = 2 -> 22.222%
    - hours 24, 0, 48, 72, 120, 96, 240, 200, 24: sum 824, mean 91.556; sorted 0 24 24 48 72 96 120 200 240,
      median 72
    Expedited: 9, 10, 11 = 3: approved 9, 11 -> 66.667%, denied 10 -> 33.333%, extended and approved 11 ->
    33.333%; hours 10, 30, 20: mean 20, median 20.
    C2 / Medicaid / 2026: 17 denied in 48 h, 18 approved in 24 h: 50% and 50%, mean and median 36 h; no
    expedited request: shares and times null.
    """
    result = by_key(metrics.cms_metrics(frame(GOLDEN)))
    assert set(result) == {("C1", MA, 2026), ("C2", MCD, 2026)}
    c1 = result[("C1", MA, 2026)]
    assert (
        c1["standard_decided"],
        c1["standard_approved"],
        c1["standard_denied"],
        c1["standard_modified"],
    ) == (9, 6, 3, 2)
    assert (
        c1["standard_appealed"],
        c1["standard_approved_after_appeal"],
        c1["standard_extended_approved"],
    ) == (3, 2, 2)
    assert c1["standard_approved_pct"] == pytest.approx(200 / 3)
    assert c1["standard_denied_pct"] == pytest.approx(100 / 3)
    assert c1["standard_modified_pct"] == pytest.approx(200 / 9)
    assert c1["standard_approved_after_appeal_pct"] == pytest.approx(200 / 9)
    assert c1["standard_approved_after_extension_pct"] == pytest.approx(200 / 9)
    assert c1["standard_hours_mean"] == pytest.approx(824 / 9)
    assert c1["standard_hours_median"] == pytest.approx(72)
    assert (c1["expedited_decided"], c1["expedited_approved"], c1["expedited_denied"]) == (3, 2, 1)
    assert c1["expedited_approved_pct"] == pytest.approx(200 / 3)
    assert c1["expedited_denied_pct"] == pytest.approx(100 / 3)
    assert c1["expedited_approved_after_extension_pct"] == pytest.approx(100 / 3)
    assert c1["expedited_hours_mean"] == pytest.approx(20)
    assert c1["expedited_hours_median"] == pytest.approx(20)
    c2 = result[("C2", MCD, 2026)]
    assert (c2["standard_decided"], c2["standard_approved_pct"], c2["standard_denied_pct"]) == (2, 50.0, 50.0)
    assert (c2["standard_hours_mean"], c2["standard_hours_median"]) == (36.0, 36.0)
    assert c2["expedited_decided"] == 0
    assert c2["expedited_approved_pct"] is None
    assert c2["expedited_hours_median"] is None


def test_year_is_the_decisions_in_the_ipa_zone() -> None:
    """In Los Angeles request 16 is decided on 31 December 2025: C1 2025 has it alone (1 standard, approved,
    24 h); C1 2026 keeps 8 standard requests: approved 5 -> 62.5%, hours 0 24 48 72 96 120 200 240: mean
    800 / 8 = 100, median (72 + 96) / 2 = 84."""
    result = by_key(metrics.cms_metrics(frame(GOLDEN), tz="America/Los_Angeles"))
    assert set(result) == {("C1", MA, 2025), ("C1", MA, 2026), ("C2", MCD, 2026)}
    y2025 = result[("C1", MA, 2025)]
    assert (y2025["standard_decided"], y2025["standard_approved_pct"], y2025["standard_hours_mean"]) == (
        1,
        100.0,
        24.0,
    )
    y2026 = result[("C1", MA, 2026)]
    assert y2026["standard_decided"] == 8
    assert y2026["standard_approved_pct"] == pytest.approx(62.5)
    assert y2026["standard_hours_mean"] == pytest.approx(100)
    assert y2026["standard_hours_median"] == pytest.approx(84)


def test_deemed_approval_counts_as_approved_when_its_kind_is_counted() -> None:
    rows = [row("C1", MA, "post_stabilization", "expedited", 1, "deemed_approved"),
            row("C1", MA, "post_stabilization", "expedited", 0.5, "denied")]  # fmt: skip
    assert metrics.cms_metrics(frame(rows)).height == 0  # not a counted kind by default
    result = metrics.cms_metrics(frame(rows), kinds=("post_stabilization",)).row(0, named=True)
    assert (result["expedited_approved"], result["expedited_denied"]) == (1, 1)


def test_nothing_decided_gives_an_empty_report_with_the_columns() -> None:
    result = metrics.cms_metrics(frame([row("C1", MA, "prior_auth", "standard", None, "")]))
    assert result.height == 0
    assert tuple(result.columns) == metrics.METRIC_COLUMNS


OUTCOMES = ["approved", "modified", "denied", "deemed_approved", "withdrawn", ""]
request_rows = st.builds(
    row,
    st.sampled_from(["C1", "C2"]),
    st.just(MA),
    st.sampled_from(["prior_auth", "referral", "admission"]),
    st.sampled_from(["standard", "expedited"]),
    st.one_of(st.none(), st.floats(min_value=0, max_value=24 * 30, allow_nan=False)),
    st.sampled_from(OUTCOMES),
    extended=st.booleans(),
    appeal=st.sampled_from(["", "overturned", "partial", "upheld", "open", "withdrawn"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(request_rows, max_size=30))
def test_shares_and_times_are_consistent(rows: list[dict[str, Any]]) -> None:
    data = frame(rows)
    result = metrics.cms_metrics(data)
    counted = metrics.decided_in_scope(data)
    assert (
        int(result["standard_decided"].sum() or 0) + int(result["expedited_decided"].sum() or 0)
        == counted.height
    )
    for r in result.iter_rows(named=True):
        for column in metrics.METRIC_COLUMNS:
            if column.endswith("_pct") and r[column] is not None:
                assert 0.0 <= r[column] <= 100.0
        for urgency in ("standard", "expedited"):
            if r[f"{urgency}_decided"]:
                assert r[f"{urgency}_approved_pct"] + r[f"{urgency}_denied_pct"] <= 100.0 + 1e-9
                hours = counted.filter(
                    (pl.col("contract") == r["contract"]) & (pl.col("urgency") == urgency)
                )["hours"]
                low, high = float(hours.min()), float(hours.max())  # type: ignore[arg-type]
                assert low - 1e-9 <= r[f"{urgency}_hours_median"] <= high + 1e-9
                assert low - 1e-9 <= r[f"{urgency}_hours_mean"] <= high + 1e-9
            else:
                assert r[f"{urgency}_approved_pct"] is None
                assert r[f"{urgency}_hours_median"] is None


def test_weekly_timeliness_and_outcomes() -> None:
    """Monday 5 January 2026: a standard approval in 1 day (on time, due in 7), a standard denial after 8 days
    (late, decided in the week of 12 January) and an expedited approval deemed at its due time (late: the law
    approved it). The week of 5 January: standard 1 decided, 1 on time; expedited 1 decided, 0 on time."""
    rows = [row("C1", MA, "prior_auth", "standard", 24, "approved"),
            row("C1", MA, "prior_auth", "standard", 8 * 24, "denied"),
            row("C1", MA, "post_stabilization", "expedited", 7 * 24, "deemed_approved"),
            row("C1", MA, "prior_auth", "standard", None, "")]  # fmt: skip
    weekly = metrics.weekly_timeliness(frame(rows))
    got = {(r["week"], r["urgency"]): (r["decided"], r["on_time"], r["late"], r["on_time_pct"]) for r in
           weekly.iter_rows(named=True)}  # fmt: skip
    assert got == {
        (dt.date(2026, 1, 5), "standard"): (1, 1, 0, 100.0),
        (dt.date(2026, 1, 12), "expedited"): (1, 0, 1, 0.0),
        (dt.date(2026, 1, 12), "standard"): (1, 0, 1, 0.0),
    }
    outcomes = {
        (r["week"], r["outcome"]): r["n"] for r in metrics.weekly_outcomes(frame(rows)).iter_rows(named=True)
    }
    assert outcomes == {(dt.date(2026, 1, 5), "approved"): 1, (dt.date(2026, 1, 12), "deemed_approved"): 1,
                        (dt.date(2026, 1, 12), "denied"): 1}  # fmt: skip
    assert metrics.weeks(dt.date(2026, 1, 7), dt.date(2026, 1, 19)) == [
        dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 1, 19)
    ]  # fmt: skip
