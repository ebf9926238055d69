"""X12 EDI: streaming reader, envelope checks, writer, 999/TA1 acknowledgments. Pure Python, no Django."""

from openipa.edi.x12.ack import build_999, build_ta1, ta1_elements, write_999
from openipa.edi.x12.delimiters import ISA_LENGTH, Delimiters
from openipa.edi.x12.envelope import (
    ElementError,
    EnvelopeError,
    EnvelopeReader,
    Group,
    Interchange,
    SegmentError,
    Transaction,
    TransactionHeader,
    TransactionResult,
    read_transactions,
)
from openipa.edi.x12.errors import X12Error
from openipa.edi.x12.reader import CHUNK_SIZE, Segment, SegmentReader, iter_segments
from openipa.edi.x12.writer import X12Writer

__all__ = [
    "CHUNK_SIZE",
    "ISA_LENGTH",
    "Delimiters",
    "ElementError",
    "EnvelopeError",
    "EnvelopeReader",
    "Group",
    "Interchange",
    "Segment",
    "SegmentError",
    "SegmentReader",
    "Transaction",
    "TransactionHeader",
    "TransactionResult",
    "X12Error",
    "X12Writer",
    "build_999",
    "build_ta1",
    "iter_segments",
    "read_transactions",
    "ta1_elements",
    "write_999",
]
