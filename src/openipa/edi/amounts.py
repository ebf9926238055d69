"""X12 amounts (data type R: BPR02, RMR04, ADX01, CLP04, PLB04...) read into integer cents and written back.

An amount is read from its text, never through a float: ``"1234.5"`` is 123450 cents, ``"-1.27"`` is -127.
X12 allows an optional leading minus, digits and an optional decimal point (``"12"``, ``"12.5"``, ``".5"``),
at most 18 digits. Refused, with an :class:`X12Error` naming the segment and element: a third decimal
place that is not zero (``"12.345"`` would lose a fraction of a cent), an exponent (``"1e3"``), a plus sign,
spaces, or anything else that is not a decimal number. Trailing zeros past the cents (``"12.340"``) are
accepted, since they change nothing.
"""

from __future__ import annotations

import re

from openipa.edi.x12.reader import Segment

MAX_DIGITS = 18
"""X12 R elements are at most 18 digits long (sign and decimal point not counted)."""

_AMOUNT = re.compile(r"(-?)(\d*)(?:\.(\d*))?", re.ASCII)


class AmountError(ValueError):
    """Text that is not an exact X12 amount in cents; the message says why."""


def parse_cents(text: str) -> int:
    """The X12 decimal ``text`` in integer cents; :class:`AmountError` saying why when it is not one.

    Only ``str`` is accepted: a float has already lost its cents, so passing one is a TypeError.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_cents() takes the element's text, not {type(text).__name__}")
    match = _AMOUNT.fullmatch(text)
    if match is None or not (match.group(2) or match.group(3)):
        raise AmountError(_why_not(text))
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    if len(whole) + len(fraction) > MAX_DIGITS:
        raise AmountError(f"{text!r} has more than {MAX_DIGITS} digits")
    if fraction[2:].strip("0"):
        raise AmountError(f"{text!r} has more than two decimal places (amounts are in whole cents)")
    cents = int(whole or "0") * 100 + int((fraction[:2] or "0").ljust(2, "0"))
    return -cents if sign else cents


def _why_not(text: str) -> str:
    if not text:
        return "amount is empty"
    if text.strip() != text:
        return f"{text!r} has spaces around the amount"
    if re.fullmatch(r"[-+]?[\d.]+[eE][-+]?\d+", text, re.ASCII):
        return f"{text!r} is written with an exponent, which X12 amounts do not allow"
    if text.startswith("+"):
        return f"{text!r} has a plus sign, which X12 amounts do not allow"
    return f"{text!r} is not a decimal amount"


def element_cents(seg: Segment, element: int, filename: str | None) -> int:
    """The amount in ``seg``'s ``element`` (required) in cents; X12Error naming the element if it is not one."""
    text = seg.get(element)
    if not text:
        raise seg.error(f"amount ({seg.id}{element:02d}) is missing", element, filename)
    try:
        return parse_cents(text)
    except AmountError as exc:
        raise seg.error(str(exc), element, filename) from None


def optional_cents(seg: Segment, element: int, filename: str | None) -> int | None:
    """Like :func:`element_cents`, but None when the element is empty or absent."""
    return element_cents(seg, element, filename) if seg.get(element) else None


def format_cents(cents: int) -> str:
    """``cents`` as an X12 R amount: 123450 -> "1234.5", 1200 -> "12", 5 -> "0.05", -127 -> "-1.27".

    Trailing zeros after the decimal point are dropped, as the X12 R type asks. ValueError for more than
    18 digits; TypeError for anything but an int (a float amount has already lost its cents).
    """
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"format_cents() takes int cents, not {type(cents).__name__}")
    known = _FORMATTED.get(cents)
    if known is not None:
        return known
    dollars, rest = divmod(abs(cents), 100)
    text = f"{dollars}.{rest:02d}".rstrip("0").rstrip(".")
    if len(text.replace(".", "")) > MAX_DIGITS:
        raise ValueError(f"{cents} cents has more than {MAX_DIGITS} digits")
    text = f"-{text}" if cents < 0 else text
    if len(_FORMATTED) >= 50_000:
        _FORMATTED.clear()
    _FORMATTED[int(cents)] = text
    return text


_FORMATTED: dict[int, str] = {}
"""Amounts already formatted (an 835 repeats a few charges and fees on every line); bounded."""
