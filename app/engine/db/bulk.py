"""Bulk writes below the ORM: whole columns of values straight to the DBAPI cursor.

ORM objects cost ~56 µs a row and Core executemany ~7.5 µs; the cursor's executemany
(SQLite) or COPY (PostgreSQL) ~3 µs (ARCHITECTURE.md, measured on this kind of machine), so
imports and demo data come through here. Statements are compiled by SQLAlchemy from the
table metadata; no value is ever spliced into SQL text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection, Table


def allocate_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """`count` fresh primary keys, so rows can be linked (tags, events) before they exist."""
    if count == 0:
        return []
    if connection.dialect.name == "postgresql":
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        series = sa.func.generate_series(1, count).table_valued("n")
        query = sa.select(sa.func.nextval(sequence)).select_from(series)
        return list(connection.scalars(query))
    start = connection.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))) + 1
    return list(range(start, start + count))


def insert_columns(connection: Connection, table: Table, columns: Mapping[str, Sequence]) -> None:
    """Insert rows given column by column (equal lengths; None is NULL).

    Values are Python values of the column's type: dates, datetimes (naive UTC), bools,
    numbers, text, and dicts or lists for JSON columns.
    """
    names = list(columns)
    if not names or not len(columns[names[0]]):
        return
    dialect = connection.dialect.name
    if dialect not in ("postgresql", "sqlite"):
        rows = zip(*(columns[name] for name in names), strict=True)
        connection.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
        return
    prepared = [_storable(table.c[name].type, columns[name], dialect) for name in names]
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        if dialect == "postgresql":
            preparer = connection.dialect.identifier_preparer
            target = ", ".join(preparer.quote(name) for name in names)
            with cursor.copy(f"COPY {preparer.format_table(table)} ({target}) FROM STDIN") as copy:
                for row in zip(*prepared, strict=True):
                    copy.write_row(row)
        else:
            # A bare table clause: no Python-side defaults join the statement.
            bare = sa.table(table.name, *(sa.column(name) for name in names), schema=table.schema)
            statement = bare.insert().values({name: sa.bindparam(name) for name in names})
            compiled = statement.compile(dialect=connection.dialect)
            order = [names.index(key) for key in compiled.positiontup]
            rows = zip(*(prepared[index] for index in order), strict=True)
            cursor.executemany(str(compiled), rows)
    finally:
        cursor.close()


def _storable(column_type: sa.types.TypeEngine, values: Sequence, dialect: str) -> Sequence:
    """Values the driver stores exactly as SQLAlchemy itself would."""
    if isinstance(column_type, sa.JSON):
        return [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
    if dialect != "sqlite":
        return values
    if isinstance(column_type, sa.Boolean):
        # 1/0 as SQLAlchemy stores them; pysqlite binds a bool through its adapter lookup
        # (bool is an int subclass), ~0.8 µs a value here against ~0.05 for an int.
        return list(map(_SQLITE_BOOL.__getitem__, values))
    if isinstance(column_type, sa.DateTime):
        # SQLAlchemy's SQLite format: always six fractional digits, so text order is time order.
        if len(set(values[:1000])) < 10:  # one moment for all (an import's "now"): format once
            texts = {v: _sqlite_datetime(v) for v in set(values) if v is not None}
            return [None if v is None else texts[v] for v in values]
        return [v if v is None or type(v) is str else _sqlite_datetime(v) for v in values]
    if isinstance(column_type, sa.Date):
        return [v if v is None or type(v) is str else v.isoformat() for v in values]
    return values


_SQLITE_BOOL = {True: 1, False: 0, None: None}  # also maps 1 and 0 (equal keys)


def _sqlite_datetime(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return value.isoformat(" ", "microseconds")
    return f"{value.isoformat()} 00:00:00.000000"


@contextmanager
def indexes_rebuilt(connection: Connection, table: Table, rows: int) -> Iterator[None]:
    """Around a large SQLite insert: drop the table's secondary indexes, rebuild them after.

    Building an index from sorted data is several times cheaper than growing it row by row
    (a random-order unique e-mail index doubled the insert time of a million contacts). Only
    worth it when the insert is at least as large as the table; a duplicate that slipped in
    makes the rebuild of a unique index fail, and with it the whole transaction.
    """
    existing = connection.scalar(sa.select(sa.func.count()).select_from(table))
    if connection.dialect.name != "sqlite" or rows < max(50_000, existing):
        yield
        return
    indexes = sorted(table.indexes, key=lambda index: index.name)
    for index in indexes:
        connection.execute(sa.schema.DropIndex(index))
    yield
    for index in indexes:
        connection.execute(sa.schema.CreateIndex(index))


def insert_pairs(
    connection: Connection,
    table: Table,
    names: tuple[str, str],
    first: np.ndarray,
    second: np.ndarray,
) -> None:
    """Rows of two non-negative integer columns (a link table such as contact_tags).

    On SQLite, executemany costs ~2.9 µs a row here, nearly all of it per-row overhead in the
    driver; so the pairs go as one bound JSON array of packed integers (first × k + second),
    which one INSERT … SELECT over `json_each` unpacks in C, about 4× cheaper. Elsewhere the
    rows go through `insert_columns` (COPY on PostgreSQL).
    """
    if not first.size:
        return
    divisor = int(second.max()) + 1
    packable = min(first.min(), second.min()) >= 0 and int(first.max()) < 2**62 // divisor
    if connection.dialect.name != "sqlite" or not packable:
        insert_columns(connection, table, {names[0]: first.tolist(), names[1]: second.tolist()})
        return
    packed = first.astype(np.int64) * divisor + second
    each = sa.func.json_each(sa.bindparam("packed", type_=sa.String)).table_valued(
        sa.column("value", sa.BigInteger)
    )
    k = sa.bindparam("k", type_=sa.BigInteger)
    rows = sa.select((each.c.value // k).label(names[0]), (each.c.value % k).label(names[1]))
    connection.execute(
        table.insert().from_select(list(names), rows),
        {"packed": json.dumps(packed.tolist()), "k": divisor},
    )
