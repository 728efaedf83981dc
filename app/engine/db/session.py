"""Where the contact database lives and how it is opened: always migrated to the newest schema.

The default is an SQLite file in the user's data directory (zero setup); `VORONKA_DB` or an
explicit URL selects any SQLAlchemy database, e.g. `postgresql+psycopg://…` for a team.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.engine.i18n import T

ENV_VAR = "VORONKA_DB"
MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseError(Exception):
    """A database that cannot be opened or used, with a message saying which and why."""


def default_database_path() -> Path:
    """contacts.sqlite3 in the user's data folder; `VORONKA_DATA_DIR` moves it with the other
    per-user files (tests, portable installs)."""
    folder = os.environ.get("VORONKA_DATA_DIR") or platformdirs.user_data_dir(
        "voronka", appauthor=False
    )
    return Path(folder) / "contacts.sqlite3"


def database_url(url: str | None = None) -> str:
    """The URL to open: the explicit one, else $VORONKA_DB, else the default SQLite file."""
    chosen = url or os.environ.get(ENV_VAR) or f"sqlite:///{default_database_path()}"
    try:
        make_url(chosen)
    except ArgumentError as error:
        source = "--db" if url else ENV_VAR if os.environ.get(ENV_VAR) else "default"
        raise DatabaseError(
            str(
                T(
                    "Database",
                    "{source}: {url} is not a database URL ({problem})",
                    source=source,
                    url=repr(chosen),
                    problem=error,
                )
            )
        ) from None
    return chosen


def create_database_engine(url: str | None = None) -> Engine:
    """An Engine for the URL, without migrating (tests build old schemas with it)."""
    resolved = make_url(database_url(url))
    if resolved.get_backend_name() != "sqlite":
        return create_engine(resolved, pool_pre_ping=True)
    if resolved.database and resolved.database != ":memory:":
        folder = Path(resolved.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseError(
                str(
                    T(
                        "Database",
                        "cannot create the folder {folder} for the database: {problem}",
                        folder=folder,
                        problem=error.strerror,
                    )
                )
            ) from None
    engine = create_engine(resolved)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))
    return engine


def _sqlite_connect(dbapi_connection, _record) -> None:
    # pysqlite starts transactions only before DML, so DDL and a failed import would not be
    # atomic; we take over with an explicit BEGIN (the SQLAlchemy-documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA cache_size = -65536")  # 64 MiB: unique-index upkeep in bulk imports
    cursor.close()


# From this many contacts, an SQLite import writes without the WAL (see `bulk_load`), with
# a page cache of 256 MiB (KiB, negative) while it lasts.
JOURNAL_FROM_ROWS = 50_000
BULK_CACHE = -262_144


@contextmanager
def bulk_load(connection: Connection, rows: int) -> Iterator[None]:
    """SQLite, around the transaction begun inside, of a bulk writer of `rows` contacts whose
    links point only at rows it wrote or read in that same transaction:

    - no foreign-key lookups (an import's 1.6M tag links cost 1.7 s more with two each);
    - from JOURNAL_FROM_ROWS rows, when no other connection has the file open, a rollback
      journal instead of the WAL: new pages are then written once, not to the WAL and again
      by the checkpoint (a 1M-contact import's commit: 3.2 s → 1.0 s), with full syncs.
      Other processes then wait for the import to read, instead of reading the old data;
    - from as many rows, a 256 MiB page cache (64 MiB otherwise): 1M contacts ~8 % faster.

    SQLite ignores these pragmas inside a transaction, so they are set on the driver's
    connection before BEGIN and set back after."""
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        yield
        return
    driver = connection.connection.dbapi_connection
    driver.execute("PRAGMA foreign_keys = OFF")
    large = rows >= JOURNAL_FROM_ROWS
    cache = driver.execute("PRAGMA cache_size").fetchone()[0]
    if large:
        driver.execute(f"PRAGMA cache_size = {BULK_CACHE}")
    journal = large and _journal_mode(driver, "DELETE")
    if journal:
        driver.execute("PRAGMA synchronous = FULL")
    try:
        yield
    finally:
        try:
            driver.execute("PRAGMA foreign_keys = ON")
            driver.execute(f"PRAGMA cache_size = {int(cache)}")
            if journal:
                driver.execute("PRAGMA synchronous = NORMAL")
                driver.execute("PRAGMA journal_mode = WAL")
        except Exception:
            connection.invalidate()  # never back to the pool without its checks and WAL
            raise


def _journal_mode(driver: sqlite3.Connection, mode: str) -> bool:
    """Switch the journal mode if no other connection has the file open (SQLite refuses to
    leave WAL then); at once, not after the driver's busy timeout."""
    waited = driver.execute("PRAGMA busy_timeout").fetchone()[0]
    driver.execute("PRAGMA busy_timeout = 0")
    try:
        return driver.execute(f"PRAGMA journal_mode = {mode}").fetchone()[0] == mode.lower()
    except sqlite3.Error:  # another connection uses the file
        return False
    finally:
        driver.execute(f"PRAGMA busy_timeout = {int(waited)}")


def _alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` in one transaction; nothing to do costs one query."""
    with engine.begin() as connection:
        config = _alembic_config(connection)
        if revision == "head":
            heads = set(ScriptDirectory.from_config(config).get_heads())
            current = set(MigrationContext.configure(connection).get_current_heads())
            if current == heads:
                return
        command.upgrade(config, revision)


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def open_database(url: str | None = None) -> Engine:
    """The Engine for `url` (see `database_url`), migrated to the newest schema."""
    engine = create_database_engine(url)
    try:
        migrate(engine)
    except Exception as error:
        engine.dispose()
        where = engine.url.render_as_string(hide_password=True)
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        message = T(
            "Database", "cannot open the database {url}: {problem}", url=where, problem=reason
        )
        raise DatabaseError(str(message)) from error
    return engine
