"""Chart colours for a light page and a dark screen; painting code reads them, never literals."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor


@dataclass(frozen=True)
class ChartPalette:
    name: str
    background: QColor
    text: QColor
    muted: QColor
    grid: QColor
    axis: QColor
    bar: QColor  # funnel steps, messages, days
    bar_text: QColor  # a figure written inside a bar
    connector: QColor  # the funnel's band from one step to the next
    revenue: QColor
    cost: QColor
    whisker: QColor


LIGHT = ChartPalette(
    "light",
    background=QColor("#FFFFFF"),
    text=QColor("#1F2430"),
    muted=QColor("#5F6B7A"),
    grid=QColor("#E6E9EF"),
    axis=QColor("#9AA4B2"),
    bar=QColor("#2F6FDB"),
    bar_text=QColor("#FFFFFF"),
    connector=QColor(47, 111, 219, 40),
    revenue=QColor("#2E9D5B"),
    cost=QColor("#E08A2E"),
    whisker=QColor("#1F2430"),
)

DARK = ChartPalette(
    "dark",
    background=QColor("#23272E"),
    text=QColor("#E6E6E6"),
    muted=QColor("#A0A7B4"),
    grid=QColor("#343A44"),
    axis=QColor("#5C6370"),
    bar=QColor("#5B9CF0"),
    bar_text=QColor("#10141A"),
    connector=QColor(91, 156, 240, 50),
    revenue=QColor("#6CC58A"),
    cost=QColor("#E5A65B"),
    whisker=QColor("#E6E6E6"),
)

PALETTES = {"light": LIGHT, "dark": DARK}
