"""Auto-layout: readable on the shipped examples, untangling on random funnels, and stable.

The properties a user sees after "tidy up" are checked directly: no step hides another,
the flow reads left to right (only loops go back), branches keep their exit order, and the
crossing reduction never makes a layout worse than the plain exit-order one.
"""

from __future__ import annotations

import copy
import random
from itertools import combinations
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.catalog import node_type
from app.engine.geometry import node_size
from app.engine.layout import FRAME_PADDING, FRAME_TITLE, auto_layout, count_crossings
from app.engine.model import Edge, Node, Scenario
from app.engine.serialization import load_scenario

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "resources" / "examples").glob("*.json"))
SIZE = (220.0, 96.0)


def example(path: Path) -> Scenario:
    return load_scenario(path).scenario


def funnel(*edges: tuple[str, str, str], types: dict[str, str] | None = None) -> Scenario:
    """A scenario from `source.exit → target` triples; steps are waits unless `types` says."""
    types = types or {}
    scenario = Scenario()
    for source, _, target in edges:
        for node_id in (source, target):
            if node_id not in scenario.nodes:
                type_name = types.get(node_id, "wait")
                spec = node_type(type_name)
                params = spec.default_params() if spec else {}
                scenario.nodes[node_id] = Node(node_id, type_name, params=params)
    scenario.edges = [Edge(*edge) for edge in edges]
    return scenario


def card_size(node: Node) -> tuple[float, float]:
    """Like the canvas's cards: taller with every exit."""
    return (180.0 + 20 * len(node.type) % 60, 60.0 + 20 * max(1, len(node.exits)))


def overlapping(
    scenario: Scenario, positions: dict[str, tuple[float, float]], size=lambda _: SIZE
) -> list[tuple[str, str]]:
    def box(node_id: str) -> tuple[float, float, float, float]:
        (x, y), (width, height) = positions[node_id], size(scenario.nodes[node_id])
        return x, y, x + width, y + height

    flow = [n.id for n in scenario.flow_nodes()]
    return [
        (a, b)
        for a, b in combinations(flow, 2)
        if box(a)[0] < box(b)[2]
        and box(b)[0] < box(a)[2]
        and box(a)[1] < box(b)[3]
        and box(b)[1] < box(a)[3]
    ]


def backwards_outside_loops(scenario: Scenario, positions: dict[str, tuple[float, float]]) -> list:
    """Edges that do not go left to right although no loop forces them to."""
    graph = nx.DiGraph((e.source, e.target) for e in scenario.edges)
    return [
        e
        for e in scenario.edges
        if positions[e.target][0] <= positions[e.source][0]
        and not nx.has_path(graph, e.target, e.source)
    ]


# --- the examples ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_lay_out_without_overlaps_and_left_to_right(path: Path) -> None:
    scenario = example(path)
    layout = auto_layout(scenario, node_size=SIZE)

    assert set(layout.positions) >= {n.id for n in scenario.flow_nodes()}
    assert overlapping(scenario, layout.positions) == []
    assert backwards_outside_loops(scenario, layout.positions) == []
    notes = {n.id for n in scenario.nodes.values() if n.type == "note"}
    assert not notes & set(layout.positions)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_crossings_do_not_grow(path: Path) -> None:
    scenario = example(path)
    before = count_crossings(scenario, auto_layout(scenario, sweeps=0).positions)
    after = count_crossings(scenario, auto_layout(scenario).positions)
    assert after <= before


def test_an_example_with_a_crossing_gets_untangled() -> None:
    """wishlist_price_drop's exit-order start has a crossing the sweeps remove."""
    scenario = example(next(p for p in EXAMPLES if p.stem == "wishlist_price_drop"))
    assert count_crossings(scenario, auto_layout(scenario, sweeps=0).positions) > 0
    assert count_crossings(scenario, auto_layout(scenario).positions) == 0


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_layout_is_deterministic(path: Path) -> None:
    scenario = example(path)
    first = auto_layout(scenario)
    assert auto_layout(scenario) == first
    assert auto_layout(copy.deepcopy(scenario)) == first
    assert auto_layout(example(path)) == first


