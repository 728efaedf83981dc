"""The scenario: nodes, edges, settings and products, with a mutation API addressed by id.

This is the single source of truth. The editor never edits it directly: its undo commands call
the mutation methods below, which raise typed errors on impossible edits and notify observers,
so the canvas can mirror every change (redo and undo alike) through the same events.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.engine.catalog import NodeType, exit_label, localized_defaults, node_type, type_label
from app.engine.i18n import T


class ModelError(ValueError):
    """An edit the scenario refuses; the message says why in the user's terms."""


class UnknownNodeError(ModelError):
    pass


class DuplicateIdError(ModelError):
    pass


class EdgeError(ModelError):
    """An edge that cannot be drawn (no such exit, exit already used, into an entry…)."""


@dataclass
class Node:
    id: str
    type: str
    title: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    # For a type this version does not know: the exits its edges named when loaded,
    # so the file keeps its edges and validation can point at the placeholder.
    placeholder_exits: tuple[str, ...] = ()

    @property
    def spec(self) -> NodeType | None:
        return node_type(self.type)

    @property
    def is_placeholder(self) -> bool:
        return self.spec is None

    @property
    def exits(self) -> tuple[str, ...]:
        spec = self.spec
        return spec.exits_for(self.params) if spec else self.placeholder_exits

    @property
    def is_entry(self) -> bool:
        spec = self.spec
        return bool(spec and spec.is_entry)

    @property
    def is_annotation(self) -> bool:
        spec = self.spec
        return bool(spec and spec.is_annotation)

    @property
    def has_input(self) -> bool:
        spec = self.spec
        return spec.has_input if spec else True

    @property
    def display_title(self) -> str:
        if self.title:
            return self.title
        spec = self.spec
        return type_label(spec) if spec else self.type


@dataclass(frozen=True, order=True)
class Edge:
    """From one named exit of a node to another node's input."""

    source: str
    exit: str
    target: str


@dataclass
class QuietHours:
    start: str = "22:00"
    end: str = "09:00"


@dataclass
class FrequencyCap:
    messages: int = 3
    per: str = "P1D"


@dataclass
class Settings:
    timezone: str = "Europe/Moscow"
    currency: str = "RUB"
    quiet_hours: QuietHours | None = field(default_factory=QuietHours)
    frequency_cap: FrequencyCap | None = field(default_factory=FrequencyCap)
    exit_on_unsubscribe: bool = True
    max_discount: float = 50.0


@dataclass
class Product:
    id: str
    name: str
    role: str = "main"
    price: float = 0.0


# Observer events are (kind, payload): node_added/node_removed/node_changed/node_moved with a
# node id, edge_added/edge_removed with the Edge, scenario_changed with the field's name.
Listener = Callable[[str, Any], None]


