"""Tooltips for step types and their parameters, built from the catalog's `help` and `example`.

The texts are data in `app.engine.catalog`, so the CLI and docs can show the same words; this
module only lays them out as rich text for Qt (which wraps rich tooltips, not plain ones).
"""

from __future__ import annotations

import html

from app.canvas.style import THEMES
from app.engine.catalog import Category, NodeType, ParamSpec

MUTED = THEMES["light"].muted_text.name()


def category_title(category: Category) -> str:
    return category.value.capitalize()


def type_tooltip(spec: NodeType, hint: str = "Drag onto the canvas, or press Enter to add.") -> str:
    parts = [
        f"<b>{html.escape(spec.label)}</b> "
        f"<span style='color:{MUTED}'>· {html.escape(category_title(spec.category))}</span>",
        html.escape(spec.help),
    ]
    if spec.example:
        parts.append(f"<i>Example:</i> {html.escape(spec.example)}")
    if hint:
        parts.append(f"<span style='color:{MUTED}'>{html.escape(hint)}</span>")
    return _paragraph(parts)


def param_tooltip(spec: ParamSpec) -> str:
    """What the parameter does and a value a marketer would type."""
    parts = [f"<b>{html.escape(spec.label)}</b>"]
    if spec.help:
        parts.append(html.escape(spec.help))
    if spec.example:
        parts.append(f"<i>Example:</i> {html.escape(spec.example)}")
    return _paragraph(parts)


def _paragraph(parts: list[str]) -> str:
    return f"<p style='white-space:normal'>{'<br>'.join(parts)}</p>"
