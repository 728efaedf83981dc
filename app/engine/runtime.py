"""The reference interpreter: one contact walks a scenario, step by step.

It is the oracle for the vectorised simulation: the same semantics written the plain way
(one dict, `expressions.evaluate`, a Python loop over nodes) and the same random numbers
(`randomness.uniform` keyed by seed, walk, node, arrival time and purpose), so for any contact its
path must equal the simulation's. The calendar, send-window and quiet-hour arithmetic is
shared with the simulation (`simulation.next_window` & co.) so both read one definition.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from numbers import Real
from typing import Any

import numpy as np

from app.engine import randomness as rnd
from app.engine.behaviour import Assumptions
from app.engine.catalog import CHANNELS
from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
from app.engine.durations import parse_duration
from app.engine.expressions import evaluate
from app.engine.model import Node, Scenario
from app.engine.runtime_document import scenario_from_runtime
from app.engine.simulation import (
    ADDRESS_FIELD,
    CALENDAR_FIELDS,
    DAY,
    MAX_STEPS,
    NEVER,
    WEEKDAY_NAMES,
    SimulationError,
    base_seconds,
    calendar_columns,
    clock_seconds,
    compile_plan,
    entry_times,
    is_true,
    next_window,
    offer_value,
    send_times,
    wait_event_delay,
)
from app.engine.templates import TemplateError, preview_context, render

# How a part of a message that cannot be rendered for the contact reads in a step.
TEMPLATE_ERROR = "[template error] "


@dataclass
class Step:
    """One node a contact passed: the exit it took (None when it ended or is still waiting)
    and when it left (a wait when it ended, a message when it was sent)."""

    node: str
    type: str
    exit: str | None
    seconds: int
    time: datetime
    channel: str | None = None
    subject: str | None = None
    body: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "type": self.type,
            "exit": self.exit,
            "time": self.time.isoformat(),
            "channel": self.channel,
            "subject": self.subject,
            "body": self.body,
        }


@dataclass
class Walk:
    """A contact's way through a scenario from one entry."""

    entry: str
    entered: bool
    steps: list[Step] = field(default_factory=list)
    waiting: bool = False
    revenue: float = 0.0
    stages: list[str] = field(default_factory=list)

    @property
    def final(self) -> str | None:
        """The exit node reached, or the node the contact still waits in at the horizon."""
        return self.steps[-1].node if self.steps else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "entered": self.entered,
            "final": self.final,
            "waiting": self.waiting,
            "revenue": self.revenue,
            "stages": self.stages,
            "steps": [s.to_dict() for s in self.steps],
        }


class Runtime:
    """Walks contacts one at a time; build once per scenario and settings."""

    def __init__(
        self,
        scenario: Scenario,
        assumptions: Assumptions | Mapping[str, Any] | None = None,
        horizon_days: int = 30,
        seed: int = 1,
        start: datetime | None = None,
        *,
        schema: ContactSchema = DEFAULT_SCHEMA,
        render_messages: bool = True,
    ) -> None:
        self.plan = compile_plan(scenario, schema)
        self.assumptions = (
            assumptions
            if isinstance(assumptions, Assumptions)
            else Assumptions.from_dict(assumptions)
        )
        self.horizon = horizon_days * DAY
        self.seed = seed
        self.start = start or datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        self.base = base_seconds(self.start)
        self.render_messages = render_messages

    @classmethod
    def from_document(
        cls,
        document: Mapping[str, Any],
        *args: Any,
        schema: ContactSchema = DEFAULT_SCHEMA,
        validate_schema: bool = True,
        **kw: Any,
    ) -> Runtime:
        """An interpreter for an exported runtime JSON document (`voronka.runtime` v1)."""
        scenario = scenario_from_runtime(document, schema, validate_schema=validate_schema)
        return cls(scenario, *args, schema=schema, **kw)

    def with_clock(self, start: datetime, horizon_days: int) -> Runtime:
        """The same compiled scenario on another calendar and horizon (compiling takes longer
        than walking, so a conformance suite compiles once)."""
        other = copy.copy(self)
        other.start = start
        other.base = base_seconds(start)
        other.horizon = horizon_days * DAY
        return other

    def walks(self, contact: Mapping[str, Any], index: int) -> list[Walk]:
        """One walk per entry node, in the simulation's entry order."""
        return [self.walk(contact, index, entry) for entry in self.plan.entries]

    def walk(self, contact: Mapping[str, Any], index: int, entry: str | None = None) -> Walk:
        """`index` is the contact's position in the population: it keys its random draws."""
        entry = entry or self.plan.entries[0]
        node = self.plan.node(entry)
        key = rnd.walk_keys(np.array([index]), self.plan.keys[entry])
        u = rnd.uniform(self.seed, key, self.plan.keys[entry], -1, rnd.ENTRY)
        now = int(entry_times(node, u, self.horizon, self.assumptions)[0])
        if not self.triggered(node, contact):
            return Walk(entry, entered=False)
        return self.enter(contact, entry, now, Walker, key=key)

    def enter(
        self,
        contact: Mapping[str, Any],
        entry: str,
        now: int,
        walker: type[Walker],
        **options: Any,
    ) -> Walk:
        """Walk `contact` from `entry` at `now` (seconds from start) if its condition holds.

        `walker` decides what the world decides (delivery, splits, events): random draws for
        simulation, a scripted timeline for conformance vectors.
        """
        if now >= self.horizon:
            return Walk(entry, entered=False)
        person = copy.deepcopy(dict(contact))
        person["tags"] = list(person.get("tags") or [])
        if not self.holds(self.plan.exprs.get(entry), person, now):
            return Walk(entry, entered=False)
        return walker(self, person, entry, now, **options).run()

    def triggered(self, node: Node, contact: Mapping[str, Any]) -> bool:
        if node.type != "entry.event" or self.assumptions.event_entry != "history":
            return True
        events = contact.get("events") or {}
        record = events.get(str(node.params.get("event", ""))) or {}
        count = record.get("count") if isinstance(record, Mapping) else None
        return isinstance(count, Real) and not isinstance(count, bool) and count > 0

    def holds(self, expr: Any, person: dict[str, Any], now: int) -> bool:
        if expr is None:
            return True
        calendar = calendar_columns(np.array([now], dtype=np.int64), self.base)
        for name in CALENDAR_FIELDS:
            value = calendar[name][0]
            person[name] = value if isinstance(value, str) else float(value)
        return evaluate(expr, person, self.plan.schema)

    def moment(self, seconds: int) -> datetime:
        return self.start + timedelta(seconds=seconds)


