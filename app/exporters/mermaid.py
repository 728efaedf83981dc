"""Mermaid flowchart: the scenario as a diagram for wikis and documentation.

Each flow step is a node (entries and exits as stadiums, decisions as rhombi, waits as
hexagons, actions as boxes) labelled with its title and a one-line summary; each edge carries
its exit's label. Node ids are generated (`n_<id>`), never taken raw, and label text is
escaped with Mermaid's entity codes (`#35;`) for everything but letters, digits, spaces and
plain punctuation, so no title can close a label, start a directive (`%%{…}%%`), inject HTML
or form Markdown. Notes and frames are left out: a flowchart has no place for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from app.engine import expressions
from app.engine.catalog import MESSAGE_TYPES
from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
from app.engine.durations import duration_words, parse_duration
from app.engine.model import Node, Scenario
from app.exporters.base import (
    ExportOptionError,
    ExportResult,
    Flow,
    check_exportable,
    parse_options,
)

OPTIONS: dict[str, str] = {"direction": "LR (left to right, default) or TD (top down)"}
# Mermaid's syntax is ASCII: printable non-ASCII characters (Cyrillic, ≥, №, —) are safe.
_SAFE_ASCII = re.compile(r"[A-Za-z0-9 .,:!?'()+=@/_-]")
_SHAPES = {
    "entry": ('(["', '"])'),
    "exit": ('(["', '"])'),
    "decision": ('{"', '"}'),
    "wait": ('{{"', '"}}'),
    "action": ('["', '"]'),
    "goal": ('>"', '"]'),
}
_STYLES = {
    "entry": "fill:#E3F2FD,stroke:#1E88E5",
    "exit": "fill:#ECEFF1,stroke:#546E7A",
    "decision": "fill:#FFF8E1,stroke:#F9A825",
    "wait": "fill:#F3E5F5,stroke:#8E24AA",
    "action": "fill:#E8F5E9,stroke:#43A047",
    "goal": "fill:#FCE4EC,stroke:#D81B60",
}


def escape(text: str) -> str:
    """Label text Mermaid shows as is: anything not plainly safe becomes `#<code>;`."""
    text = " ".join(text.split())  # one line: newlines and tabs become spaces
    return "".join(c if _is_safe(c) else f"#{ord(c)};" for c in text)


def _is_safe(char: str) -> bool:
    if ord(char) > 127:
        return char.isprintable()
    return bool(_SAFE_ASCII.fullmatch(char))


def dumps_mermaid(
    scenario: Scenario,
    options: Mapping[str, str] | None = None,
    schema: ContactSchema = DEFAULT_SCHEMA,
) -> ExportResult:
    given = parse_options(options or {}, OPTIONS, "Mermaid")
    direction = given.get("direction", "LR").upper()
    if direction not in ("LR", "TD"):
        raise ExportOptionError(f"direction must be LR or TD, not ‘{given['direction']}’")
    check_exportable(scenario, schema)
    flow = Flow.of(scenario)
    ids = _ids(flow)
    lines = [f"flowchart {direction}", f"  %% {escape(scenario.name)}: exported by Voronka"]
    kinds: dict[str, list[str]] = {}
    for node in flow.nodes:
        kind = _kind(node)
        start, end = _SHAPES[kind]
        label = "<br/>".join(escape(line) for line in _label(node) if line)
        lines.append(f"  {ids[node.id]}{start}{label}{end}")
        kinds.setdefault(kind, []).append(ids[node.id])
    for node in flow.nodes:
        for exit_name in node.exits:
            target = ids[flow.target(node, exit_name)]
            label = _exit_label(node, exit_name)
            arrow = f'-->|"{escape(label)}"|' if label else "-->"
            lines.append(f"  {ids[node.id]} {arrow} {target}")
    for kind, members in kinds.items():
        lines.append(f"  classDef {kind} {_STYLES[kind]}")
        lines.append(f"  class {','.join(members)} {kind}")
    return ExportResult("\n".join(lines) + "\n")


def _ids(flow: Flow) -> dict[str, str]:
    ids: dict[str, str] = {}
    used: set[str] = set()
    for node in flow.nodes:
        base = "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node.id)
        name, index = base, 2
        while name in used:
            name, index = f"{base}_{index}", index + 1
        used.add(name)
        ids[node.id] = name
    return ids


def _kind(node: Node) -> str:
    if node.is_entry:
        return "entry"
    if node.type == "exit":
        return "exit"
    if node.type in ("condition", "switch", "split"):
        return "decision"
    if node.type in ("wait", "wait_event"):
        return "wait"
    if node.type == "goal":
        return "goal"
    return "action"


def _label(node: Node) -> list[str]:
    """The title, then what the step does in a few words."""
    p = node.params
    summary = ""
    if node.type in MESSAGE_TYPES:
        summary = f"{p.get('channel', 'email')}" + (
            f", {p.get('discount')} % off" if node.type == "offer" and p.get("discount") else ""
        )
    elif node.type == "wait":
        if p.get("mode") == "window":
            days = ", ".join(p.get("window_days") or [])
            summary = f"until {days} {p.get('window_start')}–{p.get('window_end')}"
        else:
            summary = duration_words(parse_duration(p.get("duration", "P1D")))
    elif node.type == "wait_event":
        words = duration_words(parse_duration(p["timeout"]))
        summary = f"{p.get('event')}, at most {words}"
    elif node.type in ("condition", "entry.segment", "entry.event") and p.get("condition"):
        summary = expressions.to_words(expressions.parse(p["condition"]))
        if node.type == "entry.event":
            summary = f"{p.get('event')}: {summary}"
    elif node.type == "entry.event":
        summary = str(p.get("event"))
    elif node.type == "goal":
        summary = str(p.get("stage", ""))
    elif node.type == "exit":
        summary = str(p.get("outcome", ""))
    elif node.type == "update":
        action = p.get("action", "add_tag")
        summary = f"{action} {p.get('tag') if 'tag' in action else p.get('attribute', '')}"
    elif node.type == "notify":
        summary = str(p.get("kind", ""))
    return [node.display_title, summary]


def _exit_label(node: Node, exit_name: str) -> str:
    if node.type == "switch":
        for case in node.params.get("cases") or []:
            if case["id"] == exit_name:
                condition = case.get("condition")
                words = expressions.to_words(expressions.parse(condition)) if condition else ""
                return (
                    f"{case.get('label', exit_name)}: {words}"
                    if words
                    else case.get("label", exit_name)
                )
    if node.type == "split":
        for variant in node.params.get("variants") or []:
            if variant["id"] == exit_name:
                return f"{variant.get('label', exit_name)} ({float(variant['weight']):g} %)"
    return "" if exit_name == "next" else exit_name
