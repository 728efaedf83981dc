"""Validation: prove that every exit path of a scenario is handled.

Rules are small functions registered with a stable code; each yields `Problem`s that name the
node and exit they concern in words a marketer understands. Graph work is done once per call
on a networkx graph with one virtual source before all entries: one depth-first search gives
reachability whatever the number of entries, an order in which each step follows the steps
leading to it, and a linear check for loops, so the rest is mostly single passes.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any

import networkx as nx

from app.engine import expressions, templates
from app.engine.catalog import (
    CATALOG,
    MESSAGE_TYPES,
    NODE_TYPES,
    WAIT_TYPES,
    NodeType,
    ParamKind,
    ParamSpec,
    channel_text,
    choice_text,
    event_text,
    exit_text,
    param_text,
)
from app.engine.contact_schema import CHANNELS, DEFAULT_SCHEMA, ContactSchema
from app.engine.durations import DurationError, duration_words, parse_duration
from app.engine.expressions import cached_parse
from app.engine.gc_pause import cycle_collector_paused
from app.engine.i18n import Msg, T, english, localized
from app.engine.logic import Finding, logic_findings
from app.engine.model import Edge, Node, Scenario


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Problem:
    """`text` keeps the rule's template and arguments (a `Msg`), so it is shown in the
    language of whoever reads it; `message` is that text in the current language."""

    code: str
    severity: Severity
    text: Msg | str
    node: str | None = None
    exit: str | None = None
    edge: Edge | None = None

    @property
    def message(self) -> str:
        return str(self.text)

    @property
    def english_message(self) -> str:
        """The text in English whatever the interface language: machine-read files (runtime
        JSON, conformance vectors) must not change with the reader's locale."""
        return self.text.render(english) if isinstance(self.text, Msg) else self.text

    def to_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "node": self.node,
            "exit": self.exit,
            "message": self.message,
        }


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    title: str
    check: Callable[[Context], Iterable[Problem]]

    @property
    def display_title(self) -> str:
        return localized("Rule", self.title)


RULES: list[Rule] = []

_SOURCE = ("__entries__",)


def rule(code: str, severity: Severity, title: str) -> Callable:
    """Register a check; `title` is the one-line summary docs/VALIDATION.md expands on."""

    def register(check: Callable[[Context], Iterable[Problem]]) -> Callable:
        RULES.append(Rule(code, severity, title, check))
        return check

    return register


