"""Layered left-to-right auto-layout (Sugiyama style), for the canvas's auto-layout command.

A funnel reads left to right, so each step goes one column after the furthest step leading
to it (longest path from the entries). Loop edges (a reminder that goes round again) are
left out of the ranking, otherwise a loop would have no first column. Within a column steps
start in their parents' exit order (yes above no, sent above failed); barycenter sweeps then
untangle crossings, keeping the best order seen, so the result never has more crossings
between adjacent columns than that exit-order start.

Only positions are computed; the caller applies them (one undo step). Notes stay where they
are; stage frames are re-fitted around the steps they enclosed before.
"""

from __future__ import annotations

import math
import sys
from bisect import bisect_right, insort
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from app.engine import geometry
from app.engine.catalog import CATALOG
from app.engine.model import Node, Scenario

Point = tuple[float, float]

# Room a re-fitted frame leaves around its steps, and above them for its title.
FRAME_PADDING = 20.0
FRAME_TITLE = 40.0
# Exit ports share this fraction of a row, so siblings sort in exit order without
# outweighing a real difference in their parents' rows.
_PORT_SPREAD = 0.5
_FRAME_DEFAULTS = {
    p.name: float(p.default) for p in CATALOG["group"].params if p.name in ("width", "height")
}


@dataclass(frozen=True)
class Layout:
    """New top-left `positions` for flow steps and re-fitted frames; `frame_sizes` are the
    re-fitted frames' (width, height), for their `width` / `height` params."""

    positions: dict[str, Point]
    frame_sizes: dict[str, Point]


@dataclass(frozen=True)
class _Graph:
    """Flow steps as indices 0..n-1; flow-to-flow edges as (source, target, port), where port
    is the exit's offset from the step's middle, in rows."""

    ids: list[str]
    edges: list[tuple[int, int, float]]
    out: list[list[int]]  # edge indices leaving each step, in its exit order
    roots: list[int]  # entries, then other steps nothing leads to


def auto_layout(
    scenario: Scenario,
    *,
    node_size: Point | Callable[[Node], Point] = geometry.node_size,
    column_gap: float = 80.0,
    row_gap: float = 40.0,
    sweeps: int = 4,
) -> Layout:
    """Lay flow steps out in columns, keeping the flow's old top-left corner so the diagram
    does not jump. `node_size` is one size for all, or a function giving each step's; by
    default the canvas cards' own sizes (they grow with their exits). `sweeps` caps the rounds
    of crossing reduction; 0 keeps the exit order only."""
    if column_gap < 0 or row_gap < 0 or sweeps < 0:
        raise ValueError("gaps and sweeps must not be negative")
    graph = _graph(scenario)
    size_of = node_size if callable(node_size) else lambda _: node_size
    sizes = [size_of(scenario.nodes[node_id]) for node_id in graph.ids]
    if any(width <= 0 or height <= 0 for width, height in sizes):
        raise ValueError("step sizes must be positive")
    if not graph.ids:
        return Layout({}, {})

    back, discovered = _depth_first(graph)
    layer = _layers(graph, back)
    layers: list[list[int]] = [[] for _ in range(max(layer) + 1)]
    for node in sorted(range(len(graph.ids)), key=discovered.__getitem__):
        if layer[node] >= 0:
            layers[layer[node]].append(node)
    layers = _reduce_crossings(graph, layer, layers, sweeps)
    unlinked = [v for v in range(len(graph.ids)) if layer[v] < 0]
    grid = _place(layers, unlinked, sizes, column_gap, row_gap)

    old = {node_id: scenario.nodes[node_id].position for node_id in graph.ids}
    left = min(x for x, _ in old.values()) - min(x for x, _ in grid.values())
    top = min(y for _, y in old.values()) - min(y for _, y in grid.values())
    positions = {graph.ids[v]: (x + left, y + top) for v, (x, y) in grid.items()}
    frame_sizes = _fit_frames(scenario, old, positions, dict(zip(graph.ids, sizes, strict=True)))
    return Layout(positions, frame_sizes)


def count_crossings(scenario: Scenario, positions: Mapping[str, Point]) -> int:
    """Crossings of straight edges that join adjacent columns (a column: steps sharing an x).

    Steps missing from `positions` count at their current position. Edges that skip columns
    are not counted: the layout does not route them, so it promises nothing about them.
    Only the order of the steps in a column matters, so top-left corners do for middles.
    """
    where = {n.id: positions.get(n.id, n.position) for n in scenario.flow_nodes()}
    column = {x: i for i, x in enumerate(sorted({x for x, _ in where.values()}))}
    gaps: dict[int, list[Point]] = defaultdict(list)
    for edge in scenario.edges:
        if edge.source in where and edge.target in where:
            (xa, ya), (xb, yb) = where[edge.source], where[edge.target]
            if abs(column[xa] - column[xb]) == 1:
                gaps[min(column[xa], column[xb])].append((ya, yb) if xa < xb else (yb, ya))
    return sum(_inversions(pairs) for pairs in gaps.values())


