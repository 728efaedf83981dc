"""The contact base as numpy columns, for simulating millions of contacts at once.

Keys follow `expressions.evaluate_columns`: declared fields by name (numbers float64 with NaN,
yes/no values bool, text and choices object arrays with None), `tag:<name>` bool,
`event_count:<name>` / `days_since:<name>` float64, `attr:<name>` object arrays, and the
calendar fields as constants. Text fields with few distinct values (gender, city, country,
locale, CRM stage) also come as integer codes + categories, the fast form for grouping.

Speed: SQLite hands Python one object per value, and grouping five million events takes it
seconds, so reading a million contacts straight from SQL costs tens of seconds however the
queries are written. Instead the SQL read builds a *snapshot* of everything that does not
depend on the moment (numbers, dates as epoch seconds, text as codes, tag and event
summaries), kept as numpy arrays in one blob in `column_cache` for as long as the triggers'
data version is unchanged (versioning.py); each read derives ages and days from it for its
`now` in numpy. A `now` earlier than the newest event (an "as of" read) rebuilds from SQL
with the later events left out. The raw queries go to the DBAPI cursor, not through Row
objects. The derived values use the integer arithmetic of `fields.py`, and the tests check
that counts over these columns equal the SQL counts.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress, repeat

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema, FieldType
from app.engine.db.cache import (
    from_bytes,
    load_arrays,
    load_meta,
    save_arrays,
    schema_of,
    to_bytes,
)
from app.engine.db.fields import (
    CATEGORICAL,
    SECONDS_PER_DAY,
    SqlFields,
    calendar_values,
    epoch_seconds,
    utc_naive,
)
from app.engine.db.models import Contact, Event, Tag, contact_tags
from app.engine.db.schema import attribute_keys
from app.engine.db.versioning import data_version

TEXTS = ("first_name", "last_name", "email", "phone", "gender", "city", "country", "locale")
TEXTS += ("crm_stage",)
NUMBERS = ("orders_count", "total_spent", "cart_value", "nps_score")
FLAGS = ("has_email", "has_phone", "consent_email", "consent_sms", "consent_messenger")
FLAGS += ("consent_vk", "consent_push")
MOMENTS = ("birth_ymd", "created_s", "last_purchase_s")
# Fields computed for each `now` from a stored moment.
DERIVED = {
    "age": "birth_ymd",
    "days_since_signup": "created_s",
    "days_since_purchase": "last_purchase_s",
}
SEPARATOR = "\x00"  # joins the distinct values of a text column; text never holds NUL


@dataclass(frozen=True)
class Categorical:
    """Integer codes into `categories`; -1 is a missing value."""

    codes: np.ndarray
    categories: tuple[str, ...]

    def values(self) -> np.ndarray:
        """The object array (None for missing) that `evaluate_columns` reads."""
        lookup = np.empty(len(self.categories) + 1, dtype=object)
        lookup[: len(self.categories)] = list(self.categories)
        return lookup[self.codes]  # code -1 picks the trailing None


@dataclass(frozen=True)
class ContactColumns(Mapping[str, np.ndarray]):
    """Row i of every column is the contact `ids[i]` (ascending id); usable directly as the
    `columns` of `evaluate_columns(expr, columns, columns.n)`."""

    ids: np.ndarray
    now: datetime
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    categorical: dict[str, Categorical] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.ids.size)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.columns[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)


def all_column_keys(schema: ContactSchema) -> list[str]:
    """Every column the evaluator can read: contact and calendar fields, tags, events and
    custom attributes."""
    keys = [f.name for f in schema.fields if f.type is not FieldType.TAGS]
    keys += [f"tag:{tag}" for tag in sorted(schema.tags)]
    for event in sorted(schema.events):
        keys += [f"event_count:{event}", f"days_since:{event}"]
    return keys + [f"attr:{name}" for name in sorted(schema.custom_attributes)]


def read_columns(
    engine: Engine,
    keys: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
) -> ContactColumns:
    """The columns `keys` (default: every column the database has, see `all_column_keys`) of
    every contact, at `now` (default: the current moment).

    Pass `expressions.columns_needed(expr)` to read only what a condition uses. Arrays may be
    read-only views of the cached snapshot: copy one before changing it.
    """
    wanted = None if keys is None else list(dict.fromkeys(keys))
    if wanted is not None:
        _check_keys(wanted)
    moment = utc_naive(now)
    fresh: dict[str, np.ndarray] | None = None
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # One snapshot of the data for the version and every statement that follows.
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        version = data_version(connection)
        meta = load_meta(connection, version)
        if meta is None:
            fresh = _Builder(connection).build()
            meta = from_bytes(fresh["meta"])
        if epoch_seconds(moment) < meta["latest_event"]:
            snapshot = _Builder(connection).build(until=moment)
            meta = from_bytes(snapshot["meta"])
        elif fresh is not None:
            snapshot = fresh
        else:
            wanted = wanted if wanted is not None else all_column_keys(schema_of(meta))
            snapshot = load_arrays(connection, version, meta, _arrays_for(wanted, meta))
    if fresh is not None:
        save_arrays(engine, version, fresh)
    if wanted is None:
        wanted = all_column_keys(schema_of(meta))
    return _derive(snapshot, meta, wanted, moment)


# --------------------------------------------------------------------------- snapshot


class _Builder:
    """Reads the snapshot arrays from SQL (the slow, exact path)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.fields = SqlFields(connection.dialect.name, datetime(1970, 1, 1))

    def rows(self, query: sa.Select) -> list[tuple]:
        # The DBAPI cursor under the Result: no Row objects for a million rows.
        return self.connection.execute(query).cursor.fetchall()

    def build(self, until: datetime | None = None) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, object] = {}
        self.contacts(arrays, meta)
        self.tags(arrays, meta)
        self.events(arrays, meta, until)
        self.attributes(arrays, meta)
        arrays["meta"] = to_bytes(meta)
        return arrays

    def contacts(self, arrays: dict[str, np.ndarray], meta: dict[str, object]) -> None:
        fields, table = self.fields, Contact.__table__
        bits = [sa.case((fields.field(name), 1 << i), else_=0) for i, name in enumerate(FLAGS)]
        selected = [
            Contact.id,
            *(table.c[name] for name in NUMBERS),
            fields.ymd(Contact.birth_date),
            fields.epoch(Contact.created_at),
            fields.epoch(Contact.last_purchase_at),
            sum(bits[1:], bits[0]),
        ]
        rows = self.rows(sa.select(*selected).order_by(Contact.id))
        table_ = np.array(rows, dtype=np.float64).reshape(len(rows), len(selected))
        arrays["ids"] = table_[:, 0].astype(np.int64)
        for offset, name in enumerate((*NUMBERS, *MOMENTS), start=1):
            arrays[f"num:{name}"] = np.ascontiguousarray(table_[:, offset])
        arrays["flags"] = table_[:, -1].astype(np.uint16)
        texts = self.rows(sa.select(*(table.c[name] for name in TEXTS)).order_by(Contact.id))
        for index, name in enumerate(TEXTS):
            text_arrays(arrays, name, [row[index] for row in texts])
        meta["n"] = len(rows)

    def tags(self, arrays: dict[str, np.ndarray], meta: dict[str, object]) -> None:
        names = dict(self.connection.execute(sa.select(Tag.id, Tag.name)).all())
        query = sa.select(contact_tags.c.tag_id, contact_tags.c.contact_id)
        links = np.array(self.rows(query), dtype=np.int64).reshape(-1, 2)
        tag_arrays(arrays, meta, names, links[:, 0], links[:, 1])

    def events(
        self, arrays: dict[str, np.ndarray], meta: dict[str, object], until: datetime | None
    ) -> None:
        """Per contact and type: how many, and when the last one happened (epoch seconds)."""
        query = sa.select(
            Event.contact_id,
            Event.type,
            sa.func.count(),
            self.fields.epoch(sa.func.max(Event.occurred_at)),
        ).group_by(Event.contact_id, Event.type)
        if until is not None:
            query = query.where(Event.occurred_at <= until)
        event_arrays(arrays, meta, self.rows(query))

    def attributes(self, arrays: dict[str, np.ndarray], meta: dict[str, object]) -> None:
        """Custom attributes as the evaluator sees them (JSON values, None when missing)."""
        keys = attribute_keys(self.connection)
        for name in keys:
            if self.connection.dialect.name == "postgresql":
                query = sa.select(Contact.attributes[name]).order_by(Contact.id)
                values = [row[0] for row in self.rows(query)]
            else:
                kind, raw = self.fields.attribute_kind(name), self.fields.attribute_raw(name)
                rows = self.rows(sa.select(kind, raw).order_by(Contact.id))
                values = [_sqlite_json(kind, value) for kind, value in rows]
            arrays[f"attr:{name}"] = to_bytes(values)
        meta["attributes"] = keys


