"""Exclusion screening, pure: read the OIG LEIE file and a SAM.gov exclusions extract, and match the network's
providers against them.

    entries = read_leie(data, "UPDATED.csv", today=day)      # ExclusionList: entries frame + rejected rows
    matches = match_providers(providers, entries.entries, policy)

Reading. Each list is a CSV with a header. A file whose header lacks a column the matcher needs is refused as a
whole (`LayoutError`, naming the file and the missing columns). A row that is malformed (wrong number of
columns, a date that is not a date, an NPI that is not ten digits with a valid check digit, no exclusion date)
is rejected with its line number in the file (the header is line 1) and the rest is still read. Rows that are no
longer exclusions on the screening day (LEIE: reinstated, REINDATE on or before the day; SAM: terminated, or
record status inactive) are counted and left out.

Matching, per provider and list entry:
1. NPI: the entry's NPI equals the provider's (LEIE "0000000000" or empty means none): score 100, kind "npi".
2. Name and date of birth: both dates known and equal, and the name score at least the policy's threshold:
   kind "name_dob".
3. Name alone: where either date is unknown (SAM publishes no dates of birth; some LEIE rows have none; a
   provider may have none on file), the name score must reach the stricter name-only threshold: kind "name".
   Candidates for this step share the Soundex code of a last name (or of one part of a hyphenated one).

Only individuals are matched by name (LEIE rows with a last name, SAM rows classified Individual); businesses
match by NPI only.

The name score (0-100) is the weighted mean of the last-name and first-name similarities (weights from the
policy). Names are normalized first (`normalize_name`: upper case, accents and punctuation removed, suffixes
such as JR, III, MD dropped). Similarities are Jaro-Winkler (rapidfuzz) on the names without spaces; a last name
of several parts also counts 0.95 of its best part's similarity; first names that are the same after common
nicknames are mapped (BILL = WILLIAM) count 1.0, and an initial that agrees with the other's first letter 0.9.
The score is symmetric and bounded (property-tested).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import polars as pl
from rapidfuzz.distance import JaroWinkler

from openipa.core.identifiers import is_valid_npi

LEIE = "leie"
SAM = "sam"

LEIE_COLUMNS: tuple[str, ...] = (
    "LASTNAME", "FIRSTNAME", "MIDNAME", "BUSNAME", "GENERAL", "SPECIALTY", "UPIN", "NPI", "DOB", "ADDRESS",
    "CITY", "STATE", "ZIP", "EXCLTYPE", "EXCLDATE", "REINDATE", "WAIVERDATE", "WVRSTATE",
)  # fmt: skip
"""The OIG's published layout of the LEIE downloadable file (UPDATED.csv and the monthly supplements)."""

SAM_REQUIRED: tuple[str, ...] = (
    "Classification", "Name", "First", "Middle", "Last", "Suffix", "Exclusion Type", "Excluding Agency",
    "Active Date", "Termination Date", "Record Status", "SAM Number", "NPI",
)  # fmt: skip
"""The columns of SAM.gov's public exclusions extract that screening reads. The extract has more (prefix,
address, DUNS or Unique Entity ID, CAGE, comments...); they are kept on a hit as received."""

NO_NPI = "0000000000"
NUMBER_OF_PARTS_CREDIT = 0.95
NICKNAME_CREDIT = 1.0
INITIAL_CREDIT = 0.9

Progress = Callable[[str, int, int | None], None]
"""progress(phase, done, total or None)."""

ENTRY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "source": pl.Utf8,
    "row": pl.Int64,
    "row_key": pl.Utf8,
    "individual": pl.Boolean,
    "last": pl.Utf8,
    "first": pl.Utf8,
    "name": pl.Utf8,
    "dob": pl.Date,
    "npi": pl.Utf8,
    "exclusion_date": pl.Date,
    "exclusion_type": pl.Utf8,
    "fields": pl.Utf8,
}
"""One row per list entry in force: `last`/`first` normalized, `name` as shown, `fields` the row as received
(JSON object of column -> text)."""

