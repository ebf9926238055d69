"""837 claims reader: the shared sample files, golden claims (837P and 837I), hostile inputs."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.edi.t837 import Claim837, ClaimProblem, Diagnosis, read_837
from openipa.edi.tests.helpers import mutate, samples_dir
from openipa.edi.x12 import EnvelopeReader, X12Error, X12Writer, build_999

DATA = Path(__file__).parent / "data" / "837"

Seg = tuple[str, ...]

PRO = "005010X222A1"
INST = "005010X223A2"

HEADER: list[Seg] = [
    ("BHT", "0019", "00", "BATCH1", "20240105", "1200", "CH"),
    ("NM1", "41", "2", "CLEARING HOUSE", "", "", "", "", "46", "SUB01"),
    ("PER", "IC", "EDI DESK", "TE", "8005550100"),
    ("NM1", "40", "2", "SUNRISE IPA", "", "", "", "", "46", "RCV01"),
    ("HL", "1", "", "20", "1"),
    ("PRV", "BI", "PXC", "207Q00000X"),
    ("NM1", "85", "2", "GOOD CLINIC", "", "", "", "", "XX", "1912301953"),
    ("N3", "1 MAIN ST"),
    ("N4", "AUSTIN", "TX", "78701"),
    ("REF", "EI", "123456789"),
]


def subscriber(n: int = 1, hl: int = 2) -> list[Seg]:
    return [
        ("HL", str(hl), "1", "22", "0"),
        ("SBR", "P", "18", "GRP1", "", "", "", "", "", "MC"),
        ("NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", f"M{n:09d}"),
        ("DMG", "D8", "19800101", "F"),
        ("NM1", "PR", "2", "GOOD HEALTH PLAN", "", "", "", "", "PI", "PAYER1"),
    ]


def claim(
    cid: str = "C1", *, total: str = "150", clm05: str = "11:B:1", body: list[Seg] | None = None
) -> list[Seg]:
    segs: list[Seg] = [("CLM", cid, total, "", "", clm05, "Y", "A", "Y", "Y")]
    if body is not None:
        return segs + body
    return [
        *segs,
        ("REF", "G1", "AUTH9"),
        ("HI", "ABK:E119", "ABF:I10"),
        ("LX", "1"),
        ("SV1", "HC:99213:25", "100", "UN", "1", "", "", "1:2"),
        ("DTP", "472", "D8", "20240102"),
        ("LX", "2"),
        ("SV1", "HC:81002", "50", "UN", "2", "", "", "2"),
        ("DTP", "472", "RD8", "20240102-20240103"),
        ("REF", "6R", "LINE2"),
    ]


def build(body: list[Seg], version: str = PRO, set_id: str = "837") -> bytes:
    out = io.BytesIO()
    w = X12Writer(out)
    w.start_interchange("ZZ", "SENDER", "ZZ", "RECEIVER", control_number=1)
    w.start_group("HC", "SENDER", "RECEIVER", control_number=1, version=version)
    w.start_transaction(set_id, "0001", version)
    for seg in body:
        # "a:b" is a composite (the writer refuses a component separator inside a plain element)
        w.segment(seg[0], *[tuple(x.split(":")) if ":" in x else x for x in seg[1:]])
    w.end_transaction()
    w.end_group()
    w.end_interchange()
    return out.getvalue()


VALID = build(HEADER + subscriber() + claim())


def read(data: bytes) -> list[Claim837 | ClaimProblem]:
    return list(read_837(data, filename="in.837"))


def claims(data: bytes) -> list[Claim837]:
    out = read(data)
    assert all(isinstance(c, Claim837) for c in out), out
    return [c for c in out if isinstance(c, Claim837)]


def problem(data: bytes) -> ClaimProblem:
    out = read(data)
    problems = [p for p in out if isinstance(p, ClaimProblem)]
    assert len(problems) == 1, out
    return problems[0]


def error(data: bytes) -> X12Error:
    with pytest.raises(X12Error) as info:
        read(data)
    return info.value


def located(data: bytes, seg_id: str, element: int | None) -> X12Error:
    exc = error(data)
    assert exc.segment_id == seg_id, str(exc)
    assert exc.element == element, str(exc)
    assert exc.segment_number is not None
    assert exc.message
    assert exc.filename == "in.837"
    return exc


def segment_number(data: bytes, prefix: bytes) -> int:
    """The 1-based number of the first segment starting with ``prefix``."""
    for n, seg in enumerate(data.split(b"~"), 1):
        if seg.lstrip().startswith(prefix):
            return n
    raise AssertionError(prefix)


# -- the shared samples -------------------------------------------------------------------------------


def test_sample_837p_example1() -> None:
    (c,) = claims((samples_dir() / "lfh_demo.example1.837").read_bytes())
    assert c.kind == "professional"
    assert c.transaction.control_number == "0021"
    assert c.transaction.version == "005010X222A2"
    assert c.transaction.originator_reference == "244579"
    assert c.transaction.created == dt.date(2006, 10, 15)
    assert (c.transaction.submitter_id, c.transaction.receiver_id) == ("TGJ23", "66783JJT")
    assert c.billing_provider.name == "BEN KILDARE SERVICE"
    assert c.billing_provider.npi == "1912301953"
    assert c.billing_provider.tin == "587654321"
    assert c.billing_provider.taxonomy == "203BF0100Y"
    assert c.billing_provider.address is not None
    assert c.billing_provider.address.zip == "331110000"
    assert c.pay_to is not None
    assert c.pay_to.address is not None
    assert c.pay_to.address.line1 == "2345 OCEAN BLVD"
    assert c.subscriber.person.member_id == "JS00111223333"
    assert c.subscriber.payer_responsibility == "P"
    assert c.payer.identifier == "999996666"
    assert c.patient is not None
    assert c.patient.relationship == "19"
    assert c.patient.person.first_name == "TED"
    assert c.patient.person.birth_date == dt.date(1973, 5, 1)
    assert c.patient_person is c.patient.person
    assert c.claim_id == "26463774"
    assert c.total_charge_cents == 10000
    assert (c.place_of_service, c.frequency_code, c.type_of_bill) == ("11", "1", "")
    assert [(d.qualifier, d.code) for d in c.diagnoses] == [("BK", "0340"), ("BF", "V7389")]
    assert [ln.procedure_code for ln in c.lines] == ["99213", "87070", "99214", "86663"]
    assert [ln.charge_cents for ln in c.lines] == [4000, 1500, 3500, 1000]
    assert [ln.diagnoses[0].code for ln in c.lines] == ["0340", "0340", "V7389", "V7389"]
    assert c.lines[2].service_date == dt.date(2006, 10, 10)
    assert c.segment_number == 27
    assert c.lines[0].segment_number == 31


def test_sample_837p_example2_service_facility_and_onset() -> None:
    (c,) = claims((samples_dir() / "lfh_demo.example2.837").read_bytes())
    assert c.patient is None
    assert c.patient_person.last_name == "SMITH"
    assert c.subscriber.person.birth_date == dt.date(1943, 5, 1)
    assert c.onset_date == dt.date(1998, 10, 3)
    assert c.service_facility is not None
    assert c.service_facility.npi == "5812345679"
    assert c.payer.name == "ALLIANCE HEALTH AND LIFE INSURANCE"
    assert len(c.lines) == 4
    assert sum(ln.charge_cents for ln in c.lines) == c.total_charge_cents


def test_sample_837p_cob_other_subscriber_is_not_mixed_in() -> None:
    (c,) = claims((samples_dir() / "lfh_demo.cob.example4.837").read_bytes())
    assert c.subscriber.person.member_id == "102200221B1"  # not the 2330A NM1*IL (COM188-404777)
    assert c.payer.identifier == "10234"  # not the 2330B NM1*PR (59999)
    assert c.subscriber.payer_responsibility == "S"
    assert c.referring is not None
    assert (c.referring.name, c.referring.first_name) == ("BRYHT", "LEE")
    assert c.rendering is not None
    assert c.rendering.npi == "9090909090"
    assert c.rendering.taxonomy == "207X00000X"
    (line,) = c.lines
    assert line.modifiers == ("25",)
    assert line.diagnosis_pointers == (1, 2)
    assert line.rendering == c.rendering  # inherited from the claim


def test_sample_837i_institutional_claim() -> None:
    (c,) = claims((samples_dir() / "lfh_institutional-claim.837i").read_bytes())
    assert c.kind == "institutional"
    assert c.transaction.version == "005010X223A3"
    assert (c.facility_type, c.frequency_code, c.type_of_bill) == ("14", "1", "0141")
    assert c.total_charge_cents == 8993
    assert c.statement_from == c.statement_to == dt.date(1996, 9, 11)
    # HI*BH/BE/BG (occurrence, value, condition codes) are not diagnoses
    assert [d.code for d in c.diagnoses] == ["3669", "4019", "79431"]
    assert c.attending is not None
    assert c.attending.name == "JONES"
    assert [(ln.revenue_code, ln.procedure_code, ln.charge_cents) for ln in c.lines] == [
        ("0305", "85025", 1339),
        ("0730", "93005", 7654),
    ]
    assert c.lines[1].units == Decimal("3.00")


def test_sample_837i_with_wrong_component_separator_is_a_claim_problem() -> None:
    """The PPO sample declares ':' in ISA16 but writes CLM05 as 13>A>1: reported, not guessed."""
    (p,) = read_837((samples_dir() / "lfh_ppo-repriced-claim.837i").read_bytes())
    assert isinstance(p, ClaimProblem)
    assert (p.segment_number, p.segment_id, p.element, p.claim_id) == (26, "CLM", 5, "456DFH43")
    assert "13>A>1" in p.message


# -- golden claims ------------------------------------------------------------------------------------


def test_golden_837p_claim() -> None:
    (c,) = claims(VALID)
    assert c.claim_id == "C1"
    assert c.total_charge_cents == 15000
    assert c.prior_authorization == "AUTH9"
    assert c.subscriber.person.member_id == "M000000001"
    assert c.subscriber.person.sex == "F"
    assert c.subscriber.filing_indicator == "MC"
    assert c.diagnoses == (Diagnosis("ABK", "E119", 1), Diagnosis("ABF", "I10", 2))
    assert c.principal_diagnosis == Diagnosis("ABK", "E119", 1)
    first, second = c.lines
    assert (first.procedure_qualifier, first.procedure_code, first.modifiers) == ("HC", "99213", ("25",))
    assert first.units == Decimal(1)
    assert first.diagnoses == c.diagnoses
    assert second.diagnoses == (Diagnosis("ABF", "I10", 2),)
    assert second.units == Decimal(2)
    assert (second.service_date, second.service_date_end) == (dt.date(2024, 1, 2), dt.date(2024, 1, 3))
    assert second.control_number == "LINE2"
    assert c.segment_number == segment_number(VALID, b"CLM")
    assert first.segment_number == segment_number(VALID, b"SV1")


INST_CLAIM: list[Seg] = [
    ("CLM", "I1", "300", "", "", "11:A:7", "", "A", "Y", "Y"),
    ("DTP", "434", "RD8", "20240101-20240104"),
    ("DTP", "435", "DT", "202401010830"),
    ("CL1", "1", "7", "01"),
    ("REF", "F8", "PAYERCLAIM77"),
    ("HI", "ABK:N390"),
    ("HI", "ABJ:R509", "APR:R509"),
    ("HI", "ABF:E119"),
    ("HI", "BH:A1:D8:20240101"),
    ("NM1", "71", "1", "WELBY", "MARCUS", "", "", "", "XX", "1234567893"),
    ("PRV", "AT", "PXC", "207R00000X"),
    ("NM1", "72", "1", "CUTTER", "ANN", "", "", "", "XX", "1912301953"),
    ("LX", "1"),
    ("SV2", "0120", "", "200", "DA", "3"),
    ("DTP", "472", "RD8", "20240101-20240103"),
    ("LX", "2"),
    ("SV2", "0300", "HC:80053", "100", "UN", "1"),
    ("NM1", "82", "1", "LAB", "LARRY", "", "", "", "XX", "5544332211"),
]


def test_golden_837i_claim() -> None:
    data = build(HEADER + subscriber() + INST_CLAIM, INST)
    (c,) = claims(data)
    assert c.kind == "institutional"
    assert (c.facility_type, c.frequency_code, c.type_of_bill) == ("11", "7", "0117")
    assert c.payer_claim_control_number == "PAYERCLAIM77"
    assert (c.statement_from, c.statement_to) == (dt.date(2024, 1, 1), dt.date(2024, 1, 4))
    assert c.admission_date == dt.date(2024, 1, 1)
    assert [(d.qualifier, d.code, d.order) for d in c.diagnoses] == [
        ("ABK", "N390", 1), ("ABJ", "R509", 2), ("APR", "R509", 3), ("ABF", "E119", 4),
    ]  # fmt: skip
    assert c.attending is not None
    assert (c.attending.npi, c.attending.taxonomy) == ("1234567893", "207R00000X")
    assert c.operating is not None
    assert c.operating.npi == "1912301953"
    room, lab = c.lines
    assert (room.revenue_code, room.procedure_code, room.unit_basis, room.units) == (
        "0120",
        "",
        "DA",
        Decimal(3),
    )
    assert room.service_date_end == dt.date(2024, 1, 3)
    assert room.rendering is None
    assert lab.rendering is not None
    assert lab.rendering.npi == "5544332211"


def test_837i_discharge_hour_is_read_and_checked() -> None:
    """DTP*096 (discharge hour) is written in TM format (HHMM): taken, and refused when it is no time."""
    with_hour = [*INST_CLAIM[:3], ("DTP", "096", "TM", "1130"), *INST_CLAIM[3:]]
    (c,) = claims(build(HEADER + subscriber() + with_hour, INST))
    assert c.statement_to == dt.date(2024, 1, 4)
    bad = [*INST_CLAIM[:3], ("DTP", "096", "TM", "2575"), *INST_CLAIM[3:]]
    p = problem(build(HEADER + subscriber() + bad, INST))
    assert (p.segment_id, p.element) == ("DTP", 3)
    assert "HHMM" in p.message


def test_line_rendering_overrides_the_claims() -> None:
    body = [
        ("CLM", "C1", "150", "", "", "11:B:1"),
        ("HI", "ABK:E119"),
        ("NM1", "82", "1", "CLAIMDOC", "A", "", "", "", "XX", "1912301953"),
        ("LX", "1"),
        ("SV1", "HC:99213", "100", "UN", "1", "", "", "1"),
        ("NM1", "82", "1", "LINEDOC", "B", "", "", "", "XX", "5544332211"),
        ("LX", "2"),
        ("SV1", "HC:99213", "50", "UN", "1", "", "", "1"),
    ]
    (c,) = claims(build(HEADER + subscriber() + body))
    assert c.rendering is not None
    assert c.lines[0].rendering is not None
    assert c.lines[1].rendering is not None
    assert c.lines[0].rendering.name == "LINEDOC"
    assert c.lines[1].rendering == c.rendering


def test_patient_loop_and_several_claims() -> None:
    patient: list[Seg] = [
        ("HL", "3", "2", "23", "0"),
        ("PAT", "19"),
        ("NM1", "QC", "1", "DOE", "TIM"),
        ("DMG", "D8", "20150601", "M"),
    ]
    sub = subscriber()
    sub[0] = ("HL", "2", "1", "22", "1")
    sub[1] = ("SBR", "P", "", "GRP1", "", "", "", "", "", "MC")
    data = build(HEADER + sub + patient + claim("A") + claim("B") + subscriber(2, 4) + claim("C"))
    a, b, c = claims(data)
    assert a.patient is not None
    assert a.patient.person.first_name == "TIM"
    assert a.patient is b.patient
    assert a.subscriber is b.subscriber
    assert c.patient is None
    assert c.subscriber.person.member_id == "M000000002"


# -- content problems: one per bad claim, reading goes on ---------------------------------------------


GOOD_LINE: list[Seg] = [("HI", "ABK:E119"), ("LX", "1"), ("SV1", "HC:99213", "150", "UN", "1", "", "", "1")]


@pytest.mark.parametrize(
    ("clm", "body", "seg_id", "element", "words"),
    [
        (
            {},
            [("HI", "ABK:E119"), ("LX", "1"), ("SV1", "HC:99213", "150", "UN", "1", "", "", "1:3")],
            "SV1",
            7,
            "points to no diagnosis",
        ),
        (
            {},
            [("HI", "ABK:E119"), ("LX", "1"), ("SV1", "HC:99213", "150", "UN", "-1", "", "", "1")],
            "SV1",
            4,
            "not a positive quantity",
        ),
        (
            {},
            [("HI", "ABK:E119"), ("LX", "1"), ("SV1", "HC:99213", "150", "UN", "0", "", "", "1")],
            "SV1",
            4,
            "not a positive quantity",
        ),
        (
            {},
            [("HI", "ABK:E119"), ("LX", "1"), ("SV1", "HC:99213", "150", "UN", "x", "", "", "1")],
            "SV1",
            4,
            "not a number",
        ),
        (
            {},
            [("HI", "ABK:E119"), ("LX", "1"), ("SV1", "HC:99213", "1.5e2", "UN", "1")],
            "SV1",
            2,
            "exponent",
        ),
        ({"total": "140"}, GOOD_LINE, "CLM", 2, "not the sum of the line charges 150"),
        ({"total": "abc"}, GOOD_LINE, "CLM", 2, "not a decimal amount"),
        ({"clm05": ""}, GOOD_LINE, "CLM", 5, "no facility code"),
        ({"clm05": "11:B:9"}, GOOD_LINE, "CLM", 5, "frequency code '9'"),
        ({}, [("HI", "ABK:E119")], "CLM", None, "no service line"),
        ({}, [*GOOD_LINE, ("DTP", "472", "D8", "20240231")], "DTP", 3, "'20240231' is not a D8 date"),
        ({}, [*GOOD_LINE, ("DTP", "472", "RD8", "20240105-20240101")], "DTP", 3, "ends before it starts"),
        ({}, [*GOOD_LINE, ("DTP", "472", "XX", "20240105")], "DTP", 2, "not D8, RD8, DT or TM"),
        ({}, [("HI", "ABK:E119"), ("LX", "one")], "LX", 1, "not a positive integer"),
        ({}, [("HI", "ABK")], "HI", 1, "has no code"),
    ],
)
def test_claim_problems(
    clm: dict[str, str], body: list[Seg], seg_id: str, element: int | None, words: str
) -> None:
    bad = claim("BAD", body=body, **clm)
    data = build(HEADER + subscriber() + claim("OK1") + bad + claim("OK2"))
    out = read(data)
    assert [type(x).__name__ for x in out] == ["Claim837", "ClaimProblem", "Claim837"]
    p = out[1]
    assert isinstance(p, ClaimProblem)
    assert p.claim_id == "BAD"
    assert (p.segment_id, p.element) == (seg_id, element), str(p)
    assert words in p.message, str(p)
    assert data.split(b"~")[p.segment_number - 1].startswith(seg_id.encode())
    assert f"segment {p.segment_number} ({seg_id})" in str(p)


def test_every_bad_claim_is_reported_in_one_read() -> None:
    bad_units = claim("U", body=[("HI", "ABK:E119"), ("LX", "1"), ("SV1", "HC:99213", "150", "UN", "0")])
    data = build(
        HEADER + subscriber() + claim("A", total="1") + bad_units + claim("B") + claim("C", clm05="11")
    )
    out = read(data)
    assert [(x.claim_id, type(x).__name__) for x in out] == [
        ("A", "ClaimProblem"), ("U", "ClaimProblem"), ("B", "Claim837"), ("C", "ClaimProblem"),
    ]  # fmt: skip


def test_bad_subscriber_birth_date_is_a_problem_for_each_of_its_claims() -> None:
    sub = subscriber()
    sub[3] = ("DMG", "D8", "19801301", "F")
    out = read(build(HEADER + sub + claim("A") + claim("B") + subscriber(2, 3) + claim("C")))
    assert [type(x).__name__ for x in out] == ["ClaimProblem", "ClaimProblem", "Claim837"]
    p = out[0]
    assert isinstance(p, ClaimProblem)
    assert (p.segment_id, p.element, p.claim_id) == ("DMG", 2, "A")


# -- structural errors raise --------------------------------------------------------------------------


def test_missing_subscriber_name_loop() -> None:
    sub = [s for s in subscriber() if s[:2] != ("NM1", "IL")]
    exc = located(build(HEADER + sub + claim()), "CLM", None)
    assert "NM1*IL" in exc.message


def test_missing_payer_loop() -> None:
    sub = [s for s in subscriber() if s[:2] != ("NM1", "PR")]
    exc = located(build(HEADER + sub + claim()), "CLM", None)
    assert "NM1*PR" in exc.message


def test_missing_billing_provider_loop() -> None:
    head = [s for s in HEADER if s[:2] != ("NM1", "85")]
    exc = located(build(head + subscriber() + claim()), "HL", None)
    assert "NM1*85" in exc.message


@pytest.mark.parametrize(
    ("body", "seg_id", "words"),
    [
        ([*HEADER, ("CLM", "X", "1", "", "", "11:B:1")], "CLM", "outside a subscriber"),
        (HEADER + subscriber() + [("LX", "1")], "LX", "outside a claim"),
        (
            HEADER + subscriber() + claim("A", body=[("SV1", "HC:99213", "1", "UN", "1")]),
            "SV1",
            "outside a service",
        ),
        (HEADER + subscriber() + claim("A", body=[("LX", "1"), ("LX", "2")]), "LX", "no SV1/SV2"),
        # the claim's last line without its SV1: found when the next claim (or loop, or the set) starts
        (HEADER + subscriber() + claim("A", body=[("LX", "1")]) + claim("B"), "CLM", "no SV1/SV2"),
        (HEADER + subscriber() + claim("A", body=[("LX", "1")]), "SE", "no SV1/SV2"),
        (
            HEADER + subscriber() + claim("A", body=[("NM1", "82", "1", "X"), ("HI", "ABK:E119")]),
            "HI",
            "outside a claim",
        ),
        ([*HEADER[:4], ("HL", "1", "", "22", "0"), *subscriber()[1:], *claim()], "HL", "before any billing"),
        ([*HEADER, ("HL", "2", "1", "23", "0")], "HL", "not under a subscriber"),
        ([*HEADER, ("HL", "2", "1", "21", "0")], "HL", "not 20, 22 or 23"),
        (HEADER[1:] + subscriber() + claim(), "HL", "before the BHT"),
        (
            HEADER + subscriber() + claim("A", body=[("LX", "1"), ("SV2", "0300", "", "1", "UN", "1")]),
            "SV2",
            "in a professional 837",
        ),
    ],
)
def test_structure_errors(body: list[Seg], seg_id: str, words: str) -> None:
    exc = error(build(body))
    assert exc.segment_id == seg_id, str(exc)
    assert words in exc.message, str(exc)
    assert exc.segment_number is not None


def test_not_an_837() -> None:
    exc = located(build(HEADER, set_id="834"), "ST", 1)
    assert "not an 837" in exc.message
    exc = located(build(HEADER, version="005010X220A1"), "ST", 3)
    assert "not an 837P" in exc.message


def test_truncated_file() -> None:
    cut = VALID.index(b"SV1*") + 9
    exc = error(VALID[:cut])
    assert exc.segment_id == "SV1"
    assert "truncated" in exc.message
    exc = error(VALID[: VALID.index(b"GE*")])
    assert "GE missing" in exc.message


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\xff\xfe garbage \x89PNG\r\n\x1a\n" * 20, bytes(range(256)) * 3, VALID[:106] + b"\x00~" * 5],
)
def test_garbage(data: bytes) -> None:
    exc = error(data)
    assert exc.message


def test_hostile_fixture_files() -> None:
    for path in sorted(DATA.glob("*.837")):
        expected = path.with_suffix(".expected").read_text().strip()
        try:
            got = " | ".join(str(x) for x in read(path.read_bytes()) if isinstance(x, ClaimProblem))
        except X12Error as exc:
            got = f"X12Error: {exc.segment_id} {exc.element}: {exc.message}"
        assert got == expected, path.name


mutation = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]),
    st.integers(min_value=0, max_value=len(VALID) - 1),
    st.binary(min_size=1, max_size=8)
    | st.sampled_from([b"*", b"~", b":", b"0", b"-", b"LX*9~", b"HL*9*1*22*0~"]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_files_raise_only_x12error(ops: list[tuple[str, int, bytes]]) -> None:
    caught: list[X12Error] = []
    try:
        for item in read_837(mutate(VALID, ops)):
            assert isinstance(item, (Claim837, ClaimProblem))
    except X12Error as exc:
        caught.append(exc)
    assert all(str(exc) and exc.message for exc in caught)


def test_envelope_is_kept_for_a_999() -> None:
    envelope = EnvelopeReader(VALID)
    assert len(list(read_837(VALID, envelope=envelope))) == 1
    (interchange,) = envelope.interchanges
    assert interchange.groups[0].functional_id == "HC"
    ack = build_999(interchange)
    assert b"AK1*HC*1" in (ack if isinstance(ack, bytes) else ack.encode())
