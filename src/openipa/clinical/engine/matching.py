"""Matching patients from clinical sources (a practice's EHR, a lab, an HIE) to the IPA's members.

Pure: frames in, frames out; no Django, no I/O except reading the shipped settings file. The method is in
docs/patient-matching.md; in brief, for each incoming patient, in this order:

1. **Confirmed link.** A row of `links` for the patient's (source, source_patient_id) decides: linked,
   method ``confirmed``, whatever the other evidence says.
2. **Identifier.** The patient's identifiers (``mbi``; ``payer_member_id`` with its ``payer``;
   ``medicaid``) are looked up among the members. If they name exactly one member and the birth dates are
   equal: linked, method ``identifier``. If they name one member but the birth dates differ (or one is
   missing), or they name several members: review (reason ``identifier_birth_date_conflict`` or
   ``identifier_names_several_members``), never a link. ``mrn`` identifiers are accepted and ignored here
   (an MRN is the source's own number; a confirmed link is how it is remembered).
3. **Scored.** Candidate members are found by blocking (equal birth date; Soundex of a last-name part plus
   birth year plus first initial; zip plus first initial; phone; zip plus address line; plus any member an
   identifier named), never by an all-pairs join; a block key shared by more than `max_block_size` members
   is not used.
   Each pair is compared field by field (last name, first name, birth date, sex, address, phone) into
   levels, each level weighs log2(m/u) bits (data: `openipa/clinical/data/matching.json`, effective-dated)
   and the score is the sum. A candidate is *eligible* for a link when its score reaches the link threshold
   and its levels meet `link_requires` (a first name that disagrees, e.g. a twin, or a birth date that
   disagrees, e.g. a father and son, is never auto-linked). Exactly one eligible candidate: linked, method
   ``score``. Otherwise, when the best score reaches the review threshold or several candidates are
   eligible: review. Otherwise unmatched.

Public API::

    settings = load_settings(date(2026, 5, 1))          # the version in force that day
    result = match_patients(incoming, members, links, settings)

`incoming` columns (only `source` and `source_patient_id` are required; absent ones are taken as empty):
``source, source_patient_id`` (str), ``identifiers`` (list of struct ``system, value, payer``: str),
``last_name, first_name`` (str), ``date_of_birth`` (date), ``sex`` (str: F/M/female/male; others count as
missing), ``address_line, city, zip, phone`` (str). `members`: ``member_id`` (int, required), ``payer_id,
payer_member_id, mbi, medicaid_id, last_name, first_name`` (str), ``other_last_names`` (list of str: former
or maiden names), ``date_of_birth`` (date), ``sex, address_line, city, zip, phone`` (str). `links`:
``source, source_patient_id, member_id``. Bad input raises `EngineInputError` naming the frame, the field
and the row (source and source patient id, or member id).

The result (`MatchResult.decisions`) has one row per incoming patient, in input order: ``source,
source_patient_id, decision`` (``linked``, ``review``, ``unmatched``), ``method`` (``confirmed``,
``identifier``, ``score`` or null), ``reason`` (why a review, or null), ``member_id`` (the linked member, or
for a review the member the identifier named or the best candidate), ``score`` (int, hundredths of a bit, of
that member's pair; null if none), ``agreement`` (struct of the six comparison levels of that pair; a level
is ``missing`` when either side lacks the field) and ``candidates`` (for reviews: up to `max_candidates`
structs ``member_id, score, eligible, last_name, first_name, date_of_birth, sex, address, phone``, best
first, among the pairs at or above the review threshold and the members an identifier named; empty
otherwise). `MatchResult.pairs` is the number of candidate pairs scored and
`MatchResult.settings` the version used.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from importlib import resources
from typing import Any

import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Indel, JaroWinkler

from openipa.core.engine.frames import EngineInputError, conform, require, require_not_null, require_unique

DATA_FILE = "matching.json"

COMPARISONS: dict[str, tuple[str, ...]] = {
    "last_name": ("exact", "part", "similar", "different"),
    "first_name": ("exact", "nickname", "similar", "initial", "different"),
    "date_of_birth": ("exact", "transposed", "one_digit", "different"),
    "sex": ("same", "different"),
    "address": ("exact", "similar", "zip", "different"),
    "phone": ("same", "different"),
}
MISSING = "missing"
LEVEL_CODES = {
    level: code
    for code, level in enumerate(
        dict.fromkeys([MISSING, *(lv for lvs in COMPARISONS.values() for lv in lvs)])
    )
}

IDENTIFIER = pl.Struct({"system": pl.Utf8, "value": pl.Utf8, "payer": pl.Utf8})

INCOMING_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "source": pl.Utf8,
    "source_patient_id": pl.Utf8,
    "identifiers": pl.List(IDENTIFIER),
    "last_name": pl.Utf8,
    "first_name": pl.Utf8,
    "date_of_birth": pl.Date,
    "sex": pl.Utf8,
    "address_line": pl.Utf8,
    "city": pl.Utf8,
    "zip": pl.Utf8,
    "phone": pl.Utf8,
}
MEMBER_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member_id": pl.Int64,
    "payer_id": pl.Utf8,
    "payer_member_id": pl.Utf8,
    "mbi": pl.Utf8,
    "medicaid_id": pl.Utf8,
    "last_name": pl.Utf8,
    "first_name": pl.Utf8,
    "other_last_names": pl.List(pl.Utf8),
    "date_of_birth": pl.Date,
    "sex": pl.Utf8,
    "address_line": pl.Utf8,
    "city": pl.Utf8,
    "zip": pl.Utf8,
    "phone": pl.Utf8,
}
LINK_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "source": pl.Utf8,
    "source_patient_id": pl.Utf8,
    "member_id": pl.Int64,
}
INCOMING_KEY = ("source", "source_patient_id")


@dataclass(frozen=True)
class MatchSettings:
    """One effective-dated version of the matching settings; weights and thresholds in hundredths of a bit."""

    version: str
    valid_from: date
    valid_to: date | None
    weights: Mapping[str, Mapping[str, int]]
    link_threshold: int
    review_threshold: int
    link_requires: Mapping[str, frozenset[str]]
    similarity: Mapping[str, float]
    max_block_size: int
    max_candidates: int
    identifier_systems: frozenset[str]
    name_suffixes: frozenset[str]
    address_abbreviations: Mapping[str, str]
    unit_designators: frozenset[str]
    nicknames: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MatchResult:
    decisions: pl.DataFrame
    pairs: int
    settings: MatchSettings


# ---------------------------------------------------------------------------------------------- settings


def _bad(where: str, message: str) -> EngineInputError:
    return EngineInputError(f"{where}: {message}")


def _field(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise _bad(where, f"missing field {key}")
    return obj[key]


def _decimal(value: Any, where: str) -> Decimal:
    if not isinstance(value, str):
        raise _bad(where, f"expected a decimal string, got {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _bad(where, f"not a decimal: {value!r}") from None
    if not number.is_finite():
        raise _bad(where, f"not a finite decimal: {value!r}")
    return number


def _date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _bad(where, f"not an ISO date: {value!r}") from None


def _hundredths(bits: Decimal) -> int:
    return int((bits * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def level_weight(m: Decimal, u: Decimal) -> int:
    """The weight of a level in hundredths of a bit: log2(m/u), rounded half-even to 0.01."""
    return _hundredths(Decimal(repr(math.log2(m / u))))


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _bad(where, "expected a list of strings")
    return list(value)


def _read_nicknames(text: str, where: str) -> tuple[tuple[str, str], ...]:
    rows = list(csv.reader(text.splitlines()))
    if not rows or [cell.strip() for cell in rows[0]] != ["formal", "nickname"]:
        raise _bad(f"{where}: line 1", "header must be formal,nickname")
    pairs: list[tuple[str, str]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 2 or not all(cell.strip().isalpha() for cell in row):
            raise _bad(f"{where}: line {number}", f"expected two names of letters, got {row!r}")
        pairs.append((row[0].strip().upper(), row[1].strip().upper()))
    return tuple(pairs)


def _parse_version(raw: Mapping[str, Any], where: str, nicknames: Mapping[str, str]) -> MatchSettings:
    weights: dict[str, dict[str, int]] = {}
    comparisons = _field(raw, "comparisons", where)
    for name, levels in COMPARISONS.items():
        table = _field(comparisons, name, f"{where}.comparisons")
        weights[name] = {}
        for level in levels:
            cell = _field(table, level, f"{where}.comparisons.{name}")
            probabilities = []
            for key in ("m", "u"):
                here = f"{where}.comparisons.{name}.{level}.{key}"
                value = _decimal(_field(cell, key, f"{where}.comparisons.{name}.{level}"), here)
                if not Decimal(0) < value <= Decimal(1):
                    raise _bad(here, f"a probability must be in (0, 1], got {value}")
                probabilities.append(value)
            weights[name][level] = level_weight(probabilities[0], probabilities[1])
        for key in ("m", "u"):
            mass = sum(_decimal(table[level][key], f"{where}.comparisons.{name}") for level in levels)
            if mass > Decimal("1.0001"):
                raise _bad(f"{where}.comparisons.{name}", f"the {key} probabilities sum to {mass} > 1")
    thresholds = _field(raw, "thresholds", where)
    link = _hundredths(
        _decimal(_field(thresholds, "link", f"{where}.thresholds"), f"{where}.thresholds.link")
    )
    review = _hundredths(
        _decimal(_field(thresholds, "review", f"{where}.thresholds"), f"{where}.thresholds.review")
    )
    if review > link:
        raise _bad(f"{where}.thresholds", "review must not exceed link")
    requires: dict[str, frozenset[str]] = {}
    for name, allowed in _field(raw, "link_requires", where).items():
        here = f"{where}.link_requires.{name}"
        if name not in COMPARISONS:
            raise _bad(here, f"unknown comparison {name}")
        permitted = _strings(allowed, here)
        unknown = set(permitted) - {*COMPARISONS[name], MISSING}
        if unknown:
            raise _bad(here, f"unknown level(s) {', '.join(sorted(unknown))}")
        requires[name] = frozenset(permitted)
    similarity: dict[str, float] = {}
    for name in ("last_name", "first_name", "address"):
        here = f"{where}.similarity.{name}"
        value = _decimal(_field(_field(raw, "similarity", where), name, f"{where}.similarity"), here)
        if not Decimal(0) < value <= Decimal(1):
            raise _bad(here, f"must be in (0, 1], got {value}")
        similarity[name] = float(value)
    block = _field(_field(raw, "blocking", where), "max_block_size", f"{where}.blocking")
    candidates = _field(raw, "max_candidates", where)
    for here, number in (
        (f"{where}.blocking.max_block_size", block),
        (f"{where}.max_candidates", candidates),
    ):
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise _bad(here, f"expected a positive integer, got {number!r}")
    abbreviations = _field(raw, "address_abbreviations", where)
    if not isinstance(abbreviations, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in abbreviations.items()
    ):
        raise _bad(f"{where}.address_abbreviations", "expected an object of strings")
    nickname_file = _field(raw, "nicknames", where)
    if nickname_file not in nicknames:
        raise _bad(f"{where}.nicknames", f"no data file {nickname_file!r}")
    valid_to_raw = _field(raw, "valid_to", where)
    version = _field(raw, "version", where)
    if not isinstance(version, str) or not version:
        raise _bad(f"{where}.version", "expected a non-empty string")
    return MatchSettings(
        version=version,
        valid_from=_date(_field(raw, "valid_from", where), f"{where}.valid_from"),
        valid_to=None if valid_to_raw is None else _date(valid_to_raw, f"{where}.valid_to"),
        weights=weights,
        link_threshold=link,
        review_threshold=review,
        link_requires=requires,
        similarity=similarity,
        max_block_size=block,
        max_candidates=candidates,
        identifier_systems=frozenset(
            _strings(_field(raw, "identifier_systems", where), f"{where}.identifier_systems")
        ),
        name_suffixes=frozenset(
            s.upper() for s in _strings(_field(raw, "name_suffixes", where), f"{where}.name_suffixes")
        ),
        address_abbreviations={k.upper(): v.upper() for k, v in abbreviations.items()},
        unit_designators=frozenset(
            u.upper() for u in _strings(_field(raw, "unit_designators", where), f"{where}.unit_designators")
        ),
        nicknames=_read_nicknames(nicknames[nickname_file], nickname_file),
    )


def parse_settings(text: str, on: date, nicknames: Mapping[str, str], name: str = DATA_FILE) -> MatchSettings:
    """Parse settings JSON `text` and return the version in force `on`; errors name `name` and the field."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise _bad(name, f"line {error.lineno}: {error.msg}") from None
    versions = _field(raw, "versions", name)
    if not isinstance(versions, list):
        raise _bad(f"{name}: versions", "expected a list")
    parsed = [_parse_version(item, f"{name}: versions[{n}]", nicknames) for n, item in enumerate(versions)]
    in_force = [v for v in parsed if v.valid_from <= on and (v.valid_to is None or on <= v.valid_to)]
    if len(in_force) != 1:
        found = (
            "no version"
            if not in_force
            else f"{len(in_force)} versions ({', '.join(v.version for v in in_force)})"
        )
        raise _bad(name, f"{found} in force on {on.isoformat()}")
    return in_force[0]


