"""Primary keys for rows written in bulk from a frame."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
from django.db import connection, models

from openipa.core.bulk import insert_frame


def insert_frame_returning_pks(
    model: type[models.Model], frame: pl.DataFrame, *, constants: Mapping[str, int] | None = None
) -> pl.Series:
    """:func:`openipa.core.bulk.insert_frame`, returning the new rows' primary keys in the frame's order.

    As ``insert_rows_returning_pks``: on PostgreSQL the keys are taken from the table's sequence first and
    written with the rows; on SQLite the database numbers the rows of the one statement consecutively (the
    caller's transaction holds the write lock), which is checked."""
    meta = model._meta
    assert meta.pk is not None
    table, pk = meta.db_table, meta.pk.column
    if frame.height == 0:
        return pl.Series(pk, [], dtype=pl.Int64)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, frame.height],
            )
            keys = pl.Series(pk, [row[0] for row in cursor.fetchall()], dtype=pl.Int64)
        insert_frame(model, frame.with_columns(keys.alias(meta.pk.name)), constants=constants)
        return keys
    insert_frame(model, frame, constants=constants)
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_insert_rowid()")
        (last,) = cursor.fetchone()
        first = last - frame.height + 1
        quoted = connection.ops.quote_name(pk)
        cursor.execute(
            f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)} WHERE {quoted} BETWEEN %s AND %s",
            [first, last],
        )
        (count,) = cursor.fetchone()
    if count != frame.height:  # another writer between our rows: cannot happen inside a write transaction
        raise RuntimeError(f"{table}: the {frame.height} new rows did not get consecutive ids")
    return pl.int_range(first, last + 1, dtype=pl.Int64, eager=True).alias(pk)
