"""The vectorised engine against the reference interpreter on generated scenarios and on the
benchmark's funnel: every walk ends where the interpreter's walk ends, and the goals agree."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_simulation import STEP_KINDS, population, random_scenario

from app.engine.model import Scenario
from app.engine.runtime import Runtime
from app.engine.simulation import simulate
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
    got = {
        (int(contact), result.entry_ids[entry]): (result.node_ids[final], bool(waiting))
        for contact, entry, final, waiting in zip(
            result.walk_contact,
            result.walk_entry,
            result.walk_final,
            result.walk_waiting,
            strict=True,
        )
    }
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