MATCH_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "provider_id": pl.Int64,
    "npi": pl.Utf8,
    "source": pl.Utf8,
    "row": pl.Int64,
    "row_key": pl.Utf8,
    "kind": pl.Utf8,
    "score": pl.Float64,
    "exclusion_date": pl.Date,
    "exclusion_type": pl.Utf8,
    "name": pl.Utf8,
    "fields": pl.Utf8,
}


class LayoutError(ValueError):
    """The file is not in the list's layout at all: nothing of it is read."""

    def __init__(self, file_name: str, source: str, missing: Sequence[str]) -> None:
        self.file_name = file_name
        self.source = source
        self.missing = tuple(missing)
        label = "the OIG LEIE" if source == LEIE else "the SAM.gov exclusions extract"
        super().__init__(
            f"{file_name} is not in {label} layout: the header lacks "
            f"{'column' if len(self.missing) == 1 else 'columns'} {', '.join(self.missing)}"
        )


@dataclass(frozen=True)
class RejectedRow:
    row: int
    message: str


@dataclass
class ExclusionList:
    """One list file read: its entries in force, the rows rejected, and counts."""

    source: str
    file_name: str
    rows: int = 0
    not_in_force: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    entries: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ENTRY_SCHEMA))


@dataclass(frozen=True)
class MatchPolicy:
    """The thresholds and weights in force (effective-dated rows in the database)."""

    threshold: float = 85.0
    name_only_threshold: float = 95.0
    last_name_weight: float = 0.5
    first_name_weight: float = 0.5


# -- names --------------------------------------------------------------------------------------------------

SUFFIXES = frozenset(
    {
        "JR", "SR", "II", "III", "IV", "MD", "DO", "PHD", "DDS", "DMD", "DPM", "OD", "DC", "RN", "NP", "LPN",
        "PA", "PAC", "CRNA", "PSYD", "LCSW", "MSW", "DVM", "PHARMD", "RPH", "ESQ", "FACP", "FACS", "MBA",
    }
)  # fmt: skip
"""Generational suffixes and degrees: dropped from names (a name never consists of them alone)."""

_NICKNAME_GROUPS: tuple[tuple[str, ...], ...] = (
    ("WILLIAM", "BILL", "BILLY", "WILL", "WILLIE", "LIAM"),
    ("ROBERT", "BOB", "BOBBY", "ROB", "ROBBIE", "BERT"),
    ("RICHARD", "RICK", "RICKY", "DICK", "RICH"),
    ("JAMES", "JIM", "JIMMY", "JAMIE"),
    ("JOHN", "JACK", "JOHNNY"),
    ("JOSEPH", "JOE", "JOEY"),
    ("THOMAS", "TOM", "TOMMY"),
    ("CHARLES", "CHARLIE", "CHUCK"),
    ("MICHAEL", "MIKE", "MICKEY"),
    ("DAVID", "DAVE"),
    ("DANIEL", "DAN", "DANNY"),
    ("EDWARD", "ED", "EDDIE", "TED", "TEDDY"),
    ("ANTHONY", "TONY"),
    ("CHRISTOPHER", "CHRIS"),
    ("MATTHEW", "MATT"),
    ("NICHOLAS", "NICK"),
    ("STEVEN", "STEPHEN", "STEVE"),
    ("BENJAMIN", "BEN", "BENNY"),
    ("SAMUEL", "SAM", "SAMMY"),
    ("ALEXANDER", "ALEX"),
    ("ANDREW", "ANDY", "DREW"),
    ("GREGORY", "GREG"),
    ("LAWRENCE", "LARRY"),
    ("TIMOTHY", "TIM"),
    ("PATRICK", "PAT"),
    ("KENNETH", "KEN", "KENNY"),
    ("RONALD", "RON", "RONNIE"),
    ("DONALD", "DON", "DONNIE"),
    ("GERALD", "GERRY", "JERRY"),
    ("ELIZABETH", "LIZ", "BETH", "BETTY", "ELIZA", "LIZZIE"),
    ("MARGARET", "MAGGIE", "PEGGY", "MEG"),
    ("KATHERINE", "CATHERINE", "KATHRYN", "KATE", "KATHY", "CATHY", "KATIE"),
    ("JENNIFER", "JENNY", "JEN"),
    ("PATRICIA", "PATTY", "TRISH", "TRICIA"),
    ("SUSAN", "SUE", "SUSIE"),
    ("DEBORAH", "DEBRA", "DEBBIE", "DEB"),
    ("REBECCA", "BECKY"),
    ("VICTORIA", "VICKY", "TORI"),
    ("CHRISTINE", "CHRISTINA", "CHRISSY", "TINA"),
    ("ABIGAIL", "ABBY"),
    ("ALEXANDRA", "ALEXIS", "SASHA"),
    ("SAMANTHA",),
    ("JOSEPHINE", "JOSIE"),
)
"""Common English nicknames: each group's names count as the same first name. Data for matching, not a rule
that changes by date."""

