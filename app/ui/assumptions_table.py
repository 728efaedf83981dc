"""Per-channel behaviour assumptions as an editable table of percentages.

Cells show the benchmark default in grey and an override in bold; clearing a cell or typing the
default back removes the override. Changes go to the document (undoable, saved with the file).
"""

from __future__ import annotations

import copy

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLocale, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from app.engine.behaviour import AFTER_MESSAGE, DELIVERY, Assumptions
from app.engine.catalog import choice_label
from app.engine.contact_schema import CHANNELS

COLUMNS = (
    ("deliver", QT_TRANSLATE_NOOP("AssumptionsTable", "Delivered")),
    ("opened", QT_TRANSLATE_NOOP("AssumptionsTable", "Opened")),
    ("clicked", QT_TRANSLATE_NOOP("AssumptionsTable", "Clicked")),
    ("purchase", QT_TRANSLATE_NOOP("AssumptionsTable", "Bought")),
    ("purchase_after_offer", QT_TRANSLATE_NOOP("AssumptionsTable", "Bought (offer)")),
    ("replied", QT_TRANSLATE_NOOP("AssumptionsTable", "Replied")),
)


def row_title(title: str) -> str:
    return QCoreApplication.translate("AssumptionsTable", title)


def channel_name(channel: str) -> str:
    return choice_label(channel)


DEFAULT_COLOUR = QColor("#7A8699")


def default_value(channel: str, key: str) -> float:
    if key == "deliver":
        return DELIVERY.get(channel, 0.95)
    return AFTER_MESSAGE[key].get(channel, 0.0)


def percent_text(value: float) -> str:
    """`5.3 %` / `5,3 %`: the locale's decimal mark, no trailing zeros."""
    point = QLocale().decimalPoint()
    return QLocale().toString(value * 100, "f", 1).rstrip("0").rstrip(point) + " %"


def parse_percent(text: str) -> float | None:
    """'4.5', '4,5 %' → 0.045; None for text that is not a percentage between 0 and 100."""
    cleaned = text.replace("%", "").replace(",", ".").strip()
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value / 100 if 0 <= value <= 100 else None


class AssumptionsTable(QTableWidget):
    """Emits `changed(assumptions, description)` when the user edits a cell."""

    changed = Signal(object, str)
    rejected = Signal(str)  # a message for text that is not a percentage

    def __init__(self, parent=None) -> None:
        # Behaviours down, channels across: five short channel names fit a narrow dock.
        super().__init__(len(COLUMNS), len(CHANNELS), parent)
        self.assumptions = Assumptions()
        self.setVerticalHeaderLabels([row_title(title) for _, title in COLUMNS])
        self.setHorizontalHeaderLabels([channel_name(c) for c in CHANNELS])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setToolTip(
            self.tr(
                "Share of contacts who do this within a wait-for-event's timeout after a message "
                "on the channel. Grey: published benchmark (docs/SIMULATION.md); bold: your "
                "figure. Clear a cell to go back to the benchmark."
            )
        )
        self._filling = False
        self.itemChanged.connect(self._on_item_changed)

    def set_assumptions(self, assumptions: Assumptions) -> None:
        self.assumptions = copy.deepcopy(assumptions)
        self._filling = True
        try:
            for column, channel in enumerate(CHANNELS):
                for row, (key, _title) in enumerate(COLUMNS):
                    override = assumptions.channels.get(channel, {}).get(key)
                    value = override if override is not None else default_value(channel, key)
                    item = QTableWidgetItem(percent_text(value))
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                    font = QFont(item.font())
                    font.setBold(override is not None)
                    item.setFont(font)
                    if override is None:
                        item.setForeground(QBrush(DEFAULT_COLOUR))
                    self.setItem(row, column, item)
        finally:
            self._filling = False
        self.resizeRowsToContents()
        height = self.horizontalHeader().height() + 2 * self.frameWidth()
        self.setFixedHeight(height + sum(self.rowHeight(r) for r in range(self.rowCount())))

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        channel = CHANNELS[item.column()]
        key, title = COLUMNS[item.row()]
        updated = copy.deepcopy(self.assumptions)
        overrides = updated.channels.setdefault(channel, {})
        text = item.text().strip()
        value = None if not text else parse_percent(text)
        if text and value is None:
            self.rejected.emit(
                self.tr(
                    "{channel} · {what}: ‘{text}’ is not a percentage between 0 and 100"
                ).format(channel=channel_name(channel), what=row_title(title), text=text)
            )
            self.set_assumptions(self.assumptions)
            return
        if value is None or abs(value - default_value(channel, key)) < 1e-12:
            overrides.pop(key, None)
        else:
            overrides[key] = value
        if not overrides:
            updated.channels.pop(channel, None)
        self.set_assumptions(updated)
        self.changed.emit(
            updated,
            self.tr("Set {channel}: {what}").format(
                channel=channel_name(channel), what=row_title(title).lower()
            ),
        )
