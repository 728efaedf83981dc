"""Simulation numbers on the canvas: a count on every connection, a badge under every step.

They are children of the edge and card items, so they follow moves and vanish with their
item; the scene feeds them the figures of the last run and marks them stale after an edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QLocale, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from app.engine.flow import EdgeFlow, NodeFlow, NodeFlowKind

if TYPE_CHECKING:
    from app.canvas.scene import FunnelScene

_FONT = QFont("DejaVu Sans", 8, QFont.Weight.DemiBold)
_PAD_X, _HEIGHT = 6.0, 16.0
Z_FLOW = 3.0
STALE_OPACITY = 0.45
MAX_EXTRA_WIDTH = 12.0  # a connection carrying the largest flow is this much wider
# Zoomed out, numbers grow in the scene (like card titles do) up to this factor, so they stay
# legible when the whole funnel is in view; the bounding rect allows for the largest size.
MAX_SCALE = 2.5
LEGIBLE_LOD = 0.8
MINIMAP_PROPERTY = "voronka_minimap"  # set on the minimap's viewport: it shows no numbers


def format_count(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")  # a narrow space groups thousands legibly


def format_share(share: float) -> str:
    """`4.2 %` / `4,2 %`: the locale's decimal mark."""
    locale = QLocale()
    if share and share < 0.001:
        return f"<{locale.toString(0.1, 'f', 1)} %"
    return f"{locale.toString(share * 100, 'f', 1 if share < 0.1 else 0)} %"


def edge_width(count: int, largest: int) -> float:
    """Proportional to the flow, never thinner than a plain connection."""
    return 1.8 + MAX_EXTRA_WIDTH * (count / largest if largest else 0.0)


class _Pill(QGraphicsItem):
    """A rounded label; its subclasses say what text and colour it has."""

    def __init__(self, canvas: FunnelScene, parent: QGraphicsItem):
        super().__init__(parent)
        self.canvas = canvas
        self.setZValue(Z_FLOW)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.text = ""
        self.width = 0.0

    def set_text(self, text: str) -> None:
        self.prepareGeometryChange()
        self.text = text
        self.width = QFontMetricsF(_FONT).horizontalAdvance(text) + 2 * _PAD_X
        self.update()

    def colour(self) -> QColor:
        raise NotImplementedError

    def origin(self) -> QPointF:
        """Top-left of the pill in item coordinates."""
        return QPointF(0, 0)

    def boundingRect(self) -> QRectF:
        origin = self.origin() * MAX_SCALE
        return QRectF(origin.x(), origin.y(), self.width * MAX_SCALE, _HEIGHT * MAX_SCALE).adjusted(
            -2, -2, 2, 2
        )

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if not self.text or (widget is not None and widget.property(MINIMAP_PROPERTY)):
            return
        theme = self.canvas.theme
        colour = self.colour()
        if self.canvas.flow_stale:
            painter.setOpacity(STALE_OPACITY)
        lod = painter.worldTransform().m11() or 1.0
        scale = min(max(LEGIBLE_LOD / lod, 1.0), MAX_SCALE)
        painter.scale(scale, scale)
        rect = QRectF(self.origin(), QRectF(0, 0, self.width, _HEIGHT).size())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, 1.2))
        painter.setBrush(theme.badge)
        painter.drawRoundedRect(rect, _HEIGHT / 2, _HEIGHT / 2)
        painter.setFont(_FONT)
        painter.setPen(colour)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.text)


class EdgeFlowLabel(_Pill):
    """How many contacts took a connection, centred on its curve."""

    def __init__(self, canvas: FunnelScene, parent: QGraphicsItem, flow: EdgeFlow):
        super().__init__(canvas, parent)
        self.flow = flow
        self.refresh()

    def refresh(self) -> None:
        percent = self.canvas.flow_percent
        self.set_text(format_share(self.flow.share) if percent else format_count(self.flow.count))

    def colour(self) -> QColor:
        return self.canvas.theme.dangling if self.flow.leak else self.canvas.theme.flow

    def place(self, middle: QPointF) -> None:
        self.setPos(middle)

    def origin(self) -> QPointF:
        return QPointF(-self.width / 2, -_HEIGHT / 2)


class NodeFlowBadge(_Pill):
    """Under a step: how many arrived, converted, leaked or still wait there."""

    def __init__(self, canvas: FunnelScene, parent: QGraphicsItem, flow: NodeFlow):
        super().__init__(canvas, parent)
        self.flow = flow
        self.place()
        self.refresh()

    def place(self) -> None:
        """Just below the card (cards change height when their exits change)."""
        parent = self.parentItem()
        if parent is not None:
            self.setPos(QPointF(0, parent.boundingRect().bottom() - 2))

    def refresh(self) -> None:
        flow = self.flow
        percent = self.canvas.flow_percent
        amount = format_share(flow.share_of_start) if percent else format_count(flow.entered)
        if flow.kind is NodeFlowKind.CONVERSION:
            text = "★ " + QCoreApplication.translate("Flow", "{amount} converted").format(
                amount=amount
            )
        elif flow.kind is NodeFlowKind.LEAK and flow.waiting:
            waiting = (
                format_share(flow.waiting / max(flow.entered, 1))
                if percent
                else format_count(flow.waiting)
            )
            text = QCoreApplication.translate("Flow", "{amount} in · {waiting} waiting").format(
                amount=amount, waiting=waiting
            )
        elif flow.kind is NodeFlowKind.LEAK:
            text = "✕ " + QCoreApplication.translate("Flow", "{amount} lost here").format(
                amount=amount
            )
        else:
            text = QCoreApplication.translate("Flow", "{amount} in").format(amount=amount)
        self.set_text(text)

    def colour(self) -> QColor:
        theme = self.canvas.theme
        if self.flow.kind is NodeFlowKind.CONVERSION:
            return theme.conversion
        if self.flow.kind is NodeFlowKind.LEAK:
            return theme.warning if self.flow.waiting else theme.dangling
        return theme.flow
