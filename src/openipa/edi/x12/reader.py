"""A streaming X12 tokenizer: bytes in, segments out, in constant memory.

The file is read in chunks (1 MiB by default) and decoded as latin-1 (one byte is one character, so
character offsets are byte offsets). Each chunk is split on the segment terminator with ``str.split``,
and its segments on the element separator a batch (:class:`SegmentBatch`, 256 segments) at a time;
the unfinished tail is carried into the next chunk. Whole-file consumers (the 834 mapper, the stats)
take the batches; :class:`Segment` tuples, with their byte offsets, are made for the others and for
errors. Line breaks (CR, LF) after a terminator are skipped, as is a UTF-8 byte-order mark at the start
of the file. Each interchange (ISA) sets the delimiters for the segments up to its IEA, so one file may
hold interchanges with different delimiters.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

from openipa.edi.x12.delimiters import ISA_LENGTH, Delimiters
from openipa.edi.x12.errors import X12Error

CHUNK_SIZE = 1 << 20
MAX_SEGMENT = 1 << 20
"""A longer segment is an error: without a limit, a file missing its terminators would be read whole."""
_BREAKS = "\r\n"
ENVELOPE_IDS = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})
"""The segments that open and close interchanges, groups and transaction sets."""
_first = itemgetter(0)
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


class SegmentBatch:
    """Consecutive segments of one interchange, already split into elements: the fast path.

    ``elements[i]`` is the element list of segment ``number + i`` (``elements[i][0]`` its id), as
    :attr:`Segment.elements`. ``plain`` is true when no envelope segment (ISA, GS, ST, SE, GE, IEA) is in
    the batch, so a consumer can skip looking for them. Byte offsets are worked out only when asked for
    (:meth:`offset_of`, :meth:`segment`, :meth:`error`), from the raw text of each segment as read.
    """

    __slots__ = ("_at", "_chunk", "clean", "elements", "filename", "number", "plain", "raw")

    def __init__(
        self,
        elements: list[list[str]],
        plain: bool,
        number: int,
        chunk: _Chunk,
        at: int,
        raw: list[str],
        clean: bool,
        filename: str | None,
    ) -> None:
        self.elements = elements
        self.plain = plain
        self.number = number
        """The 1-based number of the first segment in the file."""
        self._chunk = chunk
        self._at = at
        self.raw = raw
        """Each segment's text up to its terminator, line breaks before it included."""
        self.clean = clean
        """No line breaks in ``raw``: each segment starts right after the previous terminator."""
        self.filename = filename

    def __len__(self) -> int:
        return len(self.elements)

    @property
    def offset(self) -> int:
        """The byte offset of ``raw[0]`` (line breaks before the first segment included)."""
        return self._chunk.offset(self._at)

    def offset_of(self, index: int) -> int:
        """The byte offset of segment ``index``'s first character."""
        raw = self.raw
        text = raw[index]
        start = self.offset + sum(map(len, raw[:index])) + index
        return start if self.clean else start + len(text) - len(text.lstrip(_BREAKS))

    def segment(self, index: int) -> Segment:
        elements = self.elements[index]
        return tuple.__new__(Segment, (elements[0], elements, self.number + index, self.offset_of(index)))

    def segments(self, start: int = 0, stop: int | None = None) -> Iterator[Segment]:
        """Segments ``start`` to ``stop`` (exclusive) as :class:`Segment` tuples."""
        elements = self.elements
        stop = len(elements) if stop is None else stop
        if start >= stop:
            return
        new = tuple.__new__
        raw = self.raw
        number = self.number + start
        offset = self.offset + sum(map(len, raw[:start])) + start  # of raw[start]
        if self.clean:
            for index in range(start, stop):
                e = elements[index]
                yield new(Segment, (e[0], e, number, offset))  # Segment(...) without its slow __new__
                number += 1
                offset += len(raw[index]) + 1
            return
        for index in range(start, stop):
            e = elements[index]
            text = raw[index]
            yield new(Segment, (e[0], e, number, offset + len(text) - len(text.lstrip(_BREAKS))))
            number += 1
            offset += len(text) + 1

    def error(
        self, index: int, message: str, element: int | None = None, filename: str | None = None
    ) -> X12Error:
        """An :class:`X12Error` at segment ``index`` (its number, offset and id)."""
        return self.segment(index).error(message, element, filename or self.filename)


class _Chunk:
    """The segments' raw texts of one read chunk, and where it starts in the file.

    Batch offsets are worked out only when asked for (errors, :class:`Segment` tuples), mostly in order, so
    the running sum is kept: summing the lengths of every batch up front cost a few per cent of the read.
    A batch holds its chunk, so a consumer keeping a batch keeps that chunk's texts (about twice its size).
    """

    __slots__ = ("_at", "_offset", "base", "pieces")

    def __init__(self, pieces: list[str], base: int) -> None:
        self.pieces = pieces
        self.base = base
        self._at = 0
        self._offset = base

    def offset(self, at: int) -> int:
        """The byte offset of ``pieces[at]``."""
        if at < self._at:
            self._at, self._offset = 0, self.base
        offset = self._offset + sum(map(len, self.pieces[self._at : at])) + at - self._at
        self._at, self._offset = at, offset
        return offset