class Walker:
    """The state of one walk: where it is, when, and what it has been sent.

    What the world decides (is a message delivered, which variant a split picks, does a
    notification fail, when does an awaited event happen) is asked of four methods; here they
    draw the simulation's random numbers, keyed by `key`, and a subclass can script them.
    """

    def __init__(
        self,
        runtime: Runtime,
        person: dict[str, Any],
        entry: str,
        now: int,
        key: np.ndarray | None = None,
    ) -> None:
        self.rt = runtime
        self.plan = runtime.plan
        self.person = person
        self.key = key
        self.now = now
        self.arrived = now  # when the walk reached the current node: it keys the draws
        self.result = Walk(entry, entered=True)
        self.last_channel: str | None = None
        self.last_offer = False
        self.offer_value = 0.0
        self.history = [NEVER] * self.plan.cap

    def draw(self, node: Node, purpose: int) -> float:
        return float(
            rnd.uniform(self.rt.seed, self.key, self.plan.keys[node.id], self.arrived, purpose)[0]
        )

    # --- what the world decides ------------------------------------------------------------
    def delivered(self, node: Node, channel: str) -> bool:
        """Whether a send the contact can receive is delivered."""
        return self.draw(node, rnd.DELIVER) < self.rt.assumptions.delivery(node.id, channel)

    def variant(self, node: Node) -> str:
        """The split variant this visit takes."""
        variants = node.params.get("variants", [])
        weights = np.array([float(v.get("weight", 0)) for v in variants])
        bounds = np.cumsum(weights) / weights.sum()
        u = np.array([self.draw(node, rnd.SPLIT)])
        chosen = min(int(np.searchsorted(bounds, u, side="right")[0]), len(variants) - 1)
        return variants[chosen]["id"]

    def notify_failed(self, node: Node) -> bool:
        p = self.rt.assumptions.notify_failure(node.id, str(node.params.get("kind", "manager")))
        return self.draw(node, rnd.NOTIFY) < p

    def event_delay(self, node: Node, timeout: int) -> int | None:
        """Seconds after arrival when the awaited event happens (under `timeout`), or None."""
        whether, when = rnd.uniform_pair(
            self.rt.seed, self.key, self.plan.keys[node.id], self.arrived, rnd.HAPPEN
        )
        if float(whether[0]) >= self.happen_probability(node):
            return None
        return int(wait_event_delay(when, timeout)[0])

    def record(self, node: Node, exit_name: str | None, **message: Any) -> None:
        self.result.steps.append(
            Step(node.id, node.type, exit_name, self.now, self.rt.moment(self.now), **message)
        )

    def run(self) -> Walk:
        node = self.plan.node(self.result.entry)
        for _ in range(MAX_STEPS):
            self.arrived = self.now
            exit_name = self.visit(node)
            if exit_name is None:
                return self.result
            node = self.plan.node(self.plan.target[(node.id, exit_name)])
        raise SimulationError(f"contacts loop through ‘{node.id}’ without time passing")

    def visit(self, node: Node) -> str | None:
        """Process one node; return the exit taken, or None when the walk stops here."""
        kind = node.type
        if kind == "exit":
            self.record(node, None)
            return None
        if kind in ("message", "offer"):
            return self.message(node)
        if kind == "wait":
            return self.wait(node)
        if kind == "wait_event":
            return self.wait_event(node)
        exit_name = self.instant(node)
        self.record(node, exit_name)
        return exit_name

    def instant(self, node: Node) -> str:
        """Nodes that take no time."""
        kind = node.type
        if kind in ("entry.segment", "entry.event", "update", "goal"):
            if kind == "update":
                self.update(node)
            elif kind == "goal":
                self.goal(node)
            return "next"
        if kind == "condition":
            return "yes" if self.rt.holds(self.plan.exprs[node.id], self.person, self.now) else "no"
        if kind == "switch":
            for case in node.params.get("cases", []):
                if self.rt.holds(self.plan.exprs[f"{node.id}#{case['id']}"], self.person, self.now):
                    return case["id"]
            return "else"
        if kind == "split":
            return self.variant(node)
        if kind == "notify":
            return "failed" if self.notify_failed(node) else "done"
        raise SimulationError(f"‘{node.id}’ has type ‘{kind}’, which cannot be simulated")

    def update(self, node: Node) -> None:
        target = self.plan.updates.get(node.id)
        if target is None:
            return
        key, value = target
        prefix, _, name = key.partition(":")
        if prefix == "tag":
            tags = [t for t in self.person["tags"] if t != name]
            self.person["tags"] = [*tags, name] if value else tags
        elif prefix == "attr":
            self.person.setdefault("attributes", {})[name] = value
        else:
            self.person[key] = value

    def goal(self, node: Node) -> None:
        stage = str(node.params.get("stage", ""))
        fixed = float(node.params.get("revenue", 0) or 0)
        self.result.revenue += fixed if fixed > 0 else self.offer_value
        if stage not in self.result.stages:
            self.result.stages.append(stage)

    def reachable(self, channel: str) -> bool:
        consent = self.person.get(f"consent_{channel}")
        address = self.person.get(ADDRESS_FIELD[channel]) if channel in ADDRESS_FIELD else True
        return is_true(consent) and is_true(address)

    def rendered(self, node: Node) -> dict[str, Any]:
        channel = str(node.params.get("channel", "email"))
        if not self.rt.render_messages:
            return {"channel": channel}
        product = None
        if node.type == "offer":
            product = self.plan.scenario.product(str(node.params.get("product", "")))
        context = preview_context(
            self.person,
            product=product,
            discount=node.params.get("discount", 0) or 0,
            promo_code=str(node.params.get("promo_code", "") or ""),
            cart=self.person.get("cart"),
            scenario_name=self.plan.scenario.name,
        )
        texts = {}
        for part in ("subject", "body"):
            try:
                texts[part] = render(str(node.params.get(part, "") or ""), context)
            except TemplateError as error:
                texts[part] = f"{TEMPLATE_ERROR}{error}"
        return {"channel": channel, **texts}

    def message(self, node: Node) -> str | None:
        channel = str(node.params.get("channel", "email"))
        shown = self.rendered(node)
        if not self.reachable(channel):
            self.record(node, "failed", **shown)
            return "failed"
        oldest = np.array([self.history[0]]) if self.plan.cap else None
        when = send_times(
            np.array([self.now]), self.rt.base, self.plan.quiet, oldest, self.plan.cap_period
        )
        self.now = int(when[0])
        if self.now >= self.rt.horizon:
            return self.park(node)
        if self.plan.cap:
            self.history = [*self.history[1:], self.now]
        delivered = self.delivered(node, channel)
        if delivered:
            self.last_channel = channel
            self.last_offer = node.type == "offer"
            if node.type == "offer":
                self.offer_value = offer_value(node, self.plan.scenario)
        exit_name = "sent" if delivered else "failed"
        self.record(node, exit_name, **shown)
        return exit_name

    def park(self, node: Node) -> None:
        self.result.waiting = True
        self.record(node, None)

    def wait(self, node: Node) -> str | None:
        if node.params.get("mode", "duration") == "window":
            until = next_window(
                np.array([self.now]),
                self.rt.base,
                node.params.get("window_days", WEEKDAY_NAMES),
                clock_seconds(node.params.get("window_start", "00:00")),
                clock_seconds(node.params.get("window_end", "24:00")),
            )
            self.now = int(until[0])
        else:
            self.now += parse_duration(node.params.get("duration", "P1D"))
        if self.now >= self.rt.horizon:
            return self.park(node)
        self.record(node, "next")
        return "next"

    def happen_probability(self, node: Node) -> float:
        assumptions = self.rt.assumptions
        override = assumptions.node_value(node.id, "happened")
        if override is not None:
            p = float(override)
        else:
            base, plain, offered = assumptions.happened_table(str(node.params.get("event")))
            if self.last_channel is None:
                p = base
            else:
                table = offered if self.last_offer else plain
                p = table[CHANNELS.index(self.last_channel)]
        for tag, factor in assumptions.tag_multipliers.items():
            if tag in self.person["tags"]:
                p *= factor
        return min(p, 1.0)

    def wait_event(self, node: Node) -> str | None:
        timeout = parse_duration(node.params.get("timeout", "P2D"))
        delay = self.event_delay(node, timeout)
        happens = delay is not None
        self.now += delay if happens else timeout
        if self.now >= self.rt.horizon:
            return self.park(node)
        exit_name = "happened" if happens else "timeout"
        self.record(node, exit_name)
        return exit_name
