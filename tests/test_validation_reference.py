"""The fast graph work of validation against straightforward reference implementations.

Validation takes shortcuts for speed (one depth-first search for reachability, order and the
loop check; leads-to-exit in one pass over that order; quiet hours in one search over the
unknown-hour steps; the branch facts in one pass when there is no loop). Each is checked here,
on random funnels larger than the rule tests' ones, against the plain way of computing the same
thing: a search per entry and per step, the search over (step, state) pairs, the worklist.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.catalog import MESSAGE_TYPES
from app.engine.contact_schema import DEFAULT_SCHEMA
from app.engine.logic import Reasoner, _node_conditions, _Pass, logic_findings
from app.engine.model import Edge, Node, Scenario
from app.engine.validation import Context, _schedule_effect, _unscheduled_messages, validate

CONDITIONS = [
    "age < 25",
    "age > 40",
    "age >= 18",
    "age < 20 or age > 60",
    "age > 30 and age < 20",
    'city == "Omsk"',
    'city != "Omsk"',
    'city in ["Moscow", "Kazan"]',
    '"cats" in tags',
    'has_tag("vip")',
    "consent_sms and has_phone",
    "not consent_push",
    "orders_count == 0",
    "nps_score >= 9",
    "cart_value > 5000",
    'days_since("purchase") > 30',
    "age >",
    "",
]
TYPES = [
    *["condition"] * 4,
    *["switch"] * 2,
    *["wait"] * 2,
    "wait_event",
    "update",
    *["message"] * 2,
    "offer",
    "goal",
    *["exit"] * 2,
    "split",
    "note",
    "legacy.step",
]
TIMES = ["10:00", "20:00", "22:00", "09:00", "00:00", "8 pm"]


@st.composite
def params(draw: st.DrawFn, type_name: str) -> dict[str, Any]:
    condition = st.sampled_from(CONDITIONS)
    match type_name:
        case "entry.segment":
            return {"condition": draw(condition)}
        case "entry.event":
            return {"event": "purchase", "condition": draw(condition)}
        case "condition":
            return {"condition": draw(condition)}
        case "switch":
            ids = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3))
            return {"cases": [{"id": i, "condition": draw(condition)} for i in ids]}
        case "wait":
            if draw(st.booleans()):
                return {"duration": draw(st.sampled_from(["P1D", "PT3H", "P2D", "soon"]))}
            start, end = draw(st.sampled_from(TIMES)), draw(st.sampled_from(TIMES))
            return {"mode": "window", "window_start": start, "window_end": end}
        case "wait_event":
            return {"event": "purchase", "timeout": draw(st.sampled_from(["P2D", "PT5H", "P1D"]))}
        case "update":
            return draw(
                st.sampled_from(
                    [
                        {"action": "add_tag", "tag": "cats"},
                        {"action": "remove_tag", "tag": "vip"},
                        {"action": "set_attribute", "attribute": "city", "value": "Omsk"},
                    ]
                )
            )
        case "message" | "offer":
            return {"channel": draw(st.sampled_from(["email", "sms"])), "body": "Hi"}
        case "exit":
            return {"outcome": draw(st.sampled_from(["converted", "lost"]))}
        case "split":
            return {"variants": [{"id": "a", "weight": 50}, {"id": "b", "weight": 50}]}
    return {}


@st.composite
def funnels(draw: st.DrawFn, loops: bool, twins: bool = True) -> Scenario:
    """Entries first, then random steps; every exit leads to a later step (or, with `loops`,
    to any step), is sometimes left dangling and, with `twins`, now and then connected
    twice to the same step."""
    size = draw(st.integers(2, 30))
    entries = draw(st.integers(1, max(1, size // 6)))
    scenario = Scenario()
    for index in range(size):
        if index < entries:
            type_name = draw(st.sampled_from(["entry.segment", "entry.event"]))
        else:
            type_name = draw(st.sampled_from(TYPES))
        node_id = f"n{index}"
        scenario.nodes[node_id] = Node(node_id, type_name, params=draw(params(type_name)))
    ids = list(scenario.nodes)
    for index, node in enumerate(scenario.nodes.values()):
        for exit_name in node.exits:
            choice = draw(st.integers(0, 19))
            if choice == 0:
                continue  # dangling
            first = 0 if loops and choice < 6 else index + 1
            if first >= size:
                continue
            target = ids[draw(st.integers(first, size - 1))]
            scenario.edges.append(Edge(node.id, exit_name, target))
            if twins and choice == 19:
                scenario.edges.append(Edge(node.id, exit_name, target))
    return scenario


RANDOM = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ANY_FUNNEL = funnels(loops=False) | funnels(loops=True)


# --- plain references ----------------------------------------------------------------------


def plain_adjacency(scenario: Scenario) -> dict[str, list[tuple[str, str]]]:
    """(exit, target) per flow step over the usable connections, from the model's own
    properties (not the validator's catalog lookups)."""
    flow = {n.id: n for n in scenario.flow_nodes()}
    adjacency: dict[str, list[tuple[str, str]]] = {n: [] for n in flow}
    for e in scenario.edges:
        source, target = flow.get(e.source), flow.get(e.target)
        if source and target and target.has_input and e.exit in source.exits:
            adjacency[e.source].append((e.exit, e.target))
    return adjacency


def search(starts: Iterable[str], adjacency: dict[str, list[str]]) -> set[str]:
    seen, queue = set(starts), deque(starts)
    while queue:
        for nxt in adjacency[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def plain_graph_facts(scenario: Scenario) -> tuple[set[str], set[str], set[str]]:
    """Reachable from an entry, leading to an exit, and in a loop: a search per entry, per
    exit step and per step."""
    adjacency = plain_adjacency(scenario)
    forward = {n: [t for _, t in pairs] for n, pairs in adjacency.items()}
    backward: dict[str, list[str]] = {n: [] for n in adjacency}
    for source, targets in forward.items():
        for target in targets:
            backward[target].append(source)
    flow = {n.id: n for n in scenario.flow_nodes()}
    reachable = set().union(*(search([n], forward) for n in flow if flow[n].is_entry))
    leads = set().union(*(search([n], backward) for n in flow if flow[n].type == "exit"))
    in_loop = {n for n in flow if n in search(forward[n], forward)}
    return reachable, leads, in_loop


def state_search_unscheduled(scenario: Scenario, quiet_start: str, quiet_end: str) -> set[str]:
    """Messages reached at an unknown hour: a search over (step, hour known) pairs."""
    adjacency = plain_adjacency(scenario)
    flow = {n.id: n for n in scenario.flow_nodes()}
    effect = {n: _schedule_effect(node, quiet_start, quiet_end) for n, node in flow.items()}
    seen: set[tuple[str, bool]] = set()
    stack = [(n, False) for n, node in flow.items() if node.is_entry]
    while stack:
        state = stack.pop()
        if state not in seen:
            seen.add(state)
            node_id, scheduled = state
            for exit_name, target in adjacency[node_id]:
                stack.append((target, effect[node_id].get(exit_name, scheduled)))
    return {n for n, node in flow.items() if node.type in MESSAGE_TYPES and (n, False) in seen}


def branch_pass(ctx: Context) -> _Pass:
    conditions = {
        node.id: _node_conditions(node, ctx.exits_of[node.id])
        for node in ctx.nodes_of("condition", "switch")
    }
    return _Pass(ctx, Reasoner(DEFAULT_SCHEMA), conditions)


# --- tests ---------------------------------------------------------------------------------


@RANDOM
@given(scenario=ANY_FUNNEL)
def test_reachability_and_loops_match_a_search_per_step(scenario: Scenario) -> None:
    ctx = Context(scenario)
    reachable, leads, in_loop = plain_graph_facts(scenario)
    assert ctx.reachable == reachable
    assert ctx.leads_to_exit == leads
    assert ctx.in_loop == in_loop
    assert ctx.acyclic == (not in_loop)
    assert set(ctx.reachable_in_order) == reachable
    if ctx.acyclic:  # every reachable step comes after all the steps that lead to it
        position = {n: i for i, n in enumerate(ctx.reachable_in_order)}
        for source, pairs in plain_adjacency(scenario).items():
            for _, target in pairs:
                assert source not in position or position[source] < position[target]


@RANDOM
@given(
    scenario=ANY_FUNNEL,
    quiet=st.tuples(st.sampled_from(TIMES), st.sampled_from(TIMES)),
)
def test_quiet_hours_match_the_search_over_step_and_state(
    scenario: Scenario, quiet: tuple[str, str]
) -> None:
    found = _unscheduled_messages(Context(scenario), *quiet)
    assert set(found) == state_search_unscheduled(scenario, *quiet)
    assert len(found) == len(set(found))


@RANDOM
@given(scenario=funnels(loops=False, twins=False))
def test_one_pass_gives_the_worklists_facts_when_there_is_no_loop(scenario: Scenario) -> None:
    ctx = Context(scenario)
    assert ctx.acyclic and not ctx.twin_edges
    one, worklist = branch_pass(ctx), branch_pass(ctx)
    assert one.in_one_pass() == worklist.to_fixpoint()
    assert one.exits_at == worklist.exits_at


@RANDOM
@given(scenario=ANY_FUNNEL)
def test_logic_findings_are_the_worklists(scenario: Scenario) -> None:
    """Whatever path `facts` takes, the findings are those of the plain worklist."""
    fast = logic_findings(Context(scenario))
    ctx = Context(scenario)
    ctx.acyclic = False  # type: ignore[misc]  # force the worklist (reachability is unchanged)
    assert fast == logic_findings(ctx)


def test_repeated_blocks_each_report_their_own_dead_branch() -> None:
    """Steps with the same condition and the same facts share one worked-out outcome; each
    must still be reported under its own id, by both paths."""
    scenario = Scenario()
    scenario.nodes["in"] = Node("in", "entry.segment", params={"condition": "age < 25"})
    scenario.nodes["won"] = Node("won", "exit", params={"outcome": "converted"})
    previous = ("in", "next")
    for index in range(30):
        node_id = f"old{index}"
        scenario.nodes[node_id] = Node(node_id, "condition", params={"condition": "age > 40"})
        scenario.edges += [Edge(*previous, node_id), Edge(node_id, "yes", "won")]
        previous = (node_id, "no")
    scenario.edges.append(Edge(*previous, "won"))
    ctx = Context(scenario)
    assert ctx.acyclic and not ctx.twin_edges
    one, worklist = branch_pass(ctx), branch_pass(ctx)
    assert one.in_one_pass() == worklist.to_fixpoint()
    dead = [(p.node, p.exit) for p in validate(scenario) if p.code == "V401"]
    assert dead == [(f"old{i}", "yes") for i in sorted(range(30), key=str)]
