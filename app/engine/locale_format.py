"""Numbers, money and dates written the way the reader's locale writes them: `1 234 ₽`,
`₽1,234`, `12.03.2026`, `Mar 12, 2026`.

The engine cannot ask Qt's QLocale, so it keeps the two conventions the interface offers
(tests check them against QLocale's own output). Without a locale a currency keeps its home
convention (`1 234 ₽`, `$1,234`), which is what files and exports had before languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

NBSP = "\u00a0"
SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€"}
_HOME_STYLE = {"USD": "en", "EUR": "en"}  # other currencies are written the Russian way


@dataclass(frozen=True)
class Style:
    group: str
    decimal: str
    symbol_first: bool  # `$1,234` rather than `1 234 $`


STYLES = {"en": Style(",", ".", True), "ru": Style(NBSP, ",", False)}


def language_of(locale: str | None) -> str | None:
    """`ru_RU`, `ru-RU`, `ru` → `ru`; None or an unknown language → None."""
    if not locale:
        return None
    language = locale.replace("-", "_").split("_")[0].lower()
    return language if language in STYLES else None


def style(locale: str | None, currency: str = "") -> Style:
    language = language_of(locale) or _HOME_STYLE.get(currency.upper(), "ru")
    return STYLES[language]


def group_digits(digits: str, separator: str) -> str:
    """`1234567` → `1 234 567` with the given separator."""
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(parts)


def format_number(value: float | int | Decimal, locale: str | None, places: int = 0) -> str:
    """A number with the locale's digit groups and decimal mark, rounded half up."""
    amount = _decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    chosen = style(locale)
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    text = group_digits(whole, chosen.group)
    if fraction:
        text += chosen.decimal + fraction
    return ("-" if amount < 0 else "") + text


def format_money(value: float | int | Decimal | str, currency: str, locale: str | None) -> str:
    """Whole amounts without decimals, as prices are quoted; others with two."""
    amount = _decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)
    places = 0 if amount == amount.to_integral_value() else 2
    code = currency.upper()
    chosen = style(locale, code)
    digits = format_number(abs(amount), locale or _HOME_STYLE.get(code, "ru"), places)
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(code, code)
    if chosen.symbol_first:
        joiner = "" if code in SYMBOLS else NBSP
        return f"{sign}{symbol}{joiner}{digits}"
    return f"{sign}{digits}{NBSP}{symbol}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(day: date, locale: str | None) -> str:
    """A calendar date: `12.03.2026` in Russian, `Mar 12, 2026` in English (unambiguous for
    readers outside the US too), ISO `2026-03-12` without a locale."""
    language = language_of(locale)
    if language == "ru":
        return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
    if language == "en":
        return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"
    return day.isoformat()


def _decimal(value: float | int | Decimal | str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"‘{value}’ is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"‘{value}’ is not a number")
    return amount
