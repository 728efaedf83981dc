"""The contacts of an import held column by column, and the folding of duplicate rows.

A million contacts as a million dicts cost seconds to build and more to walk; as one list per
field they are filled, filtered and written with C-level list operations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from operator import itemgetter
from typing import Any


class ContactTable:
    """Contacts column by column: row i of every list is one contact. `fields` holds the
    contact columns (None = no value), `tags` sets and `attributes` dicts (or None).

    Rows whose tags cell had the same text share one set object: never change a set in
    place, replace it.
    """

    def __init__(self, lines: Sequence[int]) -> None:
        self.lines = lines
        self.fields: dict[str, list] = {}
        self.tags: list[set[str] | None] | None = None
        self.attributes: list[dict[str, object] | None] | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def put(self, name: str, values: list) -> None:
        """Add a column; for a field already filled by an earlier column, fill only gaps."""
        if name == "tags":
            self.tags = _first_present(self.tags, values)
        elif name.startswith("attr:"):
            key = name[5:]
            current = self.attributes or [None] * len(values)
            self.attributes = [
                attrs if value is None else {**(attrs or {}), key: value}
                for attrs, value in zip(current, values, strict=True)
            ]
        else:
            self.fields[name] = _first_present(self.fields.get(name), values)

    def take(self, rows: Sequence[int]) -> ContactTable:
        """The rows `rows`, in that order."""
        taken = ContactTable(pick(self.lines, rows))
        taken.fields = {name: pick(values, rows) for name, values in self.fields.items()}
        taken.tags = None if self.tags is None else pick(self.tags, rows)
        if self.attributes is not None:
            taken.attributes = pick(self.attributes, rows)
        return taken

    def extended(self, other: ContactTable) -> ContactTable:
        """This table's rows followed by `other`'s."""
        mine, theirs = len(self), len(other)
        joined = ContactTable(_concatenated(self.lines, other.lines))
        for name in {**self.fields, **other.fields}:
            joined.fields[name] = (self.fields.get(name) or [None] * mine) + (
                other.fields.get(name) or [None] * theirs
            )
        if self.tags is not None or other.tags is not None:
            joined.tags = (self.tags or [None] * mine) + (other.tags or [None] * theirs)
        if self.attributes is not None or other.attributes is not None:
            joined.attributes = (self.attributes or [None] * mine) + (
                other.attributes or [None] * theirs
            )
        return joined

    def get(self, name: str, row: int) -> Any:
        values = self.fields.get(name)
        return None if values is None else values[row]

    def row(self, index: int) -> dict[str, Any]:
        contact: dict[str, Any] = {"line": self.lines[index]}
        contact.update(
            (name, values[index])
            for name, values in self.fields.items()
            if values[index] is not None
        )
        if self.tags is not None and self.tags[index]:
            contact["tags"] = self.tags[index]
        if self.attributes is not None and self.attributes[index]:
            contact["attributes"] = self.attributes[index]
        return contact


def pick(values: Sequence, rows: Sequence[int]) -> list:
    """values[i] for each i in rows, at C speed."""
    if len(rows) < 2:
        return [values[row] for row in rows]
    return list(itemgetter(*rows)(values))


def _concatenated(first: Sequence[int], second: Sequence[int]) -> Sequence[int]:
    """Line numbers one after the other; two adjoining ranges stay a range."""
    if isinstance(first, range) and isinstance(second, range) and first.stop == second.start:
        return range(first.start, second.stop)
    return [*first, *second]


def _first_present(current: list | None, values: list) -> list:
    if current is None:
        return values
    return [a if a is not None else b for a, b in zip(current, values, strict=True)]


def rows_without_any(columns: Sequence[list], count: int) -> list[int]:
    """The rows (of `count`) where every one of `columns` is None."""
    if not columns:
        return list(range(count))
    fewest = min(columns, key=lambda values: values.count(None))
    if not fewest.count(None):
        return []
    rows = [row for row, value in enumerate(fewest) if value is None]
    for values in columns:
        rows = [row for row in rows if values[row] is None]
    return rows


def all_distinct(values: list) -> bool:
    """No two values, None aside, are equal."""
    distinct = set(values)
    distinct.discard(None)
    return len(distinct) == len(values) - values.count(None)


def fold_duplicates(table: ContactTable) -> tuple[ContactTable, int]:
    """Rows of the same person become one: same e-mail, or same phone when the e-mails do not
    disagree. Later non-empty values win; tags and attributes add up."""
    emails = table.fields.get("email") or [None] * len(table)
    phones = table.fields.get("phone") or [None] * len(table)
    if all_distinct(emails) and all_distinct(phones):
        return table, 0  # no two rows share an e-mail or a phone
    # A row whose e-mail and phone no other row has is never merged nor merged into.
    shared_emails, shared_phones = _repeated(emails), _repeated(phones)
    involved = [
        row
        for row, (email, phone) in enumerate(zip(emails, phones, strict=True))
        if email in shared_emails or phone in shared_phones
    ]
    by_email: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    dropped: set[int] = set()
    for row in involved:
        email, phone = emails[row], phones[row]
        target = by_email.get(email) if email else None
        if target is None and phone:
            candidate = by_phone.get(phone)
            if candidate is not None and compatible(emails[candidate], email):
                target = candidate
        if target is None:
            target = row
        else:
            _merge(table, target, row)
            dropped.add(row)
        if emails[target]:
            by_email[emails[target]] = target
        if phones[target]:
            by_phone.setdefault(phones[target], target)
    kept = [row for row in range(len(table)) if row not in dropped]
    return table.take(kept), len(dropped)


def _repeated(values: list) -> set:
    """The values, None aside, that occur more than once."""
    return {value for value, count in Counter(values).items() if count > 1 and value is not None}


def compatible(first: str | None, second: str | None) -> bool:
    """Two e-mails do not disagree: one is missing, or they are the same."""
    return first is None or second is None or first == second


def _merge(table: ContactTable, target: int, later: int) -> None:
    for values in table.fields.values():
        if values[later] is not None:
            values[target] = values[later]
    if table.tags is not None and table.tags[later]:
        table.tags[target] = (table.tags[target] or set()) | table.tags[later]
    if table.attributes is not None and table.attributes[later]:
        table.attributes[target] = {**(table.attributes[target] or {}), **table.attributes[later]}
