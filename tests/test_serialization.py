"""Loading and saving scenario files: precise errors, nothing lost, clean diffs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.catalog import NODE_TYPES
from app.engine.model import Edge, Node, Product, Scenario
from app.engine.serialization import (
    ScenarioFileError,
    document_schema,
    dumps_scenario,
    load_scenario,
    loads_scenario,
    save_scenario,
    scenario_to_dict,
)


def minimal(**changes: object) -> dict:
    document = {
        "format": "voronka.scenario",
        "version": 1,
        "id": "t",
        "name": "Test",
        "nodes": [
            {"id": "start", "type": "entry.event", "params": {"event": "signup"}},
            {"id": "done", "type": "exit", "params": {"outcome": "converted"}},
        ],
        "edges": [{"from": "start", "exit": "next", "to": "done"}],
    }
    document.update(changes)
    return document


def load_text(text: str) -> ScenarioFileError:
    with pytest.raises(ScenarioFileError) as caught:
        loads_scenario(text, file="bad.json")
    return caught.value


def load_doc(document: object) -> ScenarioFileError:
    return load_text(json.dumps(document))


def test_minimal_document_loads_with_defaults() -> None:
    loaded = loads_scenario(json.dumps(minimal()))
    assert loaded.issues == []
    scenario = loaded.scenario
    assert list(scenario.nodes) == ["start", "done"]
    assert scenario.edges == [Edge("start", "next", "done")]
    assert scenario.settings.currency == "RUB"


def test_broken_json_names_line_and_column() -> None:
    error = load_text('{\n  "format": "voronka.scenario",\n  "version": 1,,\n}')
    assert error.where == "line 3, column 16"
    assert "not valid JSON" in error.message
    assert str(error).startswith("bad.json, line 3, column 16: ")


def test_not_an_object() -> None:
    error = load_doc([1, 2])
    assert error.where == "$" and "JSON object" in error.message


@pytest.mark.parametrize(
    ("fmt", "phrase"),
    [(None, "no ‘format’ key"), ("bpmn", "its format is ‘bpmn’")],
)
def test_wrong_format(fmt: str | None, phrase: str) -> None:
    document = minimal()
    if fmt is None:
        del document["format"]
    else:
        document["format"] = fmt
    error = load_doc(document)
    assert error.where == "$.format"
    assert phrase in error.message and "not a Voronka scenario" in error.message


def test_newer_version_is_refused_with_reason() -> None:
    error = load_doc(minimal(version=7))
    assert error.where == "$.version"
    assert "newer Voronka" in error.message and "7" in error.message


@pytest.mark.parametrize("version", ["1", 0, True])
def test_bad_version(version: object) -> None:
    assert load_doc(minimal(version=version)).where == "$.version"


@pytest.mark.parametrize(
    ("mutate", "where", "phrase"),
    [
        (lambda d: d.pop("nodes"), "$", "missing key ‘nodes’"),
        (lambda d: d.pop("edges"), "$", "missing key ‘edges’"),
        (lambda d: d["nodes"][1].pop("type"), "$.nodes[1]", "missing key ‘type’"),
        (lambda d: d["nodes"][0].pop("id"), "$.nodes[0]", "missing key ‘id’"),
        (lambda d: d["edges"][0].pop("exit"), "$.edges[0]", "missing key ‘exit’"),
        (lambda d: d["edges"][0].update(to=5), "$.edges[0].to", "expected string"),
        (lambda d: d["nodes"][0].update(position=[1]), "$.nodes[0].position", "too short"),
        (lambda d: d.update(nodes={}), "$.nodes", "expected array"),
        (
            lambda d: d.update(settings={"quiet_hours": {"start": "25:00", "end": "09:00"}}),
            "$.settings.quiet_hours.start",
            '"25:00": a time must be written as HH:MM',
        ),
    ],
)
def test_missing_keys_and_wrong_types_name_the_json_path(mutate, where, phrase) -> None:
    document = minimal()
    mutate(document)
    error = load_doc(document)
    assert error.where == where
    assert phrase in error.message


def test_duplicate_node_ids_are_refused() -> None:
    document = minimal()
    document["nodes"].append({"id": "start", "type": "exit"})
    error = load_doc(document)
    assert error.where == "$.nodes[2].id" and "‘start’" in error.message


def test_unknown_node_type_loads_as_placeholder_and_keeps_its_edges() -> None:
    document = minimal()
    document["nodes"].append({"id": "robot", "type": "ai.magic", "params": {"x": 1}})
    document["edges"] = [
        {"from": "start", "exit": "next", "to": "robot"},
        {"from": "robot", "exit": "ok", "to": "done"},
    ]
    loaded = loads_scenario(json.dumps(document))
    robot = loaded.scenario.nodes["robot"]
    assert robot.is_placeholder and robot.exits == ("ok",)
    [issue] = loaded.issues
    assert issue.path == "$.nodes[2].type" and issue.node == "robot"
    assert "ai.magic" in issue.message
    saved = json.loads(dumps_scenario(loaded.scenario))
    assert {k: v for k, v in saved["nodes"][1].items() if k != "position"} == {
        "id": "robot",
        "type": "ai.magic",
        "title": "",
        "params": {"x": 1},
    }
    assert len(saved["edges"]) == 2


def test_edges_naming_missing_nodes_or_exits_are_reported_and_kept() -> None:
    document = minimal()
    document["edges"] = [
        {"from": "start", "exit": "nope", "to": "done"},
        {"from": "ghost", "exit": "next", "to": "done"},
        {"from": "start", "exit": "next", "to": "nowhere"},
    ]
    loaded = loads_scenario(json.dumps(document))
    by_path = {issue.path: issue.message for issue in loaded.issues}
    assert "has no exit ‘nope’" in by_path["$.edges[0].exit"]
    assert "missing step ‘ghost’" in by_path["$.edges[1].from"]
    assert "missing step ‘nowhere’" in by_path["$.edges[2].to"]
    assert len(loaded.scenario.edges) == 3


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioFileError, match="cannot read the file"):
        load_scenario(tmp_path / "missing.json")
    binary = tmp_path / "image.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ScenarioFileError, match="not UTF-8") as caught:
        load_scenario(binary)
    assert caught.value.file == str(binary)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(minimal()).encode())
    assert load_scenario(path).scenario.id == "t"


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "funnel.json"
    scenario = loads_scenario(json.dumps(minimal())).scenario
    save_scenario(scenario, path)
    before = path.read_bytes()
    scenario.nodes["start"].params["bad"] = object()  # cannot be written as JSON
    with pytest.raises(TypeError):
        save_scenario(scenario, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["funnel.json"]


def test_saved_order_is_stable_whatever_the_insertion_order() -> None:
    a = loads_scenario(json.dumps(minimal())).scenario
    reordered = minimal()
    reordered["nodes"].reverse()
    b = loads_scenario(json.dumps(reordered)).scenario
    assert dumps_scenario(a) == dumps_scenario(b)
    keys = list(json.loads(dumps_scenario(a)))
    assert keys[:4] == ["format", "version", "id", "name"]


def test_unknown_top_level_keys_survive_a_round_trip() -> None:
    loaded = loads_scenario(json.dumps(minimal(x_team_notes={"owner": "Ann"})))
    assert json.loads(dumps_scenario(loaded.scenario))["x_team_notes"] == {"owner": "Ann"}


def test_shipped_schema_is_valid_draft_2020_12_and_accepts_saved_documents() -> None:
    schema = document_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    document = scenario_to_dict(loads_scenario(json.dumps(minimal())).scenario)
    jsonschema.Draft202012Validator(schema).validate(document)
    document["edges"][0]["extra"] = 1
    assert not jsonschema.Draft202012Validator(schema).is_valid(document)


# --- property: save → load → save is the identity on random documents -----------------------

ids = st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=8)
texts = st.text(max_size=20)
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    texts,
)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ids, inner, max_size=3),
    max_leaves=8,
)
coordinates = st.floats(-5000, 5000, allow_nan=False).map(lambda v: round(v, 2))
type_names = st.sampled_from([t.type for t in NODE_TYPES] + ["future.type"])


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    scenario = Scenario(id=draw(ids), name=draw(texts), description=draw(texts))
    for node_id in draw(st.lists(ids, unique=True, max_size=12)):
        scenario.nodes[node_id] = Node(
            id=node_id,
            type=draw(type_names),
            title=draw(texts),
            params=draw(st.dictionaries(ids, json_values, max_size=4)),
            position=(draw(coordinates), draw(coordinates)),
        )
    node_ids = list(scenario.nodes)
    if node_ids:
        for source, exit_name, target in draw(
            st.lists(
                st.tuples(st.sampled_from(node_ids), ids, st.sampled_from(node_ids)),
                unique=True,
                max_size=15,
            )
        ):
            scenario.edges.append(Edge(source, exit_name, target))
    scenario.products = [
        Product(
            pid, draw(texts), draw(st.sampled_from(["main", "upsell"])), draw(st.integers(0, 9999))
        )
        for pid in draw(st.lists(ids, unique=True, max_size=3))
    ]
    return scenario


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_save_load_save_is_byte_identical(scenario: Scenario) -> None:
    first = dumps_scenario(scenario)
    second = dumps_scenario(loads_scenario(first).scenario)
    assert first == second
