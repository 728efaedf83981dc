"""Two simulation runs side by side: what differs in their inputs and in every figure.

The comparison is plain data (dataclasses with `to_dict`), so the editor and `voronka runs
compare` show the same thing. It works on result dicts (`SimulationResult.to_dict()`, as
stored), so a fresh run can be compared with a stored one as well as two stored runs:

    comparison = compare_runs(load_run(engine, 3), load_run(engine, 7))
    comparison.headline      # [Change("converted", a=812, b=905), ...]: b − a in `delta`
    comparison.stages        # per funnel stage: conversions, step rates, revenue
    comparison.nodes         # per step: entered, each exit, waiting (steps only one run has: None)
    comparison.inputs        # only the inputs that differ (scenario content, seed, segment, …)

With replications, a headline figure compares the means and carries each run's 2.5–97.5 %
range, so `Change.overlap` tells a difference from noise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.engine.db.runs import StoredRun
from app.engine.model import Node

HEADLINE = ("entered", "converted", "conversion_rate", "revenue", "messages", "cost", "waiting")
CHANNEL_FIGURES = ("messages", "delivered", "unreachable", "cost", "revenue")
RATES = frozenset({"conversion_rate", "from_previous", "from_start"})  # shares, not counts


@dataclass(frozen=True)
class Change:
    """One figure in run a and run b; None where a run lacks it (a step only one has)."""

    name: str
    a: float | None
    b: float | None
    a_range: tuple[float, float] | None = None  # 2.5–97.5 % over replications
    b_range: tuple[float, float] | None = None

    @property
    def is_rate(self) -> bool:
        """A share (0–1), shown as a percentage and compared in percentage points."""
        return self.name in RATES

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def relative(self) -> float | None:
        """b / a − 1; None when a is missing or zero."""
        return None if self.delta is None or not self.a else self.delta / self.a

    @property
    def changed(self) -> bool:
        return self.a != self.b

    @property
    def overlap(self) -> bool | None:
        """Whether the runs' replication ranges overlap (a run without replications counts
        as the point of its value); None when neither run has ranges."""
        if (self.a_range is None and self.b_range is None) or self.delta is None:
            return None
        low_a, high_a = self.a_range or (self.a, self.a)
        low_b, high_b = self.b_range or (self.b, self.b)
        return low_a <= high_b and low_b <= high_a

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "a": self.a,
            "b": self.b,
            "delta": self.delta,
            "relative": self.relative,
        }
        if self.a_range is not None or self.b_range is not None:
            data["a_range"] = list(self.a_range) if self.a_range else None
            data["b_range"] = list(self.b_range) if self.b_range else None
            data["overlap"] = self.overlap
        return data


@dataclass(frozen=True)
class StageChange:
    """A funnel stage: how many reached it, the rate from the stage before and from the
    start, and its revenue."""

    stage: str
    conversions: Change
    from_previous: Change
    from_start: Change
    revenue: Change

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            **{
                name: getattr(self, name).to_dict()
                for name in ("conversions", "from_previous", "from_start", "revenue")
            },
        }


@dataclass(frozen=True)
class NodeChange:
    """A step: contacts that entered it, left by each exit, and still wait in it."""

    node: str
    title: str
    entered: Change
    waiting: Change
    exits: list[Change]

    @property
    def changed(self) -> bool:
        return any(c.changed for c in (self.entered, self.waiting, *self.exits))

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "title": self.title,
            "entered": self.entered.to_dict(),
            "waiting": self.waiting.to_dict(),
            "exits": [change.to_dict() for change in self.exits],
        }


@dataclass(frozen=True)
class InputChange:
    """An input that differs between the runs (only differing ones are listed)."""

    name: str
    a: Any
    b: Any

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "a": self.a, "b": self.b}


@dataclass
class RunComparison:
    """Run b against run a: b − a everywhere."""

    a_id: int | None
    b_id: int | None
    inputs: list[InputChange]
    headline: list[Change]
    stages: list[StageChange]
    nodes: list[NodeChange]
    channels: dict[str, list[Change]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a_id,
            "b": self.b_id,
            "inputs": [change.to_dict() for change in self.inputs],
            "headline": [change.to_dict() for change in self.headline],
            "stages": [change.to_dict() for change in self.stages],
            "nodes": [change.to_dict() for change in self.nodes],
            "channels": {
                channel: [change.to_dict() for change in changes]
                for channel, changes in self.channels.items()
            },
        }


def compare_runs(a: StoredRun, b: StoredRun) -> RunComparison:
    """Two stored runs: their inputs (scenario content, segment, seed, …) and results."""
    comparison = compare_results(a.results, b.results, step_titles(b.scenario, a.scenario))
    comparison.a_id, comparison.b_id = a.id, b.id
    first, second = a.summary, b.summary
    inputs = [
        ("scenario", first.scenario_name, second.scenario_name),
        ("scenario content", first.scenario_hash, second.scenario_hash),
        ("segment", first.segment, second.segment),
        ("replications", first.replications, second.replications),
        ("contact data version", first.data_version, second.data_version),
    ]
    differing = [InputChange(name, x, y) for name, x, y in inputs if x != y]
    comparison.inputs = differing + comparison.inputs
    return comparison


def compare_results(
    a: Mapping[str, Any], b: Mapping[str, Any], titles: Mapping[str, str] | None = None
) -> RunComparison:
    """Two result dicts (`SimulationResult.to_dict()`); `titles` names steps by id."""
    titles = titles or {}
    inputs = [
        InputChange(name, a.get(name), b.get(name))
        for name in ("seed", "horizon_days", "start", "contacts", "assumptions")
        if a.get(name) != b.get(name)
    ]
    return RunComparison(
        a_id=None,
        b_id=None,
        inputs=inputs,
        headline=[_headline(name, a, b) for name in HEADLINE],
        stages=_stages(a, b),
        nodes=_nodes(a, b, titles),
        channels=_channels(a, b),
    )


def _headline(name: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> Change:
    return Change(name, *_pair_of(_figure(a, name), _figure(b, name)))


def _figure(result: Mapping[str, Any], name: str) -> tuple[float | None, Any]:
    """(value, range): the mean and 2.5–97.5 % range over replications when the run has
    them, else the single run's value and no range."""
    summary = (result.get("replications") or {}).get(name)
    if summary:
        return summary["mean"], (summary["low"], summary["high"])
    if name in ("messages", "cost"):
        return sum(c[name] for c in result.get("channels", {}).values()), None
    if name.startswith("stage:"):
        stage = next((s for s in result.get("stages", []) if s["stage"] == name[6:]), None)
        return (None if stage is None else stage["conversions"]), None
    figure = result.get(name)
    return (None if figure is None else float(figure)), None


