"""Code edits as data: NCCI-style procedure-to-procedure pairs and medically unlikely edits (MUEs).

Both edits look at the lines of one claim on one date of service and return findings, one row per line an
edit looked at (FINDING_SCHEMA: line_id, rule, outcome "deny" or "ok", carc, rarc, denied_units, message).
The adjudication decides what to do with them; nothing here changes a line.

Procedure-to-procedure (PTP) pairs, `ptp_edits`: a pair (column 1 code, column 2 code) in force on the date
of service, with both codes on the claim that date, denies the column-2 line, according to the pair's
modifier indicator:

- 0: the codes are never paid together; the column-2 line is denied whatever its modifiers;
- 1: a bypass modifier (59, XE, XS, XP, XU, 25, 91... `DEFAULT_BYPASS_MODIFIERS`, overridable) on either
  line allows both; the finding is then "ok" and says which modifier bypassed the edit;
- 9: the edit does not apply (a pair deleted back to its effective date); no finding.

The default reason codes are CARC 97 ("the benefit for this service is included in the payment/allowance for
another service/procedure that has already been adjudicated") with RARC M15 ("separately billed
services/tests have been bundled as they are considered components of the same procedure"); CARC 236
(incompatible per NCCI) is the alternative some payers use, and the codes are parameters.

Medically unlikely edits, `mue_edits`: a code's maximum units per day and its MUE adjudication indicator
(MAI): MAI 1 is a line edit (each line's units against the maximum); MAI 2 and 3 are date-of-service edits
(the units of all the claim's lines with the code that date, summed). Units above the maximum are denied
(`denied_units`); with MAI 2/3 the excess is taken from the highest line_id back. Medicare itself denies the
whole line: pass ``deny_whole_line=True`` for that. Default codes: CARC 151 ("payment adjusted because the
payer deems the information submitted does not support this many/frequency of services") with RARC N362
("the number of days or units of service exceeds our acceptable maximum").

Readers `read_ptp_csv` and `read_mue_csv` take simple CSV versions of the two tables (columns documented on
each function and in docs/claims-pricing.md); errors name the file, line and column.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Collection
from pathlib import Path

import polars as pl

from openipa.claims.engine.pricing import pick_version
from openipa.contracts.engine.rbrvs import ScheduleFileError
from openipa.core.engine.frames import EngineInputError, Schema, conform, require, require_not_null

DEFAULT_BYPASS_MODIFIERS = frozenset(
    {"59", "XE", "XS", "XP", "XU", "91", "24", "25", "57", "58", "78", "79", "27", "LT", "RT"}
)
"""NCCI-associated modifiers that bypass a pair with modifier indicator 1 (anatomic, global surgery, separate
encounter, repeat test and distinct service modifiers)."""
PTP_CARC, PTP_RARC = "97", "M15"
MUE_CARC, MUE_RARC = "151", "N362"

EDIT_LINE_SCHEMA: Schema = {
    "line_id": pl.Int64,
    "claim_id": pl.Int64,
    "service_date": pl.Date,
    "code": pl.String,
    "modifiers": pl.List(pl.String),
    "units": pl.Int64,
}
PTP_SCHEMA: Schema = {
    "column1": pl.String,
    "column2": pl.String,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "modifier_indicator": pl.Int8,
}
"""`valid_to` is the last date of service the pair applies to (the day before NCCI's deletion date)."""
MUE_SCHEMA: Schema = {
    "code": pl.String,
    "max_units": pl.Int64,
    "mai": pl.Int8,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
FINDING_SCHEMA: Schema = {
    "line_id": pl.Int64,
    "rule": pl.String,
    "outcome": pl.String,
    "carc": pl.String,
    "rarc": pl.String,
    "denied_units": pl.Int64,
    "message": pl.String,
}


def _check_lines(lines: pl.DataFrame) -> pl.DataFrame:
    frame = conform(lines, EDIT_LINE_SCHEMA, "lines")
    require_not_null(frame, ["line_id", "claim_id", "service_date", "code", "units"], ["line_id"], "lines")
    require(frame, pl.col("line_id").is_duplicated(), ["line_id"], "lines: line_id repeats")
    require(frame, pl.col("units") < 1, ["line_id"], "lines: units must be at least 1")
    return frame.with_columns(
        pl.col("code").str.strip_chars().str.to_uppercase(),
        pl.col("modifiers")
        .fill_null(pl.lit([], dtype=pl.List(pl.String)))
        .list.eval(pl.element().str.strip_chars().str.to_uppercase()),
    )


def ptp_edits(
    lines: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    bypass_modifiers: Collection[str] = DEFAULT_BYPASS_MODIFIERS,
    carc: str = PTP_CARC,
    rarc: str = PTP_RARC,
) -> pl.DataFrame:
    """Apply procedure-to-procedure pairs within each claim and date of service; return FINDING_SCHEMA rows,
    one per (column-2 line, column-1 line) pair that applies, ordered by line_id then the column-1 line."""
    line = _check_lines(lines)
    pair = conform(pairs, PTP_SCHEMA, "ptp_pairs")
    require_not_null(pair, ["column1", "column2", "modifier_indicator"], ["column1", "column2"], "ptp_pairs")
    require(
        pair,
        ~pl.col("modifier_indicator").is_in([0, 1, 9]),
        ["column1", "column2"],
        "ptp_pairs: modifier_indicator must be 0, 1 or 9",
    )
    pair = pair.with_columns(pl.col("column1").str.to_uppercase(), pl.col("column2").str.to_uppercase())
    first = line.select(
        "claim_id",
        "service_date",
        pl.col("line_id").alias("column1_line"),
        pl.col("code").alias("column1"),
        pl.col("modifiers").alias("column1_modifiers"),
    )
    second = line.select(
        "claim_id", "service_date", "line_id", pl.col("code").alias("column2"), "modifiers", "units"
    )
    candidates = (
        second.join(first, on=["claim_id", "service_date"])
        .filter(pl.col("line_id") != pl.col("column1_line"))
        .join(pair, on=["column1", "column2"])
    )
    hits = pick_version(
        candidates,
        "service_date",
        ["line_id", "column1_line"],
        "ptp_pairs",
        ["column1", "column2", "line_id"],
    ).filter(pl.col("modifier_indicator") != 9)
    bypass = sorted(bypass_modifiers)
    used = pl.concat_list("modifiers", "column1_modifiers").list.set_intersection(pl.lit(bypass)).list.sort()
    hits = hits.with_columns(bypass=used.list.first())
    allowed = (pl.col("modifier_indicator") == 1) & pl.col("bypass").is_not_null()
    result = hits.with_columns(
        rule=pl.lit("ncci_ptp"),
        outcome=pl.when(allowed).then(pl.lit("ok")).otherwise(pl.lit("deny")),
        carc=pl.when(allowed).then(None).otherwise(pl.lit(carc)),
        rarc=pl.when(allowed).then(None).otherwise(pl.lit(rarc)),
        denied_units=pl.when(allowed).then(pl.lit(0, dtype=pl.Int64)).otherwise(pl.col("units")),
        message=pl.when(allowed)
        .then(
            pl.format(
                "{} with {} (line {}) allowed by modifier {}", "column2", "column1", "column1_line", "bypass"
            )
        )
        .when(pl.col("modifier_indicator") == 0)
        .then(
            pl.format(
                "{} is a column-2 code of {} (line {}); modifier indicator 0: never paid together",
                "column2",
                "column1",
                "column1_line",
            )
        )
        .otherwise(
            pl.format(
                "{} is a column-2 code of {} (line {}); modifier indicator 1: no bypass modifier on either line",
                "column2",
                "column1",
                "column1_line",
            )
        ),
    ).sort("line_id", "column1_line")
    return result.select([pl.col(c).cast(t) for c, t in FINDING_SCHEMA.items()])


def mue_edits(
    lines: pl.DataFrame,
    mues: pl.DataFrame,
    *,
    deny_whole_line: bool = False,
    carc: str = MUE_CARC,
    rarc: str = MUE_RARC,
) -> pl.DataFrame:
    """Check units against medically unlikely edits; return FINDING_SCHEMA rows, one per line whose code has
    an MUE in force on its date ("ok" within the limit, "deny" with the units denied), ordered by line_id."""
    line = _check_lines(lines)
    mue = conform(mues, MUE_SCHEMA, "mues")
    require_not_null(mue, ["code", "max_units", "mai"], ["code"], "mues")
    require(mue, ~pl.col("mai").is_in([1, 2, 3]), ["code", "mai"], "mues: mai must be 1, 2 or 3")
    require(mue, pl.col("max_units") < 0, ["code", "max_units"], "mues: max_units is negative")
    mue = mue.with_columns(pl.col("code").str.to_uppercase())
    checked = pick_version(
        line.join(mue, on="code"), "service_date", ["line_id"], "mues", ["code", "line_id"]
    )
    group = ["claim_id", "service_date", "code"]
    checked = checked.sort("line_id").with_columns(
        day_units=pl.col("units").sum().over(group),
        # units on this code's later lines of the same claim and date (for taking the excess from the end)
        later_units=(pl.col("units").sum().over(group) - pl.col("units").cum_sum().over(group)),
    )
    line_edit = pl.col("mai") == 1
    excess = (
        pl.when(line_edit)
        .then(pl.col("units") - pl.col("max_units"))
        .otherwise(pl.col("day_units") - pl.col("max_units"))
    )
    over = excess > 0
    share = (
        pl.when(line_edit).then(excess).otherwise((excess - pl.col("later_units")).clip(0, pl.col("units")))
    )
    denied = pl.when(over).then(pl.col("units") if deny_whole_line else share).otherwise(0)
    checked = checked.with_columns(denied_units=denied.cast(pl.Int64)).with_columns(
        deny=pl.col("denied_units") > 0,
        basis=pl.when(line_edit).then(pl.lit("on the line")).otherwise(pl.lit("on the date of service")),
        billed=pl.when(line_edit).then(pl.col("units")).otherwise(pl.col("day_units")),
    )
    result = checked.with_columns(
        rule=pl.lit("mue"),
        outcome=pl.when("deny").then(pl.lit("deny")).otherwise(pl.lit("ok")),
        carc=pl.when("deny").then(pl.lit(carc)).otherwise(None),
        rarc=pl.when("deny").then(pl.lit(rarc)).otherwise(None),
        message=pl.format(
            "{}: {} unit(s) {} against a maximum of {} (MAI {}); {} unit(s) denied on this line",
            "code",
            "billed",
            "basis",
            "max_units",
            "mai",
            "denied_units",
        ),
    ).sort("line_id")
    return result.select([pl.col(c).cast(t) for c, t in FINDING_SCHEMA.items()])


# --- readers for simple CSV versions of the tables ----------------------------------------------------------


def _date(path: Path, line: int, column: str, text: str, *, open_ok: bool) -> dt.date | None:
    value = text.strip()
    if not value or value == "*":
        if open_ok:
            return None
        raise ScheduleFileError(f"{path}: line {line}: column {column}: empty")
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ScheduleFileError(f"{path}: line {line}: column {column}: not a date: {text!r}")


def _int(path: Path, line: int, column: str, text: str) -> int:
    value = text.strip()
    if not value.isdigit():
        raise ScheduleFileError(f"{path}: line {line}: column {column}: not a whole number: {text!r}")
    return int(value)


def _csv_rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ScheduleFileError(f"{path}: cannot read: {error}") from None
    reader = csv.DictReader(text.splitlines())
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    if missing:
        raise ScheduleFileError(f"{path}: line 1: missing column(s) {', '.join(missing)}")
    rows: list[tuple[int, dict[str, str]]] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "") for k, v in raw.items()}
        if any(value.strip() for value in row.values()):
            rows.append((number, row))
    return rows