NICKNAMES: dict[str, str] = {name: group[0] for group in _NICKNAME_GROUPS for name in group}

_APOSTROPHES = re.compile("[.'\u2019`\u00b4]")
_SEPARATORS = re.compile(r"[^A-Z0-9 ]+")


@lru_cache(maxsize=200_000)
def normalize_name(text: str) -> str:
    """A name for comparison: upper case, accents removed, periods and apostrophes dropped (O'BRIEN ->
    OBRIEN), other punctuation as spaces, suffixes and degrees dropped (JR, III, MD), spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    plain = _SEPARATORS.sub(" ", _APOSTROPHES.sub("", plain))
    tokens = plain.split()
    kept = [t for t in tokens if t not in SUFFIXES]
    return " ".join(kept if kept else tokens)


def _jw(a: str, b: str) -> float:
    # rapidfuzz's Jaro-Winkler is symmetric up to the last floating-point bit: the smaller of both orders
    # makes the score exactly symmetric.
    return min(JaroWinkler.normalized_similarity(a, b), JaroWinkler.normalized_similarity(b, a))


@lru_cache(maxsize=400_000)
def last_name_similarity(a: str, b: str) -> float:
    """0..1 for two normalized last names: Jaro-Winkler without spaces (DE LA CRUZ = DELACRUZ); a name in
    several parts (SMITH JONES) also counts 0.95 of its best-matching part."""
    if not a or not b:
        return 0.0
    best = _jw(a.replace(" ", ""), b.replace(" ", ""))
    parts_a, parts_b = a.split(), b.split()
    if len(parts_a) > 1 or len(parts_b) > 1:
        parts = max(_jw(x, y) for x in parts_a for y in parts_b)
        best = max(best, NUMBER_OF_PARTS_CREDIT * parts)
    return best


@lru_cache(maxsize=400_000)
def first_name_similarity(a: str, b: str) -> float:
    """0..1 for two normalized first names: 1.0 when their first parts are the same name after nicknames
    (BILL, WILLIAM); 0.9 when one is an initial the other starts with; else Jaro-Winkler without spaces."""
    if not a or not b:
        return 0.0
    first_a, first_b = a.split()[0], b.split()[0]
    if NICKNAMES.get(first_a, first_a) == NICKNAMES.get(first_b, first_b):
        return NICKNAME_CREDIT
    if (len(first_a) == 1 or len(first_b) == 1) and first_a[0] == first_b[0]:
        return INITIAL_CREDIT
    return _jw(a.replace(" ", ""), b.replace(" ", ""))


def name_score(
    last_a: str, first_a: str, last_b: str, first_b: str, policy: MatchPolicy = MatchPolicy()
) -> float:
    """The name score 0..100 (one decimal) of two people's normalized names: the policy's weighted mean of the
    last-name and first-name similarities."""
    total = policy.last_name_weight + policy.first_name_weight
    if total <= 0:
        return 0.0
    mean = (
        policy.last_name_weight * last_name_similarity(last_a, last_b)
        + policy.first_name_weight * first_name_similarity(first_a, first_b)
    ) / total
    return round(min(100.0, max(0.0, 100.0 * mean)), 1)


@lru_cache(maxsize=200_000)
def soundex(name: str) -> str:
    """American Soundex of one word (letters only): the blocking key of name-only candidates."""
    letters = [c for c in name.upper() if "A" <= c <= "Z"]
    if not letters:
        return ""
    codes = {**dict.fromkeys("BFPV", "1"), **dict.fromkeys("CGJKQSXZ", "2"), **dict.fromkeys("DT", "3"),
             "L": "4", **dict.fromkeys("MN", "5"), "R": "6"}  # fmt: skip
    out = [letters[0]]
    previous = codes.get(letters[0], "")
    for c in letters[1:]:
        code = codes.get(c, "")
        if code and code != previous:
            out.append(code)
        if c not in "HW":
            previous = code
    return ("".join(out) + "000")[:4]


def _blocking_keys(last: str) -> list[str]:
    parts = last.split()
    keys = {soundex(last.replace(" ", ""))} | {soundex(p) for p in parts}
    return sorted(k for k in keys if k)


# -- reading ------------------------------------------------------------------------------------------------


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """(line number where the record starts, fields) of each record of a CSV text, blank lines skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for record in reader:
        if record and any(cell.strip() for cell in record):
            yield start, record
        start = reader.line_num + 1


