"""The vectorised simulation: semantics, conservation, determinism, results."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.behaviour import AssumptionError, Assumptions
from app.engine.contact_schema import CHANNELS
from app.engine.model import Edge, FrequencyCap, Node, Product, QuietHours, Scenario, Settings
from app.engine.simulation import (
    DAY,
    SimulationError,
    after_quiet_hours,
    base_seconds,
    calendar_columns,
    next_window,
    send_times,
    simulate,
)

START = datetime(2026, 3, 2, 8, 30)  # a Monday
TAGS = (
    "vip",
    "cats",
    "smartphone_buyer",
    "waitlist",
    "bant_budget",
    "bant_authority",
    "bant_need",
    "bant_timing",
    "bant_no_need",
    "winback_sunset",
)
EVENTS = (
    "signup",
    "lead_magnet_download",
    "cart_abandoned",
    "wishlist_added",
    "back_in_stock",
    "price_drop",
    "purchase",
    "form_submitted",
)


def walk_ends(result) -> dict[tuple[int, str], tuple[str, bool]]:
    """(contact, entry) → (the step a walk ended at, whether it still waits there)."""
    return {
        (int(contact), result.entry_ids[entry]): (result.node_ids[final], bool(waiting))
        for contact, entry, final, waiting in zip(
            result.walk_contact,
            result.walk_entry,
            result.walk_final,
            result.walk_waiting,
            strict=True,
        )
    }


def assert_same_run(one, other) -> None:
    """Two results are the same run: every figure and every walk's path, bit for bit."""
    assert one.to_dict() == other.to_dict()
    for name in ("walk_contact", "walk_entry", "walk_final", "walk_waiting"):
        assert np.array_equal(getattr(one, name), getattr(other, name)), name


