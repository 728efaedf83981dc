"""Validation rules: every code has a failing and a fixed scenario; random scenarios never crash.

Scenarios are written with `build` (nodes as `(id, type, params[, title])`, edges as
`"source.exit>target"`) and go through the file loader, so they are exactly what a file holds.
Catalog defaults fill the params a case does not name; `clean()` is a funnel with no problem at
all, and most cases are one small edit of it.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main as cli_main
from app.engine.catalog import CATALOG, NODE_TYPES
from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
from app.engine.model import Edge, Node, Scenario
from app.engine.serialization import dumps_scenario, load_scenario, scenario_from_dict
from app.engine.validation import RULES, Problem, Severity, validate
from app.resources import EXAMPLES

REPO = Path(__file__).resolve().parent.parent
CODES = {r.code for r in RULES}
SEVERITY = {r.code: r.severity for r in RULES}

# --- building scenarios ---------------------------------------------------------------------

DROP = object()  # as a param value: remove the catalog default
KIT = {"id": "kit", "name": "Starter kit", "role": "main", "price": 990}
# Params a step needs to be valid that the catalog leaves empty.
_FILL: dict[str, dict[str, Any]] = {
    "message": {"body": "Hello, {{ contact.first_name }}"},
    "offer": {"body": "Your code: {{ promo_code }}", "product": "kit", "promo_code": "KIT10"},
}

NodeSpec = tuple[Any, ...]  # (id, type) | (id, type, params) | (id, type, params, title)


def _node_dict(spec: NodeSpec) -> dict[str, Any]:
    node_id, type_name, *rest = spec
    given_params = rest[0] if rest else {}
    declared = CATALOG.get(type_name)
    params = {
        **(declared.default_params() if declared else {}),
        **_FILL.get(type_name, {}),
        **given_params,
    }
    return {
        "id": node_id,
        "type": type_name,
        "title": rest[1] if len(rest) > 1 else "",
        "params": {k: v for k, v in params.items() if v is not DROP},
    }


def _edge_dict(text: str) -> dict[str, str]:
    left, _, target = text.partition(">")
    source, _, exit_name = left.rpartition(".")
    return {"from": source, "exit": exit_name, "to": target}


def document(
    nodes: Iterable[NodeSpec],
    edges: Iterable[str] = (),
    settings: dict[str, Any] | None = None,
    products: Sequence[dict[str, Any]] = (KIT,),
) -> dict[str, Any]:
    return {
        "format": "voronka.scenario",
        "version": 1,
        "id": "test",
        "name": "Test funnel",
        "settings": settings or {},
        "products": list(products),
        "nodes": [_node_dict(n) for n in nodes],
        "edges": [_edge_dict(e) for e in edges],
    }


def build(
    nodes: Iterable[NodeSpec],
    edges: Iterable[str] = (),
    settings: dict[str, Any] | None = None,
    products: Sequence[dict[str, Any]] = (KIT,),
) -> Scenario:
    """A scenario as the loader makes it from a file."""
    return scenario_from_dict(document(nodes, edges, settings, products)).scenario


CLEAN_NODES: list[NodeSpec] = [
    ("entry", "entry.segment", {"condition": "age >= 18"}, "Adults"),
    (
        "send_window",
        "wait",
        {"mode": "window", "window_start": "10:00", "window_end": "20:00"},
        "Next send window",
    ),
    ("mail", "message", {}, "Welcome e-mail"),
    ("won", "exit", {"outcome": "converted"}, "Bought"),
    ("lost", "exit", {"outcome": "lost"}, "Lost"),
]
CLEAN_EDGES = [
    "entry.next>send_window",
    "send_window.next>mail",
    "mail.sent>won",
    "mail.failed>lost",
]


def clean(
    *,
    nodes: Iterable[NodeSpec] = (),
    edges: Iterable[str] = (),
    without: Iterable[str] = (),
    params: dict[str, dict[str, Any]] | None = None,
    settings: dict[str, Any] | None = None,
) -> Scenario:
    """The clean funnel, edited: `nodes` are added (or replace the node with their id), `edges`
    added, `without` removes edges (`a.x>b`) and nodes (ids), `params` merge into nodes."""
    removed = set(without)
    replaced = {spec[0]: spec for spec in nodes}
    specs = [replaced.pop(spec[0], spec) for spec in CLEAN_NODES if spec[0] not in removed]
    specs += replaced.values()
    for node_id, extra in (params or {}).items():
        index = next(i for i, spec in enumerate(specs) if spec[0] == node_id)
        node_id, type_name, *rest = specs[index]
        specs[index] = (node_id, type_name, {**(rest[0] if rest else {}), **extra}, *rest[1:])
    all_edges = [e for e in CLEAN_EDGES if e not in removed] + list(edges)
    return build(specs, all_edges, settings)


def path(entry_condition: str, *steps: tuple[str, str, dict[str, Any], str]) -> Scenario:
    """entry → steps in order, each left by its named exit to the next step (the last to `won`);
    every other exit goes to `lost`. For the logic rules, so there is no message on the way."""
    nodes: list[NodeSpec] = [
        ("entry", "entry.segment", {"condition": entry_condition}),
        ("won", "exit", {"outcome": "converted"}),
        ("lost", "exit", {"outcome": "lost"}),
    ]
    edges = [f"entry.next>{steps[0][0] if steps else 'won'}"]
    for index, (node_id, type_name, params, taken) in enumerate(steps):
        nodes.append((node_id, type_name, params))
        after = steps[index + 1][0] if index + 1 < len(steps) else "won"
        exits = Node(node_id, type_name, params=_node_dict((node_id, type_name, params))["params"])
        assert taken in exits.exits, f"{node_id} has no exit {taken}"
        edges += [f"{node_id}.{x}>{after if x == taken else 'lost'}" for x in exits.exits]
    return build(nodes, edges)


def cond(node_id: str, text: str, taken: str = "yes") -> tuple[str, str, dict[str, Any], str]:
    return (node_id, "condition", {"condition": text}, taken)


def switch(node_id: str, *cases: tuple[str, str], taken: str = "else") -> tuple[Any, ...]:
    items = [{"id": i, "label": i.title(), "condition": c} for i, c in cases]
    return (node_id, "switch", {"cases": items}, taken)


def wait(node_id: str, duration: str = "P1D") -> tuple[str, str, dict[str, Any], str]:
    return (node_id, "wait", {"duration": duration}, "next")


def update(node_id: str, action: str, **params: Any) -> tuple[str, str, dict[str, Any], str]:
    return (node_id, "update", {"action": action, **params}, "next")


def found(problems: Iterable[Problem], code: str) -> list[tuple[str | None, str | None]]:
    return [(p.node, p.exit) for p in problems if p.code == code]


def show(problems: Iterable[Problem]) -> str:
    return "\n".join(f"{p.code} {p.node}.{p.exit}: {p.message}" for p in problems) or "(none)"


# --- one failing and one fixed scenario per rule ----------------------------------------------

VIP_TAGS = ContactSchema(tags=frozenset({"vip", "newsletter"}))
WITH_CUSTOM = ContactSchema(custom_attributes=frozenset({"loyalty_level"}))


@dataclass(frozen=True)
class Case:
    id: str
    broken: Scenario
    fixed: Scenario
    node: str | None  # where the problem must be reported
    exit: str | None
    phrase: str  # must appear in the message
    schema: ContactSchema = DEFAULT_SCHEMA
    severity: Severity | None = None  # None: the rule's own
    edge: Edge | None = None

    @property
    def code(self) -> str:
        return self.id.split("-")[0]


WAIT_BUY = ("buy", "wait_event", {"event": "purchase", "timeout": "P2D"}, "Bought within 2 days?")
BUY_EDGES = ["mail.sent>buy", "buy.happened>won"]
LOOP_NODES = [("again", "condition", {"condition": "orders_count > 0"}, "Ordered?")]
LOOP_EDGES = ["again.yes>won", "again.no>mail"]


def _split(*variants: tuple[str, Any]) -> Scenario:
    items = [{"id": i, "label": i.upper(), "weight": w} for i, w in variants]
    return clean(
        nodes=[("ab", "split", {"variants": items}, "A/B")],
        without=["send_window.next>mail"],
        edges=["send_window.next>ab", *(f"ab.{i}>mail" for i in dict(variants))],
    )


def _wait_event(timeout: Any) -> Scenario:
    buy = (*WAIT_BUY[:2], {**WAIT_BUY[2], "timeout": timeout})
    return clean(nodes=[buy], without=["mail.sent>won"], edges=[*BUY_EDGES, "buy.timeout>lost"])


def _pause(duration: str) -> Scenario:
    return clean(
        nodes=[("pause", "wait", {"duration": duration}, "Pause")],
        without=["send_window.next>mail"],
        edges=["send_window.next>pause", "pause.next>mail"],
    )


def _entry(condition: str, *extra: NodeSpec, **edits: Any) -> Scenario:
    return clean(nodes=[("entry", "entry.segment", {"condition": condition}), *extra], **edits)


def _event_entry(event: Any) -> Scenario:
    return clean(nodes=[("entry", "entry.event", {"event": event}, "Cart abandoned")])


def _offer(**params: Any) -> Scenario:
    return clean(nodes=[("mail", "offer", params, "Starter kit offer")])


def _messages(*between: NodeSpec, cap: dict[str, Any] | None = None) -> Scenario:
    """entry → window → m1 → m2 → [between] → m3 → m4 → won: four messages in a row."""
    nodes: list[NodeSpec] = [*CLEAN_NODES[:2], CLEAN_NODES[3], CLEAN_NODES[4]]
    nodes += [(f"m{i}", "message", {}, f"Message {i}") for i in range(1, 5)]
    nodes += list(between)
    chain = ["m1", "m2", *(n[0] for n in between), "m3", "m4", "won"]
    edges = ["entry.next>send_window", "send_window.next>m1"]
    edges += [
        f"{a}.{'sent' if a.startswith('m') else 'next'}>{b}" for a, b in itertools.pairwise(chain)
    ]
    edges += [f"m{i}.failed>lost" for i in range(1, 5)]
    return build(nodes, edges, {"frequency_cap": cap or {"messages": 3, "per": "P1D"}})


def _window(start: str, end: str) -> Scenario:
    return clean(params={"send_window": {"window_start": start, "window_end": end}})


CLEAN = clean()
NO_WINDOW_NODES = [n for n in CLEAN_NODES if n[0] != "send_window"]
NO_WINDOW_EDGES = ["entry.next>mail", "mail.sent>won", "mail.failed>lost"]
NO_WINDOW = build(NO_WINDOW_NODES, NO_WINDOW_EDGES)

CASES = [
    Case("V101", build([("only", "exit")]), CLEAN, None, None, "has no entry"),
    Case(
        "V102",
        clean(without=["mail.failed>lost"]),
        CLEAN,
        "mail",
        "failed",
        "contacts the message cannot reach (no consent, no address, not delivered) go nowhere",
    ),
    Case(
        "V102-timeout",
        clean(nodes=[WAIT_BUY], without=["mail.sent>won"], edges=BUY_EDGES),
        _wait_event("P2D"),
        "buy",
        "timeout",
        "contacts without ‘purchase’ within 2 days go nowhere",
    ),
    Case(
        "V103",
        clean(edges=["mail.failed>won"]),
        CLEAN,
        "mail",
        "failed",
        "leads to 2 steps",
    ),
    Case(
        "V104",
        clean(without=["mail.failed>lost", "lost"], edges=["mail.failed>entry"]),
        CLEAN,
        "entry",
        None,
        "is an entry and cannot be entered",
        edge=Edge("mail", "failed", "entry"),
    ),
    Case(
        "V104-note",
        clean(
            nodes=[("memo", "note", {"text": "ask legal"})],
            without=["mail.failed>lost", "lost"],
            edges=["mail.failed>memo"],
        ),
        clean(nodes=[("memo", "note", {"text": "ask legal"})]),
        "memo",
        None,
        "is a note or frame",
        edge=Edge("mail", "failed", "memo"),
    ),
    Case(
        "V105",
        clean(without=["mail.failed>lost", "lost"], edges=["mail.failed>ghost"]),
        CLEAN,
        "mail",
        "failed",
        "names ‘ghost’, which does not exist",
        edge=Edge("mail", "failed", "ghost"),
    ),
    Case(
        "V105-source",
        clean(edges=["ghost.next>won"]),
        CLEAN,
        None,
        None,
        "names ‘ghost’, which does not exist",
        edge=Edge("ghost", "next", "won"),
    ),
    Case(
        "V106",
        clean(without=["mail.failed>lost"], edges=["mail.bounced>lost"]),
        CLEAN,
        "mail",
        None,  # the exit does not exist: the edge names it
        "has no exit ‘bounced’ (its exits: sent, failed)",
        edge=Edge("mail", "bounced", "lost"),
    ),
    Case(
        "V107",
        clean(nodes=[("orphan", "message")], edges=["orphan.sent>won", "orphan.failed>lost"]),
        CLEAN,
        "orphan",
        None,
        "No contact can reach",
    ),
    Case(
        "V108",
        build(
            CLEAN_NODES[:3],
            [*CLEAN_EDGES[:2], "mail.sent>send_window", "mail.failed>send_window"],
        ),
        CLEAN,
        "mail",
        None,
        "can never leave: no path from it leads to an Exit (they loop forever)",
    ),
    Case(
        "V109",
        clean(nodes=LOOP_NODES, without=["mail.sent>won"], edges=["mail.sent>again", *LOOP_EDGES]),
        clean(
            nodes=[*LOOP_NODES, ("pause", "wait", {"duration": "P1D"})],
            without=["mail.sent>won"],
            edges=["mail.sent>pause", "pause.next>again", *LOOP_EDGES],
        ),
        "again",
        None,
        "loop instantly and forever through ‘Ordered?’, ‘Welcome e-mail’",
    ),
    Case(
        "V110",
        clean(
            nodes=[switch("route", ("adult", "age >= 21"))[:3]],
            without=["send_window.next>mail"],
            edges=["send_window.next>route", "route.adult>mail"],
        ),
        clean(
            nodes=[switch("route", ("adult", "age >= 21"))[:3]],
            without=["send_window.next>mail"],
            edges=["send_window.next>route", "route.adult>mail", "route.else>lost"],
        ),
        "route",
        "else",
        "contacts matching none of its cases go nowhere",
    ),
    Case(
        "V111",
        _split(("a", 70), ("b", 20)),
        _split(("a", 50), ("b", 50)),
        "ab",
        None,
        "The weights of ‘A/B’ add up to 90, not 100",
    ),
    Case(
        "V111-zero",
        _split(("a", 100), ("b", 0)),
        _split(("a", 50), ("b", 50)),
        "ab",
        "b",
        "has weight 0: every variant needs a weight above 0",
    ),
    Case(
        "V111-nan",  # a JSON file may hold NaN; it used to pass as a valid weight
        _split(("a", math.nan), ("b", 100)),
        _split(("a", 50), ("b", 50)),
        "ab",
        "a",
        "has weight nan",
    ),
    Case(
        "V111-one",
        _split(("a", 100)),
        _split(("a", 50), ("b", 50)),
        "ab",
        None,
        "needs at least two variants",
    ),
    Case(
        "V112",
        _split(("a", 50), ("a", 50)),
        _split(("a", 50), ("b", 50)),
        "ab",
        None,
        "uses the id ‘a’ twice",
    ),
    Case(
        "V112-no-id",
        clean(
            nodes=[("route", "switch", {"cases": [{"condition": "age >= 21"}]})],
            without=["send_window.next>mail"],
            edges=["send_window.next>route", "route.else>mail"],
        ),
        clean(
            nodes=[switch("route", ("adult", "age >= 21"))[:3]],
            without=["send_window.next>mail"],
            edges=["send_window.next>route", "route.adult>mail", "route.else>mail"],
        ),
        "route",
        None,
        "Case 1 of ‘Switch’ has no id",
    ),
    Case("V113", _wait_event(DROP), _wait_event("P2D"), "buy", None, "has no timeout"),
    Case("V113-empty", _wait_event(""), _wait_event("P2D"), "buy", None, "has no timeout"),
    Case("V114", _pause("2 days"), _pause("P2D"), "pause", None, "‘2 days’ is not a duration"),
    Case(
        "V114-time",
        _window("25:00", "20:00"),
        CLEAN,
        "send_window",
        None,
        "Window opens: ‘25:00’ is not a time",
    ),
    Case(
        "V114-cap",
        clean(settings={"frequency_cap": {"messages": 3, "per": "P1 day"}}),
        CLEAN,
        None,
        None,
        "frequency cap period",
    ),
    Case(
        "V115",
        clean(
            nodes=[("future", "ai.best_time", {}, "Best time")],
            without=["send_window.next>mail"],
            edges=["send_window.next>future", "future.ready>mail"],
        ),
        CLEAN,
        "future",
        None,
        "has the unknown type ‘ai.best_time’",
    ),
    Case(
        "V116",
        clean(params={"mail": {"cost": -1}}),
        CLEAN,
        "mail",
        None,
        "Cost per message: -1 is out of range (from 0)",
    ),
    Case(
        "V116-choice",
        clean(params={"entry": {"reentry": "sometimes"}}),
        CLEAN,
        "entry",
        None,
        "‘sometimes’ is not one of never, after_exit, always",
    ),
    Case(
        "V116-nan",  # NaN used to pass every range check
        clean(params={"mail": {"cost": math.nan}}),
        CLEAN,
        "mail",
        None,
        "nan is not a number",
    ),
    Case("V201", _entry("age >="), CLEAN, "entry", None, "Condition: column 7: the condition"),
    Case(
        "V201-empty",
        path("", cond("check", "", "yes")),
        path("", cond("check", "age >= 18", "yes")),
        "check",
        None,
        "the condition is empty",
    ),
    Case(
        "V202",
        _entry("agee >= 18"),
        CLEAN,
        "entry",
        None,
        "there is no field called agee; did you mean age?",
    ),
    Case(
        "V202-custom",
        _entry("agee >= 18"),
        CLEAN,
        "entry",
        None,
        "there is no field called agee",
        schema=WITH_CUSTOM,
        severity=Severity.WARNING,
    ),
    Case(
        "V202-tag",
        _entry('"cats" in tags'),
        _entry('"vip" in tags'),
        "entry",
        None,
        "no contact has the tag cats",
        schema=VIP_TAGS,
        severity=Severity.WARNING,  # a form or the CRM may set it later
    ),
    Case(
        "V202-tag-added",  # a tag an Update step adds is known
        _entry('"cats" in tags'),
        _entry(
            '"cats" in tags',
            ("tagger", "update", {"action": "add_tag", "tag": "cats"}),
            without=["mail.sent>won"],
            edges=["mail.sent>tagger", "tagger.next>won"],
        ),
        "entry",
        None,
        "no contact has the tag cats",
        schema=VIP_TAGS,
        severity=Severity.WARNING,
    ),
    Case("V202-type", _entry('age == "old"'), CLEAN, "entry", None, "cannot be compared with"),
    Case(
        "V203",
        clean(params={"mail": {"body": "Hi {{ contact.frist_name }}"}}),
        CLEAN,
        "mail",
        None,
        "did you mean ‘contact.first_name’",
    ),
    Case(
        "V203-product-outside-an-offer",
        clean(params={"mail": {"subject": "{{ product.name }} is back"}}),
        clean(params={"mail": {"subject": "AirTrail 2 is back"}}),
        "mail",
        None,
        "known only in a Product offer step",
    ),
    Case(
        "V204",
        _event_entry("cart_abandonned"),
        _event_entry("cart_abandoned"),
        "entry",
        None,
        "uses the event ‘cart_abandonned’, which the contact database does not know",
    ),
    Case(
        "V204-empty",
        _event_entry(""),
        _event_entry("cart_abandoned"),
        "entry",
        None,
        "does not say which event",
    ),
    Case(
        "V204-list",  # used to crash: a list is not hashable
        _event_entry(["cart_abandoned"]),
        _event_entry("cart_abandoned"),
        "entry",
        None,
        "which the contact database does not know",
    ),
    Case(
        "V205",
        _offer(product="ghost"),
        _offer(),
        "mail",
        None,
        "offers ‘ghost’, which is not in the scenario's products",
    ),
    Case("V205-none", _offer(product=""), _offer(), "mail", None, "offers no product"),
    Case(
        "V206",
        clean(params={"mail": {"channel": "fax"}}),
        CLEAN,
        "mail",
        None,
        "has the unknown channel ‘fax’; choose one of email, sms",
    ),
    Case(
        "V206-body", clean(params={"mail": {"body": "  "}}), CLEAN, "mail", None, "no text to send"
    ),
    Case(
        "V207",
        _offer(discount=60),
        _offer(discount=20),
        "mail",
        None,
        "gives 60 % off, above the scenario's limit of 50 %",
    ),
    Case(
        "V301",
        _messages(),
        _messages(("pause", "wait", {"duration": "P1D"})),
        "m4",
        None,
        "can be message number 4 within 1 day, above the frequency cap of 3",
    ),
    Case(
        "V302",
        NO_WINDOW,
        CLEAN,
        "mail",
        None,
        "can go out during quiet hours (22:00–09:00)",
    ),
    Case(
        "V303",
        clean(
            nodes=[("linger", "wait", {"duration": "P1D"}, "Linger")],
            without=["mail.sent>won"],
            edges=["mail.sent>linger", "linger.next>won"],
        ),
        CLEAN,
        "linger",
        None,
        "is followed only by an Exit: it just delays leaving",
    ),
    Case(
        "V401",
        path("age < 25", cond("older", "age > 40", "no")),
        path("age < 50", cond("older", "age > 40", "no")),
        "older",
        "yes",
        "The *yes* exit of ‘Condition’ is never taken: the conditions contacts passed before",
    ),
    Case(
        "V401-no-branch",
        path("age >= 18", cond("minor", "age < 18", "no")),
        path("", cond("minor", "age < 18", "no")),
        "minor",
        "yes",
        "never taken",
    ),
    Case(
        "V401-tags",
        path("", cond("cats", '"cats" in tags'), cond("no_cats", 'not has_tag("cats")', "no")),
        path("", cond("cats", '"cats" in tags'), cond("no_cats", 'not has_tag("dogs")', "no")),
        "no_cats",
        "yes",
        "never taken",
    ),
    Case(
        "V401-membership",
        path("", cond("city", 'city in ["Moscow", "Kazan"]'), cond("omsk", 'city == "Omsk"')),
        path("", cond("city", 'city in ["Moscow", "Kazan"]'), cond("omsk", 'city == "Kazan"')),
        "omsk",
        "yes",
        "never taken",
    ),
    Case(
        "V401-switch",
        path("age < 25", switch("band", ("young", "age < 18"), ("old", "age > 60"))),
        path("", switch("band", ("young", "age < 18"), ("old", "age > 60"))),
        "band",
        "old",
        "The *old* exit of ‘Switch’ is never taken",
    ),
    Case(
        "V402",
        path("", cond("odd", "age > 30 and age < 20", "no")),
        path("", cond("odd", "age > 30 or age < 20", "no")),
        "odd",
        "yes",
        "the condition is always false",
    ),
    Case(
        "V402-always-true",
        path("", cond("odd", "orders_count > 3 or orders_count <= 3")),
        path("", cond("odd", "orders_count > 3 or orders_count < 3")),
        "odd",
        "no",
        "the condition is always true",
    ),
    Case(
        "V403",
        path("", switch("band", ("a", "age < 20"), ("b", "age < 30"))),
        path("", switch("band", ("a", "age < 20"), ("b", "age >= 20 and age < 30"))),
        "band",
        "b",
        "Cases ‘a’ and ‘b’ of ‘Switch’ overlap",
    ),
    Case(
        "V501",
        clean(params={"won": {"outcome": "lost"}}),
        CLEAN,
        None,
        None,
        "never counts a success",
    ),
    Case(
        "V502",
        clean(params={"mail": {"channel": "sms"}}),
        clean(
            nodes=[("mail2", "message", {}, "E-mail instead")],
            params={"mail": {"channel": "sms"}},
            without=["mail.failed>lost"],
            edges=["mail.failed>mail2", "mail2.sent>won", "mail2.failed>lost"],
        ),
        "mail",
        "failed",
        "try another channel before giving up",
    ),
]


def test_every_registered_rule_has_a_case() -> None:
    """A new rule without a failing and a fixed scenario here fails the suite."""
    assert len(CODES) == len(RULES), "two rules share a code"
    assert {case.code for case in CASES} == CODES
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_reports_the_broken_scenario(case: Case) -> None:
    problems = validate(case.broken, case.schema)
    hits = [
        p
        for p in problems
        if p.code == case.code
        and p.node == case.node
        and p.exit == case.exit
        and case.phrase in p.message
    ]
    assert hits, show(problems)
    assert hits[0].severity is (case.severity or SEVERITY[case.code])
    if case.edge is not None:
        assert hits[0].edge == case.edge


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_passes_the_fixed_scenario(case: Case) -> None:
    """The fix leaves no problem at all, so no case hides another rule's false alarm."""
    problems = validate(case.fixed, case.schema)
    assert problems == [], show(problems)


