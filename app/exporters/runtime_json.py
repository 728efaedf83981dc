"""Runtime JSON: the scenario as production engines execute it (format `voronka.runtime`).

Made for engines, not for the editor: no positions or annotations; states keyed by id with every
exit resolved to its target; conditions as JsonLogic (with the source text); durations in
ISO 8601 and in seconds; templates with the variables they need; a manifest of the events,
fields, tags and channels the scenario depends on; and a content hash. Keys are sorted, so two
exports of the same scenario are byte-identical and diffs stay clean. Only a scenario without
validation errors exports; its warnings are listed in the file. The format is documented in
docs/FORMAT.md; its JSON Schema ships as resources/schema/runtime-1.schema.json.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from app.engine import expressions, templates
from app.engine.catalog import MESSAGE_TYPES, ParamKind
from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
from app.engine.durations import format_duration, parse_duration
from app.engine.model import Node, Scenario
from app.exporters.base import ExportError, check_exportable, generator_version

FORMAT = "voronka.runtime"
VERSION = 1


__all__ = ["FORMAT", "VERSION", "ExportError", "content_hash", "dumps_runtime", "export_runtime"]


def export_runtime(scenario: Scenario, schema: ContactSchema = DEFAULT_SCHEMA) -> dict[str, Any]:
    problems = check_exportable(scenario, schema)
    flow = [n for n in scenario.nodes.values() if not n.is_annotation]
    targets = {(e.source, e.exit): e.target for e in scenario.edges}
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "generator": {"name": "voronka", "version": generator_version()},
        "scenario": {
            "id": scenario.id,
            "name": scenario.name,
            "description": scenario.description,
        },
        "settings": _settings(scenario),
        "products": [
            {"id": p.id, "name": p.name, "role": p.role, "price": p.price}
            for p in scenario.products
        ],
        "entries": sorted(n.id for n in flow if n.is_entry),
        "states": {n.id: _state(n, targets, schema) for n in flow},
        "dependencies": _dependencies(flow),
        "warnings": [
            {"code": p.code, "node": p.node, "exit": p.exit, "message": p.english_message}
            for p in problems
        ],
    }
    document["scenario"]["content_hash"] = content_hash(document)
    return document


def dumps_runtime(scenario: Scenario, schema: ContactSchema = DEFAULT_SCHEMA) -> str:
    return _canonical(export_runtime(scenario, schema), indent=2) + "\n"


def content_hash(document: dict[str, Any]) -> str:
    """SHA-256 of the document without its own hash: engines can tell two exports apart."""
    unhashed = {**document, "scenario": dict(document["scenario"])}
    unhashed["scenario"].pop("content_hash", None)
    return "sha256:" + hashlib.sha256(_canonical(unhashed).encode("utf-8")).hexdigest()


def _canonical(document: dict[str, Any], indent: int | None = None) -> str:
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(
        document, sort_keys=True, ensure_ascii=False, indent=indent, separators=separators
    )


def _duration(text: str) -> dict[str, Any]:
    seconds = parse_duration(text)
    return {"iso": format_duration(seconds), "seconds": seconds}


def _settings(scenario: Scenario) -> dict[str, Any]:
    s = scenario.settings
    cap = None
    if s.frequency_cap is not None:
        cap = {"messages": s.frequency_cap.messages, "per": _duration(s.frequency_cap.per)}
    return {
        "timezone": s.timezone,
        "currency": s.currency,
        "quiet_hours": {"start": s.quiet_hours.start, "end": s.quiet_hours.end}
        if s.quiet_hours
        else None,
        "frequency_cap": cap,
        "exit_on_unsubscribe": s.exit_on_unsubscribe,
    }


def _condition(text: object, schema: ContactSchema) -> dict[str, Any] | None:
    if not isinstance(text, str) or not text.strip():
        return None
    expr = expressions.parse(text)
    return {"text": text, "jsonlogic": expressions.to_jsonlogic(expr, schema)}


def _template(text: object) -> dict[str, Any] | None:
    if not isinstance(text, str) or not text:
        return None
    return {"source": text, "variables": list(templates.parse_template(text).variables)}


def _state(node: Node, targets: dict[tuple[str, str], str], schema: ContactSchema) -> dict:
    spec = node.spec
    assert spec is not None  # validation refused placeholders (V115)
    state: dict[str, Any] = {"type": node.type, "title": node.display_title}
    for param in spec.params:
        value = node.params.get(param.name, param.default)
        if param.kind is ParamKind.EXPRESSION:
            state[param.name] = _condition(value, schema)
        elif param.kind is ParamKind.TEMPLATE:
            state[param.name] = _template(value)
        elif param.kind is ParamKind.DURATION:
            state[param.name] = _duration(value) if value else None
        elif param.kind is ParamKind.CASES:
            state["cases"] = [
                {
                    "id": case["id"],
                    "label": case.get("label", case["id"]),
                    "condition": _condition(case.get("condition"), schema),
                }
                for case in value
            ]
        else:
            state[param.name] = value
    if node.type == "wait":
        _shape_wait(state)
    state["next"] = {exit_name: targets[(node.id, exit_name)] for exit_name in node.exits}
    return state


def _shape_wait(state: dict[str, Any]) -> None:
    """A wait is either a duration or a send window; engines get only the one that applies."""
    if state.pop("mode", "duration") == "window":
        state["window"] = {
            "days": state.pop("window_days"),
            "start": state.pop("window_start"),
            "end": state.pop("window_end"),
        }
        state.pop("duration", None)
    else:
        for key in ("window_days", "window_start", "window_end"):
            state.pop(key, None)


def _dependencies(flow: list[Node]) -> dict[str, list[str]]:
    events: set[str] = set()
    fields: set[str] = set()
    tags: set[str] = set()
    channels: set[str] = set()
    for node in flow:
        if node.type in ("entry.event", "wait_event"):
            events.add(str(node.params.get("event")))
        if node.type in MESSAGE_TYPES:
            channels.add(str(node.params.get("channel")))
        if node.type == "update" and node.params.get("action") in ("add_tag", "remove_tag"):
            tags.add(str(node.params.get("tag")))
        for text in _condition_texts(node):
            expr = expressions.parse(text)
            events |= expressions.events_used(expr)
            fields |= expressions.fields_used(expr) - {"tags"}
            tags |= expressions.tags_used(expr)
        for key in ("subject", "body", "text"):
            source = node.params.get(key)
            if isinstance(source, str) and source:
                fields |= {
                    v.split(".")[1]
                    for v in templates.parse_template(source).variables
                    if v.startswith("contact.") and v.count(".") >= 1
                }
    return {
        "channels": sorted(channels),
        "events": sorted(events),
        "fields": sorted(fields),
        "tags": sorted(tags),
    }


def _condition_texts(node: Node) -> list[str]:
    texts = [node.params.get("condition")]
    if node.type == "switch":
        texts += [case.get("condition") for case in node.params.get("cases") or []]
    return [t for t in texts if isinstance(t, str) and t.strip()]