def load_settings(on: date) -> MatchSettings:
    """The shipped settings (`openipa/clinical/data/matching.json`) in force on `on`."""
    folder = resources.files("openipa.clinical").joinpath("data")
    text = folder.joinpath(DATA_FILE).read_text(encoding="utf-8")
    raw = json.loads(text)
    files = {v.get("nicknames") for v in raw.get("versions", []) if isinstance(v, dict)}
    nicknames = {f: folder.joinpath(f).read_text(encoding="utf-8") for f in files if isinstance(f, str)}
    return parse_settings(text, on, nicknames)


# ---------------------------------------------------------------------------------------- normalization


def soundex(name: str) -> str:
    """American Soundex of the letters of `name` (e.g. Robert and Rupert R163, Tymczak T522); '' if none."""
    letters = [c for c in name.upper() if "A" <= c <= "Z"]
    if not letters:
        return ""
    codes = {
        **dict.fromkeys("BFPV", "1"),
        **dict.fromkeys("CGJKQSXZ", "2"),
        **dict.fromkeys("DT", "3"),
        "L": "4",
        **dict.fromkeys("MN", "5"),
        "R": "6",
    }
    out = [letters[0]]
    previous = codes.get(letters[0], "")
    for c in letters[1:]:
        code = codes.get(c, "")
        if code and code != previous:
            out.append(code)
            if len(out) == 4:
                break
        if c not in "HW":
            previous = code
    return "".join(out).ljust(4, "0")


