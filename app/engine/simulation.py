"""Vectorised simulation: whole cohorts of contacts walk a scenario in simulated time.

Contacts enter through entry nodes and move through the graph as numpy batches (arrays of
walk ids per node), nodes processed in topological order and the loop repeated while any
batch is pending, so cycles (which always hold a wait) are followed visit after visit. Every
random outcome comes from `randomness.uniform` keyed by (seed, walk, node, arrival, purpose):
a walk's path does not depend on how it was batched, and `runtime.Runtime` reproduces it exactly.
Walks never meet, so a large run deals them into lanes walked by one thread each (numpy
releases the GIL over large arrays) and adds up the lanes' counts.

Times are whole seconds from `start`, in the scenario's local wall-clock time (the timezone
setting is not converted). A walk whose next move falls at or after the horizon stays
"waiting" at the node it is in. Semantics are documented in docs/SIMULATION.md.
"""

from __future__ import annotations

import copy
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import networkx as nx
import numpy as np

from app.engine import randomness as rnd
from app.engine.behaviour import Assumptions
from app.engine.catalog import CHANNELS
from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema, FieldType
from app.engine.durations import parse_duration
from app.engine.expressions import (
    Call,
    Expr,
    FieldRef,
    cached_parse,
    columns_from_contacts,
    columns_needed,
    evaluate_columns,
    field_column,
)
from app.engine.i18n import T
from app.engine.memory import freed_memory_reused
from app.engine.model import Node, Scenario
from app.engine.validation import Severity, validate

DAY = 86_400
CALENDAR_FIELDS = ("season", "weekday", "month", "hour")
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SEASON_OF_MONTH = np.array(
    ["", *["winter"] * 2, *["spring"] * 3, *["summer"] * 3, *["autumn"] * 3, "winter"],
    dtype=object,
)
_WEEKDAY_ARRAY = np.array(WEEKDAY_NAMES, dtype=object)
_EPOCH = datetime(1970, 1, 1)
NEVER = np.iinfo(np.int64).min // 4
# Times of walks are int32 seconds from `start`: a horizon of MAX_HORIZON_DAYS plus the
# longest move past it (a week's window, a day of quiet hours) stays far below 2³¹, and
# half-width times halve the memory traffic of every step.
TIME = np.int32
MAX_HORIZON_DAYS = 10_000
ENTRY_BLOCK = 65_536  # contacts whose entry is worked out at once
# More passes over the graph (or steps of one walk) than this means a cycle in which no time
# passes (a send-window wait that is already open); it is refused rather than run forever.
MAX_STEPS = 100_000
# A run of at least this many walks per core splits them into lanes, one thread each: numpy
# lets go of the GIL over large arrays, and walks never meet, so the lanes share the per-walk
# arrays (each writes only its own walks) and add up their counts at the end.
LANE_MIN_WALKS = 100_000
MAX_LANES = 8
LANE_BLOCK = 262_144
# Which contact columns decide whether a channel can reach a contact (besides consent).
ADDRESS_FIELD = {"email": "has_email", "sms": "has_phone", "messenger": "has_phone"}


class SimulationError(RuntimeError):
    """A scenario that cannot be simulated, or a broken invariant (a bug)."""


# --------------------------------------------------------------------------- shared semantics
# The runtime calls these same functions on one-element arrays, so both engines agree exactly.


def base_seconds(start: datetime) -> int:
    """Seconds from 1970-01-01 to `start` in naive local time: calendar fields derive from it."""
    return int((start.replace(tzinfo=None) - _EPOCH).total_seconds())


