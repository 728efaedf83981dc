"""Conformance vectors: schema-valid, up to date, covering every exit, walked by the interpreter
from the exported runtime JSON; and the interpreter and the simulation agree on that JSON."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from reference_jsonlogic import run_jsonlogic
from test_simulation import population

from app.engine.conformance import ConformanceError, differences, load_suite, run_vector
from app.engine.contact_schema import DEFAULT_SCHEMA
from app.engine.runtime import Runtime
from app.engine.runtime_document import RuntimeDocumentError, scenario_from_runtime
from app.engine.serialization import load_scenario
from app.engine.simulation import simulate
from app.exporters.runtime_json import export_runtime
from app.resources import EXAMPLES, RESOURCES, SCHEMAS
from tools import check_conformance, make_conformance

SUITES = sorted((RESOURCES / "conformance").glob("*.json"))
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))
START = datetime(2026, 3, 2, 8, 30)
# Exits no vector can take, with the reason; every other exit of every example must be taken.
UNREACHABLE: dict[tuple[str, str, str], str] = {}


@cache
def suite(path: Path) -> dict:
    return load_suite(path)


@cache
def runtime(path: Path) -> Runtime:
    return Runtime.from_document(suite(path)["scenario"], validate_schema=False)  # just checked


def test_the_vector_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads((SCHEMAS / "conformance-1.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert {p.stem for p in EXAMPLE_FILES} < {p.stem for p in SUITES}


@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.stem)
def test_interpreter_walks_every_vector_from_the_exported_json(path: Path) -> None:
    loaded = suite(path)  # validates against conformance-1 and, inside it, runtime-1
    assert loaded["vectors"]
    for vector in loaded["vectors"]:
        got = run_vector(runtime(path), vector)
        assert differences(vector["expect"], got) == [], vector["id"]


def test_the_vectors_are_what_the_generator_writes() -> None:
    files, uncovered = make_conformance.build()
    assert make_conformance.stale(files) == [], "run: python3 -m tools.make_conformance"
    assert all(not left for left in uncovered.values()), uncovered


def test_every_exit_of_every_example_is_taken_by_some_vector() -> None:
    missing = []
    for path in EXAMPLE_FILES:
        loaded = suite(RESOURCES / "conformance" / path.name)
        assert loaded["scenario"] == export_runtime(load_scenario(path).scenario)
        taken = {
            (step["state"], step["exit"])
            for vector in loaded["vectors"]
            for step in vector["expect"]["steps"]
        }
        for state_id, state in loaded["scenario"]["states"].items():
            for exit_name in state["next"]:
                if (state_id, exit_name) not in taken:
                    missing.append((path.stem, state_id, exit_name))
            if state["type"] == "exit":
                assert (state_id, None) in taken, f"{path.stem}: no vector reaches {state_id}"
    assert [m for m in missing if m not in UNREACHABLE] == []
    assert all(m in missing for m in UNREACHABLE), "an exit listed as unreachable is taken"


def test_vectors_cover_not_entering_waiting_and_the_world_s_outcomes() -> None:
    vectors = [v for path in SUITES for v in suite(path)["vectors"]]
    assert any(not v["expect"]["entered"] for v in vectors)
    assert any(v["expect"]["final"] and v["expect"]["final"]["waiting"] for v in vectors)
    for kind in ("undelivered", "split", "notify_failed"):
        assert any(v["outcomes"][kind] for v in vectors), kind
    hand = [v for v in vectors if v["origin"] == "hand"]
    assert len(hand) >= 10 and len({v["id"] for v in vectors}) == len(vectors)


def _path_of(vector: dict) -> list[tuple[str, str | None]]:
    return [(s["state"], s["exit"]) for s in vector["expect"]["steps"]]


def test_a_vector_must_say_what_the_world_decides() -> None:
    path = RESOURCES / "conformance" / "hand_logic.json"
    vector = copy.deepcopy(
        next(v for v in suite(path)["vectors"] if v["id"] == "hand_logic/sms_without_phone")
    )
    chosen = vector["outcomes"]["split"]
    vector["outcomes"]["split"] = []
    with pytest.raises(ConformanceError, match=r"split ‘ab’ visit 1.*\['a', 'b'\]"):
        run_vector(runtime(path), vector)
    vector["outcomes"]["split"] = chosen
    vector["outcomes"]["undelivered"] = [{"state": "offer_a", "visit": 1}]
    with pytest.raises(ConformanceError, match="never applied: undelivered offer_a visit 1"):
        run_vector(runtime(path), vector)


def test_changing_the_timeline_changes_the_expected_path() -> None:
    path = RESOURCES / "conformance" / "hand_logic.json"
    vector = next(v for v in suite(path)["vectors"] if v["id"] == "hand_logic/two_purchases")
    later = copy.deepcopy(vector)
    later["events"] = [e for e in vector["events"] if e["at"] != 7800]
    got = run_vector(runtime(path), later)
    # The purchase at +18000 now ends the first wait; the second wait times out.
    assert [(s["state"], s["exit"]) for s in got["steps"]][6:9] == [
        ("wait_buy", "happened"),
        ("goal_buy", "next"),
        ("wait_again", "timeout"),
    ]
    assert got["steps"][6]["left"] == 18000 and got["revenue"] == 792
    assert differences(vector["expect"], got)


# --------------------------------------------------------------------------- runtime JSON


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_reading_the_export_back_keeps_every_step_and_parameter(path: Path) -> None:
    scenario = load_scenario(path).scenario
    read = scenario_from_runtime(export_runtime(scenario), validate_schema=False)
    flow = {n.id: n for n in scenario.flow_nodes()}
    assert set(read.nodes) == set(flow)
    assert sorted(read.edges) == sorted(scenario.edges)
    for node_id, node in flow.items():
        original = {**node.spec.default_params(), **node.params}
        if node.type == "wait":  # the export keeps only what the wait's mode uses
            window = original["mode"] == "window"
            for key in ("duration",) if window else ("window_days", "window_start", "window_end"):
                original.pop(key)
        assert read.nodes[node_id].params == original, node_id
        assert read.nodes[node_id].title == node.display_title
    assert read.products == scenario.products
    assert (read.id, read.name, read.description) == (
        scenario.id,
        scenario.name,
        scenario.description,
    )
    s, r = scenario.settings, read.settings
    assert (r.timezone, r.currency, r.quiet_hours, r.frequency_cap, r.exit_on_unsubscribe) == (
        s.timezone,
        s.currency,
        s.quiet_hours,
        s.frequency_cap,
        s.exit_on_unsubscribe,
    )


def test_the_interpreter_renders_the_same_messages_from_either_document() -> None:
    people = population(30, seed=3)
    for path in EXAMPLE_FILES:
        scenario = load_scenario(path).scenario
        editor = Runtime(scenario, seed=4, start=START)
        document = export_runtime(scenario)  # schema-checked in test_runtime_json
        exported = Runtime.from_document(document, seed=4, start=START, validate_schema=False)
        for index, contact in enumerate(people):
            assert [w.to_dict() for w in editor.walks(contact, index)] == [
                w.to_dict() for w in exported.walks(contact, index)
            ], (path.stem, index)


PEOPLE = population(150, seed=11)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize(
    "seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)]
)
def test_simulation_and_interpreter_agree_on_the_exported_json(path: Path, seed: int) -> None:
    document = json.loads(json.dumps(export_runtime(load_scenario(path).scenario)))
    read = scenario_from_runtime(document, validate_schema=False)  # checked in test_runtime_json
    result = simulate(read, PEOPLE, seed=seed, start=START)
    interpreter = Runtime.from_document(
        document, seed=seed, start=START, render_messages=False, validate_schema=False
    )
    counts: Counter[tuple[str, str | None]] = Counter()
    finals = {}
    for index, contact in enumerate(PEOPLE):
        for walk in interpreter.walks(contact, index):
            if walk.entered:
                counts.update((s.node, s.exit) for s in walk.steps)
                finals[(index, walk.entry)] = (walk.final, walk.waiting)
    assert result.entered == len(finals) > 10
    for node_id, stats in result.nodes.items():
        for exit_name, count in stats.exits.items():
            assert counts[(node_id, exit_name)] == count, (node_id, exit_name)
        at_exit = stats.entered if document["states"][node_id]["type"] == "exit" else 0
        assert counts[(node_id, None)] == stats.waiting + at_exit, node_id
    simulated = {
        (int(c), result.entry_ids[e]): (result.node_ids[f], bool(w))
        for c, e, f, w in zip(
            result.walk_contact,
            result.walk_entry,
            result.walk_final,
            result.walk_waiting,
            strict=True,
        )
    }
    assert simulated == finals


def _abandoned_cart() -> dict:
    return export_runtime(load_scenario(EXAMPLES / "abandoned_cart.json").scenario)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.update(version=2), "not a voronka.runtime v1 document"),
        (lambda d: d["states"]["wait_1h"].pop("next"), r"states/wait_1h: 'next' is a required"),
        (
            lambda d: d["states"]["wait_1h"]["duration"].update(seconds=60),
            r"states.wait_1h.duration: PT1H is 3600 s, but `seconds` says 60",
        ),
        (
            lambda d: d["states"]["check_sms"]["condition"].update(text="consent_sms"),
            r"states.check_sms.condition: the JsonLogic is not the translation of 'consent_sms'",
        ),
        (
            lambda d: d["states"]["wait_purchase"]["next"].pop("timeout"),
            r"states/wait_purchase/next: 'timeout' is a required property",
        ),
        (
            lambda d: d["states"]["wait_1h"]["next"].update(next="nowhere"),
            "states.wait_1h.next.next leads to ‘nowhere’, which is not a state",
        ),
        (
            lambda d: d.update(entries=["wait_1h"]),
            r"entries lists \['wait_1h'\], but the entry states are \['entry_cart'\]",
        ),
    ],
)
def test_a_broken_runtime_document_is_refused_with_the_place(damage, message) -> None:
    document = _abandoned_cart()
    damage(document)
    with pytest.raises(RuntimeDocumentError, match=message):
        scenario_from_runtime(document)


# --------------------------------------------------------------------------- JsonLogic


_SEASONS = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring"}
_SEASONS |= {6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}


def _at(contact: dict, start: datetime, seconds: int) -> dict:
    """The runtime contact as an engine evaluates it at a moment: calendar fields added."""
    moment = start + timedelta(seconds=seconds)
    calendar = {
        "season": _SEASONS[moment.month],
        "weekday": moment.strftime("%a").lower(),
        "month": moment.month,
        "hour": moment.hour,
    }
    return {**copy.deepcopy(contact), **calendar}


def _apply(contact: dict, update: dict) -> None:
    action = update["action"]
    if action in ("add_tag", "remove_tag"):
        tags = [t for t in contact.get("tags", []) if t != update["tag"]]
        contact["tags"] = [*tags, update["tag"]] if action == "add_tag" else tags
    elif action == "set_crm_stage":
        contact["crm_stage"] = update["value"]
    elif DEFAULT_SCHEMA.find(update["attribute"]) is not None:
        contact[update["attribute"]] = update["value"]
    else:
        contact.setdefault("attributes", {})[update["attribute"]] = update["value"]


def _decisions(vector: dict, states: dict) -> list[tuple[dict, dict, bool, str]]:
    """(rule, data, expected truth, where) for every condition an engine evaluates on the
    vector's path, from the contact as the vector gives it and the updates along the way."""
    start = datetime.fromisoformat(vector["start"])
    contact = copy.deepcopy(vector["contact"])
    entry = states[vector["entry"]["state"]]
    found = []
    if entry.get("condition"):
        data = _at(contact, start, vector["entry"]["at"])
        found.append((entry["condition"]["jsonlogic"], data, vector["expect"]["entered"], "entry"))
    for step in vector["expect"]["steps"]:
        state = states[step["state"]]
        data = _at(contact, start, step["arrived"])
        where = f"{vector['id']} {step['state']}"
        if state["type"] == "condition":
            found.append((state["condition"]["jsonlogic"], data, step["exit"] == "yes", where))
        elif state["type"] == "switch":
            for case in state["cases"]:
                holds = case["id"] == step["exit"]
                found.append((case["condition"]["jsonlogic"], data, holds, f"{where}#{case['id']}"))
                if holds:
                    break
        if "update" in step:
            _apply(contact, step["update"])
    return found


