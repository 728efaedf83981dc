"""Colours and fonts of the canvas per theme; items read them, nothing hard-codes a colour."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from PySide6.QtGui import QColor

from app.engine.catalog import Category


@dataclass(frozen=True)
class Theme:
    name: str
    background: QColor
    grid: QColor
    card: QColor
    card_border: QColor
    text: QColor
    muted_text: QColor
    edge: QColor
    selection: QColor
    port: QColor
    dangling: QColor
    error: QColor
    warning: QColor
    flow: QColor  # simulated contacts moving along a connection
    conversion: QColor
    badge: QColor  # the background of simulation numbers
    categories: dict[Category, QColor]
    grid_visible: bool = True


_CATEGORY_COLOURS = {
    Category.ENTRY: "#2E7D32",
    Category.MESSAGE: "#1565C0",
    Category.OFFER: "#6A1B9A",
    Category.FLOW: "#EF6C00",
    Category.ACTION: "#00838F",
    Category.GOAL: "#C62828",
    Category.EXIT: "#455A64",
    Category.ANNOTATION: "#8D6E63",
}

CATEGORY_ICONS = {
    Category.ENTRY: "▶",
    Category.MESSAGE: "✉",
    Category.OFFER: "%",
    Category.FLOW: "◆",
    Category.ACTION: "⚙",
    Category.GOAL: "★",
    Category.EXIT: "■",
    Category.ANNOTATION: "✎",
}

TYPE_ICONS = {"wait": "◷", "wait_event": "◷", "split": "⋔", "switch": "☰"}


def _theme(name: str, dark: bool) -> Theme:
    categories = {c: QColor(v) for c, v in _CATEGORY_COLOURS.items()}
    if dark:
        categories = {c: v.lighter(125) for c, v in categories.items()}
        return Theme(
            name,
            background=QColor("#1E2127"),
            grid=QColor("#2A2E36"),
            card=QColor("#2C313A"),
            card_border=QColor("#3E4451"),
            text=QColor("#E6E6E6"),
            muted_text=QColor("#A0A7B4"),
            edge=QColor("#8C96A8"),
            selection=QColor("#61AFEF"),
            port=QColor("#C8CDD6"),
            dangling=QColor("#FF6B6B"),
            error=QColor("#FF6B6B"),
            warning=QColor("#E5C07B"),
            flow=QColor("#56B6C2"),
            conversion=QColor("#98C379"),
            badge=QColor("#23272E"),
            categories=categories,
        )
    return Theme(
        name,
        background=QColor("#F7F8FA"),
        grid=QColor("#E6E9EF"),
        card=QColor("#FFFFFF"),
        card_border=QColor("#CDD3DC"),
        text=QColor("#1F2430"),
        muted_text=QColor("#5F6B7A"),
        edge=QColor("#7A8699"),
        selection=QColor("#2F80ED"),
        port=QColor("#5F6B7A"),
        dangling=QColor("#D93025"),
        error=QColor("#D93025"),
        warning=QColor("#E6A700"),
        flow=QColor("#1A7F9C"),
        conversion=QColor("#2E7D32"),
        badge=QColor("#FFFFFF"),
        categories=categories,
    )


def _presentation() -> Theme:
    """For showing a funnel to a client: the light theme on plain white, no grid."""
    light = _theme("presentation", dark=False)
    return dataclasses.replace(light, background=QColor("#FFFFFF"), grid_visible=False)


THEMES = {
    "light": _theme("light", dark=False),
    "dark": _theme("dark", dark=True),
    "presentation": _presentation(),
}