def test_layout_does_not_change_the_scenario() -> None:
    scenario = example(EXAMPLES[0])
    before = copy.deepcopy(scenario)
    auto_layout(scenario)
    assert scenario == before


# --- exit order, loops, stray steps, frames ----------------------------------------------------


def test_diamond_puts_the_yes_branch_above_the_no_branch() -> None:
    # The no edge is listed first: the exit order decides, not the file order.
    scenario = funnel(
        ("start", "next", "check"),
        ("check", "no", "cheap"),
        ("check", "yes", "premium"),
        ("cheap", "next", "done"),
        ("premium", "next", "done"),
        types={"start": "entry.segment", "check": "condition", "done": "exit"},
    )
    positions = auto_layout(scenario).positions
    assert positions["premium"][1] < positions["cheap"][1]
    assert positions["premium"][0] == positions["cheap"][0]
    assert positions["start"][0] < positions["check"][0] < positions["cheap"][0]
    assert positions["done"][0] > positions["cheap"][0]
    # The rejoining step sits in the middle, level with the entry (card centres line up).
    scenario_nodes = scenario.nodes
    centres = {
        n: positions[n][1] + node_size(scenario_nodes[n])[1] / 2 for n in ("start", "check", "done")
    }
    assert centres["start"] == centres["check"] == centres["done"]


def test_siblings_keep_exit_order() -> None:
    scenario = funnel(
        ("mail", "failed", "retry"),
        ("mail", "sent", "wait"),
        ("route", "else", "other"),
        ("route", "case2", "second"),
        ("route", "case1", "first"),
        ("wait", "next", "route"),
        types={"mail": "message", "route": "switch"},
    )
    positions = auto_layout(scenario).positions
    assert positions["wait"][1] < positions["retry"][1]
    assert positions["first"][1] < positions["second"][1] < positions["other"][1]


def test_loops_keep_their_forward_path_left_to_right() -> None:
    scenario = funnel(
        ("entry", "next", "mail"),
        ("mail", "sent", "wait"),
        ("mail", "failed", "lost"),
        ("wait", "happened", "won"),
        ("wait", "timeout", "again"),
        ("again", "yes", "mail"),  # the reminder goes round again
        ("again", "no", "lost"),
        types={
            "entry": "entry.event",
            "mail": "message",
            "wait": "wait_event",
            "again": "condition",
            "won": "exit",
            "lost": "exit",
        },
    )
    positions = auto_layout(scenario).positions
    assert overlapping(scenario, positions) == []
    assert backwards_outside_loops(scenario, positions) == []
    assert positions["again"][0] > positions["mail"][0]  # the back edge is the one going left


def test_a_loop_without_an_entry_still_gets_laid_out() -> None:
    scenario = funnel(("a", "next", "b"), ("b", "next", "c"), ("c", "next", "a"))
    positions = auto_layout(scenario).positions
    assert sorted(x for x, _ in positions.values()) == [0.0, 300.0, 600.0]
    assert positions["a"][0] < positions["b"][0] < positions["c"][0]


def test_unconnected_steps_go_in_rows_below_the_flow() -> None:
    scenario = funnel(("a", "next", "b"), ("b", "next", "c"))
    for index in range(7):
        scenario.nodes[f"loose{index}"] = Node(f"loose{index}", "wait")
    positions = auto_layout(scenario, node_size=SIZE).positions
    flow_bottom = max(positions[n][1] for n in "abc") + SIZE[1]
    loose = [positions[f"loose{i}"] for i in range(7)]
    assert all(y > flow_bottom for _, y in loose)
    assert len({y for _, y in loose}) == 3  # three to a row, as wide as the flow
    assert overlapping(scenario, positions) == []


def test_the_layout_keeps_the_flows_top_left_corner() -> None:
    scenario = funnel(("a", "next", "b"), ("a2", "next", "b"))
    scenario.nodes["a"].position = (500.0, 300.0)
    scenario.nodes["b"].position = (900.0, 700.0)
    scenario.nodes["a2"].position = (700.0, 1000.0)
    positions = auto_layout(scenario).positions
    assert min(x for x, _ in positions.values()) == 500.0
    assert min(y for _, y in positions.values()) == 300.0


