"""Bulk inserts of plain row tuples, for batch services that write hundreds of thousands of rows.

Django's ``bulk_create`` builds a model instance per row and compiles a parameter list per value; on a
million-row roster that is most of the time spent. :func:`insert_rows` takes tuples, converts each column once
through a converter chosen from the field (dates, datetimes, JSON, foreign keys), and hands the rows to the
driver's ``executemany``. It runs inside the caller's transaction and sends no signals (nothing listens to
model signals in this project). On PostgreSQL the rows go through COPY.

:func:`insert_frame` writes a Polars frame whose columns are named after the fields: on PostgreSQL Polars writes
it as CSV for ``COPY ... (FORMAT csv)`` (no Python object per value); on SQLite its rows go to ``executemany``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import polars as pl
from django.db import IntegrityError, connection, models

from openipa.core.frames import query_frame

Converter = Callable[[Any], Any]


def _converter(field: models.Field[Any, Any]) -> Converter | None:
    ops = connection.ops
    kind = field.get_internal_type()
    sqlite = connection.vendor == "sqlite"
    # The hot columns get the same conversion Django makes, done directly (Django's own path cost more than the
    # database's inserts on a million-member roster): a date is its ISO text on SQLite and passes through
    # to the PostgreSQL driver; JSON without a custom encoder is json.dumps text on SQLite.
    if kind == "DateField":
        return dt.date.isoformat if sqlite else None
    if kind == "DateTimeField":
        return _remembered(ops.adapt_datetimefield_value)
    if kind == "JSONField":
        if sqlite and getattr(field, "encoder", None) is None:
            return json.dumps
        return lambda value: field.get_db_prep_save(value, connection)
    if kind == "DecimalField":
        return _remembered(lambda value: field.get_db_prep_save(value, connection))
    return None


def _remembered(convert: Converter) -> Converter:
    """``convert`` remembering the values it converted (bounded): a batch repeats a few of them (a run's
    timestamp on every row, units of 1, 2, 3), and Django's decimal and datetime adapters cost microseconds
    each."""
    seen: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            if len(seen) >= _REMEMBER:
                seen.clear()
            converted = seen[value] = convert(value)
            return converted

    return remembered


_REMEMBER = 10_000


def _columns(model: type[models.Model], fields: Sequence[str]) -> tuple[list[str], list[Converter | None]]:
    meta = model._meta
    columns: list[str] = []
    converters: list[Converter | None] = []
    for name in fields:
        field = meta.get_field(name)  # a foreign key's attname ("member_id") names the field too
        assert isinstance(field, models.Field)
        columns.append(connection.ops.quote_name(field.column))
        converters.append(_converter(field))
    return columns, converters


def _prepare(rows: Iterable[Sequence[Any]], converters: Sequence[Converter | None]) -> list[Sequence[Any]]:
    active = [(i, c) for i, c in enumerate(converters) if c is not None]
    if not active:
        return list(rows)
    prepared: list[Sequence[Any]] = []
    for row in rows:
        values = list(row)
        for i, convert in active:
            if values[i] is not None:
                values[i] = convert(values[i])
        prepared.append(values)
    return prepared


def update_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    prepared: Iterable[str] = (),
) -> int:
    """UPDATE ``model`` rows by primary key: each row is ``(pk, value of fields[0], value of fields[1], ...)``.
    Returns the number of rows given (each names an existing row; callers read them in the same transaction).
    Values of the fields named in ``prepared`` are already database values (JSON as its text, say) and are not
    converted again."""
    skip = set(prepared)
    columns, converters = _columns(model, fields)
    converters = [None if name in skip else c for name, c in zip(fields, converters, strict=True)]
    json_text = {
        column
        for name, column in zip(fields, columns, strict=True)
        if name in skip and isinstance(model._meta.get_field(name), models.JSONField)
    }
    prepared_rows = [[*values[1:], values[0]] for values in _prepare(rows, [None, *converters])]
    if not prepared_rows:
        return 0
    meta = model._meta
    pk = connection.ops.quote_name(meta.pk.column) if meta.pk is not None else '"id"'
    table = connection.ops.quote_name(meta.db_table)
    postgres = connection.vendor == "postgresql"
    if postgres and len(prepared_rows) > _UPDATE_BY_COPY:
        _update_by_copy(table, pk, columns, prepared_rows)
        return len(prepared_rows)
    cast = "::jsonb" if postgres else ""
    assignments = ", ".join(f"{column} = %s{cast if column in json_text else ''}" for column in columns)
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared_rows)
    return len(prepared_rows)


_UPDATE_BY_COPY = 1_000
"""Rows above which PostgreSQL updates go through a temporary table (one UPDATE ... FROM) instead of a
statement per row."""


def _update_by_copy(table: str, pk: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """COPY ``rows`` (the values of ``columns``, then the key) into a temporary table shaped like the target's
    columns, then one UPDATE ... FROM it."""
    scratch = connection.ops.quote_name(f"openipa_update_{uuid.uuid4().hex[:12]}")
    listed = ", ".join([*columns, pk])
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {scratch} AS SELECT {listed} FROM {table} WITH NO DATA")
        try:
            with cursor.cursor.copy(f"COPY {scratch} ({listed}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            assignments = ", ".join(f"{column} = s.{column}" for column in columns)
            cursor.execute(f"UPDATE {table} AS t SET {assignments} FROM {scratch} AS s WHERE t.{pk} = s.{pk}")
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {scratch}")


def db_value(model: type[models.Model], field: str, value: Any) -> Any:
    """``value`` as the database takes it for ``field``: convert a value repeated on every row once, and
    name the field in ``insert_rows(..., prepared=...)``."""
    converter = _converter(model._meta.get_field(field))  # type: ignore[arg-type]
    return value if converter is None or value is None else converter(value)


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    prepared: Iterable[str] = (),
) -> int:
    """INSERT ``rows`` (tuples in the order of ``fields``; foreign keys by ``<name>_id`` or ``<name>``) into
    ``model``'s table. Returns the number of rows. Columns not named get no value: give every column that
    has no database default. Values of the fields named in ``prepared`` are already database values
    (see :func:`db_value`) and are not converted again."""
    columns, values = _insert_values(model, fields, rows, prepared)
    if values:
        _insert(model, columns, values)
    return len(values)


def insert_rows_returning_pks(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    prepared: Iterable[str] = (),
) -> list[int]:
    """:func:`insert_rows`, returning the new rows' primary keys in the order of ``rows``.

    No query reads the rows back. On PostgreSQL the keys are taken from the table's sequence first (one
    ``nextval`` per row, in one statement) and written with the rows. On SQLite the rows are numbered by the
    database: the caller's transaction holds the write lock, so one statement's rows get consecutive ids,
    which is checked.
    """
    columns, values = _insert_values(model, fields, rows, prepared)
    if not values:
        return []
    meta = model._meta
    assert meta.pk is not None
    table, pk = meta.db_table, meta.pk.column
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, len(values)],
            )
            pks = [row[0] for row in cursor.fetchall()]
        _insert(
            model,
            [connection.ops.quote_name(pk), *columns],
            [[p, *v] for p, v in zip(pks, values, strict=True)],
        )
        return pks
    _insert(model, columns, values)
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_insert_rowid()")
        (last,) = cursor.fetchone()
        first = last - len(values) + 1
        quoted = connection.ops.quote_name(pk)
        cursor.execute(
            f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)} WHERE {quoted} BETWEEN %s AND %s",
            [first, last],
        )
        (count,) = cursor.fetchone()
    if count != len(values):  # another writer between our rows: cannot happen inside a write transaction
        raise RuntimeError(f"{table}: the {len(values)} new rows did not get consecutive ids")
    return list(range(first, last + 1))


def _insert_values(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], prepared: Iterable[str]
) -> tuple[list[str], list[Sequence[Any]]]:
    columns, converters = _columns(model, fields)
    skip = set(prepared)
    converters = [None if name in skip else c for name, c in zip(fields, converters, strict=True)]
    return columns, _prepare(rows, converters)


def _insert(model: type[models.Model], columns: Sequence[str], values: Sequence[Sequence[Any]]) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams the rows in one command; executemany pays a round of parse/bind/execute per row
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", values)


_FRAME_KINDS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.String, pl.Date,
                pl.Boolean)  # fmt: skip
"""Column types :func:`insert_frame` writes (JSON, decimals and datetimes go through :func:`insert_rows`)."""
_COPY_CHUNK = 250_000
"""Rows per CSV piece sent to PostgreSQL's COPY (the whole frame is never one text)."""


