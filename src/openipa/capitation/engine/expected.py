"""Expected capitation: what the contract says the plan owes for each member-month.

One output row per input member-month, always, so reconciliation can line expected up against received:
a member-month the contract cannot price (no term in force, no rate cell, no premium, no birth date) is
kept with `expected_cents` 0 and a `problem` saying why, rather than silently dropped.

The work that depends on the contract, not on the member, is done once per distinct key and joined back:
terms are resolved per (product, month) and rate cells per (term, product, age, sex), so a million
member-months cost a handful of small joins and a few column expressions. docs/capitation-rules.md explains
each basis and proration rule to users, with the worked numbers the golden tests use.
"""

from __future__ import annotations

import polars as pl

from openipa.core.engine.frames import (
    Schema,
    conform,
    require,
    require_amount,
    require_factor,
    require_not_null,
    require_unique,
)
from openipa.core.engine.rounding import half_up, half_up_by

BASES = ("pmpm_table", "percent_of_premium", "risk_adjusted")
PRORATIONS = ("cutoff", "daily")
SEXES = ("F", "M", "U")
DEFAULT_RAF_MILLI = 1000
"""The RAF assumed (1.000) for a risk-adjusted member-month with no score; the row says it was assumed."""

MEMBER_MONTH_SCHEMA: Schema = {
    "member_id": pl.Int64,
    "month": pl.Date,
    "product_id": pl.Int64,
    "birth_date": pl.Date,
    "sex": pl.String,
    "covered_days": pl.Int32,
    "first_covered_day": pl.Int32,
    "days_in_month": pl.Int32,
}
TERM_SCHEMA: Schema = {
    "term_id": pl.Int64,
    "product_id": pl.Int64,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "basis": pl.String,
    "percent_milli": pl.Int64,
    "risk_base_cents": pl.Int64,
    "proration": pl.String,
    "cutoff_day": pl.Int32,
    "age_reference_month": pl.Int32,
}
RATE_CELL_SCHEMA: Schema = {
    "term_id": pl.Int64,
    "rate_cell_id": pl.Int64,
    "product_id": pl.Int64,
    "age_min": pl.Int32,
    "age_max": pl.Int32,
    "sex": pl.String,
    "pmpm_cents": pl.Int64,
}
PREMIUM_SCHEMA: Schema = {"member_id": pl.Int64, "month": pl.Date, "premium_cents": pl.Int64}
RAF_SCHEMA: Schema = {"member_id": pl.Int64, "month": pl.Date, "raf_milli": pl.Int64}
EXPECTED_SCHEMA: Schema = {
    "member_id": pl.Int64,
    "month": pl.Date,
    "product_id": pl.Int64,
    "term_id": pl.Int64,
    "basis": pl.String,
    "age": pl.Int32,
    "rate_cell_id": pl.Int64,
    "full_month_cents": pl.Int64,
    "proration_factor": pl.String,
    "expected_cents": pl.Int64,
    "raf_milli": pl.Int64,
    "raf_assumed": pl.Boolean,
    "problem": pl.String,
}
"""The output: one row per input member-month, in input order."""

_MM_KEY = ("member_id", "month", "product_id")


def _checked_member_months(frame: pl.DataFrame) -> pl.DataFrame:
    name = "member_months"
    mm = conform(frame, MEMBER_MONTH_SCHEMA, name)
    require_not_null(mm, [c for c in MEMBER_MONTH_SCHEMA if c != "birth_date"], _MM_KEY, name)
    require(mm, pl.col("month").dt.day() != 1, _MM_KEY, f"{name}: month is not the first day of a month")
    require(mm, ~pl.col("sex").is_in(SEXES), _MM_KEY, f"{name}: sex must be F, M or U")
    require(
        mm,
        pl.col("days_in_month") != pl.col("month").dt.days_in_month().cast(pl.Int32),
        _MM_KEY,
        f"{name}: days_in_month does not match the month",
    )
    require(
        mm,
        (pl.col("first_covered_day") < 1) | (pl.col("first_covered_day") > pl.col("days_in_month")),
        _MM_KEY,
        f"{name}: first_covered_day is not a day of the month",
    )
    require(
        mm,
        (pl.col("covered_days") < 1)
        | (pl.col("covered_days") > pl.col("days_in_month") - pl.col("first_covered_day") + 1),
        _MM_KEY,
        f"{name}: covered_days must be between 1 and the days left in the month from first_covered_day",
    )
    require(
        mm,
        pl.col("birth_date") > pl.col("month").dt.month_end(),
        _MM_KEY,
        f"{name}: birth_date is after the month",
    )
    require_unique(mm, _MM_KEY, name)
    return mm