def calendar_columns(times: np.ndarray, base: int) -> dict[str, np.ndarray]:
    """season, weekday, month and hour at each simulated time."""
    absolute = np.asarray(times, dtype=np.int64) + base
    days = absolute // DAY
    months = absolute.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    return {
        "season": _SEASON_OF_MONTH[months],
        "weekday": _WEEKDAY_ARRAY[(days + 3) % 7],  # 1970-01-01 was a Thursday
        "month": months.astype(np.float64),
        "hour": ((absolute % DAY) // 3600).astype(np.float64),
    }


def clock_seconds(text: str) -> int:
    hours, _, minutes = str(text).partition(":")
    return int(hours) * 3600 + int(minutes or 0) * 60


def _day_split(times: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(seconds since the local midnight before `start`, day number from that midnight, that
    offset). Working from the start's midnight keeps the numbers small, so int32 times stay
    int32 and no division runs on 64-bit integers."""
    offset = base % DAY
    local = times + offset
    return local, local // DAY, offset


def next_window(
    times: np.ndarray, base: int, days: Sequence[str], opens: int, closes: int
) -> np.ndarray:
    """The first moment at or after each time inside an allowed weekday's [opens, closes).

    A window whose close is not after its open runs past midnight into the next day. The
    weekday arithmetic runs once per calendar day the times span (small tables), not per time.
    """
    if closes <= opens:
        closes += DAY
    allowed = np.array([name in days for name in WEEKDAY_NAMES])
    if not allowed.any() or not len(times):
        return times.copy()
    # Days from each weekday to the next allowed one after it (1–7).
    ahead = np.array(
        [next(k for k in range(1, 8) if allowed[(d + k) % 7]) for d in range(7)], dtype=np.int64
    )
    local, day, offset = _day_split(times, base)
    first = int(day.min())
    span = np.arange(first, int(day.max()) + 1)
    weekday = (span + base // DAY + 3) % 7  # 1970-01-01 was a Thursday
    row = (day - first).astype(np.intp)  # converted once for the three lookups
    # Per day, in the times' own dtype: its window (none: a close no time is before) and the
    # next allowed day's opening.
    dtype = times.dtype
    never = np.iinfo(dtype).min
    midnight = span * DAY
    opening = (midnight + opens).astype(dtype)
    closing = np.where(allowed[weekday], midnight + closes, never).astype(dtype)
    later = ((span + ahead[weekday]) * DAY + opens).astype(dtype)
    today = local < closing.take(row)
    moment = np.where(today, np.maximum(local, opening.take(row)), later.take(row))
    if closes > DAY:  # yesterday's window may still be open after midnight
        open_late = np.where(allowed[(weekday - 1) % 7], midnight + closes - DAY, never)
        np.copyto(moment, local, where=local < open_late.astype(dtype).take(row))
    moment -= offset
    return moment


def after_quiet_hours(times: np.ndarray, base: int, start: int, end: int) -> np.ndarray:
    """Each time moved to the end of quiet hours when it falls inside them."""
    if start == end:
        return times
    local, day, offset = _day_split(times, base)
    midnight = day * DAY
    of_day = local - midnight
    if start > end:  # across midnight, e.g. 22:00–09:00
        late = of_day >= start
        inside = late | (of_day < end)
    else:
        late = None
        inside = (of_day >= start) & (of_day < end)
    if not inside.any():
        return times
    ends = midnight + (end - offset)
    if late is not None:
        ends[late] += DAY
    return np.where(inside, ends, times)


def send_times(
    times: np.ndarray, base: int, quiet: tuple[int, int] | None, oldest: np.ndarray | None, per: int
) -> np.ndarray:
    """When a message goes out: after quiet hours, then when the frequency cap allows.

    `oldest` is the earliest of the walk's last `cap` sends (or None without a cap); a send
    is allowed once that one is a full period old. Moving later keeps the cap satisfied, so
    quiet hours are applied once more after the cap's delay.
    """
    result = times if quiet is None else after_quiet_hours(times, base, *quiet)
    if oldest is not None:
        allowed = oldest + per
        delayed = np.flatnonzero(allowed > result)
        if delayed.size:
            result = result.astype(np.int64)  # a long period may reach past int32 times
            moved = allowed[delayed]
            result[delayed] = moved if quiet is None else after_quiet_hours(moved, base, *quiet)
    return result


def is_true(value: object) -> bool:
    """Only a real yes holds (as in conditions): not 1, not "yes", not a missing value."""
    return value is True or value is np.True_


def attribute_value(name: str, text: str, schema: ContactSchema) -> Any:
    """An update node's text value, typed like the field it sets."""
    declared = schema.find(name)
    if declared is not None and declared.type is FieldType.NUMBER:
        try:
            return float(text)
        except ValueError:
            return None
    if declared is not None and declared.type is FieldType.BOOLEAN:
        return str(text).strip().lower() == "true"
    return text


def update_target(node: Node, schema: ContactSchema) -> tuple[str, Any] | None:
    """(column key, value) an update node writes; tags are `tag:<name>` with True/False."""
    action = node.params.get("action", "add_tag")
    if action in ("add_tag", "remove_tag"):
        tag = str(node.params.get("tag", "")).strip()
        return (f"tag:{tag}", action == "add_tag") if tag else None
    if action == "set_crm_stage":
        return "crm_stage", str(node.params.get("value", ""))
    name = str(node.params.get("attribute", "")).strip()
    if not name:
        return None
    return field_column(name, schema), attribute_value(name, node.params.get("value", ""), schema)


def offer_value(node: Node, scenario: Scenario) -> float:
    """What an offer's purchase earns: the product's price less the discount."""
    product = scenario.product(str(node.params.get("product", "")))
    if product is None:
        return 0.0
    discount = float(node.params.get("discount", 0) or 0)
    return product.price * (100.0 - discount) / 100.0


def floor_seconds(values: np.ndarray) -> np.ndarray:
    return np.floor(values).astype(np.int64)


def wait_event_delay(u: np.ndarray, timeout: int) -> np.ndarray:
    """When the awaited event happens: front-loaded (u², median at a quarter of the timeout)."""
    return np.minimum(floor_seconds(u * u * timeout), timeout - 1)


# --------------------------------------------------------------------------- plan


@dataclass
class Plan:
    """A validated scenario compiled once: ids, keys, edges, parsed conditions."""

    scenario: Scenario
    schema: ContactSchema
    order: list[str]
    target: dict[tuple[str, str], str]
    keys: dict[str, int]
    exprs: dict[str, Expr | None]
    stages: list[str]
    quiet: tuple[int, int] | None
    cap: int
    cap_period: int
    updates: dict[str, tuple[str, Any]]

    @property
    def entries(self) -> list[str]:
        return [nid for nid in self.order if self.scenario.nodes[nid].is_entry]

    def node(self, node_id: str) -> Node:
        return self.scenario.nodes[node_id]

    def state_keys(self) -> list[str]:
        return sorted({key for key, _ in self.updates.values()})

    def expression_list(self) -> list[Expr]:
        return [e for e in self.exprs.values() if e is not None]


def compile_plan(scenario: Scenario, schema: ContactSchema = DEFAULT_SCHEMA) -> Plan:
    """Refuse a scenario with validation errors; otherwise prepare it for either engine."""
    errors = [p for p in validate(scenario, schema) if p.severity is Severity.ERROR]
    if errors:
        lines = "\n".join(f"- {p.code} {p.node or ''}: {p.message}" for p in errors)
        raise SimulationError(
            str(T("Simulation", "the scenario has errors and cannot be simulated:")) + f"\n{lines}"
        )
    flow = [n.id for n in scenario.flow_nodes()]
    graph = nx.DiGraph()
    graph.add_nodes_from(flow)
    graph.add_edges_from((e.source, e.target) for e in scenario.edges)
    condensed = nx.condensation(graph)
    order = [
        node_id
        for component in nx.lexicographical_topological_sort(
            condensed, key=lambda c: min(condensed.nodes[c]["members"])
        )
        for node_id in sorted(condensed.nodes[component]["members"])
    ]
    exprs: dict[str, Expr | None] = {}
    for node_id in order:
        node = scenario.nodes[node_id]
        if node.type == "switch":
            for case in node.params.get("cases", []):
                exprs[f"{node_id}#{case['id']}"] = _parse(case.get("condition", ""))
        elif node.type in ("condition", "entry.segment", "entry.event"):
            exprs[node_id] = _parse(node.params.get("condition", ""))
    stages: list[str] = []
    for node_id in order:
        node = scenario.nodes[node_id]
        if node.type == "goal" and str(node.params.get("stage", "")) not in stages:
            stages.append(str(node.params.get("stage", "")))
    settings = scenario.settings
    quiet = None
    if settings.quiet_hours is not None:
        quiet = (clock_seconds(settings.quiet_hours.start), clock_seconds(settings.quiet_hours.end))
    cap = settings.frequency_cap.messages if settings.frequency_cap else 0
    period = parse_duration(settings.frequency_cap.per) if settings.frequency_cap else 0
    updates = {}
    for node_id in order:
        node = scenario.nodes[node_id]
        target = update_target(node, schema) if node.type == "update" else None
        if target is not None:
            updates[node_id] = target
    return Plan(
        scenario=scenario,
        schema=schema,
        order=order,
        target={(e.source, e.exit): e.target for e in scenario.edges},
        keys={node_id: rnd.name_key(node_id) for node_id in order},
        exprs=exprs,
        stages=stages,
        quiet=quiet,
        cap=max(0, int(cap)),
        cap_period=period,
        updates=updates,
    )


def _parse(text: str) -> Expr | None:
    if not str(text).strip():
        return None
    parsed = cached_parse(str(text))
    if isinstance(parsed, Exception):  # validation reports it; reaching here is a bug
        raise SimulationError(
            str(T("Simulation", "condition {text}: {problem}", text=repr(text), problem=parsed))
        )
    return parsed


# --------------------------------------------------------------------------- results


@dataclass
class NodeStats:
    entered: int = 0
    exits: dict[str, int] = field(default_factory=dict)
    waiting: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"entered": self.entered, "exits": dict(self.exits), "waiting": self.waiting}


@dataclass
class SimulationResult:
    """Everything one run measured; `to_dict` is JSON-ready (the walk arrays are left out)."""

    scenario_id: str
    seed: int
    start: datetime
    horizon_days: int
    contacts: int
    entered: int
    waiting: int
    nodes: dict[str, NodeStats]
    edges: list[dict[str, Any]]
    stages: list[dict[str, Any]]
    outcomes: dict[str, int]
    revenue: float
    converted: int
    channels: dict[str, dict[str, float]]
    time_to_conversion_days: list[int]
    timeline: dict[str, list[int]]
    tags: dict[str, dict[str, float]]
    assumptions: dict[str, Any]
    replications: dict[str, dict[str, Any]] = field(default_factory=dict)
    # One element per walk (a contact entering through one entry): for tests and overlays.
    walk_contact: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    walk_entry: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32), repr=False)
    entry_ids: list[str] = field(default_factory=list, repr=False)
    walk_final: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32), repr=False)
    walk_waiting: np.ndarray = field(default_factory=lambda: np.zeros(0, bool), repr=False)
    node_ids: list[str] = field(default_factory=list, repr=False)

    @property
    def conversion_rate(self) -> float:
        return self.converted / self.entered if self.entered else 0.0

    def headline(self) -> dict[str, float]:
        """The figures replications summarise."""
        figures = {
            "entered": float(self.entered),
            "converted": float(self.converted),
            "conversion_rate": self.conversion_rate,
            "revenue": self.revenue,
            "messages": float(sum(c["messages"] for c in self.channels.values())),
            "cost": float(sum(c["cost"] for c in self.channels.values())),
        }
        for stage in self.stages:
            figures[f"stage:{stage['stage']}"] = float(stage["conversions"])
        for channel, counts in self.channels.items():
            figures[f"revenue:{channel}"] = float(counts.get("revenue", 0.0))
            figures[f"cost:{channel}"] = float(counts["cost"])
        return figures

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario_id": self.scenario_id,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "horizon_days": self.horizon_days,
            "contacts": self.contacts,
            "entered": self.entered,
            "waiting": self.waiting,
            "converted": self.converted,
            "conversion_rate": self.conversion_rate,
            "revenue": self.revenue,
            "nodes": {node_id: stats.to_dict() for node_id, stats in self.nodes.items()},
            "edges": self.edges,
            "stages": self.stages,
            "outcomes": self.outcomes,
            "channels": self.channels,
            "time_to_conversion_days": self.time_to_conversion_days,
            "timeline": self.timeline,
            "tags": self.tags,
            "assumptions": self.assumptions,
            "replications": self.replications,
            "node_ids": self.node_ids,  # the steps in flow order (JSON objects may reorder keys)
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimulationResult:
        """A result back from `to_dict` (a stored run), so charts, the canvas overlay and
        reports draw it like a fresh one; the per-walk arrays are not stored and stay empty."""
        nodes = {
            node_id: NodeStats(int(stats["entered"]), dict(stats["exits"]), int(stats["waiting"]))
            for node_id, stats in data["nodes"].items()
        }
        return cls(
            scenario_id=data["scenario_id"],
            seed=int(data["seed"]),
            start=datetime.fromisoformat(data["start"]),
            horizon_days=int(data["horizon_days"]),
            contacts=int(data["contacts"]),
            entered=int(data["entered"]),
            waiting=int(data["waiting"]),
            nodes=nodes,
            edges=list(data["edges"]),
            stages=list(data["stages"]),
            outcomes=dict(data["outcomes"]),
            revenue=float(data["revenue"]),
            converted=int(data["converted"]),
            channels=dict(data["channels"]),
            time_to_conversion_days=list(data["time_to_conversion_days"]),
            timeline=dict(data["timeline"]),
            tags=dict(data["tags"]),
            assumptions=dict(data["assumptions"]),
            replications=dict(data.get("replications") or {}),
            node_ids=list(data.get("node_ids") or nodes),
        )


