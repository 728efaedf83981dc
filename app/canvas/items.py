"""Graphics items: step cards, connections, stage frames and notes.

Items hold ids, never model objects; they read what they draw from the scene's document when
told to refresh. Connections are plain QGraphicsPathItems (painted in C++), and cards skip text
and ports when zoomed far out, which keeps large funnels fluid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QLocale, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from app.canvas.style import CATEGORY_ICONS, TYPE_ICONS
from app.engine.catalog import Category, exit_label
from app.engine.geometry import (
    HEADER_HEIGHT,
    NODE_WIDTH,
    PORT_ROW_HEIGHT,
    SUMMARY_HEIGHT,
    card_height,
    input_port_offset,
    node_size,
)
from app.engine.model import Edge, Node
from app.engine.summary import summarize

if TYPE_CHECKING:
    from app.canvas.flow_items import EdgeFlowLabel
    from app.canvas.scene import FunnelScene

GRID = 20.0
PORT_RADIUS = 5.0
PORT_HIT = 9.0
LOD_DETAIL = 0.55  # below this zoom, cards show only a large title and their ports
LOD_BLOCK = 0.18  # below this zoom, cards are plain blocks
OVERVIEW_TITLE_MAX_PT = 19.0
Z_FRAME, Z_EDGE, Z_NODE, Z_DRAG = -10.0, 0.0, 1.0, 5.0

_TITLE_FONT = QFont("DejaVu Sans", 9, QFont.Weight.DemiBold)
_BODY_FONT = QFont("DejaVu Sans", 8)
_ICON_FONT = QFont("DejaVu Sans", 10)
_OVERVIEW_TEXT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap


def exit_labels(node: Node) -> dict[str, str]:
    """Port labels: a switch case's or split variant's own label (with its weight), so the
    canvas reads "VIP", "A · 50 %" rather than internal ids."""
    key = {"switch": "cases", "split": "variants"}.get(node.type)
    items = node.params.get(key) if key else None
    labels: dict[str, str] = {}
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        label = str(item.get("label") or item["id"])
        weight = item.get("weight")
        if node.type == "split" and isinstance(weight, int | float):
            label = f"{label} · {QLocale().toString(float(weight), 'g')} %"
        labels[item["id"]] = label
    return labels


def snap_to_grid(position: QPointF, step: float = GRID) -> QPointF:
    return QPointF(round(position.x() / step) * step, round(position.y() / step) * step)


_MOVABLE = (
    QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
)
_INPUT_PORT = QPointF(*input_port_offset())
_FIRST_PORT = QPointF(NODE_WIDTH, HEADER_HEIGHT + SUMMARY_HEIGHT + PORT_ROW_HEIGHT / 2)


class StepItem(QGraphicsItem):
    """What cards, notes and frames share: the step's id, selection and dragging."""

    def __init__(self, canvas: FunnelScene, node_id: str):
        super().__init__()
        self.canvas = canvas
        self.node_id = node_id
        self.severity: str | None = None
        self.setFlags(_MOVABLE)

    @property
    def node(self) -> Node:
        return self.canvas.document.scenario.nodes[self.node_id]


def _header_path(card: QRectF) -> QPainterPath:
    """The coloured band at the top of a card, rounded like the card: a shape rather than a
    clipped rectangle, because SVG export drops clipping (the corners would stick out)."""
    rounded = QPainterPath()
    rounded.addRoundedRect(card, 8, 8)
    band = QPainterPath()
    band.addRect(QRectF(card.left(), card.top(), card.width(), HEADER_HEIGHT))
    return rounded.intersected(band)


