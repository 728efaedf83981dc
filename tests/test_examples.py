"""The bundled example funnels load cleanly, are canonical files and obey the product's rules.

The structural checks below (networkx) are the floor every example must clear, independent of
the product's validator (which the examples must satisfy too, where it is present): every exit
handled, no traps, no instant loops, sane A/B splits, switches with an `else`, conditions and
templates that only name what the contact schema knows, the frequency cap and quiet hours
respected, and a diagram a consultant can show as is.
Each check returns readable problems, and each is shown to catch a broken copy of an example.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from pathlib import Path

import jinja2
import jinja2.meta
import jinja2.nodes
import jinja2.sandbox
import networkx as nx
import pytest

from app.engine.catalog import CATALOG, MESSAGE_TYPES, OUTCOMES, WAIT_TYPES, ParamKind
from app.engine.contact_schema import CHANNELS, DEFAULT_SCHEMA, KNOWN_EVENTS, WEEKDAYS, FieldType
from app.engine.durations import is_duration, parse_duration
from app.engine.model import Edge, FrequencyCap, Node, Scenario
from app.engine.serialization import dumps_scenario, load_scenario, save_scenario
from app.resources import EXAMPLES

NAMED_EXAMPLES = (
    "abandoned_cart",
    "product_matrix",
    "back_in_stock",
    "wishlist_price_drop",
    "win_back",
    "post_purchase_cross_sell",
    "bant_qualification",
    "post_sale_nps",
    "pre_sales",
    "active_base",
)
EXAMPLE_PATHS = sorted(EXAMPLES.glob("*.json"))

# Condition language: Python-like text over schema fields and these functions.
EVENT_FUNCTIONS = frozenset({"has_event", "event_count", "days_since"})
CONDITION_FUNCTIONS = EVENT_FUNCTIONS | {"has_tag"}
_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
# What a message template may name (PRODUCT.md, "Message templates").
TEMPLATE_ROOTS = frozenset({"contact", "offer", "promo_code", "product", "cart", "unsubscribe_url"})

NODE_SIZE = (220, 90)
NOTE_SIZE = (260, 140)
COLUMN_STEP = 260


# --- helpers -------------------------------------------------------------------------------


def _load(path: Path) -> Scenario:
    return load_scenario(path).scenario


def _flow_graph(scenario: Scenario) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for node in scenario.flow_nodes():
        graph.add_node(node.id)
    for edge in scenario.edges:
        graph.add_edge(edge.source, edge.target, key=edge.exit)
    return graph


def _entries(scenario: Scenario) -> list[str]:
    return [n.id for n in scenario.flow_nodes() if n.is_entry]


def _exit_nodes(scenario: Scenario) -> list[str]:
    return [n.id for n in scenario.flow_nodes() if n.type == "exit"]


def _reachable(graph: nx.MultiDiGraph, sources: list[str]) -> set[str]:
    """One multi-source search (not one search per source)."""
    seen = set(sources)
    for edge in nx.edge_bfs(graph, sources):
        seen.add(edge[1])
    return seen


def _edge_delay(node: Node, exit_name: str) -> int:
    """The least time, in seconds, a contact spends at `node` before leaving by `exit_name`."""
    params = node.params
    if node.type == "wait" and params.get("mode", "duration") == "duration":
        return parse_duration(params.get("duration", "P1D"))
    if node.type == "wait_event" and exit_name == "timeout":
        return parse_duration(params["timeout"])
    return 0


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


# --- the checks: each returns a list of problems in a marketer's words ---------------------


def check_exits(scenario: Scenario) -> list[str]:
    problems = []
    for node in scenario.flow_nodes():
        exits = node.exits
        for exit_name in exits:
            count = len(scenario.edges_from(node.id, exit_name))
            if count != 1:
                problems.append(f"{node.id}: exit ‘{exit_name}’ has {count} edges, needs 1")
        for edge in scenario.edges_from(node.id):
            if edge.exit not in exits:
                problems.append(f"{node.id}: edge from an undeclared exit ‘{edge.exit}’")
    for edge in scenario.edges:
        source, target = scenario.nodes.get(edge.source), scenario.nodes.get(edge.target)
        if source is None or target is None:
            problems.append(f"edge {edge} names a missing step")
        elif source.is_annotation or target.is_annotation:
            problems.append(f"edge {edge} touches a note or frame")
        elif target.is_entry:
            problems.append(f"edge {edge} leads into the entry ‘{target.id}’")
    return problems


def check_reachability(scenario: Scenario) -> list[str]:
    graph = _flow_graph(scenario)
    entries = _entries(scenario)
    if not entries:
        return ["the scenario has no entry"]
    problems = []
    reached = _reachable(graph, entries)
    problems += [f"{n}: unreachable from every entry" for n in graph if n not in reached]
    can_leave = _reachable(graph.reverse(copy=False), _exit_nodes(scenario))
    problems += [
        f"{n}: no Exit can be reached from here (a trap)" for n in graph if n not in can_leave
    ]
    converted = [
        n
        for n in _exit_nodes(scenario)
        if n in reached and scenario.nodes[n].params.get("outcome") == "converted"
    ]
    if not converted:
        problems.append("no reachable Exit with outcome ‘converted’")
    return problems


def check_cycles(scenario: Scenario) -> list[str]:
    graph = _flow_graph(scenario)
    problems = []
    for component in nx.strongly_connected_components(graph):
        looped = len(component) > 1 or any(graph.has_edge(n, n) for n in component)
        if looped and not any(scenario.nodes[n].type in WAIT_TYPES for n in component):
            problems.append(f"a loop with no wait in it: {sorted(component)}")
    return problems


def check_branching(scenario: Scenario) -> list[str]:
    problems = []
    for node in scenario.flow_nodes():
        if node.type == "split":
            variants = node.params.get("variants", [])
            weights = [v.get("weight", 0) for v in variants]
            if len(variants) < 2 or sum(weights) != 100 or min(weights) <= 0:
                problems.append(f"{node.id}: A/B weights {weights} must be > 0 and sum to 100")
            if len({v.get("id") for v in variants}) != len(variants):
                problems.append(f"{node.id}: variant ids repeat")
        if node.type == "switch":
            cases = node.params.get("cases", [])
            if not cases or not all(c.get("id") and c.get("condition") for c in cases):
                problems.append(f"{node.id}: every case needs an id and a condition")
            if "else" in {c.get("id") for c in cases}:
                problems.append(f"{node.id}: a case may not be called ‘else’")
            if not scenario.edges_from(node.id, "else"):
                problems.append(f"{node.id}: the switch has no ‘else’ edge")
        if node.type == "wait_event" and not is_duration(node.params.get("timeout")):
            problems.append(f"{node.id}: wait for event without a valid timeout")
    return problems


def check_params(scenario: Scenario) -> list[str]:
    """Params match the catalog: declared names, valid choices, durations, known products."""
    problems = []
    product_ids = {p.id for p in scenario.products}
    for node in scenario.nodes.values():
        spec = CATALOG.get(node.type)
        if spec is None:
            problems.append(f"{node.id}: unknown step type ‘{node.type}’")
            continue
        if not node.title:
            problems.append(f"{node.id}: no title")
        for name, value in node.params.items():
            param = spec.param(name)
            if param is None:
                problems.append(f"{node.id}: ‘{name}’ is not a parameter of {node.type}")
            elif param.choices and value not in param.choices:
                problems.append(f"{node.id}: {name}={value!r} is not one of {param.choices}")
            elif param.kind is ParamKind.DURATION and not is_duration(value):
                problems.append(f"{node.id}: {name}={value!r} is not an ISO 8601 duration")
            elif param.kind is ParamKind.PRODUCT and value not in product_ids:
                problems.append(f"{node.id}: product ‘{value}’ is not in the product list")
            elif param.kind is ParamKind.WEEKDAYS and not set(value) <= set(WEEKDAYS):
                problems.append(f"{node.id}: {name}={value!r} has unknown weekdays")
        for param in spec.params:
            if param.required and node.params.get(param.name) in (None, ""):
                problems.append(f"{node.id}: required parameter ‘{param.name}’ is empty")
        if node.type == "offer" and node.params.get("discount", 0) > scenario.settings.max_discount:
            problems.append(f"{node.id}: discount above the scenario's limit")
        handoff = node.type == "exit" and node.params.get("outcome") == "handoff"
        if handoff and not node.params.get("handoff_to"):
            problems.append(f"{node.id}: hand-off exit does not name the next scenario")
    return problems


def condition_problems(text: str) -> list[str]:
    """Names and functions a condition uses must be known to the contact schema."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        return [f"‘{text}’ is not a valid condition: {error.msg}"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            args = node.args
            if name not in CONDITION_FUNCTIONS or node.keywords or len(args) != 1:
                problems.append(f"unknown function call in ‘{text}’")
            elif not (isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)):
                problems.append(f"{name}() takes one quoted name in ‘{text}’")
            elif name in EVENT_FUNCTIONS and args[0].value not in KNOWN_EVENTS:
                problems.append(f"unknown event ‘{args[0].value}’ in ‘{text}’")
        elif isinstance(node, ast.Name):
            if node.id not in CONDITION_FUNCTIONS and DEFAULT_SCHEMA.find(node.id) is None:
                problems.append(f"unknown field ‘{node.id}’ in ‘{text}’")
        elif isinstance(node, ast.Compare):
            if not all(isinstance(op, _COMPARISONS) for op in node.ops):
                problems.append(f"unsupported comparison in ‘{text}’")
            left, right = node.left, node.comparators[0]
            if isinstance(left, ast.Name) and isinstance(right, ast.Constant):
                field = DEFAULT_SCHEMA.find(left.id)
                if field and field.type is FieldType.ENUM and right.value not in field.choices:
                    problems.append(f"{left.id} is never {right.value!r} in ‘{text}’")
        elif not isinstance(
            node,
            ast.Expression
            | ast.BoolOp
            | ast.UnaryOp
            | ast.Constant
            | ast.boolop
            | ast.unaryop
            | ast.cmpop
            | ast.expr_context,
        ):
            problems.append(f"‘{type(node).__name__}’ is not allowed in ‘{text}’")
    return problems


