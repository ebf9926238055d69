"""Query results straight into Polars frames, for batch runs that read a million rows.

``query_frame(queryset.values_list(...), schema)`` runs the queryset's own SQL (so filters stay ORM code) on a
plain cursor and builds the frame chunk by chunk: no model instances and none of Django's per-value converters,
which cost more than the query on a million rows. Both database drivers hand back dates for date columns
(Django's SQLite connection declares its converters), so a ``pl.Date`` column takes them as they are.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

CHUNK = 100_000


def query_frame(query: QuerySet[Any, Any], schema: dict[str, Any]) -> pl.DataFrame:
    """The rows of ``query`` (a ``values_list`` with one field per ``schema`` column, in order) as a frame."""
    try:
        sql, params = query.query.sql_with_params()
    except EmptyResultSet:  # a queryset that can match nothing (e.g. .none(), pk__in=[])
        return pl.DataFrame(schema=schema)
    frames: list[pl.DataFrame] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            frames.append(pl.DataFrame(rows, schema=schema, orient="row"))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)
