"""Value sets as data: code lists keyed by name, code system and measurement year.

Two readers produce the same frame (``VALUE_SET_SCHEMA``: value_set, code_system, code, family):

* ``load_value_sets(path, year)``: the project's CSV layout, used by the open starter set shipped in
  ``openipa/quality/data/valuesets/`` (``starter_value_sets(year)``). Columns: ``value_set_name``,
  ``code_system``, ``code`` (required) and ``valid_from_year``, ``valid_to_year``, ``version``, ``source``
  (optional; a row applies to ``year`` when from <= year <= to, an empty bound is open).
* ``load_ncqa_vsd(path, year=None)``: a licensed NCQA HEDIS Value Set Directory, its "Value Sets to Codes"
  sheet saved as CSV. Accepted columns (NCQA's names, matched case- and space-insensitively): ``Value Set
  Name``, ``Code``, ``Code System`` (required); ``Value Set OID``, ``Value Set Version``, ``Definition``,
  ``Code System OID``, ``Code System Version`` (read if present and otherwise ignored). NCQA publishes one
  directory per measurement year, so ``year`` only labels errors.

Code systems are normalized to ``CODE_SYSTEMS`` (``ICD-10-CM``, ``ICD10CM`` -> ``ICD10CM``; ``CPT-CAT-II``
-> ``CPTII``; ``SNOMED CT US Edition`` -> ``SNOMEDCT``...); an unknown system is an error. Codes are
trimmed and upper-cased; ICD-10 codes lose their dot, so ``Z90.13`` and ``Z9013`` match; an NDC written
with hyphens in three parts (the FDA's 4-4-2, 5-3-2 or 5-4-1 label forms) is padded to the 11-digit 5-4-2
form claims use (``0378-3952-77`` -> ``00378395277``), any other NDC just loses its hyphens. ``family`` groups the systems a claim's code can be matched in: claim procedure codes are compared
with CPT, CPT Category II, HCPCS and ICD-10-PCS codes together (their formats do not collide), diagnoses
with ICD-10-CM.

Errors are ``ValueSetError`` naming the file, the line (1-based, header = line 1) and the field.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import polars as pl

VALUE_SET_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "value_set": pl.String,
    "code_system": pl.String,
    "code": pl.String,
    "family": pl.String,
}

CODE_SYSTEMS: dict[str, str] = {
    "ICD10CM": "DX",
    "ICD10PCS": "PX",
    "CPT": "PX",
    "CPTII": "PX",
    "HCPCS": "PX",
    "LOINC": "LOINC",
    "CVX": "CVX",
    "NDC": "NDC",
    "SNOMEDCT": "SNOMEDCT",
    "RXNORM": "RXNORM",
    "UBREV": "UBREV",
    "POS": "POS",
}
"""Canonical code system -> the family its codes are matched in."""

_SYSTEM_ALIASES: dict[str, str] = {
    "ICD10": "ICD10CM",
    "CPTCATII": "CPTII",
    "CPTCATEGORYII": "CPTII",
    "HCPCSLEVELII": "HCPCS",
    "SNOMED": "SNOMEDCT",
    "SNOMEDCTUSEDITION": "SNOMEDCT",
    "SNOMEDCTUS": "SNOMEDCT",
    "UBREVENUE": "UBREV",
    "REVENUE": "UBREV",
}


class ValueSetError(ValueError):
    """A value-set file that cannot be read: the message names the file, line and field."""


def normalize_system(raw: str) -> str | None:
    """The canonical code system for ``raw`` (``ICD-10-CM``, ``cpt-cat-ii``...), or None if unknown."""
    key = "".join(ch for ch in raw.upper() if ch.isalnum())
    key = _SYSTEM_ALIASES.get(key, key)
    return key if key in CODE_SYSTEMS else None


def normalize_code(system: str, raw: str) -> str:
    """A code as it is compared: trimmed, upper case; no dot in ICD-10 codes, no hyphen in NDCs."""
    code = raw.strip().upper()
    if system in ("ICD10CM", "ICD10PCS"):
        code = code.replace(".", "")
    elif system == "NDC":
        parts = code.split("-")
        if len(parts) == 3:
            code = parts[0].zfill(5) + parts[1].zfill(4) + parts[2].zfill(2)
        else:
            code = code.replace("-", "")
    return code


def code_expr(system: pl.Expr | str, code: pl.Expr) -> pl.Expr:
    """``normalize_code`` as a Polars expression over a raw code column, for a canonical system given as a
    name (one rule, cheapest on large frames) or as an expression (a column of systems)."""
    cleaned = code.str.strip_chars().str.to_uppercase()
    parts = cleaned.str.split("-")
    padded = pl.concat_str(
        parts.list.get(0, null_on_oob=True).str.zfill(5),
        parts.list.get(1, null_on_oob=True).str.zfill(4),
        parts.list.get(2, null_on_oob=True).str.zfill(2),
    )
    ndc = (
        pl.when(parts.list.len() == 3).then(padded).otherwise(cleaned.str.replace_all("-", "", literal=True))
    )
    icd = cleaned.str.replace_all(".", "", literal=True)
    if isinstance(system, str):
        if system in ("ICD10CM", "ICD10PCS"):
            return icd
        return ndc if system == "NDC" else cleaned
    return (
        pl.when(system.is_in(["ICD10CM", "ICD10PCS"]))
        .then(icd)
        .when(system == "NDC")
        .then(ndc)
        .otherwise(cleaned)
    )


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _year(path: Path, line: int, field: str, raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) != 4:
        raise ValueSetError(f"{path}: line {line}: field {field}: {raw!r} is not a year (YYYY)")
    return int(raw)


def _read(path: Path, fields: dict[str, str], required: tuple[str, ...]) -> tuple[list[dict[str, str]], int]:
    """Rows of ``path`` with their columns renamed by ``fields`` (normalized header -> our name)."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ValueSetError(f"{path}: cannot be read: {exc.strerror}") from exc
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueSetError(f"{path}: line 1: the file is empty (a header row is needed)")
        columns: dict[int, str] = {}
        for index, name in enumerate(header):
            ours = fields.get(_key(name))
            if ours is not None:
                columns[index] = ours
        missing = [name for name in required if name not in columns.values()]
        if missing:
            raise ValueSetError(f"{path}: line 1: missing column(s) {', '.join(missing)}")
        rows: list[dict[str, str]] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                rows.append({})
                continue
            rows.append({ours: (row[i] if i < len(row) else "") for i, ours in columns.items()})
    return rows, len(header)


