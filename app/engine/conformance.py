"""Conformance vectors: a runtime scenario, a contact and a timeline → the steps an engine takes.

A vector fixes everything the outside world decides — when the contact enters, which events it
does and when, which sends bounce, which variant a split picks, which notifications fail — so the
path is determined by the scenario's semantics alone and any engine can be checked against it.
`ScriptedWalker` is the reference interpreter's walker with those decisions read from the
vector instead of drawn at random; `run_vector` turns its walk into the vector's `expect` shape.
The format is documented in docs/CONFORMANCE.md; its schema is
resources/schema/conformance-1.schema.json.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from app.engine.model import Node
from app.engine.runtime import TEMPLATE_ERROR, Runtime, Step, Walk, Walker
from app.engine.templates import TemplateError, preview_context, render
from app.resources import SCHEMAS

FORMAT = "voronka.conformance"
VERSION = 1


class ConformanceError(ValueError):
    """A vector that cannot be run as written (a split without a chosen variant, an outcome
    for a visit that never happens); the message names the vector, state and visit."""


@dataclass
class Script:
    """What the world decides in one vector. Outcomes are keyed by (state id, visit number),
    visits counted from 1 per state."""

    events: list[tuple[int, str]] = field(default_factory=list)
    undelivered: set[tuple[str, int]] = field(default_factory=set)
    variants: dict[tuple[str, int], str] = field(default_factory=dict)
    notify_failed: set[tuple[str, int]] = field(default_factory=set)

    @classmethod
    def from_vector(cls, vector: Mapping[str, Any]) -> Script:
        outcomes = vector.get("outcomes", {})
        return cls(
            events=sorted((int(e["at"]), str(e["event"])) for e in vector.get("events", [])),
            undelivered={(o["state"], o["visit"]) for o in outcomes.get("undelivered", [])},
            variants={(o["state"], o["visit"]): o["variant"] for o in outcomes.get("split", [])},
            notify_failed={(o["state"], o["visit"]) for o in outcomes.get("notify_failed", [])},
        )

    def inputs(self) -> dict[str, Any]:
        """The vector's `events` and `outcomes`, sorted, as the files hold them."""
        return {
            "events": [{"at": at, "event": name} for at, name in sorted(self.events)],
            "outcomes": {
                "undelivered": [{"state": s, "visit": v} for s, v in sorted(self.undelivered)],
                "split": [
                    {"state": s, "visit": v, "variant": self.variants[(s, v)]}
                    for s, v in sorted(self.variants)
                ],
                "notify_failed": [{"state": s, "visit": v} for s, v in sorted(self.notify_failed)],
            },
        }


