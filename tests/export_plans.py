"""Walks that cover every exit of a scenario, and contacts that steer decisions down them.

The engine tests (Step Functions in moto, BPMN in SpiffWorkflow) drive one execution per walk
and check that the engine visits exactly the walk's nodes and ends at its exit. A walk is a list
of (node id, exit) steps from an entry to an exit node; together the walks take every exit of
every reachable node at least once. Decisions are steered by contacts found by search: values
taken from the condition's own literals (±1 for numbers), checked with `expressions.evaluate`.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.engine import expressions
from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema, FieldType
from app.engine.expressions import Call, FieldRef, Literal, Membership, walk
from app.engine.model import Node, Scenario

Step = tuple[str, str]  # (node id, exit taken); an exit node's step has exit ""

# Conditions chosen to hit every branch of the export back-ends: guards, missing values, counts that
# default to 0, strict equality, substrings, lists, tags, constants and negations.
CONDITIONS = [
    "age >= 25",
    "age != 30",
    "not age < 18",
    "18 <= age < 65",
    'gender == "f"',
    'city != "Kazan"',
    'city in ["Kazan", "Moscow"]',
    'city not in ["Kazan"]',
    '"az" in city',
    '"*" in city',
    "consent_sms and has_phone",
    "consent_sms == false",
    "consent_sms != true",
    '"vip" in tags',
    '"vip" not in tags or has_tag("cats")',
    'has_event("purchase")',
    'not has_event("purchase")',
    'event_count("opened") >= 2',
    'event_count("opened") < 1',
    'event_count("opened") == 0',
    'days_since("purchase") <= 14',
    'days_since("purchase") > 14 or days_since("purchase") != 3',
    "orders_count == total_spent",
    "orders_count < total_spent",
    "age == age",
    "loyalty_level >= 2",
    'loyalty_level == "gold"',
    "1 < 2 and age > 1",
    "2 < 1 or consent_email",
    'has_event("purchase") == true',
    "true",
]


@dataclass(frozen=True)
class Walk:
    entry: str
    steps: tuple[Step, ...]

    @property
    def end(self) -> str:
        return self.steps[-1][0]

    @property
    def nodes(self) -> list[str]:
        return [node for node, _ in self.steps]


def plan_walks(scenario: Scenario) -> list[Walk]:
    """Few walks that together take every exit of every node reachable from an entry."""
    targets = {(e.source, e.exit): e.target for e in scenario.edges}
    flow = {n.id: n for n in scenario.flow_nodes()}
    walks: list[Walk] = []
    covered: set[Step] = set()
    for entry in [n for n in flow.values() if n.is_entry]:
        to_node = _shortest_from(entry.id, flow, targets)
        for node_id in sorted(to_node):
            for exit_name in flow[node_id].exits:
                if (node_id, exit_name) in covered:
                    continue
                head = [*to_node[node_id], (node_id, exit_name)]
                tail = _to_an_exit(targets[(node_id, exit_name)], flow, targets)
                steps = (*head, *tail)
                covered |= set(steps)
                walks.append(Walk(entry.id, steps))
    return walks


def _shortest_from(start: str, flow: dict[str, Node], targets) -> dict[str, list[Step]]:
    """For each reachable node, the steps leading to it (not including its own step)."""
    paths: dict[str, list[Step]] = {start: []}
    queue = deque([start])
    while queue:
        node_id = queue.popleft()
        for exit_name in flow[node_id].exits:
            target = targets[(node_id, exit_name)]
            if target not in paths:
                paths[target] = [*paths[node_id], (node_id, exit_name)]
                queue.append(target)
    return paths


def _to_an_exit(start: str, flow: dict[str, Node], targets) -> list[Step]:
    paths = _shortest_from(start, flow, targets)
    ends = [n for n in paths if flow[n].type == "exit"]
    nearest = min(ends, key=lambda n: (len(paths[n]), n))
    return [*paths[nearest], (nearest, "")]


# --------------------------------------------------------------------------- decisions


def decision_conditions(node: Node) -> list[tuple[str, str | None]]:
    """(exit, condition text) in evaluation order; the default exit comes last with None.

    An entry's default is `not_entered`: the contact does not meet the entry condition."""
    if node.type == "switch":
        cases = [(c["id"], c.get("condition") or None) for c in node.params.get("cases") or []]
        return [*cases, ("else", None)]
    if node.type == "condition":
        return [("yes", node.params.get("condition") or None), ("no", None)]
    return [("next", node.params.get("condition") or None), ("not_entered", None)]