# --- graph -------------------------------------------------------------------------------


def _graph(scenario: Scenario) -> _Graph:
    nodes = list(scenario.flow_nodes())
    index = {node.id: i for i, node in enumerate(nodes)}
    ends: list[tuple[int, int]] = []
    names: list[str] = []
    out: list[list[int]] = [[] for _ in nodes]
    for edge in scenario.edges:
        source, target = index.get(edge.source), index.get(edge.target)
        if source is not None and target is not None:
            out[source].append(len(ends))
            ends.append((source, target))
            names.append(edge.exit)
    ports = [0.0] * len(ends)
    for source, leaving in enumerate(out):
        if not leaving:
            continue
        exits = nodes[source].exits
        # Exits the step does not declare (a placeholder's, a stale file's) go last.
        rank = {
            e: exits.index(names[e]) if names[e] in exits else len(exits) + k
            for k, e in enumerate(leaving)
        }
        leaving.sort(key=rank.__getitem__)
        slots = max(len(exits) - 1, *rank.values()) + 1
        for e in leaving:
            ports[e] = ((rank[e] + 0.5) / slots - 0.5) * _PORT_SPREAD
    fed = {target for _, target in ends}
    entries = [i for i, node in enumerate(nodes) if node.is_entry]
    starts = [i for i, node in enumerate(nodes) if i not in fed and not node.is_entry]
    edges = [(s, t, port) for (s, t), port in zip(ends, ports, strict=True)]
    return _Graph([node.id for node in nodes], edges, out, entries + starts)


def _depth_first(graph: _Graph) -> tuple[set[int], list[int]]:
    """Back edges (into a step still on the DFS path: they close a loop) and the order steps
    are first reached, children in exit order, which keeps each branch together."""
    count = len(graph.ids)
    state = [0] * count  # 0 unseen, 1 on the path, 2 done
    discovered = [0] * count
    seen = 0
    back: set[int] = set()
    for root in [*graph.roots, *range(count)]:
        if state[root]:
            continue
        state[root], discovered[root], seen = 1, seen, seen + 1
        stack = [(root, 0)]
        while stack:
            node, next_out = stack[-1]
            if next_out == len(graph.out[node]):
                state[node] = 2
                stack.pop()
                continue
            stack[-1] = (node, next_out + 1)
            edge = graph.out[node][next_out]
            target = graph.edges[edge][1]
            if state[target] == 0:
                state[target], discovered[target], seen = 1, seen, seen + 1
                stack.append((target, 0))
            elif state[target] == 1:
                back.add(edge)
    return back, discovered


def _layers(graph: _Graph, back: set[int]) -> list[int]:
    """Columns by longest path from the sources of the loop-free graph: one more than the
    furthest predecessor's. Steps without any edge get -1: they go under the flow."""
    dag = nx.DiGraph()
    dag.add_nodes_from(sorted({end for edge in graph.edges for end in edge[:2]}))
    dag.add_edges_from(
        (source, target) for e, (source, target, _) in enumerate(graph.edges) if e not in back
    )
    layer = [-1] * len(graph.ids)
    for depth, generation in enumerate(nx.topological_generations(dag)):
        for node in generation:
            layer[node] = depth
    return layer


# --- crossing reduction ------------------------------------------------------------------


