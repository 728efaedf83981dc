"""The ASL export: both linters accept it, and moto's Step Functions interpreter runs it.

moto (with `execute_state_machine`) runs definitions with the ASL interpreter it shares with
LocalStack: real Choice rules, intrinsic functions, Catch, callbacks with task tokens and
timeouts. Lambda tasks go to moto's Docker-less Lambda, which answers each invocation with the
next result queued through moto's API — the test plays the handlers: it queues the contact a
decision loads, the status a message returns, and answers (or lets time out) each callback.

What this proves: every state is reachable as planned, each Choice sends the contact where the
reference evaluator says, the callback/timeout and failed/sent routing work, and each walk ends
in the expected exit. What it does not: real durations (the test checks them in the definition,
then runs with Wait 0 s and TimeoutSeconds 1 s) and real Lambda errors (the simple Lambda never
fails, so `Catch States.ALL` is only checked by the linters).
"""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.engine import expressions
from app.engine.durations import parse_duration
from app.engine.model import Edge, Node, Scenario
from app.engine.serialization import load_scenario
from app.exporters.asl import AslOptions, dumps_asl, export_asl
from app.exporters.asl_rules import ChoiceCompiler
from app.exporters.base import ExportOptionError
from app.resources import EXAMPLES
from tests.export_plans import CONDITIONS, candidate_contacts, contact_for, plan_walks

statelint = pytest.importorskip("statelint.linter")
moto = pytest.importorskip("moto")

VALIDATORS = Path(__file__).resolve().parents[1] / "tools" / "validators"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))
REGION = "us-east-1"
MOTO_CONFIG = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}


def _scenario(path: Path) -> Scenario:
    return load_scenario(path).scenario


def _lint(definition: dict) -> list[str]:
    from statelint.config import Config

    return [
        str(p)
        for p in statelint.Linter.validate(json.dumps(definition), Config(None, False, False))
    ]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_passes_statelint(path):
    definition, warnings = export_asl(_scenario(path))
    assert _lint(definition) == []
    assert all(
        state["Type"] != "Choice" or "Default" in state for state in definition["States"].values()
    )
    assert warnings, "an example without a single inexpressible construct is unlikely"


