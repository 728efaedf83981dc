"""The minimap: the whole funnel small, the visible part framed; click to go there."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QGraphicsView

from app.canvas.flow_items import MINIMAP_PROPERTY
from app.canvas.view import FunnelView


class Minimap(QGraphicsView):
    def __init__(self, main_view: FunnelView):
        super().__init__(main_view.scene())
        self.main_view = main_view
        self.setInteractive(False)
        self.viewport().setProperty(MINIMAP_PROPERTY, True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setRenderHints(QPainter.RenderHint.Antialiasing)
        self.setMinimumSize(200, 130)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.NoViewportUpdate)
        main_view.horizontalScrollBar().valueChanged.connect(self.viewport().update)
        main_view.verticalScrollBar().valueChanged.connect(self.viewport().update)
        # Bound methods, not lambdas: Qt drops them with this minimap, while the scene may
        # outlive it for a moment when a window closes.
        main_view.zoom_changed.connect(self._main_view_zoomed)
        # Scene changes arrive with every drag step; the overview follows a moment later, so
        # a large funnel is not redrawn twice per mouse move.
        self._refit_timer = QTimer(self)
        self._refit_timer.setSingleShot(True)
        self._refit_timer.setInterval(300)
        self._refit_timer.timeout.connect(self.refit)
        main_view.scene().changed.connect(self._scene_changed)

    def _main_view_zoomed(self, _zoom: float) -> None:
        self.viewport().update()

    def _scene_changed(self, _regions: object) -> None:
        self._refit_timer.start()

    def refit(self) -> None:
        rect = self.scene().itemsBoundingRect()
        if not rect.isEmpty():
            self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        self.viewport().update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.refit()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        visible = self.main_view.mapToScene(self.main_view.viewport().rect()).boundingRect()
        colour = QColor(self.main_view.funnel_scene.theme.selection)
        painter.setPen(QPen(colour, 0))
        colour.setAlpha(40)
        painter.setBrush(colour)
        painter.drawRect(visible)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.main_view.centerOn(self.mapToScene(event.position().toPoint()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.main_view.centerOn(self.mapToScene(event.position().toPoint()))