BATCH_SEGMENTS = 256
"""Segments per batch. Small batches are freed before the garbage collector promotes their lists to an
older generation (with 1024, full collections made reading twice as slow); memory stays bounded too."""


class SegmentReader:
    """Iterate the segments of a binary stream. ``delimiters`` is the current interchange's.

    Iterating gives one :class:`Segment` at a time; :meth:`batches` gives the same segments a batch
    (:class:`SegmentBatch`) at a time, which is several times faster for a consumer that reads whole files.
    """

    def __init__(
        self,
        stream: Readable,
        *,
        filename: str | None = None,
        chunk_size: int = CHUNK_SIZE,
        max_segment: int = MAX_SEGMENT,
        batch_segments: int = BATCH_SEGMENTS,
    ) -> None:
        self.stream = stream
        self.filename = filename
        self.chunk_size = chunk_size
        self.max_segment = max(max_segment, ISA_LENGTH)
        self.batch_segments = max(batch_segments, 1)
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
        new = tuple.__new__
        for batch in self.batches():
            if not batch.clean:
                yield from batch.segments()
                continue
            number = batch.number
            offset = batch.offset
            for e, text in zip(batch.elements, batch.raw, strict=True):
                yield new(Segment, (e[0], e, number, offset))  # Segment(...) without its slow __new__
                number += 1
                offset += len(text) + 1

    def batches(self) -> Iterator[SegmentBatch]:
        """The segments in batches of at most ``batch_segments``; a batch never spans two interchanges.

        A tokenizer error (invalid segment id, truncated file, overlong segment) is raised after every
        segment before it has been yielded.
        """
        filename = self.filename
        size = self.batch_segments
        buf = self._read()
        base = 0  # file offset of buf[0]
        eof = not buf
        while not eof and len(buf) < 3:  # enough to recognise a byte-order mark
            more = self._read()
            eof = not more
            buf += more
        number = 0  # segments yielded so far
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
            plain_ids: set[str] = set()  # the valid ids seen in this interchange, but envelope ids
            resync = False
            while not resync:
                pieces = buf.split(term)
                tail = pieces.pop()
                chunk = _Chunk(pieces, base)
                # most chunks hold no line breaks at all: then the per-segment stripping can be skipped
                clean = not strip_cr and "\n" not in buf and "\r" not in buf
                base += len(buf) - len(tail)  # the offset of the tail
                buf = ""
                total = len(pieces)
                at = 0
                while at < total:
                    raw = pieces[at : at + size] if at or total > size else pieces
                    if clean:
                        texts = raw
                    elif strip_cr:
                        texts = [_strip_cr(text.lstrip(_BREAKS)) for text in raw]
                    else:
                        texts = [text.lstrip(_BREAKS) for text in raw]
                    elements = list(map(str.split, texts, repeat(sep)))
                    # one C-level pass in the common case: every id already seen, none an envelope id
                    plain = plain_ids.issuperset(map(_first, elements))
                    if not plain:
                        bad = _first_invalid(elements, plain_ids)
                        iea = _index_of(elements, "IEA")
                        if iea is not None and (bad is None or iea < bad):
                            stop = iea + 1
                            rest = pieces[at + stop :]
                            rest.append(tail)
                            buf = term.join(rest)
                            base = chunk.offset(at + stop)
                            raw, elements = raw[:stop], elements[:stop]
                            bad = None
                            resync = True
                            total = at + stop
                        if bad is not None:
                            whole = SegmentBatch(elements, False, number + 1, chunk, at, raw, clean, filename)
                            at_bad = whole.offset_of(bad)
                            if bad:
                                yield SegmentBatch(
                                    elements[:bad], False, number + 1, chunk, at, raw[:bad], clean, filename
                                )
                            sid = elements[bad][0]
                            raise X12Error(
                                f"invalid segment id {_show(sid)}" if sid else "empty segment",
                                segment_number=number + bad + 1,
                                byte_offset=at_bad,
                                segment_id=_show(sid[:3]) if sid else None,
                                filename=filename,
                            )
                    batch = SegmentBatch(elements, plain, number + 1, chunk, at, raw, clean, filename)
                    number += len(elements)
                    self.segment_count = number
                    yield batch
                    at += size
                if resync:
                    break
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


def _strip_cr(text: str) -> str:
    """A segment's text without the CR of a CR LF when the terminator is the LF."""
    return text[:-1] if text[-1:] == "\r" else text


def _valid_id(sid: str) -> bool:
    return 1 < len(sid) < 4 and sid.isascii() and sid.isalnum() and sid.isupper()


def _first_invalid(elements: list[list[str]], plain_ids: set[str]) -> int | None:
    """Index of the first segment with an invalid id; the valid ids but envelope ids go to ``plain_ids``."""
    for index, e in enumerate(elements):
        sid = e[0]
        if sid not in plain_ids and sid not in ENVELOPE_IDS:
            if not _valid_id(sid):
                return index
            plain_ids.add(sid)
    return None


def _index_of(elements: list[list[str]], sid: str) -> int | None:
    for index, e in enumerate(elements):
        if e[0] == sid:
            return index
    return None


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
