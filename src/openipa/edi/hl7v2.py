"""HL7 v2.x messages (ORU^R01 results, ADT^A01/A03/A04/A08 admissions) read into clinical records, streamed.

:func:`read_hl7` reads a file (a path, bytes or a binary stream) a segment at a time and holds one message
at a time, so the size of the file does not matter. Segments end with CR, LF or CRLF; MLLP framing
characters (``0x0B`` before a message, ``0x1C`` after it) are dropped; a file may be a batch (``FHS``/
``BHS`` ... ``BTS``/``FTS``, whose counts are checked with a warning) or messages one after another. Each
``MSH`` sets the delimiters of its own message (MSH-1 and MSH-2), and text is decoded after splitting, with
the escape sequences ``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\`` (the delimiters), ``\\Xhh..\\`` (bytes) and
``\\.br\\`` (a line break) decoded and highlighting (``\\H\\ \\N\\``) dropped. Segments are decoded as UTF-8,
or Latin-1 when they are not UTF-8.

What a message gives:

- ``ORU^R01``: a :class:`~openipa.edi.clinical.PatientRecord` from PID, a ``report`` fact per OBR (OBR-4,
  OBR-7, OBR-25) and an ``observation`` fact per OBX: OBX-3 the code (a code without a known coding
  system that is a LOINC code with a right check digit is taken as LOINC), OBX-5 the value read by its OBX-2
  type (``NM`` a Decimal; ``SN`` a comparator and number, or a range/ratio kept as text; ``CE``/``CWE``/
  ``CNE`` a coded value; ``ST``/``TX``/``FT`` and dates as text; other types as text with a warning),
  OBX-6 units, OBX-7 reference range, OBX-8 abnormal flags, OBX-11 status (as FHIR's words), OBX-14 the
  time (else OBR-7).
- ``ADT^A01`` (admit), ``A03`` (discharge), ``A04`` (register), ``A08`` (update): a PatientRecord from PID,
  an ``encounter`` fact from PV1 (PV1-2 patient class as ``category``, PV1-7 attending doctor as
  ``performer``, PV1-3's facility (else MSH-4, the sending facility) as ``location``, PV1-19 visit number as the record id, PV1-36 discharge disposition, PV1-44 admit and
  PV1-45 discharge date/time; ``event`` the trigger) and a ``condition`` fact per DG1 (DG1-3 code, DG1-5
  date else the admit date, DG1-6 diagnosis type as ``category``).

The patient's key (``patient_ref``) is PID-3's first identifier (PID-2 when PID-3 is empty).

Error policy: **each message is an independent record.** A message that cannot be read -- bad delimiters
in its MSH, no PID, no PV1 in an ADT, an OBX without an identifier, a value that is not a number in an
``NM`` OBX, a bad date/time in a clinical field, a segment id that is not one -- is reported as one
:class:`~openipa.edi.clinical.ClinicalIssue` of severity ``error`` naming the file, the segment's ordinal
in the file (``line``), the message number, the message control id, the segment (``OBX#2``, the second OBX
of the message) and the field (``OBX-5``); nothing of that message is yielded and the next message is read.
A bad demographic detail (PID-7 birth date, PID-8 sex) is a ``warning``: dropped, the message kept. A
message type that is not read (``ORM``, ``ADT^A02``...) is skipped with a warning. A file that is not HL7
v2 at all -- its first segment is not MSH, FHS or BHS, it has no MSH, a segment is longer than
:data:`~openipa.edi.clinical.MAX_LINE` bytes -- is refused whole with
:class:`~openipa.edi.clinical.ClinicalFileError`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import NoReturn

from openipa.edi.clinical import (
    CHUNK_SIZE,
    SEXES,
    Address,
    ClinicalFact,
    ClinicalFileError,
    ClinicalIssue,
    Coding,
    Identifier,
    PatientRecord,
    Record,
    Sex,
    Where,
    birth_date_problem,
    code_system,
    iter_lines,
    loinc_check_ok,
    normalize_code,
    open_clinical,
    parse_decimal,
)
from openipa.edi.x12.reader import Source

ADT_EVENTS: dict[str, str] = {
    "A01": "in-progress",
    "A03": "finished",
    "A04": "arrived",
    "A08": "",
}
"""The ADT triggers read, with the encounter status each gives (an update, A08, says none)."""

OBX_STATUS: dict[str, str] = {
    "F": "final",
    "U": "final",
    "V": "final",
    "B": "final",
    "C": "corrected",
    "A": "amended",
    "P": "preliminary",
    "S": "preliminary",
    "R": "registered",
    "I": "registered",
    "O": "registered",
    "X": "cancelled",
    "N": "cancelled",
    "D": "entered-in-error",
    "W": "entered-in-error",
}
"""OBX-11 / OBR-25 result status (v2 table 0085) as FHIR observation status words."""

_TEXT_TYPES = frozenset(
    {"ST", "TX", "FT", "DT", "TM", "TS", "DTM", "ID", "IS", "XAD", "XPN", "XCN", "ED", "RP"}
)
_CODED_TYPES = frozenset({"CE", "CWE", "CNE"})
_COMPARATORS = frozenset({">", "<", ">=", "<="})
MAX_SEGMENTS = 100_000
"""A message with more segments is refused (it is not one message but a file missing its MSH segments)."""


@dataclass(frozen=True, slots=True)
class Delimiters:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"


class _Refused(Exception):
    def __init__(self, message: str, segment: _Segment | None, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.segment = segment
        self.field = field


@dataclass(slots=True)
class _Segment:
    id: str
    fields: list[str]
    """``fields[n]`` is field n (for MSH, ``fields[1]`` is MSH-1, the field separator)."""
    line: int
    label: str
    """The id and its ordinal in the message, e.g. ``OBX#2``."""

    def raw(self, n: int) -> str:
        return self.fields[n] if n < len(self.fields) else ""


