"""271 Health Care Eligibility Benefit Response (005010X279A1), written for 270 inquiries.

:func:`build_271` answers a sequence of ``(Inquiry, Answer)`` pairs (inquiries as :func:`openipa.edi.t270.
read_270` yields them) with one interchange: sender and receiver of the 270 swapped, one functional group
(GS01 HB), one 271 transaction set per 270 transaction set. The HL hierarchy mirrors the 270's::

    HL*1**20*1~  NM1*PR*2*ABC COMPANY*****PI*842610001~                     2000A/2100A  payer (echoed)
    HL*2*1*21*1~ NM1*1P*2*BONE AND JOINT CLINIC*****SV*2000035~             2000B/2100B  provider (echoed)
    HL*3*2*22*0~ TRN*2*93175-012547*9877281234~                             2000C        trace (echoed)
    NM1*IL*1*SMITH*ROBERT****MI*11122333301~ DMG*D8*19430519*M~             2100C        subscriber
    DTP*346*D8*20060101~ DTP*347*D8*20061231~                               plan begin, plan end
    EB*1*IND*30**GOLD 123 PLAN~                                             2110C        active, the plan
    EB*L~ LS*2120~ NM1*P3*1*JONES*MARCUS****XX*1234567893~ LE*2120~         2120C        the PCP

An inactive member gets ``EB*6**30``; a rejected inquiry gets an AAA in loop 2100C (or 2100D) and no
benefit loop: ``AAA*Y**75*C`` subscriber not found, ``72`` missing member id, ``76`` duplicate member id,
``71`` birth date does not match, ``56`` inappropriate date, ``67`` (2100D) patient not found.

Pure Python, no database: the caller looks each member up and hands over an :class:`Eligibility` or a
:class:`Rejection`.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from openipa.edi.t270 import IMPLEMENTATION, Inquiry, Party, Patient, Transaction270
from openipa.edi.x12.ack import _clean, _reply
from openipa.edi.x12.delimiters import Delimiters
from openipa.edi.x12.writer import X12Writer

REJECTION_REASONS: dict[str, str] = {
    "56": "inappropriate date",
    "67": "patient not found",
    "71": "patient birth date does not match that for the patient on the database",
    "72": "invalid or missing subscriber/insured id",
    "75": "subscriber/insured not found",
    "76": "duplicate subscriber/insured id found",
}
"""AAA03 reject reason codes this module writes (005010X279A1 loops 2100C/2100D)."""

SUBSCRIBER_NOT_FOUND = "75"
MISSING_MEMBER_ID = "72"
DUPLICATE_MEMBER_ID = "76"
BIRTH_DATE_MISMATCH = "71"
INAPPROPRIATE_DATE = "56"
PATIENT_NOT_FOUND = "67"

HEALTH_BENEFIT_PLAN_COVERAGE = "30"
"""EB03 service type of the answer: the plan as a whole."""


@dataclass(frozen=True, slots=True)
class Provider:
    """A PCP named in loop 2120C: NM1*P3*1*last*first****XX*npi."""

    npi: str
    last_name: str
    first_name: str = ""


@dataclass(frozen=True, slots=True)
class Eligibility:
    """What the payer's records say about the member on the inquiry date."""

    member_id: str
    last_name: str
    first_name: str
    birth_date: dt.date | None = None
    sex: str = ""
    active: bool = False
    plan_name: str = ""
    """EB05 (the product's name) when active."""
    plan_begin: dt.date | None = None
    """DTP*346."""
    plan_end: dt.date | None = None
    """DTP*347 (None: open-ended)."""
    pcp: Provider | None = None
    middle_name: str = ""


@dataclass(frozen=True, slots=True)
class Rejection:
    """AAA*Y**reason*follow-up: the inquiry could not be answered (see :data:`REJECTION_REASONS`)."""

    reason: str
    follow_up: str = "C"
    """AAA04: C please correct and resubmit, N resubmission not allowed, R resubmission allowed..."""
    valid_request: bool = True
    """AAA01: Y the request was valid (but, e.g., the member is unknown), N it was not."""

    @property
    def description(self) -> str:
        return REJECTION_REASONS.get(self.reason, "")


Answer = Eligibility | Rejection


def precheck(inquiry: Inquiry) -> Rejection | None:
    """A rejection the inquiry earns before any look-up: a dependent (OpenIPA knows each member by their own
    id, so a dependent loop names nobody it can find), or no subscriber id."""
    if inquiry.dependent is not None:
        return Rejection(PATIENT_NOT_FOUND)
    if not inquiry.member_id:
        return Rejection(MISSING_MEMBER_ID)
    return None


def screen(inquiry: Inquiry, answer: Answer) -> Answer:
    """Check what the inquiry claims against the member found: a birth date in the 270 (DMG02) that differs
    from the member's is rejected (71) rather than answered, so an id guessed with the wrong person's
    birth date learns nothing; an inquiry date before the member's birth is rejected (56)."""
    if isinstance(answer, Rejection):
        return answer
    claimed = inquiry.subscriber.birth_date
    if claimed is not None and answer.birth_date is not None and claimed != answer.birth_date:
        return Rejection(BIRTH_DATE_MISMATCH)
    if answer.birth_date is not None and inquiry.date < answer.birth_date:
        return Rejection(INAPPROPRIATE_DATE)
    return answer