def contact_for(
    node: Node, exit_name: str, schema: ContactSchema = DEFAULT_SCHEMA
) -> dict[str, Any]:
    """A runtime contact with which the decision `node` takes `exit_name`."""
    conditions = decision_conditions(node)
    parsed = [(key, expressions.parse(text) if text else None) for key, text in conditions]
    wanted = [key == exit_name for key, _ in parsed]
    exprs = [expr for _, expr in parsed if expr is not None]
    for contact in candidate_contacts(exprs, schema):
        truths = [expr is None or expressions.evaluate(expr, contact, schema) for _, expr in parsed]
        first_true = truths.index(True) if True in truths else len(truths) - 1
        if wanted.index(True) == first_true:
            return contact
    raise AssertionError(f"no contact found that takes exit {exit_name} of {node.id}")


def candidate_contacts(
    exprs: list[expressions.Expr], schema: ContactSchema = DEFAULT_SCHEMA, limit: int = 50_000
) -> Iterator[dict[str, Any]]:
    """Contacts built from every combination of the values the expressions care about."""
    literals = [n.value for e in exprs for n in walk(e) if isinstance(n, Literal)]
    literals += [
        i.value
        for e in exprs
        for n in walk(e)
        if isinstance(n, Membership)
        for i in getattr(n.container, "items", ())
    ]
    numbers = sorted(
        {v + d for v in literals if _is_number(v) for d in (-1, 0, 1)} | {-1, 0, 1, 1000}
    )
    texts = sorted({v for v in literals if isinstance(v, str)} | {"zz"})
    slots: dict[tuple[str, ...], list[Any]] = {}
    tags: set[str] = set()
    for expr in exprs:
        tags |= expressions.tags_used(expr)
        for node in walk(expr):
            if isinstance(node, FieldRef) and node.name != "tags":
                declared = schema.find(node.name)
                path = (node.name,) if declared else ("attributes", node.name)
                kind = declared.type if declared else None
                values = {
                    FieldType.NUMBER: numbers,
                    FieldType.BOOLEAN: [True, False],
                    FieldType.TEXT: [*texts, ""],
                    FieldType.ENUM: texts,
                }.get(kind, [*numbers, *texts, True, False])
                slots[path] = [None, *values]
            elif isinstance(node, Call) and node.func != "has_tag":
                key = "days_since" if node.func == "days_since" else "count"
                slots[("events", node.arg, key)] = [None, *[n for n in numbers if n >= 0]]
    tag_sets = _subsets(sorted(tags))
    paths = sorted(slots)
    combos = itertools.product(tag_sets, *[slots[p] for p in paths])
    for combo in itertools.islice(combos, limit):
        contact: dict[str, Any] = {"tags": list(combo[0]), "events": {}, "attributes": {}}
        for path, value in zip(paths, combo[1:], strict=True):
            if value is None:
                continue
            place = contact
            for key in path[:-1]:
                place = place.setdefault(key, {})
            place[path[-1]] = value
        yield contact


def _subsets(items: list[str]) -> list[tuple[str, ...]]:
    if len(items) > 6:
        return [(), tuple(items), *[(t,) for t in items]]
    return [c for r in range(len(items) + 1) for c in itertools.combinations(items, r)]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