def _stages(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[StageChange]:
    first = {s["stage"]: s for s in a.get("stages", [])}
    second = {s["stage"]: s for s in b.get("stages", [])}
    changes = []
    for stage in _union(second, first):
        x, y = first.get(stage, {}), second.get(stage, {})
        key = f"stage:{stage}"
        conversions = Change("conversions", *_pair_of(_figure(a, key), _figure(b, key)))
        figures = [
            Change(name, x.get(name), y.get(name))
            for name in ("from_previous", "from_start", "revenue")
        ]
        changes.append(StageChange(stage, conversions, *figures))
    return changes


def _pair_of(first: tuple[Any, Any], second: tuple[Any, Any]) -> tuple[Any, Any, Any, Any]:
    """Change's argument order (a, b, a_range, b_range) from two (value, range) pairs."""
    return first[0], second[0], first[1], second[1]


def _nodes(
    a: Mapping[str, Any], b: Mapping[str, Any], titles: Mapping[str, str]
) -> list[NodeChange]:
    first, second = a.get("nodes", {}), b.get("nodes", {})
    order = _union(b.get("node_ids") or second, a.get("node_ids") or first)
    changes = []
    for node_id in order:
        x, y = first.get(node_id), second.get(node_id)
        exits = _union((y or {}).get("exits", {}), (x or {}).get("exits", {}))
        changes.append(
            NodeChange(
                node=node_id,
                title=titles.get(node_id, node_id),
                entered=Change("entered", *_pair(x, y, "entered")),
                waiting=Change("waiting", *_pair(x, y, "waiting")),
                exits=[
                    Change(
                        name,
                        None if x is None else x["exits"].get(name, 0),
                        None if y is None else y["exits"].get(name, 0),
                    )
                    for name in exits
                ],
            )
        )
    return changes


def _channels(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, list[Change]]:
    first, second = a.get("channels", {}), b.get("channels", {})
    return {
        channel: [
            Change(name, first.get(channel, {}).get(name, 0), second.get(channel, {}).get(name, 0))
            for name in CHANNEL_FIGURES
        ]
        for channel in _union(second, first)
    }


def _pair(
    x: Mapping[str, Any] | None, y: Mapping[str, Any] | None, key: str
) -> tuple[float | None, float | None]:
    return (None if x is None else x[key]), (None if y is None else y[key])


def _union(*orders: Iterable[str]) -> list[str]:
    """Keys in order of first appearance across the iterables."""
    return list(dict.fromkeys(key for order in orders for key in order))


def step_titles(*documents: Mapping[str, Any] | None) -> dict[str, str]:
    """Step titles by id from scenario documents (the first that names a step wins); a step
    without a title is called by its kind, as on the canvas."""
    titles: dict[str, str] = {}
    for document in documents:
        for node in (document or {}).get("nodes", []):
            step = Node(node["id"], node.get("type", ""), node.get("title") or "")
            titles.setdefault(step.id, step.display_title)
    return titles


def assumption_changes(
    a: Mapping[str, Any] | None, b: Mapping[str, Any] | None
) -> list[tuple[tuple[str, ...], Any, Any]]:
    """The behaviour settings that differ between two assumption dicts (`Assumptions.to_dict`),
    as (path, a, b) leaves — e.g. (("nodes", "wait_purchase", "happened"), None, 0.9) — so a
    comparison can say *which* probability changed rather than "the assumptions differ"."""
    changes: list[tuple[tuple[str, ...], Any, Any]] = []

    def walk(path: tuple[str, ...], x: Any, y: Any) -> None:
        if isinstance(x, Mapping) or isinstance(y, Mapping):
            x = x if isinstance(x, Mapping) else {}
            y = y if isinstance(y, Mapping) else {}
            for key in _union(x, y):
                walk((*path, str(key)), x.get(key), y.get(key))
        elif x != y:
            changes.append((path, x, y))

    walk((), a or {}, b or {})
    return changes