def read_ptp_csv(path: str | Path) -> pl.DataFrame:
    """Read a PTP pair table: CSV with a header row and the columns ``column1, column2, effective_date,
    deletion_date, modifier_indicator`` (any order, extra columns ignored). Dates are YYYY-MM-DD, YYYYMMDD or
    MM/DD/YYYY; an empty or ``*`` deletion date means the pair is still in force. The pair applies to dates of
    service from effective_date up to the day before deletion_date. Returns a frame shaped like PTP_SCHEMA."""
    source = Path(path)
    columns = ("column1", "column2", "effective_date", "deletion_date", "modifier_indicator")
    out: dict[str, list[object]] = {name: [] for name in PTP_SCHEMA}
    for line, row in _csv_rows(source, columns):
        for column in ("column1", "column2"):
            if not row[column].strip():
                raise ScheduleFileError(f"{source}: line {line}: column {column}: empty")
        indicator = _int(source, line, "modifier_indicator", row["modifier_indicator"])
        if indicator not in (0, 1, 9):
            raise ScheduleFileError(f"{source}: line {line}: column modifier_indicator: must be 0, 1 or 9")
        start = _date(source, line, "effective_date", row["effective_date"], open_ok=False)
        deleted = _date(source, line, "deletion_date", row["deletion_date"], open_ok=True)
        out["column1"].append(row["column1"].strip().upper())
        out["column2"].append(row["column2"].strip().upper())
        out["valid_from"].append(start)
        out["valid_to"].append(deleted - dt.timedelta(days=1) if deleted is not None else None)
        out["modifier_indicator"].append(indicator)
    return pl.DataFrame(out, schema=PTP_SCHEMA)