class ScriptedWalker(Walker):
    """A walk whose outside decisions come from a `Script`; it notes per step what an engine
    does there (arrival time, the message it sends, the update, goal or notification)."""

    def __init__(
        self,
        runtime: Runtime,
        person: dict[str, Any],
        entry: str,
        now: int,
        *,
        script: Script,
        notes: list[dict[str, Any]],
    ) -> None:
        super().__init__(runtime, person, entry, now)
        self.script = script
        self.notes = notes
        self.visits: Counter[str] = Counter()
        self.used: set[tuple[str, str, int]] = set()
        self.consumed: set[int] = set()
        self.sent = False

    def here(self, node: Node) -> tuple[str, int]:
        return node.id, self.visits[node.id]

    def visit(self, node: Node) -> str | None:
        self.visits[node.id] += 1
        self.sent = False
        revenue = self.result.revenue
        exit_name = super().visit(node)
        note: dict[str, Any] = {"arrived": self.arrived}
        if self.sent:
            note["send"] = True
        if node.type == "update":
            note["update"] = self.update_action(node)
        elif node.type == "goal":
            earned = self.result.revenue - revenue
            note["goal"] = {"stage": str(node.params.get("stage", "")), "revenue": earned}
        elif node.type == "notify":
            note["notify"] = _texts(
                {
                    "kind": node.params.get("kind", "manager"),
                    "assignee": node.params.get("assignee", ""),
                    "url": node.params.get("url", ""),
                },
                {"text": self.render_text(str(node.params.get("text", "") or ""))},
            )
        self.notes.append(note)
        return exit_name

    def update_action(self, node: Node) -> dict[str, Any]:
        action = str(node.params.get("action", "add_tag"))
        target = self.plan.updates.get(node.id)
        if target is None:
            return {"action": action}
        key, value = target
        if action in ("add_tag", "remove_tag"):
            return {"action": action, "tag": key.partition(":")[2]}
        if action == "set_crm_stage":
            return {"action": action, "value": value}
        return {"action": action, "attribute": key.removeprefix("attr:"), "value": value}

    def render_text(self, source: str) -> str:
        context = preview_context(self.person, scenario_name=self.plan.scenario.name)
        try:
            return render(source, context)
        except TemplateError as error:
            return f"{TEMPLATE_ERROR}{error}"

    # --- the world's decisions, from the script ---------------------------------------------
    def delivered(self, node: Node, channel: str) -> bool:
        self.sent = True
        here = self.here(node)
        if here in self.script.undelivered:
            self.used.add(("undelivered", *here))
            return False
        return True

    def variant(self, node: Node) -> str:
        here = self.here(node)
        chosen = self.script.variants.get(here)
        ids = [v["id"] for v in node.params.get("variants", [])]
        if chosen not in ids:
            raise ConformanceError(
                f"split ‘{node.id}’ visit {here[1]}: the vector must choose one of {ids}, "
                f"not {chosen!r}"
            )
        self.used.add(("split", *here))
        return chosen

    def notify_failed(self, node: Node) -> bool:
        here = self.here(node)
        if here in self.script.notify_failed:
            self.used.add(("notify_failed", *here))
            return True
        return False

    def event_delay(self, node: Node, timeout: int) -> int | None:
        """The first event of the awaited name at or after arrival and before the timeout
        that no earlier wait used."""
        name = str(node.params.get("event", ""))
        for number, (at, event) in enumerate(self.script.events):
            if event != name or number in self.consumed:
                continue
            if self.arrived <= at < self.arrived + timeout:
                self.consumed.add(number)
                return at - self.arrived
        return None


# --------------------------------------------------------------------------- running


def run_vector(runtime: Runtime, vector: Mapping[str, Any]) -> dict[str, Any]:
    """What the reference interpreter does with a vector, in the shape of its `expect`.

    `runtime` is built once per suite (`Runtime.from_document(suite["scenario"])`); the
    vector sets its calendar and horizon. A vector whose outcomes are never used is refused.
    """
    start = datetime.fromisoformat(vector["start"])
    if start.tzinfo is not None:
        raise ConformanceError(f"{vector['id']}: start is local wall-clock time, without offset")
    clock = runtime.with_clock(start, int(vector["horizon_days"]))
    script = Script.from_vector(vector)
    notes: list[dict[str, Any]] = []
    entry = vector["entry"]
    walkers: list[ScriptedWalker] = []

    def walker(*args: Any, **options: Any) -> ScriptedWalker:
        walkers.append(ScriptedWalker(*args, **options))
        return walkers[-1]

    try:
        walk = clock.enter(
            vector["contact"], entry["state"], int(entry["at"]), walker, script=script, notes=notes
        )
    except ConformanceError as error:
        raise ConformanceError(f"{vector['id']}: {error}") from None
    unused = _unused(script, walkers[0].used if walkers else set())
    if unused:
        raise ConformanceError(f"{vector['id']}: outcomes never applied: {', '.join(unused)}")
    return result_of(clock, walk, notes)


def _unused(script: Script, used: set[tuple[str, str, int]]) -> list[str]:
    listed = [("undelivered", *k) for k in script.undelivered]
    listed += [("split", *k) for k in script.variants]
    listed += [("notify_failed", *k) for k in script.notify_failed]
    return [f"{k[0]} {k[1]} visit {k[2]}" for k in sorted(listed) if k not in used]


