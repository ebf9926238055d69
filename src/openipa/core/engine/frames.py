"""Checking the frames handed to the engines, so bad input fails with a message that names it.

A caller builds each input frame from database rows; a missing column, a value of the wrong type or an
amount outside the bounds the arithmetic is exact for is a programming or data error that must stop the run
before anything is computed. Messages name the frame, the column and, for a bad value, the first row's key.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import polars as pl

from openipa.core.engine.rounding import MAX_AMOUNT_CENTS, MAX_FACTOR

Schema = dict[str, pl.DataType | type[pl.DataType]]


class EngineInputError(ValueError):
    """An input frame or rule is unusable; the message names the frame, the field and the offending row."""


def conform(frame: pl.DataFrame, schema: Schema, name: str) -> pl.DataFrame:
    """Return `frame` reduced to the columns of `schema`, in its order, cast to its types.

    Extra columns are dropped. Raise EngineInputError naming `name` and the column for a missing column or
    a value that cannot be cast (a string in an integer column, an integer that does not fit).
    """
    missing = [column for column in schema if column not in frame.columns]
    if missing:
        raise EngineInputError(f"{name}: missing column(s) {', '.join(missing)}")
    casts: list[pl.Expr] = []
    for column, dtype in schema.items():
        if frame.schema[column] == dtype:
            casts.append(pl.col(column))
            continue
        try:
            frame.select(pl.col(column).cast(dtype, strict=True))
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as error:
            raise EngineInputError(
                f"{name}: column {column} is {frame.schema[column]}, expected {dtype}: {error}"
            ) from None
        casts.append(pl.col(column).cast(dtype, strict=True))
    return frame.select(casts)


def _where(frame: pl.DataFrame, bad: pl.Expr, key: Sequence[str]) -> str | None:
    hits = frame.filter(bad)
    if hits.height == 0:
        return None
    row = hits.row(0, named=True)
    described = ", ".join(f"{column} {row[column]}" for column in key)
    more = f" (and {hits.height - 1} more row(s))" if hits.height > 1 else ""
    return f"{described}{more}"


def require(frame: pl.DataFrame, bad: pl.Expr, key: Sequence[str], message: str) -> None:
    """Raise EngineInputError(`message` at the first row where `bad` is true, named by its `key` columns)."""
    where = _where(frame, bad.fill_null(False), key)
    if where is not None:
        raise EngineInputError(f"{message}: {where}")


def require_not_null(frame: pl.DataFrame, columns: Collection[str], key: Sequence[str], name: str) -> None:
    """Raise EngineInputError if any of `columns` has a null, naming the frame, column and first row."""
    for column in columns:
        require(frame, pl.col(column).is_null(), key, f"{name}: {column} is empty")


def require_amount(frame: pl.DataFrame, column: str, key: Sequence[str], name: str) -> None:
    """Raise EngineInputError for an amount in cents whose absolute value exceeds MAX_AMOUNT_CENTS."""
    require(
        frame,
        pl.col(column).abs() > MAX_AMOUNT_CENTS,
        key,
        f"{name}: {column} is beyond +/-{MAX_AMOUNT_CENTS} cents",
    )


def require_factor(frame: pl.DataFrame, column: str, key: Sequence[str], name: str) -> None:
    """Raise EngineInputError for a multiplier outside 0..MAX_FACTOR (thousandths of a percent or of a unit)."""
    require(
        frame,
        (pl.col(column) < 0) | (pl.col(column) > MAX_FACTOR),
        key,
        f"{name}: {column} must be between 0 and {MAX_FACTOR}",
    )


def require_unique(frame: pl.DataFrame, key: Sequence[str], name: str) -> None:
    """Raise EngineInputError if two rows of `frame` share the same `key` values."""
    require(frame, pl.len().over(key) > 1, key, f"{name}: more than one row for the same {', '.join(key)}")


def total(frame: pl.DataFrame, column: str) -> int:
    """Return the exact sum of an Int64 column as a Python int (summed in 128 bits, so it cannot wrap)."""
    if frame.height == 0:
        return 0
    value = frame.select(pl.col(column).cast(pl.Int128).sum()).item()
    return int(value) if value is not None else 0


def in_force(date: pl.Expr) -> pl.Expr:
    """True where ``date`` lies in [valid_from, valid_to] of the row (inclusive; a null bound is open): the
    effective-dated version of a rule, rate or span in force on that day."""
    return (pl.col("valid_from").is_null() | (pl.col("valid_from") <= date)) & (
        pl.col("valid_to").is_null() | (date <= pl.col("valid_to"))
    )
