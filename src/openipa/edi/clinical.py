"""The records every clinical data reader yields, so any source loads the same way.

The readers (:mod:`openipa.edi.fhir` for FHIR R4 bulk NDJSON, :mod:`openipa.edi.hl7v2` for HL7 v2 ORU and
ADT messages, :mod:`openipa.edi.csvclinical` for the project's clinical CSV layout) each yield a stream of

- :class:`PatientRecord` -- a patient as the source knows them (the source's own patient key, identifiers,
  name, birth date, sex, address, telecom), for matching to members;
- :class:`ClinicalFact` -- one coded clinical fact (a condition, observation, procedure, immunization,
  encounter or diagnostic report) about the patient with key :attr:`ClinicalFact.patient_ref`: its codes
  (:class:`Coding`, code system as a short name such as ``LOINC``), dates, value (``Decimal``, never a
  float) with unit, status, and for blood pressure its components;
- :class:`ClinicalIssue` -- a problem with one record, with where it is (file, line, and per format the
  HL7 message number and segment, the FHIR resource id and element path, the CSV column). An issue of
  severity ``error`` means the record it names was refused (nothing else of that record is yielded); one
  of severity ``warning`` means a detail was dropped or a record skipped on purpose, and the rest kept.

A file that cannot be read at all (missing, not the format, structurally broken) raises
:class:`ClinicalFileError` instead; records already yielded from it should then be discarded by the caller
(the import is all or nothing per file, apart from the independent records a reader reports one by one).

Code systems are known by URI, OID, HL7 v2 table 0396 name or short name; :func:`code_system` maps any of
them to the short name (:data:`SHORT_NAMES`). :func:`normalize_code` writes codes one way: ICD-10-CM and
ICD-10-PCS without the dot and upper case, NDC as 11 digits (:func:`normalize_ndc`). :func:`code_problem`
checks a code's shape for a known system (used where the layout is ours: the clinical CSV).

:func:`openipa.edi.clinicalfiles.read_clinical` reads any clinical file or FHIR bulk directory in a format of
``FORMATS`` (``fhir-ndjson``, ``hl7v2``, ``csv``), detected by ``detect_format`` when not given.

Dates are kept as written in the source's local time: a FHIR ``dateTime`` of ``2020-05-01T23:30:00-05:00``
is the date 2020-05-01 (not converted to UTC), with the full value in :attr:`ClinicalFact.time`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from openipa.edi.x12.reader import Readable, Source, open_source

# -- code systems -------------------------------------------------------------------------------------------

SHORT_NAMES: dict[str, str] = {
    "ICD10CM": "ICD-10-CM diagnoses",
    "ICD10PCS": "ICD-10-PCS inpatient procedures",
    "ICD9CM": "ICD-9-CM diagnoses (historical)",
    "SNOMED": "SNOMED CT",
    "LOINC": "LOINC observations",
    "CPT": "CPT-4 procedures",
    "HCPCS": "HCPCS Level II",
    "CVX": "CDC vaccine codes",
    "NDC": "National Drug Codes (11 digits)",
    "RXNORM": "RxNorm",
    "UCUM": "units (UCUM)",
}
"""The short names of the code systems the readers recognise, with what they are."""

_ALIASES: dict[str, str] = {
    # FHIR canonical URIs
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM",
    "http://www.cms.gov/medicare/coding/icd10": "ICD10PCS",
    "http://terminology.hl7.org/codesystem/icd10pcs": "ICD10PCS",
    "http://hl7.org/fhir/sid/icd-9-cm": "ICD9CM",
    "http://snomed.info/sct": "SNOMED",
    "http://loinc.org": "LOINC",
    "http://www.ama-assn.org/go/cpt": "CPT",
    "https://www.ama-assn.org/go/cpt": "CPT",
    "urn:oid:2.16.840.1.113883.6.285": "HCPCS",
    "https://www.cms.gov/medicare/coding/hcpcsreleasecodesets": "HCPCS",
    "http://www.cms.gov/medicare/coding/hcpcsreleasecodesets": "HCPCS",
    "http://hl7.org/fhir/sid/cvx": "CVX",
    "http://hl7.org/fhir/sid/ndc": "NDC",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RXNORM",
    "http://unitsofmeasure.org": "UCUM",
    # OIDs
    "urn:oid:2.16.840.1.113883.6.90": "ICD10CM",
    "urn:oid:2.16.840.1.113883.6.4": "ICD10PCS",
    "urn:oid:2.16.840.1.113883.6.103": "ICD9CM",
    "urn:oid:2.16.840.1.113883.6.96": "SNOMED",
    "urn:oid:2.16.840.1.113883.6.1": "LOINC",
    "urn:oid:2.16.840.1.113883.6.12": "CPT",
    "urn:oid:2.16.840.1.113883.6.14": "HCPCS",
    "urn:oid:2.16.840.1.113883.12.292": "CVX",
    "urn:oid:2.16.840.1.113883.6.69": "NDC",
    "urn:oid:2.16.840.1.113883.6.88": "RXNORM",
    # HL7 v2 table 0396 names, and names people write. Table 0396's "I10" is WHO ICD-10, but US senders
    # use it for ICD-10-CM (the only ICD-10 of US claims and records), so it is read as ICD-10-CM; the FHIR
    # URI of WHO ICD-10 (http://hl7.org/fhir/sid/icd-10) is not, and stays as written.
    "I10": "ICD10CM",
    "I10C": "ICD10CM",
    "ICD10": "ICD10CM",
    "ICD-10": "ICD10CM",
    "ICD-10-CM": "ICD10CM",
    "I10P": "ICD10PCS",
    "ICD-10-PCS": "ICD10PCS",
    "I9C": "ICD9CM",
    "I9CDX": "ICD9CM",
    "ICD9": "ICD9CM",
    "SCT": "SNOMED",
    "SNM": "SNOMED",
    "SNOMEDCT": "SNOMED",
    "SNOMED-CT": "SNOMED",
    "LN": "LOINC",
    "C4": "CPT",
    "CPT4": "CPT",
    "CPT-4": "CPT",
    "HPC": "HCPCS",
    "HCPCS": "HCPCS",
    "NDC": "NDC",
    "RXN": "RXNORM",
}
_BY_KEY: dict[str, str] = {k.casefold(): v for k, v in _ALIASES.items()} | {
    k.casefold(): k for k in SHORT_NAMES
}


def code_system(name: str) -> str | None:
    """The short name (a key of :data:`SHORT_NAMES`) of a code system URI, OID, v2 name or short name.

    Matching ignores case and a trailing slash; None when the system is not one the readers know.
    """
    key = name.strip().rstrip("/").casefold()
    return _BY_KEY.get(key)


_CODE_SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    "ICD10CM": (
        re.compile(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}"),
        "a letter, a digit and 1 to 5 more characters",
    ),
    "ICD10PCS": (re.compile(r"[0-9A-HJ-NP-Z]{7}"), "7 letters or digits (no I or O)"),
    "ICD9CM": (re.compile(r"[0-9EV][0-9]{2}[0-9]{0,2}"), "3 to 5 digits, or E/V and digits"),
    "SNOMED": (re.compile(r"[1-9][0-9]{5,17}"), "6 to 18 digits"),
    "LOINC": (re.compile(r"[0-9]{1,7}-[0-9]"), "digits, a hyphen and a check digit (e.g. 4548-4)"),
    "CPT": (re.compile(r"[0-9]{4}[0-9A-Z]"), "5 characters (e.g. 77067 or 3044F)"),
    "HCPCS": (re.compile(r"[A-V][0-9]{4}"), "a letter A-V and 4 digits (e.g. G0105)"),
    "CVX": (re.compile(r"[0-9]{1,3}"), "1 to 3 digits"),
    "NDC": (re.compile(r"[0-9]{11}"), "11 digits"),
    "RXNORM": (re.compile(r"[0-9]{1,10}"), "digits"),
}


def normalize_code(system: str, code: str) -> str:
    """``code`` written one way for its (short-named) system: ICD-10 without dots and upper case, NDC in 11
    digits when it can be normalized (else unchanged), everything else stripped of surrounding spaces."""
    code = code.strip()
    if system in ("ICD10CM", "ICD10PCS", "ICD9CM", "HCPCS", "CPT"):
        return code.replace(".", "").upper()
    if system == "NDC":
        try:
            return normalize_ndc(code)
        except ValueError:
            return code
    return code


def code_problem(system: str, code: str) -> str | None:
    """Why ``code`` (normalized) is not shaped like a ``system`` code, or None when it is (or the system
    has no known shape)."""
    shape = _CODE_SHAPES.get(system)
    if shape is None or shape[0].fullmatch(code):
        if system == "LOINC" and not loinc_check_ok(code):
            return f"LOINC code {code!r} has a wrong check digit"
        return None
    return f"{system} code {code!r} is not {shape[1]}"


def loinc_check_ok(code: str) -> bool:
    """Whether a ``NNNNN-C`` LOINC code's check digit is right (LOINC's mod 10 algorithm)."""
    match = re.fullmatch(r"([0-9]{1,7})-([0-9])", code)
    if match is None:
        return False
    digits = match.group(1)
    # From the right, every other digit (starting with the rightmost) is doubled; the check digit makes
    # the sum of all digits of the results a multiple of 10.
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            total += d // 10 + d % 10
        else:
            total += d
    return (10 - total % 10) % 10 == int(match.group(2))


_NDC_HYPHENATED = re.compile(r"([0-9]{4,5})-([0-9]{3,4})-([0-9]{1,2})")


def normalize_ndc(text: str) -> str:
    """An NDC as 11 digits (5-4-2 without hyphens); ValueError saying why when it cannot be.

    The 10-digit forms are padded where their short part is: 4-4-2 -> 0NNNN-NNNN-NN, 5-3-2 ->
    NNNNN-0NNN-NN, 5-4-1 -> NNNNN-NNNN-0N; 5-4-2 and 11 plain digits are taken as they are. Ten digits
    without hyphens are refused: which part to pad cannot be known.
    """
    value = text.strip()
    if value.isascii() and value.isdigit():
        if len(value) == 11:
            return value
        if len(value) == 10:
            raise ValueError(
                f"NDC {value!r} has 10 digits without hyphens: write it with its hyphens "
                f"(4-4-2, 5-3-2 or 5-4-1) or as 11 digits"
            )
        raise ValueError(f"NDC {value!r} has {len(value)} digits; an NDC has 10 (with hyphens) or 11")
    match = _NDC_HYPHENATED.fullmatch(value) if value.isascii() else None
    if match is None:
        raise ValueError(f"NDC {value!r} is not 11 digits nor a hyphenated 4-4-2, 5-3-2, 5-4-1 or 5-4-2 code")
    labeler, product, package = match.groups()
    shape = (len(labeler), len(product), len(package))
    if shape == (5, 4, 2):
        return labeler + product + package
    if shape == (4, 4, 2):
        return "0" + labeler + product + package
    if shape == (5, 3, 2):
        return labeler + "0" + product + package
    if shape == (5, 4, 1):
        return labeler + product + "0" + package
    raise ValueError(
        f"NDC {value!r} is split {'-'.join(map(str, shape))}; the forms are 4-4-2, 5-3-2, 5-4-1 and 5-4-2"
    )


# -- records ------------------------------------------------------------------------------------------------

Sex = Literal["F", "M", "O", "U"]
Kind = Literal["condition", "observation", "procedure", "immunization", "encounter", "report"]
KINDS: tuple[Kind, ...] = ("condition", "observation", "procedure", "immunization", "encounter", "report")


@dataclass(frozen=True, slots=True)
class Coding:
    """One code: ``system`` is a short name of :data:`SHORT_NAMES` when known, else the system as the
    source wrote it (a URI, a v2 name, or "" when none was given); ``code`` is normalized."""

    system: str
    code: str
    display: str = ""

    @property
    def known(self) -> bool:
        """Whether the system is one of :data:`SHORT_NAMES`."""
        return self.system in SHORT_NAMES


@dataclass(frozen=True, slots=True)
class Identifier:
    """A patient identifier: ``system`` as sent (a URI, an assigning authority), ``type`` a v2 table 0203
    code when given (MR, SS, MB for a member id, MC for a Medicare number...)."""

    system: str
    value: str
    type: str = ""


@dataclass(frozen=True, slots=True)
class Where:
    """Where a record or issue is in its file; the fields that do not apply to a format are None."""

    filename: str | None = None
    line: int | None = None
    """1-based: the NDJSON line, the CSV row's first line, or for HL7 the segment's ordinal in the file."""
    record_id: str | None = None
    """The FHIR resource id, the HL7 message control id (MSH-10), or the CSV record id."""
    message: int | None = None
    """HL7: the 1-based number of the message in the file."""
    segment: str | None = None
    """HL7: the segment id with its ordinal in the message, e.g. ``OBX#3``."""

    def __str__(self) -> str:
        parts: list[str] = []
        if self.filename:
            parts.append(self.filename)
        if self.line is not None:
            parts.append(f"{'segment' if self.message is not None else 'line'} {self.line}")
        if self.message is not None:
            parts.append(f"message {self.message}")
        if self.segment:
            parts.append(self.segment)
        if self.record_id:
            parts.append(f"id {self.record_id}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class ClinicalIssue:
    """A problem with one record. ``field`` names the element: a FHIR element path
    (``Observation.valueQuantity.value``), an HL7 field (``OBX-5``) or a CSV column (``date``)."""

    severity: Literal["error", "warning"]
    message: str
    where: Where
    field: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        place = str(self.where)
        if self.field:
            place = f"{place}, {self.field}" if place else self.field
        return f"{place}: {self.severity}: {self.message}" if place else f"{self.severity}: {self.message}"

    def as_dict(self) -> dict[str, str | int | None]:
        w = self.where
        return {
            "severity": self.severity,
            "message": self.message,
            "filename": w.filename,
            "line": w.line,
            "record_id": w.record_id,
            "message_number": w.message,
            "segment": w.segment,
            "field": self.field,
        }


class ClinicalFileError(Exception):
    """A file that cannot be read at all; nothing of it should be loaded."""

    def __init__(self, message: str, *, filename: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.filename = filename
        self.line = line

    def __str__(self) -> str:
        where = ", ".join(
            p for p in (self.filename or "", f"line {self.line}" if self.line is not None else "") if p
        )
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True, slots=True)
class Address:
    lines: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """A patient as one source knows them. ``patient_ref`` is the source's key for the patient (the FHIR
    Patient id, HL7 PID-3's first identifier, the CSV ``patient_id``); facts point at it."""

    patient_ref: str
    identifiers: tuple[Identifier, ...] = ()
    family: str = ""
    given: tuple[str, ...] = ()
    birth_date: dt.date | None = None
    sex: Sex = "U"
    addresses: tuple[Address, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    deceased: bool | None = None
    deceased_date: dt.date | None = None
    where: Where = field(default_factory=Where, compare=False)

    @property
    def first_name(self) -> str:
        return self.given[0] if self.given else ""


@dataclass(frozen=True, slots=True)
class Component:
    """A part of an observation (blood pressure's systolic 8480-6 and diastolic 8462-4)."""

    codes: tuple[Coding, ...]
    value: Decimal | None = None
    unit: str = ""
    value_text: str = ""
    comparator: str = ""


@dataclass(frozen=True, slots=True)
class ClinicalFact:
    """One coded clinical fact about the patient ``patient_ref``.

    ``kind`` is one of :data:`KINDS`. ``codes`` are all codings the source gave (the first known one is
    :attr:`primary`). ``date`` / ``end_date`` are the day (or period) it happened: the onset (or recorded
    date when no onset) of a condition, an observation's effective time, a procedure's performed time, an
    immunization's occurrence, an encounter's period (admit and discharge), a report's effective time;
    ``time`` / ``end_time`` keep the full timestamps when the source gave them. ``recorded`` is when it was
    recorded (a condition's recordedDate). ``value`` is exact (Decimal) with its ``unit``; ``comparator``
    is ``<``, ``<=``, ``>=`` or ``>`` for a value like ``<7.0``; ``value_text`` holds a textual result and
    ``value_code`` a coded one. ``status`` uses FHIR's words (``final``, ``active``, ``completed``...).
    ``category`` is the kind's sub-kind: an encounter's class (``AMB``, ``IMP``, ``EMER``; for HL7 the v2
    patient class ``I``/``O``/``E``...), an observation's category (``laboratory``, ``vital-signs``), a
    condition's category or v2 diagnosis type. ``verification`` is a condition's verification status.
    ``event`` is the HL7 ADT trigger (``A01`` admit, ``A03`` discharge, ``A04`` register, ``A08`` update).
    ``disposition`` is an encounter's discharge disposition code. ``location`` is where an encounter took
    place as the source names it (an HL7 ADT's PV1-3 facility, else its MSH-4 sending facility). ``performer`` is the attending or
    performing clinician's id (an NPI when given as one) and ``performer_name`` their name. ``encounter_ref``
    and ``references`` point at other records of the same source (a report's results).
    """

    kind: Kind
    record_id: str
    patient_ref: str
    codes: tuple[Coding, ...] = ()
    date: dt.date | None = None
    end_date: dt.date | None = None
    time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    recorded: dt.date | None = None
    status: str = ""
    category: str = ""
    verification: str = ""
    value: Decimal | None = None
    unit: str = ""
    comparator: str = ""
    value_text: str = ""
    value_code: Coding | None = None
    reference_range: str = ""
    abnormal_flags: tuple[str, ...] = ()
    components: tuple[Component, ...] = ()
    event: str = ""
    disposition: str = ""
    location: str = ""
    performer: str = ""
    performer_name: str = ""
    encounter_ref: str = ""
    references: tuple[str, ...] = ()
    where: Where = field(default_factory=Where, compare=False)

    @property
    def primary(self) -> Coding | None:
        """The first coding whose system is known, else the first coding, else None."""
        for coding in self.codes:
            if coding.known:
                return coding
        return self.codes[0] if self.codes else None

    def codes_in(self, system: str) -> tuple[str, ...]:
        """The codes of ``system`` (a short name)."""
        return tuple(c.code for c in self.codes if c.system == system)

    def flatten(self) -> Iterator[ClinicalFact]:
        """This fact, then one observation fact per component (same patient, dates and status; record id
        ``<id>#<n>``; the component's codes, value and unit) so a blood pressure panel also gives a
        systolic and a diastolic observation a measure can look up by code."""
        yield self
        for n, comp in enumerate(self.components, 1):
            yield replace(
                self,
                record_id=f"{self.record_id}#{n}",
                codes=comp.codes,
                value=comp.value,
                unit=comp.unit,
                comparator=comp.comparator,
                value_text=comp.value_text,
                value_code=None,
                components=(),
                references=(self.record_id,),
            )


Record = PatientRecord | ClinicalFact | ClinicalIssue
"""What the clinical readers yield."""


# -- shared reading helpers ---------------------------------------------------------------------------------

CHUNK_SIZE = 1 << 20
MAX_LINE = 16 << 20
"""A longer line (or HL7 segment) makes the file unreadable: without a limit a file without line breaks
would be read whole into memory."""


def iter_lines(
    stream: Readable, filename: str | None, *, chunk_size: int = CHUNK_SIZE, split_cr: bool = False
) -> Iterator[bytes]:
    """The lines of a binary stream without their line endings, in constant memory.

    Lines end with LF (CRLF's CR is dropped); with ``split_cr`` a lone CR ends a line too (HL7's segment
    terminator). A line longer than :data:`MAX_LINE` raises :class:`ClinicalFileError`.
    """
    buf = b""
    eof = False
    line_no = 0
    pattern = re.compile(rb"\r\n|\r|\n" if split_cr else rb"\r?\n")
    while True:
        pos = 0
        for match in pattern.finditer(buf):
            if split_cr and match.group() == b"\r" and match.end() == len(buf) and not eof:
                break  # a CR at the end of the chunk may be the first half of a CRLF
            line_no += 1
            yield buf[pos : match.start()]
            pos = match.end()
        buf = buf[pos:]
        if len(buf) > MAX_LINE:
            raise ClinicalFileError(
                f"line is longer than {MAX_LINE} bytes (is this the right format?)",
                filename=filename,
                line=line_no + 1,
            )
        if eof:
            if buf:
                yield buf
            return
        data = stream.read(chunk_size)
        if not isinstance(data, bytes):
            raise ClinicalFileError("the file must be opened in binary mode, not as text", filename=filename)
        eof = not data
        buf += data


def open_clinical(source: Source, filename: str | None) -> tuple[Readable, str | None, bool]:
    """A binary stream for ``source`` (a path, bytes or a binary file object), the name errors give
    (``filename`` when passed, else the path's name), and whether the caller must close it;
    ClinicalFileError when the path cannot be opened."""
    try:
        stream, name, close = open_source(source)
    except OSError as exc:
        shown = filename or str(source)
        raise ClinicalFileError(f"the file cannot be read: {exc.strerror or exc}", filename=shown) from None
    return stream, filename if filename is not None else name, close


def decode_text(raw: bytes, encoding: str = "utf-8") -> str:
    """``raw`` as text; UnicodeDecodeError when it is not ``encoding`` (a UTF-8 byte-order mark dropped)."""
    text = codecs.decode(raw, encoding)
    return text[1:] if text.startswith("\ufeff") else text


_DATE_FORMS = (
    (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "%Y-%m-%d"),
    (re.compile(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}"), "%m/%d/%Y"),
    (re.compile(r"[0-9]{8}"), "%Y%m%d"),
)


def parse_day(text: str) -> dt.date:
    """A CSV date: ``YYYY-MM-DD``, ``MM/DD/YYYY`` or ``YYYYMMDD``; ValueError saying why otherwise."""
    value = text.strip()
    for pattern, fmt in _DATE_FORMS:
        if pattern.fullmatch(value):
            try:
                return dt.datetime.strptime(value, fmt).date()
            except ValueError:
                raise ValueError(f"{value!r} is not a real date") from None
    raise ValueError(f"{value!r} is not a date written YYYY-MM-DD, MM/DD/YYYY or YYYYMMDD")


EARLIEST_BIRTH = dt.date(1850, 1, 1)
"""An earlier birth date is taken as a placeholder or typing error and dropped (with a warning)."""


def birth_date_problem(value: dt.date, today: dt.date | None = None) -> str | None:
    """Why a birth date is implausible (before :data:`EARLIEST_BIRTH` or in the future), or None."""
    if value < EARLIEST_BIRTH:
        return f"birth date {value.isoformat()} is before {EARLIEST_BIRTH.year}"
    if value > (today or dt.date.today()):
        return f"birth date {value.isoformat()} is in the future"
    return None


_DECIMAL = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)", re.ASCII)


def parse_decimal(text: str) -> Decimal:
    """An exact decimal from text (``7.2``, ``-0.5``, ``140``); ValueError for anything else (exponents,
    thousands separators, NaN)."""
    value = text.strip()
    if not _DECIMAL.fullmatch(value):
        raise ValueError(f"{value!r} is not a decimal number")
    return Decimal(value)


SEXES: dict[str, Sex] = {
    "f": "F",
    "female": "F",
    "m": "M",
    "male": "M",
    "o": "O",
    "other": "O",
    "u": "U",
    "unknown": "U",
    "a": "O",  # v2 table 0001: ambiguous
    "n": "U",  # v2 table 0001: not applicable
}
"""Sex and gender values the readers accept (case-insensitive), to F, M, O (other) or U (unknown)."""
