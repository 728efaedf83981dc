"""Contacts from CSV files as CRMs and shops really export them, in one transaction.

Real exports are messy: UTF-8 with or without a BOM or Windows-1251, `,` `;` or tab, Excel's
CRLF, Shopify's leading apostrophes ('+1555…), Bitrix24's trailing `;`, dates as DD.MM.YYYY,
decimal commas, Russian phones as 8 9XX…, multi-line quoted notes. This module reads all of
that, rejects what it cannot read with the line and the reason, folds duplicates (same
e-mail, else same phone) into one contact, and writes everything or nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from app.engine.db.bulk import allocate_ids, indexes_rebuilt, insert_columns
from app.engine.db.fields import utc_naive
from app.engine.db.models import CONSENT_COLUMNS, Contact, Tag, contact_tags
from app.engine.db.presets import IMPORT_FIELDS, PRESETS, Preset, header_key
from app.engine.db.versioning import bulk_writes

Progress = Callable[[str, int, int], None]
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
BATCH = 100_000
NUMBERS_DEFAULT = {"orders_count": 0, "total_spent": 0.0, "cart_value": 0.0}


class CsvImportError(Exception):
    """The file cannot be imported; nothing was written. `line` is 1-based, where known."""

    def __init__(
        self, message: str, line: int | None = None, rejected: Sequence[RejectedRow] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.rejected = list(rejected)

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do)."""

    path: str
    encoding: str
    delimiter: str
    preset: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    merged: int = 0
    tags_created: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False


@dataclass
class ParsedCsv:
    """Rows read and normalised, duplicates folded, held column by column (see `_Table`)."""

    table: _Table
    report: ImportReport

    @property
    def contacts(self) -> list[dict[str, Any]]:
        """One dict per contact: its non-empty fields, `tags`, `attributes` and `line`."""
        return [self.table.row(index) for index in range(len(self.table))]


# --------------------------------------------------------------------------- entry points


