"""A chart as a PNG file or an SVG document, painted by the same code as on screen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSizeF
from PySide6.QtGui import QPainter

from app.charts.data import Chart
from app.charts.painting import paint_chart
from app.charts.palette import ChartPalette
from app.exporters.devices import png_image, save_image, svg_text

SIZE = QSizeF(640, 360)


def chart_svg(chart: Chart, palette: ChartPalette, size: QSizeF = SIZE) -> str:
    def paint(painter: QPainter) -> None:
        paint_chart(painter, QRectF(0, 0, size.width(), size.height()), chart, palette)

    return svg_text(paint, size, chart.title)


def chart_png(
    chart: Chart, palette: ChartPalette, path: Path, size: QSizeF = SIZE, scale: float = 2.0
) -> None:
    def paint(painter: QPainter) -> None:
        paint_chart(painter, QRectF(0, 0, size.width(), size.height()), chart, palette)

    save_image(png_image(paint, size, scale, background=palette.background), path)
