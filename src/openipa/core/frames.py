"""Query results straight into Polars frames, for batch runs that read a million rows.

``query_frame(queryset, {"name": ("field path", pl.Int64), ...})`` runs the queryset's own SQL (so filters stay
ORM code) on a plain cursor and builds the frame chunk by chunk: no model instances and none of Django's
per-value converters, which cost more than the query on a million rows. Dates are read as ISO text (a cast in
the SQL) and parsed by Polars in one vectorized step. On PostgreSQL the rows come as CSV through ``COPY (query)
TO STDOUT`` and Polars parses them, so no Python object is made per value at all. Rows come in the queryset's explicit ``order_by``, or
in no particular order: a model's default ordering is not applied.
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import CharField, F, QuerySet
from django.db.models.functions import Cast

CHUNK = 100_000

Columns = dict[str, tuple[Any, Any]]
"""Output column -> (field path as ``values_list`` takes it, or an expression, Polars dtype)."""


def query_frame(query: QuerySet[Any, Any], columns: Columns) -> pl.DataFrame:
    """The rows of ``query`` as a frame with ``columns``."""
    schema = {name: kind for name, (_path, kind) in columns.items()}
    read = {name: (pl.String if kind == pl.Date else kind) for name, kind in schema.items()}
    selected = {}
    for i, (path, kind) in enumerate(columns.values()):
        value = F(path) if isinstance(path, str) else path
        selected[f"c{i}"] = Cast(value, output_field=CharField()) if kind == pl.Date else value
    if not query.query.order_by:
        # a model's default ordering (members by name...) would sort a million rows for nothing
        query = query.order_by()
    rows_query = query.annotate(**selected).values_list(*selected)
    try:
        sql, params = rows_query.query.sql_with_params()
    except EmptyResultSet:  # a queryset that can match nothing (e.g. .none(), pk__in=[])
        return pl.DataFrame(schema=schema)
    if connection.vendor == "postgresql":
        frame = _copy_frame(sql, params, read)
    elif all(kind in _JSON_KINDS for kind in read.values()):
        frame = _sqlite_json_frame(sql, params, read)
    else:
        frame = _fetch_frame(sql, params, read)
    dates = [name for name, kind in schema.items() if kind == pl.Date]
    return frame.with_columns(pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d") for name in dates)


_JSON_KINDS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.String, pl.Boolean)
"""Column types SQLite can hand over as JSON (dates are text by then)."""


def _sqlite_json_frame(sql: str, params: Any, read: dict[str, Any]) -> pl.DataFrame:
    """The query's rows as one text of JSON lines made by SQLite itself (``json_object`` per row,
    ``group_concat`` over them), parsed by Polars: no Python object per value."""
    pairs = ", ".join(f"'c{i}', \"c{i}\"" for i in range(len(read)))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT GROUP_CONCAT(JSON_OBJECT({pairs}), CHAR(10)) FROM ({sql})", params)
        (text,) = cursor.fetchone()
    if not text:
        return pl.DataFrame(schema=read)
    # Polars reads bytes with no copy of its own; a StringIO would hold the text again, four bytes a character
    data = text.encode()
    del text
    keys = {f"c{i}": (pl.Int64 if kind == pl.Boolean else kind) for i, kind in enumerate(read.values())}
    frame = pl.read_ndjson(io.BytesIO(data), schema=keys)
    frame.columns = list(read)
    flags = [name for name, kind in read.items() if kind == pl.Boolean]
    return frame.with_columns(pl.col(name).cast(pl.Boolean) for name in flags)


def _fetch_frame(sql: str, params: Any, read: dict[str, Any]) -> pl.DataFrame:
    frames: list[pl.DataFrame] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            frames.append(pl.DataFrame(rows, schema=read, orient="row"))
    return pl.concat(frames) if frames else pl.DataFrame(schema=read)


def _copy_frame(sql: str, params: Any, read: dict[str, Any]) -> pl.DataFrame:
    """The query's rows through COPY as CSV: an unquoted empty field is NULL, a quoted one an empty string
    (as Polars reads them too); booleans come as t/f."""
    buffer = io.BytesIO()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy,
    ):
        while data := copy.read():
            buffer.write(data)
    if not buffer.tell():
        return pl.DataFrame(schema=read)
    buffer.seek(0)
    text = {name: (pl.String if kind == pl.Boolean else kind) for name, kind in read.items()}
    frame = pl.read_csv(buffer, has_header=False, new_columns=list(text), schema=text)
    flags = [name for name, kind in read.items() if kind == pl.Boolean]
    return frame.with_columns((pl.col(name) == "t").alias(name) for name in flags)