def import_csv(
    engine: Engine,
    path: str | Path,
    *,
    preset: str = "auto",
    mapping: Mapping[str, str] | None = None,
    skip_bad: bool = False,
    dry_run: bool = False,
    encoding: str | None = None,
    phone_country: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV file of contacts. Raises CsvImportError (and writes nothing) when the file
    cannot be read, or when rows are bad and `skip_bad` is not set."""
    parsed = parse_csv(
        path,
        preset=preset,
        mapping=mapping,
        skip_bad=skip_bad,
        encoding=encoding,
        phone_country=phone_country,
        progress=progress,
    )
    report = parsed.report
    report.dry_run = dry_run
    moment = utc_naive(now)
    try:
        with engine.begin() as connection:
            with bulk_writes(connection):
                _Writer(connection, moment, progress).write(parsed.table, report)
            if dry_run:
                connection.rollback()
    except sa.exc.DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise CsvImportError(
            f"the database refused the import, nothing was written: {reason}"
        ) from None
    return report


def parse_csv(
    path: str | Path,
    *,
    preset: str = "auto",
    mapping: Mapping[str, str] | None = None,
    skip_bad: bool = False,
    encoding: str | None = None,
    phone_country: str | None = None,
    progress: Progress | None = None,
) -> ParsedCsv:
    """Read, normalise and fold a CSV file without touching any database."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CsvImportError(f"cannot read {path}: {error.strerror}") from None
    text, used_encoding = decode(data, encoding)
    delimiter = detect_delimiter(text)
    rows = _records(text, delimiter)
    header = _header(rows)
    chosen = choose_preset(header, preset, mapping)
    plan = _Plan(header, chosen, mapping or {}, phone_country or chosen.phone_country)
    report = ImportReport(str(path), used_encoding, DELIMITERS[delimiter], chosen.name)
    report.ignored_columns = plan.ignored
    lines: list[int] = []
    good: list[list[str]] = []
    width = plan.width
    for line, end, row in rows:
        reason = None
        if len(row) != width or type(row[0]) is _Broken:
            reason = plan.shape_problem(row, line, end)
        if reason:
            report.rejected.append(RejectedRow(line, reason))
        else:
            lines.append(line)
            good.append(row)
    report.rows = len(good) + len(report.rejected)
    table, problems = plan.table(good, lines, "\r" in text, progress)
    report.rejected += [RejectedRow(lines[index], reason) for index, reason in problems.items()]
    report.rejected.sort(key=lambda row: row.line)
    if report.rejected and not skip_bad:
        count = len(report.rejected)
        raise CsvImportError(
            f"{count} row{'s' if count > 1 else ''} cannot be imported, so nothing was "
            f"written; fix {'them' if count > 1 else 'it'} or pass --skip-bad to import the "
            f"rest. First: {report.rejected[0]}",
            rejected=report.rejected,
        )
    if problems:
        table = table.take([i for i in range(len(table)) if i not in problems])
    table, report.merged = fold_duplicates(table)
    return ParsedCsv(table, report)


# --------------------------------------------------------------------------- text


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the encoding it was read with (see docs/IMPORT.md)."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CsvImportError(f"unknown encoding {encoding!r}") from None
        return _strict(data, encoding), encoding
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16"), "utf-16"
    if b"\x00" in data[:4096]:
        raise CsvImportError(
            "the file contains NUL bytes: it is a binary file (an .xlsx?) or UTF-16 without a "
            "byte order mark; export it from your CRM as CSV"
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        before = data[: error.start].decode("utf-8")
        if any("\u0400" <= char <= "\u04ff" for char in before):
            line = data.count(b"\n", 0, error.start) + 1
            raise CsvImportError(
                f"byte 0x{data[error.start]:02X} is not UTF-8, though the lines before it are: "
                "the file mixes encodings; save it again as UTF-8 (or pass --encoding)",
                line=line,
            ) from None
    text = _strict(data, "cp1251")
    # Windows-1251 decodes any byte, so check it reads as Russian: Latin-1 text misread
    # this way gives words mixing scripts ("Mьller"), real Russian text almost never does.
    words = [w for w in re.findall(r"\w+", text) if any("\u0400" <= c <= "\u04ff" for c in w)]
    mixed = sum(any(c.isascii() and c.isalpha() for c in word) for word in words)
    if not words or mixed > 0.2 * len(words):
        raise CsvImportError(
            "the file is neither UTF-8 nor Windows-1251 (cp1251) text; "
            "pass its encoding with --encoding"
        )
    return text, "cp1251"


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CsvImportError(
            f"byte 0x{data[error.start]:02X} is not valid {encoding} text "
            "(save the file as UTF-8, or pass the right --encoding)",
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
    "expected after": "text follows a closing quote; a field that starts with a quote must end "
    'with a quote right before the delimiter (write a quote inside a field as "")',
}


def _records(text: str, delimiter: str) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, fields) of each non-blank record; line numbers count the
    physical lines of the file, so multi-line quoted notes do not shift them."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    last = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            start, message = last + 1, str(error)
            last = reader.line_num
            if "unexpected end of data" in message or "field larger" in message:
                raise CsvImportError(
                    'a quoted field starts on this line and is never closed (a closing " is '
                    "missing), so the rest of the file cannot be read",
                    line=start,
                ) from None
            if "NUL" in message:
                raise CsvImportError("the line contains a NUL byte", line=start) from None
            reason = next((text for key, text in _CSV_ERRORS.items() if key in message), message)
            yield start, last, [_Broken(reason)]
            continue
        start, last = last + 1, reader.line_num
        if any(row) and any(map(str.strip, row)):
            yield start, last, row


class _Broken(str):
    """A record the csv module could not split; the plan turns it into a rejection."""

    def __new__(cls, reason: str) -> _Broken:
        return super().__new__(cls, reason)


def _header(rows: Iterator[tuple[int, int, list[str]]]) -> list[str]:
    first = next(rows, None)
    if first is None:
        raise CsvImportError("the file is empty: there is no header line")
    line, _, header = first
    if header and isinstance(header[0], _Broken):
        raise CsvImportError(f"the header cannot be read: {header[0]}", line=line)
    names = [name.replace("\ufeff", "").strip() for name in header]
    while names and not names[-1]:
        names.pop()  # Bitrix24 ends every line with the delimiter
    seen: set[str] = set()
    for name in names:
        if header_key(name) in seen and name:
            raise CsvImportError(f"the header names the column {name!r} twice", line=line)
        seen.add(header_key(name))
    return names


def choose_preset(
    header: Sequence[str], name: str = "auto", mapping: Mapping[str, str] | None = None
) -> Preset:
    """The named preset, or for `auto` the one whose signature columns the header has."""
    if name != "auto":
        if name not in PRESETS:
            raise CsvImportError(f"unknown preset {name!r}; use one of: auto, {', '.join(PRESETS)}")
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
        "the columns do not look like a known export (Shopify, Mailchimp, HubSpot, amoCRM, "
        'Bitrix24); choose --preset or map columns with --map "CSV column=field". '
        f"The header is: {', '.join(header)}",
        line=1,
    )


