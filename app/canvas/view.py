"""The canvas view: zoom at the cursor, pan, fit, rubber-band selection, drops from the palette."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsView

from app.canvas.scene import FunnelScene

NODE_TYPE_MIME = "application/x-voronka-node-type"
MIN_ZOOM, MAX_ZOOM = 0.0002, 4.0
OVERVIEW_ZOOM = 0.08  # below this, the scene draws one overview instead of every card
ZOOM_STEP = 1.15


class FunnelView(QGraphicsView):
    zoom_changed = Signal(float)
    # scene position where the user asked for the quick search (Tab, double-click)
    quick_search_requested = Signal(QPointF)

    def __init__(self, scene: FunnelScene):
        super().__init__(scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._panning: QPointF | None = None
        self._space_held = False

    @property
    def funnel_scene(self) -> FunnelScene:
        return self.scene()  # type: ignore[return-value]

    # --- zoom ------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        self.scale(factor / self.zoom, factor / self.zoom)
        self._zoomed()

    def _zoomed(self) -> None:
        self.funnel_scene.set_overview(self.zoom < OVERVIEW_ZOOM)
        self.zoom_changed.emit(self.zoom)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / ZOOM_STEP)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.set_zoom(self.zoom * ZOOM_STEP**steps)
        event.accept()

    def fit_rect(self, rect: QRectF) -> None:
        if rect.isEmpty():
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > 1.5:
            self.set_zoom(1.5)
        self._zoomed()

    def fit_all(self) -> None:
        self.fit_rect(self.funnel_scene.itemsBoundingRect())

    def fit_selection(self) -> None:
        rect = QRectF()
        for item in self.funnel_scene.selectedItems():
            rect = rect.united(item.sceneBoundingRect())
        self.fit_rect(rect if not rect.isEmpty() else self.funnel_scene.itemsBoundingRect())

    def centre_on_node(self, node_id: str) -> None:
        item = self.funnel_scene.node_items.get(node_id)
        if item is not None:
            self.centerOn(item.sceneBoundingRect().center())

    # --- pan: middle button, or space + drag ------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
            self._space_held and event.button() == Qt.MouseButton.LeftButton
        ):
            self._panning = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None:
            self._panning = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        position = self.mapToScene(event.position().toPoint())
        if self.funnel_scene.itemAt(position, self.transform()) is None:
            self.quick_search_requested.emit(position)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Tab:
            self.quick_search_requested.emit(self.cursor_scene_pos())
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.viewport().unsetCursor()
        super().keyReleaseEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        return False  # Tab opens the quick search instead of moving focus

    def cursor_scene_pos(self) -> QPointF:
        """The mouse position in the scene, or the view's centre when the mouse is outside."""
        local = self.mapFromGlobal(self.cursor().pos())
        if not self.viewport().rect().contains(local):
            local = self.viewport().rect().center()
        return self.mapToScene(local)

    # --- drops from the palette ------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_TYPE_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_TYPE_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        data = event.mimeData()
        if not data.hasFormat(NODE_TYPE_MIME):
            super().dropEvent(event)
            return
        type_name = bytes(data.data(NODE_TYPE_MIME)).decode("utf-8")
        position = self.mapToScene(event.position().toPoint())
        node_id = self.funnel_scene.document.add_node(type_name, (position.x(), position.y()))
        self.funnel_scene.select_nodes([node_id])
        event.acceptProposedAction()