def _checked_terms(frame: pl.DataFrame) -> pl.DataFrame:
    name = "terms"
    key = ("term_id", "product_id")
    terms = conform(frame, TERM_SCHEMA, name)
    require_not_null(
        terms, ["term_id", "product_id", "valid_from", "basis", "proration", "age_reference_month"], key, name
    )
    require(terms, ~pl.col("basis").is_in(BASES), key, f"{name}: basis must be one of {', '.join(BASES)}")
    require(
        terms,
        ~pl.col("proration").is_in(PRORATIONS),
        key,
        f"{name}: proration must be one of {', '.join(PRORATIONS)}",
    )
    require(
        terms,
        (pl.col("proration") == "cutoff")
        & (pl.col("cutoff_day").is_null() | ~pl.col("cutoff_day").is_between(1, 31)),
        key,
        f"{name}: a cutoff term needs a cutoff_day from 1 to 31",
    )
    require(
        terms,
        ~pl.col("age_reference_month").is_between(1, 12),
        key,
        f"{name}: age_reference_month must be from 1 to 12",
    )
    require(
        terms,
        (pl.col("basis") == "percent_of_premium") & pl.col("percent_milli").is_null(),
        key,
        f"{name}: a percent_of_premium term needs percent_milli",
    )
    require_factor(terms, "percent_milli", key, name)
    require(
        terms,
        (pl.col("basis") == "risk_adjusted") & pl.col("risk_base_cents").is_null(),
        key,
        f"{name}: a risk_adjusted term needs risk_base_cents",
    )
    require_amount(terms, "risk_base_cents", key, name)
    require(terms, pl.col("valid_to") < pl.col("valid_from"), key, f"{name}: valid_to is before valid_from")
    require_unique(terms, key, name)
    ordered = terms.sort("product_id", "valid_from").with_columns(
        pl.col("term_id").shift(1).over("product_id").alias("previous_term"),
        pl.col("valid_to").shift(1).over("product_id").alias("previous_to"),
    )
    require(
        ordered,
        pl.col("previous_term").is_not_null()
        & (pl.col("previous_to").is_null() | (pl.col("valid_from") <= pl.col("previous_to"))),
        ("product_id", "previous_term", "term_id"),
        f"{name}: two terms are in force for the same product on the same day",
    )
    return terms


def _checked_rate_cells(frame: pl.DataFrame) -> pl.DataFrame:
    name = "rate_cells"
    key = ("term_id", "rate_cell_id")
    cells = conform(frame, RATE_CELL_SCHEMA, name)
    require_not_null(cells, RATE_CELL_SCHEMA, key, name)
    require(cells, ~pl.col("sex").is_in(SEXES), key, f"{name}: sex must be F, M or U")
    require(
        cells,
        (pl.col("age_min") < 0) | (pl.col("age_max") < pl.col("age_min")),
        key,
        f"{name}: the age band must have 0 <= age_min <= age_max",
    )
    require_amount(cells, "pmpm_cents", key, name)
    require_unique(cells, key, name)
    ordered = cells.sort("term_id", "product_id", "sex", "age_min").with_columns(
        pl.col("rate_cell_id").shift(1).over("term_id", "product_id", "sex").alias("previous_cell"),
        pl.col("age_max").shift(1).over("term_id", "product_id", "sex").alias("previous_max"),
    )
    require(
        ordered,
        pl.col("previous_cell").is_not_null() & (pl.col("age_min") <= pl.col("previous_max")),
        ("term_id", "product_id", "sex", "previous_cell", "rate_cell_id"),
        f"{name}: two cells of the same sex overlap in age",
    )
    return cells


