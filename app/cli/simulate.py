"""`voronka simulate FILE`: run a funnel over the contact database and print what it did."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.engine import expressions
from app.engine.behaviour import AssumptionError, Assumptions
from app.engine.db import DatabaseError
from app.engine.serialization import ScenarioFileError, load_scenario
from app.engine.simulation import SimulationError, SimulationResult
from app.engine.simulation_job import SimulationRequest, run_simulation


def add_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "simulate",
        help="run a funnel over the contact database (counts, conversions, revenue)",
        description="Simulate a scenario over the contacts of a database. Exit status: 0 done, "
        "1 the scenario or the assumptions are invalid, 2 a file or the database cannot be used.",
    )
    run.add_argument("file", type=Path, metavar="FILE")
    run.add_argument("--db", metavar="URL", help="database URL (default: $VORONKA_DB or local)")
    run.add_argument("--segment", metavar="EXPR", help="only contacts matching this condition")
    run.add_argument("--days", type=int, default=30, help="horizon in days (default 30)")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--replications", type=int, default=1, metavar="K")
    run.add_argument(
        "--start", help="simulated start, ISO date (default: today at midnight)", default=None
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NODE.KEY=P",
        help="override a probability, e.g. --set wait_purchase.happened=0.1 (repeatable)",
    )
    run.add_argument("--format", choices=("table", "json"), default="table")
    run.set_defaults(run=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    errors = Console(stderr=True)
    try:
        scenario = load_scenario(args.file).scenario
    except ScenarioFileError as error:
        errors.print(f"{args.file}: cannot be read: {error}", markup=False)
        return 2
    try:
        assumptions = Assumptions.from_dict({"nodes": _overrides(args.set)})
        start = datetime.fromisoformat(args.start) if args.start else None
    except (AssumptionError, ValueError) as error:
        errors.print(f"invalid option: {error}", markup=False)
        return 1
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=errors,
            transient=True,
        ) as progress:
            task = progress.add_task("Reading contacts…")
            request = SimulationRequest(
                database=args.db,
                segment=args.segment or "",
                horizon_days=args.days,
                seed=args.seed,
                replications=args.replications,
                start=start,
                assumptions=assumptions,
            )
            result, _population = run_simulation(
                scenario,
                request,
                lambda text, _share: progress.update(task, description=text),
            )
    except DatabaseError as error:
        errors.print(f"database: {error}", markup=False)
        return 2
    except (SimulationError, expressions.ExpressionError) as error:
        errors.print(f"{args.file}: cannot simulate: {error}", markup=False)
        return 1
    if args.format == "json":
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        _print_tables(result, scenario.nodes)
    return 0


def _overrides(settings: list[str]) -> dict[str, dict[str, float]]:
    """`node.key=0.1` options as per-node probability overrides."""
    nodes: dict[str, dict[str, float]] = {}
    for setting in settings:
        target, _, value = setting.partition("=")
        node_id, _, key = target.rpartition(".")
        if not node_id or not key or not value:
            raise ValueError(f"‘{setting}’: write NODE.KEY=PROBABILITY, e.g. wait_buy.happened=0.1")
        nodes.setdefault(node_id, {})[key] = float(value)
    return nodes


def _print_tables(result: SimulationResult, nodes: dict) -> None:
    console = Console()
    stages = Table(title=f"Funnel stages — {result.entered:,} contacts entered")
    for column in ("stage", "contacts", "from previous", "from start"):
        stages.add_column(column, justify="left" if column == "stage" else "right")
    for stage in result.stages:
        stages.add_row(
            str(stage["stage"]),
            f"{stage['conversions']:,}",
            f"{stage['from_previous']:.1%}",
            f"{stage['from_start']:.1%}",
        )
    console.print(stages)
    console.print(
        f"Converted {result.converted:,} ({result.conversion_rate:.1%}), revenue "
        f"{result.revenue:,.0f}, still waiting at the horizon {result.waiting:,}"
    )
    steps = Table(title="Steps")
    for column in ("step", "entered", "left by exit", "waiting"):
        steps.add_column(column, justify="left" if column in ("step", "left by exit") else "right")
    for node_id, stats in result.nodes.items():
        data = stats.to_dict()
        exits = ", ".join(f"{name} {count:,}" for name, count in data["exits"].items())
        title = nodes[node_id].display_title if node_id in nodes else node_id
        steps.add_row(title, f"{data['entered']:,}", exits, f"{data['waiting']:,}")
    console.print(steps)