# --------------------------------------------------------------------------- population


def contact_columns(
    contacts: Sequence[Mapping[str, Any]] | Mapping[str, np.ndarray],
    plan: Plan,
    assumptions: Assumptions,
    n: int | None = None,
) -> tuple[dict[str, np.ndarray], int]:
    """Columns the run reads, from columns as given or from runtime-shape contact dicts."""
    if isinstance(contacts, Mapping):
        columns = {key: np.asarray(value) for key, value in contacts.items()}
        if n is None:
            lengths = {len(value) for value in columns.values()}
            if len(lengths) != 1:
                raise SimulationError("give n, or columns of one common length")
            n = lengths.pop()
        return columns, n
    exprs: list[Expr] = plan.expression_list()
    exprs += [FieldRef(f"consent_{c}") for c in CHANNELS] + [FieldRef("has_email")]
    exprs += [FieldRef("has_phone")]
    for node_id in plan.order:
        node = plan.node(node_id)
        if node.type == "entry.event":
            exprs.append(Call("event_count", str(node.params.get("event", ""))))
    tags = set(assumptions.tag_multipliers)
    for contact in contacts:
        tags.update(t for t in contact.get("tags") or () if isinstance(t, str))
    exprs += [Call("has_tag", tag) for tag in sorted(tags)]
    for key in plan.state_keys():
        prefix, _, name = key.partition(":")
        if prefix != "tag":
            exprs.append(FieldRef(name if prefix == "attr" else key))
    columns = columns_from_contacts(contacts, exprs, plan.schema)
    for key in CALENDAR_FIELDS:
        columns.pop(key, None)
    return columns, len(contacts)


# --------------------------------------------------------------------------- engine


def simulate(
    scenario: Scenario,
    contacts: Sequence[Mapping[str, Any]] | Mapping[str, np.ndarray],
    assumptions: Assumptions | Mapping[str, Any] | None = None,
    horizon_days: int = 30,
    seed: int = 1,
    replications: int = 1,
    start: datetime | None = None,
    *,
    n: int | None = None,
    schema: ContactSchema = DEFAULT_SCHEMA,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
) -> SimulationResult:
    """Run a scenario over contacts (dicts, or columns + n) and return what happened.

    `start` defaults to today's midnight; pass it for a reproducible run. With
    `replications=K` the run repeats with K derived seeds; the detailed figures are those of
    the first, and `replications` holds the mean and 2.5–97.5 % range of each headline figure.
    `progress(done, total)` is called before each replication and once at the end; it may
    raise to abandon the run (a Cancel button). `threads` caps how many threads walk the
    contacts (default: one per core, for large runs); the result does not depend on it.
    """
    if not isinstance(assumptions, Assumptions):
        assumptions = Assumptions.from_dict(assumptions)
    if horizon_days <= 0 or replications < 1:
        raise SimulationError(
            str(T("Simulation", "the horizon and the number of replications must be positive"))
        )
    if horizon_days > MAX_HORIZON_DAYS:
        raise SimulationError(
            str(
                T(
                    "Simulation",
                    "a horizon of {days} days is too long (at most {limit})",
                    days=horizon_days,
                    limit=f"{MAX_HORIZON_DAYS:,}",
                )
            )
        )
    if start is None:
        start = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    plan = compile_plan(scenario, schema)
    columns, count = contact_columns(contacts, plan, assumptions, n)
    results = []
    with freed_memory_reused():
        for r in range(replications):
            if progress is not None:
                progress(r, replications)
            seed_r = rnd.replication_seed(seed, r)
            run = _Run(plan, columns, count, assumptions, horizon_days, seed_r, start, threads)
            results.append(run.execute())
    if progress is not None:
        progress(replications, replications)
    first = results[0]
    first.seed = seed
    if replications > 1:
        first.replications = _summarise([r.headline() for r in results])
    return first


def _summarise(headlines: list[dict[str, float]]) -> dict[str, dict[str, Any]]:
    summary = {}
    for key in headlines[0]:
        values = np.array([h.get(key, 0.0) for h in headlines])
        low, high = np.percentile(values, [2.5, 97.5])
        summary[key] = {
            "mean": float(values.mean()),
            "low": float(low),
            "high": float(high),
            "values": values.tolist(),
        }
    return summary


