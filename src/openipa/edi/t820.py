"""820 Payroll Deducted and Other Group Premium Payment (005010X218), individual remittance, streamed.

Health plans pay an IPA its capitation and send the detail per member as an 820::

    ST*820*0001*005010X218~
    BPR*I*150.5*C*ACH*CCP*01*011000015*DA*123456*1234567890**01*021000021*DA*98765*20240105~
    TRN*1*CAP202401*1234567890~                     reassociation trace: matches the payment's addenda
    DTM*582****RD8*20240101-20240131~               header coverage period
    N1*PE*SUNRISE IPA*FI*123456789~                 1000A premium receiver (the IPA)
    N1*PR*GOOD HEALTH PLAN*PI*00123~                1000B premium payer (the plan)
    ENT*1*2J*EI*M0001~                              2000B individual remittance
    NM1*IL*1*DOE*JANE****N*M0001~                   2100B the member
    ADX*-35*52~                                     2200B adjustment for a previous payment
    RMR*IK*CAP-2024-01**190.5~                      2300B remittance detail: paid (RMR04), billed (RMR05)
    REF*ZZ*RC-F40~                                  2300B references (rate cell, plan...)
    DTM*582****RD8*20240101-20240131~               2300B coverage period of this line
    ADX*-5*52~                                      2320B adjustment for the current payment
    SE*14*0001~

:func:`read_820` yields, per 820 transaction set, one :class:`Remittance820` (the header) and then one
:class:`MemberRemittance` per 2000B ENT loop, each yielded when the next ENT or the SE is read, so one
member at a time is in memory whatever the size of the file. Organization summary loops (2000A: an ENT
whose ENT02 is not ``2J``) are skipped. Content errors raise :class:`X12Error` with the segment number,
segment id and element position; envelope errors come from :class:`EnvelopeReader`, as for the 834.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from openipa.edi.amounts import AmountError, element_cents, format_cents, parse_cents
from openipa.edi.nacha import is_valid_routing
from openipa.edi.x12.dates import element_date, parse_d8
from openipa.edi.x12.delimiters import Delimiters
from openipa.edi.x12.envelope import EnvelopeReader
from openipa.edi.x12.reader import CHUNK_SIZE, Segment, SegmentBatch, Source
from openipa.edi.x12.writer import X12Writer

VERSION = "005010X218"

INDIVIDUAL = "2J"
"""ENT02 of an individual remittance (loop 2000B)."""

ORGANIZATION_ENTITIES = frozenset({"2L", "AG", "NH", "RGA", "UN"})
"""ENT02 of an organization summary remittance (loop 2000A), which :func:`read_820` skips."""

HANDLING_CODES: dict[str, str] = {
    "C": "payment accompanies remittance advice",
    "D": "make payment only",
    "I": "remittance information only",
    "P": "prenotification of future transfers",
    "U": "split payment and remittance",
    "X": "handling party's option to split payment and remittance",
}
"""BPR01 in 005010X218."""

PAYMENT_METHODS: dict[str, str] = {
    "ACH": "automated clearing house",
    "BOP": "financial institution option",
    "CHK": "check",
    "FWT": "federal reserve funds/wire transfer, nonrepetitive",
    "NON": "non-payment data",
    "SWT": "society for worldwide interbank financial telecommunications (SWIFT)",
}
"""BPR04 in 005010X218."""

EFT_METHODS = frozenset({"ACH", "BOP", "FWT"})
"""BPR04 codes that move money between accounts, so BPR05-BPR15 carry the banks."""

ENT_ID_QUALIFIERS = frozenset({"34", "EI", "II"})
"""ENT03 of loop 2000B: 34 social security number, EI employee identification, II unique health id."""

RMR_QUALIFIERS = frozenset({"11", "9J", "AZ", "B7", "CT", "ID", "IG", "IK", "KW"})
"""RMR01 of loop 2300B (IK invoice number, AZ health insurance policy number, CT contract, 11 account...)."""

LINE_REFERENCE_QUALIFIERS = frozenset({"14", "18", "2F", "38", "E9", "LU", "ZZ"})
"""REF01 of loop 2300B (18 plan number, 38 master policy, ZZ mutually defined: a rate cell...)."""

PREVIOUS_PAYMENT_REASONS: dict[str, str] = {
    "52": "credit for overpayment",
    "53": "remittance for previous underpayment",
    "80": "overpayment",
    "81": "credit as agreed",
    "86": "duplicate payment",
    "BJ": "insurance charge",
    "H1": "information forthcoming",
    "H6": "partial payment remitted",
    "RU": "interest",
    "WO": "overpayment recovery",
}
"""ADX02 of loop 2200B (adjustments for a previous payment, before the member's first RMR)."""

CURRENT_PAYMENT_REASONS: dict[str, str] = {
    "20": "late charge",
    "52": "credit for overpayment",
    "53": "remittance for previous underpayment",
    "AA": "receivable today",
    "AX": "ACA advance premium tax credit",
    "H1": "information forthcoming",
    "H6": "partial payment remitted",
    "IA": "invoice adjustment",
    "J3": "ACA cost sharing reductions",
}
"""ADX02 of loop 2320B (adjustments to the current payment, after an RMR)."""

PAYEE_ID_QUALIFIERS = frozenset({"1", "9", "EQ", "FI", "XV"})
"""N103 of N1*PE (loop 1000A): 1 DUNS, 9 DUNS+4, EQ group number, FI tax id, XV CMS plan id."""

PAYER_ID_QUALIFIERS = frozenset({"1", "24", "75", "9", "EQ", "FI", "PI"})
"""N103 of N1*PR (loop 1000B): 24 employer id, 75 state or province assigned number, PI payer id..."""

_HEADER_ONLY = frozenset({"BPR", "TRN", "CUR", "N1", "N2", "N3", "N4", "PER", "RDM"})
"""Segments of the header (table 1): one after the first ENT means the loops are out of order."""


@dataclass(frozen=True, slots=True)
class Remittance820:
    """The 820 header: the payment (BPR), its trace (TRN), the period and the two parties."""

    control_number: str
    """ST02."""
    version: str
    """ST03, else GS08."""
    handling_code: str
    """BPR01 (see :data:`HANDLING_CODES`)."""
    total_cents: int
    """BPR02: the total premium payment."""
    credit_debit: str
    """BPR03 (C)."""
    payment_method: str
    """BPR04 (see :data:`PAYMENT_METHODS`)."""
    payment_date: dt.date | None
    """BPR16: check issue or EFT effective date."""
    trace_number: str
    """TRN02: the check or EFT trace number, which the payment's ACH addenda repeats."""
    originator_id: str
    """TRN03: the originating company id (``1`` + EIN); BPR10 carries the same id."""
    payer_name: str
    """N1*PR N102 (loop 1000B, the plan paying)."""
    payer_id: str
    """N1*PR N104."""
    payee_name: str
    """N1*PE N102 (loop 1000A, the IPA receiving)."""
    payee_id_qualifier: str
    """N1*PE N103 (FI tax id, XV plan id, 1 DUNS...)."""
    payee_id: str
    """N1*PE N104."""
    period_start: dt.date | None
    """Header DTM*582: the coverage period's first day."""
    period_end: dt.date | None
    """Header DTM*582: the last day (None for a single CCYYMMDD date)."""
    created: dt.date | None
    """DTM*097."""
    segment_number: int = field(compare=False)
    """The ST segment (where the header was read: not part of its value, so not compared)."""
    payer_id_qualifier: str = ""
    """N1*PR N103 (PI payer id, FI tax id...)."""


@dataclass(slots=True)
class RemittanceLine:
    """Loop 2300B: one RMR with its references and coverage period (one member-month of capitation).

    Not frozen, as :class:`MemberRemittance`: a month's file makes a million of each, and a frozen dataclass
    costs five times as much to make. Treat them as values all the same."""

    reference_qualifier: str
    """RMR01 (see :data:`RMR_QUALIFIERS`)."""
    reference: str
    """RMR02."""
    paid_cents: int
    """RMR04."""
    billed_cents: int | None
    """RMR05, when sent."""
    coverage_start: dt.date | None
    """DTM*582 RD8 start, or its single CCYYMMDD date."""
    coverage_end: dt.date | None
    """DTM*582 RD8 end; None for a single date (D8) or no DTM."""
    references: tuple[tuple[str, str], ...] = ()
    """The loop's REF segments as (REF01, REF02), e.g. ("ZZ", rate cell), ("18", plan number)."""
    segment_number: int = field(default=0, compare=False)
    """The RMR segment."""


@dataclass(frozen=True, slots=True)
class Adjustment:
    """An ADX: loop 2200B (before the member's first RMR, a previous payment) or 2320B (after an RMR)."""

    amount_cents: int
    """ADX01, signed as in the file (a recovery is negative)."""
    reason_code: str
    """ADX02 (see :data:`PREVIOUS_PAYMENT_REASONS` and :data:`CURRENT_PAYMENT_REASONS`)."""
    reference_qualifier: str = ""
    """ADX03 (not used by 005010X218; some companion guides send it)."""
    reference: str = ""
    """ADX04."""
    line_index: int | None = None
    """Which of the member's lines (index into ``MemberRemittance.lines``) the ADX followed: None for a
    loop 2200B adjustment of a previous payment, read before the member's first RMR."""
    segment_number: int = field(default=0, compare=False)
    """The ADX segment."""


@dataclass(slots=True)
class MemberRemittance:
    """Loop 2000B: ENT, the member's NM1*IL, its remittance lines and adjustments."""

    control_number: str
    """ST02 of the transaction set."""
    ent_number: int
    """ENT01."""
    member_id: str
    """NM1*IL NM109 (ENT04 when NM109 is not sent)."""
    last_name: str
    """NM103."""
    first_name: str
    """NM104."""
    subscriber_id: str
    """REF*0F in the member's loops, or "" (005010X218 has no place for it; some payers send it)."""
    lines: tuple[RemittanceLine, ...]
    adjustments: tuple[Adjustment, ...]
    segment_number: int = field(compare=False)
    """The ENT segment."""
    ent_id_qualifier: str = "EI"
    """ENT03 (see :data:`ENT_ID_QUALIFIERS`)."""
    ent_id: str = ""
    """ENT04: the receiver's identifier of the individual."""

    @property
    def paid_cents(self) -> int:
        """What this member's loops add to the payment: the lines' RMR04 plus every ADX01."""
        return sum(line.paid_cents for line in self.lines) + sum(a.amount_cents for a in self.adjustments)


# -- reading ----------------------------------------------------------------------------------------


def read_820(
    source: Source,
    *,
    filename: str | None = None,
    chunk_size: int = CHUNK_SIZE,
    envelope: EnvelopeReader | None = None,
) -> Iterator[Remittance820 | MemberRemittance]:
    """Per 820 transaction set: its :class:`Remittance820`, then its members one at a time.

    Other transaction sets in the file are skipped. Raises :class:`X12Error` at the segment and element at
    fault for: an amount that is not exact cents (BPR02, RMR04, RMR05, ADX01), a date that is not a real
    CCYYMMDD or CCYYMMDD-CCYYMMDD (BPR16, DTM), a header whose first segment is not BPR or that has no TRN,
    a member without NM1*IL or with two, an RMR without RMR04, an ADX without amount or reason, a coverage
    DTM before the member's first RMR or a second one for the same RMR, an NM1*IL after the member's first
    RMR, a header segment (BPR, TRN, N1...) after the first ENT, and an ENT02 that is neither ``2J`` nor an
    organization code. Pass ``envelope`` (an :class:`EnvelopeReader` over ``source``) to look at the
    interchanges afterwards, e.g. to acknowledge them with a 999.
    """
    reader = envelope or EnvelopeReader(source, chunk_size=chunk_size, filename=filename)
    return _map_820(reader)


@dataclass(slots=True)
class _Header:
    st: Segment
    control_number: str
    version: str
    bpr: Segment | None = None
    payment_date: dt.date | None = None
    total_cents: int = 0
    trn: Segment | None = None
    payer: Segment | None = None
    payee: Segment | None = None
    period: tuple[dt.date | None, dt.date | None] = (None, None)
    created: dt.date | None = None
    done: bool = False

    def segment(self, seg: Segment, filename: str | None) -> None:
        sid = seg.id
        if self.bpr is None:
            if sid != "BPR":
                raise seg.error(f"the 820 header must start with BPR, found {sid}", None, filename)
            self.bpr = seg
            self.total_cents = element_cents(seg, 2, filename)
            self.payment_date = element_date(seg, 16, filename) if seg.get(16) else None
        elif sid == "BPR":
            raise seg.error("second BPR in the 820 header", None, filename)
        elif sid == "TRN":
            if self.trn is not None:
                raise seg.error("second TRN in the 820 header", None, filename)
            if not seg.get(2):
                raise seg.error("TRN02 (check or EFT trace number) is missing", 2, filename)
            self.trn = seg
        elif sid == "DTM":
            qualifier = seg.get(1)
            if qualifier == "582":
                self.period = dtm_period(seg, filename)
            elif qualifier == "097":
                self.created = element_date(seg, 2, filename)
        elif sid == "N1":
            if seg.get(1) == "PR":
                self.payer = seg
            elif seg.get(1) == "PE":
                self.payee = seg
        elif sid in ("RMR", "NM1", "ADX"):
            raise seg.error(f"{sid} before the first ENT (individual remittance loop)", None, filename)

    def build(self, at: Segment, filename: str | None) -> Remittance820:
        bpr, trn = self.bpr, self.trn
        if bpr is None:
            raise at.error("no BPR segment in the 820 header", None, filename)
        if trn is None:
            raise at.error("no TRN (reassociation trace number) in the 820 header", None, filename)
        self.done = True
        payer = self.payer.elements if self.payer is not None else []
        payee = self.payee.elements if self.payee is not None else []
        return Remittance820(
            control_number=self.control_number,
            version=self.version,
            handling_code=bpr.get(1),
            total_cents=self.total_cents,
            credit_debit=bpr.get(3),
            payment_method=bpr.get(4),
            payment_date=self.payment_date,
            trace_number=trn.get(2),
            originator_id=trn.get(3),
            payer_name=_at(payer, 2),
            payer_id=_at(payer, 4),
            payee_name=_at(payee, 2),
            payee_id_qualifier=_at(payee, 3),
            payee_id=_at(payee, 4),
            period_start=self.period[0],
            period_end=self.period[1],
            created=self.created,
            segment_number=self.st.number,
            payer_id_qualifier=_at(payer, 3),
        )


def _cents(e: list[str], position: int, batch: SegmentBatch, index: int, filename: str | None) -> int:
    """The required amount in element ``position`` of segment ``index`` of ``batch``, in cents."""
    text = e[position] if position < len(e) else ""
    cents = _AMOUNTS.get(text)
    if cents is not None:
        return cents
    if not text:
        raise batch.error(index, f"amount ({e[0]}{position:02d}) is missing", position, filename)
    try:
        cents = parse_cents(text)
    except AmountError as exc:
        raise batch.error(index, str(exc), position, filename) from None
    if len(_AMOUNTS) >= _CACHE_LIMIT:
        _AMOUNTS.clear()
    _AMOUNTS[text] = cents
    return cents


_AMOUNTS: dict[str, int] = {}
"""Amounts already read (a month's capitation repeats a few rates); bounded."""
_PERIODS: dict[str, tuple[dt.date, dt.date]] = {}
"""Valid RD8 periods already read (a month's remittance repeats one period on every line); bounded."""
_CACHE_LIMIT = 10_000


def _at(elements: list[str], position: int) -> str:
    return elements[position] if position < len(elements) else ""


@dataclass(slots=True)
class _Line:
    rmr: list[str]
    number: int
    paid_cents: int
    billed_cents: int | None
    references: list[tuple[str, str]] = field(default_factory=list)
    coverage: tuple[dt.date | None, dt.date | None] | None = None

    def build(self) -> RemittanceLine:
        start, end = self.coverage or (None, None)
        rmr = self.rmr
        return RemittanceLine(
            reference_qualifier=rmr[1],
            reference=rmr[2],
            paid_cents=self.paid_cents,
            billed_cents=self.billed_cents,
            coverage_start=start,
            coverage_end=end,
            references=tuple(self.references),
            segment_number=self.number,
        )


@dataclass(slots=True)
class _Member:
    ent: list[str]
    ent_batch: SegmentBatch
    ent_index: int
    control_number: str
    ent_number: int
    name: list[str] | None = None
    subscriber_id: str = ""
    lines: list[_Line] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)

    def segment(self, e: list[str], batch: SegmentBatch, index: int, filename: str | None) -> None:
        """Segment ``index`` of ``batch`` (elements ``e``), inside this member's loops."""
        sid = e[0]
        size = len(e)
        if sid == "RMR":
            paid = _cents(e, 4, batch, index, filename) if size > 4 and e[4] else None
            if paid is None:
                raise batch.error(index, "RMR04 (detail premium payment amount) is missing", 4, filename)
            billed = _cents(e, 5, batch, index, filename) if size > 5 and e[5] else None
            self.lines.append(_Line(e if size > 2 else [*e, "", ""], batch.number + index, paid, billed))
        elif sid == "DTM":
            if size < 2 or e[1] not in ("582", "AAG"):
                return
            if not self.lines:
                raise batch.error(
                    index, "coverage period (DTM) before the member's first RMR", None, filename
                )
            line = self.lines[-1]
            if line.coverage is not None:
                raise batch.error(
                    index,
                    f"second coverage period (DTM) for the RMR at segment {line.number}",
                    None,
                    filename,
                )
            line.coverage = _period(e, batch, index, filename)
        elif sid == "ADX":
            if not _at(e, 2):
                raise batch.error(index, "ADX02 (adjustment reason code) is missing", 2, filename)
            self.adjustments.append(
                Adjustment(
                    amount_cents=_cents(e, 1, batch, index, filename),
                    reason_code=e[2],
                    reference_qualifier=_at(e, 3),
                    reference=_at(e, 4),
                    line_index=len(self.lines) - 1 if self.lines else None,
                    segment_number=batch.number + index,
                )
            )
        elif sid == "REF":
            if _at(e, 1) == "0F":
                self.subscriber_id = _at(e, 2)
            elif self.lines:
                self.lines[-1].references.append((_at(e, 1), _at(e, 2)))
        elif sid == "NM1" and _at(e, 1) == "IL":
            if self.lines:
                raise batch.error(
                    index, "NM1*IL after the member's RMR: loop 2100B comes before loop 2300B", None, filename
                )
            if self.name is not None:
                raise batch.error(
                    index,
                    "second NM1*IL in the individual remittance loop of ENT at segment "
                    f"{self.ent_batch.number + self.ent_index}",
                    None,
                    filename,
                )
            self.name = e if size > 9 else e + [""] * (10 - size)

    def build(self, filename: str | None) -> MemberRemittance:
        name, ent = self.name, self.ent
        if name is None:
            raise self.ent_batch.error(
                self.ent_index, "no NM1*IL (the member's name and id) in this individual remittance loop", None,
                filename,
            )  # fmt: skip
        lines = self.lines
        return MemberRemittance(
            control_number=self.control_number,
            ent_number=self.ent_number,
            member_id=name[9] or ent[4],
            last_name=name[3],
            first_name=name[4],
            subscriber_id=self.subscriber_id,
            lines=(lines[0].build(),) if len(lines) == 1 else tuple(line.build() for line in lines),
            adjustments=tuple(self.adjustments),
            segment_number=self.ent_batch.number + self.ent_index,
            ent_id_qualifier=ent[3],
            ent_id=ent[4],
        )


