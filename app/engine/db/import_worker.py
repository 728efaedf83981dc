"""`python -m app.engine.db.import_worker SOURCE TARGET`: the second process of a large CSV
import (importer.py), which reads the second half of the file.

SOURCE holds where that half starts and how to read it; TARGET receives the converted part.
Both are files the importing process makes in a private temporary folder, written with
`marshal` (our own plain data: lists, dicts, sets, strings, numbers): five times faster than
pickle for a million small strings, because it keeps no memo of each one, while rows that
share a tag set still share it on the other side. The reasons rows are rejected go as their
untranslated parts, so the importing process shows them in its language.

A process of its own rather than multiprocessing's: spawning those re-runs the caller's main
script in the child, which a script calling `import_csv` without a `__main__` guard would
not survive.
"""

from __future__ import annotations

import marshal
import sys
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from app.engine.db.import_reading import (
    CsvImportError,
    Part,
    Plan,
    RejectedRow,
    choose_preset,
    convert_part,
    decode,
    read_records,
)
from app.engine.db.import_table import ContactTable
from app.engine.gc_pause import cycle_collector_paused
from app.engine.i18n import Msg, T

BROKEN = 3  # exit status: the part cannot be read (a quote never closed)
_MOMENTS = {"created_at": datetime, "last_purchase_at": datetime, "birth_date": date}


def parse_tail(
    path: str,
    encoding: str,
    start: int,
    length: int,
    delimiter: str,
    first_line: int,
    header: list[str],
    preset: str,
    mapping: Mapping[str, str],
    country: str | None,
    limits: Mapping[str, int],
) -> Part:
    """The records of the file's text (decoded as `encoding`, `length` characters) from
    offset `start` on, where a record begins on line `first_line`, under `header`."""
    with cycle_collector_paused():
        text = decode(Path(path).read_bytes(), encoding)[0]
        if len(text) != length:
            raise CsvImportError(T("CSV import", "the file changed while it was being read"))
        plan = Plan(header, choose_preset(header, preset, mapping), mapping, country, limits)
        return convert_part(read_records(text[start:], delimiter, first_line), 0, plan, None)


def encode_part(part: Part) -> bytes:
    table = part.table
    fields = {
        name: [None if v is None else v.isoformat() for v in values] if name in _MOMENTS else values
        for name, values in table.fields.items()
    }
    lines = table.lines
    plain_lines = (lines.start, lines.stop) if isinstance(lines, range) else list(lines)
    rejected = [(row.line, plain_msg(row.message)) for row in part.rejected]
    problems = {row: plain_msg(why) for row, why in part.problems.items()}
    plain = (fields, table.tags, table.attributes, plain_lines, problems, part.blank)
    return marshal.dumps((*plain, rejected, part.lines_read, part.broken))


def decode_part(data: bytes) -> Part:
    fields, tags, attributes, lines, problems, blank, rejected, lines_read, broken = marshal.loads(
        data
    )
    table = ContactTable(range(*lines) if isinstance(lines, tuple) else lines)
    for name, values in fields.items():
        kind = _MOMENTS.get(name)
        if kind is not None:
            values = [None if v is None else kind.fromisoformat(v) for v in values]
        table.fields[name] = values
    table.tags, table.attributes = tags, attributes
    rejected_rows = [RejectedRow(line, msg_of(reason)) for line, reason in rejected]
    reasons = {row: msg_of(why) for row, why in problems.items()}
    return Part(table, reasons, blank, rejected_rows, lines_read, broken)


def plain_msg(message: Msg) -> list:
    """A message as marshal data: [context, source, plural count, [(name, value), …]], an
    argument that is itself a message as such a list (plain arguments are never lists)."""
    args = [(name, plain_msg(v) if isinstance(v, Msg) else v) for name, v in message.args]
    return [message.context, message.source, message.n, args]


def msg_of(plain: list) -> Msg:
    context, source, n, args = plain
    values = tuple((name, msg_of(v) if isinstance(v, list) else v) for name, v in args)
    return Msg(context, source, values, n)


def main(source: Path, target: Path) -> int:
    arguments = marshal.loads(source.read_bytes())
    try:
        part = parse_tail(*arguments)
    except CsvImportError:
        return BROKEN  # the importer reads the whole file again and reports the line
    target.write_bytes(encode_part(part))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