def _checked_per_member_month(frame: pl.DataFrame | None, schema: Schema, name: str) -> pl.DataFrame:
    if frame is None:
        return pl.DataFrame(schema=schema)
    checked = conform(frame, schema, name)
    require_not_null(checked, schema, ("member_id", "month"), name)
    require_unique(checked, ("member_id", "month"), name)
    return checked


def _terms_in_force(mm: pl.DataFrame, terms: pl.DataFrame) -> pl.DataFrame:
    """Return (product_id, month) -> the one term row in force on the month's first day."""
    return (
        mm.select("product_id", "month")
        .unique()
        .join(terms, on="product_id", how="inner")
        .filter(
            (pl.col("valid_from") <= pl.col("month"))
            & (pl.col("valid_to").is_null() | (pl.col("month") <= pl.col("valid_to")))
        )
        .drop("valid_from", "valid_to")
    )


def _age() -> pl.Expr:
    """Age in whole years on the 1st of `age_reference_month` of the service month's year, at least 0.

    On a 1st of the month the birthday has passed unless the birth month is later, or is the same month
    and the birth day is after the 1st. A member born after that reference day (a newborn) is age 0.
    """
    birth = pl.col("birth_date")
    reference = pl.col("age_reference_month")
    not_yet = (birth.dt.month().cast(pl.Int32) > reference) | (
        (birth.dt.month().cast(pl.Int32) == reference) & (birth.dt.day() > 1)
    )
    years = pl.col("month").dt.year().cast(pl.Int32) - birth.dt.year().cast(pl.Int32)
    return (years - not_yet.cast(pl.Int32)).clip(lower_bound=0).cast(pl.Int32)


def _rate_cell_matches(priced: pl.DataFrame, cells: pl.DataFrame) -> pl.DataFrame:
    """Return (term_id, product_id, age, sex) -> the matching cell; a sex-specific cell beats a "U" cell."""
    keys = (
        priced.filter((pl.col("basis") == "pmpm_table") & pl.col("age").is_not_null())
        .select("term_id", "product_id", "age", "sex")
        .unique()
    )
    return (
        keys.join(cells.rename({"sex": "cell_sex"}), on=["term_id", "product_id"], how="inner")
        .filter(
            pl.col("age").is_between(pl.col("age_min"), pl.col("age_max"))
            & ((pl.col("cell_sex") == pl.col("sex")) | (pl.col("cell_sex") == "U"))
        )
        .sort("term_id", "product_id", "age", "sex", pl.col("cell_sex") == "U")
        .unique(["term_id", "product_id", "age", "sex"], keep="first", maintain_order=True)
        .select("term_id", "product_id", "age", "sex", "rate_cell_id", "pmpm_cents")
    )


def _full_month() -> pl.Expr:
    basis = pl.col("basis")
    return (
        pl.when(basis == "pmpm_table")
        .then(pl.col("pmpm_cents"))
        .when(basis == "percent_of_premium")
        .then(half_up(pl.col("premium_cents"), pl.col("percent_milli"), 100_000))
        .when(basis == "risk_adjusted")
        .then(half_up(pl.col("risk_base_cents"), pl.col("raf_milli"), 1000))
    )


def _prorated() -> pl.Expr:
    full = pl.col("full_month_cents")
    counts = pl.col("first_covered_day") <= pl.col("cutoff_day")
    return (
        pl.when(pl.col("proration") == "cutoff")
        .then(pl.when(counts).then(full).otherwise(0))
        .when(pl.col("proration") == "daily")
        .then(half_up_by(full, pl.col("covered_days").cast(pl.Int64), pl.col("days_in_month").cast(pl.Int64)))
        .fill_null(0)
    )


