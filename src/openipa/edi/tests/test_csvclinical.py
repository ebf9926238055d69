"""The clinical CSV layout: every record type, patients once, row errors reported and the rest read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.edi.clinical import (
    ClinicalFact,
    ClinicalFileError,
    ClinicalIssue,
    PatientRecord,
    Record,
    code_problem,
    code_system,
    normalize_code,
    normalize_ndc,
    parse_day,
)
from openipa.edi.clinicalfiles import detect_format, read_clinical
from openipa.edi.csvclinical import COLUMNS, read_clinical_csv

DATA = Path(__file__).parent / "data" / "clinical"


def facts(records: list[Record]) -> dict[str, ClinicalFact]:
    return {r.record_id: r for r in records if isinstance(r, ClinicalFact)}


def issues(records: list[Record]) -> list[ClinicalIssue]:
    return [r for r in records if isinstance(r, ClinicalIssue)]


def test_every_record_type() -> None:
    records = list(read_clinical_csv(DATA / "clinical.csv"))
    by_id = facts(records)
    assert [(f.record_id, f.kind, f.category) for f in by_id.values()] == [
        ("r1", "observation", "laboratory"),
        ("r2", "observation", "vital-signs"),
        ("r3", "condition", ""),
        ("r4", "procedure", "screening"),
        ("r5", "observation", "screening"),  # a screening coded in LOINC is a result
        ("r6", "immunization", ""),
        ("r7", "procedure", ""),
        ("r8", "observation", "laboratory"),
        ("r9", "observation", "laboratory"),
        ("r10", "encounter", ""),
        ("r11", "procedure", ""),
    ]
    a1c = by_id["r1"]
    assert (a1c.value, a1c.unit, a1c.date, a1c.status) == (Decimal("7.9"), "%", dt.date(2025, 3, 14), "final")
    assert (a1c.performer, a1c.encounter_ref, a1c.patient_ref) == ("1234567893", "V1", "MRN001")
    bp = by_id["r2"]
    assert bp.date == dt.date(2025, 6, 2)  # MM/DD/YYYY
    assert [(c.codes[0].code, c.value, c.unit) for c in bp.components] == [
        ("8480-6", Decimal(138), "mm[Hg]"),
        ("8462-4", Decimal(88), "mm[Hg]"),
    ]
    assert by_id["r3"].codes[0].code == "E1165"
    assert by_id["r3"].date == dt.date(2019, 5, 1)  # YYYYMMDD
    assert by_id["r5"].codes[0].system == "LOINC"  # a URI for the code system
    assert by_id["r7"].codes[0].code == "G0105"
    assert (by_id["r8"].value, by_id["r8"].comparator) == (Decimal("7.0"), "<")
    assert (by_id["r9"].value, by_id["r9"].value_text) == (None, "negative")
    assert by_id["r10"].end_date == dt.date(2025, 2, 2)


def test_patients_once_with_their_demographics() -> None:
    records = list(read_clinical_csv(DATA / "clinical.csv"))
    patients = [r for r in records if isinstance(r, PatientRecord)]
    assert [p.patient_ref for p in patients] == ["MRN001", "MRN002", "MRN003"]
    maria = patients[0]
    assert (maria.family, maria.given, maria.birth_date, maria.sex) == (
        "Garcia",
        ("Maria",),
        dt.date(1958, 7, 4),
        "F",
    )
    assert [(i.system, i.value, i.type) for i in maria.identifiers] == [
        ("member_id", "M0001", "MB"),
        ("mbi", "1EG4TE5MK73", "MC"),
    ]
    assert maria.addresses[0].city == "Fresno"
    assert maria.phones == ("555-201-3344",)
    assert patients[1].sex == "M"  # "male"
    # the patient comes before its first fact
    first_fact = next(i for i, r in enumerate(records) if isinstance(r, ClinicalFact))
    assert records.index(maria) < first_fact
    # MRN003: bad MBI, 30 February and sex Q are warnings; its row is kept
    ann = patients[2]
    assert (ann.identifiers, ann.birth_date, ann.sex) == ((), None, "U")
    assert [(i.severity, i.field, i.where.line) for i in issues(records)] == [
        ("warning", "mbi", 12),
        ("warning", "date_of_birth", 12),
        ("warning", "sex", 12),
    ]


def test_bad_rows_are_reported_and_the_rest_read() -> None:
    records = list(read_clinical_csv(DATA / "clinical_bad.csv"))
    assert [f.where.line for f in facts(records).values()] == [2, 17]
    found = [(i.where.line, i.field) for i in issues(records)]
    assert found == [
        (3, "patient_id"),  # empty
        (4, "record_type"),  # allergy
        (5, "code_system"),  # XYZ
        (6, "code"),  # LOINC check digit
        (7, "value"),  # seven
        (8, "date"),  # 30 February
        (9, "value"),  # a lab without a value
        (10, "end_date"),  # ends before it starts
        (11, "value"),  # 140 is not systolic/diastolic
        (12, "npi"),  # check digit
        (13, ""),  # a cell short
        (14, "code"),  # not ICD-10-CM
        (15, "date"),  # in the future
    ]
    assert all(i.is_error for i in issues(records))
    assert str(issues(records)[4]) == (
        "clinical_bad.csv, line 7, id line7, value: error: 'seven' is not a decimal number "
        "(put a textual result in value_text)"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"patient_id,record_type,code_system,code\nP1,lab,LOINC,4548-4\n", "no date column"),
        (b"patient_id,record_type,code_system,code,date,dob\n", "unknown column 'dob'"),
        (b"patient_id,record_type,code_system,code,date,Date\n", "appears twice"),
        (
            b'patient_id,record_type,code_system,code,date\nP1,"lab,LOINC,4548-4,2025-01-01\n',
            "not readable as CSV",
        ),
        (b"patient_id,record_type,code_system,code,date\nP1,lab,LOINC,\xe9,2025-01-01\n", "not UTF-8"),
    ],
)
def test_files_refused_whole(content: bytes, message: str) -> None:
    with pytest.raises(ClinicalFileError, match=message) as exc:
        list(read_clinical_csv(content, filename="f.csv"))
    assert exc.value.filename == "f.csv"


def test_header_case_bom_delimiter_and_chunks() -> None:
    content = "\ufeffPATIENT_ID;Record_Type; code_system ;code;date;value;unit\r\nP1;lab;LN;4548-4;2025-03-14;7,1;%\r\n"
    records = list(read_clinical_csv(content.encode(), delimiter=";", chunk_size=4))
    # "7,1" is not a decimal: commas are not decimal points
    assert [(i.field, i.where.line) for i in issues(records)] == [("value", 2)]
    good = content.replace("7,1", "7.1").encode()
    (fact,) = list(read_clinical_csv(good, delimiter=";", chunk_size=4))
    assert isinstance(fact, ClinicalFact)
    assert fact.value == Decimal("7.1")


def test_every_column_is_documented() -> None:
    assert all(COLUMNS.values())
    assert "patient_id" in COLUMNS
    assert "record_type" in COLUMNS


# -- code systems -------------------------------------------------------------------------------------------


def test_code_systems_and_codes() -> None:
    assert code_system("http://loinc.org") == "LOINC"
    assert code_system("http://hl7.org/fhir/sid/icd-10-cm/") == "ICD10CM"
    assert code_system("urn:oid:2.16.840.1.113883.6.96") == "SNOMED"
    assert code_system("C4") == "CPT"
    assert code_system("cvx") == "CVX"
    assert code_system("local") is None
    assert normalize_code("ICD10CM", " e11.65 ") == "E1165"
    assert normalize_code("NDC", "0002-3227-30") == "00002322730"
    assert normalize_code("NDC", "garbage") == "garbage"
    assert code_problem("CPT", "3044F") is None
    assert code_problem("CPT", "304") is not None
    assert code_problem("HCPCS", "G0105") is None
    assert code_problem("ICD10PCS", "0DTJ4ZI") is not None  # no I or O in ICD-10-PCS
    assert code_problem("LOINC", "8480-6") is None
    assert code_problem("LOINC", "8480-7") is not None


def test_parse_day() -> None:
    assert parse_day("2025-03-14") == dt.date(2025, 3, 14)
    assert parse_day("3/4/2025") == dt.date(2025, 3, 4)
    assert parse_day("20250314") == dt.date(2025, 3, 14)
    for bad in ("2025-3-14", "14.03.2025", "2025-02-29", ""):
        with pytest.raises(ValueError, match="not"):
            parse_day(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0002-3227-30", "00002322730"),  # 4-4-2
        ("50090-347-01", "50090034701"),  # 5-3-2
        ("12345-6789-1", "12345678901"),  # 5-4-1
        ("12345-6789-01", "12345678901"),  # 5-4-2
        ("12345678901", "12345678901"),
    ],
)
def test_ndc_forms(text: str, expected: str) -> None:
    assert normalize_ndc(text) == expected


@pytest.mark.parametrize(
    "text", ["1234567890", "123456789012", "1234-56789-1", "12345-67-891", "ABCDE-1234-12", ""]
)
def test_bad_ndcs(text: str) -> None:
    with pytest.raises(ValueError, match="NDC"):
        normalize_ndc(text)


_cell = st.text(alphabet='abc,;"\n\r 0123456789-./<LOINCP', max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_cell, min_size=1, max_size=7), max_size=6))
def test_fuzz_rows_give_records_or_issues(rows: list[list[str]]) -> None:
    header = "patient_id,record_type,code_system,code,date,value,unit\n"
    body = "\n".join(",".join(r) for r in rows)
    try:
        out = list(read_clinical_csv((header + body).encode()))
    except ClinicalFileError:
        return  # an unclosed quote: refused whole, as documented
    assert all(isinstance(r, (PatientRecord, ClinicalFact, ClinicalIssue)) for r in out)


# -- any clinical file --------------------------------------------------------------------------------------


def test_detect_format_and_read_any(tmp_path: Path) -> None:
    assert detect_format(DATA / "bulk") == "fhir-ndjson"
    assert detect_format(DATA / "hostile.ndjson") == "fhir-ndjson"
    assert detect_format(DATA / "oru.hl7") == "hl7v2"  # MLLP framed
    assert detect_format(DATA / "adt.hl7") == "hl7v2"  # a batch
    assert detect_format(DATA / "clinical.csv") == "csv"
    for path, kind in (
        (DATA / "bulk", PatientRecord),
        (DATA / "oru.hl7", PatientRecord),
        (DATA / "clinical.csv", PatientRecord),
    ):
        assert isinstance(next(iter(read_clinical(path))), kind)
    # a format given overrides the detection: a CSV read as HL7 is not HL7
    with pytest.raises(ClinicalFileError, match="MSH"):
        list(read_clinical(DATA / "clinical.csv", "hl7v2"))
    with pytest.raises(ClinicalFileError, match="unknown format 'xml'"):
        read_clinical(DATA / "clinical.csv", "xml")
    with pytest.raises(ClinicalFileError, match="read as fhir-ndjson"):
        read_clinical(DATA / "bulk", "csv")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"\r\n")
    with pytest.raises(ClinicalFileError, match="empty"):
        detect_format(empty)
    with pytest.raises(ClinicalFileError, match="cannot be read"):
        detect_format(tmp_path / "missing.csv")
    with pytest.raises(ClinicalFileError, match="no such file"):
        read_clinical(tmp_path / "missing.csv", "csv")


def test_who_icd10_is_not_read_as_icd10cm() -> None:
    assert code_system("http://hl7.org/fhir/sid/icd-10") is None
    assert code_system("http://terminology.hl7.org/CodeSystem/icd10PCS") == "ICD10PCS"
    assert code_system("I10") == "ICD10CM"  # HL7 v2, as US senders use it
