"""Flat CSV capitation remittances: one row per member-month paid, mapped by a per-payer profile.

Many plans send capitation detail as their own CSV file instead of an X12 820. A :class:`CsvRemitProfile`
(stored as JSON on the payer's capitation profile) says which column holds which field; :func:`read_csv_remit`
streams the rows as :class:`RemitRow`. Errors raise :class:`X12Error` with ``segment_number`` = the 1-based
line, ``segment_id`` = the column header and ``element`` = the 1-based column, like the CSV roster reader.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from openipa.edi.amounts import AmountError, parse_cents
from openipa.edi.csvroster import TextLines
from openipa.edi.x12.errors import X12Error
from openipa.edi.x12.reader import CHUNK_SIZE, Source, open_source

TARGETS: dict[str, str] = {
    "member_id": "the payer's member id; empty on a payer-level line (an adjustment for the whole payment)",
    "month": "coverage month paid (see month_format); required",
    "amount": "amount paid, in dollars with at most two decimals (negative: a recoupment); required",
    "kind": "capitation (default), retro, adjustment or interest",
    "reason": "the payer's reason code for an adjustment",
    "reference": "rate cell or other reference, kept as sent",
    "last_name": "member's last name, kept for the record",
}
REQUIRED_TARGETS = ("month", "amount")
KINDS = ("capitation", "retro", "adjustment", "interest")
MAX_LINE = 1 << 20


@dataclass(frozen=True)
class CsvRemitProfile:
    """How one payer's CSV remittance maps onto remittance fields. Headers match without regard to case."""

    columns: Mapping[str, str] = field(default_factory=dict)
    month_format: str = "%Y-%m"
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    kind_values: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", dict(self.columns))
        object.__setattr__(self, "kind_values", {k.strip().lower(): v for k, v in self.kind_values.items()})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CsvRemitProfile:
        known = {"columns", "month_format", "delimiter", "encoding", "kind_values"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown profile keys: {', '.join(unknown)}")
        return cls(**{k: v for k, v in data.items() if k in known})

    def as_dict(self) -> dict[str, Any]:
        return {
            "columns": dict(self.columns),
            "month_format": self.month_format,
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "kind_values": dict(self.kind_values),
        }

    def problems(self) -> list[str]:
        """What makes this profile unusable, in words (empty when it is fine)."""
        out = [f"no column is mapped to {t!r}" for t in REQUIRED_TARGETS if not self.columns.get(t)]
        out += [f"{t!r} is not a remittance field" for t in self.columns if t not in TARGETS]
        if len(self.delimiter) != 1:
            out.append("the delimiter must be one character")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            out.append(f"unknown encoding {self.encoding!r}")
        try:
            probe = dt.date(2024, 11, 1)
            if dt.datetime.strptime(probe.strftime(self.month_format), self.month_format).date() != probe:
                out.append(f"month format {self.month_format!r} does not read back the month")
        except ValueError:
            out.append(f"month format {self.month_format!r} is not a date format")
        bad = sorted(v for v in self.kind_values.values() if v not in KINDS)
        if bad:
            out.append(f"kind values must map to {', '.join(KINDS)} (not {', '.join(bad)})")
        return out


@dataclass(frozen=True, slots=True)
class RemitRow:
    line: int
    member_id: str
    month: dt.date
    amount_cents: int
    kind: str
    reason_code: str
    reference: str


def read_csv_remit(
    source: Source, profile: CsvRemitProfile, *, filename: str | None = None
) -> Iterator[RemitRow]:
    """The rows of a CSV remittance, one at a time; raises X12Error at the first bad line."""
    problems = profile.problems()
    if problems:
        raise ValueError("; ".join(problems))
    stream, name, close = open_source(source)
    name = filename or name
    try:
        yield from _rows(iter(TextLines(stream, profile.encoding, name, CHUNK_SIZE)), profile, name)
    finally:
        if close:
            stream.close()  # type: ignore[attr-defined]


def _rows(text: Any, profile: CsvRemitProfile, name: str | None) -> Iterator[RemitRow]:
    reader = csv.reader(text, delimiter=profile.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise X12Error("the file is empty (no header line)", segment_number=1, filename=name) from None
    positions = {h.strip().lower(): i for i, h in enumerate(header)}
    where: dict[str, int] = {}
    for target, column in profile.columns.items():
        index = positions.get(column.strip().lower())
        if index is None:
            raise X12Error(
                f"column {column!r} (mapped to {target}) is not in the header",
                segment_number=1,
                filename=name,
            )
        where[target] = index

    def cell(row: list[str], target: str) -> str:
        index = where.get(target)
        return row[index].strip() if index is not None and index < len(row) else ""

    for row in reader:
        line = reader.line_num
        if sum(len(c) for c in row) > MAX_LINE:
            raise X12Error("line too long", segment_number=line, filename=name)
        if not any(c.strip() for c in row):
            continue

        def fail(target: str, message: str, line: int = line) -> X12Error:
            return X12Error(message, segment_number=line, segment_id=profile.columns.get(target, target),
                            element=where.get(target, -1) + 1 or None, filename=name)  # fmt: skip

        month_text = cell(row, "month")
        try:
            month = dt.datetime.strptime(month_text, profile.month_format).date().replace(day=1)
        except ValueError:
            raise fail(
                "month", f"{month_text!r} is not a month in the format {profile.month_format}"
            ) from None
        amount_text = cell(row, "amount").replace("$", "").replace(",", "")
        try:
            cents = parse_cents(amount_text)
        except AmountError as exc:
            raise fail("amount", str(exc)) from None
        sent_kind = cell(row, "kind")
        kind = profile.kind_values.get(sent_kind.lower(), sent_kind.lower()) if sent_kind else "capitation"
        if kind not in KINDS:
            raise fail("kind", f"{sent_kind!r} is not one of {', '.join(KINDS)} (map it on the profile)")
        member = cell(row, "member_id")
        if not member and kind in ("capitation", "retro"):
            raise fail("member_id", f"a {kind} line needs a member id")
        yield RemitRow(
            line, member, month, cents, kind, cell(row, "reason")[:10], cell(row, "reference")[:50]
        )
