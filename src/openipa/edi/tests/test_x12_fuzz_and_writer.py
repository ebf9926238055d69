"""Mutated files only ever raise X12Error; what the writer writes, the reader reads back."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openipa.edi.stats import file_stats
from openipa.edi.tests.helpers import build_834, mutate, samples_dir
from openipa.edi.x12 import Delimiters, EnvelopeReader, X12Error, iter_segments
from openipa.edi.x12.writer import X12Writer

VALID = build_834(3, newline=True)


def _consume(data: bytes, chunk_size: int) -> None:
    messages: list[tuple[str, str]] = []
    for strict in (True, False):
        try:
            for _ in EnvelopeReader(io.BytesIO(data), strict=strict, chunk_size=chunk_size):
                pass
        except X12Error as exc:
            messages.append((str(exc), exc.message))
    assert all(text and message for text, message in messages)
    stats = file_stats(data, chunk_size=chunk_size)  # never raises
    assert stats.error is None or isinstance(stats.error, X12Error)


mutation = st.tuples(
    st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]),
    st.integers(min_value=0, max_value=len(VALID) - 1),
    st.binary(min_size=1, max_size=8),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(mutation, min_size=1, max_size=4), chunk_size=st.sampled_from([1, 3, 64, 1 << 20]))
def test_mutated_files_raise_only_x12error(ops, chunk_size):
    _consume(mutate(VALID, ops), chunk_size)


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=400),
    sep=st.sampled_from([b"*", b"|", b"\x1d"]),
    term=st.sampled_from([b"~", b"\n", b"'"]),
)
def test_garbage_after_a_valid_isa(data, sep, term):
    isa = build_834(0)[:106].replace(b"*", sep).replace(b"~", term)
    _consume(isa + data, 64)


def test_mutated_samples_raise_only_x12error():
    for path in sorted(samples_dir().iterdir()):
        data = path.read_bytes()
        for at in range(0, len(data), 7):
            for byte in (b"*", b"~", b"\x00", b"9"):
                _consume(data[:at] + byte + data[at + 1 :], 1 << 20)


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.text(alphabet="ABCDEFGHIJ0123456789 .-", max_size=12), min_size=1, max_size=6),
        max_size=20,
    ),
    delimiters=st.sampled_from(
        [Delimiters(), Delimiters("|", "!", "^", "\n"), Delimiters("\x1d", "\x1f", None, "\x1c")]
    ),
    newline=st.booleans(),
)
def test_writer_round_trip(rows, delimiters, newline):
    out = io.BytesIO()
    w = X12Writer(out, delimiters, newline=newline)
    w.start_interchange("ZZ", "ME", "ZZ", "YOU", control_number=42)
    w.start_group("HC", "ME", "YOU", control_number=7, version="005010X222A1")
    w.start_transaction("837", "0001", "005010X222A1")
    for row in rows:
        w.segment("REF", *row)
    w.end_transaction()
    w.end_group()
    w.end_interchange()
    (txn,) = EnvelopeReader(out.getvalue()).transactions()
    body = txn.segments[1:-1]
    assert len(body) == len(rows)
    for seg, row in zip(body, rows, strict=True):
        expected = list(row)
        while expected and expected[-1] == "":
            expected.pop()
        assert seg.elements == ["REF", *expected]
    segs = list(iter_segments(out.getvalue()))
    assert segs[0].elements[13] == "000000042"
    assert [s.id for s in segs[-2:]] == ["GE", "IEA"]


def test_writer_rejects_delimiters_in_data():
    w = X12Writer(io.BytesIO())
    with pytest.raises(ValueError, match="delimiter"):
        w.segment("REF", "A*B")


def test_composites():
    out = io.BytesIO()
    X12Writer(out).segment("SV1", ["HC", "99213"], "100")
    assert out.getvalue() == b"SV1*HC:99213*100~"
