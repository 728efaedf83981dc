"""Numbers as people read them in charts and reports: grouped digits, sensible decimals.

Digit groups are separated by a narrow no-break space and a percent sign follows a narrow
no-break space ("12 345", "3.2 %"), so a figure never breaks across lines. Once the interface
has a language (`app.engine.i18n.current_locale`), decimals and money follow its convention
("3,2 %", "4 800 ₽" in Russian; "₽4 800" in English).
"""

from __future__ import annotations

import math

from app.engine.i18n import current_locale
from app.engine.locale_format import NBSP, format_money, language_of

THIN = "\u202f"
_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "GBP": "£"}
_PREFIX = frozenset({"USD", "EUR", "GBP"})


def grouped(value: float, decimals: int = 0) -> str:
    """`12345.6` → `12 346`; `-0` never shows."""
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    return text.replace(",", THIN)


def percent(share: float) -> str:
    """A share (0.032) as a percentage with as many decimals as a small figure needs:
    `100 %`, `32 %`, `3.2 %`, `0.45 %`, `0 %`."""
    value = share * 100
    if value == 0 or not math.isfinite(value):
        return f"0{THIN}%"
    size = abs(value)
    decimals = 0 if size >= 9.95 or size == round(size) else 1 if size >= 0.995 else 2
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{_decimal_mark(text)}{THIN}%"


def _decimal_mark(text: str) -> str:
    """`3.2` → `3,2` when the interface speaks Russian."""
    return text.replace(".", ",") if language_of(current_locale()) == "ru" else text


def money(amount: float, currency: str = "") -> str:
    """`4 800 ₽`, `$4,800` style with thin spaces: `$4 800`; cents only below 100."""
    decimals = 2 if 0 < abs(amount) < 100 and amount != round(amount) else 0
    code = currency.upper()
    if current_locale() and code:
        return format_money(round(amount, decimals), code, current_locale()).replace(NBSP, THIN)
    digits = grouped(amount, decimals)
    if code in _PREFIX:
        return f"{_SYMBOLS[code]}{digits}"
    symbol = _SYMBOLS.get(code, code)
    return f"{digits}{THIN}{symbol}" if symbol else digits


def compact(value: float) -> str:
    """Axis ticks: `950`, `1.2k`, `35k`, `1.5M`."""
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            scaled = value / limit
            text = f"{scaled:.1f}" if abs(scaled) < 10 else f"{scaled:.0f}"
            return _decimal_mark(text.removesuffix(".0")) + suffix
    return f"{value:.0f}" if value == round(value) else _decimal_mark(f"{value:.1f}")


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 past `top` (1, 2, 2.5 or 5 times a power of ten apart)."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(k * power for k in (1, 2, 2.5, 5, 10) if k * power >= raw)
    if step < 1 and top >= 1:
        step = 1.0
    ticks = [0.0]
    while ticks[-1] < top - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks
