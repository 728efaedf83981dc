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
from app.engine.i18n import T, current_locale
from app.engine.locale_format import format_number
from app.engine.run_comparison import compare_runs, step_titles
from app.engine.serialization import ScenarioFileError, load_scenario

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2


def add_parser(commands: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        help=str(T("CLI", "database URL (default: ${env}, else the local file)", env=ENV_VAR)),
    )
    common.add_argument("--format", choices=("table", "json"), default="table")
    runs = commands.add_parser(
        "runs",
        help=str(T("CLI", "stored simulation runs: list, show, compare")),
        description=str(
            T(
                "CLI",
                "Simulation runs stored with `voronka simulate --save`. Exit status: 0 done, "
                "1 no such run, 2 a file or the database cannot be used.",
            )
        ),
    )
    actions = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list", parents=[common], help=str(T("CLI", "the stored runs, newest first"))
    )
    listing.add_argument(
        "file",
        type=Path,
        nargs="?",
        metavar="FILE",
        help=str(T("CLI", "only the runs of this scenario")),
    )
    listing.add_argument("--limit", type=int, metavar="N", help=str(T("CLI", "at most N runs")))
    listing.set_defaults(run=run_list)

    show = actions.add_parser(
        "show", parents=[common], help=str(T("CLI", "one run: inputs and results"))
    )
    show.add_argument("id", type=int, metavar="ID")
    show.set_defaults(run=run_show)

    compare = actions.add_parser(
        "compare",
        parents=[common],
        help=str(T("CLI", "two runs side by side (the second against the first)")),
    )
    compare.add_argument("first", type=int, metavar="ID1")
    compare.add_argument("second", type=int, metavar="ID2")
    compare.add_argument(
        "--all",
        action="store_true",
        help=str(T("CLI", "list every step, not only those that differ")),
    )
    compare.set_defaults(run=run_compare)


def run_list(args: argparse.Namespace) -> int:
    scenario = None
    if args.file is not None:
        try:
            scenario = load_scenario(args.file).scenario
        except ScenarioFileError as error:
            return _fail(
                f"{args.file}: {T('CLI', 'cannot be read: {problem}', problem=str(error))}"
            )
    try:
        engine = open_database(args.db)
        try:
            runs = list_runs(
                engine, scenario_id=scenario.id if scenario else None, limit=args.limit
            )
        finally:
            engine.dispose()
    except DatabaseError as error:
        return _fail(str(T("CLI", "database: {problem}", problem=str(error))))
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
    if scenario is not None:
        title = T("CLI", "Runs of {name} ({n})", name=scenario.name, n=len(runs))
    else:
        title = T("CLI", "Stored runs ({n})", n=len(runs))
    table = Table(title=str(title), box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("id", justify="right", no_wrap=True, min_width=2)
    table.add_column(str(T("CLI", "saved")), no_wrap=True, min_width=16)
    texts = [T("CLI", "label"), T("CLI", "scenario"), T("CLI", "segment")]
    for column in texts if scenario is None else [texts[0], texts[2]]:
        table.add_column(str(column), min_width=5, max_width=24, no_wrap=True, overflow="ellipsis")
    table.add_column(str(T("CLI", "days·seed·K")), no_wrap=True, min_width=6)
    for column in (T("CLI", "converted"), T("CLI", "revenue")):
        table.add_column(str(column), justify="right", no_wrap=True, min_width=len(str(column)))
    for run in runs:
        table.add_row(*_list_row(run, current, with_scenario=scenario is None))
    if current:
        table.caption = str(T("CLI", "* the scenario has changed since this run"))
    Console().print(table)
    return EXIT_OK


def _list_row(run: RunSummary, current: str | None, *, with_scenario: bool) -> list[str]:
    locale = current_locale() or "en"
    changed = " *" if current and run.scenario_hash != current else ""
    return [
        str(run.id) + changed,
        run.created_at.strftime("%Y-%m-%d %H:%M"),
        escape(run.label or ""),
        *([escape(run.scenario_name)] if with_scenario else []),
        escape(run.segment) or str(T("CLI", "everyone")),
        f"{run.horizon_days}·{run.seed}·{run.replications}",
        f"{format_number(run.converted, locale)} ({run.conversion_rate:.1%})",
        format_number(run.revenue, locale),
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
    locale = current_locale() or "en"
    facts = Table(title=str(T("CLI", "Run {id}", id=summary.id)), show_header=False)
    facts.add_column("input")
    facts.add_column("value", overflow="fold")
    contacts = T(
        "CLI",
        "{n} (data version {version})",
        n=format_number(summary.contacts, locale),
        version=summary.data_version,
    )
    for name, value in (
        (T("CLI", "label"), summary.label or "—"),
        (T("CLI", "saved"), summary.created_at.isoformat(sep=" ")),
        (T("CLI", "scenario"), f"{summary.scenario_name} ({summary.scenario_id})"),
        (T("CLI", "scenario hash"), summary.scenario_hash[:16]),
        (T("CLI", "segment"), summary.segment or T("CLI", "everyone")),
        (T("CLI", "contacts"), contacts),
        (T("CLI", "start"), summary.start.isoformat(sep=" ") if summary.start else "—"),
        (T("CLI", "horizon, days"), summary.horizon_days),
        (T("CLI", "seed"), summary.seed),
        (T("CLI", "replications"), summary.replications),
        (T("CLI", "assumptions"), json.dumps(run.assumptions, ensure_ascii=False)),
    ):
        facts.add_row(str(name), escape(str(value)))
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
