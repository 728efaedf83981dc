"""Reading a CSV export into contact columns: its encoding and delimiter, its records (with
the physical lines they span), the header and which column feeds which field, and the cells
converted a column at a time (import_values.py).

A file is read with one pass of the csv module and then handled column by column; only the
records and cells that need it (broken quotes, ragged rows, cells in unusual formats) take
the slow, exact paths. `convert_part` takes the records from any record on, so importer.py
can give the second half of a large file to a second process (import_worker.py).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress

import numpy as np

from app.engine.db.import_table import ContactTable, rows_without_any
from app.engine.db.import_values import (
    ATTRIBUTE,
    Converter,
    Value,
    convert_column,
    field_converters,
)
from app.engine.db.presets import IMPORT_FIELDS, PRESETS, Preset, header_key
from app.engine.i18n import Msg, T

Progress = Callable[[str, int, int], None]
# A file column's converted values and, by row, why cells are bad (import_values.py).
ConvertColumn = Callable[[int, Converter], tuple[list[Value], dict[int, Msg]]]
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
IDENTITY = ("email", "phone", "external_id", "first_name", "last_name")


class CsvImportError(Exception):
    """The file cannot be imported; nothing was written. `line` is 1-based, where known.
    `message` is translatable: `str()` gives it in the current language."""

    def __init__(
        self, message: Msg, line: int | None = None, rejected: Sequence[RejectedRow] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.rejected = list(rejected)

    def __str__(self) -> str:
        if self.line:
            return str(
                T("CSV import", "line {line}: {problem}", line=self.line, problem=self.message)
            )
        return str(self.message)


@dataclass(frozen=True)
class RejectedRow:
    """A row left out, with why (`message`, translatable; `reason` is it in words)."""

    line: int
    message: Msg

    @property
    def reason(self) -> str:
        return str(self.message)

    def described(self) -> Msg:
        return T("CSV import", "line {line}: {problem}", line=self.line, problem=self.message)

    def __str__(self) -> str:
        return str(self.described())


# --------------------------------------------------------------------------- text


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the encoding it was read with (see docs/IMPORT.md)."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CsvImportError(
                T("CSV import", "unknown encoding {encoding}", encoding=repr(encoding))
            ) from None
        return _strict(data, encoding), encoding
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16"), "utf-16"
    if b"\x00" in data[:4096]:
        raise CsvImportError(
            T(
                "CSV import",
                "the file contains NUL bytes: it is a binary file (an .xlsx?) or UTF-16 without "
                "a byte order mark; export it from your CRM as CSV",
            )
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        before = data[: error.start].decode("utf-8")
        if any("\u0400" <= char <= "\u04ff" for char in before):
            line = data.count(b"\n", 0, error.start) + 1
            raise CsvImportError(
                T(
                    "CSV import",
                    "byte {byte} is not UTF-8, though the lines before it are: the file mixes "
                    "encodings; save it again as UTF-8 (or pass --encoding)",
                    byte=f"0x{data[error.start]:02X}",
                ),
                line=line,
            ) from None
    text = _strict(data, "cp1251")
    # Windows-1251 decodes any byte, so check it reads as Russian: Latin-1 text misread
    # this way gives words mixing scripts ("Mьller"), real Russian text almost never does.
    words = [w for w in re.findall(r"\w+", text) if any("\u0400" <= c <= "\u04ff" for c in w)]
    mixed = sum(any(c.isascii() and c.isalpha() for c in word) for word in words)
    if not words or mixed > 0.2 * len(words):
        raise CsvImportError(
            T(
                "CSV import",
                "the file is neither UTF-8 nor Windows-1251 (cp1251) text; "
                "pass its encoding with --encoding",
            )
        )
    return text, "cp1251"


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CsvImportError(
            T(
                "CSV import",
                "byte {byte} is not valid {encoding} text "
                "(save the file as UTF-8, or pass the right --encoding)",
                byte=f"0x{data[error.start]:02X}",
                encoding=encoding,
            ),
            line=line,
        ) from None


def detect_delimiter(text: str) -> str:
    """The delimiter the header line uses most, outside quotes (`,` when there is none)."""
    header = text.split("\n", 1)[0]
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


_CSV_ERRORS = {
    "expected after": T(
        "CSV import",
        "text follows a closing quote; a field that starts with a quote must end "
        'with a quote right before the delimiter (write a quote inside a field as "")',
    ),
}


@dataclass
class Records:
    """Every record of a text as the csv module split it, blank ones included: its fields,
    the physical lines it starts and ends on (quoted notes may span lines), and, for records
    the csv module could not split, why (by index)."""

    rows: list[list[str]]
    starts: Sequence[int]
    ends: Sequence[int]
    broken: dict[int, Msg]
    lines_read: int = 0  # physical lines of the text
    multiline: bool = True  # some record may span lines (only then can a field hold \r)

    def first_filled(self) -> int:
        """Index of the first record that is not blank (the header)."""
        for index, row in enumerate(self.rows):
            if index in self.broken or not blank(row):
                return index
        raise CsvImportError(T("CSV import", "the file is empty: there is no header line"))


def blank(row: list[str]) -> bool:
    return not any(map(str.strip, row))


def read_records(text: str, delimiter: str, first_line: int = 1) -> Records:
    """All records in one pass of the csv module; record by record only for a text it
    cannot split (a broken quote), to report each such record and go on after it. Lines
    are numbered from `first_line` (a piece of a file that starts further down)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error:
        return _read_one_by_one(text, delimiter, first_line)
    if reader.line_num == len(rows):  # one line per record: the usual case
        lines = range(first_line, first_line + len(rows))
        return Records(rows, lines, lines, {}, reader.line_num, multiline=False)
    # Quoted fields span lines: read again, noting the line each record ends on.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, ends = [], []
    offset = first_line - 1
    for row in reader:
        rows.append(row)
        ends.append(reader.line_num + offset)
    return Records(rows, [first_line, *(end + 1 for end in ends[:-1])], ends, {}, reader.line_num)