# --------------------------------------------------------------------------- snapshot parts
# Shared by the SQL read above and by imports that fill an empty base (import_snapshot.py),
# so both build the very same arrays.


def text_arrays(arrays: dict[str, np.ndarray], name: str, values: list[str | None]) -> None:
    """A text field as integer codes (-1 missing) and its distinct values, NUL-joined."""
    filled = np.fromiter(map(operator.is_not, values, repeat(None)), bool, len(values))
    present = values if filled.all() else list(compress(values, filled.tolist()))
    # Sorted for the categorical fields users see; in row order for free text, so the codes
    # of near-unique values (e-mails) run in order and decode at memory speed.
    categories = sorted(set(present)) if name in CATEGORICAL else list(dict.fromkeys(present))
    if name not in CATEGORICAL and len(categories) == len(present):
        codes = np.full(len(values), -1, dtype=np.int32)  # all distinct: codes count up
        codes[filled] = np.arange(len(present), dtype=np.int32)
    else:
        lookup = {value: code for code, value in enumerate(categories)}
        lookup[None] = -1
        codes = np.fromiter(map(lookup.__getitem__, values), np.int32, len(values))
    arrays[f"code:{name}"] = codes
    arrays[f"text:{name}"] = np.frombuffer(SEPARATOR.join(categories).encode(), dtype=np.uint8)


