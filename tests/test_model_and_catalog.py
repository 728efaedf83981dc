"""The scenario's mutation API and the node catalog it reads exits and defaults from."""

from __future__ import annotations

import pytest

from app.engine.catalog import CATALOG, NODE_TYPES, Category, ParamKind
from app.engine.durations import DurationError, duration_words, format_duration, parse_duration
from app.engine.model import (
    DuplicateIdError,
    Edge,
    EdgeError,
    ModelError,
    Node,
    Scenario,
    UnknownNodeError,
    create_node,
)

EXPECTED_EXITS = {
    "entry.segment": ("next",),
    "entry.event": ("next",),
    "message": ("sent", "failed"),
    "offer": ("sent", "failed"),
    "wait": ("next",),
    "wait_event": ("happened", "timeout"),
    "condition": ("yes", "no"),
    "update": ("next",),
    "notify": ("done", "failed"),
    "goal": ("next",),
    "exit": (),
    "note": (),
    "group": (),
}


def test_catalog_declares_every_type_with_its_exits() -> None:
    assert set(CATALOG) == set(EXPECTED_EXITS) | {"switch", "split"}
    for type_name, exits in EXPECTED_EXITS.items():
        spec = CATALOG[type_name]
        assert spec.exits_for(spec.default_params()) == exits, type_name


def test_switch_and_split_exits_follow_their_params() -> None:
    switch, split = CATALOG["switch"], CATALOG["split"]
    cases = [{"id": "vip", "condition": "total_spent > 10000"}, {"id": "new"}, {"id": "vip"}]
    assert switch.exits_for({"cases": cases}) == ("vip", "new", "else")
    assert switch.exits_for({"cases": "garbage"}) == ("else",)
    assert split.exits_for({"variants": [{"id": "a", "weight": 30}, {"weight": 70}]}) == ("a",)


def test_catalog_specs_are_consistent() -> None:
    categories_seen = {t.category for t in NODE_TYPES}
    assert categories_seen == set(Category)
    for spec in NODE_TYPES:
        assert spec.label and spec.help and spec.example, spec.type
        assert spec.has_input == (spec.category not in (Category.ENTRY, Category.ANNOTATION))
        for param in spec.params:
            # tooltips, the CLI and the docs show what each parameter does, with an example
            assert param.help and param.example, f"{spec.type}.{param.name}"
            if param.kind is ParamKind.CHOICE:
                assert param.default is None or param.default in param.choices, param.name
            if param.kind is ParamKind.DURATION and param.default:
                parse_duration(param.default)
    defaults = CATALOG["switch"].default_params()
    defaults["cases"].append({"id": "x"})
    assert len(CATALOG["switch"].default_params()["cases"]) == 2, "defaults must be copies"


def test_durations_parse_format_and_explain_errors() -> None:
    assert parse_duration("P2D") == 2 * 86400
    assert parse_duration("PT6H") == 6 * 3600
    assert parse_duration("P1DT12H") == 36 * 3600
    assert parse_duration("P1W") == 7 * 86400
    assert format_duration(36 * 3600) == "P1DT12H"
    assert format_duration(90 * 60) == "PT1H30M"
    assert duration_words(36 * 3600) == "1 day 12 hours"
    for bad in ("2 days", "P", "PT", "P1.5D", "", "T1H"):
        with pytest.raises(DurationError, match="P2D"):
            parse_duration(bad)


def build() -> Scenario:
    scenario = Scenario()
    for type_name in ("entry.event", "message", "exit"):
        scenario.add_node(create_node(scenario, type_name))
    return scenario


def test_create_node_gives_readable_unique_ids_and_defaults() -> None:
    scenario = build()
    assert list(scenario.nodes) == ["entry_event", "message", "exit"]
    second = create_node(scenario, "message")
    assert second.id == "message_2"
    assert second.params["channel"] == "email"
    with pytest.raises(ModelError, match="not a node type"):
        create_node(scenario, "teleport")


def test_connect_refuses_impossible_edges_with_reasons() -> None:
    scenario = build()
    scenario.connect("entry_event", "next", "message")
    with pytest.raises(EdgeError, match=r"already connected.*A/B split"):
        scenario.connect("entry_event", "next", "exit")
    with pytest.raises(EdgeError, match=r"has no exit ‘opened’.*sent, failed"):
        scenario.connect("message", "opened", "exit")
    with pytest.raises(EdgeError, match="has no input"):
        scenario.connect("message", "sent", "entry_event")
    with pytest.raises(UnknownNodeError, match="‘ghost’"):
        scenario.connect("message", "sent", "ghost")
    with pytest.raises(DuplicateIdError):
        scenario.add_node(Node(id="exit", type="exit"))
    assert scenario.edges == [Edge("entry_event", "next", "message")]


def test_remove_node_returns_its_edges_and_events_reach_observers() -> None:
    scenario = build()
    scenario.connect("entry_event", "next", "message")
    scenario.connect("message", "sent", "exit")
    scenario.connect("message", "failed", "exit")
    events: list[tuple[str, object]] = []
    scenario.subscribe(lambda kind, payload: events.append((kind, payload)))
    node, edges = scenario.remove_node("message")
    assert node.id == "message" and len(edges) == 3
    assert scenario.edges == []
    assert [kind for kind, _ in events] == ["edge_removed"] * 3 + ["node_removed"]
    scenario.move_node("exit", (10, 20))
    scenario.set_param("exit", "outcome", "lost")
    assert events[-2:] == [("node_moved", "exit"), ("node_changed", "exit")]
    assert scenario.nodes["exit"].position == (10.0, 20.0)
