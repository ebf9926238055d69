"""The streaming reader, envelope checks and stats: real samples, odd delimiters, hostile files."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import time
import tracemalloc

import pytest

from openipa.edi.stats import file_stats
from openipa.edi.tests.helpers import Generated834, build_834, samples_dir
from openipa.edi.x12 import Delimiters, EnvelopeReader, X12Error, iter_segments, read_transactions
from openipa.edi.x12.reader import Segment, SegmentReader

# file -> (segments, set id, set segments, business count)
EXPECTED = {
    "lfh_add-subscriber-coverage.834": (16, "834", 12, 1),
    "lfh_enroll-employee-multiple-products.834": (22, "834", 18, 1),
    "lfh_terminate-subscriber-eligibility.834": (14, "834", 10, 1),
    "lfh_claim-level-status.276": (40, "276", 36, None),
    "lfh_claim-level-status.277": (42, "277", 38, None),
    "lfh_cob-contractural-adjustment.835": (29, "835", 25, 1),
    "lfh_managed-care.835": (30, "835", 26, 2),
    "lfh_medicare-part-a.835": (32, "835", 28, 2),
    "lfh_demo.cob.example4.837": (46, "837", 42, 1),
    "lfh_demo.example1.837": (44, "837", 40, 1),
    "lfh_demo.example2.837": (45, "837", 41, 1),
    "lfh_institutional-claim.837i": (46, "837", 42, 1),
    "lfh_ppo-repriced-claim.837i": (52, "837", 48, 1),
    "lfh_subscriber-health-benefit-check.270": (17, "270", 13, None),
    "lfh_subscriber-health-benefit-check.271": (26, "271", 22, None),
}
ITEM = {"834": "members", "837": "claims", "835": "remittances"}


def test_every_sample_is_known():
    assert sorted(p.name for p in samples_dir().iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_samples_read_and_count(name):
    path = samples_dir() / name
    segments, set_id, set_segments, items = EXPECTED[name]
    segs = list(iter_segments(path))
    assert len(segs) == segments
    assert [s.id for s in segs[:3]] == ["ISA", "GS", "ST"]
    assert [s.id for s in segs[-3:]] == ["SE", "GE", "IEA"]
    data = path.read_bytes()
    for seg in segs:  # offsets point at the segment's id in the file
        assert data[seg.offset : seg.offset + len(seg.id)].decode() == seg.id
    stats = file_stats(path)
    assert stats.error is None
    assert (stats.interchanges, stats.groups, stats.transactions, stats.segments) == (1, 1, 1, segments)
    counts = stats.by_transaction_set[set_id].as_dict()
    assert counts["transactions"] == 1
    assert counts["segments"] == set_segments
    if items is not None:
        assert counts[ITEM[set_id]] == items
    (txn,) = read_transactions(path)
    assert txn.set_id == set_id
    assert len(txn.segments) == set_segments
    assert txn.version.startswith("005010")
    assert txn.functional_id == {"834": "BE", "837": "HC", "835": "HP"}.get(set_id, txn.functional_id)
    assert txn.group.control_number
    assert txn.interchange.control_number.isdigit()
    assert txn.interchange.delimiters.element == "*"


def test_segment_elements_are_indexed_from_the_id():
    segs = list(iter_segments(build_834(1)))
    se = next(s for s in segs if s.id == "SE")
    assert se.elements[0] == "SE"
    assert se.get(1) == "11"
    assert se.get(9) == ""
    assert segs[0].number == 1
    assert segs[0].offset == 0


@pytest.mark.parametrize(
    "delimiters",
    [
        Delimiters("|", "!", "^", "~"),
        Delimiters("*", ":", None, "~"),
        Delimiters("!", ">", "\\", "\n"),
        Delimiters("\x1d", "\x1f", "\x1e", "\x1c"),
    ],
    ids=["pipe", "no-repetition", "newline-terminator", "control-chars"],
)
def test_other_delimiters(delimiters):
    data = build_834(3, delimiters=delimiters)
    segs = list(iter_segments(data))
    assert len(segs) == 6 + 3 * 6 + 3
    assert segs[0].id == "ISA"
    assert len(segs[0].elements) == 17
    stats = file_stats(data)
    assert stats.error is None
    assert stats.by_transaction_set["834"].as_dict() == {
        "transactions": 1,
        "segments": 3 + 18 + 2,
        "members": 3,
    }
    assert Delimiters.from_isa(data[:106]) == delimiters


def test_4010_isa11_is_not_a_repetition_separator():
    data = build_834(1).replace(b"*^*00501*", b"*U*00401*", 1)
    assert Delimiters.from_isa(data[:106]).repetition is None


def test_bom_crlf_and_small_chunks():
    plain = build_834(5)
    fancy = b"\xef\xbb\xbf" + build_834(5).replace(b"~", b"~\r\n")
    expected = [(s.id, s.elements) for s in iter_segments(plain)]
    for chunk in (1, 7, 106, 4096):
        got = list(iter_segments(io.BytesIO(fancy), chunk_size=chunk))
        assert [(s.id, s.elements) for s in got] == expected
    got = list(iter_segments(fancy))
    assert got[0].offset == 3
    assert got[1].offset == 3 + 106 + 2
    assert file_stats(fancy).by_transaction_set["834"].items == 5


def test_several_interchanges_with_different_delimiters():
    data = build_834(2) + b"\n" + build_834(1, delimiters=Delimiters("|", "!", "^", "\n"))
    stats = file_stats(io.BytesIO(data))
    assert stats.error is None
    assert (stats.interchanges, stats.groups, stats.transactions) == (2, 2, 2)
    assert stats.by_transaction_set["834"].items == 3


def test_several_transactions():
    stats = file_stats(build_834(2, transactions=3))
    assert stats.transactions == 3
    assert stats.by_transaction_set["834"].as_dict() == {"transactions": 3, "segments": 3 * 17, "members": 6}


# -- hostile files ---------------------------------------------------------------------------------


def _error(data: bytes) -> X12Error:
    with pytest.raises(X12Error) as info:
        for _ in EnvelopeReader(io.BytesIO(data)):
            pass
    stats = file_stats(data)
    assert stats.error is not None
    assert str(stats.error) == str(info.value)
    return info.value


def test_wrong_isa_length():
    data = build_834(1).replace(b"*SENDER         *", b"*SENDER        *", 1)
    err = _error(data)
    assert (err.segment_number, err.segment_id, err.byte_offset, err.element) == (1, "ISA", 0, 6)
    assert "not fixed width" in err.message


def test_file_too_short_for_isa():
    err = _error(build_834(1)[:80])
    assert (err.segment_number, err.segment_id) == (1, "ISA")
    assert "expected 106" in err.message


def test_wrong_se_count():
    data = build_834(1).replace(b"SE*11*0001~", b"SE*12*0001~")
    err = _error(data)
    assert (err.segment_number, err.segment_id, err.element) == (13, "SE", 1)
    assert err.message == "segment count 12 does not match 11 segments"
    assert err.byte_offset == data.index(b"SE*12")
    assert str(err) == f"segment 13 (SE) at byte {err.byte_offset}, element 1: {err.message}"


def test_se_control_number_mismatch():
    err = _error(build_834(1).replace(b"SE*11*0001~", b"SE*11*0002~"))
    assert (err.segment_number, err.segment_id, err.element) == (13, "SE", 2)
    assert "does not match ST02 '0001'" in err.message


def test_ge_and_iea_mismatches():
    err = _error(build_834(1).replace(b"GE*1*1~", b"GE*1*2~"))
    assert (err.segment_number, err.segment_id, err.element) == (14, "GE", 2)
    err = _error(build_834(1).replace(b"GE*1*1~", b"GE*2*1~"))
    assert (err.segment_number, err.segment_id, err.element) == (14, "GE", 1)
    assert err.message == "transaction set count 2 does not match 1 transaction sets"
    err = _error(build_834(1).replace(b"IEA*1*000000001~", b"IEA*1*000000002~"))
    assert (err.segment_number, err.segment_id, err.element) == (15, "IEA", 2)
    assert "does not match ISA13 '000000001'" in err.message
    err = _error(build_834(1).replace(b"IEA*1*", b"IEA*3*"))
    assert (err.segment_number, err.segment_id, err.element) == (15, "IEA", 1)


def test_truncated_file():
    data = build_834(1)
    err = _error(data[: data.index(b"DMG") + 6])
    assert (err.segment_number, err.segment_id) == (10, "DMG")
    assert "truncated" in err.message
    err = _error(data[: data.index(b"GE*")])  # ends cleanly after SE, but GE/IEA are missing
    assert (err.segment_number, err.segment_id) == (13, "SE")
    assert "GE missing" in err.message


def test_nesting():
    data = build_834(1)
    err = _error(data.replace(b"GS*", b"XX*", 1))
    assert (err.segment_number, err.segment_id) == (2, "XX")
    err = _error(data.replace(b"SE*11*0001~", b""))
    assert (err.segment_number, err.segment_id) == (13, "GE")
    assert "SE missing" in err.message


def test_binary_garbage():
    err = _error(bytes(range(256)) * 4)
    assert (err.segment_number, err.segment_id, err.byte_offset) == (1, "ISA", 0)
    assert "must start with ISA" in err.message
    data = build_834(2)
    at = data.index(b"REF")
    err = _error(data[:at] + b"\x00\xff\x13garbage" + data[at:])
    assert (err.segment_number, err.byte_offset) == (8, at)
    assert "invalid segment id" in err.message
    assert _error(b"").message.startswith("file is empty")


def test_missing_terminators_do_not_read_the_whole_file():
    data = build_834(1)
    body = data[106:].replace(b"~", b"")
    segs = iter_segments(io.BytesIO(data[:106] + body * 5000), chunk_size=4096)
    with pytest.raises(X12Error, match="segment longer than") as info:
        list(segs)
    assert (info.value.segment_number, info.value.segment_id, info.value.byte_offset) == (2, "GS", 106)


def test_error_str_names_the_file(tmp_path):
    path = tmp_path / "bad.834"
    path.write_bytes(build_834(1).replace(b"SE*11*", b"SE*10*"))
    error = file_stats(path).error
    assert error is not None
    assert str(error).startswith("bad.834: segment 13 (SE) at byte ")


# -- memory and speed ------------------------------------------------------------------------------


def test_constant_memory_under_tracemalloc():
    members = 30_000  # ~3.7 MB of X12 read in 256 KiB chunks (tracing every allocation is slow)
    source = Generated834(members)
    tracemalloc.start()
    try:
        stats = file_stats(source, chunk_size=1 << 18)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.error is None
    assert stats.by_transaction_set["834"].items == members
    assert source.produced > 3_500_000
    assert peak < 2 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_constant_memory_on_a_50_mb_834():
    """A fresh interpreter reads a generated ~50 MB 834; its peak RSS grows by less than 20 MB."""
    code = textwrap.dedent(
        """
        import resource, sys
        from openipa.edi.stats import file_stats
        from openipa.edi.tests.helpers import Generated834
        source = Generated834(420_000)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        stats = file_stats(source)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert stats.error is None, stats.error
        print(stats.by_transaction_set["834"].items, source.produced, (after - before) * 1024)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    items, produced, growth = map(int, out.split())
    assert items == 420_000
    assert produced > 50_000_000
    assert growth < 20 * 1024 * 1024, f"RSS grew {growth / 1e6:.1f} MB"


