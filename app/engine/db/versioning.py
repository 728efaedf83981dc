"""A counter that changes whenever contact data changes, so derived data can be cached.

Database triggers bump `data_version.version` on every insert, update or delete of contacts,
tags, their links and events, whoever writes (Voronka, a team's ETL, a SQL console). The
columnar read keeps its snapshot only while the counter is unchanged. PostgreSQL bumps once
per statement; SQLite has only row triggers, so bulk writers lift them for the duration of
their transaction (`bulk_writes`) and bump once at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import Connection

WATCHED = ("contacts", "tags", "contact_tags", "events")
_BUMP = "UPDATE data_version SET version = version + 1 WHERE id = 1"


def trigger_ddl(dialect: str) -> list[str]:
    """Statements that create the triggers (fixed text: table names from WATCHED only)."""
    if dialect == "postgresql":
        statements = [
            "CREATE OR REPLACE FUNCTION voronka_bump_data_version() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {_BUMP}; RETURN NULL; END $$"
        ]
        statements += [
            f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION voronka_bump_data_version()"
            for table in WATCHED
        ]
        return statements
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_{action.lower()}_data_version AFTER {action} ON {table} "
            f"BEGIN {_BUMP}; END"
            for table in WATCHED
            for action in ("INSERT", "UPDATE", "DELETE")
        ]
    return []


def drop_trigger_ddl(dialect: str) -> list[str]:
    if dialect == "postgresql":
        drops = [f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}" for table in WATCHED]
        return [*drops, "DROP FUNCTION IF EXISTS voronka_bump_data_version()"]
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_{action.lower()}_data_version"
            for table in WATCHED
            for action in ("INSERT", "UPDATE", "DELETE")
        ]
    return []


def data_version(connection: Connection) -> int:
    return int(connection.scalar(sa.text("SELECT version FROM data_version WHERE id = 1")))


def bump(connection: Connection) -> None:
    connection.execute(sa.text(_BUMP))


@contextmanager
def bulk_writes(connection: Connection) -> Iterator[None]:
    """Inside one transaction: write many rows without a trigger firing per row on SQLite,
    then bump the version once. Other writers wait for the transaction, so none is missed."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        for statement in drop_trigger_ddl("sqlite"):
            connection.exec_driver_sql(statement)
    yield
    if sqlite:
        for statement in trigger_ddl("sqlite"):
            connection.exec_driver_sql(statement)
    bump(connection)