def test_clean_funnel_has_no_problem() -> None:
    assert validate(CLEAN) == []
    assert validate(CLEAN, VIP_TAGS) == []


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_bundled_examples_have_no_error(example: Path) -> None:
    loaded = load_scenario(example)
    assert loaded.issues == []
    problems = validate(loaded.scenario)
    assert [p for p in problems if p.severity is Severity.ERROR] == [], show(problems)


def test_problems_come_errors_first_in_a_stable_order() -> None:
    scenario = clean(
        params={"mail": {"channel": "sms", "cost": -1}, "won": {"outcome": "lost"}},
        edges=["ghost.next>won"],
    )
    problems = validate(scenario)
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    assert [rank[p.severity] for p in problems] == sorted(rank[p.severity] for p in problems)
    assert validate(scenario) == problems
    assert {p.code for p in problems} >= {"V105", "V116", "V502", "V501"}


# --- logic: what earlier conditions imply ----------------------------------------------------


def logic(scenario: Scenario) -> list[tuple[str, str | None, str | None]]:
    return [(p.code, p.node, p.exit) for p in validate(scenario) if p.code.startswith("V4")]


def test_missing_values_take_the_no_branch() -> None:
    """`age >= 18` is false for a contact with no age, so `no` still holds any `age < 10`."""
    assert logic(path("", cond("adult", "age >= 18", "no"), cond("child", "age < 10"))) == []
    # `age < 18` after the no-branch: both exits happen (age 0–17, and age missing).
    assert logic(path("", cond("adult", "age >= 18", "no"), cond("minor", "age < 18"))) == []
    # The control: orders_count is never missing, so after `no` the `no` of `< 1` is dead.
    dead = path("", cond("some", "orders_count >= 1", "no"), cond("none", "orders_count < 1"))
    assert logic(dead) == [("V401", "none", "no")]