def _frame(records: list[tuple[str, str, str]]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "value_set": [r[0] for r in records],
            "code_system": [r[1] for r in records],
            "code": [r[2] for r in records],
            "family": [CODE_SYSTEMS[r[1]] for r in records],
        },
        schema=VALUE_SET_SCHEMA,
    )
    return frame.unique(maintain_order=True)


def _record(path: Path, line: int, row: dict[str, str]) -> tuple[str, str, str]:
    name = row["value_set"].strip()
    if not name:
        raise ValueSetError(f"{path}: line {line}: field value_set_name: empty")
    raw_system = row["code_system"].strip()
    system = normalize_system(raw_system)
    if system is None:
        known = ", ".join(sorted(CODE_SYSTEMS))
        raise ValueSetError(
            f"{path}: line {line}: field code_system: unknown {raw_system!r} (known: {known})"
        )
    code = normalize_code(system, row["code"])
    if not code:
        raise ValueSetError(f"{path}: line {line}: field code: empty")
    return name, system, code


def load_value_sets(path: Path, year: int) -> pl.DataFrame:
    """The value sets of ``path`` (the project's layout) in force in measurement year ``year``."""
    fields = {
        "valuesetname": "value_set",
        "codesystem": "code_system",
        "code": "code",
        "validfromyear": "from",
        "validtoyear": "to",
    }
    rows, _ = _read(path, fields, ("value_set", "code_system", "code"))
    records = []
    for offset, row in enumerate(rows):
        line = offset + 2
        if not row:
            continue
        low = _year(path, line, "valid_from_year", row.get("from", ""))
        high = _year(path, line, "valid_to_year", row.get("to", ""))
        if low is not None and high is not None and high < low:
            raise ValueSetError(f"{path}: line {line}: field valid_to_year: {high} is before {low}")
        record = _record(path, line, row)
        if (low is None or low <= year) and (high is None or year <= high):
            records.append(record)
    return _frame(records)


def load_ncqa_vsd(path: Path, year: int | None = None) -> pl.DataFrame:
    """A licensed NCQA Value Set Directory's "Value Sets to Codes" sheet (as CSV), as a value-set frame."""
    fields = {"valuesetname": "value_set", "codesystem": "code_system", "code": "code"}
    rows, _ = _read(path, fields, ("value_set", "code_system", "code"))
    label = f" (measurement year {year})" if year is not None else ""
    records = []
    for offset, row in enumerate(rows):
        if row:
            try:
                records.append(_record(path, offset + 2, row))
            except ValueSetError as exc:
                raise ValueSetError(f"{exc}{label}") from None
    return _frame(records)


def starter_value_sets(year: int) -> pl.DataFrame:
    """The open starter value sets shipped with OpenIPA, as in force in measurement year ``year``."""
    folder = resources.files("openipa.quality") / "data" / "valuesets"
    frames = [
        load_value_sets(Path(str(entry)), year)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".csv")
    ]
    if not frames:
        raise ValueSetError(f"{folder}: no value-set CSV files")
    return pl.concat(frames).unique(maintain_order=True)
