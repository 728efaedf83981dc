"""ISO 8601 durations (`P2D`, `PT6H`, `P1DT12H`) as scenario files and exports write them.

Months and years have no fixed length; a funnel means "about a month", so they count as
30 and 365 days, as documented in README's format tour.
"""

from __future__ import annotations

import re

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
_WORDS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


class DurationError(ValueError):
    """A duration text that is not ISO 8601; the message shows the expected form."""


def parse_duration(text: str) -> int:
    """Return the duration in seconds."""
    if not isinstance(text, str):
        raise DurationError(f"a duration must be text like P2D or PT6H, not {text!r}")
    match = _PATTERN.match(text.strip().upper())
    if not match:
        raise DurationError(
            f"‘{text}’ is not a duration; write it like P2D (2 days), PT6H (6 hours) "
            "or P1DT12H (1 day 12 hours)"
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


def duration_words(seconds: int) -> str:
    """`2 days`, `1 day 12 hours`: how the canvas shows a wait."""
    if seconds <= 0:
        return "0 minutes"
    parts = []
    for word, size in _WORDS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {word}{'' if count == 1 else 's'}")
        if len(parts) == 2:
            break
    return " ".join(parts)