@dataclass
class Context:
    """What the rules share: the scenario, the schema and graph facts computed once.

    A large funnel makes every per-step cost count (the editor validates after each edit), so
    catalog entries, exits and steps by type are looked up once here, not in each rule."""

    scenario: Scenario
    schema: ContactSchema = DEFAULT_SCHEMA

    def problem(
        self,
        code: str,
        message: Msg,
        node: str | None = None,
        exit: str | None = None,
        edge: Edge | None = None,
        severity: Severity | None = None,
    ) -> Problem:
        return Problem(code, severity or _SEVERITY[code], message, node, exit, edge)

    @cached_property
    def specs(self) -> dict[str, NodeType | None]:
        """Every node's catalog entry (None for a type this version does not know)."""
        find = CATALOG.get  # what Node.spec does, without a property and a call per node
        return {n: find(node.type) for n, node in self.scenario.nodes.items()}

    @cached_property
    def flow(self) -> dict[str, Node]:
        """The steps that take part in the flow (notes and frames left out)."""
        nodes = self.scenario.nodes
        return {n: node for n, node in nodes.items() if node.type not in _ANNOTATION_TYPES}

    @cached_property
    def of_type(self) -> dict[str, list[Node]]:
        """Flow steps by type, each list in file order."""
        index: dict[str, list[Node]] = {}
        for node in self.flow.values():
            index.setdefault(node.type, []).append(node)
        return index

    def nodes_of(self, *types: str) -> list[Node]:
        """Flow steps of the given types (grouped by type; rules report per step, and
        `validate` sorts by step, so the grouping never shows)."""
        index = self.of_type
        if len(types) == 1:
            return index.get(types[0], [])
        return [node for t in types for node in index.get(t, ())]

    def params_of(self, *kinds: ParamKind) -> list[tuple[Node, ParamSpec, Any]]:
        """(step, parameter spec, value) for every parameter of these kinds that has a value
        (not missing, not null) of the known flow steps: by type like `nodes_of`, each
        step's in declaration order."""
        found = []
        for type_name, nodes in self.of_type.items():
            spec = CATALOG.get(type_name)
            params = [p for p in spec.params if p.kind in kinds] if spec is not None else []
            if not params:
                continue
            for node in nodes:
                values = node.params
                for param in params:
                    if (value := values.get(param.name)) is not None:
                        found.append((node, param, value))
        return found

    @cached_property
    def exits_of(self) -> dict[str, tuple[str, ...]]:
        """Every node's exits, worked out once (switch and split derive them from params)."""
        specs, exits = self.specs, {}
        for n, node in self.scenario.nodes.items():
            spec = specs[n]
            if spec is None:
                exits[n] = node.placeholder_exits
            elif spec.exits_from_params is None:
                exits[n] = spec.exits
            else:
                exits[n] = spec.exits_from_params(node.params)
        return exits

    @cached_property
    def without_input(self) -> set[str]:
        """Nodes no connection may enter: entries, notes and frames."""
        return {n for n, spec in self.specs.items() if spec is not None and not spec.has_input}

    @cached_property
    def valid_edges(self) -> list[Edge]:
        """Edges between existing flow nodes from an exit the source really has."""
        flow, exits, closed = self.flow, self.exits_of, self.without_input
        return [
            e
            for e in self.scenario.edges
            if e.source in flow
            and e.target in flow
            and e.target not in closed
            and e.exit in exits[e.source]
        ]

    @cached_property
    def successors(self) -> dict[str, list[tuple[str, str]]]:
        """(exit, target) pairs per node, over the valid edges only."""
        adjacency: dict[str, list[tuple[str, str]]] = {n: [] for n in self.flow}
        for edge in self.valid_edges:
            adjacency[edge.source].append((edge.exit, edge.target))
        return adjacency

    @cached_property
    def edges_by_exit(self) -> dict[tuple[str, str], list[Edge]]:
        """Every edge of the file (valid or not) by the exit it leaves."""
        index: dict[tuple[str, str], list[Edge]] = {}
        for edge in self.scenario.edges:
            key = (edge.source, edge.exit)
            if key in index:
                index[key].append(edge)
            else:
                index[key] = [edge]
        return index

    @cached_property
    def twin_edges(self) -> bool:
        """Some exit has two connections to the same step (a V103 error)."""
        return any(
            len(edges) > 1 and len({e.target for e in edges}) < len(edges)
            for edges in self.edges_by_exit.values()
        )

    @cached_property
    def entries(self) -> list[str]:
        """Entry steps in file order (the search from the source visits them in this order)."""
        return [n for n, node in self.flow.items() if node.type in _ENTRY_TYPES]

    @cached_property
    def exits(self) -> list[str]:
        return [n.id for n in self.nodes_of("exit")]

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The flow as a networkx graph, with a virtual source before every entry: reachability
        is then one search, whatever their number. The source is the graph's first node, so a
        search over the whole graph starts there."""
        graph = nx.DiGraph()
        graph.add_node(_SOURCE)
        graph.add_nodes_from(self.flow)
        graph.add_edges_from([(e.source, e.target) for e in self.valid_edges])
        graph.add_edges_from([(_SOURCE, n) for n in self.entries])
        return graph

    source = _SOURCE  # the virtual node before every entry

    @cached_property
    def postorder(self) -> list[Hashable]:
        """Every graph node in post-order of one depth-first search of the whole graph. It
        starts at the source, so the steps an entry leads to come first, up to the source."""
        return list(nx.dfs_postorder_nodes(self.graph))

    @cached_property
    def rank(self) -> dict[Hashable, int]:
        """Each graph node's place in reverse post-order: in a funnel without loops every step
        comes after all the steps that lead to it."""
        order = self.postorder
        last = len(order) - 1
        return {node: last - index for index, node in enumerate(order)}

    @cached_property
    def reachable_in_order(self) -> list[str]:
        """Steps some entry leads to (the search's first tree) in reverse post-order."""
        order = self.postorder
        first_tree = order[: order.index(_SOURCE)]
        first_tree.reverse()
        return first_tree  # type: ignore[return-value]  # steps only: the source ends the tree

    @cached_property
    def reachable(self) -> set[str]:
        """Nodes some entry leads to (entries included)."""
        return set(self.reachable_in_order)

    @cached_property
    def leads_to_exit(self) -> set[str]:
        """Nodes from which some exit can be reached (exits included)."""
        if not self.acyclic:  # one search back from all exits at once
            back = self.graph.reverse(copy=False)
            return set().union(*nx.bfs_layers(back, self.exits)) - {_SOURCE}
        # Without loops, post-order puts every step after all the steps it leads to.
        leads, successors = set(self.exits), self.successors
        for node in self.postorder:
            if node not in leads:
                for _, target in successors.get(node, ()):
                    if target in leads:
                        leads.add(node)
                        break
        return leads

    @cached_property
    def acyclic(self) -> bool:
        """No loop at all: then every connection goes forward in reverse post-order (a loop
        needs a connection back to a step the search had not finished), a linear check."""
        rank = self.rank
        return all(rank[e.source] < rank[e.target] for e in self.valid_edges)

    @cached_property
    def loops(self) -> list[set[str]]:
        """Strongly connected parts holding a loop (several steps, or a step connected to
        itself); worked out only when the linear check found some loop."""
        if self.acyclic:
            return []
        graph = self.graph
        return [
            part
            for part in nx.strongly_connected_components(graph)
            if len(part) > 1 or graph.has_edge(only := next(iter(part)), only)
        ]

    @cached_property
    def in_loop(self) -> set[str]:
        return {n for part in self.loops for n in part}

    @cached_property
    def logic(self) -> list[Finding]:
        return logic_findings(self)


_ANNOTATION_TYPES = frozenset(t.type for t in NODE_TYPES if t.is_annotation)
_ENTRY_TYPES = frozenset(t.type for t in NODE_TYPES if t.is_entry)


def validate(scenario: Scenario, contact_schema: ContactSchema = DEFAULT_SCHEMA) -> list[Problem]:
    """All problems, errors first, then by node id and code: a stable order for the UI and CI."""
    with cycle_collector_paused():
        context = Context(scenario, contact_schema)
        problems = [p for r in RULES for p in r.check(context)]
        del context  # freed now, so the collector, once back, does not scan all it made
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(problems, key=lambda p: (rank[p.severity], p.node or "", p.code, p.exit or ""))


# --- wording -------------------------------------------------------------------------------


def _q(node: Node) -> Msg:
    return T("Quote", "‘{text}’", text=node.display_title)


def _event_words(event: object) -> Msg | str:
    return event_text(event) if isinstance(event, str) and event else T("Words", "the event")


def _exit_meaning(node: Node, exit_name: str) -> Msg:
    """Who takes an exit, so a dangling exit reads as the people it loses."""
    params = node.params
    if node.type == "wait_event":
        event = _event_words(params.get("event"))
        if exit_name == "timeout":
            try:
                within = duration_words(parse_duration(params.get("timeout")))
            except DurationError:
                return T("Exit meaning", "contacts without ‘{event}’ in time", event=event)
            return T(
                "Exit meaning", "contacts without ‘{event}’ within {time}", event=event, time=within
            )
        return T("Exit meaning", "contacts with ‘{event}’", event=event)
    key = (node.type, exit_name)
    if key in (("message", "failed"), ("offer", "failed")):
        if node.type == "offer":
            return T(
                "Exit meaning",
                "contacts the offer cannot reach (no consent, no address, not delivered)",
            )
        return T(
            "Exit meaning",
            "contacts the message cannot reach (no consent, no address, not delivered)",
        )
    meanings = {
        ("message", "sent"): T("Exit meaning", "contacts who got the message"),
        ("offer", "sent"): T("Exit meaning", "contacts who got the offer"),
        ("condition", "yes"): T("Exit meaning", "contacts for whom the condition holds"),
        ("condition", "no"): T("Exit meaning", "contacts for whom the condition does not hold"),
        ("notify", "failed"): T("Exit meaning", "contacts whose notification failed"),
        ("switch", "else"): T("Exit meaning", "contacts matching no case"),
    }
    return meanings.get(key) or T(
        "Exit meaning", "contacts leaving by ‘{exit}’", exit=exit_text(exit_name)
    )


# --- structure -----------------------------------------------------------------------------


@rule("V101", Severity.ERROR, "The scenario has no entry")
def _no_entry(ctx: Context) -> Iterator[Problem]:
    if not ctx.entries:
        yield ctx.problem(
            "V101",
            T(
                "V101",
                "The scenario has no entry: add a Segment entry or an Event trigger so contacts "
                "can come in",
            ),
        )


@rule("V102", Severity.ERROR, "An exit has no connection")
def _dangling_exit(ctx: Context) -> Iterator[Problem]:
    connected, exits_of = ctx.edges_by_exit.keys(), ctx.exits_of
    for node_id, node in ctx.flow.items():
        for exit_name in exits_of[node_id]:
            if (node_id, exit_name) in connected:
                continue
            if node.type == "switch" and exit_name == "else":
                continue  # V110 says it in the switch's terms
            yield ctx.problem(
                "V102",
                T(
                    "V102",
                    "{step} has no step after *{exit}*: {who} go nowhere",
                    step=_q(node),
                    exit=exit_text(exit_name),
                    who=_exit_meaning(node, exit_name),
                ),
                node.id,
                exit_name,
            )


@rule("V103", Severity.ERROR, "Two connections leave one exit")
def _fan_out(ctx: Context) -> Iterator[Problem]:
    for (source, exit_name), edges in ctx.edges_by_exit.items():
        if len(edges) > 1 and source in ctx.scenario.nodes:
            node, count = ctx.scenario.nodes[source], len(edges)
            yield ctx.problem(
                "V103",
                T(
                    "V103",
                    "*{exit}* of {step} leads to %n steps; a contact can only take one way — "
                    "use an A/B split to divide contacts",
                    count,
                    exit=exit_text(exit_name),
                    step=_q(node),
                ),
                source,
                exit_name if exit_name in ctx.exits_of[source] else None,  # else V106 names it
            )


@rule("V104", Severity.ERROR, "A connection leads into an entry or a note")
def _edge_into_entry(ctx: Context) -> Iterator[Problem]:
    closed = ctx.without_input
    for edge in ctx.scenario.edges:
        if edge.target in closed:
            target = ctx.scenario.nodes[edge.target]
            if target.is_entry:
                text = T(
                    "V104",
                    "{step} is an entry and cannot be entered from another step; "
                    "remove the connection from ‘{source}’",
                    step=_q(target),
                    source=edge.source,
                )
            else:
                text = T(
                    "V104",
                    "{step} is a note or frame and cannot be entered from another step; "
                    "remove the connection from ‘{source}’",
                    step=_q(target),
                    source=edge.source,
                )
            yield ctx.problem("V104", text, target.id, edge=edge)


@rule("V105", Severity.ERROR, "A connection names a step that does not exist")
def _edge_missing_node(ctx: Context) -> Iterator[Problem]:
    nodes = ctx.scenario.nodes
    for edge in ctx.scenario.edges:
        if edge.source in nodes and edge.target in nodes:
            continue
        source_exits = ctx.exits_of.get(edge.source)
        for end in (edge.source, edge.target):
            if end not in nodes:
                yield ctx.problem(
                    "V105",
                    T(
                        "V105",
                        "A connection {source}.{exit} → {target} names ‘{missing}’, "
                        "which does not exist",
                        source=edge.source,
                        exit=edge.exit,
                        target=edge.target,
                        missing=end,
                    ),
                    edge.source if source_exits is not None else None,
                    edge.exit if source_exits is not None and edge.exit in source_exits else None,
                    edge=edge,
                )


@rule("V106", Severity.ERROR, "A connection leaves from an exit the step does not have")
def _edge_missing_exit(ctx: Context) -> Iterator[Problem]:
    exits_of = ctx.exits_of
    for edge in ctx.scenario.edges:
        source_exits = exits_of.get(edge.source)
        if source_exits is not None and edge.exit not in source_exits:
            source = ctx.scenario.nodes[edge.source]
            exits = ", ".join(source_exits) or T("Words", "none")
            yield ctx.problem(
                "V106",
                T(
                    "V106",
                    "{step} has no exit ‘{exit}’ (its exits: {exits}); "
                    "reconnect or remove that connection",
                    step=_q(source),
                    exit=edge.exit,
                    exits=exits,
                ),
                source.id,
                edge=edge,
            )


@rule("V107", Severity.ERROR, "A step cannot be reached from any entry")
def _unreachable(ctx: Context) -> Iterator[Problem]:
    if not ctx.entries:
        return
    reachable = ctx.reachable
    for node_id, node in ctx.flow.items():
        if node_id not in reachable:
            yield ctx.problem(
                "V107",
                T(
                    "V107",
                    "No contact can reach {step}: no path from an entry leads to it",
                    step=_q(node),
                ),
                node_id,
            )


@rule("V108", Severity.ERROR, "Contacts can never leave: no Exit can be reached")
def _trap(ctx: Context) -> Iterator[Problem]:
    connected, leads_to_exit, exits_of = ctx.edges_by_exit.keys(), ctx.leads_to_exit, ctx.exits_of
    for node_id, node in ctx.flow.items():
        if node_id in leads_to_exit or node.type == "exit":
            continue
        if any((node_id, x) not in connected for x in exits_of[node_id]):
            continue  # the dangling exit (V102) is the cause to fix
        if node_id in ctx.in_loop:
            text = T(
                "V108",
                "Contacts who reach {step} can never leave: no path from it leads to an Exit "
                "(they loop forever)",
                step=_q(node),
            )
        else:
            text = T(
                "V108",
                "Contacts who reach {step} can never leave: no path from it leads to an Exit",
                step=_q(node),
            )
        yield ctx.problem("V108", text, node_id)


@rule("V109", Severity.ERROR, "A loop has no wait in it")
def _instant_loop(ctx: Context) -> Iterator[Problem]:
    waits = {n.id for n in ctx.nodes_of(*WAIT_TYPES)}
    for component in _waitless_cycles(ctx.graph, ctx.loops, waits):
        names = sorted(component)
        titles = ", ".join(str(_q(ctx.flow[n])) for n in names[:4])
        titles += "…" if len(names) > 4 else ""
        yield ctx.problem(
            "V109",
            T(
                "V109",
                "Contacts would loop instantly and forever through {steps}: add a Wait "
                "or Wait for event inside the loop",
                steps=titles,
            ),
            names[0],
        )


def _waitless_cycles(
    graph: nx.DiGraph, loops: list[set[str]], waits: set[str]
) -> Iterator[set[str]]:
    """Strongly connected parts left once waits are removed; only loops are re-examined, so
    the large acyclic rest of a funnel is never copied."""
    for component in loops:
        if len(component) == 1:
            if not component & waits:  # a step connected to itself
                yield component
            continue
        inner = graph.subgraph(component - waits)
        for part in nx.strongly_connected_components(inner):
            if len(part) > 1 or any(inner.has_edge(n, n) for n in part):
                yield part


@rule("V110", Severity.ERROR, "A switch has no ‘else’ connection")
def _switch_else(ctx: Context) -> Iterator[Problem]:
    connected = ctx.edges_by_exit.keys()
    for node in ctx.nodes_of("switch"):
        if (node.id, "else") not in connected:
            yield ctx.problem(
                "V110",
                T(
                    "V110",
                    "{step} has no step after *{exit}*: contacts matching none of its cases "
                    "go nowhere",
                    step=_q(node),
                    exit=exit_text("else"),
                ),
                node.id,
                "else",
            )


@rule("V111", Severity.ERROR, "A/B split weights are wrong")
def _split_weights(ctx: Context) -> Iterator[Problem]:
    for node in ctx.nodes_of("split"):
        variants = node.params.get("variants")
        if not isinstance(variants, list) or len(variants) < 2:
            yield ctx.problem(
                "V111",
                T("V111", "{step} needs at least two variants to split contacts", step=_q(node)),
                node.id,
            )
            continue
        total = 0.0
        for variant in variants:
            raw = variant.get("weight") if isinstance(variant, dict) else None
            weight = _real(raw)
            if weight is None or weight <= 0:
                label = variant.get("id", "?") if isinstance(variant, dict) else "?"
                yield ctx.problem(
                    "V111",
                    T(
                        "V111",
                        "Variant ‘{variant}’ of {step} has weight {weight}: "
                        "every variant needs a weight above 0",
                        variant=label,
                        step=_q(node),
                        weight=repr(raw),
                    ),
                    node.id,
                    label if label in ctx.exits_of[node.id] else None,
                )
                continue
            total += weight
        if abs(total - 100) > 1e-9:
            yield ctx.problem(
                "V111",
                T(
                    "V111",
                    "The weights of {step} add up to {total:g}, not 100",
                    step=_q(node),
                    total=total,
                ),
                node.id,
            )


@rule("V112", Severity.ERROR, "Switch cases or split variants have missing or repeated ids")
def _item_ids(ctx: Context) -> Iterator[Problem]:
    for node in ctx.nodes_of("switch", "split"):
        key = "cases" if node.type == "switch" else "variants"
        items = node.params.get(key)
        if not isinstance(items, list):
            if key == "cases":
                text = T("V112", "{step} has no list of cases", step=_q(node))
            else:
                text = T("V112", "{step} has no list of variants", step=_q(node))
            yield ctx.problem("V112", text, node.id)
            continue
        if key == "cases":
            item_of = T("V112", "Case {index} of {step} has no id")
        else:
            item_of = T("V112", "Variant {index} of {step} has no id")
        seen: set[str] = set()
        for index, item in enumerate(items, 1):
            item_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item_id, str) or not item_id:
                yield ctx.problem(
                    "V112",
                    item_of.with_args(index=index, step=_q(node)),
                    node.id,
                )
            elif node.type == "switch" and item_id == "else":
                yield ctx.problem(
                    "V112",
                    T(
                        "V112",
                        "{step} has a case with the id ‘else’, which is reserved for contacts "
                        "matching no case; rename the case",
                        step=_q(node),
                    ),
                    node.id,
                )
            elif item_id in seen:
                yield ctx.problem(
                    "V112",
                    T(
                        "V112",
                        "{step} uses the id ‘{id}’ twice; each case or variant needs its own exit",
                        step=_q(node),
                        id=item_id,
                    ),
                    node.id,
                )
            else:
                seen.add(item_id)