class _RowError(ValueError):
    pass


def _leie_date(value: str, column: str) -> dt.date | None:
    value = value.strip()
    if not value or set(value) == {"0"}:
        return None
    if len(value) != 8 or not value.isdigit():
        raise _RowError(f"{column} {value!r} is not a date (YYYYMMDD)")
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise _RowError(f"{column} {value!r} is not a date (YYYYMMDD)") from None


def _sam_date(value: str, column: str) -> dt.date | None:
    value = value.strip()
    if not value or value.lower() == "indefinite":
        return None
    for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise _RowError(f"{column} {value!r} is not a date (MM/DD/YYYY)")


def _npi(value: str, *, none: Iterable[str] = ()) -> str | None:
    value = value.strip()
    if not value or value in none:
        return None
    if not is_valid_npi(value):
        raise _RowError(f"NPI {value!r} is not a valid NPI (10 digits with a correct check digit)")
    return value


def _row_key(source: str, parts: Iterable[str]) -> str:
    return hashlib.sha256("\x1f".join([source, *parts]).encode()).hexdigest()


def _header(text: str, file_name: str, source: str, required: Sequence[str]) -> tuple[list[str], int]:
    for line, record in _records(text):
        names = [c.strip().lstrip("\ufeff") for c in record]
        present = {n.upper() for n in names}
        missing = [c for c in required if c.upper() not in present]
        if missing:
            raise LayoutError(file_name, source, missing)
        return names, line
    raise LayoutError(file_name, source, list(required))


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=ENTRY_SCHEMA, orient="row") if rows else pl.DataFrame(schema=ENTRY_SCHEMA)
    )


def _data_rows(
    text: str, header: list[str], header_line: int, out: ExclusionList, progress: Progress | None
) -> Iterator[tuple[int, list[str]]]:
    """The rows after the header, counted into ``out`` (with progress every 5,000); a row whose column count is
    not the header's is rejected there with its line number, and the rest go on."""
    for line, record in _records(text):
        if line <= header_line:
            continue
        out.rows += 1
        if progress is not None and out.rows % 5000 == 0:
            progress(f"read {out.source.upper()}", out.rows, None)
        if len(record) != len(header):
            out.rejected.append(
                RejectedRow(line, f"{len(record)} columns where the header has {len(header)}")
            )
            continue
        yield line, record


