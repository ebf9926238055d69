"""Acknowledgments: the 999 implementation acknowledgment and the TA1 interchange acknowledgment.

Layouts follow ASC X12 005010X231A1 (999) and the X12 interchange control structure (TA1):

    ST*999*0001*005010X231A1~
    AK1*GS01*GS06*GS08~                       functional group response header
    AK2*ST01*ST02*ST03~                       loop 2000, one per transaction set received
    IK3*ID*position*loop*code~                loop 2100, segment error (position: ST = 1)
    IK4*pos:comp:rep*element ref*code*bad~    loop 2110, element error
    IK5*A|E|R*code...~                        transaction set response trailer
    AK9*A|E|P|R*included*received*accepted*code...~
    SE*n*0001~

    TA1*ISA13*ISA09*ISA10*A|E|R*note code~

Codes used here (X12 code lists):
- IK304 segment syntax error: 1 unrecognized segment id, 2 unexpected segment, 3 required segment missing,
  4 loop occurs over maximum times, 5 segment exceeds maximum use, 6 segment not in defined transaction set,
  7 segment not in proper sequence, 8 segment has data element errors, I4 "not used" segment present,
  I6 implementation dependent segment missing, I7 loop occurs under minimum times, I8 segment below minimum use.
- IK403 element syntax error: 1 required element missing, 2 conditional required element missing, 3 too many
  elements, 4 too short, 5 too long, 6 invalid character, 7 invalid code value, 8 invalid date, 9 invalid
  time, 10 exclusion condition violated, 12 too many repetitions, 13 too many components, I10 "not used"
  element present, I12 implementation pattern match failure.
- IK5 A accepted, E accepted but errors were noted, R rejected; IK502..IK506: 1 transaction set not supported,
  2 trailer missing, 3 control number in header and trailer do not match, 4 number of included segments does
  not match actual count, 5 one or more segments in error, 6 missing or invalid transaction set identifier,
  7 missing or invalid transaction set control number, 23 control number not unique within the group.
- AK9 A, E, P partially accepted (some sets rejected), R rejected; AK905..AK909: 1 functional group not
  supported, 2 version not supported, 3 group trailer missing, 4 group control number in GS and GE do not
  agree, 5 number of included transaction sets does not match actual count, 6 group control number violates
  syntax.
- TA104 A accepted, E accepted with errors, R rejected; TA105 note codes: 000 no error, 001 control numbers in
  ISA and IEA do not match, 018 invalid interchange control number value, 021 invalid number of included
  groups, 022 invalid control structure, 023 improper (premature) end of file, 024 invalid interchange content.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openipa.edi.x12.delimiters import Delimiters
from openipa.edi.x12.envelope import (
    ElementError,
    EnvelopeReader,
    Group,
    Interchange,
    SegmentError,
    TransactionResult,
)
from openipa.edi.x12.errors import X12Error
from openipa.edi.x12.writer import X12Writer

IMPLEMENTATION_999 = "005010X231A1"


def transaction_status(result: TransactionResult) -> tuple[str, list[str]]:
    """IK501 (A/E/R) and the IK502.. codes for one transaction set."""
    codes = [e.code for e in result.errors]
    if result.segment_errors:
        codes.append("5")
    codes = list(dict.fromkeys(codes))[:5]
    if result.errors or result.rejected:
        return "R", codes
    if result.segment_errors:
        return "E", codes
    return "A", []


def group_status(group: Group) -> tuple[str, int, int, int, list[str]]:
    """AK901..AK904 and the AK905.. codes for a functional group."""
    received = len(group.transactions)
    statuses = [transaction_status(t)[0] for t in group.transactions]
    accepted = sum(1 for s in statuses if s != "R")
    declared = group.declared_count
    included = int(declared) if declared.isascii() and declared.isdigit() else received
    codes = list(dict.fromkeys(e.code for e in group.errors))[:5]
    if codes or (received and accepted == 0):
        status = "R"
    elif accepted < received:
        status = "P"
    elif "E" in statuses:
        status = "E"
    else:
        status = "A"
    return status, included, received, accepted, codes


def write_999(writer: X12Writer, group: Group, control_number: str = "0001") -> None:
    """One 999 transaction set (ST..SE) acknowledging ``group``."""
    writer.start_transaction("999", control_number, IMPLEMENTATION_999)
    e = functools.partial(_clean, writer=writer)  # values echoed from the file lose any delimiter in them
    writer.segment("AK1", e(group.functional_id), e(group.control_number), e(group.version))
    for result in group.transactions:
        writer.segment("AK2", e(result.set_id), e(result.control_number), e(result.version))
        for error in result.segment_errors:
            # IK303 (loop identifier code, element 447) is 1-4 characters: "2100A" is sent as "2100"
            writer.segment("IK3", e(error.segment_id), str(error.position), error.loop_id[:4], error.code)
            for element in error.elements:
                position = [str(element.position)]
                if element.component is not None:
                    position.append(str(element.component))
                writer.segment(
                    "IK4", position, element.reference, element.code, _clean(element.value, writer)
                )
        status, codes = transaction_status(result)
        writer.segment("IK5", status, *codes)
    status, included, received, accepted, codes = group_status(group)
    writer.segment("AK9", status, str(included), str(received), str(accepted), *codes)
    writer.end_transaction()


def _reply(
    out: io.BytesIO,
    interchange: Interchange,
    *,
    control_number: int,
    delimiters: Delimiters | None,
    when: dt.datetime | None,
    newline: bool,
) -> X12Writer:
    """A writer with an interchange answering ``interchange`` opened: sender and receiver swapped."""
    w = X12Writer(out, delimiters or interchange.delimiters, newline=newline)
    w.start_interchange(
        _clean(interchange.receiver_qualifier, w),
        _clean(interchange.receiver_id, w),
        _clean(interchange.sender_qualifier, w),
        _clean(interchange.sender_id, w),
        control_number=control_number,
        when=when,
        usage=_clean(interchange.usage, w) or "P",
    )
    return w


def build_999(
    interchange: Interchange,
    *,
    control_number: int = 1,
    delimiters: Delimiters | None = None,
    when: dt.datetime | None = None,
    newline: bool = False,
    groups: Sequence[Group] | None = None,
) -> bytes:
    """A complete interchange answering ``interchange``: sender and receiver swapped, one 999 per group."""
    out = io.BytesIO()
    w = _reply(
        out, interchange, control_number=control_number, delimiters=delimiters, when=when, newline=newline
    )
    acknowledged = list(groups if groups is not None else interchange.groups)
    if acknowledged:
        first = acknowledged[0]
        w.start_group("FA", _clean(first.receiver, w), _clean(first.sender, w), control_number=control_number,
                      version=IMPLEMENTATION_999, when=when)  # fmt: skip
        for number, group in enumerate(acknowledged, start=1):
            write_999(w, group, f"{number:04d}")
        w.end_group()
    w.end_interchange()
    return out.getvalue()


def ta1_elements(interchange: Interchange) -> list[str]:
    """TA101..TA105 for ``interchange``: control number, date, time, A/E/R, note code."""
    codes = [e.code for e in interchange.errors]
    status = "R" if codes else "A"
    return [
        interchange.control_number,
        interchange.date,
        interchange.time,
        status,
        codes[0] if codes else "000",
    ]


def build_ta1(
    interchange: Interchange,
    *,
    control_number: int = 1,
    delimiters: Delimiters | None = None,
    when: dt.datetime | None = None,
    newline: bool = False,
) -> bytes:
    """An interchange holding only a TA1 (IEA01 = 0 groups)."""
    out = io.BytesIO()
    w = _reply(
        out, interchange, control_number=control_number, delimiters=delimiters, when=when, newline=newline
    )
    w.segment("TA1", *(_clean(value, w) for value in ta1_elements(interchange)))
    w.end_interchange()
    return out.getvalue()


def _clean(value: str, writer: X12Writer) -> str:
    """IK404 copies the bad data: drop delimiters and control characters so the copy cannot break the 999,
    and keep 99 characters."""
    d = writer.delimiters
    bad = {d.element, d.component, d.segment, d.repetition or ""}
    return "".join(ch for ch in value if ch not in bad and ch.isprintable())[:99]


def acknowledge_file(
    path: Path,
    name: str,
    envelope: EnvelopeReader | None,
    controls: Mapping[str, int],
    errors: Sequence[Mapping[str, Any]],
) -> str:
    """The 999 (or a TA1 when the interchange envelope itself is in error) for a received X12 file.

    ``envelope`` is the reader the import read the file through (None, or a file with errors, is read again
    without stopping at envelope errors, so the TA1/999 can name them); ``controls`` maps each transaction set
    control number to its ST segment number; ``errors`` are the import's content errors as dicts with
    ``segment``, ``segment_id``, ``element`` and ``message``: each becomes IK3/IK4 detail on its transaction set.
    Returns "" when not even an interchange header could be read.
    """
    reader = envelope
    if reader is None or errors:
        reader = EnvelopeReader(path, strict=False, filename=name)
        try:
            for _ in reader.segments():
                pass
        except X12Error:
            pass  # unreadable past this point: acknowledge what was read
    if not reader.interchanges:
        return ""
    interchange = reader.interchanges[0]
    starts = sorted(controls.items(), key=lambda kv: kv[1])
    for group in interchange.groups:
        for result in group.transactions:
            st = controls.get(result.control_number)
            if st is None:
                continue
            following = [s for _c, s in starts if s > st]
            end = following[0] if following else None
            for err in errors:
                seg = int(err.get("segment") or 0)
                if seg >= st and (end is None or seg < end) and err.get("segment_id"):
                    element = err.get("element")
                    elements = (
                        (ElementError(int(element), "8" if "date" in str(err["message"]) else "7"),)
                        if element
                        else ()
                    )
                    result.segment_errors.append(
                        SegmentError(
                            str(err["segment_id"]), seg - st + 1, "8" if elements else "3", "", elements
                        )
                    )
                    result.rejected = True
    data = build_ta1(interchange) if interchange.errors else build_999(interchange)
    return data.decode("latin-1")