def insert_frame(
    model: type[models.Model], frame: pl.DataFrame, *, constants: Mapping[str, int] | None = None
) -> int:
    """INSERT the rows of ``frame`` (columns named as ``insert_rows`` takes fields: ``member_id``, ``month``...)
    into ``model``'s table, with ``constants`` (field -> integer, a run's id say) on every row. Returns the
    number of rows. Integer, text, date and boolean columns only; nulls are NULL, empty text stays empty."""
    fixed = {name: int(value) for name, value in (constants or {}).items()}
    for name, kind in frame.schema.items():
        if kind not in _FRAME_KINDS:
            raise TypeError(f"insert_frame: column {name} is {kind}; write it with insert_rows")
    if frame.height == 0:
        return 0
    columns, _converters = _columns(model, [*frame.columns, *fixed])
    table = connection.ops.quote_name(model._meta.db_table)
    listed = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            whole = frame.with_columns(pl.lit(v, dtype=pl.Int64).alias(k) for k, v in fixed.items())
            with cursor.cursor.copy(f"COPY {table} ({listed}) FROM STDIN WITH (FORMAT csv)") as copy:
                for start in range(0, whole.height, _COPY_CHUNK):
                    buffer = io.BytesIO()
                    # strings quoted, so an empty one is "" and a null (unquoted, empty) is NULL
                    whole.slice(start, _COPY_CHUNK).write_csv(buffer, include_header=False,
                                                               quote_style="non_numeric")  # fmt: skip
                    copy.write(buffer.getvalue())
        else:
            dates = [name for name, kind in frame.schema.items() if kind == pl.Date]
            rows = frame.with_columns(pl.col(name).dt.to_string("%Y-%m-%d") for name in dates)
            marks = ", ".join(["%s"] * frame.width + [str(v) for v in fixed.values()])
            # the driver takes any iterable: the rows stream rather than sitting in a list
            cursor.executemany(f"INSERT INTO {table} ({listed}) VALUES ({marks})", rows.iter_rows())  # type: ignore[arg-type]
    return frame.height