class _Message:
    """One message's segments and the getters that decode their fields."""

    def __init__(self, segments: list[tuple[int, str]], number: int, filename: str | None) -> None:
        self.number = number
        self.filename = filename
        self.warnings: list[ClinicalIssue] = []
        line, msh = segments[0]
        self.delimiters = _delimiters(msh, line)
        d = self.delimiters
        self.segments: list[_Segment] = []
        counts: dict[str, int] = {}
        for line, text in segments:
            fields = text.split(d.field)
            seg_id = fields[0]
            if seg_id == "MSH":
                fields = ["MSH", d.field, *fields[1:]]
            counts[seg_id] = counts.get(seg_id, 0) + 1
            seg = _Segment(seg_id, fields, line, f"{seg_id}#{counts[seg_id]}")
            if not re.fullmatch(r"[A-Z][A-Z0-9]{2}", seg_id):
                raise _Refused(f"{_show(text)} does not start with a segment id", seg)
            self.segments.append(seg)
        self.msh = self.segments[0]
        self.control_id = self.text(self.msh, 10)
        self.message_type = self.component(self.msh, 9, 1).upper()
        self.trigger = self.component(self.msh, 9, 2).upper()

    @property
    def where(self) -> Where:
        return Where(self.filename, self.msh.line, self.control_id or None, self.number, None)

    def where_of(self, seg: _Segment) -> Where:
        return Where(self.filename, seg.line, self.control_id or None, self.number, seg.label)

    def refuse(self, message: str, seg: _Segment | None, field: str = "") -> NoReturn:
        raise _Refused(message, seg, field)

    def warn(self, message: str, seg: _Segment, field: str) -> None:
        self.warnings.append(ClinicalIssue("warning", message, self.where_of(seg), field))

    def first(self, seg_id: str) -> _Segment | None:
        for seg in self.segments:
            if seg.id == seg_id:
                return seg
        return None

    # -- field access ----------------------------------------------------------------------------------

    def repetitions(self, seg: _Segment, n: int) -> list[str]:
        raw = seg.raw(n)
        if not raw:
            return []
        if seg.id == "MSH" and n in (1, 2):
            return [raw]
        return raw.split(self.delimiters.repetition)

    def components(self, value: str) -> list[str]:
        return [self.unescape(c) for c in value.split(self.delimiters.component)]

    def component(self, seg: _Segment, n: int, c: int) -> str:
        reps = self.repetitions(seg, n)
        if not reps:
            return ""
        parts = reps[0].split(self.delimiters.component)
        if c > len(parts):
            return ""
        return self.unescape(parts[c - 1].split(self.delimiters.subcomponent)[0]).strip()

    def text(self, seg: _Segment, n: int) -> str:
        """Field n's first component, decoded."""
        return self.component(seg, n, 1)

    def unescape(self, text: str) -> str:
        d = self.delimiters
        if d.escape not in text:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            ch = text[i]
            end = text.find(d.escape, i + 1) if ch == d.escape else -1
            if end < 0:
                out.append(ch)
                i += 1
                continue
            code = text[i + 1 : end]
            simple = {"F": d.field, "S": d.component, "T": d.subcomponent, "R": d.repetition, "E": d.escape}
            if code in simple:
                out.append(simple[code])
            elif code in ("H", "N"):
                pass
            elif code == ".br":
                out.append("\n")
            elif code[:1] == "X" and re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", code[1:]):
                out.append(bytes.fromhex(code[1:]).decode("utf-8", errors="replace"))
            else:
                out.append(text[i : end + 1])  # an escape this reader does not know is kept as written
            i = end + 1
        return "".join(out)

    def coding(self, value: str, *, loinc_default: bool = False) -> tuple[Coding, ...]:
        """A CE/CWE/CNE value's codings: the identifier and the alternate identifier."""
        parts = self.components(value) + [""] * 6
        codes: list[Coding] = []
        for code, text, raw_system in ((parts[0], parts[1], parts[2]), (parts[3], parts[4], parts[5])):
            code, raw_system = code.strip(), raw_system.strip()
            if not code:
                continue
            system = code_system(raw_system) if raw_system else None
            if system is None and loinc_default and loinc_check_ok(code):
                system = "LOINC"
            system = system or raw_system
            codes.append(Coding(system, normalize_code(system, code), text.strip()))
        return tuple(codes)

    def when(
        self, seg: _Segment, n: int, *, rep: str | None = None, demographic: bool = False
    ) -> tuple[dt.date | None, dt.datetime | None]:
        value = self.text(seg, n) if rep is None else rep
        field = f"{seg.id}-{n}"
        if not value:
            return None, None
        try:
            return parse_dtm(value)
        except PartialDate as exc:
            self.warn(f"{exc}; it is not used", seg, field)
            return None, None
        except ValueError as exc:
            if demographic:
                self.warn(f"{exc}; it is dropped", seg, field)
                return None, None
            self.refuse(str(exc), seg, field)


