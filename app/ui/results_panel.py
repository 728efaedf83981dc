"""The Results dock: the last run's charts, painted by the same code as the report's.

The funnel of goal stages (with the conversion from the start and from the previous stage),
revenue and cost per channel, messages per day and time to conversion; with replications the
funnel and channels carry 95 % whiskers. A stale run (the funnel was edited since) says so.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QLocale, Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.charts.data import result_charts
from app.charts.widget import ChartWidget
from app.engine.simulation import SimulationResult
from app.i18n import plural

EMPTY_TEXT = QT_TRANSLATE_NOOP(
    "ResultsPanel",
    "Run a simulation (F9) to see the funnel, channels, messages and conversion times.",
)
STALE_TEXT = QT_TRANSLATE_NOOP(
    "ResultsPanel", "The funnel changed since this run; the charts show the run as it was."
)
CHART_COUNT = 4


class ResultsPanel(QWidget):
    def __init__(self, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: SimulationResult | None = None
        self.note = QLabel(self.tr(EMPTY_TEXT))
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #5F6B7A; padding: 4px 2px")
        self.charts = [ChartWidget(theme=theme) for _ in range(CHART_COUNT)]
        grid_host = QWidget()
        grid = QGridLayout(grid_host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        for index, chart in enumerate(self.charts):
            chart.setMinimumSize(320, 220)
            chart.hide()
            grid.addWidget(chart, index // 2, index % 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(grid_host)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addWidget(self.note)
        layout.addWidget(scroll, 1)
        self.note.setAlignment(Qt.AlignmentFlag.AlignLeft)

    def show_result(self, result: SimulationResult, currency: str) -> None:
        self.result = result
        for widget, chart in zip(self.charts, result_charts(result, currency), strict=True):
            widget.set_chart(chart)
            widget.show()
        locale = QLocale()
        note = self.tr("Seed {seed} · {days} from {start} · {entered} contacts entered").format(
            seed=result.seed,
            days=plural(self.tr("%n day(s)", "", result.horizon_days), result.horizon_days),
            start=locale.toString(result.start.date(), QLocale.FormatType.ShortFormat),
            entered=locale.toString(float(result.entered), "f", 0),
        )
        if result.replications:
            note += " " + self.tr("with 95 % ranges over the runs")
        self.note.setText(note)
        self.note.setStyleSheet("color: #5F6B7A; padding: 4px 2px")

    def mark_stale(self) -> None:
        if self.result is not None:
            self.note.setText(self.tr(STALE_TEXT))
            self.note.setStyleSheet("color: #9A5B00; font-weight: bold; padding: 4px 2px")

    def set_theme(self, theme: str) -> None:
        for chart in self.charts:
            chart.set_theme(theme)