_FEW = 5_000
"""Up to this many distinct keys are looked up by value; more are checked against the target's key range."""


def check_references(model: type[models.Model], frame: pl.DataFrame, fields: Sequence[str]) -> None:
    """Every value (null aside) of the foreign-key columns ``<field>_id`` of ``frame``, rows about to be written
    to ``model``, names an existing row; IntegrityError naming one that does not, otherwise.

    For line tables written in bulk without database constraints (ADR 0009): one set operation per reference
    where a constraint would look up each row on its own. A few distinct keys (practices) are looked up by
    value; a million (members) are compared, in Polars, with the keys of the target's rows in their range."""
    for name in fields:
        field = model._meta.get_field(name)
        assert isinstance(field, models.ForeignKey)
        target = field.related_model
        assert not isinstance(target, str)
        keys = frame.get_column(field.attname).drop_nulls().unique()
        if keys.is_empty():
            continue
        rows = target._default_manager.order_by()
        if keys.len() <= _FEW:
            found = pl.Series(
                list(rows.filter(pk__in=keys.to_list()).values_list("pk", flat=True)), dtype=keys.dtype
            )
        else:
            in_range = rows.filter(pk__gte=keys.min(), pk__lte=keys.max())
            found = query_frame(in_range, {"pk": ("pk", pl.Int64)})["pk"]
        missing = keys.filter(~keys.is_in(found.implode()))
        if not missing.is_empty():
            first = int(missing.min())  # type: ignore[arg-type]
            raise IntegrityError(
                f"{model._meta.label}.{name}: {first} names no {target._meta.label} "
                f"({missing.len()} such key(s); nothing was written)"
            )


_JSON_KINDS = (pl.String,)
"""A JSON field's column in :func:`update_frame` is its JSON text (Polars builds it; no Python dict per row)."""


