"""The contact schema of a database: declared fields plus what the data actually holds.

Validation, the condition editor and templates ask this module which tags, events and custom
attributes exist, so the database is the one source of those names.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
from app.engine.db.cache import load_meta, schema_of
from app.engine.db.models import Contact, Event, Tag
from app.engine.db.versioning import data_version


def contact_schema(bind: Engine | Connection | Session) -> ContactSchema:
    """DEFAULT_SCHEMA's fields and events, plus the database's tags, event types and the keys
    of its custom attributes (keys that shadow a declared field are left out)."""
    with _connection(bind) as connection:
        meta = load_meta(connection, data_version(connection))
        if meta is not None:
            return schema_of(meta)  # the columnar snapshot of this very data knows it all
        tags = connection.scalars(sa.select(Tag.name)).all()
        events = connection.scalars(sa.select(Event.type).distinct()).all()
        keys = attribute_keys(connection)
    return ContactSchema(
        tags=frozenset(tags),
        events=DEFAULT_SCHEMA.events | frozenset(events),
        custom_attributes=frozenset(keys),
    )


def attribute_keys(connection: Connection) -> list[str]:
    """The custom attribute names the contacts hold, sorted; names of declared fields are
    left out (a declared field always wins)."""
    declared = set(DEFAULT_SCHEMA.field_names())
    keys = connection.scalars(_attribute_keys(connection.dialect.name)).all()
    return sorted(key for key in keys if key not in declared)


def _attribute_keys(dialect: str) -> sa.Select:
    if dialect == "sqlite":
        keys = sa.func.json_each(Contact.attributes).table_valued("key")
        return (
            sa.select(keys.c.key)
            .select_from(Contact)
            .join(keys, sa.true())
            .where(sa.func.json_type(Contact.attributes) == "object")
            .distinct()
        )
    if dialect == "postgresql":
        keys = sa.func.jsonb_object_keys(Contact.attributes).table_valued("key").render_derived()
        return (
            sa.select(keys.c.key)
            .select_from(Contact)
            .join(keys, sa.true())
            .where(sa.func.jsonb_typeof(Contact.attributes) == "object")
            .distinct()
        )
    raise ValueError(f"custom attributes need SQLite or PostgreSQL, not {dialect}")


@contextmanager
def _connection(bind: Engine | Connection | Session) -> Iterator[Connection]:
    """The given or the Session's own connection (left open), or a new one from an Engine."""
    if isinstance(bind, Connection | Session):
        yield bind if isinstance(bind, Connection) else bind.connection()
        return
    with bind.connect() as connection:
        yield connection
