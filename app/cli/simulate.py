"""`voronka simulate FILE`: run a funnel over the contact database and print what it did."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from app.cli.result_tables import print_result
from app.engine import expressions
from app.engine.behaviour import AssumptionError, Assumptions
from app.engine.db import DatabaseError, open_database
from app.engine.db.runs import RunError, save_run
from app.engine.i18n import T
from app.engine.serialization import ScenarioFileError, load_scenario
from app.engine.simulation import SimulationError
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
    run.add_argument(
        "--save",
        action="store_true",
        help=str(T("CLI", "store the run in the database (see `voronka runs`) and print its id")),
    )
    run.add_argument(
        "--label", metavar="TEXT", help=str(T("CLI", "a name for the stored run (with --save)"))
    )
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
        if args.label is not None and not args.save:
            raise ValueError(str(T("CLI", "--label names a stored run: add --save")))
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
            run_id = None
            if args.save:
                progress.update(task, description=str(T("CLI", "Saving the run…")))
                engine = open_database(args.db)
                try:
                    run_id = save_run(engine, scenario, request, result, label=args.label)
                finally:
                    engine.dispose()
    except DatabaseError as error:
        errors.print(str(T("CLI", "database: {problem}", problem=str(error))), markup=False)
        return 2
    except (SimulationError, expressions.ExpressionError, RunError) as error:
        problem = T("CLI", "cannot simulate: {problem}", problem=str(error))
        errors.print(f"{args.file}: {problem}", markup=False)
        return 1
    data = result.to_dict()
    if args.format == "json":
        if run_id is not None:
            data = {"run_id": run_id, **data}
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    console = Console()
    titles = {node_id: node.display_title for node_id, node in scenario.nodes.items()}
    print_result(console, data, titles)
    if run_id is not None:
        console.print(str(T("CLI", "Saved as run {id}.", id=run_id)))
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