def tag_arrays(
    arrays: dict[str, np.ndarray],
    meta: dict[str, object],
    names: Mapping[int, str],
    tag_ids: np.ndarray,
    contact_ids: np.ndarray,
) -> None:
    """A membership mask per tag (every tag in `names`, by id) from the link pairs."""
    rows = np.searchsorted(arrays["ids"], contact_ids)
    for tag_id, name in names.items():
        member = np.zeros(arrays["ids"].size, dtype=bool)
        member[rows[tag_ids == tag_id]] = True
        arrays[f"tag:{name}"] = member
    meta["tags"] = sorted(names.values())


def event_arrays(arrays: dict[str, np.ndarray], meta: dict[str, object], rows: list[tuple]) -> None:
    """Per type, the rows of the contacts with such events, their count and last moment,
    from (contact id, type, count, last epoch second) rows."""
    types = sorted({row[1] for row in rows})
    code = {name: index for index, name in enumerate(types)}
    kinds = np.fromiter((code[row[1]] for row in rows), np.int32, len(rows))
    numbers = np.array([(row[0], row[2], row[3]) for row in rows], dtype=np.float64)
    numbers = numbers.reshape(-1, 3)
    positions = np.searchsorted(arrays["ids"], numbers[:, 0].astype(np.int64))
    for name, index in code.items():
        mine = kinds == index
        arrays[f"ev_rows:{name}"] = positions[mine].astype(np.int32)
        arrays[f"ev_count:{name}"] = numbers[mine, 1].astype(np.int32)
        arrays[f"ev_last:{name}"] = numbers[mine, 2]
    meta["events"] = types
    meta["latest_event"] = float(numbers[:, 2].max()) if len(rows) else -np.inf


def _sqlite_json(kind: str, raw: object) -> object:
    if kind in ("true", "false"):
        return kind == "true"
    if kind in ("array", "object"):
        return json.loads(raw)
    return raw