class _Batch:
    """Walks at one node: their ids (int64, the index of every per-walk array) and the times
    they arrived (TIME). (Carrying their random keys along too cost more in copies at every
    split than gathering them at the draws: 6 % more instructions, no faster.)"""

    __slots__ = ("times", "walks")

    def __init__(self, walks: np.ndarray, times: np.ndarray) -> None:
        self.walks = walks
        self.times = times

    def __len__(self) -> int:
        return len(self.walks)

    def take(self, index: np.ndarray) -> _Batch:
        return _Batch(self.walks.take(index), self.times.take(index))

    def at(self, times: np.ndarray) -> _Batch:
        """The same walks, moving on at `times`."""
        return _Batch(self.walks, times)

    def divide(self, mask: np.ndarray) -> tuple[_Batch, _Batch]:
        """The walks where `mask` holds and where it does not. Integer takes beat numpy's
        boolean indexing on random masks by about half; a side that gets everyone is not
        copied."""
        chosen = np.flatnonzero(mask)
        if len(chosen) == len(mask):
            return self, _NOBODY
        if not len(chosen):
            return _NOBODY, self
        return self.take(chosen), self.take(np.flatnonzero(~mask))

    @staticmethod
    def join(batches: list[_Batch]) -> _Batch:
        if len(batches) == 1:
            return batches[0]
        return _Batch(
            np.concatenate([b.walks for b in batches]),
            np.concatenate([b.times for b in batches]),
        )


_NOBODY = _Batch(np.zeros(0, np.int64), np.zeros(0, TIME))


@dataclass
class _Step:
    """What a node needs at every visit, worked out once per run (assumptions included)."""

    node: Node
    key: int
    index: int
    p: float = 0.0  # delivery (messages), failure (notify)
    channel: str = ""
    last: int = 0  # what a delivered message records for wait_event: 1 + channel (+ offers)
    value: float = 0.0  # an offer's price less discount
    offer: int = 0  # an offer's number (from 1): what a walk remembers of its last offer
    # Whether a later step reads what a message records: the cap's ring (another message),
    # the last channel (a wait for an event, a goal's last touch), the last offer (a goal).
    records_sends: bool = True
    records_last: bool = True
    records_offer: bool = True
    cost: float = 0.0
    seconds: int = 0  # a wait's duration or a wait_event's timeout
    window: tuple[Sequence[str], int, int] | None = None
    happen: np.ndarray | None = None  # wait_event: 32-bit thresholds by `last`, or one value
    happen_p: np.ndarray | None = None  # the same as probabilities, for tag multipliers
    points: np.ndarray | None = None  # split: 53-bit cut points between variants
    exits: list[str] = field(default_factory=list)
    stage: int = 0  # goal: the stage's number
    revenue: float = 0.0  # goal: fixed revenue


