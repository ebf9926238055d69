"""Care-gap wording and targets as data (gaps.json, targets.json) and the gap columns of a run's results."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from openipa.quality.engine import RATE_SCHEMA, RESULT_SCHEMA, load_measures
from openipa.quality.engine.definitions import available_years
from openipa.quality.gapdata import GapDataError, Target, gap_columns, load_gap_specs, load_targets


@pytest.mark.parametrize("year", available_years())
def test_every_shipped_rate_has_gap_wording_and_a_target(year: int) -> None:
    specs = load_gap_specs(year)
    targets = load_targets(year)
    rates = {(m.id, r.id) for m in load_measures(year).measures for r in m.rates}
    assert rates - set(specs) == set()
    assert rates - set(targets) == set()
    assert {("SPC", "SPC Received"), ("SPC", "SPC Adherence")} <= set(specs)


def test_example_codes_are_codes_of_the_value_sets_that_close_the_gap() -> None:
    path = Path(str(resources.files("openipa.quality") / "data" / "valuesets" / "starter.csv"))
    with path.open(encoding="utf-8") as handle:
        codes = {(r["value_set_name"], r["code_system"], r["code"]) for r in csv.DictReader(handle)}
    for (measure, rate), spec in load_gap_specs(2026).items():
        for example in spec.example_codes:
            system, code = example.split(" ")
            assert any((vs, system, code) in codes for vs in spec.closing_value_sets), (
                measure,
                rate,
                example,
            )


def _write(tmp_path: Path, doc: Any, name: str = "gaps.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def _gaps(entry: dict[str, Any]) -> dict[str, Any]:
    return {"versions": [{"from_year": 2025, "to_year": None, "rates": {"BCS-E": {"BCS-E": entry}}}]}


GOOD = {"reason": "no mammogram since {since}", "since": {"years": -2, "months": 9}, "closes": "A mammogram",
        "due": {"from": "my_end"}}  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{\n  nope", "line 2: not JSON"),
        ({"versions": {}}, r"\$.versions: expected a list"),
        (_gaps({**GOOD, "color": "red"}), r"rates.BCS-E.BCS-E: unknown key 'color'"),
        (
            _gaps({**GOOD, "due": {"from": "tomorrow"}}),
            r"rates.BCS-E.BCS-E.due.from: expected 'my_end' or 'episode'",
        ),
        (_gaps({**GOOD, "reason": "no {thing}"}), r"rates.BCS-E.BCS-E.reason: unknown placeholder \{thing\}"),
        (
            _gaps({**GOOD, "latest_result": {"value_sets": ["HbA1c Lab Test"]}}),
            r"reason_with_result: expected a text",
        ),
        (_gaps({**GOOD, "since": {"years": "two"}}), r"since.years: expected a whole number"),
    ],
)
def test_a_bad_gaps_file_names_the_file_and_the_place(tmp_path: Path, doc: Any, message: str) -> None:
    path = _write(tmp_path, doc)
    with pytest.raises(GapDataError, match=message) as caught:
        load_gap_specs(2026, path)
    assert str(path) in str(caught.value)


def test_gap_wording_is_versioned_by_measurement_year(tmp_path: Path) -> None:
    doc = {"versions": [
        {"from_year": 2025, "to_year": 2025, "rates": {"BCS-E": {"BCS-E": {**GOOD, "reason": "old"}}}},
        {"from_year": 2026, "to_year": None, "rates": {"BCS-E": {"BCS-E": GOOD}}},
    ]}  # fmt: skip
    path = _write(tmp_path, doc)
    assert load_gap_specs(2025, path)[("BCS-E", "BCS-E")].reason == "old"
    spec = load_gap_specs(2026, path)[("BCS-E", "BCS-E")]
    assert spec.since(2026) == dt.date(2024, 10, 1)
    assert load_gap_specs(2024, path) == {}


def test_stars_and_targets() -> None:
    target = Target(Decimal("0.72"), (Decimal("0.55"), Decimal("0.64"), Decimal("0.72"), Decimal("0.80")))
    assert [target.stars(Decimal(v), False) for v in ("0.10", "0.55", "0.70", "0.72", "0.95")] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert (target.met(Decimal("0.72"), False), target.met(Decimal("0.71"), False), target.stars(None, False)) == (
        True, False, None)  # fmt: skip
    inverse = Target(Decimal("0.20"), (Decimal("0.40"), Decimal("0.30"), Decimal("0.22"), Decimal("0.15")))
    assert [inverse.stars(Decimal(v), True) for v in ("0.50", "0.40", "0.25", "0.20", "0.10")] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert inverse.met(Decimal("0.19"), True) is True
    shipped = load_targets(2026)[("GSD", "GSD >9")]
    assert shipped.target == Decimal("0.20")
    assert json.loads((Path(str(resources.files("openipa.quality") / "data" / "targets.json"))).read_text())[
        "illustrative"
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"target": "0.7", "stars": ["0.5", "0.6"]}, "expected {target, stars"),
        ({"target": "0.7", "stars": ["0.5", "0.7", "0.6", "0.8"]}, "cut points must rise"),
        ({"target": 0.7, "stars": ["0.5", "0.6", "0.7", "0.8"]}, r"\.target: expected a rate"),
        ({"target": "0.7", "stars": ["0.5", "0.6", "0.7", "1.8"]}, r"stars\[3\]: expected a rate"),
    ],
)
def test_a_bad_targets_file_names_the_file_and_the_place(tmp_path: Path, entry: Any, message: str) -> None:
    path = _write(tmp_path, {"years": {"2026": {"CBP": {"CBP": entry}}}}, "targets.json")
    with pytest.raises(GapDataError, match=message) as caught:
        load_targets(2026, path)
    assert "$.years.2026.CBP.CBP" in str(caught.value)


def _results(rows: list[dict[str, Any]]) -> pl.DataFrame:
    base: dict[str, Any] = {"episode_id": None, "excluded": False, "exclusion_reason": None, "denominator_evidence": [],
            "exclusion_evidence": [], "numerator_evidence": []}  # fmt: skip
    return pl.DataFrame([{**base, **r} for r in rows], schema=RESULT_SCHEMA)


def test_gap_columns_episode_due_dates_inverse_rates_and_unlisted_measures() -> None:
    results = _results([
        {"measure": "FUM", "rate": "FUM 7-day", "member_id": "1", "episode_id": "claim:5", "denominator": True, "numerator": False},
        {"measure": "FUM", "rate": "FUM 30-day", "member_id": "1", "episode_id": "claim:5", "denominator": True, "numerator": True},
        {"measure": "GSD", "rate": "GSD >9", "member_id": "2", "denominator": True, "numerator": True},
        {"measure": "NEW", "rate": "NEW", "member_id": "3", "denominator": True, "numerator": False},
        {"measure": "NEW", "rate": "NEW", "member_id": "4", "excluded": True, "denominator": False, "numerator": False},
    ])  # fmt: skip
    rates = pl.DataFrame(
        [{"measure": "FUM", "rate": "FUM 7-day", "inverse": False}, {"measure": "FUM", "rate": "FUM 30-day", "inverse": False},
         {"measure": "GSD", "rate": "GSD >9", "inverse": True}, {"measure": "NEW", "rate": "NEW", "inverse": False}],
    ).with_columns(*(pl.lit(0, dtype=pl.UInt32).alias(c) for c in ("eligible", "excluded", "denominator", "numerator")),
                   pl.lit(None, dtype=pl.Float64).alias("rate_value")).select(list(RATE_SCHEMA))  # fmt: skip
    events = pl.DataFrame(
        [{"member_id": "1", "value_set": "ED Visit", "date": dt.date(2026, 3, 30), "evidence_id": "claim:5", "value": None}],
        schema={"member_id": pl.String, "value_set": pl.String, "date": pl.Date, "evidence_id": pl.String, "value": pl.Float64},
    )  # fmt: skip
    units = pl.DataFrame(schema={"evidence_id": pl.String, "unit": pl.String})
    out = gap_columns(results, rates, events, units, load_gap_specs(2026), {"NEW": "A new measure"}, 2026)
    got = {
        (r["rate"], r["member_id"]): (r["gap"], r["gap_reason"], r["gap_due"])
        for r in out.iter_rows(named=True)
    }
    assert got == {
        ("FUM 7-day", "1"): (True, "no follow-up visit within 7 days of the ED visit for mental illness on 2026-03-30",
                             dt.date(2026, 4, 6)),
        ("FUM 30-day", "1"): (False, "", None),
        ("GSD >9", "2"): (True, "no HbA1c or GMI result in 2026", dt.date(2026, 12, 31)),
        ("NEW", "3"): (True, "not met: A new measure", dt.date(2026, 12, 31)),
        ("NEW", "4"): (False, "", None),
    }  # fmt: skip
    assert out.height == results.height


def test_a_latest_result_without_a_value_is_quoted_by_its_date_and_a_value_wins_the_day() -> None:
    results = _results([
        {"measure": "GSD", "rate": "GSD <8", "member_id": "1", "denominator": True, "numerator": False},
        {"measure": "GSD", "rate": "GSD <8", "member_id": "2", "denominator": True, "numerator": False},
    ])  # fmt: skip
    rates = pl.DataFrame(
        [{"measure": "GSD", "rate": "GSD <8", "inverse": False}],
    ).with_columns(*(pl.lit(0, dtype=pl.UInt32).alias(c) for c in ("eligible", "excluded", "denominator", "numerator")),
                   pl.lit(None, dtype=pl.Float64).alias("rate_value")).select(list(RATE_SCHEMA))  # fmt: skip
    day = dt.date(2026, 5, 1)
    events = pl.DataFrame(
        [
            {"member_id": "1", "value_set": "HbA1c Lab Test", "date": day, "evidence_id": "claim:9", "value": None},
            {"member_id": "2", "value_set": "HbA1c Lab Test", "date": day, "evidence_id": "clinical:3", "value": 8.25},
            {"member_id": "2", "value_set": "HbA1c Lab Test", "date": day, "evidence_id": "encounter:1", "value": None},
        ],
        schema={"member_id": pl.String, "value_set": pl.String, "date": pl.Date, "evidence_id": pl.String,
                "value": pl.Float64},
    )  # fmt: skip
    units = pl.DataFrame({"evidence_id": ["clinical:3"], "unit": ["%"]})
    out = gap_columns(results, rates, events, units, load_gap_specs(2026), {}, 2026)
    reasons = dict(zip(out["member_id"], out["gap_reason"], strict=True))
    assert reasons == {
        "1": "last HbA1c test on 2026-05-01: no result value on file",
        "2": "last HbA1c 8.25% on 2026-05-01",
    }