def population(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Runtime-shape contacts: ages, genders, consents, addresses, tags, event histories."""
    rng = np.random.default_rng(seed)
    contacts = []
    for index in range(n):
        has_email = bool(rng.random() < 0.85)
        events = {}
        for event in EVENTS:
            count = int(rng.integers(0, 3)) if rng.random() < 0.5 else 0
            events[event] = {"count": count, "days_since": float(rng.integers(0, 200))}
        contacts.append(
            {
                "first_name": f"Name{index}",
                "email": f"c{index}@example.com" if has_email else None,
                "gender": ["f", "m", None][int(rng.integers(0, 3))],
                "age": float(rng.integers(16, 80)) if rng.random() < 0.9 else None,
                "has_email": has_email,
                "has_phone": bool(rng.random() < 0.6),
                **{f"consent_{c}": bool(rng.random() < 0.6) for c in CHANNELS},
                "orders_count": float(rng.integers(0, 10)),
                "total_spent": float(rng.integers(0, 50_000)),
                "cart_value": float(rng.integers(0, 8_000)),
                "days_since_purchase": float(rng.integers(0, 300)) if rng.random() < 0.8 else None,
                "nps_score": float(rng.integers(0, 11)) if rng.random() < 0.7 else None,
                "tags": [t for t in TAGS if rng.random() < 0.3],
                "events": events,
                "attributes": {},
            }
        )
    return contacts


def node(node_id: str, type_name: str, **params: Any) -> Node:
    return Node(node_id, type_name, params=params)


def build(nodes: list[Node], edges: list[tuple[str, str, str]], **settings: Any) -> Scenario:
    scenario = Scenario(settings=Settings(**settings))
    for item in nodes:
        scenario.add_node(item)
    for source, exit_name, target in edges:
        scenario.add_edge(Edge(source, exit_name, target))
    return scenario


def columns(n: int, seed: int = 0, **extra: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    cols = {
        "age": rng.integers(18, 70, n).astype(float),
        "has_email": np.ones(n, bool),
        "has_phone": rng.random(n) < 0.5,
        "consent_email": np.ones(n, bool),
        "consent_sms": rng.random(n) < 0.5,
        "tag:vip": rng.random(n) < 0.2,
    }
    cols.update(extra)
    return cols


MESSAGE = {"channel": "email", "subject": "Hi", "body": "Hello {{ contact.first_name }}"}


def split_scenario() -> Scenario:
    return build(
        [
            node("entry", "entry.segment"),
            node(
                "split",
                "split",
                variants=[
                    {"id": "a", "label": "A", "weight": 20},
                    {"id": "b", "label": "B", "weight": 30},
                    {"id": "c", "label": "C", "weight": 50},
                ],
            ),
            node("mail", "message", **MESSAGE),
            node("done", "exit", outcome="converted"),
            node("lost", "exit", outcome="lost"),
        ],
        [
            ("entry", "next", "split"),
            ("split", "a", "mail"),
            ("split", "b", "done"),
            ("split", "c", "done"),
            ("mail", "sent", "done"),
            ("mail", "failed", "lost"),
        ],
    )


# --------------------------------------------------------------------------- semantics


def test_calendar_fields_follow_the_simulated_time():
    base = base_seconds(START)
    cal = calendar_columns(np.array([0, 16 * 3600, 30 * DAY]), base)
    assert list(cal["weekday"]) == ["mon", "tue", "wed"]
    assert list(cal["hour"]) == [8, 0, 8]
    assert list(cal["month"]) == [3, 3, 4]
    assert list(cal["season"]) == ["spring"] * 3


def test_send_window_moves_to_the_next_allowed_day_and_hour():
    base = base_seconds(START)  # Monday 08:30
    days = ["tue", "wed"]
    got = next_window(np.array([0, DAY + 2 * 3600, DAY + 12 * 3600]), base, days, 36000, 72000)
    # Tue 10:00; Tue 10:30 (inside); Tue 20:30 is after close → Wed 10:00
    assert (got - np.array([0, DAY, DAY])).tolist() == [
        DAY + 5400,
        2 * 3600,
        DAY + 5400,
    ]


def test_send_window_across_midnight_stays_open_after_midnight():
    base = base_seconds(START)  # Monday 08:30
    friday_night = 4 * DAY + 14 * 3600  # Fri 22:30: inside
    saturday_early = 4 * DAY + 16 * 3600 + 30 * 60  # Sat 01:00: Friday's window still open
    saturday_noon = 5 * DAY + 4 * 3600  # Sat 12:30: next Friday 22:00
    times = np.array([friday_night, saturday_early, saturday_noon])
    got = next_window(times, base, ["fri"], 22 * 3600, 2 * 3600)
    assert got.tolist() == [friday_night, saturday_early, 11 * DAY + 13.5 * 3600]


def test_quiet_hours_shift_sends_to_their_end():
    base = base_seconds(START)
    times = np.array([0, 14 * 3600, 6 * 3600])  # 08:30, 22:30, 14:30
    got = after_quiet_hours(times, base, 22 * 3600, 9 * 3600)
    assert got.tolist() == [1800, DAY + 1800, 6 * 3600]


def test_frequency_cap_delays_a_send_until_a_full_period_after_the_oldest():
    base = base_seconds(START)
    oldest = np.array([0, -DAY])
    got = send_times(np.array([3600, 3600]), base, None, oldest, DAY)
    assert got.tolist() == [DAY, 3600]


def test_messages_fail_without_consent_or_address():
    scenario = split_scenario()
    n = 1000
    cols = columns(n, consent_email=np.zeros(n, bool))
    result = simulate(scenario, cols, start=START)
    assert result.nodes["mail"].exits.get("sent", 0) == 0
    assert result.channels["email"]["unreachable"] == result.nodes["mail"].entered


def test_frequency_cap_spreads_a_burst_of_messages():
    mails = [node(f"m{i}", "message", **MESSAGE) for i in range(4)]
    scenario = build(
        [node("entry", "entry.segment"), *mails, node("done", "exit")],
        [("entry", "next", "m0")]
        + [(f"m{i}", "sent", f"m{i + 1}") for i in range(3)]
        + [(f"m{i}", "failed", "done") for i in range(4)]
        + [("m3", "sent", "done")],
        quiet_hours=None,
        frequency_cap=FrequencyCap(messages=3, per="P1D"),
    )
    result = simulate(scenario, columns(50), start=START, assumptions={"channels": {}})
    assert result.timeline["messages"][0] >= result.nodes["m2"].exits.get("sent", 0)
    assert result.timeline["messages"][1] == result.nodes["m3"].entered


def test_wait_event_rate_follows_the_last_message_channel_and_overrides():
    scenario = build(
        [
            node("entry", "entry.segment"),
            node("mail", "message", **MESSAGE),
            node("wait", "wait_event", event="clicked", timeout="P2D"),
            node("done", "exit"),
        ],
        [
            ("entry", "next", "mail"),
            ("mail", "sent", "wait"),
            ("mail", "failed", "done"),
            ("wait", "happened", "done"),
            ("wait", "timeout", "done"),
        ],
    )
    n = 100_000
    result = simulate(scenario, columns(n), start=START)
    rate = result.nodes["wait"].exits["happened"] / result.nodes["wait"].entered
    assert rate == pytest.approx(0.05, abs=0.005)
    forced = simulate(
        scenario, columns(n), start=START, assumptions={"nodes": {"wait": {"happened": 0.5}}}
    )
    rate = forced.nodes["wait"].exits["happened"] / forced.nodes["wait"].entered
    assert rate == pytest.approx(0.5, abs=0.01)
    vip = simulate(scenario, columns(n), start=START, assumptions={"tag_multipliers": {"vip": 4}})
    assert vip.tags["vip"]["entered"] > 0


def test_updates_change_later_conditions():
    scenario = build(
        [
            node("entry", "entry.segment"),
            node("tag", "update", action="add_tag", tag="vip"),
            node("check", "condition", condition='"vip" in tags'),
            node("done", "exit"),
            node("lost", "exit", outcome="lost"),
        ],
        [
            ("entry", "next", "tag"),
            ("tag", "next", "check"),
            ("check", "yes", "done"),
            ("check", "no", "lost"),
        ],
    )
    result = simulate(scenario, columns(500), start=START)
    assert result.nodes["check"].exits == {"yes": 500, "no": 0}


def test_goal_revenue_falls_back_to_the_offer_price_less_discount():
    scenario = build(
        [
            node("entry", "entry.segment"),
            node("offer", "offer", product="p", discount=10, **MESSAGE),
            node("goal", "goal", stage="Bought", revenue=0),
            node("done", "exit"),
        ],
        [
            ("entry", "next", "offer"),
            ("offer", "sent", "goal"),
            ("offer", "failed", "done"),
            ("goal", "next", "done"),
        ],
    )
    from app.engine.model import Product

    scenario.products.append(Product("p", "Thing", price=1000))
    result = simulate(scenario, columns(100), start=START)
    sent = result.nodes["offer"].exits["sent"]
    assert result.revenue == pytest.approx(900 * sent)
    assert result.stages[0]["conversions"] == sent
    assert result.stages[0]["from_start"] == pytest.approx(sent / 100)


def test_segment_spread_and_event_entries():
    spread = build(
        [node("entry", "entry.segment", schedule="spread", spread_days=10), node("done", "exit")],
        [("entry", "next", "done")],
    )
    result = simulate(spread, columns(10_000), start=START, horizon_days=5)
    assert result.entered == pytest.approx(5000, rel=0.05)
    assert len([d for d in result.timeline["entries"] if d]) == 5
    event = build(
        [node("entry", "entry.event", event="purchase"), node("done", "exit")],
        [("entry", "next", "done")],
    )
    counts = np.array([0.0, 1.0, 2.0, 0.0] * 250)
    assert (
        simulate(event, columns(1000, **{"event_count:purchase": counts}), start=START).entered
        == 500
    )
    rate = simulate(
        event,
        columns(10_000),
        start=START,
        horizon_days=10,
        assumptions={"event_entry": "rate", "event_rates": {"purchase": 0.1}},
    )
    assert rate.entered == pytest.approx(10_000 * (1 - np.exp(-1)), rel=0.05)


def test_threads_change_nothing_with_several_entries_caps_updates_and_offers():
    """Lanes take a share of every entry's walks: with two entries the walk order of a
    threaded run must still be the single thread's, and money sums the same to the bit."""
    scenario = build(
        [
            node("segment", "entry.segment", schedule="spread", spread_days=4),
            node("event", "entry.event", event="purchase"),
            node(
                "offer",
                "offer",
                channel="email",
                product="main",
                discount=10,
                subject="S",
                body="B",
            ),
            node("tagged", "update", action="remove_tag", tag="vip"),
            node("vip", "condition", condition='"vip" in tags'),
            node("sms", "message", channel="sms", body="Hi", cost=0.07),
            node("bought", "wait_event", event="purchase", timeout="P2D"),
            node("sale", "goal", stage="Bought"),
            node("done", "exit"),
        ],
        [
            ("segment", "next", "offer"),
            ("event", "next", "vip"),
            ("vip", "yes", "tagged"),
            ("vip", "no", "offer"),
            ("tagged", "next", "sms"),
            ("offer", "sent", "bought"),
            ("offer", "failed", "sms"),
            ("sms", "sent", "bought"),
            ("sms", "failed", "done"),
            ("bought", "happened", "sale"),
            ("bought", "timeout", "done"),
            ("sale", "next", "done"),
        ],
    )
    scenario.products = [Product("main", "Main", "main", 1990.5)]
    scenario.settings.frequency_cap = FrequencyCap(messages=1, per="P1D")
    cols = columns(3001, **{"event_count:purchase": np.arange(3001) % 3.0})
    alone = simulate(scenario, cols, seed=4, start=START, threads=1)
    assert alone.entered > 3001 and alone.converted > 20 and alone.revenue > 0
    for threads in (2, 5):
        assert_same_run(simulate(scenario, cols, seed=4, start=START, threads=threads), alone)


def test_refuses_a_scenario_with_validation_errors():
    broken = build([node("entry", "entry.segment"), node("done", "exit")], [])
    with pytest.raises(SimulationError, match="errors"):
        simulate(broken, columns(10), start=START)


def test_bad_assumptions_are_refused():
    with pytest.raises(AssumptionError):
        Assumptions.from_dict({"nodes": {"x": {"happened": 1.5}}})
    with pytest.raises(AssumptionError):
        Assumptions.from_dict({"colour": 1})


# --------------------------------------------------------------------------- results


def test_dicts_and_columns_give_the_same_run():
    scenario = split_scenario()
    people = population(300, seed=3)
    from_dicts = simulate(scenario, people, start=START)
    cols = {
        "has_email": np.array([p["has_email"] for p in people]),
        "consent_email": np.array([p["consent_email"] for p in people]),
        **{f"tag:{t}": np.array([t in p["tags"] for p in people]) for t in TAGS},
    }
    from_columns = simulate(scenario, cols, start=START)
    assert from_dicts.to_dict() == from_columns.to_dict()


def test_result_is_json_ready_with_replication_intervals():
    result = simulate(split_scenario(), columns(2000), start=START, replications=5)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["nodes"]["split"]["entered"] == 2000
    assert set(data["replications"]) >= {"entered", "revenue", "messages", "conversion_rate"}
    messages = data["replications"]["messages"]
    assert messages["low"] <= messages["mean"] <= messages["high"]
    assert len(messages["values"]) == 5
    assert sum(e["count"] for e in data["edges"] if e["source"] == "split") == 2000


def test_large_run_matches_configured_split_weights_and_delivery():
    n = 200_000
    result = simulate(split_scenario(), columns(n), start=START, seed=11)
    exits = result.nodes["split"].exits
    for variant, weight in (("a", 0.2), ("b", 0.3), ("c", 0.5)):
        assert exits[variant] / n == pytest.approx(weight, abs=0.004)
    mail = result.nodes["mail"]
    assert mail.exits["sent"] / mail.entered == pytest.approx(0.98, abs=0.003)
    assert result.channels["email"]["delivered"] == mail.exits["sent"]


# --------------------------------------------------------------------------- properties

STEP_KINDS = ("message", "wait", "wait_long", "condition", "split", "wait_event", "update", "goal")


def random_scenario(kinds: list[str], cap: int, quiet: bool) -> Scenario:
    nodes = [node("entry", "entry.segment", schedule="spread", spread_days=3)]
    nodes += [node("won", "exit", outcome="converted"), node("lost", "exit", outcome="lost")]
    if all(kind in ("wait", "wait_long", "update", "goal") for kind in kinds):
        kinds = [*kinds, "condition"]  # so that both exits are used
    edges = []
    previous, previous_exit = "entry", "next"
    for number, kind in enumerate(kinds):
        node_id = f"n{number}"
        side: list[str] = []
        if kind == "message":
            channel = CHANNELS[number % len(CHANNELS)]
            nodes.append(node(node_id, "message", **dict(MESSAGE, channel=channel)))
            main, side = "sent", ["failed"]
        elif kind in ("wait", "wait_long"):
            params = (
                {"mode": "window", "window_days": ["mon", "fri"]}
                if kind == "wait"
                else {"duration": "P3D"}
            )
            nodes.append(node(node_id, "wait", **params))
            main = "next"
        elif kind == "condition":
            nodes.append(node(node_id, "condition", condition='age >= 30 or weekday == "sat"'))
            main, side = "yes", ["no"]
        elif kind == "split":
            variants = [
                {"id": "a", "label": "A", "weight": 70},
                {"id": "b", "label": "B", "weight": 30},
            ]
            nodes.append(node(node_id, "split", variants=variants))
            main, side = "a", ["b"]
        elif kind == "wait_event":
            nodes.append(node(node_id, "wait_event", event="purchase", timeout="P2D"))
            main, side = "timeout", ["happened"]
        elif kind == "update":
            nodes.append(node(node_id, "update", action="remove_tag", tag="vip"))
            main = "next"
        else:
            nodes.append(node(node_id, "goal", stage=f"Stage {number % 2}", revenue=100))
            main = "next"
        edges.append((previous, previous_exit, node_id))
        edges += [(node_id, exit_name, "lost") for exit_name in side]
        previous, previous_exit = node_id, main
    edges.append((previous, previous_exit, "won"))
    return build(
        nodes,
        edges,
        quiet_hours=QuietHours() if quiet else None,
        frequency_cap=FrequencyCap(messages=cap, per="P1D") if cap else None,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.sampled_from(STEP_KINDS), min_size=1, max_size=10),
    cap=st.integers(0, 3),
    quiet=st.booleans(),
    n=st.integers(1, 400),
    seed=st.integers(0, 2**40),
    horizon=st.integers(1, 20),
    data_seed=st.integers(0, 1000),
)
def test_random_scenarios_conserve_contacts_and_are_reproducible(
    kinds, cap, quiet, n, seed, horizon, data_seed
):
    scenario = random_scenario(kinds, cap, quiet)
    cols = columns(n, seed=data_seed)
    first = simulate(scenario, cols, seed=seed, horizon_days=horizon, start=START)
    again = simulate(scenario, cols, seed=seed, horizon_days=horizon, start=START)
    assert first.to_dict() == again.to_dict()
    # However many threads walk the contacts, it is the same run.
    threaded = simulate(scenario, cols, seed=seed, horizon_days=horizon, start=START, threads=3)
    assert_same_run(threaded, first)
    at_exits = first.nodes["won"].entered + first.nodes["lost"].entered
    assert at_exits + first.waiting == first.entered
    assert first.entered == sum(first.timeline["entries"])


def test_revenue_goes_to_the_last_delivered_channel():
    from app.engine.serialization import load_scenario
    from app.resources import EXAMPLES

    scenario = load_scenario(EXAMPLES / "abandoned_cart.json").scenario
    result = simulate(scenario, population(3000), start=START, replications=3)
    channels = result.channels
    # Every goal of this funnel follows a delivered e-mail or SMS: all revenue is attributed.
    assert sum(c["revenue"] for c in channels.values()) == pytest.approx(result.revenue)
    reminded = result.nodes["goal_recovered"].entered  # reached right after the reminder e-mail
    assert reminded > 0 and channels["email"]["revenue"] >= 4800 * reminded
    assert channels["sms"]["revenue"] > 0
    summary = result.replications
    assert summary["revenue:sms"]["low"] <= summary["revenue:sms"]["high"]
    assert summary["cost:email"]["mean"] > 0
