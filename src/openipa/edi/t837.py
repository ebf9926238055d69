"""837 health care claims, professional (005010X222A1) and institutional (005010X223A2/A3), streamed.

:func:`read_837` yields one frozen :class:`Claim837` per CLM (loop 2300) with its transaction header,
billing provider (2010AA), pay-to provider, subscriber (2000B/2010BA), patient (2000C, when not the
subscriber), payer (2010BB), claim-level data and its service lines (2400). A claim is yielded when the
next CLM, HL or SE is read, so one claim at a time is in memory whatever the size of the file.

Two kinds of error:

* a content problem inside one claim (a diagnosis pointer to nothing, zero or negative units, CLM02 not
  the sum of the line charges, no CLM05, no service line, a bad amount or date, an unknown frequency
  code) is yielded as a :class:`ClaimProblem` in place of the claim, and reading goes on at the next CLM,
  so one read reports every bad claim;
* a structural problem (a segment out of loop order, a missing NM1*85, NM1*IL or NM1*PR loop, a file that
  is not an 837) raises :class:`X12Error` at the segment. Envelope errors come from
  :class:`EnvelopeReader`, as for the 834.

NPIs are kept as sent (many real files carry test NPIs that fail the check digit); a claims system checks
them against its provider table. :func:`write_837` writes claims back as valid 837P or 837I interchanges.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from openipa.edi.amounts import AmountError, format_cents, parse_cents
from openipa.edi.x12.dates import parse_d8
from openipa.edi.x12.delimiters import Delimiters
from openipa.edi.x12.envelope import EnvelopeReader
from openipa.edi.x12.errors import X12Error
from openipa.edi.x12.reader import CHUNK_SIZE, SegmentBatch, Source
from openipa.edi.x12.records import builder
from openipa.edi.x12.writer import X12Writer

PROFESSIONAL = "professional"
INSTITUTIONAL = "institutional"
VERSION_PROFESSIONAL = "005010X222A1"
VERSION_INSTITUTIONAL = "005010X223A2"
"""The versions :func:`write_837` writes (pyx12 maps 837I under X223A2); read_837 also takes X223A3."""

FREQUENCY_CODES: dict[str, dict[str, str]] = {
    PROFESSIONAL: {"1": "original", "6": "corrected", "7": "replacement", "8": "void"},
    INSTITUTIONAL: {
        "0": "non-payment/zero claim",
        "1": "admit through discharge (original)",
        "2": "interim, first claim",
        "3": "interim, continuing claim",
        "4": "interim, last claim",
        "5": "late charge only",
        "7": "replacement",
        "8": "void",
        "9": "final claim",
    },
}
"""CLM05-3 claim frequency codes accepted per kind."""

DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "ABJ", "APR", "BK", "BF", "BJ", "PR"})
"""HI qualifiers read as diagnoses: ICD-10 principal ABK, other ABF, admitting ABJ, reason for visit APR,
and their ICD-9 forms BK, BF, BJ, PR. Other HI qualifiers (occurrence, value, condition codes) are skipped."""
POINTER_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})
"""837P: the diagnoses SV107 pointers count (1 = the first of these in HI order)."""


@dataclass(frozen=True, slots=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""


@dataclass(frozen=True, slots=True)
class Provider:
    """An NM1 provider loop: NM103 (organization or last name), NM104/105, NM108/NM109, REF*EI, PRV."""

    entity_type: str
    """NM102: 1 person, 2 organization."""
    name: str
    first_name: str = ""
    middle_name: str = ""
    id_qualifier: str = ""
    identifier: str = ""
    tin: str = ""
    """REF*EI (or REF*SY for a person's SSN)."""
    taxonomy: str = ""
    """PRV03 (PRV*BI/PE/AT*PXC)."""
    address: Address | None = None

    @property
    def npi(self) -> str:
        return self.identifier if self.id_qualifier == "XX" else ""


@dataclass(frozen=True, slots=True)
class Person:
    """NM1*IL (2010BA) or NM1*QC (2010CA) with N3/N4 and DMG."""

    last_name: str
    first_name: str = ""
    middle_name: str = ""
    id_qualifier: str = ""
    member_id: str = ""
    birth_date: dt.date | None = None
    sex: str = ""
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Subscriber:
    """Loop 2000B SBR and its 2010BA NM1*IL."""

    payer_responsibility: str
    """SBR01: P primary, S secondary, T tertiary..."""
    relationship: str
    """SBR02: 18 when the subscriber is the patient, else empty."""
    group_number: str
    group_name: str
    filing_indicator: str
    """SBR09: CI commercial, MB Medicare B, MC Medicaid, HM HMO..."""
    person: Person


@dataclass(frozen=True, slots=True)
class Patient:
    """Loop 2000C: PAT01 relationship to the subscriber (19 child, 01 spouse...) and NM1*QC."""

    relationship: str
    person: Person


@dataclass(frozen=True, slots=True)
class Payer:
    """Loop 2010BB NM1*PR."""

    name: str
    id_qualifier: str
    identifier: str
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Header837:
    """The transaction set: ST02, the version (ST03, else GS08), BHT and loops 1000A/1000B."""

    control_number: str
    version: str
    kind: str
    """``professional`` (X222) or ``institutional`` (X223)."""
    originator_reference: str
    """BHT03."""
    created: dt.date | None
    """BHT04."""
    submitter_name: str
    submitter_id: str
    receiver_name: str
    receiver_id: str


@dataclass(frozen=True, slots=True)
class Diagnosis:
    qualifier: str
    """ABK principal, ABF other, ABJ admitting, APR reason for visit (BK, BF, BJ, PR for ICD-9)."""
    code: str
    order: int
    """1-based position among the claim's diagnoses, in HI order."""


@dataclass(frozen=True, slots=True)
class ServiceLine:
    number: int
    """LX01."""
    procedure_qualifier: str
    """SV101-1 / SV202-1 (HC, HP...); empty for an 837I line without a procedure."""
    procedure_code: str
    modifiers: tuple[str, ...]
    revenue_code: str
    """SV201 (837I); empty for 837P."""
    charge_cents: int
    unit_basis: str
    """SV103/SV204: UN units, MJ minutes, DA days."""
    units: Decimal
    place_of_service: str
    """SV105 (837P), when it overrides the claim's."""
    diagnosis_pointers: tuple[int, ...]
    """SV107 (837P), 1-based into the claim's ABK/ABF diagnoses."""
    diagnoses: tuple[Diagnosis, ...]
    """The pointed-to diagnoses."""
    service_date: dt.date | None
    service_date_end: dt.date | None
    """The end of a DTP*472 RD8 range; None for a single day."""
    control_number: str
    """REF*6R."""
    rendering: Provider | None
    """2420A NM1*82 when present, else the claim's rendering provider."""
    segment_number: int = field(compare=False)
    """The SV1/SV2 segment."""


@dataclass(frozen=True, slots=True)
class Claim837:
    transaction: Header837
    billing_provider: Provider
    pay_to: Provider | None
    subscriber: Subscriber
    patient: Patient | None
    payer: Payer
    claim_id: str
    """CLM01 patient control number."""
    total_charge_cents: int
    place_of_service: str
    """CLM05-1 (837P); empty for 837I."""
    facility_type: str
    """CLM05-1 (837I); empty for 837P."""
    frequency_code: str
    """CLM05-3."""
    payer_claim_control_number: str
    """REF*F8: the payer's number of the claim a replacement (7) or void (8) refers to."""
    prior_authorization: str
    """REF*G1."""
    referral_number: str
    """REF*9F."""
    onset_date: dt.date | None
    """DTP*431 (837P)."""
    statement_from: dt.date | None
    statement_to: dt.date | None
    """DTP*434 (837I)."""
    admission_date: dt.date | None
    """DTP*435 (837I)."""
    diagnoses: tuple[Diagnosis, ...]
    rendering: Provider | None
    """2310B NM1*82 (837P) or 2310D (837I)."""
    attending: Provider | None
    """2310A NM1*71 (837I)."""
    operating: Provider | None
    """2310B NM1*72 (837I)."""
    referring: Provider | None
    """2310A NM1*DN (837P), 2310F (837I)."""
    service_facility: Provider | None
    """2310C (837P) / 2310E (837I) NM1*77."""
    lines: tuple[ServiceLine, ...]
    segment_number: int = field(compare=False)
    """The CLM segment."""
    admission_type: str = ""
    """CL101 (837I): 1 emergency, 2 urgent, 3 elective..."""
    admission_source: str = ""
    """CL102 (837I)."""
    patient_status: str = ""
    """CL103 (837I): 01 discharged home, 30 still a patient..."""

    @property
    def kind(self) -> str:
        return self.transaction.kind

    @property
    def type_of_bill(self) -> str:
        """837I: "0" + facility type + frequency (e.g. "0111"); empty for 837P."""
        return f"0{self.facility_type}{self.frequency_code}" if self.facility_type else ""

    @property
    def principal_diagnosis(self) -> Diagnosis | None:
        for d in self.diagnoses:
            if d.qualifier in ("ABK", "BK"):
                return d
        return None

    @property
    def patient_person(self) -> Person:
        """The person treated: the patient when there is a 2000C loop, else the subscriber."""
        return self.patient.person if self.patient is not None else self.subscriber.person


@dataclass(frozen=True, slots=True)
class ClaimProblem:
    """A content problem in one claim: where (segment number, id, element) and what."""

    segment_number: int
    segment_id: str
    element: int | None
    message: str
    claim_id: str
    billing_provider: Provider | None = None
    """What was read of the claim before the problem (for a 277CA rejection): the billing provider,"""
    patient: Person | None = None
    """the person treated (the 2000C patient, else the subscriber),"""
    member_id: str = ""
    """the subscriber's member id,"""
    total_charge_cents: int | None = None
    """CLM02 when it was a valid amount,"""
    service_from: dt.date | None = None
    service_to: dt.date | None = None
    """and the span of the service dates of the lines read (the statement period for an 837I)."""

    def __str__(self) -> str:
        where = f"segment {self.segment_number} ({self.segment_id})"
        if self.element is not None:
            where += f", element {self.element}"
        return f"claim {self.claim_id!r}: {where}: {self.message}"


_ClaimBuilder = builder(Claim837)
_LineBuilder = builder(ServiceLine)

_CACHE_LIMIT = 50_000


class _Problem(Exception):
    """Internal: a claim-level content problem (turned into a ClaimProblem by the mapper)."""

    def __init__(self, batch: SegmentBatch, index: int, message: str, element: int | None) -> None:
        super().__init__(message)
        self.number = batch.number + index
        self.segment_id = batch.elements[index][0]
        self.message = message
        self.element = element


_PAD = [""] * 12


def _pointers(text: str, comp: str) -> tuple[tuple[int, ...], int]:
    """SV107 pointers as integers and the highest (0 when one is not a positive integer)."""
    parts = text.split(comp)
    if not all(p.isdigit() and len(p) < 3 for p in parts):
        values = tuple(int(p) if p.isdigit() and len(p) < 3 else 0 for p in parts)
        return values, 0
    values = tuple(map(int, parts))
    return values, 0 if min(values) == 0 else max(values)


def _get(e: list[str], position: int) -> str:
    return e[position] if len(e) > position else ""


def read_837(
    source: Source,
    *,
    filename: str | None = None,
    chunk_size: int = CHUNK_SIZE,
    envelope: EnvelopeReader | None = None,
) -> Iterator[Claim837 | ClaimProblem]:
    """One :class:`Claim837` (or :class:`ClaimProblem`) per CLM of every 837 transaction set in ``source``.

    Pass ``envelope`` (an :class:`EnvelopeReader` over ``source``) to look at the interchanges afterwards,
    e.g. to acknowledge them with a 999 without reading the file again.
    """
    reader = envelope or EnvelopeReader(source, chunk_size=chunk_size, filename=filename)
    return _map_837(reader, filename)


class _State:
    """What is open while reading one 837 transaction set (the hot per-line work is in _map_837)."""

    __slots__ = (
        "billing",
        "billing_pending",
        "header",
        "hl",
        "patient",
        "patient_pending",
        "pay_to",
        "payer",
        "sbr",
        "sbr_problem",
        "subscriber",
        "subscriber_person",
    )

    def __init__(self) -> None:
        self.header: Header837 | None = None
        self.hl = ""
        self.billing: Provider | None = None
        self.billing_pending: dict[str, Any] | None = None
        self.pay_to: Provider | None = None
        self.sbr: list[str] | None = None
        self.subscriber_person: dict[str, Any] | None = None
        self.subscriber: Subscriber | None = None
        self.payer: dict[str, Any] | None = None
        self.patient_pending: dict[str, Any] | None = None
        self.patient: Patient | None = None
        self.sbr_problem: tuple[int, str, int | None, str] | None = None


def _map_837(reader: EnvelopeReader, filename: str | None) -> Iterator[Claim837 | ClaimProblem]:
    name = filename
    dates: dict[str, dt.date] = {}
    amounts: dict[str, int] = {}
    quantities: dict[str, Decimal] = {}
    procedures: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    pointer_cache: dict[str, tuple[tuple[int, ...], int]] = {}
    numbers: dict[str, int] = {}
    new_object = object.__new__
    seen_837 = False
    st: _State | None = None
    kind = ""
    professional = True
    comp = ":"
    # the open claim (``clm`` is None outside one); ``skip`` once a problem was yielded for it
    clm: Any = None
    clm_number = 0
    skip = False
    diagnoses: list[Diagnosis] = []
    pointable: list[Diagnosis] = []
    lines: list[Any] = []
    line: Any = None
    entity: dict[str, Any] | None = None  # the NM1 loop N3/N4/REF/PRV/DMG belong to
    entity_role = ""
    loop = 0  # 1000, 2000 (2000A/B/C), 2300, 2310, 2320 (other subscriber: skipped), 2400, 2420, 2430
    sum_cents = 0

    def finish_claim(batch: SegmentBatch, i: int) -> Claim837 | ClaimProblem:
        nonlocal clm
        if lines and lines[-1].charge_cents is None:
            raise batch.error(i, "the previous service line has no SV1/SV2", None, name)
        c = clm
        clm = None
        assert st is not None
        if not lines:
            return _claim_problem(
                clm_number, "CLM", None, "claim has no service line (LX loop 2400)", c, lines
            )
        if sum_cents != c.total_charge_cents:
            return _claim_problem(
                clm_number,
                "CLM",
                2,
                f"total charge {format_cents(c.total_charge_cents)} is not the sum of the line charges "
                f"{format_cents(sum_cents)}",
                c,
                lines,
            )
        for attr in ("rendering", "attending", "operating", "referring", "service_facility"):
            value = getattr(c, attr)
            if value is not None:
                setattr(c, attr, _provider(value))
        rendering = c.rendering
        for ln in lines:
            if ln.rendering is None:
                ln.rendering = rendering
            else:
                ln.rendering = _provider(ln.rendering)
            ln.__class__ = ServiceLine
        c.lines = tuple(lines)
        c.diagnoses = tuple(diagnoses)
        c.__class__ = Claim837
        result: Claim837 = c
        return result

    for th, batch, start, stop in reader.batches():
        if th.set_id != "837":
            raise X12Error(
                f"transaction set {th.set_id!r} is not an 837 claim",
                segment_number=th.segment.number,
                segment_id="ST",
                element=1,
                filename=reader.filename,
            )
        elements = batch.elements
        for i in range(start, stop):
            e = elements[i]
            sid = e[0]
            if skip and sid not in ("CLM", "HL", "SE"):
                continue
            try:
                if sid == "SV1" or sid == "SV2":
                    if loop != 2400 or line is None or line.charge_cents is not None:
                        raise batch.error(i, f"{sid} outside a service line (LX loop 2400)", None, name)
                    if professional != (sid == "SV1"):
                        raise batch.error(i, f"{sid} in a {kind} 837", None, name)
                    line.segment_number = batch.number + i
                    if len(e) < 8:
                        e = e + _PAD[: 8 - len(e)]
                    if sid == "SV1":
                        proc, charge, basis, units, pos, ptr = e[1], e[2], e[3], e[4], e[5], e[7]
                        revenue = ""
                        p_el, c_el, u_el = 1, 2, 4
                    else:
                        revenue, proc, charge, basis, units = e[1], e[2], e[3], e[4], e[5]
                        pos = ptr = ""
                        p_el, c_el, u_el = 2, 3, 5
                        if not revenue:
                            raise _Problem(batch, i, "no revenue code (SV201)", 1)
                    if proc:
                        parsed = procedures.get(proc)
                        if parsed is None:
                            parts = proc.split(comp)
                            if len(parts) < 2 or not parts[1]:
                                raise _Problem(
                                    batch, i, f"procedure {proc!r} is not qualifier{comp}code", p_el
                                )
                            parsed = (parts[0], parts[1], tuple(m for m in parts[2:6] if m))
                            if len(procedures) >= _CACHE_LIMIT:
                                procedures.clear()
                            procedures[proc] = parsed
                        line.procedure_qualifier, line.procedure_code, line.modifiers = parsed
                    elif professional:
                        raise _Problem(batch, i, "no procedure (SV101)", 1)
                    else:
                        line.procedure_qualifier = line.procedure_code = ""
                        line.modifiers = ()
                    cents = amounts.get(charge)
                    if cents is None:
                        try:
                            cents = parse_cents(charge)
                        except AmountError as exc:
                            raise _Problem(batch, i, f"line charge: {exc}", c_el) from None
                        if cents < 0:
                            raise _Problem(batch, i, f"line charge {charge!r} is negative", c_el)
                        if len(amounts) >= _CACHE_LIMIT:
                            amounts.clear()
                        amounts[charge] = cents
                    line.charge_cents = cents
                    sum_cents += cents
                    qty = quantities.get(units)
                    if qty is None:
                        try:
                            qty = Decimal(units)
                        except InvalidOperation:
                            raise _Problem(batch, i, f"units {units!r} are not a number", u_el) from None
                        if not qty.is_finite() or qty <= 0:
                            raise _Problem(batch, i, f"units {units!r} are not a positive quantity", u_el)
                        if len(quantities) >= _CACHE_LIMIT:
                            quantities.clear()
                        quantities[units] = qty
                    line.units = qty
                    line.unit_basis = basis
                    line.revenue_code = revenue
                    line.place_of_service = pos
                    if ptr:
                        known = pointer_cache.get(ptr)
                        if known is None:
                            known = _pointers(ptr, comp)
                            if len(pointer_cache) >= _CACHE_LIMIT:
                                pointer_cache.clear()
                            pointer_cache[ptr] = known
                        pointers, highest = known
                        if highest > len(pointable) or highest == 0:
                            bad = next(str(p) for p in pointers if not 0 < p <= len(pointable))
                            raise _Problem(
                                batch,
                                i,
                                f"diagnosis pointer {bad!r} points to no diagnosis (the claim has {len(pointable)})",
                                7,
                            )
                        line.diagnosis_pointers = pointers
                        line.diagnoses = tuple([pointable[p - 1] for p in pointers])
                    else:
                        line.diagnosis_pointers = line.diagnoses = ()
                elif sid == "DTP":
                    if loop == 2400 or loop == 2300:
                        if len(e) < 4:
                            e = e + _PAD[: 4 - len(e)]
                        qualifier, fmt, text = e[1], e[2], e[3]
                        end: dt.date | None = None
                        begin: dt.date | None
                        if fmt == "D8":
                            begin = dates.get(text) or _cached_date(text, dates)
                        elif fmt == "RD8":
                            first, _, last = text.partition("-")
                            begin = dates.get(first) or _cached_date(first, dates)
                            end = dates.get(last) or _cached_date(last, dates)
                            if end is None:
                                begin = None
                            elif begin is not None and end < begin:
                                raise _Problem(batch, i, f"date range {text!r} ends before it starts", 3)
                        elif fmt == "DT":
                            begin = dates.get(text[:8]) or _cached_date(text[:8], dates)
                            if len(text) != 12 or not text[8:].isdigit():
                                begin = None
                        elif fmt == "TM":  # an hour alone (837I DTP*096 discharge hour): HHMM, nothing mapped
                            if not (len(text) == 4 and text.isascii() and text.isdigit()
                                    and int(text[:2]) < 24 and int(text[2:]) < 60):  # fmt: skip
                                raise _Problem(batch, i, f"{text!r} is not an HHMM time", 3)
                            continue
                        else:
                            raise _Problem(
                                batch, i, f"date format qualifier {fmt!r} is not D8, RD8, DT or TM", 2
                            )
                        if begin is None:
                            raise _Problem(batch, i, f"{text!r} is not a {fmt} date", 3)
                        if loop == 2400:
                            if qualifier == "472":
                                line.service_date = begin
                                line.service_date_end = end
                        elif qualifier == "434":
                            clm.statement_from = begin
                            clm.statement_to = end or begin
                        elif qualifier == "435":
                            clm.admission_date = begin
                        elif qualifier == "431":
                            clm.onset_date = begin
                elif sid == "LX":
                    if clm is None:
                        raise batch.error(i, "LX (loop 2400) outside a claim (no CLM before it)", None, name)
                    if line is not None and line.charge_cents is None:
                        raise batch.error(i, "the previous service line has no SV1/SV2", None, name)
                    number = e[1] if len(e) > 1 else ""
                    line_number = numbers.get(number)
                    if line_number is None:
                        if not number.isdigit() or len(number) > 6:
                            raise _Problem(batch, i, f"line number {number!r} is not a positive integer", 1)
                        line_number = int(number)
                        if len(numbers) < 1000:
                            numbers[number] = line_number
                    line = new_object(_LineBuilder)
                    line.number = line_number
                    line.charge_cents = None
                    line.service_date = line.service_date_end = line.rendering = None
                    line.control_number = ""
                    lines.append(line)
                    loop = 2400
                    entity = None
                elif sid == "REF":
                    if len(e) < 3:
                        e = e + _PAD[: 3 - len(e)]
                    qualifier, value = e[1], e[2]
                    if loop == 2400:
                        if qualifier == "6R":
                            line.control_number = value
                    elif loop == 2300:
                        if qualifier == "F8":
                            clm.payer_claim_control_number = value
                        elif qualifier == "G1":
                            clm.prior_authorization = value
                        elif qualifier == "9F":
                            clm.referral_number = value
                    elif entity is not None and qualifier in ("EI", "SY") and entity_role in ("85", "87"):
                        entity["tin"] = value
                elif sid == "CLM":
                    if clm is not None:
                        yield finish_claim(batch, i)
                    skip = False
                    if st is None or st.hl not in ("22", "23"):
                        raise batch.error(
                            i, "CLM outside a subscriber or patient loop (HL 22/23)", None, name
                        )
                    subscriber = _subscriber(st, batch, i, name)
                    clm_number = batch.number + i
                    e = e + [""] * (6 - len(e)) if len(e) < 6 else e
                    clm = new_object(_ClaimBuilder)
                    clm.claim_id = e[1]
                    clm.segment_number = clm_number
                    lines = []
                    line = None
                    diagnoses = []
                    pointable = []
                    sum_cents = 0
                    loop = 2300
                    entity = None
                    if st.sbr_problem is not None:
                        at, seg_id, element, message = st.sbr_problem
                        skip = True
                        clm = None
                        yield ClaimProblem(
                            at, seg_id, element, message, e[1], st.billing, subscriber.person,
                            subscriber.person.member_id,
                        )  # fmt: skip
                        continue
                    _start_claim(clm, st, subscriber, professional)
                    if not e[1]:
                        raise _Problem(batch, i, "no patient control number (CLM01)", 1)
                    total = amounts.get(e[2])
                    if total is None:
                        try:
                            total = parse_cents(e[2])
                        except AmountError as exc:
                            raise _Problem(batch, i, f"total charge: {exc}", 2) from None
                    clm.total_charge_cents = total
                    facility = e[5].split(comp)
                    if not e[5] or len(facility) < 3 or not facility[0]:
                        raise _Problem(
                            batch,
                            i,
                            f"CLM05 {e[5]!r} is not facility code{comp}qualifier{comp}frequency code"
                            if e[5]
                            else "no facility code / claim frequency (CLM05)",
                            5,
                        )
                    freq = facility[2]
                    if freq not in FREQUENCY_CODES[kind]:
                        raise _Problem(
                            batch,
                            i,
                            f"claim frequency code {freq!r} is not one of {', '.join(FREQUENCY_CODES[kind])}",
                            5,
                        )
                    clm.frequency_code = freq
                    if professional:
                        clm.place_of_service, clm.facility_type = facility[0], ""
                    else:
                        clm.place_of_service, clm.facility_type = "", facility[0]
                elif sid == "HI":
                    if loop != 2300:
                        raise batch.error(i, "HI outside a claim (loop 2300)", None, name)
                    for position in range(1, len(e)):
                        parts = e[position].split(comp)
                        qualifier = parts[0]
                        if qualifier not in DIAGNOSIS_QUALIFIERS:
                            continue
                        code = parts[1] if len(parts) > 1 else ""
                        if not code:
                            raise _Problem(batch, i, f"diagnosis {e[position]!r} has no code", position)
                        d = Diagnosis(qualifier, code, len(diagnoses) + 1)
                        diagnoses.append(d)
                        if qualifier in POINTER_QUALIFIERS:
                            pointable.append(d)
                elif sid == "NM1":
                    entity, entity_role, loop = _nm1(e, batch, i, name, st, loop, clm, line, dates)
                elif sid == "N3" or sid == "N4" or sid == "PRV" or sid == "DMG":
                    if len(e) < 4:
                        e = e + _PAD[: 4 - len(e)]
                    if sid == "PRV":
                        if loop == 2000 and st is not None and st.billing_pending is None and st.hl == "20":
                            # PRV*BI comes before NM1*85 in loop 2000A
                            st.pay_to = None
                            st.billing_pending = {"taxonomy": e[3]}
                            continue
                        if entity is not None:
                            entity["taxonomy"] = e[3]
                        continue
                    if entity is None:
                        continue
                    if sid == "N3":
                        entity["line1"], entity["line2"] = e[1], e[2]
                        entity["address"] = True
                    elif sid == "N4":
                        entity["city"], entity["state"], entity["zip"] = e[1], e[2], e[3]
                        entity["address"] = True
                    else:
                        fmt, text, sex = e[1], e[2], e[3]
                        if fmt != "D8":
                            raise _Problem(batch, i, f"date format qualifier {fmt!r} is not D8", 1)
                        born = dates.get(text) or _cached_date(text, dates)
                        if born is None:
                            raise _Problem(batch, i, f"{text!r} is not a CCYYMMDD date", 2)
                        if sex not in ("F", "M", "U"):
                            raise _Problem(batch, i, f"sex {sex!r} is not F, M or U", 3)
                        entity["birth_date"], entity["sex"] = born, sex
                elif sid == "HL":
                    if clm is not None:
                        yield finish_claim(batch, i)
                    skip = False
                    if st is None or st.header is None:
                        raise batch.error(i, "HL before the BHT and the submitter/receiver loops", None, name)
                    _hl(e, batch, i, name, st)
                    loop = 2000
                    entity = None
                    line = None
                elif sid == "SBR":
                    if loop == 2000 and st is not None and st.hl == "22":
                        st.sbr = e
                    elif clm is not None:
                        loop = 2320  # other subscriber information: not mapped
                        entity = None
                    else:
                        raise batch.error(i, "SBR outside a subscriber loop (HL 22) or claim", None, name)
                elif sid == "PAT":
                    if st is not None and st.hl == "23":
                        st.patient_pending = {"relationship": _get(e, 1)}
                elif sid == "CL1":
                    if loop != 2300:
                        raise batch.error(i, "CL1 outside a claim (loop 2300)", None, name)
                    clm.admission_type, clm.admission_source, clm.patient_status = (
                        _get(e, 1),
                        _get(e, 2),
                        _get(e, 3),
                    )
                elif sid == "SVD":
                    loop = 2430
                    entity = None
                elif sid == "SE":
                    if clm is not None:
                        yield finish_claim(batch, i)
                    skip = False
                    st = None
                    line = None
                    entity = None
                    loop = 0
                elif sid == "ST":
                    seen_837 = True
                    name = reader.filename
                    st = _State()
                    version = th.version
                    if version.startswith("005010X222"):
                        kind, professional = PROFESSIONAL, True
                    elif version.startswith("005010X223"):
                        kind, professional = INSTITUTIONAL, False
                    else:
                        raise batch.error(
                            i,
                            f"version {version!r} is not an 837P (005010X222) or 837I (005010X223)",
                            3,
                            name,
                        )
                    comp = th.group.interchange.delimiters.component
                    st.header = None
                    loop = 0
                    clm = None
                elif sid == "BHT":
                    if st is None or loop != 0:
                        raise batch.error(i, "BHT out of place (it follows the ST)", None, name)
                    created = parse_d8(_get(e, 4))
                    if created is None:
                        raise batch.error(i, f"{_get(e, 4)!r} is not a CCYYMMDD date", 4, name)
                    st.header = Header837(
                        th.control_number, th.version, kind, _get(e, 3), created, "", "", "", ""
                    )
                    loop = 1000
            except _Problem as p:
                if clm is None:
                    if st is not None and st.hl in ("22", "23") and loop == 2000:
                        # a problem in the subscriber or patient loop: every claim under it reports it
                        st.sbr_problem = (p.number, p.segment_id, p.element, p.message)
                        continue
                    raise X12Error(
                        p.message, segment_number=p.number, segment_id=p.segment_id, element=p.element,
                        filename=name,
                    ) from None  # fmt: skip
                problem = _claim_problem(p.number, p.segment_id, p.element, p.message, clm, lines)
                clm = None
                skip = True
                yield problem
    if not seen_837:
        raise X12Error("no 837 transaction set in the file", filename=reader.filename)


def _claim_problem(
    number: int, segment_id: str, element: int | None, message: str, clm: Any, lines: list[Any]
) -> ClaimProblem:
    """A ClaimProblem with what was read of the claim (``clm``, a claim builder, may be half filled)."""
    subscriber: Subscriber | None = getattr(clm, "subscriber", None)
    patient: Patient | None = getattr(clm, "patient", None)
    total = getattr(clm, "total_charge_cents", None)
    days = [
        d
        for ln in lines
        for d in (getattr(ln, "service_date", None), getattr(ln, "service_date_end", None))
        if d
    ]
    start = getattr(clm, "statement_from", None)
    if start is not None:
        days += [start, getattr(clm, "statement_to", None) or start]
    return ClaimProblem(
        number, segment_id, element, message, clm.claim_id, getattr(clm, "billing_provider", None),
        patient.person if patient is not None else subscriber.person if subscriber is not None else None,
        subscriber.person.member_id if subscriber is not None else "",
        total if isinstance(total, int) else None, min(days) if days else None, max(days) if days else None,
    )  # fmt: skip


def _cached_date(text: str, dates: dict[str, dt.date]) -> dt.date | None:
    day = parse_d8(text)
    if day is not None:
        if len(dates) >= _CACHE_LIMIT:
            dates.clear()
        dates[text] = day
    return day


def _address(d: dict[str, Any]) -> Address | None:
    if not d.get("address"):
        return None
    return Address(
        d.get("line1", ""), d.get("line2", ""), d.get("city", ""), d.get("state", ""), d.get("zip", "")
    )


_PROVIDERS: dict[tuple[Any, ...], Provider] = {}


def _provider(d: dict[str, Any]) -> Provider:
    """The Provider of an NM1 loop's dict; equal loops share one frozen Provider (a bounded cache)."""
    key = tuple(d.items())
    try:
        return _PROVIDERS[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable value: not cached
        return _new_provider(d)
    if len(_PROVIDERS) >= _CACHE_LIMIT:
        _PROVIDERS.clear()
    provider = _PROVIDERS[key] = _new_provider(d)
    return provider


def _new_provider(d: dict[str, Any]) -> Provider:
    return Provider(
        d["entity_type"], d["name"], d["first_name"], d["middle_name"], d["id_qualifier"], d["identifier"],
        d.get("tin", ""), d.get("taxonomy", ""), _address(d),
    )  # fmt: skip


def _person(d: dict[str, Any]) -> Person:
    return Person(
        d["name"], d["first_name"], d["middle_name"], d["id_qualifier"], d["identifier"],
        d.get("birth_date"), d.get("sex", ""), _address(d),
    )  # fmt: skip


def _close_billing(st: _State) -> None:
    """Turn the 2000A loop read so far into the billing (and pay-to) provider."""
    pending = st.billing_pending
    if pending is not None and "name" in pending:
        st.billing = _provider(pending)
        pay_to = pending.get("pay_to")
        st.pay_to = _provider(pay_to) if pay_to is not None else None
        st.billing_pending = None


def _hl(e: list[str], batch: SegmentBatch, i: int, name: str | None, st: _State) -> None:
    level = _get(e, 3)
    if st.hl == "20":
        _close_billing(st)
        if st.billing_pending is not None or st.billing is None:
            raise batch.error(i, "the billing provider loop (HL 20) has no NM1*85 (loop 2010AA)", None, name)
    if level == "20":
        if _get(e, 2):
            raise batch.error(i, "a billing provider HL (20) has no parent", 2, name)
        st.billing = st.pay_to = None
        st.billing_pending = None
    elif level == "22":
        if st.billing is None:
            raise batch.error(i, "subscriber HL (22) before any billing provider HL (20)", 3, name)
        st.sbr = None
        st.subscriber_person = None
        st.subscriber = None
        st.payer = None
        st.patient = None
        st.patient_pending = None
        st.sbr_problem = None
    elif level == "23":
        if st.hl not in ("22", "23") or st.sbr is None:
            raise batch.error(i, "patient HL (23) not under a subscriber HL (22)", 3, name)
        if st.subscriber is None:
            # check the subscriber loop before the patient is read
            saved = st.patient_pending
            st.patient_pending = None
            _subscriber(st, batch, i, name)
            st.patient_pending = saved
        st.patient = None
        st.patient_pending = None
    else:
        raise batch.error(i, f"hierarchical level code {level!r} is not 20, 22 or 23", 3, name)
    st.hl = level


def _subscriber(st: _State, batch: SegmentBatch, i: int, name: str | None) -> Subscriber:
    """The 2000B subscriber (built once per HL 22), checking the required loops are there."""
    if st.subscriber is None:
        if st.sbr is None:
            raise batch.error(i, "the subscriber loop (HL 22) has no SBR", None, name)
        if st.subscriber_person is None:
            raise batch.error(i, "the subscriber loop (HL 22) has no NM1*IL (loop 2010BA)", None, name)
        if st.payer is None:
            raise batch.error(i, "the subscriber loop (HL 22) has no NM1*PR payer (loop 2010BB)", None, name)
        s = st.sbr
        s = s + _PAD[: 10 - len(s)] if len(s) < 10 else s
        st.subscriber = Subscriber(s[1], s[2], s[3], s[4], s[9], _person(st.subscriber_person))
    pending = st.patient_pending
    if st.hl == "23":
        if pending is None:
            raise batch.error(i, "the patient loop (HL 23) has no PAT", None, name)
        if "name" not in pending:
            raise batch.error(i, "the patient loop (HL 23) has no NM1*QC (loop 2010CA)", None, name)
        if st.patient is None:
            st.patient = Patient(pending["relationship"], _person(pending))
    return st.subscriber


def _start_claim(clm: Any, st: _State, subscriber: Subscriber, professional: bool) -> None:
    assert st.header is not None
    assert st.billing is not None
    assert st.payer is not None
    clm.transaction = st.header
    clm.billing_provider = st.billing
    clm.pay_to = st.pay_to
    clm.subscriber = subscriber
    clm.patient = st.patient if st.hl == "23" else None
    payer = st.payer
    if "built" not in payer:
        payer["built"] = Payer(payer["name"], payer["id_qualifier"], payer["identifier"], _address(payer))
    clm.payer = payer["built"]
    clm.payer_claim_control_number = clm.prior_authorization = clm.referral_number = ""
    clm.onset_date = clm.statement_from = clm.statement_to = clm.admission_date = None
    clm.rendering = clm.attending = clm.operating = clm.referring = clm.service_facility = None
    clm.diagnoses = clm.lines = ()
    clm.admission_type = clm.admission_source = clm.patient_status = ""


_CLAIM_PROVIDERS = {
    "82": "rendering",
    "71": "attending",
    "72": "operating",
    "DN": "referring",
    "77": "service_facility",
}


def _nm1(
    e: list[str],
    batch: SegmentBatch,
    i: int,
    name: str | None,
    st: _State | None,
    loop: int,
    clm: Any,
    line: Any,
    dates: dict[str, dt.date],
) -> tuple[dict[str, Any] | None, str, int]:
    """Open the NM1 loop ``e``: (the dict its N3/N4/REF/PRV/DMG fill, its NM101, the loop now open)."""
    if st is None:
        raise batch.error(i, "NM1 outside a transaction set", None, name)
    if len(e) < 10:
        e = e + _PAD[: 10 - len(e)]
    role = e[1]
    d: dict[str, Any] = {
        "entity_type": e[2], "name": e[3], "first_name": e[4], "middle_name": e[5],
        "id_qualifier": e[8], "identifier": e[9],
    }  # fmt: skip
    if loop == 1000:
        header = st.header
        assert header is not None
        if role == "41":
            st.header = Header837(
                header.control_number, header.version, header.kind, header.originator_reference,
                header.created, d["name"], d["identifier"], header.receiver_name, header.receiver_id,
            )  # fmt: skip
        elif role == "40":
            st.header = Header837(
                header.control_number, header.version, header.kind, header.originator_reference,
                header.created, header.submitter_name, header.submitter_id, d["name"], d["identifier"],
            )  # fmt: skip
        return None, role, loop
    if loop == 2000:
        if st.hl == "20":
            if role == "85":
                pending = st.billing_pending or {}
                pending.update(d)
                st.billing_pending = pending
                return pending, role, loop
            if role == "87" and st.billing_pending is not None:
                st.billing_pending["pay_to"] = d
                return d, role, loop
            return None, role, loop
        if st.hl == "22":
            if role == "IL":
                if st.sbr is None:
                    raise batch.error(i, "NM1*IL before the SBR of its subscriber loop", None, name)
                st.subscriber_person = d
                return d, role, loop
            if role == "PR":
                st.payer = d
                return d, role, loop
            return None, role, loop
        if st.hl == "23":
            if role == "QC":
                if st.patient_pending is None:
                    raise batch.error(i, "NM1*QC before the PAT of its patient loop", None, name)
                st.patient_pending.update(d)
                return st.patient_pending, role, loop
            return None, role, loop
    if loop in (2300, 2310):
        attr = _CLAIM_PROVIDERS.get(role)
        if attr is not None:
            _set_provider_later(clm, attr, d)
        return d, role, 2310
    if loop in (2400, 2420):
        if role == "82":
            _set_provider_later(line, "rendering", d)
            return d, role, 2420
        return d, role, 2420
    return None, role, loop  # other subscriber loops (2320/2330) and 2430: not mapped


def _set_provider_later(target: Any, attr: str, d: dict[str, Any]) -> None:
    """Keep the NM1 dict: its N3/N4/REF/PRV follow, so the Provider is built when the claim is complete."""
    setattr(target, attr, d)


# -- writing ------------------------------------------------------------------------------------------


def _d8(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _units(value: Decimal) -> str:
    text = format(value, "f")
    return text


def write_837(
    target: BinaryIO | str | os.PathLike[str],
    claims: Iterable[Claim837],
    *,
    sender: str,
    receiver: str,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    interchange_control_number: int = 1,
    group_control_number: int = 1,
    claims_per_transaction: int = 5000,
    contact_phone: str = "8005550100",
    delimiters: Delimiters | None = None,
    newline: bool = False,
    when: dt.datetime | None = None,
    usage: str = "P",
) -> int:
    """Write ``claims`` as one 837 interchange (ISA, GS, ST ... SE, GE, IEA); return the number written.

    ``claims`` is consumed one at a time (constant memory). A new transaction set starts when a claim's
    :class:`Header837` differs from the previous one's or ``claims_per_transaction`` claims were written;
    ST02 is the header's control number the first time it is used, else a running number. Within a set
    the HL hierarchy is billing provider (20) -> subscriber (22) -> patient (23): consecutive claims with
    the same billing provider, subscriber and payer (and patient) share their HL loops. All claims must be
    of one version (GS08). The 1000A contact (PER*IC) is the submitter's name with ``contact_phone``.

    What the writer does not carry (the reader does not map it either): claim-level NM1 REFs, CL1 codes
    beyond a default, other payers (2320). :func:`read_837` reads the file back to equal claims, given
    diagnoses numbered in order and line rendering providers that are either the claim's or their own.
    Raises ValueError for a claim the guide cannot carry (no lines, an unknown kind, mixed versions, an
    element holding a delimiter).
    """
    with contextlib.ExitStack() as stack:
        stream = (
            stack.enter_context(open(target, "wb"))  # closed by the exit stack
            if isinstance(target, (str, os.PathLike))
            else target
        )
        w = X12Writer(stream, delimiters, newline=newline)
        writer = _ClaimWriter(w, contact_phone)
        count = 0
        version = ""
        for c in claims:
            h = c.transaction
            if not version:
                version = h.version
                stamp = when or dt.datetime.combine(h.created or dt.date(2000, 1, 1), dt.time())
                w.start_interchange(
                    sender_qualifier, sender, receiver_qualifier, receiver,
                    control_number=interchange_control_number, when=stamp, usage=usage,
                )  # fmt: skip
                w.start_group(
                    "HC", sender, receiver, control_number=group_control_number, version=version, when=stamp
                )
            elif h.version != version:
                raise ValueError(f"claim {c.claim_id!r}: version {h.version} in a {version} interchange")
            if writer.header != h or writer.in_set >= claims_per_transaction:
                writer.start(h)
            try:
                writer.claim(c)
            except ValueError as exc:
                raise ValueError(f"claim {count + 1} ({c.claim_id!r}): {exc}") from None
            count += 1
        if not version:
            raise ValueError("no claims to write")
        writer.end()
        w.end_group()
        w.end_interchange()
    return count


class _ClaimWriter:
    def __init__(self, w: X12Writer, phone: str) -> None:
        self.w = w
        self.phone = phone
        self.header: Header837 | None = None
        self.in_set = 0
        self.used: set[str] = set()
        self.sets = 0
        self.hl = 0
        self.billing_key: tuple[Any, ...] | None = None
        self.billing_hl = 0
        self.subscriber_key: tuple[Any, ...] | None = None
        self.subscriber_hl = 0
        self.patient_key: Patient | None = None

    def start(self, h: Header837) -> None:
        w = self.w
        if self.header is not None:
            w.end_transaction()
        self.sets += 1
        control = (
            h.control_number if h.control_number and h.control_number not in self.used else f"{self.sets:04d}"
        )
        while control in self.used:
            control = f"{int(control) + 1:04d}" if control.isdigit() else f"{control}1"
        self.used.add(control)
        w.start_transaction("837", control, h.version)
        created = h.created or dt.date(2000, 1, 1)
        w.segment("BHT", "0019", "00", h.originator_reference, _d8(created), "0000", "CH")
        w.segment("NM1", "41", "2", h.submitter_name, "", "", "", "", "46", h.submitter_id)
        w.segment("PER", "IC", h.submitter_name, "TE", self.phone)
        w.segment("NM1", "40", "2", h.receiver_name, "", "", "", "", "46", h.receiver_id)
        self.header = h
        self.in_set = 0
        self.hl = 0
        self.billing_key = self.subscriber_key = self.patient_key = None

    def end(self) -> None:
        if self.header is not None:
            self.w.end_transaction()

    def _address(self, a: Address | None) -> None:
        if a is None:
            return
        if a.line1 or a.line2:
            self.w.segment("N3", a.line1, a.line2)
        self.w.segment("N4", a.city, a.state, a.zip)

    def _nm1(self, role: str, p: Provider) -> None:
        self.w.segment(
            "NM1",
            role,
            p.entity_type,
            p.name,
            p.first_name,
            p.middle_name,
            "",
            "",
            p.id_qualifier,
            p.identifier,
        )

    def _person(self, role: str, p: Person) -> None:
        self.w.segment(
            "NM1", role, "1", p.last_name, p.first_name, p.middle_name, "", "", p.id_qualifier, p.member_id
        )
        self._address(p.address)
        if p.birth_date is not None:
            self.w.segment("DMG", "D8", _d8(p.birth_date), p.sex)
        elif p.sex:
            raise ValueError(f"sex {p.sex!r} without a birth date (DMG needs both)")

    def claim(self, c: Claim837) -> None:
        w = self.w
        segment = w.segment
        if not c.lines:
            raise ValueError("no service line")
        billing_key = (c.billing_provider, c.pay_to)
        if billing_key != self.billing_key:
            self.hl += 1
            self.billing_hl = self.hl
            segment("HL", str(self.hl), "", "20", "1")
            b = c.billing_provider
            if b.taxonomy:
                segment("PRV", "BI", "PXC", b.taxonomy)
            self._nm1("85", b)
            self._address(b.address)
            if b.tin:
                segment("REF", "EI", b.tin)
            if c.pay_to is not None:
                self._nm1("87", c.pay_to)
                self._address(c.pay_to.address)
            self.billing_key = billing_key
            self.subscriber_key = None
        subscriber_key = (c.subscriber, c.payer, c.patient is None)
        if subscriber_key != self.subscriber_key:
            self.hl += 1
            self.subscriber_hl = self.hl
            s = c.subscriber
            segment("HL", str(self.hl), str(self.billing_hl), "22", "0" if c.patient is None else "1")
            segment("SBR", s.payer_responsibility, s.relationship, s.group_number, s.group_name,
                    "", "", "", "", s.filing_indicator)  # fmt: skip
            self._person("IL", s.person)
            p = c.payer
            segment("NM1", "PR", "2", p.name, "", "", "", "", p.id_qualifier, p.identifier)
            self._address(p.address)
            self.subscriber_key = subscriber_key
            self.patient_key = None
        if c.patient is not None and c.patient != self.patient_key:
            self.hl += 1
            segment("HL", str(self.hl), str(self.subscriber_hl), "23", "0")
            segment("PAT", c.patient.relationship)
            self._person("QC", c.patient.person)
            self.patient_key = c.patient
        professional = c.kind == PROFESSIONAL
        if c.kind not in (PROFESSIONAL, INSTITUTIONAL):
            raise ValueError(f"kind {c.kind!r} is not {PROFESSIONAL} or {INSTITUTIONAL}")
        if professional:
            segment("CLM", c.claim_id, format_cents(c.total_charge_cents), "", "",
                    (c.place_of_service, "B", c.frequency_code), "Y", "A", "Y", "Y")  # fmt: skip
            if c.onset_date is not None:
                segment("DTP", "431", "D8", _d8(c.onset_date))
        else:
            segment("CLM", c.claim_id, format_cents(c.total_charge_cents), "", "",
                    (c.facility_type, "A", c.frequency_code), "", "A", "Y", "Y")  # fmt: skip
            if c.statement_from is not None:
                end = c.statement_to or c.statement_from
                segment("DTP", "434", "RD8", f"{_d8(c.statement_from)}-{_d8(end)}")
            if c.admission_date is not None:
                segment("DTP", "435", "D8", _d8(c.admission_date))
            if c.admission_type or c.admission_source or c.patient_status:
                segment("CL1", c.admission_type, c.admission_source, c.patient_status)
        if c.referral_number:
            segment("REF", "9F", c.referral_number)
        if c.prior_authorization:
            segment("REF", "G1", c.prior_authorization)
        if c.payer_claim_control_number:
            segment("REF", "F8", c.payer_claim_control_number)
        self._diagnoses(c.diagnoses, professional)
        roles: list[tuple[str, Provider | None, str]] = (
            [("DN", c.referring, ""), ("82", c.rendering, "PE"), ("77", c.service_facility, "")]
            if professional
            else [("71", c.attending, "AT"), ("72", c.operating, ""), ("77", c.service_facility, ""),
                  ("82", c.rendering, ""), ("DN", c.referring, "")]
        )  # fmt: skip
        for role, provider, prv in roles:
            if provider is None:
                continue
            self._nm1(role, provider)
            if provider.taxonomy:
                segment("PRV", prv or "PE", "PXC", provider.taxonomy)
            self._address(provider.address)
        for line in c.lines:
            self._line(line, c, professional)
        self.in_set += 1

    def _diagnoses(self, diagnoses: tuple[Diagnosis, ...], professional: bool) -> None:
        runs: list[list[Diagnosis]] = []
        for d in diagnoses:
            if (
                runs
                and len(runs[-1]) < 12
                and (professional or runs[-1][0].qualifier == d.qualifier)
                and d.qualifier not in ("ABK", "BK")
            ):
                runs[-1].append(d)
            else:
                runs.append([d])
        for run in runs:
            self.w.segment("HI", *[(d.qualifier, d.code) for d in run])

    def _line(self, line: ServiceLine, c: Claim837, professional: bool) -> None:
        segment = self.w.segment
        segment("LX", str(line.number))
        procedure: tuple[str, ...] | str = (
            (line.procedure_qualifier, line.procedure_code, *line.modifiers) if line.procedure_code else ""
        )
        if professional:
            pointers = tuple(str(p) for p in line.diagnosis_pointers) or ""
            segment("SV1", procedure, format_cents(line.charge_cents), line.unit_basis, _units(line.units),
                    line.place_of_service, "", pointers)  # fmt: skip
        else:
            segment("SV2", line.revenue_code, procedure, format_cents(line.charge_cents), line.unit_basis,
                    _units(line.units))  # fmt: skip
        if line.service_date is not None:
            if line.service_date_end is not None:
                segment("DTP", "472", "RD8", f"{_d8(line.service_date)}-{_d8(line.service_date_end)}")
            else:
                segment("DTP", "472", "D8", _d8(line.service_date))
        if line.control_number:
            segment("REF", "6R", line.control_number)
        if line.rendering is not None and line.rendering != c.rendering:
            self._nm1("82", line.rendering)
            if line.rendering.taxonomy:
                segment("PRV", "PE", "PXC", line.rendering.taxonomy)
