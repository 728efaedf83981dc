"""Tab search: type a few letters, pick a step type, it lands where the cursor was."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.engine.catalog import NODE_TYPES, NodeType, category_title, type_help, type_label


def matches(spec: NodeType, text: str) -> bool:
    needle = text.strip().casefold()
    haystack = f"{type_label(spec)} {spec.label} {spec.type} {spec.category} {type_help(spec)}"
    haystack = haystack.casefold()
    return all(word in haystack for word in needle.split())


def _rank(spec: NodeType, text: str) -> int:
    """Names that contain the words come before steps that only mention them in their help."""
    words = text.strip().casefold().split()
    label = type_label(spec).casefold()
    if label.startswith(text.strip().casefold()):
        return 0
    return 1 if all(word in label for word in words) else 2


class QuickSearch(QFrame):
    """A popup list of step types filtered as you type; Enter or a click picks one."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(280)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText(self.tr("Add a step: type to search…"))
        self.list = QListWidget(self)
        self.list.setMinimumHeight(260)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.filter.textChanged.connect(self._refill)
        self.filter.returnPressed.connect(self._pick_current)
        self.list.itemActivated.connect(self._pick)
        self.list.itemClicked.connect(self._pick)
        self._refill("")

    def _refill(self, text: str) -> None:
        self.list.clear()
        found = [spec for spec in NODE_TYPES if matches(spec, text)]
        found.sort(key=lambda spec: _rank(spec, text))
        for spec in found:
            item = QListWidgetItem(f"{type_label(spec)}  ·  {category_title(spec.category)}")
            item.setData(Qt.ItemDataRole.UserRole, spec.type)
            item.setToolTip(type_help(spec))
            self.list.addItem(item)
        self.list.setCurrentRow(0)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            row = self.list.currentRow() + (1 if event.key() == Qt.Key.Key_Down else -1)
            self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
            return
        super().keyPressEvent(event)

    def _pick_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._pick(item)

    def _pick(self, item: QListWidgetItem) -> None:
        self.hide()
        self.chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def popup_at(self, global_pos: QPoint) -> None:
        self.filter.clear()
        self.move(global_pos)
        self.show()
        self.filter.setFocus()