def read_mue_csv(path: str | Path) -> pl.DataFrame:
    """Read an MUE table: CSV with a header row and the columns ``code, max_units, mai, valid_from, valid_to``
    (valid_to may be empty: open). MAI is 1, 2 or 3. Returns a frame shaped like MUE_SCHEMA."""
    source = Path(path)
    out: dict[str, list[object]] = {name: [] for name in MUE_SCHEMA}
    for line, row in _csv_rows(source, ("code", "max_units", "mai", "valid_from", "valid_to")):
        if not row["code"].strip():
            raise ScheduleFileError(f"{source}: line {line}: column code: empty")
        mai = _int(source, line, "mai", row["mai"])
        if mai not in (1, 2, 3):
            raise ScheduleFileError(f"{source}: line {line}: column mai: must be 1, 2 or 3")
        out["code"].append(row["code"].strip().upper())
        out["max_units"].append(_int(source, line, "max_units", row["max_units"]))
        out["mai"].append(mai)
        out["valid_from"].append(_date(source, line, "valid_from", row["valid_from"], open_ok=True))
        out["valid_to"].append(_date(source, line, "valid_to", row["valid_to"], open_ok=True))
    return pl.DataFrame(out, schema=MUE_SCHEMA)


__all__ = [
    "DEFAULT_BYPASS_MODIFIERS",
    "EDIT_LINE_SCHEMA",
    "FINDING_SCHEMA",
    "MUE_SCHEMA",
    "PTP_SCHEMA",
    "EngineInputError",
    "ScheduleFileError",
    "mue_edits",
    "ptp_edits",
    "read_mue_csv",
    "read_ptp_csv",
]