def _period(
    e: list[str], batch: SegmentBatch, index: int, filename: str | None
) -> tuple[dt.date, dt.date | None]:
    """:func:`dtm_period` of segment ``index`` of ``batch``, with the RD8 periods already read remembered."""
    if len(e) > 6 and e[5] == "RD8":
        known = _PERIODS.get(e[6])
        if known is not None:
            return known
        period = dtm_period(batch.segment(index), filename)
        if len(_PERIODS) >= _CACHE_LIMIT:
            _PERIODS.clear()
        _PERIODS[e[6]] = period  # type: ignore[assignment]
        return period
    return dtm_period(batch.segment(index), filename)


def dtm_period(seg: Segment, filename: str | None) -> tuple[dt.date, dt.date | None]:
    """A DTM's date or period: DTM05 RD8 with DTM06 CCYYMMDD-CCYYMMDD gives (start, end); DTM05 D8 with a
    CCYYMMDD DTM06, or no DTM05 and a CCYYMMDD DTM02, gives (date, None). X12Error at the element if not."""
    fmt = seg.get(5)
    if fmt == "RD8":
        text = seg.get(6)
        start, sep, end = text.partition("-")
        first, last = parse_d8(start), parse_d8(end)
        if not sep or first is None or last is None:
            raise seg.error(f"{text!r} is not a CCYYMMDD-CCYYMMDD date range", 6, filename)
        if last < first:
            raise seg.error(f"date range {text!r} ends before it starts", 6, filename)
        return first, last
    if fmt == "D8":
        return element_date(seg, 6, filename), None
    if fmt:
        raise seg.error(f"date format qualifier {fmt!r} is not D8 or RD8", 5, filename)
    return element_date(seg, 2, filename), None


