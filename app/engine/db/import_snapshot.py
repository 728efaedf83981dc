"""The columnar snapshot (columns.py) of a base an import has just filled, built from the
import's own columns instead of read back with SQL.

Reading a million contacts back costs tens of seconds on a small machine, and the first read
after any change does that; an import into a base without contacts holds everything the
snapshot needs already (no other contact, hence no event, exists), so it leaves the snapshot
warm. The SQL read turns moments into numbers with the database's date functions; this
module reproduces them exactly (SQLite's strftime('%s') rounds to the millisecond first,
PostgreSQL's extract(epoch) floors), and the tests check both ways give equal snapshots.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from itertools import repeat

import numpy as np

from app.engine.contact_schema import DEFAULT_SCHEMA
from app.engine.db.cache import to_bytes
from app.engine.db.columns import (
    FLAGS,
    NUMBERS,
    TEXTS,
    event_arrays,
    tag_arrays,
    text_arrays,
)

# What the database stores for a column the import left out (server defaults or NULL).
_STORED_DEFAULT = {"orders_count": 0.0, "total_spent": 0.0, "cart_value": 0.0}
_LARGEST_JSON_INTEGER = 2**63 - 1  # larger ones SQLite's JSON functions read as reals


def _reads_back(value: object) -> bool:
    """Whether a custom attribute value comes back from either database's JSON as the same
    JSON text: SQLite reads integers beyond 64 bits as reals; PostgreSQL's numeric writes
    1e+16 as 10000000000000000 (an integer to Python) and has no -0.0."""
    if type(value) is int:
        return abs(value) <= _LARGEST_JSON_INTEGER
    if type(value) is float:
        return "e" not in repr(value) and not (value == 0 and math.copysign(1, value) < 0)
    return True


def import_snapshot(
    dialect: str,
    columns: Mapping[str, Sequence],
    tag_names: Mapping[int, str],
    links: tuple[np.ndarray, np.ndarray],
) -> dict[str, np.ndarray] | None:
    """The snapshot arrays of a base whose only contacts are `columns` (as inserted: `id`
    ascending, fields, `attributes` dicts), tags `tag_names` (id → name) and tag links
    (contact ids, tag ids); None when this module cannot be sure to match the SQL read."""
    ids = np.asarray(columns["id"], dtype=np.int64)
    count = ids.size
    if count and np.any(np.diff(ids) <= 0):
        return None
    keys = _attribute_keys(columns.get("attributes"))
    if keys is None:
        return None
    arrays: dict[str, np.ndarray] = {"ids": ids}
    meta: dict[str, object] = {}
    for name in NUMBERS:
        values = columns.get(name)
        arrays[f"num:{name}"] = (
            np.full(count, _STORED_DEFAULT.get(name, np.nan))
            if values is None
            else np.array(values, dtype=np.float64)
        )
    arrays["num:birth_ymd"] = _ymd(columns.get("birth_date"), count)
    arrays["num:created_s"] = _epochs(columns.get("created_at"), count, dialect)
    arrays["num:last_purchase_s"] = _epochs(columns.get("last_purchase_at"), count, dialect)
    arrays["flags"] = _flags(columns, count)
    for name in TEXTS:
        values = columns.get(name)
        if values is None:  # not imported: every contact lacks it
            arrays[f"code:{name}"] = np.full(count, -1, dtype=np.int32)
            arrays[f"text:{name}"] = np.frombuffer(b"", dtype=np.uint8)
        else:
            text_arrays(arrays, name, list(values))
    meta["n"] = count
    contact_ids, tag_ids = links
    tag_arrays(arrays, meta, tag_names, tag_ids, contact_ids)
    event_arrays(arrays, meta, [])
    attributes = columns.get("attributes")
    for key in keys:
        arrays[f"attr:{key}"] = to_bytes([(a or {}).get(key) for a in attributes])
    meta["attributes"] = keys
    arrays["meta"] = to_bytes(meta)
    return arrays


def _attribute_keys(attributes: Sequence[dict | None] | None) -> list[str] | None:
    """The keys `schema.attribute_keys` would find; None if a value would not read back as
    it was written."""
    if attributes is None:
        return []
    distinct = {id(a): a for a in attributes if a}
    keys: set[str] = set()
    for values in distinct.values():
        keys.update(values)
        if not all(map(_reads_back, values.values())):
            return None
    declared = set(DEFAULT_SCHEMA.field_names())
    return sorted(key for key in keys if key not in declared)


def _flags(columns: Mapping[str, Sequence], count: int) -> np.ndarray:
    flags = np.zeros(count, dtype=np.uint16)
    for bit, name in enumerate(FLAGS):
        if name in ("has_email", "has_phone"):
            values = columns.get(name[4:])
            if values is None:
                continue
            set_ = np.fromiter(map(operator.is_not, values, repeat(None)), bool, count)
        else:
            values = columns.get(name)
            if values is None:
                continue
            set_ = np.fromiter(map(bool, values), bool, count)
        flags |= set_.astype(np.uint16) << bit
    return flags


def _ymd(values: Sequence[date | None] | None, count: int) -> np.ndarray:
    """YYYYMMDD of each date (NaN for none), as `strftime('%Y%m%d')` / `to_char` give it."""
    if values is None:
        return np.full(count, np.nan)
    ymd = {day: day.year * 10_000 + day.month * 100 + day.day for day in set(values) if day}
    ymd[None] = np.nan
    return np.fromiter(map(ymd.__getitem__, values), np.float64, count)


def _epochs(values: Sequence[datetime | None] | None, count: int, dialect: str) -> np.ndarray:
    """Epoch seconds of each moment as the SQL read derives them (NaN for none)."""
    if values is None:
        return np.full(count, np.nan)
    if count > 1 and values.count(values[0]) == count:  # one moment for all (the import's "now")
        return np.full(count, _epochs([values[0]], 1, dialect)[0])
    moments = np.array(values, dtype="datetime64[us]")
    missing = np.isnat(moments)
    micros = np.where(missing, 0, moments.astype(np.int64))
    seconds, fraction = np.divmod(micros, 1_000_000)
    if dialect == "sqlite":
        # SQLite parses "SS.ffffff" into a double, rounds it to whole milliseconds
        # ((s * 1000.0 + 0.5) truncated), then floors milliseconds to seconds.
        in_minute = seconds % 60
        millis = np.trunc((in_minute.astype(np.float64) + fraction / 1e6) * 1000.0 + 0.5)
        seconds = seconds - in_minute + millis.astype(np.int64) // 1000
    result = seconds.astype(np.float64)
    result[missing] = np.nan
    return result