def test_frames_are_refitted_around_the_steps_they_held() -> None:
    scenario = funnel(
        ("entry", "next", "mail"),
        ("mail", "sent", "won"),
        ("mail", "failed", "lost"),
        types={"entry": "entry.segment", "mail": "message", "won": "exit", "lost": "exit"},
    )
    for node_id, x in (("entry", 0), ("mail", 300), ("won", 600), ("lost", 600)):
        scenario.nodes[node_id].position = (float(x), 0.0 if node_id != "lost" else 200.0)
    scenario.nodes["first"] = Node(
        "first", "group", params={"text": "Attention", "width": 560, "height": 200}
    )
    scenario.nodes["first"].position = (-20.0, -60.0)
    scenario.nodes["empty"] = Node("empty", "group", position=(5000.0, 5000.0))
    scenario.nodes["memo"] = Node("memo", "note", position=(0.0, -300.0))

    layout = auto_layout(scenario, node_size=SIZE)
    held = [layout.positions[n] for n in ("entry", "mail")]
    left, top = layout.positions["first"]
    width, height = layout.frame_sizes["first"]
    assert left == min(x for x, _ in held) - FRAME_PADDING
    assert top == min(y for _, y in held) - FRAME_PADDING - FRAME_TITLE
    assert left + width == max(x for x, _ in held) + SIZE[0] + FRAME_PADDING
    assert top + height == max(y for _, y in held) + SIZE[1] + FRAME_PADDING
    for other in ("won", "lost"):  # not in the frame before, so not fitted into it
        assert layout.positions[other][0] > left + width
    assert "empty" not in layout.positions and "empty" not in layout.frame_sizes
    assert "memo" not in layout.positions


def test_examples_frames_keep_their_steps() -> None:
    scenario = example(next(p for p in EXAMPLES if p.stem == "product_matrix"))
    layout = auto_layout(scenario, node_size=SIZE)
    assert set(layout.frame_sizes) == {n.id for n in scenario.nodes.values() if n.type == "group"}
    x, y = layout.positions["stage_upsell"]
    width, height = layout.frame_sizes["stage_upsell"]
    for node_id in ("wait_first_week", "offer_upsell", "goal_upsell"):
        nx_, ny = layout.positions[node_id]
        assert x <= nx_ and nx_ + SIZE[0] <= x + width and y <= ny and ny + SIZE[1] <= y + height


def test_steps_of_different_sizes() -> None:
    """Cards grow with their exits: columns and stacks make room, and a straight run of
    steps keeps their middles level."""
    scenario = funnel(
        ("start", "next", "route"),
        ("route", "case1", "a"),
        ("route", "case2", "b"),
        ("route", "else", "c"),
        ("a", "yes", "end"),
        types={"start": "entry.segment", "route": "switch", "a": "condition", "end": "exit"},
    )
    scenario.nodes["stray"] = Node("stray", "switch", params=node_type("switch").default_params())
    layout = auto_layout(scenario, node_size=card_size)
    positions = layout.positions
    assert overlapping(scenario, positions, card_size) == []

    def middle(node_id: str) -> float:
        return positions[node_id][1] + card_size(scenario.nodes[node_id])[1] / 2

    assert middle("start") == middle("route") == middle("end")
    assert (
        positions["route"][0] - positions["start"][0] == card_size(scenario.nodes["start"])[0] + 80
    )
    assert positions["stray"][1] >= max(
        y + card_size(scenario.nodes[n])[1] for n, (_, y) in positions.items() if n != "stray"
    )


def test_edge_cases() -> None:
    assert auto_layout(Scenario()).positions == {}
    only_notes = Scenario(nodes={"n": Node("n", "note")})
    assert auto_layout(only_notes).positions == {}
    single = Scenario(nodes={"a": Node("a", "wait", position=(10.0, 20.0))})
    assert auto_layout(single).positions == {"a": (10.0, 20.0)}
    placeholder = funnel(("a", "mystery", "b"), types={"a": "ai_magic"})
    assert auto_layout(placeholder).positions["b"][0] > auto_layout(placeholder).positions["a"][0]
    with pytest.raises(ValueError):
        auto_layout(single, node_size=(0, 96))
    with pytest.raises(ValueError):
        auto_layout(single, row_gap=-1)