def _ent_number(e: list[str], batch: SegmentBatch, index: int, filename: str | None) -> int:
    text = e[1] if len(e) > 1 else ""
    if not (len(text) <= 6 and text.isdigit() and text.isascii()):
        raise batch.error(
            index, f"ENT01 (assigned number) {text!r} is not a number of up to 6 digits", 1, filename
        )
    return int(text)


def _map_820(reader: EnvelopeReader) -> Iterator[Remittance820 | MemberRemittance]:
    # Runs of already split segments (the reader's fast path): a million-member month is read in seconds.
    # Segment tuples are made only for the few header segments and for errors.
    header: _Header | None = None
    member: _Member | None = None
    in_detail = False  # past the first ENT
    header_only = _HEADER_ONLY
    for th, batch, start, stop in reader.batches():
        if th.set_id != "820":
            continue
        name = reader.filename
        elements = batch.elements
        for index in range(start, stop):
            e = elements[index]
            sid = e[0]
            if member is not None and sid != "ENT" and sid != "SE":
                if sid in header_only:
                    raise batch.error(index, f"{sid} after the first ENT: header segments come before the "
                                      "remittance loops", None, name)  # fmt: skip
                member.segment(e, batch, index, name)
                continue
            if sid == "ST":
                header = _Header(batch.segment(index), th.control_number, th.version)
                member = None
                in_detail = False
                continue
            if header is None:
                continue
            if sid == "SE":
                if member is not None:
                    yield member.build(name)
                if not header.done:
                    yield header.build(batch.segment(index), name)
                header = member = None
                continue
            if sid == "ENT":
                if not header.done:
                    yield header.build(batch.segment(index), name)
                if member is not None:
                    yield member.build(name)
                in_detail = True
                entity = _at(e, 2)
                if entity == INDIVIDUAL:
                    number = _ent_number(e, batch, index, name)
                    padded = e if len(e) > 4 else e + [""] * (5 - len(e))
                    member = _Member(padded, batch, index, header.control_number, number)
                elif entity in ORGANIZATION_ENTITIES:
                    member = None
                else:
                    raise batch.error(
                        index,
                        f"ENT02 {entity!r} is neither 2J (individual) nor an organization code "
                        f"({', '.join(sorted(ORGANIZATION_ENTITIES))})",
                        2,
                        name,
                    )
                continue
            if not in_detail:
                header.segment(batch.segment(index), name)
            elif sid in header_only:
                raise batch.error(index, f"{sid} after the first ENT: header segments come before the "
                                  "remittance loops", None, name)  # fmt: skip


