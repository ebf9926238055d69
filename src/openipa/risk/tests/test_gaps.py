"""The pure coding-gap engine (openipa.risk.gaps): recapture through the model's hierarchy, suspects from fills
and lab values per the effective-dated rules, and the rules file's errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from openipa.risk.gaps import GAP_SCHEMA, RuleError, load_rules, recapture_gaps, suspect_gaps

D = dt.date


def _members(codes: dict[int, list[str]]) -> pl.DataFrame:
    ids = sorted(codes)
    return pl.DataFrame({
        "member_id": ids, "date_of_birth": [D(1950, 3, 4)] * len(ids), "sex": ["F"] * len(ids),
        "orec": ["0"] * len(ids), "medicaid": ["00"] * len(ids), "diagnosis_codes": [codes[i] for i in ids],
    })  # fmt: skip


def _prior(rows: list[tuple[int, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(m, c, D(2024, 5, 1), "claim", n) for n, (m, c) in enumerate(rows)],
        schema={"member_id": pl.Int64, "diagnosis_code": pl.String, "service_date": pl.Date, "source": pl.String,
                "source_id": pl.Int64},
        orient="row",
    )  # fmt: skip


def _hccs(rows: dict[int, list[str]]) -> pl.DataFrame:
    return pl.DataFrame({"member_id": list(rows), "hccs": list(rows.values())})


def test_recapture_follows_the_hierarchy() -> None:
    """1: diabetes with complications (37) last year, without (38) this year: 37 is a gap. 2: 38 last year, 37
    this year: 37 trumps 38, no gap. 3: atrial fibrillation last year only: a gap. 4: the same HCC both years."""
    members = _members({1: ["E119"], 2: ["E1122"], 3: [], 4: ["I10", "E119"]})
    current = _hccs({1: ["38"], 2: ["37"], 3: [], 4: ["38"]})
    prior = _prior([(1, "E1122"), (2, "E119"), (3, "I4891"), (3, "I10"), (4, "E1165")])
    gaps = recapture_gaps(members, current, prior, 2026, "V28")
    assert gaps.schema == pl.Schema(GAP_SCHEMA)
    assert gaps.select("member_id", "kind", "hcc").rows() == [(1, "recapture", "37"), (3, "recapture", "238")]
    assert (
        gaps["reason"][1]
        == "HCC 238 (Specified Heart Arrhythmias) coded in 2024 (I4891, latest 2024-05-01), not yet in 2025"
    )
    assert gaps["evidence"][1].to_list() == [
        {"source": "claim", "source_id": 2, "code": "I4891", "date": D(2024, 5, 1), "value": None}
    ]
    assert recapture_gaps(members, current, _prior([]), 2026, "V28").height == 0


FILLS = {
    "fill_id": pl.Int64,
    "member_id": pl.Int64,
    "ndc": pl.String,
    "drug_name": pl.String,
    "fill_date": pl.Date,
}
LABS = {"clinical_record_id": pl.Int64, "member_id": pl.Int64, "code": pl.String, "value": pl.Float64,
        "unit": pl.String, "comparator": pl.String, "observed_date": pl.Date}  # fmt: skip


def _fills(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FILLS, orient="row")


def _labs(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=LABS, orient="row")


def test_medication_suspects_by_ndc_product_or_generic_name_and_not_when_coded() -> None:
    rules = load_rules()
    current = _hccs({1: [], 2: [], 3: ["37"], 4: [], 5: []})
    fills = _fills([
        (1, 1, "00088222033", "LANTUS", D(2025, 2, 1)),          # NDC product of insulin glargine
        (2, 2, "99999000001", "Insulin Lispro 100 unit/mL", D(2025, 3, 1)),  # another labeler: the name
        (3, 3, "00002751001", "Humalog", D(2025, 3, 1)),         # already coded with diabetes (37)
        (4, 4, "99999000002", "Levothyroxine 50 mcg", D(2025, 3, 1)),  # not an HCC
        (5, 5, "99999000003", "Warfarin 5 mg", D(2023, 3, 1)),   # before the rule is in force
        (6, 9, "00088222033", "LANTUS", D(2025, 3, 1)),          # not a scored member
    ])  # fmt: skip
    gaps = suspect_gaps(rules, current, fills, _labs([]))
    assert gaps.select("member_id", "hcc", "rule").rows() == [
        (1, "38", "insulin-diabetes"),
        (2, "38", "insulin-diabetes"),
    ]
    assert gaps["reason"][0] == "insulin filled (1 fill, latest 2025-02-01, LANTUS): suspected diabetes"


def test_lab_suspects_need_the_count_the_spacing_the_unit_and_no_comparator() -> None:
    rules = load_rules()
    current = _hccs({1: [], 2: [], 3: [], 4: [], 5: ["327"], 6: []})
    labs = _labs([
        (1, 1, "48642-3", 55.0, "mL/min/{1.73_m2}", "", D(2025, 1, 10)),
        (2, 1, "48642-3", 50.0, "mL/min/{1.73_m2}", "", D(2025, 4, 10)),  # 90 days later: CKD 3 suspected
        (3, 2, "48642-3", 55.0, "", "", D(2025, 1, 10)),
        (4, 2, "48642-3", 50.0, "", "", D(2025, 3, 10)),                  # 59 days: not yet
        (5, 3, "4548-4", 6.5, "%", "", D(2025, 5, 1)),                    # HbA1c at the threshold
        (6, 4, "4548-4", 48.0, "mmol/mol", "", D(2025, 5, 1)),            # another unit: not compared
        (7, 4, "39156-5", 40.0, "", ">", D(2025, 5, 1)),                  # a comparator: not used
        (8, 5, "48642-3", 25.0, "", "", D(2025, 1, 1)),
        (9, 5, "48642-3", 28.0, "", "", D(2025, 8, 1)),                   # coded CKD 4 (327) already
        (10, 6, "39156-5", 41.2, "kg/m2", "", D(2025, 6, 1)),             # morbid obesity
    ])  # fmt: skip
    gaps = suspect_gaps(rules, current, _fills([]), labs)
    assert gaps.select("member_id", "hcc", "rule").rows() == [
        (1, "329", "egfr-ckd3"), (3, "38", "a1c-diabetes"), (6, "48", "bmi-morbid-obesity")
    ]  # fmt: skip
    assert gaps["reason"][0].startswith("2 results < 60, 90+ days apart (latest 50.0 on 2025-04-10)")
    assert [e["source_id"] for e in gaps["evidence"][0].to_list()] == [2, 1]


def _write(tmp_path: Path, rules: Any) -> Path:
    path = tmp_path / "suspects.json"
    path.write_text(json.dumps({"rules": rules}) if not isinstance(rules, str) else rules, encoding="utf-8")
    return path


GOOD = {"id": "x", "kind": "lab", "valid_from": "2024-01-01", "valid_to": None, "hcc": "48", "satisfied_by": ["48"],
        "condition": "c", "loinc": ["39156-5"], "operator": ">=", "threshold": "40", "units": [], "min_results": 1,
        "min_days_apart": 0}  # fmt: skip


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("{not json", "line 1: not JSON"),
        ({"x": 1}, "a 'rules' list is expected"),
        ([{**GOOD, "operator": "=="}], "rule 1, field operator: '==' is not one of"),
        ([{**GOOD, "threshold": "forty"}], "rule 1, field threshold: 'forty' is not a number"),
        ([{**GOOD, "valid_from": "2024-13-01"}], "rule 1, field valid_from: '2024-13-01' is not a date"),
        ([{**GOOD, "valid_to": "2023-01-01"}], "rule 1, field valid_to: before valid_from"),
        ([{**GOOD, "satisfied_by": ["47"]}], "must include the rule's own hcc 48"),
        ([{**GOOD, "min_results": 0}], "rule 1, field min_results"),
        ([GOOD, {**GOOD, "kind": "vital"}], "rule 2, field kind: 'vital' is not medication or lab"),
        ([GOOD, GOOD], "rule id 'x' is used twice"),
        (
            [{**GOOD, "kind": "medication", "drug_class": "d", "ndc_products": ["12345"]}],
            "'12345' is not 9 digits",
        ),
        ([{**GOOD, "kind": "medication", "drug_class": "d"}], "needs ndc_products or drug_names"),
        ([{**GOOD, "hcc": ""}], "rule 1, field hcc: a non-empty string is expected"),
    ],
)
def test_a_bad_rules_file_names_the_rule_and_the_field(tmp_path: Path, rules: Any, message: str) -> None:
    path = _write(tmp_path, rules)
    with pytest.raises(RuleError, match=message) as caught:
        load_rules(path)
    assert str(path) in str(caught.value)


def test_the_shipped_rules_load() -> None:
    ids = [r.id for r in load_rules()]
    assert ids == [
        "insulin-diabetes",
        "anticoagulant-af-vte",
        "egfr-ckd3",
        "a1c-diabetes",
        "bmi-morbid-obesity",
    ]
