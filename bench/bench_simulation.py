"""Simulation speed: 1,000,000 contacts through a 20-node funnel over 30 days.

Compares the vectorised engine with (a) the reference interpreter walking one contact at a
time and (b) a SimPy model of the same funnel (one process per contact). (a) and (b) run on a
sample of contacts and are extrapolated linearly to the full population; the printout says so.
Peak memory of the vectorised run is measured with tracemalloc in a separate run.

Run by hand from the repository root:
`python -m bench.bench_simulation [--contacts 1000000] [--sample 20000] [--repeat 9]`.
Needs SimPy for (b): `pip install simpy` (the `bench` extra). The machine's load average is
printed before and after: on a shared machine, compare runs made at similar load.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import resource
import statistics
import time
import tracemalloc
from datetime import datetime
from typing import Any

import numpy as np

from app.engine.contact_schema import CHANNELS
from app.engine.model import Edge, Node, Product, Scenario
from app.engine.runtime import Runtime
from app.engine.simulation import simulate, usable_cores

START = datetime(2026, 3, 2, 0, 0)
DAY = 86_400
HORIZON_DAYS = 30
MAIL = {"subject": "Hi {{ contact.first_name }}", "body": "News for you", "cost": 0.1}


def funnel() -> Scenario:
    """20 steps: window wait, conditions, mails, waits for events, an A/B split, offers, SMS."""
    scenario = Scenario(id="bench-funnel", name="Benchmark funnel")
    scenario.products = [Product("main", "Main product", "main", 4990)]
    nodes = [
        Node("entry", "entry.segment", params={"schedule": "spread", "spread_days": 7}),
        Node(
            "daytime",
            "wait",
            params={
                "mode": "window",
                "window_days": ["mon", "tue", "wed", "thu", "fri"],
                "window_start": "10:00",
                "window_end": "20:00",
            },
        ),
        Node("check", "condition", params={"condition": 'age >= 25 or "vip" in tags'}),
        Node("mail", "message", params={"channel": "email", **MAIL}),
        Node("wait_open", "wait_event", params={"event": "opened", "timeout": "P2D"}),
        Node("wait_day", "wait", params={"duration": "P1D"}),
        Node("reminder", "message", params={"channel": "email", **MAIL}),
        Node(
            "ab",
            "split",
            params={
                "variants": [
                    {"id": "a", "label": "A", "weight": 50},
                    {"id": "b", "label": "B", "weight": 50},
                ]
            },
        ),
        Node(
            "offer_a",
            "offer",
            params={"channel": "email", "product": "main", "discount": 10, **MAIL},
        ),
        Node(
            "offer_b",
            "offer",
            params={"channel": "email", "product": "main", "discount": 20, **MAIL},
        ),
        Node("wait_buy", "wait_event", params={"event": "purchase", "timeout": "P3D"}),
        Node("goal", "goal", params={"stage": "Bought", "revenue": 0}),
        Node("sms_ok", "condition", params={"condition": "consent_sms and has_phone"}),
        Node("sms", "offer", params={"channel": "sms", "product": "main", "discount": 15, **MAIL}),
        Node("wait_sms", "wait_event", params={"event": "purchase", "timeout": "P2D"}),
        Node("goal_sms", "goal", params={"stage": "Bought", "revenue": 0}),
        Node("tag_lost", "update", params={"action": "add_tag", "tag": "lost"}),
        Node("won", "exit", params={"outcome": "converted"}),
        Node("lost", "exit", params={"outcome": "lost"}),
        Node("young", "exit", params={"outcome": "disqualified"}),
    ]
    for node in nodes:
        scenario.add_node(node)
    for source, exit_name, target in [
        ("entry", "next", "daytime"), ("daytime", "next", "check"),
        ("check", "yes", "mail"), ("check", "no", "young"),
        ("mail", "sent", "wait_open"), ("mail", "failed", "sms_ok"),
        ("wait_open", "happened", "ab"), ("wait_open", "timeout", "wait_day"),
        ("wait_day", "next", "reminder"),
        ("reminder", "sent", "ab"), ("reminder", "failed", "tag_lost"),
        ("ab", "a", "offer_a"), ("ab", "b", "offer_b"),
        ("offer_a", "sent", "wait_buy"), ("offer_a", "failed", "tag_lost"),
        ("offer_b", "sent", "wait_buy"), ("offer_b", "failed", "tag_lost"),
        ("wait_buy", "happened", "goal"), ("wait_buy", "timeout", "sms_ok"),
        ("goal", "next", "won"),
        ("sms_ok", "yes", "sms"), ("sms_ok", "no", "tag_lost"),
        ("sms", "sent", "wait_sms"), ("sms", "failed", "tag_lost"),
        ("wait_sms", "happened", "goal_sms"), ("wait_sms", "timeout", "tag_lost"),
        ("goal_sms", "next", "won"), ("tag_lost", "next", "lost"),
    ]:  # fmt: skip
        scenario.add_edge(Edge(source, exit_name, target))
    return scenario


def population(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {
        "age": rng.integers(16, 80, n).astype(np.float64),
        "has_email": rng.random(n) < 0.9,
        "has_phone": rng.random(n) < 0.6,
        "tag:vip": rng.random(n) < 0.1,
    }
    for channel in CHANNELS:
        columns[f"consent_{channel}"] = rng.random(n) < 0.7
    return columns


def as_dicts(columns: dict[str, np.ndarray], count: int) -> list[dict[str, Any]]:
    people = []
    for i in range(count):
        person: dict[str, Any] = {k: v[i].item() for k, v in columns.items() if ":" not in k}
        person["tags"] = ["vip"] if columns["tag:vip"][i] else []
        people.append(person)
    return people


# --------------------------------------------------------------------------- SimPy model


def simpy_run(people: list[dict[str, Any]], seed: int = 1) -> int:
    """The same funnel as SimPy processes, the way a discrete-event model is usually written,
    with the calendar done in integer seconds (as the engine does it) and no zero-length
    timeouts, so the comparison measures the event machinery, not datetime arithmetic."""
    import simpy

    env = simpy.Environment()
    rng = random.Random(seed)
    converted = [0]
    first_weekday = START.weekday()
    first_second = START.hour * 3600 + START.minute * 60

    def until_window(now: float) -> float:
        """Seconds to the next weekday 10:00–20:00 window (0 inside one)."""
        day, second = divmod(int(now) + first_second, DAY)
        if (first_weekday + day) % 7 < 5 and second < 20 * 3600:
            return max(10 * 3600 - second, 0)
        for ahead in range(1, 8):
            if (first_weekday + day + ahead) % 7 < 5:
                return ahead * DAY + 10 * 3600 - second
        return 0.0

    def quiet(now: float) -> float:
        """Seconds to 09:00 inside the 22:00–09:00 quiet hours, else 0."""
        second = (int(now) + first_second) % DAY
        return (9 * 3600 - second) % DAY if second >= 22 * 3600 or second < 9 * 3600 else 0.0

    def send(person: dict[str, Any], channel: str, address: str):
        if not (person[f"consent_{channel}"] and person[address]):
            return False
        delay = quiet(env.now)
        if delay:
            yield env.timeout(delay)
        return rng.random() < 0.98

    def wait_event(p: float, timeout: float):
        if rng.random() < p:
            yield env.timeout(timeout * rng.random() ** 2)
            return True
        yield env.timeout(timeout)
        return False

    def walk(person: dict[str, Any]):
        yield env.timeout(rng.random() * 7 * DAY)
        delay = until_window(env.now)
        if delay:
            yield env.timeout(delay)
        if not (person["age"] >= 25 or "vip" in person["tags"]):
            return
        engaged = False
        if (yield from send(person, "email", "has_email")):
            if (yield from wait_event(0.5, 2 * DAY)):
                engaged = True
            else:
                yield env.timeout(DAY)
                engaged = yield from send(person, "email", "has_email")
            if engaged:
                yield from send(person, "email", "has_email")
                if (yield from wait_event(0.04, 3 * DAY)):
                    converted[0] += 1
                    return
        reachable = person["consent_sms"] and person["has_phone"]
        if (
            reachable
            and (yield from send(person, "sms", "has_phone"))
            and (yield from wait_event(0.02, 2 * DAY))
        ):
            converted[0] += 1

    for person in people:
        env.process(walk(person))
    env.run(until=HORIZON_DAYS * DAY)
    return converted[0]


# --------------------------------------------------------------------------- main


def timings(action, repeat: int = 1) -> list[float]:
    return [pair[0] for pair in wall_and_cpu(action, repeat)]


def wall_and_cpu(action, repeat: int = 1) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each run: CPU time shows how much of the wall time other
    processes on the machine took."""
    return [(wall, cpu) for wall, cpu, _ in wall_cpu_others(action, repeat)]


