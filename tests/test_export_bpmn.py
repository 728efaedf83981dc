"""The BPMN export: bpmnlint's recommended rules accept it, and SpiffWorkflow runs it.

SpiffWorkflow parses the file and executes it: start events, gateways evaluating the exported
Python conditions, send/receive/service/script tasks, timers and the boundary timer. The test
plays the workers: it sets `contact` in each `__contact` service task, `status` in send and
service tasks, `window_at` in window tasks, sends the awaited message or lets the boundary
timer fire. Timers are fast-forwarded: the test first checks the due time SpiffWorkflow
computed from the exported ISO 8601 duration, then moves it into the past.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.engine import expressions
from app.engine.contact_schema import ContactSchema
from app.engine.durations import parse_duration
from app.engine.model import Edge, Node, Scenario
from app.engine.serialization import load_scenario
from app.exporters.bpmn import dumps_bpmn
from app.exporters.python_conditions import to_python
from app.resources import EXAMPLES
from tests.export_plans import CONDITIONS, candidate_contacts, contact_for, plan_walks

spiff = pytest.importorskip("SpiffWorkflow")
from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.parser import BpmnParser  # noqa: E402
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine  # noqa: E402
from SpiffWorkflow.bpmn.specs.event_definitions.message import (  # noqa: E402
    MessageEventDefinition,
)
from SpiffWorkflow.bpmn.util import BpmnEvent  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

VALIDATORS = Path(__file__).resolve().parents[1] / "tools" / "validators"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))
STATUSED = ("message", "offer", "notify")


def _scenario(path: Path) -> Scenario:
    return load_scenario(path).scenario


@pytest.mark.node
def test_every_example_passes_bpmnlint_recommended(tmp_path):
    binary = VALIDATORS / "node_modules" / ".bin" / "bpmnlint"
    if not binary.exists():
        pytest.skip("bpmnlint missing: npm ci --prefix tools/validators --no-audit --no-fund")
    files = []
    for path in EXAMPLE_FILES:
        out = tmp_path / f"{path.stem}.bpmn"
        out.write_text(dumps_bpmn(_scenario(path)).content, encoding="utf-8")
        files.append(str(out))
    # Run from tools/validators so bpmnlint reads its .bpmnlintrc (extends bpmnlint:recommended).
    completed = subprocess.run(
        [str(binary), *files], cwd=VALIDATORS, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip() == ""


def test_the_diagram_follows_the_canvas():
    scenario = _scenario(EXAMPLES / "abandoned_cart.json")
    text = dumps_bpmn(scenario).content
    spec_ids = _parse(text)[1]
    flow_ids = {n.id for n in scenario.flow_nodes()}
    assert flow_ids <= spec_ids
    import xml.etree.ElementTree as ET

    root = ET.fromstring(text.encode())
    ns = {
        "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
        "dc": "http://www.omg.org/spec/DD/20100524/DC",
    }
    bounds = {
        shape.get("bpmnElement"): shape.find("dc:Bounds", ns)
        for shape in root.iterfind(".//bpmndi:BPMNShape", ns)
    }
    for node in scenario.flow_nodes():
        box = bounds[node.id]
        x, y = float(box.get("x")), float(box.get("y"))
        assert node.position[0] - 80 <= x <= node.position[0] + 220
        assert node.position[1] - 40 <= y <= node.position[1] + 140
    # Every flow has a drawn edge with at least two waypoints.
    edges = list(root.iterfind(".//bpmndi:BPMNEdge", ns))
    assert len(edges) == len(list(root.iterfind(".//{*}sequenceFlow")))
    assert all(len(e.findall("{*}waypoint")) >= 2 for e in edges)


def test_conditions_are_python_that_agrees_with_the_reference_evaluator():
    """SpiffWorkflow's own expression environment evaluates every exported condition."""
    schema = ContactSchema(custom_attributes=frozenset({"loyalty_level"}))
    environment = PythonScriptEngine().environment
    extra = [
        "total_spent / orders_count > 5000",
        "age + 1 > 30",
        "city in tags",
        '"a" in loyalty_level',
        '(age > 3) == (city == "x")',
    ]
    for text in CONDITIONS + extra:
        expr = expressions.parse(text)
        python = to_python(expr, schema)
        for contact in candidate_contacts([expr], schema, limit=2000):
            got = environment.evaluate(python, {"contact": contact})
            assert got is expressions.evaluate(expr, contact, schema), (text, contact, python)


