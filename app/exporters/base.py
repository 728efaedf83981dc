"""What every export target shares: the validation gate, warnings, and the scenario as a graph.

A target either expresses a construct or says so: anything it cannot carry becomes an
`ExportWarning` naming the nodes it concerns, so the CLI can print it and nothing is dropped
silently. Only a scenario without validation errors exports, whatever the target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata

from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
from app.engine.model import Node, Scenario
from app.engine.validation import Problem, Severity, validate


class ExportError(Exception):
    """The scenario cannot be exported; `problems` are the validation errors that block it."""

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = problems or []


class ExportOptionError(ValueError):
    """An export option the target does not know, or a value it cannot use."""


@dataclass(frozen=True)
class ExportWarning:
    """A construct the target cannot express (or only with help from outside), and where."""

    message: str
    nodes: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = ", ".join(self.nodes)
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class ExportResult:
    """What a target produced: text (or bytes, for image targets) and what it could not carry."""

    content: str | bytes
    warnings: list[ExportWarning] = field(default_factory=list)


def check_exportable(scenario: Scenario, schema: ContactSchema = DEFAULT_SCHEMA) -> list[Problem]:
    """The validation problems, or ExportError listing the errors when there are any."""
    problems = validate(scenario, schema)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        listing = "; ".join(f"{p.code} {p.node or ''}: {p.message}" for p in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ExportError(
            f"‘{scenario.name}’ has {len(errors)} validation error(s): {listing}{more}", errors
        )
    return problems


def generator_version() -> str:
    try:
        return metadata.version("voronka")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class Flow:
    """The validated scenario as engines see it: flow nodes in file order, exits resolved."""

    nodes: tuple[Node, ...]
    targets: Mapping[tuple[str, str], str]

    @classmethod
    def of(cls, scenario: Scenario) -> Flow:
        nodes = tuple(n for n in scenario.nodes.values() if not n.is_annotation)
        return cls(nodes, {(e.source, e.exit): e.target for e in scenario.edges})

    @property
    def entries(self) -> list[Node]:
        return [n for n in self.nodes if n.is_entry]

    def target(self, node: Node, exit_name: str) -> str:
        return self.targets[(node.id, exit_name)]

    def of_type(self, *types: str) -> list[Node]:
        return [n for n in self.nodes if n.type in types]


def parse_options(
    given: Mapping[str, str], known: Mapping[str, str], target: str
) -> dict[str, str]:
    """Target options from `--option KEY=VALUE`: unknown keys are refused with the known ones."""
    unknown = sorted(set(given) - set(known))
    if unknown:
        listing = ", ".join(f"{k} ({v})" for k, v in known.items()) or "none"
        raise ExportOptionError(
            f"the {target} export has no option {', '.join(unknown)}; its options: {listing}"
        )
    return dict(given)