def _arrays_for(keys: list[str], meta: Mapping[str, object]) -> set[str]:
    """Which stored arrays the columns `keys` are derived from."""
    names = {"ids"}
    for key in keys:
        prefix, _, name = key.partition(":")
        if key in TEXTS:
            names |= {f"code:{key}", f"text:{key}"}
        elif key in NUMBERS:
            names.add(f"num:{key}")
        elif key in FLAGS:
            names.add("flags")
        elif key in DERIVED:
            names.add(f"num:{DERIVED[key]}")
        elif prefix in ("tag", "attr"):
            names.add(key)
        elif prefix in ("event_count", "days_since"):
            names |= {f"ev_rows:{name}", f"ev_count:{name}", f"ev_last:{name}"}
    return names


# --------------------------------------------------------------------------- derived columns


def _derive(
    snapshot: Mapping[str, np.ndarray], meta: Mapping[str, object], keys: list[str], now: datetime
) -> ContactColumns:
    """The requested columns at `now`, with the whole-unit arithmetic of fields.py."""
    ids = snapshot["ids"]
    n = ids.size
    now_s = epoch_seconds(now)
    now_ymd = now.year * 10_000 + now.month * 100 + now.day
    calendar = calendar_values(now)
    columns: dict[str, np.ndarray] = {}
    categorical: dict[str, Categorical] = {}
    for key in keys:
        prefix, _, name = key.partition(":")
        if key in calendar:
            columns[key] = _constant(calendar[key], n)
        elif key in TEXTS:
            joined = snapshot[f"text:{key}"].tobytes().decode()
            coded = Categorical(
                snapshot[f"code:{key}"], tuple(joined.split(SEPARATOR)) if joined else ()
            )
            columns[key] = coded.values()
            if key in CATEGORICAL:
                categorical[key] = coded
        elif key in NUMBERS:
            columns[key] = snapshot[f"num:{key}"]
        elif key in FLAGS:
            columns[key] = (snapshot["flags"] >> FLAGS.index(key)) & 1 == 1
        elif key in DERIVED:
            moment = snapshot[f"num:{DERIVED[key]}"]
            if key == "age":
                columns[key] = _whole(now_ymd - moment, 10_000)
            else:
                columns[key] = _whole(now_s - moment, SECONDS_PER_DAY)
        elif prefix == "tag":
            columns[key] = snapshot[key] if key in snapshot else _constant(False, n)
        elif prefix in ("event_count", "days_since"):
            columns[key] = _event_column(snapshot, prefix, name, n, now_s)
        elif prefix == "attr":
            column = np.empty(n, dtype=object)
            if key in snapshot:
                column[:] = from_bytes(snapshot[key])
            columns[key] = column
    return ContactColumns(ids, now, columns, categorical)


def _constant(value: object, n: int) -> np.ndarray:
    """n times one value without n copies (a read-only zero-stride view)."""
    if isinstance(value, str):
        scalar = np.empty((), dtype=object)
        scalar[()] = value
    else:
        scalar = np.array(value, dtype=bool if isinstance(value, bool) else np.float64)
    return np.broadcast_to(scalar, (n,))


def _whole(amount: np.ndarray, unit: int) -> np.ndarray:
    """Whole units truncated toward zero, as SQL integer division; NaN stays NaN. Exact:
    amounts are integers far below 2**53, so the quotient never rounds across a whole."""
    return np.trunc(amount / unit)


def _event_column(
    snapshot: Mapping[str, np.ndarray], prefix: str, name: str, n: int, now_s: int
) -> np.ndarray:
    rows = snapshot.get(f"ev_rows:{name}")
    if rows is None:
        return _constant(0.0 if prefix == "event_count" else np.nan, n)
    if prefix == "event_count":
        counts = np.zeros(n)
        counts[rows] = snapshot[f"ev_count:{name}"]
        return counts
    days = np.full(n, np.nan)
    days[rows] = _whole(now_s - snapshot[f"ev_last:{name}"], SECONDS_PER_DAY)
    return days


def _check_keys(keys: list[str]) -> None:
    prefixes = ("tag", "event_count", "days_since", "attr")
    for key in keys:
        prefix, colon, name = key.partition(":")
        if colon and prefix in prefixes and name:
            continue
        declared = DEFAULT_SCHEMA.find(key)
        if colon or declared is None or declared.type is FieldType.TAGS:
            raise ValueError(
                f"unknown column {key!r}: use a field name, tag:<name>, event_count:<name>, "
                "days_since:<name> or attr:<name>"
            )
