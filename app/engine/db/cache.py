"""The columnar snapshot's storage: one `column_cache` row per numpy array, plus a JSON
description, all valid for one data version (versioning.py).

Arrays are stored as their raw bytes (never pickled) and come back as read-only views of the
fetched bytes, so a read of a few columns loads and copies only those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
from app.engine.db.models import ColumnCache

CACHE_NAME = "contacts"


def schema_of(meta: Mapping[str, object]) -> ContactSchema:
    """The contact schema a snapshot describes (what `contact_schema` would read)."""
    return ContactSchema(
        tags=frozenset(meta["tags"]),
        events=DEFAULT_SCHEMA.events | frozenset(meta["events"]),
        custom_attributes=frozenset(meta["attributes"]),
    )


def to_bytes(value: object) -> np.ndarray:
    """JSON as a uint8 array: the snapshot holds only plain arrays (never pickles)."""
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode(), dtype=np.uint8)


def from_bytes(array: np.ndarray) -> object:
    return json.loads(array.tobytes().decode())


def load_meta(connection: Connection, version: int) -> dict | None:
    """The cached snapshot's description, if it is for this data version."""
    rows = _rows(connection, version, ["meta"])
    return from_bytes(np.frombuffer(rows["meta"], dtype=np.uint8)) if rows else None


def _rows(connection: Connection, version: int, names: list[str]) -> dict[str, bytes]:
    query = sa.select(ColumnCache.name, ColumnCache.payload).where(
        ColumnCache.data_version == version,
        ColumnCache.name.in_([f"{CACHE_NAME}:{name}" for name in names]),
    )
    prefix = len(CACHE_NAME) + 1
    return {name[prefix:]: payload for name, payload in connection.execute(query)}


def load_arrays(
    connection: Connection, version: int, meta: Mapping[str, object], names: set[str]
) -> dict[str, np.ndarray]:
    """The cached arrays `names`, as read-only views of the stored bytes (no copy)."""
    shapes = meta["arrays"]
    payloads = _rows(connection, version, sorted(names & set(shapes)))
    return {name: np.frombuffer(payload, dtype=shapes[name]) for name, payload in payloads.items()}


def save_arrays(engine: Engine, version: int, arrays: dict[str, np.ndarray]) -> None:
    """Keep the snapshot for the next reads, one row per array so a read of a few columns
    loads only those."""
    try:
        with engine.begin() as connection:
            store_arrays(connection, version, arrays)
    except sa.exc.DBAPIError:
        return  # locked or read-only: the next read builds the snapshot again


def store_arrays(connection: Connection, version: int, arrays: dict[str, np.ndarray]) -> None:
    """Replace the stored snapshot, in the caller's transaction."""
    meta = from_bytes(arrays["meta"])
    meta["arrays"] = {name: array.dtype.str for name, array in arrays.items() if name != "meta"}
    rows = [
        {"name": f"{CACHE_NAME}:{name}", "data_version": version, "payload": array.tobytes()}
        for name, array in {**arrays, "meta": to_bytes(meta)}.items()
    ]
    connection.execute(sa.delete(ColumnCache))
    connection.execute(sa.insert(ColumnCache), rows)