def read_leie(
    data: bytes, file_name: str, *, today: dt.date, progress: Progress | None = None
) -> ExclusionList:
    """Read an LEIE file (UPDATED.csv layout). Raises LayoutError when the header lacks LEIE columns."""
    text = _text(data)
    header, header_line = _header(text, file_name, LEIE, LEIE_COLUMNS)
    index = {name.upper(): i for i, name in enumerate(header)}
    out = ExclusionList(LEIE, file_name)
    rows: list[dict[str, object]] = []
    for line, record in _data_rows(text, header, header_line, out, progress):
        raw = {name: record[index[name]].strip() for name in LEIE_COLUMNS}
        try:
            dob = _leie_date(raw["DOB"], "DOB")
            excluded = _leie_date(raw["EXCLDATE"], "EXCLDATE")
            reinstated = _leie_date(raw["REINDATE"], "REINDATE")
            _leie_date(raw["WAIVERDATE"], "WAIVERDATE")
            npi = _npi(raw["NPI"], none=(NO_NPI,))
            if excluded is None:
                raise _RowError("EXCLDATE is empty: an exclusion has a date")
            if not (raw["LASTNAME"] or raw["BUSNAME"]):
                raise _RowError("neither LASTNAME nor BUSNAME: the row names no one")
        except _RowError as exc:
            out.rejected.append(RejectedRow(line, str(exc)))
            continue
        if reinstated is not None and reinstated <= today:
            out.not_in_force += 1
            continue
        individual = bool(raw["LASTNAME"])
        shown = (
            " ".join(p for p in (raw["FIRSTNAME"], raw["MIDNAME"], raw["LASTNAME"]) if p)
            if individual
            else raw["BUSNAME"]
        )
        rows.append(
            {
                "source": LEIE,
                "row": line,
                "row_key": _row_key(LEIE, (raw[c] for c in LEIE_COLUMNS)),
                "individual": individual,
                "last": normalize_name(raw["LASTNAME"]),
                "first": normalize_name(raw["FIRSTNAME"]),
                "name": shown,
                "dob": dob,
                "npi": npi,
                "exclusion_date": excluded,
                "exclusion_type": raw["EXCLTYPE"],
                "fields": json.dumps(raw),
            }
        )
    out.entries = _frame(rows)
    return out


def read_sam(
    data: bytes, file_name: str, *, today: dt.date, progress: Progress | None = None
) -> ExclusionList:
    """Read a SAM.gov public exclusions extract (CSV). Raises LayoutError when the header lacks its columns."""
    text = _text(data)
    header, header_line = _header(text, file_name, SAM, SAM_REQUIRED)
    index = {name.upper(): i for i, name in enumerate(header)}
    out = ExclusionList(SAM, file_name)
    rows: list[dict[str, object]] = []
    for line, record in _data_rows(text, header, header_line, out, progress):
        raw = {name: record[i].strip() for i, name in enumerate(header)}

        def col(name: str, record: list[str] = record) -> str:
            i = index.get(name.upper())
            return record[i].strip() if i is not None else ""

        try:
            active = _sam_date(col("Active Date"), "Active Date")
            terminated = _sam_date(col("Termination Date"), "Termination Date")
            _sam_date(col("Creation_Date"), "Creation_Date")
            npi = _npi(col("NPI"), none=(NO_NPI,))
            if active is None:
                raise _RowError("Active Date is empty: an exclusion has a date")
        except _RowError as exc:
            out.rejected.append(RejectedRow(line, str(exc)))
            continue
        status = col("Record Status").lower()
        if (terminated is not None and terminated <= today) or status in {"inactive", "deleted"}:
            out.not_in_force += 1
            continue
        individual = col("Classification").lower() == "individual" and bool(col("Last"))
        shown = (
            " ".join(p for p in (col("First"), col("Middle"), col("Last"), col("Suffix")) if p)
            if individual
            else col("Name")
        )
        key = col("SAM Number") or "|".join(raw.values())
        rows.append(
            {
                "source": SAM,
                "row": line,
                "row_key": _row_key(SAM, (key, col("Active Date"), col("Exclusion Type"))),
                "individual": individual,
                "last": normalize_name(col("Last")) if individual else "",
                "first": normalize_name(col("First")) if individual else "",
                "name": shown or col("Name"),
                "dob": None,
                "npi": npi,
                "exclusion_date": active,
                "exclusion_type": col("Exclusion Type"),
                "fields": json.dumps(raw),
            }
        )
    out.entries = _frame(rows)
    return out


# -- matching -----------------------------------------------------------------------------------------------