def _read_one_by_one(text: str, delimiter: str, first_line: int) -> Records:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records = Records([], [], [], {})
    offset = first_line - 1
    last = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            records.lines_read = reader.line_num
            return records
        except csv.Error as error:
            start, message = last + 1, str(error)
            last = reader.line_num
            if "unexpected end of data" in message or "field larger" in message:
                raise CsvImportError(
                    T(
                        "CSV import",
                        'a quoted field starts on this line and is never closed (a closing " '
                        "is missing), so the rest of the file cannot be read",
                    ),
                    line=start + offset,
                ) from None
            if "NUL" in message:
                raise CsvImportError(
                    T("CSV import", "the line contains a NUL byte"), line=start + offset
                ) from None
            reason = next(
                (text for key, text in _CSV_ERRORS.items() if key in message),
                T("CSV import", "{problem}", problem=message),
            )
            records.broken[len(records.rows)] = reason
            row = []
        else:
            start, last = last + 1, reader.line_num
        records.rows.append(row)
        records.starts.append(start + offset)
        records.ends.append(last + offset)


def first_record(text: str, delimiter: str) -> tuple[list[str], int] | None:
    """The first record that is not blank (the header) and its line, read lazily; None when
    the csv module cannot split the start of the text (a full read says why)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for row in reader:
            if not blank(row):
                return row, line
            line = reader.line_num + 1
    except csv.Error:
        return None
    return None


def header_names(records: Records, index: int) -> list[str]:
    """The column names of the header record `index`."""
    line = records.starts[index]
    if index in records.broken:
        raise CsvImportError(
            T("CSV import", "the header cannot be read: {problem}", problem=records.broken[index]),
            line=line,
        )
    return names_of(records.rows[index], line)


def names_of(header: list[str], line: int) -> list[str]:
    names = [name.replace("\ufeff", "").strip() for name in header]
    while names and not names[-1]:
        names.pop()  # Bitrix24 ends every line with the delimiter
    seen: set[str] = set()
    for name in names:
        if header_key(name) in seen and name:
            raise CsvImportError(
                T("CSV import", "the header names the column {column} twice", column=repr(name)),
                line=line,
            )
        seen.add(header_key(name))
    return names


def choose_preset(
    header: Sequence[str], name: str = "auto", mapping: Mapping[str, str] | None = None
) -> Preset:
    """The named preset, or for `auto` the one whose signature columns the header has."""
    if name != "auto":
        if name not in PRESETS:
            raise CsvImportError(
                T(
                    "CSV import",
                    "unknown preset {preset}; use one of: auto, {presets}",
                    preset=repr(name),
                    presets=", ".join(PRESETS),
                )
            )
        return PRESETS[name]
    scored = sorted(
        ((preset.score(header), preset.name) for preset in PRESETS.values()), reverse=True
    )
    if scored[0][0] >= 2:
        return PRESETS[scored[0][1]]
    generic = PRESETS["generic"]
    keys = {header_key(column) for column in generic.columns}
    if mapping or any(header_key(column) in keys for column in header):
        return generic
    raise CsvImportError(
        T(
            "CSV import",
            "the columns do not look like a known export (Shopify, Mailchimp, HubSpot, amoCRM, "
            'Bitrix24); choose --preset or map columns with --map "CSV column=field". '
            "The header is: {header}",
            header=", ".join(header),
        ),
        line=1,
    )


# --------------------------------------------------------------------------- plan


class Plan:
    """Which column feeds which field, and how each cell is converted (`limits`: the most
    characters of each text field)."""

    def __init__(
        self,
        header: list[str],
        preset: Preset,
        mapping: Mapping[str, str],
        country: str | None,
        limits: Mapping[str, int],
    ) -> None:
        self.width = len(header)
        by_key = {header_key(name): index for index, name in enumerate(header)}
        targets: dict[int, str] = {}
        for column, target in preset.columns.items():
            index = by_key.get(header_key(column))
            if index is not None and index not in targets:
                targets[index] = target
        for column, target in mapping.items():
            index = by_key.get(header_key(column))
            if index is None:
                raise CsvImportError(
                    T(
                        "CSV import",
                        "--map names the column {column}, which the file does not have; "
                        "its columns are: {header}",
                        column=repr(column),
                        header=", ".join(header),
                    )
                )
            _check_target(target, column)
            if target in ("", "-"):
                targets.pop(index, None)
            else:
                targets[index] = target
        if not targets:
            raise CsvImportError(
                T("CSV import", "no column of the file is mapped to a contact field"), line=1
            )
        converters = field_converters(country, limits)
        self.steps: list[tuple[str, int, str, Converter, bool]] = []
        for index in sorted(targets, key=lambda i: _order(preset, header[i], i)):
            target = targets[index]
            inverted = target.startswith("!")
            name = target.lstrip("!")
            converter = ATTRIBUTE if name.startswith("attr:") else converters[name]
            self.steps.append((name, index, header[index], converter, inverted))
        self.ignored = [name for index, name in enumerate(header) if index not in targets and name]
        self.defaults = preset.defaults(header)

    def shape(
        self, records: Records, start: int, rejected: list[RejectedRow]
    ) -> tuple[list[list[str]], Sequence[int]]:
        """The records after the header that split into the header's columns, with their
        lines; the others are added to `rejected`, blank ones skipped. Only records of
        another width are looked at one by one."""
        rows, lines = records.rows, records.starts
        widths = np.fromiter(map(len, rows), np.int64, len(rows))
        odd = np.flatnonzero(widths != self.width)
        odd = sorted({*odd[odd >= start].tolist(), *(i for i in records.broken if i >= start)})
        keep = np.ones(len(rows), dtype=bool)
        keep[:start] = False
        for index in odd:
            row = rows[index]
            if index in records.broken:
                reason = records.broken[index]
            elif blank(row):
                keep[index] = False
                continue
            else:
                reason = self.shape_problem(row, lines[index], records.ends[index])
            if reason:
                rejected.append(RejectedRow(lines[index], reason))
                keep[index] = False
        if keep[start:].all():
            return rows[start:], lines[start:]
        mask = keep.tolist()
        return list(compress(rows, mask)), list(compress(lines, mask))

    def shape_problem(self, row: list[str], line: int, end: int) -> Msg | None:
        """Why a record cannot be split into the header's columns, or None (a record that
        only has empty fields after the header's, as Bitrix24 writes them)."""
        extra = row[self.width :]
        if len(row) < self.width or any(cell.strip() for cell in extra):
            if end > line:
                return T(
                    "CSV import",
                    "{fields} fields, but the header has {width} (its quoted text runs on to "
                    "line {end})",
                    fields=len(row),
                    width=self.width,
                    end=end,
                )
            return T(
                "CSV import",
                "{fields} fields, but the header has {width}",
                fields=len(row),
                width=self.width,
            )
        return None

    def table(
        self,
        lines: Sequence[int],
        convert: ConvertColumn,
        is_blank: Callable[[int], bool],
        progress: Progress | None,
    ) -> tuple[ContactTable, dict[int, Msg], list[int]]:
        """Convert column by column: `convert(index, converter)` gives the values and the bad
        cells' reasons of the file's column `index` (import_values.py), `is_blank(row)`
        whether every cell of a row is empty. Returns the table, per bad row index the first
        reason in column order, and the rows that are blank."""
        table = ContactTable(lines)
        problems: dict[int, Msg] = {}
        for done, (name, index, column, converter, inverted) in enumerate(self.steps, start=1):
            values, bad = convert(index, converter)
            earlier = table.fields.get(name)
            for row, reason in bad.items():
                if earlier is None or earlier[row] is None:
                    problems.setdefault(
                        row,
                        T(
                            "CSV import",
                            "column {column}: {problem}",
                            column=repr(column),
                            problem=reason,
                        ),
                    )
            if inverted:
                values = [None if v is None else not v for v in values]
            table.put(name, values)
            if progress:
                progress("reading", done, len(self.steps))
        for name, value in self.defaults.items():
            current = table.fields.get(name) or [None] * len(lines)
            table.fields[name] = [value if v is None else v for v in current]
        present = [table.fields[name] for name in IDENTITY if name in table.fields]
        blank_rows: list[int] = []
        for row in rows_without_any(present, len(lines)):
            if is_blank(row):
                blank_rows.append(row)  # a line of only delimiters, as spreadsheets leave
            else:
                problems.setdefault(
                    row, T("CSV import", "the row has no e-mail, phone, id or name")
                )
        return table, problems, blank_rows


