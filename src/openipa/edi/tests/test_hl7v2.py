"""HL7 v2: the shared python-hl7 samples, ORU results, ADT admissions and discharges, hostile messages."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.edi.clinical import ClinicalFact, ClinicalFileError, ClinicalIssue, PatientRecord, Record
from openipa.edi.hl7v2 import PartialDate, parse_dtm, read_hl7
from openipa.edi.tests.helpers import REPO

DATA = Path(__file__).parent / "data" / "clinical"
SAMPLES = (REPO / ".." / "shared" / "samples" / "hl7").resolve()


def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"shared HL7 samples not found at {SAMPLES}")
    return SAMPLES


def facts(records: list[Record]) -> dict[str, ClinicalFact]:
    return {r.record_id: r for r in records if isinstance(r, ClinicalFact)}


def issues(records: list[Record]) -> list[ClinicalIssue]:
    return [r for r in records if isinstance(r, ClinicalIssue)]


# -- the shared samples -------------------------------------------------------------------------------------


def test_shared_oru_sample() -> None:
    records = list(read_hl7(samples() / "pythonhl7_sample_hl7.hl7"))
    patient = records[0]
    assert isinstance(patient, PatientRecord)
    assert (patient.patient_ref, patient.family, patient.given, patient.sex) == (
        "555-44-4444",
        "EVERYWOMAN",
        ("EVE", "E"),
        "F",
    )
    assert patient.addresses[0].city == "STATESVILLE"
    assert patient.phones == ("(206)3345232", "(206)752-121")
    glucose = facts(records)["order:1045813:1554-5"]
    assert glucose.codes[0].system == "LOINC"
    assert glucose.codes[0].code == "1554-5"
    assert (glucose.value, glucose.unit, glucose.reference_range, glucose.abnormal_flags) == (
        Decimal(182),
        "mg/dl",
        "70_105",
        ("H",),
    )
    assert glucose.date == dt.date(2002, 2, 15)
    assert glucose.status == "final"
    assert facts(records)["order:1045813"].references == ("order:1045813:1554-5", "order:1045813:1553-5")
    # The sample's birth date (9 digits) and its OBX of type FN are warnings; the message is kept.
    assert {(i.severity, i.field) for i in issues(records)} == {("warning", "PID-7"), ("warning", "OBX-2")}
    second = facts(records)["order:1045813:1553-5"]
    assert second.value is None
    assert second.value_text == "^182"
    # 1553-5 fails LOINC's check digit, so the sample's odd third component stays its system
    assert second.codes[0].system != "LOINC"


def test_shared_adt_batch_sample() -> None:
    records = list(read_hl7(samples() / "pythonhl7_sample_batch1.hl7"))
    encounters = [r for r in records if isinstance(r, ClinicalFact)]
    assert [(e.record_id, e.event, e.category, e.status) for e in encounters] == [
        ("12334456778890", "A04", "O", "arrived"),
        ("12334456778891", "A04", "O", "arrived"),
    ]
    assert all(e.patient_ref == "0000112234" for e in encounters)
    patients = [r for r in records if isinstance(r, PatientRecord)]
    assert patients[0].identifiers[0].system == "100"
    assert patients[0].identifiers[0].type == "A"
    # birth date 1013-11-13 and sex "1": dropped with warnings; no errors, batch count right
    assert all(i.severity == "warning" for i in issues(records))
    assert {i.field for i in issues(records)} == {"PID-7", "PID-8"}
    assert patients[0].birth_date is None
    assert patients[0].sex == "U"


# -- ORU ----------------------------------------------------------------------------------------------------


def test_oru_values_by_type() -> None:
    records = list(read_hl7(DATA / "oru.hl7"))
    by_id = facts(records)
    a1c = by_id["order:FIL1:4548-4"]
    assert (a1c.value, a1c.unit, a1c.abnormal_flags, a1c.reference_range) == (
        Decimal("7.9"),
        "%",
        ("H", "A"),
        "4.0-5.6",
    )
    assert a1c.time == dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    gmi = by_id["order:FIL1:97506-0"]
    assert (gmi.value, gmi.comparator, gmi.status) == (Decimal("7.0"), "<", "corrected")
    coded = by_id["order:FIL1:5195-3"]
    assert coded.value_code is not None
    assert (coded.value_code.system, coded.value_code.code) == (
        "SNOMED",
        "260385009",
    )
    assert coded.value_text == "Negative"
    text = by_id["order:FIL1:8251-1"]
    assert text.value_text == "A ^ B \\ C ~ D OK"  # \S\ \E\ \R\ and \X..\ decoded
    ratio = by_id["order:FIL1:1234-5"]
    assert ratio.value is None
    assert ratio.value_text == "1:128"
    glucose = by_id["order:FIL1:2345-7"]
    assert glucose.date == dt.date(2025, 3, 15)
    assert glucose.value == Decimal("101.25")
    patient = records[0]
    assert isinstance(patient, PatientRecord)
    assert [(i.value, i.system, i.type) for i in patient.identifiers] == [
        ("MRN001", "CLINIC", "MR"),
        ("1EG4TE5MK73", "CMS", "MC"),
    ]
    assert (patient.family, patient.given) == ("GARCIA", ("MARIA", "ELENA"))  # the legal name
    assert patient.phones == ("(559)2013344",)
    assert patient.emails == ("maria@example.org",)
    assert patient.addresses[0].lines == ("12 OAK ST", "APT 3")
    assert patient.addresses[0].country == "USA"
    assert not any(f.where.record_id == "MSG0006" for f in by_id.values())  # a bad OBX refuses message 6


def test_oru_bad_messages_are_reported_and_the_rest_read() -> None:
    records = list(read_hl7(DATA / "oru.hl7"))
    found = [(i.severity, i.where.message, i.where.segment, i.field, i.where.line) for i in issues(records)]
    assert found == [
        ("error", 2, "OBX#1", "OBX-5", 14),  # "seven" in an NM
        ("error", 3, "MSH#1", "PID", 15),  # no PID
        ("warning", 4, None, "MSH-9", 18),  # ORM: not read
        ("error", 5, "MSH#1", "MSH-2", 20),  # wrong delimiters
        ("error", 6, "OBX#3", "OBX-3", 27),  # an OBX without an identifier
        ("error", 7, "OBX#1", "OBX-14", 30),  # 13th month
    ]
    assert {f.where.record_id for f in facts(records).values()} == {"MSG0001"}
    first = issues(records)[0]
    assert str(first) == (
        "oru.hl7, segment 14, message 2, OBX#1, id MSG0002, OBX-5: error: "
        "value 'seven' is not a number (OBX-2 value type NM)"
    )


# -- ADT ----------------------------------------------------------------------------------------------------


def test_adt_admit_discharge_register() -> None:
    records = list(read_hl7(DATA / "adt.hl7"))
    encounters = [r for r in records if isinstance(r, ClinicalFact) and r.kind == "encounter"]
    admit, discharge, register = encounters
    assert (admit.event, admit.status, admit.category, admit.record_id) == ("A01", "in-progress", "I", "V100")
    assert admit.date == dt.date(2025, 5, 1)
    assert admit.end_date is None
    assert (admit.performer, admit.performer_name) == ("1234567893", "MARCUS WELBY")
    assert admit.recorded == dt.date(2025, 5, 1)  # EVN-2
    assert (discharge.event, discharge.status, discharge.disposition) == ("A03", "finished", "01")
    assert discharge.end_date == dt.date(2025, 5, 4)
    assert discharge.end_time == dt.datetime(2025, 5, 4, 11, 30)
    assert (register.event, register.category, register.date) == ("A04", "E", dt.date(2025, 5, 6))
    conditions = [r for r in records if isinstance(r, ClinicalFact) and r.kind == "condition"]
    assert [(c.record_id, c.codes[0].system, c.codes[0].code, c.category, c.date) for c in conditions] == [
        ("V100:I109", "ICD10CM", "I109", "A", dt.date(2025, 5, 1)),  # DG1-5 empty: the admit date
        ("V100:E1165", "ICD10CM", "E1165", "W", dt.date(2025, 5, 1)),
        ("V100:F329", "ICD10CM", "F329", "F", dt.date(2025, 5, 1)),  # the admit date when DG1-5 is empty
    ]
    assert all(c.encounter_ref == "V100" for c in conditions)


def test_adt_problems() -> None:
    records = list(read_hl7(DATA / "adt.hl7"))
    found = [(i.severity, i.where.message, i.field) for i in issues(records)]
    assert found == [
        ("warning", 3, "PID-7"),  # February 30th: dropped
        ("warning", 3, "PID-8"),  # sex X
        ("error", 4, "PV1"),  # A08 without PV1
        ("warning", 5, "MSH-9"),  # A02 not read
        ("error", 6, "PV1-45"),  # discharged before admitted
        ("error", 7, "DG1-3"),  # a DG1 without a code
        ("warning", None, "BTS-1"),  # the trailer counts 6 messages, the batch has 7
    ]


# -- framing, delimiters, hostile files ---------------------------------------------------------------------


def test_other_delimiters_and_terminators() -> None:
    text = (
        "MSH#*!?%#LAB#X#EHR#Y#20250101##ORU*R01#M1#P#2.5\r\n"
        "PID###P9*!*!*!MR2##DOE*JANE##19800101#F\r\n"
        "OBX#1#NM#4548-4*A1c?S?x*LN##6.4#%#####F###20250102\r\n"
    )
    records = list(read_hl7(text.encode(), chunk_size=5))
    obx = facts(records)["M1:OBX#1"]
    assert obx.value == Decimal("6.4")
    assert obx.codes[0].display == "A1c*x"
    patient = records[0]
    assert isinstance(patient, PatientRecord)
    assert [i.value for i in patient.identifiers] == ["P9", "MR2"]


def test_chunked_reading_gives_the_same_records() -> None:
    whole = list(read_hl7(DATA / "oru.hl7"))
    assert list(read_hl7((DATA / "oru.hl7").read_bytes(), filename="oru.hl7", chunk_size=3)) == whole


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PID|1||X\rOBX|1\r", "does not start with an MSH"),
        (b"", "has no MSH"),
        (b"\n\n", "has no MSH"),
        (b"BHS|^~\\&\rBTS|0\r", "has no MSH"),
        (b'{"resourceType":"Patient"}\n', "does not start with an MSH"),
    ],
)
def test_not_hl7_is_refused_whole(content: bytes, message: str) -> None:
    with pytest.raises(ClinicalFileError, match=message):
        list(read_hl7(content, filename="x.hl7"))


def test_truncated_segments() -> None:
    content = b"MSH|^~\r" + b"MSH|^~\\&|A|B|C|D|20250101||ORU^R01|M2|P|2.5\rPID|1||P1\rOB\r"
    found = [(i.where.message, i.field, i.where.segment) for i in issues(list(read_hl7(content)))]
    assert found == [(1, "MSH-1", "MSH#1"), (2, "", "OB#1")]


def test_parse_dtm() -> None:
    assert parse_dtm("20250314") == (dt.date(2025, 3, 14), None)
    day, stamp = parse_dtm("202503140930.25+0100")
    assert day == dt.date(2025, 3, 14)
    assert stamp == dt.datetime(2025, 3, 14, 9, 30, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    with pytest.raises(PartialDate):
        parse_dtm("202503")
    for bad in ("2025-03-14", "20250230", "2025031425", "x"):
        with pytest.raises(ValueError, match="not"):
            parse_dtm(bad)


_segment = st.text(alphabet="MSHPIDOBXVG1|^~\\&0123456789.-ABC \x0b\x1c", max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_segment, max_size=8), st.sampled_from(["\r", "\n", "\r\n"]))
def test_fuzz_only_records_issues_or_file_errors(segments: list[str], sep: str) -> None:
    content = ("MSH|^~\\&|A|B|C|D|20250101||ORU^R01|F1|P|2.5" + sep + sep.join(segments)).encode()
    out = list(read_hl7(content))  # the first segment is an MSH: never refused whole
    assert all(isinstance(r, (PatientRecord, ClinicalFact, ClinicalIssue)) for r in out)
    with contextlib.suppress(ClinicalFileError):
        list(read_hl7(sep.join(segments).encode()))


class _Generated:
    """A binary stream of ``n`` generated ORU messages, made as they are read (never whole in memory)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.i = 0
        self.buf = b""

    def read(self, size: int = -1, /) -> bytes:
        while len(self.buf) < size and self.i < self.n:
            self.buf += (
                b"MSH|^~\\&|L|A|E|C|20250314||ORU^R01|M%d|P|2.5\rPID|1||MRN%d^^^C^MR||DOE^JANE||19600101|F\r"
                b"OBR|1|||4548-4^A1c^LN|||20250314\rOBX|1|NM|4548-4^A1c^LN||7.1|%%|||||F\r" % (self.i, self.i)
            )
            self.i += 1
        out, self.buf = self.buf[:size], self.buf[size:]
        return out


