"""The three paint devices of exports for people, set up once so they agree on units.

Every picture is painted in logical pixels (1/96 inch), as on screen: the SVG generator and
the PDF writer run at 96 dpi, so fonts set in points come out the size they have on screen;
a PNG is painted at 96 dpi under a scale and only then stamped with the DPI asked for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator

SCREEN_DPI = 96
POINTS_PER_PIXEL = 72 / SCREEN_DPI
# Acrobat refuses pages beyond 200 inches; a larger picture is scaled down to fit.
MAX_PDF_PIXELS = 200 * SCREEN_DPI
# Viewers without DejaVu Sans (which the canvas and charts use) fall back to a similar face.
FONT_FALLBACK = "DejaVu Sans, Bitstream Vera Sans, Verdana, Arial, sans-serif"

Paint = Callable[[QPainter], None]


class ExportFileError(OSError):
    """A picture or document could not be written; the message names the file."""


def svg_text(paint: Paint, size: QSizeF, title: str = "", description: str = "") -> str:
    """A standalone SVG document of `size` logical pixels (width and height in px)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setResolution(SCREEN_DPI)
    generator.setSize(QSize(math.ceil(size.width()), math.ceil(size.height())))
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    generator.setDescription(description or "Made with Voronka")
    painter = QPainter(generator)
    paint(painter)
    painter.end()
    return _tidy_svg(bytes(buffer.data()).decode("utf-8"), size)


_ROOT = re.compile(r"<svg\b[^>]*>", re.DOTALL)
_FONT = re.compile(r'font-family="([^"]*)"')


def _tidy_svg(text: str, size: QSizeF) -> str:
    """Width and height in px rather than Qt's millimetres, and fonts with fallbacks."""

    def root(match: re.Match[str]) -> str:
        tag = re.sub(r'\s(width|height)="[^"]*"', "", match.group(0))
        return tag.replace(
            "<svg", f'<svg width="{size.width():g}px" height="{size.height():g}px"', 1
        )

    text = _ROOT.sub(root, text, count=1)
    return _FONT.sub(
        lambda m: f'font-family="{FONT_FALLBACK}"' if m.group(1) == "DejaVu Sans" else m.group(0),
        text,
    )


def inline_svg(text: str, min_width: float = 0) -> str:
    """An SVG document made fit for embedding in HTML: no XML prolog, as wide as its box but
    not narrower than `min_width` pixels (the box scrolls instead, so text stays readable)."""
    text = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", text)
    style = f' style="min-width:{min_width:.0f}px"' if min_width else ""

    def root(match: re.Match[str]) -> str:
        tag = re.sub(r'\s(width|height)="[^"]*"', "", match.group(0))
        return tag.replace("<svg", f'<svg width="100%"{style}', 1)

    return _ROOT.sub(root, text, count=1)


def png_image(
    paint: Paint,
    size: QSizeF,
    scale: float = 1.0,
    transparent: bool = False,
    dpi: float | None = None,
    background: Qt.GlobalColor = Qt.GlobalColor.white,
) -> QImage:
    """`size` logical pixels painted at `scale` (the image is `size × scale` pixels).

    `dpi` is only written into the file (so a print at that DPI has the diagram's size on
    screen); it defaults to 96 × scale.
    """
    image = QImage(
        max(1, math.ceil(size.width() * scale)),
        max(1, math.ceil(size.height() * scale)),
        QImage.Format.Format_ARGB32_Premultiplied,
    )
    image.fill(Qt.GlobalColor.transparent if transparent else background)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.scale(scale, scale)
    paint(painter)
    painter.end()
    dots_per_metre = round((dpi or SCREEN_DPI * scale) / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data)


def save_image(image: QImage, path: Path) -> None:
    if not image.save(str(path), "PNG"):
        raise ExportFileError(f"{path}: the PNG could not be written")


def pdf_writer(path: Path, page: QSizeF, title: str) -> QPdfWriter:
    """A PDF at 96 dpi whose first page is `page` logical pixels, with no printer margins
    (the caller leaves its own)."""
    writer = QPdfWriter(str(path))
    writer.setResolution(SCREEN_DPI)
    writer.setTitle(title)
    writer.setCreator("Voronka")
    set_pdf_page(writer, page)
    return writer


def set_pdf_page(writer: QPdfWriter, page: QSizeF) -> None:
    """The size of the next page (call before `newPage`)."""
    points = QSizeF(page.width() * POINTS_PER_PIXEL, page.height() * POINTS_PER_PIXEL)
    layout = QPageLayout(
        QPageSize(points, QPageSize.Unit.Point, "", QPageSize.SizeMatchPolicy.ExactMatch),
        QPageLayout.Orientation.Portrait,
        QMarginsF(0, 0, 0, 0),
    )
    writer.setPageLayout(layout)


def write_text(text: str, path: Path) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ExportFileError(f"{path}: cannot be written: {error.strerror}") from error
