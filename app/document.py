"""The editor document: the one place edits happen.

It owns the scenario, its undo stack, the file path and the clean state; it turns the model's
events into Qt signals for the canvas and docks, validates after edits (debounced) and writes a
recovery copy a few seconds after each change, so a crash loses at most those seconds.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from app.commands import (
    AddNodes,
    Connect,
    MoveNodes,
    RemoveItems,
    SetParam,
    SetScenarioField,
    SetTitle,
    scenario_field,
    undo_macro,
)
from app.engine.behaviour import AssumptionError, Assumptions
from app.engine.i18n import english_plural
from app.engine.layout import Layout
from app.engine.model import Edge, Node, Scenario, create_node
from app.engine.serialization import (
    dumps_scenario,
    load_scenario,
    loads_scenario,
    save_scenario,
    scenario_from_dict,
)
from app.engine.validation import Problem, validate
from app.settings_paths import recovery_dir

CLIPBOARD_FORMAT = "voronka.clipboard"
SIMULATION_KEY = "simulation"
VALIDATION_DELAY_MS = 150
AUTOSAVE_DELAY_MS = 3000


class EditorDocument(QObject):
    node_added = Signal(str)
    node_removed = Signal(str)
    node_changed = Signal(str)
    node_moved = Signal(str)
    edge_added = Signal(object)
    edge_removed = Signal(object)
    scenario_changed = Signal(str)
    problems_changed = Signal(list)
    title_changed = Signal(str)

    def __init__(self, scenario: Scenario | None = None, path: str | os.PathLike | None = None):
        super().__init__()
        self.scenario = scenario or Scenario()
        self.path: Path | None = Path(path) if path else None
        self.problems: list[Problem] = []
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._recovery_path = recovery_dir() / f"{uuid.uuid4().hex}.json"
        self._validation_timer = _single_shot(self, VALIDATION_DELAY_MS, self.revalidate)
        self._autosave_timer = _single_shot(self, AUTOSAVE_DELAY_MS, self.write_recovery)
        self.scenario.subscribe(self._on_model_event)
        self.revalidate()

    # --- files -----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike) -> EditorDocument:
        """Raises ScenarioFileError with the place of the problem when the file is bad."""
        return cls(load_scenario(path).scenario, path)

    def save(self, path: str | os.PathLike | None = None) -> None:
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("the document has no file yet: choose where to save it")
        save_scenario(self.scenario, target)
        self.path = target
        self.undo_stack.setClean()
        self.discard_recovery()
        self.title_changed.emit(self.title)

    def _on_clean_changed(self, _clean: bool) -> None:
        self.title_changed.emit(self.title)

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def title(self) -> str:
        name = self.path.name if self.path else (self.scenario.name or self.tr("Untitled"))
        return f"{name}{'*' if self.modified else ''}"

    # --- recovery --------------------------------------------------------------------------
    def set_autosave_delay(self, seconds: float) -> None:
        """How long after the last change the recovery copy is written (a preference)."""
        self._autosave_timer.setInterval(max(1, round(seconds * 1000)))

    def write_recovery(self) -> None:
        """A copy of the unsaved document with the path it belongs to, for crash recovery."""
        if not self.modified:
            self.discard_recovery()
            return
        record = {
            "path": str(self.path) if self.path else None,
            "scenario": json.loads(dumps_scenario(self.scenario)),
        }
        self._recovery_path.parent.mkdir(parents=True, exist_ok=True)
        temp = self._recovery_path.with_suffix(".tmp")
        temp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        temp.replace(self._recovery_path)

    def discard_recovery(self) -> None:
        self._recovery_path.unlink(missing_ok=True)

    @classmethod
    def recover(cls, recovery_file: Path) -> EditorDocument:
        """Reopen a recovery copy as a modified document bound to its original path."""
        record = json.loads(recovery_file.read_text(encoding="utf-8"))
        document = cls(scenario_from_dict(record["scenario"]).scenario, record.get("path"))
        document._recovery_path = recovery_file
        document.undo_stack.resetClean()  # unsaved: the title shows *, closing asks
        document.title_changed.emit(document.title)
        return document

    # --- validation ------------------------------------------------------------------------
    def revalidate(self) -> None:
        self.problems = validate(self.scenario)
        self.problems_changed.emit(self.problems)

    def _on_model_event(self, kind: str, payload: Any) -> None:
        signal = getattr(self, kind)
        signal.emit(payload)
        self._validation_timer.start()
        self._autosave_timer.start()

    # --- intents ---------------------------------------------------------------------------
    def add_node(self, type_name: str, position: tuple[float, float]) -> str:
        node = create_node(self.scenario, type_name, position)
        self.undo_stack.push(AddNodes(self.scenario, [node], [], self._add_text(node.title)))
        return node.id

    def add_connected_node(
        self, type_name: str, position: tuple[float, float], source: str, exit_name: str
    ) -> str:
        """New step placed and connected from an exit in one undo step (drop in empty space)."""
        node = create_node(self.scenario, type_name, position)
        error = self._connection_error_for_new(source, exit_name, node)
        edges = [] if error else [Edge(source, exit_name, node.id)]
        self.undo_stack.push(AddNodes(self.scenario, [node], edges, self._add_text(node.title)))
        return node.id

    def _connection_error_for_new(self, source: str, exit_name: str, node: Node) -> str | None:
        if not node.has_input:
            return self.tr("‘{step}’ has no input").format(step=node.display_title)
        if self.scenario.edges_from(source, exit_name):
            return self.tr("that exit is already connected")
        return None

    def connection_error(self, source: str, exit_name: str, target: str) -> str | None:
        return self.scenario.connection_error(source, exit_name, target)

    def connect(self, source: str, exit_name: str, target: str) -> str | None:
        """Connect, or return why not (shown in the status bar); nothing changes on refusal."""
        error = self.scenario.connection_error(source, exit_name, target)
        if error is None:
            self.undo_stack.push(Connect(self.scenario, Edge(source, exit_name, target)))
        return error

    def remove(self, node_ids: list[str], edges: list[Edge] = ()) -> None:
        node_ids = [n for n in node_ids if n in self.scenario.nodes]
        edges = [e for e in edges if e in self.scenario.edges]
        if not node_ids and not edges:
            return
        if len(node_ids) == 1 and not edges:
            title = self.scenario.nodes[node_ids[0]].display_title
            text = self.tr("Delete ‘{step}’").format(step=title)
        else:
            count = len(node_ids)
            text = (
                english_plural(self.tr("Delete %n step(s)", "", count), count)
                if node_ids
                else self.tr("Delete connection")
            )
        self.undo_stack.push(RemoveItems(self.scenario, node_ids, list(edges), text))

    def move_nodes(self, moves: dict[str, tuple[tuple[float, float], tuple[float, float]]]) -> None:
        moves = {k: v for k, v in moves.items() if v[0] != v[1] and k in self.scenario.nodes}
        if moves:
            self.undo_stack.push(MoveNodes(self.scenario, moves))

    def apply_layout(self, layout: Layout) -> None:
        """Auto-layout as one undo step: new positions, and frames re-fitted to their steps."""
        moves = {k: (self.scenario.nodes[k].position, v) for k, v in layout.positions.items()}
        moves = {k: v for k, v in moves.items() if v[0] != v[1]}
        with self.macro(self.tr("Auto-layout")):
            if moves:
                self.undo_stack.push(MoveNodes(self.scenario, moves, self.tr("Auto-layout")))
            for frame_id, (width, height) in layout.frame_sizes.items():
                self.set_param(frame_id, "width", round(width))
                self.set_param(frame_id, "height", round(height))

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        if self.scenario.node(node_id).params.get(name) != value:
            self.undo_stack.push(SetParam(self.scenario, node_id, name, value))

    def set_title(self, node_id: str, title: str) -> None:
        if self.scenario.node(node_id).title != title:
            self.undo_stack.push(SetTitle(self.scenario, node_id, title))

    def set_scenario_field(
        self, field: str, value: Any, text: str, merge_key: str | None = None
    ) -> None:
        if scenario_field(self.scenario, field) != value:
            self.undo_stack.push(SetScenarioField(self.scenario, field, value, text, merge_key))

    # --- simulation assumptions (kept in the file, under "simulation") ----------------------
    def simulation_assumptions(self) -> Assumptions:
        """The behaviour overrides saved with this funnel; unusable ones are ignored (the
        panel reports them when a run starts)."""
        section = self.scenario.extra.get(SIMULATION_KEY)
        raw = section.get("assumptions") if isinstance(section, dict) else None
        try:
            return Assumptions.from_dict(raw if isinstance(raw, dict) else None)
        except (AssumptionError, TypeError):
            return Assumptions()

    def set_simulation_assumptions(
        self, assumptions: Assumptions, text: str, merge_key: str | None = None
    ) -> None:
        data = {k: v for k, v in assumptions.to_dict().items() if v and k != "event_entry"}
        if assumptions.event_entry != Assumptions().event_entry:
            data["event_entry"] = assumptions.event_entry
        section = dict(self.scenario.extra.get(SIMULATION_KEY) or {})
        if data:
            section["assumptions"] = data
        else:
            section.pop("assumptions", None)
        self.set_scenario_field(f"extra.{SIMULATION_KEY}", section or None, text, merge_key)

    # --- clipboard -------------------------------------------------------------------------
    def copy_text(self, node_ids: list[str]) -> str:
        """The selection as JSON (nodes and the edges among them), for any Voronka window."""
        chosen = set(node_ids)
        edges = [e for e in self.scenario.edges if e.source in chosen and e.target in chosen]
        document = Scenario(
            nodes={n: self.scenario.nodes[n] for n in node_ids if n in self.scenario.nodes},
            edges=edges,
        )
        payload = json.loads(dumps_scenario(document))
        return json.dumps(
            {"format": CLIPBOARD_FORMAT, "nodes": payload["nodes"], "edges": payload["edges"]},
            ensure_ascii=False,
        )

    def paste_text(self, text: str, offset: tuple[float, float] = (40, 40)) -> list[str]:
        """Paste copied steps with fresh ids, shifted by `offset`; returns the new ids."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return []
        if not isinstance(data, dict) or data.get("format") != CLIPBOARD_FORMAT:
            return []
        parsed = loads_scenario(
            json.dumps(
                {
                    "format": "voronka.scenario",
                    "version": 1,
                    "nodes": data["nodes"],
                    "edges": data["edges"],
                }
            )
        ).scenario
        taken = Scenario(nodes=dict(self.scenario.nodes))
        renamed: dict[str, str] = {}
        nodes: list[Node] = []
        for node in parsed.nodes.values():
            new_id = taken.new_node_id(node.id)
            taken.nodes[new_id] = node
            renamed[node.id] = new_id
            node.id = new_id
            node.position = (node.position[0] + offset[0], node.position[1] + offset[1])
            nodes.append(node)
        edges = [Edge(renamed[e.source], e.exit, renamed[e.target]) for e in parsed.edges]
        if nodes:
            text = english_plural(self.tr("Paste %n step(s)", "", len(nodes)), len(nodes))
            self.undo_stack.push(AddNodes(self.scenario, nodes, edges, text))
        return [n.id for n in nodes]

    def _add_text(self, title: str) -> str:
        return self.tr("Add ‘{step}’").format(step=title)

    def macro(self, text: str):
        return undo_macro(self.undo_stack, text)


def _single_shot(parent: QObject, delay_ms: int, slot) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(delay_ms)
    timer.timeout.connect(slot)
    return timer