def _conditions(node: Node) -> list[str]:
    if node.type == "switch":
        return [case.get("condition", "") for case in node.params.get("cases", [])]
    text = node.params.get("condition", "")
    return [text] if text else []


def check_conditions(scenario: Scenario) -> list[str]:
    return [
        f"{node.id}: {problem}"
        for node in scenario.flow_nodes()
        for text in _conditions(node)
        for problem in condition_problems(text)
    ]


_JINJA = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)


def template_problems(text: str) -> list[str]:
    try:
        tree = _JINJA.parse(text)
    except jinja2.TemplateSyntaxError as error:
        return [f"template syntax error: {error.message}"]
    problems = [
        f"unknown template variable ‘{name}’"
        for name in sorted(jinja2.meta.find_undeclared_variables(tree) - TEMPLATE_ROOTS)
    ]
    for attr in tree.find_all(jinja2.nodes.Getattr):
        owner = attr.node
        on_contact = isinstance(owner, jinja2.nodes.Name) and owner.name == "contact"
        if on_contact and DEFAULT_SCHEMA.find(attr.attr) is None:
            problems.append(f"contact has no field ‘{attr.attr}’")
    return problems


def check_templates(scenario: Scenario) -> list[str]:
    problems = []
    for node in scenario.flow_nodes():
        spec = CATALOG[node.type]
        for param in spec.params:
            if param.kind is ParamKind.TEMPLATE and node.params.get(param.name):
                for problem in template_problems(node.params[param.name]):
                    problems.append(f"{node.id}.{param.name}: {problem}")
        if node.type in MESSAGE_TYPES:
            channel = node.params.get("channel")
            if channel not in CHANNELS:
                problems.append(f"{node.id}: unknown channel {channel!r}")
            if channel == "email" and not node.params.get("subject"):
                problems.append(f"{node.id}: an e-mail needs a subject")
            if channel == "email" and "unsubscribe_url" not in node.params.get("body", ""):
                problems.append(f"{node.id}: a marketing e-mail needs an unsubscribe link")
    return problems


