"""Undo commands: every edit of the scenario, addressed by id, reversible byte for byte.

Commands change only the engine model; the model's events reach the canvas through the
document, so undo and redo repaint by the same path as the original edit. Removed nodes are kept
as deep copies with their edges, never as references to live objects.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QUndoCommand, QUndoStack

from app.engine.catalog import exit_label, param_label
from app.engine.i18n import T
from app.engine.model import Edge, Node, Scenario

SET_PARAM_ID = 1001
SET_TITLE_ID = 1002
SET_FIELD_ID = 1003


def _title(scenario: Scenario, node_id: str) -> str:
    node = scenario.nodes.get(node_id)
    return str(T("Quote", "‘{text}’", text=node.display_title if node else node_id))


class AddNodes(QUndoCommand):
    """Add nodes (and edges among them): new steps, pastes and duplicates."""

    def __init__(self, scenario: Scenario, nodes: list[Node], edges: list[Edge], text: str):
        super().__init__(text)
        self.scenario = scenario
        self.nodes = [copy.deepcopy(n) for n in nodes]
        self.edges = list(edges)

    def redo(self) -> None:
        for node in self.nodes:
            self.scenario.add_node(copy.deepcopy(node))
        for edge in self.edges:
            self.scenario.add_edge(edge)

    def undo(self) -> None:
        for edge in self.edges:
            self.scenario.remove_edge(edge)
        for node in reversed(self.nodes):
            self.scenario.remove_node(node.id)


class RemoveItems(QUndoCommand):
    """Delete nodes with all their edges, plus loose edges; undo restores the full snapshot."""

    def __init__(self, scenario: Scenario, node_ids: list[str], edges: list[Edge], text: str):
        super().__init__(text)
        self.scenario = scenario
        self.nodes = [copy.deepcopy(scenario.nodes[n]) for n in node_ids]
        touching = {e for n in node_ids for e in scenario.edges_of(n)}
        self.edges = sorted(touching | set(edges))

    def redo(self) -> None:
        for edge in self.edges:
            if edge in self.scenario.edges:
                self.scenario.remove_edge(edge)
        for node in self.nodes:
            self.scenario.remove_node(node.id)

    def undo(self) -> None:
        for node in self.nodes:
            self.scenario.add_node(copy.deepcopy(node))
        for edge in self.edges:
            self.scenario.add_edge(edge)


class Connect(QUndoCommand):
    def __init__(self, scenario: Scenario, edge: Edge):
        target = _title(scenario, edge.target)
        source = _title(scenario, edge.source)
        words = QCoreApplication.translate("Undo", "Connect {source} {exit} → {target}")
        super().__init__(words.format(source=source, exit=exit_label(edge.exit), target=target))
        self.scenario = scenario
        self.edge = edge

    def redo(self) -> None:
        self.scenario.add_edge(self.edge)

    def undo(self) -> None:
        self.scenario.remove_edge(self.edge)


class MoveNodes(QUndoCommand):
    """One step per drag: positions before and after, applied together."""

    def __init__(
        self,
        scenario: Scenario,
        moves: dict[str, tuple[tuple[float, float], tuple[float, float]]],
        text: str | None = None,
    ):
        count = len(moves)
        if count == 1:
            words = QCoreApplication.translate("Undo", "Move {step}")
            default = words.format(step=_title(scenario, next(iter(moves))))
        else:
            default = str(T("Undo", "Move %n step(s)", count))
        super().__init__(text or default)
        self.scenario = scenario
        self.moves = moves

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            self.scenario.move_node(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _) in self.moves.items():
            self.scenario.move_node(node_id, old)


class SetParam(QUndoCommand):
    """Change one parameter; typing in one field merges into one step. When the change removes
    exits (a deleted switch case), the edges from them are removed and restored with it."""

    def __init__(self, scenario: Scenario, node_id: str, name: str, value: Any):
        spec = scenario.node(node_id).spec
        param = spec.param(name) if spec else None
        words = QCoreApplication.translate("Undo", "Change {field} of {step}")
        field = param_label(param) if param else name
        super().__init__(words.format(field=field, step=_title(scenario, node_id)))
        self.scenario = scenario
        self.node_id = node_id
        self.name = name
        self.old = copy.deepcopy(scenario.node(node_id).params.get(name))
        self.new = copy.deepcopy(value)
        self.dropped: list[Edge] = []

    def id(self) -> int:
        return SET_PARAM_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParam) or (other.node_id, other.name) != (
            self.node_id,
            self.name,
        ):
            return False
        if other.dropped:
            return False  # an exit vanished: keep that a step of its own
        self.new = copy.deepcopy(other.new)
        return True

    def redo(self) -> None:
        self.scenario.set_param(self.node_id, self.name, self.new)
        node = self.scenario.node(self.node_id)
        self.dropped = [
            e for e in self.scenario.edges_from(self.node_id) if e.exit not in node.exits
        ]
        for edge in self.dropped:
            self.scenario.remove_edge(edge)

    def undo(self) -> None:
        self.scenario.set_param(self.node_id, self.name, self.old)
        for edge in self.dropped:
            self.scenario.add_edge(edge)


class SetTitle(QUndoCommand):
    def __init__(self, scenario: Scenario, node_id: str, title: str):
        words = QCoreApplication.translate("Undo", "Rename {step}")
        super().__init__(words.format(step=_title(scenario, node_id)))
        self.scenario = scenario
        self.node_id = node_id
        self.old = scenario.node(node_id).title
        self.new = title

    def id(self) -> int:
        return SET_TITLE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if isinstance(other, SetTitle) and other.node_id == self.node_id:
            self.new = other.new
            return True
        return False

    def redo(self) -> None:
        self.scenario.set_title(self.node_id, self.new)

    def undo(self) -> None:
        self.scenario.set_title(self.node_id, self.old)


def scenario_field(scenario: Scenario, field: str) -> Any:
    """A field by name; `extra.KEY` names a kept top-level section (None when absent)."""
    if field.startswith("extra."):
        return scenario.extra.get(field.removeprefix("extra."))
    return getattr(scenario, field)


class SetScenarioField(QUndoCommand):
    """Name, description, settings, products or an extra section: whole-value replacement,
    deep-copied."""

    def __init__(
        self, scenario: Scenario, field: str, value: Any, text: str, merge_key: str | None = None
    ):
        super().__init__(text)
        self.scenario = scenario
        self.field = field
        self.old = copy.deepcopy(scenario_field(scenario, field))
        self.new = copy.deepcopy(value)
        # Consecutive edits with the same key (one spin box being stepped) are one undo step.
        self.merge_key = merge_key

    def id(self) -> int:
        return SET_FIELD_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetScenarioField):
            return False
        if (other.field, other.merge_key) != (self.field, self.merge_key):
            return False
        self.new = copy.deepcopy(other.new)
        return True

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)

    def _apply(self, value: Any) -> None:
        value = copy.deepcopy(value)
        if self.field == "settings":
            self.scenario.set_settings(value)
        elif self.field == "products":
            self.scenario.set_products(value)
        elif self.field.startswith("extra."):
            self.scenario.set_extra(self.field.removeprefix("extra."), value)
        else:
            self.scenario.set_info(self.field, value)


@contextmanager
def undo_macro(stack: QUndoStack, text: str) -> Iterator[None]:
    """Group pushes into one undo step; the macro always closes, even on an error."""
    stack.beginMacro(text)
    try:
        yield
    finally:
        stack.endMacro()
