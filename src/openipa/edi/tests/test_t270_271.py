"""270 reader and 271 writer: the shared sample, hand-built inquiries, hostile 270s, and 271s checked by pyx12.

pyx12 4.0.0 (the newest release) has no map for 005010X279A1: its maps.xml registers the 270/271 maps of
the 4010 guide (004010X092A1) only. The 5010 guide keeps the 4010 loops (2000A-2000D, 2100A-2100D,
2110C/D, 2120C/D) and the codes this writer uses, so the harness validates each 271 twice: with a
005010X279A1 map when pyx12 has one (skipped otherwise), and with pyx12's 004010X092A1 map after
relabelling the envelope (ISA12 00401, ISA11 U, GS08 004010X092A1, no ST03). The harness checks itself on
the shared sample and on broken 271s.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.edi.t270 import Inquiry, read_270
from openipa.edi.t271 import (
    Eligibility,
    Provider,
    Rejection,
    build_271,
    precheck,
    screen,
)
from openipa.edi.tests.helpers import mutate, samples_dir
from openipa.edi.x12 import Delimiters, EnvelopeReader, X12Error, X12Writer, iter_segments

pyx12_document = pytest.importorskip("pyx12.x12n_document")
pyx12_params = pytest.importorskip("pyx12.params")
pyx12_errors = pytest.importorskip("pyx12.errors")

SAMPLE = "lfh_subscriber-health-benefit-check"
WHEN = dt.datetime(2026, 5, 1, 12, 30)
PCP = Provider("1234567893", "ALDER", "ADA")

Seg = tuple[str, ...]


# -- the pyx12 harness -------------------------------------------------------------------------------


def _as_4010(data: bytes) -> str:
    text = data.decode("latin-1")
    text = text[:82] + "U" + text[83:84] + "00401" + text[89:]  # ISA11, ISA12 (ISA is fixed width)
    text = text.replace("005010X279A1", "004010X092A1")
    return re.sub(r"ST\*(27[01])\*([^*~]+)\*004010X092A1", r"ST*\1*\2", text)


def pyx12_valid(data: bytes) -> bool:
    """Valid under pyx12's 005010X279A1 map if it has one, and under its 004010X092A1 map (relabelled)."""
    try:
        valid_5010 = bool(
            pyx12_document.x12n_document(pyx12_params.params(), io.StringIO(data.decode()), None, None)
        )
    except pyx12_errors.EngineError as exc:  # "Map not found": pyx12 4.0.0
        missing = "Map not found" in str(exc)
        valid_5010 = missing
    valid_4010 = pyx12_document.x12n_document(pyx12_params.params(), io.StringIO(_as_4010(data)), None, None)
    return valid_5010 and bool(valid_4010)


def test_harness_accepts_the_sample_271_and_flags_broken_ones():
    data = (samples_dir() / f"{SAMPLE}.271").read_bytes()
    # the sample's EB03 repeats service types ("1^33^35..."), which 4010 had no repetition separator for
    single = re.sub(rb"EB\*([1B])\*\*[0-9A-Z^]+", rb"EB*\1**30", data)
    assert pyx12_valid(single)
    assert not pyx12_valid(single.replace(b"EB*1**30", b"EB*Z**30"))
    assert not pyx12_valid(single.replace(b"HL*3*2*22*0", b"HL*3*2*99*0"))
    assert not pyx12_valid(single.replace(b"TRN*2*93175-012547", b"TRN*9*93175-012547"))


# -- building 270s -----------------------------------------------------------------------------------