def _ascii_upper(column: str) -> pl.Expr:
    return pl.col(column).str.normalize("NFKD").str.to_uppercase()


def _letters(column: str) -> pl.Expr:
    key = _ascii_upper(column).str.replace_all(r"[^A-Z]", "")
    return pl.when(key.str.len_chars() > 0).then(key)


def _name_tokens(column: str, suffixes: Iterable[str]) -> pl.Expr:
    """Name parts (split at hyphens, spaces, commas), letters only, suffixes (JR, III...) dropped."""
    return (
        _ascii_upper(column)
        .str.replace_all(r"[^A-Z\s,\-/]", "")
        .str.replace_all(r"[\s,\-/]+", " ")
        .str.strip_chars()
        .str.split(" ")
        .list.eval(
            pl.element().filter((pl.element().str.len_chars() >= 2) & ~pl.element().is_in(list(suffixes)))
        )
    )


def _prepare(frame: pl.DataFrame, settings: MatchSettings, index: str) -> pl.DataFrame:
    suffixes = sorted(settings.name_suffixes)
    abbreviations = dict(settings.address_abbreviations)
    units = sorted(settings.unit_designators)
    zip5 = pl.col("zip").str.replace_all(r"[^0-9]", "")
    phone = pl.col("phone").str.replace_all(r"[^0-9]", "")
    phone10 = (
        pl.when((phone.str.len_chars() == 11) & phone.str.starts_with("1"))
        .then(phone.str.slice(1))
        .otherwise(phone)
    )
    sex = pl.col("sex").str.strip_chars().str.to_uppercase().str.slice(0, 1)
    address = (
        _ascii_upper("address_line")
        .str.replace_all(r"[^A-Z0-9]+", " ")
        .str.strip_chars()
        .str.split(" ")
        .list.eval(pl.element().replace(abbreviations))
        .list.eval(pl.element().filter(pl.element().str.len_chars() > 0))
        .list.join(" ")
    )
    # the line without its unit (APT 4, STE 200...): the building, for the "similar" address level
    building = (
        address.str.split(" ")
        .list.eval(pl.element().filter(pl.element().is_in(units).cum_sum() == 0))
        .list.join(" ")
    )
    tokens = _name_tokens("last_name", suffixes)
    last_key = tokens.list.join("")
    first_key = _name_tokens("first_name", suffixes).list.join("")
    # names repeat: normalize each distinct one once and join back
    last = (
        frame.select(pl.col("last_name").unique())
        .drop_nulls()
        .with_columns(
            ln=pl.when(last_key.str.len_chars() > 0).then(last_key).otherwise(_letters("last_name")),
            ln_parts=tokens,
        )
    )
    first = (
        frame.select(pl.col("first_name").unique())
        .drop_nulls()
        .with_columns(
            fn=pl.when(first_key.str.len_chars() > 0).then(first_key).otherwise(_letters("first_name"))
        )
    )
    dob = pl.col("date_of_birth")
    return (
        frame.with_row_index(index)
        .join(last, on="last_name", how="left", maintain_order="left")
        .join(first, on="first_name", how="left", maintain_order="left")
        .with_columns(
            dob=(
                dob.dt.year().cast(pl.Int32) * 10000
                + dob.dt.month().cast(pl.Int32) * 100
                + dob.dt.day().cast(pl.Int32)
            ),
            sx=pl.when(sex.is_in(["F", "M"])).then(sex),
            zip5=pl.when(zip5.str.len_chars() >= 5).then(zip5.str.slice(0, 5)),
            ph=pl.when(phone10.str.len_chars() == 10).then(phone10),
            addr=pl.when(address.str.len_chars() > 0).then(address),
            addrb=pl.when(building.str.len_chars() > 0).then(building),
        )
        .with_columns(
            fi=pl.col("fn").str.slice(0, 1),
            fn_short=pl.col("fn").str.len_chars() == 1,
            ln_multi=pl.col("ln_parts").list.len().fill_null(0) > 1,
        )
    )