# -- writing ------------------------------------------------------------------------------------------

_LIMITS = {"last": 60, "first": 35, "middle": 25, "suffix": 10, "id": 80, "plan": 50, "trace": 50}


class _Cleaner:
    """Element text safe for the writer: ASCII (accents dropped), no delimiters, within the element's size."""

    def __init__(self, delimiters: Delimiters) -> None:
        d = delimiters
        self.bad = {d.element, d.component, d.segment, d.repetition or "", "\r", "\n"}

    def __call__(self, value: str, limit: int) -> str:
        text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
        text = "".join(ch for ch in text if ch not in self.bad and ch.isprintable())
        return " ".join(text.split())[:limit].rstrip()


def _d8(value: dt.date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


class Writer271:
    """Writes 271 transaction sets into an open functional group, one per 270 transaction set."""

    def __init__(self, writer: X12Writer, *, when: dt.datetime) -> None:
        self.w = writer
        self.when = when
        self.clean = _Cleaner(writer.delimiters)
        self.transactions = 0
        self._tx: Transaction270 | None = None
        self._hl = 0
        self._source: tuple[str, int] | None = None  # (270 HL01, 271 HL01)
        self._receiver: tuple[str, int] | None = None
        self._subscriber: tuple[str, int] | None = None

    def _next_hl(self) -> int:
        self._hl += 1
        return self._hl

    def add(self, inquiry: Inquiry, answer: Answer) -> None:
        tx = inquiry.transaction
        if self._tx is not tx:
            self.close()
            self._open(tx)
        w = self.w
        if self._source is None or self._source[0] != inquiry.source.hl:
            n = self._next_hl()
            w.segment("HL", str(n), "", "20", "1")
            self._party(inquiry.source)
            self._source = (inquiry.source.hl, n)
            self._receiver = self._subscriber = None
        if self._receiver is None or self._receiver[0] != inquiry.receiver.hl:
            n = self._next_hl()
            w.segment("HL", str(n), str(self._source[1]), "21", "1")
            self._party(inquiry.receiver)
            self._receiver = (inquiry.receiver.hl, n)
            self._subscriber = None
        dependent = inquiry.dependent
        if self._subscriber is None or self._subscriber[0] != inquiry.subscriber.hl:
            n = self._next_hl()
            w.segment("HL", str(n), str(self._receiver[1]), "22", "1" if dependent else "0")
            self._subscriber = (inquiry.subscriber.hl, n)
            if dependent is None:
                self._patient(inquiry, inquiry.subscriber, answer, "IL")
            else:
                self._name(inquiry.subscriber, "IL")
        if dependent is not None:
            n = self._next_hl()
            w.segment("HL", str(n), str(self._subscriber[1]), "23", "0")
            self._patient(inquiry, dependent, answer, "03")

    def close(self) -> None:
        if self._tx is not None:
            self.w.end_transaction()
            self._tx = None

    def _open(self, tx: Transaction270) -> None:
        self.transactions += 1
        self._tx = tx
        self._hl = 0
        self._source = self._receiver = self._subscriber = None
        self.w.start_transaction("271", f"{self.transactions:04d}", IMPLEMENTATION)
        when = self.when
        self.w.segment(
            "BHT", "0022", "11", self.clean(tx.reference, 50), when.strftime("%Y%m%d"), when.strftime("%H%M")
        )

    def _party(self, party: Party) -> None:
        c = self.clean
        self.w.segment(
            "NM1", party.entity_code, party.entity_type, c(party.last_name, _LIMITS["last"]),
            c(party.first_name, _LIMITS["first"]), c(party.middle_name, _LIMITS["middle"]), "",
            c(party.suffix, _LIMITS["suffix"]), party.id_qualifier, c(party.id, _LIMITS["id"]),
        )  # fmt: skip

    def _name(self, patient: Patient, code: str) -> None:
        """NM1 of the patient as the 270 sent it."""
        c = self.clean
        ident = c(patient.member_id, _LIMITS["id"]) if code == "IL" else ""
        self.w.segment(
            "NM1", code, "1", c(patient.last_name, _LIMITS["last"]), c(patient.first_name, _LIMITS["first"]),
            c(patient.middle_name, _LIMITS["middle"]), "", c(patient.suffix, _LIMITS["suffix"]),
            patient.id_qualifier if ident else "", ident,
        )  # fmt: skip

    def _traces(self, patient: Patient) -> None:
        c = self.clean
        for trace in patient.traces:
            self.w.segment(
                "TRN", "2", c(trace.number, _LIMITS["trace"]), c(trace.originator, 10),
                c(trace.secondary, _LIMITS["trace"]),
            )  # fmt: skip

    def _patient(self, inquiry: Inquiry, patient: Patient, answer: Answer, code: str) -> None:
        w, c = self.w, self.clean
        self._traces(patient)
        if isinstance(answer, Rejection):
            self._name(patient, code)
            w.segment("AAA", "Y" if answer.valid_request else "N", "", answer.reason, answer.follow_up)
            if patient.birth_date is not None:
                w.segment("DMG", "D8", _d8(patient.birth_date))
            return
        member_id = c(answer.member_id, _LIMITS["id"]) if code == "IL" else ""  # 2100D has no NM108/NM109
        last, first = c(answer.last_name, _LIMITS["last"]), c(answer.first_name, _LIMITS["first"])
        w.segment("NM1", code, "1", last, first, c(answer.middle_name, _LIMITS["middle"]), "", "",
                  "MI" if member_id else "", member_id)  # fmt: skip
        if answer.birth_date is not None:
            w.segment(
                "DMG", "D8", _d8(answer.birth_date), answer.sex if answer.sex in ("F", "M", "U") else ""
            )
        if code == "IL" and _corrected(patient, last, first, member_id):
            # the payer's records differ from the 270's name or id: INS*Y*18*001*25 says so
            w.segment("INS", "Y", "18", "001", "25")
        if answer.active:
            if answer.plan_begin is not None:
                w.segment("DTP", "346", "D8", _d8(answer.plan_begin))
            if answer.plan_end is not None:
                w.segment("DTP", "347", "D8", _d8(answer.plan_end))
            w.segment(
                "EB", "1", "IND", HEALTH_BENEFIT_PLAN_COVERAGE, "", c(answer.plan_name, _LIMITS["plan"])
            )
            pcp = answer.pcp
            if pcp is not None and pcp.npi:
                w.segment("EB", "L")
                w.segment("LS", "2120")
                w.segment("NM1", "P3", "1", c(pcp.last_name, _LIMITS["last"]), c(pcp.first_name, _LIMITS["first"]),
                          "", "", "", "XX", c(pcp.npi, 10))  # fmt: skip
                w.segment("LE", "2120")
        else:
            w.segment("EB", "6", "", HEALTH_BENEFIT_PLAN_COVERAGE)


def _corrected(patient: Patient, last: str, first: str, member_id: str) -> bool:
    return (
        patient.last_name.upper() != last.upper()
        or (bool(patient.first_name) and patient.first_name.upper() != first.upper())
        or (bool(patient.member_id) and patient.member_id != member_id)
    )


def build_271(
    pairs: Iterable[tuple[Inquiry, Answer]],
    *,
    control_number: int = 1,
    delimiters: Delimiters | None = None,
    when: dt.datetime | None = None,
    newline: bool = False,
) -> bytes:
    """A complete interchange answering the 270 interchange of the first inquiry (sender and receiver
    swapped, usage indicator kept), one 271 per 270 transaction set. ``pairs`` must not be empty."""
    out = io.BytesIO()
    write_271(out, pairs, control_number=control_number, delimiters=delimiters, when=when, newline=newline)
    return out.getvalue()


def write_271(
    out: io.BytesIO,
    pairs: Iterable[tuple[Inquiry, Answer]],
    *,
    control_number: int = 1,
    delimiters: Delimiters | None = None,
    when: dt.datetime | None = None,
    newline: bool = False,
) -> int:
    """:func:`build_271` into a binary stream, streamed pair by pair; returns the transaction sets written."""
    items: Iterator[tuple[Inquiry, Answer]] = iter(pairs)
    first = next(items, None)
    if first is None:
        raise ValueError("no inquiry to answer: a 271 answers at least one 270 inquiry")
    stamp = when or dt.datetime(2000, 1, 1)
    tx = first[0].transaction
    w = _reply(
        out, tx.interchange, control_number=control_number, delimiters=delimiters, when=stamp, newline=newline
    )
    # the 270's GS ids come back swapped, without any delimiter of this interchange they may hold
    w.start_group("HB", _clean(tx.group.receiver, w), _clean(tx.group.sender, w), control_number=control_number,
                  version=IMPLEMENTATION, when=stamp)  # fmt: skip
    body = Writer271(w, when=stamp)
    body.add(*first)
    for inquiry, answer in items:
        body.add(inquiry, answer)
    body.close()
    w.end_group()
    w.end_interchange()
    return body.transactions


__all__ = [
    "BIRTH_DATE_MISMATCH",
    "DUPLICATE_MEMBER_ID",
    "HEALTH_BENEFIT_PLAN_COVERAGE",
    "INAPPROPRIATE_DATE",
    "MISSING_MEMBER_ID",
    "PATIENT_NOT_FOUND",
    "REJECTION_REASONS",
    "SUBSCRIBER_NOT_FOUND",
    "Answer",
    "Eligibility",
    "Provider",
    "Rejection",
    "Writer271",
    "build_271",
    "precheck",
    "screen",
    "write_271",
]
