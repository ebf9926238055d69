"""The engine's input frames, their checks, and the coded events the measures look at.

Frames (Polars ``DataFrame``; ``member_id`` of one dtype, String or integer, in all of them; dates ``Date``):

* ``members``: ``member_id``, ``birth_date``, ``sex`` (``F``/``M``), optional ``death_date`` (null if alive);
* ``enrollment``: ``member_id``, ``start_date``, ``end_date`` (null = open);
* ``claims`` (one row per claim line): ``claim_line_id``, ``member_id``, ``service_date``,
  ``diagnosis_codes`` (list of ICD-10-CM), ``procedure_codes`` (list of CPT, CPT II, HCPCS or ICD-10-PCS);
  optional ``place_of_service``;
* ``pharmacy``: ``fill_id``, ``member_id``, ``ndc``, ``fill_date``, ``days_supply`` (a number, not negative;
  null when unknown: the fill counts as dispensed but covers no day);
* ``clinical`` (observations incl. blood-pressure components, HbA1c and GMI; immunizations; procedures):
  ``clinical_id``, ``member_id``, ``code_system``, ``code``, ``value`` (Float64, null if none), ``unit``,
  ``observed_date``;
* ``encounters``: ``encounter_id``, ``member_id``, ``code_system``, ``code``, ``encounter_date``.

Only ``members`` and ``enrollment`` are required; a missing source is an empty frame.

``coded_events`` turns the sources into one frame (``EVENT_SCHEMA``: member_id, value_set, date,
evidence_id, value), keeping only codes found in the given value sets. A pharmacy fill's ``value`` is its
days supply (the PDC condition reads it); a clinical row's is its result. Evidence ids name the source row:
``claim:<claim_line_id>``, ``rx:<fill_id>``, ``clinical:<clinical_id>``, ``encounter:<encounter_id>``.
Errors are ``MeasureInputError`` naming the frame, the row (0-based) and the column.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .valuesets import CODE_SYSTEMS, code_expr, normalize_system


class MeasureInputError(ValueError):
    """An input frame the engine cannot use: the message names the frame, row and column."""


_DATE = pl.Date
_COLUMNS: dict[str, dict[str, object]] = {
    "members": {"member_id": None, "birth_date": _DATE, "sex": pl.String},
    "enrollment": {"member_id": None, "start_date": _DATE, "end_date": _DATE},
    "claims": {
        "claim_line_id": None,
        "member_id": None,
        "service_date": _DATE,
        "diagnosis_codes": pl.List(pl.String),
        "procedure_codes": pl.List(pl.String),
    },
    "pharmacy": {
        "fill_id": None,
        "member_id": None,
        "ndc": pl.String,
        "fill_date": _DATE,
        "days_supply": None,
    },
    "clinical": {
        "clinical_id": None,
        "member_id": None,
        "code_system": pl.String,
        "code": pl.String,
        "value": pl.Float64,
        "observed_date": _DATE,
    },
    "encounters": {
        "encounter_id": None,
        "member_id": None,
        "code_system": pl.String,
        "code": pl.String,
        "encounter_date": _DATE,
    },
}
_NOT_NULL: dict[str, tuple[str, ...]] = {
    "members": ("member_id", "birth_date", "sex"),
    "enrollment": ("member_id", "start_date"),
    "claims": ("claim_line_id", "member_id", "service_date"),
    "pharmacy": ("fill_id", "member_id", "ndc", "fill_date"),
    "clinical": ("clinical_id", "member_id", "code_system", "code", "observed_date"),
    "encounters": ("encounter_id", "member_id", "code_system", "code", "encounter_date"),
}

EVENT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member_id": pl.String,
    "value_set": pl.String,
    "date": pl.Date,
    "evidence_id": pl.String,
    "value": pl.Float64,
}


@dataclass(frozen=True)
class MeasureInputs:
    members: pl.DataFrame
    enrollment: pl.DataFrame
    claims: pl.DataFrame | None = None
    pharmacy: pl.DataFrame | None = None
    clinical: pl.DataFrame | None = None
    encounters: pl.DataFrame | None = None

    def frames(self) -> dict[str, pl.DataFrame]:
        out = {"members": self.members, "enrollment": self.enrollment}
        for name in ("claims", "pharmacy", "clinical", "encounters"):
            frame = getattr(self, name)
            if frame is not None:
                out[name] = frame
        return out


def _first_row(frame: pl.DataFrame, mask: pl.Expr) -> int:
    return int(frame.with_row_index("_row").filter(mask)["_row"][0])


def validate(inputs: MeasureInputs) -> None:
    """Raise ``MeasureInputError`` for a missing column, a wrong dtype or a null where one is not allowed."""
    member_dtype = inputs.members.schema.get("member_id")
    for name, frame in inputs.frames().items():
        for column, dtype in _COLUMNS[name].items():
            if column not in frame.columns:
                raise MeasureInputError(f"{name}: missing column {column!r}")
            actual = frame.schema[column]
            if dtype is not None and actual != dtype:
                raise MeasureInputError(f"{name}: column {column!r} is {actual}, expected {dtype}")
        if frame.schema["member_id"] != member_dtype:
            raise MeasureInputError(
                f"{name}: column 'member_id' is {frame.schema['member_id']}, but members' is {member_dtype}"
            )
        for column in _NOT_NULL[name]:
            nulls = frame[column].null_count()
            if nulls:
                row = _first_row(frame, pl.col(column).is_null())
                raise MeasureInputError(f"{name}: row {row}: column {column!r} is empty")
    members = inputs.members
    if members["member_id"].n_unique() != members.height:
        row = _first_row(members, ~pl.col("member_id").is_first_distinct())
        raise MeasureInputError(
            f"members: row {row}: column 'member_id' repeats {members['member_id'][row]!r}"
        )
    pharmacy = inputs.pharmacy
    if pharmacy is not None:
        supply = pharmacy.schema["days_supply"]
        if not supply.is_numeric():
            raise MeasureInputError(f"pharmacy: column 'days_supply' is {supply}, expected a number of days")
        negative = pl.col("days_supply") < 0
        if pharmacy.select(negative.any()).item():
            row = _first_row(pharmacy, negative)
            raise MeasureInputError(
                f"pharmacy: row {row}: column 'days_supply' is {pharmacy['days_supply'][row]}, a negative supply"
            )
    bad_sex = ~pl.col("sex").is_in(["F", "M"])
    if members.select(bad_sex.any()).item():
        row = _first_row(members, bad_sex)
        raise MeasureInputError(
            f"members: row {row}: column 'sex' is {members['sex'][row]!r}, expected F or M"
        )
    enrollment = inputs.enrollment
    backwards = pl.col("end_date") < pl.col("start_date")
    if enrollment.select(backwards.any()).item():
        row = _first_row(enrollment, backwards)
        raise MeasureInputError(f"enrollment: row {row}: column 'end_date' is before start_date")
    for name in ("clinical", "encounters"):
        coded = inputs.frames().get(name)
        if coded is None:
            continue
        frame = coded
        systems = frame["code_system"].unique().to_list()
        unknown = [s for s in systems if normalize_system(s) is None]
        if unknown:
            row = _first_row(frame, pl.col("code_system").is_in(unknown))
            raise MeasureInputError(
                f"{name}: row {row}: column 'code_system' is {frame['code_system'][row]!r}, not a known code system"
            )


def _system_column(frame: pl.DataFrame) -> pl.Expr:
    mapping = {s: normalize_system(s) for s in frame["code_system"].unique().to_list()}
    return pl.col("code_system").replace_strict(mapping, return_dtype=pl.String)


def _mapping(raw: pl.DataFrame, system: pl.Expr | str, codes: pl.DataFrame) -> pl.DataFrame:
    """The value sets of each distinct raw code of ``raw`` (its ``raw`` column, and ``code_system`` when the
    system varies by row). Codes are normalized once per distinct code, not once per row."""
    family = (
        pl.lit(CODE_SYSTEMS[system])
        if isinstance(system, str)
        else system.replace_strict(CODE_SYSTEMS, return_dtype=pl.String)
    )
    return (
        raw.with_columns(code_expr(system, pl.col("raw")).alias("code"), family.alias("family"))
        .join(codes, on=["family", "code"], how="inner")
        .drop("code", "family")
    )


def coded_events(inputs: MeasureInputs, value_sets: pl.DataFrame) -> pl.DataFrame:
    """Every coded event of the sources whose code is in ``value_sets``, one row per (event, value set)."""
    return _coded_events(inputs, value_sets, None)


def _coded_events(inputs: MeasureInputs, value_sets: pl.DataFrame, keys: pl.DataFrame | None) -> pl.DataFrame:
    """``coded_events``; with ``keys`` (``member_id`` as in the inputs, ``key``), each event's ``member_id``
    is the member's key instead, and rows of members not in ``keys`` are left out (the engine's own form:
    joins on a small integer are cheaper than on strings)."""
    codes = value_sets.select("family", "code", "value_set").unique()
    member = pl.col("member_id").cast(pl.String) if keys is None else pl.col("member_id")

    def owned(frame: pl.LazyFrame) -> pl.LazyFrame:
        if keys is None:
            return frame
        return (
            frame.join(keys.lazy(), on="member_id", how="inner")
            .drop("member_id")
            .rename({"key": "member_id"})
        )

    parts: list[pl.LazyFrame] = []
    no_value = pl.lit(None, dtype=pl.Float64).alias("value")
    if inputs.claims is not None and inputs.claims.height:
        claims = owned(
            inputs.claims.lazy().select(
                "member_id",
                pl.col("service_date").alias("date"),
                pl.concat_str(pl.lit("claim:"), pl.col("claim_line_id").cast(pl.String)).alias("evidence_id"),
                "diagnosis_codes",
                "procedure_codes",
            )
        )
        for column, system in (("diagnosis_codes", "ICD10CM"), ("procedure_codes", "CPT")):
            raw = inputs.claims.select(pl.col(column).explode().drop_nulls().unique().alias("raw"))
            mapping = _mapping(raw, system, codes)
            parts.append(
                claims.select(member, "date", "evidence_id", pl.col(column).alias("raw"), no_value)
                .explode("raw")
                .join(mapping.lazy(), on="raw", how="inner")
            )
    if inputs.pharmacy is not None and inputs.pharmacy.height:
        raw = inputs.pharmacy.select(pl.col("ndc").unique().alias("raw"))
        mapping = _mapping(raw, "NDC", codes)
        rx = owned(
            inputs.pharmacy.lazy().select(
                "member_id",
                pl.col("fill_date").alias("date"),
                pl.concat_str(pl.lit("rx:"), pl.col("fill_id").cast(pl.String)).alias("evidence_id"),
                pl.col("ndc").alias("raw"),
                pl.col("days_supply").cast(pl.Float64).alias("value"),
            )
        )
        parts.append(rx.select(member, pl.exclude("member_id")).join(mapping.lazy(), on="raw", how="inner"))
    for name, ident, date_column, prefix in (
        ("clinical", "clinical_id", "observed_date", "clinical:"),
        ("encounters", "encounter_id", "encounter_date", "encounter:"),
    ):
        source = inputs.frames().get(name)
        if source is None or not source.height:
            continue
        frame = source
        raw = frame.select("code_system", pl.col("code").alias("raw")).unique()
        mapping = _mapping(raw, _system_column(frame), codes)
        value = pl.col("value") if "value" in frame.columns else no_value
        coded = owned(
            frame.lazy().select(
                "member_id",
                pl.col(date_column).alias("date"),
                pl.concat_str(pl.lit(prefix), pl.col(ident).cast(pl.String)).alias("evidence_id"),
                "code_system",
                pl.col("code").alias("raw"),
                value.alias("value"),
            )
        )
        parts.append(
            coded.select(member, pl.exclude("member_id")).join(
                mapping.lazy(), on=["code_system", "raw"], how="inner"
            )
        )
    if not parts:
        schema = dict(EVENT_SCHEMA) if keys is None else {**EVENT_SCHEMA, "member_id": keys.schema["key"]}
        return pl.DataFrame(schema=schema)
    return pl.concat([p.select(list(EVENT_SCHEMA)) for p in parts]).collect()
