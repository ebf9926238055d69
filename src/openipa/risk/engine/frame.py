"""The beneficiary frame every scorer takes (``score`` for the CMS-HCC and RxHCC models, ``esrd`` for the
ESRD model): its columns and codes, their checks, the ``Scores`` result, and the small exact helpers both use
(age on February 1, thousandths). Pure: no Django. Re-exported by ``score``, its public face."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

REQUIRED = ("member_id", "date_of_birth", "sex", "orec", "medicaid", "diagnosis_codes")
OPTIONAL = ("lti", "new_enrollee", "snp", "low_income")
SEXES = ("M", "F", "1", "2")
ORECS = ("0", "1", "2", "3")
DUAL_CODES = tuple(f"{i:02d}" for i in range(11))
FULL_DUAL = ("02", "04", "08")
PARTIAL_DUAL = ("01", "03", "05", "06")
MEDICAID = tuple(f"{i:02d}" for i in range(1, 11))
NEW_ENROLLEE_MEDICAID = ("01", "02", "03", "04", "05", "06", "08")


class ScoreInputError(ValueError):
    """The beneficiary frame is malformed; the message names the row (0-based) and column."""


@dataclass
class Scores:
    """``members`` (one row per input row, in input order) and ``diagnoses`` (built on first access)."""

    members: pl.DataFrame
    _diagnoses: Callable[[], pl.DataFrame]

    @functools.cached_property
    def diagnoses(self) -> pl.DataFrame:
        return self._diagnoses()


def age_on_february_1(dob: pl.Expr, payment_year: int) -> pl.Expr:
    """Age in whole years on February 1 of ``payment_year`` (CMS's age for the payment year)."""
    after = dob.dt.ordinal_day() > 32  # February 1 is day 32 of every year
    return (pl.lit(payment_year) - dob.dt.year() - after.cast(pl.Int32)).cast(pl.Int32)


def format_thousandths(expr: pl.Expr) -> pl.Expr:
    """Int64 thousandths -> a decimal string with three places ("1.234", "-0.050")."""
    whole = (expr.abs() // 1000).cast(pl.String)
    frac = (expr.abs() % 1000).cast(pl.String).str.zfill(3)
    sign = pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, whole, pl.lit("."), frac])


def _round_div(numerator: pl.Expr, denominator: int) -> pl.Expr:
    """numerator / denominator rounded half away from zero, in exact integers."""
    magnitude = (numerator.abs() * 2 + denominator) // (2 * denominator)
    return pl.when(numerator < 0).then(-magnitude).otherwise(magnitude).cast(pl.Int64)


def _check_schema(frame: pl.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ScoreInputError(f"missing columns: {', '.join(missing)}")
    expected: dict[str, type[pl.DataType] | pl.DataType] = {
        "member_id": pl.String,
        "date_of_birth": pl.Date,
        "sex": pl.String,
        "orec": pl.String,
        "medicaid": pl.String,
        "diagnosis_codes": pl.List(pl.String),
    }
    for name, dtype in expected.items():
        if frame.schema[name] != dtype:
            raise ScoreInputError(f"column {name}: type {frame.schema[name]}, expected {dtype}")
    for name in OPTIONAL:
        if name in frame.columns and frame.schema[name] != pl.Boolean:
            raise ScoreInputError(f"column {name}: type {frame.schema[name]}, expected Boolean")


def _checks() -> list[tuple[str, pl.Expr]]:
    return [
        ("member_id", pl.col("member_id").is_null() | (pl.col("member_id") == "")),
        ("member_id", pl.col("member_id").is_duplicated()),
        ("date_of_birth", pl.col("date_of_birth").is_null()),
        ("sex", ~pl.col("sex").is_in(SEXES).fill_null(False)),
        ("orec", ~pl.col("orec").is_in(ORECS).fill_null(False)),
        ("medicaid", ~pl.col("medicaid").is_in(DUAL_CODES).fill_null(False)),
    ]


def _any_problem() -> pl.Expr:
    """One pass for "any problem at all" (the row masks of :func:`validate_frame` only when there is one).

    Duplicate member ids are screened by their 64-bit hashes (three times cheaper than hashing the strings
    into a set): equal ids have equal hashes, so a duplicate is never missed; a collision of two different
    ids only sends the frame to :func:`_raise_first_problem`, whose exact checks then find nothing."""
    cheap = [expr.any() for name, expr in _checks() if name != "member_id"]
    cheap.append(pl.col("member_id").hash().n_unique() < pl.len())
    cheap.append((pl.col("member_id").is_null() | (pl.col("member_id") == "")).any())
    return pl.any_horizontal(cheap).alias("problem")


def validate_frame(frame: pl.DataFrame) -> None:
    """Check the columns, types and codes of a beneficiary frame; raise :class:`ScoreInputError` at the
    first bad row."""
    _check_schema(frame)
    if not frame.select(_any_problem()).item():
        return
    _raise_first_problem(frame)


def _raise_first_problem(frame: pl.DataFrame) -> None:
    checks = _checks()
    flags = frame.select([expr.alias(f"{i}") for i, (_, expr) in enumerate(checks)])
    for i, (name, _) in enumerate(checks):
        bad = flags.get_column(f"{i}").arg_true()
        if bad.len():
            row = int(bad[0])
            raise ScoreInputError(f"row {row}, column {name}: invalid value {frame[name][row]!r}")