def build_270(
    *subscribers: list[Seg],
    bht: Seg | None = None,
    delimiters: Delimiters | None = None,
    transactions: int = 1,
) -> bytes:
    """A 270 with one source (HL 1) and receiver (HL 2); each subscriber's segments are written as given,
    after an HL*n*2*22*0 unless its first segment is an HL. "{R}" in an element is the repetition
    separator (the writer itself refuses delimiters in data)."""
    out = io.BytesIO()
    w = X12Writer(out, delimiters, newline=True)
    w.start_interchange("ZZ", "CLINIC", "ZZ", "IPA", control_number=7, usage="T")
    w.start_group("HS", "CLINIC", "IPA", control_number=7, version="005010X279A1")
    for t in range(1, transactions + 1):
        w.start_transaction("270", f"{t:04d}", "005010X279A1")
        w.segment(*(bht or ("BHT", "0022", "13", "REF-1", "20260310", "0915")))
        w.segment("HL", "1", "", "20", "1")
        w.segment("NM1", "PR", "2", "SUNRISE HEALTH PLAN", "", "", "", "", "PI", "SUN01")
        w.segment("HL", "2", "1", "21", "1")
        w.segment("NM1", "1P", "2", "ALDER FAMILY MEDICINE", "", "", "", "", "XX", "1234567893")
        for number, segs in enumerate(subscribers, start=3):
            if segs and segs[0][0] != "HL":
                w.segment("HL", str(number), "2", "22", "0")
            for seg in segs:
                w.segment(*seg)
        w.end_transaction()
    w.end_group()
    w.end_interchange()
    return out.getvalue().replace(b"{R}", (w.delimiters.repetition or "^").encode())


def recount(data: bytes) -> bytes:
    """The file with SE01 set to the segments now between ST and SE (after a test removed or added some)."""
    lines = data.split(b"~\n")
    start = 0
    for i, line in enumerate(lines):
        if line.startswith(b"ST*"):
            start = i
        elif line.startswith(b"SE*"):
            parts = line.split(b"*")
            parts[1] = str(i - start + 1).encode()
            lines[i] = b"*".join(parts)
    return b"~\n".join(lines)


def subscriber(
    member_id: str = "SUN0001",
    *,
    name: Seg | None = None,
    dmg: Seg | None = ("DMG", "D8", "19500304", "F"),
    dtp: Seg | None = ("DTP", "291", "D8", "20260315"),
    eq: Seg | None = ("EQ", "30"),
    trn: Seg | None = ("TRN", "1", "TRACE-1", "9123456789"),
) -> list[Seg]:
    segs: list[Seg] = []
    if trn is not None:
        segs.append(trn)
    segs.append(name or ("NM1", "IL", "1", "ANDERS", "AMY", "", "", "", "MI", member_id))
    segs += [s for s in (dmg, dtp, eq) if s is not None]
    return segs


def inquiries(data: bytes) -> list[Inquiry]:
    return list(read_270(data))


def error(data: bytes) -> X12Error:
    with pytest.raises(X12Error) as info:
        list(read_270(data))
    return info.value


def segment_number(data: bytes, text: str) -> int:
    """1-based number of the first segment starting with ``text``."""
    for seg in iter_segments(data):
        if "*".join(seg.elements).startswith(text):
            return seg.number
    raise AssertionError(text)


def active(**changes: object) -> Eligibility:
    values: dict[str, object] = {
        "member_id": "SUN0001",
        "last_name": "Anders",
        "first_name": "Amy",
        "birth_date": dt.date(1950, 3, 4),
        "sex": "F",
        "active": True,
        "plan_name": "Sunrise Medicare HMO",
        "plan_begin": dt.date(2026, 1, 1),
        "plan_end": None,
        "pcp": PCP,
    }
    values.update(changes)
    return Eligibility(**values)  # type: ignore[arg-type]


def segments_of(data: bytes) -> list[str]:
    return [s.strip() for s in data.decode("latin-1").split("~") if s.strip()]


# -- the shared sample -------------------------------------------------------------------------------


