"""The clinical CSV layout, for practices without FHIR: labs, vitals, screenings, immunizations, diagnoses,
procedures and encounters, one fact a row, read into clinical records, streamed.

The file is UTF-8 (a byte-order mark is allowed), comma-separated (another one-character delimiter may be
passed), with a header row naming the columns of :data:`COLUMNS` in any order (matched without regard to
case or surrounding spaces). The required columns are :data:`REQUIRED`; an unknown or repeated column
refuses the file, so a misspelt column is never silently ignored.

Each data row gives one :class:`~openipa.edi.clinical.ClinicalFact` (``record_type`` says which kind, see
:data:`RECORD_TYPES`); the first row of a ``patient_id`` that carries demographics (names, birth date, sex,
member id, MBI, address, phone) also gives a :class:`~openipa.edi.clinical.PatientRecord` before its fact.
Later rows of the same patient with other demographics give a warning and do not change the patient (the
reader keeps one small entry per patient, not the rows).

Row checks: ``patient_id``, ``record_type``, ``code_system``, ``code`` and ``date`` filled;
``record_type`` one of :data:`RECORD_TYPES`; ``code_system`` a known short name or URI
(:func:`~openipa.edi.clinical.code_system`); ``code`` shaped like a code of that system
(:func:`~openipa.edi.clinical.code_problem`, ICD-10 dots dropped, NDC normalized to 11 digits); ``date``
and ``end_date`` real dates written ``YYYY-MM-DD``, ``MM/DD/YYYY`` or ``YYYYMMDD``, the end not before the
start and neither in the future; ``value`` an exact decimal, optionally after a comparator (``<7.0``), or
for a blood pressure panel (LOINC 85354-9 or 55284-4) ``systolic/diastolic`` (``128/82``, giving the
components 8480-6 and 8462-4); a ``lab`` or ``vital`` row needs a ``value`` or ``value_text``;
``npi`` a valid NPI.

Error policy: **each row is an independent record.** A row that fails a check is reported as a
:class:`~openipa.edi.clinical.ClinicalIssue` of severity ``error`` naming the file, the row's first line,
its record id and the column, and the next rows are still read. A bad demographic detail (birth date, sex,
MBI) is a ``warning``: dropped, the row kept. The whole file is refused with
:class:`~openipa.edi.clinical.ClinicalFileError` when it cannot be read as CSV: no header, a required
column missing, an unknown or repeated column, text that is not UTF-8, an unclosed quote, a line over
:data:`~openipa.edi.clinical.MAX_LINE` bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from openipa.core.identifiers import IdentifierError, validate_mbi, validate_npi
from openipa.edi.clinical import (
    CHUNK_SIZE,
    SEXES,
    Address,
    ClinicalFact,
    ClinicalFileError,
    ClinicalIssue,
    Coding,
    Component,
    Identifier,
    Kind,
    PatientRecord,
    Record,
    Sex,
    Where,
    birth_date_problem,
    code_problem,
    code_system,
    iter_lines,
    normalize_code,
    open_clinical,
    parse_day,
    parse_decimal,
)
from openipa.edi.x12.reader import Readable, Source

COLUMNS: dict[str, str] = {
    "record_id": "the source's id of the row (kept for re-imports); the line number when empty",
    "patient_id": "the source's patient key (an MRN); required",
    "member_id": "the plan's member id, when the practice knows it",
    "mbi": "Medicare Beneficiary Identifier",
    "first_name": "first name",
    "middle_name": "middle name",
    "last_name": "last name",
    "date_of_birth": "date of birth",
    "sex": "F, M, O or U (female, male, other, unknown also read)",
    "address_line1": "street address",
    "address_line2": "second address line",
    "city": "city",
    "state": "state",
    "zip": "ZIP code",
    "phone": "phone number",
    "record_type": "lab, vital, screening, immunization, diagnosis, procedure or encounter; required",
    "code_system": "ICD10CM, ICD10PCS, SNOMED, LOINC, CPT, HCPCS, CVX, NDC, RXNORM (or the system's URI); required",
    "code": "the code; required",
    "display": "the code's description",
    "value": "a number (7.2, <7.0), or systolic/diastolic for a blood pressure panel",
    "value_text": "a textual result (negative, positive...)",
    "unit": "the value's unit (%, mm[Hg], mg/dL)",
    "date": "the date of service, result or onset; required",
    "end_date": "the end of a period (a discharge, a resolved condition)",
    "status": "the status as the source says it (final, completed, active...)",
    "npi": "the rendering or ordering clinician's NPI",
    "encounter_id": "the source's id of the visit the row belongs to",
}
"""The columns of the layout, with what they hold."""

REQUIRED = ("patient_id", "record_type", "code_system", "code", "date")
"""The columns every file must have and every row must fill."""

RECORD_TYPES: dict[str, tuple[Kind, str]] = {
    "lab": ("observation", "laboratory"),
    "vital": ("observation", "vital-signs"),
    "screening": ("procedure", "screening"),
    "immunization": ("immunization", ""),
    "diagnosis": ("condition", ""),
    "procedure": ("procedure", ""),
    "encounter": ("encounter", ""),
}
"""``record_type`` values: the fact kind and category each gives. A ``screening`` coded in LOINC (a
screening result, e.g. a PHQ-9 score) is an observation; otherwise a procedure (a mammogram's CPT code)."""

BP_PANELS = frozenset({"85354-9", "55284-4"})
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"
_DEMOGRAPHICS = (
    "member_id",
    "mbi",
    "first_name",
    "middle_name",
    "last_name",
    "date_of_birth",
    "sex",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip",
    "phone",
)


class RowError(Exception):
    """A row check failed: ``column`` names the column at fault ("" for the whole row)."""

    def __init__(self, message: str, column: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(slots=True)
class CsvRow:
    """One data row: its cells by column name, its first line and its record id."""

    cells: Mapping[str, str]
    line: int
    filename: str | None

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()

    def required(self, column: str) -> str:
        value = self.get(column)
        if not value:
            raise RowError(f"{column} is empty", column)
        return value

    def where(self, record_id: str | None = None) -> Where:
        return Where(self.filename, self.line, record_id)

    def date(self, column: str) -> dt.date | None:
        value = self.get(column)
        if not value:
            return None
        try:
            day = parse_day(value)
        except ValueError as exc:
            raise RowError(str(exc), column) from None
        if day > dt.date.today():
            raise RowError(f"{day.isoformat()} is in the future", column)
        return day


def read_rows(
    stream: Readable,
    filename: str | None,
    columns: Mapping[str, str],
    required: tuple[str, ...],
    *,
    delimiter: str = ",",
    aliases: Mapping[str, str] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[CsvRow]:
    """The data rows of a CSV file whose header is checked against ``columns`` (``aliases`` maps other
    header names to them), streamed; blank rows skipped. ClinicalFileError for a file that cannot be read
    (see the module's policy). A row with another number of cells than the header is yielded with the
    cell ``"\\x00width"`` set, for the caller to report."""
    if len(delimiter) != 1 or delimiter in '\r\n"':
        raise ClinicalFileError(f"the delimiter must be one character, not {delimiter!r}", filename=filename)
    state = {"line": 0}

    def lines() -> Iterator[str]:
        for raw in iter_lines(stream, filename, chunk_size=chunk_size):
            state["line"] += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ClinicalFileError(
                    f"byte {exc.start + 1} of the line is not UTF-8 text (save the file as UTF-8)",
                    filename=filename,
                    line=state["line"],
                ) from None
            yield (text[1:] if state["line"] == 1 and text.startswith("\ufeff") else text) + "\n"

    reader = csv.reader(lines(), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    names: list[str] = []
    known = {c.casefold(): c for c in columns} | {a.casefold(): c for a, c in (aliases or {}).items()}
    while True:
        start = state["line"] + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ClinicalFileError(f"not readable as CSV: {exc}", filename=filename, line=start) from None
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            names = _check_header(header, known, required, filename, start)
            continue
        row = dict(zip(names, cells, strict=False))
        if len(cells) != len(names):
            row["\x00width"] = f"the row has {len(cells)} cells, the header has {len(names)} columns"
        yield CsvRow(row, start, filename)
    if header is None:
        raise ClinicalFileError("the file is empty (no header row)", filename=filename, line=1)


def _check_header(
    header: list[str], known: Mapping[str, str], required: tuple[str, ...], filename: str | None, line: int
) -> list[str]:
    names: list[str] = []
    unknown = [h for h in header if h.casefold() not in known]
    if unknown:
        raise ClinicalFileError(
            f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"(the columns are: {', '.join(dict.fromkeys(known.values()))})",
            filename=filename,
            line=line,
        )
    for h in header:
        name = known[h.casefold()]
        if name in names:
            raise ClinicalFileError(
                f"column {name!r} appears twice in the header", filename=filename, line=line
            )
        names.append(name)
    missing = [c for c in required if c not in names]
    if missing:
        raise ClinicalFileError(
            f"the header has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''} "
            f"(required: {', '.join(required)})",
            filename=filename,
            line=line,
        )
    return names


def read_clinical_csv(
    source: Source, *, filename: str | None = None, delimiter: str = ",", chunk_size: int = CHUNK_SIZE
) -> Iterator[Record]:
    """Records and issues of a clinical CSV file, a row at a time (see the module's error policy)."""
    stream, name, close = open_clinical(source, filename)
    patients: dict[str, tuple[int, int]] = {}
    try:
        for row in read_rows(stream, name, COLUMNS, REQUIRED, delimiter=delimiter, chunk_size=chunk_size):
            record_id = row.get("record_id") or f"line{row.line}"
            try:
                if "\x00width" in row.cells:
                    raise RowError(row.cells["\x00width"])
                warnings: list[ClinicalIssue] = []
                fact = _fact(row, record_id)
                patient = _patient(row, fact.patient_ref, record_id, warnings)
            except RowError as exc:
                yield ClinicalIssue("error", exc.message, row.where(record_id), exc.column)
                continue
            if patient is not None:
                seen = patients.get(patient.patient_ref)
                if seen is None:
                    patients[patient.patient_ref] = (row.line, hash(patient))
                    yield patient
                elif seen[1] != hash(patient):
                    warnings.append(
                        ClinicalIssue(
                            "warning",
                            f"patient {patient.patient_ref!r} has other demographics than on line {seen[0]}; "
                            f"those of line {seen[0]} are kept",
                            row.where(record_id),
                            "patient_id",
                        )
                    )
            yield fact
            yield from warnings
    except OSError as exc:
        raise ClinicalFileError(f"the file cannot be read: {exc}", filename=name) from None
    finally:
        if close:
            stream.close()  # type: ignore[attr-defined]


def _patient(
    row: CsvRow, patient_ref: str, record_id: str, warnings: list[ClinicalIssue]
) -> PatientRecord | None:
    if not any(row.get(c) for c in _DEMOGRAPHICS):
        return None

    def warn(message: str, column: str) -> None:
        warnings.append(ClinicalIssue("warning", message, row.where(record_id), column))

    identifiers: list[Identifier] = []
    if row.get("member_id"):
        identifiers.append(Identifier("member_id", row.get("member_id"), "MB"))
    if row.get("mbi"):
        try:
            identifiers.append(Identifier("mbi", validate_mbi(row.get("mbi")), "MC"))
        except IdentifierError as exc:
            warn(f"{exc}; it is dropped", "mbi")
    birth: dt.date | None = None
    if row.get("date_of_birth"):
        try:
            birth = parse_day(row.get("date_of_birth"))
            if problem := birth_date_problem(birth):
                raise ValueError(problem)
        except ValueError as exc:
            warn(f"{exc}; the birth date is dropped", "date_of_birth")
            birth = None
    sex_text = row.get("sex")
    sex: Sex = SEXES.get(sex_text.casefold(), "U") if sex_text else "U"
    if sex_text and sex_text.casefold() not in SEXES:
        warn(f"sex {sex_text!r} is not F, M, O or U; read as unknown", "sex")
    lines = tuple(x for x in (row.get("address_line1"), row.get("address_line2")) if x)
    address = Address(lines, row.get("city"), row.get("state"), row.get("zip"))
    return PatientRecord(
        patient_ref=patient_ref,
        identifiers=tuple(identifiers),
        family=row.get("last_name"),
        given=tuple(x for x in (row.get("first_name"), row.get("middle_name")) if x),
        birth_date=birth,
        sex=sex,
        addresses=(address,) if address != Address() else (),
        phones=(row.get("phone"),) if row.get("phone") else (),
        where=row.where(record_id),
    )


def _fact(row: CsvRow, record_id: str) -> ClinicalFact:
    patient_ref = row.required("patient_id")
    record_type = row.required("record_type").casefold()
    if record_type not in RECORD_TYPES:
        raise RowError(f"{record_type!r} is not one of {', '.join(RECORD_TYPES)}", "record_type")
    kind, category = RECORD_TYPES[record_type]
    raw_system = row.required("code_system")
    system = code_system(raw_system)
    if system is None:
        raise RowError(f"{raw_system!r} is not a known code system", "code_system")
    code = normalize_code(system, row.required("code"))
    if problem := code_problem(system, code):
        raise RowError(problem, "code")
    if record_type == "screening" and system == "LOINC":
        kind = "observation"
    start = row.date("date")
    if start is None:
        raise RowError("date is empty", "date")
    end = row.date("end_date")
    if end is not None and end < start:
        raise RowError(f"ends {end.isoformat()} before it starts {start.isoformat()}", "end_date")
    npi = row.get("npi")
    if npi:
        try:
            npi = validate_npi(npi)
        except IdentifierError as exc:
            raise RowError(str(exc), "npi") from None
    value, comparator, components = _value(row, system, code)
    value_text = row.get("value_text")
    if (
        kind == "observation"
        and value is None
        and not components
        and not value_text
        and record_type != "screening"
    ):
        raise RowError(f"a {record_type} row needs a value or value_text", "value")
    return ClinicalFact(
        kind=kind,
        record_id=record_id,
        patient_ref=patient_ref,
        codes=(Coding(system, code, row.get("display")),),
        date=start,
        end_date=end,
        status=row.get("status"),
        category=category,
        value=value,
        unit=row.get("unit"),
        comparator=comparator,
        value_text=value_text,
        components=components,
        performer=npi,
        encounter_ref=row.get("encounter_id"),
        where=row.where(record_id),
    )


def _value(row: CsvRow, system: str, code: str) -> tuple[Decimal | None, str, tuple[Component, ...]]:
    text = row.get("value")
    if not text:
        return None, "", ()
    if system == "LOINC" and code in BP_PANELS:
        parts = text.split("/")
        if len(parts) != 2:
            raise RowError(
                f"blood pressure {text!r} is not written systolic/diastolic (e.g. 128/82)", "value"
            )
        try:
            systolic, diastolic = (parse_decimal(p) for p in parts)
        except ValueError as exc:
            raise RowError(f"blood pressure: {exc}", "value") from None
        unit = row.get("unit") or "mm[Hg]"
        return (
            None,
            "",
            (
                Component((Coding("LOINC", SYSTOLIC, "Systolic blood pressure"),), systolic, unit),
                Component((Coding("LOINC", DIASTOLIC, "Diastolic blood pressure"),), diastolic, unit),
            ),
        )
    comparator = ""
    for prefix in ("<=", ">=", "<", ">"):
        if text.startswith(prefix):
            comparator, text = prefix, text[len(prefix) :]
            break
    try:
        return parse_decimal(text), comparator, ()
    except ValueError as exc:
        raise RowError(f"{exc} (put a textual result in value_text)", "value") from None
