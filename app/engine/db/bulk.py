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
    if isinstance(column_type, sa.DateTime):
        # SQLAlchemy's SQLite format: always six fractional digits, so text order is time order.
        if len(set(values[:1000])) < 10:  # one moment for all (an import's "now"): format once
            texts = {v: _sqlite_datetime(v) for v in set(values) if v is not None}
            return [None if v is None else texts[v] for v in values]
        return [v if v is None or type(v) is str else _sqlite_datetime(v) for v in values]
    if isinstance(column_type, sa.Date):
        return [v if v is None or type(v) is str else v.isoformat() for v in values]
    return values


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
