"""The reference interpreter against the vectorised simulation, contact by contact."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from test_simulation import population, walk_ends

from app.engine.runtime import Runtime
from app.engine.serialization import load_scenario
from app.engine.simulation import simulate

EXAMPLES = sorted((Path(__file__).parent.parent / "resources" / "examples").glob("*.json"))
START = datetime(2026, 3, 2, 8, 30)
PEOPLE = population(2000, seed=7)


def _paths(result, scenario, seed, assumptions=None):
    """Per walk (contact, entry): final node and whether waiting; and node/exit counts."""
    runtime = Runtime(scenario, assumptions, seed=seed, start=START, render_messages=False)
    finals = {}
    counts: Counter[tuple[str, str | None]] = Counter()
    for index, contact in enumerate(PEOPLE):
        for walk in runtime.walks(contact, index):
            if walk.entered:
                finals[(index, walk.entry)] = (walk.final, walk.waiting)
                counts.update((s.node, s.exit) for s in walk.steps)
    return finals, counts


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize(
    "seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)]
)
def test_vectorised_engine_matches_the_interpreter(path, seed):
    _check_agreement(load_scenario(path).scenario, seed)


ASSUMPTIONS = {
    "tag_multipliers": {"vip": 3.0, "cats": 0.5},
    "event_entry": "rate",
    "event_rates": {"cart_abandoned": 0.05, "purchase": 0.2},
    "nodes": {"wait_promo": {"happened": 0.3}},
    "channels": {"sms": {"deliver": 0.5, "purchase_after_offer": 0.2}},
}


@pytest.mark.parametrize(
    "name", ["abandoned_cart", pytest.param("post_sale_nps", marks=pytest.mark.slow)]
)
def test_interpreter_agrees_under_custom_assumptions(name):
    path = next(p for p in EXAMPLES if p.stem == name)
    _check_agreement(load_scenario(path).scenario, 5, ASSUMPTIONS)


def _check_agreement(scenario, seed, assumptions=None):
    # Two threads, as a large run takes: the lanes must not change a single walk.
    result = simulate(scenario, PEOPLE, assumptions, seed=seed, start=START, threads=2)
    expected, counts = _paths(result, scenario, seed, assumptions)
    got = walk_ends(result)
    assert got == expected
    for node_id, stats in result.nodes.items():
        for exit_name, count in stats.exits.items():
            assert counts[(node_id, exit_name)] == count, (node_id, exit_name)
        assert counts[(node_id, None)] == stats.waiting + (
            stats.entered if scenario.nodes[node_id].type == "exit" else 0
        )
    assert result.entered > 100


def test_walk_renders_messages_and_records_times():
    scenario = load_scenario(EXAMPLES[0]).scenario
    runtime = Runtime(scenario, seed=1, start=START)
    walks = [w for i, c in enumerate(PEOPLE[:200]) for w in runtime.walks(c, i) if w.entered]
    messages = [s for w in walks for s in w.steps if s.channel]
    assert messages and all(s.body for s in messages)
    assert any("[template error]" not in s.body for s in messages)
    for walk in walks:
        seconds = [s.seconds for s in walk.steps]
        assert seconds == sorted(seconds)
        assert walk.to_dict()["final"] == walk.final


def test_contact_not_matching_the_entry_does_not_enter():
    scenario = load_scenario(EXAMPLES[0]).scenario  # cart_value >= 1000 and a cart_abandoned
    contact = dict(PEOPLE[0], cart_value=10.0)
    assert not Runtime(scenario, start=START).walk(contact, 0).entered
