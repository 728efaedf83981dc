"""Hand-checked conformance cases: small scenarios and vectors whose expected steps were worked
out by hand from the rules in docs/CONFORMANCE.md, not produced by the interpreter.

The comment above each vector is the reasoning. tools/make_conformance.py runs the reference
interpreter on every vector and refuses to write the files unless it agrees exactly, so these
cases check the interpreter as much as they document the semantics for other engines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.engine.model import Edge, FrequencyCap, Node, Product, QuietHours, Scenario, Settings

H = 3600
DAY = 86_400
NO_OUTCOMES: dict[str, list] = {"undelivered": [], "split": [], "notify_failed": []}


@dataclass
class Case:
    name: str
    source: str
    scenario: Callable[[], Scenario]
    vectors: list[dict[str, Any]]


def _scenario(
    sid: str,
    name: str,
    settings: Settings,
    steps: dict[str, tuple[str, dict[str, Any], dict[str, str]]],
    products: list[Product] | None = None,
) -> Scenario:
    """Steps as {id: (type, params, {exit: target})}; positions do not matter to engines."""
    nodes = {i: Node(i, kind, params=params) for i, (kind, params, _) in steps.items()}
    edges = [Edge(i, e, t) for i, (_, _, nxt) in steps.items() for e, t in nxt.items()]
    return Scenario(
        id=sid, name=name, settings=settings, products=products or [], nodes=nodes, edges=edges
    )


def _step(
    state: str,
    kind: str,
    arrived: int,
    left: int | None,
    time: str,
    exit_name: str | None,
    **action: Any,
) -> dict[str, Any]:
    return {
        "state": state,
        "type": kind,
        "arrived": arrived,
        "left": left,
        "time": time,
        "exit": exit_name,
        **action,
    }


def _vector(
    vid: str,
    description: str,
    start: str,
    contact: dict[str, Any],
    entry: tuple[str, int],
    expect: dict[str, Any],
    *,
    horizon_days: int = 30,
    events: list | None = None,
    outcomes: dict[str, list] | None = None,
) -> dict[str, Any]:
    return {
        "id": vid,
        "origin": "hand",
        "description": description,
        "start": start,
        "horizon_days": horizon_days,
        "contact": contact,
        "entry": {"state": entry[0], "at": entry[1]},
        "events": events or [],
        "outcomes": {**NO_OUTCOMES, **(outcomes or {})},
        "expect": expect,
    }


def _done(
    steps: list[dict[str, Any]],
    state: str,
    outcome: str,
    revenue: float = 0,
    stages: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "entered": True,
        "steps": steps,
        "final": {"state": state, "waiting": False, "outcome": outcome},
        "revenue": revenue,
        "stages": stages or [],
    }


NOT_ENTERED = {"entered": False, "steps": [], "final": None, "revenue": 0, "stages": []}

# --------------------------------------------------------------------------- the clock
# Quiet hours 22:00–09:00 and a cap of 2 messages per 2 hours; a window wait across midnight
# (23:00–02:00, every day) and a weekday window (Tue–Fri 10:00–18:00).


def clock_scenario() -> Scenario:
    def send(channel: str, text: str, ok: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        subject = "Hi {{ contact.first_name }}" if channel == "email" else ""
        params = {"channel": channel, "subject": subject, "body": text}
        return ("message", params, {"sent": ok, "failed": "exit_failed"})

    night = {
        "mode": "window",
        "window_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "window_start": "23:00",
        "window_end": "02:00",
    }
    week = {
        "mode": "window",
        "window_days": ["tue", "wed", "thu", "fri"],
        "window_start": "10:00",
        "window_end": "18:00",
    }
    return _scenario(
        "hand_clock",
        "Hand-checked clock",
        Settings(quiet_hours=QuietHours("22:00", "09:00"), frequency_cap=FrequencyCap(2, "PT2H")),
        {
            "entry_all": ("entry.segment", {"condition": ""}, {"next": "w_night"}),
            "w_night": ("wait", night, {"next": "m1"}),
            "m1": send("email", "One", "wait_12h"),
            "wait_12h": ("wait", {"mode": "duration", "duration": "PT12H"}, {"next": "m2"}),
            "m2": send("email", "Two", "m3"),
            "m3": send("sms", "Three, {{ contact.first_name }}", "m4"),
            "m4": send("email", "Four", "w_week"),
            "w_week": ("wait", week, {"next": "cond_day"}),
            "cond_day": (
                "condition",
                {"condition": 'weekday == "tue"'},
                {"yes": "exit_tue", "no": "exit_other"},
            ),
            "exit_tue": ("exit", {"outcome": "converted"}, {}),
            "exit_other": ("exit", {"outcome": "converted"}, {}),
            "exit_failed": ("exit", {"outcome": "lost"}, {}),
        },
    )


ANNA = {
    "first_name": "Anna",
    "email": "anna@example.com",
    "phone": "+79160000001",
    "has_email": True,
    "has_phone": True,
    "consent_email": True,
    "consent_sms": True,
    "tags": [],
    "events": {},
    "attributes": {},
}


def _sent(channel: str, body: str) -> dict[str, Any]:
    return {
        "send": {
            "channel": channel,
            "subject": "Hi Anna" if channel == "email" else "",
            "body": body,
        }
    }


# Friday 21:00 start. Entry at once; the night window opens at 23:00 (+7200). m1 arrives at
# 23:00, inside quiet hours: sent at Saturday 09:00 (+43200). 12 h later, Saturday 21:00
# (+86400), m2 goes out (the cap's oldest slot is empty). m3: the oldest of the last two sends
# is m1 at 09:00, two hours old long ago: sent at once (+86400). m4: the oldest of the last two
# is m2 at 21:00, so the cap allows 23:00 — inside quiet hours, so Sunday 09:00 (+129600).
# The weekday window next opens on Tuesday 10:00 (+306000); Tuesday: the condition holds.
_A1_PREFIX = [
    _step("entry_all", "entry.segment", 0, 0, "2026-03-06T21:00:00", "next"),
    _step("w_night", "wait", 0, 7200, "2026-03-06T23:00:00", "next"),
    _step("m1", "message", 7200, 43200, "2026-03-07T09:00:00", "sent", **_sent("email", "One")),
    _step("wait_12h", "wait", 43200, 86400, "2026-03-07T21:00:00", "next"),
]
CLOCK_VECTORS = [
    _vector(
        "hand_clock/quiet_hours_and_cap",
        "Quiet hours hold m1 until 09:00; the cap of 2 per 2 h pushes m4 to 23:00, which quiet "
        "hours push to 09:00 the next day; the weekday window waits for Tuesday.",
        "2026-03-06T21:00:00",
        ANNA,
        ("entry_all", 0),
        _done(
            [
                *_A1_PREFIX,
                _step(
                    "m2",
                    "message",
                    86400,
                    86400,
                    "2026-03-07T21:00:00",
                    "sent",
                    **_sent("email", "Two"),
                ),
                _step(
                    "m3",
                    "message",
                    86400,
                    86400,
                    "2026-03-07T21:00:00",
                    "sent",
                    **_sent("sms", "Three, Anna"),
                ),
                _step(
                    "m4",
                    "message",
                    86400,
                    129600,
                    "2026-03-08T09:00:00",
                    "sent",
                    **_sent("email", "Four"),
                ),
                _step("w_week", "wait", 129600, 306000, "2026-03-10T10:00:00", "next"),
                _step("cond_day", "condition", 306000, 306000, "2026-03-10T10:00:00", "yes"),
                _step("exit_tue", "exit", 306000, 306000, "2026-03-10T10:00:00", None),
            ],
            "exit_tue",
            "converted",
        ),
    ),
    # Thursday 00:30: Wednesday's 23:00–02:00 window is still open, so the wait passes at once.
    # m1 in quiet hours: Thursday 09:00 (+30600); m2 12 h later at 21:00 (+73800); m3 at once
    # (its oldest slot is m1, 12 h old); m4: m2 + 2 h = 23:00, quiet, so Friday 09:00 (+117000).
    # Friday is a window day and 09:00 is before it opens: 10:00 (+120600). Not Tuesday: no.
    _vector(
        "hand_clock/window_open_since_yesterday",
        "A window running past midnight is still open at 00:30; a weekday window opens later "
        "the same day; a condition on the weekday reads the moment it is evaluated.",
        "2026-03-05T00:30:00",
        ANNA,
        ("entry_all", 0),
        _done(
            [
                _step("entry_all", "entry.segment", 0, 0, "2026-03-05T00:30:00", "next"),
                _step("w_night", "wait", 0, 0, "2026-03-05T00:30:00", "next"),
                _step(
                    "m1",
                    "message",
                    0,
                    30600,
                    "2026-03-05T09:00:00",
                    "sent",
                    **_sent("email", "One"),
                ),
                _step("wait_12h", "wait", 30600, 73800, "2026-03-05T21:00:00", "next"),
                _step(
                    "m2",
                    "message",
                    73800,
                    73800,
                    "2026-03-05T21:00:00",
                    "sent",
                    **_sent("email", "Two"),
                ),
                _step(
                    "m3",
                    "message",
                    73800,
                    73800,
                    "2026-03-05T21:00:00",
                    "sent",
                    **_sent("sms", "Three, Anna"),
                ),
                _step(
                    "m4",
                    "message",
                    73800,
                    117000,
                    "2026-03-06T09:00:00",
                    "sent",
                    **_sent("email", "Four"),
                ),
                _step("w_week", "wait", 117000, 120600, "2026-03-06T10:00:00", "next"),
                _step("cond_day", "condition", 120600, 120600, "2026-03-06T10:00:00", "no"),
                _step("exit_other", "exit", 120600, 120600, "2026-03-06T10:00:00", None),
            ],
            "exit_other",
            "converted",
        ),
    ),
    # As the first case until m2, which the provider does not deliver: it was sent (the engine
    # sends it), its exit is `failed`.
    _vector(
        "hand_clock/undelivered",
        "A send that is not delivered takes `failed` at the moment it was sent.",
        "2026-03-06T21:00:00",
        ANNA,
        ("entry_all", 0),
        _done(
            [
                *_A1_PREFIX,
                _step(
                    "m2",
                    "message",
                    86400,
                    86400,
                    "2026-03-07T21:00:00",
                    "failed",
                    **_sent("email", "Two"),
                ),
                _step("exit_failed", "exit", 86400, 86400, "2026-03-07T21:00:00", None),
            ],
            "exit_failed",
            "lost",
        ),
        outcomes={"undelivered": [{"state": "m2", "visit": 1}]},
    ),
    # No SMS consent: m3 cannot reach the contact, so nothing is sent and no time passes.
    _vector(
        "hand_clock/no_consent",
        "Without consent for the channel nothing is sent: `failed` at once, quiet hours and "
        "the cap do not apply.",
        "2026-03-06T21:00:00",
        {**ANNA, "consent_sms": False},
        ("entry_all", 0),
        _done(
            [
                *_A1_PREFIX,
                _step(
                    "m2",
                    "message",
                    86400,
                    86400,
                    "2026-03-07T21:00:00",
                    "sent",
                    **_sent("email", "Two"),
                ),
                _step("m3", "message", 86400, 86400, "2026-03-07T21:00:00", "failed"),
                _step("exit_failed", "exit", 86400, 86400, "2026-03-07T21:00:00", None),
            ],
            "exit_failed",
            "lost",
        ),
    ),
    # A one-day horizon ends at Saturday 21:00 (+86400): the 12-hour wait entered at +43200
    # would end exactly then, so the contact is still waiting in it.
    _vector(
        "hand_clock/horizon_in_a_wait",
        "A wait that would end at or after the horizon leaves the contact waiting there.",
        "2026-03-06T21:00:00",
        ANNA,
        ("entry_all", 0),
        {
            "entered": True,
            "steps": [
                *_A1_PREFIX[:3],
                _step("wait_12h", "wait", 43200, None, "2026-03-07T09:00:00", None),
            ],
            "final": {"state": "wait_12h", "waiting": True, "outcome": None},
            "revenue": 0,
            "stages": [],
        },
        horizon_days=1,
    ),
    # Start Friday 23:30, horizon Saturday 23:30 (+86400). Entry at Saturday 22:00 (+81000):
    # the night window opens at 23:00 (+84600); m1 there is in quiet hours, due Sunday 09:00,
    # after the horizon: nothing is sent and the contact waits in m1.
    _vector(
        "hand_clock/horizon_in_quiet_hours",
        "A message held by quiet hours past the horizon is not sent; the contact waits in it.",
        "2026-03-06T23:30:00",
        ANNA,
        ("entry_all", 81000),
        {
            "entered": True,
            "steps": [
                _step("entry_all", "entry.segment", 81000, 81000, "2026-03-07T22:00:00", "next"),
                _step("w_night", "wait", 81000, 84600, "2026-03-07T23:00:00", "next"),
                _step("m1", "message", 84600, None, "2026-03-07T23:00:00", None),
            ],
            "final": {"state": "m1", "waiting": True, "outcome": None},
            "revenue": 0,
            "stages": [],
        },
        horizon_days=1,
    ),
]

# --------------------------------------------------------------------------- the logic
# No quiet hours and no cap. Updates, conditions that read them, a switch's first match, a
# split, an offer's revenue, two waits for the same event, a webhook that fails.


def logic_scenario() -> Scenario:
    offer = {
        "product": "kit",
        "discount": 20,
        "promo_code": "KIT20",
        "channel": "email",
        "subject": "{{ offer.discount }}% off {{ product.name }}",
        "body": "{{ contact.first_name }}, code {{ promo_code }}: {{ offer.final_price }} "
        "instead of {{ offer.price }}.",
    }
    hook = {
        "kind": "webhook",
        "url": "https://crm.example/hooks/no-purchase",
        "text": "{{ contact.email }} did not buy the kit",
    }
    cases = [
        {"id": "loyal", "label": "Loyal", "condition": "orders_count >= 3"},
        {"id": "warm", "label": "Warm", "condition": 'orders_count >= 1 and "cats" in tags'},
    ]
    variants = [
        {"id": "a", "label": "Offer", "weight": 70},
        {"id": "b", "label": "SMS", "weight": 30},
    ]
    return _scenario(
        "hand_logic",
        "Hand-checked logic",
        Settings(quiet_hours=None, frequency_cap=None),
        {
            "entry_signup": (
                "entry.event",
                {"event": "signup", "condition": "age >= 18"},
                {"next": "tag_trial"},
            ),
            "tag_trial": ("update", {"action": "add_tag", "tag": "trial"}, {"next": "check_tag"}),
            "check_tag": (
                "condition",
                {"condition": 'has_tag("trial") and not has_tag("blocked")'},
                {"yes": "route", "no": "exit_blocked"},
            ),
            "route": (
                "switch",
                {"cases": cases},
                {"loyal": "ab", "warm": "set_stage", "else": "exit_cold"},
            ),
            "ab": ("split", {"variants": variants}, {"a": "offer_a", "b": "msg_b"}),
            "offer_a": ("offer", offer, {"sent": "wait_buy", "failed": "exit_lost"}),
            "wait_buy": (
                "wait_event",
                {"event": "purchase", "timeout": "PT6H"},
                {"happened": "goal_buy", "timeout": "hook"},
            ),
            "goal_buy": ("goal", {"stage": "Kit bought", "revenue": 0}, {"next": "wait_again"}),
            "wait_again": (
                "wait_event",
                {"event": "purchase", "timeout": "PT6H"},
                {"happened": "goal_second", "timeout": "exit_won"},
            ),
            "goal_second": (
                "goal",
                {"stage": "Second order", "revenue": 500},
                {"next": "exit_won"},
            ),
            "hook": ("notify", hook, {"done": "exit_lost", "failed": "exit_lost"}),
            "msg_b": (
                "message",
                {
                    "channel": "sms",
                    "body": "{{ contact.first_name }}, welcome to {{ scenario.name }}",
                },
                {"sent": "exit_b", "failed": "exit_lost"},
            ),
            "set_stage": (
                "update",
                {"action": "set_crm_stage", "value": "warm lead"},
                {"next": "exit_warm"},
            ),
            "exit_blocked": ("exit", {"outcome": "disqualified"}, {}),
            "exit_won": ("exit", {"outcome": "converted"}, {}),
            "exit_lost": ("exit", {"outcome": "lost"}, {}),
            "exit_b": ("exit", {"outcome": "converted"}, {}),
            "exit_warm": ("exit", {"outcome": "handoff", "handoff_to": "nurture"}, {}),
            "exit_cold": ("exit", {"outcome": "lost"}, {}),
        },
        [Product("kit", "Starter kit", "tripwire", 990)],
    )


IVAN = {
    "first_name": "Ivan",
    "email": "ivan@example.com",
    "phone": "+79160000002",
    "has_email": True,
    "has_phone": True,
    "consent_email": True,
    "consent_sms": True,
    "age": 30,
    "orders_count": 5,
    "tags": ["cats"],
    "events": {"signup": {"count": 1, "days_since": 0}},
    "attributes": {},
}
T0 = "2026-05-13T12:10:00"  # Wednesday; the contact signs up at +600 after a 12:00 start
_OFFER = {
    "send": {
        "channel": "email",
        "subject": "20% off Starter kit",
        "body": "Ivan, code KIT20: 792 instead of 990.",
    }
}
_TRIAL = {"update": {"action": "add_tag", "tag": "trial"}}


def _head(route: str) -> list[dict[str, Any]]:
    """Entry at +600, the tag is added, the condition sees it, the switch decides."""
    return [
        _step("entry_signup", "entry.event", 600, 600, T0, "next"),
        _step("tag_trial", "update", 600, 600, T0, "next", **_TRIAL),
        _step("check_tag", "condition", 600, 600, T0, "yes"),
        _step("route", "switch", 600, 600, T0, route),
    ]


LOGIC_VECTORS = [
    _vector(
        "hand_logic/minor",
        "The entry condition (age >= 18) turns a 16-year-old away: no steps at all.",
        "2026-05-13T12:00:00",
        {**IVAN, "age": 16},
        ("entry_signup", 600),
        NOT_ENTERED,
    ),
    # The update adds `trial`; the contact already had `blocked`, so the condition is false.
    _vector(
        "hand_logic/blocked",
        "An update's tag is visible to the next condition; a tag the contact had is kept.",
        "2026-05-13T12:00:00",
        {**IVAN, "tags": ["blocked"]},
        ("entry_signup", 600),
        _done(
            [
                _step("entry_signup", "entry.event", 600, 600, T0, "next"),
                _step("tag_trial", "update", 600, 600, T0, "next", **_TRIAL),
                _step("check_tag", "condition", 600, 600, T0, "no"),
                _step("exit_blocked", "exit", 600, 600, T0, None),
            ],
            "exit_blocked",
            "disqualified",
        ),
    ),
    # 5 orders and `cats`: both cases hold, the first (loyal) wins. Variant a. The offer is sent
    # at +600: 990 less 20 % is 792. The purchase at +0 came before the wait and does not count;
    # `clicked` is not awaited. The purchase at +7800 ends the first wait (goal: the offer's
    # 792); it is used up, so the second wait takes the next purchase, +18000 (goal: 500).
    _vector(
        "hand_logic/two_purchases",
        "First matching switch case wins; the offer's price less discount is the goal's revenue; "
        "an event before a wait or of another name is ignored; each event ends one wait only.",
        "2026-05-13T12:00:00",
        IVAN,
        ("entry_signup", 600),
        _done(
            [
                *_head("loyal"),
                _step("ab", "split", 600, 600, T0, "a"),
                _step("offer_a", "offer", 600, 600, T0, "sent", **_OFFER),
                _step("wait_buy", "wait_event", 600, 7800, "2026-05-13T14:10:00", "happened"),
                _step(
                    "goal_buy",
                    "goal",
                    7800,
                    7800,
                    "2026-05-13T14:10:00",
                    "next",
                    goal={"stage": "Kit bought", "revenue": 792},
                ),
                _step("wait_again", "wait_event", 7800, 18000, "2026-05-13T17:00:00", "happened"),
                _step(
                    "goal_second",
                    "goal",
                    18000,
                    18000,
                    "2026-05-13T17:00:00",
                    "next",
                    goal={"stage": "Second order", "revenue": 500},
                ),
                _step("exit_won", "exit", 18000, 18000, "2026-05-13T17:00:00", None),
            ],
            "exit_won",
            "converted",
            1292,
            ["Kit bought", "Second order"],
        ),
        events=[
            {"at": 0, "event": "purchase"},
            {"at": 1000, "event": "clicked"},
            {"at": 7800, "event": "purchase"},
            {"at": 18000, "event": "purchase"},
        ],
        outcomes={"split": [{"state": "ab", "visit": 1, "variant": "a"}]},
    ),
    # One purchase only: it ends the first wait; the second wait times out 6 h later (+29400).
    _vector(
        "hand_logic/one_purchase",
        "An event that ended one wait does not end the next wait for the same event.",
        "2026-05-13T12:00:00",
        IVAN,
        ("entry_signup", 600),
        _done(
            [
                *_head("loyal"),
                _step("ab", "split", 600, 600, T0, "a"),
                _step("offer_a", "offer", 600, 600, T0, "sent", **_OFFER),
                _step("wait_buy", "wait_event", 600, 7800, "2026-05-13T14:10:00", "happened"),
                _step(
                    "goal_buy",
                    "goal",
                    7800,
                    7800,
                    "2026-05-13T14:10:00",
                    "next",
                    goal={"stage": "Kit bought", "revenue": 792},
                ),
                _step("wait_again", "wait_event", 7800, 29400, "2026-05-13T20:10:00", "timeout"),
                _step("exit_won", "exit", 29400, 29400, "2026-05-13T20:10:00", None),
            ],
            "exit_won",
            "converted",
            792,
            ["Kit bought"],
        ),
        events=[{"at": 7800, "event": "purchase"}],
        outcomes={"split": [{"state": "ab", "visit": 1, "variant": "a"}]},
    ),
    # The purchase comes exactly 6 h after the wait began (+22200): that is the timeout, not
    # the event. The webhook is called (its text rendered) and fails; both exits lead to lost.
    _vector(
        "hand_logic/timeout_boundary",
        "An event exactly at the timeout is too late; a failed webhook takes `failed`.",
        "2026-05-13T12:00:00",
        {**IVAN, "orders_count": 3, "tags": []},
        ("entry_signup", 600),
        _done(
            [
                *_head("loyal"),
                _step("ab", "split", 600, 600, T0, "a"),
                _step("offer_a", "offer", 600, 600, T0, "sent", **_OFFER),
                _step("wait_buy", "wait_event", 600, 22200, "2026-05-13T18:10:00", "timeout"),
                _step(
                    "hook",
                    "notify",
                    22200,
                    22200,
                    "2026-05-13T18:10:00",
                    "failed",
                    notify={
                        "kind": "webhook",
                        "assignee": "",
                        "url": "https://crm.example/hooks/no-purchase",
                        "text": "ivan@example.com did not buy the kit",
                    },
                ),
                _step("exit_lost", "exit", 22200, 22200, "2026-05-13T18:10:00", None),
            ],
            "exit_lost",
            "lost",
        ),
        events=[{"at": 22200, "event": "purchase"}],
        outcomes={
            "split": [{"state": "ab", "visit": 1, "variant": "a"}],
            "notify_failed": [{"state": "hook", "visit": 1}],
        },
    ),
    # Variant b sends an SMS, but the contact has no phone: nothing is sent, `failed`.
    _vector(
        "hand_logic/sms_without_phone",
        "Without an address for the channel (has_phone false) nothing is sent.",
        "2026-05-13T12:00:00",
        {**IVAN, "has_phone": False, "phone": None},
        ("entry_signup", 600),
        _done(
            [
                *_head("loyal"),
                _step("ab", "split", 600, 600, T0, "b"),
                _step("msg_b", "message", 600, 600, T0, "failed"),
                _step("exit_lost", "exit", 600, 600, T0, None),
            ],
            "exit_lost",
            "lost",
        ),
        outcomes={"split": [{"state": "ab", "visit": 1, "variant": "b"}]},
    ),
    # Variant b with a phone: the SMS reads the scenario's name.
    _vector(
        "hand_logic/sms",
        "A message template reads the scenario's name.",
        "2026-05-13T12:00:00",
        IVAN,
        ("entry_signup", 600),
        _done(
            [
                *_head("loyal"),
                _step("ab", "split", 600, 600, T0, "b"),
                _step(
                    "msg_b",
                    "message",
                    600,
                    600,
                    T0,
                    "sent",
                    send={
                        "channel": "sms",
                        "subject": "",
                        "body": "Ivan, welcome to Hand-checked logic",
                    },
                ),
                _step("exit_b", "exit", 600, 600, T0, None),
            ],
            "exit_b",
            "converted",
        ),
        outcomes={"split": [{"state": "ab", "visit": 1, "variant": "b"}]},
    ),
    # One order and `cats`: not loyal, warm. The CRM stage is set; handoff.
    _vector(
        "hand_logic/warm",
        "The second switch case; an update sets the CRM stage.",
        "2026-05-13T12:00:00",
        {**IVAN, "orders_count": 1},
        ("entry_signup", 600),
        _done(
            [
                *_head("warm"),
                _step(
                    "set_stage",
                    "update",
                    600,
                    600,
                    T0,
                    "next",
                    update={"action": "set_crm_stage", "value": "warm lead"},
                ),
                _step("exit_warm", "exit", 600, 600, T0, None),
            ],
            "exit_warm",
            "handoff",
        ),
    ),
    # Two orders but no `cats`: neither case holds, `else`.
    _vector(
        "hand_logic/cold",
        "When no case holds the switch takes `else`.",
        "2026-05-13T12:00:00",
        {**IVAN, "orders_count": 2, "tags": []},
        ("entry_signup", 600),
        _done(
            [*_head("else"), _step("exit_cold", "exit", 600, 600, T0, None)],
            "exit_cold",
            "lost",
        ),
    ),
]

SUITES = [
    Case(
        "hand_clock", "quiet hours, frequency cap, windows, horizon", clock_scenario, CLOCK_VECTORS
    ),
    Case(
        "hand_logic",
        "updates, conditions, switch, split, goals, events, notify",
        logic_scenario,
        LOGIC_VECTORS,
    ),
]