def test_sample_270_parses():
    (inquiry,) = read_270(samples_dir() / f"{SAMPLE}.270")
    tx = inquiry.transaction
    assert (tx.control_number, tx.purpose_code, tx.reference, tx.created) == (
        "1234",
        "13",
        "10001234",
        dt.date(2006, 5, 1),
    )
    assert (inquiry.source.entity_code, inquiry.source.name, inquiry.payer_id) == (
        "PR",
        "ABC COMPANY",
        "842610001",
    )
    assert (inquiry.receiver.entity_code, inquiry.receiver.name, inquiry.receiver.id_qualifier) == (
        "1P",
        "BONE AND JOINT CLINIC",
        "SV",
    )
    sub = inquiry.subscriber
    assert (sub.last_name, sub.first_name, sub.id_qualifier, sub.member_id) == (
        "SMITH",
        "ROBERT",
        "MI",
        "11122333301",
    )
    assert sub.birth_date == dt.date(1943, 5, 19)
    assert [(t.type_code, t.number, t.originator) for t in inquiry.traces] == [
        ("1", "93175-012547", "9877281234")
    ]
    assert (inquiry.date, inquiry.date_end, inquiry.date_given) == (dt.date(2006, 5, 1), None, True)
    assert inquiry.service_types == ("30",)
    assert inquiry.dependent is None
    assert inquiry.segment_number == 9  # the subscriber's HL


def test_sample_271_for_the_sample_270():
    (inquiry,) = read_270(samples_dir() / f"{SAMPLE}.270")
    answer = Eligibility(
        "11122333301", "SMITH", "ROBERT", dt.date(1943, 5, 19), "M", True, "GOLD 123 PLAN", dt.date(2006, 1, 1),
        dt.date(2006, 12, 31), Provider("1234567893", "JONES", "MARCUS"),
    )  # fmt: skip
    data = build_271([(inquiry, answer)], when=WHEN)
    segs = segments_of(data)
    assert segs[0].startswith(
        "ISA*00*          *00*          *30*12345          *30*000000005      *260501*1230*"
    )
    assert segs[1] == "GS*HB*54321*000000005*20260501*1230*1*X*005010X279A1"
    assert segs[2:] == [
        "ST*271*0001*005010X279A1",
        "BHT*0022*11*10001234*20260501*1230",
        "HL*1**20*1",
        "NM1*PR*2*ABC COMPANY*****PI*842610001",
        "HL*2*1*21*1",
        "NM1*1P*2*BONE AND JOINT CLINIC*****SV*2000035",
        "HL*3*2*22*0",
        "TRN*2*93175-012547*9877281234",
        "NM1*IL*1*SMITH*ROBERT****MI*11122333301",
        "DMG*D8*19430519*M",
        "DTP*346*D8*20060101",
        "DTP*347*D8*20061231",
        "EB*1*IND*30**GOLD 123 PLAN",
        "EB*L",
        "LS*2120",
        "NM1*P3*1*JONES*MARCUS****XX*1234567893",
        "LE*2120",
        "SE*18*0001",
        "GE*1*1",
        "IEA*1*000000001",
    ]
    assert pyx12_valid(data)


# -- 271 answers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (active(), ["DMG*D8*19500304*F", "DTP*346*D8*20260101", "EB*1*IND*30**Sunrise Medicare HMO", "EB*L",
                    "LS*2120", "NM1*P3*1*ALDER*ADA****XX*1234567893", "LE*2120"]),
        (active(pcp=None, plan_end=dt.date(2026, 6, 30)),
         ["DMG*D8*19500304*F", "DTP*346*D8*20260101", "DTP*347*D8*20260630", "EB*1*IND*30**Sunrise Medicare HMO"]),
        (active(active=False, plan_name="", plan_begin=None, pcp=None), ["DMG*D8*19500304*F", "EB*6**30"]),
        (Rejection("75"), ["AAA*Y**75*C", "DMG*D8*19500304"]),
    ],
    ids=["active-with-pcp", "active-ended-span", "inactive", "not-found"],
)  # fmt: skip
def test_271_answers_validate(answer, expected):
    (inquiry,) = inquiries(build_270(subscriber()))
    data = build_271([(inquiry, answer)], when=WHEN)
    segs = segments_of(data)
    start = segs.index("TRN*2*TRACE-1*9123456789")
    assert segs[start + 1].startswith("NM1*IL*1*")
    assert segs[start + 2 : -3] == expected
    assert pyx12_valid(data)
    # what we write, we read back with the envelope checks on
    assert [t.set_id for t in EnvelopeReader(data).transactions()] == ["271"]


