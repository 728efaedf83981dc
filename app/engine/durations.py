"""ISO 8601 durations (`P2D`, `PT6H`, `P1DT12H`) as scenario files and exports write them.

Months and years have no fixed length; a funnel means "about a month", so they count as
30 and 365 days, as documented in README's format tour.
"""

from __future__ import annotations

import re

from app.engine.i18n import Msg, T

_PATTERN = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_UNIT_SECONDS = {
    "years": 365 * 86400,
    "months": 30 * 86400,
    "weeks": 7 * 86400,
    "days": 86400,
    "hours": 3600,
    "minutes": 60,
    "seconds": 1,
}
_UNITS = (86400, 3600, 60, 1)


class DurationError(ValueError):
    """A duration text that is not ISO 8601; the message shows the expected form."""

    def __init__(self, text: Msg) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return str(self.text)


def parse_duration(text: str) -> int:
    """Return the duration in seconds."""
    if not isinstance(text, str):
        raise DurationError(
            T("Duration", "a duration must be text like P2D or PT6H, not {value}", value=repr(text))
        )
    match = _PATTERN.match(text.strip().upper())
    if not match:
        raise DurationError(
            T(
                "Duration",
                "‘{value}’ is not a duration; write it like P2D (2 days), PT6H (6 hours) "
                "or P1DT12H (1 day 12 hours)",
                value=text,
            )
        )
    return sum(
        int(value) * _UNIT_SECONDS[unit] for unit, value in match.groupdict().items() if value
    )


def is_duration(text: object) -> bool:
    try:
        parse_duration(text)  # type: ignore[arg-type]
    except DurationError:
        return False
    return True


def format_duration(seconds: int) -> str:
    """Canonical ISO 8601 form, the one exports write (days, then a time part)."""
    if seconds <= 0:
        return "PT0S"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    if hours or minutes or secs:
        text += "T" + "".join(
            f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if value
        )
    return text


def _unit_words(size: int, count: int) -> Msg:
    if size == 86400:
        return T("Duration", "%n day(s)", count)
    if size == 3600:
        return T("Duration", "%n hour(s)", count)
    if size == 60:
        return T("Duration", "%n minute(s)", count)
    return T("Duration", "%n second(s)", count)


def duration_words(seconds: int) -> str:
    """`2 days`, `1 day 12 hours`: how the canvas shows a wait, in the current language."""
    if seconds <= 0:
        return str(_unit_words(60, 0))
    parts = []
    for size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(str(_unit_words(size, count)))
        if len(parts) == 2:
            break
    return " ".join(parts)