# --------------------------------------------------------------------------- values


class _Invalid:
    """A cell that cannot be converted, standing in for its value until rows are rejected."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;.]+")
_EXTENSION = re.compile(r"(?i)\s*(?:ext\.?|x|доб\.?)\s*\d+\s*$")
_DATE_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_E164 = re.compile(r"\+[1-9]\d{7,14}")
_TRUE = frozenset({"yes", "y", "true", "1", "да", "д", "subscribed", "opted in", "on"})
_FALSE = frozenset({"no", "n", "false", "0", "нет", "н", "unsubscribed", "opted out", "off"})
_GENDERS = {
    **dict.fromkeys(("f", "female", "woman", "ж", "жен", "женский", "г-жа", "mrs", "ms"), "f"),
    **dict.fromkeys(("m", "male", "man", "м", "муж", "мужской", "г-н", "mr"), "m"),
}


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if email.startswith("mailto:"):
        email = email[7:]
    if not _EMAIL.fullmatch(email):
        raise ValueError(f"{value!r} is not an e-mail address")
    return email


def normalize_phone(value: str, country: str | None = None) -> str:
    """E.164 (+<country><number>); Russian 8XXXXXXXXXX and 7XXXXXXXXXX become +7XXXXXXXXXX,
    and numbers without a country code get `country` when one is given."""
    if _E164.fullmatch(value):
        return value  # already as Shopify and most shops export it
    text = _EXTENSION.sub("", value.strip())
    digits = "".join(char for char in text if char.isdigit())
    if text.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    elif len(digits) == 11 and digits[0] in "78":
        number = "7" + digits[1:]
    elif country and len(digits) == 10:
        number = country + digits
    elif country and len(digits) == len(country) + 10 and digits.startswith(country):
        number = digits
    else:
        raise ValueError(
            f"{value!r} has no country code; write it as +<country code>… (or pass --phone-country)"
        )
    if not 8 <= len(number) <= 15 or any(char.isalpha() for char in text):
        raise ValueError(f"{value!r} is not a phone number")
    return "+" + number


def parse_number(value: str) -> float:
    """1234.5, 1 234,50, 1,234.50, 1.234,50 ₽ … (a lone comma is a decimal comma)."""
    if _PLAIN_NUMBER.fullmatch(value):
        return float(value)
    text = "".join(char for char in value if char.isdigit() or char in ",.-")
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif text.count(",") > 1 or text.count(".") > 1:
        text = text.replace(",", "").replace(".", "")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None


def parse_datetime(value: str) -> datetime:
    """DD.MM.YYYY [HH:MM[:SS]] or ISO 8601 (a time zone is converted to UTC)."""
    text = value.strip()
    dotted = _DATE_DOTTED.fullmatch(text)
    try:
        if dotted:
            day, month, year, hour, minute, second = dotted.groups()
            return datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        iso = re.sub(r"\s([+-]\d{2}):?(\d{2})$", r"\1:\2", text)
        moment = datetime.fromisoformat(iso.replace(" UTC", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (use DD.MM.YYYY or YYYY-MM-DD)") from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def parse_date(value: str) -> date:
    return parse_datetime(value).date()


def parse_bool(value: str) -> bool:
    key = value.strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes or no")


def parse_gender(value: str) -> str | None:
    """f / m from the many ways CRMs write it; anything else (other, unknown) is missing."""
    return _GENDERS.get(value.strip().casefold().rstrip("."))


def parse_tags(value: str) -> set[str]:
    """Tags separated by , ; or |, quotes dropped (Mailchimp writes "a","b"), lower case."""
    parts = re.split(r"[,;|]", value)
    return {tag for part in parts if (tag := part.strip().strip('"').strip().casefold())}


def parse_attribute(value: str) -> object:
    """A whole or decimal number when the cell is exactly one, else the text."""
    text = value.strip()
    if _NUMBER.fullmatch(text) and not (len(text) > 1 and text[0] == "0" and text[1].isdigit()):
        number = float(text.replace(",", "."))
        return (
            int(number) if number.is_integer() and "." not in text and "," not in text else number
        )
    return text


# --------------------------------------------------------------------------- plan


def _text(limit: int) -> Callable[[str], str]:
    def convert(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"is longer than {limit} characters")
        return value

    return convert


def _nps(value: str) -> float:
    score = parse_number(value)
    if not 0 <= score <= 10:
        raise ValueError(f"{value!r} is not an NPS answer from 0 to 10")
    return score


def _count(value: str) -> int:
    number = parse_number(value)
    if number < 0 or not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number of 0 or more")
    return int(number)


def _converters(country: str | None) -> dict[str, Callable[[str], object]]:
    columns = Contact.__table__.c
    texts = ("external_id", "first_name", "last_name", "city", "country", "locale", "crm_stage")
    converters: dict[str, Callable[[str], object]] = {
        name: _text(columns[name].type.length) for name in texts
    }
    converters.update(
        email=normalize_email,
        phone=lambda value: normalize_phone(value, country),
        gender=parse_gender,
        birth_date=parse_date,
        created_at=parse_datetime,
        last_purchase_at=parse_datetime,
        nps_score=_nps,
        orders_count=_count,
        total_spent=parse_number,
        cart_value=parse_number,
        tags=parse_tags,
        **dict.fromkeys(CONSENT_COLUMNS, parse_bool),
    )
    return converters


IDENTITY = ("email", "phone", "external_id", "first_name", "last_name")
_TEXT_MARK = frozenset("+0123456789")


class _Plan:
    """Which column feeds which field, and how each cell is converted."""

    def __init__(
        self, header: list[str], preset: Preset, mapping: Mapping[str, str], country: str | None
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
                    f"--map names the column {column!r}, which the file does not have; "
                    f"its columns are: {', '.join(header)}"
                )
            _check_target(target, column)
            if target in ("", "-"):
                targets.pop(index, None)
            else:
                targets[index] = target
        if not targets:
            raise CsvImportError("no column of the file is mapped to a contact field", line=1)
        converters = _converters(country)
        self.steps: list[tuple[str, int, str, Callable[[str], object], bool]] = []
        for index in sorted(targets, key=lambda i: _order(preset, header[i], i)):
            target = targets[index]
            inverted = target.startswith("!")
            name = target.lstrip("!")
            convert = parse_attribute if name.startswith("attr:") else converters[name]
            self.steps.append((name, index, header[index], convert, inverted))
        self.ignored = [name for index, name in enumerate(header) if index not in targets and name]
        self.defaults = preset.defaults(header)

    def shape_problem(self, row: list[str], line: int, end: int) -> str | None:
        """Why a record cannot be split into the header's columns, or None."""
        if row and isinstance(row[0], _Broken):
            return str(row[0])
        if len(row) != self.width:
            extra = row[self.width :]
            if len(row) < self.width or any(cell.strip() for cell in extra):
                spans = f" (its quoted text runs on to line {end})" if end > line else ""
                return f"{len(row)} fields, but the header has {self.width}{spans}"
            del row[self.width :]  # the trailing delimiter of Bitrix24 and friends
        return None

    def table(
        self, rows: list[list[str]], lines: list[int], has_cr: bool, progress: Progress | None
    ) -> tuple[_Table, dict[int, str]]:
        """Convert column by column: each distinct cell text is converted once, so a million
        rows cost a few set and dict passes rather than a million Python calls per column.
        Returns the table and, per bad row index, the first reason in column order."""
        table = _Table(lines)
        problems: dict[int, str] = {}
        columns = list(zip(*rows, strict=True)) if rows else [()] * self.width
        for done, (name, index, column, convert, inverted) in enumerate(self.steps, start=1):
            values, bad = _convert_column(columns[index], convert, has_cr)
            earlier = table.fields.get(name)
            for row, reason in bad.items():
                if earlier is None or earlier[row] is None:
                    problems.setdefault(row, f"column {column!r}: {reason}")
            if inverted:
                values = [None if v is None else not v for v in values]
            table.put(name, values)
            if progress:
                progress("reading", done, len(self.steps))
        for name, value in self.defaults.items():
            current = table.fields.get(name) or [None] * len(lines)
            table.fields[name] = [value if v is None else v for v in current]
        present = [table.fields[name] for name in IDENTITY if name in table.fields]
        for row, values in enumerate(zip(*present, strict=True) if present else [()] * len(lines)):
            if not any(values):
                problems.setdefault(row, "the row has no e-mail, phone, id or name")
        return table, problems


