"""Load and save scenario documents: precise errors on bad files, clean diffs, atomic writes.

A file that cannot be understood raises `ScenarioFileError` naming the problem and its place
(line/column for broken JSON, a JSON path such as `$.nodes[2].type` otherwise). Problems that
lose nothing — an unknown node type, an edge naming a missing step — load anyway and are listed
in `LoadedScenario.issues`, so one odd node never costs the user the whole file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from app.engine.i18n import Msg, T
from app.engine.model import (
    Edge,
    FrequencyCap,
    Node,
    Product,
    QuietHours,
    Scenario,
    Settings,
)
from app.resources import SCHEMAS

FORMAT = "voronka.scenario"
VERSION = 1
SCHEMA_PATH = SCHEMAS / "scenario-1.schema.json"

_TOP_KEYS = ("format", "version", "id", "name", "description", "settings", "products", "nodes")
_KNOWN_TOP_KEYS = frozenset((*_TOP_KEYS, "edges"))


def _t(text: Msg) -> str:
    """A file's problems are shown once, as they are found: in the language of that moment."""
    return str(text)


class ScenarioFileError(Exception):
    """A file that cannot be loaded; `where` is a line/column or JSON path."""

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None):
        self.message = message
        self.file = file
        self.where = where
        super().__init__(str(self))

    def __str__(self) -> str:
        place = ", ".join(part for part in (self.file, self.where) if part)
        return f"{place}: {self.message}" if place else self.message


@dataclass(frozen=True)
class LoadIssue:
    """Something odd in a file that still loaded; `path` is the JSON path."""

    path: str
    message: str
    node: str | None = None


@dataclass
class LoadedScenario:
    scenario: Scenario
    issues: list[LoadIssue] = field(default_factory=list)


# --- loading -------------------------------------------------------------------------------