def _show(text: str, limit: int = 40) -> str:
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


def _delimiters(msh: str, line: int) -> Delimiters:
    seg = _Segment("MSH", [], line, "MSH#1")
    if len(msh) < 8:
        raise _Refused("the MSH segment is too short to hold its delimiters (MSH-1, MSH-2)", seg, "MSH-1")
    fs = msh[3]
    rest = msh[4:].split(fs, 1)[0]
    if fs.isalnum() or fs.isspace():
        raise _Refused(f"the field separator (MSH-1) {fs!r} is a letter, digit or space", seg, "MSH-1")
    if (
        len(rest) not in (4, 5)
        or len(set(rest)) != len(rest)
        or fs in rest
        or any(c.isalnum() or c.isspace() for c in rest)
    ):
        raise _Refused(
            f"the encoding characters (MSH-2) {rest!r} are not 4 distinct delimiters "
            "(component, repetition, escape, subcomponent, e.g. ^~\\&)",
            seg,
            "MSH-2",
        )
    return Delimiters(fs, rest[0], rest[1], rest[2], rest[3])


class PartialDate(ValueError):
    """A date/time without a day (``YYYY`` or ``YYYYMM``)."""


_DTM = re.compile(
    r"([0-9]{4})([0-9]{2})?([0-9]{2})?(?:([0-9]{2})([0-9]{2})?([0-9]{2})?(?:\.([0-9]{1,4}))?)?([+-][0-9]{4})?"
)