def _convert_column(
    cells: Sequence[str], convert: Callable[[str], object], has_cr: bool
) -> tuple[list[object], dict[int, str]]:
    """Values of one column (None for empty cells) and the reasons of the bad ones.

    A column with few distinct texts (yes/no, cities, tags, dates) converts each text once;
    one of mostly unique texts (e-mails, ids) converts cell by cell, because hashing a
    million unique strings costs more than the conversions it would save.
    """
    sample = cells[:2000]
    if len(set(sample)) * 4 <= len(sample):
        converted = {raw: _convert_cell(raw, convert, has_cr) for raw in set(cells)}
        values = [converted[cell] for cell in cells]
        failed = any(type(value) is _Invalid for value in converted.values())
    else:
        values = [_convert_cell(raw, convert, has_cr) for raw in cells]
        failed = any(type(value) is _Invalid for value in values)
    if not failed:
        return values, {}
    bad = {row: v.reason for row, v in enumerate(values) if type(v) is _Invalid}
    for row in bad:
        values[row] = None
    return values, bad


def _convert_cell(raw: str, convert: Callable[[str], object], has_cr: bool) -> object:
    text = raw.strip()
    if not text:
        return None
    if text[0] == "'" and text[1:2] in _TEXT_MARK:
        text = text[1:]  # Excel's "keep as text" marker (Shopify ids, phones, zips)
    if has_cr and "\r" in text:
        text = text.replace("\r\n", "\n")  # Excel's CRLF inside quoted notes
    try:
        return convert(text)
    except ValueError as error:
        return _Invalid(str(error))


