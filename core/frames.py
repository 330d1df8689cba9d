"""DataFrames from queries, and rows into tables, in bulk: the one place that knows how.

Analytics reads hundreds of thousands of rows and writes tens of thousands. Through the ORM,
building a Python tuple (or a model instance) per row costs more than the database's own work,
so on PostgreSQL rows travel as text: out as CSV that PostgreSQL writes into one value and
pandas parses in C, in with COPY (`copy.write_row`). Elsewhere (SQLite: tests, `make run`)
the plain ORM path does the same job.

Both paths give the same frame: every column is named with a *kind* that fixes its dtype.

    int       int64 (the column must not be NULL)
    float     float64, NULL → NaN (nullable integers too)
    bool      bool (the column must not be NULL)
    date      datetime64[ns], NULL → NaT
    datetime  datetime64[ns, UTC], NULL → NaT
    text      str, NULL → "" (pandas does not tell CSV's NULL from an empty string)
    json      decoded JSON (dicts, lists, numbers; NULL → None)
"""

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext

import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import JSONField, Model, QuerySet

BATCH = 2_000
KINDS = ("int", "float", "bool", "date", "datetime", "text", "json")
_CSV_DTYPES = {"int": "int64", "float": "float64", "bool": "str", "date": "str",
               "datetime": "str", "text": "str", "json": "str"}  # fmt: skip


def _postgresql() -> bool:
    # The one place that asks which database this is: callers never need to.
    return connection.vendor == "postgresql"