@rule("V113", Severity.ERROR, "Wait for event has no timeout")
def _wait_event_timeout(ctx: Context) -> Iterator[Problem]:
    for node in ctx.nodes_of("wait_event"):
        if not node.params.get("timeout"):
            yield ctx.problem(
                "V113",
                T(
                    "V113",
                    "{step} has no timeout: contacts without ‘{event}’ would wait forever",
                    step=_q(node),
                    event=_event_words(node.params.get("event")),
                ),
                node.id,
            )


@rule("V114", Severity.ERROR, "A duration or time cannot be read")
def _durations(ctx: Context) -> Iterator[Problem]:
    for node, param, value in ctx.params_of(ParamKind.DURATION, ParamKind.TIME):
        if value == "":
            continue
        if param.kind is ParamKind.DURATION:
            if node.type == "wait" and node.params.get("mode") == "window":
                continue
            seconds = _duration(value)
            if isinstance(seconds, DurationError):
                yield ctx.problem("V114", _where(node, param, seconds.text), node.id)
        elif not _is_time(value):
            yield ctx.problem(
                "V114",
                _where(
                    node,
                    param,
                    T("V114", "‘{value}’ is not a time; write it as HH:MM", value=value),
                ),
                node.id,
            )
    cap = ctx.scenario.settings.frequency_cap
    if cap is not None and isinstance(error := _duration(cap.per), DurationError):
        yield ctx.problem(
            "V114",
            T("V114", "Scenario settings, frequency cap period: {error}", error=error.text),
        )