@pytest.mark.node
def test_every_example_passes_asl_validator(tmp_path):
    binary = VALIDATORS / "node_modules" / ".bin" / "asl-validator"
    if not binary.exists():
        pytest.skip("asl-validator missing: npm ci --prefix tools/validators --no-audit --no-fund")
    arguments = []
    for path in EXAMPLE_FILES:
        out = tmp_path / f"{path.stem}.asl.json"
        out.write_text(dumps_asl(_scenario(path)).content, encoding="utf-8")
        arguments += ["--json-path", str(out)]
    completed = subprocess.run(
        [str(binary), *arguments], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.count("is valid") == len(EXAMPLE_FILES)


def test_durations_are_the_scenario_durations():
    scenario = _scenario(EXAMPLES / "abandoned_cart.json")
    states = export_asl(scenario)[0]["States"]
    assert states["wait_1h"]["Seconds"] == 3600
    assert states["wait_purchase"]["TimeoutSeconds"] == parse_duration("P2D")
    assert states["wait_purchase"]["Catch"][0]["ErrorEquals"] == ["States.Timeout"]
    assert states["wait_purchase"]["Resource"].endswith(".waitForTaskToken")
    assert states["wait_daytime"]["TimestampPath"] == "$.window.at"


def test_options_set_the_resources_and_fail_states():
    scenario = _scenario(EXAMPLES / "abandoned_cart.json")
    arn = "arn:aws:lambda:eu-west-1:111122223333:function:send"
    options = AslOptions.from_strings({"message_resource": arn, "fail_outcomes": "lost"})
    states = export_asl(scenario, options)[0]["States"]
    assert states["remind_email"]["Resource"] == arn
    assert states["exit_lost"] == {
        "Type": "Fail",
        "Comment": states["exit_lost"]["Comment"],
        "Error": "Voronka.Lost",
        "Cause": states["exit_lost"]["Cause"],
    }
    assert states["exit_converted"]["Type"] == "Succeed"
    with pytest.raises(ExportOptionError, match="no option colour"):
        AslOptions.from_strings({"colour": "red"})
    with pytest.raises(ExportOptionError, match="must be an ARN"):
        AslOptions.from_strings({"action_resource": "my-function"})
    with pytest.raises(ExportOptionError, match="unknown outcome won"):
        AslOptions.from_strings({"fail_outcomes": "won"})


def test_inexpressible_conditions_are_evaluated_by_the_handler_with_a_warning():
    scenario = _arithmetic_scenario()
    definition, warnings = export_asl(scenario)
    assert _lint(definition) == []
    evaluate = definition["States"]["rich__evaluate"]
    assert evaluate["Parameters"]["conditions"]["c0"] == expressions.to_jsonlogic(
        expressions.parse("total_spent / orders_count > 5000")
    )
    assert [w.nodes for w in warnings if "arithmetic" in w.message] == [("rich",)]


# --------------------------------------------------------------------------- execution


@pytest.fixture(scope="module")
def sfn():
    boto3 = pytest.importorskip("boto3")
    # The interpreter logs every guarded lookup of a missing field (IsPresent false) with the
    # repr of its whole state tree; formatting those costs more than running the machine.
    interpreter_log = logging.getLogger("moto.stepfunctions.parser")
    level = interpreter_log.level
    interpreter_log.setLevel(logging.CRITICAL)
    with moto.mock_aws(config=MOTO_CONFIG):
        yield boto3.client("stepfunctions", region_name=REGION)
    interpreter_log.setLevel(level)


class Harness:
    """Creates the state machine and plays its handlers for one walk at a time."""

    def __init__(self, sfn, scenario: Scenario, options: AslOptions | None = None) -> None:
        self.sfn = sfn
        self.scenario = scenario
        self.definition = export_asl(scenario, options)[0]
        self.arn = sfn.create_state_machine(
            name=f"voronka-{uuid.uuid4().hex[:12]}",
            definition=json.dumps(_fast(self.definition)),
            roleArn="arn:aws:iam::123456789012:role/voronka",
        )["stateMachineArn"]

    def run(self, walk, variants: dict[str, str] | None = None) -> dict[str, Any]:
        results, callbacks = [], []
        forced = dict(variants or {})
        entry_contact: dict[str, Any] = {}
        states = self.definition["States"]
        for node_id, exit_name in walk.steps:
            node = self.scenario.node(node_id)
            if node.is_entry:
                entry_contact = contact_for(node, "next")
                if f"{node_id}__evaluate" in states:
                    results.append(_evaluated(node, entry_contact))
            elif node.type in ("condition", "switch"):
                contact = contact_for(node, exit_name)
                results.append(contact)
                if f"{node_id}__evaluate" in states:
                    results.append(_evaluated(node, contact))
            elif node.type == "wait" and node.params.get("mode") == "window":
                results.append({"at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
            elif node.type == "wait_event":
                results.append({"subscribed": True})
                callbacks.append(exit_name)
            elif node.type in ("message", "offer", "notify"):
                results.append({"status": exit_name})
            elif node.type in ("update", "goal"):
                results.append({"ok": True})
            elif node.type == "split":
                forced[node_id] = exit_name
        _lambda_results().clear()
        for result in results:
            _queue_lambda_result(result)
        timeouts = {
            name: TIMEOUT_WALK_SECONDS if (name, "timeout") in walk.steps else 600
            for name, state in states.items()
            if "TimeoutSeconds" in state
        }
        execution = self.sfn.start_execution(
            stateMachineArn=self.arn,
            name=uuid.uuid4().hex,
            input=json.dumps(
                {
                    "contact": entry_contact,
                    "entry": walk.entry,
                    "variants": forced,
                    "test_timeouts": timeouts,
                }
            ),
        )["executionArn"]
        return self.drive(execution, callbacks)

    def drive(self, execution: str, callbacks: list[str]) -> dict[str, Any]:
        answered, deadline = 0, time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.1)
            described = self.sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                return {
                    "unasked": list(_lambda_results()),
                    "status": described["status"],
                    "output": described.get("output"),
                    "events": self.history(execution),
                }
            if answered == len(callbacks):
                continue
            scheduled = [
                json.loads(e["taskScheduledEventDetails"]["parameters"])
                for e in self.history(execution)
                if e["type"] == "TaskScheduled"
                and e["taskScheduledEventDetails"]["resource"] == "invoke.waitForTaskToken"
            ]
            while answered < len(scheduled):
                if callbacks[answered] == "happened":
                    token = scheduled[answered]["Payload"]["task_token"]
                    self.sfn.send_task_success(taskToken=token, output=json.dumps({"event": "x"}))
                answered += 1  # a timeout is answered by not answering
        raise AssertionError(f"{execution} did not finish")

    def history(self, execution: str) -> list[dict]:
        return self.sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]


def _queue_lambda_result(result: dict) -> None:
    import requests

    response = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/lambda-simple/response",
        json={"results": [json.dumps(result)], "region": REGION},
        timeout=10,
    )
    response.raise_for_status()