def test_an_update_step_changes_tag_facts() -> None:
    tagged = path(
        "",
        cond("cats", '"cats" in tags', "no"),
        update("tag", "add_tag", tag="cats"),
        cond("has_cats", 'has_tag("cats")'),
    )
    assert logic(tagged) == [("V401", "has_cats", "no")]  # the tag is surely there now
    untagged = path("", cond("cats", '"cats" in tags', "no"), cond("has_cats", 'has_tag("cats")'))
    assert logic(untagged) == [("V401", "has_cats", "yes")]
    removed = path(
        "",
        cond("cats", '"cats" in tags'),
        update("untag", "remove_tag", tag="cats"),
        cond("has_cats", '"cats" in tags', "no"),
    )
    assert logic(removed) == [("V401", "has_cats", "yes")]
    other_tag = path(
        "",
        cond("cats", '"cats" in tags', "no"),
        update("tag", "add_tag", tag="dogs"),
        cond("has_cats", 'has_tag("cats")', "no"),
    )
    assert logic(other_tag) == [("V401", "has_cats", "yes")]


def test_an_update_step_forgets_the_attribute_it_sets() -> None:
    young = path(
        "age < 25",
        update("grow", "set_attribute", attribute="age", value="50"),
        cond("older", "age > 40"),
    )
    assert logic(young) == []