def providers_frame(rows: Iterable[tuple[int, str, str, str, dt.date | None]]) -> pl.DataFrame:
    """The providers to screen from (id, npi, first name, last name, date of birth) tuples, names normalized."""
    data = [
        {"provider_id": pk, "npi": npi, "p_first": normalize_name(first or ""),
         "p_last": normalize_name(last or ""), "p_dob": dob}
        for pk, npi, first, last, dob in rows
    ]  # fmt: skip
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "provider_id": pl.Int64, "npi": pl.Utf8, "p_first": pl.Utf8, "p_last": pl.Utf8, "p_dob": pl.Date,
    }  # fmt: skip
    return pl.DataFrame(data, schema=schema, orient="row") if data else pl.DataFrame(schema=schema)


_MATCH_COLUMNS = ["source", "row", "row_key", "exclusion_date", "exclusion_type", "name", "fields"]


def match_providers(
    providers: pl.DataFrame,
    entries: pl.DataFrame,
    policy: MatchPolicy,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Every (provider, entry) match: by NPI first, else by name (and date of birth where both are known).
    `providers` as made by `providers_frame`, `entries` as `ExclusionList.entries`. Sorted by score, highest
    first, then provider and row."""
    if providers.is_empty() or entries.is_empty():
        return pl.DataFrame(schema=MATCH_SCHEMA)
    by_npi = (
        entries.filter(pl.col("npi").is_not_null())
        .join(providers.select("provider_id", "npi"), on="npi", how="inner")
        .select(
            "provider_id", "npi", *_MATCH_COLUMNS, kind=pl.lit("npi"), score=pl.lit(100.0, dtype=pl.Float64)
        )
    )
    people = entries.filter(pl.col("individual") & (pl.col("last") != ""))
    named = providers.filter(pl.col("p_last") != "")
    # date of birth known on both sides: the candidates share it
    with_dob = people.filter(pl.col("dob").is_not_null()).join(
        named.filter(pl.col("p_dob").is_not_null()), left_on="dob", right_on="p_dob", how="inner"
    )
    # date unknown on either side: the candidates share a Soundex code of the last name
    keyed_people = people.with_columns(
        key=pl.col("last").map_elements(_blocking_keys, return_dtype=pl.List(pl.Utf8))
    ).explode("key")
    keyed_providers = named.with_columns(
        key=pl.col("p_last").map_elements(_blocking_keys, return_dtype=pl.List(pl.Utf8))
    ).explode("key")
    without_dob = (
        keyed_people.join(keyed_providers, on="key", how="inner")
        .filter(pl.col("dob").is_null() | pl.col("p_dob").is_null())
        .drop("key", "p_dob")
        .unique(subset=["provider_id", "row", "source"], keep="first", maintain_order=True)
    )
    candidates = pl.concat(
        [
            with_dob.select("provider_id", "npi_right", "p_last", "p_first", "last", "first", *_MATCH_COLUMNS)
            .with_columns(kind=pl.lit("name_dob")),
            without_dob.select("provider_id", "npi_right", "p_last", "p_first", "last", "first", *_MATCH_COLUMNS)
            .with_columns(kind=pl.lit("name")),
        ]
    ).rename({"npi_right": "npi"})  # fmt: skip
    # a pair matched by NPI is not matched again by name
    candidates = candidates.join(by_npi.select("provider_id", "source", "row"), on=["provider_id", "source", "row"],
                                 how="anti")  # fmt: skip
    total = candidates.height
    scores: list[float] = []
    for i, (p_last, p_first, last, first) in enumerate(
        candidates.select("p_last", "p_first", "last", "first").iter_rows()
    ):
        scores.append(name_score(p_last, p_first, last, first, policy))
        if progress is not None and (i + 1) % 20_000 == 0:
            progress("match", i + 1, total)
    if progress is not None:
        progress("match", total, total)
    scored = candidates.with_columns(score=pl.Series("score", scores, dtype=pl.Float64)).filter(
        pl.when(pl.col("kind") == "name_dob")
        .then(pl.col("score") >= policy.threshold)
        .otherwise(pl.col("score") >= policy.name_only_threshold)
    )
    columns = list(MATCH_SCHEMA)
    return (
        pl.concat([by_npi.select(columns), scored.select(columns)])
        .cast(pl.Schema(MATCH_SCHEMA))
        .sort(["score", "provider_id", "source", "row"], descending=[True, False, False, False])
    )
