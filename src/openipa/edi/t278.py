"""278 Health Care Services Review (005010X217): requests read as typed records, responses written.

Public API (pure Python, no Django)::

    read_278(source, *, filename=None, chunk_size=CHUNK_SIZE) -> Iterator[Request278]
        One Request278 per patient event (loop 2000E) of every 278 request (BHT02 13 or 01) in a file,
        streamed: a request is yielded when the next HL at its level or above, or the SE, closes it.
        Content and envelope errors raise X12Error (segment number, segment id, element position).

    build_278(pairs, *, when=None, control_number=1, delimiters=None, newline=False) -> bytes
        The 278 response interchange (BHT02 11) for (Request278, Decision278) pairs: sender and receiver
        swapped, GS01 HI, one response transaction set per request transaction set.

    write_278_request(requests, *, sender=..., receiver=..., control_number=1, when=None,
                      delimiters=None, newline=False, usage="T") -> bytes
        A 278 request interchange from typed records (tests, the demo's sample inbound files);
        ``read_278(write_278_request(requests)) == requests`` holds.

Records: :class:`Request278` (transaction, umo, requester, subscriber, dependent, event), :class:`Event`
(loop 2000E), :class:`Service` (2000F), :class:`Party` (2010A/2010B/2010EA/2010FA), :class:`Patient`
(2010C/2010D), :class:`Diagnosis`, :class:`Procedure`, :class:`Trace`, :class:`Address`,
:class:`Transaction278`. Answers: :class:`Decision278` (HCR for the event, certified span, per-service
:class:`ServiceDecision`) or a :class:`Rejection278` inside it (AAA at the loop it concerns).

The HL hierarchy of a request::

    HL*1**20*1~   NM1*X3*2*SUNRISE HEALTH PLAN*****PI*SUN01~                         2000A/2010A UMO
    HL*2*1*21*1~  NM1*1P*2*ALDER FAMILY MEDICINE*****XX*1234567893~ N3~ N4~ PER~ PRV~ 2000B/2010B requester
    HL*3*2*22*1~  NM1*IL*1*ANDERS*AMY****MI*SUN0001~ DMG*D8*19500304*F~               2000C/2010C subscriber
    (HL*4*3*23*1~ NM1*QC*1*ANDERS*ALEX~ DMG~ INS*N*19~                                2000D/2010D dependent)
    HL*4*3*EV*1~  TRN*1*EVT-1*9123456789~ UM*HS*I*2*11:B**U~ DTP*AAH*RD8*...~          2000E patient event
                  HI*ABK:M545*ABF:M5416~ HSD*VS*12~ CL1*1*1~ MSG*text~
                  NM1*SJ*1*BIRCH*BEN****XX*1245319599~ N3~ N4~ PRV~                    2010EA event provider
    HL*5*4*SS*0~  TRN*1*SVC-1*9123456789~ UM*HS*I~ DTP*472*RD8*...~                     2000F service
                  SV1*HC:97110:GP*100*UN*12~ HSD*VS*12~ NM1*SJ*...~                    2010FA service provider

Level of service (UM06): 03 emergency, U urgent, E elective; :attr:`Event.urgency` is ``"expedited"`` for
03 and U and ``"standard"`` otherwise (the IG leaves UM06 out for routine requests).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from openipa.core.identifiers import is_valid_npi
from openipa.edi.amounts import format_cents, optional_cents
from openipa.edi.x12.ack import _clean, _reply
from openipa.edi.x12.dates import dtp_range, element_date
from openipa.edi.x12.delimiters import Delimiters
from openipa.edi.x12.envelope import EnvelopeReader, Group, Interchange
from openipa.edi.x12.errors import X12Error
from openipa.edi.x12.reader import CHUNK_SIZE, Segment, Source
from openipa.edi.x12.records import NamedEntity
from openipa.edi.x12.writer import X12Writer

IMPLEMENTATION = "005010X217"
FUNCTIONAL_ID = "HI"
"""GS01 of a 278 (health care services review information)."""

LEVELS: dict[str, str] = {
    "20": "utilization management organization",
    "21": "requester",
    "22": "subscriber",
    "23": "dependent",
    "EV": "patient event",
    "SS": "service",
}
"""HL03 hierarchical level codes of a 278."""

LOOPS = {"20": "2000A", "21": "2000B", "22": "2000C", "23": "2000D", "EV": "2000E", "SS": "2000F"}
_DEPTH = {"20": 1, "21": 2, "22": 3, "23": 4, "EV": 5, "SS": 6}
_PARENTS: dict[str, tuple[str, ...]] = {
    "21": ("20",),
    "22": ("21",),
    "23": ("22",),
    "EV": ("22", "23"),
    "SS": ("EV",),
}

PURPOSES: dict[str, str] = {"13": "request", "01": "cancellation"}
"""BHT02 of a 278 request."""
STRUCTURE = "0007"
"""BHT01 of a 278: information source, receiver, subscriber, dependent, event, services."""

REQUEST_CATEGORIES: dict[str, str] = {
    "AR": "admission review",
    "HS": "health services review",
    "SC": "specialty care review",
    "IN": "individual",
}
"""UM01 of loop 2000E. A service (2000F) takes HS or SC."""
SERVICE_CATEGORIES = frozenset({"HS", "SC"})

CERTIFICATION_TYPES: dict[str, str] = {
    "I": "initial",
    "1": "appeal - immediate",
    "2": "appeal - standard",
    "3": "cancel",
    "4": "extension",
    "S": "revised",
}
"""UM02."""

LEVELS_OF_SERVICE: dict[str, str] = {"03": "emergency", "E": "elective", "U": "urgent"}
"""UM06 (absent: routine)."""
EXPEDITED_LEVELS = frozenset({"03", "U"})

FACILITY_QUALIFIERS: dict[str, str] = {"A": "uniform billing claim form bill type", "B": "place of service"}
"""UM04-2."""

DIAGNOSIS_QUALIFIERS: dict[str, str] = {
    "ABK": "ICD-10-CM principal diagnosis",
    "ABF": "ICD-10-CM diagnosis",
    "ABJ": "ICD-10-CM admitting diagnosis",
    "APR": "ICD-10-CM patient's reason for visit",
    "BK": "ICD-9-CM principal diagnosis",
    "BF": "ICD-9-CM diagnosis",
    "BJ": "ICD-9-CM admitting diagnosis",
    "PR": "ICD-9-CM patient's reason for visit",
    "DR": "diagnosis related group",
    "LD": "LOINC",
}
"""HI0n-1 of loop 2000E. ABK (or BK) may only be the first."""
PRINCIPAL_QUALIFIERS = frozenset({"ABK", "BK"})

PROCEDURE_QUALIFIERS: dict[str, str] = {
    "HC": "HCPCS / CPT",
    "IV": "HIEC product/service code",
    "N4": "national drug code",
    "ZZ": "mutually defined",
    "AD": "ADA dental (CDT)",
    "ER": "jurisdiction specific",
    "WK": "advanced billing concepts",
    "CJ": "CPT-4 (retired)",
}
"""SV101-1 / SV202-1 / SV301-1 procedure code qualifiers accepted."""

REQUESTER_CODES = frozenset({"1P", "FA"})
"""NM101 of loop 2010B: 1P provider, FA facility."""
PROVIDER_CODES: dict[str, str] = {
    "SJ": "service provider",
    "FA": "facility",
    "71": "attending physician",
    "72": "operating physician",
    "73": "other physician",
    "AAJ": "admitting services",
    "DD": "assistant surgeon",
    "DK": "ordering physician",
    "DN": "referring provider",
    "G3": "clinic",
    "P3": "primary care provider",
    "QB": "purchase service provider",
    "QV": "group practice",
    "1T": "physician, clinic or group practice",
}
"""NM101 of loops 2010EA and 2010FA. Other NM1 loops of 2000E (2010EB contact, 2010EC transport) are read
past without being kept."""
SERVICING_CODES = ("SJ", "FA")
SEXES = frozenset({"F", "M", "U"})
HEALTH_SERVICE_QUANTITIES: dict[str, str] = {
    "DY": "days",
    "FL": "units",
    "HS": "hours",
    "MN": "month",
    "VS": "visits",
}
"""HSD01."""

ACTIONS: dict[str, str] = {
    "A1": "certified in total",
    "A2": "certified - partial",
    "A3": "not certified",
    "A4": "pended",
    "A6": "modified",
    "C": "cancelled",
    "CT": "contact payer",
    "NA": "no action required",
}
"""HCR01 of a 278 response."""
CERTIFIED_ACTIONS = frozenset({"A1", "A2", "A6"})

REJECTION_REASONS: dict[str, tuple[str, str]] = {
    "04": ("umo", "authorized quantity exceeded"),
    "41": ("umo", "authorization/access restrictions"),
    "42": ("umo", "unable to respond at current time"),
    "79": ("umo", "invalid participant identification"),
    "35": ("requester", "out of network"),
    "43": ("requester", "invalid/missing provider identification"),
    "44": ("requester", "invalid/missing provider name"),
    "45": ("requester", "invalid/missing provider specialty"),
    "51": ("requester", "provider not on file"),
    "58": ("patient", "invalid/missing date-of-birth"),
    "64": ("patient", "invalid/missing patient id"),
    "65": ("patient", "invalid/missing patient name"),
    "66": ("patient", "invalid/missing patient gender code"),
    "67": ("patient", "patient not found"),
    "68": ("patient", "duplicate patient id number"),
    "71": ("patient", "patient birth date does not match that for the patient on the database"),
    "72": ("patient", "invalid/missing subscriber/insured id"),
    "73": ("patient", "invalid/missing subscriber/insured name"),
    "75": ("patient", "subscriber/insured not found"),
    "76": ("patient", "duplicate subscriber/insured id number"),
    "77": ("patient", "subscriber found, patient not found"),
    "78": ("patient", "subscriber/insured not in group/plan identified"),
    "95": ("patient", "patient not eligible"),
    "15": ("event", "required application data missing"),
    "33": ("event", "input errors"),
    "52": ("event", "service dates not within provider plan enrollment"),
    "56": ("event", "inappropriate date"),
    "57": ("event", "invalid/missing date(s) of service"),
    "60": ("event", "date of birth follows date(s) of service"),
    "61": ("event", "date of death precedes date(s) of service"),
    "62": ("event", "date of service not within allowable inquiry period"),
    "AA": ("event", "authorization number not found"),
    "T5": ("event", "certification information missing"),
}
"""AAA03 reject reason codes and the loop their AAA goes in by default: ``umo`` (2010A), ``requester``
(2010B), ``patient`` (2010C, or 2010D when the request names a dependent), ``event`` (2000E). Other codes
are written as given, in the loop the :class:`Rejection278` names (``event`` unless told)."""
REJECTION_LOOPS = frozenset({"umo", "requester", "patient", "event"})

_SERVICE_TYPE = re.compile(r"[A-Z0-9]{1,2}")
_CODE = re.compile(r"[A-Z0-9]{1,3}")


# -- records ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transaction278:
    """One 278 request transaction set: ST02, BHT, and the envelope it came in (for the response's)."""

    control_number: str
    """ST02."""
    purpose_code: str
    """BHT02: 13 request, 01 cancellation."""
    reference: str
    """BHT03, the submitter's transaction identifier (echoed in the response's BHT03)."""
    created: dt.date
    """BHT04."""
    created_time: str = ""
    """BHT05 (HHMM, HHMMSS...)."""
    version: str = IMPLEMENTATION
    """ST03, else GS08."""
    segment_number: int = field(default=0, compare=False)
    """The ST segment (0 for a record not read from a file)."""
    interchange: Interchange | None = field(default=None, compare=False, repr=False)
    group: Group | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Address:
    """N3 and N4."""

    line1: str
    line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""


@dataclass(frozen=True, slots=True)
class Party(NamedEntity):
    """An organization or provider: the UMO (2010A, NM1*X3), the requester (2010B, NM1*1P/FA), or a provider
    of the event (2010EA) or of a service (2010FA)."""

    entity_code: str
    """NM101: X3 UMO, 1P provider, FA facility, SJ service provider, 71 attending, DN referring..."""
    entity_type: str
    """NM102: 1 person, 2 non-person entity."""
    last_name: str
    """NM103: last name or organization name."""
    first_name: str = ""
    middle_name: str = ""
    suffix: str = ""
    id_qualifier: str = ""
    """NM108: XX NPI, PI payer id, 46 ETIN, 24 EIN, 34 SSN."""
    id: str = ""
    """NM109."""
    address: Address | None = None
    """N3/N4."""
    taxonomy: str = ""
    """PRV03 (taxonomy code, PRV02 PXC)."""
    specialty_role: str = ""
    """PRV01: AD admitting, AS assistant surgeon, AT attending, OP operating, OT other, PC primary care,
    RF referring, PE performing, SU supervising..."""
    contact_name: str = ""
    """PER02."""
    phone: str = ""
    """The first PER TE number."""
    segment_number: int = field(default=0, compare=False)
    """The NM1 segment."""


@dataclass(frozen=True, slots=True)
class Patient:
    """Loop 2010C (subscriber, NM1*IL) or 2010D (dependent, NM1*QC)."""

    entity_code: str
    """NM101: IL subscriber, QC patient (dependent)."""
    last_name: str
    first_name: str = ""
    middle_name: str = ""
    suffix: str = ""
    id_qualifier: str = ""
    """NM108: MI member identification number (the subscriber's)."""
    member_id: str = ""
    """NM109."""
    birth_date: dt.date | None = None
    """DMG02."""
    sex: str = ""
    """DMG03 (F, M, U, or "")."""
    relationship: str = ""
    """INS02 of a dependent (01 spouse, 19 child, 34 other adult...)."""
    hl: str = field(default="", compare=False)
    segment_number: int = field(default=0, compare=False)
    """The NM1 segment."""

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


@dataclass(frozen=True, slots=True)
class Trace:
    """TRN: TRN01 (1 in a request, 2 when the response echoes it), number, originator (TRN03), TRN04."""

    number: str
    originator: str = ""
    secondary: str = ""
    type_code: str = "1"


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One HI composite: qualifier (ABK principal ICD-10-CM, ABF other, ...) and code (no decimal point)."""

    qualifier: str
    code: str

    @property
    def principal(self) -> bool:
        return self.qualifier in PRINCIPAL_QUALIFIERS


@dataclass(frozen=True, slots=True)
class Procedure:
    """SV1 (professional), SV2 (institutional) or SV3 (dental) of loop 2000F."""

    kind: str
    """SV1, SV2 or SV3."""
    qualifier: str
    """Procedure code qualifier (HC, AD, N4...): "" for an SV2 with a revenue code only."""
    code: str
    modifiers: tuple[str, ...] = ()
    revenue_code: str = ""
    """SV201."""
    charge_cents: int | None = None
    """SV102 / SV203 / SV302."""
    unit_basis: str = ""
    """SV103 / SV204: UN units, MJ minutes, DA days."""
    units: Decimal | None = None
    """SV104 / SV205 quantity; SV306 procedure count for SV3."""


@dataclass(frozen=True, slots=True)
class Quantity:
    """HSD01 and HSD02: VS 12 (twelve visits), DY 3 (three days)..."""

    qualifier: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class Service:
    """Loop 2000F: one service asked for under the event."""

    category: str
    """UM01: HS or SC."""
    certification_type: str
    """UM02."""
    procedure: Procedure
    traces: tuple[Trace, ...] = ()
    service_type: str = ""
    """UM03."""
    level_of_service: str = ""
    """UM06."""
    date: dt.date | None = None
    """DTP*472 (the start of an RD8 range)."""
    date_end: dt.date | None = None
    quantity: Quantity | None = None
    """HSD."""
    message: str = ""
    """MSG01."""
    providers: tuple[Party, ...] = ()
    """Loop 2010FA, in order."""
    hl: str = field(default="", compare=False)
    segment_number: int = field(default=0, compare=False)
    """The HL segment."""

    @property
    def code(self) -> str:
        return self.procedure.code

    @property
    def modifiers(self) -> tuple[str, ...]:
        return self.procedure.modifiers

    @property
    def units(self) -> Decimal | None:
        return self.procedure.units

    @property
    def servicing_provider(self) -> Party | None:
        return _servicing(self.providers)


@dataclass(frozen=True, slots=True)
class Event:
    """Loop 2000E: the patient event under review, its diagnoses, providers (2010EA) and services (2000F)."""

    category: str
    """UM01: AR admission review, HS health services review, SC specialty care review (referral)."""
    certification_type: str
    """UM02: I initial, 1/2 appeal, 3 cancel, 4 extension, S revised."""
    diagnoses: tuple[Diagnosis, ...]
    """HI composites, in order (the principal first)."""
    traces: tuple[Trace, ...] = ()
    """TRN*1: patient event tracking numbers (the requester's first)."""
    service_type: str = ""
    """UM03 (1 medical care, 2 surgical, 3 consultation, 48 hospital inpatient, AE physical medicine...)."""
    facility_code: str = ""
    """UM04-1: place of service (qualifier B) or the first two digits of the bill type (qualifier A)."""
    facility_qualifier: str = ""
    """UM04-2: A or B."""
    level_of_service: str = ""
    """UM06: 03 emergency, U urgent, E elective, "" routine."""
    date: dt.date | None = None
    """DTP*AAH event date (the start of an RD8 range)."""
    date_end: dt.date | None = None
    admission_date: dt.date | None = None
    """DTP*435."""
    admission_date_end: dt.date | None = None
    discharge_date: dt.date | None = None
    """DTP*096."""
    admission_type: str = ""
    """CL101."""
    admission_source: str = ""
    """CL102."""
    patient_status: str = ""
    """CL103."""
    quantity: Quantity | None = None
    """HSD of the event (days of an admission, visits of a referral)."""
    previous_authorization: str = ""
    """REF*BB: the certification an extension, revision or appeal refers to."""
    message: str = ""
    """MSG01."""
    providers: tuple[Party, ...] = ()
    """Loop 2010EA, in order."""
    services: tuple[Service, ...] = ()
    """Loops 2000F, in order."""
    hl: str = field(default="", compare=False)
    segment_number: int = field(default=0, compare=False)
    """The HL segment."""

    @property
    def tracking_number(self) -> str:
        return self.traces[0].number if self.traces else ""

    @property
    def urgency(self) -> str:
        """``expedited`` for level of service 03 (emergency) or U (urgent), else ``standard``."""
        return "expedited" if self.level_of_service in EXPEDITED_LEVELS else "standard"

    @property
    def principal_diagnosis(self) -> Diagnosis | None:
        return self.diagnoses[0] if self.diagnoses else None

    @property
    def servicing_provider(self) -> Party | None:
        """The first NM1*SJ (service provider), else NM1*FA (facility), of loop 2010EA."""
        return _servicing(self.providers)


@dataclass(frozen=True, slots=True)
class Request278:
    """One patient event asked about, with the parties above it."""

    transaction: Transaction278
    umo: Party
    requester: Party
    subscriber: Patient
    event: Event
    dependent: Patient | None = None

    @property
    def patient(self) -> Patient:
        return self.dependent or self.subscriber

    @property
    def member_id(self) -> str:
        """The subscriber's NM109."""
        return self.subscriber.member_id

    @property
    def tracking_number(self) -> str:
        return self.event.tracking_number

    @property
    def urgency(self) -> str:
        return self.event.urgency

    @property
    def services(self) -> tuple[Service, ...]:
        return self.event.services

    @property
    def segment_number(self) -> int:
        return self.event.segment_number


def _servicing(providers: tuple[Party, ...]) -> Party | None:
    for code in SERVICING_CODES:
        for party in providers:
            if party.entity_code == code:
                return party
    return None


# -- reading ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Level:
    """An HL being read."""

    hl: Segment
    id: str
    level: str
    name: Segment | None = None
    address: list[str] = field(default_factory=list)
    city: Segment | None = None
    taxonomy: str = ""
    specialty_role: str = ""
    contact_name: str = ""
    phone: str = ""
    birth_date: dt.date | None = None
    sex: str = ""
    relationship: str = ""
    traces: list[Trace] = field(default_factory=list)
    um: Segment | None = None
    diagnoses: list[Diagnosis] | None = None
    dates: dict[str, tuple[dt.date, dt.date | None]] = field(default_factory=dict)
    cl1: Segment | None = None
    quantity: Quantity | None = None
    previous_authorization: str = ""
    message: str = ""
    procedure: Procedure | None = None
    providers: list[Party] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    party: _PartyBuilder | None = None
    """The open NM1 sub-loop of 2000E/2000F (None: none yet; a builder with keep False: a loop not kept)."""
    children: int = 0


@dataclass(slots=True)
class _PartyBuilder:
    nm1: Segment
    keep: bool
    address: list[str] = field(default_factory=list)
    city: Segment | None = None
    taxonomy: str = ""
    specialty_role: str = ""
    contact_name: str = ""
    phone: str = ""

    def build(self) -> Party:
        return _party(self.nm1, self.address, self.city, self.taxonomy, self.specialty_role, self.contact_name,
                      self.phone)  # fmt: skip


def _party(
    nm1: Segment,
    address: list[str],
    city: Segment | None,
    taxonomy: str,
    role: str,
    contact: str,
    phone: str,
) -> Party:
    where: Address | None = None
    if address or city is not None:
        line1 = address[0] if address else ""
        line2 = address[1] if len(address) > 1 else ""
        if city is None:
            where = Address(line1, line2)
        else:
            where = Address(line1, line2, city.get(1), city.get(2), city.get(3))
    return Party(
        nm1.get(1), nm1.get(2), nm1.get(3), nm1.get(4), nm1.get(5), nm1.get(7), nm1.get(8), nm1.get(9),
        where, taxonomy, role, contact, phone, nm1.number,
    )  # fmt: skip


@dataclass(slots=True)
class _State:
    """One 278 transaction set being read."""

    st: Segment
    control_number: str
    version: str
    interchange: Interchange
    group: Group
    delimiters: Delimiters
    transaction: Transaction278 | None = None
    levels: dict[str, str] = field(default_factory=dict)
    """HL01 -> HL03 of every HL read so far in this set."""
    stack: list[_Level] = field(default_factory=list)
    """The open HL loops, outermost first."""
    umo: Party | None = None
    requester: Party | None = None
    subscriber: Patient | None = None
    dependent: Patient | None = None


def read_278(
    source: Source, *, filename: str | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[Request278]:
    """The patient events of every 278 request transaction set in a file, one at a time.

    Other transaction sets are skipped. Envelope and content errors raise :class:`X12Error`.
    """
    reader = EnvelopeReader(source, chunk_size=chunk_size, filename=filename)
    state: _State | None = None
    name = filename
    for th, seg in reader:
        sid = seg.id
        if sid == "ST":
            name = reader.filename
            state = None
            if th.set_id == "278":
                interchange = th.group.interchange
                state = _State(
                    seg, th.control_number, th.version, interchange, th.group, interchange.delimiters
                )
            continue
        if state is None:
            continue
        if sid == "SE":
            if state.transaction is None:
                raise seg.error("278 has no BHT segment", None, name)
            if not state.levels:
                raise seg.error("278 has no HL loops (UMO, requester, subscriber, patient event)", None, name)
            yield from _close(state, 1, seg, name)
            if "EV" not in state.levels.values():
                raise seg.error("278 has no patient event (HL*EV, loop 2000E)", None, name)
            state = None
            continue
        if sid == "BHT":
            _bht(state, seg, name)
            continue
        if state.transaction is None:
            raise seg.error(f"segment {sid} before the BHT segment", None, name)
        if sid == "HL":
            yield from _hl(state, seg, name)
            continue
        if not state.stack:
            raise seg.error(f"segment {sid} before the first HL segment", None, name)
        _detail(state, state.stack[-1], seg, name)


def _bht(state: _State, seg: Segment, filename: str | None) -> None:
    if state.transaction is not None:
        raise seg.error("second BHT segment in the transaction set", None, filename)
    if seg.get(1) != STRUCTURE:
        raise seg.error(f"hierarchical structure code {seg.get(1)!r} is not {STRUCTURE}", 1, filename)
    if seg.get(2) not in PURPOSES:
        raise seg.error(
            f"transaction purpose {seg.get(2)!r} is not 13 (request) or 01 (cancellation)", 2, filename
        )
    if not seg.get(3):
        raise seg.error("submitter transaction identifier (BHT03) missing", 3, filename)
    created = element_date(seg, 4, filename)
    state.transaction = Transaction278(
        state.control_number, seg.get(2), seg.get(3), created, seg.get(5), state.version, state.st.number,
        state.interchange, state.group,
    )  # fmt: skip


def _hl(state: _State, seg: Segment, filename: str | None) -> Iterator[Request278]:
    hl_id, parent, level = seg.get(1), seg.get(2), seg.get(3)
    if not hl_id:
        raise seg.error("hierarchical id (HL01) missing", 1, filename)
    if hl_id in state.levels:
        raise seg.error(f"hierarchical id {hl_id!r} used twice in the transaction set", 1, filename)
    if level not in LEVELS:
        raise seg.error(f"hierarchical level {level!r} is not 20, 21, 22, 23, EV or SS", 3, filename)
    if level == "20":
        if parent:
            raise seg.error("a UMO (HL*20) has no parent (HL02)", 2, filename)
    else:
        allowed = _PARENTS[level]
        if state.levels.get(parent) not in allowed:
            names = " or ".join(f"{LEVELS[a]} (HL*{a})" for a in allowed)
            raise seg.error(
                f"parent {parent!r} of this {LEVELS[level]} (HL*{level}) is not the id of a {names} above it",
                2,
                filename,
            )
    if seg.get(4) not in ("", "0", "1"):
        raise seg.error(f"hierarchical child code {seg.get(4)!r} is not 0 or 1", 4, filename)
    yield from _close(state, _DEPTH[level], seg, filename)
    if level != "20" and (not state.stack or state.stack[-1].id != parent):
        raise seg.error(
            f"parent {parent!r} is not the open {LEVELS[state.levels[parent]]}: the HL loops are out of order",
            2,
            filename,
        )
    if state.stack:
        top = state.stack[-1]
        if top.children == 0:
            _seal(state, top, filename, seg)
        top.children += 1
    state.levels[hl_id] = level
    state.stack.append(_Level(seg, hl_id, level))


_CHILDREN = {
    "20": "requester (HL*21)",
    "21": "subscriber (HL*22)",
    "22": "patient event (HL*EV) or dependent (HL*23)",
    "23": "patient event (HL*EV)",
}


def _seal(state: _State, level: _Level, filename: str | None, at: Segment) -> None:
    """The first child HL of ``level`` follows: its own segments are all read."""
    code = level.level
    if code == "20":
        state.umo = _named_party(level, "NM1*X3 (loop 2010A)", filename, at)
    elif code == "21":
        state.requester = _named_party(level, "NM1*1P or NM1*FA (loop 2010B)", filename, at)
    elif code == "22":
        state.subscriber = _patient(level, filename, at)
    elif code == "23":
        state.dependent = _patient(level, filename, at)


def _close(state: _State, depth: int, at: Segment, filename: str | None) -> Iterator[Request278]:
    """Close the open HL loops ``depth`` deep or deeper (an HL of that depth, or the SE, follows)."""
    stack = state.stack
    while stack and _DEPTH[stack[-1].level] >= depth:
        level = stack.pop()
        code = level.level
        if code in _CHILDREN:
            if level.children == 0:
                raise level.hl.error(
                    f"{LEVELS[code]} (loop {LOOPS[code]}) has no {_CHILDREN[code]} under it before segment "
                    f"{at.number} ({at.id})",
                    None,
                    filename,
                )
            continue
        if level.children == 0 and level.hl.get(4) == "1":
            raise level.hl.error(
                f"{LEVELS[code]} says it has child loops (HL04 1) but none follows before segment "
                f"{at.number} ({at.id})",
                4,
                filename,
            )
        if code == "SS":
            stack[-1].services.append(_service(level, filename, at))
        else:
            yield _request(state, level, filename, at)


def _named_party(level: _Level, what: str, filename: str | None, at: Segment) -> Party:
    nm1 = level.name
    if nm1 is None:
        raise level.hl.error(
            f"{LEVELS[level.level]} has no {what} before segment {at.number} ({at.id})", None, filename
        )
    return _party(nm1, level.address, level.city, level.taxonomy, level.specialty_role, level.contact_name,
                  level.phone)  # fmt: skip


def _patient(level: _Level, filename: str | None, at: Segment) -> Patient:
    nm1 = level.name
    if nm1 is None:
        code, loop = ("IL", "2010C") if level.level == "22" else ("QC", "2010D")
        raise level.hl.error(
            f"{LEVELS[level.level]} has no NM1*{code} (loop {loop}) before segment {at.number} ({at.id})",
            None,
            filename,
        )
    return Patient(
        nm1.get(1), nm1.get(3), nm1.get(4), nm1.get(5), nm1.get(7), nm1.get(8), nm1.get(9), level.birth_date,
        level.sex, level.relationship, level.id, nm1.number,
    )  # fmt: skip


def _missing(level: _Level, what: str, filename: str | None, at: Segment) -> X12Error:
    return level.hl.error(
        f"{LEVELS[level.level]} (loop {LOOPS[level.level]}) has no {what} before segment {at.number} ({at.id})",
        None,
        filename,
    )


def _close_party(level: _Level) -> None:
    builder = level.party
    if builder is not None and builder.keep:
        level.providers.append(builder.build())
        builder.keep = False


def _service(level: _Level, filename: str | None, at: Segment) -> Service:
    _close_party(level)
    um = level.um
    if um is None:
        raise _missing(level, "UM segment", filename, at)
    if level.procedure is None:
        raise _missing(level, "SV1, SV2 or SV3 segment", filename, at)
    date, end = level.dates.get("472", (None, None))
    return Service(
        um.get(1), um.get(2), level.procedure, tuple(level.traces), um.get(3), um.get(6), date, end,
        level.quantity, level.message, tuple(level.providers), level.id, level.hl.number,
    )  # fmt: skip


def _request(state: _State, level: _Level, filename: str | None, at: Segment) -> Request278:
    _close_party(level)
    um = level.um
    if um is None:
        raise _missing(level, "UM segment", filename, at)
    if level.diagnoses is None:
        raise _missing(level, "HI segment (diagnoses)", filename, at)
    tx, umo, requester, subscriber = state.transaction, state.umo, state.requester, state.subscriber
    # the HL checks make these hold: every level above the event was sealed when its first child opened
    assert tx is not None
    assert umo is not None
    assert requester is not None
    assert subscriber is not None
    dependent = state.dependent if state.stack[-1].level == "23" else None
    facility = _components(um.get(4), state.delimiters)
    date, end = level.dates.get("AAH", (None, None))
    admission, admission_end = level.dates.get("435", (None, None))
    discharge = level.dates.get("096", (None, None))[0]
    cl1 = level.cl1
    event = Event(
        um.get(1), um.get(2), tuple(level.diagnoses), tuple(level.traces), um.get(3),
        facility[0] if facility else "", facility[1] if len(facility) > 1 else "", um.get(6), date, end,
        admission, admission_end, discharge, cl1.get(1) if cl1 else "", cl1.get(2) if cl1 else "",
        cl1.get(3) if cl1 else "", level.quantity, level.previous_authorization, level.message,
        tuple(level.providers), tuple(level.services), level.id, level.hl.number,
    )  # fmt: skip
    return Request278(tx, umo, requester, subscriber, event, dependent)


def _components(value: str, delimiters: Delimiters) -> list[str]:
    return value.split(delimiters.component) if value else []


def _detail(state: _State, level: _Level, seg: Segment, filename: str | None) -> None:
    code = level.level
    if code in ("EV", "SS"):
        _event_detail(state, level, seg, filename)
        return
    sid = seg.id
    if sid == "NM1":
        if level.name is not None:
            raise seg.error(f"second NM1 in loop {LOOPS[code]}", None, filename)
        _check_nm1(level, seg, filename)
        level.name = seg
        return
    if sid in ("N3", "N4", "PER", "PRV", "DMG", "INS", "REF") and level.name is None:
        raise seg.error(f"segment {sid} before the NM1 of loop {LOOPS[code]}", None, filename)
    if sid == "N3":
        _n3(level.address, seg, filename)
    elif sid == "N4":
        level.city = _n4(seg, filename)
    elif sid == "PER" and code in ("20", "21"):
        level.contact_name, level.phone = _per(seg)
    elif sid == "PRV" and code in ("20", "21"):
        level.specialty_role, level.taxonomy = _prv(seg, filename)
    elif sid == "DMG" and code in ("22", "23"):
        level.birth_date, level.sex = _dmg(seg, filename)
    elif sid == "INS" and code == "23":
        level.relationship = seg.get(2)


def _check_nm1(level: _Level, seg: Segment, filename: str | None) -> None:
    e1 = seg.get(1)
    code = level.level
    if code == "20":
        if e1 != "X3":
            raise seg.error(f"UMO name must be NM1*X3, found NM1*{e1}", 1, filename)
    elif code == "21":
        if e1 not in REQUESTER_CODES:
            raise seg.error(f"requester name must be NM1*1P or NM1*FA, found NM1*{e1}", 1, filename)
    elif code == "22":
        if e1 != "IL":
            raise seg.error(f"subscriber name must be NM1*IL, found NM1*{e1}", 1, filename)
        if seg.get(8) != "MI":
            raise seg.error(f"subscriber id qualifier {seg.get(8)!r} is not MI (member id)", 8, filename)
        if not seg.get(9):
            raise seg.error("subscriber member id (NM109) missing", 9, filename)
    elif code == "23" and e1 != "QC":
        raise seg.error(f"dependent name must be NM1*QC, found NM1*{e1}", 1, filename)
    _check_name(seg, filename, person_only=code in ("22", "23"))


def _check_name(seg: Segment, filename: str | None, *, person_only: bool = False) -> None:
    kind = seg.get(2)
    if person_only:
        if kind != "1":
            raise seg.error(f"entity type {kind!r} is not 1 (person)", 2, filename)
    elif kind not in ("1", "2"):
        raise seg.error(f"entity type {kind!r} is not 1 (person) or 2 (non-person)", 2, filename)
    if not seg.get(3):
        raise seg.error("last or organization name (NM103) missing", 3, filename)
    if seg.get(9) and not seg.get(8):
        raise seg.error("identifier (NM109) without its qualifier (NM108)", 8, filename)
    if seg.get(8) and not seg.get(9):
        raise seg.error("identifier (NM109) missing", 9, filename)
    if seg.get(8) == "XX" and not is_valid_npi(seg.get(9)):
        raise seg.error(f"{seg.get(9)!r} is not a valid NPI (check digit)", 9, filename)


def _n3(lines: list[str], seg: Segment, filename: str | None) -> None:
    if lines:
        raise seg.error("second N3 in the loop", None, filename)
    if not seg.get(1):
        raise seg.error("address line (N301) missing", 1, filename)
    lines.extend(x for x in (seg.get(1), seg.get(2)) if x)


def _n4(seg: Segment, filename: str | None) -> Segment:
    if not seg.get(1):
        raise seg.error("city (N401) missing", 1, filename)
    return seg


def _per(seg: Segment) -> tuple[str, str]:
    phone = ""
    for at in (3, 5, 7):
        if seg.get(at) == "TE":
            phone = seg.get(at + 1)
            break
    return seg.get(2), phone


def _prv(seg: Segment, filename: str | None) -> tuple[str, str]:
    if seg.get(3) and seg.get(2) != "PXC":
        raise seg.error(f"provider code qualifier {seg.get(2)!r} is not PXC (taxonomy)", 2, filename)
    return seg.get(1), seg.get(3)


def _dmg(seg: Segment, filename: str | None) -> tuple[dt.date, str]:
    if seg.get(1) != "D8":
        raise seg.error(f"date format qualifier {seg.get(1)!r} is not D8", 1, filename)
    born = element_date(seg, 2, filename)
    sex = seg.get(3)
    if sex and sex not in SEXES:
        raise seg.error(f"sex {sex!r} is not F, M or U", 3, filename)
    return born, sex


_EVENT_DATES = {"AAH": "event", "435": "admission", "096": "discharge"}
_EVENT_ONLY = frozenset({"HI", "CL1", "CR1", "CR2", "CR5", "CR6", "CRC"})
_SERVICE_ONLY = frozenset({"SV1", "SV2", "SV3", "TOO"})
_LOOP_SEGMENTS = frozenset({"TRN", "UM", "REF", "DTP", "HSD", "PWK", "MSG"}) | _EVENT_ONLY | _SERVICE_ONLY


def _event_detail(state: _State, level: _Level, seg: Segment, filename: str | None) -> None:
    """A segment of loop 2000E or 2000F, or of one of their NM1 sub-loops (2010EA-EC, 2010FA)."""
    sid = seg.id
    event = level.level == "EV"
    builder = level.party
    if sid == "NM1":
        _close_party(level)
        e1 = seg.get(1)
        keep = e1 in PROVIDER_CODES
        if keep:
            _check_name(seg, filename)
        level.party = _PartyBuilder(seg, keep)
        return
    if builder is not None:
        if sid in _LOOP_SEGMENTS and sid != "REF":
            loop = "2010EA" if event else "2010FA"
            raise seg.error(
                f"segment {sid} after the provider names (loop {loop}): it belongs before the first NM1",
                None,
                filename,
            )
        if not builder.keep:
            return
        if sid == "N3":
            _n3(builder.address, seg, filename)
        elif sid == "N4":
            builder.city = _n4(seg, filename)
        elif sid == "PER":
            builder.contact_name, builder.phone = _per(seg)
        elif sid == "PRV":
            builder.specialty_role, builder.taxonomy = _prv(seg, filename)
        return
    if sid in _EVENT_ONLY and not event:
        raise seg.error(f"segment {sid} in a service (loop 2000F): it belongs to the patient event", None,
                        filename)  # fmt: skip
    if sid in _SERVICE_ONLY and event:
        raise seg.error(f"segment {sid} in the patient event (loop 2000E): it belongs to a service (2000F)",
                        None, filename)  # fmt: skip
    if sid == "TRN":
        if seg.get(1) != "1":
            raise seg.error(f"trace type {seg.get(1)!r} is not 1 (current transaction trace number)", 1,
                            filename)  # fmt: skip
        if not seg.get(2):
            raise seg.error("trace number (TRN02) missing", 2, filename)
        level.traces.append(Trace(seg.get(2), seg.get(3), seg.get(4), "1"))
        return
    if sid == "UM":
        _um(state, level, seg, filename)
        return
    if level.um is None and sid in _LOOP_SEGMENTS:
        raise seg.error(f"segment {sid} before the UM segment of loop {LOOPS[level.level]}", None, filename)
    if sid == "HI":
        if level.diagnoses is not None:
            raise seg.error("second HI segment in the patient event", None, filename)
        level.diagnoses = _hi(seg, state.delimiters, filename)
    elif sid == "DTP":
        _dtp(level, seg, filename)
    elif sid == "CL1":
        level.cl1 = seg
    elif sid == "HSD":
        level.quantity = _hsd(seg, filename)
    elif sid == "REF":
        if seg.get(1) == "BB" and event:
            level.previous_authorization = seg.get(2)
    elif sid == "MSG":
        level.message = seg.get(1)
    elif sid in ("SV1", "SV2", "SV3"):
        if level.procedure is not None:
            raise seg.error(f"second procedure ({sid}) in the service: one SV1, SV2 or SV3 per loop 2000F",
                            None, filename)  # fmt: skip
        level.procedure = _procedure(seg, state.delimiters, filename)


def _um(state: _State, level: _Level, seg: Segment, filename: str | None) -> None:
    if level.um is not None:
        raise seg.error(f"second UM segment in loop {LOOPS[level.level]}", None, filename)
    category, cert = seg.get(1), seg.get(2)
    if level.level == "EV":
        if category not in REQUEST_CATEGORIES:
            raise seg.error(f"request category {category!r} is not AR, HS, SC or IN", 1, filename)
    elif category not in SERVICE_CATEGORIES:
        raise seg.error(f"service request category {category!r} is not HS or SC", 1, filename)
    if cert not in CERTIFICATION_TYPES:
        raise seg.error(f"certification type {cert!r} is not I, 1, 2, 3, 4 or S", 2, filename)
    if seg.get(3) and not _SERVICE_TYPE.fullmatch(seg.get(3)):
        raise seg.error(f"service type code {seg.get(3)!r} is not 1-2 letters or digits", 3, filename)
    facility = _components(seg.get(4), state.delimiters)
    if facility:
        if not facility[0]:
            raise seg.error("facility code (UM04-1) missing", 4, filename)
        if len(facility) < 2 or facility[1] not in FACILITY_QUALIFIERS:
            qualifier = facility[1] if len(facility) > 1 else ""
            raise seg.error(f"facility code qualifier {qualifier!r} is not A (bill type) or B (place of service)",
                            4, filename)  # fmt: skip
    if seg.get(6) and seg.get(6) not in LEVELS_OF_SERVICE:
        raise seg.error(f"level of service {seg.get(6)!r} is not 03 (emergency), U (urgent) or E (elective)", 6,
                        filename)  # fmt: skip
    level.um = seg


def _hi(seg: Segment, delimiters: Delimiters, filename: str | None) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    for position in range(1, len(seg.elements)):
        text = seg.get(position)
        if not text:
            continue
        parts = text.split(delimiters.component)
        qualifier = parts[0]
        code = parts[1] if len(parts) > 1 else ""
        if qualifier not in DIAGNOSIS_QUALIFIERS:
            raise seg.error(f"diagnosis code qualifier {qualifier!r} is not one of "
                            f"{', '.join(DIAGNOSIS_QUALIFIERS)}", position, filename)  # fmt: skip
        if qualifier in PRINCIPAL_QUALIFIERS and position != 1:
            raise seg.error(
                f"principal diagnosis ({qualifier}) after HI01: it must come first", position, filename
            )
        if not code:
            raise seg.error("diagnosis code missing", position, filename)
        if "." in code or not code.isascii() or not code.isalnum():
            raise seg.error(f"diagnosis code {code!r} is not letters and digits (no decimal point)", position,
                            filename)  # fmt: skip
        out.append(Diagnosis(qualifier, code))
    if not out:
        raise seg.error("HI has no diagnosis", 1, filename)
    return out


def _dtp(level: _Level, seg: Segment, filename: str | None) -> None:
    qualifier = seg.get(1)
    allowed = _EVENT_DATES if level.level == "EV" else {"472": "service"}
    if qualifier not in allowed:
        if level.level == "EV" and qualifier in ("439", "484", "ABC", "431"):
            dtp_range(seg, filename)  # accident, last menstrual period, estimated birth, onset: checked only
            return
        raise seg.error(f"date qualifier {qualifier!r} is not one of {', '.join(allowed)}", 1, filename)
    if qualifier in level.dates:
        raise seg.error(f"second DTP*{qualifier} in loop {LOOPS[level.level]}", 1, filename)
    start, end = dtp_range(seg, filename)
    if qualifier == "096" and end is not None:
        raise seg.error("a discharge date is one date (D8)", 2, filename)
    level.dates[qualifier] = (start, end)


def _decimal(seg: Segment, position: int, filename: str | None) -> Decimal | None:
    text = seg.get(position)
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not re.fullmatch(r"\d*\.?\d*", text) or value <= 0:
        raise seg.error(f"quantity {text!r} is not a positive decimal number", position, filename)
    return value


def _hsd(seg: Segment, filename: str | None) -> Quantity | None:
    qualifier = seg.get(1)
    if not qualifier and not seg.get(2):
        return None
    if qualifier not in HEALTH_SERVICE_QUANTITIES:
        raise seg.error(f"quantity qualifier {qualifier!r} is not DY, FL, HS, MN or VS", 1, filename)
    value = _decimal(seg, 2, filename)
    if value is None:
        raise seg.error("quantity (HSD02) missing", 2, filename)
    return Quantity(qualifier, value)


def _composite_procedure(
    seg: Segment, position: int, delimiters: Delimiters, filename: str | None, *, required: bool
) -> tuple[str, str, tuple[str, ...]]:
    text = seg.get(position)
    if not text:
        if required:
            raise seg.error("procedure code missing", position, filename)
        return "", "", ()
    parts = text.split(delimiters.component)
    qualifier = parts[0]
    code = parts[1] if len(parts) > 1 else ""
    if qualifier not in PROCEDURE_QUALIFIERS:
        raise seg.error(f"procedure code qualifier {qualifier!r} is not one of {', '.join(PROCEDURE_QUALIFIERS)}",
                        position, filename)  # fmt: skip
    if not code:
        raise seg.error("procedure code missing", position, filename)
    modifiers = tuple(parts[2:6])
    for modifier in modifiers:
        if modifier and not (len(modifier) == 2 and modifier.isascii() and modifier.isalnum()):
            raise seg.error(
                f"procedure modifier {modifier!r} is not two letters or digits", position, filename
            )
    while modifiers and not modifiers[-1]:
        modifiers = modifiers[:-1]
    return qualifier, code, modifiers


def _procedure(seg: Segment, delimiters: Delimiters, filename: str | None) -> Procedure:
    sid = seg.id
    if sid == "SV1":
        qualifier, code, modifiers = _composite_procedure(seg, 1, delimiters, filename, required=True)
        return Procedure(sid, qualifier, code, modifiers, "", optional_cents(seg, 2, filename), seg.get(3),
                         _decimal(seg, 4, filename))  # fmt: skip
    if sid == "SV2":
        revenue = seg.get(1)
        qualifier, code, modifiers = _composite_procedure(seg, 2, delimiters, filename, required=not revenue)
        return Procedure(sid, qualifier, code, modifiers, revenue, optional_cents(seg, 3, filename), seg.get(4),
                         _decimal(seg, 5, filename))  # fmt: skip
    qualifier, code, modifiers = _composite_procedure(seg, 1, delimiters, filename, required=True)
    return Procedure(sid, qualifier, code, modifiers, "", optional_cents(seg, 2, filename), "",
                     _decimal(seg, 6, filename))  # fmt: skip


# -- answers ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rejection278:
    """AAA*N**reason*follow-up: the request (or one of its loops) cannot be reviewed."""

    reason: str
    follow_up: str = "C"
    """AAA04: C please correct and resubmit, N resubmission not allowed, P please resubmit original
    transaction, R resubmission allowed, S do not resubmit; inquiry initiated to a third party, Y do not
    resubmit; we will hold your request and respond again shortly."""
    valid_request: bool = False
    """AAA01: Y the request was valid (but, e.g., the member is unknown), N it was not."""
    loop: str = ""
    """Where the AAA goes: umo, requester, patient or event; "" uses :data:`REJECTION_REASONS`' loop for
    the code (event for a code it does not list)."""

    @property
    def where(self) -> str:
        if self.loop:
            return self.loop
        return REJECTION_REASONS.get(self.reason, ("event", ""))[0]

    @property
    def description(self) -> str:
        return REJECTION_REASONS.get(self.reason, ("", ""))[1]


@dataclass(frozen=True, slots=True)
class ServiceDecision:
    """HCR of one service (2000F): action, certification number, reason, approved units (HSD)."""

    action: str
    certification_number: str = ""
    reason: str = ""
    approved_units: Decimal | None = None
    """Written as HSD*<qualifier>*<units> (the request's HSD01, else FL units)."""


@dataclass(frozen=True, slots=True)
class Decision278:
    """The UMO's answer to one patient event.

    ``action`` is HCR01 (see :data:`ACTIONS`), ``certification_number`` HCR02 (required for A1, A2, A6),
    ``reason`` HCR03 (code source 886, the UMO's decision reason; required by most UMOs for A2, A3, A6).
    ``effective_start``/``effective_end`` are the certified span, written as DTP*AAH (D8 or RD8).
    ``services`` holds one answer per service of the request, in order; a missing one (or None) takes the
    event's action. A ``rejection`` writes AAA in its loop instead of any HCR.
    """

    action: str = ""
    certification_number: str = ""
    reason: str = ""
    effective_start: dt.date | None = None
    effective_end: dt.date | None = None
    services: tuple[ServiceDecision | None, ...] = ()
    rejection: Rejection278 | None = None
    message: str = ""
    """MSG01 of the event (free text for the requester)."""

    def check(self) -> None:
        """ValueError when the decision cannot be written."""
        if self.rejection is not None:
            if not _CODE.fullmatch(self.rejection.reason):
                raise ValueError(f"reject reason {self.rejection.reason!r} is not an AAA03 code")
            if self.rejection.loop and self.rejection.loop not in REJECTION_LOOPS:
                raise ValueError(
                    f"rejection loop {self.rejection.loop!r} is not one of {sorted(REJECTION_LOOPS)}"
                )
            return
        _check_action(self.action, self.certification_number)
        if self.effective_end is not None and (
            self.effective_start is None or self.effective_end < self.effective_start
        ):
            raise ValueError("certified span ends before it starts (or has no start)")
        for answer in self.services:
            if answer is not None:
                _check_action(answer.action, answer.certification_number)


def _check_action(action: str, number: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
    if action in CERTIFIED_ACTIONS and not number:
        raise ValueError(f"action {action} ({ACTIONS[action]}) needs a certification number (HCR02)")


# -- writing ------------------------------------------------------------------------------------------

_LIMITS = {"last": 60, "first": 35, "middle": 25, "suffix": 10, "id": 80, "trace": 50, "msg": 264, "ref": 50}


class _Cleaner:
    """Element text safe for the writer: ASCII (accents dropped), no delimiters, within the element's size."""

    def __init__(self, delimiters: Delimiters) -> None:
        d = delimiters
        self.bad = {d.element, d.component, d.segment, d.repetition or "", "\r", "\n"}

    def __call__(self, value: str, limit: int = 80) -> str:
        text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
        text = "".join(ch for ch in text if ch not in self.bad and ch.isprintable())
        return " ".join(text.split())[:limit].rstrip()


def _d8(value: dt.date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _span(start: dt.date, end: dt.date | None) -> tuple[str, str]:
    return ("D8", _d8(start)) if end is None else ("RD8", f"{_d8(start)}-{_d8(end)}")


def _number(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class _Body:
    """Writes the segments shared by requests and responses."""

    def __init__(self, writer: X12Writer) -> None:
        self.w = writer
        self.clean = _Cleaner(writer.delimiters)
        self._hl = 0

    def hl(self, parent: int | None, level: str, children: bool) -> int:
        self._hl += 1
        self.w.segment(
            "HL", str(self._hl), "" if parent is None else str(parent), level, "1" if children else "0"
        )
        return self._hl

    def name(self, code: str, kind: str, last: str, first: str, middle: str, suffix: str, qualifier: str,
             ident: str) -> None:  # fmt: skip
        c = self.clean
        ident = c(ident, _LIMITS["id"])
        self.w.segment(
            "NM1", code, kind, c(last, _LIMITS["last"]), c(first, _LIMITS["first"]), c(middle, _LIMITS["middle"]),
            "", c(suffix, _LIMITS["suffix"]), qualifier if ident else "", ident,
        )  # fmt: skip

    def party(self, party: Party, *, full: bool = True) -> None:
        self.name(party.entity_code, party.entity_type, party.last_name, party.first_name, party.middle_name,
                  party.suffix, party.id_qualifier, party.id)  # fmt: skip
        if not full:
            return
        c, w = self.clean, self.w
        where = party.address
        if where is not None:
            w.segment("N3", c(where.line1, 55), c(where.line2, 55))
            if where.city or where.state or where.postal_code:
                w.segment("N4", c(where.city, 30), c(where.state, 2), c(where.postal_code, 15))
        if party.contact_name or party.phone:
            phone = c(party.phone, 256)
            w.segment("PER", "IC", c(party.contact_name, 60), "TE" if phone else "", phone)
        if party.taxonomy:
            w.segment("PRV", party.specialty_role or "PE", "PXC", c(party.taxonomy, 50))

    def patient(self, patient: Patient) -> None:
        self.name(patient.entity_code, "1", patient.last_name, patient.first_name, patient.middle_name,
                  patient.suffix, patient.id_qualifier, patient.member_id)  # fmt: skip

    def demographics(self, patient: Patient) -> None:
        if patient.birth_date is not None:
            self.w.segment("DMG", "D8", _d8(patient.birth_date), patient.sex if patient.sex in SEXES else "")
        if patient.relationship:
            self.w.segment("INS", "N", patient.relationship)

    def traces(self, traces: Iterable[Trace], type_code: str) -> None:
        c = self.clean
        for trace in traces:
            self.w.segment("TRN", type_code, c(trace.number, _LIMITS["trace"]), c(trace.originator, 10),
                           c(trace.secondary, _LIMITS["trace"]))  # fmt: skip

    def um(self, category: str, cert: str, service_type: str, facility: Sequence[str], level: str) -> None:
        self.w.segment("UM", category, cert, service_type, list(facility) if facility else "", "", level)


def _procedure_elements(p: Procedure) -> list[str | list[str]]:
    composite: list[str] | str = [p.qualifier, p.code, *p.modifiers] if p.code else ""
    charge = format_cents(p.charge_cents) if p.charge_cents is not None else ""
    units = _number(p.units) if p.units is not None else ""
    if p.kind == "SV1":
        return [composite, charge, p.unit_basis, units]
    if p.kind == "SV2":
        return [p.revenue_code, composite, charge, p.unit_basis, units]
    return [composite, charge, "", "", "", units]


class _RequestWriter(_Body):
    def transaction(self, tx: Transaction278, requests: list[Request278]) -> None:
        w, c = self.w, self.clean
        self._hl = 0
        w.start_transaction("278", tx.control_number, tx.version or IMPLEMENTATION)
        w.segment("BHT", STRUCTURE, tx.purpose_code, c(tx.reference, 50), _d8(tx.created), tx.created_time)
        umo: tuple[Party, int] | None = None
        requester: tuple[Party, int] | None = None
        subscriber: tuple[Patient, int] | None = None
        dependent: tuple[Patient, int] | None = None
        for request in requests:
            if umo is None or umo[0] != request.umo:
                umo = (request.umo, self.hl(None, "20", True))
                self.party(request.umo)
                requester = subscriber = dependent = None
            if requester is None or requester[0] != request.requester:
                requester = (request.requester, self.hl(umo[1], "21", True))
                self.party(request.requester)
                subscriber = dependent = None
            # the subscriber's own event cannot follow a dependent's loop under the same subscriber (HL loops nest
            # in order): it gets a subscriber loop of its own
            if (
                subscriber is None
                or subscriber[0] != request.subscriber
                or (request.dependent is None and dependent is not None)
            ):
                subscriber = (request.subscriber, self.hl(requester[1], "22", True))
                self.patient(request.subscriber)
                self.demographics(request.subscriber)
                dependent = None
            parent = subscriber[1]
            if request.dependent is not None:
                if dependent is None or dependent[0] != request.dependent:
                    dependent = (request.dependent, self.hl(subscriber[1], "23", True))
                    self.patient(request.dependent)
                    self.demographics(request.dependent)
                parent = dependent[1]
            self.event(request.event, parent)

    def event(self, event: Event, parent: int) -> None:
        w, c = self.w, self.clean
        number = self.hl(parent, "EV", bool(event.services))
        self.traces(event.traces, "1")
        facility = [event.facility_code, event.facility_qualifier] if event.facility_code else []
        self.um(
            event.category, event.certification_type, event.service_type, facility, event.level_of_service
        )
        if event.previous_authorization:
            w.segment("REF", "BB", c(event.previous_authorization, _LIMITS["ref"]))
        if event.date is not None:
            w.segment("DTP", "AAH", *_span(event.date, event.date_end))
        if event.admission_date is not None:
            w.segment("DTP", "435", *_span(event.admission_date, event.admission_date_end))
        if event.discharge_date is not None:
            w.segment("DTP", "096", "D8", _d8(event.discharge_date))
        w.segment("HI", *([d.qualifier, d.code] for d in event.diagnoses))
        if event.quantity is not None:
            w.segment("HSD", event.quantity.qualifier, _number(event.quantity.value))
        if event.admission_type or event.admission_source or event.patient_status:
            w.segment("CL1", event.admission_type, event.admission_source, event.patient_status)
        if event.message:
            w.segment("MSG", c(event.message, _LIMITS["msg"]))
        for provider in event.providers:
            self.party(provider)
        for service in event.services:
            self.service(service, number)

    def service(self, service: Service, parent: int) -> None:
        w, c = self.w, self.clean
        self.hl(parent, "SS", False)
        self.traces(service.traces, "1")
        self.um(
            service.category, service.certification_type, service.service_type, [], service.level_of_service
        )
        if service.date is not None:
            w.segment("DTP", "472", *_span(service.date, service.date_end))
        w.segment(service.procedure.kind, *_procedure_elements(service.procedure))
        if service.quantity is not None:
            w.segment("HSD", service.quantity.qualifier, _number(service.quantity.value))
        if service.message:
            w.segment("MSG", c(service.message, _LIMITS["msg"]))
        for provider in service.providers:
            self.party(provider)


def write_278_request(
    requests: Iterable[Request278],
    *,
    sender: tuple[str, str] = ("ZZ", "REQUESTER"),
    receiver: tuple[str, str] = ("ZZ", "UMO"),
    control_number: int = 1,
    when: dt.datetime | None = None,
    delimiters: Delimiters | None = None,
    newline: bool = False,
    usage: str = "T",
) -> bytes:
    """A 278 request interchange (one GS*HI) from typed records.

    Consecutive requests with equal :class:`Transaction278` go in one transaction set (ST02 from the record),
    and within it consecutive requests share their UMO, requester, subscriber and dependent loops when those
    are equal. HL ids are numbered from 1 in each set. ``requests`` must not be empty.
    """
    items = list(requests)
    if not items:
        raise ValueError("no request to write")
    stamp = when or dt.datetime(2000, 1, 1)
    out = io.BytesIO()
    w = X12Writer(out, delimiters, newline=newline)
    w.start_interchange(sender[0], sender[1], receiver[0], receiver[1], control_number=control_number, when=stamp,
                        usage=usage)  # fmt: skip
    w.start_group(FUNCTIONAL_ID, sender[1], receiver[1], control_number=control_number, version=IMPLEMENTATION,
                  when=stamp)  # fmt: skip
    body = _RequestWriter(w)
    batch: list[Request278] = []
    for request in items:
        if batch and batch[0].transaction != request.transaction:
            body.transaction(batch[0].transaction, batch)
            w.end_transaction()
            batch = []
        batch.append(request)
    body.transaction(batch[0].transaction, batch)
    w.end_transaction()
    w.end_group()
    w.end_interchange()
    return out.getvalue()


class Writer278:
    """Writes 278 response transaction sets into an open functional group, one per request transaction set."""

    def __init__(self, writer: X12Writer, *, when: dt.datetime) -> None:
        self.body = _Body(writer)
        self.w = writer
        self.when = when
        self.transactions = 0
        self._tx: Transaction278 | None = None
        self._open_hls: dict[str, tuple[object, int]] = {}
        """HL03 -> (what the loop stands for, its HL01) of the open loops of the response."""

    def add(self, request: Request278, decision: Decision278) -> None:
        decision.check()
        if len(decision.services) > len(request.event.services):
            raise ValueError(
                f"{len(decision.services)} service answers for {len(request.event.services)} services asked for"
            )
        tx = request.transaction
        if self._tx is not tx:
            self.close()
            self._open(tx)
        b, w, c = self.body, self.w, self.body.clean
        rejection = decision.rejection
        where = rejection.where if rejection is not None else ""
        opened = self._open_hls

        def aaa(loop: str) -> None:
            if rejection is not None and where == loop:
                w.segment("AAA", "Y" if rejection.valid_request else "N", "", rejection.reason,
                          rejection.follow_up)  # fmt: skip

        # a rejection above the event gets loops of its own (its AAA is about this request only), closed
        # after it so that the next request opens its own
        key20: object = request.umo
        key21: object = (request.umo, request.requester)
        key22: object = (key21, request.subscriber.hl, request.subscriber)
        umo = opened.get("20")
        if umo is None or umo[0] != key20 or where == "umo":
            opened.clear()
            opened["20"] = (key20, b.hl(None, "20", True))
            b.party(request.umo, full=False)
            aaa("umo")
        req = opened.get("21")
        if req is None or req[0] != key21 or where == "requester":
            for key in ("21", "22", "23"):
                opened.pop(key, None)
            opened["21"] = (key21, b.hl(opened["20"][1], "21", True))
            b.party(request.requester, full=False)
            aaa("requester")
        dependent = request.dependent
        sub = opened.get("22")
        if sub is None or sub[0] != key22 or (where == "patient" and dependent is None):
            opened.pop("23", None)
            opened["22"] = (key22, b.hl(opened["21"][1], "22", True))
            b.patient(request.subscriber)
            if dependent is None:
                aaa("patient")
            b.demographics(request.subscriber)
        parent = opened["22"][1]
        if dependent is not None:
            key23 = (key22, dependent.hl, dependent)
            dep = opened.get("23")
            if dep is None or dep[0] != key23 or where == "patient":
                opened["23"] = (key23, b.hl(parent, "23", True))
                b.patient(dependent)
                aaa("patient")
                b.demographics(dependent)
            parent = opened["23"][1]
        if where == "umo":
            opened.clear()
        elif where == "requester":
            for key in ("21", "22", "23"):
                opened.pop(key, None)
        elif where == "patient":
            opened.pop("22" if dependent is None else "23", None)
        if where and where != "event":
            # rejected above the event: the event is echoed (its trace and UM) so the requester can match it
            self._event_head(request.event, parent, services=False)
            self._um(request.event)
            return
        event = request.event
        number = self._event_head(event, parent, services=rejection is None and bool(event.services))
        if rejection is not None:
            aaa("event")
            self._um(event)
            return
        self._um(event)
        w.segment(
            "HCR", decision.action, c(decision.certification_number, _LIMITS["ref"]), c(decision.reason, 30)
        )
        if decision.effective_start is not None:
            w.segment("DTP", "AAH", *_span(decision.effective_start, decision.effective_end))
        if decision.message:
            w.segment("MSG", c(decision.message, _LIMITS["msg"]))
        servicing = event.servicing_provider
        if servicing is not None:
            b.party(servicing, full=False)
        for index, service in enumerate(event.services):
            answer = decision.services[index] if index < len(decision.services) else None
            self._service(service, answer or ServiceDecision(decision.action, decision.certification_number,
                                                             decision.reason), number)  # fmt: skip

    def _event_head(self, event: Event, parent: int, *, services: bool) -> int:
        number = self.body.hl(parent, "EV", services)
        self.body.traces(event.traces, "2")
        return number

    def _um(self, event: Event) -> None:
        facility = [event.facility_code, event.facility_qualifier] if event.facility_code else []
        self.body.um(event.category, event.certification_type, event.service_type, facility,
                     event.level_of_service)  # fmt: skip

    def _service(self, service: Service, answer: ServiceDecision, parent: int) -> None:
        b, w, c = self.body, self.w, self.body.clean
        b.hl(parent, "SS", False)
        b.traces(service.traces, "2")
        b.um(service.category, service.certification_type, service.service_type, [], service.level_of_service)
        w.segment("HCR", answer.action, c(answer.certification_number, _LIMITS["ref"]), c(answer.reason, 30))
        if service.date is not None:
            w.segment("DTP", "472", *_span(service.date, service.date_end))
        w.segment(service.procedure.kind, *_procedure_elements(service.procedure))
        if answer.approved_units is not None:
            qualifier = service.quantity.qualifier if service.quantity is not None else "FL"
            w.segment("HSD", qualifier, _number(answer.approved_units))

    def close(self) -> None:
        if self._tx is not None:
            self.w.end_transaction()
            self._tx = None

    def _open(self, tx: Transaction278) -> None:
        self.transactions += 1
        self._tx = tx
        self.body._hl = 0
        self._open_hls = {}
        self.w.start_transaction("278", f"{self.transactions:04d}", IMPLEMENTATION)
        when = self.when
        self.w.segment("BHT", STRUCTURE, "11", self.body.clean(tx.reference, 50), when.strftime("%Y%m%d"),
                       when.strftime("%H%M"))  # fmt: skip


def build_278(
    pairs: Iterable[tuple[Request278, Decision278]],
    *,
    when: dt.datetime | None = None,
    control_number: int = 1,
    delimiters: Delimiters | None = None,
    newline: bool = False,
) -> bytes:
    """A complete 278 response interchange answering the request interchange of the first pair (sender and
    receiver swapped, usage indicator kept), one response transaction set per request transaction set.

    ``pairs`` must not be empty and its requests must have been read from a file (their transaction carries
    the interchange); ValueError otherwise, or when a decision cannot be written (:meth:`Decision278.check`).
    """
    items: Iterator[tuple[Request278, Decision278]] = iter(pairs)
    first = next(items, None)
    if first is None:
        raise ValueError("no request to answer: a 278 response answers at least one request")
    tx = first[0].transaction
    if tx.interchange is None or tx.group is None:
        raise ValueError("the request was not read from a file: no interchange to answer")
    stamp = when or dt.datetime(2000, 1, 1)
    out = io.BytesIO()
    w = _reply(out, tx.interchange, control_number=control_number, delimiters=delimiters, when=stamp,
               newline=newline)  # fmt: skip
    w.start_group(FUNCTIONAL_ID, _clean(tx.group.receiver, w), _clean(tx.group.sender, w),
                  control_number=control_number, version=IMPLEMENTATION, when=stamp)  # fmt: skip
    body = Writer278(w, when=stamp)
    body.add(*first)
    for request, decision in items:
        body.add(request, decision)
    body.close()
    w.end_group()
    w.end_interchange()
    return out.getvalue()


__all__ = [
    "ACTIONS",
    "CERTIFICATION_TYPES",
    "IMPLEMENTATION",
    "LEVELS",
    "LEVELS_OF_SERVICE",
    "REJECTION_REASONS",
    "REQUEST_CATEGORIES",
    "Address",
    "Decision278",
    "Diagnosis",
    "Event",
    "Party",
    "Patient",
    "Procedure",
    "Quantity",
    "Rejection278",
    "Request278",
    "Service",
    "ServiceDecision",
    "Trace",
    "Transaction278",
    "Writer278",
    "X12Error",
    "build_278",
    "read_278",
    "write_278_request",
]
