"""The credentialing files engine against golden files: the verification window across the 2025-07-01 change
(180 days before, 120 from then, chosen by the decision date), the 36-month clock (calendar months, clamped to
the month's end, no grace) and the expirables buckets."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.credentialing.engine import files as engine
from openipa.credentialing.tests.conftest import DATA

GOLDEN_RULES = json.loads((DATA / "golden_psv_rules.json").read_text())
RULES = [
    engine.RuleVersion(
        dt.date.fromisoformat(r["valid_from"]),
        dt.date.fromisoformat(r["valid_to"]) if r["valid_to"] else None,
        r["window_days"],
        r["recredential_months"],
        r["letter_days"],
    )
    for r in GOLDEN_RULES["rules"]
]


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("row", _rows("golden_window.csv"), ids=lambda r: r["case"])
def test_the_verification_window_golden(row: dict[str, str]) -> None:
    verified_on = _date(row["verified_on"])
    decided_on = _date(row["decided_on"])
    assert verified_on is not None
    assert decided_on is not None
    evidence = {
        "license": [engine.Evidence(verified_on, row["result"] != "unable", _date(row["expires_on"]))]
    }
    result = engine.completeness(["license"], evidence, decided_on, RULES)
    item = result.items[0]
    assert result.window_days == int(row["window_days"])
    assert str(item.state) == row["state"]
    assert item.age_days == (int(row["age_days"]) if row["age_days"] else None)
    assert item.redo_by == _date(row["redo_by"])
    assert result.complete is (row["state"] == "ok")


def test_the_same_file_across_the_2025_07_01_change() -> None:
    f = GOLDEN_RULES["file"]
    expires = {k: dt.date.fromisoformat(v) for k, v in f["expires_on"].items()}
    evidence = {
        k: [engine.Evidence(dt.date.fromisoformat(v), True, expires.get(k))]
        for k, v in f["verified_on"].items()
    }
    required = GOLDEN_RULES["required"]["initial"]
    for day, expected in f["decisions"].items():
        result = engine.completeness(required, evidence, dt.date.fromisoformat(day), RULES)
        assert result.complete is expected["complete"], day
        assert result.window_days == expected["window_days"]
        assert {i.element: str(i.state) for i in result.missing} == expected["not_ok"]


def test_the_latest_verification_is_judged() -> None:
    day = dt.date(2025, 10, 1)
    ok = engine.Evidence(dt.date(2025, 9, 1), True)
    unable = engine.Evidence(dt.date(2025, 9, 15), False)
    assert engine.completeness(["x"], {"x": [ok, unable]}, day, RULES).complete is False
    assert engine.completeness(
        ["x"], {"x": [unable, engine.Evidence(dt.date(2025, 9, 20), True)]}, day, RULES
    ).complete
    empty = engine.completeness([], {}, day, RULES)
    assert empty.complete
    assert empty.good_until is None


def test_good_until_is_the_earliest_redo_date() -> None:
    evidence = {
        "a": [engine.Evidence(dt.date(2025, 9, 1), True)],
        "b": [engine.Evidence(dt.date(2025, 8, 1), True, dt.date(2026, 5, 1))],
    }
    result = engine.completeness(["a", "b"], evidence, dt.date(2025, 10, 1), RULES)
    assert result.good_until == dt.date(2025, 11, 29)


def test_no_rules_in_force_is_refused() -> None:
    with pytest.raises(ValueError, match="no credentialing rules"):
        engine.completeness(["x"], {}, dt.date(1999, 1, 1), RULES)


@pytest.mark.parametrize("row", _rows("golden_clock.csv"), ids=lambda r: f"{r['decided_on']}+{r['months']}")
def test_the_recredentialing_clock_golden(row: dict[str, str]) -> None:
    decided = dt.date.fromisoformat(row["decided_on"])
    due = engine.recredential_due(decided, int(row["months"]))
    assert due == dt.date.fromisoformat(row["recredential_due"])
    overdue_from = dt.date.fromisoformat(row["overdue_from"])
    assert not engine.overdue(due, overdue_from - dt.timedelta(days=1))
    assert engine.overdue(due, overdue_from)


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31)), st.integers(0, 120))
def test_add_months_never_runs_past_the_calendar_month(day: dt.date, months: int) -> None:
    later = engine.add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day <= day.day
    assert later.day == day.day or (later + dt.timedelta(days=1)).day == 1


def test_letters_are_due_30_days_after_the_decision() -> None:
    assert engine.letter_due(dt.date(2025, 6, 30), 30) == dt.date(2025, 7, 30)


@pytest.mark.parametrize(
    ("days", "label"),
    [(-1, "expired"), (0, "30 days"), (30, "30 days"), (31, "60 days"), (60, "60 days"), (61, "90 days"),
     (90, "90 days"), (91, None)],
)  # fmt: skip
def test_expirables_buckets(days: int, label: str | None) -> None:
    today = dt.date(2026, 1, 15)
    assert engine.bucket(today + dt.timedelta(days=days), today) == label
