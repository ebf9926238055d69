"""Envelope checks (ISA/IEA, GS/GE, ST/SE) while streaming.

:class:`EnvelopeReader` walks the segments once and yields, for every segment inside a transaction set
(ST and SE included), the segment with its :class:`TransactionHeader` (which points to its group and
interchange): nothing is buffered, so an 834 with a million members in one ST/SE runs in constant memory.
:meth:`EnvelopeReader.transactions` is the buffered alternative: one :class:`Transaction` at a time.

With ``strict=True`` (the default) the first envelope error is raised as :class:`X12Error`. With
``strict=False`` envelope errors are recorded on the interchange, group and transaction results (the
material of 999 and TA1 acknowledgments) and reading goes on; tokenizer errors (truncated file,
garbage) always raise, since nothing after them can be trusted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from openipa.edi.x12.delimiters import Delimiters
from openipa.edi.x12.errors import X12Error
from openipa.edi.x12.reader import CHUNK_SIZE, Segment, SegmentBatch, SegmentReader, Source, open_source


@dataclass(slots=True)
class Interchange:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    version: str
    control_number: str
    ack_requested: str
    usage: str
    delimiters: Delimiters
    segment: Segment
    groups: list[Group] = field(default_factory=list)
    errors: list[EnvelopeError] = field(default_factory=list)
    closed: bool = False


@dataclass(slots=True)
class Group:
    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    version: str
    interchange: Interchange
    segment: Segment
    transactions: list[TransactionResult] = field(default_factory=list)
    errors: list[EnvelopeError] = field(default_factory=list)
    closed: bool = False
    declared_count: str = ""
    """GE01 as sent."""


@dataclass(frozen=True, slots=True)
class TransactionHeader:
    set_id: str
    control_number: str
    version: str
    """The implementation guide: ST03, else GS08."""
    group: Group
    segment: Segment


@dataclass(slots=True)
class TransactionResult:
    """What the 999 needs to know about one transaction set."""

    set_id: str
    control_number: str
    version: str
    segment_count: int = 0
    errors: list[EnvelopeError] = field(default_factory=list)
    segment_errors: list[SegmentError] = field(default_factory=list)
    rejected: bool = False
    """Set by a content validator that rejects the set for its segment errors (envelope errors always reject)."""


@dataclass(frozen=True, slots=True)
class EnvelopeError:
    """An envelope error with its acknowledgment code (IK5/AK9/TA1 code) and the X12Error."""

    code: str
    error: X12Error


@dataclass(frozen=True, slots=True)
class ElementError:
    """IK4: position (1-based), optional component, data element reference number, IK403 code, bad value."""

    position: int
    code: str
    component: int | None = None
    reference: str = ""
    value: str = ""


@dataclass(frozen=True, slots=True)
class SegmentError:
    """IK3: segment id, position in the transaction set (ST = 1), loop id, IK304 code, and IK4 details."""

    segment_id: str
    position: int
    code: str
    loop_id: str = ""
    elements: tuple[ElementError, ...] = ()


@dataclass(slots=True)
class Transaction:
    header: TransactionHeader
    segments: list[Segment]

    @property
    def set_id(self) -> str:
        return self.header.set_id

    @property
    def control_number(self) -> str:
        return self.header.control_number

    @property
    def version(self) -> str:
        """Implementation guide: ST03, else GS08."""
        return self.header.version

    @property
    def functional_id(self) -> str:
        """GS01 of the enclosing group (BE for an 834, HC for an 837, HP for an 835, RA for an 820)."""
        return self.header.group.functional_id

    @property
    def group(self) -> Group:
        return self.header.group

    @property
    def interchange(self) -> Interchange:
        return self.header.group.interchange


class EnvelopeReader:
    def __init__(
        self,
        source: Source,
        *,
        strict: bool = True,
        chunk_size: int = CHUNK_SIZE,
        filename: str | None = None,
    ) -> None:
        self.source = source
        self.strict = strict
        self.chunk_size = chunk_size
        self._filename = filename
        self.filename: str | None = filename
        self.interchanges: list[Interchange] = []
        """Every interchange read (groups and transaction results hang from them)."""
        self.segment_count = 0
        self._interchange: Interchange | None = None
        self._group: Group | None = None
        """The open interchange and group while walking."""

    # -- errors -------------------------------------------------------------------------------
    def _fail(
        self, seg: Segment, message: str, element: int | None, code: str, into: list[EnvelopeError]
    ) -> None:
        error = seg.error(message, element, self.filename)
        if self.strict:
            raise error
        into.append(EnvelopeError(code, error))

    def __iter__(self) -> Iterator[tuple[TransactionHeader, Segment]]:
        return self.segments()

    def segments(self) -> Iterator[tuple[TransactionHeader, Segment]]:
        """Every segment from ST to SE inclusive, with its transaction header; envelopes are checked."""
        for header, batch, start, stop in self.batches():
            for seg in batch.segments(start, stop):
                yield header, seg

    def batches(self) -> Iterator[tuple[TransactionHeader, SegmentBatch, int, int]]:
        """The same segments as :meth:`segments`, a run at a time: the fast path for whole-file readers.

        ``(header, batch, start, stop)`` stands for the segments ``batch.elements[start:stop]``, all inside
        the transaction set ``header``. A run holds segments of one batch and one transaction set; an ST
        always starts a run and an SE always ends one. Errors are raised (or recorded) at the same points
        as with :meth:`segments`: every segment before an error has been yielded when it is raised.
        """
        stream, name, close = open_source(self.source)
        self.filename = self._filename or name
        try:
            yield from self._walk(SegmentReader(stream, filename=self.filename, chunk_size=self.chunk_size))
        finally:
            if close:
                stream.close()  # type: ignore[attr-defined]

    def transactions(self) -> Iterator[Transaction]:
        """One buffered transaction set at a time."""
        current: Transaction | None = None
        for header, seg in self.segments():
            if current is None or current.header is not header:
                current = Transaction(header, [])
            current.segments.append(seg)
            if seg.id == "SE":
                yield current
                current = None

    def _walk(self, reader: SegmentReader) -> Iterator[tuple[TransactionHeader, SegmentBatch, int, int]]:
        self._interchange = None
        self._group = None
        header: TransactionHeader | None = None
        result: TransactionResult | None = None
        count = 0  # segments in the current transaction, ST included
        last: SegmentBatch | None = None
        envelope_ids = _BOUNDARY_IDS
        for batch in reader.batches():
            last = batch
            elements = batch.elements
            size = len(elements)
            if header is not None and batch.plain:
                # the common case: the whole batch is inside the open transaction set
                count += size
                yield header, batch, 0, size
                continue
            run = 0  # start of the run of the open transaction set in this batch
            for index, e in enumerate(elements):
                sid = e[0]
                if header is not None:
                    assert result is not None
                    count += 1
                    if sid not in envelope_ids:
                        continue
                    if run < index:
                        yield header, batch, run, index
                    seg = batch.segment(index)
                    if sid == "SE":
                        self._close_transaction(seg, header, result, count)
                        yield header, batch, index, index + 1
                        header = result = None
                        continue
                    # ST/GS/GE/ISA/IEA inside a transaction: the SE is missing
                    self._fail(
                        seg,
                        f"{sid} inside transaction set {header.control_number}: SE missing",
                        None,
                        "2",
                        result.errors,
                    )
                    result.segment_count = count - 1
                    header = result = None
                    # fall through to handle sid as an envelope segment
                else:
                    seg = batch.segment(index)
                opened = self._envelope(seg, reader)
                if opened is not None:
                    header, result = opened
                    count = 1
                    run = index
            if header is not None and run < size:
                yield header, batch, run, size
        self.segment_count = reader.segment_count
        if last is None:
            return
        end_seg = last.segment(len(last) - 1)
        end = X12Error(
            "",
            segment_number=end_seg.number,
            byte_offset=end_seg.offset,
            segment_id=end_seg.id,
            filename=self.filename,
        )
        interchange, group = self._interchange, self._group
        if header is not None and result is not None:
            end.message = f"file ends inside transaction set {header.control_number} (SE missing)"
            self._record(end, "2", result.errors)
        elif group is not None and not group.closed:
            end.message = f"file ends inside functional group {group.control_number} (GE missing)"
            self._record(end, "3", group.errors)
        elif interchange is not None and not interchange.closed:
            end.message = f"file ends inside interchange {interchange.control_number} (IEA missing)"
            self._record(end, "023", interchange.errors)

    def _envelope(
        self, seg: Segment, reader: SegmentReader
    ) -> tuple[TransactionHeader, TransactionResult] | None:
        """A segment outside any transaction set: ST (the header of the set it opens), GS, GE, ISA, IEA."""
        fail = self._fail
        interchange = self._interchange
        group = self._group
        sid = seg.id
        if sid == "ST":
            if group is None or group.closed:
                errors = interchange.errors if interchange is not None else []
                fail(seg, "ST outside a functional group (GS missing)", None, "024", errors)
                return None
            set_id = seg.get(1)
            control = seg.get(2)
            result = TransactionResult(set_id, control, seg.get(3) or group.version)
            group.transactions.append(result)
            if not set_id:
                fail(seg, "transaction set identifier (ST01) missing", 1, "6", result.errors)
            if not control:
                fail(seg, "transaction set control number (ST02) missing", 2, "7", result.errors)
            return TransactionHeader(set_id, control, result.version, group, seg), result
        if sid == "GS":
            if interchange is None or interchange.closed:
                fail(seg, "GS outside an interchange (ISA missing)", None, "024", [])
                return None
            if group is not None and not group.closed:
                fail(seg, f"GS before GE of group {group.control_number}", None, "3", group.errors)
            group = self._group = Group(
                seg.get(1),
                seg.get(2),
                seg.get(3),
                seg.get(4),
                seg.get(5),
                seg.get(6),
                seg.get(8),
                interchange,
                seg,
            )
            interchange.groups.append(group)
            if not group.control_number:
                fail(seg, "group control number (GS06) missing", 6, "6", group.errors)
        elif sid == "GE":
            if group is None or group.closed:
                errors = interchange.errors if interchange is not None else []
                fail(seg, "GE without GS", None, "022", errors)
                return None
            group.closed = True
            declared = group.declared_count = seg.get(1)
            actual = len(group.transactions)
            if _count(declared) != actual:
                fail(
                    seg,
                    f"transaction set count {declared or '(empty)'} does not match {actual} transaction sets",
                    1,
                    "5",
                    group.errors,
                )
            if seg.get(2) != group.control_number:
                fail(
                    seg,
                    f"group control number {seg.get(2)!r} does not match GS06 {group.control_number!r}",
                    2,
                    "4",
                    group.errors,
                )
        elif sid == "ISA":
            if interchange is not None and not interchange.closed:
                fail(
                    seg,
                    f"ISA before IEA of interchange {interchange.control_number}",
                    None,
                    "023",
                    interchange.errors,
                )
            e = seg.elements
            if len(e) != 17:
                raise seg.error(f"ISA has {len(e) - 1} elements, expected 16", None, self.filename)
            assert reader.delimiters is not None
            interchange = self._interchange = Interchange(
                e[5],
                e[6].rstrip(),
                e[7],
                e[8].rstrip(),
                e[9],
                e[10],
                e[12],
                e[13],
                e[14],
                e[15],
                reader.delimiters,
                seg,
            )
            self.interchanges.append(interchange)
            self._group = None
            if not (e[13].isascii() and e[13].isdigit() and len(e[13]) == 9):
                fail(
                    seg,
                    f"interchange control number {e[13]!r} is not 9 digits",
                    13,
                    "018",
                    interchange.errors,
                )
        elif sid == "IEA":
            if interchange is None or interchange.closed:
                fail(seg, "IEA without ISA", None, "022", [])
                return None
            if group is not None and not group.closed:
                fail(seg, f"GE missing for group {group.control_number}", None, "3", group.errors)
                group.closed = True
            interchange.closed = True
            declared = seg.get(1)
            actual = len(interchange.groups)
            if _count(declared) != actual:
                fail(
                    seg,
                    f"group count {declared or '(empty)'} does not match {actual} functional groups",
                    1,
                    "021",
                    interchange.errors,
                )
            if seg.get(2) != interchange.control_number:
                fail(
                    seg,
                    f"interchange control number {seg.get(2)!r} does not match ISA13 "
                    f"{interchange.control_number!r}",
                    2,
                    "001",
                    interchange.errors,
                )
        else:
            where = (
                "between transaction sets" if group is not None and not group.closed else "outside a group"
            )
            errors = interchange.errors if interchange is not None else []
            fail(seg, f"segment {sid} {where} (ST missing)", None, "024", errors)
        return None

    def _record(self, error: X12Error, code: str, into: list[EnvelopeError]) -> None:
        if self.strict:
            raise error
        into.append(EnvelopeError(code, error))

    def _close_transaction(
        self, seg: Segment, header: TransactionHeader, result: TransactionResult, count: int
    ) -> None:
        result.segment_count = count
        declared = seg.get(1)
        if _count(declared) != count:
            self._fail(
                seg,
                f"segment count {declared or '(empty)'} does not match {count} segments",
                1,
                "4",
                result.errors,
            )
        if seg.get(2) != header.control_number:
            self._fail(
                seg,
                f"control number {seg.get(2)!r} does not match ST02 {header.control_number!r}",
                2,
                "3",
                result.errors,
            )


def _count(value: str) -> int | None:
    """A count element as a number (ASCII digits only), or None."""
    return int(value) if value.isascii() and value.isdigit() else None


_ENVELOPE_IDS = frozenset({"ST", "GS", "GE", "ISA", "IEA"})
_BOUNDARY_IDS = _ENVELOPE_IDS | {"SE"}
"""The ids that end a run of transaction set segments."""


def read_transactions(source: Source, *, chunk_size: int = CHUNK_SIZE) -> Iterator[Transaction]:
    """Strictly checked transaction sets of a file, one buffered at a time."""
    return EnvelopeReader(source, chunk_size=chunk_size).transactions()
