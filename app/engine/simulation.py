"""Vectorised simulation: whole cohorts of contacts walk a scenario in simulated time.

Contacts enter through entry nodes and move through the graph as numpy batches (arrays of
walk ids per node), nodes processed in topological order and the loop repeated while any
batch is pending, so cycles (which always hold a wait) are followed visit after visit. Every
random outcome comes from `randomness.uniform` keyed by (seed, walk, node, arrival, purpose):
a walk's path does not depend on how it was batched, and `runtime.Runtime` reproduces it exactly.

Times are whole seconds from `start`, in the scenario's local wall-clock time (the timezone
setting is not converted). A walk whose next move falls at or after the horizon stays
"waiting" at the node it is in. Semantics are documented in docs/SIMULATION.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
# More passes over the graph (or steps of one walk) than this means a cycle in which no time
# passes (a send-window wait that is already open); it is refused rather than run forever.
MAX_STEPS = 100_000
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
    absolute = times + base
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


def next_window(
    times: np.ndarray, base: int, days: Sequence[str], opens: int, closes: int
) -> np.ndarray:
    """The first moment at or after each time inside an allowed weekday's [opens, closes).

    A window whose close is not after its open runs past midnight into the next day.
    """
    if closes <= opens:
        closes += DAY
    allowed = np.array([name in days for name in WEEKDAY_NAMES])
    if not allowed.any():
        return times.copy()
    # Days from each weekday to the next allowed one after it (1–7).
    ahead = np.array(
        [next(k for k in range(1, 8) if allowed[(d + k) % 7]) for d in range(7)], dtype=np.int64
    )
    absolute = times + base
    day = absolute // DAY
    of_day = absolute - day * DAY
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    still_open = allowed[(weekday - 1) % 7] & (of_day + DAY < closes)  # yesterday's window
    today = allowed[weekday] & (of_day < closes)
    later = (day + ahead[weekday]) * DAY + opens
    moment = np.where(today, day * DAY + np.maximum(of_day, opens), later)
    return np.where(still_open, absolute, moment) - base


def after_quiet_hours(times: np.ndarray, base: int, start: int, end: int) -> np.ndarray:
    """Each time moved to the end of quiet hours when it falls inside them."""
    if start == end:
        return times
    absolute = times + base
    of_day = absolute % DAY
    midnight = absolute - of_day
    if start > end:  # across midnight, e.g. 22:00–09:00
        late = of_day >= start
        early = of_day < end
        shifted = np.where(late, midnight + DAY + end, np.where(early, midnight + end, absolute))
    else:
        inside = (of_day >= start) & (of_day < end)
        shifted = np.where(inside, midnight + end, absolute)
    return shifted - base


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
            result = result.copy()
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
        }


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
) -> SimulationResult:
    """Run a scenario over contacts (dicts, or columns + n) and return what happened.

    `start` defaults to today's midnight; pass it for a reproducible run. With
    `replications=K` the run repeats with K derived seeds; the detailed figures are those of
    the first, and `replications` holds the mean and 2.5–97.5 % range of each headline figure.
    `progress(done, total)` is called before each replication and once at the end; it may
    raise to abandon the run (a Cancel button).
    """
    if not isinstance(assumptions, Assumptions):
        assumptions = Assumptions.from_dict(assumptions)
    if horizon_days <= 0 or replications < 1:
        raise SimulationError(
            str(T("Simulation", "the horizon and the number of replications must be positive"))
        )
    if start is None:
        start = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    plan = compile_plan(scenario, schema)
    columns, count = contact_columns(contacts, plan, assumptions, n)
    results = []
    for r in range(replications):
        if progress is not None:
            progress(r, replications)
        run = _Run(
            plan, columns, count, assumptions, horizon_days, rnd.replication_seed(seed, r), start
        )
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


@dataclass
class _Batch:
    walk: np.ndarray  # walk ids (int64)
    time: np.ndarray  # seconds from start (int64)

    def take(self, mask: np.ndarray | slice, time: np.ndarray | None = None) -> _Batch:
        """The walks where `mask` holds (with new times if given); integer takes beat numpy's
        boolean indexing on random masks by about half."""
        chosen = self.time if time is None else time
        if isinstance(mask, slice):
            return _Batch(self.walk, chosen)
        index = np.flatnonzero(mask)
        if len(index) == len(mask):  # everyone: no copy
            return _Batch(self.walk, chosen)
        return _Batch(self.walk.take(index), chosen.take(index))


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
    ) -> None:
        self.plan = plan
        self.columns = columns
        self.n = n
        self.assumptions = assumptions
        self.horizon_days = horizon_days
        self.horizon = horizon_days * DAY
        self.seed = seed
        self.start = start
        self.base = base_seconds(start)
        self.stats = {node_id: NodeStats() for node_id in plan.order}
        self.pending: dict[str, list[_Batch]] = {node_id: [] for node_id in plan.order}
        self.index = {node_id: i for i, node_id in enumerate(plan.order)}
        self.channel_counts = {
            c: {"messages": 0, "delivered": 0, "unreachable": 0, "cost": 0.0, "revenue": 0.0}
            for c in CHANNELS
        }
        self.message_times: list[np.ndarray] = []
        self.goal_times: list[np.ndarray] = []
        self.goal_revenue: dict[str, float] = {}

    # --- helpers ---------------------------------------------------------------------------
    def draw(self, batch: _Batch, node_id: str, purpose: int) -> np.ndarray:
        """Draws keyed by the batch's arrival times at the node."""
        return rnd.uniform(
            self.seed, self.key.take(batch.walk), self.plan.keys[node_id], batch.time, purpose
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

    def emit(self, node_id: str, exit_name: str, batch: _Batch) -> None:
        self.stats[node_id].exits[exit_name] = self.stats[node_id].exits.get(exit_name, 0) + len(
            batch.walk
        )
        if len(batch.walk):
            self.pending[self.plan.target[(node_id, exit_name)]].append(batch)

    def park(self, node_id: str, batch: _Batch, late: np.ndarray) -> None:
        """Walks (where `late` holds) still inside this node when the horizon comes."""
        if not late.any():
            return
        walks = batch.walk[late]
        self.stats[node_id].waiting += len(walks)
        self.final[walks] = self.index[node_id]
        self.waiting[walks] = True

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
            walk_keys = rnd.walk_keys(everyone, self.plan.keys[entry_id])
            u = rnd.uniform(self.seed, walk_keys, self.plan.keys[entry_id], -1, rnd.ENTRY)
            when = entry_times(self.plan.node(entry_id), u, self.horizon, self.assumptions)
            mask = when < self.horizon
            node = self.plan.node(entry_id)
            if node.type == "entry.event" and self.assumptions.event_entry == "history":
                counts = self.columns.get(f"event_count:{node.params.get('event', '')}")
                if counts is None:
                    mask[:] = False
                else:
                    mask &= np.nan_to_num(np.asarray(counts, dtype=np.float64)) > 0
            chosen = everyone if mask.all() else np.flatnonzero(mask)
            inside = self.truth(self.plan.exprs.get(entry_id), chosen, when.take(chosen))
            if not inside.all():
                chosen = chosen[inside]
            whole = len(chosen) == self.n  # everyone enters: no copies
            contacts.append(chosen)
            keys.append(walk_keys if whole else walk_keys.take(chosen))
            entries.append(np.full(len(chosen), number, dtype=np.int32))
            times.append(when if whole else when.take(chosen))
        self.contact = _joined(contacts)
        self.identity = len(self.contact) == self.n and bool(
            (self.contact == everyone[: len(self.contact)]).all()
        )
        self.by_walk = {}
        self.key = _joined(keys, np.uint64)
        self.entry_of = _joined(entries, np.int32)
        entry_time = _joined(times)
        total = len(self.contact)
        self.entry_time = entry_time
        self.final = np.full(total, -1, dtype=np.int32)
        self.waiting = np.zeros(total, dtype=bool)
        self.last_channel = np.full(total, -1, dtype=np.int8)
        self.last_offer = np.zeros(total, dtype=bool)
        self.offer_value = np.zeros(total, dtype=np.float64)
        self.stage_mask = np.zeros(total, dtype=np.int64)
        self.first_goal = np.full(total, -1, dtype=np.int64)
        self.revenue = np.zeros(total, dtype=np.float64)
        self.history = np.full(self.plan.cap * total, NEVER, dtype=np.int64)
        self.slot = np.zeros(total, dtype=np.int8)
        self.state = {}
        walks = np.arange(total, dtype=np.int64)
        for key in self.plan.state_keys():
            self.state[key] = self.initial_state(key, walks)
        for key in self.assumptions.tag_multipliers:
            if f"tag:{key}" not in self.state:
                self.state[f"tag:{key}"] = self.flag(f"tag:{key}", walks)
        offset = 0
        for entry_id, chosen in zip(self.entry_ids, contacts, strict=True):
            part = slice(offset, offset + len(chosen))
            offset += len(chosen)
            batch = _Batch(walks[part], entry_time[part])
            self.pending[entry_id].append(batch)

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
        passes = 0
        while any(self.pending.values()):
            passes += 1
            if passes > MAX_STEPS:
                raise SimulationError(
                    str(T("Simulation", "contacts loop through a cycle without time passing"))
                )
            for node_id in self.plan.order:
                batches = self.pending[node_id]
                if not batches:
                    continue
                self.pending[node_id] = []
                batch = (
                    batches[0]
                    if len(batches) == 1
                    else _Batch(
                        np.concatenate([b.walk for b in batches]),
                        np.concatenate([b.time for b in batches]),
                    )
                )
                self.stats[node_id].entered += len(batch.walk)
                self.process(self.plan.node(node_id), batch)
        return self.result()

    def process(self, node: Node, batch: _Batch) -> None:
        kind = node.type
        if kind in ("entry.segment", "entry.event"):
            self.emit(node.id, "next", batch.take(slice(None)))
        elif kind in ("message", "offer"):
            self.message(node, batch)
        elif kind == "wait":
            self.wait(node, batch)
        elif kind == "wait_event":
            self.wait_event(node, batch)
        elif kind == "condition":
            yes = self.truth(self.plan.exprs[node.id], batch.walk, batch.time)
            self.emit(node.id, "yes", batch.take(yes))
            self.emit(node.id, "no", batch.take(~yes))
        elif kind == "switch":
            self.switch(node, batch)
        elif kind == "split":
            self.split(node, batch)
        elif kind == "update":
            target = self.plan.updates.get(node.id)
            if target is not None:
                self.state[target[0]][batch.walk] = target[1]
            self.emit(node.id, "next", batch.take(slice(None)))
        elif kind == "notify":
            p = self.assumptions.notify_failure(node.id, str(node.params.get("kind", "manager")))
            failed = self.draw(batch, node.id, rnd.NOTIFY) < p
            self.emit(node.id, "done", batch.take(~failed))
            self.emit(node.id, "failed", batch.take(failed))
        elif kind == "goal":
            self.goal(node, batch)
        elif kind == "exit":
            self.final[batch.walk] = self.index[node.id]
        else:
            raise SimulationError(
                str(
                    T(
                        "Simulation",
                        "‘{id}’ has type ‘{type}’, which cannot be simulated",
                        id=node.id,
                        type=kind,
                    )
                )
            )

    def message(self, node: Node, batch: _Batch) -> None:
        channel = str(node.params.get("channel", "email"))
        code = CHANNELS.index(channel)
        walks = batch.walk
        reachable = self.flag(f"consent_{channel}", walks)
        if channel in ADDRESS_FIELD:
            reachable &= self.flag(ADDRESS_FIELD[channel], walks)
        counts = self.channel_counts[channel]
        counts["unreachable"] += len(walks) - int(np.count_nonzero(reachable))
        self.emit(node.id, "failed", batch.take(~reachable))
        arrived = batch.take(reachable)
        cells = None
        oldest = None
        if self.plan.cap:  # a ring of the last `cap` send times per walk; its slot is the oldest
            cells = self.slot.take(arrived.walk).astype(np.int64) * len(self.slot) + arrived.walk
            oldest = self.history.take(cells)
        when = send_times(arrived.time, self.base, self.plan.quiet, oldest, self.plan.cap_period)
        late = when >= self.horizon
        self.park(node.id, arrived, late)
        on_time = ~late
        p = self.assumptions.delivery(node.id, channel)
        delivered = self.draw(arrived.take(on_time), node.id, rnd.DELIVER) < p
        going = arrived.take(on_time, when)
        if cells is not None:
            self.history[cells if len(going.walk) == len(cells) else cells[on_time]] = going.time
            self.slot[going.walk] = (self.slot.take(going.walk) + 1) % self.plan.cap
        counts["messages"] += len(going.walk)
        counts["delivered"] += int(delivered.sum())
        counts["cost"] += len(going.walk) * float(node.params.get("cost", 0) or 0)
        self.message_times.append(going.time)
        done = going.take(delivered).walk
        self.last_channel[done] = code
        self.last_offer[done] = node.type == "offer"
        if node.type == "offer":
            self.offer_value[done] = offer_value(node, self.plan.scenario)
        self.emit(node.id, "sent", going.take(delivered))
        self.emit(node.id, "failed", going.take(~delivered))

    def wait(self, node: Node, batch: _Batch) -> None:
        if node.params.get("mode", "duration") == "window":
            until = next_window(
                batch.time,
                self.base,
                node.params.get("window_days", WEEKDAY_NAMES),
                clock_seconds(node.params.get("window_start", "00:00")),
                clock_seconds(node.params.get("window_end", "24:00")),
            )
        else:
            until = batch.time + parse_duration(node.params.get("duration", "P1D"))
        late = until >= self.horizon
        self.park(node.id, batch, late)
        self.emit(node.id, "next", batch.take(~late, until))

    def happen_probability(self, node: Node, walks: np.ndarray) -> np.ndarray:
        override = self.assumptions.node_value(node.id, "happened")
        if override is not None:
            p = np.full(len(walks), float(override))
        else:
            base, plain, offered = self.assumptions.happened_table(str(node.params.get("event")))
            # One flat table: [no message, after a message per channel, after an offer per channel]
            table = np.array([base, *plain, *offered])
            channel = self.last_channel.take(walks).astype(np.int64) + 1
            offer = self.last_offer.take(walks)
            p = table.take(np.where(offer & (channel > 0), channel + len(plain), channel))
        for tag, factor in self.assumptions.tag_multipliers.items():
            p = np.where(self.state[f"tag:{tag}"][walks], p * factor, p)
        return np.minimum(p, 1.0)

    def wait_event(self, node: Node, batch: _Batch) -> None:
        timeout = parse_duration(node.params.get("timeout", "P2D"))
        p = self.happen_probability(node, batch.walk)
        whether, when = rnd.uniform_pair(
            self.seed, self.key.take(batch.walk), self.plan.keys[node.id], batch.time, rnd.HAPPEN
        )
        happens = whether < p
        delay = wait_event_delay(when, timeout)
        until = batch.time + np.where(happens, delay, timeout)
        late = until >= self.horizon
        self.park(node.id, batch, late)
        self.emit(node.id, "happened", batch.take(happens & ~late, until))
        self.emit(node.id, "timeout", batch.take(~happens & ~late, until))

    def switch(self, node: Node, batch: _Batch) -> None:
        left = np.ones(len(batch.walk), dtype=bool)
        for case in node.params.get("cases", []):
            holds = left & self.truth(
                self.plan.exprs[f"{node.id}#{case['id']}"], batch.walk, batch.time
            )
            self.emit(node.id, case["id"], batch.take(holds))
            left &= ~holds
        self.emit(node.id, "else", batch.take(left))

    def split(self, node: Node, batch: _Batch) -> None:
        variants = node.params.get("variants", [])
        weights = np.array([float(v.get("weight", 0)) for v in variants])
        bounds = np.cumsum(weights) / weights.sum()
        u = self.draw(batch, node.id, rnd.SPLIT)
        chosen = np.minimum(np.searchsorted(bounds, u, side="right"), len(variants) - 1)
        for number, variant in enumerate(variants):
            self.emit(node.id, variant["id"], batch.take(chosen == number))

    def goal(self, node: Node, batch: _Batch) -> None:
        stage = self.plan.stages.index(str(node.params.get("stage", "")))
        walks = batch.walk
        fixed = float(node.params.get("revenue", 0) or 0)
        earned = np.full(len(walks), fixed) if fixed > 0 else self.offer_value[walks]
        self.revenue[walks] += earned
        self.stage_mask[walks] |= np.int64(1) << np.int64(stage)
        first = self.first_goal[walks]
        self.first_goal[walks] = np.where(first < 0, batch.time, first)
        self.goal_times.append(batch.time)
        self.goal_revenue[node.id] = self.goal_revenue.get(node.id, 0.0) + float(earned.sum())
        # Last touch: the revenue goes to the channel of the last delivered message (-1: none).
        by_channel = np.bincount(
            self.last_channel[walks].astype(np.int64) + 1,
            weights=earned,
            minlength=len(CHANNELS) + 1,
        )
        for code, channel in enumerate(CHANNELS, start=1):
            self.channel_counts[channel]["revenue"] += float(by_channel[code])
        self.emit(node.id, "next", batch.take(slice(None)))

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
        converted = int((self.stage_mask != 0).sum())
        stages = []
        previous = total
        for number, stage in enumerate(plan.stages):
            reached = int(((self.stage_mask >> np.int64(number)) & 1).sum())
            stage_revenue = sum(
                self.goal_revenue.get(node_id, 0.0)
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
        reached = self.first_goal >= 0
        to_goal = (self.first_goal[reached] - self.entry_time[reached]) // DAY
        return SimulationResult(
            scenario_id=plan.scenario.id,
            seed=self.seed,
            start=self.start,
            horizon_days=days,
            contacts=self.n,
            entered=total,
            waiting=int(self.waiting.sum()),
            nodes=self.stats,
            edges=edges,
            stages=stages,
            outcomes=outcomes,
            revenue=float(self.revenue.sum()),
            converted=converted,
            channels={
                c: v for c, v in self.channel_counts.items() if v["messages"] or v["unreachable"]
            },
            time_to_conversion_days=np.bincount(to_goal, minlength=days)[:days].tolist(),
            timeline={
                "entries": _per_day(self.entry_time, days),
                "messages": _per_day(_joined(self.message_times), days),
                "conversions": _per_day(_joined(self.goal_times), days),
            },
            tags=self.tag_breakdown(),
            assumptions=self.assumptions.to_dict(),
            walk_contact=self.contact,
            walk_entry=self.entry_of,
            entry_ids=list(self.entry_ids),
            walk_final=self.final,
            walk_waiting=self.waiting,
            node_ids=list(plan.order),
        )

    def tag_breakdown(self) -> dict[str, dict[str, float]]:
        """Per tag the contact had at entry: walks entered, converted and their revenue."""
        breakdown = {}
        for key in sorted(k for k in self.columns if k.startswith("tag:")):
            has = np.asarray(self.columns[key], dtype=bool)[self.contact]
            entered = int(has.sum())
            converted = int((has & (self.stage_mask != 0)).sum())
            breakdown[key[4:]] = {
                "entered": entered,
                "converted": converted,
                "conversion_rate": converted / entered if entered else 0.0,
                "revenue": float(self.revenue[has].sum()),
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


def entry_times(node: Node, u: np.ndarray, horizon: int, assumptions: Assumptions) -> np.ndarray:
    """When each contact would enter (seconds from start); at or after the horizon: never."""
    if node.type == "entry.segment":
        if node.params.get("schedule", "all_at_once") == "spread":
            days = max(1, int(node.params.get("spread_days", 1) or 1))
            return floor_seconds(u * days * DAY)
        return np.zeros(len(u), dtype=np.int64)
    if assumptions.event_entry == "rate":
        rate = assumptions.event_rate(str(node.params.get("event", "")))
        if rate <= 0:
            return np.full(len(u), horizon, dtype=np.int64)
        with np.errstate(divide="ignore"):
            seconds = -np.log1p(-u) / rate * DAY
        return floor_seconds(np.minimum(seconds, float(horizon)))
    return floor_seconds(u * horizon)


def _joined(parts: list[np.ndarray], dtype: type = np.int64) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _per_day(times: np.ndarray, days: int) -> list[int]:
    return np.bincount(times // DAY, minlength=days)[:days].tolist()
