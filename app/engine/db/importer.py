"""Contacts from CSV files as CRMs and shops really export them, in one transaction.

Real exports are messy: UTF-8 with or without a BOM or Windows-1251, `,` `;` or tab, Excel's
CRLF, Shopify's leading apostrophes ('+1555…), Bitrix24's trailing `;`, dates as DD.MM.YYYY,
decimal commas, Russian phones as 8 9XX…, multi-line quoted notes. This module reads all of
that, rejects what it cannot read with the line and the reason, folds duplicates (same
e-mail, else same phone) into one contact, and writes everything or nothing.

Speed (docs/PERFORMANCE.md): a file is read by Arrow's CSV reader when it splits it exactly as
the csv module would (import_arrow.py), else with one `csv` pass (import_reading.py), the
second half of a large file in a second process (import_worker.py); either way it is
converted a column at a time (import_values.py). Rows are written in bulk below the ORM
(import_writer.py; on SQLite without foreign-key lookups and, when large, without the WAL:
session.bulk_load), and an import into an empty base leaves the columnar snapshot of the
result (import_snapshot.py).
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from app.engine.db.cache import store_arrays
from app.engine.db.fields import utc_naive
from app.engine.db.import_arrow import read_with_arrow
from app.engine.db.import_reading import (
    DELIMITERS,
    CsvImportError,
    Part,
    Plan,
    Progress,
    RejectedRow,
    choose_preset,
    convert_part,
    decode,
    detect_delimiter,
    first_record,
    header_names,
    names_of,
    read_records,
)
from app.engine.db.import_table import ContactTable, fold_duplicates
from app.engine.db.import_worker import decode_part
from app.engine.db.import_writer import ContactWriter
from app.engine.db.models import Contact
from app.engine.db.presets import Preset
from app.engine.db.session import bulk_load
from app.engine.db.versioning import bulk_writes, data_version
from app.engine.gc_pause import cycle_collector_paused
from app.engine.i18n import T

# From about 150,000 rows, a second process reading the second part of the file saves more
# than it costs to start (~1.5 s of imports) and to send the converted columns back.
PARALLEL_FROM_CHARS = 20_000_000
SECOND_SHARE = 0.5  # of the text: its start-up costs about what joining the parts costs here
TEXT_FIELDS = ("external_id", "first_name", "last_name", "city", "country", "locale", "crm_stage")
TEXT_LIMITS = {name: Contact.__table__.c[name].type.length for name in TEXT_FIELDS}


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
    """Rows read and normalised, duplicates folded, held column by column."""

    table: ContactTable
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
    try:
        with (
            cycle_collector_paused(),
            engine.connect() as connection,
            bulk_load(connection, len(parsed.table)),  # SQLite: no FK lookups, no WAL
            connection.begin(),
        ):
            with bulk_writes(connection):
                writer = ContactWriter(connection, utc_naive(now), progress)
                written = writer.write(parsed.table, snapshot=not dry_run)
                report.created, report.updated, report.tags_created = written
            if dry_run:
                connection.rollback()
            elif writer.snapshot is not None:
                # The first read of the new base needs no SQL scan (import_snapshot.py).
                store_arrays(connection, data_version(connection), writer.snapshot)
    except (sa.exc.DBAPIError, engine.dialect.loaded_dbapi.Error) as error:
        # Bulk writes use the driver's cursor (bulk.py), whose errors come unwrapped.
        problem = getattr(error, "orig", None) or error
        reason = str(problem).strip().splitlines()[0]
        raise CsvImportError(
            T(
                "CSV import",
                "the database refused the import, nothing was written: {problem}",
                problem=reason,
            )
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
        raise CsvImportError(
            T("CSV import", "cannot read {path}: {problem}", path=str(path), problem=error.strerror)
        ) from None
    # A million rows are ~13 million objects and no cycles: the collector's full scans,
    # set off by the allocations, would cost more than the reading itself.
    with cycle_collector_paused():
        text, used_encoding = decode(data, encoding)
        delimiter = detect_delimiter(text)
        # Arrow's reader first (import_arrow.py); the files it cannot read exactly as the
        # csv module would (and the broken ones, to name their lines) take the exact path.
        read = read_with_arrow(
            _utf8(data, text, used_encoding),
            text,
            delimiter,
            preset,
            mapping or {},
            phone_country,
            TEXT_LIMITS,
            progress,
        )
        del data
        if read is None and len(text) >= PARALLEL_FROM_CHARS:
            where = (path, used_encoding, text, delimiter)
            read = _read_in_two(*where, preset, mapping or {}, phone_country, progress)
        if read is None:
            read = _read_in_one(text, delimiter, preset, mapping or {}, phone_country, progress)
        del text
        chosen, plan, part = read
        report = ImportReport(str(path), used_encoding, DELIMITERS[delimiter], chosen.name)
        report.ignored_columns = plan.ignored
        table, problems, blank_rows = part.table, part.problems, part.blank
        report.rejected = part.rejected
        report.rows = len(table) + len(report.rejected) - len(blank_rows)
        lines = table.lines
        report.rejected += [RejectedRow(lines[row], reason) for row, reason in problems.items()]
        report.rejected.sort(key=lambda row: row.line)
        if report.rejected and not skip_bad:
            raise CsvImportError(
                T(
                    "CSV import",
                    "%n row(s) cannot be imported, so nothing was written; fix the file or pass "
                    "--skip-bad to import the rest. First: {first}",
                    len(report.rejected),
                    first=report.rejected[0].described(),
                ),
                rejected=report.rejected,
            )
        if problems or blank_rows:
            dropped = set(problems) | set(blank_rows)
            table = table.take([row for row in range(len(table)) if row not in dropped])
        table, report.merged = fold_duplicates(table)
    return ParsedCsv(table, report)


# --------------------------------------------------------------------------- reading


def _utf8(data: bytes, text: str, encoding: str) -> bytes | memoryview:
    """The text as UTF-8 bytes: the file's own when it is UTF-8 (after a BOM)."""
    if encoding == "utf-8":
        return data
    if encoding == "utf-8-sig":
        return memoryview(data)[3:]
    return text.encode("utf-8")