def update_frame(
    model: type[models.Model],
    frame: pl.DataFrame,
    *,
    key: str,
    constants: Mapping[str, Any] | None = None,
    where: Mapping[str, Any] | None = None,
) -> int:
    """UPDATE the rows of ``model`` whose primary key is the column ``key`` of ``frame``: every other column of
    ``frame`` (named after a field, as :func:`insert_frame` takes them) is written to its field, and every
    ``constants`` field (field -> value, converted once as Django would: a run's timestamp and id) gets the same
    value on every row. ``where`` (field -> value) leaves alone the rows whose field holds another value then.
    Returns the number of rows of ``frame`` (each names an existing row).

    Integer, text, date and boolean columns, and JSON fields as their JSON text. On PostgreSQL Polars writes the
    frame as CSV to ``COPY ... (FORMAT csv)`` into a temporary table, then one ``UPDATE ... FROM``; on SQLite
    the frame's rows go to ``executemany``. No Python object is made per value on PostgreSQL."""
    fixed = dict(constants or {})
    columns = [name for name in frame.columns if name != key]
    for name, kind in frame.schema.items():
        field = model._meta.get_field(name) if name != key else None
        json_text = isinstance(field, models.JSONField) and kind in _JSON_KINDS
        if kind not in _FRAME_KINDS and not json_text:
            raise TypeError(f"update_frame: column {name} is {kind}; write it with update_rows")
    if frame.height == 0:
        return 0
    quoted, _converters = _columns(model, columns)
    fixed_quoted, _fixed_converters = _columns(model, list(fixed))
    fixed_values = [db_value(model, name, value) for name, value in fixed.items()]
    conditions = dict(where or {})
    where_quoted, _where_converters = _columns(model, list(conditions))
    where_values = [db_value(model, name, value) for name, value in conditions.items()]
    meta = model._meta
    assert meta.pk is not None
    pk = connection.ops.quote_name(meta.pk.column)
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            scratch = connection.ops.quote_name(f"openipa_update_{uuid.uuid4().hex[:12]}")
            listed = ", ".join([*quoted, pk])
            cursor.execute(f"CREATE TEMPORARY TABLE {scratch} AS SELECT {listed} FROM {table} WITH NO DATA")
            try:
                ordered = frame.select([*columns, key])
                with cursor.cursor.copy(f"COPY {scratch} ({listed}) FROM STDIN WITH (FORMAT csv)") as copy:
                    for start in range(0, ordered.height, _COPY_CHUNK):
                        buffer = io.BytesIO()
                        # strings quoted, so an empty one is "" and a null (unquoted, empty) is NULL
                        ordered.slice(start, _COPY_CHUNK).write_csv(buffer, include_header=False,
                                                                     quote_style="non_numeric")  # fmt: skip
                        copy.write(buffer.getvalue())
                assignments = ", ".join(
                    [*(f"{c} = s.{c}" for c in quoted), *(f"{c} = %s" for c in fixed_quoted)]
                )
                matched = "".join(f" AND t.{c} = %s" for c in where_quoted)
                cursor.execute(
                    f"UPDATE {table} AS t SET {assignments} FROM {scratch} AS s WHERE t.{pk} = s.{pk}{matched}",
                    [*fixed_values, *where_values],
                )
            finally:
                cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
        else:
            dates = [name for name, kind in frame.schema.items() if kind == pl.Date]
            rows = frame.select([*columns, key]).with_columns(
                pl.col(name).dt.to_string("%Y-%m-%d") for name in dates
            )
            assignments = ", ".join([*(f"{c} = %s" for c in quoted), *(f"{c} = {_sqlite_literal(v)}"
                                                                        for c, v in zip(fixed_quoted, fixed_values,
                                                                                        strict=True))])  # fmt: skip
            matched = "".join(
                f" AND {c} = {_sqlite_literal(v)}" for c, v in zip(where_quoted, where_values, strict=True)
            )
            # the driver takes any iterable: the rows stream rather than sitting in a list
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s{matched}", rows.iter_rows())  # type: ignore[arg-type]
    return frame.height


def _sqlite_literal(value: Any) -> str:
    """A constant of :func:`update_frame` as an SQLite literal (written once into the statement, not bound on
    every row): NULL, an integer, or quoted text (a converted date or timestamp)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"
