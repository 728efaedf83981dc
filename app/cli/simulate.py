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
from app.engine.catalog import exit_label
from app.engine.db import DatabaseError
from app.engine.i18n import T, current_locale
from app.engine.locale_format import format_number
from app.engine.serialization import ScenarioFileError, load_scenario
from app.engine.simulation import SimulationError, SimulationResult
from app.engine.simulation_job import SimulationRequest, run_simulation


def add_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "simulate",
        help=str(T("CLI", "run a funnel over the contact database (counts, conversions, revenue)")),
        description=str(
            T(
                "CLI",
                "Simulate a scenario over the contacts of a database. Exit status: 0 done, "
                "1 the scenario or the assumptions are invalid, 2 a file or the database "
                "cannot be used.",
            )
        ),
    )
    run.add_argument("file", type=Path, metavar="FILE")
    run.add_argument(
        "--db", metavar="URL", help=str(T("CLI", "database URL (default: $VORONKA_DB or local)"))
    )
    run.add_argument(
        "--segment", metavar="EXPR", help=str(T("CLI", "only contacts matching this condition"))
    )
    run.add_argument(
        "--days", type=int, default=30, help=str(T("CLI", "horizon in days (default 30)"))
    )
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--replications", type=int, default=1, metavar="K")
    run.add_argument(
        "--start",
        help=str(T("CLI", "simulated start, ISO date (default: today at midnight)")),
        default=None,
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NODE.KEY=P",
        help=str(
            T(
                "CLI",
                "override a probability, e.g. --set wait_purchase.happened=0.1 (repeatable)",
            )
        ),
    )
    run.add_argument("--format", choices=("table", "json"), default="table")
    run.set_defaults(run=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    errors = Console(stderr=True)
    try:
        scenario = load_scenario(args.file).scenario
    except ScenarioFileError as error:
        problem = T("CLI", "cannot be read: {problem}", problem=str(error))
        errors.print(f"{args.file}: {problem}", markup=False)
        return 2
    try:
        assumptions = Assumptions.from_dict({"nodes": _overrides(args.set)})
        start = datetime.fromisoformat(args.start) if args.start else None
    except (AssumptionError, ValueError) as error:
        errors.print(str(T("CLI", "invalid option: {problem}", problem=str(error))), markup=False)
        return 1
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=errors,
            transient=True,
        ) as progress:
            task = progress.add_task(str(T("CLI", "Reading contacts…")))
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
        errors.print(str(T("CLI", "database: {problem}", problem=str(error))), markup=False)
        return 2
    except (SimulationError, expressions.ExpressionError) as error:
        problem = T("CLI", "cannot simulate: {problem}", problem=str(error))
        errors.print(f"{args.file}: {problem}", markup=False)
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
            raise ValueError(
                str(
                    T(
                        "CLI",
                        "‘{setting}’: write NODE.KEY=PROBABILITY, e.g. wait_buy.happened=0.1",
                        setting=setting,
                    )
                )
            )
        nodes.setdefault(node_id, {})[key] = float(value)
    return nodes


def _print_tables(result: SimulationResult, nodes: dict) -> None:
    console = Console()
    locale = current_locale() or "en"
    entered = format_number(result.entered, locale)
    stages = Table(title=str(T("CLI", "Funnel stages — {n} contacts entered", n=entered)))
    stages.add_column(str(T("CLI", "stage")), justify="left")
    for column in (T("CLI", "contacts"), T("CLI", "from previous"), T("CLI", "from start")):
        stages.add_column(str(column), justify="right")
    for stage in result.stages:
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
                converted=format_number(result.converted, locale),
                rate=result.conversion_rate,
                revenue=format_number(result.revenue, locale),
                waiting=format_number(result.waiting, locale),
            )
        )
    )
    steps = Table(title=str(T("CLI", "Steps")))
    steps.add_column(str(T("CLI", "step")), justify="left")
    steps.add_column(str(T("CLI", "entered")), justify="right")
    steps.add_column(str(T("CLI", "left by exit")), justify="left")
    steps.add_column(str(T("CLI", "waiting")), justify="right")
    for node_id, stats in result.nodes.items():
        data = stats.to_dict()
        exits = ", ".join(
            f"{exit_label(name)} {format_number(count, locale)}"
            for name, count in data["exits"].items()
        )
        title = nodes[node_id].display_title if node_id in nodes else node_id
        steps.add_row(
            title,
            format_number(data["entered"], locale),
            exits,
            format_number(data["waiting"], locale),
        )
    console.print(steps)