# --------------------------------------------------------------------------- execution


def _parse(text: str):
    parser = BpmnParser()
    parser.add_bpmn_str(text.encode("utf-8"))
    (process_id,) = parser.get_process_ids()
    spec = parser.get_spec(process_id)
    return spec, set(spec.task_specs)


class Harness:
    """Runs one walk in SpiffWorkflow, playing every worker the walk meets."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.spec, _ = _parse(dumps_bpmn(scenario).content)

    def run(self, walk) -> list[str]:
        contacts: list[dict] = []
        statuses: list[str] = []
        callbacks: list[tuple[str, str]] = []
        variants: dict[str, str] = {}
        for node_id, exit_name in walk.steps:
            node = self.scenario.node(node_id)
            if node.type in ("condition", "switch"):
                contacts.append(contact_for(node, exit_name))
            elif node.type in ("message", "offer", "notify"):
                statuses.append(exit_name)
            elif node.type == "wait_event":
                callbacks.append((node_id, exit_name))
            elif node.type == "split":
                variants[node_id] = exit_name

        def worker(task) -> None:
            """What a job worker does before completing a send or service task."""
            bpmn_id = task.task_spec.bpmn_id or ""
            if bpmn_id.endswith("__contact"):
                task.data["contact"] = contacts.pop(0)
            elif bpmn_id.endswith("__window"):
                task.data["window_at"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
            elif bpmn_id in statused:
                task.data["status"] = statuses.pop(0)

        statused = {n.id for n in self.scenario.flow_nodes() if n.type in STATUSED}

        def before_send(task) -> None:  # send tasks complete as they run
            if type(task.task_spec).__name__ == "SendTask":
                worker(task)

        workflow = BpmnWorkflow(self.spec)
        entry = self.scenario.node(walk.entry)
        start_data = {"contact": contact_for(entry, "next"), "variants": variants}
        several = len([n for n in self.scenario.flow_nodes() if n.is_entry]) > 1
        if entry.type == "entry.event" or several:
            workflow.do_engine_steps(before_send)
            name = (
                entry.params["event"]
                if entry.type == "entry.event"
                else f"voronka.enter.{entry.id}"
            )
            workflow.catch(BpmnEvent(MessageEventDefinition(str(name)), start_data))
        else:
            workflow.get_tasks(state=TaskState.READY)[0].data.update(start_data)
        for _ in range(200):
            workflow.do_engine_steps(before_send)
            if workflow.completed or self.ended(workflow, walk.end):
                break
            started = workflow.get_tasks(state=TaskState.STARTED)
            if started:  # service tasks wait for their worker
                for task in started:
                    worker(task)
                    task.complete()
                continue
            self.wake(workflow, callbacks)
        assert workflow.completed or self.ended(workflow, walk.end), [
            t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.WAITING)
        ]
        assert contacts == [] and statuses == [] and callbacks == []
        # One token: the completed tasks in tree order are the way it went.
        return [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)]

    @staticmethod
    def ended(workflow, end: str) -> bool:
        """The token reached the end event; other start events of the process may still wait
        (SpiffWorkflow keeps every start event in the one instance; Camunda starts another)."""
        return any(
            t.task_spec.bpmn_id == end for t in workflow.get_tasks(state=TaskState.COMPLETED)
        )

    def wake(self, workflow, callbacks: list[tuple[str, str]]) -> None:
        """Fire what the walk waits for: a due timer, a message, or a timeout."""
        waiting = {t.task_spec.bpmn_id: t for t in workflow.get_tasks(state=TaskState.WAITING)}
        if callbacks and callbacks[0][0] in waiting:
            node_id, outcome = callbacks.pop(0)
            node = self.scenario.node(node_id)
            if outcome == "happened":
                message = MessageEventDefinition(str(node.params["event"]))
                workflow.catch(BpmnEvent(message, {}))
            else:
                self.fast_forward(waiting[f"{node_id}__timeout"], node.params["timeout"])
            return
        for bpmn_id, task in waiting.items():
            node = self.scenario.nodes.get(bpmn_id)
            if node is not None and node.type == "wait":
                duration = None if node.params.get("mode") == "window" else node.params["duration"]
                self.fast_forward(task, duration)
                return
        raise AssertionError(f"nothing to wake among {sorted(waiting)}")

    @staticmethod
    def fast_forward(task, duration: str | None) -> None:
        """Check when SpiffWorkflow scheduled the timer, then make it due now."""
        task.task_spec._update(task)  # computes event_value if not yet done
        due = datetime.fromisoformat(task.internal_data["event_value"])
        if duration is not None:
            expected = datetime.now(UTC) + timedelta(seconds=parse_duration(duration))
            assert abs((due - expected).total_seconds()) < 120, (task.task_spec.bpmn_id, due)
        task.internal_data["event_value"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        task.workflow.refresh_timers()


def _check(harness: Harness, walk, completed: list[str]) -> None:
    node_ids = set(harness.scenario.nodes)
    # A timed-out receive task is cancelled; its boundary timer completes in its place.
    completed = [c.removesuffix("__timeout") if c else c for c in completed]
    visited = [c for c in completed if c in node_ids]
    assert visited == walk.nodes, visited


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_exit_of_every_example_executes_in_spiffworkflow(path):
    scenario = _scenario(path)
    harness = Harness(scenario)
    walks = plan_walks(scenario)
    assert {(e.source, e.exit) for e in scenario.edges} <= {s for w in walks for s in w.steps}
    for walk in walks:
        _check(harness, walk, harness.run(walk))


def test_several_entries_and_arithmetic_conditions_run():
    """Two entries (message starts) and a condition the gateway computes with division."""
    scenario = Scenario(id="two", name="Two entries")
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
    harness = Harness(scenario)
    walks = plan_walks(scenario)
    assert {w.entry for w in walks} == {"seg", "evt"}
    for walk in walks:
        _check(harness, walk, harness.run(walk))


def test_a_split_without_a_given_variant_draws_one():
    scenario = Scenario(id="ab", name="A/B")
    scenario.add_node(Node("start", "entry.segment", "Everyone", {"condition": ""}))
    variants = [{"id": "a", "label": "A", "weight": 30}, {"id": "b", "label": "B", "weight": 70}]
    scenario.add_node(Node("ab", "split", "A/B", {"variants": variants}))
    scenario.add_node(Node("end_a", "exit", "A", {"outcome": "converted"}))
    scenario.add_node(Node("end_b", "exit", "B", {"outcome": "lost"}))
    for edge in (Edge("start", "next", "ab"), Edge("ab", "a", "end_a"), Edge("ab", "b", "end_b")):
        scenario.add_edge(edge)
    spec, _ = _parse(dumps_bpmn(scenario).content)
    seen: dict[str, Any] = {}
    for _ in range(40):
        workflow = BpmnWorkflow(spec)
        workflow.get_tasks(state=TaskState.READY)[0].data.update({"contact": {}})
        workflow.do_engine_steps()
        assert workflow.completed
        ended = [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)]
        variant = (
            workflow.data.get("variants", {}).get("ab") or workflow.last_task.data["variants"]["ab"]
        )
        assert ("end_a" if variant == "a" else "end_b") in ended
        seen[variant] = True
    assert set(seen) == {"a", "b"}  # 40 draws at 30/70 miss one side with p < 1e-6