class NodeItem(StepItem):
    """A step card: header with icon and title, a summary line, one labelled port per exit."""

    def __init__(self, canvas: FunnelScene, node_id: str):
        super().__init__(canvas, node_id)
        self.connected: set[str] = set()
        self.setZValue(Z_NODE)
        self.setAcceptHoverEvents(True)
        self.refresh()

    def refresh(self) -> None:
        """Re-read title, summary, exits and size from the model."""
        node = self.node
        spec = node.spec
        self.prepareGeometryChange()
        self.exits = spec.exits_for(node.params) if spec else node.placeholder_exits
        self.width, self.height = NODE_WIDTH, card_height(len(self.exits))
        self.rect = QRectF(0, 0, self.width, self.height)
        self.header_path = _header_path(self.rect)
        self.title = node.title or (spec.label if spec else node.type)
        self._summary: str | None = None  # worked out on first close-up paint or hover
        self._overview_fit: tuple[float, QFont] | None = None
        self.exit_labels = exit_labels(node)
        self.port_offsets = {
            exit_name: QPointF(
                NODE_WIDTH, HEADER_HEIGHT + SUMMARY_HEIGHT + (index + 0.5) * PORT_ROW_HEIGHT
            )
            for index, exit_name in enumerate(self.exits)
        }
        self.category = spec.category if spec else Category.ACTION
        self.colour = self.canvas.theme.categories[self.category]
        self.has_input = spec.has_input if spec else True
        self.icon = TYPE_ICONS.get(node.type, CATEGORY_ICONS[self.category])
        self.placeholder = spec is None
        self.setPos(QPointF(*node.position))
        self.update()

    @property
    def summary(self) -> str:
        if self._summary is None:
            self._summary = summarize(self.node, self.canvas.document.scenario)
        return self._summary

    def hoverEnterEvent(self, event) -> None:
        self.setToolTip(f"{self.title}\n{self.summary}")
        super().hoverEnterEvent(event)

    # --- geometry --------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return QRectF(-PORT_HIT, -10, self.width + 2 * PORT_HIT, self.height + 14)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(-PORT_HIT, 0, self.width + 2 * PORT_HIT, self.height), 8, 8)
        return path

    def exit_port_scene_pos(self, exit_name: str) -> QPointF:
        return self.mapToScene(self.port_offsets.get(exit_name, _FIRST_PORT))

    def input_port_scene_pos(self) -> QPointF:
        return self.mapToScene(_INPUT_PORT)

    def exit_at(self, local: QPointF) -> str | None:
        """The exit whose port (or its label row) is under a point, for starting a connection."""
        for index, exit_name in enumerate(self.exits):
            y = HEADER_HEIGHT + SUMMARY_HEIGHT + (index + 0.5) * PORT_ROW_HEIGHT
            if abs(local.y() - y) <= PORT_ROW_HEIGHT / 2 and self.width - 14 <= local.x() <= (
                self.width + PORT_HIT
            ):
                return exit_name
        return None

    # --- painting --------------------------------------------------------------------------
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = painter.worldTransform().m11()  # the canvas never rotates or shears
        if lod < LOD_BLOCK:  # far out: a block, with as few Python calls as possible
            painter.fillRect(
                self.rect, self.canvas.theme.selection if self.isSelected() else self.colour
            )
            return
        theme = self.canvas.theme
        colour = self.colour
        rect = self.rect
        selected = self.isSelected()
        if lod < LOD_DETAIL:
            self._paint_overview(painter, theme, colour, lod, selected)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QPen(theme.selection if selected else theme.card_border, 2.2 if selected else 1)
        if self.placeholder:
            border = QPen(theme.error, 1.5, Qt.PenStyle.DashLine)
        painter.setPen(border)
        painter.setBrush(theme.card)
        painter.drawRoundedRect(rect, 8, 8)

        painter.fillPath(self.header_path, colour)
        painter.setPen(border)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 8, 8)

        painter.setPen(QColor("white"))
        painter.setFont(_ICON_FONT)
        painter.drawText(QRectF(8, 0, 20, HEADER_HEIGHT), Qt.AlignmentFlag.AlignVCenter, self.icon)
        painter.setFont(_TITLE_FONT)
        metrics = QFontMetrics(_TITLE_FONT)
        title = metrics.elidedText(self.title, Qt.TextElideMode.ElideRight, int(self.width - 44))
        painter.drawText(
            QRectF(30, 0, self.width - 44, HEADER_HEIGHT), Qt.AlignmentFlag.AlignVCenter, title
        )

        painter.setFont(_BODY_FONT)
        body_metrics = QFontMetrics(_BODY_FONT)
        painter.setPen(theme.muted_text)
        summary = body_metrics.elidedText(
            self.summary, Qt.TextElideMode.ElideRight, int(self.width - 20)
        )
        painter.drawText(
            QRectF(10, HEADER_HEIGHT, self.width - 20, SUMMARY_HEIGHT),
            Qt.AlignmentFlag.AlignVCenter,
            summary,
        )
        self._paint_ports(painter, theme)
        self._paint_badge(painter, theme)

    def _paint_overview(
        self, painter: QPainter, theme, colour: QColor, lod: float, selected: bool
    ) -> None:
        """Zoomed out: the card in its colour with a title big enough to read, and the ports
        as dots, dangling ones red — the holes stay visible at any zoom."""
        rect = QRectF(0, 0, self.width, self.height)
        painter.setPen(QPen(theme.selection, 3 / lod) if selected else Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(rect, 8, 8)
        painter.setFont(self._overview_font(lod))
        painter.setPen(QColor("white"))
        painter.save()
        painter.setClipRect(rect)
        painter.drawText(rect.adjusted(10, 6, -10, -6), _OVERVIEW_TEXT, self.title)
        painter.restore()
        radius = min(PORT_RADIUS / lod * 0.6, PORT_ROW_HEIGHT / 2)
        for index, exit_name in enumerate(self.exits):
            y = HEADER_HEIGHT + SUMMARY_HEIGHT + (index + 0.5) * PORT_ROW_HEIGHT
            painter.setBrush(theme.dangling if exit_name not in self.connected else theme.card)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(QPointF(self.width, y), radius, radius)

    def _overview_font(self, lod: float) -> QFont:
        """The zoomed-out title font, shrunk until the wrapped title fits the card (a long
        title would otherwise lose its last line); worked out once per zoom step."""
        wanted = round(min(_TITLE_FONT.pointSizeF() / lod, OVERVIEW_TITLE_MAX_PT) * 2) / 2
        if self._overview_fit is None or self._overview_fit[0] != wanted:
            font = QFont(_TITLE_FONT)
            box = QRectF(0, 0, self.width - 20, self.height - 12)
            size = wanted
            while True:
                font.setPointSizeF(size)
                needed = QFontMetricsF(font).boundingRect(box, _OVERVIEW_TEXT, self.title)
                if size <= _TITLE_FONT.pointSizeF() or (
                    needed.height() <= box.height() and needed.width() <= box.width()
                ):
                    break
                size = max(_TITLE_FONT.pointSizeF(), size * 0.88)
            self._overview_fit = (wanted, font)
        return self._overview_fit[1]

    def _paint_ports(self, painter: QPainter, theme) -> None:
        painter.setFont(_BODY_FONT)
        if self.has_input:
            painter.setPen(QPen(theme.card, 1.5))
            painter.setBrush(theme.port)
            painter.drawEllipse(QPointF(*input_port_offset()), PORT_RADIUS, PORT_RADIUS)
        for index, exit_name in enumerate(self.exits):
            y = HEADER_HEIGHT + SUMMARY_HEIGHT + (index + 0.5) * PORT_ROW_HEIGHT
            dangling = exit_name not in self.connected
            painter.setPen(theme.dangling if dangling else theme.text)
            painter.drawText(
                QRectF(10, y - PORT_ROW_HEIGHT / 2, self.width - 24, PORT_ROW_HEIGHT),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                self.exit_labels.get(exit_name) or exit_label(exit_name),
            )
            centre = QPointF(self.width, y)
            if dangling:  # the hole in the sieve: an open red port
                painter.setPen(QPen(theme.dangling, 2))
                painter.setBrush(theme.card)
            else:
                painter.setPen(QPen(theme.card, 1.5))
                painter.setBrush(theme.port)
            painter.drawEllipse(centre, PORT_RADIUS, PORT_RADIUS)

    def _paint_badge(self, painter: QPainter, theme) -> None:
        if self.severity is None:
            return
        colour = theme.error if self.severity == "error" else theme.warning
        centre = QPointF(self.width - 4, 0)
        painter.setPen(QPen(theme.card, 1.5))
        painter.setBrush(colour)
        painter.drawEllipse(centre, 8, 8)
        painter.setPen(QColor("white"))
        painter.setFont(_TITLE_FONT)
        painter.drawText(QRectF(centre.x() - 8, -8, 16, 16), Qt.AlignmentFlag.AlignCenter, "!")

    # --- interaction -----------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        exit_name = self.exit_at(event.pos())
        if exit_name is not None and event.button() == Qt.MouseButton.LeftButton:
            self.canvas.begin_connection(self.node_id, exit_name)
            event.accept()
            return
        super().mousePressEvent(event)


class AnnotationItem(StepItem):
    """A stage frame (`group`) behind the steps, or a sticky `note`."""

    def __init__(self, canvas: FunnelScene, node_id: str):
        super().__init__(canvas, node_id)
        self.refresh()

    def refresh(self) -> None:
        node = self.node
        self.prepareGeometryChange()
        self.is_frame = node.type == "group"
        self.width, self.height = node_size(node)
        self.text = str(node.params.get("text") or node.title or "")
        colour = QColor(str(node.params.get("color") or ""))
        self.colour = colour if colour.isValid() else QColor("#E8F0FE")
        self.setZValue(Z_FRAME if self.is_frame else Z_NODE)
        self.setPos(QPointF(*node.position))
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, self.width + 4, self.height + 4)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        theme = self.canvas.theme
        rect = QRectF(0, 0, self.width, self.height)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(self.colour)
        if self.is_frame:
            fill.setAlpha(70 if theme.name == "light" else 45)
        pen = QPen(theme.selection if self.isSelected() else fill.darker(130), 1.5)
        if self.is_frame:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 10, 10)
        if option.levelOfDetailFromTransform(painter.worldTransform()) < LOD_DETAIL * 0.5:
            return
        if self.is_frame:
            painter.setPen(theme.text)
            lod = option.levelOfDetailFromTransform(painter.worldTransform())
            font = QFont("DejaVu Sans", int(min(max(13, 10 / lod), 40)), QFont.Weight.Bold)
            painter.setFont(font)
            inner = rect.adjusted(14, 8, -14, -8)
            title = QFontMetrics(font).elidedText(
                self.text, Qt.TextElideMode.ElideRight, int(inner.width())
            )
            painter.drawText(inner, Qt.AlignmentFlag.AlignTop, title)
        else:
            painter.setPen(QColor("#3A3A3A"))
            painter.setFont(_BODY_FONT)
            inner = rect.adjusted(10, 8, -10, -8)
            painter.drawText(inner, Qt.AlignmentFlag.AlignTop, fitted_text(self.text, inner))


