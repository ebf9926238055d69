"""X12 dates: CCYYMMDD (D8) and CCYYMMDD-CCYYMMDD (RD8) elements read into dates, with exact error positions."""

from __future__ import annotations

import datetime as dt

from openipa.edi.x12.reader import Segment


def parse_d8(text: str) -> dt.date | None:
    """A CCYYMMDD date, or None when ``text`` is not one (wrong length, not digits, no such day)."""
    if len(text) == 8 and text.isascii() and text.isdigit():
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    return None


def element_date(seg: Segment, element: int, filename: str | None, text: str | None = None) -> dt.date:
    """The CCYYMMDD date in ``seg``'s element (or ``text`` read from it); X12Error naming the element if not."""
    text = seg.get(element) if text is None else text
    day = parse_d8(text)
    if day is None:
        raise seg.error(f"{text!r} is not a CCYYMMDD date", element, filename)
    return day


def dtp_range(seg: Segment, filename: str | None) -> tuple[dt.date, dt.date | None]:
    """A DTP segment's DTP02 D8 or RD8 and DTP03: (start, end of the range or None for D8)."""
    fmt, text = seg.get(2), seg.get(3)
    if fmt == "D8":
        return element_date(seg, 3, filename), None
    if fmt == "RD8":
        start, sep, end = text.partition("-")
        first, last = parse_d8(start), parse_d8(end)
        if not sep or first is None or last is None:
            raise seg.error(f"{text!r} is not a CCYYMMDD-CCYYMMDD date range", 3, filename)
        if last < first:
            raise seg.error(f"date range {text!r} ends before it starts", 3, filename)
        return first, last
    raise seg.error(f"date format qualifier {fmt!r} is not D8 or RD8", 2, filename)