def test_a_wait_keeps_only_identity_fields() -> None:
    rich = [cond("big", "cart_value > 5000")]
    small = cond("small", "cart_value < 100", "no")
    assert logic(path("", *rich, small)) == [("V401", "small", "yes")]
    assert logic(path("", *rich, wait("pause"), small)) == []
    assert logic(path("", *rich, ("hold", "wait_event", {}, "timeout"), small)) == []
    # identity fields are stable: what the entry said still holds after the wait.
    kept = path('city == "Moscow"', wait("pause"), cond("kazan", 'city == "Kazan"', "no"))
    assert logic(kept) == [("V401", "kazan", "yes")]
    # consent may be withdrawn while a contact waits: no verdict across a wait.
    consent = path("consent_sms", wait("pause"), cond("gone", "not consent_sms", "no"))
    assert logic(consent) == []


def test_conditions_the_reasoner_does_not_understand_are_assumed_possible() -> None:
    assert logic(path("age < 25", cond("older", "age * 2 > 100"))) == []
    buyer = cond("buyer", 'has_event("purchase")')
    assert logic(path("", buyer, cond("b", "orders_count > 3"))) == []
    assert logic(path("", cond("w", 'season == "winter"'), cond("s", 'season == "winter"'))) == []


def test_paths_are_joined_without_false_alarms() -> None:
    """Two ways into one condition: `yes` is dead on the young path but not on the old one."""
    scenario = build(
        [
            ("entry", "entry.segment", {"condition": ""}),
            ("young", "condition", {"condition": "age < 20"}),
            ("old", "condition", {"condition": "age > 60"}),
            ("middle", "condition", {"condition": "age > 50 and age < 70"}),
            ("won", "exit"),
            ("lost", "exit", {"outcome": "lost"}),
        ],
        [
            "entry.next>young",
            "young.yes>middle",
            "young.no>old",
            "old.yes>middle",
            "old.no>lost",
            "middle.yes>won",
            "middle.no>lost",
        ],
    )
    assert [p for p in validate(scenario) if p.code == "V401"] == []