def _lambda_results() -> list[str]:
    """The Docker-less Lambda's queue of results (moto keeps it per account and region)."""
    from moto.awslambda_simple.models import lambda_simple_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    return lambda_simple_backends[DEFAULT_ACCOUNT_ID][REGION].lambda_simple_results_queue


def _evaluated(node: Node, contact: dict) -> dict[str, bool]:
    """What the action handler answers to evaluate_conditions: the reference evaluator."""
    from tests.export_plans import decision_conditions

    texts = [text for _, text in decision_conditions(node)][:-1]
    return {
        f"c{i}": True if not text else expressions.evaluate(expressions.parse(text), contact)
        for i, text in enumerate(texts)
    }


# Where a walk takes a wait's timeout exit, the callback times out after this long. A timeout
# that fires before moto's Lambda call starting the wait has returned corrupts the execution
# history (a TypeError serialising it); 3 s did so on a loaded 2-core machine.
TIMEOUT_WALK_SECONDS = 6


def _fast(definition: dict) -> dict:
    """Durations are checked in the definition; a run waits 0 s, and each callback times out
    after the seconds the input gives in `test_timeouts` — 6 s where the walk takes the
    timeout exit, else 10 minutes. (Much shorter than the Lambda call that starts the wait,
    a timeout trips a race in moto's interpreter.)"""
    fast = copy.deepcopy(definition)
    for name, state in fast["States"].items():
        if "Seconds" in state:
            state["Seconds"] = 0
        if "TimeoutSeconds" in state:
            del state["TimeoutSeconds"]
            state["TimeoutSecondsPath"] = f"$.test_timeouts.{name}"
    return fast


def _entered(events: list[dict]) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")
    ]


def _check_walk(harness: Harness, walk, outcome: dict) -> None:
    node_ids = {n.id for n in harness.scenario.flow_nodes()}
    entered = _entered(outcome["events"])
    assert [s for s in entered if s in node_ids] == walk.nodes, entered
    end = harness.scenario.node(walk.end)
    assert outcome["status"] == "SUCCEEDED", outcome
    assert json.loads(outcome["output"])["exit"]["exit"] == end.id
    assert json.loads(outcome["output"])["exit"]["outcome"] == end.params["outcome"]
    # Every queued handler result was asked for: the walk invoked exactly what was planned.
    assert outcome["unasked"] == []


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_exit_of_every_example_executes_in_moto(sfn, path):
    scenario = _scenario(path)
    harness = Harness(sfn, scenario)
    walks = plan_walks(scenario)
    exits = {(e.source, e.exit) for e in scenario.edges}
    assert exits <= {step for walk in walks for step in walk.steps}
    for walk in walks:
        _check_walk(harness, walk, harness.run(walk))


@pytest.mark.slow
def test_a_split_without_a_fixed_variant_draws_one(sfn):
    scenario = Scenario(id="ab", name="A/B")
    scenario.add_node(Node("start", "entry.segment", "Everyone", {"condition": ""}))
    variants = [{"id": "a", "label": "A", "weight": 30}, {"id": "b", "label": "B", "weight": 70}]
    scenario.add_node(Node("ab", "split", "A/B", {"variants": variants}))
    scenario.add_node(Node("end_a", "exit", "A", {"outcome": "converted"}))
    scenario.add_node(Node("end_b", "exit", "B", {"outcome": "lost"}))
    for edge in (Edge("start", "next", "ab"), Edge("ab", "a", "end_a"), Edge("ab", "b", "end_b")):
        scenario.add_edge(edge)
    harness = Harness(sfn, scenario)
    bucket = harness.definition["States"]["ab__bucket"]
    assert bucket["Choices"] == [
        {"Variable": "$.draw.n", "NumericLessThan": 3000, "Next": "end_a__outcome"}
    ]
    for _ in range(4):
        execution = sfn.start_execution(
            stateMachineArn=harness.arn, name=uuid.uuid4().hex, input=json.dumps({"contact": {}})
        )["executionArn"]
        outcome = harness.drive(execution, [])
        output = json.loads(outcome["output"])
        assert outcome["status"] == "SUCCEEDED"
        assert 0 <= output["draw"]["n"] < 10_000
        assert output["exit"]["exit"] == ("end_a" if output["draw"]["n"] < 3000 else "end_b")


