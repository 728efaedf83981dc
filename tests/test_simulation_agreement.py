"""The vectorised engine against the reference interpreter on generated scenarios and on the
benchmark's funnel: every walk ends where the interpreter's walk ends, and the goals agree."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_simulation import MESSAGE, STEP_KINDS, build, node, population, random_scenario, walk_ends

from app.engine.model import FrequencyCap, Scenario
from app.engine.runtime import Runtime
from app.engine.simulation import MAX_HORIZON_DAYS, SimulationError, simulate
from bench.bench_simulation import START as BENCH_START
from bench.bench_simulation import funnel

START = datetime(2026, 3, 6, 21, 15)  # a Friday evening: windows and quiet hours both bite


def assert_same_walks(
    scenario: Scenario,
    people: list[dict[str, Any]],
    seed: int,
    start: datetime,
    horizon_days: int = 30,
) -> None:
    result = simulate(scenario, people, seed=seed, start=start, horizon_days=horizon_days)
    runtime = Runtime(
        scenario, seed=seed, start=start, horizon_days=horizon_days, render_messages=False
    )
    expected = {}
    stages: Counter[str] = Counter()
    revenue = 0.0
    for index, person in enumerate(people):
        for walk in runtime.walks(person, index):
            if walk.entered:
                expected[(index, walk.entry)] = (walk.final, walk.waiting)
                stages.update(walk.stages)
                revenue += walk.revenue
    got = walk_ends(result)
    assert got == expected
    assert {s["stage"]: s["conversions"] for s in result.stages if s["conversions"]} == stages
    assert result.revenue == pytest.approx(revenue)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.sampled_from(STEP_KINDS), min_size=1, max_size=8),
    cap=st.integers(0, 3),
    quiet=st.booleans(),
    n=st.integers(1, 60),
    seed=st.integers(0, 2**40),
    horizon=st.integers(1, 12),
    data_seed=st.integers(0, 1000),
)
def test_random_scenarios_walk_as_the_interpreter_walks(
    kinds, cap, quiet, n, seed, horizon, data_seed
):
    scenario = random_scenario(kinds, cap, quiet)
    assert_same_walks(scenario, population(n, seed=data_seed), seed, START, horizon)


@pytest.mark.parametrize("seed", [1, 8])
def test_benchmark_funnel_walks_as_in_the_interpreter(seed):
    assert_same_walks(funnel(), population(1500, seed=seed), seed, BENCH_START)


def test_moves_far_past_the_horizon_park_as_in_the_interpreter():
    """Durations, timeouts and cap periods of decades do not fit the engine's int32
    times; whatever lands past the horizon must still park, exactly as one by one."""
    scenario = build(
        [
            node("entry", "entry.segment", schedule="spread", spread_days=365),
            node("mail", "message", **MESSAGE),
            node("again", "message", **MESSAGE),
            node("wait", "wait_event", event="purchase", timeout="P80Y"),
            node("long", "wait", duration="P100Y"),
            node("won", "exit", outcome="converted"),
            node("lost", "exit", outcome="lost"),
        ],
        [
            ("entry", "next", "mail"),
            ("mail", "sent", "again"),
            ("mail", "failed", "lost"),
            ("again", "sent", "wait"),
            ("again", "failed", "lost"),
            ("wait", "happened", "long"),
            ("wait", "timeout", "lost"),
            ("long", "next", "won"),
        ],
        frequency_cap=FrequencyCap(messages=1, per="P90Y"),
    )
    assert_same_walks(scenario, population(300, seed=3), 4, START, horizon_days=9000)
    with pytest.raises(SimulationError, match="too long"):
        simulate(scenario, population(3), horizon_days=MAX_HORIZON_DAYS + 1, start=START)