class _Run:
    """One replication: walk state lives in arrays indexed by walk id."""

    def __init__(
        self,
        plan: Plan,
        columns: dict[str, np.ndarray],
        n: int,
        assumptions: Assumptions,
        horizon_days: int,
        seed: int,
        start: datetime,
        threads: int | None = None,
    ) -> None:
        self.plan = plan
        self.threads = threads
        self.block = rnd.BLOCK  # elements per pass of the hashing (larger in lanes)
        self.columns = columns
        self.n = n
        self.assumptions = assumptions
        self.horizon_days = horizon_days
        self.horizon = horizon_days * DAY
        self.seed = seed
        self.start = start
        self.base = base_seconds(start)
        self.index = {node_id: i for i, node_id in enumerate(plan.order)}
        self.new_tally()
        self.reach_cache: dict[str, np.ndarray] = {}
        self.steps = {node_id: self.prepare(plan.node(node_id)) for node_id in plan.order}
        # The contact keys something reads during the walk: conditions, tag multipliers and
        # the reachability of the channels messages use.
        self.read_keys = {
            key for expr in plan.expression_list() for key in columns_needed(expr, plan.schema)
        }
        self.read_keys |= {f"tag:{tag}" for tag in assumptions.tag_multipliers}
        for step in self.steps.values():
            if step.channel:
                self.read_keys |= {f"consent_{step.channel}", ADDRESS_FIELD.get(step.channel)}
        later = _types_downstream(plan)
        for node_id, step in self.steps.items():
            if step.channel:
                step.records_sends = bool(later[node_id] & {"message", "offer"})
                step.records_last = bool(later[node_id] & {"wait_event", "goal"})
                step.records_offer = "goal" in later[node_id]
        offers = [step for step in self.steps.values() if step.node.type == "offer"]
        for number, step in enumerate(offers, 1):
            step.offer = number
        self.offer_values = np.array([0.0, *(step.value for step in offers)])

    def new_tally(self) -> None:
        """Empty counters and queues for a walk loop: the run's, or one lane's."""
        order = self.plan.order
        self.stats = {node_id: NodeStats() for node_id in order}
        self.pending: dict[str, list[_Batch]] = {node_id: [] for node_id in order}
        # Per channel, what the steps do not tell: deliveries and unreachable walks.
        self.channel_counts = {c: {"delivered": 0, "unreachable": 0} for c in CHANNELS}
        self.step_messages = dict.fromkeys(order, 0)  # messages sent per step (and their cost)
        self.entries_by_day = np.zeros(self.horizon_days, dtype=np.int64)
        self.messages_by_day = np.zeros(self.horizon_days, dtype=np.int64)
        # Goal visits (walks, times, revenue, stage, step index, last-touch channel): few walks
        # reach a goal, so they are kept as visits rather than as arrays over every walk. Sums
        # of money are made from them in result(), in walk order, so they do not depend on
        # how walks were batched or split into lanes.
        self.goal_visits: list[_Visit] = []

    def prepare(self, node: Node) -> _Step:
        plan, assumptions = self.plan, self.assumptions
        step = _Step(node, plan.keys[node.id], self.index[node.id])
        params = node.params
        if node.type in ("message", "offer"):
            step.channel = str(params.get("channel", "email"))
            step.p = assumptions.delivery(node.id, step.channel)
            offer = node.type == "offer"
            step.last = 1 + CHANNELS.index(step.channel) + (len(CHANNELS) if offer else 0)
            step.value = offer_value(node, plan.scenario) if offer else 0.0
            step.cost = float(params.get("cost", 0) or 0)
        elif node.type == "wait":
            if params.get("mode", "duration") == "window":
                step.window = (
                    params.get("window_days", WEEKDAY_NAMES),
                    clock_seconds(params.get("window_start", "00:00")),
                    clock_seconds(params.get("window_end", "24:00")),
                )
            else:
                step.seconds = parse_duration(params.get("duration", "P1D"))
        elif node.type == "wait_event":
            step.seconds = parse_duration(params.get("timeout", "P2D"))
            override = assumptions.node_value(node.id, "happened")
            if override is not None:
                table = np.array([float(override)])
            else:
                base, plain, offered = assumptions.happened_table(str(params.get("event")))
                # Indexed by `last`: no message, after a message per channel, after an offer.
                table = np.array([base, *plain, *offered])
            step.happen_p = table
            step.happen = rnd.high_thresholds(np.minimum(table, 1.0))
        elif node.type == "split":
            variants = params.get("variants", [])
            weights = np.array([float(v.get("weight", 0)) for v in variants])
            step.points = rnd.split_points(np.cumsum(weights) / weights.sum())[:-1]
            step.exits = [v["id"] for v in variants]
        elif node.type == "notify":
            step.p = assumptions.notify_failure(node.id, str(params.get("kind", "manager")))
        elif node.type == "goal":
            step.stage = plan.stages.index(str(params.get("stage", "")))
            step.revenue = float(params.get("revenue", 0) or 0)
        return step

    # --- helpers ---------------------------------------------------------------------------
    def bits(self, step: _Step, batch: _Batch, purpose: int) -> np.ndarray:
        """The random bits of these walks at this step, keyed by their arrival times."""
        return rnd.bits(
            self.seed, self.key, step.key, batch.times, purpose, walks=batch.walks, block=self.block
        )

    def contact_column(self, key: str, walks: np.ndarray, absent: Any) -> np.ndarray:
        if key in self.state:
            return self.state[key].take(walks)
        column = self.walk_column(key)
        if column is None:
            return np.full(len(walks), absent)
        return column.take(walks)

    def walk_column(self, key: str) -> np.ndarray | None:
        """A contact column re-indexed by walk (gathered once, then one take per node)."""
        if key not in self.by_walk:
            column = self.columns.get(key)
            if column is not None and not self.identity:
                column = np.asarray(column).take(self.contact)
            self.by_walk[key] = column
        return self.by_walk[key]

    def flag(self, key: str, walks: np.ndarray) -> np.ndarray:
        values = self.contact_column(key, walks, False)
        return values if values.dtype == bool else np.array([is_true(v) for v in values], bool)

    def reachable(self, channel: str, walks: np.ndarray) -> np.ndarray:
        """Consent and an address for the channel. Unless an update node changes either, it
        is worked out once per run for every walk and then looked up."""
        keys = [f"consent_{channel}"] + (
            [ADDRESS_FIELD[channel]] if channel in ADDRESS_FIELD else []
        )
        if any(key in self.state for key in keys):
            result = self.flag(keys[0], walks)
            for key in keys[1:]:
                result &= self.flag(key, walks)
            return result
        if channel not in self.reach_cache:
            everyone = self.contact if self.identity else np.arange(len(self.contact))
            result = self.flag(keys[0], everyone)
            for key in keys[1:]:
                result &= self.flag(key, everyone)
            self.reach_cache[channel] = result
        return self.reach_cache[channel].take(walks)

    def truth(self, expr: Expr | None, walks: np.ndarray, times: np.ndarray) -> np.ndarray:
        if expr is None:
            return np.ones(len(walks), dtype=bool)
        calendar = None
        batch_columns: dict[str, np.ndarray] = {}
        for key in columns_needed(expr, self.plan.schema):
            if key in CALENDAR_FIELDS:
                calendar = calendar or calendar_columns(times, self.base)
                batch_columns[key] = calendar[key]
            elif key in self.state:
                batch_columns[key] = self.state[key][walks]
            elif key in self.columns:
                batch_columns[key] = self.walk_column(key).take(walks)
        return evaluate_columns(expr, batch_columns, len(walks), self.plan.schema)

    def emit(self, step: _Step, exit_name: str, batch: _Batch) -> None:
        exits = self.stats[step.node.id].exits
        exits[exit_name] = exits.get(exit_name, 0) + len(batch)
        if len(batch):
            self.pending[self.plan.target[(step.node.id, exit_name)]].append(batch)

    def park(self, step: _Step, walks: np.ndarray) -> None:
        """Walks still inside this node when the horizon comes."""
        if len(walks):
            self.stats[step.node.id].waiting += len(walks)
            self.final[walks] = step.index
            self.waiting[walks] = True

    def hold(self, step: _Step, batch: _Batch, until: np.ndarray) -> _Batch:
        """Park the walks whose next move falls at or after the horizon; the rest move on at
        `until` (as TIME: what moves on is before the horizon)."""
        late = until >= self.horizon
        if late.any():
            parked, batch = batch.at(until).divide(late)
            self.park(step, parked.walks)
            until = batch.times
        return batch.at(until.astype(TIME, copy=False))

    # --- entries ---------------------------------------------------------------------------
    def enter(self) -> None:
        contacts, keys, entries, times = [], [], [], []
        everyone = np.arange(self.n, dtype=np.int64)
        self.entry_ids = self.plan.entries
        self.contact = everyone  # the entry conditions read contact columns by index
        self.identity = True
        self.by_walk: dict[str, np.ndarray | None] = {}
        self.state: dict[str, np.ndarray] = {}
        for number, entry_id in enumerate(self.entry_ids):
            node = self.plan.node(entry_id)
            walk_keys, when, mask = self.entry_moments(node, everyone)
            if node.type == "entry.event" and self.assumptions.event_entry == "history":
                counts = self.columns.get(f"event_count:{node.params.get('event', '')}")
                if counts is None:
                    mask[:] = False
                else:
                    mask &= np.nan_to_num(np.asarray(counts, dtype=np.float64)) > 0
            chosen = everyone if mask.all() else np.flatnonzero(mask)
            condition = self.plan.exprs.get(entry_id)
            if condition is not None:
                inside = self.truth(condition, chosen, when.take(chosen))
                if not inside.all():
                    chosen = chosen[inside]
            whole = len(chosen) == self.n  # everyone enters: no copies
            contacts.append(chosen)
            keys.append(walk_keys if whole else walk_keys.take(chosen))
            if number:
                entries.append(np.full(len(chosen), number, dtype=np.int32))
            else:  # zeros come free from the allocator
                entries.append(np.zeros(len(chosen), dtype=np.int32))
            times.append(when if whole else when.take(chosen))
        self.contact = _joined(contacts)
        self.identity = self.contact is everyone or (
            len(self.contact) == self.n and bool((self.contact == everyone).all())
        )
        self.by_walk = {}
        self.key = _joined(keys, np.uint64)
        self.entry_of = _joined(entries, np.int32)
        entry_time = _joined(times, TIME)
        total = len(self.contact)
        self.entry_time = entry_time
        self.final = np.full(total, -1, dtype=np.int32)
        self.waiting = np.zeros(total, dtype=bool)
        # What the last delivered message was: 0 none, 1 + channel, + len(CHANNELS) for offers.
        self.last = np.zeros(total, dtype=np.int8)
        # The last offer delivered (its number; 0 none): what a goal without revenue earns.
        self.offer = np.zeros(total, dtype=np.min_scalar_type(len(self.offer_values)))
        # The frequency cap's ring: the last `cap` send times per walk, slot = sends % cap.
        # A slot is read only after it was written, so the ring needs no initial values.
        self.sent = np.zeros(total if self.plan.cap else 0, dtype=np.int32)
        self.history = np.empty(self.plan.cap * total, dtype=TIME)
        self.state = {}
        walks = everyone if self.identity else np.arange(total, dtype=np.int64)
        for key in self.plan.state_keys():
            if key in self.read_keys:  # what nothing reads need not be kept up to date
                self.state[key] = self.initial_state(key, walks)
        for key in self.assumptions.tag_multipliers:
            if f"tag:{key}" not in self.state:
                self.state[f"tag:{key}"] = self.flag(f"tag:{key}", walks)
        offset = 0
        for entry_id, chosen in zip(self.entry_ids, contacts, strict=True):
            part = slice(offset, offset + len(chosen))
            offset += len(chosen)
            self.pending[entry_id].append(_Batch(walks[part], entry_time[part]))

    def entry_moments(
        self, node: Node, contacts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(walk keys, entry times, whether before the horizon) of every contact for one
        entry, worked out block by block so the float temporaries stay in the CPU cache."""
        keys = np.empty(len(contacts), dtype=np.uint64)
        when = np.empty(len(contacts), dtype=TIME)
        inside = np.empty(len(contacts), dtype=bool)
        entry_key = self.plan.keys[node.id]
        draws = entry_draws(node)

        def fill(start: int, stop: int, block: int) -> None:
            for low in range(start, stop, block):
                part = slice(low, min(low + block, stop))
                keys[part] = walk = rnd.walk_keys(contacts[part], entry_key, block)
                if draws:
                    u = rnd.uniform(self.seed, walk, entry_key, -1, rnd.ENTRY, block)
                else:  # everyone at the start: no draw needed
                    u = np.zeros(len(walk))
                seconds = entry_times(node, u, self.horizon, self.assumptions)
                np.less(seconds, self.horizon, out=inside[part])
                when[part] = seconds  # what does not fit is never used: past the horizon

        lanes = self.lane_count(len(contacts))
        if lanes == 1:
            fill(0, len(contacts), ENTRY_BLOCK)
        else:  # one share of the contacts per thread, in the larger blocks threads want
            bounds = [len(contacts) * k // lanes for k in range(lanes + 1)]
            _in_threads(lanes, lambda k: fill(bounds[k], bounds[k + 1], LANE_BLOCK))
        return keys, when, inside

    def initial_state(self, key: str, walks: np.ndarray) -> np.ndarray:
        if key.startswith("tag:"):
            return self.flag(key, walks)
        declared = self.plan.schema.find(key)
        if declared is not None and declared.type is FieldType.NUMBER:
            return np.asarray(self.contact_column(key, walks, math.nan), dtype=np.float64)
        values = self.contact_column(key, walks, None)
        if declared is not None and declared.type is FieldType.BOOLEAN and values.dtype == bool:
            return values.copy()
        return np.array(values, dtype=object)

    # --- the walk --------------------------------------------------------------------------
    def execute(self) -> SimulationResult:
        self.enter()
        lanes = self.lane_count(len(self.contact))
        if lanes == 1:
            self.walk_entries()
        else:
            self.walk_in_lanes(lanes)
        return self.result()

    def lane_count(self, items: int) -> int:
        """How many threads share work on `items` walks or contacts."""
        if self.threads is not None:
            wanted = self.threads
        else:
            wanted = min(usable_cores(), items // LANE_MIN_WALKS)
        return max(1, min(wanted, MAX_LANES, items))

    def walk_in_lanes(self, count: int) -> None:
        """Walk the entered contacts in `count` lanes on as many threads, then add up what
        they counted. Each lane takes an equal share of every entry's walks; the per-walk
        arrays are shared (a lane writes only its own walks), the tallies are the lane's."""
        for step in self.steps.values():  # fill the lazy caches before threads read them
            if step.channel:
                self.reachable(step.channel, _NOBODY.walks)
        for key in self.read_keys:
            if key in self.columns:
                self.walk_column(key)
        lanes = [self.lane(number, count) for number in range(count)]
        self.new_tally()
        _in_threads(count, lambda number: lanes[number].walk_entries())
        for lane in lanes:
            self.absorb(lane)

    def lane(self, number: int, count: int) -> _Run:
        """A view of this run that walks the `number`-th of `count` shares of the entries."""
        lane = copy.copy(self)
        lane.new_tally()
        lane.block = LANE_BLOCK
        for entry_id, batches in self.pending.items():
            for batch in batches:
                low, high = len(batch) * number // count, len(batch) * (number + 1) // count
                if high > low:
                    part = _Batch(batch.walks[low:high], batch.times[low:high])
                    lane.pending[entry_id].append(part)
        return lane

    def absorb(self, lane: _Run) -> None:
        """Add a finished lane's tallies to this run's."""
        for node_id, stats in lane.stats.items():
            mine = self.stats[node_id]
            mine.entered += stats.entered
            mine.waiting += stats.waiting
            for exit_name, count in stats.exits.items():
                mine.exits[exit_name] = mine.exits.get(exit_name, 0) + count
        for channel, counts in lane.channel_counts.items():
            for name, count in counts.items():
                self.channel_counts[channel][name] += count
        for node_id, count in lane.step_messages.items():
            self.step_messages[node_id] += count
        self.entries_by_day += lane.entries_by_day
        self.messages_by_day += lane.messages_by_day
        self.goal_visits += lane.goal_visits

    def walk_entries(self) -> None:
        """Count the entries waiting at the entry nodes per day, then walk them."""
        for entry_id in self.entry_ids:
            for batch in self.pending[entry_id]:
                self.entries_by_day += _per_day(batch.times, self.horizon_days)
        self.walk()

    def walk(self) -> None:
        """Process pending batches, node by node in flow order, until none is left."""
        passes = 0
        while any(self.pending.values()):
            passes += 1
            if passes > MAX_STEPS:
                raise SimulationError(
                    str(T("Simulation", "contacts loop through a cycle without time passing"))
                )
            for node_id in self.plan.order:
                parts = self.pending[node_id]
                if not parts:
                    continue
                self.pending[node_id] = []
                batch = _Batch.join(parts)
                step = self.steps[node_id]
                self.stats[node_id].entered += len(batch)
                handler = _HANDLERS.get(step.node.type)
                if handler is None:
                    raise SimulationError(
                        str(
                            T(
                                "Simulation",
                                "‘{id}’ has type ‘{type}’, which cannot be simulated",
                                id=node_id,
                                type=step.node.type,
                            )
                        )
                    )
                handler(self, step, batch)

    def pass_on(self, step: _Step, batch: _Batch) -> None:
        self.emit(step, "next", batch)

    def exit(self, step: _Step, batch: _Batch) -> None:
        self.final[batch.walks] = step.index

    def condition(self, step: _Step, batch: _Batch) -> None:
        yes, no = batch.divide(self.truth(self.plan.exprs[step.node.id], batch.walks, batch.times))
        self.emit(step, "yes", yes)
        self.emit(step, "no", no)

    def update(self, step: _Step, batch: _Batch) -> None:
        target = self.plan.updates.get(step.node.id)
        if target is not None and target[0] in self.state:
            self.state[target[0]][batch.walks] = target[1]
        self.emit(step, "next", batch)

    def notify(self, step: _Step, batch: _Batch) -> None:
        failed, done = batch.divide(rnd.below(self.bits(step, batch, rnd.NOTIFY), step.p))
        self.emit(step, "done", done)
        self.emit(step, "failed", failed)

    def message(self, step: _Step, batch: _Batch) -> None:
        counts = self.channel_counts[step.channel]
        batch, unreachable = batch.divide(self.reachable(step.channel, batch.walks))
        counts["unreachable"] += len(unreachable)
        self.emit(step, "failed", unreachable)
        times = batch.times
        when = send_times(times, self.base, self.plan.quiet, None, self.plan.cap_period)
        sent = None
        if self.plan.cap:
            sent, when = self.capped(batch, when)
        if when is not times:  # moved by quiet hours or the cap: maybe past the horizon
            late = when >= self.horizon
            if late.any():
                on_time = np.flatnonzero(~late)
                self.park(step, batch.walks[late])
                batch, when = batch.take(on_time), when.take(on_time)
                if sent is not None:
                    sent = sent.take(on_time)
            when = when.astype(TIME, copy=False)
        delivered = rnd.below(self.bits(step, batch, rnd.DELIVER), step.p)
        if sent is not None and step.records_sends:
            self.record_sends(batch.walks, when, sent)
        self.step_messages[step.node.id] += len(batch)
        self.messages_by_day += _per_day(when, self.horizon_days)
        done, lost = batch.at(when).divide(delivered)
        counts["delivered"] += len(done)
        if step.records_last:
            self.last[done.walks] = step.last
        if step.offer and step.records_offer:
            self.offer[done.walks] = step.offer
        self.emit(step, "sent", done)
        self.emit(step, "failed", lost)

    def capped(self, batch: _Batch, when: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The frequency cap: (sends so far, send times). Each walk keeps a ring of its last
        `cap` send times (slot = sends % cap); only walks that have sent `cap` messages
        already can be held back, until the oldest of those is a full period old."""
        cap = self.plan.cap
        sent = self.sent.take(batch.walks)
        full = np.flatnonzero(sent >= cap)
        if len(full):
            slot = (sent.take(full) % cap).astype(np.int64)
            oldest = self.history.take(slot * len(self.sent) + batch.walks.take(full))
            delayed = send_times(
                batch.times.take(full),
                self.base,
                self.plan.quiet,
                oldest.astype(np.int64),
                self.plan.cap_period,
            )
            when = when.astype(np.int64)
            when[full] = delayed
        return sent, when

    def record_sends(self, walks: np.ndarray, when: np.ndarray, sent: np.ndarray) -> None:
        """Put each send into its walk's ring of the last `cap` send times."""
        cap = self.plan.cap
        slot = sent % cap if int(sent.max(initial=0)) >= cap else sent
        self.history[slot.astype(np.int64) * len(self.sent) + walks] = when
        self.sent[walks] = sent + 1

    def wait(self, step: _Step, batch: _Batch) -> None:
        if step.window is not None:
            until = next_window(batch.times, self.base, *step.window)
        else:  # anything from the horizon on parks, so longer waits need not fit in TIME
            until = batch.times + min(step.seconds, self.horizon)
        self.emit(step, "next", self.hold(step, batch, until))

    def happen_thresholds(self, step: _Step, walks: np.ndarray) -> np.ndarray | np.uint64:
        """Per walk, the 32-bit threshold of its chance that the awaited event happens."""
        multipliers = self.assumptions.tag_multipliers
        if not multipliers:
            if len(step.happen) == 1:
                return step.happen[0]
            return step.happen.take(self.last.take(walks))
        p = step.happen_p
        p = np.full(len(walks), p[0]) if len(p) == 1 else p.take(self.last.take(walks))
        for tag, factor in multipliers.items():
            p = np.where(self.state[f"tag:{tag}"][walks], p * factor, p)
        return rnd.high_thresholds(np.minimum(p, 1.0))

    def wait_event(self, step: _Step, batch: _Batch) -> None:
        x = self.bits(step, batch, rnd.HAPPEN)
        happens = rnd.below_high(x, self.happen_thresholds(step, batch.walks))
        chosen = np.flatnonzero(happens)
        if len(chosen):
            delay = wait_event_delay(rnd.low_unit(x.take(chosen)), step.seconds)
            happened = batch.take(chosen)
            self.emit(step, "happened", self.hold(step, happened, happened.times + delay))
        else:
            self.emit(step, "happened", _NOBODY)
        if len(chosen) < len(batch):
            if len(chosen):
                batch = batch.take(np.flatnonzero(~happens))
            until = batch.times + min(step.seconds, self.horizon)
            self.emit(step, "timeout", self.hold(step, batch, until))
        else:
            self.emit(step, "timeout", _NOBODY)

    def switch(self, step: _Step, batch: _Batch) -> None:
        node = step.node
        for case in node.params.get("cases", []):
            expr = self.plan.exprs[f"{node.id}#{case['id']}"]
            yes, batch = batch.divide(self.truth(expr, batch.walks, batch.times))
            self.emit(step, case["id"], yes)
        self.emit(step, "else", batch)

    def split(self, step: _Step, batch: _Batch) -> None:
        x = self.bits(step, batch, rnd.SPLIT)
        x >>= np.uint64(11)
        if len(step.points) == 1:
            first, second = batch.divide(x < step.points[0])
            self.emit(step, step.exits[0], first)
            self.emit(step, step.exits[1], second)
            return
        chosen = np.zeros(len(x), dtype=np.intp)  # how many cut points lie at or below x
        for point in step.points:  # (a few comparisons beat searchsorted here)
            chosen += x >= point
        for number, exit_name in enumerate(step.exits):
            self.emit(step, exit_name, batch.divide(chosen == number)[0])

    def goal(self, step: _Step, batch: _Batch) -> None:
        walks = batch.walks
        fixed = step.revenue
        if fixed > 0:
            earned = np.full(len(walks), fixed)
        else:
            earned = self.offer_values.take(self.offer.take(walks))
        # Last touch: the revenue goes to the channel of the last delivered message (0: none).
        last = self.last.take(walks).astype(np.intp)
        channel = np.where(last > 0, (last - 1) % len(CHANNELS) + 1, 0)
        self.goal_visits.append(_Visit(walks, batch.times, earned, step.stage, step.index, channel))
        self.emit(step, "next", batch)

    # --- results ---------------------------------------------------------------------------
    def result(self) -> SimulationResult:
        plan = self.plan
        total = len(self.contact)
        self.check_conservation(total)
        outcomes: dict[str, int] = {}
        for node_id in plan.order:
            node = plan.node(node_id)
            if node.type == "exit":
                outcome = str(node.params.get("outcome", "converted"))
                outcomes[outcome] = outcomes.get(outcome, 0) + self.stats[node_id].entered
        goals = _GoalVisits(self.goal_visits, len(plan.order))
        converted = len(goals.walks)
        stages = []
        previous = total
        for number, stage in enumerate(plan.stages):
            reached = goals.reached(number)
            stage_revenue = sum(
                float(goals.node_revenue[self.index[node_id]])
                for node_id in plan.order
                if plan.node(node_id).type == "goal"
                and str(plan.node(node_id).params.get("stage", "")) == stage
            )
            stages.append(
                {
                    "stage": stage,
                    "conversions": reached,
                    "from_previous": reached / previous if previous else 0.0,
                    "from_start": reached / total if total else 0.0,
                    "revenue": stage_revenue,
                }
            )
            previous = reached
        edges = [
            {
                "source": source,
                "exit": exit_name,
                "target": target,
                "count": self.stats[source].exits.get(exit_name, 0),
            }
            for (source, exit_name), target in sorted(plan.target.items())
        ]
        days = self.horizon_days
        to_goal = (goals.first - self.entry_time.take(goals.walks)) // DAY
        return SimulationResult(
            scenario_id=plan.scenario.id,
            seed=self.seed,
            start=self.start,
            horizon_days=days,
            contacts=self.n,
            entered=total,
            waiting=int(np.count_nonzero(self.waiting)),
            nodes=self.stats,
            edges=edges,
            stages=stages,
            outcomes=outcomes,
            revenue=float(goals.revenue.sum()),
            converted=converted,
            channels=self.channel_totals(goals),
            time_to_conversion_days=np.bincount(to_goal, minlength=days)[:days].tolist(),
            timeline={
                "entries": self.entries_by_day.tolist(),
                "messages": self.messages_by_day.tolist(),
                "conversions": _per_day(goals.times, days).tolist(),
            },
            tags=self.tag_breakdown(goals),
            assumptions=self.assumptions.to_dict(),
            walk_contact=self.contact,
            walk_entry=self.entry_of,
            entry_ids=list(self.entry_ids),
            walk_final=self.final,
            walk_waiting=self.waiting,
            node_ids=list(plan.order),
        )

    def channel_totals(self, goals: _GoalVisits) -> dict[str, dict[str, Any]]:
        """Per channel used: messages, deliveries, unreachable contacts, cost and revenue."""
        totals: dict[str, dict[str, Any]] = {}
        for code, channel in enumerate(CHANNELS, start=1):
            counts = self.channel_counts[channel]
            messages, cost = 0, 0.0
            for node_id, step in self.steps.items():
                if step.channel == channel:
                    messages += self.step_messages[node_id]
                    cost += self.step_messages[node_id] * step.cost
            if not (messages or counts["unreachable"]):
                continue
            totals[channel] = {
                "messages": messages,
                **counts,
                "cost": cost,
                "revenue": float(goals.channel_revenue[code]),
            }
        return totals

    def tag_breakdown(self, goals: _GoalVisits) -> dict[str, dict[str, float]]:
        """Per tag the contact had at entry: walks entered, converted and their revenue."""
        breakdown = {}
        for key in sorted(k for k in self.columns if k.startswith("tag:")):
            column = np.asarray(self.columns[key], dtype=bool)
            has = column if self.identity else column.take(self.contact)
            entered = int(np.count_nonzero(has))
            converted = has.take(goals.walks)
            breakdown[key[4:]] = {
                "entered": entered,
                "converted": int(np.count_nonzero(converted)),
                "conversion_rate": int(np.count_nonzero(converted)) / entered if entered else 0.0,
                "revenue": float(goals.revenue[converted].sum()),
            }
        return breakdown

    def check_conservation(self, total: int) -> None:
        """Every walk that entered is at an exit or waiting; every node's in equals its out."""
        for node_id, stats in self.stats.items():
            node = self.plan.node(node_id)
            leaving = sum(stats.exits.values()) + stats.waiting
            if node.type != "exit" and leaving != stats.entered:
                raise SimulationError(
                    f"conservation broken at ‘{node_id}’: {stats.entered} entered, "
                    f"{leaving} left or waiting"
                )
        at_exits = sum(
            self.stats[i].entered for i in self.plan.order if self.plan.node(i).type == "exit"
        )
        waiting = sum(stats.waiting for stats in self.stats.values())
        if at_exits + waiting != total or (self.final < 0).any():
            raise SimulationError(
                f"conservation broken: {total} entered, {at_exits} at exits, {waiting} waiting"
            )


_HANDLERS = {
    "entry.segment": _Run.pass_on,
    "entry.event": _Run.pass_on,
    "message": _Run.message,
    "offer": _Run.message,
    "wait": _Run.wait,
    "wait_event": _Run.wait_event,
    "condition": _Run.condition,
    "switch": _Run.switch,
    "split": _Run.split,
    "update": _Run.update,
    "notify": _Run.notify,
    "goal": _Run.goal,
    "exit": _Run.exit,
}


def _types_downstream(plan: Plan) -> dict[str, set[str]]:
    """Per node, the node types a walk can meet after it (cycles included)."""
    following: dict[str, list[str]] = {node_id: [] for node_id in plan.order}
    for (source, _exit), target in plan.target.items():
        following[source].append(target)
    later: dict[str, set[str]] = {node_id: set() for node_id in plan.order}
    changed = True
    while changed:  # reverse flow order settles a DAG in one sweep; cycles take a few more
        changed = False
        for node_id in reversed(plan.order):
            for target in following[node_id]:
                reached = later[target] | {plan.node(target).type}
                if not reached <= later[node_id]:
                    later[node_id] |= reached
                    changed = True
    return later


class _Visit(NamedTuple):
    """Walks arriving at a goal together."""

    walks: np.ndarray
    times: np.ndarray
    earned: np.ndarray
    stage: int
    step: int  # the goal's index in the plan's order
    channels: np.ndarray  # last touch: 1 + channel of the last delivered message, 0 none


class _GoalVisits:
    """Every goal visit of a run, per walk that reached a goal: its first goal time and its
    revenue (summed in the order it was earned), and which stages it reached; revenue per
    goal step and per last-touch channel, summed in walk order."""

    def __init__(self, visits: list[_Visit], steps: int) -> None:
        walks = _joined([v.walks for v in visits])
        self.times = _joined([v.times for v in visits], TIME)
        earned = _joined([v.earned for v in visits], np.float64)
        stages = _joined([np.full(len(v.walks), v.stage, dtype=np.int32) for v in visits])
        at = _joined([np.full(len(v.walks), v.step, dtype=np.int32) for v in visits])
        channels = _joined([v.channels for v in visits])
        # By walk, then time; stable, so ties keep the order of the path. Both fit one
        # int64 key (walk ids and times are below 2³¹): one stable argsort, where numpy's
        # lexsort took ten times as long.
        key = walks.astype(np.int64) << 32
        key |= self.times
        order = np.argsort(key, kind="stable")
        self.visit_walks = walks.take(order)
        starts = np.flatnonzero(np.diff(self.visit_walks, prepend=-1))
        self.walks = self.visit_walks.take(starts)
        self.first = self.times.take(order).take(starts)
        earned = earned.take(order)
        self.revenue = np.add.reduceat(earned, starts) if len(starts) else earned
        self.visit_stages = stages.take(order)
        self.node_revenue = np.bincount(at.take(order), weights=earned, minlength=steps)
        self.channel_revenue = np.bincount(
            channels.take(order), weights=earned, minlength=len(CHANNELS) + 1
        )

    def reached(self, stage: int) -> int:
        """How many walks reached the stage."""
        walks = self.visit_walks[self.visit_stages == stage]  # sorted
        return int(np.count_nonzero(np.diff(walks, prepend=-1)))


def entry_draws(node: Node) -> bool:
    """Whether `entry_times` uses its draws (all at once, everyone enters at the start)."""
    return node.type != "entry.segment" or node.params.get("schedule", "all_at_once") == "spread"


def entry_times(node: Node, u: np.ndarray, horizon: int, assumptions: Assumptions) -> np.ndarray:
    """When each contact would enter (seconds from start); at or after the horizon: never."""
    if node.type == "entry.segment":
        if node.params.get("schedule", "all_at_once") == "spread":
            days = max(1, int(node.params.get("spread_days", 1) or 1))
            seconds = u * days
            seconds *= DAY
            return floor_seconds(seconds)
        return np.zeros(len(u), dtype=np.int64)
    if assumptions.event_entry == "rate":
        rate = assumptions.event_rate(str(node.params.get("event", "")))
        if rate <= 0:
            return np.full(len(u), horizon, dtype=np.int64)
        with np.errstate(divide="ignore"):
            seconds = -np.log1p(-u) / rate * DAY
        return floor_seconds(np.minimum(seconds, float(horizon)))
    return floor_seconds(u * horizon)


def _in_threads(count: int, work: Callable[[int], None]) -> None:
    """work(0) … work(count - 1) at once, work(0) in this thread; the first error is raised
    here once all have finished."""
    errors: list[BaseException] = []

    def guarded(number: int) -> None:
        try:
            work(number)
        except BaseException as error:  # re-raised below, in the calling thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(k,)) for k in range(1, count)]
    for thread in threads:
        thread.start()
    guarded(0)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def usable_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _joined(parts: list[np.ndarray], dtype: type = np.int64) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _per_day(times: np.ndarray, days: int) -> np.ndarray:
    """How many of `times` (before the horizon) fall on each day."""
    return np.bincount(times // DAY, minlength=days)[:days]