def _proration_factor() -> pl.Expr:
    day, cutoff = pl.col("first_covered_day"), pl.col("cutoff_day")
    return (
        pl.when(pl.col("proration") == "daily")
        .then(pl.format("{}/{}", pl.col("covered_days"), pl.col("days_in_month")))
        .when((pl.col("proration") == "cutoff") & (day <= cutoff))
        .then(pl.format("full month: coverage starts day {} <= cutoff day {}", day, cutoff))
        .when(pl.col("proration") == "cutoff")
        .then(pl.format("none: coverage starts day {} > cutoff day {}", day, cutoff))
    )


def _problem() -> pl.Expr:
    basis = pl.col("basis")
    return (
        pl.when(pl.col("term_id").is_null())
        .then(
            pl.format("no contract term in force for product {} on {}", pl.col("product_id"), pl.col("month"))
        )
        .when((basis == "pmpm_table") & pl.col("birth_date").is_null())
        .then(pl.lit("no birth date, so no age to choose a rate cell"))
        .when((basis == "pmpm_table") & pl.col("rate_cell_id").is_null())
        .then(
            pl.format(
                "no rate cell in term {} for product {}, age {}, sex {}",
                pl.col("term_id"),
                pl.col("product_id"),
                pl.col("age"),
                pl.col("sex"),
            )
        )
        .when((basis == "percent_of_premium") & pl.col("premium_cents").is_null())
        .then(pl.lit("no premium for this member-month"))
    )


def expected_capitation(
    member_months: pl.DataFrame,
    terms: pl.DataFrame,
    rate_cells: pl.DataFrame,
    premiums: pl.DataFrame | None = None,
    raf: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Return the capitation the contract terms say is due for each member-month (EXPECTED_SCHEMA).

    Inputs follow MEMBER_MONTH_SCHEMA, TERM_SCHEMA, RATE_CELL_SCHEMA, PREMIUM_SCHEMA and RAF_SCHEMA (extra
    columns are ignored). The term in force is the product's term whose valid_from <= month <= valid_to
    (or open); the full-month amount follows its basis and is then prorated (cutoff or daily), every
    product rounded half-up to a cent. Rows keep the input order. Raise EngineInputError for unusable
    input: a missing column, an impossible value, duplicate rows, overlapping terms or rate cells.
    """
    mm = _checked_member_months(member_months)
    checked_terms = _checked_terms(terms)
    cells = _checked_rate_cells(rate_cells)
    premium = _checked_per_member_month(premiums, PREMIUM_SCHEMA, "premiums")
    require_amount(premium, "premium_cents", ("member_id", "month"), "premiums")
    scores = _checked_per_member_month(raf, RAF_SCHEMA, "raf")
    require_factor(scores, "raf_milli", ("member_id", "month"), "raf")

    priced = mm.join(
        _terms_in_force(mm, checked_terms), on=["product_id", "month"], how="left", maintain_order="left"
    ).with_columns(_age().alias("age"))
    priced = (
        priced.join(
            _rate_cell_matches(priced, cells),
            on=["term_id", "product_id", "age", "sex"],
            how="left",
            nulls_equal=False,
            maintain_order="left",
        )
        .join(premium, on=["member_id", "month"], how="left", maintain_order="left")
        .join(
            scores.rename({"raf_milli": "raf_given"}),
            on=["member_id", "month"],
            how="left",
            maintain_order="left",
        )
    )
    risk = pl.col("basis") == "risk_adjusted"
    priced = priced.with_columns(
        pl.when(risk)
        .then(pl.col("raf_given").fill_null(DEFAULT_RAF_MILLI))
        .otherwise(pl.col("raf_given"))
        .alias("raf_milli"),
        (risk & pl.col("raf_given").is_null()).fill_null(False).alias("raf_assumed"),
    )
    priced = priced.with_columns(
        _full_month().alias("full_month_cents"), _problem().alias("problem")
    ).with_columns(_prorated().alias("expected_cents"), _proration_factor().alias("proration_factor"))
    return priced.select([pl.col(column).cast(dtype) for column, dtype in EXPECTED_SCHEMA.items()])
