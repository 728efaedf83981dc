"""Behaviour assumptions: how likely contacts are to receive, open, click, buy and reply.

Defaults come from published benchmarks (sources in docs/SIMULATION.md) so a first simulation
is plausible without configuration; every figure can be overridden per node, per channel and
scaled per tag, because a marketer knows their own base better than any benchmark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.engine.contact_schema import CHANNELS
from app.engine.i18n import T

# Share of attempted sends that reach the contact (bounces, carrier filtering, stale tokens).
DELIVERY: dict[str, float] = {
    "email": 0.98,
    "sms": 0.97,
    "messenger": 0.95,
    "vk": 0.95,
    "push": 0.90,
}

# P(event within a wait-for-event's timeout | the last delivered message was on this channel).
# "purchase" after a plain message; "purchase_after_offer" after a product offer.
AFTER_MESSAGE: dict[str, dict[str, float]] = {
    "opened": {"email": 0.50, "sms": 0.90, "messenger": 0.80, "vk": 0.60, "push": 0.08},
    "clicked": {"email": 0.05, "sms": 0.10, "messenger": 0.08, "vk": 0.05, "push": 0.04},
    "purchase": {"email": 0.017, "sms": 0.015, "messenger": 0.015, "vk": 0.01, "push": 0.01},
    "purchase_after_offer": {
        "email": 0.04,
        "sms": 0.02,
        "messenger": 0.02,
        "vk": 0.015,
        "push": 0.015,
    },
    "replied": {"email": 0.05, "sms": 0.04, "messenger": 0.08, "vk": 0.05, "push": 0.0},
}
# Any other event after a message (nps_answered, form_submitted, custom): an assumption.
OTHER_AFTER_MESSAGE = 0.10
# Without any message before the wait: the store's own conversion, and a small base rate.
WITHOUT_MESSAGE: dict[str, float] = {"purchase": 0.014}
OTHER_WITHOUT_MESSAGE = 0.01

# Failure rate of notify steps by kind: webhooks fail sometimes, people-facing tasks do not.
NOTIFY_FAILURE: dict[str, float] = {"manager": 0.0, "crm_task": 0.0, "webhook": 0.01}

# Per-contact daily rate for synthetic event arrivals (event entries in "rate" mode).
DEFAULT_EVENT_RATE = 0.01


class AssumptionError(ValueError):
    """An assumption that cannot be used (a probability outside 0–1, an unknown key)."""


@dataclass
class Assumptions:
    """What the simulation assumes about behaviour; all fields optional.

    - `nodes`: per node id, e.g. ``{"wait_buy": {"happened": 0.1}, "sms_1": {"deliver": 0.9},
      "hook": {"failed": 0.2}}``; a node override wins over everything else.
    - `channels`: per channel, any of ``deliver``, ``opened``, ``clicked``, ``purchase``,
      ``purchase_after_offer``, ``replied`` or another event name.
    - `tag_multipliers`: ``{"vip": 1.5}`` scales every wait-for-event probability of contacts
      with the tag (product over their tags, capped at 1).
    - `event_entry`: ``"history"`` (a contact whose history holds the event enters once, at a
      uniform moment within the horizon) or ``"rate"`` (every contact matching the entry's
      condition fires the event at `event_rates[event]` per day, default 1 %).
    """

    nodes: dict[str, dict[str, float]] = field(default_factory=dict)
    channels: dict[str, dict[str, float]] = field(default_factory=dict)
    tag_multipliers: dict[str, float] = field(default_factory=dict)
    event_entry: str = "history"
    event_rates: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for where, table in (("nodes", self.nodes), ("channels", self.channels)):
            for name, values in table.items():
                for key, value in values.items():
                    _check_probability(f"{where}.{name}.{key}", value)
        for channel in self.channels:
            if channel not in CHANNELS:
                raise AssumptionError(
                    str(
                        T(
                            "Assumptions",
                            "‘{channel}’ is not a channel ({channels})",
                            channel=channel,
                            channels=", ".join(CHANNELS),
                        )
                    )
                )
        for tag, factor in self.tag_multipliers.items():
            if not factor >= 0:
                raise AssumptionError(
                    str(
                        T(
                            "Assumptions",
                            "the multiplier for tag ‘{tag}’ must be 0 or more",
                            tag=tag,
                        )
                    )
                )
        if self.event_entry not in ("history", "rate"):
            raise AssumptionError(str(T("Assumptions", "event_entry is ‘history’ or ‘rate’")))
        for event, rate in self.event_rates.items():
            if not rate >= 0:
                raise AssumptionError(
                    str(
                        T(
                            "Assumptions",
                            "the rate of ‘{event}’ must be 0 or more per day",
                            event=event,
                        )
                    )
                )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Assumptions:
        data = dict(data or {})
        unknown = set(data) - {
            "nodes",
            "channels",
            "tag_multipliers",
            "event_entry",
            "event_rates",
        }
        if unknown:
            raise AssumptionError(
                str(
                    T(
                        "Assumptions",
                        "unknown assumption keys: {keys}",
                        keys=", ".join(sorted(unknown)),
                    )
                )
            )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "channels": self.channels,
            "tag_multipliers": self.tag_multipliers,
            "event_entry": self.event_entry,
            "event_rates": self.event_rates,
        }

    def node_value(self, node_id: str, key: str) -> float | None:
        return self.nodes.get(node_id, {}).get(key)

    def delivery(self, node_id: str, channel: str) -> float:
        override = self.node_value(node_id, "deliver")
        if override is not None:
            return override
        return self.channels.get(channel, {}).get("deliver", DELIVERY.get(channel, 0.95))

    def notify_failure(self, node_id: str, kind: str) -> float:
        override = self.node_value(node_id, "failed")
        return override if override is not None else NOTIFY_FAILURE.get(kind, 0.0)

    def happened_table(self, event: str) -> tuple[float, list[float], list[float]]:
        """(without a message, after a message per channel, after an offer per channel).

        Channels are indexed as in `CHANNELS`, so the engine can look probabilities up with
        one array index per contact.
        """
        base = WITHOUT_MESSAGE.get(event, OTHER_WITHOUT_MESSAGE)
        after_message = []
        after_offer = []
        for channel in CHANNELS:
            custom = self.channels.get(channel, {})
            plain = custom.get(
                event, AFTER_MESSAGE.get(event, {}).get(channel, OTHER_AFTER_MESSAGE)
            )
            after_message.append(plain)
            if event == "purchase":
                offer_default = AFTER_MESSAGE["purchase_after_offer"][channel]
                after_offer.append(custom.get("purchase_after_offer", offer_default))
            else:
                after_offer.append(plain)
        return base, after_message, after_offer

    def event_rate(self, event: str) -> float:
        return self.event_rates.get(event, DEFAULT_EVENT_RATE)


def _check_probability(where: str, value: object) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
        raise AssumptionError(
            str(
                T(
                    "Assumptions",
                    "{where} must be a probability between 0 and 1, not {value}",
                    where=where,
                    value=repr(value),
                )
            )
        )
