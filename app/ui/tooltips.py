"""Tooltips for step types and their parameters, built from the catalog's `help` and `example`.

The texts are data in `app.engine.catalog`, so the CLI and docs can show the same words; this
module only lays them out as rich text for Qt (which wraps rich tooltips, not plain ones).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QCoreApplication

from app.canvas.style import THEMES
from app.engine.catalog import (
    Category,
    NodeType,
    ParamSpec,
    example_text,
    param_help,
    param_label,
    type_help,
    type_label,
)
from app.engine.catalog import category_title as catalog_category_title

MUTED = THEMES["light"].muted_text.name()


def category_title(category: Category) -> str:
    """The palette heading in the interface language."""
    return catalog_category_title(category)


def _example_label() -> str:
    return QCoreApplication.translate("Palette", "Example:")


def type_tooltip(spec: NodeType, hint: str | None = None) -> str:
    if hint is None:
        hint = QCoreApplication.translate("Palette", "Drag onto the canvas, or press Enter to add.")
    parts = [
        f"<b>{html.escape(type_label(spec))}</b> "
        f"<span style='color:{MUTED}'>· {html.escape(category_title(spec.category))}</span>",
        html.escape(type_help(spec)),
    ]
    if spec.example:
        parts.append(f"<i>{html.escape(_example_label())}</i> {html.escape(example_text(spec))}")
    if hint:
        parts.append(f"<span style='color:{MUTED}'>{html.escape(hint)}</span>")
    return _paragraph(parts)


def param_tooltip(spec: ParamSpec) -> str:
    """What the parameter does and a value a marketer would type."""
    parts = [f"<b>{html.escape(param_label(spec))}</b>"]
    if spec.help:
        parts.append(html.escape(param_help(spec)))
    if spec.example:
        parts.append(f"<i>{html.escape(_example_label())}</i> {html.escape(example_text(spec))}")
    return _paragraph(parts)


def _paragraph(parts: list[str]) -> str:
    return f"<p style='white-space:normal'>{'<br>'.join(parts)}</p>"
