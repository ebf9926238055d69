"""Delimiters, read from the fixed-width ISA segment (never assumed)."""

from __future__ import annotations

from dataclasses import dataclass

from openipa.edi.x12.errors import X12Error

ISA_LENGTH = 106
"""ISA is fixed width: 'ISA', 16 elements of fixed size, 16 element separators, the terminator."""

# 0-based positions of the 16 element separators in the ISA (after ISA, ISA01 .. ISA15).
_ISA_SEPARATORS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_COMPONENT = 104  # ISA16
_REPETITION = 82  # ISA11 (repetition separator since 00501; "U" before)
_TERMINATOR = 105

BOM = "\ufeff".encode()


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    repetition: str | None = "^"
    segment: str = "~"

    def __post_init__(self) -> None:
        chars = [self.element, self.component, self.segment]
        if self.repetition is not None:
            chars.append(self.repetition)
        if any(len(c) != 1 for c in chars):
            raise ValueError("each delimiter is exactly one character")
        if len(set(chars)) != len(chars):
            raise ValueError(f"delimiters must differ from each other: {chars!r}")
        if any(c.isalnum() or c == " " for c in chars):
            raise ValueError(f"delimiters cannot be letters, digits or space: {chars!r}")

    @classmethod
    def from_isa(
        cls, isa: bytes | str, *, offset: int = 0, filename: str | None = None, segment_number: int = 1
    ) -> Delimiters:
        """Read the delimiters from the first 106 characters of an interchange (a leading UTF-8 BOM is skipped)."""
        text = isa.decode("latin-1") if isinstance(isa, bytes) else isa
        if text.startswith("\ufeff"):
            text = text[1:]
        elif text.startswith("\xef\xbb\xbf"):  # a UTF-8 BOM decoded as latin-1
            text = text[3:]
            offset += 3

        def fail(message: str, element: int | None = None) -> X12Error:
            return X12Error(
                message,
                segment_number=segment_number,
                byte_offset=offset,
                segment_id="ISA",
                element=element,
                filename=filename,
            )

        if not text.startswith("ISA"):
            shown = text[:3].encode("latin-1", "replace").decode("ascii", "backslashreplace")
            raise fail(f"interchange must start with ISA, found {shown!r}")
        if len(text) < ISA_LENGTH:
            raise fail(f"ISA segment is {len(text)} characters, expected {ISA_LENGTH} (file too short)")
        element = text[3]
        for number, position in enumerate(_ISA_SEPARATORS, start=1):
            if text[position] != element:
                # find the actual length of the element that is too long or too short
                raise fail(
                    f"ISA is not fixed width: element separator {element!r} expected at character "
                    f"{position + 1}, found {text[position]!r}",
                    element=number - 1 if number > 1 else 1,
                )
        component = text[_COMPONENT]
        segment = text[_TERMINATOR]
        repetition: str | None = text[_REPETITION]
        version = text[84:89]
        if repetition is not None and (repetition.isalnum() or version < "00501"):
            repetition = None  # 4010: ISA11 is the standards identifier "U"
        try:
            return cls(element=element, component=component, repetition=repetition, segment=segment)
        except ValueError as exc:
            raise fail(f"invalid delimiters: {exc}", element=16) from None

    def isa_fields(self) -> str:
        """The characters the writer puts in ISA11 (repetition) and ISA16 (component)."""
        return (self.repetition or "U") + self.component
