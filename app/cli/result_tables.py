"""Rich tables of a simulation result and of a comparison, shared by `simulate` and `runs`.

They read result dicts (`SimulationResult.to_dict()`, which is also what a stored run holds),
so a fresh run and a stored one print alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from app.engine.run_comparison import Change, RunComparison

RATES = {"conversion_rate", "from_previous", "from_start"}


def print_result(console: Console, result: Mapping[str, Any], titles: Mapping[str, str]) -> None:
    """Funnel stages, the headline line and per-step counts of one run."""
    stages = Table(title=f"Funnel stages — {result['entered']:,} contacts entered")
    for column in ("stage", "contacts", "from previous", "from start"):
        stages.add_column(column, justify="left" if column == "stage" else "right")
    for stage in result["stages"]:
        stages.add_row(
            str(stage["stage"]),
            f"{stage['conversions']:,}",
            f"{stage['from_previous']:.1%}",
            f"{stage['from_start']:.1%}",
        )
    console.print(stages)
    console.print(
        f"Converted {result['converted']:,} ({result['conversion_rate']:.1%}), revenue "
        f"{result['revenue']:,.0f}, still waiting at the horizon {result['waiting']:,}"
    )
    steps = Table(title="Steps")
    for column in ("step", "entered", "left by exit", "waiting"):
        steps.add_column(column, justify="left" if column in ("step", "left by exit") else "right")
    nodes = result["nodes"]
    for node_id in result.get("node_ids") or nodes:
        data = nodes[node_id]
        exits = ", ".join(f"{name} {count:,}" for name, count in data["exits"].items())
        steps.add_row(
            titles.get(node_id, node_id), f"{data['entered']:,}", exits, f"{data['waiting']:,}"
        )
    console.print(steps)


def print_comparison(console: Console, comparison: RunComparison, *, every_step: bool) -> None:
    """What differs in the inputs, then headline, stages, steps and channels: A, B, B − A."""
    a = f"run {comparison.a_id}" if comparison.a_id is not None else "A"
    b = f"run {comparison.b_id}" if comparison.b_id is not None else "B"
    if comparison.inputs:
        inputs = Table(title="Inputs that differ")
        for column in ("input", a, b):
            inputs.add_column(column, overflow="fold")
        for change in comparison.inputs:
            inputs.add_row(change.name, _input(change.a), _input(change.b))
        console.print(inputs)
    else:
        console.print("Same inputs (scenario, segment, seed, horizon, start, assumptions).")

    headline = _change_table("Headline", ("figure",), a, b)
    for change in comparison.headline:
        headline.add_row(change.name.replace("_", " "), *_cells(change))
    if any(change.overlap is not None for change in comparison.headline):
        headline.caption = "[2.5–97.5 % over replications]; * the ranges do not overlap"
    console.print(headline)

    stages = _change_table("Funnel stages", ("stage", "figure"), a, b)
    for stage in comparison.stages:
        for change in (stage.conversions, stage.from_previous, stage.revenue):
            name = change.name.replace("_", " ")
            stages.add_row(
                stage.stage if change is stage.conversions else "", name, *_cells(change)
            )
    console.print(stages)

    shown = [node for node in comparison.nodes if every_step or node.changed]
    title = (
        "Steps" if every_step else f"Steps that differ ({len(shown)} of {len(comparison.nodes)})"
    )
    steps = _change_table(title, ("step", "count"), a, b)
    for node in shown:
        rows = [node.entered, *node.exits, node.waiting]
        for number, change in enumerate(rows if every_step else [c for c in rows if c.changed]):
            name = change.name if change in (node.entered, node.waiting) else f"→ {change.name}"
            steps.add_row(node.title if number == 0 else "", name, *_cells(change))
    console.print(steps)

    if comparison.channels:
        channels = _change_table("Channels", ("channel", "figure"), a, b)
        for channel, changes in comparison.channels.items():
            for number, change in enumerate(changes):
                channels.add_row(channel if number == 0 else "", change.name, *_cells(change))
        console.print(channels)


def _change_table(title: str, keys: tuple[str, ...], a: str, b: str) -> Table:
    table = Table(title=title)
    for key in keys:
        table.add_column(key)
    for column in (a, b, "change", "change %"):
        table.add_column(column, justify="right")
    return table


def _cells(change: Change) -> list[str]:
    rate = change.name in RATES
    delta = change.delta
    relative = change.relative
    changed = "" if delta is None else _number(delta, rate, signed=True)
    if change.overlap is False:
        changed += " *"
    return [
        _number(change.a, rate) + _range(change.a_range, rate),
        _number(change.b, rate) + _range(change.b_range, rate),
        changed,
        "" if relative is None else f"{relative:+.1%}",
    ]


def _number(value: float | None, rate: bool, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    sign = "+" if signed else ""
    if rate:
        return f"{value * 100:{sign}.2f} pp" if signed else f"{value:.2%}"
    if float(value).is_integer():
        return f"{value:{sign},.0f}"
    return f"{value:{sign},.2f}"


def _range(bounds: tuple[float, float] | None, rate: bool) -> str:
    if bounds is None:
        return ""
    return f" [{_number(bounds[0], rate)}–{_number(bounds[1], rate)}]"


def _input(value: Any) -> str:
    if isinstance(value, Mapping):  # assumptions: the keys that say something
        given = {key: item for key, item in value.items() if item}
        return json.dumps(given, ensure_ascii=False) if given else "—"
    if value in (None, ""):
        return "—"
    return str(value)
