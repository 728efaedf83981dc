"""Category icons drawn in code: a rounded square in the category colour with a white glyph.

Drawn rather than shipped as image files so the palette, the inspector and any other list of
steps share the canvas's colours and glyphs (one declaration in `app.canvas.style`) and stay
sharp at any size. Glyphs are drawn with DejaVu Sans, which has every one of them.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from app.canvas.style import CATEGORY_ICONS, THEMES
from app.engine.catalog import Category, node_type

GLYPH_FONT = "DejaVu Sans"
UNKNOWN_COLOR = "#9E9E9E"
_SIZES = (16, 20, 24, 32, 48)


def category_color(category: Category) -> QColor:
    """The category's colour in the light theme: docks sit on the light window palette."""
    return QColor(THEMES["light"].categories[category])


def badge_pixmap(color: QColor, glyph: str, size: int, device_pixel_ratio: float = 1.0) -> QPixmap:
    pixmap = QPixmap(round(size * device_pixel_ratio), round(size * device_pixel_ratio))
    pixmap.setDevicePixelRatio(device_pixel_ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    rect = QRectF(0, 0, size, size).adjusted(0.5, 0.5, -0.5, -0.5)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(rect, size * 0.22, size * 0.22)
    font = QFont(GLYPH_FONT)
    font.setPixelSize(max(7, round(size * 0.6)))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, glyph)
    painter.end()
    return pixmap


def _icon(color: QColor, glyph: str) -> QIcon:
    icon = QIcon()
    for size in _SIZES:
        icon.addPixmap(badge_pixmap(color, glyph, size))
    return icon


@cache
def category_icon(category: Category) -> QIcon:
    return _icon(category_color(category), CATEGORY_ICONS[category])


@cache
def unknown_type_icon() -> QIcon:
    """For placeholder steps whose type this version does not know."""
    return _icon(QColor(UNKNOWN_COLOR), "?")


def node_type_icon(type_name: str) -> QIcon:
    spec = node_type(type_name)
    return category_icon(spec.category) if spec else unknown_type_icon()