def test_271_corrected_name_is_flagged_with_ins():
    (inquiry,) = inquiries(
        build_270(subscriber(name=("NM1", "IL", "1", "ANDRES", "AMY", "", "", "", "MI", "SUN0001")))
    )
    data = build_271([(inquiry, active())])
    segs = segments_of(data)
    assert "NM1*IL*1*Anders*Amy****MI*SUN0001" in segs
    assert segs[segs.index("DMG*D8*19500304*F") + 1] == "INS*Y*18*001*25"
    assert pyx12_valid(data)


def test_271_for_many_subscribers_and_transactions_mirrors_the_hierarchy():
    one = build_270(subscriber("SUN0001"), subscriber("SUN0002", trn=("TRN", "1", "T2", "9123456789")))
    pairs = [(i, Rejection("75")) for i in inquiries(one)]
    data = build_271(pairs)
    hls = [s for s in segments_of(data) if s.startswith("HL*")]
    assert hls == ["HL*1**20*1", "HL*2*1*21*1", "HL*3*2*22*0", "HL*4*2*22*0"]
    assert pyx12_valid(data)
    # two 270 transaction sets give two 271 transaction sets
    pairs = [(i, Rejection("75")) for i in inquiries(build_270(subscriber(), subscriber(), transactions=2))]
    assert len(pairs) == 4
    data = build_271(pairs)
    assert [t.control_number for t in EnvelopeReader(data).transactions()] == ["0001", "0002"]
    assert pyx12_valid(data)


