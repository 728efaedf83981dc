"""What each chart shows, worked out from a simulation result; no Qt, so it is easy to test.

Bars show the detailed run (the first replication, as the canvas overlay and `voronka
simulate` do); with replications each bar also carries the 2.5–97.5 % range of its figure
across them, drawn as a whisker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from app.charts.numbers import grouped
from app.engine.i18n import T
from app.engine.simulation import SimulationResult
from app.engine.summary import channel_name

Interval = tuple[float, float]


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: float
    from_start: float
    from_previous: float | None  # None for the first step (everyone who entered)
    interval: Interval | None = None


@dataclass(frozen=True)
class FunnelChart:
    title: str
    steps: list[FunnelStep]
    note: str = ""


@dataclass(frozen=True)
class ChannelBars:
    label: str
    revenue: float
    cost: float
    revenue_interval: Interval | None = None
    cost_interval: Interval | None = None


@dataclass(frozen=True)
class ChannelChart:
    title: str
    channels: list[ChannelBars]
    currency: str = ""
    note: str = ""


@dataclass(frozen=True)
class SeriesChart:
    """Counts per whole day: `first` is the day number of `values[0]` (1 = the first day)."""

    title: str
    values: list[float]
    x_label: str
    first: int = 1
    note: str = ""
    empty_text: str = ""


Chart = FunnelChart | ChannelChart | SeriesChart


def _interval(replications: Mapping[str, Any], key: str) -> Interval | None:
    figure = replications.get(key)
    if not figure:
        return None
    return float(figure["low"]), float(figure["high"])


def _runs_note(replications: Mapping[str, Any]) -> str:
    runs = len(next(iter(replications.values()), {}).get("values", []))
    return str(T("Chart", "Whiskers: 95 % range over {runs} runs", runs=runs)) if runs > 1 else ""


def funnel_chart(result: SimulationResult) -> FunnelChart:
    """Everyone who entered, then each goal stage with its conversion from the previous step
    and from the start (100 % → 10 % → 3 % → 2 %)."""
    reps = result.replications
    entered = str(T("Chart", "Entered"))
    steps = [FunnelStep(entered, float(result.entered), 1.0, None, _interval(reps, "entered"))]
    for stage in result.stages:
        steps.append(
            FunnelStep(
                str(stage["stage"]) or str(T("Chart", "(unnamed stage)")),
                float(stage["conversions"]),
                float(stage["from_start"]),
                float(stage["from_previous"]),
                _interval(reps, f"stage:{stage['stage']}"),
            )
        )
    return FunnelChart(str(T("Chart", "Funnel: goal stages")), steps, _runs_note(reps))


def channel_chart(result: SimulationResult, currency: str = "") -> ChannelChart:
    """Revenue (last touch) and cost per channel; revenue reached with no message delivered
    first is a bar of its own, so the bars add up to the total."""
    reps = result.replications
    bars = [
        ChannelBars(
            channel_name(channel),
            float(counts.get("revenue", 0.0)),
            float(counts["cost"]),
            _interval(reps, f"revenue:{channel}"),
            _interval(reps, f"cost:{channel}"),
        )
        for channel, counts in result.channels.items()
    ]
    attributed = sum(bar.revenue for bar in bars)
    if result.revenue - attributed > 0.005:
        bars.append(ChannelBars(str(T("Chart", "No message")), result.revenue - attributed, 0.0))
    title = str(T("Chart", "Revenue and cost per channel"))
    return ChannelChart(title, bars, currency, _runs_note(reps))


def messages_chart(result: SimulationResult) -> SeriesChart:
    values = [float(v) for v in result.timeline.get("messages", [])]
    days = result.horizon_days
    return SeriesChart(
        str(T("Chart", "Messages per day")),
        values,
        str(T("Chart", "day of the run")),
        note=str(
            T(
                "Chart",
                "{n} messages in {days}",
                n=grouped(sum(values)),
                days=T("Chart", "%n day(s)", days),
            )
        ),
        empty_text=str(T("Chart", "No message was sent in this run")),
    )


def conversion_time_chart(result: SimulationResult) -> SeriesChart:
    """Whole days from entry to the first goal; the tail of empty days is cut (a week shows
    at least)."""
    values = [float(v) for v in result.time_to_conversion_days]
    last = max((day for day, v in enumerate(values) if v), default=-1)
    shown = values[: max(last + 1, min(7, len(values)))]
    total = sum(values)
    note = ""
    if total:
        median = next(day for day, seen in enumerate(accumulate(values)) if seen >= total / 2)
        note = str(
            T(
                "Chart",
                "Median {days} · {n} converted",
                days=T("Chart", "%n day(s)", median),
                n=grouped(total),
            )
        )
    return SeriesChart(
        str(T("Chart", "Time to conversion")),
        shown,
        str(T("Chart", "days from entry to the first goal")),
        first=0,
        note=note,
        empty_text=str(T("Chart", "No contact converted in this run")),
    )


def result_charts(result: SimulationResult, currency: str = "") -> list[Chart]:
    """The four charts of a run, in the order the results panel and the report show them."""
    return [
        funnel_chart(result),
        channel_chart(result, currency),
        messages_chart(result),
        conversion_time_chart(result),
    ]
