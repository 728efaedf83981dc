"""Cell values of CRM exports, converted a whole column at a time.

Each contact field has a converter for one cell (the exact rules and the error messages) and,
where exports usually write it one way, a fast route: cells that fully match a pattern take a
C-level conversion (`float`, `str.lower`, `datetime.fromisoformat`…), the rest go through the
one-cell converter. Columns with few distinct texts (yes/no, cities, tags) convert each text
once. Both routes give the same values as converting every cell alone: the fast patterns only
admit cells whose one-cell conversion is the fast one (tests/test_db_import.py checks both).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property

from app.engine.i18n import Msg, T

Value = object


class Invalid:
    """A cell that cannot be converted, standing in for its value until rows are rejected."""

    __slots__ = ("reason",)

    def __init__(self, reason: Msg) -> None:
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


# --------------------------------------------------------------------------- one cell


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if email.startswith("mailto:"):
        email = email[7:]
    if not _EMAIL.fullmatch(email):
        raise ValueError(T("CSV import", "{value} is not an e-mail address", value=repr(value)))
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
            T(
                "CSV import",
                "{value} has no country code; write it as +<country code>… "
                "(or pass --phone-country)",
                value=repr(value),
            )
        )
    if not 8 <= len(number) <= 15 or any(char.isalpha() for char in text):
        raise ValueError(T("CSV import", "{value} is not a phone number", value=repr(value)))
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
        raise ValueError(T("CSV import", "{value} is not a number", value=repr(value))) from None


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
        raise ValueError(
            T(
                "CSV import",
                "{value} is not a date (use DD.MM.YYYY or YYYY-MM-DD)",
                value=repr(value),
            )
        ) from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def parse_date(value: str) -> date:
    return parse_datetime(value).date()


def parse_bool(value: str) -> bool:
    key = value.strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(T("CSV import", "{value} is not yes or no", value=repr(value)))


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


def _nps(value: str) -> float:
    score = parse_number(value)
    if not 0 <= score <= 10:
        raise ValueError(
            T("CSV import", "{value} is not an NPS answer from 0 to 10", value=repr(value))
        )
    return score


def _count(value: str) -> int:
    number = parse_number(value)
    if number < 0 or not number.is_integer():
        raise ValueError(
            T("CSV import", "{value} is not a whole number of 0 or more", value=repr(value))
        )
    return int(number)


# --------------------------------------------------------------------------- converters


@dataclass(frozen=True)
class Converter:
    """How one field's cells become values. `one` converts a stripped, non-empty cell (or
    raises ValueError with the reason). Cells that fully match `fast` (a pattern that never
    matches a NUL) are converted by `fast_value` instead (None: the cell is its value), which
    must give what `one` gives for them; `limit` marks plain text of at most that many
    characters. `columnar` is the same fast route for a columnar reader (import_arrow.py):
    an RE2 pattern that only admits ASCII cells the fast pattern admits (no surrounding
    space, no CR) and how they become values: "text", "lower", "float" or "int"."""

    one: Callable[[str], Value]
    fast: str | None = None
    fast_value: Callable[[str], Value] | None = None
    limit: int | None = None
    columnar: tuple[str, str] | None = None

    @cached_property
    def cell_pattern(self) -> re.Pattern[str]:
        return re.compile(self.fast or "(?!)")

    @cached_property
    def column_pattern(self) -> re.Pattern[str]:
        """All cells of a column, NUL-joined, match their fast pattern (or are empty)."""
        return re.compile(rf"(?:{self.fast})?(?:\x00(?:{self.fast})?)*+")


def text_converter(limit: int) -> Converter:
    def convert(value: str) -> str:
        if len(value) > limit:
            raise ValueError(T("CSV import", "is longer than {limit} characters", limit=limit))
        return value

    return Converter(convert, limit=limit, columnar=(_TEXT_COLUMNAR, "text"))


# The cell patterns below leave out NUL, which no cell holds (the csv module refuses it), so
# a column's cells can be checked in one scan of their NUL-joined text.
_EMAIL_FAST = r"(?!(?i:mailto:))[^@\s,;\x00]+@[^@\s,;\x00]+\.[^@\s,;.\x00]+"
_ISO_MOMENT = r"(?a:\d{4}-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d(?:\.\d{1,6})?)?)?)"


# What str.strip() strips (str.isspace), as an RE2 class; with CR, which a multi-line file
# may turn into LF inside a cell, so such cells take the Python route.
PYTHON_SPACE = (
    r"[\t\n\x0b\x0c\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
    r"\x{202f}\x{205f}\x{3000}]"
)
_TEXT_COLUMNAR = rf"[^{PYTHON_SPACE[1:-1]}](?:[^\r]*[^{PYTHON_SPACE[1:-1]}])?"
# _EMAIL_FAST for ASCII cells: printable ASCII but space , ; @ (and . in the last part).
_EMAIL_ASCII = r"[!-+\--:<-?A-~]+@[!-+\--:<-?A-~]+\.[!-+\-/-:<-?A-~]+"


def field_converters(country: str | None, text_limits: dict[str, int]) -> dict[str, Converter]:
    """A converter per contact field; `country` is the calling code for phones without one."""
    number = Converter(
        parse_number, _PLAIN_NUMBER.pattern, float, columnar=(r"-?[0-9]+(?:\.[0-9]+)?", "float")
    )
    moment = Converter(parse_datetime, _ISO_MOMENT, datetime.fromisoformat)
    converters = {name: text_converter(limit) for name, limit in text_limits.items()}
    converters.update(
        # Lower-casing never changes whether the e-mail pattern matches.
        email=Converter(normalize_email, _EMAIL_FAST, str.lower, columnar=(_EMAIL_ASCII, "lower")),
        # E.164 cells are kept as they are.
        phone=Converter(
            lambda value: normalize_phone(value, country),
            _E164.pattern,
            columnar=(r"\+[1-9][0-9]{7,14}", "text"),
        ),
        gender=Converter(parse_gender),
        birth_date=Converter(parse_date, r"(?a:\d{4}-\d\d-\d\d)", date.fromisoformat),
        created_at=moment,
        last_purchase_at=moment,
        nps_score=Converter(_nps),
        # Up to 15 digits: exactly what parse_number's float would give.
        orders_count=Converter(_count, r"(?a:\d{1,15})", int, columnar=(r"[0-9]{1,15}", "int")),
        total_spent=number,
        cart_value=number,
        tags=Converter(parse_tags),
        **dict.fromkeys(
            ("consent_email", "consent_sms", "consent_messenger", "consent_vk", "consent_push"),
            Converter(parse_bool),
        ),
    )
    return converters


ATTRIBUTE = Converter(parse_attribute)


# --------------------------------------------------------------------------- columns


@dataclass
class Column:
    """A column's cells as the converters take them, and the same NUL-joined into one text,
    which C-level scans (`in`, regular expressions, `lower`) go through far faster than a
    pass over a million string objects."""

    texts: list[str]
    joined: str


def clean_cells(cells: Sequence[str], multiline: bool) -> Column:
    """Cells trimmed, Excel's "keep as text" apostrophe before digits or + dropped (Shopify
    ids, phones, zips), and, when quoted fields span lines, CRLF inside them made \\n."""
    texts = list(map(str.strip, cells))
    joined = "\x00".join(texts)
    changed = joined
    if "\x00'" in changed:
        changed = _MARKED.sub("\x00", changed)
    if changed[:1] == "'" and changed[1:2] in _TEXT_MARK:
        changed = changed[1:]
    if multiline and "\r\n" in changed:
        changed = changed.replace("\r\n", "\n")
    if changed is not joined:
        return Column(changed.split("\x00") if texts else [], changed)
    return Column(texts, joined)


_MARKED = re.compile(r"\x00'(?=[+0-9])")
_TEXT_MARK = frozenset("+0123456789")


def convert_column(
    cells: Sequence[str], converter: Converter, multiline: bool
) -> tuple[list[Value], dict[int, Msg]]:
    """Values of one column (None for empty cells) and the reasons of the bad ones.
    `multiline`: some quoted field of the file spans lines."""
    column = clean_cells(cells, multiline)
    texts = column.texts
    sample = texts[:2000]
    # Each route also says which rows the one-cell converter handled (None: maybe any), as
    # only those can be Invalid: a scan of a million values per column costs ~0.3 s here.
    if converter.limit is not None:
        values, suspects = _texts(texts, converter)
    elif converter.fast is None or len(set(sample)) * 4 <= len(sample):
        # Few distinct texts (yes/no, cities, tags, dates), or no fast route: once per text.
        converted = {text: _one(text, converter) for text in set(texts)}
        values = list(map(converted.__getitem__, texts))
        if not any(type(value) is Invalid for value in converted.values()):
            return values, {}
        suspects = None
    elif converter.column_pattern.fullmatch(column.joined):
        values, suspects = _all_fast(column, converter)
    else:
        values, suspects = _fast(texts, converter)
    rows = range(len(values)) if suspects is None else suspects
    bad = {row: values[row].reason for row in rows if type(values[row]) is Invalid}
    for row in bad:
        values[row] = None
    return values, bad


def _one(text: str, converter: Converter) -> Value:
    if not text:
        return None
    try:
        return converter.one(text)
    except ValueError as error:
        return Invalid(reason_of(error))


def reason_of(error: ValueError) -> Msg:
    """The translatable reason a converter raised (our converters raise a `Msg`; a bare
    ValueError from elsewhere keeps its English text)."""
    reason = error.args[0] if error.args else None
    if isinstance(reason, Msg):
        return reason
    return T("CSV import", "{problem}", problem=str(error))


def _texts(texts: list[str], converter: Converter) -> tuple[list[Value], list[int]]:
    """Plain text: only cells longer than the limit are looked at."""
    values: list[Value] = [text or None for text in texts] if texts.count("") else texts
    too_long = []
    if texts and max(map(len, texts)) > converter.limit:
        too_long = [row for row, text in enumerate(texts) if len(text) > converter.limit]
        for row in too_long:
            values[row] = _one(texts[row], converter)
    return values, too_long


def _all_fast(column: Column, converter: Converter) -> tuple[list[Value], list[int] | None]:
    """Every non-empty cell matches the fast pattern."""
    texts, convert = column.texts, converter.fast_value
    empty = texts.count("")
    if convert is str.lower:
        values: list[Value] = column.joined.lower().split("\x00")
    elif convert is None or empty == len(texts):
        values = list(texts)
    else:
        stand_in = next(filter(None, texts))
        try:
            values = list(map(convert, [t or stand_in for t in texts] if empty else texts))
        except ValueError:  # a pattern-shaped but impossible date (2024-13-01): cell by cell
            return [_one(text, converter) for text in texts], None
    if empty:
        for row, text in enumerate(texts):
            if not text:
                values[row] = None
    return values, []


def _fast(texts: list[str], converter: Converter) -> tuple[list[Value], list[int] | None]:
    """The fast route for the cells that match it, the one-cell converter for the others."""
    hits = list(map(converter.cell_pattern.fullmatch, texts))
    misses = hits.count(None)
    if misses == len(texts):
        return [_one(text, converter) for text in texts], None
    slow = [row for row, hit in enumerate(hits) if hit is None] if misses else []
    fast = texts
    if slow:  # any matching cell stands in for the others, which are overwritten below
        stand_in = next(filter(None, hits)).string
        fast = [text if hit else stand_in for text, hit in zip(texts, hits, strict=True)]
    try:
        values = list(fast if converter.fast_value is None else map(converter.fast_value, fast))
    except ValueError:  # a pattern-shaped but impossible date (2024-13-01): cell by cell
        return [_one(text, converter) for text in texts], None
    for row in slow:
        values[row] = _one(texts[row], converter)
    return values, slow