def test_a_large_file_is_read_in_constant_memory() -> None:
    import tracemalloc

    n = 3_000  # 3,000 messages, 12,000 segments
    tracemalloc.start()
    try:
        count = sum(1 for r in read_hl7(_Generated(n), chunk_size=1 << 16) if isinstance(r, ClinicalFact))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 2 * n  # an observation and a report per message
    assert peak < 1_000_000


def test_a_corrected_result_keeps_the_original_record_id() -> None:
    msh = "MSH|^~\\&|LAB|A|EHR|B|20250314||ORU^R01|{}|P|2.5.1\r"
    body = "PID|1||P1^^^C^MR\rOBR|1|PL7|FI9|4548-4^A1c^LN|||20250314\rOBX|1|NM|4548-4^A1c^LN|{}|{}|%|||||{}\r"
    content = (
        msh.format("M1") + body.format("", "7.9", "F") + msh.format("M2") + body.format("", "6.9", "C")
    ).encode()
    results = [r for r in read_hl7(content) if isinstance(r, ClinicalFact) and r.kind == "observation"]
    assert [(r.record_id, r.value, r.status, r.where.record_id) for r in results] == [
        ("order:FI9:4548-4", Decimal("7.9"), "final", "M1"),
        ("order:FI9:4548-4", Decimal("6.9"), "corrected", "M2"),
    ]
    # two OBX of one code in one order are told apart by OBX-4 (sub-id), else by their segment
    twice = (
        msh.format("M3") + body.format("1", "7.0", "F") + "OBX|2|NM|4548-4^A1c^LN|2|7.1|%|||||F\r"
    ).encode()
    twice += b"OBX|3|NM|4548-4^A1c^LN||7.2|%|||||F\r"
    ids = [r.record_id for r in read_hl7(twice) if isinstance(r, ClinicalFact) and r.kind == "observation"]
    assert ids == ["order:FI9:4548-4:1", "order:FI9:4548-4:2", "order:FI9:4548-4"]


def test_formatted_text_escapes() -> None:
    content = (
        b"MSH|^~\\&|LAB|A|EHR|B|20250314||ORU^R01|T1|P|2.5.1\r"
        b"PID|1||P1\r"
        b"OBX|1|FT|8251-1^Comment^LN||line one\\.br\\line \\H\\two\\N\\ \\Z99\\|||||F\r"
    )
    (obx,) = [r for r in read_hl7(content) if isinstance(r, ClinicalFact)]
    assert obx.value_text == "line one\nline two \\Z99\\"  # an unknown escape is kept as written