def test_count_crossings_counts_an_x() -> None:
    scenario = funnel(("a", "next", "d"), ("b", "next", "c"))
    crossed = {"a": (0.0, 0.0), "b": (0.0, 100.0), "c": (300.0, 0.0), "d": (300.0, 100.0)}
    straight = {**crossed, "c": (300.0, 100.0), "d": (300.0, 0.0)}
    assert count_crossings(scenario, crossed) == 1
    assert count_crossings(scenario, straight) == 0
    # Edges sharing a step do not cross; positions left out are read from the scenario.
    fan = funnel(("a", "next", "c"), ("a", "other", "d"))
    assert count_crossings(fan, {"a": (0, 50), "c": (300, 100), "d": (300, 0)}) == 0


# --- random funnels ----------------------------------------------------------------------------

TYPES = ("condition", "message", "wait_event", "switch", "split", "wait", "update", "exit")


@st.composite
def funnels(draw: st.DrawFn, loops: bool = False) -> Scenario:
    """An entry and up to 25 steps; each exit leads on (or, with loops, anywhere) or is open."""
    types = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=25))
    scenario = Scenario()
    nodes = [Node("n0", "entry.segment")]
    nodes += [
        Node(f"n{i + 1}", t, params=node_type(t).default_params()) for i, t in enumerate(types)
    ]
    for node in nodes:
        scenario.nodes[node.id] = node
    for index, node in enumerate(nodes):
        first = 1 if loops else index + 1
        for exit_name in node.exits:
            if first < len(nodes) and draw(st.booleans()):
                target = draw(st.integers(first, len(nodes) - 1))
                scenario.edges.append(Edge(node.id, exit_name, nodes[target].id))
    return scenario


@settings(max_examples=150, deadline=None)
@given(funnels())
def test_random_funnels_never_get_more_crossings(scenario: Scenario) -> None:
    plain = auto_layout(scenario, sweeps=0).positions
    swept = auto_layout(scenario).positions
    assert count_crossings(scenario, swept) <= count_crossings(scenario, plain)
    assert overlapping(scenario, swept) == []
    assert all(swept[e.target][0] > swept[e.source][0] for e in scenario.edges)


@settings(max_examples=100, deadline=None)
@given(funnels(loops=True))
def test_random_funnels_with_loops(scenario: Scenario) -> None:
    layout = auto_layout(scenario)
    assert overlapping(scenario, layout.positions) == []
    assert backwards_outside_loops(scenario, layout.positions) == []
    assert count_crossings(scenario, layout.positions) <= count_crossings(
        scenario, auto_layout(scenario, sweeps=0).positions
    )
    assert auto_layout(scenario) == layout


def test_sweeps_untangle_a_larger_random_graph() -> None:
    """A fixed 400-step graph with many joins: the sweeps must remove a good share."""
    rng = random.Random(7)
    scenario = Scenario()
    for i in range(400):
        scenario.nodes[f"n{i}"] = Node(f"n{i}", "condition" if i else "entry.segment")
    for i in range(1, 400):
        for _ in range(1 + (rng.random() < 0.3)):
            parent = rng.randrange(max(0, i - 12), i)
            exit_name = rng.choice(scenario.nodes[f"n{parent}"].exits)
            if Edge(f"n{parent}", exit_name, f"n{i}") not in scenario.edges:
                scenario.edges.append(Edge(f"n{parent}", exit_name, f"n{i}"))
    before = count_crossings(scenario, auto_layout(scenario, sweeps=0).positions)
    after = count_crossings(scenario, auto_layout(scenario).positions)
    assert after <= before * 0.7, (before, after)


@settings(max_examples=50, deadline=None)
@given(funnels(loops=True))
def test_random_funnels_of_different_sizes_do_not_overlap(scenario: Scenario) -> None:
    layout = auto_layout(scenario, node_size=card_size, column_gap=0, row_gap=0)
    assert overlapping(scenario, layout.positions, card_size) == []