# -- writing ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EftAccounts:
    """The banks of an electronic payment, for BPR05-BPR15 of an 820 or 835.

    ``originating_dfi`` and ``receiving_dfi`` are 9-digit ABA routing numbers; ``receiving_account_type``
    is DA (demand deposit, checking) or SG (savings); ``payment_format`` CCP (CCD+) or CTX.
    """

    originating_dfi: str
    originating_account: str
    receiving_dfi: str
    receiving_account: str
    receiving_account_type: str = "DA"
    payment_format: str = "CCP"

    def problems(self) -> list[str]:
        found = []
        for what, routing in (("originating", self.originating_dfi), ("receiving", self.receiving_dfi)):
            if not is_valid_routing(routing):
                found.append(
                    f"{what} DFI {routing!r} is not a 9-digit routing number with a valid check digit"
                )
        for what, account in (
            ("originating", self.originating_account),
            ("receiving", self.receiving_account),
        ):
            if not account or len(account) > 35:
                found.append(f"{what} account number must be 1-35 characters")
        if self.receiving_account_type not in ("DA", "SG"):
            found.append(f"receiving account type {self.receiving_account_type!r} is not DA or SG")
        if self.payment_format not in ("CCP", "CTX"):
            found.append(f"payment format {self.payment_format!r} is not CCP or CTX")
        return found


