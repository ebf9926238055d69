"""NACHA CCD+ files: written files checked field by field against the published record layout (sliced here,
independently of read_nacha), random files (hypothesis), refused input, read_nacha and its problems()."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.edi.nacha import (
    MAX_ENTRY_CENTS,
    NachaBatchHeader,
    NachaEntry,
    NachaError,
    NachaFileHeader,
    NachaSummary,
    is_valid_routing,
    nacha_text,
    read_nacha,
    reassociation_addenda,
    routing_check_digit,
    write_nacha,
)

# -- the published layout (NACHA Operating Rules, Appendix Three), 1-based inclusive positions ---------------

LAYOUT: dict[str, list[tuple[str, int, int]]] = {
    "1": [
        ("record type", 1, 1), ("priority code", 2, 3), ("immediate destination", 4, 13),
        ("immediate origin", 14, 23), ("creation date", 24, 29), ("creation time", 30, 33),
        ("file id modifier", 34, 34), ("record size", 35, 37), ("blocking factor", 38, 39),
        ("format code", 40, 40), ("destination name", 41, 63), ("origin name", 64, 86),
        ("reference code", 87, 94),
    ],
    "5": [
        ("record type", 1, 1), ("service class", 2, 4), ("company name", 5, 20),
        ("discretionary data", 21, 40), ("company id", 41, 50), ("sec code", 51, 53),
        ("entry description", 54, 63), ("descriptive date", 64, 69), ("effective date", 70, 75),
        ("settlement date", 76, 78), ("originator status", 79, 79), ("odfi", 80, 87), ("batch number", 88, 94),
    ],
    "6": [
        ("record type", 1, 1), ("transaction code", 2, 3), ("rdfi", 4, 11), ("check digit", 12, 12),
        ("account", 13, 29), ("amount", 30, 39), ("individual id", 40, 54), ("name", 55, 76),
        ("discretionary data", 77, 78), ("addenda indicator", 79, 79), ("trace number", 80, 94),
    ],
    "7": [
        ("record type", 1, 1), ("addenda type", 2, 3), ("payment information", 4, 83),
        ("addenda sequence", 84, 87), ("entry sequence", 88, 94),
    ],
    "8": [
        ("record type", 1, 1), ("service class", 2, 4), ("entry/addenda count", 5, 10), ("entry hash", 11, 20),
        ("total debit", 21, 32), ("total credit", 33, 44), ("company id", 45, 54), ("authentication", 55, 73),
        ("reserved", 74, 79), ("odfi", 80, 87), ("batch number", 88, 94),
    ],
    "9": [
        ("record type", 1, 1), ("batch count", 2, 7), ("block count", 8, 13), ("entry/addenda count", 14, 21),
        ("entry hash", 22, 31), ("total debit", 32, 43), ("total credit", 44, 55), ("reserved", 56, 94),
    ],
}  # fmt: skip


def test_layout_covers_every_position() -> None:
    for fields in LAYOUT.values():
        positions = [p for _name, start, end in fields for p in range(start, end + 1)]
        assert positions == list(range(1, 95))


def fields(record: str) -> dict[str, str]:
    assert len(record) == 94, record
    return {name: record[start - 1 : end] for name, start, end in LAYOUT[record[0]]}


def routing(prefix: str) -> str:
    return prefix + routing_check_digit(prefix)


ODFI = routing("01100001")
RDFI_A = routing("02100002")
RDFI_B = routing("26107371")
HEADER = NachaFileHeader(
    ODFI, "1123456789", "FIRST BANK", "SUNRISE IPA", dt.datetime(2024, 1, 31, 16, 5), "B", "CAP2401"
)
BATCH = NachaBatchHeader(
    "SUNRISE IPA", "1123456789", "CAPITATION", dt.date(2024, 2, 1), "01100001", 1, "JAN 24"
)
ENTRIES = [
    NachaEntry(RDFI_A, "12345678", "checking", 1_523_417, "P0001", "ALDER FAMILY MEDICINE",
               reassociation_addenda("CAP2401A", "1123456789")),
    NachaEntry(RDFI_B, "9876-5432", "savings", 98_765, "P0002", "BIRCH PEDIATRICS"),
    NachaEntry(RDFI_A, "55", "checking", 1, "", "CEDAR INTERNAL MED", "STATEMENT 2024-01", "A1"),
]  # fmt: skip


def written(
    batches: Sequence[tuple[NachaBatchHeader, Sequence[NachaEntry]]], header: NachaFileHeader = HEADER
) -> tuple[str, NachaSummary]:
    out = io.BytesIO()
    summary = write_nacha(out, header, batches)
    return out.getvalue().decode("ascii"), summary


def check_by_layout(
    text: str,
    header: NachaFileHeader,
    batches: Sequence[tuple[NachaBatchHeader, Sequence[NachaEntry]]],
    summary: NachaSummary,
) -> None:
    """Every field of every record, by the published positions, against the input and sums made here."""
    lines = text.split("\n")
    assert lines.pop() == ""
    assert all(len(line) == 94 for line in lines)
    assert len(lines) % 10 == 0
    f = fields(lines[0])
    assert f["record type"] + f["priority code"] == "101"
    assert f["immediate destination"] == f" {header.immediate_destination}"
    assert f["immediate origin"].strip() == header.immediate_origin
    assert (f["creation date"], f["creation time"]) == (
        header.created.strftime("%y%m%d"),
        header.created.strftime("%H%M"),
    )
    assert (f["file id modifier"], f["record size"], f["blocking factor"], f["format code"]) == (
        header.file_id_modifier, "094", "10", "1",
    )  # fmt: skip
    assert f["destination name"].rstrip() == header.destination_name
    assert f["origin name"].rstrip() == header.origin_name
    assert f["reference code"].rstrip() == header.reference_code
    at = 1
    file_hash = file_credit = file_count = 0
    sequence = 0
    traces = []
    for batch, entries in batches:
        f = fields(lines[at])
        assert (f["record type"], f["service class"], f["sec code"], f["originator status"]) == (
            "5",
            "220",
            "CCD",
            "1",
        )
        assert f["company name"].rstrip() == batch.company_name
        assert f["company id"].rstrip() == batch.company_id
        assert f["entry description"].rstrip() == batch.company_entry_description
        assert f["descriptive date"].rstrip() == batch.company_descriptive_date
        assert f["discretionary data"].rstrip() == batch.discretionary_data
        assert f["effective date"] == batch.effective_entry_date.strftime("%y%m%d")
        assert f["settlement date"] == "   "
        assert (f["odfi"], int(f["batch number"])) == (batch.originating_dfi, batch.batch_number)
        at += 1
        batch_hash = batch_credit = batch_count = 0
        last_trace = ""
        for entry in entries:
            f = fields(lines[at])
            sequence += 1
            assert f["record type"] == "6"
            assert f["transaction code"] == {"checking": "22", "savings": "32"}[entry.account_type]
            assert f["rdfi"] + f["check digit"] == entry.routing_number
            assert f["account"].rstrip() == entry.account_number
            assert int(f["amount"]) == entry.amount_cents
            assert f["individual id"].rstrip() == entry.individual_id
            assert f["name"].rstrip() == entry.name
            assert f["discretionary data"].rstrip() == entry.discretionary_data
            assert f["trace number"] == f"{batch.originating_dfi}{sequence:07d}"
            assert f["trace number"] > last_trace
            last_trace = f["trace number"]
            traces.append(f["trace number"])
            batch_hash += int(f["rdfi"])
            batch_credit += int(f["amount"])
            batch_count += 1
            at += 1
            if entry.addenda:
                assert f["addenda indicator"] == "1"
                a = fields(lines[at])
                assert (a["record type"], a["addenda type"]) == ("7", "05")
                assert a["payment information"].rstrip() == entry.addenda
                assert a["addenda sequence"] == "0001"
                assert a["entry sequence"] == last_trace[-7:]
                batch_count += 1
                at += 1
            else:
                assert f["addenda indicator"] == "0"
        f = fields(lines[at])
        assert (f["record type"], f["service class"]) == ("8", "220")
        assert int(f["entry/addenda count"]) == batch_count
        assert int(f["entry hash"]) == batch_hash % 10**10
        assert (int(f["total debit"]), int(f["total credit"])) == (0, batch_credit)
        assert f["company id"].rstrip() == batch.company_id
        assert f["authentication"] + f["reserved"] == " " * 25
        assert (f["odfi"], int(f["batch number"])) == (batch.originating_dfi, batch.batch_number)
        at += 1
        file_hash += batch_hash
        file_credit += batch_credit
        file_count += batch_count
    f = fields(lines[at])
    records = at + 1
    blocks = -(-records // 10)
    assert f["record type"] == "9"
    assert int(f["batch count"]) == len(batches)
    assert int(f["block count"]) == blocks == len(lines) // 10
    assert int(f["entry/addenda count"]) == file_count
    assert int(f["entry hash"]) == file_hash % 10**10
    assert (int(f["total debit"]), int(f["total credit"])) == (0, file_credit)
    assert f["reserved"] == " " * 39
    assert lines[records:] == ["9" * 94] * (len(lines) - records)
    assert summary == NachaSummary(
        records, blocks, len(batches), file_count, file_hash % 10**10, file_credit, 0, tuple(traces)
    )


# -- written files, by the layout ---------------------------------------------------------------------


def test_one_batch_by_the_layout() -> None:
    text, summary = written([(BATCH, ENTRIES)])
    check_by_layout(text, HEADER, [(BATCH, ENTRIES)], summary)
    # the figures, worked out by hand: 02100002 + 26107371 + 02100002 = 30307375
    assert (summary.entry_hash, summary.total_credit_cents, summary.entry_count) == (30_307_375, 1_622_183, 5)
    assert (summary.records, summary.blocks) == (9, 1)
    lines = text.splitlines()
    assert lines[2] == (
        "622" + RDFI_A + "12345678         " + "0001523417" + "P0001          " + "ALDER FAMILY MEDICINE "
        + "  " + "1" + "011000010000001"
    )  # fmt: skip
    assert lines[3] == "705" + "TRN*1*CAP2401A*1123456789\\".ljust(80) + "0001" + "0000001"
    assert (
        lines[7]
        == "822000000500303073750000000000000000016221831123456789" + " " * 25 + "01100001" + "0000001"
    )
    assert lines[8] == "9000001000001000000050030307375000000000000000001622183" + " " * 39
    assert lines[9:] == ["9" * 94]


def test_several_batches_and_blocks() -> None:
    many = [dataclasses.replace(ENTRIES[1], individual_id=f"P{i:04d}", amount_cents=i) for i in range(1, 13)]
    second = dataclasses.replace(
        BATCH, batch_number=7, originating_dfi="02100002", company_entry_description="RETRO"
    )
    batches = [(BATCH, ENTRIES), (second, many)]
    text, summary = written(batches)
    check_by_layout(text, HEADER, batches, summary)
    assert (summary.records, summary.blocks, summary.batch_count) == (9 + 14, 3, 2)
    assert summary.trace_numbers[3] == "021000020000004"  # the sequence runs through the file


def test_no_batches() -> None:
    text, summary = written([])
    check_by_layout(text, HEADER, [], summary)
    assert (summary.records, summary.blocks) == (2, 1)


def test_targets_and_line_endings(tmp_path: Path) -> None:
    text, _ = written([(BATCH, ENTRIES)])
    path = tmp_path / "pay.ach"
    write_nacha(path, HEADER, [(BATCH, ENTRIES)])
    assert path.read_text() == text
    stream = io.StringIO()
    write_nacha(stream, HEADER, [(BATCH, ENTRIES)], line_ending="\r\n")
    assert stream.getvalue() == text.replace("\n", "\r\n")
    flat = io.BytesIO()
    write_nacha(flat, HEADER, [(BATCH, ENTRIES)], line_ending="")
    assert flat.getvalue().decode() == text.replace("\n", "")
    sources = (
        path,
        text.encode(),
        stream.getvalue().encode(),
        flat.getvalue(),
        io.BytesIO(text.encode()),
        io.StringIO(text),
    )
    for source in sources:
        back = read_nacha(source)
        assert back.problems() == []
        assert list(back.entries()) == ENTRIES
    assert read_nacha(path).filename == "pay.ach"
    with pytest.raises(ValueError, match="line_ending"):
        write_nacha(io.BytesIO(), HEADER, [], line_ending="\r")


# -- random files (hypothesis) ------------------------------------------------------------------------

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 &-.,/'#*\\"


def text(size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    return (
        st.text(alphabet=TEXT, min_size=min_size, max_size=size)
        .map(str.rstrip)
        .filter(lambda s: len(s) >= min_size)
    )


ROUTINGS = st.text(alphabet="0123456789", min_size=8, max_size=8).map(routing).filter(is_valid_routing)
ENTRY = st.builds(
    NachaEntry,
    ROUTINGS,
    st.text(alphabet=ALNUM + "-", min_size=1, max_size=17),
    st.sampled_from(["checking", "savings"]),
    st.integers(min_value=1, max_value=MAX_ENTRY_CENTS),
    text(15),
    text(22, 1),
    text(80),
    text(2),
)
DATES = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


@st.composite
def files(draw: st.DrawFn) -> tuple[NachaFileHeader, list[tuple[NachaBatchHeader, list[NachaEntry]]]]:
    header = NachaFileHeader(
        draw(ROUTINGS),
        draw(
            st.text(alphabet="0123456789", min_size=9, max_size=9)
            | st.text(alphabet=ALNUM, min_size=10, max_size=10)
        ),
        draw(text(23)),
        draw(text(23)),
        dt.datetime.combine(draw(DATES), dt.time(draw(st.integers(0, 23)), draw(st.integers(0, 59)))),
        draw(st.sampled_from(ALNUM)),
        draw(text(8)),
    )
    numbers = sorted(draw(st.sets(st.integers(1, 9_999_999), max_size=3)))
    batches = []
    for number in numbers:
        batch = NachaBatchHeader(
            draw(text(16, 1)),
            draw(text(10, 1)),
            draw(text(10, 1)),
            draw(DATES),
            draw(st.text(alphabet="0123456789", min_size=8, max_size=8)),
            number,
            draw(text(6)),
            draw(text(20)),
        )
        batches.append((batch, draw(st.lists(ENTRY, max_size=12))))
    return header, batches


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=files())
def test_random_files_balance(
    data: tuple[NachaFileHeader, list[tuple[NachaBatchHeader, list[NachaEntry]]]],
) -> None:
    header, batches = data
    text, summary = written(batches, header)
    check_by_layout(text, header, batches, summary)
    assert summary.total_credit_cents == sum(e.amount_cents for _b, entries in batches for e in entries)
    back = read_nacha(text.encode())
    assert back.problems() == []
    assert back.header == header
    assert [b.header for b in back.batches] == [b for b, _e in batches]
    assert [[r.entry for r in b.entries] for b in back.batches] == [entries for _b, entries in batches]
    assert [r.trace_number for b in back.batches for r in b.entries] == list(summary.trace_numbers)


# -- refused input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"routing_number": RDFI_A[:-1] + str((int(RDFI_A[-1]) + 1) % 10)}, "routing number .* check digit"),
        ({"routing_number": "02100002"}, "routing number"),
        ({"routing_number": "000000000"}, "routing number"),
        ({"account_number": ""}, "account number"),
        ({"account_number": "1" * 18}, "account number"),
        ({"account_number": "12 34"}, "account number"),
        ({"account_type": "loan"}, "account type"),
        ({"amount_cents": 0}, "amount 0 cents"),
        ({"amount_cents": -5}, "amount -5 cents"),
        ({"amount_cents": MAX_ENTRY_CENTS + 1}, "amount"),
        ({"amount_cents": 12.5}, "int cents"),
        ({"individual_id": "X" * 16}, "individual id .* at most 15"),
        ({"name": ""}, "name is empty"),
        ({"name": "N" * 23}, "name .* at most 22"),
        ({"name": "Alder Family"}, "upper case"),
        ({"name": "ALDER\tFAMILY"}, "does not allow"),
        ({"name": "ÅLDER"}, "does not allow"),
        ({"addenda": "A" * 81}, "addenda .* at most 80"),
        ({"discretionary_data": "ABC"}, "discretionary data"),
    ],
)
def test_refused_entries(change: dict[str, object], words: str) -> None:
    bad = dataclasses.replace(ENTRIES[1], **change)  # type: ignore[arg-type]
    out = io.BytesIO()
    with pytest.raises(ValueError, match=words) as info:
        write_nacha(out, HEADER, [(BATCH, [ENTRIES[0], bad])])
    assert str(info.value).startswith("batch 1, entry 2 ('")
    assert out.getvalue() == b""  # checked before anything is written


@pytest.mark.parametrize(
    ("header", "batch", "words"),
    [
        ({"immediate_destination": "011000016"}, {}, "immediate destination"),
        ({"immediate_origin": "12345"}, {}, "immediate origin"),
        ({"immediate_origin": "1abcdefghi"}, {}, "immediate origin"),
        ({"destination_name": "X" * 24}, {}, "destination name"),
        ({"origin_name": "sunrise"}, {}, "origin name"),
        ({"reference_code": "123456789"}, {}, "reference code"),
        ({"file_id_modifier": "a"}, {}, "file id modifier"),
        ({"file_id_modifier": "AB"}, {}, "file id modifier"),
        ({"created": dt.datetime(1999, 12, 31)}, {}, "2000-2099"),
        ({}, {"company_name": ""}, "company name is empty"),
        ({}, {"company_id": "12345678901"}, "company id"),
        ({}, {"company_entry_description": "CAPITATIONS"}, "entry description"),
        ({}, {"company_descriptive_date": "JANUARY"}, "descriptive date"),
        ({}, {"discretionary_data": "X" * 21}, "discretionary data"),
        ({}, {"originating_dfi": "011000015"}, "originating DFI"),
        ({}, {"originating_dfi": "0110000A"}, "originating DFI"),
        ({}, {"batch_number": 0}, "batch number 0"),
        ({}, {"batch_number": 10_000_000}, "batch number"),
        ({}, {"effective_entry_date": dt.date(2100, 1, 1)}, "effective entry date"),
    ],
)
def test_refused_headers(header: dict[str, Any], batch: dict[str, Any], words: str) -> None:
    out = io.BytesIO()
    with pytest.raises(ValueError, match=words):
        write_nacha(
            out, dataclasses.replace(HEADER, **header), [(dataclasses.replace(BATCH, **batch), ENTRIES)]
        )
    assert out.getvalue() == b""


def test_refused_batch_order_and_totals() -> None:
    with pytest.raises(ValueError, match="batch 2 batch number 1 does not ascend"):
        write_nacha(io.BytesIO(), HEADER, [(BATCH, ENTRIES), (BATCH, ENTRIES)])
    big = [dataclasses.replace(ENTRIES[1], amount_cents=MAX_ENTRY_CENTS)] * 101
    with pytest.raises(ValueError, match="over 12 digits"):
        write_nacha(io.BytesIO(), HEADER, [(BATCH, big)])


def test_helpers() -> None:
    assert is_valid_routing("011000015")
    assert is_valid_routing("021000021")
    assert not is_valid_routing("021000022")
    assert not is_valid_routing("02100002")
    assert not is_valid_routing("02100002A")
    assert not is_valid_routing("\uff10\uff12\uff11\uff10\uff10\uff10\uff10\uff12\uff11")  # full-width digits
    assert routing_check_digit("02100002") == "1"
    with pytest.raises(ValueError, match="not 8 digits"):
        routing_check_digit("0210000")
    assert nacha_text("  Álder  Family   Médecine, Inc.\t", 22) == "ALDER FAMILY MEDECINE,"
    assert nacha_text("São Paulo Clínica", 40) == "SAO PAULO CLINICA"
    assert reassociation_addenda("CAP2401A", "1123456789") == "TRN*1*CAP2401A*1123456789\\"


# -- read_nacha and problems() -----------------------------------------------------------------------

GOOD, _ = written([(BATCH, ENTRIES), (dataclasses.replace(BATCH, batch_number=2), ENTRIES[1:])])


def edit(line: int, start: int, value: str, text: str = GOOD) -> bytes:
    """``text`` with ``value`` written over positions ``start``.. of ``line`` (both 1-based)."""
    lines = text.split("\n")
    record = lines[line - 1]
    lines[line - 1] = record[: start - 1] + value + record[start - 1 + len(value) :]
    return "\n".join(lines).encode()


def test_read_back() -> None:
    f = read_nacha(GOOD.encode(), filename="good.ach")
    assert f.problems() == []
    assert f.header == HEADER
    assert [b.header.batch_number for b in f.batches] == [1, 2]
    assert list(f.entries()) == [*ENTRIES, *ENTRIES[1:]]
    assert [(r.line, r.trace_number) for r in f.batches[1].entries] == [
        (10, "011000010000004"),
        (11, "011000010000005"),
    ]
    assert (f.control.total_credit_cents, f.lines) == (1_622_183 + 98_766, 20)


@pytest.mark.parametrize(
    ("line", "start", "value", "words"),
    [
        (1, 35, "095", "line 1, record size (35-37)"),
        (1, 38, "20", "line 1, blocking factor"),
        (2, 2, "225", "line 2 (batch header), service class (2-4): '225'"),
        (2, 51, "PPD", "line 2 (batch header), standard entry class"),
        (9, 88, "0000001", "line 9 (batch header), batch number (88-94): 1 does not ascend"),
        (8, 21, "000000000001", "line 8 (batch control), total debit (21-32): 1 but the batch has 0"),
        (8, 33, "000000000001", "line 8 (batch control), total credit (33-44)"),
        (8, 5, "000004", "line 8 (batch control), entry/addenda count (5-10): 4 but the batch has 5"),
        (8, 11, "0030307376", "line 8 (batch control), entry hash (11-20)"),
        (8, 45, "X", "line 8 (batch control), company id"),
        (8, 80, "02100002", "line 8 (batch control), originating DFI"),
        (8, 88, "0000003", "line 8 (batch control), batch number"),
        (14, 2, "000003", "line 14 (file control), batch count (2-7): 3 but the file has 2"),
        (14, 8, "000003", "line 14 (file control), block count (8-13): 3 but the file has 2"),
        (14, 14, "00000099", "line 14 (file control), entry/addenda count"),
        (14, 22, "0000000001", "line 14 (file control), entry hash"),
        (14, 44, "000000000001", "line 14 (file control), total credit"),
        (3, 12, "9", "line 3 (entry detail), receiving DFI (4-12)"),
        (
            5,
            80,
            "011000010000009",
            "line 6 (entry detail), trace number (80-94): 011000010000003 does not ascend",
        ),
        (3, 80, "021000020000001", "does not start with the ODFI 01100001"),
        (4, 84, "0002", "line 4 (addenda), addenda sequence number (84-87): 2 is not 1"),
        (4, 88, "0000002", "line 4 (addenda), entry detail sequence number"),
    ],
)
def test_problems(line: int, start: int, value: str, words: str) -> None:
    problems = read_nacha(edit(line, start, value)).problems()
    assert any(words in p for p in problems), problems


def test_problems_padding() -> None:
    cut = GOOD.rsplit("\n", 3)[0] + "\n"  # two padding records gone: 18 records
    problems = read_nacha(cut.encode()).problems()
    assert "the file has 18 records, not a multiple of 10 (padding)" in problems


@pytest.mark.parametrize(
    ("data", "line", "field", "words"),
    [
        (b"", 1, "", "empty"),
        (GOOD[:93].encode(), 1, "record length", "93 characters without line breaks"),
        (GOOD.replace("\n", "", 1).encode(), 1, "file header record length", "188 characters"),
        (edit(3, 2, "27"), 3, "entry detail transaction code (2-3)", "'27' is not 22 or 32"),
        (edit(3, 30, "00000O1234"), 3, "entry detail amount (30-39)", "not 10 digits"),
        (edit(3, 4, "O"), 3, "entry detail receiving DFI and check digit (4-12)", "not 9 digits"),
        (edit(3, 79, "2"), 3, "entry detail addenda record indicator (79)", "not 0 or 1"),
        (edit(3, 79, "0"), 4, "addenda", "without an entry announcing it"),
        (edit(5, 79, "1"), 6, "entry detail", "announces an addenda record"),
        (edit(4, 2, "99"), 4, "addenda addenda type code (2-3)", "not 05"),
        (edit(2, 70, "240230"), 2, "batch header effective entry date (70-75)", "not a YYMMDD date"),
        (edit(1, 30, "2460"), 1, "file header file creation time (30-33)", "HHMM"),
        (edit(1, 4, "0"), 1, "file header immediate destination (4-13)", "a space and"),
        (edit(1, 2, "02"), 1, "file header priority code (2-3)", "not 01"),
        (edit(1, 1, "5"), 1, "batch header record type (1)", "starts with its file header"),
        (edit(3, 1, "4"), 3, "record record type (1)", "unknown record type '4'"),
        (edit(8, 1, "5"), 8, "batch header", "before the control record"),
        (edit(9, 1, "6"), 9, "entry detail", "outside a batch"),
        (edit(8, 1, "9"), 8, "file control", "inside the batch"),
        (edit(13, 1, "X" * 94), 13, "record record type (1)", "unknown record type"),
        (edit(15, 1, "8"), 15, "batch control", "only padding records"),
        (edit(14, 1, "9" * 94), 14, "file control", "padding record before the file control"),
        (GOOD.split("9000002")[0].encode(), 13, "", "without a file control record"),
        (edit(2, 1, "1"), 2, "file header", "second file header"),
        (edit(3, 40, "\xe9").decode().encode("latin-1"), 3, "entry detail", "not ASCII"),
    ],
)
def test_read_errors(data: bytes, line: int, field: str, words: str) -> None:
    with pytest.raises(NachaError) as info:
        read_nacha(data, filename="in.ach")
    exc = info.value
    assert (exc.line, exc.field) == (line, field), str(exc)
    assert words in exc.message
    assert str(exc).startswith(f"in.ach: line {line}")


def test_short_line() -> None:
    data = GOOD.replace("\n", " \n", 3).encode()
    with pytest.raises(NachaError, match="95 characters, not 94") as info:
        read_nacha(data)
    assert info.value.line == 1


def test_trace_numbers_the_originator_already_quoted() -> None:
    given = [
        dataclasses.replace(e, trace_sequence=n) for e, n in zip(ENTRIES, (7, 42, 1_000_003), strict=True)
    ]
    text, summary = written([(BATCH, given)])
    assert summary.trace_numbers == ("011000010000007", "011000010000042", "011000011000003")
    lines = text.splitlines()
    assert lines[2].endswith("011000010000007")
    assert lines[3].endswith("0001" + "0000007")  # the addenda names the entry by the same sequence
    with pytest.raises(ValueError, match="does not ascend"):
        written([(BATCH, [given[1], given[0]])])
    with pytest.raises(ValueError, match="every entry a trace_sequence, or none"):
        written([(BATCH, [given[0], ENTRIES[1]])])