@pytest.mark.slow
def test_fail_outcomes_end_the_execution_failed(sfn):
    scenario = _scenario(EXAMPLES / "abandoned_cart.json")
    harness = Harness(sfn, scenario, AslOptions(fail_outcomes=frozenset({"lost"})))
    walk = next(w for w in plan_walks(scenario) if w.end == "exit_lost")
    outcome = harness.run(walk)
    assert outcome["status"] == "FAILED"
    assert _entered(outcome["events"])[-1] == "exit_lost"


@pytest.mark.slow
def test_several_entries_and_handler_evaluated_conditions_route_every_way(sfn):
    scenario = _arithmetic_scenario()
    harness = Harness(sfn, scenario)
    walks = plan_walks(scenario)
    assert {w.entry for w in walks} == {"seg", "evt"}
    for walk in walks:
        _check_walk(harness, walk, harness.run(walk))
    # An entry the machine does not know ends in the unknown_entry Fail state.
    execution = sfn.start_execution(
        stateMachineArn=harness.arn,
        name=uuid.uuid4().hex,
        input=json.dumps({"contact": {}, "entry": "nowhere"}),
    )["executionArn"]
    outcome = harness.drive(execution, [])
    assert outcome["status"] == "FAILED"
    assert _entered(outcome["events"]) == ["start", "unknown_entry"]


# --------------------------------------------------------------------------- Choice rules


@pytest.mark.slow
def test_choice_rules_agree_with_the_reference_evaluator_on_a_contact_table(sfn):
    """One Map execution per condition runs its Choice over a table of contacts in moto."""
    from app.engine.contact_schema import DEFAULT_SCHEMA

    schema = DEFAULT_SCHEMA.__class__(custom_attributes=frozenset({"loyalty_level"}))
    for text in CONDITIONS:
        expr = expressions.parse(text)
        compiler = ChoiceCompiler(schema)
        rule = compiler.rule(expr)
        contacts = list(candidate_contacts([expr], schema, limit=400))[::4][:40]
        contacts += [{"city": "", "tags": []}, {"age": "30", "tags": []}, {"tags": []}]
        processor: dict[str, Any] = {
            "StartAt": "choice",
            "States": {
                "choice": {
                    "Type": "Choice",
                    "Choices": [{**rule, "Next": "yes"}],
                    "Default": "no",
                },
                "yes": {"Type": "Pass", "Result": True, "End": True},
                "no": {"Type": "Pass", "Result": False, "End": True},
            },
        }
        if compiler.tags:
            processor["States"]["tags"] = {
                "Type": "Pass",
                "Parameters": compiler.tag_parameters(),
                "ResultPath": "$.tag_tests",
                "Next": "choice",
            }
            processor["StartAt"] = "tags"
        definition = {
            "StartAt": "each",
            "States": {
                "each": {
                    "Type": "Map",
                    "ItemsPath": "$.contacts",
                    "ItemProcessor": processor,
                    "End": True,
                }
            },
        }
        assert _lint(definition) == [], text
        arn = sfn.create_state_machine(
            name=f"probe-{uuid.uuid4().hex[:12]}",
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/voronka",
        )["stateMachineArn"]
        items = [{"contact": c} for c in contacts]
        execution = sfn.start_execution(
            stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps({"contacts": items})
        )["executionArn"]
        for _ in range(600):
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                break
            time.sleep(0.05)
        assert described["status"] == "SUCCEEDED", (text, described)
        expected = [expressions.evaluate(expr, c, schema) for c in contacts]
        assert json.loads(described["output"]) == expected, text


# --------------------------------------------------------------------------- helpers


def _arithmetic_scenario() -> Scenario:
    """Two entries (one with a condition) → a condition with arithmetic → two exits."""
    scenario = Scenario(id="arith", name="Arithmetic")
    scenario.add_node(Node("seg", "entry.segment", "Segment", {"condition": "age > 30"}))
    scenario.add_node(Node("evt", "entry.event", "Signup", {"event": "signup"}))
    condition = {"condition": "total_spent / orders_count > 5000"}
    scenario.add_node(Node("rich", "condition", "Big orders", condition))
    scenario.add_node(Node("won", "exit", "Won", {"outcome": "converted"}))
    scenario.add_node(Node("lost", "exit", "Lost", {"outcome": "lost"}))
    for edge in (
        Edge("seg", "next", "rich"),
        Edge("evt", "next", "rich"),
        Edge("rich", "yes", "won"),
        Edge("rich", "no", "lost"),
    ):
        scenario.add_edge(edge)
    return scenario