def bpr_elements(
    handling_code: str,
    total_cents: int,
    credit_debit: str,
    payment_method: str,
    payer_identifier: str,
    payment_date: dt.date,
    eft: EftAccounts | None,
) -> list[str]:
    """BPR01-BPR16 as written by the 820 and 835 writers (ValueError when an EFT method has no banks)."""
    if payment_method in EFT_METHODS:
        if eft is None:
            raise ValueError(
                f"payment method {payment_method} needs the bank accounts (eft=EftAccounts(...))"
            )
        problems = eft.problems()
        if problems:
            raise ValueError("; ".join(problems))
        banks = [
            eft.payment_format, "01", eft.originating_dfi, "DA", eft.originating_account, payer_identifier, "",
            "01", eft.receiving_dfi, eft.receiving_account_type, eft.receiving_account,
        ]  # fmt: skip
    else:
        banks = ["", "", "", "", "", payer_identifier, "", "", "", "", ""]
    return [handling_code, format_cents(total_cents), credit_debit, payment_method, *banks, d8(payment_date)]


def d8(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def open_target(stack: contextlib.ExitStack, target: BinaryIO | str | os.PathLike[str]) -> BinaryIO:
    """A binary stream for ``target`` (a path is opened, and closed by ``stack``)."""
    if isinstance(target, (str, os.PathLike)):
        return stack.enter_context(open(target, "wb"))
    return target


def write_820(
    target: BinaryIO | str | os.PathLike[str],
    header: Remittance820,
    members: Iterable[MemberRemittance],
    *,
    sender_id: str,
    receiver_id: str,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    control_number: int = 1,
    delimiters: Delimiters | None = None,
    newline: bool = False,
    when: dt.datetime | None = None,
    usage: str = "P",
    eft: EftAccounts | None = None,
    strict: bool = True,
) -> int:
    """Write one 820 interchange (ISA, GS*RA, ST ... SE, GE, IEA) and return the number of members written.

    ``target`` is a binary stream or a path; ``members`` is consumed one at a time (constant memory). ST02
    is ``header.control_number``; ISA13 and GS06 are ``control_number``; ``when`` dates the ISA and GS
    (default: ``header.created``, else the payment date, at midnight). BPR10 and TRN03 are
    ``header.originator_id``; an ACH, BOP or FWT payment needs ``eft`` for BPR05-BPR15.

    Written in 005010X218 order: BPR, TRN*1, DTM*582 RD8 (header
    period), DTM*097, N1*PE, N1*PR, then per member ENT*n*2J, NM1*IL*1 (NM108 N), REF*0F, the
    previous-payment ADXs (``line_index`` None), and per line RMR, REF, DTM*582 (RD8, or DTM02 for a
    single date) and the ADXs that follow it. :func:`read_820` reads the file back to equal records.

    With ``strict`` (the default) a record 005010X218 cannot carry is refused, so the output always
    validates: a subscriber id (the guide has no REF*0F in loop 2000B), ADX03/ADX04, codes outside the
    guide's lists (BPR01, BPR03 other than C, BPR04, ENT03, RMR01, line REF01, ADX02 per loop), a header
    period without an end. ``strict=False`` writes those as they are, for payers whose companion guides
    use them. Always refused (ValueError): no trace number or originator id, no payment date, an amount
    over 18 digits, a member without member id or last name, a non-positive ENT01, an adjustment pointing
    at a line the member does not have or out of order, a line with a coverage end but no start, an element
    holding a delimiter.
    """
    _check_header(header, strict)
    payment_date = header.payment_date
    assert payment_date is not None  # checked above
    if when is None:
        when = dt.datetime.combine(header.created or payment_date, dt.time())
    version = header.version or VERSION
    with contextlib.ExitStack() as stack:
        w = X12Writer(open_target(stack, target), delimiters, newline=newline)
        w.start_interchange(sender_qualifier, sender_id, receiver_qualifier, receiver_id,
                            control_number=control_number, when=when, usage=usage)  # fmt: skip
        w.start_group("RA", sender_id, receiver_id, control_number=control_number, version=version, when=when)
        w.start_transaction("820", header.control_number, version)
        w.segment("BPR", *bpr_elements(header.handling_code, header.total_cents, header.credit_debit,
                                       header.payment_method, header.originator_id, payment_date, eft))  # fmt: skip
        w.segment("TRN", "1", header.trace_number, header.originator_id)
        if header.period_start is not None:
            if header.period_end is not None:
                w.segment(
                    "DTM", "582", "", "", "", "RD8", f"{d8(header.period_start)}-{d8(header.period_end)}"
                )
            else:
                w.segment("DTM", "582", d8(header.period_start))
        if header.created is not None:
            w.segment("DTM", "097", d8(header.created))
        w.segment("N1", "PE", header.payee_name, header.payee_id_qualifier, header.payee_id)
        w.segment("N1", "PR", header.payer_name, header.payer_id_qualifier, header.payer_id)
        count = 0
        for member in members:
            try:
                _write_member(w, member, strict)
            except ValueError as exc:
                raise ValueError(
                    f"member {count + 1} (ENT {member.ent_number}, {member.member_id!r}): {exc}"
                ) from None
            count += 1
        w.end_transaction()
        w.end_group()
        w.end_interchange()
    return count


def _check_header(h: Remittance820, strict: bool) -> None:
    if not h.trace_number:
        raise ValueError("no trace number (TRN02)")
    if not h.originator_id:
        raise ValueError("no originator id (TRN03 and BPR10, the payer identifier)")
    if h.payment_date is None:
        raise ValueError("no payment date (BPR16 is required)")
    if h.period_start is None and h.period_end is not None:
        raise ValueError("a header period end without a start (DTM*582)")
    if bool(h.payer_id) != bool(h.payer_id_qualifier) or bool(h.payee_id) != bool(h.payee_id_qualifier):
        raise ValueError("an N1 id (N104) needs its qualifier (N103) and the other way round")
    if not strict:
        return
    checks: list[tuple[str, Collection[str], str]] = [
        (h.handling_code, HANDLING_CODES, "BPR01 handling code"),
        (h.credit_debit, ("C",), "BPR03 credit/debit flag"),
        (h.payment_method, PAYMENT_METHODS, "BPR04 payment method"),
    ]
    if h.payee_id_qualifier:
        checks.append((h.payee_id_qualifier, PAYEE_ID_QUALIFIERS, "N1*PE N103"))
    if h.payer_id_qualifier:
        checks.append((h.payer_id_qualifier, PAYER_ID_QUALIFIERS, "N1*PR N103"))
    for value, allowed, what in checks:
        if value not in allowed:
            raise ValueError(f"{what} {value!r} is not one of {', '.join(sorted(allowed))}")
    if h.period_start is not None and h.period_end is None:
        raise ValueError("the header period (DTM*582) is a CCYYMMDD-CCYYMMDD range in 005010X218: no end")


def _write_member(w: X12Writer, m: MemberRemittance, strict: bool) -> None:
    if m.ent_number < 1:
        raise ValueError(f"ENT01 {m.ent_number} is not a positive number")
    if not m.member_id:
        raise ValueError("no member id (NM109)")
    if not m.last_name:
        raise ValueError("no last name (NM103)")
    ent_id = m.ent_id or m.member_id
    if strict:
        if m.ent_id_qualifier not in ENT_ID_QUALIFIERS:
            raise ValueError(
                f"ENT03 {m.ent_id_qualifier!r} is not one of {', '.join(sorted(ENT_ID_QUALIFIERS))}"
            )
        if m.subscriber_id:
            raise ValueError("005010X218 has no REF*0F in the member's loops (write with strict=False)")
    previous = [a for a in m.adjustments if a.line_index is None]
    current: list[list[Adjustment]] = [[] for _ in m.lines]
    last = -1
    for a in m.adjustments:
        if a.line_index is None:
            if last >= 0:
                raise ValueError("a previous-payment adjustment (line_index None) after one for a line")
            continue
        if not 0 <= a.line_index < len(m.lines):
            raise ValueError(f"adjustment for line {a.line_index}, but the member has {len(m.lines)} lines")
        if a.line_index < last:
            raise ValueError("adjustments are not in the order of their lines")
        last = a.line_index
        current[a.line_index].append(a)
    w.segment("ENT", str(m.ent_number), INDIVIDUAL, m.ent_id_qualifier, ent_id)
    w.segment("NM1", "IL", "1", m.last_name, m.first_name, "", "", "", "N", m.member_id)
    if m.subscriber_id:
        w.segment("REF", "0F", m.subscriber_id)
    for a in previous:
        _write_adjustment(w, a, PREVIOUS_PAYMENT_REASONS, strict)
    for line, adjustments in zip(m.lines, current, strict=True):
        _write_line(w, line, strict)
        for a in adjustments:
            _write_adjustment(w, a, CURRENT_PAYMENT_REASONS, strict)


def _write_line(w: X12Writer, line: RemittanceLine, strict: bool) -> None:
    if strict and line.reference_qualifier not in RMR_QUALIFIERS:
        raise ValueError(
            f"RMR01 {line.reference_qualifier!r} is not one of {', '.join(sorted(RMR_QUALIFIERS))}"
        )
    if not line.reference_qualifier or not line.reference:
        raise ValueError("a remittance line needs RMR01 and RMR02")
    billed = "" if line.billed_cents is None else format_cents(line.billed_cents)
    w.segment("RMR", line.reference_qualifier, line.reference, "", format_cents(line.paid_cents), billed)
    for qualifier, value in line.references:
        if strict and qualifier not in LINE_REFERENCE_QUALIFIERS:
            raise ValueError(
                f"line REF01 {qualifier!r} is not one of {', '.join(sorted(LINE_REFERENCE_QUALIFIERS))}"
            )
        if not qualifier or not value or qualifier == "0F":
            raise ValueError(
                f"line reference ({qualifier!r}, {value!r}) needs a qualifier (not 0F) and a value"
            )
        w.segment("REF", qualifier, value)
    start, end = line.coverage_start, line.coverage_end
    if start is None:
        if end is not None:
            raise ValueError("a coverage end without a start")
    elif end is None:
        w.segment("DTM", "582", d8(start))
    else:
        if end < start:
            raise ValueError(f"coverage {start} to {end} ends before it starts")
        w.segment("DTM", "582", "", "", "", "RD8", f"{d8(start)}-{d8(end)}")


def _write_adjustment(w: X12Writer, a: Adjustment, reasons: dict[str, str], strict: bool) -> None:
    if not a.reason_code:
        raise ValueError("an adjustment needs a reason code (ADX02)")
    if bool(a.reference_qualifier) != bool(a.reference):
        raise ValueError("ADX03 and ADX04 go together")
    if strict:
        if a.reason_code not in reasons:
            loop = "2200B" if a.line_index is None else "2320B"
            raise ValueError(f"ADX02 {a.reason_code!r} is not allowed in loop {loop} ({', '.join(reasons)})")
        if a.reference_qualifier:
            raise ValueError("ADX03/ADX04 are not used in 005010X218 (write with strict=False)")
    w.segment("ADX", format_cents(a.amount_cents), a.reason_code, a.reference_qualifier, a.reference)