def check_frequency_cap(scenario: Scenario) -> list[str]:
    """No path reaches more message steps within the cap's period than the cap allows.

    Time along a path is counted at its least (a wait for an event may end at once) and a
    failed send counts as a send, as the validator counts them: the check errs on the strict
    side.
    """
    cap = scenario.settings.frequency_cap
    if cap is None:
        return []
    period = parse_duration(cap.per)
    problems = []
    for start in scenario.flow_nodes():
        if start.type not in MESSAGE_TYPES:
            continue
        worst = 1
        stack = [(start.id, 0, 1, (start.id,))]
        while stack:
            node_id, elapsed, sent, path = stack.pop()
            worst = max(worst, sent)
            for edge in scenario.edges_from(node_id):
                later = elapsed + _edge_delay(scenario.nodes[edge.source], edge.exit)
                if later < period and edge.target not in path:
                    is_message = scenario.nodes[edge.target].type in MESSAGE_TYPES
                    stack.append((edge.target, later, sent + is_message, (*path, edge.target)))
        if worst > cap.messages:
            problems.append(
                f"{start.id}: a path sends {worst} messages within {cap.per}, "
                f"the cap is {cap.messages}"
            )
    return problems


def check_quiet_hours(scenario: Scenario) -> list[str]:
    """Every message is sent at a time already placed inside a daytime send window.

    A contact enters, or an awaited event happens, at any hour. A send window puts them in the
    daytime again; whole-day waits keep them there; anything else does not.
    """
    quiet = scenario.settings.quiet_hours
    if quiet is None:
        return []
    quiet_start, quiet_end = _minutes(quiet.start), _minutes(quiet.end)
    problems = []
    for node in scenario.flow_nodes():
        if node.type == "wait" and node.params.get("mode") == "window":
            start, end = _minutes(node.params["window_start"]), _minutes(node.params["window_end"])
            if not quiet_end <= start < end <= quiet_start:
                problems.append(f"{node.id}: the send window overlaps the quiet hours")

    def out_safe(node: Node, exit_name: str, safe_in: bool) -> bool:
        if node.is_entry:
            return False
        if node.type == "wait" and node.params.get("mode") == "window":
            return True
        if node.type == "wait_event" and exit_name == "happened":
            return False
        return safe_in and _edge_delay(node, exit_name) % 86400 == 0

    safe = {n.id: not n.is_entry for n in scenario.flow_nodes()}
    changed = True
    while changed:
        changed = False
        for node in scenario.flow_nodes():
            incoming = scenario.edges_to(node.id)
            value = bool(incoming) and all(
                out_safe(scenario.nodes[e.source], e.exit, safe[e.source]) for e in incoming
            )
            if not node.is_entry and value != safe[node.id]:
                safe[node.id], changed = value, True
    problems += [
        f"{n.id}: can be sent in quiet hours (no send window before it)"
        for n in scenario.flow_nodes()
        if n.type in MESSAGE_TYPES and not safe[n.id]
    ]
    return problems


