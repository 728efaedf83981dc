"""A simulation's flow as the canvas, presentation mode and reports draw it.

The result counts per node and per edge; this turns them into what a picture needs: how many
arrived at each step, what share of a step's arrivals took each connection, where contacts leak
(an exit with a losing outcome, or still waiting at the horizon) and where they convert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.engine.model import Edge, Scenario
from app.engine.simulation import SimulationResult

LEAKING_OUTCOMES = frozenset({"lost", "unsubscribed", "disqualified"})


class NodeFlowKind(StrEnum):
    """How a step's numbers read: a plain step, a conversion, or a hole in the sieve."""

    STEP = "step"
    CONVERSION = "conversion"
    LEAK = "leak"


@dataclass(frozen=True)
class NodeFlow:
    entered: int
    waiting: int
    kind: NodeFlowKind
    share_of_start: float  # entered / contacts who entered the funnel


@dataclass(frozen=True)
class EdgeFlow:
    count: int
    share: float  # of the contacts who arrived at the edge's source step
    leak: bool  # leads to a losing exit


@dataclass
class FlowFigures:
    """Per-node and per-edge figures of one run, keyed like the scenario."""

    entered: int
    nodes: dict[str, NodeFlow] = field(default_factory=dict)
    edges: dict[Edge, EdgeFlow] = field(default_factory=dict)
    largest_edge: int = 0

    @classmethod
    def from_result(cls, result: SimulationResult, scenario: Scenario) -> FlowFigures:
        start = max(result.entered, 1)
        figures = cls(entered=result.entered)
        leaking = set()
        for node in scenario.flow_nodes():
            if node.type == "exit" and node.params.get("outcome") in LEAKING_OUTCOMES:
                leaking.add(node.id)
        for node_id, stats in result.nodes.items():
            node = scenario.nodes.get(node_id)
            if node is None:
                continue
            if node_id in leaking or stats.waiting:
                kind = NodeFlowKind.LEAK
            elif node.type == "goal" or (
                node.type == "exit" and node.params.get("outcome") == "converted"
            ):
                kind = NodeFlowKind.CONVERSION
            else:
                kind = NodeFlowKind.STEP
            figures.nodes[node_id] = NodeFlow(
                stats.entered, stats.waiting, kind, stats.entered / start
            )
        present = set(scenario.edges)
        for row in result.edges:
            edge = Edge(row["source"], row["exit"], row["target"])
            if edge not in present:
                continue
            arrived = result.nodes[edge.source].entered if edge.source in result.nodes else 0
            count = int(row["count"])
            figures.edges[edge] = EdgeFlow(
                count, count / arrived if arrived else 0.0, edge.target in leaking
            )
            figures.largest_edge = max(figures.largest_edge, count)
        return figures

    def leaked(self) -> int:
        """Contacts who ended at a losing exit or are still waiting at the horizon."""
        return sum(
            flow.entered if flow.waiting == 0 else flow.waiting
            for flow in self.nodes.values()
            if flow.kind is NodeFlowKind.LEAK
        )