def frame_from_query(sql: str, params: Sequence, columns: Mapping[str, str]) -> pd.DataFrame:
    """The rows of `sql` (a SELECT with %s placeholders, `params` bound) as a DataFrame whose
    columns are `columns`' names, in the SELECT's order, typed by their kinds (see above).
    Rows in no promised order (see `frame_from_queryset`)."""
    _check(columns)
    if _postgresql():
        return _read_csv(_csv_value(sql, params, columns), columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _typed(pd.DataFrame.from_records(rows, columns=list(columns)), columns, raw=True)


def frame_from_queryset(queryset: QuerySet, columns: Mapping[str, str]) -> pd.DataFrame:
    """`queryset.values_list(*columns)` as a DataFrame, typed by the columns' kinds.

    Names may follow relations ("owner__email"). Sort the frame when its order matters: on
    PostgreSQL the rows come through an aggregate, which keeps the queryset's order in practice
    but not by promise. So pass `.order_by()`, and the database does not sort for nothing.
    """
    _check(columns)
    rows = queryset.values_list(*columns)
    if _postgresql():
        try:
            sql, params = rows.query.sql_with_params()
        except EmptyResultSet:  # e.g. pk__in=[]: the ORM answers without asking the database
            return _read_csv(io.BytesIO(), columns)
        return _read_csv(_csv_value(sql, params, columns), columns)
    return _typed(pd.DataFrame.from_records(list(rows), columns=list(columns)), columns)


def frame_kinds(model: type[Model], fields: Sequence[str]) -> dict[str, str]:
    """The kind of each of `model`'s `fields` (names or attnames, e.g. "wave_id"), from the
    model: to read a table's own rows back as a frame."""
    meta = model._meta
    kinds = {}
    for name in fields:
        field = meta.get_field(name)
        internal = field.get_internal_type()
        if isinstance(field, JSONField):
            kind = "json"
        elif internal == "DateTimeField":
            kind = "datetime"
        elif internal == "DateField":
            kind = "date"
        elif internal == "BooleanField" and not field.null:
            kind = "bool"
        elif internal in ("FloatField", "DecimalField"):
            kind = "float"
        elif field.is_relation or internal.endswith(("IntegerField", "AutoField")):
            kind = "float" if field.null else "int"
        elif internal in ("CharField", "TextField", "EmailField", "SlugField", "URLField"):
            kind = "text"
        else:
            raise ValueError(f"No frame kind for {model.__name__}.{name} ({internal})")
        kinds[name] = kind
    return kinds


def copy_rows_into(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """INSERT `rows` (tuples of Python values, one per name in `fields`) into `model`'s table,
    bypassing model instances, signals and field defaults (give every NOT NULL column); the
    number of rows. JSON fields take Python objects.

    COPY on PostgreSQL, executemany in batches elsewhere. Ids come from the table's sequence.
    """
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    encoders = [(i, field) for i, field in enumerate(model_fields) if isinstance(field, JSONField)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(field.column) for field in model_fields)

    def prepared(row: Sequence) -> Sequence:
        if not encoders:
            return row
        row = list(row)
        for i, field in encoders:
            row[i] = field.get_db_prep_save(row[i], connection)
        return row

    count = 0
    with connection.cursor() as cursor:
        if _postgresql():
            sql = f"COPY {table} ({names}) FROM STDIN"
            with _logged(cursor, sql), cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(prepared(row))
                    count += 1
            return count
        # Many rows per INSERT rather than executemany: SQLite updates an AUTOINCREMENT
        # table's counter once per statement (10,000 rows: 13 ms instead of 75 ms).
        per_statement = max(1, connection.ops.bulk_batch_size(model_fields, range(BATCH)))
        row_marks = f"({', '.join(['%s'] * len(model_fields))})"

        def insert(batch: list[Sequence]) -> None:
            values = ", ".join([row_marks] * len(batch))
            sql = f"INSERT INTO {table} ({names}) VALUES {values}"  # noqa: S608 - names from the model, values bound # nosec B608
            cursor.execute(sql, [value for row in batch for value in row])

        batch = []
        for row in rows:
            batch.append(prepared(row))
            if len(batch) == per_statement:
                insert(batch)
                count, batch = count + len(batch), []
        if batch:
            insert(batch)
            count += len(batch)
    return count


def _check(columns: Mapping[str, str]) -> None:
    unknown = {kind for kind in columns.values() if kind not in KINDS}
    if unknown:
        raise ValueError(f"Column kinds are {', '.join(KINDS)}, not {', '.join(sorted(unknown))}")


def _logged(cursor, sql: str, params: Sequence | None = None):
    # COPY goes around Django's cursor.execute(); logging it keeps it visible to
    # django_assert_num_queries and the debug tools, like any other query.
    if isinstance(cursor, CursorDebugWrapper):
        return cursor.debug_sql(sql, params)
    return nullcontext()


def _csv_value(sql: str, params: Sequence, columns: Mapping[str, str]) -> io.BytesIO:
    """The rows of `sql` as CSV lines that PostgreSQL joins into one value, fetched at once.

    Not `COPY (sql) TO STDOUT`: COPY sends a message per row and psycopg reads each through a
    few Python calls, about 3 µs a row: on 600,000 rows, 0.5 s more than this (same machine,
    alternating runs). Values are formatted by the same output functions COPY uses; text is
    quoted as CSV quotes it. One value holds at most 1 GB: fine for millions of short rows.
    """
    names = [f"c{i}" for i in range(len(columns))]
    fields = []
    for name, kind in zip(names, columns.values(), strict=True):
        if kind == "bool":
            fields.append(f"CASE WHEN {name} THEN 't' WHEN NOT {name} THEN 'f' END")
        elif kind in ("text", "json"):
            fields.append(f"'\"' || replace({name}::text, '\"', '\"\"') || '\"'")
        else:
            fields.append(f"{name}::text")
    line = " || ',' || ".join(f"coalesce({field}, '')" for field in fields)
    statement = (
        f"SELECT convert_to(string_agg({line}, E'\\n'), 'UTF8') "  # noqa: S608 - our own expressions # nosec B608
        f"FROM ({sql}) AS rows_ ({', '.join(names)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        (data,) = cursor.fetchone()
    return io.BytesIO(data or b"")


def _read_csv(data: io.BytesIO, columns: Mapping[str, str]) -> pd.DataFrame:
    names = list(columns)
    if not data.getbuffer().nbytes:
        return _typed(pd.DataFrame({name: [] for name in names}), columns, raw=True)
    frame = pd.read_csv(
        data,
        header=None,
        names=names,
        dtype={name: _CSV_DTYPES[kind] for name, kind in columns.items()},
        # Only numbers and dates read an empty field as missing: text keeps "" (see above).
        keep_default_na=False,
        na_values={name: [""] for name, kind in columns.items() if kind not in ("text", "json")},
    )
    return _typed(frame, columns, raw=True)


def _typed(frame: pd.DataFrame, columns: Mapping[str, str], *, raw: bool = False) -> pd.DataFrame:
    """`raw`: values as the database driver gives them (CSV text, SQLite's 0/1 and ISO dates),
    not as the ORM converts them."""
    typed = {}
    iso = "ISO8601" if raw else None  # PostgreSQL's "+00" offsets and microseconds vary per row
    for name, kind in columns.items():
        values = frame[name]
        if kind == "int":
            typed[name] = values.astype("int64")
        elif kind == "float":
            typed[name] = pd.to_numeric(values).astype("float64")
        elif kind == "bool":
            typed[name] = values.isin(["t", "1", 1, True]) if raw else values.astype(bool)
        elif kind == "date":
            typed[name] = pd.to_datetime(values, format=iso).astype("datetime64[ns]")
        elif kind == "datetime":
            typed[name] = pd.to_datetime(values, utc=True, format=iso).astype("datetime64[ns, UTC]")
        elif kind == "text":
            typed[name] = values.fillna("").astype("str")
        else:
            # "" is no JSON document: it is how CSV gives NULL.
            decoded = [json.loads(v) if v else None for v in values] if raw else values
            typed[name] = pd.Series(decoded, index=frame.index, dtype=object)
    return pd.DataFrame(typed, index=frame.index)