def _box(node: Node) -> tuple[float, float, float, float]:
    if node.type == "group":
        width, height = node.params["width"], node.params["height"]
    else:
        width, height = NOTE_SIZE if node.type == "note" else NODE_SIZE
    x, y = node.position
    return (x, y, x + width, y + height)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(inner: tuple[float, ...], outer: tuple[float, ...]) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def check_layout(scenario: Scenario) -> list[str]:
    """A readable left-to-right diagram: no overlaps, frames wrap whole steps."""
    problems = []
    frames = [n for n in scenario.nodes.values() if n.type == "group"]
    items = [n for n in scenario.nodes.values() if n.type != "group"]
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if _overlap(_box(a), _box(b)):
                problems.append(f"{a.id} and {b.id} overlap")
    for i, frame in enumerate(frames):
        for other in frames[i + 1 :]:
            if _overlap(_box(frame), _box(other)):
                problems.append(f"frames {frame.id} and {other.id} overlap")
        for item in items:
            box = _box(item)
            if _overlap(box, _box(frame)) and not _inside(box, _box(frame)):
                problems.append(f"{item.id} sticks out of the frame {frame.id}")
    graph = _flow_graph(scenario)
    for edge in scenario.edges:
        source, target = scenario.nodes[edge.source], scenario.nodes[edge.target]
        if target.position[0] < source.position[0] and not nx.has_path(
            graph, edge.target, edge.source
        ):
            problems.append(f"{edge.source} → {edge.target} runs right to left")
    leftmost = min(n.position[0] for n in scenario.flow_nodes())
    for entry in _entries(scenario):
        if scenario.nodes[entry].position[0] > leftmost:
            problems.append(f"the entry {entry} is not in the leftmost column")
    return problems


CHECKS: dict[str, Callable[[Scenario], list[str]]] = {
    "exits": check_exits,
    "reachability": check_reachability,
    "cycles": check_cycles,
    "branching": check_branching,
    "params": check_params,
    "conditions": check_conditions,
    "templates": check_templates,
    "frequency_cap": check_frequency_cap,
    "quiet_hours": check_quiet_hours,
    "layout": check_layout,
}


# --- the examples --------------------------------------------------------------------------


