"""The engine's input frames, their checks, and the coded events the measures look at.

Frames (Polars ``DataFrame``; ``member_id`` of one dtype, String or integer, in all of them; dates ``Date``):

* ``members``: ``member_id``, ``birth_date``, ``sex`` (``F``/``M``), optional ``death_date`` (null if alive);
* ``enrollment``: ``member_id``, ``start_date``, ``end_date`` (null = open);
* ``claims`` (one row per claim line): ``claim_line_id``, ``member_id``, ``service_date``,
  ``diagnosis_codes`` (list of ICD-10-CM), ``procedure_codes`` (list of CPT, CPT II, HCPCS or ICD-10-PCS);
  optional ``place_of_service``;
* ``pharmacy``: ``fill_id``, ``member_id``, ``ndc``, ``fill_date``, ``days_supply``;
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


def _tag(events: pl.LazyFrame, codes: pl.LazyFrame) -> pl.LazyFrame:
    return events.join(codes, on=["family", "code"], how="inner").select(
        pl.col("member_id").cast(pl.String), "value_set", "date", "evidence_id", "value"
    )


def coded_events(inputs: MeasureInputs, value_sets: pl.DataFrame) -> pl.DataFrame:
    """Every coded event of the sources whose code is in ``value_sets``, one row per (event, value set)."""
    codes = value_sets.select("family", "code", "value_set").unique().lazy()
    parts: list[pl.LazyFrame] = []
    no_value = pl.lit(None, dtype=pl.Float64).alias("value")
    if inputs.claims is not None and inputs.claims.height:
        claims = inputs.claims.lazy().select(
            "member_id",
            pl.col("service_date").alias("date"),
            pl.concat_str(pl.lit("claim:"), pl.col("claim_line_id").cast(pl.String)).alias("evidence_id"),
            "diagnosis_codes",
            "procedure_codes",
        )
        for column, family in (("diagnosis_codes", "DX"), ("procedure_codes", "PX")):
            system = "ICD10CM" if family == "DX" else "CPT"
            exploded = (
                claims.select("member_id", "date", "evidence_id", pl.col(column).alias("code"))
                .explode("code")
                .filter(pl.col("code").is_not_null())
                .with_columns(code_expr(system, pl.col("code")), pl.lit(family).alias("family"), no_value)
            )
            parts.append(_tag(exploded, codes))
    if inputs.pharmacy is not None and inputs.pharmacy.height:
        rx = inputs.pharmacy.lazy().select(
            "member_id",
            pl.col("fill_date").alias("date"),
            pl.concat_str(pl.lit("rx:"), pl.col("fill_id").cast(pl.String)).alias("evidence_id"),
            code_expr("NDC", pl.col("ndc")).alias("code"),
            pl.lit("NDC").alias("family"),
            pl.col("days_supply").cast(pl.Float64).alias("value"),
        )
        parts.append(_tag(rx, codes))
    for name, ident, date_column, prefix in (
        ("clinical", "clinical_id", "observed_date", "clinical:"),
        ("encounters", "encounter_id", "encounter_date", "encounter:"),
    ):
        source = inputs.frames().get(name)
        if source is None or not source.height:
            continue
        frame = source
        system_expr = _system_column(frame)
        family_expr = system_expr.replace_strict(CODE_SYSTEMS, return_dtype=pl.String)
        value = pl.col("value") if "value" in frame.columns else no_value
        coded = frame.lazy().select(
            "member_id",
            pl.col(date_column).alias("date"),
            pl.concat_str(pl.lit(prefix), pl.col(ident).cast(pl.String)).alias("evidence_id"),
            code_expr(system_expr, pl.col("code")).alias("code"),
            family_expr.alias("family"),
            value.alias("value"),
        )
        parts.append(_tag(coded, codes))
    if not parts:
        return pl.DataFrame(schema=EVENT_SCHEMA)
    return pl.concat([p.select(list(EVENT_SCHEMA)) for p in parts]).collect()
