"""The one error type of the X12 package: where it happened, and a plain message."""

from __future__ import annotations


class X12Error(Exception):
    """A malformed or inconsistent X12 file.

    ``segment_number`` is 1-based within the file (the first ISA is segment 1), ``byte_offset`` is the
    0-based offset of the segment's first byte in the file (a byte-order mark counts), ``element`` is the
    1-based element position (ISA13 -> 13) or None when the whole segment is at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        segment_number: int | None = None,
        byte_offset: int | None = None,
        segment_id: str | None = None,
        element: int | None = None,
        filename: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.segment_number = segment_number
        self.byte_offset = byte_offset
        self.segment_id = segment_id
        self.element = element
        self.filename = filename

    def __str__(self) -> str:
        where: list[str] = []
        if self.segment_number is not None:
            seg = f"segment {self.segment_number}"
            if self.segment_id:
                seg += f" ({self.segment_id})"
            where.append(seg)
        elif self.segment_id:
            where.append(f"segment {self.segment_id}")
        if self.byte_offset is not None:
            where.append(f"at byte {self.byte_offset}")
        text = " ".join(where)
        if self.element is not None:
            text = f"{text}, element {self.element}" if text else f"element {self.element}"
        if self.filename:
            text = f"{self.filename}: {text}" if text else self.filename
        return f"{text}: {self.message}" if text else self.message

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "message": self.message,
            "segment_number": self.segment_number,
            "byte_offset": self.byte_offset,
            "segment_id": self.segment_id,
            "element": self.element,
            "filename": self.filename,
        }

    def with_filename(self, filename: str | None) -> X12Error:
        if filename is not None and self.filename is None:
            self.filename = filename
        return self
