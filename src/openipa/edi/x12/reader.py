"""A streaming X12 tokenizer: bytes in, segments out, in constant memory.

The file is read in chunks (1 MiB by default) and decoded as latin-1 (one byte is one character, so
character offsets are byte offsets). Each chunk is split on the segment terminator with ``str.split``;
the unfinished tail is carried into the next chunk. Line breaks (CR, LF) after a terminator are
skipped, as is a UTF-8 byte-order mark at the start of the file. Each interchange (ISA) sets the
delimiters for the segments up to its IEA, so one file may hold interchanges with different delimiters.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

from openipa.edi.x12.delimiters import ISA_LENGTH, Delimiters
from openipa.edi.x12.errors import X12Error

CHUNK_SIZE = 1 << 20
MAX_SEGMENT = 1 << 20
"""A longer segment is an error: without a limit, a file missing its terminators would be read whole."""
_BREAKS = "\r\n"
_WHITESPACE = " \t\r\n"


class Segment(NamedTuple):
    """One segment.

    ``elements[0]`` is the segment id, so ``elements[n]`` is the X12 element n (``SE01`` is
    ``elements[1]``); an element the sender left off at the end is simply absent (use :meth:`get`).
    ``number`` is 1-based within the file; ``offset`` is the byte offset of the segment's first character.
    """

    id: str
    elements: list[str]
    number: int
    offset: int

    def get(self, position: int, default: str = "") -> str:
        """Element ``position`` (1-based), or ``default`` when the segment is shorter."""
        elements = self.elements
        return elements[position] if position < len(elements) else default

    def error(self, message: str, element: int | None = None, filename: str | None = None) -> X12Error:
        return X12Error(
            message,
            segment_number=self.number,
            byte_offset=self.offset,
            segment_id=self.id,
            element=element,
            filename=filename,
        )


class Readable(Protocol):
    """Anything with ``read(size) -> bytes``: a binary file, a socket file, a generator-backed stream."""

    def read(self, size: int = -1, /) -> bytes: ...


Source = str | os.PathLike[str] | bytes | BinaryIO | Readable


class SegmentReader:
    """Iterate the segments of a binary stream. ``delimiters`` is the current interchange's."""

    def __init__(
        self,
        stream: Readable,
        *,
        filename: str | None = None,
        chunk_size: int = CHUNK_SIZE,
        max_segment: int = MAX_SEGMENT,
    ) -> None:
        self.stream = stream
        self.filename = filename
        self.chunk_size = chunk_size
        self.max_segment = max(max_segment, ISA_LENGTH)
        self.delimiters: Delimiters | None = None
        self.segment_count = 0
        self.bytes_read = 0

    def _read(self) -> str:
        data = self.stream.read(self.chunk_size)
        self.bytes_read += len(data)
        return data.decode("latin-1")

    def _error(self, message: str, number: int, offset: int, segment_id: str | None = None) -> X12Error:
        return X12Error(
            message, segment_number=number, byte_offset=offset, segment_id=segment_id, filename=self.filename
        )

    def __iter__(self) -> Iterator[Segment]:
        filename = self.filename
        buf = self._read()
        base = 0  # file offset of buf[0]
        eof = not buf
        while not eof and len(buf) < 3:  # enough to recognise a byte-order mark
            more = self._read()
            eof = not more
            buf += more
        number = 0
        if buf.startswith("\xef\xbb\xbf"):
            buf = buf[3:]
            base = 3
        while True:
            # --- start of an interchange: skip blank lines, read the delimiters from the ISA
            while True:
                stripped = buf.lstrip(_WHITESPACE)
                base += len(buf) - len(stripped)
                buf = stripped
                if len(buf) >= ISA_LENGTH or eof:
                    break
                more = self._read()
                eof = not more
                buf += more
            if not buf:
                if number == 0:
                    raise self._error("file is empty (no ISA segment)", 1, base, None)
                self.segment_count = number
                return
            delimiters = Delimiters.from_isa(
                buf[:ISA_LENGTH], offset=base, filename=filename, segment_number=number + 1
            )
            self.delimiters = delimiters
            term = delimiters.segment
            sep = delimiters.element
            strip_cr = term == "\n"
            known_ids: set[str] = set()
            new = tuple.__new__
            resync = False
            while not resync:
                pieces = buf.split(term)
                tail = pieces.pop()
                offset = base
                # most chunks hold no line breaks at all: then the per-segment checks can be skipped
                clean = not strip_cr and "\n" not in buf and "\r" not in buf
                for index, text in enumerate(pieces):
                    start = offset
                    offset += len(text) + 1
                    if not clean:
                        if text[:1] in _BREAKS and text:
                            stripped = text.lstrip(_BREAKS)
                            start += len(text) - len(stripped)
                            text = stripped
                        if strip_cr and text[-1:] == "\r":
                            text = text[:-1]
                    number += 1
                    elements = text.split(sep)
                    sid = elements[0]
                    if sid not in known_ids:
                        if not (1 < len(sid) < 4 and sid.isascii() and sid.isalnum() and sid.isupper()):
                            raise X12Error(
                                f"invalid segment id {_show(sid)}" if sid else "empty segment",
                                segment_number=number,
                                byte_offset=start,
                                segment_id=_show(sid[:3]) if sid else None,
                                filename=filename,
                            )
                        known_ids.add(sid)
                    yield new(
                        Segment, (sid, elements, number, start)
                    )  # Segment(...) without its slow __new__
                    if sid == "IEA":
                        rest = pieces[index + 1 :]
                        rest.append(tail)
                        buf = term.join(rest)
                        base = offset
                        resync = True
                        break
                if resync:
                    break
                base = offset
                buf = tail
                if eof:
                    if tail.strip(_WHITESPACE):
                        lead = tail.lstrip(_WHITESPACE)
                        start = base + len(tail) - len(lead)
                        raise X12Error(
                            "file ends inside a segment (no segment terminator): truncated file",
                            segment_number=number + 1,
                            byte_offset=start,
                            segment_id=_show(lead.split(sep, 1)[0][:3]),
                            filename=filename,
                        )
                    self.segment_count = number
                    return
                if len(tail) > self.max_segment:
                    lead = tail.lstrip(_WHITESPACE)
                    raise X12Error(
                        f"segment longer than {self.max_segment} bytes (segment terminator {term!r} missing?)",
                        segment_number=number + 1,
                        byte_offset=base + len(tail) - len(lead),
                        segment_id=_show(lead.split(sep, 1)[0][:3]),
                        filename=filename,
                    )
                more = self._read()
                eof = not more
                buf = tail + more


def _show(text: str) -> str:
    return text.encode("latin-1", "replace").decode("ascii", "backslashreplace")


def open_source(source: Source) -> tuple[Readable, str | None, bool]:
    """A binary stream for ``source``, its name, and whether the caller must close it."""
    if isinstance(source, bytes):
        return io.BytesIO(source), None, True
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        return path.open("rb"), path.name, True
    return (
        source,
        getattr(source, "name", None) if isinstance(getattr(source, "name", None), str) else None,
        False,
    )


def iter_segments(source: Source, *, chunk_size: int = CHUNK_SIZE) -> Iterator[Segment]:
    """Segments of a path, bytes or binary file object, streamed."""
    stream, name, close = open_source(source)
    try:
        yield from SegmentReader(stream, filename=name, chunk_size=chunk_size)
    finally:
        if close:
            stream.close()  # type: ignore[attr-defined]
