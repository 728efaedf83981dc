"""The fast way to read a CSV export: Arrow's CSV reader (C++) splits the file into columns,
and each column is converted by the same one-cell rules as the exact path (import_values.py):
once per distinct text where a column repeats itself (names, cities, yes/no, tags; Arrow
finds the distinct texts with a hash in C, so only they become Python objects), and where it
does not (e-mails, phones, ids, amounts) by Arrow compute functions for the ASCII cells the
converter's columnar pattern admits, by convert_column for the others.

For a million Shopify rows this replaces the csv module's pass and the transposition of its
rows into columns (~10 s of CPU on this kind of machine, so far spread over two processes)
with ~1 s of Arrow; see docs/PERFORMANCE.md. That is why pyarrow is a dependency.

Arrow is more lenient than the csv module (text after a closing quote, a quote inside an
unquoted field, NUL bytes, fields over the csv module's size limit) and does not number
lines. So the file's quotes are checked first, in numpy: where every quote stands where the
csv module accepts it, both split the file alike, and the same scan gives each record's
physical lines, so rejected rows keep their exact line numbers. Any other file, and any file
Arrow refuses (ragged rows…), gets None and takes the exact path (import_reading.py), which
names the line and the problem.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from app.engine.db.import_reading import (
    Part,
    Plan,
    Progress,
    choose_preset,
    first_record,
    names_of,
)
from app.engine.db.import_table import pick
from app.engine.db.import_values import Converter, Value, convert_column
from app.engine.db.presets import Preset
from app.engine.i18n import Msg

QUOTE, CR, LF = ord('"'), ord("\r"), ord("\n")
SAMPLE = 2000  # cells looked at to decide whether a column repeats itself


@dataclass
class Layout:
    """Where a text's data records are: the byte offset after the header record, the lines
    each data record starts and ends on, and whether some record spans lines."""

    data_start: int
    starts: np.ndarray
    ends: np.ndarray
    multiline: bool
    lines: int
    spans: tuple[np.ndarray, np.ndarray]  # each data record's first and after-last byte

    def without_blank(self, data: np.ndarray, delimiter: int, width: int) -> Layout | None:
        """The layout without the records of only delimiters (and spaces or tabs) that do
        not have `width` fields: the exact path skips them, Arrow is told to. None when
        there are none (the file is ragged)."""
        begin, stop = self.spans
        blankish = _is_any(data, delimiter, ord(" "), ord("\t"), CR)
        blanks = np.flatnonzero(blankish)
        del blankish
        inside = np.searchsorted(blanks, stop) - np.searchsorted(blanks, begin)
        candidates = np.flatnonzero(inside == stop - begin)
        if not candidates.size:
            return None
        delimiters = np.flatnonzero(data == delimiter)
        fields = (
            np.searchsorted(delimiters, stop[candidates])
            - np.searchsorted(delimiters, begin[candidates])
            + 1
        )
        skipped = candidates[fields != width]
        if not skipped.size:
            return None
        keep = np.ones(begin.size, dtype=bool)
        keep[skipped] = False
        return Layout(
            self.data_start,
            self.starts[keep],
            self.ends[keep],
            self.multiline,
            self.lines,
            (begin[keep], stop[keep]),
        )


def read_with_arrow(
    data: bytes | memoryview,
    text: str,
    delimiter: str,
    preset: str,
    mapping: Mapping[str, str],
    country: str | None,
    limits: Mapping[str, int],
    progress: Progress | None,
) -> tuple[Preset, Plan, Part] | None:
    """The file converted (`data`: its text as UTF-8), or None when it must take the exact
    path. Errors of the header and of the column map are raised as the exact path raises
    them."""
    # The header is near the start: reading a copy of the whole text would cost ~0.4 s.
    cut = text.find("\n", 1 << 16) + 1
    found = first_record(text[:cut], delimiter) if cut else None
    if found is None:
        found = first_record(text, delimiter)
    if found is None or "\x00" in text:
        return None
    raw_header, header_line = found
    header = names_of(raw_header, header_line)
    chosen = choose_preset(header, preset, mapping)
    plan = Plan(header, chosen, mapping, country or chosen.phone_country, limits)
    place = layout(np.frombuffer(data, dtype=np.uint8), ord(delimiter), header_line)
    if place is None:
        return None
    columns = _columns(data, place, delimiter, len(raw_header), plan.width)
    if columns is None:
        return None
    multiline = place.multiline

    def convert(index: int, converter: Converter) -> tuple[list[Value], dict[int, Msg]]:
        return convert_arrow_column(columns[index], converter, multiline)

    def is_blank(row: int) -> bool:
        return not any(str(column[row].as_py()).strip() for column in columns)

    count = place.starts.size
    lines = (
        range(int(place.starts[0]), int(place.starts[0]) + count)
        if count and int(place.ends[-1]) - int(place.starts[0]) == count - 1
        else place.starts.tolist()
    )
    table, problems, blank_rows = plan.table(lines, convert, is_blank, progress)
    return chosen, plan, Part(table, problems, blank_rows, [], place.lines, False)


def layout(data: np.ndarray, delimiter: int, header_line: int) -> Layout | None:
    """The records of a UTF-8 text (bytes), or None when a quote stands where the csv module
    would refuse it or take it literally, or the header is not the first non-empty line.

    A field that starts with a quote runs to a quote followed by the delimiter or a line
    break; two quotes inside it are one. So, scanning runs of quotes: inside a quoted field
    (an odd number of quotes before the run), an odd run closes it and must be followed by
    a delimiter, a line break or the end; outside one, a run must start a field, and an even
    run there (an empty quoted field, or one that only holds quotes) must be followed the
    same way. A quote in the middle of an unquoted field the csv module keeps as text, Arrow
    may not: such files take the exact path."""
    size = data.size
    quotes = np.flatnonzero(data == QUOTE)
    if quotes.size % 2:
        return None  # a quoted field is never closed
    if quotes.size:
        first = np.ones(quotes.size, dtype=bool)
        first[1:] = np.diff(quotes) != 1
        before = np.flatnonzero(first)  # quotes before each run
        starts = quotes[before]
        lengths = np.diff(np.append(before, quotes.size))
        after = starts + lengths
        following = data[np.minimum(after, size - 1)]
        closed = (after >= size) | _is_any(following, delimiter, CR, LF)
        preceding = data[np.maximum(starts - 1, 0)]
        opening = (starts == 0) | _is_any(preceding, delimiter, CR, LF)
        inside, odd = before % 2 == 1, lengths % 2 == 1
        wrong = (inside & odd & ~closed) | (~inside & ~opening) | (~inside & ~odd & ~closed)
        if wrong.any():
            return None
    # Line breaks as the csv module counts lines: LF, CRLF (at its LF), and a lone CR.
    breaks = np.flatnonzero(data == LF)
    returns = np.flatnonzero(data == CR)
    if returns.size:
        lone = (returns + 1 >= size) | (data[np.minimum(returns + 1, size - 1)] != LF)
        if lone.any():
            breaks = np.sort(np.concatenate((breaks, returns[lone])))
    within = np.searchsorted(quotes, breaks) % 2 == 1  # inside a quoted field
    ending = ~within
    ends_at = breaks[ending]  # the byte that ends each record but the last
    end_lines = np.flatnonzero(ending) + 1
    total_lines = breaks.size + 1
    begin = np.concatenate(([0], ends_at + 1))
    stop = np.concatenate((ends_at, [size]))
    end_line = np.concatenate((end_lines, [total_lines]))
    start_line = np.concatenate(([1], end_lines + 1))
    # Empty records (blank lines, and the nothing after a final line break) are skipped by
    # both readers; a CR right before the LF that ends a record belongs to the break.
    length = stop - begin
    crlf = (length == 1) & (data[np.minimum(begin, size - 1)] == CR) & (stop < size)
    filled = (length > 0) & ~crlf
    begin, stop, start_line, end_line = (
        begin[filled],
        stop[filled],
        start_line[filled],
        end_line[filled],
    )
    if not begin.size or start_line[0] != header_line or end_line[0] != header_line:
        return None  # the header spans lines, or csv-blank records (";;;") come before it
    return Layout(
        int(min(stop[0] + 1, size)),
        start_line[1:],
        end_line[1:],
        bool(within.any()),
        int(total_lines if size and data[-1] not in (CR, LF) else total_lines - 1),
        (begin[1:], stop[1:]),
    )


def _is_any(values: np.ndarray, *codes: int) -> np.ndarray:
    found = values == codes[0]
    for code in codes[1:]:
        found |= values == code
    return found


def _columns(
    data: bytes | memoryview, place: Layout, delimiter: str, raw_width: int, width: int
) -> list[pa.Array] | None:
    """The data records split by Arrow into `width` string columns, or None when Arrow
    refuses the text or splits it otherwise than the csv module would."""
    names = [f"c{index}" for index in range(raw_width)]
    body = pa.py_buffer(data).slice(place.data_start)
    try:
        table = _arrow_read(body, names, delimiter, place.multiline)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Records of other widths: lines of only delimiters, as spreadsheets leave them,
        # are skipped as the exact path skips them; any other makes that path name it.
        fewer = place.without_blank(np.frombuffer(data, dtype=np.uint8), ord(delimiter), raw_width)
        if fewer is None:
            return None
        place.starts, place.ends, place.spans = fewer.starts, fewer.ends, fewer.spans
        try:
            table = _arrow_read(body, names, delimiter, place.multiline, _blank_skipped(delimiter))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    if table.num_rows != place.starts.size:
        return None
    columns = [column.combine_chunks() for column in table.columns]
    limit = csv.field_size_limit()
    for column in columns:
        if len(column) and pc.max(pc.binary_length(column)).as_py() > limit:
            return None  # the csv module refuses such a field; the exact path says where
    # A Bitrix24 record ends with the delimiter, as its header does: the empty field after
    # it is no column; a value there makes the exact path reject the row.
    for column in columns[width:]:
        if len(column) and pc.any(pc.not_equal(column, "")).as_py():
            return None
    return columns[:width]


def _arrow_read(
    body: pa.Buffer,
    names: list[str],
    delimiter: str,
    multiline: bool,
    invalid_row: Callable[[object], str] | None = None,
) -> pa.Table:
    return pcsv.read_csv(
        pa.BufferReader(body),
        read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 22),
        parse_options=pcsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=multiline, invalid_row_handler=invalid_row
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            check_utf8=False,  # decoded strictly already
        ),
    )


def _blank_skipped(delimiter: str) -> Callable[[object], str]:
    def handle(row: object) -> str:
        return "error" if row.text.strip(delimiter + " \t\r\n") else "skip"

    return handle


def convert_arrow_column(
    column: pa.Array, converter: Converter, multiline: bool
) -> tuple[list[Value], dict[int, Msg]]:
    """convert_column (import_values.py) of an Arrow string column. A column that repeats
    its texts is converted once per distinct text and spread back by index; one that does
    not (e-mails, phones, ids, amounts) takes the converter's columnar route where it has
    one, and convert_column for the cells that route does not admit."""
    count = len(column)
    sample = column.slice(0, SAMPLE).to_pylist()
    if count > SAMPLE and len(set(sample)) * 4 <= len(sample):
        encoded = column.dictionary_encode()
        values, bad = convert_column(encoded.dictionary.to_pylist(), converter, multiline)
        indices = encoded.indices.to_numpy()
        by_row = pick(values, indices.tolist())
        if not bad:
            return by_row, {}
        rows = np.flatnonzero(np.isin(indices, np.fromiter(bad, np.int64, len(bad))))
        return by_row, {row: bad[int(indices[row])] for row in rows.tolist()}
    if converter.columnar is None or not count:
        return convert_column(column.to_pylist(), converter, multiline)
    return _columnar(column, converter, multiline)


_CASTS = {"float": (pa.float64(), "0"), "int": (pa.int64(), "0")}


def _columnar(
    column: pa.Array, converter: Converter, multiline: bool
) -> tuple[list[Value], dict[int, Msg]]:
    """Cells the columnar pattern admits, converted by Arrow: they have no surrounding
    space, so cleaning them only drops Excel's apostrophe before a digit or + (as
    clean_cells does); the other non-empty cells by convert_column."""
    pattern, kind = converter.columnar
    cells = column
    if pc.any(pc.starts_with(column, "'")).as_py():
        cells = pc.replace_substring_regex(column, "^'([+0-9])", r"\1")
    fast = pc.match_substring_regex(cells, f"^(?:{pattern})$")
    if kind == "lower":
        cells = pc.ascii_lower(cells)  # the pattern admits ASCII only: str.lower's result
        fast = pc.and_(fast, pc.invert(pc.starts_with(cells, "mailto:")))
    if converter.limit is not None:
        fast = pc.and_(fast, pc.less_equal(pc.utf8_length(cells), converter.limit))
    if kind in _CASTS:
        target, stand_in = _CASTS[kind]
        cells = pc.cast(pc.if_else(fast, cells, stand_in), target)
    values = pc.if_else(fast, cells, pa.scalar(None, cells.type)).to_pylist()
    slow = pc.and_(pc.invert(fast), pc.not_equal(column, ""))
    rows = np.flatnonzero(slow.to_numpy(zero_copy_only=False))
    if not rows.size:
        return values, {}
    converted, bad = convert_column(column.take(rows).to_pylist(), converter, multiline)
    for row, value in zip(rows.tolist(), converted, strict=True):
        values[row] = value
    return values, {int(rows[index]): reason for index, reason in bad.items()}
