"""Runtime JSON: schema-valid, byte-stable, errors block, conditions agree with json-logic-js."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from reference_jsonlogic import run_jsonlogic

from app.cli import main
from app.engine import expressions
from app.engine.serialization import load_scenario
from app.exporters.runtime_json import ExportError, content_hash, dumps_runtime, export_runtime
from app.resources import EXAMPLES, SCHEMAS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / "runtime-1.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.FormatChecker()
    assert "duration" in checker.checkers, "install jsonschema[format-nongpl]"
    return jsonschema.Draft202012Validator(schema, format_checker=checker)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_exports_schema_valid_and_stable(path: Path, validator) -> None:
    scenario = load_scenario(path).scenario
    document = export_runtime(scenario)
    validator.validate(document)
    assert dumps_runtime(scenario) == dumps_runtime(load_scenario(path).scenario)
    assert document["scenario"]["content_hash"] == content_hash(document)
    states = document["states"]
    for state_id, state in states.items():
        assert all(target in states for target in state["next"].values()), state_id
    assert {states[e]["type"] for e in document["entries"]} <= {"entry.segment", "entry.event"}
    flow = {n.id for n in scenario.nodes.values() if not n.is_annotation}
    assert set(states) == flow, "annotations are left out, every step is in"


def test_schema_rejects_broken_documents(validator) -> None:
    document = export_runtime(load_scenario(EXAMPLES / "abandoned_cart.json").scenario)
    broken = json.loads(json.dumps(document))
    broken["states"]["wait_purchase"]["timeout"]["iso"] = "2 days"
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(document))
    del broken["states"]["wait_purchase"]["next"]["timeout"]
    assert not validator.is_valid(broken)


def test_content_hash_changes_with_the_scenario() -> None:
    scenario = load_scenario(EXAMPLES / "abandoned_cart.json").scenario
    before = export_runtime(scenario)["scenario"]["content_hash"]
    scenario.nodes["remind_email"].params["subject"] = "Still thinking?"
    assert export_runtime(scenario)["scenario"]["content_hash"] != before


def test_validation_errors_block_the_export_and_name_the_problem() -> None:
    scenario = load_scenario(EXAMPLES / "abandoned_cart.json").scenario
    scenario.edges = [
        e for e in scenario.edges if (e.source, e.exit) != ("wait_purchase", "timeout")
    ]
    with pytest.raises(ExportError) as caught:
        export_runtime(scenario)
    assert [p.code for p in caught.value.problems] == ["V102"]
    assert "wait_purchase" in str(caught.value)


def test_warnings_are_listed_in_the_file() -> None:
    scenario = load_scenario(EXAMPLES / "abandoned_cart.json").scenario
    scenario.settings.max_discount = 5
    warnings = export_runtime(scenario)["warnings"]
    assert warnings and {w["code"] for w in warnings} == {"V207"}
    assert all(w["node"] in scenario.nodes for w in warnings)


def test_manifest_lists_what_the_scenario_depends_on() -> None:
    document = export_runtime(load_scenario(EXAMPLES / "abandoned_cart.json").scenario)
    manifest = document["dependencies"]
    assert "cart_abandoned" in manifest["events"] and "purchase" in manifest["events"]
    assert {"email", "sms"} <= set(manifest["channels"])
    assert {"consent_sms", "has_phone", "first_name"} <= set(manifest["fields"])


def test_waits_carry_seconds_and_only_the_shape_that_applies() -> None:
    states = export_runtime(load_scenario(EXAMPLES / "abandoned_cart.json").scenario)["states"]
    assert states["wait_purchase"]["timeout"] == {"iso": "P2D", "seconds": 172800}
    window = states["wait_daytime"]
    assert "window" in window and "duration" not in window and "mode" not in window


def test_cli_export_writes_the_file_and_refuses_broken_scenarios(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cart.runtime.json"
    assert main(["export", str(EXAMPLES / "abandoned_cart.json"), "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == "voronka.runtime"
    broken = tmp_path / "broken.json"
    document = json.loads((EXAMPLES / "abandoned_cart.json").read_text(encoding="utf-8"))
    document["edges"] = document["edges"][1:]
    broken.write_text(json.dumps(document), encoding="utf-8")
    target = tmp_path / "nothing.json"
    assert main(["export", str(broken), "-o", str(target)]) == 1
    assert not target.exists()
    assert "not exported" in capsys.readouterr().err


def contacts(count: int) -> list[dict]:
    rng = random.Random(7)
    people = []
    for _ in range(count):
        contact = {
            "age": rng.choice([None, 17, 25, 40, 66]),
            "gender": rng.choice([None, "f", "m"]),
            "city": rng.choice([None, "Moscow", "Kazan", "Omsk"]),
            "has_phone": rng.random() < 0.6,
            "has_email": rng.random() < 0.9,
            "consent_sms": rng.random() < 0.4,
            "consent_push": rng.random() < 0.3,
            "consent_messenger": rng.random() < 0.3,
            "consent_email": rng.random() < 0.8,
            "nps_score": rng.choice([None, 3, 7, 8, 9, 10]),
            "orders_count": rng.choice([0, 1, 4]),
            "total_spent": rng.choice([0, 990, 35000]),
            "cart_value": rng.choice([0, 1500, 7000]),
            "tags": rng.sample(["cats", "vip", "bant_budget", "bant_need", "smartphone_buyer"], 2),
            "events": {
                "purchase": {
                    "count": rng.choice([0, 1, 3]),
                    "days_since": rng.choice([None, 2, 40, 120]),
                }
            },
        }
        people.append(contact)
    return people


@pytest.mark.node
def test_exported_conditions_agree_with_the_reference_json_logic() -> None:
    items, expected = [], []
    for path in EXAMPLE_FILES:
        for state in export_runtime(load_scenario(path).scenario)["states"].values():
            conditions = [state.get("condition")] + [c["condition"] for c in state.get("cases", [])]
            for condition in filter(None, conditions):
                expr = expressions.parse(condition["text"])
                for contact in contacts(40):
                    items.append({"rule": condition["jsonlogic"], "data": contact})
                    expected.append(expressions.evaluate(expr, contact))
    assert len(items) > 500
    results = [bool(r["result"]) for r in run_jsonlogic(items)]
    assert results == expected


def test_python_m_app_export_to_stdout() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "app", "export", str(EXAMPLES / "win_back.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["scenario"]["id"] == "win_back"
