"""Validation speed: the full rule set at 100 … 10,000 steps, and its graph core against a
plain-Python baseline that searches once per entry and once per exit node.

Run by hand: `python bench/bench_validation.py [--repeat 5]`. Prints a table; no assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import deque
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenarios import generate_scenario

from app.engine.gc_pause import cycle_collector_paused
from app.engine.validation import Context, validate

SIZES = (100, 200, 1_000, 10_000)


def median_ms(action, repeat: int, paused: bool = False) -> float:
    """Median wall time; `paused` runs the action with the cycle collector paused, as
    `validate` runs its graph work (else the collector's heap scans, set off by whichever
    side allocates more, swamp the comparison of the searches)."""
    times = []
    for _ in range(repeat):
        with cycle_collector_paused() if paused else nullcontext():
            start = time.perf_counter()
            action()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def ours_reachability(scenario) -> tuple[int, int]:
    """What V107/V108 compute: the graph, one depth-first search of it from a virtual source
    before all entries (networkx), and one pass back over its post-order for leads-to-exit."""
    context = Context(scenario)
    return len(context.reachable), len(context.leads_to_exit)


def baseline_reachability(scenario) -> tuple[int, int]:
    """The naive way: a BFS from every entry, and a reverse BFS from every exit node."""
    forward: dict[str, list[str]] = {n: [] for n in scenario.nodes}
    backward: dict[str, list[str]] = {n: [] for n in scenario.nodes}
    for edge in scenario.edges:
        forward[edge.source].append(edge.target)
        backward[edge.target].append(edge.source)

    def bfs(start: str, adjacency: dict[str, list[str]]) -> set[str]:
        seen, queue = {start}, deque([start])
        while queue:
            for nxt in adjacency[queue.popleft()]:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    reachable: set[str] = set()
    for node in scenario.nodes.values():
        if node.is_entry:
            reachable |= bfs(node.id, forward)
    leads: set[str] = set()
    for node in scenario.nodes.values():
        if node.type == "exit":
            leads |= bfs(node.id, backward)
    return len(reachable), len(leads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{'steps':>7} {'validate ms':>12} {'problems':>9} {'reach ms':>9} "
        f"{'baseline ms':>12} {'speed-up':>9}"
    )
    for size in SIZES:
        scenario = generate_scenario(size)
        problems = validate(scenario)  # warm caches (parsed conditions, templates)
        full = median_ms(lambda s=scenario: validate(s), args.repeat)
        assert ours_reachability(scenario) == baseline_reachability(scenario)
        ours = median_ms(lambda s=scenario: ours_reachability(s), args.repeat, paused=True)
        base = median_ms(
            lambda s=scenario: baseline_reachability(s), max(1, args.repeat // 2), paused=True
        )
        print(
            f"{len(scenario.nodes):>7} {full:>12.1f} {len(problems):>9} {ours:>9.1f} "
            f"{base:>12.1f} {base / ours:>8.1f}×"
        )


if __name__ == "__main__":
    main()
