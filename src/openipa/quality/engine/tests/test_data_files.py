"""Value-set files (starter and NCQA layout), measure-definition files, input frames: loading and errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import polars as pl
import pytest

from openipa.quality.engine import (
    DefinitionError,
    MeasureInputError,
    ValueSetError,
    evaluate,
    load_measures,
    load_ncqa_vsd,
    load_value_sets,
    missing_value_sets,
    parse_measures,
    read_measures,
    starter_value_sets,
)
from openipa.quality.engine.definitions import available_years

from .builders import D, World, hit


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_starter_covers_every_value_set_the_definitions_use():
    for year in available_years():
        names = set(starter_value_sets(year)["value_set"].to_list())
        assert load_measures(year).value_sets() <= names


def test_starter_normalizes_codes():
    vs = starter_value_sets(2025)
    mastectomy = vs.filter(pl.col("value_set") == "History of Bilateral Mastectomy")
    assert mastectomy.select("code_system", "code", "family").row(0) == ("ICD10CM", "Z9013", "DX")
    assert vs.filter(pl.col("code") == "3074F")["code_system"].to_list() == ["CPTII"]


def test_project_layout_years_and_errors(tmp_path):
    path = _write(
        tmp_path,
        "vs.csv",
        "value_set_name,code_system,code,valid_from_year,valid_to_year\n"
        "Old,CPT,11111,2020,2024\nNew,ICD-10-CM,e11.9,2025,\n\nAlways,cvx,03,,\n",
    )
    assert set(load_value_sets(path, 2024)["value_set"]) == {"Old", "Always"}
    new = load_value_sets(path, 2025)
    assert set(new["value_set"]) == {"New", "Always"}
    assert new.filter(pl.col("value_set") == "New")["code"].to_list() == ["E119"]
    bad = _write(tmp_path, "bad.csv", "value_set_name,code_system,code\nX,CPT,1\nY,SNOMEDX,2\n")
    with pytest.raises(ValueSetError, match=r"bad.csv: line 3: field code_system: unknown 'SNOMEDX'"):
        load_value_sets(bad, 2025)
    year = _write(tmp_path, "year.csv", "value_set_name,code_system,code,valid_from_year\nX,CPT,1,25\n")
    with pytest.raises(ValueSetError, match=r"year.csv: line 2: field valid_from_year: '25' is not a year"):
        load_value_sets(year, 2025)
    backwards = _write(
        tmp_path,
        "back.csv",
        "value_set_name,code_system,code,valid_from_year,valid_to_year\nX,CPT,1,2025,2024\n",
    )
    with pytest.raises(ValueSetError, match=r"line 2: field valid_to_year: 2024 is before 2025"):
        load_value_sets(backwards, 2025)
    missing = _write(tmp_path, "missing.csv", "value_set_name,code\nX,1\n")
    with pytest.raises(ValueSetError, match=r"missing.csv: line 1: missing column\(s\) code_system"):
        load_value_sets(missing, 2025)
    empty_code = _write(tmp_path, "empty.csv", "value_set_name,code_system,code\nX,CPT, \n")
    with pytest.raises(ValueSetError, match=r"line 2: field code: empty"):
        load_value_sets(empty_code, 2025)
    with pytest.raises(ValueSetError, match="cannot be read"):
        load_value_sets(tmp_path / "nope.csv", 2025)
    with pytest.raises(ValueSetError, match="line 1: the file is empty"):
        load_value_sets(_write(tmp_path, "blank.csv", ""), 2025)


NCQA_HEADER = "Value Set Name,Value Set OID,Value Set Version,Code,Definition,Code System,Code System OID,Code System Version"


def test_ncqa_layout_loads_and_drives_the_engine(tmp_path):
    rows = [
        "Mammography,2.16.840.1.113883.3.464.1004.1168,2024-03-01,77067,Screening mammography,CPT,"
        "2.16.840.1.113883.6.12,2025",
        "History of Bilateral Mastectomy,2.16.840.1.113883.3.464.1004.1331,2024-03-01,Z90.13,Acquired absence,"
        "ICD10CM,2.16.840.1.113883.6.90,2025",
        "Hospice Intervention,2.16.840.1.113883.3.464.1004.1761,2024-03-01,Q5003,Hospice,HCPCS,"
        "2.16.840.1.113883.6.285,2025",
        'Advanced Illness,x,2024-03-01,G30.9,"Alzheimer\'s disease, unspecified",ICD10CM,y,2025',
        "Frailty Diagnosis,x,2024-03-01,R54,Age-related debility,ICD10CM,y,2025",
    ]
    path = _write(tmp_path, "vsd.csv", NCQA_HEADER + "\n" + "\n".join(rows) + "\n")
    vs = load_ncqa_vsd(path, 2025)
    assert vs.height == 5
    assert vs.filter(pl.col("code") == "G309")["value_set"].to_list() == ["Advanced Illness"]
    w = World()
    w.member("m", D(1960, 1, 1))
    w.claim("m", D(2025, 2, 1), px=("77067",))
    with pytest.raises(
        ValueSetError,
        match=r"value sets missing for measurement year 2025: Acute Inpatient \(SPC\); Behavioral Health Visit \(FUM, FUH\); "
        r"Bilateral Mastectomy \(BCS-E\);",
    ):
        evaluate(w.inputs(), load_measures(2025), vs)
    assert missing_value_sets(load_measures(2025), vs)["Diabetes"] == ["GSD", "EED", "KED"]
    results = evaluate(w.inputs(), load_measures(2025), vs, allow_missing_value_sets=True)
    assert results.members.filter(pl.col("rate") == "BCS-E")["numerator"].to_list() == [True]
    bad = _write(tmp_path, "vsd-bad.csv", NCQA_HEADER + "\nX,o,v,1,d,WHATEVER,o,v\n")
    with pytest.raises(
        ValueSetError, match=r"vsd-bad.csv: line 2: field code_system: unknown 'WHATEVER'.*2025"
    ):
        load_ncqa_vsd(bad, 2025)
    with pytest.raises(ValueSetError, match="missing column"):
        load_ncqa_vsd(_write(tmp_path, "vsd-cols.csv", "Value Set Name,Code\nX,1\n"))
    with pytest.raises(ValueSetError, match=r"value sets: missing column\(s\) family"):
        evaluate(w.inputs(), load_measures(2025), vs.drop("family"))


def _doc() -> dict[str, object]:
    path = Path(__file__).resolve().parents[2] / "data" / "measures" / "2025.json"
    doc: dict[str, object] = json.loads(path.read_text())
    return doc


def test_definition_errors_name_the_json_path(tmp_path):
    doc = _doc()
    broken = copy.deepcopy(doc)
    broken["measures"][0]["rates"][0]["numerator"]["period"]["start"]["from"] = "tomorrow"  # type: ignore[index]
    with pytest.raises(
        DefinitionError, match=r"x.json: \$.measures\[0\]\(BCS-E\).rates\[0\].numerator.period.start.from"
    ):
        parse_measures(broken, "x.json")
    broken = copy.deepcopy(doc)
    broken["measures"][2]["exclusions"].append("nonsense")  # type: ignore[index]
    with pytest.raises(
        DefinitionError, match=r"\(CBP\).exclusions\[5\]: unknown shared exclusion 'nonsense'"
    ):
        parse_measures(broken, "x.json")
    broken = copy.deepcopy(doc)
    del broken["measures"][3]["enrollment"]["segments"][0]["max_gaps"]  # type: ignore[index]
    with pytest.raises(DefinitionError, match=r"\(GSD\).enrollment.segments\[0\].max_gaps: missing"):
        parse_measures(broken, "x.json")
    broken = copy.deepcopy(doc)
    broken["measures"][1]["id"] = "BCS-E"  # type: ignore[index]
    with pytest.raises(DefinitionError, match="appears twice"):
        parse_measures(broken, "x.json")
    broken = copy.deepcopy(doc)
    broken["measures"][0]["rates"][0]["numerator"] = {"events": ["A"], "any": []}  # type: ignore[index]
    with pytest.raises(DefinitionError, match="exactly one of"):
        parse_measures(broken, "x.json")
    with pytest.raises(DefinitionError, match="line 1: not JSON"):
        read_measures(_write(tmp_path, "bad.json", "{nope"))
    with pytest.raises(
        DefinitionError, match=r"no measure definitions for measurement year 1999 \(available: 2025, 2026\)"
    ):
        load_measures(1999)


def test_input_errors_name_frame_row_and_column():
    w = World()
    w.member("a", D(1960, 1, 1))
    w.member("b", D(1960, 1, 1))
    good = w.inputs()
    measures, vs = load_measures(2025), starter_value_sets(2025)

    def run(**changes: pl.DataFrame) -> None:
        from dataclasses import replace

        evaluate(replace(good, **changes), measures, vs)

    with pytest.raises(MeasureInputError, match="members: missing column 'sex'"):
        run(members=good.members.drop("sex"))
    with pytest.raises(MeasureInputError, match="members: row 1: column 'sex' is 'X', expected F or M"):
        run(members=good.members.with_columns(pl.Series("sex", ["F", "X"])))
    with pytest.raises(MeasureInputError, match="members: row 1: column 'member_id' repeats 'a'"):
        run(members=good.members.with_columns(pl.Series("member_id", ["a", "a"])))
    with pytest.raises(MeasureInputError, match="members: row 0: column 'birth_date' is empty"):
        run(members=good.members.with_columns(pl.Series("birth_date", [None, D(1960, 1, 1)], dtype=pl.Date)))
    with pytest.raises(MeasureInputError, match="enrollment: column 'start_date' is String, expected Date"):
        run(enrollment=good.enrollment.with_columns(pl.col("start_date").cast(pl.String)))
    with pytest.raises(MeasureInputError, match="enrollment: row 1: column 'end_date' is before start_date"):
        run(
            enrollment=good.enrollment.with_columns(
                pl.Series("end_date", [None, D(2000, 1, 1)], dtype=pl.Date)
            )
        )
    with pytest.raises(
        MeasureInputError, match="enrollment: column 'member_id' is Int64, but members' is String"
    ):
        run(enrollment=good.enrollment.with_columns(pl.Series("member_id", [1, 2])))
    w.fill("a", D(2025, 1, 1), "63304083090", 30)
    w.fill("b", D(2025, 2, 1), "63304083090", -30)
    with pytest.raises(
        MeasureInputError, match="pharmacy: row 1: column 'days_supply' is -30, a negative supply"
    ):
        run(pharmacy=w.inputs().pharmacy)  # type: ignore[arg-type]
    as_text = w.inputs().pharmacy.with_columns(pl.col("days_supply").cast(pl.String))  # type: ignore[union-attr]
    with pytest.raises(
        MeasureInputError, match="pharmacy: column 'days_supply' is String, expected a number"
    ):
        run(pharmacy=as_text)
    w.fact("a", D(2025, 1, 1), "LOINC", "4548-4", 7.0)
    w.fact("b", D(2025, 1, 1), "MYLAB", "A1C", 7.0)
    with pytest.raises(MeasureInputError, match="clinical: row 1: column 'code_system' is 'MYLAB'"):
        run(clinical=w.inputs().clinical)  # type: ignore[arg-type]


def test_integer_member_ids_and_missing_sources():
    w = World()
    w.member("7", D(1960, 1, 1))
    w.claim("7", D(2025, 1, 1), px=("77067",))
    inputs = w.inputs()
    from dataclasses import replace

    as_int = replace(
        inputs,
        members=inputs.members.with_columns(pl.col("member_id").cast(pl.Int64)),
        enrollment=inputs.enrollment.with_columns(pl.col("member_id").cast(pl.Int64)),
        claims=inputs.claims.with_columns(pl.col("member_id").cast(pl.Int64)),  # type: ignore[union-attr]
        clinical=None,
        pharmacy=None,
    )
    results = evaluate(as_int, load_measures(2025), starter_value_sets(2025))
    assert results.members.filter(pl.col("rate") == "BCS-E").select("member_id", "numerator").rows() == [
        ("7", True)
    ]
    assert hit(w.run(), "BCS-E", "7")
