"""The canvas scene: mirrors the document's scenario and turns gestures into intents.

It never edits the model. A drag from an exit becomes `document.connect(...)`; a finished move
becomes one `document.move_nodes(...)`; the document's signals then add, move or remove items,
for the original edit and for undo/redo alike.
"""

from __future__ import annotations

import math

import shiboken6
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSceneMouseEvent

from app.canvas.flow_items import EdgeFlowLabel, NodeFlowBadge, edge_width
from app.canvas.items import (
    GRID,
    Z_DRAG,
    AnnotationItem,
    EdgeItem,
    NodeItem,
    OverviewItem,
    StepItem,
    bezier,
    snap_to_grid,
)
from app.canvas.style import THEMES, Theme
from app.document import EditorDocument
from app.engine.flow import FlowFigures
from app.engine.gc_pause import cycle_collector_paused
from app.engine.geometry import node_size
from app.engine.model import Edge
from app.engine.validation import Problem, Severity


def edge_pens(theme: Theme) -> dict[bool, QPen]:
    """The pens of connections, plain and selected, made once per theme and shared."""
    pens = {}
    for selected in (False, True):
        pen = QPen(theme.selection if selected else theme.edge, 3 if selected else 1.8)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pens[selected] = pen
    return pens


class FunnelScene(QGraphicsScene):
    status_message = Signal(str)
    # The simulation numbers on the canvas no longer match the funnel (it was edited).
    flow_outdated = Signal()
    # (scene position, source node, exit): a connection dropped on empty canvas
    connection_dropped_in_space = Signal(QPointF, str, str)

    def __init__(self, document: EditorDocument, theme: str = "light"):
        super().__init__()
        self.document = document
        self.theme: Theme = THEMES[theme]
        self.edge_pens = edge_pens(self.theme)
        self.snap = True
        self.grid_visible = True
        self.grid_size = GRID
        self.node_items: dict[str, StepItem] = {}
        self.edge_items: dict[Edge, EdgeItem] = {}
        self._drag_line: QGraphicsPathItem | None = None
        self._drag_source: tuple[str, str] | None = None
        self._press_positions: dict[str, tuple[float, float]] = {}
        # Edges touching each step, so a move or a change reroutes only its own edges.
        self._edges_by_node: dict[str, set[Edge]] = {}
        self.overview_on = False
        self.flow: FlowFigures | None = None
        self.flow_stale = False
        self.flow_percent = False
        self._flow_items: list[EdgeFlowLabel | NodeFlowBadge] = []
        # While an export paints (app.exporters.diagram): None = the editor's grid; True = the
        # plain theme background; False = nothing (a transparent picture).
        self.export_background: bool | None = None
        # Fill without an index, then index once: inserting into the BSP tree item by item
        # costs more than building it in one go.
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        with cycle_collector_paused():
            for node_id in document.scenario.nodes:
                self._add_node_item(node_id)
            for edge in document.scenario.edges:
                self._add_edge_item(edge)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self._follow_model = QTimer(self)
        self._follow_model.setSingleShot(True)
        self._follow_model.setInterval(0)
        self._follow_model.timeout.connect(self._catch_up)
        self.overview = OverviewItem(self)
        self.overview.setVisible(False)
        self.addItem(self.overview)
        self._refresh_connected(document.scenario.nodes)
        self.set_problems(document.problems)
        document.node_added.connect(self._on_node_added)
        document.node_removed.connect(self._on_node_removed)
        document.node_changed.connect(self._on_node_changed)
        document.node_moved.connect(self._on_node_moved)
        document.edge_added.connect(self._on_edge_added)
        document.edge_removed.connect(self._on_edge_removed)
        document.problems_changed.connect(self.set_problems)
        for signal in (
            document.node_added,
            document.node_removed,
            document.node_changed,
            document.node_moved,
            document.edge_added,
            document.edge_removed,
        ):
            signal.connect(self._overview_outdated)
            signal.connect(self._flow_outdated)
        document.scenario_changed.connect(self._flow_outdated)
        self._selected_edges: set[Edge] = set()
        self.selectionChanged.connect(self._restyle_selected_edges)
        self.update_scene_rect()

    # --- mirroring -------------------------------------------------------------------------
    def _add_node_item(self, node_id: str) -> None:
        node = self.document.scenario.nodes[node_id]
        item = AnnotationItem(self, node_id) if node.is_annotation else NodeItem(self, node_id)
        item.setVisible(node.is_annotation or not self.overview_on)
        self.node_items[node_id] = item
        self.addItem(item)

    def _add_edge_item(self, edge: Edge) -> None:
        self._edges_by_node.setdefault(edge.source, set()).add(edge)
        self._edges_by_node.setdefault(edge.target, set()).add(edge)
        if edge.source not in self.node_items or edge.target not in self.node_items:
            return  # a broken edge from a damaged file: the Problems panel reports it
        item = EdgeItem(self, edge)
        item.setVisible(not self.overview_on)
        self.edge_items[edge] = item
        self.addItem(item)
        item.reroute()

    def _on_node_added(self, node_id: str) -> None:
        self._add_node_item(node_id)
        self._refresh_connected([node_id])
        self._follow_model.start()

    def _on_node_removed(self, node_id: str) -> None:
        item = self.node_items.pop(node_id, None)
        if item is not None:
            self.removeItem(item)

    def _on_node_changed(self, node_id: str) -> None:
        item = self.node_items.get(node_id)
        if item is None:
            return
        item.refresh()
        for child in item.childItems():
            if isinstance(child, NodeFlowBadge):
                child.place()
        self._refresh_connected([node_id])
        self._reroute_edges_of(node_id)

    def _on_node_moved(self, node_id: str) -> None:
        item = self.node_items.get(node_id)
        if item is None:
            return
        position = self.document.scenario.nodes[node_id].position
        if (item.pos().x(), item.pos().y()) != position:
            item.setPos(QPointF(*position))
        self._reroute_edges_of(node_id)
        self._follow_model.start()

    def _on_edge_added(self, edge: Edge) -> None:
        self._add_edge_item(edge)
        self._refresh_connected([edge.source])

    def _on_edge_removed(self, edge: Edge) -> None:
        for end in (edge.source, edge.target):
            self._edges_by_node.get(end, set()).discard(edge)
        item = self.edge_items.pop(edge, None)
        if item is not None:
            self.removeItem(item)
        self._refresh_connected([edge.source])

    def _refresh_connected(self, node_ids) -> None:
        for node_id in node_ids:
            item = self.node_items.get(node_id)
            if isinstance(item, NodeItem):
                edges = self._edges_by_node.get(node_id, ())
                item.connected = {e.exit for e in edges if e.source == node_id}
                item.update()

    def _reroute_edges_of(self, node_id: str) -> None:
        for edge in self._edges_by_node.get(node_id, ()):
            item = self.edge_items.get(edge)
            if item is not None:
                item.reroute()

    def _restyle_selected_edges(self) -> None:
        selected = set(self.selected_edges())
        for edge in selected ^ self._selected_edges:
            item = self.edge_items.get(edge)
            if item is not None:
                item.apply_theme(selected=edge in selected)
        self._selected_edges = selected

    def _overview_outdated(self, _changed: object) -> None:
        self.overview.stale = True
        self._follow_model.start()

    def _catch_up(self) -> None:
        """Once a burst of model events is over (an auto-layout moves every step): the scene
        rect and, when shown, the overview — once, not once per event."""
        self.update_scene_rect()
        if self.overview_on and self.overview.stale:
            self.overview.rebuild()
            self.overview.update()

    def set_overview(self, on: bool) -> None:
        """Far zoomed out, one overview item stands in for every card and edge."""
        if on == self.overview_on:
            return
        self.overview_on = on
        if on and self.overview.stale:
            self.overview.rebuild()
        for item in self.node_items.values():
            if isinstance(item, NodeItem):
                item.setVisible(not on)
        for item in self.edge_items.values():
            item.setVisible(not on)
        self.overview.setVisible(on)

    # --- simulation overlay ------------------------------------------------------------------
    def set_flow(self, figures: FlowFigures | None, stale: bool = False) -> None:
        """Show a run's numbers on the connections and under the steps (None hides them);
        stale ones (the funnel was edited since the run) are drawn faded."""
        for item in self._flow_items:
            # A badge went with its step if that was deleted since.
            if shiboken6.isValid(item) and item.scene() is self:
                self.removeItem(item)
        self._flow_items = []
        self.flow = figures
        self.flow_stale = stale
        if figures is not None:
            for edge, flow in figures.edges.items():
                edge_item = self.edge_items.get(edge)
                # A step with one exit passes its arrivals on: the next badge says how many.
                source = self.node_items.get(edge.source)
                if edge_item is not None and len(getattr(source, "exits", ())) > 1:
                    label = EdgeFlowLabel(self, edge_item, flow)
                    edge_item.flow_label = label
                    edge_item.reroute()
                    self._flow_items.append(label)
            for node_id, flow in figures.nodes.items():
                node_item = self.node_items.get(node_id)
                if isinstance(node_item, NodeItem):
                    self._flow_items.append(NodeFlowBadge(self, node_item, flow))
        for edge_item in self.edge_items.values():
            if figures is None:
                edge_item.flow_label = None
            edge_item.apply_theme(edge_item.isSelected())

    def set_flow_percent(self, on: bool) -> None:
        """Shares of arriving contacts instead of absolute numbers."""
        self.flow_percent = on
        for item in self._live_flow_items():
            item.refresh()

    def _live_flow_items(self) -> list[EdgeFlowLabel | NodeFlowBadge]:
        return [item for item in self._flow_items if shiboken6.isValid(item)]

    def flow_pen(self, edge: Edge, selected: bool) -> QPen | None:
        """The pen of a connection carrying simulated contacts, or None for the plain one."""
        if self.flow is None:
            return None
        flow = self.flow.edges.get(edge)
        if flow is None:
            return None
        colour = (
            self.theme.selection
            if selected
            else (self.theme.dangling if flow.leak else self.theme.flow)
        )
        colour = QColor(colour)
        colour.setAlphaF(0.35 if self.flow_stale else 0.8)
        pen = QPen(colour, edge_width(flow.count, self.flow.largest_edge))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        return pen

    def _flow_outdated(self, _changed: object) -> None:
        """An edit: the last run's numbers (shown or hidden) no longer describe the funnel."""
        if self.flow_stale:
            return
        self.flow_stale = True
        if self.flow is not None:
            for edge_item in self.edge_items.values():
                edge_item.apply_theme(edge_item.isSelected())
            for item in self._live_flow_items():
                item.update()
        self.flow_outdated.emit()

    def set_problems(self, problems: list[Problem]) -> None:
        worst: dict[str, str] = {}
        for problem in problems:
            if problem.node is None or problem.severity is Severity.INFO:
                continue
            if worst.get(problem.node) != "error":
                worst[problem.node] = str(problem.severity)
        for node_id, item in self.node_items.items():
            severity = worst.get(node_id)
            if item.severity != severity:
                item.severity = severity
                item.update()

    def set_grid(self, visible: bool, size: float, snap: bool) -> None:
        """Grid drawing and snapping, from the user's preferences."""
        self.grid_visible, self.grid_size, self.snap = visible, float(size), snap
        self.update()

    def set_theme(self, name: str) -> None:
        self.theme = THEMES[name]
        self.edge_pens = edge_pens(self.theme)
        for item in self.edge_items.values():
            item.apply_theme(item.isSelected())
        for item in self.node_items.values():
            item.refresh()
        self.update()

    def update_scene_rect(self) -> None:
        """Scene rect from the steps' positions and sizes (edges stay between them), with a
        margin to scroll into; cheaper than asking Qt for every item's bounds."""
        nodes = self.document.scenario.nodes.values()
        if not nodes:
            self.setSceneRect(QRectF(-800, -500, 1600, 1000))
            return
        sizes = [(n.position, node_size(n)) for n in nodes]
        left = min(x for (x, _), _ in sizes)
        top = min(y for (_, y), _ in sizes)
        right = max(x + w for (x, _), (w, _) in sizes)
        bottom = max(y + h for (_, y), (_, h) in sizes)
        margin = 600
        self.setSceneRect(
            QRectF(
                left - margin, top - margin, right - left + 2 * margin, bottom - top + 2 * margin
            )
        )

    # --- selection -------------------------------------------------------------------------
    def selected_node_ids(self) -> list[str]:
        return [item.node_id for item in self.selectedItems() if isinstance(item, StepItem)]

    def selected_edges(self) -> list[Edge]:
        return [item.edge for item in self.selectedItems() if isinstance(item, EdgeItem)]

    def select_nodes(self, node_ids) -> None:
        self.clearSelection()
        for node_id in node_ids:
            item = self.node_items.get(node_id)
            if item is not None:
                item.setSelected(True)

    def node_at(self, position: QPointF) -> NodeItem | None:
        for item in self.items(position):
            if isinstance(item, NodeItem):
                return item
        return None

    # --- connecting ------------------------------------------------------------------------
    def begin_connection(self, node_id: str, exit_name: str) -> None:
        self._drag_source = (node_id, exit_name)
        line = QGraphicsPathItem()
        pen = QPen(self.theme.selection, 2, Qt.PenStyle.DashLine)
        line.setPen(pen)
        line.setZValue(Z_DRAG)
        self.addItem(line)
        self._drag_line = line

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag_source is not None and self._drag_line is not None:
            source = self.node_items[self._drag_source[0]]
            start = source.exit_port_scene_pos(self._drag_source[1])
            self._drag_line.setPath(bezier(start, event.scenePos()))
            event.accept()
            return
        super().mouseMoveEvent(event)
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.follow_drag()

    def follow_drag(self) -> None:
        """While steps are dragged: snap them to the grid and bend their edges along.
        Done here rather than in each item's itemChange, which Qt would call (in Python) for
        every flag, z-value and tooltip change of every item."""
        for node_id in self._press_positions:
            item = self.node_items.get(node_id)
            if item is None:
                continue
            if self.snap:
                item.setPos(snap_to_grid(item.pos(), self.grid_size))
            self._reroute_edges_of(node_id)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        super().mousePressEvent(event)
        self.begin_move()

    def begin_move(self) -> None:
        """Remember where the selected steps were, so the drag becomes one undo step."""
        self._press_positions = {
            node_id: self.document.scenario.nodes[node_id].position
            for node_id in self.selected_node_ids()
        }

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag_source is not None:
            self.finish_connection(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self.commit_moves()

    def finish_connection(self, position: QPointF) -> None:
        source, exit_name = self._drag_source or ("", "")
        self._drag_source = None
        grabber = self.mouseGrabberItem()
        if grabber is not None:
            grabber.ungrabMouse()  # the card that started the drag must not keep the mouse
        if self._drag_line is not None:
            self.removeItem(self._drag_line)
            self._drag_line = None
        target = self.node_at(position)
        if target is None:
            self.connection_dropped_in_space.emit(position, source, exit_name)
            return
        error = self.document.connect(source, exit_name, target.node_id)
        if error:
            self.status_message.emit(self.tr("Cannot connect: {reason}").format(reason=error))

    def commit_moves(self) -> None:
        """A finished drag is one undo step with every moved step's old and new position."""
        moves = {}
        for node_id, old in self._press_positions.items():
            item = self.node_items.get(node_id)
            if item is None:
                continue
            new = (item.pos().x(), item.pos().y())
            if new != old:
                moves[node_id] = (old, new)
        self._press_positions = {}
        if moves:
            self.document.move_nodes(moves)

    # --- background ------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        if self.export_background is not None:
            if self.export_background:
                painter.fillRect(rect, self.theme.background)
            return
        painter.fillRect(rect, self.theme.background)
        scale = painter.worldTransform().m11()
        # the user's grid setting, and themes without a grid (presentation)
        if scale < 0.5 or not (self.grid_visible and self.theme.grid_visible):
            return
        painter.setPen(QPen(self.theme.grid, 0))
        # lines at least 20 screen pixels apart, however fine the grid
        step = self.grid_size * max(1, math.ceil(20 / (self.grid_size * scale) - 1e-9))
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        x = left
        lines = []
        while x < rect.right():
            lines.append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            lines.append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.drawLines(lines)