def _reduce_crossings(
    graph: _Graph, layer: list[int], layers: list[list[int]], sweeps: int
) -> list[list[int]]:
    """Barycenter sweeps, down then up: a step moves to the mean row of its neighbours in the
    column it is ordered against, seen through the exit port each edge uses, so siblings keep
    their exit order on ties. Steps with no neighbour there keep their slot. Edges that skip
    columns are left out, as the crossing count leaves them out (on random graphs, pulling
    towards them too doubles the adjacent crossings). Stops when a round finds nothing
    better, and returns the order with fewest crossings."""
    # Neighbours as (step, shift): the row this step would need to make that edge straight.
    before: list[list[tuple[int, float]]] = [[] for _ in graph.ids]
    after: list[list[tuple[int, float]]] = [[] for _ in graph.ids]
    adjacent: list[list[tuple[int, int]]] = [[] for _ in layers]
    for source, target, port in graph.edges:
        if layer[target] == layer[source] + 1:
            before[target].append((source, port))
            after[source].append((target, -port))
            adjacent[layer[source]].append((source, target))
        elif layer[source] == layer[target] + 1:  # a loop's back edge
            before[source].append((target, -port))
            after[target].append((source, port))
            adjacent[layer[target]].append((target, source))

    row = [0.0] * len(graph.ids)
    rank = [0] * len(graph.ids)

    def arrange(members: list[int]) -> None:
        middle = (len(members) - 1) / 2
        for index, node in enumerate(members):
            rank[node], row[node] = index, index - middle

    def crossings() -> int:
        return sum(_inversions([(rank[a], rank[b]) for a, b in pairs]) for pairs in adjacent)

    def reorder(members: list[int], neighbours: list[list[tuple[int, float]]]) -> list[int]:
        def barycenter(node: int) -> float:
            pulls = neighbours[node]
            return sum(row[other] + shift for other, shift in pulls) / len(pulls)

        movable = iter(sorted((v for v in members if neighbours[v]), key=barycenter))
        return [next(movable) if neighbours[v] else v for v in members]

    for members in layers:
        arrange(members)
    best, fewest = [list(m) for m in layers], crossings()
    down, up = range(1, len(layers)), range(len(layers) - 2, -1, -1)
    for _ in range(sweeps):
        improved = False
        for depths, neighbours in ((down, before), (up, after)):
            for depth in depths:
                layers[depth] = reorder(layers[depth], neighbours)
                arrange(layers[depth])
            found = crossings()
            if found < fewest:
                best, fewest, improved = [list(m) for m in layers], found, True
        if not improved or fewest == 0:
            break
    return best


def _inversions(pairs: Sequence[tuple[float, float]]) -> int:
    """Segments between two columns whose ends are in opposite order, i.e. that cross;
    segments sharing an end do not cross."""
    count = 0
    ends: list[float] = []
    for _, end in sorted(pairs):
        count += len(ends) - bisect_right(ends, end)
        insort(ends, end)
    return count


# --- placement ---------------------------------------------------------------------------


def _place(
    layers: list[list[int]],
    unlinked: list[int],
    sizes: list[Point],
    column_gap: float,
    row_gap: float,
) -> dict[int, Point]:
    """Top-left corners: each column as wide as its widest step, each stacked in order and
    centred on y = 0 so straight runs stay straight; steps with no edges go in rows of their
    own under the flow, about as wide as the flow."""
    grid: dict[int, Point] = {}
    x = 0.0
    for members in layers:
        y = -(sum(sizes[v][1] for v in members) + row_gap * (len(members) - 1)) / 2
        for node in members:
            grid[node] = (x, y)
            y += sizes[node][1] + row_gap
        x += max(sizes[v][0] for v in members) + column_gap
    if unlinked:
        per_row = max(len(layers), math.isqrt(len(unlinked) - 1) + 1)
        column = max(sizes[v][0] for v in unlinked) + column_gap
        y = max((grid[v][1] + sizes[v][1] for v in grid), default=0.0) + 2 * row_gap
        for start in range(0, len(unlinked), per_row):
            line = unlinked[start : start + per_row]
            for place, node in enumerate(line):
                grid[node] = (place * column, y)
            y += max(sizes[v][1] for v in line) + row_gap
    return grid


def _fit_frames(
    scenario: Scenario,
    old: Mapping[str, Point],
    positions: dict[str, Point],
    sizes: Mapping[str, Point],
) -> dict[str, Point]:
    """Re-draw each stage frame around the steps whose middles it held; their new top-left
    corners go into `positions`, and their sizes are returned."""
    frame_sizes: dict[str, Point] = {}
    for frame in scenario.nodes.values():
        if frame.type != "group":
            continue
        fx, fy = frame.position
        fw, fh = (_frame_param(frame.params, name) for name in ("width", "height"))
        inside = [
            node_id
            for node_id, (x, y) in old.items()
            if fx <= x + sizes[node_id][0] / 2 <= fx + fw
            and fy <= y + sizes[node_id][1] / 2 <= fy + fh
        ]
        if not inside:
            continue
        left = min(positions[n][0] for n in inside) - FRAME_PADDING
        top = min(positions[n][1] for n in inside) - FRAME_PADDING - FRAME_TITLE
        right = max(positions[n][0] + sizes[n][0] for n in inside) + FRAME_PADDING
        bottom = max(positions[n][1] + sizes[n][1] for n in inside) + FRAME_PADDING
        positions[frame.id] = (left, top)
        frame_sizes[frame.id] = (right - left, bottom - top)
    return frame_sizes


def _frame_param(params: Any, name: str) -> float:
    """A frame's width or height as the canvas would draw it: the catalog default if unusable."""
    value = params.get(name) if isinstance(params, Mapping) else None
    usable = isinstance(value, int | float) and not isinstance(value, bool)
    if usable and 0 < value <= sys.float_info.max:  # also refuses NaN, and ints float() cannot take
        return float(value)
    return _FRAME_DEFAULTS[name]
