"""270 Health Care Eligibility Benefit Inquiry (005010X279A1) mapped to typed records, streamed.

:func:`read_270` yields one :class:`Inquiry` per patient asked about: a subscriber (loop 2000C) that has
no dependent loops, or each dependent (loop 2000D) under a subscriber. An inquiry is yielded when the
next HL or the SE closes it, so memory holds one subscriber at a time (and the HL ids seen, to refuse a
repeated one) whatever the size of the file.

The HL hierarchy is checked as it is read: 20 information source (2000A, NM1*PR...), 21 information
receiver (2000B, NM1*1P or FA...), 22 subscriber (2000C: TRN, NM1*IL, DMG, DTP*291, EQ), 23 dependent
(2000D: TRN, NM1*03, DMG, DTP*291, EQ), each HL02 pointing to an HL of the level above.

Content errors raise :class:`X12Error` with the segment number, segment id and element position.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from openipa.core.identifiers import is_valid_npi
from openipa.edi.x12.dates import dtp_range, element_date
from openipa.edi.x12.envelope import EnvelopeReader, Group, Interchange
from openipa.edi.x12.errors import X12Error
from openipa.edi.x12.reader import CHUNK_SIZE, Segment, Source
from openipa.edi.x12.records import NamedEntity

IMPLEMENTATION = "005010X279A1"

LEVELS: dict[str, str] = {
    "20": "information source",
    "21": "information receiver",
    "22": "subscriber",
    "23": "dependent",
}
"""HL03 hierarchical level codes of a 270/271."""

PURPOSES: dict[str, str] = {"13": "request", "01": "cancellation"}
"""BHT02 of a 270."""

SEXES = frozenset({"F", "M", "U"})
SUBSCRIBER_ID_QUALIFIERS = frozenset({"MI", "II"})
"""NM108 of loop 2100C: MI member identification number, II standard unique health identifier."""

_SERVICE_TYPE = re.compile(r"[A-Z0-9]{1,2}")
_PARENT_LEVEL = {"21": "20", "22": "21", "23": "22"}


@dataclass(frozen=True, slots=True)
class Transaction270:
    """One 270 transaction set: ST02, BHT and the envelope it came in (for the 271's reply envelope)."""

    control_number: str
    """ST02."""
    version: str
    purpose_code: str
    """BHT02: 13 request, 01 cancellation."""
    reference: str
    """BHT03, the submitter's transaction identifier (echoed in the 271's BHT03)."""
    created: dt.date
    """BHT04: the default inquiry date."""
    created_time: str
    """BHT05 (HHMM, HHMMSS...)."""
    segment_number: int
    """The ST segment."""
    interchange: Interchange = field(compare=False, repr=False)
    group: Group = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Party(NamedEntity):
    """Loop 2100A (information source: the payer) or 2100B (information receiver: the provider)."""

    hl: str
    """HL01 of its loop 2000A/2000B."""
    entity_code: str
    """NM101: PR payer, 1P provider, FA facility, 2B, 36, 80, GP, P5."""
    entity_type: str
    """NM102: 1 person, 2 non-person entity."""
    last_name: str
    """NM103: last name or organization name."""
    first_name: str
    middle_name: str
    suffix: str
    id_qualifier: str
    """NM108: PI payer identification, XX NPI, SV service provider number, FI tax id..."""
    id: str
    """NM109."""
    segment_number: int
    """The NM1 segment."""


@dataclass(frozen=True, slots=True)
class Trace:
    """TRN: TRN01 trace type (1 in a 270, 2 when a 271 echoes it), number, originator, secondary id."""

    type_code: str
    number: str
    originator: str
    secondary: str = ""


@dataclass(frozen=True, slots=True)
class Patient:
    """Loop 2000C/2100C (subscriber, NM1*IL) or 2000D/2100D (dependent, NM1*03)."""

    hl: str
    entity_code: str
    """NM101: IL subscriber, 03 dependent."""
    last_name: str
    first_name: str
    middle_name: str
    suffix: str
    id_qualifier: str
    """NM108: MI or II (a dependent has none in 005010X279A1)."""
    member_id: str
    """NM109."""
    birth_date: dt.date | None
    """DMG02."""
    sex: str
    """DMG03 (F, M, U, or "")."""
    traces: tuple[Trace, ...]
    segment_number: int
    """The NM1 segment."""
    hl_segment_number: int = 0
    """The HL segment."""


@dataclass(frozen=True, slots=True)
class Inquiry:
    """One patient asked about: the source, receiver, subscriber and (maybe) dependent, date and services."""

    transaction: Transaction270
    source: Party
    receiver: Party
    subscriber: Patient
    dependent: Patient | None
    date: dt.date
    """DTP*291 (the start of an RD8 range), else BHT04."""
    date_end: dt.date | None
    """The end of an RD8 range."""
    date_given: bool
    """False when the 270 had no DTP*291 and the date is the transaction's BHT04."""
    service_types: tuple[str, ...]
    """EQ01 codes (30 health benefit plan coverage, 1 medical care, 33 chiropractic...), in order."""
    procedures: tuple[str, ...] = ()
    """EQ02 composites as sent (qualifier:code), for inquiries by procedure."""

    @property
    def patient(self) -> Patient:
        return self.dependent or self.subscriber

    @property
    def traces(self) -> tuple[Trace, ...]:
        return self.patient.traces

    @property
    def member_id(self) -> str:
        """The subscriber's NM109 (the id the payer knows the member by)."""
        return self.subscriber.member_id

    @property
    def payer_id(self) -> str:
        return self.source.id

    @property
    def segment_number(self) -> int:
        return self.patient.hl_segment_number


# -- parsing helpers ----------------------------------------------------------------------------------


def _dtp_291(seg: Segment, filename: str | None) -> tuple[dt.date, dt.date | None]:
    if seg.get(1) != "291":
        raise seg.error(f"date qualifier {seg.get(1)!r} is not 291 (plan)", 1, filename)
    return dtp_range(seg, filename)


def _split(value: str, repetition: str | None) -> list[str]:
    return value.split(repetition) if repetition and value else ([value] if value else [])


@dataclass(slots=True)
class _Level:
    """An HL being read."""

    hl: Segment
    id: str
    level: str
    name: Segment | None = None
    traces: list[Trace] = field(default_factory=list)
    birth_date: dt.date | None = None
    sex: str = ""
    date: dt.date | None = None
    date_end: dt.date | None = None
    service_types: list[str] = field(default_factory=list)
    procedures: list[str] = field(default_factory=list)
    eq_seen: bool = False
    children: int = 0

    def party(self, filename: str | None, end: Segment) -> Party:
        nm1 = self.name
        if nm1 is None:
            what = "information source" if self.level == "20" else "information receiver"
            loop = "2100A" if self.level == "20" else "2100B"
            raise self.hl.error(
                f"{what} has no NM1 (loop {loop}) before segment {end.number} ({end.id})", None, filename
            )
        return Party(
            self.id, nm1.get(1), nm1.get(2), nm1.get(3), nm1.get(4), nm1.get(5), nm1.get(7),
            nm1.get(8), nm1.get(9), nm1.number,
        )  # fmt: skip

    def patient(self, filename: str | None, end: Segment) -> Patient:
        nm1 = self.name
        if nm1 is None:
            code, loop = ("IL", "2100C") if self.level == "22" else ("03", "2100D")
            raise self.hl.error(
                f"{LEVELS[self.level]} has no NM1*{code} (loop {loop}) before segment {end.number} ({end.id})",
                None,
                filename,
            )
        return Patient(
            self.id, nm1.get(1), nm1.get(3), nm1.get(4), nm1.get(5), nm1.get(7), nm1.get(8), nm1.get(9),
            self.birth_date, self.sex, tuple(self.traces), nm1.number, self.hl.number,
        )  # fmt: skip


@dataclass(slots=True)
class _State:
    """One 270 transaction set being read."""

    st: Segment
    control_number: str
    version: str
    interchange: Interchange
    group: Group
    repetition: str | None
    transaction: Transaction270 | None = None
    levels: dict[str, str] = field(default_factory=dict)
    """HL01 -> HL03 of every HL read so far in this set."""
    source: Party | None = None
    receiver: Party | None = None
    subscriber: Patient | None = None
    subscriber_level: _Level | None = None
    current: _Level | None = None


def read_270(
    source: Source, *, filename: str | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[Inquiry]:
    """The inquiries of every 270 transaction set in a file, one at a time.

    Other transaction sets in the file are skipped. Envelope and content errors raise :class:`X12Error`.
    """
    reader = EnvelopeReader(source, chunk_size=chunk_size, filename=filename)
    state: _State | None = None
    name = filename
    for th, seg in reader:
        sid = seg.id
        if sid == "ST":
            name = reader.filename
            state = None
            if th.set_id == "270":
                interchange = th.group.interchange
                state = _State(
                    seg, th.control_number, th.version, interchange, th.group,
                    interchange.delimiters.repetition,
                )  # fmt: skip
            continue
        if state is None:
            continue
        if sid == "SE":
            if state.transaction is None:
                raise seg.error("270 has no BHT segment", None, name)
            if not state.levels:
                raise seg.error("270 has no HL loops (information source, receiver, subscriber)", None, name)
            yield from _close(state, 20, seg, name)
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
        level = state.current
        if level is None:
            raise seg.error(f"segment {sid} before the first HL segment", None, name)
        _detail(state, level, seg, name)


def _bht(state: _State, seg: Segment, filename: str | None) -> None:
    if state.transaction is not None:
        raise seg.error("second BHT segment in the transaction set", None, filename)
    if seg.get(1) != "0022":
        raise seg.error(f"hierarchical structure code {seg.get(1)!r} is not 0022", 1, filename)
    if seg.get(2) not in PURPOSES:
        raise seg.error(f"transaction purpose {seg.get(2)!r} is not 13 (request) or 01 (cancellation)", 2,
                        filename)  # fmt: skip
    created = element_date(seg, 4, filename)
    state.transaction = Transaction270(
        state.control_number, state.version, seg.get(2), seg.get(3), created, seg.get(5), state.st.number,
        state.interchange, state.group,
    )  # fmt: skip


def _hl(state: _State, seg: Segment, filename: str | None) -> Iterator[Inquiry]:
    hl_id, parent, level = seg.get(1), seg.get(2), seg.get(3)
    if not hl_id:
        raise seg.error("hierarchical id (HL01) missing", 1, filename)
    if hl_id in state.levels:
        raise seg.error(f"hierarchical id {hl_id!r} used twice in the transaction set", 1, filename)
    if level not in LEVELS:
        raise seg.error(f"hierarchical level {level!r} is not 20, 21, 22 or 23", 3, filename)
    if level == "20":
        if parent:
            raise seg.error("an information source (HL*20) has no parent (HL02)", 2, filename)
    else:
        expected = _PARENT_LEVEL[level]
        if state.levels.get(parent) != expected:
            raise seg.error(
                f"parent {parent!r} of this {LEVELS[level]} (HL*{level}) is not the id of an "
                f"{LEVELS[expected]} (HL*{expected}) above it",
                2,
                filename,
            )
    if seg.get(4) not in ("", "0", "1"):
        raise seg.error(f"hierarchical child code {seg.get(4)!r} is not 0 or 1", 4, filename)
    # close the open levels at or below this one
    yield from _close(state, int(level), seg, filename)
    if level != "20" and not _open_parent(state, level, parent):
        raise seg.error(
            f"parent {parent!r} is not the {LEVELS[_PARENT_LEVEL[level]]} being read: "
            "the HL loops are out of order",
            2,
            filename,
        )
    state.levels[hl_id] = level
    state.current = _Level(seg, hl_id, level)
    if level == "22":
        state.subscriber_level = state.current


def _open_parent(state: _State, level: str, parent: str) -> bool:
    if level == "21":
        return state.source is not None and state.source.hl == parent
    if level == "22":
        return state.receiver is not None and state.receiver.hl == parent
    return state.subscriber is not None and state.subscriber.hl == parent


def _close(state: _State, level: int, at: Segment, filename: str | None) -> Iterator[Inquiry]:
    """Close the open HL loops of ``level`` and deeper (an HL of that level, or the SE, follows)."""
    current = state.current
    if current is not None:
        state.current = None
        if current.level == "20":
            state.source = current.party(filename, at)
        elif current.level == "21":
            state.receiver = current.party(filename, at)
        elif current.level == "22":
            state.subscriber = current.patient(filename, at)
        else:
            yield _inquiry(state, current, filename, at)
    sub = state.subscriber_level
    if level <= 22 and sub is not None:
        if sub.children == 0:
            if sub.hl.get(4) == "1":
                raise sub.hl.error(
                    f"subscriber says it has dependents (HL04 1) but none follows before segment {at.number} "
                    f"({at.id})",
                    4,
                    filename,
                )
            yield _inquiry(state, sub, filename, at)
        state.subscriber_level = None
        state.subscriber = None
    if level <= 21:
        state.receiver = None
    if level <= 20:
        state.source = None


def _inquiry(state: _State, patient_level: _Level, filename: str | None, at: Segment) -> Inquiry:
    tx = state.transaction
    assert tx is not None
    source, receiver, subscriber = state.source, state.receiver, state.subscriber
    # the HL checks make these hold
    assert source is not None
    assert receiver is not None
    assert subscriber is not None
    dependent: Patient | None = None
    if patient_level.level == "23":
        dependent = patient_level.patient(filename, at)
        assert state.subscriber_level is not None
        state.subscriber_level.children += 1
    if not patient_level.eq_seen:
        loop = "2110C" if patient_level.level == "22" else "2110D"
        raise patient_level.hl.error(
            f"{LEVELS[patient_level.level]} inquiry has no EQ (loop {loop}) before segment {at.number} "
            f"({at.id})",
            None,
            filename,
        )
    given = patient_level.date is not None
    return Inquiry(
        tx,
        source,
        receiver,
        subscriber,
        dependent,
        patient_level.date if patient_level.date is not None else tx.created,
        patient_level.date_end,
        given,
        tuple(patient_level.service_types),
        tuple(patient_level.procedures),
    )


def _detail(state: _State, level: _Level, seg: Segment, filename: str | None) -> None:
    sid = seg.id
    e1 = seg.get(1)
    if sid == "NM1":
        if level.name is not None:
            return  # a 2110 loop's NM1 (not in 005010X279A1) or a repeat: the loop's own NM1 came first
        if level.level == "22":
            if e1 != "IL":
                raise seg.error(f"subscriber name must be NM1*IL, found NM1*{e1}", 1, filename)
            qualifier, ident = seg.get(8), seg.get(9)
            if qualifier and qualifier not in SUBSCRIBER_ID_QUALIFIERS:
                raise seg.error(f"subscriber id qualifier {qualifier!r} is not MI or II", 8, filename)
            if ident and not qualifier:
                raise seg.error("subscriber id (NM109) without its qualifier (NM108)", 8, filename)
        elif level.level == "23":
            if e1 != "03":
                raise seg.error(f"dependent name must be NM1*03, found NM1*{e1}", 1, filename)
        else:
            if seg.get(2) not in ("1", "2"):
                raise seg.error(
                    f"entity type {seg.get(2)!r} is not 1 (person) or 2 (non-person)", 2, filename
                )
            if not seg.get(9):
                raise seg.error("identifier (NM109) missing", 9, filename)
            if seg.get(8) == "XX" and not is_valid_npi(seg.get(9)):
                raise seg.error(f"{seg.get(9)!r} is not a valid NPI (check digit)", 9, filename)
        if level.level in ("22", "23") and not seg.get(3) and not seg.get(9):
            raise seg.error("neither a last name (NM103) nor an id (NM109)", 3, filename)
        level.name = seg
        return
    if level.level not in ("22", "23"):
        return  # REF, N3, N4, PRV of the source or receiver: not used here
    if sid == "TRN":
        if e1 != "1":
            raise seg.error(f"trace type {e1!r} is not 1 (current transaction trace number)", 1, filename)
        if not seg.get(2):
            raise seg.error("trace number (TRN02) missing", 2, filename)
        if not seg.get(3):
            raise seg.error("trace originator (TRN03) missing", 3, filename)
        level.traces.append(Trace(e1, seg.get(2), seg.get(3), seg.get(4)))
    elif sid == "DMG":
        if e1 != "D8":
            raise seg.error(f"date format qualifier {e1!r} is not D8", 1, filename)
        level.birth_date = element_date(seg, 2, filename)
        sex = seg.get(3)
        if sex and sex not in SEXES:
            raise seg.error(f"sex {sex!r} is not F, M or U", 3, filename)
        level.sex = sex
    elif sid == "DTP":
        start, end = _dtp_291(seg, filename)
        if level.date is None:
            level.date, level.date_end = start, end
        elif not level.eq_seen:
            raise seg.error("second DTP*291 for the same patient", 1, filename)
    elif sid == "EQ":
        codes = _split(e1, state.repetition)
        for code in codes:
            if not _SERVICE_TYPE.fullmatch(code):
                raise seg.error(f"service type code {code!r} is not 1-2 letters or digits", 1, filename)
        if not codes and not seg.get(2):
            raise seg.error("neither a service type (EQ01) nor a procedure (EQ02)", 1, filename)
        level.service_types.extend(c for c in codes if c not in level.service_types)
        if seg.get(2):
            level.procedures.append(seg.get(2))
        level.eq_seen = True


__all__ = [
    "IMPLEMENTATION",
    "LEVELS",
    "Inquiry",
    "Party",
    "Patient",
    "Trace",
    "Transaction270",
    "X12Error",
    "read_270",
]