def wall_cpu_others(action, repeat: int = 1) -> list[tuple[float, float, float]]:
    """(wall, CPU, others) seconds of each run; `others` is the CPU time the rest of the
    machine used meanwhile (Linux; NaN elsewhere): the engine's threads need free cores."""
    times = []
    for _ in range(repeat):
        gc.collect()
        busy = machine_busy()
        start, cpu = time.perf_counter(), time.process_time()
        action()
        wall, used = time.perf_counter() - start, time.process_time() - cpu
        times.append((wall, used, machine_busy() - busy - used))
    return times


def machine_busy() -> float:
    """CPU seconds all processes have used since boot (/proc/stat), NaN where unknown."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return math.nan
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait


def timed(action, repeat: int = 1) -> float:
    return statistics.median(timings(action, repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--engine-only", action="store_true", help="skip the interpreter and SimPy baselines"
    )
    args = parser.parse_args()
    scenario = funnel()
    columns = population(args.contacts)
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    simulate(scenario, columns, start=START, horizon_days=HORIZON_DAYS)  # warm caches
    result = simulate(scenario, columns, start=START, horizon_days=HORIZON_DAYS)
    measured = wall_cpu_others(lambda: simulate(scenario, columns, start=START), args.repeat)
    runs = [wall for wall, _, _ in measured]
    ours = statistics.median(runs)
    single = wall_and_cpu(lambda: simulate(scenario, columns, start=START, threads=1), args.repeat)
    print(f"{len(scenario.nodes)} nodes, {args.contacts:,} contacts, {HORIZON_DAYS} days")
    print(
        f"  entered {result.entered:,}, converted {result.converted:,}, "
        f"revenue {result.revenue:,.0f}, messages "
        f"{sum(c['messages'] for c in result.channels.values()):,}"
    )
    print(
        f"vectorised simulation:        {ours:8.3f} s  (median of {args.repeat}; "
        f"best {min(runs):.3f} s; CPU median {statistics.median(c for _, c, _ in measured):.3f} s"
        f" on {usable_cores()} cores; other processes took "
        f"{max(0.0, statistics.median(o / w for w, _, o in measured)):.0%} of a core meanwhile)"
    )
    print(
        f"  the same on one thread:     {statistics.median(w for w, _ in single):8.3f} s  "
        f"(median of {args.repeat}; best {min(w for w, _ in single):.3f} s)"
    )

    if args.engine_only:
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        return
    people = as_dicts(columns, args.sample)
    scale = args.contacts / args.sample
    runtime = Runtime(scenario, start=START, horizon_days=HORIZON_DAYS, render_messages=False)
    sample_time = timed(lambda: [runtime.walks(p, i) for i, p in enumerate(people)])
    loop = sample_time * scale
    print(
        f"per-contact interpreter:      {loop:8.3f} s  (extrapolated from {args.sample:,}: "
        f"{sample_time:.3f} s)  → ours is {loop / ours:,.0f}× faster"
    )
    try:
        import simpy  # noqa: F401
    except ImportError:
        print("SimPy:                        not installed (pip install simpy)")
    else:
        baseline = wall_and_cpu(lambda: simpy_run(people), 3)
        simpy_time = statistics.median(wall for wall, _ in baseline) * scale
        simpy_cpu = statistics.median(cpu for _, cpu in baseline) * scale
        ours_cpu = statistics.median(cpu for _, cpu, _ in measured)
        print(
            f"SimPy, one process a contact: {simpy_time:8.3f} s  (median of 3, extrapolated "
            f"from {args.sample:,})  → ours is {simpy_time / ours:,.0f}× faster "
            f"(CPU time: {simpy_cpu / ours_cpu:,.0f}×)"
        )

    tracemalloc.start()
    simulate(scenario, columns, start=START)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory of a run:         {peak / 2**20:8.1f} MB (tracemalloc); "
        f"process max RSS {rss:.0f} MB"
    )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