def _read_in_one(
    text: str,
    delimiter: str,
    preset: str,
    mapping: Mapping[str, str],
    phone_country: str | None,
    progress: Progress | None,
) -> tuple[Preset, Plan, Part]:
    records = read_records(text, delimiter)
    first = records.first_filled()
    header = header_names(records, first)
    chosen = choose_preset(header, preset, mapping)
    plan = Plan(header, chosen, mapping, phone_country or chosen.phone_country, TEXT_LIMITS)
    return chosen, plan, convert_part(records, first + 1, plan, progress)


def _read_in_two(
    path: Path,
    encoding: str,
    text: str,
    delimiter: str,
    preset: str,
    mapping: Mapping[str, str],
    phone_country: str | None,
    progress: Progress | None,
) -> tuple[Preset, Plan, Part] | None:
    """Read a large file's first part here and the rest in a second process (the two cores
    of a small machine); None when the file is not split that way (the caller reads it in
    one piece, which also gives the exact message for a broken file)."""
    found = first_record(text, delimiter)
    split = _record_start_near(text, 1 - SECOND_SHARE)
    if found is None or split is None:
        return None
    header = names_of(*found)
    chosen = choose_preset(header, preset, mapping)
    country = phone_country or chosen.phone_country
    plan = Plan(header, chosen, mapping, country, TEXT_LIMITS)
    head = text[:split]
    lines_before = head.count("\n") + head.count("\r") - head.count("\r\n")
    # The second process decodes the file itself (a copy of the text would cost as much).
    where = (str(path), encoding, split, len(text), delimiter, lines_before + 1)
    how = (header, chosen.name, dict(mapping), country, TEXT_LIMITS)
    with tempfile.TemporaryDirectory(prefix="voronka-import-") as folder:
        source, target = Path(folder, "part"), Path(folder, "converted")
        source.write_bytes(marshal.dumps((*where, *how)))
        # The child finds the `app` package where this process found it.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, sys.path))}
        command = [sys.executable, "-m", "app.engine.db.import_worker", source, target]
        try:
            second = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
        except OSError:
            return None
        try:
            records = read_records(head, delimiter)
            first = convert_part(records, records.first_filled() + 1, plan, progress)
        except BaseException as error:
            second.kill()
            second.wait()
            if isinstance(error, CsvImportError):  # maybe the split: read in one piece
                return None
            raise
        if second.wait() != 0:
            return None  # a broken part, or a failure it reported: read in one piece
        rest = decode_part(target.read_bytes())
    if first.broken or rest.broken or first.lines_read != lines_before:
        return None
    return chosen, plan, _joined(first, rest)


def _record_start_near(text: str, share: float) -> int | None:
    """An offset about `share` into the text where a record starts: just after a line break
    with an even number of quotes before it. In a well-formed file that is outside any quoted
    field; where stray quotes mislead the count, the first part ends inside a quoted field,
    the csv module says so, and the file is read in one piece."""
    position = text.find("\n", int(len(text) * share))
    quotes = text.count('"', 0, max(position, 0))
    for _ in range(1000):
        if position < 0:
            return None
        if quotes % 2 == 0:
            return position + 1
        following = text.find("\n", position + 1)
        quotes += text.count('"', position, max(following, position))
        position = following
    return None


def _joined(first: Part, second: Part) -> Part:
    """One part from two consecutive ones (the second's lines are already the file's)."""
    offset = len(first.table)
    return Part(
        first.table.extended(second.table),
        {**first.problems, **{row + offset: why for row, why in second.problems.items()}},
        first.blank + [row + offset for row in second.blank],
        first.rejected + second.rejected,
        first.lines_read + second.lines_read,
        first.broken or second.broken,
    )