def test_switch_cases_sharing_an_id_are_one_exit() -> None:
    """A repeated case id is V112; the logic must not call the exit dead (it used to: the later
    case overwrote the earlier one's contacts) nor report exits that do not exist."""
    cases = [
        {"id": "a", "condition": "age < 10"},
        {"id": "b", "condition": "age > 50"},
        {"id": "a", "condition": "age > 100 and age < 5"},
        {"condition": "age > 1 and age < 0"},  # no id: no exit either
        {"id": ["x"], "condition": "age > 3"},  # used to crash: a list is no dict key
    ]
    scenario = build(
        [
            ("entry", "entry.segment", {"condition": ""}),
            ("route", "switch", {"cases": cases}),
            ("won", "exit"),
        ],
        ["entry.next>route", "route.a>won", "route.b>won", "route.else>won"],
    )
    problems = validate(scenario)
    assert {p.code for p in problems} == {"V112"}, show(problems)


# --- timing ----------------------------------------------------------------------------------


def test_frequency_cap_counts_the_time_between_messages() -> None:
    assert found(validate(_messages()), "V301") == [("m4", None)]
    short = _messages(("pause", "wait", {"duration": "PT23H"}))
    assert found(validate(short), "V301") == [("m4", None)]  # 4 messages within 23 hours
    assert found(validate(_messages(("pause", "wait", {"duration": "P1D"}))), "V301") == []
    assert found(validate(_messages(cap={"messages": 4, "per": "P1D"})), "V301") == []
    two = _messages(cap={"messages": 2, "per": "P1D"})
    # m1-m2-m3 and m2-m3-m4 each break a cap of 2: every message over the cap is named, once.
    assert found(validate(two), "V301") == [("m3", None), ("m4", None)]
    uncapped = build([*CLEAN_NODES], CLEAN_EDGES, {"frequency_cap": None, "quiet_hours": None})
    assert validate(uncapped) == []


