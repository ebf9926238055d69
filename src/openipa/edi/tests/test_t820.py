"""820 capitation remittance: the hand-written fixture, exact amounts, hostile files, write_820 checked by pyx12
and read back (hypothesis)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.edi.amounts import AmountError, format_cents, parse_cents
from openipa.edi.t820 import (
    CURRENT_PAYMENT_REASONS,
    ENT_ID_QUALIFIERS,
    LINE_REFERENCE_QUALIFIERS,
    PREVIOUS_PAYMENT_REASONS,
    RMR_QUALIFIERS,
    Adjustment,
    EftAccounts,
    MemberRemittance,
    Remittance820,
    RemittanceLine,
    read_820,
    write_820,
)
from openipa.edi.tests.helpers import mutate
from openipa.edi.x12 import Delimiters, X12Error, X12Writer

DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "820_capitation.x12"
JAN = (dt.date(2024, 1, 1), dt.date(2024, 1, 31))

Seg = tuple[str, ...]

HEADER: list[Seg] = [
    ("BPR", "I", "100", "C", "CHK", "", "", "", "", "", "1987654321", "", "", "", "", "", "20240110"),
    ("TRN", "1", "CAP2401", "1987654321"),
    ("DTM", "582", "", "", "", "RD8", "20240101-20240131"),
    ("N1", "PE", "SUNRISE IPA", "FI", "123456789"),
    ("N1", "PR", "GOOD HEALTH PLAN", "PI", "00123"),
]


def member(n: int = 1, *, name: Seg | None = None, body: list[Seg] | None = None) -> list[Seg]:
    segs: list[Seg] = [("ENT", str(n), "2J", "EI", f"M{n:05d}")]
    segs.append(name or ("NM1", "IL", "1", "DOE", "JANE", "", "", "", "N", f"M{n:05d}"))
    segs += (
        body
        if body is not None
        else [("RMR", "IK", f"CAP-{n}", "", "100"), ("DTM", "582", "", "", "", "RD8", "20240101-20240131")]
    )
    return segs


def build(*members: list[Seg], header: list[Seg] | None = None, sets: int = 1) -> bytes:
    out = io.BytesIO()
    w = X12Writer(out, newline=True)
    w.start_interchange("ZZ", "PLAN", "ZZ", "IPA", control_number=1)
    w.start_group("RA", "PLAN", "IPA", control_number=1, version="005010X218")
    for number in range(1, sets + 1):
        w.start_transaction("820", f"{number:04d}", "005010X218")
        for seg in HEADER if header is None else header:
            w.segment(*seg)
        for m in members:
            for seg in m:
                w.segment(*seg)
        w.end_transaction()
    w.end_group()
    w.end_interchange()
    return out.getvalue()


def records(data: bytes) -> tuple[Remittance820, list[MemberRemittance]]:
    out = list(read_820(data))
    head = out[0]
    assert isinstance(head, Remittance820)
    members = [r for r in out[1:] if isinstance(r, MemberRemittance)]
    assert len(members) == len(out) - 1
    return head, members


def error(data: bytes) -> X12Error:
    with pytest.raises(X12Error) as info:
        list(read_820(data, filename="in.820"))
    return info.value


def located(data: bytes, seg_id: str | None, element: int | None) -> X12Error:
    """The error reading ``data``, checked to point at a ``seg_id`` segment (and ``element``) in the file."""
    exc = error(data)
    assert exc.segment_id == seg_id, str(exc)
    assert exc.element == element, str(exc)
    assert exc.segment_number is not None
    assert exc.byte_offset is not None
    if seg_id:
        assert data[exc.byte_offset :].startswith(seg_id.encode())
    assert exc.message
    assert exc.filename == "in.820"
    return exc


# -- the hand-written fixture -------------------------------------------------------------------------


def test_fixture_reads_exactly() -> None:
    out = list(read_820(FIXTURE))
    assert out[0] == Remittance820(
        control_number="0001",
        version="005010X218",
        handling_code="I",
        total_cents=30275,
        credit_debit="C",
        payment_method="ACH",
        payment_date=dt.date(2024, 1, 10),
        trace_number="CAP2401A",
        originator_id="1987654321",
        payer_name="GOOD HEALTH PLAN",
        payer_id="00123",
        payee_name="SUNRISE IPA",
        payee_id_qualifier="FI",
        payee_id="123456789",
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2024, 1, 31),
        created=dt.date(2024, 1, 5),
        segment_number=3,
        payer_id_qualifier="PI",
    )
    head, (jane, richard, ed) = records(FIXTURE.read_bytes())
    assert head == out[0]
    assert jane == MemberRemittance(
        "0001", 1, "M10001", "DOE", "JANE", "",
        (RemittanceLine("IK", "CAP-2024-01-M10001", 15225, 15225, *JAN, (("ZZ", "RC-F40-64"),)),),
        (), segment_number=10, ent_id_qualifier="EI", ent_id="M10001",
    )  # fmt: skip
    assert richard.lines == (
        RemittanceLine(
            "IK", "CAP-2024-01-M10002", 13000, 13000, *JAN, (("18", "HMO-GOLD"), ("ZZ", "RC-M65-74"))
        ),
        RemittanceLine("IK", "CAP-2023-12-M10002", 6500, None, dt.date(2023, 12, 1), dt.date(2023, 12, 31)),
    )
    assert richard.adjustments == (
        Adjustment(-4550, "52", line_index=None),
        Adjustment(-500, "IA", line_index=1),
    )
    assert [a.segment_number for a in richard.adjustments] == [17, 24]
    assert [line.segment_number for line in richard.lines] == [18, 22]
    assert ed.lines == (RemittanceLine("IK", "CAP-2024-01-M10003", 600, None, dt.date(2024, 1, 1), None),)
    # the member loops add up to the payment, to the cent
    assert [m.paid_cents for m in (jane, richard, ed)] == [15225, 14450, 600]
    assert sum(m.paid_cents for m in (jane, richard, ed)) == head.total_cents


def test_fixture_is_valid_for_pyx12(caplog: pytest.LogCaptureFixture) -> None:
    """The harness itself: the hand-written fixture passes, and pyx12 does flag a broken copy of it."""
    data = FIXTURE.read_bytes()
    assert pyx12_errors(data, caplog) == []
    assert pyx12_errors(data.replace(b"ENT*2*2J", b"ENT*2*XX"), caplog)


def test_several_sets_and_other_sets_skipped() -> None:
    data = build(member(1), member(2), sets=2)
    out = list(read_820(data))
    assert [type(r).__name__ for r in out] == ["Remittance820", "MemberRemittance", "MemberRemittance"] * 2
    assert [r.control_number for r in out] == ["0001"] * 3 + ["0002"] * 3
    other = data.replace(b"ST*820*0002", b"ST*834*0002")
    assert [r.control_number for r in read_820(other)] == ["0001"] * 3


def test_header_only_set_and_organization_loops() -> None:
    head, members = records(build())
    assert head.total_cents == 10000
    assert members == []
    organization = [
        ("ENT", "1", "2L", "FI", "123456789"),
        ("RMR", "IK", "GROUP-INVOICE", "", "55"),
        ("ADX", "-5", "IA"),
    ]
    _head, members = records(build(organization, member(2)))
    assert [m.ent_number for m in members] == [2]


def test_member_id_falls_back_to_ent04_and_subscriber_ref() -> None:
    name = ("NM1", "IL", "1", "DOE", "JANE")
    body: list[Seg] = [("REF", "0F", "S0001"), ("RMR", "IK", "X", "", "1.5", "2")]
    (m,) = records(build(member(7, name=name, body=body)))[1]
    assert (m.member_id, m.subscriber_id, m.lines[0].paid_cents, m.lines[0].billed_cents) == (
        "M00007",
        "S0001",
        150,
        200,
    )
    assert (m.lines[0].coverage_start, m.lines[0].coverage_end) == (None, None)


def test_a_short_ent_reads_with_empty_ids() -> None:
    # ENT*1*2J with no ENT03/ENT04: the member's id comes from NM109 and the ENT ids are empty (found by fuzzing)
    segs = member(3)
    segs[0] = ("ENT", "3", "2J")
    (m,) = records(build(segs))[1]
    assert (m.member_id, m.ent_id_qualifier, m.ent_id) == ("M00003", "", "")


def test_coverage_date_forms() -> None:
    body: list[Seg] = [
        ("RMR", "IK", "A", "", "1"),
        ("DTM", "582", "", "", "", "D8", "20240301"),
        ("RMR", "IK", "B", "", "1"),
        ("DTM", "AAG", "20240401"),
    ]
    (m,) = records(build(member(body=body)))[1]
    assert [(line.coverage_start, line.coverage_end) for line in m.lines] == [
        (dt.date(2024, 3, 1), None),
        (dt.date(2024, 4, 1), None),
    ]


# -- content errors, each at its segment and element --------------------------------------------------


@pytest.mark.parametrize(
    ("body", "seg_id", "element", "words"),
    [
        ([("RMR", "IK", "A")], "RMR", 4, "RMR04"),
        ([("RMR", "IK", "A", "", "12.345")], "RMR", 4, "two decimal places"),
        ([("RMR", "IK", "A", "", "1e3")], "RMR", 4, "exponent"),
        ([("RMR", "IK", "A", "", "abc")], "RMR", 4, "not a decimal amount"),
        ([("RMR", "IK", "A", "", "1", "+2")], "RMR", 5, "plus sign"),
        ([("RMR", "IK", "A", "", "1", " 2")], "RMR", 5, "spaces"),
        ([("ADX", "1.0.0", "52")], "ADX", 1, "not a decimal amount"),
        ([("ADX", "", "52")], "ADX", 1, "missing"),
        ([("ADX", "-5")], "ADX", 2, "reason"),
        (
            [("RMR", "IK", "A", "", "1"), ("DTM", "582", "", "", "", "RD8", "20240101-20240132")],
            "DTM",
            6,
            "date range",
        ),
        (
            [("RMR", "IK", "A", "", "1"), ("DTM", "582", "", "", "", "RD8", "20240131-20240101")],
            "DTM",
            6,
            "ends before",
        ),
        ([("RMR", "IK", "A", "", "1"), ("DTM", "582", "", "", "", "D8", "2024-01-01")], "DTM", 6, "CCYYMMDD"),
        ([("RMR", "IK", "A", "", "1"), ("DTM", "582", "20240230")], "DTM", 2, "CCYYMMDD"),
        (
            [("RMR", "IK", "A", "", "1"), ("DTM", "582", "", "", "", "DT", "202401011200")],
            "DTM",
            5,
            "D8 or RD8",
        ),
        (
            [("DTM", "582", "20240101"), ("RMR", "IK", "A", "", "1")],
            "DTM",
            None,
            "before the member's first RMR",
        ),
        (
            [("RMR", "IK", "A", "", "1"), ("DTM", "582", "20240101"), ("DTM", "582", "20240201")],
            "DTM",
            None,
            "second",
        ),
        ([("RMR", "IK", "A", "", "1"), ("NM1", "IL", "1", "DOE")], "NM1", None, "2100B comes before"),
        ([("NM1", "IL", "1", "DOE")], "NM1", None, "second NM1*IL"),
        ([("RMR", "IK", "A", "", "1"), ("N1", "PE", "X")], "N1", None, "header segments"),
        ([("TRN", "1", "X", "Y")], "TRN", None, "after the first ENT"),
    ],
)
def test_member_content_errors(body: list[Seg], seg_id: str, element: int | None, words: str) -> None:
    exc = located(build(member(body=body)), seg_id, element)
    assert words in exc.message


def test_member_without_nm1_il_is_reported_at_its_ent() -> None:
    data = build(member(1), [("ENT", "2", "2J", "EI", "M2"), ("RMR", "IK", "A", "", "1")], member(3))
    exc = located(data, "ENT", None)
    assert exc.segment_number == 3 + len(HEADER) + 4 + 1  # ISA GS ST, header, member 1, then ENT 2
    assert "NM1*IL" in exc.message
    located(build([("ENT", "1", "2J", "EI", "M1")]), "ENT", None)  # reported when the SE closes the set


@pytest.mark.parametrize(
    ("header", "seg_id", "element", "words"),
    [
        ([seg for seg in HEADER if seg[0] != "BPR"], "TRN", None, "must start with BPR"),
        ([seg for seg in HEADER if seg[0] != "TRN"], "ENT", None, "no TRN"),
        ([HEADER[0], ("TRN", "1", "", "X"), *HEADER[2:]], "TRN", 2, "TRN02"),
        ([("BPR", "I", "12.345", "C", "CHK"), *HEADER[1:]], "BPR", 2, "two decimal places"),
        ([("BPR", "I", "", "C", "CHK"), *HEADER[1:]], "BPR", 2, "missing"),
        ([(*HEADER[0][:-1], "20240132"), *HEADER[1:]], "BPR", 16, "CCYYMMDD"),
        ([*HEADER, ("DTM", "097", "2024015")], "DTM", 2, "CCYYMMDD"),
        ([*HEADER, ("DTM", "582", "", "", "", "RD8", "20240101")], "DTM", 6, "range"),
        ([*HEADER, HEADER[0]], "BPR", None, "second BPR"),
        ([*HEADER, HEADER[1]], "TRN", None, "second TRN"),
        ([*HEADER, ("RMR", "IK", "A", "", "1")], "RMR", None, "before the first ENT"),
    ],
)
def test_header_errors(header: list[Seg], seg_id: str, element: int | None, words: str) -> None:
    exc = located(build(member(1), header=header), seg_id, element)
    assert words in exc.message


@pytest.mark.parametrize(
    ("ent", "element", "words"),
    [
        (("ENT", "1", "ZZ", "EI", "M1"), 2, "neither 2J"),
        (("ENT", "", "2J", "EI", "M1"), 1, "ENT01"),
        (("ENT", "1A", "2J", "EI", "M1"), 1, "ENT01"),
    ],
)
def test_ent_errors(ent: Seg, element: int, words: str) -> None:
    exc = located(build([ent, *member(1)[1:]]), "ENT", element)
    assert words in exc.message


# -- hostile files: a clean X12Error at the right segment, never another exception ----------------------

VALID = build(
    member(1),
    member(
        2,
        body=[
            ("ADX", "-1", "52"),
            ("RMR", "IK", "A", "", "1", "1"),
            ("REF", "ZZ", "RC"),
            ("DTM", "582", "", "", "", "RD8", "20240101-20240131"),
            ("ADX", "-0.5", "IA"),
        ],
    ),
)


def test_wrong_isa_length() -> None:
    data = VALID.replace(b"*ZZ*PLAN           *", b"*ZZ*PLAN          *", 1)
    exc = error(data)
    assert (exc.segment_id, exc.segment_number, exc.byte_offset) == ("ISA", 1, 0)
    assert "fixed width" in exc.message


def test_se_count_wrong() -> None:
    count = VALID.count(b"~") - 4  # ST through SE: all but ISA, GS, GE, IEA
    data = VALID.replace(f"SE*{count}*0001".encode(), f"SE*{count + 1}*0001".encode())
    exc = located(data, "SE", 1)
    assert exc.segment_number == VALID.count(b"~") - 2
    assert "does not match" in exc.message


def test_truncated_file() -> None:
    cut = VALID.index(b"RMR*IK*A*") + 7
    exc = error(VALID[:cut])
    assert exc.segment_id == "RMR"
    assert "truncated" in exc.message
    exc = error(VALID[: VALID.index(b"GE*")])  # whole segments, but the envelope never closes
    assert exc.segment_id == "SE"
    assert "GE missing" in exc.message


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\xff\xfe garbage \x89PNG\r\n\x1a\n" * 20,
        bytes(range(256)) * 3,
        VALID[:106] + b"\x00\x01\x02\xff~\n" * 5,
    ],
)
def test_binary_garbage(data: bytes) -> None:
    exc = error(data)
    assert exc.message
    assert exc.segment_number is not None


mutation = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]),
    st.integers(min_value=0, max_value=len(VALID) - 1),
    st.binary(min_size=1, max_size=8)
    | st.sampled_from(
        [b"*", b"~", b":", b"0", b".", b"-", b"E5", b"RD8", b"ENT*9*2J~", b"RMR*IK*X~", b"ADX~"]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_820_raise_only_x12error(ops: list[tuple[str, int, bytes]]) -> None:
    caught: list[X12Error] = []
    try:
        for record in read_820(mutate(VALID, ops)):
            assert isinstance(record, (Remittance820, MemberRemittance))
    except X12Error as exc:
        caught.append(exc)
    assert all(str(exc) and exc.message for exc in caught)


class Generated820:
    """A read-only stream producing an 820 with many members on the fly (nothing is held in memory)."""

    def __init__(self, members: int) -> None:
        head = build().partition(b"SE*")[0]
        one = b"".join(b"*".join(x.encode() for x in seg) + b"~\n" for seg in member(1))
        trailer = f"SE*{len(HEADER) + 2 + len(member(1)) * members}*0001~\nGE*1*1~\nIEA*1*000000001~\n"
        self._parts = iter([head, *itertools.repeat(one, members), trailer.encode()])
        self.produced = 0
        self._buf = b""

    def read(self, size: int = -1, /) -> bytes:
        while not self._buf:
            try:
                self._buf = next(self._parts)
            except StopIteration:
                return b""
        n = len(self._buf) if size < 0 else size
        out, self._buf = self._buf[:n], self._buf[n:]
        self.produced += len(out)
        return out


def test_members_are_streamed() -> None:
    source = Generated820(100_000)
    it = read_820(source, chunk_size=1 << 12)
    assert isinstance(next(it), Remittance820)
    assert isinstance(next(it), MemberRemittance)
    assert source.produced < 1 << 14
    assert sum(1 for _ in it) == 100_000 - 1


# -- amounts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [("0", 0), ("12", 1200), ("12.5", 1250), ("12.50", 1250), ("12.340", 1234), (".5", 50), ("5.", 500),
     ("-1.27", -127), ("-0", 0), ("0.01", 1), ("999999999999999999", 99999999999999999900)],
)  # fmt: skip
def test_parse_cents(text: str, cents: int) -> None:
    assert parse_cents(text) == cents


@pytest.mark.parametrize(
    "text",
    ["", "-", ".", "12.345", "1e3", "1E-2", "abc", "+1", " 1", "1 ", "1,000", "1.2.3", "١٢", "0x10", "--1"],
)
def test_parse_cents_refuses(text: str) -> None:
    with pytest.raises(AmountError):
        parse_cents(text)


def test_amounts_refuse_floats() -> None:
    with pytest.raises(TypeError):
        parse_cents(12.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_cents(12.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="18 digits"):
        format_cents(10**18 + 1)  # 10000000000000000.01


@given(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1))
def test_amount_text_round_trip(cents: int) -> None:
    text = format_cents(cents)
    assert parse_cents(text) == cents
    assert Decimal(text) * 100 == cents  # the text means exactly that many cents
    assert not (text.endswith("0") and "." in text)


# -- write_820 ---------------------------------------------------------------------------------------

EFT = EftAccounts("011000015", "4455667788", "021000021", "12345678")
SENDER = {"sender_id": "GOODHEALTH", "receiver_id": "SUNRISEIPA"}


def fixture_records() -> tuple[Remittance820, list[MemberRemittance]]:
    out = list(read_820(FIXTURE))
    head = out[0]
    assert isinstance(head, Remittance820)
    return head, [m for m in out[1:] if isinstance(m, MemberRemittance)]


def write(header: Remittance820, members: list[MemberRemittance], **kwargs: object) -> bytes:
    out = io.BytesIO()
    options: dict[str, object] = {**SENDER, "eft": EFT, **kwargs}
    assert write_820(out, header, members, **options) == len(members)  # type: ignore[arg-type]
    return out.getvalue()


def test_fixture_written_again_is_the_same_interchange() -> None:
    """write_820 writes the records of the hand-written fixture back to the same bytes."""
    head, members = fixture_records()
    when = dt.datetime(2024, 1, 5, 9, 30)
    assert write(head, members, control_number=101, when=when, newline=True) == FIXTURE.read_bytes()


def test_written_files_validate_with_pyx12(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    head, members = fixture_records()
    assert pyx12_errors(write(head, members), caplog) == []
    other = write(head, members, delimiters=Delimiters("|", ">", "^", "!"), newline=True)
    assert pyx12_errors(other, caplog) == []
    check = dataclasses.replace(head, payment_method="CHK")
    assert pyx12_errors(write(check, members, eft=None), caplog) == []
    assert records(write(check, members, eft=None)) == (check, members)
    path = tmp_path / "out.820"
    assert write_820(path, head, iter(members), sender_id="PLAN", receiver_id="IPA", eft=EFT) == 3
    assert records(path.read_bytes()) == (head, members)
    loose = write(head, [dataclasses.replace(members[0], subscriber_id="S1")], strict=False)
    assert pyx12_errors(loose, caplog)  # REF*0F is outside 005010X218: strict=False writes it anyway


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"trace_number": ""}, "trace number"),
        ({"originator_id": ""}, "originator id"),
        ({"payment_date": None}, "payment date"),
        ({"payer_id_qualifier": ""}, "qualifier"),
        ({"period_start": None}, "end without a start"),
        ({"handling_code": "Z"}, "BPR01"),
        ({"credit_debit": "D"}, "BPR03"),
        ({"payment_method": "CASH"}, "BPR04"),
        ({"payee_id_qualifier": "XX"}, r"N1\*PE N103"),
        ({"period_end": None}, "no end"),
        ({"total_cents": 10**18 + 1}, "18 digits"),
        ({"payer_name": "A*B"}, "delimiter"),
    ],
)
def test_write_refuses_header(change: dict[str, object], words: str) -> None:
    head, members = fixture_records()
    with pytest.raises(ValueError, match=words):
        write(dataclasses.replace(head, **change), members)  # type: ignore[arg-type]


def test_write_refuses_ach_without_banks() -> None:
    head, members = fixture_records()
    with pytest.raises(ValueError, match="bank accounts"):
        write(head, members, eft=None)
    with pytest.raises(ValueError, match="check digit"):
        write(head, members, eft=dataclasses.replace(EFT, receiving_dfi="021000022"))


@pytest.mark.parametrize(
    ("change", "words", "strict_only"),
    [
        ({"subscriber_id": "S1"}, "REF\\*0F", True),
        ({"ent_id_qualifier": "ZZ"}, "ENT03", True),
        ({"ent_number": 0}, "ENT01", False),
        ({"member_id": ""}, "member id", False),
        ({"last_name": ""}, "last name", False),
        ({"lines": (RemittanceLine("XX", "A", 1, None, None, None),)}, "RMR01", True),
        ({"lines": (RemittanceLine("IK", "", 1, None, None, None),)}, "RMR02", False),
        (
            {"lines": (RemittanceLine("IK", "A", 1, None, None, None, (("0F", "S"),)),)},
            "line REF01|not 0F",
            False,
        ),
        (
            {"lines": (RemittanceLine("IK", "A", 1, None, None, dt.date(2024, 1, 1)),)},
            "without a start",
            False,
        ),
        ({"lines": (RemittanceLine("IK", "A", 1, None, JAN[1], JAN[0]),)}, "ends before", False),
        ({"adjustments": (Adjustment(1, "IA", line_index=None),)}, "2200B", True),
        ({"adjustments": (Adjustment(1, "WO", line_index=0),)}, "2320B", True),
        ({"adjustments": (Adjustment(1, "52", "ZZ", "X"),)}, "ADX03", True),
        ({"adjustments": (Adjustment(1, "52", "ZZ", ""),)}, "go together", False),
        ({"adjustments": (Adjustment(1, "", line_index=0),)}, "reason", False),
        ({"adjustments": (Adjustment(1, "IA", line_index=5),)}, "has 1 lines", False),
        (
            {"adjustments": (Adjustment(1, "IA", line_index=0), Adjustment(1, "52"))},
            "after one for a line",
            False,
        ),
    ],
)
def test_write_refuses_member(change: dict[str, object], words: str, strict_only: bool) -> None:
    head, members = fixture_records()
    bad = dataclasses.replace(members[0], **change)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=words) as info:
        write(head, [members[1], bad])
    assert "member 2 " in str(info.value)
    if strict_only:
        assert records(write(head, [bad], strict=False))[1] == [bad]
    else:
        with pytest.raises(ValueError, match=words):
            write(head, [bad], strict=False)


def test_adjustments_out_of_line_order_are_refused() -> None:
    head, members = fixture_records()
    two = dataclasses.replace(
        members[1], adjustments=(Adjustment(1, "IA", line_index=1), Adjustment(1, "IA", line_index=0))
    )
    with pytest.raises(ValueError, match="order of their lines"):
        write(head, [two])


# -- property: read_820(write_820(x)) == x ------------------------------------------------------------

IDENT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
NAME = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ '-.ÉÑ", min_size=1, max_size=25).filter(
    lambda s: s.strip() == s
)
CENTS = st.integers(min_value=-(10**12), max_value=10**12)
DAY = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31))


@st.composite
def lines(draw: st.DrawFn) -> RemittanceLine:
    start = draw(st.none() | DAY)
    end = (
        None
        if start is None
        else draw(st.none() | st.dates(min_value=start, max_value=dt.date(2099, 12, 31)))
    )
    return RemittanceLine(
        draw(st.sampled_from(sorted(RMR_QUALIFIERS))),
        draw(IDENT),
        draw(CENTS),
        draw(st.none() | CENTS),
        start,
        end,
        tuple(
            draw(st.lists(st.tuples(st.sampled_from(sorted(LINE_REFERENCE_QUALIFIERS)), IDENT), max_size=2))
        ),
    )


@st.composite
def members(draw: st.DrawFn, number: int, strict: bool) -> MemberRemittance:
    body = draw(st.lists(lines(), max_size=4))
    loose = (
        st.just(("", "")) if strict else st.just(("", "")) | st.tuples(st.sampled_from(["ZZ", "IK"]), IDENT)
    )
    adjustments = []
    for index in [None, *range(len(body))]:
        reasons = PREVIOUS_PAYMENT_REASONS if index is None else CURRENT_PAYMENT_REASONS
        for _ in range(draw(st.integers(0, 2))):
            qualifier, reference = draw(loose)
            adjustments.append(
                Adjustment(draw(CENTS), draw(st.sampled_from(sorted(reasons))), qualifier, reference, index)
            )
    member_id = draw(IDENT)
    return MemberRemittance(
        "0042",
        number,
        member_id,
        draw(NAME),
        draw(st.just("") | NAME),
        "" if strict else draw(st.just("") | IDENT),
        tuple(body),
        tuple(adjustments),
        segment_number=0,
        ent_id_qualifier=draw(st.sampled_from(sorted(ENT_ID_QUALIFIERS))),
        ent_id=draw(st.just(member_id) | IDENT),
    )


@st.composite
def remittances(draw: st.DrawFn, strict: bool) -> tuple[Remittance820, list[MemberRemittance]]:
    start = draw(st.none() | DAY)
    end = None if start is None else draw(st.dates(min_value=start, max_value=dt.date(2099, 12, 31)))
    if not strict and start is not None:
        end = draw(st.none() | st.just(end))
    payer_qualifier, payer_id = draw(
        st.just(("", "")) | st.tuples(st.sampled_from(["PI", "FI", "24"]), IDENT)
    )
    head = Remittance820(
        control_number="0042",
        version="005010X218",
        handling_code=draw(st.sampled_from(["C", "I", "D", "P", "U", "X"])),
        total_cents=draw(st.integers(min_value=0, max_value=10**15)),
        credit_debit="C",
        payment_method=draw(st.sampled_from(["ACH", "CHK", "NON", "BOP", "FWT", "SWT"])),
        payment_date=draw(DAY),
        trace_number=draw(IDENT),
        originator_id=draw(IDENT),
        payer_name=draw(NAME),
        payer_id=payer_id,
        payee_name=draw(NAME),
        payee_id_qualifier="FI",
        payee_id=draw(IDENT),
        period_start=start,
        period_end=end,
        created=draw(st.none() | DAY),
        segment_number=0,
        payer_id_qualifier=payer_qualifier,
    )
    count = draw(st.integers(0, 5))
    return head, [draw(members(n, strict)) for n in range(1, count + 1)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=remittances(strict=True), newline=st.booleans())
def test_write_then_read_gives_the_same_records(
    data: tuple[Remittance820, list[MemberRemittance]], newline: bool
) -> None:
    head, written = data
    back_head, back = records(write(head, written, newline=newline))
    assert back_head == head
    assert back == written
    assert [m.paid_cents for m in back] == [m.paid_cents for m in written]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=remittances(strict=False))
def test_write_loose_then_read_gives_the_same_records(
    data: tuple[Remittance820, list[MemberRemittance]],
) -> None:
    head, written = data
    assert records(write(head, written, strict=False)) == (head, written)


# -- pyx12, an independent validator --------------------------------------------------------------------


def pyx12_errors(data: bytes, caplog: pytest.LogCaptureFixture) -> list[str]:
    """pyx12 picks its map from GS08: its 4.0.0 release has a 005010X218 map (820.5010.X218.xml)."""
    document = pytest.importorskip("pyx12.x12n_document")
    params = pytest.importorskip("pyx12.params")
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="pyx12"):
        valid = document.x12n_document(params.params(), io.StringIO(data.decode("latin-1")), None, None)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert bool(valid) == (not errors), errors
    return errors