@dataclass
class Scenario:
    id: str = "untitled"
    name: str = "Untitled funnel"
    description: str = ""
    settings: Settings = field(default_factory=Settings)
    products: list[Product] = field(default_factory=list)
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    # Top-level keys written by a newer or other tool, kept so saving loses nothing.
    extra: dict[str, Any] = field(default_factory=dict)
    _listeners: list[Listener] = field(default_factory=list, repr=False, compare=False)

    # --- observers -------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def _emit(self, kind: str, payload: Any) -> None:
        for listener in list(self._listeners):
            listener(kind, payload)

    # --- queries ---------------------------------------------------------------------------
    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise UnknownNodeError(f"there is no step with id ‘{node_id}’") from None

    def flow_nodes(self) -> Iterator[Node]:
        """Nodes that take part in the flow (annotations excluded)."""
        return (n for n in self.nodes.values() if not n.is_annotation)

    def edges_from(self, node_id: str, exit_name: str | None = None) -> list[Edge]:
        return [
            e
            for e in self.edges
            if e.source == node_id and (exit_name is None or e.exit == exit_name)
        ]

    def edges_to(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.target == node_id]

    def edges_of(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if node_id in (e.source, e.target)]

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)

    def new_node_id(self, base: str) -> str:
        """A readable unused id: `message`, `message_2`, … ."""
        stem = "".join(c if c.isalnum() or c == "_" else "_" for c in base).strip("_") or "node"
        if stem not in self.nodes:
            return stem
        index = 2
        while f"{stem}_{index}" in self.nodes:
            index += 1
        return f"{stem}_{index}"

    # --- mutations -------------------------------------------------------------------------
    def add_node(self, node: Node) -> Node:
        if node.id in self.nodes:
            raise DuplicateIdError(f"a step with id ‘{node.id}’ already exists")
        if not node.id:
            raise ModelError("a step needs an id")
        self.nodes[node.id] = node
        self._emit("node_added", node.id)
        return node

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its edges; return both so undo can restore them exactly."""
        node = self.node(node_id)
        removed = self.edges_of(node_id)
        for edge in removed:
            self.remove_edge(edge)
        del self.nodes[node_id]
        self._emit("node_removed", node_id)
        return node, removed

    def connection_error(self, source: str, exit_name: str, target: str) -> str | None:
        """Why a user may not draw this edge, or None: the editor asks before it acts."""
        src, dst = self.nodes.get(source), self.nodes.get(target)
        if src is None or dst is None:
            missing = source if src is None else target
            return str(T("Connection", "there is no step with id ‘{id}’", id=missing))
        if exit_name not in src.exits:
            return str(
                T(
                    "Connection",
                    "‘{step}’ has no exit ‘{exit}’ (its exits: {exits})",
                    step=src.display_title,
                    exit=exit_name,
                    exits=", ".join(src.exits) or "—",
                )
            )
        if self.edges_from(source, exit_name):
            return str(
                T(
                    "Connection",
                    "exit ‘{exit}’ of ‘{step}’ is already connected; to send contacts two ways, "
                    "add an A/B split",
                    exit=exit_label(exit_name),
                    step=src.display_title,
                )
            )
        if not dst.has_input:
            if dst.is_entry:
                return str(
                    T("Connection", "‘{step}’ is an entry: it has no input", step=dst.display_title)
                )
            return str(
                T(
                    "Connection",
                    "‘{step}’ is a note or frame: it has no input",
                    step=dst.display_title,
                )
            )
        return None

    def connect(self, source: str, exit_name: str, target: str) -> Edge:
        """Draw an edge as a user would: only between existing, compatible ports."""
        self.node(source)
        self.node(target)
        error = self.connection_error(source, exit_name, target)
        if error:
            raise EdgeError(error)
        return self.add_edge(Edge(source, exit_name, target))

    def add_edge(self, edge: Edge) -> Edge:
        """Insert an edge as is (loading, undo); `connect` is the checked path for users."""
        if edge in self.edges:
            raise EdgeError("that connection already exists")
        self.edges.append(edge)
        self._emit("edge_added", edge)
        return edge

    def remove_edge(self, edge: Edge) -> None:
        try:
            self.edges.remove(edge)
        except ValueError:
            raise ModelError(
                f"there is no connection {edge.source}.{edge.exit} → {edge.target}"
            ) from None
        self._emit("edge_removed", edge)

    def move_node(self, node_id: str, position: tuple[float, float]) -> None:
        self.node(node_id).position = (float(position[0]), float(position[1]))
        self._emit("node_moved", node_id)

    def set_title(self, node_id: str, title: str) -> None:
        self.node(node_id).title = title
        self._emit("node_changed", node_id)

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Set one parameter; edges from exits the new params no longer have are the caller's
        to remove first (the document does that inside one undo step)."""
        node = self.node(node_id)
        if value is None:
            node.params.pop(name, None)
        else:
            node.params[name] = copy.deepcopy(value)
        self._emit("node_changed", node_id)

    def set_info(self, field_name: str, value: str) -> None:
        """Change the scenario's id, name or description."""
        if field_name not in ("id", "name", "description"):
            raise ModelError(f"‘{field_name}’ is not a scenario text field")
        setattr(self, field_name, value)
        self._emit("scenario_changed", field_name)

    def set_settings(self, settings: Settings) -> None:
        self.settings = settings
        self._emit("scenario_changed", "settings")

    def set_extra(self, key: str, value: Any) -> None:
        """Replace (or with None remove) a top-level section other tools or the editor keep,
        such as the editor's simulation assumptions."""
        if value is None:
            self.extra.pop(key, None)
        else:
            self.extra[key] = value
        self._emit("scenario_changed", f"extra.{key}")

    def set_products(self, products: list[Product]) -> None:
        self.products = products
        self._emit("scenario_changed", "products")


def create_node(scenario: Scenario, type_name: str, position: tuple[float, float] = (0, 0)) -> Node:
    """A new node of a catalog type with its defaults and a fresh id (not yet added)."""
    spec = node_type(type_name)
    if spec is None:
        raise ModelError(f"‘{type_name}’ is not a node type")
    return Node(
        id=scenario.new_node_id(type_name.replace(".", "_")),
        type=type_name,
        title=type_label(spec),
        params=localized_defaults(spec),
        position=(float(position[0]), float(position[1])),
    )
