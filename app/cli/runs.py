"""`voronka runs …`: list, show and compare simulation runs stored with `simulate --save`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.cli.result_tables import print_comparison, print_result
from app.engine.db.runs import (
    RunError,
    RunSummary,
    StoredRun,
    list_runs,
    load_run,
    scenario_hash,
)
from app.engine.db.session import ENV_VAR, DatabaseError, open_database
from app.engine.run_comparison import compare_runs, step_titles
from app.engine.serialization import ScenarioFileError, load_scenario

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2


def add_parser(commands: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", metavar="URL", help=f"database URL (default: ${ENV_VAR}, else the local file)"
    )
    common.add_argument("--format", choices=("table", "json"), default="table")
    runs = commands.add_parser(
        "runs",
        help="stored simulation runs: list, show, compare",
        description="Simulation runs stored with `voronka simulate --save`. Exit status: 0 "
        "done, 1 no such run, 2 a file or the database cannot be used.",
    )
    actions = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", parents=[common], help="the stored runs, newest first")
    listing.add_argument(
        "file", type=Path, nargs="?", metavar="FILE", help="only the runs of this scenario"
    )
    listing.add_argument("--limit", type=int, metavar="N", help="at most N runs")
    listing.set_defaults(run=run_list)

    show = actions.add_parser("show", parents=[common], help="one run: inputs and results")
    show.add_argument("id", type=int, metavar="ID")
    show.set_defaults(run=run_show)

    compare = actions.add_parser(
        "compare", parents=[common], help="two runs side by side (the second against the first)"
    )
    compare.add_argument("first", type=int, metavar="ID1")
    compare.add_argument("second", type=int, metavar="ID2")
    compare.add_argument(
        "--all", action="store_true", help="list every step, not only those that differ"
    )
    compare.set_defaults(run=run_compare)


def run_list(args: argparse.Namespace) -> int:
    scenario = None
    if args.file is not None:
        try:
            scenario = load_scenario(args.file).scenario
        except ScenarioFileError as error:
            return _fail(f"{args.file}: cannot be read: {error}")
    try:
        engine = open_database(args.db)
        try:
            runs = list_runs(
                engine, scenario_id=scenario.id if scenario else None, limit=args.limit
            )
        finally:
            engine.dispose()
    except DatabaseError as error:
        return _fail(f"database: {error}")
    current = scenario_hash(scenario) if scenario else None
    if args.format == "json":
        rows = [
            {
                **run.to_dict(),
                **({"same_scenario": run.scenario_hash == current} if current else {}),
            }
            for run in runs
        ]
        _print_json(rows)
        return EXIT_OK
    title = f"Runs of {scenario.name}" if scenario else "Stored runs"
    table = Table(
        title=f"{title} ({len(runs)})", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True
    )
    table.add_column("id", justify="right", no_wrap=True, min_width=2)
    table.add_column("saved", no_wrap=True, min_width=16)
    for column in ("label", "scenario", "segment") if scenario is None else ("label", "segment"):
        table.add_column(column, min_width=5, max_width=24, no_wrap=True, overflow="ellipsis")
    table.add_column("days·seed·K", no_wrap=True, min_width=6)
    for column in ("converted", "revenue"):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for run in runs:
        table.add_row(*_list_row(run, current, with_scenario=scenario is None))
    if current:
        table.caption = "* the scenario has changed since this run"
    Console().print(table)
    return EXIT_OK


def _list_row(run: RunSummary, current: str | None, *, with_scenario: bool) -> list[str]:
    changed = " *" if current and run.scenario_hash != current else ""
    return [
        str(run.id) + changed,
        run.created_at.strftime("%Y-%m-%d %H:%M"),
        escape(run.label or ""),
        *([escape(run.scenario_name)] if with_scenario else []),
        escape(run.segment) or "everyone",
        f"{run.horizon_days}·{run.seed}·{run.replications}",
        f"{run.converted:,} ({run.conversion_rate:.1%})",
        f"{run.revenue:,.0f}",
    ]


def run_show(args: argparse.Namespace) -> int:
    try:
        (run,) = _load(args.db, args.id)
    except (DatabaseError, RunError) as error:
        return _fail(str(error), EXIT_REJECTED if isinstance(error, RunError) else EXIT_FAILED)
    if args.format == "json":
        _print_json(run.to_dict())
        return EXIT_OK
    summary = run.summary
    console = Console()
    facts = Table(title=f"Run {summary.id}", show_header=False)
    facts.add_column("input")
    facts.add_column("value", overflow="fold")
    for name, value in (
        ("label", summary.label or "—"),
        ("saved", summary.created_at.isoformat(sep=" ")),
        ("scenario", f"{summary.scenario_name} ({summary.scenario_id})"),
        ("scenario hash", summary.scenario_hash[:16]),
        ("segment", summary.segment or "everyone"),
        ("contacts", f"{summary.contacts:,} (data version {summary.data_version})"),
        ("start", summary.start.isoformat(sep=" ") if summary.start else "—"),
        ("horizon", f"{summary.horizon_days} days"),
        ("seed", str(summary.seed)),
        ("replications", str(summary.replications)),
        ("assumptions", json.dumps(run.assumptions, ensure_ascii=False)),
    ):
        facts.add_row(name, escape(value))
    console.print(facts)
    print_result(console, run.results, step_titles(run.scenario))
    return EXIT_OK


def run_compare(args: argparse.Namespace) -> int:
    try:
        first, second = _load(args.db, args.first, args.second)
    except (DatabaseError, RunError) as error:
        return _fail(str(error), EXIT_REJECTED if isinstance(error, RunError) else EXIT_FAILED)
    comparison = compare_runs(first, second)
    if args.format == "json":
        _print_json(comparison.to_dict())
    else:
        print_comparison(Console(), comparison, every_step=args.all)
    return EXIT_OK


def _load(url: str | None, *ids: int) -> list[StoredRun]:
    engine = open_database(url)
    try:
        return [load_run(engine, run_id) for run_id in ids]
    finally:
        engine.dispose()


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    print()


def _fail(message: str, status: int = EXIT_FAILED) -> int:
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[red]error:[/red] {escape(message)}"
    )
    return status