def test_a_wait_for_event_counts_its_timeout_not_its_happened_exit() -> None:
    scenario = _messages(("seen", "wait_event", {"event": "opened", "timeout": "P1D"}))
    # m2 → seen: `happened` can be at once (4 within a day), `timeout` takes a whole day.
    scenario.edges = [e for e in scenario.edges if e.source != "seen"]
    scenario.edges += [Edge("seen", "happened", "m3"), Edge("seen", "timeout", "won")]
    assert found(validate(scenario), "V301") == [("m4", None)]
    scenario.edges = [e for e in scenario.edges if e.source != "seen"]
    scenario.edges += [Edge("seen", "happened", "won"), Edge("seen", "timeout", "m3")]
    assert found(validate(scenario), "V301") == []


@pytest.mark.parametrize(
    ("start", "end", "warns"),
    [
        ("10:00", "20:00", False),
        ("09:00", "22:00", False),  # touches quiet hours at both ends, never inside
        ("08:00", "20:00", True),  # opens before quiet hours end
        ("10:00", "22:30", True),
        ("21:00", "23:00", True),
        ("23:00", "08:00", True),  # inside quiet hours, across midnight
    ],
)
def test_a_send_window_must_lie_outside_quiet_hours(start: str, end: str, warns: bool) -> None:
    assert found(validate(_window(start, end)), "V302") == ([("mail", None)] if warns else [])


def test_quiet_hours_need_the_window_on_every_path() -> None:
    assert found(validate(NO_WINDOW), "V302") == [("mail", None)]
    # A second entry that skips the window reaches the same message.
    bypass = clean(nodes=[("late", "entry.event", {}, "Cart abandoned")], edges=["late.next>mail"])
    assert found(validate(bypass), "V302") == [("mail", None)]
    quiet_off = build(NO_WINDOW_NODES, NO_WINDOW_EDGES, {"quiet_hours": None})
    assert found(validate(quiet_off), "V302") == []


def test_a_delay_of_hours_after_the_window_loses_the_schedule_whole_days_keep_it() -> None:
    def delayed(duration: str) -> Scenario:
        return clean(
            nodes=[("later", "wait", {"duration": duration}, "Later")],
            edges=["send_window.next>later", "later.next>mail"],
            without=["send_window.next>mail"],
        )

    assert found(validate(delayed("PT12H")), "V302") == [("mail", None)]
    assert found(validate(delayed("P2D")), "V302") == []


def test_failed_messages_do_not_count_towards_the_frequency_cap() -> None:
    scenario = _messages()
    # m1 fails over to m2 (a fallback channel): only three messages are really sent.
    scenario.edges = [e for e in scenario.edges if e.source != "m1"]
    scenario.edges += [Edge("m1", "failed", "m2"), Edge("m1", "sent", "m2_done")]
    scenario.nodes["m2_done"] = Node("m2_done", "exit", params={"outcome": "converted"})
    assert found(validate(scenario), "V301") == []


def test_an_entry_nobody_can_pass_is_reported() -> None:
    assert logic(path("age > 30 and age < 20")) == [("V402", "entry", "next")]


def test_a_trailing_wait_is_reported_only_when_it_leads_only_to_exits() -> None:
    assert found(validate(_pause("P1D")), "V303") == []
    linger = clean(
        nodes=[("linger", "wait", {"duration": "P1D"})],
        without=["mail.sent>won"],
        edges=["mail.sent>linger", "linger.next>won"],
    )
    assert found(validate(linger), "V303") == [("linger", None)]


# --- random scenarios --------------------------------------------------------------------------

