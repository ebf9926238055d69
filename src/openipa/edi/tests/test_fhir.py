"""FHIR R4 bulk NDJSON: the shared Synthea samples, every resource type read, hostile lines, exact values."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.edi.clinical import ClinicalFact, ClinicalFileError, ClinicalIssue, PatientRecord, Record
from openipa.edi.fhir import bulk_files, read_bulk_dir, read_ndjson, read_resource, resource_type_of
from openipa.edi.tests.helpers import REPO

DATA = Path(__file__).parent / "data" / "clinical"
SAMPLES = (REPO / ".." / "shared" / "samples" / "fhir").resolve()


def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"shared FHIR samples not found at {SAMPLES}")
    return SAMPLES


def by_id(records: list[Record]) -> dict[str, PatientRecord | ClinicalFact]:
    out: dict[str, PatientRecord | ClinicalFact] = {}
    for r in records:
        if isinstance(r, PatientRecord):
            out[r.patient_ref] = r
        elif isinstance(r, ClinicalFact):
            out[r.record_id] = r
    return out


def issues(records: list[Record]) -> list[ClinicalIssue]:
    return [r for r in records if isinstance(r, ClinicalIssue)]


def fact(records: list[Record], record_id: str) -> ClinicalFact:
    found = by_id(records)[record_id]
    assert isinstance(found, ClinicalFact)
    return found


# -- the shared samples -------------------------------------------------------------------------------------


def test_shared_samples_read_without_issues() -> None:
    records = list(read_bulk_dir(samples()))
    counts = Counter((type(r).__name__, getattr(r, "kind", "")) for r in records)
    assert counts == {
        ("PatientRecord", ""): 13,
        ("ClinicalFact", "condition"): 555,
        ("ClinicalFact", "encounter"): 1215,
        ("ClinicalFact", "immunization"): 161,
    }
    assert issues(records) == []
    # Patients come first, so a loader knows them before their facts.
    assert all(isinstance(r, PatientRecord) for r in records[:13])
    patients = {r.patient_ref for r in records if isinstance(r, PatientRecord)}
    assert {r.patient_ref for r in records if isinstance(r, ClinicalFact)} <= patients


def test_shared_sample_values() -> None:
    records = list(read_ndjson(samples() / "smart10_Condition.000.ndjson"))
    sepsis = fact(records, "0023b3a7-2ded-840c-ee5b-6b123fdcfb0b")
    assert sepsis.patient_ref == "129c6ac7-8d06-89de-ad63-0204a93e76c3"
    assert sepsis.codes[0].system == "SNOMED"
    assert sepsis.codes[0].code == "91302008"
    assert sepsis.status == "active"
    assert sepsis.verification == "confirmed"
    assert sepsis.category == "encounter-diagnosis"
    # the local date as written, not the UTC one (22:58 -05:00 is the next day in UTC)
    assert sepsis.date == dt.date(1976, 1, 19)
    assert sepsis.time == dt.datetime.fromisoformat("1976-01-19T22:58:16-05:00")
    assert sepsis.encounter_ref == "f6003197-6507-1168-87be-ceccd5517094"
    patient = by_id(list(read_ndjson(samples() / "smart10_Patient.000.ndjson")))[
        "129c6ac7-8d06-89de-ad63-0204a93e76c3"
    ]
    assert isinstance(patient, PatientRecord)
    assert patient.family == "Medhurst46"
    assert patient.given == ("Sumiko254", "Larue605")
    assert patient.sex == "F"
    assert any(i.type == "SS" and i.value == "999-94-5397" for i in patient.identifiers)
    encounter = next(
        r for r in read_ndjson(samples() / "smart10_Encounter.000.ndjson") if isinstance(r, ClinicalFact)
    )
    assert encounter.category == "AMB"
    assert encounter.performer == "9999974493"
    assert encounter.date == dt.date(1989, 10, 4)
    assert encounter.end_date == dt.date(1989, 10, 4)


# -- every resource type ------------------------------------------------------------------------------------


def test_bulk_directory_order_and_skipped_types() -> None:
    files = bulk_files(DATA / "bulk")
    assert files[0][0] == "Patient"
    assert resource_type_of(Path("smart10_Observation.000.ndjson")) == "Observation"
    assert resource_type_of(Path("Patient.ndjson")) == "Patient"
    assert resource_type_of(Path("export.ndjson")) is None
    records = list(read_bulk_dir(DATA / "bulk"))
    skipped = [i for i in issues(records) if "Practitioner" in i.message]
    assert len(skipped) == 1
    assert skipped[0].severity == "warning"


def test_patient_elements() -> None:
    records = list(read_bulk_dir(DATA / "bulk"))
    p1 = by_id(records)["pat-1"]
    assert isinstance(p1, PatientRecord)
    assert (p1.family, p1.given, p1.first_name) == ("Garcia", ("Maria", "Elena"), "Maria")
    assert p1.birth_date == dt.date(1958, 7, 4)
    assert p1.sex == "F"
    assert [(i.type, i.value) for i in p1.identifiers] == [("MR", "MRN001"), ("MC", "1EG4TE5MK73")]
    assert p1.addresses[0].lines == ("12 Oak St", "Apt 3")
    assert p1.addresses[0].zip == "93701"
    assert p1.phones == ("555-201-3344",)
    assert p1.emails == ("maria@example.org",)
    p2 = by_id(records)["pat-2"]
    assert isinstance(p2, PatientRecord)
    assert p2.birth_date is None
    assert p2.deceased is True
    assert p2.deceased_date == dt.date(2025, 2, 10)
    p3 = by_id(records)["pat-3"]
    assert isinstance(p3, PatientRecord)
    assert p3.birth_date is None
    assert p3.sex == "U"
    warned = {(i.where.record_id, i.field) for i in issues(records) if i.severity == "warning"}
    assert {
        ("pat-2", "Patient.birthDate"),
        ("pat-3", "Patient.birthDate"),
        ("pat-3", "Patient.gender"),
    } <= warned


def test_observations_values_components_and_dates() -> None:
    records = list(read_bulk_dir(DATA / "bulk"))
    a1c = fact(records, "obs-a1c")
    assert a1c.kind == "observation"
    assert a1c.codes_in("LOINC") == ("4548-4",)
    assert a1c.value == Decimal("7.9")
    assert a1c.unit == "%"
    assert a1c.category == "laboratory"
    assert a1c.date == dt.date(2025, 3, 14)
    assert a1c.status == "final"
    gmi = fact(records, "obs-gmi")
    assert gmi.patient_ref == "pat-1"  # urn:uuid reference
    assert (gmi.date, gmi.end_date, gmi.value) == (dt.date(2025, 4, 1), dt.date(2025, 4, 14), Decimal("8.1"))
    bp = fact(records, "obs-bp")
    assert bp.value is None
    assert len(bp.components) == 2
    flat = list(bp.flatten())
    assert [(f.codes[0].code, f.value, f.unit) for f in flat[1:]] == [
        ("8480-6", Decimal(138), "mm[Hg]"),
        ("8462-4", Decimal(88), "mm[Hg]"),
    ]
    assert all(f.date == dt.date(2025, 6, 2) and f.references == ("obs-bp",) for f in flat[1:])
    # 20 significant digits: a float would lose them; the line is parsed again with Decimals
    long = fact(records, "obs-long")
    assert long.value == Decimal("101.12345678901234567")
    assert long.comparator == "<"
    coded = fact(records, "obs-coded")
    assert coded.value_code is not None
    assert coded.value_code.system == "SNOMED"
    assert coded.value_text == "Negative"
    assert coded.date is None
    assert any(i.where.record_id == "obs-coded" and i.severity == "warning" for i in issues(records))


def test_procedures_immunizations_encounters_reports_conditions() -> None:
    records = list(read_bulk_dir(DATA / "bulk"))
    mammo = fact(records, "proc-mammo")
    assert [(c.system, c.code) for c in mammo.codes] == [("CPT", "77067"), ("SNOMED", "241055006")]
    assert mammo.date == dt.date(2024, 10, 20)
    fit = fact(records, "proc-fit")
    assert fit.codes[0].system == "HCPCS"
    assert fit.codes[0].code == "G0328"
    errors = {i.where.record_id: i for i in issues(records) if i.is_error}
    assert errors["proc-pcs"].field == "Procedure.performedPeriod.end"  # ends before it starts
    imm = fact(records, "imm-1")
    assert (imm.codes[0].system, imm.codes[0].code, imm.date) == ("CVX", "141", dt.date(2024, 10, 1))
    assert fact(records, "imm-2").date is None
    assert fact(records, "imm-2").status == "not-done"
    enc = fact(records, "enc-ip")
    assert enc.category == "IMP"
    assert enc.disposition == "home"
    assert enc.performer == "1234567893"
    assert enc.performer_name == "Dr. Attending"
    assert (enc.date, enc.end_date) == (dt.date(2025, 5, 1), dt.date(2025, 5, 4))
    report = fact(records, "dr-1")
    assert report.kind == "report"
    assert report.references == ("obs-a1c",)
    cond = fact(records, "cond-1")
    assert cond.codes_in("ICD10CM") == ("E1165",)
    assert cond.primary is not None
    assert (cond.date, cond.recorded, cond.end_date) == (
        dt.date(2019, 5, 1),
        dt.date(2019, 5, 3),
        dt.date(2025, 1, 1),
    )
    assert cond.category == "problem-list-item"


# -- hostile input ------------------------------------------------------------------------------------------


def test_bad_lines_are_reported_and_the_rest_read() -> None:
    records = list(read_ndjson(DATA / "hostile.ndjson"))
    assert [r.record_id for r in records if isinstance(r, ClinicalFact)] == ["ok-1", "ok-2"]
    found = {(i.where.line, i.severity, i.where.record_id, i.field) for i in issues(records)}
    assert found == {
        (2, "error", None, ""),  # broken JSON
        (3, "warning", "s1", "resourceType"),  # a type not read
        (4, "error", "no-subject", "Condition.subject"),
        (5, "error", "bad-date", "Observation.effectiveDateTime"),
        (7, "error", None, ""),  # an array, not a resource
        (8, "error", "no-code", "Observation.code"),
        (9, "error", "bad-value", "Observation.valueQuantity.value"),
        (10, "error", None, "Observation.id"),
        (11, "error", "wrong-ref", "Immunization.patient.reference"),
        (13, "error", None, ""),  # not UTF-8
    }
    text = {i.where.line: str(i) for i in issues(records)}
    assert text[2].startswith("hostile.ndjson, line 2: error: the line is not valid JSON")
    assert "Spaceship" in text[3]
    assert text[5] == (
        "hostile.ndjson, line 5, id bad-date, Observation.effectiveDateTime: error: "
        "'2025-02-30' is not a real date or time"
    )


@pytest.mark.parametrize(
    "content",
    [b'{\n  "resourceType": "Bundle"\n}\n', b'[{"resourceType":"Patient","id":"1"}]\n', b"\n\n[\n"],
)
def test_a_json_document_is_refused_whole(content: bytes) -> None:
    with pytest.raises(ClinicalFileError, match="not NDJSON") as exc:
        list(read_ndjson(content, filename="bundle.json"))
    assert exc.value.filename == "bundle.json"


def test_unreadable_sources_raise() -> None:
    with pytest.raises(ClinicalFileError, match="not a directory"):
        bulk_files(DATA / "hostile.ndjson")
    with pytest.raises(ClinicalFileError, match=r"no \.ndjson files"):
        bulk_files(DATA.parent)
    with pytest.raises(ClinicalFileError, match="binary mode"):
        list(read_ndjson(io.StringIO("{}")))  # type: ignore[arg-type]


def test_streams_in_small_chunks() -> None:
    whole = list(read_ndjson(DATA / "hostile.ndjson"))
    chunked = list(
        read_ndjson((DATA / "hostile.ndjson").read_bytes(), filename="hostile.ndjson", chunk_size=7)
    )
    assert chunked == whole


def test_a_crlf_file_reads_like_lf() -> None:
    lf = (DATA / "bulk" / "Observation.000.ndjson").read_bytes()
    assert list(read_ndjson(lf.replace(b"\n", b"\r\n"), chunk_size=64)) == list(read_ndjson(lf))


# -- fuzz ---------------------------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
_keys = st.sampled_from(
    [
        "id",
        "subject",
        "patient",
        "code",
        "vaccineCode",
        "status",
        "effectiveDateTime",
        "effectivePeriod",
        "valueQuantity",
        "component",
        "birthDate",
        "gender",
        "name",
        "identifier",
        "class",
        "period",
        "result",
        "performedPeriod",
        "hospitalization",
        "telecom",
        "address",
        "onsetDateTime",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rtype=st.sampled_from(
        ["Patient", "Condition", "Observation", "Procedure", "Immunization", "Encounter", "DiagnosticReport"]
    ),
    body=st.dictionaries(_keys, _json, max_size=6),
)
def test_any_resource_gives_records_or_issues_never_a_crash(rtype: str, body: dict[str, Any]) -> None:
    resource = {"resourceType": rtype, **body}
    out = read_resource(resource)
    assert out
    assert all(isinstance(r, (PatientRecord, ClinicalFact, ClinicalIssue)) for r in out)
    line = json.dumps(resource, default=str).encode()
    assert list(read_ndjson(b"\n" + line)) != []


class _Generated:
    """A binary stream of ``n`` generated NDJSON lines, made as they are read (never whole in memory)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.i = 0
        self.buf = b""

    def read(self, size: int = -1, /) -> bytes:
        while len(self.buf) < size and self.i < self.n:
            self.buf += (
                b'{"resourceType":"Observation","id":"o%d","status":"final","code":{"coding":[{"system":'
                b'"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/p%d"},'
                b'"effectiveDateTime":"2025-03-14","valueQuantity":{"value":7.%d,"unit":"%%"}}\n'
                % (self.i, self.i, self.i % 10)
            )
            self.i += 1
        out, self.buf = self.buf[:size], self.buf[size:]
        return out


def test_a_large_file_is_read_in_constant_memory() -> None:
    import tracemalloc

    n = 8_000  # about 2 MB of NDJSON; the records, if kept, would take several times that
    tracemalloc.start()
    try:
        count = sum(1 for r in read_ndjson(_Generated(n), chunk_size=1 << 16) if isinstance(r, ClinicalFact))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == n
    assert peak < 1_000_000


def test_an_attending_npi_given_as_a_logical_identifier() -> None:
    resource = {
        "resourceType": "Encounter",
        "id": "e1",
        "subject": {"reference": "Patient/p1"},
        "participant": [
            {
                "individual": {
                    "identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1245319599"},
                    "display": "Dr. Who",
                }
            }
        ],
    }
    (encounter,) = read_resource(resource)
    assert isinstance(encounter, ClinicalFact)
    assert (encounter.performer, encounter.performer_name) == ("1245319599", "Dr. Who")