def test_the_named_examples_are_bundled() -> None:
    names = {path.stem for path in EXAMPLE_PATHS}
    missing = set(NAMED_EXAMPLES) - names
    assert not missing, f"missing examples: {sorted(missing)}"


@pytest.mark.parametrize("path", EXAMPLE_PATHS, ids=lambda p: p.stem)
def test_example_loads_cleanly_and_is_canonical(path: Path, tmp_path: Path) -> None:
    loaded = load_scenario(path)
    assert loaded.issues == []
    scenario = loaded.scenario
    assert scenario.id == path.stem
    assert scenario.name and len(scenario.description) > 100
    settings = scenario.settings
    assert settings.timezone == "Europe/Moscow" and settings.currency == "RUB"
    assert settings.quiet_hours is not None and settings.frequency_cap is not None
    text = path.read_text(encoding="utf-8")
    assert dumps_scenario(scenario) == text, "not in canonical form: save it with save_scenario"
    copy_path = tmp_path / path.name
    save_scenario(scenario, copy_path)
    assert copy_path.read_text(encoding="utf-8") == text
    assert dumps_scenario(_load(copy_path)) == text


@pytest.mark.parametrize("path", EXAMPLE_PATHS, ids=lambda p: p.stem)
def test_example_gives_the_validator_nothing_to_report(path: Path) -> None:
    """The product's validator, where present, finds no error and no warning either."""
    validation = pytest.importorskip("app.engine.validation")
    problems = validation.validate(_load(path))
    reported = [f"{p.severity} {p.code} {p.node}: {p.message}" for p in problems]
    assert [r for r in reported if not r.startswith("info")] == []


@pytest.mark.parametrize("check", CHECKS, ids=str)
@pytest.mark.parametrize("path", EXAMPLE_PATHS, ids=lambda p: p.stem)
def test_example_passes_check(path: Path, check: str) -> None:
    assert CHECKS[check](_load(path)) == []


def test_the_set_shows_the_whole_catalog() -> None:
    """Together the examples demonstrate every step type, channel and outcome."""
    nodes = [n for path in EXAMPLE_PATHS for n in _load(path).nodes.values()]
    assert {n.type for n in nodes} == set(CATALOG)
    channels = {n.params["channel"] for n in nodes if n.type in MESSAGE_TYPES}
    assert {"email", "sms", "messenger", "push"} <= channels
    assert {n.params["outcome"] for n in nodes if n.type == "exit"} == set(OUTCOMES)
    waits = {n.params.get("mode") for n in nodes if n.type == "wait"}
    assert waits == {"duration", "window"}
    roles = {p.role for path in EXAMPLE_PATHS for p in _load(path).products}
    assert {"lead_magnet", "tripwire", "main", "upsell"} <= roles


def test_product_matrix_has_a_goal_at_every_stage() -> None:
    scenario = _load(EXAMPLES / "product_matrix.json")
    goals = {
        n.params["stage"]: n.params["revenue"] for n in scenario.nodes.values() if n.type == "goal"
    }
    assert set(goals) == {"Lead", "Tripwire bought", "Main bought", "Upsell bought"}
    assert goals["Tripwire bought"] > 0 and goals["Main bought"] > goals["Upsell bought"] > 0
    prices = {p.role: p.price for p in scenario.products}
    assert prices["lead_magnet"] == 0 < prices["tripwire"] < prices["upsell"] < prices["main"]


# --- the checks catch what they claim to catch ---------------------------------------------


def _example(name: str) -> Scenario:
    return copy.deepcopy(_load(EXAMPLES / f"{name}.json"))


def _drop_edge(scenario: Scenario, source: str, exit_name: str) -> Edge:
    edge = scenario.edges_from(source, exit_name)[0]
    scenario.remove_edge(edge)
    return edge


def _broken_unconnected_exit() -> Scenario:
    scenario = _example("abandoned_cart")
    _drop_edge(scenario, "remind_email", "failed")
    return scenario


def _broken_edge_into_entry() -> Scenario:
    scenario = _example("abandoned_cart")
    scenario.add_edge(Edge("tag_lost", "next", "entry_cart"))
    return scenario


def _broken_unreachable() -> Scenario:
    scenario = _example("back_in_stock")
    _drop_edge(scenario, "wait_buy", "timeout")
    scenario.add_edge(Edge("wait_buy", "timeout", "exit_lost"))
    return scenario