def load_scenario(path: str | os.PathLike[str]) -> LoadedScenario:
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ScenarioFileError(
            _t(T("File", "cannot read the file: {reason}", reason=error.strerror)), file=file
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ScenarioFileError(
            _t(T("File", "the file is not UTF-8 text (is it a scenario file?)")),
            file=file,
            where=_t(T("File", "byte {n}", n=error.start)),
        ) from None
    return loads_scenario(text, file=file)


def loads_scenario(text: str, *, file: str | None = None) -> LoadedScenario:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioFileError(
            _t(T("File", "this is not valid JSON: {reason}", reason=error.msg)),
            file=file,
            where=_t(
                T(
                    "File",
                    "line {line}, column {column}",
                    line=error.lineno,
                    column=error.colno,
                )
            ),
        ) from None
    except (ValueError, RecursionError) as error:  # e.g. a 5,000-digit number, deep nesting
        raise ScenarioFileError(
            _t(T("File", "this JSON cannot be read: {reason}", reason=str(error))), file=file
        ) from None
    return scenario_from_dict(document, file=file)


def scenario_from_dict(document: Any, *, file: str | None = None) -> LoadedScenario:
    _check_envelope(document, file)
    _check_schema(document, file)
    _check_unique_ids(document, file)

    issues: list[LoadIssue] = []
    scenario = Scenario(
        id=document.get("id", "untitled"),
        name=document.get("name", ""),
        description=document.get("description", ""),
        settings=_settings_from(document.get("settings", {})),
        products=[_product_from(p) for p in document.get("products", [])],
        extra={k: v for k, v in document.items() if k not in _KNOWN_TOP_KEYS},
    )
    edges = document["edges"]
    for index, raw in enumerate(document["nodes"]):
        node = Node(
            id=raw["id"],
            type=raw["type"],
            title=raw.get("title", ""),
            params=dict(raw.get("params", {})),
            position=_position_from(raw.get("position", (0, 0))),
        )
        if node.is_placeholder:
            node.placeholder_exits = tuple(
                dict.fromkeys(e["exit"] for e in edges if e["from"] == node.id)
            )
            issues.append(
                LoadIssue(
                    f"$.nodes[{index}].type",
                    _t(
                        T(
                            "File",
                            "unknown step type ‘{type}’ (made by a newer Voronka?); "
                            "kept as a placeholder",
                            type=node.type,
                        )
                    ),
                    node.id,
                )
            )
        scenario.nodes[node.id] = node

    for index, raw in enumerate(edges):
        edge = Edge(raw["from"], raw["exit"], raw["to"])
        issues.extend(_edge_issues(scenario, edge, index))
        if edge in scenario.edges:
            dropped = _t(T("File", "duplicate connection dropped"))
            issues.append(LoadIssue(f"$.edges[{index}]", dropped))
            continue
        scenario.edges.append(edge)
    return LoadedScenario(scenario, issues)


def _check_envelope(document: Any, file: str | None) -> None:
    if not isinstance(document, dict):
        kind = type(document).__name__ if document is not None else "null"
        raise ScenarioFileError(
            _t(T("File", "a scenario file must hold a JSON object, not {kind}", kind=kind)),
            file=file,
            where="$",
        )
    fmt = document.get("format")
    if fmt != FORMAT:
        if fmt is None:
            found = T(
                "File", "this is not a Voronka scenario (no ‘format’ key; expected ‘{format}’)"
            )
        else:
            found = T(
                "File",
                "this is not a Voronka scenario (its format is ‘{found}’; expected ‘{format}’)",
            )
        raise ScenarioFileError(
            _t(found.with_args(found=fmt, format=FORMAT)),
            file=file,
            where="$.format",
        )
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ScenarioFileError(
            _t(
                T(
                    "File",
                    "the format version must be a whole number, found {found}",
                    found=repr(version),
                )
            ),
            file=file,
            where="$.version",
        )
    if version > VERSION:
        raise ScenarioFileError(
            _t(
                T(
                    "File",
                    "the file has format version {version}, made by a newer Voronka; this "
                    "version reads up to {latest}",
                    version=version,
                    latest=VERSION,
                )
            ),
            file=file,
            where="$.version",
        )
    if version < 1:
        raise ScenarioFileError(
            _t(T("File", "format version {version} does not exist", version=version)),
            file=file,
            where="$.version",
        )


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def document_schema() -> dict[str, Any]:
    return _validator().schema


def _check_schema(document: dict[str, Any], file: str | None) -> None:
    error = jsonschema.exceptions.best_match(_validator().iter_errors(document))
    if error is None:
        return
    raise ScenarioFileError(_schema_message(error), file=file, where=error.json_path)


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        if not missing:
            return error.message
        return _t(T("File", "missing key ‘{key}’", key=missing[0]))
    if error.validator == "type":
        found = json.dumps(error.instance)[:60]
        return _t(
            T("File", "expected {kind}, found {found}", kind=error.validator_value, found=found)
        )
    if error.validator == "pattern":
        hint = _PATTERN_HINTS.get(error.validator_value) or T(
            "File", "it does not have the expected form"
        )
        return f"{json.dumps(error.instance, ensure_ascii=False)}: {hint}"
    if error.validator == "additionalProperties":
        key = error.message.split("(")[-1].rstrip(")")
        return _t(T("File", "unexpected key: {key}", key=key))
    return error.message


_PATTERN_HINTS = {
    "^([01][0-9]|2[0-3]):[0-5][0-9]$": T(
        "File", "a time must be written as HH:MM, from 00:00 to 23:59"
    ),
    "^[A-Z]{3}$": T("File", "a currency is a three-letter ISO code such as RUB, USD or EUR"),
    "^P": T("File", "a period is an ISO 8601 duration such as P1D or P7D"),
}


def _check_unique_ids(document: dict[str, Any], file: str | None) -> None:
    seen: set[str] = set()
    for index, node in enumerate(document["nodes"]):
        if node["id"] in seen:
            raise ScenarioFileError(
                _t(T("File", "two steps have the id ‘{id}’; ids must be unique", id=node["id"])),
                file=file,
                where=f"$.nodes[{index}].id",
            )
        seen.add(node["id"])


def _edge_issues(scenario: Scenario, edge: Edge, index: int) -> list[LoadIssue]:
    path = f"$.edges[{index}]"
    source = scenario.nodes.get(edge.source)
    issues = []
    if source is None:
        issues.append(
            LoadIssue(
                f"{path}.from",
                _t(T("File", "the connection starts at a missing step ‘{id}’", id=edge.source)),
            )
        )
    elif edge.exit not in source.exits:
        issues.append(
            LoadIssue(
                f"{path}.exit",
                _t(
                    T(
                        "File",
                        "‘{step}’ has no exit ‘{exit}’",
                        step=source.display_title,
                        exit=edge.exit,
                    )
                ),
                source.id,
            )
        )
    if edge.target not in scenario.nodes:
        issues.append(
            LoadIssue(
                f"{path}.to",
                _t(T("File", "the connection leads to a missing step ‘{id}’", id=edge.target)),
            )
        )
    return issues


def _settings_from(raw: Mapping[str, Any]) -> Settings:
    defaults = Settings()
    quiet = raw.get("quiet_hours", "default")
    cap = raw.get("frequency_cap", "default")
    return Settings(
        timezone=raw.get("timezone", defaults.timezone),
        currency=raw.get("currency", defaults.currency),
        quiet_hours=defaults.quiet_hours
        if quiet == "default"
        else (QuietHours(**quiet) if quiet else None),
        frequency_cap=defaults.frequency_cap
        if cap == "default"
        else (FrequencyCap(**cap) if cap else None),
        exit_on_unsubscribe=raw.get("exit_on_unsubscribe", defaults.exit_on_unsubscribe),
        max_discount=raw.get("max_discount", defaults.max_discount),
    )


def _product_from(raw: Mapping[str, Any]) -> Product:
    return Product(
        id=raw["id"], name=raw["name"], role=raw.get("role", "main"), price=raw.get("price", 0)
    )


def _position_from(raw: Any) -> tuple[float, float]:
    return (float(raw[0]), float(raw[1]))


# --- saving --------------------------------------------------------------------------------


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The document with a fixed key order, nodes by id and edges sorted: clean diffs."""
    s = scenario.settings
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "id": scenario.id,
        "name": scenario.name,
        "description": scenario.description,
        "settings": {
            "timezone": s.timezone,
            "currency": s.currency,
            "quiet_hours": {"start": s.quiet_hours.start, "end": s.quiet_hours.end}
            if s.quiet_hours
            else None,
            "frequency_cap": {"messages": s.frequency_cap.messages, "per": s.frequency_cap.per}
            if s.frequency_cap
            else None,
            "exit_on_unsubscribe": s.exit_on_unsubscribe,
            "max_discount": _number(s.max_discount),
        },
        "products": [
            {"id": p.id, "name": p.name, "role": p.role, "price": _number(p.price)}
            for p in scenario.products
        ],
        "nodes": [_node_to_dict(scenario.nodes[k]) for k in sorted(scenario.nodes)],
        "edges": [
            {"from": e.source, "exit": e.exit, "to": e.target} for e in sorted(scenario.edges)
        ],
    }
    for key in sorted(scenario.extra):
        document[key] = _canonical(scenario.extra[key])
    return document


def _node_to_dict(node: Node) -> dict[str, Any]:
    return {
        "id": node.id,
        "type": node.type,
        "title": node.title,
        "params": _canonical(node.params),
        "position": [_number(round(node.position[0], 2)), _number(round(node.position[1], 2))],
    }


def _canonical(value: Any) -> Any:
    """Sort mapping keys at every depth so equal params always serialise alike."""
    if isinstance(value, Mapping):
        return {k: _canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


_POSITION = re.compile(r'"position": \[\s*([^,\s]+),\s*([^\s\]]+)\s*\]')


def dumps_scenario(scenario: Scenario) -> str:
    text = json.dumps(scenario_to_dict(scenario), ensure_ascii=False, indent=2)
    return _POSITION.sub(r'"position": [\1, \2]', text) + "\n"


def save_scenario(scenario: Scenario, path: str | os.PathLike[str]) -> None:
    """Write atomically: a crash mid-save leaves the old file intact, never half a file."""
    target = Path(path)
    data = dumps_scenario(scenario).encode("utf-8")
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