@lru_cache(maxsize=1024)
def _parsed_duration(text: str) -> int | DurationError:
    try:
        return parse_duration(text)
    except DurationError as error:
        return error


def _duration(value: object) -> int | DurationError:
    """Seconds, or the error saying why not. A large funnel repeats a handful of duration
    texts thousands of times, so each text is parsed once."""
    if isinstance(value, str):
        return _parsed_duration(value)
    try:
        return parse_duration(value)  # type: ignore[arg-type]
    except DurationError as error:
        return error


def _is_time(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return False
    hours, minutes = value[:2], value[3:]
    return hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60


@rule("V115", Severity.ERROR, "A step has a type this version does not know")
def _placeholders(ctx: Context) -> Iterator[Problem]:
    nodes = ctx.scenario.nodes
    for node_id, spec in ctx.specs.items():
        if spec is None:
            node = nodes[node_id]
            yield ctx.problem(
                "V115",
                T(
                    "V115",
                    "{step} has the unknown type ‘{type}’ (made by a newer Voronka?); "
                    "it is kept but cannot run — replace it with a known step",
                    step=_q(node),
                    type=node.type,
                ),
                node.id,
            )


@rule("V116", Severity.ERROR, "A parameter is missing or out of range")
def _param_values(ctx: Context) -> Iterator[Problem]:
    checked = ctx.params_of(ParamKind.CHOICE, ParamKind.NUMBER, ParamKind.INTEGER)
    for node, param, value in checked:
        if param.kind is ParamKind.CHOICE:
            if param.choices and value not in param.choices and param.name != "event":
                text = T(
                    "V116",
                    "‘{value}’ is not one of {choices}",
                    value=value,
                    choices=", ".join(param.choices),
                )
                yield ctx.problem("V116", _where(node, param, text), node.id)
        else:
            number = _real(value)
            if number is None:
                text = T("V116", "{value} is not a number", value=repr(value))
                yield ctx.problem("V116", _where(node, param, text), node.id)
            elif (param.minimum is not None and number < param.minimum) or (
                param.maximum is not None and number > param.maximum
            ):
                if param.maximum is None:
                    text = T(
                        "V116",
                        "{value:g} is out of range (from {low:g})",
                        value=number,
                        low=param.minimum,
                    )
                else:
                    text = T(
                        "V116",
                        "{value:g} is out of range (from {low:g} to {high:g})",
                        value=number,
                        low=param.minimum,
                        high=param.maximum,
                    )
                yield ctx.problem("V116", _where(node, param, text), node.id)


def _where(node: Node, param: ParamSpec, what: Msg | str) -> Msg:
    """`‘Reminder’, Subject: …`: the step and the field a problem is in."""
    return T("Words", "{step}, {field}: {what}", step=_q(node), field=param_text(param), what=what)


def _real(value: object) -> float | None:
    """A usable number as a float; None for non-numbers, booleans, NaN, ±inf and integers too
    large for a float (a JSON file may hold any of them), so checks and `:g` never fail."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


# --- content -------------------------------------------------------------------------------


_WITH_CONDITIONS = ("condition", "entry.segment", "entry.event", "switch")


def _conditions_of(node: Node) -> Iterator[tuple[Msg, str]]:
    """(label, text) of every condition a node holds: its own and each switch case's."""
    if node.type in ("condition", "entry.segment", "entry.event"):
        text = node.params.get("condition")
        if isinstance(text, str) and (text.strip() or node.type == "condition"):
            yield T("Words", "Condition"), text
    elif node.type == "switch":
        cases = node.params.get("cases")
        for index, case in enumerate(cases if isinstance(cases, list) else [], 1):
            if isinstance(case, dict):
                label = case.get("label") or case.get("id") or str(index)
                yield T("Words", "case ‘{case}’", case=label), str(case.get("condition") or "")


def _in(node: Node, label: Msg, what: Msg | str) -> Msg:
    return T("Words", "{step}, {field}: {what}", step=_q(node), field=label, what=what)


@rule("V201", Severity.ERROR, "A condition cannot be read")
def _condition_syntax(ctx: Context) -> Iterator[Problem]:
    for node in ctx.nodes_of(*_WITH_CONDITIONS):
        for label, text in _conditions_of(node):
            if not text.strip():
                empty = T("V201", "the condition is empty")
                yield ctx.problem("V201", _in(node, label, empty), node.id)
                continue
            parsed = cached_parse(text)
            if isinstance(parsed, expressions.ExpressionError):
                yield ctx.problem("V201", _in(node, label, parsed.located), node.id)


@lru_cache(maxsize=4096)
def _condition_issues(text: str, schema: ContactSchema) -> tuple[expressions.ExprIssue, ...]:
    parsed = cached_parse(text)
    if isinstance(parsed, expressions.ExpressionError):
        return ()
    return tuple(expressions.check(parsed, schema))


@lru_cache(maxsize=4096)
def _template_issues(
    text: str, schema: ContactSchema, in_offer: bool
) -> tuple[templates.TemplateIssue, ...]:
    return tuple(templates.check_template(text, schema, in_offer=in_offer))


def _tags_added(scenario: Scenario) -> set[str]:
    return {
        str(n.params.get("tag"))
        for n in scenario.nodes.values()
        if n.type == "update" and n.params.get("action") == "add_tag" and n.params.get("tag")
    }


@rule("V202", Severity.ERROR, "A condition names an unknown field, tag or event, or mixes types")
def _condition_meaning(ctx: Context) -> Iterator[Problem]:
    schema = ctx.schema
    if schema.tags:
        schema = ContactSchema(
            fields=schema.fields,
            tags=schema.tags | _tags_added(ctx.scenario),
            events=schema.events,
            custom_attributes=schema.custom_attributes,
        )
    for node in ctx.nodes_of(*_WITH_CONDITIONS):
        for label, text in _conditions_of(node):
            for issue in _condition_issues(text, schema) if text.strip() else ():
                # A tag nobody has yet may come from a form or the CRM later; a field may be a
                # custom attribute. Both stay warnings; a condition on them is simply false.
                soft = issue.kind == "unknown_tag" or (
                    issue.kind == "unknown_field" and bool(schema.custom_attributes)
                )
                yield ctx.problem(
                    "V202",
                    _in(node, label, issue.text),
                    node.id,
                    severity=Severity.WARNING if soft else Severity.ERROR,
                )


@rule("V203", Severity.ERROR, "A message template cannot be read or names unknown data")
def _templates(ctx: Context) -> Iterator[Problem]:
    for node, param, text in ctx.params_of(ParamKind.TEMPLATE):
        if not isinstance(text, str) or not text:
            continue
        for issue in _template_issues(text, ctx.schema, node.type == "offer"):
            yield ctx.problem("V203", _where(node, param, issue.located), node.id)


@rule("V204", Severity.ERROR, "An event is unknown")
def _events(ctx: Context) -> Iterator[Problem]:
    for node in ctx.nodes_of("entry.event", "wait_event"):
        event = node.params.get("event")
        if not event:
            yield ctx.problem(
                "V204", T("V204", "{step} does not say which event", step=_q(node)), node.id
            )
        elif not isinstance(event, str) or event not in ctx.schema.events:
            yield ctx.problem(
                "V204",
                T(
                    "V204",
                    "{step} uses the event ‘{event}’, which the contact database does not know",
                    step=_q(node),
                    event=event,
                ),
                node.id,
            )


@rule("V205", Severity.ERROR, "An offer names a product that does not exist")
def _offer_product(ctx: Context) -> Iterator[Problem]:
    for node in ctx.nodes_of("offer"):
        product = node.params.get("product")
        if not product:
            yield ctx.problem(
                "V205", T("V205", "{step} offers no product: choose one", step=_q(node)), node.id
            )
        elif ctx.scenario.product(product) is None:
            yield ctx.problem(
                "V205",
                T(
                    "V205",
                    "{step} offers ‘{product}’, which is not in the scenario's products",
                    step=_q(node),
                    product=product,
                ),
                node.id,
            )


@rule("V206", Severity.ERROR, "A message has no channel or no text")
def _message_content(ctx: Context) -> Iterator[Problem]:
    for node in ctx.nodes_of(*MESSAGE_TYPES):
        channel = node.params.get("channel")
        if channel not in CHANNELS:
            choices = ", ".join(CHANNELS)
            if channel:
                text = T(
                    "V206",
                    "{step} has the unknown channel ‘{channel}’; choose one of {choices}",
                    step=_q(node),
                    channel=channel,
                    choices=choices,
                )
            else:
                text = T(
                    "V206",
                    "{step} has no channel; choose one of {choices}",
                    step=_q(node),
                    choices=choices,
                )
            yield ctx.problem("V206", text, node.id)
        if not str(node.params.get("body") or "").strip():
            yield ctx.problem(
                "V206", T("V206", "{step} has no text to send", step=_q(node)), node.id
            )


@rule("V207", Severity.WARNING, "A discount is above the scenario's limit")
def _discount_limit(ctx: Context) -> Iterator[Problem]:
    limit = ctx.scenario.settings.max_discount
    for node in ctx.nodes_of("offer"):
        discount = _real(node.params.get("discount"))  # not a number: V116 says so
        if discount is not None and discount > limit:
            yield ctx.problem(
                "V207",
                T(
                    "V207",
                    "{step} gives {discount:g} % off, above the scenario's limit of {limit:g} %",
                    step=_q(node),
                    discount=discount,
                    limit=limit,
                ),
                node.id,
            )


# --- timing --------------------------------------------------------------------------------


def _min_seconds(node: Node, exit_name: str) -> int:
    """The least time a contact spends in a node before leaving by an exit."""
    if node.type == "wait" and node.params.get("mode", "duration") == "duration":
        seconds = _duration(node.params.get("duration", ""))
    elif node.type == "wait_event" and exit_name == "timeout":
        seconds = _duration(node.params.get("timeout", ""))
    else:
        return 0
    return 0 if isinstance(seconds, DurationError) else seconds


@rule("V301", Severity.WARNING, "A path can send more messages than the frequency cap allows")
def _frequency_cap(ctx: Context) -> Iterator[Problem]:
    cap = ctx.scenario.settings.frequency_cap
    if cap is None:
        return
    window = _duration(cap.per)
    if isinstance(window, DurationError):
        return
    messages = {node.id for node in ctx.nodes_of(*MESSAGE_TYPES)}
    waits = {node.id for node in ctx.nodes_of(*WAIT_TYPES)}
    flow, successors, limit = ctx.flow, ctx.successors, cap.messages
    # Least time to reach (node, k messages sent in the window). A window that breaks the cap
    # starts when some message is sent, so one multi-source search from every message's
    # `sent` exit covers them all; a `failed` message reaches nobody and does not count.
    best: dict[tuple[str, int], int] = {}
    queue = [(0, target, 1) for m in sorted(messages) for x, target in successors[m] if x == "sent"]
    heapq.heapify(queue)
    reported: set[str] = set()
    while queue:
        elapsed, node_id, sent = heapq.heappop(queue)
        state = (node_id, sent)
        if state in best:
            continue  # popped before with less elapsed time
        best[state] = elapsed
        is_message, is_wait = node_id in messages, node_id in waits
        for exit_name, target in successors[node_id]:
            count = sent + 1 if is_message and exit_name == "sent" else sent
            if count > limit:
                if node_id not in reported:
                    reported.add(node_id)
                    yield ctx.problem(
                        "V301",
                        T(
                            "V301",
                            "{step} can be message number {count} within {period}, above the "
                            "frequency cap of {cap}: add a wait before it",
                            step=_q(flow[node_id]),
                            count=count,
                            period=duration_words(window),
                            cap=limit,
                        ),
                        node_id,
                    )
                continue
            arrival = elapsed + _min_seconds(flow[node_id], exit_name) if is_wait else elapsed
            if arrival < window and (target, count) not in best:
                heapq.heappush(queue, (arrival, target, count))


@rule("V302", Severity.WARNING, "A message can be sent in quiet hours")
def _quiet_hours(ctx: Context) -> Iterator[Problem]:
    quiet = ctx.scenario.settings.quiet_hours
    if quiet is None:
        return
    for node_id in _unscheduled_messages(ctx, quiet.start, quiet.end):
        yield ctx.problem(
            "V302",
            T(
                "V302",
                "{step} can go out during quiet hours ({start}–{end}): put a Wait until a send "
                "window on the way to it",
                step=_q(ctx.flow[node_id]),
                start=quiet.start,
                end=quiet.end,
            ),
            node_id,
        )


def _unscheduled_messages(ctx: Context, quiet_start: str, quiet_end: str) -> list[str]:
    """Messages some path reaches at an unknown hour. Entries and events happen at any hour;
    a send-window wait outside quiet hours fixes the hour; waits of whole days keep it; any
    other delay (hours, a wait-for-event's *happened*) makes it unknown again.

    An exit that sets the state does so whatever came in, so the steps reached at an unknown
    hour are those an entry, or an exit that makes the hour unknown, leads to through exits
    that keep it: one search, over the steps at an unknown hour only."""
    effect = {
        node.id: changes
        for node in ctx.nodes_of(*WAIT_TYPES)
        if (changes := _schedule_effect(node, quiet_start, quiet_end))
    }
    successors, reachable = ctx.successors, ctx.reachable
    stack = list(ctx.entries)
    for node_id, changes in effect.items():
        if node_id in reachable:
            stack.extend(t for x, t in successors[node_id] if changes.get(x) is False)
    unknown_hour: set[str] = set()
    while stack:
        node_id = stack.pop()
        if node_id in unknown_hour:
            continue
        unknown_hour.add(node_id)
        changes = effect.get(node_id)
        for exit_name, target in successors[node_id]:
            if target not in unknown_hour and not (changes and exit_name in changes):
                stack.append(target)
    return [n.id for n in ctx.nodes_of(*MESSAGE_TYPES) if n.id in unknown_hour]


def _schedule_effect(node: Node, quiet_start: str, quiet_end: str) -> dict[str, bool]:
    """What leaving a step by each exit does to "the hour is outside quiet hours": a send
    window sets it, a delay of hours or an event at any hour clears it; exits not listed
    keep it (whole days keep the hour)."""
    if node.type == "wait":
        if node.params.get("mode") == "window":
            return {"next": not _window_overlaps_quiet(node, quiet_start, quiet_end)}
        return {} if _whole_days(node.params.get("duration")) else {"next": False}
    if node.type == "wait_event":
        if _whole_days(node.params.get("timeout")):
            return {"happened": False}
        return {"happened": False, "timeout": False}
    return {}


def _whole_days(text: object) -> bool:
    seconds = _duration(text)
    return not isinstance(seconds, DurationError) and seconds % 86400 == 0


def _minutes(text: object) -> int | None:
    return int(text[:2]) * 60 + int(text[3:]) if _is_time(text) else None  # type: ignore[index]


def _window_overlaps_quiet(node: Node, quiet_start: str, quiet_end: str) -> bool:
    times = (node.params.get("window_start"), node.params.get("window_end"), quiet_start, quiet_end)
    if not all(isinstance(t, str) for t in times):
        return True  # not a time (V114 reports it)
    return _times_overlap(*times)


@lru_cache(maxsize=1024)
def _times_overlap(window_start: str, window_end: str, quiet_start: str, quiet_end: str) -> bool:
    """Whether a send window and quiet hours share a minute (True when a time cannot be read);
    worked out once per distinct set of times."""
    start, end = _minutes(window_start), _minutes(window_end)
    q_start, q_end = _minutes(quiet_start), _minutes(quiet_end)
    if None in (start, end, q_start, q_end):
        return True
    return any(
        a_start < b_end and b_start < a_end
        for a_start, a_end in _spans(start, end)  # type: ignore[arg-type]
        for b_start, b_end in _spans(q_start, q_end)  # type: ignore[arg-type]
    )


def _spans(start: int, end: int) -> list[tuple[int, int]]:
    """Minute ranges of the day from start to end, split at midnight."""
    return [(start, end)] if start <= end else [(start, 1440), (0, end)]


@rule("V303", Severity.WARNING, "A wait only delays leaving")
def _trailing_wait(ctx: Context) -> Iterator[Problem]:
    for node in ctx.nodes_of("wait"):
        targets = [ctx.flow[t] for _, t in ctx.successors[node.id]]
        if targets and all(t.type == "exit" for t in targets):
            yield ctx.problem(
                "V303",
                T(
                    "V303",
                    "{step} is followed only by an Exit: it just delays leaving; remove it",
                    step=_q(node),
                ),
                node.id,
            )


# --- logic ---------------------------------------------------------------------------------


def _logic_rule(code: str, title: str) -> None:
    def check(ctx: Context) -> Iterator[Problem]:
        for finding in ctx.logic:
            if finding.code == code:
                yield ctx.problem(code, finding.message, finding.node, finding.exit)

    rule(code, Severity.WARNING, title)(check)


_logic_rule("V401", "A branch is ruled out by the conditions before it")
_logic_rule("V402", "A condition is always true or always false")
_logic_rule("V403", "Switch cases overlap")


# --- outcome -------------------------------------------------------------------------------


@rule("V501", Severity.WARNING, "No reachable Exit counts as converted")
def _no_conversion(ctx: Context) -> Iterator[Problem]:
    if not ctx.entries:
        return
    reachable = ctx.reachable
    converted = [
        x for x in ctx.exits if x in reachable and ctx.flow[x].params.get("outcome") == "converted"
    ]
    if not converted:
        yield ctx.problem(
            "V501",
            T(
                "V501",
                "No path ends at an Exit with outcome ‘{outcome}’: the funnel never counts "
                "a success",
                outcome=choice_text("converted"),
            ),
        )


def _other_channels(node: Node) -> Msg:
    others = [c for c in ("email", "push", "sms", "messenger") if c != node.params.get("channel")]
    first, second = (channel_text(c) for c in others[:2])
    return T("Words", "{first} or {second}", first=first, second=second)


@rule("V502", Severity.WARNING, "A failed SMS or messenger message gives up on the contact")
def _failed_gives_up(ctx: Context) -> Iterator[Problem]:
    for node in ctx.nodes_of(*MESSAGE_TYPES):
        if node.params.get("channel") == "email":
            continue
        for edge in ctx.edges_by_exit.get((node.id, "failed"), []):
            target = ctx.flow.get(edge.target)
            if target is not None and target.type == "exit":
                yield ctx.problem(
                    "V502",
                    T(
                        "V502",
                        "When {step} fails, the contact leaves at once, though it may be "
                        "reachable by {channels}: try another channel before giving up",
                        step=_q(node),
                        channels=_other_channels(node),
                    ),
                    node.id,
                    "failed",
                )


_SEVERITY = {r.code: r.severity for r in RULES}
