"""The columnar snapshot's storage: one `column_cache` row per numpy array, plus a JSON
description, all valid for one data version (versioning.py).

Arrays are stored as their raw bytes (never pickled) and come back as read-only views of the
fetched bytes, so a read of a few columns loads and copies only those. An array that holds
one value throughout (a field an import did not have: all NaN, all 0) is stored as that
value and its length: a third of an imported million-contact snapshot, written and
checkpointed for nothing otherwise.
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
    arrays = {}
    for name, payload in payloads.items():
        shape = shapes[name]
        if isinstance(shape, list):  # [dtype, length]: one value throughout
            array = np.full(shape[1], np.frombuffer(payload, dtype=shape[0])[0])
            array.flags.writeable = False
        else:
            array = np.frombuffer(payload, dtype=shape)
        arrays[name] = array
    return arrays


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
    meta["arrays"] = {}
    payloads = {}
    for name, array in arrays.items():
        if name == "meta":
            continue
        if _constant(array):
            meta["arrays"][name] = [array.dtype.str, int(array.size)]
            payloads[name] = array[:1].tobytes()
        else:
            meta["arrays"][name] = array.dtype.str
            payloads[name] = array.tobytes()
    payloads["meta"] = to_bytes(meta).tobytes()
    rows = [
        {"name": f"{CACHE_NAME}:{name}", "data_version": version, "payload": payload}
        for name, payload in payloads.items()
    ]
    connection.execute(sa.delete(ColumnCache))
    connection.execute(sa.insert(ColumnCache), rows)


def _constant(array: np.ndarray) -> bool:
    """A one-dimensional array of 1,000+ elements all bit-for-bit equal (NaN included)."""
    if array.ndim != 1 or array.size < 1000 or array.dtype.itemsize not in (1, 2, 4, 8):
        return False
    bits = array.view(f"u{array.dtype.itemsize}")
    return bool(bits[0] == bits[-1] and (bits == bits[0]).all())