IDS = ["a", "b", "c", "d", "e", "f", "g", "h"]
TYPES = [t.type for t in NODE_TYPES] + ["ai.best_time", "legacy.step"]
EXIT_NAMES = sorted(
    {x for t in NODE_TYPES for x in t.exits} | {"else", "case1", "case2", "a", "b", "x", "bogus"}
)
CONDITIONS = [
    "age >= 18",
    "age < 25",
    "age > 40",
    "age > 30 and age < 20",
    "age < 20 or age > 60",
    '"cats" in tags',
    'not has_tag("cats")',
    'has_tag("vip")',
    'city in ["Moscow", "Kazan"]',
    'city == "Omsk"',
    'city not in ["Omsk"]',
    "cart_value > 5000",
    "cart_value < 100",
    "consent_sms and has_phone",
    "not consent_push",
    'has_event("purchase")',
    'days_since("purchase") > 30',
    "orders_count * 2 > 3",
    "orders_count == 0",
    "nps_score >= 9",
    "nps_score != 7",
    'gender == "x"',
    'gender == "f"',
    'season == "winter"',
    "hour < 9 or hour >= 22",
    "1 < age < 2",
    "age == true",
    "agee > 3",
    'age == "old"',
    "age >",
    "(age",
    "not",
    "",
    "   ",
    "true",
    "false",
    "1",
    "tags == 3",
    '"x" in city',
    'age in [1, 2, "x"]',
]
JUNK = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([10**400, -(10**400), 0, -1, 100, 150])
    | st.floats()
    | st.text(max_size=8)
    | st.lists(st.integers(-3, 3), max_size=3)
    | st.dictionaries(st.sampled_from(["id", "x"]), st.integers(-3, 3), max_size=2)
)
ITEM_IDS = st.sampled_from(["case1", "case2", "a", "b", "else", ""]) | JUNK
ITEMS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "id": ITEM_IDS,
            "label": st.text(max_size=4) | JUNK,
            "condition": st.sampled_from(CONDITIONS) | JUNK,
            "weight": st.sampled_from([0, 50, 100, -5, 33.3, math.nan, math.inf]) | JUNK,
        },
    )
    | JUNK,
    max_size=4,
)


@st.composite
def plausible_value(draw: st.DrawFn, type_name: str, name: str) -> Any:
    """A value of the right kind for the param, or a nearby mistake."""
    declared = CATALOG.get(type_name)
    param = declared.param(name) if declared else None
    kind = param.kind.value if param else "junk"
    if param is not None and param.choices:
        return draw(st.sampled_from([*param.choices, "bogus", ""]))
    options: dict[str, st.SearchStrategy[Any]] = {
        "expression": st.sampled_from(CONDITIONS) | st.text(max_size=20),
        "duration": st.sampled_from(["P1D", "PT1H", "P2D", "PT0S", "P", "2 days", ""]),
        "time": st.sampled_from(["10:00", "20:00", "22:00", "08:00", "25:00", "1000", ""]),
        "template": st.sampled_from(
            ["Hi {{ contact.first_name }}", "{{ contact.frist_name }}", "{% if %}", "", "Hi"]
        ),
        "cases": ITEMS,
        "variants": ITEMS,
        "number": st.integers(-10, 200) | st.floats(),
        "integer": st.integers(-10, 400),
        "product": st.sampled_from(["kit", "ghost", ""]),
        "text": st.sampled_from(["cats", "vip", "age", "crm_stage", ""]) | st.text(max_size=6),
    }
    return draw(options.get(kind, JUNK) | JUNK)


@st.composite
def node_dicts(draw: st.DrawFn, node_id: str) -> dict[str, Any]:
    type_name = draw(st.sampled_from(TYPES))
    declared = CATALOG.get(type_name)
    names = [p.name for p in declared.params] if declared else []
    chosen = draw(st.lists(st.sampled_from([*names, "junk", "condition", "action"]), max_size=5))
    params = {name: draw(plausible_value(type_name, name)) for name in chosen}
    return {"id": node_id, "type": type_name, "title": draw(st.text(max_size=5)), "params": params}


@st.composite
def random_documents(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(st.sampled_from(IDS), unique=True, min_size=1, max_size=8))
    nodes = [draw(node_dicts(node_id)) for node_id in ids]
    endpoints = st.sampled_from([*ids, "ghost"])
    edge = st.fixed_dictionaries(
        {"from": endpoints, "exit": st.sampled_from(EXIT_NAMES), "to": endpoints}
    )
    edges = draw(st.lists(edge, max_size=14, unique_by=lambda e: tuple(e.values())))
    time = st.sampled_from(["22:00", "09:00", "00:00", "23:59", "10:00"])
    settings_ = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "quiet_hours": st.none() | st.fixed_dictionaries({"start": time, "end": time}),
                "frequency_cap": st.none()
                | st.fixed_dictionaries(
                    {
                        "messages": st.integers(1, 5),
                        "per": st.sampled_from(["P1D", "PT1H", "P7D", "PT0S", "P", "Pxyz"]),
                    }
                ),
                "max_discount": st.integers(0, 100) | st.floats(0, 100),
            },
        )
    )
    return {
        "format": "voronka.scenario",
        "version": 1,
        "settings": settings_,
        "products": draw(st.sampled_from([[], [KIT]])),
        "nodes": nodes,
        "edges": edges,
    }


SCHEMAS = st.sampled_from([DEFAULT_SCHEMA, VIP_TAGS, WITH_CUSTOM])
RANDOM = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_problems_point_at_real_places(scenario: Scenario, problems: list[Problem]) -> None:
    for p in problems:
        assert p.code in CODES, p
        assert p.severity in (SEVERITY[p.code], Severity.WARNING), p
        assert isinstance(p.message, str) and p.message, p
        assert p.node is None or p.node in scenario.nodes, p
        if p.exit is not None:
            assert p.node is not None, p
            assert p.exit in scenario.nodes[p.node].exits, p
        if p.code in ("V104", "V105", "V106"):
            assert p.edge in scenario.edges, p
        if p.code == "V106":  # the exit is the edge's, and the node has no such exit
            assert p.exit is None and p.edge.exit not in scenario.nodes[p.node].exits, p
        if p.code == "V104":
            assert p.node == p.edge.target, p


@RANDOM
@given(document=random_documents(), schema=SCHEMAS)
def test_random_scenarios_never_crash_and_name_real_steps(
    document: dict[str, Any], schema: ContactSchema
) -> None:
    scenario = scenario_from_dict(document).scenario
    problems = validate(scenario, schema)
    check_problems_point_at_real_places(scenario, problems)
    assert validate(scenario, schema) == problems  # deterministic