# ------------------------------------------------------------------------------------------- validation


def _with_optional(frame: pl.DataFrame, schema: Mapping[str, Any], required: Iterable[str]) -> pl.DataFrame:
    missing = [c for c in schema if c not in frame.columns and c not in set(required)]
    return frame.with_columns(pl.lit(None, dtype=schema[c]).alias(c) for c in missing)


def _validate(
    incoming: pl.DataFrame, members: pl.DataFrame, links: pl.DataFrame, settings: MatchSettings
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    incoming = conform(_with_optional(incoming, INCOMING_SCHEMA, INCOMING_KEY), INCOMING_SCHEMA, "incoming")
    members = conform(_with_optional(members, MEMBER_SCHEMA, ["member_id"]), MEMBER_SCHEMA, "members")
    links = conform(links, LINK_SCHEMA, "links")
    require_not_null(incoming, INCOMING_KEY, INCOMING_KEY, "incoming")
    require_unique(incoming, INCOMING_KEY, "incoming")
    require_not_null(members, ["member_id"], ["member_id"], "members")
    require_unique(members, ["member_id"], "members")
    require(
        members,
        pl.col("payer_member_id").is_not_null() & pl.col("payer_id").is_null(),
        ["member_id"],
        "members: payer_member_id without payer_id",
    )
    require_not_null(links, LINK_SCHEMA, INCOMING_KEY, "links")
    require_unique(links, INCOMING_KEY, "links")
    require(
        links,
        ~pl.col("member_id").is_in(members["member_id"].implode()),
        [*INCOMING_KEY, "member_id"],
        "links: member_id is not among the members",
    )
    ids = incoming.select(*INCOMING_KEY, "identifiers").explode("identifiers").unnest("identifiers")
    ids = ids.filter(pl.any_horizontal(pl.col("system", "value", "payer").is_not_null()))
    systems = sorted(settings.identifier_systems)
    require(ids, pl.col("system").is_null(), INCOMING_KEY, "incoming: identifiers.system is empty")
    require(
        ids,
        ~pl.col("system").is_in(systems),
        [*INCOMING_KEY, "system"],
        f"incoming: identifiers.system is not one of {', '.join(systems)}",
    )
    require(ids, pl.col("value").is_null(), [*INCOMING_KEY, "system"], "incoming: identifiers.value is empty")
    require(
        ids,
        (pl.col("system") == "payer_member_id") & pl.col("payer").is_null(),
        [*INCOMING_KEY, "value"],
        "incoming: identifiers.payer is required for a payer_member_id",
    )
    return incoming, members, links


# ----------------------------------------------------------------------------------------------- blocking


def _block_keys(frame: pl.DataFrame, index: str, with_other_names: bool) -> pl.DataFrame:
    """Blocking keys of each row: D+birth date; S+Soundex of each last-name part (and former name)+birth
    year+first initial; Z+zip+first initial; P+phone; A+zip+address line (the household)."""
    year = (pl.col("dob") // 10000).cast(pl.Utf8)
    parts = frame.select(index, "dob", "fi", part=pl.col("ln_parts"))
    if with_other_names:
        parts = pl.concat([parts, frame.select(index, "dob", "fi", part=pl.col("other_names"))])
    parts = parts.explode("part").drop_nulls().filter(pl.col("part").str.len_chars() > 0).unique()
    names = parts["part"].unique()
    codes = pl.DataFrame({"part": names, "code": [soundex(n) for n in names.to_list()]})
    by_name = parts.join(codes, on="part").select(
        index, key=pl.lit("S") + pl.col("code") + year + pl.col("fi")
    )
    by_dob = frame.filter(pl.col("dob").is_not_null()).select(
        index, key=pl.lit("D") + pl.col("dob").cast(pl.Utf8)
    )
    by_zip = frame.filter(pl.col("zip5").is_not_null() & pl.col("fi").is_not_null()).select(
        index, key=pl.lit("Z") + pl.col("zip5") + pl.col("fi")
    )
    by_phone = frame.filter(pl.col("ph").is_not_null()).select(index, key=pl.lit("P") + pl.col("ph"))
    by_home = frame.filter(pl.col("addr").is_not_null() & pl.col("zip5").is_not_null()).select(
        index, key=pl.lit("A") + pl.col("zip5") + pl.col("addr")
    )
    # keys as 64-bit hashes (less memory than strings; a collision only adds a pair that is then scored)
    keys = pl.concat([by_name.drop_nulls(), by_dob, by_zip, by_phone, by_home])
    return keys.select(index, key=pl.col("key").hash(7)).unique()


def _candidate_pairs(inc: pl.DataFrame, mem: pl.DataFrame, settings: MatchSettings) -> pl.DataFrame:
    inc_keys = _block_keys(inc, "_i", with_other_names=False)
    mem_keys = _block_keys(mem, "_m", with_other_names=True)
    sizes = mem_keys.group_by("key").len()
    kept = mem_keys.join(sizes.filter(pl.col("len") <= settings.max_block_size).select("key"), on="key")
    return inc_keys.join(kept, on="key").select("_i", "_m").unique()


# --------------------------------------------------------------------------------------------- comparing


def _similarity(
    a: pl.Series, b: pl.Series, need: pl.Series, vocabulary: list[str], scorer: Any, cutoff: float
) -> pl.Series:
    """Similarity (0..1) of the strings with ids a[k] and b[k] where `need` is true and the similarity
    reaches `cutoff`; 0 elsewhere. Each distinct pair of strings is scored once, grouped by the first string
    so rapidfuzz's `process.extract` loops over the second ones in C++."""
    frame = pl.DataFrame({"a": a, "b": b, "need": need})
    todo = (
        frame.filter(pl.col("need") & pl.col("a").is_not_null() & pl.col("b").is_not_null())
        .select("a", "b")
        .unique()
        .group_by("a")
        .agg("b")
    )
    words = vocabulary
    hit_a: list[int] = []
    hit_b: list[int] = []
    hit_s: list[float] = []
    for x, ys in zip(todo["a"].to_list(), todo["b"].to_list(), strict=True):
        choices = [words[y] for y in ys]
        for _choice, score, position in process.extract(
            words[x], choices, scorer=scorer, score_cutoff=cutoff, limit=None
        ):
            hit_a.append(x)
            hit_b.append(ys[position])
            hit_s.append(score)
    hits = pl.DataFrame(
        {"a": hit_a, "b": hit_b, "s": hit_s},
        schema={"a": frame.schema["a"], "b": frame.schema["b"], "s": pl.Float64},
    )
    return frame.join(hits, on=["a", "b"], how="left", maintain_order="left")["s"].fill_null(0.0)


def _nickname_pairs(
    a: pl.Series, b: pl.Series, vocabulary: pl.DataFrame, settings: MatchSettings
) -> pl.Series:
    """True where names a[k] and b[k] (ids) are nicknames of one another or of one formal name (Bob, Rob)."""
    groups = (
        pl.DataFrame(
            [(formal, formal) for formal, _ in settings.nicknames]
            + [(nick, formal) for formal, nick in settings.nicknames],
            schema={"name": pl.Utf8, "formal": pl.Utf8},
            orient="row",
        )
        .unique()
        .join(vocabulary, left_on="name", right_on="word")
        .select("id", "formal")
    )
    known = groups["id"].implode()
    pairs = pl.DataFrame({"a": a, "b": b}).with_row_index("k")
    todo = pairs.filter((pl.col("a") != pl.col("b")) & pl.col("a").is_in(known) & pl.col("b").is_in(known))
    left = todo.join(groups, left_on="a", right_on="id").select("k", "formal")
    right = todo.join(groups, left_on="b", right_on="id").select("k", "formal")
    hits = left.join(right, on=["k", "formal"]).select("k").unique()
    return pairs.select(pl.col("k").is_in(hits["k"].implode()))["k"]


def _encode(inc: pl.DataFrame, mem: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Replace the compared strings (last name, first name, address) by ids into one shared vocabulary, so
    millions of pairs carry integers; return both frames and the vocabulary (id, word)."""
    columns = ("ln", "fn", "addr", "addrb")
    words = pl.concat([frame.select(pl.col(c).alias("word")) for frame in (inc, mem) for c in columns])
    vocabulary = words.drop_nulls().unique().sort("word").with_row_index("id")
    encoded = []
    for frame in (inc, mem):
        for column in columns:
            frame = frame.join(
                vocabulary.rename({"word": column, "id": f"{column}_id"}),
                on=column,
                how="left",
                maintain_order="left",
            )
        encoded.append(frame)
    return encoded[0], encoded[1], vocabulary


def _digit_differences(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return pl.sum_horizontal(((a // 10**p) % 10 != (b // 10**p) % 10).cast(pl.Int32) for p in range(8))


def _both(column: str) -> pl.Expr:
    return pl.col(column).is_not_null() & pl.col(f"{column}_r").is_not_null()


def _same(column: str) -> pl.Expr:
    return pl.col(column) == pl.col(f"{column}_r")


def _identifier_value(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")


def _weight(name: str, settings: MatchSettings) -> pl.Expr:
    """The weight (hundredths of a bit) of the level code in column `name`; 0 for missing."""
    weights = {**settings.weights[name], MISSING: 0}
    return pl.col(name).replace_strict(
        {LEVEL_CODES[level]: w for level, w in weights.items()}, return_dtype=pl.Int64
    )


def _compare(
    pairs: pl.DataFrame,
    inc: pl.DataFrame,
    mem: pl.DataFrame,
    vocabulary: pl.DataFrame,
    settings: MatchSettings,
) -> pl.DataFrame:
    """Levels (as LEVEL_CODES), weights and the score (hundredths of a bit) of each (_i, _m) pair.

    `inc` and `mem` are prepared and encoded (`_prepare`, `_encode`): `_i` and `_m` are their row numbers."""
    compared = [
        "ln_id",
        "fn_id",
        "fi",
        "fn_short",
        "addr_id",
        "addrb_id",
        "dob",
        "sx",
        "zip5",
        "ph",
        "ln_multi",
    ]
    letters = {chr(c): c - 64 for c in range(65, 91)}
    numeric = [  # the short strings as numbers, so the millions of gathered rows carry no strings
        pl.col("fi").replace_strict(letters, default=None, return_dtype=pl.UInt8),
        pl.col("sx").replace_strict({"F": 1, "M": 2}, default=None, return_dtype=pl.UInt8),
        pl.col("zip5").cast(pl.Int32),
        pl.col("ph").cast(pl.Int64),
    ]
    left = inc.with_columns(numeric).select(pl.col(*compared).gather(pairs["_i"]))
    right = (
        mem.with_columns(numeric)
        .select(pl.col("member_id", *compared).gather(pairs["_m"]))
        .rename({c: f"{c}_r" for c in compared})
    )
    frame = pl.concat([pairs, left, right], how="horizontal")
    words = vocabulary["word"].to_list()
    # last name parts in common, or the incoming name equal to a former (maiden) name of the member: only
    # pairs whose names differ and where either side has several parts or the member a former name
    todo = frame.with_row_index("k").filter(
        (pl.col("ln_id") != pl.col("ln_id_r")) & (pl.col("ln_multi") | pl.col("ln_multi_r"))
    )
    parts_l = (
        todo.select("k", "_i")
        .join(inc.select("_i", p=pl.concat_list(pl.col("ln_parts").fill_null([]), pl.col("ln"))), on="_i")
        .select("k", "p")
        .explode("p")
    )
    parts_r = (
        todo.select("k", "_m")
        .join(
            mem.select("_m", p=pl.concat_list(pl.col("ln_parts").fill_null([]), pl.col("other_names"))),
            on="_m",
        )
        .select("k", "p")
        .explode("p")
    )
    shared = parts_l.drop_nulls().join(parts_r.drop_nulls(), on=["k", "p"]).select("k").unique()
    frame = frame.with_columns(ln_part=pl.int_range(pl.len(), dtype=pl.UInt32).is_in(shared["k"].implode()))
    jaro = JaroWinkler.normalized_similarity
    sim = settings.similarity
    frame = frame.with_columns(
        ln_sim=_similarity(
            frame["ln_id"],
            frame["ln_id_r"],
            frame["ln_id"] != frame["ln_id_r"],
            words,
            jaro,
            sim["last_name"],
        ),
        fn_nick=_nickname_pairs(frame["fn_id"], frame["fn_id_r"], vocabulary, settings),
    )
    initial = (pl.col("fn_short") | pl.col("fn_short_r")) & _same("fi")
    d_l, d_r = pl.col("dob"), pl.col("dob_r")
    transposed = (
        ((d_l // 10000) == (d_r // 10000))
        & ((d_l // 100) % 100 == d_r % 100)
        & (d_l % 100 == (d_r // 100) % 100)
    )
    levels = {
        "last_name": pl.when(~_both("ln_id"))
        .then(pl.lit(LEVEL_CODES[MISSING], dtype=pl.UInt8))
        .when(_same("ln_id"))
        .then(pl.lit(LEVEL_CODES["exact"], dtype=pl.UInt8))
        .when(pl.col("ln_part"))
        .then(pl.lit(LEVEL_CODES["part"], dtype=pl.UInt8))
        .when(pl.col("ln_sim") >= sim["last_name"])
        .then(pl.lit(LEVEL_CODES["similar"], dtype=pl.UInt8))
        .otherwise(pl.lit(LEVEL_CODES["different"], dtype=pl.UInt8)),
        "first_name": pl.when(~_both("fn_id"))
        .then(pl.lit(LEVEL_CODES[MISSING], dtype=pl.UInt8))
        .when(_same("fn_id"))
        .then(pl.lit(LEVEL_CODES["exact"], dtype=pl.UInt8))
        .when(pl.col("fn_nick"))
        .then(pl.lit(LEVEL_CODES["nickname"], dtype=pl.UInt8))
        .when(pl.col("fn_sim") >= sim["first_name"])
        .then(pl.lit(LEVEL_CODES["similar"], dtype=pl.UInt8))
        .when(initial)
        .then(pl.lit(LEVEL_CODES["initial"], dtype=pl.UInt8))
        .otherwise(pl.lit(LEVEL_CODES["different"], dtype=pl.UInt8)),
        "date_of_birth": pl.when(~_both("dob"))
        .then(pl.lit(LEVEL_CODES[MISSING], dtype=pl.UInt8))
        .when(_same("dob"))
        .then(pl.lit(LEVEL_CODES["exact"], dtype=pl.UInt8))
        .when(transposed)
        .then(pl.lit(LEVEL_CODES["transposed"], dtype=pl.UInt8))
        .when(_digit_differences(d_l, d_r) == 1)
        .then(pl.lit(LEVEL_CODES["one_digit"], dtype=pl.UInt8))
        .otherwise(pl.lit(LEVEL_CODES["different"], dtype=pl.UInt8)),
        "sex": pl.when(~_both("sx"))
        .then(pl.lit(LEVEL_CODES[MISSING], dtype=pl.UInt8))
        .when(_same("sx"))
        .then(pl.lit(LEVEL_CODES["same"], dtype=pl.UInt8))
        .otherwise(pl.lit(LEVEL_CODES["different"], dtype=pl.UInt8)),
        "address": pl.when(~_both("zip5") & ~_both("addr_id"))
        .then(pl.lit(LEVEL_CODES[MISSING], dtype=pl.UInt8))
        .when(_same("addr_id") & (_same("zip5") | ~_both("zip5")))
        .then(pl.lit(LEVEL_CODES["exact"], dtype=pl.UInt8))
        .when(((pl.col("addr_sim") >= sim["address"]) | _same("addrb_id")) & (_same("zip5") | ~_both("zip5")))
        .then(pl.lit(LEVEL_CODES["similar"], dtype=pl.UInt8))
        .when(_same("addr_id") & _both("zip5"))
        .then(pl.lit(LEVEL_CODES["similar"], dtype=pl.UInt8))
        .when(_same("zip5"))
        .then(pl.lit(LEVEL_CODES["zip"], dtype=pl.UInt8))
        .otherwise(pl.lit(LEVEL_CODES["different"], dtype=pl.UInt8)),
        "phone": pl.when(~_both("ph"))
        .then(pl.lit(LEVEL_CODES[MISSING], dtype=pl.UInt8))
        .when(_same("ph"))
        .then(pl.lit(LEVEL_CODES["same"], dtype=pl.UInt8))
        .otherwise(pl.lit(LEVEL_CODES["different"], dtype=pl.UInt8)),
    }
    # Staged: the string similarities of first names and addresses are computed only for pairs that could
    # still reach the review threshold with the best level of the fields not yet compared (and for the
    # pairs an identifier or a decision names); a pruned pair scores below the review threshold whatever
    # its similarity, so no decision changes.
    best = {name: max(settings.weights[name].values()) for name in COMPARISONS}
    cheap = ["last_name", "date_of_birth", "sex", "phone"]
    frame = frame.with_columns(**{name: levels[name] for name in cheap})
    frame = frame.with_columns(partial=pl.sum_horizontal(_weight(name, settings) for name in cheap))
    reachable = pl.col("partial") + best["first_name"] + best["address"] >= settings.review_threshold
    need = frame.select((pl.col("fn_id") != pl.col("fn_id_r")) & (reachable | pl.col("keep")))["fn_id"]
    frame = frame.with_columns(
        fn_sim=_similarity(frame["fn_id"], frame["fn_id_r"], need, words, jaro, sim["first_name"])
    )
    frame = frame.with_columns(first_name=levels["first_name"]).with_columns(
        partial=pl.col("partial") + _weight("first_name", settings)
    )
    zip_agrees = _same("zip5") | ~_both("zip5")
    reachable = pl.col("partial") + best["address"] >= settings.review_threshold
    need = frame.select(
        (pl.col("addr_id") != pl.col("addr_id_r"))
        & zip_agrees.fill_null(False)
        & (reachable | pl.col("keep"))
    )["addr_id"]
    frame = frame.with_columns(
        addr_sim=_similarity(
            frame["addr_id"], frame["addr_id_r"], need, words, Indel.normalized_similarity, sim["address"]
        )
    )
    frame = frame.with_columns(address=levels["address"]).select(
        "_i", "_m", "member_id", "keep", *COMPARISONS
    )
    weights = [_weight(name, settings) for name in COMPARISONS]
    eligible = (
        pl.all_horizontal(
            pl.col(name).is_in(sorted(LEVEL_CODES[level] for level in allowed))
            for name, allowed in settings.link_requires.items()
        )
        if settings.link_requires
        else pl.lit(True)
    )
    frame = frame.with_columns(score=pl.sum_horizontal(weights))
    return frame.with_columns(eligible=eligible & (pl.col("score") >= settings.link_threshold))


# ---------------------------------------------------------------------------------------------- matching


def _identifier_hits(inc: pl.DataFrame, mem: pl.DataFrame) -> pl.DataFrame:
    """(_i, member_id) for each member an identifier of incoming patient _i names."""
    ids = (
        inc.select("_i", "identifiers")
        .explode("identifiers")
        .unnest("identifiers")
        .filter(pl.col("system").is_in(["mbi", "medicaid", "payer_member_id"]))
        .select(
            "_i",
            "system",
            payer=pl.when(pl.col("system") == "payer_member_id")
            .then(pl.col("payer").str.strip_chars())
            .otherwise(pl.lit("")),
            value=_identifier_value(pl.col("value")),
        )
    )
    keys = pl.concat(
        [
            mem.select(
                "member_id", system=pl.lit("mbi"), payer=pl.lit(""), value=_identifier_value(pl.col("mbi"))
            ),
            mem.select(
                "member_id",
                system=pl.lit("medicaid"),
                payer=pl.lit(""),
                value=_identifier_value(pl.col("medicaid_id")),
            ),
            mem.select(
                "member_id",
                system=pl.lit("payer_member_id"),
                payer=pl.col("payer_id").str.strip_chars(),
                value=_identifier_value(pl.col("payer_member_id")),
            ),
        ]
    ).filter(pl.col("value").str.len_chars() > 0)
    return (
        ids.filter(pl.col("value").str.len_chars() > 0)
        .join(keys, on=["system", "payer", "value"])
        .select("_i", "member_id")
        .unique()
    )


_AGREEMENT = list(COMPARISONS)


def match_patients(
    incoming: pl.DataFrame, members: pl.DataFrame, links: pl.DataFrame, settings: MatchSettings
) -> MatchResult:
    """Decide, for each incoming patient, linked / review / unmatched (see the module docstring)."""
    incoming, members, links = _validate(incoming, members, links, settings)
    inc = _prepare(incoming, settings, "_i")
    mem = _prepare(members, settings, "_m")
    other_names = pl.col("other_last_names").list.eval(
        pl.element().str.normalize("NFKD").str.to_uppercase().str.replace_all(r"[^A-Z]", "")
    )
    mem = mem.with_columns(other_names=other_names.fill_null([])).with_columns(
        ln_multi=pl.col("ln_multi") | (pl.col("other_names").list.len() > 0)
    )
    inc, mem, vocabulary = _encode(inc, mem)
    member_index = mem.select("member_id", "_m")

    confirmed = inc.join(links, on=list(INCOMING_KEY)).select("_i", "member_id")
    hits = _identifier_hits(inc, mem).filter(~pl.col("_i").is_in(confirmed["_i"].implode()))
    named = (
        hits.group_by("_i")
        .agg(n=pl.len(), member_id=pl.col("member_id").min())
        .join(inc.select("_i", "dob"), on="_i")
        .join(mem.select("member_id", dob_r="dob"), on="member_id")
    )
    by_identifier = named.filter((pl.col("n") == 1) & (pl.col("dob") == pl.col("dob_r"))).select(
        "_i", "member_id"
    )
    conflict = named.filter(~pl.col("_i").is_in(by_identifier["_i"].implode())).select(
        "_i",
        member_id=pl.when(pl.col("n") == 1).then(pl.col("member_id")),
        reason=pl.when(pl.col("n") == 1)
        .then(pl.lit("identifier_birth_date_conflict"))
        .otherwise(pl.lit("identifier_names_several_members")),
    )
    decided = pl.concat([confirmed["_i"], by_identifier["_i"]])
    undecided = inc.filter(~pl.col("_i").is_in(decided.implode()))

    blocked = _candidate_pairs(undecided, mem, settings)
    named_pairs = (
        hits.filter(~pl.col("_i").is_in(decided.implode()))
        .join(member_index, on="member_id")
        .select("_i", "_m")
    )
    decided_pairs = (
        pl.concat([confirmed, by_identifier]).join(member_index, on="member_id").select("_i", "_m")
    )
    # pairs below the review threshold only matter where an identifier or a decision names them (keep)
    pairs = (
        pl.concat(
            [
                blocked.with_columns(keep=pl.lit(False)),
                named_pairs.cast(blocked.schema).with_columns(keep=pl.lit(True)),
                decided_pairs.cast(blocked.schema).with_columns(keep=pl.lit(True)),
            ]
        )
        .group_by("_i", "_m")
        .agg(pl.col("keep").any())
        .sort("_i", "_m")
    )
    scored = _compare(pairs, inc, mem, vocabulary, settings)
    scored = scored.filter((pl.col("score") >= settings.review_threshold) | pl.col("keep")).with_columns(
        pl.col(name).replace_strict({c: lv for lv, c in LEVEL_CODES.items()}, return_dtype=pl.Utf8)
        for name in COMPARISONS
    )
    ranked = scored.sort(["_i", "score", "member_id"], descending=[False, True, False])
    per_patient = ranked.group_by("_i", maintain_order=True).agg(
        n_eligible=pl.col("eligible").sum(),
        eligible_member=pl.col("member_id").filter(pl.col("eligible")).first(),
        best_member=pl.col("member_id").first(),
        best_score=pl.col("score").first(),
        candidates=pl.struct("member_id", "score", "eligible", *_AGREEMENT).head(settings.max_candidates),
    )
    rule = (
        undecided.select("_i")
        .join(per_patient, on="_i", how="left")
        .join(conflict, on="_i", how="left")
        .with_columns(n_eligible=pl.col("n_eligible").fill_null(0))
    )
    rule = rule.select(
        "_i",
        "candidates",
        decision=pl.when(pl.col("reason").is_not_null())
        .then(pl.lit("review"))
        .when(pl.col("n_eligible") == 1)
        .then(pl.lit("linked"))
        .when((pl.col("n_eligible") > 1) | (pl.col("best_score") >= settings.review_threshold))
        .then(pl.lit("review"))
        .otherwise(pl.lit("unmatched")),
        method=pl.when(pl.col("reason").is_null() & (pl.col("n_eligible") == 1)).then(pl.lit("score")),
        reason=pl.when(pl.col("reason").is_not_null())
        .then(pl.col("reason"))
        .when(pl.col("n_eligible") == 1)
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(pl.col("n_eligible") > 1)
        .then(pl.lit("several_candidates_eligible"))
        .when(pl.col("best_score") >= settings.link_threshold)
        .then(pl.lit("link_requirements_not_met"))
        .when(pl.col("best_score") >= settings.review_threshold)
        .then(pl.lit("score_between_thresholds")),
        member_id=pl.when(pl.col("reason").is_not_null() & pl.col("member_id").is_not_null())
        .then(pl.col("member_id"))
        .when(pl.col("n_eligible") == 1)
        .then(pl.col("eligible_member"))
        .when(pl.col("n_eligible") > 1)
        .then(pl.col("eligible_member"))
        .when(pl.col("best_score") >= settings.review_threshold)
        .then(pl.col("best_member")),
    )
    fixed = pl.concat(
        [
            confirmed.with_columns(decision=pl.lit("linked"), method=pl.lit("confirmed")),
            by_identifier.with_columns(decision=pl.lit("linked"), method=pl.lit("identifier")),
        ]
    ).with_columns(reason=pl.lit(None, dtype=pl.Utf8))
    outcome = pl.concat([fixed, rule.drop("candidates")], how="diagonal_relaxed")
    chosen = outcome.join(
        scored.select("_i", "member_id", "score", agreement=pl.struct(*_AGREEMENT)),
        on=["_i", "member_id"],
        how="left",
    )
    candidate_lists = rule.filter(pl.col("decision") == "review").select("_i", "candidates")
    empty = pl.lit([], dtype=per_patient.schema["candidates"])
    decisions = (
        inc.select("_i", *INCOMING_KEY)
        .join(chosen, on="_i", how="left")
        .join(candidate_lists, on="_i", how="left")
        .sort("_i")
        .select(
            *INCOMING_KEY,
            "decision",
            "method",
            "reason",
            pl.col("member_id").cast(pl.Int64),
            "score",
            "agreement",
            pl.col("candidates").fill_null(empty),
        )
    )
    return MatchResult(decisions=decisions, pairs=pairs.height, settings=settings)
