"""A chart on screen: the widget paints with the same code as the PNG, SVG and PDF files."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.charts.data import Chart
from app.charts.painting import paint_chart
from app.charts.palette import PALETTES, ChartPalette


class ChartWidget(QWidget):
    def __init__(self, chart: Chart | None = None, theme: str = "light", parent=None):
        super().__init__(parent)
        self.chart = chart
        self.palette_: ChartPalette = PALETTES[theme]
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(280, 180)

    def set_chart(self, chart: Chart | None) -> None:
        self.chart = chart
        self.update()

    def set_theme(self, theme: str) -> None:
        self.palette_ = PALETTES[theme]
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(560, 320)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect())
        if self.chart is None:
            painter.fillRect(rect, self.palette_.background)
        else:
            paint_chart(painter, rect, self.chart, self.palette_)
        painter.end()
