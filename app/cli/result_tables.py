"""Rich tables of a simulation result and of a comparison, shared by `simulate` and `runs`.

They read result dicts (`SimulationResult.to_dict()`, which is also what a stored run holds),
so a fresh run and a stored one print alike, in the interface language and its number format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from app.engine.catalog import exit_label
from app.engine.i18n import T, current_locale
from app.engine.locale_format import format_number
from app.engine.run_comparison import Change, RunComparison


def print_result(console: Console, result: Mapping[str, Any], titles: Mapping[str, str]) -> None:
    """Funnel stages, the headline line and per-step counts of one run."""
    locale = _locale()
    entered = format_number(result["entered"], locale)
    stages = Table(title=str(T("CLI", "Funnel stages — {n} contacts entered", n=entered)))
    stages.add_column(str(T("CLI", "stage")), justify="left")
    for column in (T("CLI", "contacts"), T("CLI", "from previous"), T("CLI", "from start")):
        stages.add_column(str(column), justify="right")
    for stage in result["stages"]:
        stages.add_row(
            str(stage["stage"]),
            format_number(stage["conversions"], locale),
            f"{stage['from_previous']:.1%}",
            f"{stage['from_start']:.1%}",
        )
    console.print(stages)
    console.print(
        str(
            T(
                "CLI",
                "Converted {converted} ({rate:.1%}), revenue {revenue}, still waiting at the "
                "horizon {waiting}",
                converted=format_number(result["converted"], locale),
                rate=result["conversion_rate"],
                revenue=format_number(result["revenue"], locale),
                waiting=format_number(result["waiting"], locale),
            )
        )
    )
    steps = Table(title=str(T("CLI", "Steps")))
    steps.add_column(str(T("CLI", "step")), justify="left")
    steps.add_column(str(T("CLI", "entered")), justify="right")
    steps.add_column(str(T("CLI", "left by exit")), justify="left")
    steps.add_column(str(T("CLI", "waiting")), justify="right")
    nodes = result["nodes"]
    for node_id in result.get("node_ids") or nodes:
        data = nodes[node_id]
        exits = ", ".join(
            f"{exit_label(name)} {format_number(count, locale)}"
            for name, count in data["exits"].items()
        )
        steps.add_row(
            titles.get(node_id, node_id),
            format_number(data["entered"], locale),
            exits,
            format_number(data["waiting"], locale),
        )
    console.print(steps)


def print_comparison(console: Console, comparison: RunComparison, *, every_step: bool) -> None:
    """What differs in the inputs, then headline, stages, steps and channels: A, B, B − A."""
    a = str(T("CLI", "run {id}", id=comparison.a_id))
    b = str(T("CLI", "run {id}", id=comparison.b_id))
    if comparison.inputs:
        inputs = Table(title=str(T("CLI", "Inputs that differ")))
        for column in (str(T("CLI", "input")), a, b):
            inputs.add_column(column, overflow="fold")
        for change in comparison.inputs:
            inputs.add_row(_input_name(change.name), _input(change.a), _input(change.b))
        console.print(inputs)
    else:
        console.print(
            str(T("CLI", "Same inputs (scenario, segment, seed, horizon, start, assumptions)."))
        )

    headline = _change_table(str(T("CLI", "Headline")), (T("CLI", "figure"),), a, b)
    for change in comparison.headline:
        headline.add_row(_figure_name(change.name), *_cells(change))
    if any(change.overlap is not None for change in comparison.headline):
        headline.caption = str(
            T("CLI", "[2.5–97.5 % over replications]; * the ranges do not overlap")
        )
    console.print(headline)

    stages = _change_table(
        str(T("CLI", "Funnel stages")), (T("CLI", "stage"), T("CLI", "figure")), a, b
    )
    for stage in comparison.stages:
        for number, change in enumerate((stage.conversions, stage.from_previous, stage.revenue)):
            name = _figure_name(change.name)
            stages.add_row(stage.stage if number == 0 else "", name, *_cells(change))
    console.print(stages)

    shown = [node for node in comparison.nodes if every_step or node.changed]
    title = T(
        "CLI",
        "Steps that differ ({shown} of {total})",
        shown=len(shown),
        total=len(comparison.nodes),
    )
    if every_step:
        title = T("CLI", "Steps")
    steps = _change_table(str(title), (T("CLI", "step"), T("CLI", "count")), a, b)
    for node in shown:
        rows = [node.entered, *node.exits, node.waiting]
        for number, change in enumerate(rows if every_step else [c for c in rows if c.changed]):
            if change in (node.entered, node.waiting):
                name = _figure_name(change.name)
            else:
                name = f"→ {exit_label(change.name)}"
            steps.add_row(node.title if number == 0 else "", name, *_cells(change))
    console.print(steps)

    if comparison.channels:
        channels = _change_table(
            str(T("CLI", "Channels")), (T("CLI", "channel"), T("CLI", "figure")), a, b
        )
        for channel, changes in comparison.channels.items():
            for number, change in enumerate(changes):
                name = _figure_name(change.name)
                channels.add_row(channel if number == 0 else "", name, *_cells(change))
        console.print(channels)


_FIGURES = {
    "entered": T("CLI", "entered"),
    "converted": T("CLI", "converted"),
    "conversion_rate": T("CLI", "conversion rate"),
    "revenue": T("CLI", "revenue"),
    "messages": T("CLI", "messages"),
    "cost": T("CLI", "cost"),
    "waiting": T("CLI", "waiting"),
    "conversions": T("CLI", "conversions"),
    "from_previous": T("CLI", "from previous"),
    "from_start": T("CLI", "from start"),
    "delivered": T("CLI", "delivered"),
    "unreachable": T("CLI", "unreachable"),
}
_INPUTS = {
    "scenario": T("CLI", "scenario"),
    "scenario content": T("CLI", "scenario content"),
    "segment": T("CLI", "segment"),
    "replications": T("CLI", "replications"),
    "contact data version": T("CLI", "contact data version"),
    "seed": T("CLI", "seed"),
    "horizon_days": T("CLI", "horizon, days"),
    "start": T("CLI", "start"),
    "contacts": T("CLI", "contacts"),
    "assumptions": T("CLI", "assumptions"),
}


def _figure_name(name: str) -> str:
    return str(_FIGURES.get(name, name))


def _input_name(name: str) -> str:
    return str(_INPUTS.get(name, name))


def _change_table(title: str, keys: tuple[Any, ...], a: str, b: str) -> Table:
    table = Table(title=title)
    for key in keys:
        table.add_column(str(key))
    for column in (a, b, str(T("CLI", "change")), str(T("CLI", "change %"))):
        table.add_column(column, justify="right")
    return table


def _cells(change: Change) -> list[str]:
    rate = change.is_rate
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
    if rate:
        if signed:  # percentage points
            return str(T("CLI", "{points} pp", points=f"{value * 100:+.2f}"))
        return f"{value:.2%}"
    places = 0 if float(value).is_integer() else 2
    text = format_number(value, _locale(), places)
    return "+" + text if signed and value >= 0 else text


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


def _locale() -> str:
    return current_locale() or "en"