def _order(preset: Preset, column: str, index: int) -> tuple[int, int]:
    """Preset order first (mobile before work phone), then the file's order."""
    keys = [header_key(name) for name in preset.columns]
    key = header_key(column)
    return (keys.index(key) if key in keys else len(keys), index)


def _check_target(target: str, column: str) -> None:
    name = target.lstrip("!")
    if target in ("", "-") or name in IMPORT_FIELDS:
        return
    if name.startswith("attr:") and name[5:].replace("_", "a").isalnum():
        return
    raise CsvImportError(
        T(
            "CSV import",
            "--map {column}={target}: {quoted} is not a field; use one of: {fields}, "
            "attr:<name>, ! before a yes/no field to invert it, or - to ignore the column",
            column=column,
            target=target,
            quoted=repr(target),
            fields=", ".join(IMPORT_FIELDS),
        )
    )


# --------------------------------------------------------------------------- pieces


@dataclass
class Part:
    """Records of (a piece of) a file, converted: the contacts, per row index the first
    reason it cannot be imported, the blank rows (every cell empty), the records that do not
    split into the header's columns, and whether the csv module could not split some."""

    table: ContactTable
    problems: dict[int, Msg]
    blank: list[int]
    rejected: list[RejectedRow]
    lines_read: int
    broken: bool


def convert_part(records: Records, start: int, plan: Plan, progress: Progress | None) -> Part:
    """The records from index `start` on, converted."""
    rejected: list[RejectedRow] = []
    rows, lines = plan.shape(records, start, rejected)
    # Rows may be longer than the header (empty trailing fields): zip stops at the shortest.
    columns: list[Sequence[str]] = list(zip(*rows, strict=False)) if rows else []
    columns += [()] * (plan.width - len(columns))
    multiline = records.multiline
    table, problems, blank_rows = plan.table(
        lines,
        lambda index, converter: convert_column(columns[index], converter, multiline),
        lambda row: blank(rows[row]),
        progress,
    )
    return Part(table, problems, blank_rows, rejected, records.lines_read, bool(records.broken))