def fitted_text(text: str, rect: QRectF, font: QFont = _BODY_FONT) -> str:
    """`text` word-wrapped to the width of `rect`, as many lines as its height holds, the last
    one elided. Painting relies on no clipping: the SVG export drops it, and a long note
    (Russian is longer) would run out of its card there."""
    metrics = QFontMetricsF(font)
    room = max(1, int(rect.height() // metrics.lineSpacing()))
    text = text.replace("\n", "\u2028")  # QTextLayout's line break (as drawText does)
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    lines = []
    while (line := layout.createLine()).isValid():
        line.setLineWidth(rect.width())
        lines.append((line.textStart(), line.textLength()))
    layout.endLayout()
    units = text.encode("utf-16-le")  # Qt counts positions in UTF-16 code units

    def piece(start: int, length: int | None = None) -> str:
        end = None if length is None else 2 * (start + length)
        return units[2 * start : end].decode("utf-16-le")

    shown = [piece(start, length).rstrip() for start, length in lines[:room]]
    if len(lines) > room:
        rest = piece(lines[room - 1][0]).replace("\u2028", " ")
        shown[-1] = metrics.elidedText(rest, Qt.TextElideMode.ElideRight, rect.width())
    return "\n".join(shown)


class EdgeItem(QGraphicsPathItem):
    """A connection from an exit port to a step's input, as a horizontal bezier."""

    def __init__(self, canvas: FunnelScene, edge: Edge):
        super().__init__()
        self.canvas = canvas
        self.edge = edge
        self.setZValue(Z_EDGE)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.flow_label: EdgeFlowLabel | None = None  # simulation numbers, when shown
        self.apply_theme()

    def apply_theme(self, selected: bool = False) -> None:
        pen = self.canvas.flow_pen(self.edge, selected)
        self.setPen(pen if pen is not None else self.canvas.edge_pens[selected])

    def reroute(self) -> None:
        source = self.canvas.node_items.get(self.edge.source)
        target = self.canvas.node_items.get(self.edge.target)
        if source is None or target is None:
            return
        start = source.exit_port_scene_pos(self.edge.exit)
        end = target.input_port_scene_pos()
        self.setPath(bezier(start, end))
        if self.flow_label is not None:
            self.flow_label.place(self.path().pointAtPercent(0.5))


def bezier(start: QPointF, end: QPointF) -> QPainterPath:
    """A left-to-right curve; backward links bow out so they stay readable."""
    dx = max(60.0, abs(end.x() - start.x()) * 0.5)
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path


class OverviewItem(QGraphicsItem):
    """The whole funnel far zoomed out, drawn in one go: a block per step and a line per edge.

    Below the block zoom each card would be a few pixels, yet Qt would still call each card's
    Python `paint` and draw each edge path; one item drawing everything with a handful of C++
    calls keeps a 10,000-step overview fast. The scene shows it instead of the cards and edges.
    """

    def __init__(self, canvas: FunnelScene):
        super().__init__()
        self.canvas = canvas
        self.setZValue(Z_EDGE)
        self._bounds = QRectF()
        self._blocks: list[tuple[QColor, list[QRectF]]] = []
        self._lines: list = []
        self.stale = True

    def rebuild(self) -> None:
        """Re-read positions from the card items (after edits, only when next shown)."""
        self.prepareGeometryChange()
        blocks: dict[str, tuple[QColor, list[QRectF]]] = {}
        for item in self.canvas.node_items.values():
            if isinstance(item, NodeItem):
                rect = item.rect.translated(item.pos())
                blocks.setdefault(item.colour.name(), (item.colour, []))[1].append(rect)
        self._blocks = list(blocks.values())
        self._lines = [
            QLineF(edge.path().pointAtPercent(0), edge.path().pointAtPercent(1))
            for edge in self.canvas.edge_items.values()
        ]
        self._bounds = self.canvas.itemsBoundingRect()
        self.stale = False

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setPen(QPen(self.canvas.theme.edge, 0))
        painter.drawLines(self._lines)
        painter.setPen(Qt.PenStyle.NoPen)
        for colour, rects in self._blocks:
            painter.setBrush(colour)
            painter.drawRects(rects)
