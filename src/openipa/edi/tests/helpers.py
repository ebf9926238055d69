"""Builders for X12 test files (generated with the writer, so counts are right unless a test breaks them)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from openipa.edi.x12.delimiters import Delimiters
from openipa.edi.x12.writer import X12Writer

REPO = Path(__file__).resolve().parents[4]
SAMPLES = (REPO / ".." / "shared" / "samples" / "x12").resolve()


def samples_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"shared X12 samples not found at {SAMPLES} (expected beside the repository)")
    return SAMPLES


def member_segments(writer: X12Writer, n: int) -> None:
    for i in range(n):
        writer.segment("INS", "Y", "18", "021", "28", "A", "", "", "FT")
        writer.segment("REF", "0F", f"{i:09d}")
        writer.segment("NM1", "IL", "1", "DOE", "JOHN", "", "", "", "34", f"{i:09d}")
        writer.segment("DMG", "D8", "19700101", "M")
        writer.segment("HD", "030", "", "HLT")
        writer.segment("DTP", "348", "D8", "20240101")


def build_834(
    members: int = 2,
    *,
    delimiters: Delimiters | None = None,
    newline: bool = False,
    transactions: int = 1,
) -> bytes:
    out = io.BytesIO()
    w = X12Writer(out, delimiters, newline=newline)
    w.start_interchange("ZZ", "SENDER", "ZZ", "RECEIVER", control_number=1)
    w.start_group("BE", "SENDER", "RECEIVER", control_number=1, version="005010X220A1")
    for t in range(transactions):
        w.start_transaction("834", f"{t + 1:04d}", "005010X220A1")
        w.segment("BGN", "00", "12456", "20240101", "1200", "", "", "", "2")
        w.segment("N1", "P5", "SPONSOR", "FI", "123456789")
        w.segment("N1", "IN", "PAYER", "FI", "987654321")
        member_segments(w, members)
        w.end_transaction()
    w.end_group()
    w.end_interchange()
    return out.getvalue()


class Generated834:
    """A read-only binary file object producing a large 834 on the fly (nothing is held in memory)."""

    def __init__(self, members: int, block: int = 1000) -> None:
        self._parts = self._generate(members, block)
        self._buf = b""
        self.produced = 0

    @staticmethod
    def _generate(members: int, block: int) -> Iterator[bytes]:
        head = build_834(0).split(b"~")
        # ISA, GS, ST, BGN, N1, N1 | SE, GE, IEA
        yield b"~".join(head[:6]) + b"~"
        member = build_834(1).split(b"~")[6:12]
        one = b"~".join(member) + b"~"
        done = 0
        while done < members:
            k = min(block, members - done)
            yield one * k
            done += k
        yield f"SE*{3 + 6 * members + 2}*0001~GE*1*1~IEA*1*000000001~".encode()

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


def mutate(data: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    """Apply hypothesis-drawn edits (replace, insert, delete, truncate, duplicate a run) to a file."""
    for op, at, chunk in ops:
        at = min(at, max(len(data) - 1, 0))
        if op == "replace":
            data = data[:at] + chunk + data[at + len(chunk) :]
        elif op == "insert":
            data = data[:at] + chunk + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + len(chunk) :]
        elif op == "truncate":
            data = data[:at]
        else:
            data = data[:at] + data[at : at + 40] + data[at:]
    return data
