"""Flat CSV rosters read into the same records as an 834, streamed.

A payer that sends its monthly roster as its own CSV file instead of an X12 834 gets a :class:`CsvProfile`
(stored as JSON, edited on a web page) saying which of its columns holds which roster field.
:func:`read_csv_roster` then yields exactly what :func:`openipa.edi.t834.read_834` yields, one
:class:`~openipa.edi.t834.Enrollment834` header and one :class:`~openipa.edi.t834.MemberRecord` per data
row, so the roster import does not care which format a file came in.

Errors raise :class:`X12Error` with ``segment_number`` = the 1-based line of the row, ``segment_id`` = the
column header ("" when the whole line is at fault), ``element`` = the 1-based column position and
``byte_offset`` = the byte offset of the line's start.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from openipa.core.identifiers import IdentifierError, validate_mbi, validate_npi
from openipa.edi.t834 import (
    MAINTENANCE_TYPES,
    RELATIONSHIPS,
    SEXES,
    Coverage,
    Enrollment834,
    MemberRecord,
    Party,
    PcpChoice,
    ReportingCategory,
)
from openipa.edi.x12.errors import X12Error
from openipa.edi.x12.reader import CHUNK_SIZE, Readable, Source, open_source

TARGETS: dict[str, str] = {
    "member_id": "member id (NM1*IL NM109); required",
    "subscriber_id": "subscriber id (REF*0F); the member id when not mapped",
    "client_id": "client id (REF*23), e.g. a Medicaid CIN",
    "mbi": "Medicare Beneficiary Identifier, checked and kept as the client id (REF*23)",
    "last_name": "last name; required",
    "first_name": "first name; required",
    "middle_name": "middle name",
    "birth_date": "date of birth; required",
    "sex": "sex (F, M, U, or a value of the profile's sex values)",
    "address_line1": "address line 1",
    "address_line2": "address line 2",
    "city": "city",
    "state": "state",
    "zip": "ZIP code",
    "plan_code": "product or plan code (HD04)",
    "coverage_begin": "coverage begin date (DTP*348); required when there is a plan code (a termination "
    "may give only the end date)",
    "coverage_end": "coverage end date (DTP*349)",
    "pcp_npi": "PCP NPI (NM1*P3 NM109)",
    "pcp_name": "PCP name",
    "pcp_begin": "PCP effective date",
    "maintenance": "maintenance type (INS03, or a value of the profile's maintenance values)",
    "reason": "maintenance reason (INS04), kept as sent",
    "relationship": "relationship to the subscriber (INS02, or a value of the profile's relationship values)",
    "rate_cell": "rate cell (reporting category RATE CELL)",
    "aid_code": "aid code (reporting category AID CODE)",
}
"""The roster fields a CSV column can be mapped to, with what they mean."""

REQUIRED_TARGETS = ("member_id", "last_name", "first_name", "birth_date")
"""Fields every profile must map (and every row must fill)."""

MAX_LINE = 1 << 20
"""A longer line is an error: without a limit a file with no line breaks would be read whole."""

_PROFILE_KEYS = (
    "columns",
    "date_format",
    "delimiter",
    "encoding",
    "sex_values",
    "maintenance_values",
    "relationship_values",
    "full_file",
    "insurance_line",
)
# Dates a date format must write and read back unchanged: it has a year of four digits, a month and a day.
_PROBE_DATES = (dt.date(2024, 1, 31), dt.date(1950, 12, 5), dt.date(2007, 6, 17))
_EXAMPLE_DATE = dt.date(2024, 1, 31)


def _show(text: str, limit: int = 60) -> str:
    shown = repr(text[:limit])
    return shown + "..." if len(text) > limit else shown


@dataclass(frozen=True)
class CsvProfile:
    """How one payer's flat roster file maps onto roster fields.

    ``columns`` maps a roster field (a key of :data:`TARGETS`) to the file's column header; headers match
    without regard to case or surrounding spaces. The value mappings (``sex_values``,
    ``maintenance_values``, ``relationship_values``) translate the payer's own values to the X12 codes;
    they match without regard to case, and a value that already is a code (F/M/U, an INS03 or INS02
    code) is taken as it is. With ``full_file`` a row without a maintenance value is a ``030`` audit
    record and the header action code is ``4`` (verify, full file); without it the default maintenance is
    ``001`` (change) and the action code ``2`` (change/update).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str = "%Y-%m-%d"
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    sex_values: Mapping[str, str] = field(default_factory=dict)
    maintenance_values: Mapping[str, str] = field(default_factory=dict)
    relationship_values: Mapping[str, str] = field(default_factory=dict)
    full_file: bool = True
    insurance_line: str = "HLT"
    """HD03 of the coverage each row's plan code makes."""

    def __post_init__(self) -> None:
        # Own copies, so a caller changing its dict afterwards does not change a "frozen" profile.
        for name in ("columns", "sex_values", "maintenance_values", "relationship_values"):
            object.__setattr__(self, name, dict(getattr(self, name)))

    @property
    def default_maintenance(self) -> str:
        """INS03 of a row with no maintenance value: 030 (audit) for a full file, else 001 (change)."""
        return "030" if self.full_file else "001"

    @property
    def action_code(self) -> str:
        """BGN08 of the header: 4 (verify, full file) or 2 (change/update)."""
        return "4" if self.full_file else "2"

    # -- JSON ------------------------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """The profile as JSON-ready data; :meth:`from_dict` reads it back."""
        return {
            "columns": dict(self.columns),
            "date_format": self.date_format,
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "sex_values": dict(self.sex_values),
            "maintenance_values": dict(self.maintenance_values),
            "relationship_values": dict(self.relationship_values),
            "full_file": self.full_file,
            "insurance_line": self.insurance_line,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CsvProfile:
        """A profile from :meth:`as_dict` data; missing keys take their defaults (``{}`` is allowed).

        Raise ``ValueError`` with a plain message when the data has the wrong shape (not an object, an
        unknown key, a mapping that is not text -> text, a flag that is not true/false). Whether the
        mapping makes sense is :meth:`validate`'s business.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a CSV profile must be an object, not {type(data).__name__}")
        unknown = [str(k) for k in data if k not in _PROFILE_KEYS]
        if unknown:
            raise ValueError(
                f"unknown CSV profile setting {', '.join(map(repr, sorted(unknown)))} "
                f"(known: {', '.join(_PROFILE_KEYS)})"
            )
        kwargs: dict[str, Any] = {}
        for key in ("columns", "sex_values", "maintenance_values", "relationship_values"):
            if key in data:
                value = data[key]
                if not isinstance(value, Mapping) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in value.items()
                ):
                    raise ValueError(f"CSV profile {key} must map text to text")
                kwargs[key] = dict(value)
        for key in ("date_format", "delimiter", "encoding", "insurance_line"):
            if key in data:
                value = data[key]
                if not isinstance(value, str):
                    raise ValueError(f"CSV profile {key} must be text, not {type(value).__name__}")
                kwargs[key] = value
        if "full_file" in data:
            if not isinstance(data["full_file"], bool):
                raise ValueError("CSV profile full_file must be true or false")
            kwargs["full_file"] = data["full_file"]
        return cls(**kwargs)

    # -- checks ----------------------------------------------------------------------------------------

    def validate(self) -> list[str]:
        """Plain sentences naming what is wrong with the profile; an empty list when it can be used."""
        problems: list[str] = []
        columns = self.columns
        for target in columns:
            if target not in TARGETS:
                problems.append(f"{target!r} is not a roster field (known: {', '.join(TARGETS)})")
        for target in REQUIRED_TARGETS:
            if not columns.get(target, "").strip():
                problems.append(f"{target} must be mapped to a column")
        if columns.get("plan_code", "").strip() and not columns.get("coverage_begin", "").strip():
            problems.append("plan_code is mapped, so coverage_begin must be mapped too")
        if columns.get("client_id", "").strip() and columns.get("mbi", "").strip():
            problems.append("map either client_id or mbi, not both: both are kept as the client id")
        seen: dict[str, str] = {}
        for target, header in columns.items():
            key = header.strip().casefold()
            if not key:
                if target not in REQUIRED_TARGETS:
                    problems.append(f"{target} is mapped to an empty column name")
                continue
            if key in seen:
                problems.append(f"column {header.strip()!r} is mapped to both {seen[key]} and {target}")
            else:
                seen[key] = target
        problems += _date_format_problems(self.date_format)
        if len(self.delimiter) != 1 or self.delimiter in '\r\n"':
            problems.append(
                f"the delimiter must be one character other than a quote or a line break, "
                f"not {self.delimiter!r}"
            )
        problems += _encoding_problems(self.encoding)
        problems += _value_map_problems("sex", self.sex_values, SEXES)
        problems += _value_map_problems("maintenance", self.maintenance_values, MAINTENANCE_TYPES)
        problems += _value_map_problems("relationship", self.relationship_values, RELATIONSHIPS)
        if not self.insurance_line.strip():
            problems.append("the insurance line (HD03, e.g. HLT) must not be empty")
        return problems


def _date_format_problems(fmt: str) -> list[str]:
    if not fmt.strip():
        return ["the date format is empty"]
    try:
        for probe in _PROBE_DATES:
            if dt.datetime.strptime(probe.strftime(fmt), fmt).date() != probe:
                return [
                    f"the date format {fmt!r} does not read back what it writes (it needs a four-digit "
                    f"year, a month and a day, e.g. %Y-%m-%d or %m/%d/%Y)"
                ]
    except ValueError as exc:
        return [f"the date format {fmt!r} is not a valid strptime format: {exc}"]
    return []


def _encoding_problems(encoding: str) -> list[str]:
    try:
        codecs.lookup(encoding)
        sample = b'A,z;\t|\r\n"'
        ascii_compatible = sample.decode(encoding) == sample.decode("ascii")
    except LookupError:
        return [f"{encoding!r} is not a known text encoding"]
    except (UnicodeError, ValueError, TypeError):
        ascii_compatible = False
    if not ascii_compatible:
        return [
            f"the encoding {encoding!r} is not supported: it must write plain ASCII as ASCII "
            f"(UTF-8, Latin-1, Windows-1252...)"
        ]
    return []


def _value_map_problems(
    name: str, values: Mapping[str, str], codes: Mapping[str, str] | frozenset[str]
) -> list[str]:
    problems: list[str] = []
    seen: dict[str, tuple[str, str]] = {}
    for value, code in values.items():
        if code not in codes:
            problems.append(
                f"{name} value {value!r} maps to {code!r}, which is not one of {', '.join(sorted(codes))}"
            )
        key = value.strip().casefold()
        if key in seen and seen[key][1] != code:
            problems.append(
                f"{name} values {seen[key][0]!r} and {value!r} are the same value mapped to different codes"
            )
        seen.setdefault(key, (value, code))
    return problems


# -- reading --------------------------------------------------------------------------------------------


class TextLines:
    """Decoded lines of a binary stream with their line number and byte offset, in constant memory.

    Lines are split on LF (the profile's encoding is ASCII-compatible, so a LF byte is always a line
    break) and keep their line ending, so the csv module sees quoted line breaks as they are.
    """

    def __init__(self, stream: Readable, encoding: str, filename: str | None, chunk_size: int) -> None:
        self.stream = stream
        self.encoding = encoding
        self.decoder = codecs.getincrementaldecoder(encoding)("strict")
        self.filename = filename
        self.chunk_size = chunk_size
        self.number = 0
        """The line last handed out (1-based); 0 before the first."""
        self.offset = 0
        """The byte offset of the line last handed out."""
        self.next_offset = 0

    def error(self, message: str, number: int | None = None, offset: int | None = None) -> X12Error:
        return X12Error(
            message,
            segment_number=self.number if number is None else number,
            byte_offset=self.offset if offset is None else offset,
            segment_id="",
            filename=self.filename,
        )

    def _raw(self) -> Iterator[bytes]:
        buf = b""
        pos = 0
        eof = False
        while True:
            end = buf.find(b"\n", pos)
            if 0 <= end < pos + MAX_LINE:
                yield buf[pos : end + 1]
                pos = end + 1
                continue
            if end >= 0 or len(buf) - pos > MAX_LINE:
                self.number += 1
                self.offset = self.next_offset
                raise self.error(f"line is longer than {MAX_LINE} bytes (is this a CSV file?)")
            if eof:
                if pos < len(buf):
                    yield buf[pos:]
                return
            data = self.stream.read(self.chunk_size)
            if not isinstance(data, bytes):
                raise X12Error("the file must be opened in binary mode, not as text", filename=self.filename)
            eof = not data
            buf = buf[pos:] + data
            pos = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self._raw():
            self.number += 1
            self.offset = self.next_offset
            self.next_offset += len(raw)
            try:
                yield self.decoder.decode(raw, True)
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.end]
                raise self.error(
                    f"bytes {bad.hex(' ')} at position {exc.start + 1} of the line are not valid "
                    f"{self.encoding} text (is the profile's encoding right?)"
                ) from None
            except (UnicodeError, ValueError) as exc:  # codecs such as idna raise their own errors
                raise self.error(f"the line is not valid {self.encoding} text: {exc}") from None


@dataclass(slots=True)
class _Row:
    """One data row being read: its cells, where it starts, and the header it belongs to."""

    cells: list[str]
    line: int
    offset: int
    headers: list[str]
    positions: Mapping[str, int]
    filename: str | None

    def error(self, message: str, target: str | None = None) -> X12Error:
        if target is None:
            return X12Error(
                message,
                segment_number=self.line,
                byte_offset=self.offset,
                segment_id="",
                filename=self.filename,
            )
        position = self.positions[target]
        return X12Error(
            message,
            segment_number=self.line,
            byte_offset=self.offset,
            segment_id=self.headers[position],
            element=position + 1,
            filename=self.filename,
        )

    def get(self, target: str) -> str:
        position = self.positions.get(target)
        return "" if position is None else self.cells[position].strip()

    def required(self, target: str, why: str = "") -> str:
        value = self.get(target)
        if not value:
            header = self.headers[self.positions[target]]
            raise self.error(f"{header!r} ({target}) is empty{why}", target)
        return value

    def date(self, target: str, fmt: str) -> dt.date | None:
        value = self.get(target)
        if not value:
            return None
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
        header = self.headers[self.positions[target]]
        raise self.error(
            f"{header!r} ({target}) value {_show(value)} is not a date written like "
            f"{_EXAMPLE_DATE.strftime(fmt)} ({fmt})",
            target,
        )

    def code(
        self, target: str, values: Mapping[str, str], codes: Mapping[str, str] | frozenset[str], default: str
    ) -> str:
        value = self.get(target)
        if not value:
            return default
        code = values.get(value.casefold())
        if code is not None:
            return code
        if value.upper() in codes:
            return value.upper()
        header = self.headers[self.positions[target]]
        known = ", ".join(sorted(codes))
        mapped = f" nor a value of the profile's {target} values" if values else ""
        raise self.error(f"{header!r} ({target}) value {_show(value)} is not one of {known}{mapped}", target)


def read_csv_roster(
    source: Source,
    profile: CsvProfile,
    *,
    filename: str | None = None,
    payer_name: str = "",
    file_date: dt.date | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[Enrollment834 | MemberRecord]:
    """An :class:`Enrollment834` header, then one :class:`MemberRecord` per data row of a CSV roster.

    ``source`` is a path, bytes or a binary file object; it is read in chunks, one row at a time, so the
    size of the file does not matter. The header is yielded once the header row has been checked.
    ``file_date`` is the file's date and effective date (the caller knows it; a CSV does not say).
    Blank lines (and lines of empty cells) are skipped. Every problem raises :class:`X12Error`; a profile
    that :meth:`CsvProfile.validate` rejects raises one too (with no line).
    """
    stream, name, close = open_source(source)
    name = filename if filename is not None else name
    try:
        yield from _read(stream, profile, name, payer_name, file_date, chunk_size)
    finally:
        if close:
            stream.close()  # type: ignore[attr-defined]


def _read(
    stream: Readable,
    profile: CsvProfile,
    filename: str | None,
    payer_name: str,
    file_date: dt.date | None,
    chunk_size: int,
) -> Iterator[Enrollment834 | MemberRecord]:
    problems = profile.validate()
    if problems:
        raise X12Error("the CSV profile cannot be used: " + "; ".join(problems), filename=filename)
    lines = TextLines(stream, profile.encoding, filename, chunk_size)
    rows = csv.reader(iter(lines), delimiter=profile.delimiter, quotechar='"', strict=True)

    def next_row() -> tuple[list[str], int, int] | None:
        """The next non-blank row, its first line and that line's byte offset; None at the end."""
        while True:
            line, offset = lines.number + 1, lines.next_offset
            try:
                cells = next(rows)
            except StopIteration:
                return None
            except csv.Error as exc:  # reported where the row starts: an unclosed quote is found at the end
                raise lines.error(f"not a readable CSV line: {exc}", line, offset) from None
            if any(cell.strip() for cell in cells):
                return cells, line, offset

    first = next_row()
    if first is None:
        raise X12Error(
            "the file is empty (no header row)",
            segment_number=1,
            byte_offset=0,
            segment_id="",
            filename=filename,
        )
    headers, header_line, header_offset = first
    # a byte-order mark left by a "utf-8" (rather than "utf-8-sig") profile is not part of the first name
    headers = [h.strip().lstrip("\ufeff").strip() for h in headers]
    positions = _header_positions(headers, profile, header_line, header_offset, filename)

    yield Enrollment834(
        control_number="",
        version="CSV",
        purpose_code="00",
        reference=filename or "",
        created=file_date,
        action_code=profile.action_code,
        file_effective_date=file_date,
        sponsor=None,
        payer=Party(payer_name, "", ""),
        segment_number=header_line,
    )

    sex_values = {k.strip().casefold(): v for k, v in profile.sex_values.items()}
    maintenance_values = {k.strip().casefold(): v for k, v in profile.maintenance_values.items()}
    relationship_values = {k.strip().casefold(): v for k, v in profile.relationship_values.items()}
    width = len(headers)
    while True:
        found = next_row()
        if found is None:
            return
        cells, line, offset = found
        row = _Row(cells, line, offset, headers, positions, filename)
        if len(cells) != width:
            raise row.error(f"the line has {len(cells)} columns, the header has {width}")
        yield _member(row, profile, sex_values, maintenance_values, relationship_values)


def _header_positions(
    headers: list[str], profile: CsvProfile, line: int, offset: int, filename: str | None
) -> dict[str, int]:
    by_name: dict[str, list[int]] = {}
    for position, header in enumerate(headers):
        by_name.setdefault(header.casefold(), []).append(position)
    positions: dict[str, int] = {}
    missing: list[str] = []
    for target, header in profile.columns.items():
        found = by_name.get(header.strip().casefold())
        if not found:
            missing.append(f"{header.strip()!r} ({target})")
            continue
        if len(found) > 1:
            raise X12Error(
                f"column {header.strip()!r} ({target}) appears more than once in the header "
                f"(columns {', '.join(str(p + 1) for p in found)})",
                segment_number=line,
                byte_offset=offset,
                segment_id=headers[found[1]],
                element=found[1] + 1,
                filename=filename,
            )
        positions[target] = found[0]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise X12Error(
            f"the header row has no column{plural} {', '.join(missing)}",
            segment_number=line,
            byte_offset=offset,
            segment_id="",
            filename=filename,
        )
    return positions


def _member(
    row: _Row,
    profile: CsvProfile,
    sex_values: Mapping[str, str],
    maintenance_values: Mapping[str, str],
    relationship_values: Mapping[str, str],
) -> MemberRecord:
    fmt = profile.date_format
    member_id = row.required("member_id")
    last_name = row.required("last_name")
    first_name = row.required("first_name")
    row.required("birth_date")
    birth_date = row.date("birth_date", fmt)
    sex = row.code("sex", sex_values, SEXES, "U")
    maintenance = row.code("maintenance", maintenance_values, MAINTENANCE_TYPES, profile.default_maintenance)
    relationship = row.code("relationship", relationship_values, RELATIONSHIPS, "18")

    client_id = row.get("client_id")
    mbi = row.get("mbi")
    if mbi:
        try:
            client_id = validate_mbi(mbi)
        except IdentifierError as exc:
            raise row.error(str(exc), "mbi") from None

    coverage: tuple[Coverage, ...] = ()
    plan_code = row.get("plan_code")
    begin = row.date("coverage_begin", fmt)
    end = row.date("coverage_end", fmt)
    if plan_code and begin is None and not (maintenance == "024" and end is not None):
        # a termination row may give only the end date
        row.required("coverage_begin", f" but the row has a plan code ({plan_code})")
    if begin is not None and end is not None and end < begin:
        raise row.error(
            f"coverage ends {end.isoformat()}, before it begins {begin.isoformat()}", "coverage_end"
        )
    line_code = profile.insurance_line.strip()
    if plan_code or begin is not None or end is not None:
        coverage = (Coverage(line_code, plan_code, begin, end, maintenance, "", row.line),)

    pcp: tuple[PcpChoice, ...] = ()
    npi = row.get("pcp_npi")
    pcp_name = row.get("pcp_name")
    if npi:
        try:
            npi = validate_npi(npi)
        except IdentifierError as exc:
            raise row.error(str(exc), "pcp_npi") from None
    pcp_begin = row.date("pcp_begin", fmt)
    if npi or pcp_name:
        pcp = (PcpChoice(npi, pcp_name, pcp_begin, line_code, "XX" if npi else "", npi, row.line),)

    categories = tuple(
        ReportingCategory(name, "ZZ", value)
        for name, value in (("RATE CELL", row.get("rate_cell")), ("AID CODE", row.get("aid_code")))
        if value
    )
    return MemberRecord(
        maintenance_type_code=maintenance,
        reason_code=row.get("reason"),
        subscriber=relationship == "18",
        relationship_code=relationship,
        subscriber_id=row.get("subscriber_id") or member_id,
        member_id=member_id,
        client_id=client_id,
        last_name=last_name,
        first_name=first_name,
        middle_name=row.get("middle_name"),
        address_lines=tuple(a for a in (row.get("address_line1"), row.get("address_line2")) if a),
        city=row.get("city"),
        state=row.get("state"),
        zip=row.get("zip"),
        birth_date=birth_date,
        sex=sex,
        coverage=coverage,
        pcp=pcp,
        reporting_categories=categories,
        segment_number=row.line,
    )