def _broken_trap() -> Scenario:
    scenario = _example("back_in_stock")
    _drop_edge(scenario, "leave_waitlist", "next")
    scenario.add_edge(Edge("leave_waitlist", "next", "goal_bought"))
    return scenario


def _broken_no_converted() -> Scenario:
    scenario = _example("abandoned_cart")
    scenario.set_param("exit_converted", "outcome", "lost")
    return scenario


def _broken_instant_loop() -> Scenario:
    scenario = _example("bant_qualification")
    _drop_edge(scenario, "tag_no_need", "next")
    scenario.add_edge(Edge("tag_no_need", "next", "bant_switch"))
    return scenario


def _broken_split() -> Scenario:
    scenario = _example("win_back")
    variants = scenario.nodes["ab_discount"].params["variants"]
    variants[1]["weight"] = 40
    return scenario


def _broken_switch() -> Scenario:
    scenario = _example("post_sale_nps")
    _drop_edge(scenario, "nps_switch", "else")
    return scenario


def _broken_param() -> Scenario:
    scenario = _example("abandoned_cart")
    scenario.set_param("wait_purchase", "timeout", "two days")
    return scenario


def _broken_condition() -> Scenario:
    scenario = _example("abandoned_cart")
    scenario.set_param("check_sms", "condition", "consent_sms and phone_ok")
    return scenario


def _broken_template() -> Scenario:
    scenario = _example("abandoned_cart")
    scenario.set_param("remind_email", "subject", "{{ contact.nickname }}, your cart")
    return scenario


def _broken_frequency() -> Scenario:
    scenario = _example("abandoned_cart")
    scenario.settings.frequency_cap = FrequencyCap(messages=1, per="P1D")
    scenario.set_param("wait_purchase", "timeout", "PT2H")
    return scenario


def _broken_quiet_hours() -> Scenario:
    scenario = _example("abandoned_cart")
    _drop_edge(scenario, "wait_1h", "next")
    scenario.add_edge(Edge("wait_1h", "next", "remind_email"))
    return scenario


def _broken_layout() -> Scenario:
    scenario = _example("product_matrix")
    scenario.move_node("goal_lead", (COLUMN_STEP * 2 - 10, 0))
    return scenario


BROKEN: dict[str, tuple[str, Callable[[], Scenario], str]] = {
    "unconnected exit": ("exits", _broken_unconnected_exit, "remind_email: exit ‘failed’"),
    "edge into entry": ("exits", _broken_edge_into_entry, "leads into the entry"),
    "unreachable": ("reachability", _broken_unreachable, "scarcity_email: unreachable"),
    "trap": ("reachability", _broken_trap, "no Exit can be reached"),
    "no converted": ("reachability", _broken_no_converted, "outcome ‘converted’"),
    "instant loop": ("cycles", _broken_instant_loop, "a loop with no wait"),
    "split weights": ("branching", _broken_split, "A/B weights"),
    "switch without else": ("branching", _broken_switch, "no ‘else’ edge"),
    "bad duration": ("params", _broken_param, "not an ISO 8601 duration"),
    "unknown field": ("conditions", _broken_condition, "unknown field ‘phone_ok’"),
    "unknown contact field": ("templates", _broken_template, "no field ‘nickname’"),
    "too many messages": ("frequency_cap", _broken_frequency, "sends 3 messages"),
    "quiet hours": ("quiet_hours", _broken_quiet_hours, "remind_email: can be sent"),
    "overlap": ("layout", _broken_layout, "overlap"),
}


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_check_catches_a_broken_example(case: str) -> None:
    check, breaker, expected = BROKEN[case]
    problems = CHECKS[check](breaker())
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        "cart_value > 5000 and consent_sms",
        '"cats" in tags and season == "winter"',
        'nps_score >= 9 or not has_event("purchase")',
        'event_count("opened") >= 2 and days_since("purchase") <= 30',
        '"vip" not in tags and gender == "f"',
    ],
)
def test_condition_check_accepts_the_language(text: str) -> None:
    assert condition_problems(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cart_value >", "not a valid condition"),
        ('has_event("teleported")', "unknown event"),
        ('season == "monsoon"', "never 'monsoon'"),
        ("__import__('os')", "unknown function"),
        ("cart_value + 1 > 2", "not allowed"),
        ("contact.age > 3", "not allowed"),
    ],
)
def test_condition_check_rejects_outside_the_language(text: str, expected: str) -> None:
    assert any(expected in p for p in condition_problems(text))