class _Table:
    """Contacts column by column: row i of every list is one contact. `fields` holds the
    contact columns (None = no value), `tags` sets and `attributes` dicts (or None)."""

    def __init__(self, lines: list[int]) -> None:
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

    def take(self, rows: Sequence[int]) -> _Table:
        taken = _Table([self.lines[i] for i in rows])
        taken.fields = {name: [values[i] for i in rows] for name, values in self.fields.items()}
        taken.tags = None if self.tags is None else [self.tags[i] for i in rows]
        if self.attributes is not None:
            taken.attributes = [self.attributes[i] for i in rows]
        return taken

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


def _first_present(current: list | None, values: list) -> list:
    if current is None:
        return values
    return [a if a is not None else b for a, b in zip(current, values, strict=True)]


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
        f"--map {column}={target}: {target!r} is not a field; use one of: "
        f"{', '.join(IMPORT_FIELDS)}, attr:<name>, ! before a yes/no field to invert it, "
        "or - to ignore the column"
    )


# --------------------------------------------------------------------------- duplicates


def fold_duplicates(table: _Table) -> tuple[_Table, int]:
    """Rows of the same person become one: same e-mail, or same phone when the e-mails do not
    disagree. Later non-empty values win; tags and attributes add up."""
    emails = table.fields.get("email") or [None] * len(table)
    phones = table.fields.get("phone") or [None] * len(table)
    filled_emails = [e for e in emails if e is not None]
    filled_phones = [p for p in phones if p is not None]
    if len(set(filled_emails)) == len(filled_emails) and len(set(filled_phones)) == len(
        filled_phones
    ):
        return table, 0  # no two rows share an e-mail or a phone
    by_email: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    kept: list[int] = []
    merged = 0
    for row in range(len(table)):
        email, phone = emails[row], phones[row]
        target = by_email.get(email) if email else None
        if target is None and phone:
            candidate = by_phone.get(phone)
            if candidate is not None and _compatible(emails[candidate], email):
                target = candidate
        if target is None:
            target = row
            kept.append(row)
        else:
            _merge(table, target, row)
            merged += 1
        if emails[target]:
            by_email[emails[target]] = target
        if phones[target]:
            by_phone.setdefault(phones[target], target)
    return table.take(kept), merged


def _compatible(first: str | None, second: str | None) -> bool:
    """Two e-mails do not disagree: one is missing, or they are the same."""
    return first is None or second is None or first == second


