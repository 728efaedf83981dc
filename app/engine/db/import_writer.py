"""Writing an import's contacts: matched with the database's, inserted and updated in bulk,
in the caller's transaction.

New contacts, the bulk of a large import, go below the ORM (bulk.py): whole columns to the
DBAPI cursor (SQLite `executemany`, PostgreSQL COPY) and tag links as integer pairs built with
numpy. Updates of existing contacts, usually few, use Core statements.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection

from app.engine.db.bulk import allocate_ids, indexes_rebuilt, insert_columns, insert_pairs
from app.engine.db.import_snapshot import import_snapshot
from app.engine.db.import_table import ContactTable, compatible
from app.engine.db.models import CONSENT_COLUMNS, Contact, Tag, contact_tags

Progress = Callable[[str, int, int], None]
BATCH = 100_000
NUMBERS_DEFAULT = {"orders_count": 0, "total_spent": 0.0, "cart_value": 0.0}


class ContactWriter:
    """Matches the file's contacts with the database's and writes them."""

    def __init__(self, connection: Connection, now: datetime, progress: Progress | None) -> None:
        self.connection = connection
        self.now = now
        self.progress = progress or (lambda *_: None)
        self.empty_before = True
        self.snapshot: dict[str, np.ndarray] | None = None

    def write(self, table: ContactTable, snapshot: bool = False) -> tuple[int, int, int]:
        """Write the table; returns (created, updated, tags created). With `snapshot`, an
        import into a base without contacts also builds the columnar snapshot of the result
        (`self.snapshot`), in a thread while SQLite builds indexes and links (C code that
        releases the GIL)."""
        existing = self.match(table)
        if existing.count(None) == len(existing):  # all new (counted in C)
            new_count, old = len(existing), []
            created = table
        else:
            new = [row for row, cid in enumerate(existing) if cid is None]
            old = [(row, cid) for row, cid in enumerate(existing) if cid is not None]
            new_count, created = len(new), table.take(new)
        tag_ids, tags_created = self.tags(table)
        with ThreadPoolExecutor(max_workers=1) as pool:
            building = None
            with indexes_rebuilt(self.connection, Contact.__table__, len(created)):
                columns = self.insert(created)
                links = self.links(created, columns["id"], tag_ids, table, old)
                if snapshot and self.empty_before:
                    names = dict(self.connection.execute(sa.select(Tag.id, Tag.name)).all())
                    dialect = self.connection.dialect.name
                    building = pool.submit(import_snapshot, dialect, columns, names, links)
            self.update(table, old)
            insert_pairs(self.connection, contact_tags, ("contact_id", "tag_id"), *links)
            self.snapshot = building.result() if building else None
        return new_count, len(old), tags_created

    def match(self, table: ContactTable) -> list[int | None]:
        """The existing contact each row updates: same e-mail, else same phone on a contact
        whose e-mail is empty or equal; each existing contact is claimed at most once."""
        if not self.connection.scalar(sa.select(sa.exists().select_from(Contact))):
            return [None] * len(table)
        self.empty_before = False
        rows = self.connection.execute(sa.select(Contact.id, Contact.email, Contact.phone)).all()
        by_email = {email: cid for cid, email, _ in rows if email}
        by_phone: dict[str, tuple[int, str | None]] = {}
        for cid, email, phone in rows:
            if phone:
                by_phone.setdefault(phone, (cid, email))
        claimed: set[int] = set()
        found: list[int | None] = []
        for row in range(len(table)):
            email, phone = table.get("email", row), table.get("phone", row)
            cid = by_email.get(email) if email else None
            if cid is None and phone in by_phone:
                candidate, candidate_email = by_phone[phone]
                if compatible(candidate_email, email) and candidate not in claimed:
                    cid = candidate
            if cid is not None:
                claimed.add(cid)
            found.append(cid)
        return found

    def tags(self, table: ContactTable) -> tuple[dict[str, int], int]:
        # Rows with the same tags text share one set (ContactTable): each set once, in C.
        distinct = dict(zip(map(id, table.tags or ()), table.tags or (), strict=True))
        names = sorted(set().union(*filter(None, distinct.values())))
        if not names:
            return {}, 0
        known = dict(self.connection.execute(sa.select(Tag.name, Tag.id)).all())
        new = [name for name in names if name not in known]
        ids = allocate_ids(self.connection, Tag.__table__, len(new))
        insert_columns(self.connection, Tag.__table__, {"id": ids, "name": new})
        return {**known, **dict(zip(new, ids, strict=True))}, len(new)

    def insert(self, table: ContactTable) -> dict[str, list]:
        """Insert the rows as new contacts; returns the columns as written (with `id`)."""
        count = len(table)
        ids = allocate_ids(self.connection, Contact.__table__, count)
        defaults = {**dict.fromkeys(CONSENT_COLUMNS, False), **NUMBERS_DEFAULT}
        created = table.fields.get("created_at")
        columns: dict[str, list] = {
            "id": ids,
            "created_at": [self.now] * count
            if created is None
            else [self.now if c is None else c for c in created],
        }
        for column in Contact.__table__.c:
            values = table.fields.get(column.name)
            if values is None or column.name in columns:
                continue
            default = defaults.get(column.name)
            if default is not None and None in values:
                values = [default if v is None else v for v in values]
            columns[column.name] = values
        if table.attributes is not None:
            columns["attributes"] = table.attributes
        for start in range(0, count, BATCH):
            batch = {name: values[start : start + BATCH] for name, values in columns.items()}
            insert_columns(self.connection, Contact.__table__, batch)
            self.progress("writing", min(start + BATCH, count), count)
        return columns

    def update(self, table: ContactTable, pairs: list[tuple[int, int]]) -> None:
        if not pairs:
            return
        columns = Contact.__table__.c
        attributes = self.attributes(
            [cid for row, cid in pairs if table.attributes and table.attributes[row]]
        )
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row, cid in pairs:
            contact = table.row(row)
            values = {k: v for k, v in contact.items() if k in columns and k != "id"}
            if "attributes" in contact:
                values["attributes"] = {**(attributes.get(cid) or {}), **contact["attributes"]}
            if values:
                groups.setdefault(tuple(sorted(values)), []).append({"contact_id": cid, **values})
        for names, rows in groups.items():
            statement = (
                Contact.__table__.update()
                .where(columns.id == sa.bindparam("contact_id"))
                .values({name: sa.bindparam(name) for name in names})
            )
            self.connection.execute(statement, rows)

    def attributes(self, ids: list[int]) -> dict[int, dict[str, Any] | None]:
        found: dict[int, dict[str, Any] | None] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = sa.select(Contact.id, Contact.attributes).where(Contact.id.in_(chunk))
            found.update(self.connection.execute(query).all())
        return found

    def links(
        self,
        created: ContactTable,
        ids: list[int],
        tag_ids: dict[str, int],
        table: ContactTable,
        old: list[tuple[int, int]],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Tag links (contact ids, tag ids) to insert: all of the new contacts', and those
        the updated ones do not have yet; ordered by contact, so the primary key index
        grows at its end."""
        contacts, tags = tag_pairs(created.tags, np.array(ids, dtype=np.int64), tag_ids)
        if table.tags is not None and old:
            have: set[tuple[int, int]] = set()
            updated = [cid for _, cid in old]
            for start in range(0, len(updated), 500):
                query = sa.select(contact_tags.c.contact_id, contact_tags.c.tag_id).where(
                    contact_tags.c.contact_id.in_(updated[start : start + 500])
                )
                have.update(self.connection.execute(query).all())
            wanted = {(cid, tag_ids[tag]) for row, cid in old for tag in table.tags[row] or ()}
            fresh = np.array(sorted(wanted - have), dtype=np.int64).reshape(-1, 2)
            contacts = np.concatenate([contacts, fresh[:, 0]])
            tags = np.concatenate([tags, fresh[:, 1]])
        return contacts, tags


def tag_pairs(
    tags: list[set[str] | None] | None, ids: np.ndarray, tag_ids: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(contact id, tag id) of every tag of every row, ordered by contact then tag.

    Rows whose tags cell had the same text share one set (ContactTable), so the rows are
    grouped by set and each distinct set is expanded once, with numpy.
    """
    if not tags:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    by_identity = dict(zip(map(id, tags), tags, strict=True))
    group_of = {key: group for group, key in enumerate(by_identity)}
    sets = list(by_identity.values())
    groups = np.fromiter(map(group_of.__getitem__, map(id, tags)), np.int64, len(tags))
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(len(sets) + 1))
    contacts: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for group, tag_set in enumerate(sets):
        members = ids[order[bounds[group] : bounds[group + 1]]]
        for name in tag_set or ():
            contacts.append(members)
            labels.append(np.full(members.size, tag_ids[name], dtype=np.int64))
    if not contacts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    contact_ids, tag_id_values = np.concatenate(contacts), np.concatenate(labels)
    by_contact = np.lexsort((tag_id_values, contact_ids))
    return contact_ids[by_contact], tag_id_values[by_contact]
