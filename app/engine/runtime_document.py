"""Read an exported runtime JSON document (`voronka.runtime` v1) back into a scenario.

The reference interpreter and the simulation work on the scenario model; this module builds that
model from what an engine receives — states, resolved `next` targets, conditions, durations,
templates, settings, products — and nothing else, so running the result proves the export
carries everything the semantics need. A document that does not match its schema, or whose
redundant parts disagree (JsonLogic vs. condition text, ISO duration vs. seconds, `next` vs. the
exits the state has), is refused with a message naming the state and field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import jsonschema

from app.engine import expressions
from app.engine.catalog import ParamKind, node_type
from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
from app.engine.durations import DurationError, parse_duration
from app.engine.model import Edge, FrequencyCap, Node, Product, QuietHours, Scenario, Settings
from app.resources import SCHEMAS

FORMAT = "voronka.runtime"
VERSION = 1


class RuntimeDocumentError(ValueError):
    """A runtime document the interpreter cannot run; the message says where and why."""


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / "runtime-1.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def scenario_from_runtime(
    document: Mapping[str, Any],
    schema: ContactSchema = DEFAULT_SCHEMA,
    *,
    validate_schema: bool = True,
) -> Scenario:
    """The scenario a runtime document describes (annotations and positions are not in it).

    Checking the JSON Schema takes longer than everything else here; a caller that has just
    checked it (a conformance suite embeds the document) or exported the document itself may
    skip it. The consistency checks always run.
    """
    if not isinstance(document, Mapping):
        raise RuntimeDocumentError("a runtime document is a JSON object")
    if document.get("format") != FORMAT or document.get("version") != VERSION:
        raise RuntimeDocumentError(
            f"not a {FORMAT} v{VERSION} document (format {document.get('format')!r}, "
            f"version {document.get('version')!r})"
        )
    error = (
        jsonschema.exceptions.best_match(_validator().iter_errors(document))
        if validate_schema
        else None
    )
    if error is not None:
        error = _closest(error)
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise RuntimeDocumentError(f"{where}: {error.message}")
    states: Mapping[str, Any] = document["states"]
    nodes = {sid: _node(sid, state, schema) for sid, state in states.items()}
    edges = []
    for sid, state in states.items():
        exits = set(nodes[sid].exits)
        named = set(state["next"])
        if named != exits:
            raise RuntimeDocumentError(
                f"states.{sid}.next names exits {sorted(named)}, but the state has {sorted(exits)}"
            )
        for exit_name, target in state["next"].items():
            if target not in states:
                raise RuntimeDocumentError(
                    f"states.{sid}.next.{exit_name} leads to ‘{target}’, which is not a state"
                )
            edges.append(Edge(sid, exit_name, target))
    entries = sorted(sid for sid, node in nodes.items() if node.is_entry)
    if sorted(document["entries"]) != entries:
        raise RuntimeDocumentError(
            f"entries lists {sorted(document['entries'])}, but the entry states are {entries}"
        )
    info = document["scenario"]
    return Scenario(
        id=info["id"],
        name=info["name"],
        description=info.get("description", ""),
        settings=_settings(document["settings"]),
        products=[
            Product(id=p["id"], name=p["name"], role=p["role"], price=p["price"])
            for p in document["products"]
        ],
        nodes=nodes,
        edges=edges,
    )


def _closest(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For a state matching none of the per-type schemas, the error from its own type's schema
    (`'next' is a required property`), not "is not valid under any of the given schemas"."""
    if error.validator != "oneOf" or not error.context:
        return error
    other_type = {e.relative_schema_path[0] for e in error.context if _wrong_type(e)}
    own = [e for e in error.context if e.relative_schema_path[0] not in other_type]
    return _closest(jsonschema.exceptions.best_match(own)) if own else error


def _wrong_type(error: jsonschema.ValidationError) -> bool:
    if error.validator == "const" and list(error.relative_path) == ["type"]:
        return True
    return any(_wrong_type(inner) for inner in error.context or ())


def _settings(raw: Mapping[str, Any]) -> Settings:
    quiet = raw.get("quiet_hours")
    cap = raw.get("frequency_cap")
    if cap is not None:
        _seconds(cap["per"], "settings.frequency_cap.per")
    return Settings(
        timezone=raw["timezone"],
        currency=raw["currency"],
        quiet_hours=QuietHours(quiet["start"], quiet["end"]) if quiet else None,
        frequency_cap=FrequencyCap(cap["messages"], cap["per"]["iso"]) if cap else None,
        exit_on_unsubscribe=raw["exit_on_unsubscribe"],
    )


def _node(state_id: str, state: Mapping[str, Any], schema: ContactSchema) -> Node:
    spec = node_type(state["type"])
    if spec is None or spec.is_annotation:
        raise RuntimeDocumentError(f"states.{state_id}: ‘{state['type']}’ is not a step type")
    where = f"states.{state_id}"
    params: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in state:
            continue
        value = state[param.name]
        if param.kind is ParamKind.EXPRESSION:
            params[param.name] = _condition_text(value, f"{where}.{param.name}", schema)
        elif param.kind is ParamKind.TEMPLATE:
            params[param.name] = value["source"] if value else ""
        elif param.kind is ParamKind.DURATION:
            if value is not None:
                _seconds(value, f"{where}.{param.name}")
                params[param.name] = value["iso"]
        elif param.kind is ParamKind.CASES:
            params[param.name] = [
                {
                    "id": case["id"],
                    "label": case["label"],
                    "condition": _condition_text(
                        case["condition"], f"{where}.cases.{case['id']}", schema
                    ),
                }
                for case in value
            ]
        else:
            params[param.name] = value
    if state["type"] == "wait":
        window = state.get("window")
        if window is not None:
            params.update(
                mode="window",
                window_days=list(window["days"]),
                window_start=window["start"],
                window_end=window["end"],
            )
        elif "duration" in params:
            params["mode"] = "duration"
        else:
            raise RuntimeDocumentError(f"{where}: a wait needs a duration or a window")
    return Node(id=state_id, type=state["type"], title=state["title"], params=params)


def _condition_text(value: Any, where: str, schema: ContactSchema) -> str:
    """The condition's text, once its JsonLogic is checked to be the text's translation: an
    engine runs the JsonLogic, the interpreter the text, so they must be the same rule."""
    if value is None:
        return ""
    text = value["text"]
    try:
        expected = expressions.to_jsonlogic(expressions.parse(text), schema)
    except expressions.ExpressionError as error:
        raise RuntimeDocumentError(f"{where}: {error}") from None
    if expected != value["jsonlogic"]:
        raise RuntimeDocumentError(f"{where}: the JsonLogic is not the translation of {text!r}")
    return text


def _seconds(value: Mapping[str, Any], where: str) -> int:
    try:
        seconds = parse_duration(value["iso"])
    except DurationError as error:
        raise RuntimeDocumentError(f"{where}: {error}") from None
    if seconds != value["seconds"]:
        raise RuntimeDocumentError(
            f"{where}: {value['iso']} is {seconds} s, but `seconds` says {value['seconds']}"
        )
    return seconds