def _merge(table: _Table, target: int, later: int) -> None:
    for values in table.fields.values():
        if values[later] is not None:
            values[target] = values[later]
    if table.tags is not None and table.tags[later]:
        table.tags[target] = (table.tags[target] or set()) | table.tags[later]
    if table.attributes is not None and table.attributes[later]:
        table.attributes[target] = {**(table.attributes[target] or {}), **table.attributes[later]}


# --------------------------------------------------------------------------- writing


class _Writer:
    """Matches the file's contacts with the database's and writes them, bulk, in the
    caller's transaction."""

    def __init__(self, connection: Connection, now: datetime, progress: Progress | None) -> None:
        self.connection = connection
        self.now = now
        self.progress = progress or (lambda *_: None)

    def write(self, table: _Table, report: ImportReport) -> None:
        existing = self.match(table)
        new = [row for row, cid in enumerate(existing) if cid is None]
        old = [(row, cid) for row, cid in enumerate(existing) if cid is not None]
        tag_ids, report.tags_created = self.tags(table)
        ids = self.insert(table.take(new) if old else table)
        self.update(table, old)
        links: list[tuple[int, int]] = []
        if table.tags is not None:
            owners = [*zip(new, ids, strict=True), *old]
            links = [(cid, tag_ids[tag]) for row, cid in owners for tag in table.tags[row] or ()]
        self.link(links, [cid for _, cid in old])
        report.created, report.updated = len(new), len(old)

    def match(self, table: _Table) -> list[int | None]:
        """The existing contact each row updates: same e-mail, else same phone on a contact
        whose e-mail is empty or equal; each existing contact is claimed at most once."""
        if not self.connection.scalar(sa.select(sa.exists().select_from(Contact))):
            return [None] * len(table)
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
                if _compatible(candidate_email, email) and candidate not in claimed:
                    cid = candidate
            if cid is not None:
                claimed.add(cid)
            found.append(cid)
        return found

    def tags(self, table: _Table) -> tuple[dict[str, int], int]:
        names = sorted(set().union(*(t for t in table.tags or () if t)))
        if not names:
            return {}, 0
        known = dict(self.connection.execute(sa.select(Tag.name, Tag.id)).all())
        new = [name for name in names if name not in known]
        ids = allocate_ids(self.connection, Tag.__table__, len(new))
        insert_columns(self.connection, Tag.__table__, {"id": ids, "name": new})
        return {**known, **dict(zip(new, ids, strict=True))}, len(new)

    def insert(self, table: _Table) -> list[int]:
        count = len(table)
        ids = allocate_ids(self.connection, Contact.__table__, count)
        defaults = {**dict.fromkeys(CONSENT_COLUMNS, False), **NUMBERS_DEFAULT}
        created = table.fields.get("created_at") or [None] * count
        columns: dict[str, list] = {
            "id": ids,
            "created_at": [self.now if c is None else c for c in created],
        }
        for column in Contact.__table__.c:
            values = table.fields.get(column.name)
            if values is None or column.name in columns:
                continue
            default = defaults.get(column.name)
            columns[column.name] = (
                values if default is None else [default if v is None else v for v in values]
            )
        if table.attributes is not None:
            columns["attributes"] = table.attributes
        with indexes_rebuilt(self.connection, Contact.__table__, count):
            for start in range(0, count, BATCH):
                batch = {name: values[start : start + BATCH] for name, values in columns.items()}
                insert_columns(self.connection, Contact.__table__, batch)
                self.progress("writing", min(start + BATCH, count), count)
        return ids

    def update(self, table: _Table, pairs: list[tuple[int, int]]) -> None:
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

    def link(self, links: list[tuple[int, int]], updated: list[int]) -> None:
        existing: set[tuple[int, int]] = set()
        for start in range(0, len(updated), 500):
            chunk = updated[start : start + 500]
            query = sa.select(contact_tags.c.contact_id, contact_tags.c.tag_id).where(
                contact_tags.c.contact_id.in_(chunk)
            )
            existing.update(self.connection.execute(query).all())
        fresh = sorted(set(links) - existing) if existing else links
        insert_columns(
            self.connection,
            contact_tags,
            {"contact_id": [c for c, _ in fresh], "tag_id": [t for _, t in fresh]},
        )
