"""Readers for CMS's Medicare Physician Fee Schedule files, in CMS's own column layouts.

Two files come in the quarterly "RVUyyA..D" zip that CMS publishes for the physician fee schedule:

- the PPRRVU file (e.g. ``PPRRVU26_JAN.csv``): one row per HCPCS code and modifier with the relative value
  units and the payment policy indicators; read by `read_rvu_file`;
- the GPCI file (e.g. ``GPCI2026.csv``): one row per Medicare payment locality with the three geographic
  practice cost indices; read by `read_gpci_file`.

Both files open with a few title lines (the file name, the year, a copyright notice) before the header row.
The readers find the header row by its column names, not by a line number, and accept the year in a title
("2026 PE GPCI", "2027 PE GPCI"). A header split over two lines (as in some CMS CSV exports, where "WORK" and
"RVU" sit in two rows) is joined column by column.

Exact numbers, never floats:

- RVUs are integers in hundredths (``work_rvu_centi``: 1.30 RVU -> 130), the precision CMS publishes;
- GPCIs are integers in thousandths (``pw_gpci_milli``: 1.045 -> 1045);
- the conversion factor is an integer in ten-thousandths of a dollar (``conversion_factor_e4``:
  $33.4009 -> 334009).

A value with more decimals than its scale, or that is not a number, is refused with a `ScheduleFileError`
naming the file, the line and the column. CPT descriptions are AMA-licensed and are not kept: the
DESCRIPTION column is dropped on read.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from openipa.core.engine.frames import Schema

RVU_SCHEMA: Schema = {
    "code": pl.String,
    "modifier": pl.String,
    "status": pl.String,
    "work_rvu_centi": pl.Int64,
    "pe_nonfacility_rvu_centi": pl.Int64,
    "pe_facility_rvu_centi": pl.Int64,
    "mp_rvu_centi": pl.Int64,
    "pctc": pl.Int8,
    "global_days": pl.String,
    "mult_proc": pl.Int8,
    "bilat_surg": pl.Int8,
    "conversion_factor_e4": pl.Int64,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
"""One row per code and modifier ("" for the global service, "26", "TC", "53"...). RVUs in hundredths;
`conversion_factor_e4` is null when the file has no CONV FACTOR column; `valid_from`/`valid_to` (inclusive,
null = open) are what the caller said the file is in force for."""

GPCI_SCHEMA: Schema = {
    "locality_id": pl.String,
    "mac": pl.String,
    "locality": pl.String,
    "state": pl.String,
    "locality_name": pl.String,
    "pw_gpci_milli": pl.Int64,
    "pe_gpci_milli": pl.Int64,
    "mp_gpci_milli": pl.Int64,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
"""One row per payment locality; `locality_id` is the 5-digit MAC number followed by the 2-digit locality
number ("0118218"). GPCIs in thousandths."""


class ScheduleFileError(ValueError):
    """A fee schedule file is unusable; the message names the file, the line and the column."""


def _key(title: str) -> str:
    """A column title reduced for matching: upper case, letters and digits only, a leading year dropped."""
    text = re.sub(r"^\s*(19|20)\d\d\s+", "", title.strip())
    return re.sub(r"[^A-Z0-9]", "", text.upper())


# (output field, accepted title keys, required)
_RVU_COLUMNS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("code", ("HCPCS", "HCPCSCODE"), True),
    ("modifier", ("MOD", "MODIFIER"), True),
    ("status", ("CODESTATUS", "STATUSCODE", "STATUS"), True),
    ("work_rvu", ("WORKRVU", "WORKRVUS"), True),
    ("pe_nonfacility_rvu", ("NONFACPERVU", "NONFACILITYPERVU", "FULLYIMPLEMENTEDNONFACILITYPERVU"), True),
    ("pe_facility_rvu", ("FACILITYPERVU", "FULLYIMPLEMENTEDFACILITYPERVU"), True),
    ("mp_rvu", ("MPRVU", "MALPRACTICERVU"), True),
    ("pctc", ("PCTCIND", "PCTCINDICATOR"), True),
    ("global_days", ("GLOBDAYS", "GLOBALDAYS"), True),
    ("mult_proc", ("MULTPROC",), True),
    ("bilat_surg", ("BILATSURG",), True),
    ("conversion_factor", ("CONVFACTOR", "CONVERSIONFACTOR"), False),
)

_GPCI_COLUMNS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    (
        "mac",
        ("MEDICAREADMINISTRATIVECONTRACTORMAC", "MEDICAREADMINISTRATIVECONTRACTOR", "MAC", "CONTRACTOR"),
        True,
    ),
    ("state", ("STATE",), True),
    ("locality", ("LOCALITYNUMBER", "LOCALITY"), True),
    ("locality_name", ("LOCALITYNAME",), True),
    ("pw_gpci", ("PWGPCIWITH10FLOOR", "PWGPCI", "WORKGPCI"), True),
    ("pe_gpci", ("PEGPCI",), True),
    ("mp_gpci", ("MPGPCI", "PLIGPCI"), True),
)


def _read_rows(path: Path) -> list[list[str]]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ScheduleFileError(f"{path}: cannot read: {error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return list(csv.reader(text.splitlines()))


def _find_header(
    path: Path,
    rows: Sequence[Sequence[str]],
    columns: tuple[tuple[str, tuple[str, ...], bool], ...],
    anchor: str,
) -> tuple[int, dict[str, int]]:
    """Return (index of the first data row, field -> column index) for the first row holding `anchor`."""
    for index, row in enumerate(rows):
        keys = [_key(cell) for cell in row]
        if anchor not in keys:
            continue
        first_data = index + 1
        # A header continued on the next line: its first cell is empty (a data row starts with a code).
        if index + 1 < len(rows) and rows[index + 1] and not rows[index + 1][0].strip():
            following = rows[index + 1]
            merged = [
                f"{row[i] if i < len(row) else ''} {following[i] if i < len(following) else ''}"
                for i in range(max(len(row), len(following)))
            ]
            keys = [_key(cell) for cell in merged]
            first_data = index + 2
        positions: dict[str, int] = {}
        for field, accepted, _required in columns:
            for wanted in accepted:  # the first accepted title present wins, so more specific names go first
                if wanted in keys:
                    positions[field] = keys.index(wanted)
                    break
        missing = [field for field, _accepted, required in columns if required and field not in positions]
        if missing:
            titles = ", ".join(_DISPLAY[m] for m in missing)
            raise ScheduleFileError(f"{path}: line {index + 1}: header row lacks column(s) {titles}")
        return first_data, positions
    raise ScheduleFileError(f"{path}: no header row with a {anchor} column")


def _scaled(path: Path, line: int, column: str, text: str, places: int, *, blank_zero: bool) -> int | None:
    """Return the decimal `text` times 10**places as an exact int; None for a blank when not `blank_zero`."""
    value = text.strip().replace(",", "")
    if not value:
        return 0 if blank_zero else None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ScheduleFileError(f"{path}: line {line}: column {column}: not a number: {text!r}") from None
    if not number.is_finite():
        raise ScheduleFileError(f"{path}: line {line}: column {column}: not a number: {text!r}")
    scaled = number.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ScheduleFileError(
            f"{path}: line {line}: column {column}: {text.strip()} has more than {places} decimal places"
        )
    if number < 0:
        raise ScheduleFileError(f"{path}: line {line}: column {column}: negative value {text.strip()}")
    return int(scaled)


def _indicator(path: Path, line: int, column: str, text: str) -> int:
    value = text.strip()
    if not value.isdigit() or len(value) > 2:
        raise ScheduleFileError(f"{path}: line {line}: column {column}: not an indicator digit: {text!r}")
    return int(value)


def _cell(row: Sequence[str], position: int) -> str:
    return row[position] if position < len(row) else ""


def _data_rows(
    rows: list[list[str]], first: int, code_at: int, value_at: Sequence[int]
) -> list[tuple[int, list[str]]]:
    """Rows after the header that hold data: a key and at least one value. Blank lines and notes (text in the
    first column, nothing in the value columns, as CMS puts under its tables) are skipped."""
    kept: list[tuple[int, list[str]]] = []
    for index in range(first, len(rows)):
        row = rows[index]
        if not _cell(row, code_at).strip() or not any(_cell(row, i).strip() for i in value_at):
            continue
        kept.append((index + 1, row))
    return kept


_DISPLAY = {
    "code": "HCPCS",
    "modifier": "MOD",
    "status": "CODE STATUS",
    "work_rvu": "WORK RVU",
    "pe_nonfacility_rvu": "NON-FAC PE RVU",
    "pe_facility_rvu": "FACILITY PE RVU",
    "mp_rvu": "MP RVU",
    "pctc": "PCTC IND",
    "global_days": "GLOB DAYS",
    "mult_proc": "MULT PROC",
    "bilat_surg": "BILAT SURG",
    "conversion_factor": "CONV FACTOR",
    "mac": "Medicare Administrative Contractor (MAC)",
    "state": "State",
    "locality": "Locality Number",
    "locality_name": "Locality Name",
    "pw_gpci": "PW GPCI",
    "pe_gpci": "PE GPCI",
    "mp_gpci": "MP GPCI",
}


def _titles(columns: tuple[tuple[str, tuple[str, ...], bool], ...]) -> dict[str, str]:
    return {field: _DISPLAY[field] for field, _accepted, _r in columns}


def read_rvu_file(
    path: str | Path, *, valid_from: dt.date | None = None, valid_to: dt.date | None = None
) -> pl.DataFrame:
    """Read a CMS PPRRVU file (CSV) into a frame shaped like RVU_SCHEMA.

    `valid_from`/`valid_to` (inclusive; None = open) say which dates of service the file prices: a January
    file of a year is typically valid from January 1 until the next quarterly file. Raise ScheduleFileError
    naming the file, line and column for a missing column, a non-numeric RVU or indicator, a duplicate
    code-modifier row, or a file with no data rows.
    """
    source = Path(path)
    rows = _read_rows(source)
    first, at = _find_header(source, rows, _RVU_COLUMNS, "HCPCS")
    title = _titles(_RVU_COLUMNS)
    out: dict[str, list[object]] = {name: [] for name in RVU_SCHEMA}
    seen: dict[tuple[str, str], int] = {}
    for line, row in _data_rows(
        rows, first, at["code"], [at[f] for f in ("work_rvu", "mp_rvu", "pctc", "mult_proc")]
    ):
        code = _cell(row, at["code"]).strip().upper()
        modifier = _cell(row, at["modifier"]).strip().upper()
        if (code, modifier) in seen:
            raise ScheduleFileError(
                f"{source}: line {line}: column HCPCS: {code} {modifier or '(no modifier)'} repeats line "
                f"{seen[(code, modifier)]}"
            )
        seen[(code, modifier)] = line

        def rvu(field: str, _line: int = line, _row: list[str] = row) -> int | None:
            return _scaled(source, _line, title[field], _cell(_row, at[field]), 2, blank_zero=True)

        def ind(field: str, _line: int = line, _row: list[str] = row) -> int:
            return _indicator(source, _line, title[field], _cell(_row, at[field]))

        out["code"].append(code)
        out["modifier"].append(modifier)
        out["status"].append(_cell(row, at["status"]).strip().upper())
        out["work_rvu_centi"].append(rvu("work_rvu"))
        out["pe_nonfacility_rvu_centi"].append(rvu("pe_nonfacility_rvu"))
        out["pe_facility_rvu_centi"].append(rvu("pe_facility_rvu"))
        out["mp_rvu_centi"].append(rvu("mp_rvu"))
        out["pctc"].append(ind("pctc"))
        out["global_days"].append(_cell(row, at["global_days"]).strip().upper())
        out["mult_proc"].append(ind("mult_proc"))
        out["bilat_surg"].append(ind("bilat_surg"))
        cf = None
        if "conversion_factor" in at:
            cf = _scaled(
                source, line, "CONV FACTOR", _cell(row, at["conversion_factor"]), 4, blank_zero=False
            )
        out["conversion_factor_e4"].append(cf)
        out["valid_from"].append(valid_from)
        out["valid_to"].append(valid_to)
    if not out["code"]:
        raise ScheduleFileError(f"{source}: no data rows after the header")
    return pl.DataFrame(out, schema=RVU_SCHEMA)


def read_gpci_file(
    path: str | Path, *, valid_from: dt.date | None = None, valid_to: dt.date | None = None
) -> pl.DataFrame:
    """Read a CMS GPCI file (CSV, "Addendum E" layout) into a frame shaped like GPCI_SCHEMA.

    Where the file has both a work GPCI with the 1.0 floor and one without, the floored one is read (it is
    the one Medicare pays with). Raise ScheduleFileError naming the file, line and column for a missing
    column, a non-numeric GPCI, a duplicate locality or a file with no data rows.
    """
    source = Path(path)
    rows = _read_rows(source)
    first, at = _find_header(source, rows, _GPCI_COLUMNS, "LOCALITYNAME")
    title = _titles(_GPCI_COLUMNS)
    out: dict[str, list[object]] = {name: [] for name in GPCI_SCHEMA}
    seen: dict[str, int] = {}
    digits: Callable[[str], bool] = str.isdigit
    for line, row in _data_rows(rows, first, at["mac"], [at[f] for f in ("pw_gpci", "pe_gpci", "mp_gpci")]):
        mac = _cell(row, at["mac"]).strip()
        locality = _cell(row, at["locality"]).strip()
        if not digits(mac) or len(mac) > 5:
            raise ScheduleFileError(f"{source}: line {line}: column MAC: not a contractor number: {mac!r}")
        if not digits(locality) or len(locality) > 2:
            raise ScheduleFileError(
                f"{source}: line {line}: column Locality Number: not a locality: {locality!r}"
            )
        locality_id = mac.zfill(5) + locality.zfill(2)
        if locality_id in seen:
            raise ScheduleFileError(
                f"{source}: line {line}: column Locality Number: locality {locality_id} repeats line "
                f"{seen[locality_id]}"
            )
        seen[locality_id] = line
        out["locality_id"].append(locality_id)
        out["mac"].append(mac.zfill(5))
        out["locality"].append(locality.zfill(2))
        out["state"].append(_cell(row, at["state"]).strip().upper())
        out["locality_name"].append(_cell(row, at["locality_name"]).strip())
        for field in ("pw_gpci", "pe_gpci", "mp_gpci"):
            value = _scaled(source, line, title[field], _cell(row, at[field]), 3, blank_zero=False)
            if value is None:
                raise ScheduleFileError(f"{source}: line {line}: column {title[field]}: empty")
            out[f"{field}_milli"].append(value)
        out["valid_from"].append(valid_from)
        out["valid_to"].append(valid_to)
    if not out["locality_id"]:
        raise ScheduleFileError(f"{source}: no data rows after the header")
    return pl.DataFrame(out, schema=GPCI_SCHEMA)
