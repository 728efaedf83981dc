"""The palette: the node catalog by category, to drag onto the canvas or add with Enter.

It reads only the catalog, so a type declared there appears here with no other change. A drag
carries just the type name; the canvas asks the document to create the step where it is dropped.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QMimeData,
    QObject,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.canvas.style import THEMES
from app.canvas.view import NODE_TYPE_MIME
from app.engine.catalog import Category, NodeType, type_help, type_label, types_in
from app.ui.icons import category_color, category_icon
from app.ui.tooltips import category_title, type_tooltip

TYPE_ROLE = Qt.ItemDataRole.UserRole
ICON_SIZE = 20
MUTED = THEMES["light"].muted_text.name()


def node_type_mime_data(type_name: str) -> QMimeData:
    """What a palette drag carries; the canvas reads it back with `type_from_mime_data`."""
    mime = QMimeData()
    mime.setData(NODE_TYPE_MIME, type_name.encode("utf-8"))
    return mime


def type_from_mime_data(mime: QMimeData) -> str | None:
    if not mime.hasFormat(NODE_TYPE_MIME):
        return None
    return bytes(mime.data(NODE_TYPE_MIME).data()).decode("utf-8") or None


def _matches(spec: NodeType, words: list[str]) -> bool:
    """Every word typed appears in the name (either language), type, help or category."""
    texts = (type_label(spec), spec.label, spec.type, type_help(spec))
    haystack = " ".join((*texts, category_title(spec.category), spec.category.value)).casefold()
    return all(word in haystack for word in words)


class _CatalogTree(QTreeWidget):
    """Drags carry the type name only, shown as its icon (a row pixmap would hide the drop)."""

    def startDrag(self, supported_actions: Qt.DropAction) -> None:
        item = self.currentItem()
        type_name = item.data(0, TYPE_ROLE) if item else None
        if not type_name:
            return
        drag = QDrag(self)
        drag.setMimeData(node_type_mime_data(type_name))
        drag.setPixmap(item.icon(0).pixmap(QSize(32, 32)))
        drag.exec(Qt.DropAction.CopyAction)


class PaletteWidget(QWidget):
    """Steps by category with a filter; drag one to the canvas, or double-click / Enter it."""

    type_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(self.tr("Filter steps…"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip(self.tr("Matches names, type ids and descriptions"))
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.filter_edit.returnPressed.connect(self._activate_first_visible)
        self.filter_edit.installEventFilter(self)

        self.tree = _CatalogTree()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(6)
        self.tree.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.tree.setItemsExpandable(False)
        self.tree.setExpandsOnDoubleClick(False)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setStyleSheet("QTreeView::item { padding: 3px 2px; }")
        self.tree.itemActivated.connect(self._on_item_activated)

        self.empty_label = QLabel()
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet(f"color: {MUTED}; padding: 16px 8px;")
        self.empty_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty_label, 1)
        self._populate()

    def _populate(self) -> None:
        self._items: dict[str, tuple[NodeType, QTreeWidgetItem]] = {}
        for category in Category:
            specs = types_in(category)
            if not specs:
                continue
            header = QTreeWidgetItem([category_title(category).upper()])
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = header.font(0)
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 0.85)
            header.setFont(0, font)
            header.setForeground(0, category_color(category))
            header.setSizeHint(0, QSize(0, 26))
            self.tree.addTopLevelItem(header)
            for spec in specs:
                item = QTreeWidgetItem([type_label(spec)])
                item.setIcon(0, category_icon(category))
                item.setData(0, TYPE_ROLE, spec.type)
                item.setToolTip(0, type_tooltip(spec))
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                header.addChild(item)
                self._items[spec.type] = (spec, item)
            header.setExpanded(True)

    # --- filtering ---------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        self.filter_edit.setText(text)

    def _apply_filter(self, text: str) -> None:
        """Show the steps whose name, type or description holds every word typed."""
        words = text.casefold().split()
        for spec, item in self._items.values():
            item.setHidden(not _matches(spec, words))
        for index in range(self.tree.topLevelItemCount()):
            header = self.tree.topLevelItem(index)
            children = (header.child(i) for i in range(header.childCount()))
            header.setHidden(all(child.isHidden() for child in children))
        shown = bool(self.visible_types())
        self.empty_label.setText(
            self.tr("No step matches “{text}”.\nEsc clears the filter.").format(text=text.strip())
        )
        self.empty_label.setVisible(not shown)
        self.tree.setVisible(shown)

    def visible_types(self) -> list[str]:
        """Type names now listed, in catalog order (what the filter left)."""
        return [name for name, (_, item) in self._items.items() if not item.isHidden()]

    # --- activation --------------------------------------------------------------------------
    def _on_item_activated(self, item: QTreeWidgetItem) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.type_activated.emit(type_name)

    def _activate_first_visible(self) -> None:
        """Enter in the filter adds the best match, so type-to-add needs no mouse."""
        visible = self.visible_types()
        if visible:
            self.type_activated.emit(visible[0])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Down in the filter moves into the list; Escape clears the filter."""
        if watched is self.filter_edit and event.type() == QEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Down:
                self._focus_first_visible()
                return True
            if event.key() == Qt.Key.Key_Escape and self.filter_edit.text():
                self.filter_edit.clear()
                return True
        return super().eventFilter(watched, event)

    def _focus_first_visible(self) -> None:
        visible = self.visible_types()
        if visible:
            self.tree.setCurrentItem(self._items[visible[0]][1])
            self.tree.setFocus()