def result_of(runtime: Runtime, walk: Walk, notes: list[dict[str, Any]]) -> dict[str, Any]:
    last = len(walk.steps) - 1
    steps = [
        _step(runtime, step, note, walk.waiting and index == last)
        for index, (step, note) in enumerate(zip(walk.steps, notes, strict=True))
    ]
    final = None
    if walk.steps:
        node = runtime.plan.node(walk.steps[-1].node)
        outcome = None if walk.waiting else node.params.get("outcome", "converted")
        final = {"state": node.id, "waiting": walk.waiting, "outcome": outcome}
    return {
        "entered": walk.entered,
        "steps": steps,
        "final": final,
        "revenue": number(walk.revenue),
        "stages": list(walk.stages),
    }


def _step(runtime: Runtime, step: Step, note: dict[str, Any], waiting: bool) -> dict[str, Any]:
    left = None if waiting else step.seconds
    shown = {
        "state": step.node,
        "type": step.type,
        "arrived": note["arrived"],
        "left": left,
        "time": local_time(runtime.start, note["arrived"] if left is None else left),
        "exit": step.exit,
    }
    if note.get("send"):
        texts = {"subject": step.subject or "", "body": step.body or ""}
        shown["send"] = _texts({"channel": step.channel}, texts)
    for key in ("update", "notify"):
        if key in note:
            shown[key] = note[key]
    if "goal" in note:
        shown["goal"] = {**note["goal"], "revenue": number(note["goal"]["revenue"])}
    return shown


def _texts(fields: dict[str, Any], texts: dict[str, str]) -> dict[str, Any]:
    """Rendered texts; a part that cannot be rendered is null, with the reason in `errors`."""
    errors = {
        k: v.removeprefix(TEMPLATE_ERROR) for k, v in texts.items() if v.startswith(TEMPLATE_ERROR)
    }
    shown = {**fields, **{k: None if k in errors else v for k, v in texts.items()}}
    return {**shown, "errors": errors} if errors else shown


def local_time(start: datetime, seconds: int) -> str:
    return (start + timedelta(seconds=seconds)).isoformat()


def number(value: float) -> float | int:
    """Whole numbers as integers, so files read 4800 rather than 4800.0."""
    return int(value) if float(value).is_integer() else float(value)


# --------------------------------------------------------------------------- suites


@cache
def suite_validator() -> jsonschema.Draft202012Validator:
    """The vector schema, with the runtime schema it refers to for `scenario`."""
    runtime = json.loads((SCHEMAS / "runtime-1.schema.json").read_text(encoding="utf-8"))
    schema = json.loads((SCHEMAS / "conformance-1.schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resource(runtime["$id"], Resource.from_contents(runtime))
    return jsonschema.Draft202012Validator(
        schema, registry=registry, format_checker=jsonschema.FormatChecker()
    )


def load_suite(path: str | Path) -> dict[str, Any]:
    """A suite file, checked against its schema (the error names the JSON path)."""
    suite = json.loads(Path(path).read_text(encoding="utf-8"))
    error = jsonschema.exceptions.best_match(suite_validator().iter_errors(suite))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise ConformanceError(f"{path}: {where}: {error.message}")
    return suite


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where `actual` departs from `expected`: exact, except numbers (equal within 1e-9
    relative, so 4800 equals 4800.0) and render `errors` (only which parts failed counts:
    engines word their errors their own way)."""
    if path.endswith(".errors") and isinstance(expected, dict) and isinstance(actual, dict):
        expected, actual = sorted(expected), sorted(actual)
    if isinstance(expected, bool) or isinstance(actual, bool):
        same = expected is actual
    elif isinstance(expected, int | float) and isinstance(actual, int | float):
        same = math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    elif isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            where = f"{path}.{key}" if path else key
            if key not in actual:
                found.append(f"{where}: missing (expected {_short(expected[key])})")
            elif key not in expected:
                found.append(f"{where}: unexpected {_short(actual[key])}")
            else:
                found += differences(expected[key], actual[key], where)
        return found
    elif isinstance(expected, list) and isinstance(actual, list):
        found = []
        for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
            found += differences(want, got, f"{path}[{index}]")
        if len(expected) != len(actual):
            found.append(f"{path}: {len(actual)} items, expected {len(expected)}")
        return found
    else:
        same = expected == actual
    return [] if same else [f"{path}: expected {_short(expected)}, got {_short(actual)}"]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