def test_speed_is_printed(capsys):
    members = 100_000
    start = time.perf_counter()
    stats = file_stats(Generated834(members))
    elapsed = time.perf_counter() - start
    assert stats.error is None
    with capsys.disabled():
        print(
            f"\nX12 stats: {stats.segments / elapsed:,.0f} segments/s, {members / elapsed:,.0f} INS/s "
            f"({stats.segments} segments in {elapsed:.2f}s)"
        )


# -- batches: the fast path gives the same segments, numbers and offsets --------------------------------


def _via_batches(data: bytes, chunk: int, batch: int) -> list[tuple[str, list[str], int, int]]:
    reader = SegmentReader(io.BytesIO(data), chunk_size=chunk, batch_segments=batch)
    out = []
    for b in reader.batches():
        out += [(s.id, s.elements, s.number, s.offset) for s in b.segments()]
        for index in range(len(b)):  # random access agrees with the sequential walk
            seg = b.segment(index)
            assert (seg.number, seg.offset) == (b.number + index, b.offset_of(index))
    return out


@pytest.mark.parametrize("chunk", [1, 7, 106, 300, 4096, 1 << 20])
@pytest.mark.parametrize("batch", [1, 5, 256])
def test_batches_match_segments(chunk, batch):
    data = (
        b"\xef\xbb\xbf"
        + build_834(7).replace(b"~", b"~\r\n")
        + b"\n"
        + build_834(3, delimiters=Delimiters("|", "!", "^", "\n"))
        + build_834(4)
    )
    expected = [(s.id, s.elements, s.number, s.offset) for s in iter_segments(data)]
    for seg_id, _elements, _number, offset in expected:
        assert data[offset : offset + len(seg_id)].decode() == seg_id
    assert _via_batches(data, chunk, batch) == expected
    plain = [
        b.plain for b in SegmentReader(io.BytesIO(data), chunk_size=chunk, batch_segments=batch).batches()
    ]
    assert not all(plain)


def test_envelope_batches_are_runs_of_one_transaction():
    data = build_834(40, transactions=3)
    runs = list(EnvelopeReader(data).batches())
    flat = [(h, s) for h, b, start, stop in runs for s in b.segments(start, stop)]
    assert [(h.control_number, s) for h, s in flat] == [
        (h.control_number, s) for h, s in EnvelopeReader(data).segments()
    ]
    for header, batch, start, stop in runs:
        ids = [e[0] for e in batch.elements[start:stop]]
        assert "ST" not in ids[1:]
        assert "SE" not in ids[:-1]
        assert header.set_id == "834"
    assert sum(stop - start for _h, _b, start, stop in runs) == 3 * (3 + 40 * 6 + 2)


def test_segments_before_an_error_are_yielded_first():
    data = build_834(30)
    at = data.index(b"REF", 2000)
    bad = data[:at] + b"r@F*0F*1~" + data[at:]
    seen: list[Segment] = []
    with pytest.raises(X12Error, match="invalid segment id") as info:
        seen.extend(iter_segments(io.BytesIO(bad)))  # extend keeps what came before the error
    assert info.value.byte_offset == at
    assert info.value.segment_number == len(seen) + 1
    assert seen[-1].offset < at