def parse_dtm(text: str) -> tuple[dt.date, dt.datetime | None]:
    """An HL7 DTM/TS (``YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]``): the day and, when a time was given, the
    timestamp (aware when an offset was given). :class:`PartialDate` when there is no day, ValueError when
    it is not a date/time."""
    value = text.strip()
    match = _DTM.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+/-ZZZZ])")
    year, month, day, hour, minute, second, frac, offset = match.groups()
    if day is None:
        raise PartialDate(f"{value!r} is a partial date (no day)")
    try:
        date = dt.date(int(year), int(month), int(day))
        if hour is None:
            return date, None
        tz = None
        if offset:
            sign = -1 if offset[0] == "-" else 1
            tz = dt.timezone(sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
        micro = int((frac or "0").ljust(6, "0")[:6])
        stamp = dt.datetime(
            date.year, date.month, date.day, int(hour), int(minute or 0), int(second or 0), micro, tzinfo=tz
        )
    except ValueError:
        raise ValueError(f"{value!r} is not a real date/time") from None
    return date, stamp


# -- messages -----------------------------------------------------------------------------------------------


def _read_message(message: _Message) -> list[Record]:
    """The records of one parsed message followed by its warnings; _Refused when it cannot be read."""
    kind = f"{message.message_type}^{message.trigger}"
    if message.message_type == "ORU" and message.trigger == "R01":
        records = _oru(message)
    elif message.message_type == "ADT" and message.trigger in ADT_EVENTS:
        records = _adt(message)
    else:
        return [ClinicalIssue("warning", f"message type {kind} is not read; skipped", message.where, "MSH-9")]
    return [*records, *message.warnings]


def _patient(m: _Message) -> PatientRecord:
    pid = m.first("PID")
    if pid is None:
        m.refuse(f"the {m.message_type}^{m.trigger} message has no PID segment", m.msh, "PID")
    identifiers: list[Identifier] = []
    for n in (3, 2):
        for rep in m.repetitions(pid, n):
            parts = m.components(rep) + [""] * 5
            value = parts[0].strip()
            if value:
                authority = parts[3].split(m.delimiters.subcomponent)[0].strip()
                identifiers.append(Identifier(authority, value, parts[4].strip()))
        if identifiers:
            break
    if not identifiers:
        m.refuse("PID-3 (patient identifier list) has no identifier", pid, "PID-3")
    names = [m.components(rep) + [""] * 7 for rep in m.repetitions(pid, 5)]
    names.sort(key=lambda parts: 0 if parts[6].strip() in ("L", "") else 1)
    family = ""
    given: tuple[str, ...] = ()
    if names:
        parts = names[0]
        family = parts[0].split(m.delimiters.subcomponent)[0].strip()
        given = tuple(p.strip() for p in (parts[1], parts[2]) if p.strip())
    birth, _ = m.when(pid, 7, demographic=True)
    if birth is not None and (problem := birth_date_problem(birth)):
        m.warn(f"{problem}; it is dropped", pid, "PID-7")
        birth = None
    sex_text = m.text(pid, 8)
    sex: Sex = SEXES.get(sex_text.casefold(), "U") if sex_text else "U"
    if sex_text and sex_text.casefold() not in SEXES:
        m.warn(f"sex {sex_text!r} is not F, M, O, U, A or N; read as unknown", pid, "PID-8")
    addresses = []
    for rep in m.repetitions(pid, 11):
        p = m.components(rep) + [""] * 6
        lines = tuple(x.strip() for x in (p[0].split(m.delimiters.subcomponent)[0], p[1]) if x.strip())
        if any((lines, p[2].strip(), p[3].strip(), p[4].strip())):
            addresses.append(Address(lines, p[2].strip(), p[3].strip(), p[4].strip(), p[5].strip()))
    phones: list[str] = []
    emails: list[str] = []
    for n in (13, 14):
        for rep in m.repetitions(pid, n):
            p = m.components(rep) + [""] * 12
            if p[1].strip() == "NET" or p[2].strip() == "Internet":
                if p[3].strip():
                    emails.append(p[3].strip())
            elif p[0].strip():
                phones.append(p[0].strip())
            elif p[6].strip():
                phones.append(f"({p[5].strip()}){p[6].strip()}" if p[5].strip() else p[6].strip())
    death, _ = m.when(pid, 29, demographic=True)
    indicator = m.text(pid, 30).upper()
    deceased = True if indicator == "Y" or death else False if indicator == "N" else None
    return PatientRecord(
        patient_ref=identifiers[0].value,
        identifiers=tuple(identifiers),
        family=family,
        given=given,
        birth_date=birth,
        sex=sex,
        addresses=tuple(addresses),
        phones=tuple(phones),
        emails=tuple(emails),
        deceased=deceased,
        deceased_date=death,
        where=m.where_of(pid),
    )


def _oru(m: _Message) -> list[Record]:
    patient = _patient(m)
    ref = patient.patient_ref
    key = m.control_id or f"message{m.number}"
    records: list[Record] = [patient]
    report: dict[str, object] | None = None
    order = ""
    reports: list[tuple[dict[str, object], list[str]]] = []
    used: set[str] = set()
    for seg in m.segments:
        if seg.id == "OBR":
            codes = m.coding(m.repetitions(seg, 4)[0] if m.repetitions(seg, 4) else "", loinc_default=True)
            day, stamp = m.when(seg, 7)
            order = m.text(seg, 3) or m.text(seg, 2)
            report = {
                "record_id": f"order:{order}" if order else f"{key}:{seg.label}",
                "codes": codes,
                "date": day,
                "time": stamp,
                "status": OBX_STATUS.get(m.text(seg, 25).upper(), m.text(seg, 25)),
                "where": m.where_of(seg),
            }
            reports.append((report, []))
        elif seg.id == "OBX":
            fact = _obx(m, seg, key, ref, report)
            if order and fact.codes:
                # stable across messages, so a corrected (C) or deleted (D) result replaces the original
                record_id = f"order:{order}:{fact.codes[0].code}"
                sub_id = m.text(seg, 4)
                record_id += f":{sub_id}" if sub_id else ""
                if record_id in used:
                    record_id += f":{seg.label}"
                fact = replace(fact, record_id=record_id)
            used.add(fact.record_id)
            records.append(fact)
            if reports:
                reports[-1][1].append(fact.record_id)
    for values, results in reports:
        if not values["codes"]:
            continue  # an order without a service code adds nothing its results do not say
        records.append(
            ClinicalFact(
                kind="report",
                patient_ref=ref,
                references=tuple(results),
                **values,  # type: ignore[arg-type]
            )
        )
    return records


def _obx(m: _Message, seg: _Segment, key: str, ref: str, report: dict[str, object] | None) -> ClinicalFact:
    ids = m.repetitions(seg, 3)
    codes = m.coding(ids[0], loinc_default=True) if ids else ()
    if not codes:
        m.refuse("OBX-3 (observation identifier) has no code", seg, "OBX-3")
    value_type = m.text(seg, 2).upper()
    values = [v for v in m.repetitions(seg, 5) if v]
    value: Decimal | None = None
    comparator = value_text = ""
    value_code: Coding | None = None
    if values:
        first = values[0]
        if value_type == "NM":
            text = m.unescape(first).strip()
            try:
                value = parse_decimal(text)
            except ValueError:
                m.refuse(f"value {_show(text)} is not a number (OBX-2 value type NM)", seg, "OBX-5")
        elif value_type == "SN":
            parts = [p.strip() for p in m.components(first)] + [""] * 4
            comp, num1, sep, num2 = parts[:4]
            if comp in ("=", "<>"):
                comp = "" if comp == "=" else comp
            if comp and comp not in _COMPARATORS and comp != "<>":
                m.refuse(f"SN comparator {comp!r} is not one of >, <, >=, <=, =, <>", seg, "OBX-5")
            try:
                number = parse_decimal(num1)
                if sep or num2:
                    parse_decimal(num2)
            except ValueError as exc:
                m.refuse(f"structured numeric value: {exc}", seg, "OBX-5")
            if sep or num2:
                value_text = f"{comp}{num1}{sep or '-'}{num2}"
            elif comp == "<>":
                value_text = f"<>{num1}"
            else:
                value, comparator = number, comp
        elif value_type in _CODED_TYPES:
            coded = m.coding(first)
            value_code = coded[0] if coded else None
            parts = [*m.components(first), "", ""]
            value_text = parts[1].strip() or (value_code.code if value_code else "")
        else:
            value_text = "\n".join(m.unescape(v) for v in values).strip()
            if value_type not in _TEXT_TYPES:
                m.warn(
                    f"value type {value_type or '(none)'} is not read as a number or code; the value is kept "
                    "as text",
                    seg,
                    "OBX-2",
                )
    units = m.repetitions(seg, 6)
    unit = ""
    if units:
        parts = [*m.components(units[0]), ""]
        unit = (parts[0] or parts[1]).strip()
    day, stamp = m.when(seg, 14)
    if day is None and report is not None:
        day, stamp = report["date"], report["time"]  # type: ignore[assignment]
    status = m.text(seg, 11).upper()
    return ClinicalFact(
        kind="observation",
        record_id=f"{key}:{seg.label}",
        patient_ref=ref,
        codes=codes,
        date=day,
        time=stamp,
        status=OBX_STATUS.get(status, status),
        category="laboratory",
        value=value,
        unit=unit,
        comparator=comparator,
        value_text=value_text,
        value_code=value_code,
        reference_range=m.text(seg, 7),
        abnormal_flags=tuple(f for f in (m.unescape(r).strip() for r in m.repetitions(seg, 8)) if f),
        where=m.where_of(seg),
    )


def _facility(m: _Message, pv1: _Segment) -> str:
    """PV1-3's facility (PL.4, its namespace id), else the MSH-4 sending facility's."""
    for seg, n, c in ((pv1, 3, 4), (m.msh, 4, 1)):
        if value := m.component(seg, n, c):
            return value
    return ""


def _adt(m: _Message) -> list[Record]:
    patient = _patient(m)
    ref = patient.patient_ref
    pv1 = m.first("PV1")
    if pv1 is None:
        m.refuse(f"the ADT^{m.trigger} message has no PV1 segment", m.msh, "PV1")
    patient_class = m.text(pv1, 2).upper()
    if not patient_class:
        m.refuse("PV1-2 (patient class) is empty", pv1, "PV1-2")
    admit, admit_time = m.when(pv1, 44)
    discharges = m.repetitions(pv1, 45)
    discharge, discharge_time = (
        m.when(pv1, 45, rep=m.components(discharges[0])[0]) if discharges else (None, None)
    )
    if admit is not None and discharge is not None and discharge < admit:
        m.refuse(f"discharged {discharge.isoformat()} before admitted {admit.isoformat()}", pv1, "PV1-45")
    attending = m.components(m.repetitions(pv1, 7)[0]) + [""] * 3 if m.repetitions(pv1, 7) else [""] * 3
    visit = m.text(pv1, 19) or m.control_id or f"message{m.number}"
    evn = m.first("EVN")
    recorded, _ = m.when(evn, 2) if evn is not None else (None, None)
    records: list[Record] = [
        patient,
        ClinicalFact(
            kind="encounter",
            record_id=visit,
            patient_ref=ref,
            date=admit,
            end_date=discharge,
            time=admit_time,
            end_time=discharge_time,
            recorded=recorded,
            status=ADT_EVENTS[m.trigger],
            category=patient_class,
            event=m.trigger,
            disposition=m.text(pv1, 36),
            location=_facility(m, pv1),
            performer=attending[0].strip(),
            performer_name=" ".join(p.strip() for p in (attending[2], attending[1]) if p.strip()),
            where=m.where_of(pv1),
        ),
    ]
    for seg in m.segments:
        if seg.id != "DG1":
            continue
        reps = m.repetitions(seg, 3)
        codes = m.coding(reps[0]) if reps else ()
        if not codes:
            m.refuse("DG1-3 (diagnosis code) has no code", seg, "DG1-3")
        day, stamp = m.when(seg, 5)
        records.append(
            ClinicalFact(
                kind="condition",
                record_id=f"{visit}:{codes[0].code}",
                patient_ref=ref,
                codes=codes,
                date=day or admit,
                time=stamp,
                category=m.text(seg, 6).upper(),
                encounter_ref=visit,
                where=m.where_of(seg),
            )
        )
    return records


# -- files --------------------------------------------------------------------------------------------------


def _segments(stream: object, filename: str | None, chunk_size: int) -> Iterator[tuple[int, str]]:
    """(ordinal, text) of each non-blank segment, MLLP characters dropped."""
    number = 0
    for raw in iter_lines(stream, filename, chunk_size=chunk_size, split_cr=True):  # type: ignore[arg-type]
        raw = raw.strip(b"\x0b\x1c \t")
        if not raw:
            continue
        number += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        yield number, text.lstrip("\ufeff")


def read_hl7(
    source: Source, *, filename: str | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[Record]:
    """Records and issues of an HL7 v2 file, one message at a time (see the module's error policy)."""
    stream, name, close = open_clinical(source, filename)
    try:
        yield from _read(stream, name, chunk_size)
    except OSError as exc:
        raise ClinicalFileError(f"the file cannot be read: {exc}", filename=name) from None
    finally:
        if close:
            stream.close()  # type: ignore[attr-defined]


def _read(stream: object, name: str | None, chunk_size: int) -> Iterator[Record]:
    pending: list[tuple[int, str]] = []
    number = 0
    batch_count = 0
    started = False

    def flush() -> list[Record]:
        nonlocal number
        number += 1
        try:
            message = _Message(pending, number, name)
        except _Refused as exc:
            line = exc.segment.line if exc.segment else pending[0][0]
            return [
                ClinicalIssue(
                    "error",
                    exc.message,
                    Where(name, line, None, number, exc.segment.label if exc.segment else None),
                    exc.field,
                )
            ]
        try:
            return _read_message(message)
        except _Refused as exc:
            where = message.where_of(exc.segment) if exc.segment else message.where
            return [ClinicalIssue("error", exc.message, where, exc.field)]

    for line, text in _segments(stream, name, chunk_size):
        seg_id = text[:3]
        if seg_id == "MSH":
            if pending:
                yield from flush()
            pending = [(line, text)]
            started = True
            batch_count += 1
            continue
        if seg_id in ("FHS", "BHS", "BTS", "FTS"):
            if pending:
                yield from flush()
                pending = []
            if seg_id == "BHS":
                batch_count = 0
            elif seg_id == "BTS" and len(text) > 4:
                declared = text[4:].split(text[3])[0].strip()
                if declared.isdigit() and int(declared) != batch_count:
                    yield ClinicalIssue(
                        "warning",
                        f"the batch trailer counts {declared} messages; the batch has {batch_count}",
                        Where(name, line),
                        "BTS-1",
                    )
            continue
        if not pending:
            if not started:
                raise ClinicalFileError(
                    f"the file does not start with an MSH, FHS or BHS segment (it starts {_show(text)}): "
                    "not HL7 v2",
                    filename=name,
                    line=line,
                )
            yield ClinicalIssue(
                "error",
                f"segment {_show(text)} is outside a message (after a batch trailer)",
                Where(name, line),
            )
            continue
        if len(pending) >= MAX_SEGMENTS:
            raise ClinicalFileError(
                f"a message has more than {MAX_SEGMENTS} segments", filename=name, line=line
            )
        pending.append((line, text))
    if pending:
        yield from flush()
    if not started:
        raise ClinicalFileError("the file has no MSH segment: not HL7 v2 messages", filename=name)