@pytest.mark.node
def test_json_logic_js_takes_every_branch_the_vectors_expect() -> None:
    """An engine that evaluates the exported JsonLogic on the runtime contact, with the vector's
    updates applied and the calendar of the moment, takes the branches the vectors list."""
    decisions = [
        d
        for path in SUITES
        for v in suite(path)["vectors"]
        for d in _decisions(v, suite(path)["scenario"]["states"])
    ]
    assert len(decisions) > 150
    results = run_jsonlogic([{"rule": rule, "data": data} for rule, data, _, _ in decisions])
    wrong = [
        where
        for (_, _, expected, where), got in zip(decisions, results, strict=True)
        if "error" in got or bool(got["result"]) != expected
    ]
    assert wrong == []


def test_a_switch_whose_next_does_not_match_its_cases_is_refused() -> None:
    document = export_runtime(load_scenario(EXAMPLES / "back_in_stock.json").scenario)
    document["states"]["best_channel"]["cases"][1]["id"] = "app"
    with pytest.raises(RuntimeDocumentError, match=r"names exits \['else', 'push', 'sms'\], "):
        scenario_from_runtime(document)


def test_check_conformance_compares_another_engine_s_results(tmp_path, capsys) -> None:
    path = RESOURCES / "conformance" / "hand_clock.json"
    results = {v["id"]: copy.deepcopy(v["expect"]) for v in suite(path)["vectors"]}
    file = tmp_path / "results.json"
    file.write_text(json.dumps(results), encoding="utf-8")
    assert check_conformance.main(["--results", str(file), str(path)]) == 0
    results["hand_clock/no_consent"]["steps"][4]["left"] = 86460
    del results["hand_clock/undelivered"]
    file.write_text(json.dumps(results), encoding="utf-8")
    assert check_conformance.main(["--results", str(file), str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL hand_clock/no_consent" in out and "steps[4].left: expected 86400, got 86460" in out
    assert "FAIL hand_clock/undelivered: no result" in out and "4/6 passed" in out
    file.write_text("[]", encoding="utf-8")
    assert check_conformance.main(["--results", str(file), str(path)]) == 2


def test_render_errors_compare_by_part_not_by_wording() -> None:
    want = {"send": {"body": None, "errors": {"body": "line 1: ‘product’ is not set"}}}
    assert (
        differences(want, {"send": {"body": None, "errors": {"body": "undefined: product"}}}) == []
    )
    assert differences(want, {"send": {"body": None, "errors": {"subject": "x"}}}) == [
        'send.errors[0]: expected "body", got "subject"'
    ]
