"""The reconciliation engine: each category decided from hand-built frames, impacts adding up to the variance."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from openipa.capitation.engine.reconcile import (
    RECEIVED_SCHEMA,
    RateCellInfo,
    months_back,
    owed,
    reconcile_month,
    summarize,
)

MONTH = dt.date(2026, 5, 1)
CELLS = [
    RateCellInfo(1, 10, "HMO", 65, 69, "U", 30000),
    RateCellInfo(2, 10, "HMO", 70, 74, "U", 35000),
    RateCellInfo(3, 10, "HMO", 75, 120, "F", 40000),
]


def _expected(rows: list[tuple[int, int, int, int]]) -> pl.DataFrame:
    """(member, age, rate cell, expected cents)"""
    return pl.DataFrame(
        [(m, 10, age, cell, cents, cents, None) for m, age, cell, cents in rows],
        schema={"member_id": pl.Int64, "product_id": pl.Int64, "age": pl.Int64, "rate_cell_id": pl.Int64,
                "expected_cents": pl.Int64, "full_month_cents": pl.Int64, "problem": pl.String},
        orient="row",
    )  # fmt: skip


def _roster(rows: list[tuple[int, str, Any, Any, Any]]) -> pl.DataFrame:
    """(member, payer member id, date of death, practice, coverage file date)"""
    return pl.DataFrame(
        rows,
        schema={"member_id": pl.Int64, "payer_member_id": pl.String, "date_of_death": pl.Date,
                "practice_id": pl.Int64, "coverage_file_date": pl.Date},
        orient="row",
    )  # fmt: skip


def _received(rows: list[tuple[Any, str, str, int, str]]) -> pl.DataFrame:
    """(member, payer member id, kind, cents, reason)"""
    return pl.DataFrame(
        [(m, key, kind, cents, reason, "", 1) for m, key, kind, cents, reason in rows],
        schema=RECEIVED_SCHEMA,
        orient="row",
    )


def test_every_category_with_its_impact_and_cause() -> None:
    expected = _expected([(1, 67, 1, 30000), (2, 72, 2, 35000), (3, 66, 1, 30000), (4, 68, 1, 30000),
                          (5, 70, 2, 35000), (6, 80, 3, 40000)])  # fmt: skip
    roster = _roster([
        (1, "M1", None, 7, dt.date(2026, 4, 20)),  # paid right
        (2, "M2", None, 7, None),  # paid at the 65-69 band: wrong rate
        (3, "M3", None, None, dt.date(2026, 4, 20)),  # not paid, no PCP
        (4, "M4", None, 7, dt.date(2026, 8, 3)),  # added in August for May: retro add, 3 months back
        (5, "M5", dt.date(2026, 3, 9), 7, None),  # died in March, still paid
        (6, "M6", None, 7, None),  # paid twice
    ])  # fmt: skip
    received = _received([
        (1, "M1", "capitation", 30000, ""),
        (2, "M2", "capitation", 30000, ""),
        (5, "M5", "capitation", 35000, ""),
        (6, "M6", "capitation", 40000, ""),
        (6, "M6", "capitation", 40000, ""),
        (None, "X9", "capitation", 25000, ""),  # not on file
        (8, "M8", "capitation", 30000, ""),  # on file, termed by a later roster
        (None, "", "adjustment", -5000, "AA"),  # a deduction the contract does not allow
        (None, "", "adjustment", -1000, "RP"),  # an accepted one (reinsurance premium)
        (None, "", "interest", 700, "CR"),
    ])  # fmt: skip
    out = reconcile_month(
        month=MONTH, expected=expected, roster=roster, received=received, retro_window_months=6,
        retro_terms={8: dt.date(2026, 7, 2)}, rate_cells=CELLS, accepted_deductions=["rp"],
    )  # fmt: skip
    rows = {(r["category"], r["payer_member_id"]): r for r in out.iter_rows(named=True)}
    assert set(rows) == {
        ("wrong_rate", "M2"), ("eligible_not_paid", "M3"), ("retro_add", "M4"), ("paid_after_death", "M5"),
        ("duplicate_payment", "M6"), ("paid_not_eligible", "X9"), ("retro_term", "M8"), ("deduction_mismatch", ""),
    }  # fmt: skip
    assert rows[("wrong_rate", "M2")]["impact_cents"] == 5000
    assert "age band 65-69 (member is 72" in rows[("wrong_rate", "M2")]["cause"]
    assert rows[("eligible_not_paid", "M3")]["cause"] == "not paid; PCP not yet assigned"
    add = rows[("retro_add", "M4")]
    assert (add["impact_cents"], add["months_back"], add["inside_window"]) == (30000, 3, True)
    assert rows[("paid_after_death", "M5")]["impact_cents"] == -35000
    assert rows[("duplicate_payment", "M6")]["impact_cents"] == -40000
    term = rows[("retro_term", "M8")]
    assert (term["impact_cents"], term["months_back"], term["inside_window"]) == (-30000, 2, True)
    assert rows[("deduction_mismatch", "")]["impact_cents"] == 5000
    summary = summarize(out)
    assert summary["wrong_rate"] == {"count": 1, "cents": 5000}
    # the member-line impacts add up to expected - received on member lines
    member_lines = out.filter(pl.col("category") != "deduction_mismatch")
    expected_total = int(owed(expected, roster, MONTH)["expected_cents"].sum())
    assert expected_total == 200000 - 35000  # nothing is owed for the member who died in March
    received_total = int(received.filter(pl.col("kind") == "capitation")["amount_cents"].sum())
    assert int(member_lines["impact_cents"].sum()) == expected_total - received_total


def test_a_retro_add_beyond_the_window_says_so() -> None:
    out = reconcile_month(
        month=MONTH,
        expected=_expected([(4, 68, 1, 30000)]),
        roster=_roster([(4, "M4", None, 7, dt.date(2027, 1, 5))]),
        received=_received([]),
        retro_window_months=6,
    )
    (row,) = out.iter_rows(named=True)
    assert (row["category"], row["months_back"], row["inside_window"]) == ("retro_add", 8, False)
    assert "outside the 6-month retro window" in row["cause"]


def test_a_month_paid_as_expected_has_no_discrepancy() -> None:
    out = reconcile_month(
        month=MONTH,
        expected=_expected([(1, 67, 1, 30000)]),
        roster=_roster([(1, "M1", None, 7, None)]),
        received=_received([(1, "M1", "capitation", 30000, "")]),
        retro_window_months=6,
    )
    assert out.height == 0
    assert summarize(out) == {}


def test_months_back() -> None:
    assert months_back(dt.date(2026, 8, 3), MONTH) == 3
    assert months_back(dt.date(2026, 5, 31), MONTH) == 0


def test_capitation_paid_as_one_amount_covers_the_members_without_a_line() -> None:
    expected = _expected([(1, 67, 1, 30000), (2, 72, 2, 35000)])
    roster = _roster([(1, "M1", None, 7, None), (2, "M2", None, 7, None)])
    exact = reconcile_month(
        month=MONTH, expected=expected, roster=roster, retro_window_months=6,
        received=_received([(None, "", "capitation", 65000, "CT")]),
    )  # fmt: skip
    assert exact.height == 0
    short = reconcile_month(
        month=MONTH, expected=expected, roster=roster, retro_window_months=6,
        received=_received([(None, "", "capitation", 60000, "CT"), (None, "", "interest", 120, "CR")]),
    )  # fmt: skip
    (row,) = short.iter_rows(named=True)
    assert (row["category"], row["member_id"], row["impact_cents"]) == ("wrong_rate", None, 5000)
    assert "for 2 members" in row["cause"]


def test_a_member_off_the_roster_who_died_before_the_month_is_paid_after_death() -> None:
    out = reconcile_month(
        month=MONTH, expected=_expected([]), roster=_roster([]), retro_window_months=6,
        received=_received([(9, "M9", "capitation", 30000, "")]), deaths={9: dt.date(2026, 2, 2)},
    )  # fmt: skip
    (row,) = out.iter_rows(named=True)
    assert (row["category"], row["impact_cents"]) == ("paid_after_death", -30000)
