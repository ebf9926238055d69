"""Counts per transaction set in an X12 file, streamed (no database, constant memory).

Business counts: 834 members = INS segments; 837 claims = CLM segments; 835 remittances = CLP segments
(claim payments); 820 remittances = RMR segments (remittance detail: one per premium item paid; ENT only
groups them by entity, so RMR is the count of paid items); 278 reviews = UM segments (one per patient event and
one per service asked for under it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openipa.edi.x12.envelope import EnvelopeReader, TransactionHeader
from openipa.edi.x12.errors import X12Error
from openipa.edi.x12.reader import CHUNK_SIZE, Source

COUNTED = {
    "834": ("members", "INS"),
    "837": ("claims", "CLM"),
    "835": ("remittances", "CLP"),
    "820": ("remittances", "RMR"),
    "278": ("reviews", "UM"),
}


@dataclass(slots=True)
class SetStats:
    transactions: int = 0
    segments: int = 0
    items: int = 0
    item_name: str | None = None

    def as_dict(self) -> dict[str, int]:
        out = {"transactions": self.transactions, "segments": self.segments}
        if self.item_name:
            out[self.item_name] = self.items
        return out


@dataclass(slots=True)
class FileStats:
    file: str | None = None
    interchanges: int = 0
    groups: int = 0
    transactions: int = 0
    segments: int = 0
    by_transaction_set: dict[str, SetStats] = field(default_factory=dict)
    error: X12Error | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "file": self.file,
            "interchanges": self.interchanges,
            "groups": self.groups,
            "transactions": self.transactions,
            "segments": self.segments,
            "by_transaction_set": {k: v.as_dict() for k, v in sorted(self.by_transaction_set.items())},
        }
        if self.error is not None:
            out["error"] = self.error.as_dict()
        return out


def file_stats(source: Source, *, chunk_size: int = CHUNK_SIZE, filename: str | None = None) -> FileStats:
    """Counts for a file; on the first error, the counts so far and ``error`` set (never raises X12Error)."""
    reader = EnvelopeReader(source, chunk_size=chunk_size, filename=filename)
    stats = FileStats()
    by_set = stats.by_transaction_set
    current = SetStats()
    counted = ""
    open_header: TransactionHeader | None = None
    pending = 0  # segments of the open transaction set so far
    try:
        for header, batch, start, stop in reader.batches():
            elements = batch.elements
            if header is not open_header:  # an ST starts the run
                open_header = header
                set_id = header.set_id
                current = by_set.get(set_id) or by_set.setdefault(set_id, SetStats())
                name, counted = COUNTED.get(set_id, (None, ""))
                current.item_name = name
                current.transactions += 1
                pending = 0
            if counted:
                current.items += [e[0] for e in elements[start:stop]].count(counted)
            pending += stop - start
            if elements[stop - 1][0] == "SE":
                current.segments += pending
                open_header = None
    except X12Error as exc:
        stats.error = exc
    stats.file = reader.filename
    stats.interchanges = len(reader.interchanges)
    stats.groups = sum(len(i.groups) for i in reader.interchanges)
    stats.transactions = sum(len(g.transactions) for i in reader.interchanges for g in i.groups)
    stats.segments = reader.segment_count
    if stats.error is not None and stats.error.segment_number:
        stats.segments = stats.error.segment_number - 1  # the segments read before the one in error
    return stats