@RANDOM
@given(document=random_documents())
def test_connecting_every_dangling_exit_silences_v102_and_v110(document: dict[str, Any]) -> None:
    scenario = scenario_from_dict(document).scenario
    connected = {(e.source, e.exit) for e in scenario.edges}
    for node in list(scenario.flow_nodes()):
        for exit_name in node.exits:
            if (node.id, exit_name) not in connected:
                end = scenario.add_node(Node(scenario.new_node_id("end"), "exit"))
                scenario.add_edge(Edge(node.id, exit_name, end.id))
                connected.add((node.id, exit_name))
    codes = {p.code for p in validate(scenario)}
    assert not codes & {"V102", "V110"}


@pytest.mark.parametrize(
    "params",
    [
        {"action": ["add_tag"]},  # used to crash the logic (unhashable action)
        {"action": "add_tag", "tag": ["cats"]},
        {"action": "set_attribute", "attribute": {"age": 1}},
    ],
)
def test_odd_update_params_do_not_crash(params: dict[str, Any]) -> None:
    scenario = path("", update("u", "add_tag"), cond("c", '"cats" in tags'))
    scenario.nodes["u"].params = params
    check_problems_point_at_real_places(scenario, validate(scenario))


@pytest.mark.parametrize("cases", [5, True, "case1", {"id": "a"}])
def test_switch_cases_that_are_not_a_list_are_reported(cases: Any) -> None:
    scenario = path("", switch("route", ("a", "age > 1")))
    scenario.nodes["route"].params = {"cases": cases}  # `5` used to crash
    assert ("route", None) in found(validate(scenario), "V112")


def test_numbers_too_large_for_a_float_are_reported_not_crashed_on() -> None:
    big = 10**400  # a JSON file may hold it; `:g` and float sums used to overflow
    scenario = _offer(discount=big, cost=-big)
    messages = [p.message for p in validate(scenario) if p.code == "V116"]
    assert len(messages) == 2 and all("is not a number" in m for m in messages)
    assert found(validate(_split(("a", big), ("b", 50))), "V111") == [("ab", None), ("ab", "a")]


def test_edges_from_missing_exits_do_not_claim_the_exit() -> None:
    """V103/V105 name an exit only when the step has it; V106 reports the stray edge."""
    scenario = clean(edges=["mail.bogus>ghost", "mail.stray>won", "mail.stray>lost"])
    problems = validate(scenario)
    assert ("mail", None) in found(problems, "V105")
    assert ("mail", None) in found(problems, "V103")
    assert len(found(problems, "V106")) == 3
    check_problems_point_at_real_places(scenario, problems)


def test_deeply_nested_condition_is_a_v201_not_a_crash() -> None:
    scenario = _entry("(" * 200 + "age > 1" + ")" * 200)
    assert ("entry", None) in found(validate(scenario), "V201")


# --- the command line ------------------------------------------------------------------------


def write(folder: Path, name: str, scenario: Scenario) -> Path:
    file = folder / name
    file.write_text(dumps_scenario(scenario), encoding="utf-8")
    return file


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "clean": write(tmp_path, "clean.json", CLEAN),
        "error": write(tmp_path, "error.json", clean(without=["mail.failed>lost"])),
        "warning": write(tmp_path, "warning.json", NO_WINDOW),
    }


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    status = cli_main(["validate", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_clean_file_exits_0(capsys, files) -> None:
    status, out, _ = run(capsys, files["clean"])
    assert status == 0
    assert out == f"{files['clean']}: OK\n"


def test_cli_errors_exit_1_and_are_grouped_by_file(capsys, files) -> None:
    status, out, _ = run(capsys, files["error"], files["warning"], files["clean"])
    assert status == 1
    lines = out.splitlines()
    headers = [i for i, line in enumerate(lines) if not line.startswith("  ")]
    assert [lines[i] for i in headers] == [
        f"{files['error']}: 2 errors, 0 warnings",  # V102 and, with `lost` cut off, V107
        f"{files['warning']}: 0 errors, 1 warning",
        f"{files['clean']}: OK",
    ]
    error_block = lines[headers[0] + 1 : headers[1]]
    assert any(
        line.startswith("  error   V102 Welcome e-mail (mail, exit failed): ")
        for line in error_block
    ), error_block
    assert any("V107 Lost (lost): " in line for line in error_block), error_block
    assert lines[headers[1] + 1].startswith("  warning V302 Welcome e-mail (mail): ")


def test_cli_warnings_fail_only_with_strict(capsys, files) -> None:
    assert run(capsys, files["warning"])[0] == 0
    assert run(capsys, "--strict", files["warning"])[0] == 1
    assert run(capsys, "--strict", files["clean"])[0] == 0


def test_cli_unreadable_file_exits_2_with_the_place_and_no_traceback(capsys, tmp_path, files):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "voronka.scenario",\n  "version": 1,,\n}', encoding="utf-8")
    status, out, err = run(capsys, files["error"], broken)
    assert status == 2  # worse than the other file's errors
    assert f"{broken}: cannot be read: line 2, column 16: this is not valid JSON" in out
    assert "Traceback" not in out + err
    status, out, err = run(capsys, tmp_path / "missing.json")
    assert status == 2 and "cannot be read" in out and "Traceback" not in out + err


def test_cli_json_output(capsys, files, tmp_path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2", encoding="utf-8")
    status, out, _ = run(capsys, "--format", "json", files["error"], files["clean"], broken)
    assert status == 2
    rows = json.loads(out)
    assert isinstance(rows, list) and rows
    keys = {"file", "code", "severity", "node", "exit", "message"}
    assert all(set(row) == keys for row in rows)
    assert {
        "file": str(files["error"]),
        "code": "V102",
        "severity": "error",
        "node": "mail",
        "exit": "failed",
    }.items() <= next(r for r in rows if r["code"] == "V102").items()
    assert not [r for r in rows if r["file"] == str(files["clean"])]
    (unreadable,) = [r for r in rows if r["file"] == str(broken)]
    assert unreadable["code"] == "F100" and "line 1, column 6" in unreadable["message"]


def test_python_m_app_validate_sets_the_exit_status(files) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "validate", str(files["error"]), str(files["clean"])],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert f"{files['error']}: 2 errors" in result.stdout
    assert "Traceback" not in result.stderr