def test_271_for_a_dependent():
    data270 = build_270(
        [
            ("HL", "3", "2", "22", "1"),
            ("NM1", "IL", "1", "ANDERS", "AMY", "", "", "", "MI", "SUN0001"),
            ("HL", "4", "3", "23", "0"),
            ("TRN", "1", "DEP-1", "9123456789"),
            ("NM1", "03", "1", "ANDERS", "ALEX"),
            ("DMG", "D8", "20150607", "M"),
            ("DTP", "291", "RD8", "20260301-20260331"),
            ("EQ", "30"),
        ]
    )
    (inquiry,) = inquiries(data270)
    assert inquiry.dependent is not None
    assert (inquiry.patient.first_name, inquiry.member_id) == ("ALEX", "SUN0001")
    assert (inquiry.date, inquiry.date_end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    answer = precheck(inquiry)
    assert answer == Rejection("67")
    data = build_271([(inquiry, answer)])
    segs = segments_of(data)
    assert segs[segs.index("HL*3*2*22*1") : -3] == [
        "HL*3*2*22*1",
        "NM1*IL*1*ANDERS*AMY****MI*SUN0001",
        "HL*4*3*23*0",
        "TRN*2*DEP-1*9123456789",
        "NM1*03*1*ANDERS*ALEX",
        "AAA*Y**67*C",
        "DMG*D8*20150607",
    ]
    assert pyx12_valid(data)


def test_271_text_is_made_safe():
    (inquiry,) = inquiries(build_270(subscriber()))
    answer = active(last_name="Nguyễn*~", first_name="Zoë:^", plan_name="Plan " + "x" * 80)
    data = build_271([(inquiry, answer)])
    segs = segments_of(data)
    assert "NM1*IL*1*Nguyen*Zoe****MI*SUN0001" in segs
    assert f"EB*1*IND*30**Plan {'x' * 45}" in segs
    assert pyx12_valid(data)


def test_build_271_needs_an_inquiry():
    with pytest.raises(ValueError, match="no inquiry"):
        build_271([])


def test_precheck_and_screen():
    (inquiry,) = inquiries(build_270(subscriber()))
    assert precheck(inquiry) is None
    (no_id,) = inquiries(build_270(subscriber(name=("NM1", "IL", "1", "ANDERS", "AMY"))))
    assert precheck(no_id) == Rejection("72")
    assert screen(inquiry, active()) == active()
    assert screen(inquiry, active(birth_date=dt.date(1950, 3, 5))) == Rejection("71")
    (no_dob,) = inquiries(build_270(subscriber(dmg=None, dtp=("DTP", "291", "D8", "19400101"))))
    assert screen(no_dob, active()) == Rejection("56")
    assert screen(inquiry, Rejection("75")) == Rejection("75")
    for code in ("56", "71", "72", "76"):
        assert pyx12_valid(build_271([(inquiry, Rejection(code))]))


# -- reading 270s ------------------------------------------------------------------------------------


def test_date_defaults_to_the_transaction_date_and_eq_repeats():
    (inquiry,) = inquiries(build_270(subscriber(dtp=None, eq=("EQ", "30{R}1{R}33"))))
    assert (inquiry.date, inquiry.date_given) == (dt.date(2026, 3, 10), False)
    assert inquiry.service_types == ("30", "1", "33")


def test_service_level_date_and_procedure():
    segs: list[Any] = [
        *subscriber(dtp=None, eq=None),
        ("EQ", "", ("HC", "99213")),
        ("DTP", "291", "D8", "20260401"),
    ]
    (inquiry,) = inquiries(build_270(segs))
    assert (inquiry.service_types, inquiry.procedures, inquiry.date) == (
        (),
        ("HC:99213",),
        dt.date(2026, 4, 1),
    )


def test_other_delimiters_and_other_transaction_sets():
    data = build_270(subscriber(eq=("EQ", "30{R}1")), delimiters=Delimiters("|", ":", "!", "\n"))
    (inquiry,) = inquiries(data)
    assert inquiry.service_types == ("30", "1")
    reply = build_271([(inquiry, active())])
    assert b"EB|1|IND|30||Sunrise Medicare HMO\n" in reply


def test_inquiries_are_streamed_one_subscriber_at_a_time():
    data = build_270(*(subscriber(f"SUN{i:04d}") for i in range(50)))
    reader = read_270(data)
    first = next(reader)
    assert first.member_id == "SUN0000"
    assert sum(1 for _ in reader) == 49


@pytest.mark.parametrize(
    ("change", "at", "element", "message"),
    [
        ({"dtp": ("DTP", "291", "D8", "20261301")}, "DTP*291", 3, "is not a CCYYMMDD date"),
        ({"dtp": ("DTP", "291", "D8", "2026031")}, "DTP*291", 3, "is not a CCYYMMDD date"),
        ({"dtp": ("DTP", "291", "RD8", "20260331-20260301")}, "DTP*291", 3, "ends before it starts"),
        ({"dtp": ("DTP", "291", "RD8", "20260301")}, "DTP*291", 3, "CCYYMMDD-CCYYMMDD"),
        ({"dtp": ("DTP", "291", "DT", "20260301")}, "DTP*291", 2, "is not D8 or RD8"),
        ({"dtp": ("DTP", "472", "D8", "20260301")}, "DTP*472", 1, "is not 291"),
        ({"dmg": ("DMG", "D8", "19500230", "F")}, "DMG", 2, "is not a CCYYMMDD date"),
        ({"dmg": ("DMG", "D6", "500304")}, "DMG", 1, "is not D8"),
        ({"dmg": ("DMG", "D8", "19500304", "X")}, "DMG", 3, "is not F, M or U"),
        ({"trn": ("TRN", "2", "T", "9123456789")}, "TRN", 1, "trace type '2'"),
        ({"trn": ("TRN", "1", "", "9123456789")}, "TRN", 2, "trace number"),
        ({"eq": ("EQ", "300")}, "EQ", 1, "service type code '300'"),
        ({"eq": ("EQ", "")}, "EQ", 1, "neither a service type"),
        ({"name": ("NM1", "1P", "1", "X")}, "NM1*1P*1*X", 1, "must be NM1*IL"),
        ({"name": ("NM1", "IL", "1", "ANDERS", "", "", "", "", "ZZ", "1")}, "NM1*IL", 8, "not MI or II"),
        ({"name": ("NM1", "IL", "1")}, "NM1*IL", 3, "neither a last name"),
    ],
)
def test_bad_content_is_an_error_at_the_segment_and_element(change, at, element, message):
    data = build_270(subscriber(**change))
    exc = error(data)
    assert (exc.segment_number, exc.element) == (segment_number(data, at), element), str(exc)
    assert message in exc.message


def test_missing_nm1_il_is_reported_at_the_subscriber_hl():
    data = build_270([("TRN", "1", "T", "9123456789"), ("DMG", "D8", "19500304"), ("EQ", "30")])
    exc = error(data)
    assert (exc.segment_number, exc.segment_id) == (segment_number(data, "HL*3"), "HL")
    assert "no NM1*IL (loop 2100C) before segment" in exc.message


def test_missing_eq_is_reported_at_the_subscriber_hl():
    data = build_270(subscriber(eq=None))
    exc = error(data)
    assert (exc.segment_number, exc.segment_id) == (segment_number(data, "HL*3"), "HL")
    assert "no EQ" in exc.message


@pytest.mark.parametrize(
    ("segs", "at", "element", "message"),
    [
        ([("HL", "3", "9", "22", "0")], "HL*3", 2, "is not the id of an information receiver"),
        ([("HL", "3", "1", "22", "0")], "HL*3", 2, "is not the id of an information receiver"),
        ([("HL", "3", "2", "24", "0")], "HL*3", 3, "is not 20, 21, 22 or 23"),
        ([("HL", "2", "2", "22", "0")], "HL*2*2", 1, "used twice"),
        ([("HL", "3", "2", "22", "7")], "HL*3", 4, "child code"),
        ([("HL", "", "2", "22", "0")], "HL**2", 1, "HL01"),
        ([("HL", "3", "2", "23", "0")], "HL*3", 2, "is not the id of an subscriber"),
    ],
)
def test_bad_hierarchy(segs, at, element, message):
    data = build_270([*segs, *subscriber()])
    exc = error(data)
    assert (exc.segment_number, exc.element) == (segment_number(data, at), element), str(exc)
    assert message in exc.message


def test_hl_out_of_order():
    data = build_270(
        [
            ("HL", "3", "2", "22", "1"),
            ("NM1", "IL", "1", "ANDERS", "AMY", "", "", "", "MI", "SUN0001"),
            ("HL", "4", "3", "23", "0"),
            ("NM1", "03", "1", "ANDERS", "ALEX"),
            ("EQ", "30"),
            ("HL", "5", "2", "22", "0"),
            *subscriber(),
            ("HL", "6", "3", "23", "0"),
            ("NM1", "03", "1", "ANDERS", "ANN"),
            ("EQ", "30"),
        ]
    )
    exc = error(data)
    assert (exc.segment_number, exc.element) == (segment_number(data, "HL*6"), 2)
    assert "out of order" in exc.message


def test_subscriber_announcing_dependents_that_never_come():
    data = build_270([("HL", "3", "2", "22", "1"), *subscriber()], subscriber())
    exc = error(data)
    assert (exc.segment_number, exc.element) == (segment_number(data, "HL*3"), 4)
    assert "none follows" in exc.message


@pytest.mark.parametrize(
    ("bht", "element", "message"),
    [
        (("BHT", "0022", "13", "R", "20260230", "0915"), 4, "is not a CCYYMMDD date"),
        (("BHT", "0019", "13", "R", "20260310", "0915"), 1, "is not 0022"),
        (("BHT", "0022", "11", "R", "20260310", "0915"), 2, "is not 13"),
    ],
)
def test_bad_bht(bht, element, message):
    data = build_270(subscriber(), bht=bht)
    exc = error(data)
    assert (exc.segment_id, exc.element) == ("BHT", element)
    assert message in exc.message


def test_missing_bht_and_segments_before_the_first_hl():
    data = build_270(subscriber(), bht=("REF", "EJ", "1"))
    exc = error(data)
    assert (exc.segment_id, exc.segment_number) == ("REF", 4)
    assert "before the BHT" in exc.message
    text = recount(build_270(subscriber()).replace(b"HL*1**20*1", b"REF*EJ*1~\nHL*1**20*1", 1))
    exc = error(text)
    assert (exc.segment_id, exc.segment_number) == ("REF", 5)
    assert "before the first HL" in exc.message


def test_bad_source_and_receiver():
    data = build_270(subscriber()).replace(b"XX*1234567893", b"XX*1234567890")
    exc = error(data)
    assert (exc.segment_id, exc.element) == ("NM1", 9)
    assert "not a valid NPI" in exc.message
    data = build_270(subscriber()).replace(b"*PI*SUN01", b"")
    exc = error(data)
    assert (exc.segment_id, exc.element) == ("NM1", 9)
    no_source_name = recount(
        build_270(subscriber()).replace(b"NM1*PR*2*SUNRISE HEALTH PLAN*****PI*SUN01~\n", b"")
    )
    exc = error(no_source_name)
    assert (exc.segment_id, exc.segment_number) == ("HL", 5)
    assert "information source has no NM1 (loop 2100A)" in exc.message


def test_envelope_errors_still_raise():
    data = build_270(subscriber()).replace(b"SE*13*", b"SE*12*")
    exc = error(data)
    assert exc.segment_id == "SE"
    assert "segment count 12 does not match 13 segments" in exc.message


def test_a_270_without_hl_loops():
    data = build_270()
    data = recount(re.sub(rb"HL\*1.*?~\n.*?~\nHL\*2.*?~\n.*?~\n", b"", data, flags=re.S))
    exc = error(data)
    assert exc.segment_id == "SE"
    assert "no HL loops" in exc.message


# -- mutated 270s only raise X12Error ----------------------------------------------------------------

VALID = build_270(
    subscriber(),
    [
        ("HL", "4", "2", "22", "1"),
        ("NM1", "IL", "1", "BROOKS", "BERT", "", "", "", "MI", "SUN0002"),
        ("HL", "5", "4", "23", "0"),
        ("TRN", "1", "DEP-1", "9123456789"),
        ("NM1", "03", "1", "BROOKS", "BO"),
        ("DTP", "291", "RD8", "20260301-20260331"),
        ("EQ", "30{R}1"),
    ],
)

mutation = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]),
    st.integers(min_value=0, max_value=len(VALID) - 1),
    st.binary(min_size=1, max_size=8)
    | st.sampled_from([b"*", b"~", b"^", b"X", b"0", b"D8", b"RD8", b"HL*9*2*22*0~", b"HL*9*9*23*1~"]),
)


