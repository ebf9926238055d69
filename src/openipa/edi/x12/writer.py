"""Write valid X12 with chosen delimiters: the writer counts segments and keeps the control numbers.

    w = X12Writer(stream, Delimiters("|", "!", "^", "~"), newline=True)
    w.start_interchange("ZZ", "SENDER", "ZZ", "RECEIVER", control_number=1)
    w.start_group("BE", "SENDER", "RECEIVER", control_number=1, version="005010X220A1")
    w.start_transaction("834", "0001", "005010X220A1")
    w.segment("BGN", "00", "12456", "20240101")
    w.end_transaction(); w.end_group(); w.end_interchange()

Elements may be strings, or sequences of strings for composites (joined with the component separator).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import BinaryIO

from openipa.edi.x12.delimiters import Delimiters

Element = str | Sequence[str]


class X12Writer:
    def __init__(
        self, stream: BinaryIO, delimiters: Delimiters | None = None, *, newline: bool = False
    ) -> None:
        self.stream = stream
        self.delimiters = delimiters or Delimiters()
        self.terminator = self.delimiters.segment + (
            "\n" if newline and self.delimiters.segment != "\n" else ""
        )
        self._forbidden = {self.delimiters.element, self.delimiters.component, self.delimiters.segment}
        if self.delimiters.repetition:
            self._forbidden.add(self.delimiters.repetition)
        self._inner = self._forbidden - {self.delimiters.element}
        """What no element may hold, but for the element separator (counted instead)."""
        self._isa_control = ""
        self._gs_control = ""
        self._st_control = ""
        self._groups = 0
        self._transactions = 0
        self._segments = 0
        self.segments_written = 0

    def _element(self, value: Element) -> str:
        if isinstance(value, str):
            # the common case: one set intersection instead of a scan per character
            if self._forbidden.isdisjoint(value):
                return value
            raise ValueError(f"element {value!r} contains a delimiter")
        parts = list(value)
        for part in parts:
            if not self._forbidden.isdisjoint(part):
                raise ValueError(f"element {part!r} contains a delimiter")
        return self.delimiters.component.join(parts)

    def raw(self, text: str) -> None:
        self.stream.write((text + self.terminator).encode("latin-1"))
        self.segments_written += 1

    def block(self, text: str, segments: int) -> None:
        """``segments`` segments already written out, each with its terminator (a bulk writer's, which checked
        its elements for delimiters), counted into the transaction set."""
        self.stream.write(text.encode("latin-1"))
        self.segments_written += segments
        self._segments += segments

    def segment(self, segment_id: str, *elements: Element) -> None:
        """One segment; trailing empty elements are dropped, as X12 requires."""
        separator = self.delimiters.element
        try:
            # the common case, every element a string: one join and two checks for the whole segment
            text = separator.join(elements)  # type: ignore[arg-type]
        except TypeError:  # a composite among them
            text = None
        if text is not None and self._inner.isdisjoint(text) and text.count(separator) == len(elements) - 1:
            # no element held a delimiter; trailing empty elements are trailing separators
            self.raw(f"{segment_id}{separator}{text}".rstrip(separator))
            self._segments += 1
            return
        values = [self._element(e) for e in elements]
        while values and values[-1] == "":
            values.pop()
        self.raw(self.delimiters.element.join([segment_id, *values]))
        self._segments += 1

    def start_interchange(
        self,
        sender_qualifier: str,
        sender_id: str,
        receiver_qualifier: str,
        receiver_id: str,
        *,
        control_number: int,
        when: dt.datetime | None = None,
        version: str = "00501",
        ack_requested: bool = False,
        usage: str = "P",
    ) -> None:
        when = when or dt.datetime(2000, 1, 1)
        d = self.delimiters
        if len(d.element) != 1:
            raise ValueError("element separator")
        self._isa_control = f"{control_number:09d}"
        if len(self._isa_control) != 9:
            raise ValueError("interchange control number has at most 9 digits")
        fields = [
            "00",
            " " * 10,
            "00",
            " " * 10,
            f"{sender_qualifier:<2.2}",
            f"{sender_id:<15.15}",
            f"{receiver_qualifier:<2.2}",
            f"{receiver_id:<15.15}",
            when.strftime("%y%m%d"),
            when.strftime("%H%M"),
            d.repetition or "U",
            f"{version:<5.5}",
            self._isa_control,
            "1" if ack_requested else "0",
            usage,
            d.component,
        ]
        text = d.element.join(["ISA", *fields])
        assert len(text) == 105, len(text)
        self.raw(text)
        self._groups = 0

    def start_group(
        self,
        functional_id: str,
        sender: str,
        receiver: str,
        *,
        control_number: int,
        version: str,
        when: dt.datetime | None = None,
    ) -> None:
        when = when or dt.datetime(2000, 1, 1)
        self._gs_control = str(control_number)
        self.segment(
            "GS", functional_id, sender, receiver, when.strftime("%Y%m%d"), when.strftime("%H%M"),
            self._gs_control, "X", version,
        )  # fmt: skip
        self._groups += 1
        self._transactions = 0

    def start_transaction(self, set_id: str, control_number: str, version: str = "") -> None:
        self._st_control = control_number
        self._segments = 0
        self.segment("ST", set_id, control_number, version)
        self._transactions += 1

    def end_transaction(self) -> None:
        self.segment("SE", str(self._segments + 1), self._st_control)

    def end_group(self) -> None:
        self.segment("GE", str(self._transactions), self._gs_control)

    def end_interchange(self) -> None:
        self.segment("IEA", str(self._groups), self._isa_control)