def test_valid_fixture_reads():
    first, second = inquiries(VALID)
    assert (first.member_id, second.member_id, second.patient.first_name) == ("SUN0001", "SUN0002", "BO")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_270_raise_only_x12error(ops):
    caught: list[X12Error] = []
    read: list[Inquiry] = []
    try:
        read = inquiries(mutate(VALID, ops))
    except X12Error as exc:
        caught.append(exc)
    assert all(str(exc) and exc.message for exc in caught)
    if read:  # whatever reads, the 271 writer can answer
        build_271([(i, Rejection("75")) for i in read])


def test_271_eligibility_for_a_dependent_carries_no_member_id():
    data270 = build_270(
        [
            ("HL", "3", "2", "22", "1"),
            ("NM1", "IL", "1", "ANDERS", "AMY", "", "", "", "MI", "SUN0001"),
            ("HL", "4", "3", "23", "0"),
            ("NM1", "03", "1", "ANDERS", "ALEX"),
            ("EQ", "30"),
        ]
    )
    (inquiry,) = inquiries(data270)
    data = build_271(
        [(inquiry, active(member_id="SUN0009", last_name="Anders", first_name="Alex", pcp=None))]
    )
    segs = segments_of(data)
    assert "NM1*03*1*Anders*Alex" in segs
    assert not any(s.startswith("INS") for s in segs)
    assert pyx12_valid(data)


def test_271_answers_a_270_whose_group_ids_hold_a_delimiter():
    """A GS sender id holding the repetition separator (found by the mutation test) reads; the 271 sends it back
    without the separator instead of failing."""
    data = VALID.replace(b"GS*HS*CLINIC*IPA*", b"GS*HS*^LINIC*IPA*", 1)
    read = inquiries(data)
    assert read
    reply = build_271([(i, Rejection("75")) for i in read]).decode()
    assert "GS*HB*IPA*LINIC*" in reply
