"""`voronka export FILE --to png|svg|pdf|html|report-pdf -o OUT`: pictures and reports for people.

png, svg and pdf are the canvas (the diagram as the editor draws it); html and report-pdf are
the report (diagram, steps and messages, validation). `--simulate` runs the funnel over the
contact database first: the diagram then carries the flow overlay (as in the editor), and a
report the results; `--run ID` shows a run stored earlier (`voronka simulate --save`, or Save
run in the editor) instead. `export.py` hands these targets here.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime

from app.engine.i18n import T, current_locale
from app.engine.locale_format import language_of
from app.engine.serialization import ScenarioFileError, load_scenario

CANVAS_TARGETS = ("png", "svg", "pdf")
REPORT_TARGETS = ("html", "report-pdf")
TARGETS = CANVAS_TARGETS + REPORT_TARGETS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        str(T("CLI", "pictures and reports (png, svg, pdf, html, report-pdf)"))
    )
    size = group.add_mutually_exclusive_group()
    size.add_argument(
        "--scale", type=float, help=str(T("CLI", "PNG: pixels per diagram pixel (default 2)"))
    )
    size.add_argument("--dpi", type=float, help=str(T("CLI", "PNG: dots per inch (96 = scale 1)")))
    group.add_argument(
        "--transparent",
        action="store_true",
        help=str(T("CLI", "PNG/SVG/PDF: no background behind the diagram")),
    )
    group.add_argument(
        "--theme", choices=("light", "dark"), default="light", help=str(T("CLI", "the colours"))
    )
    group.add_argument(
        "--simulate",
        action="store_true",
        help=str(
            T(
                "CLI",
                "simulate over the contact database: flow numbers on the diagram, and the "
                "results in a report",
            )
        ),
    )
    group.add_argument(
        "--run",
        dest="run_id",
        type=int,
        metavar="ID",
        help=str(
            T(
                "CLI",
                "the numbers of a stored run (see `voronka runs list`) instead of a new one",
            )
        ),
    )
    with_simulate = str(T("CLI", "with --simulate"))
    group.add_argument(
        "--db", metavar="URL", help=str(T("CLI", "with --simulate or --run: database URL"))
    )
    group.add_argument(
        "--seed", type=int, default=1, help=str(T("CLI", "with --simulate (default 1)"))
    )
    group.add_argument(
        "--days", type=int, default=30, help=str(T("CLI", "with --simulate: horizon (30)"))
    )
    group.add_argument("--replications", type=int, default=1, metavar="K", help=with_simulate)
    group.add_argument("--start", help=str(T("CLI", "with --simulate: simulated start, ISO date")))


def run(args: argparse.Namespace) -> int:
    """Exit status: 0 written, 1 bad options or a scenario that cannot be simulated, 2 a file
    or the database cannot be used."""
    problem = _option_problem(args)
    if problem:
        print(f"voronka export: {problem}", file=sys.stderr)
        return 1
    try:
        scenario = load_scenario(args.file).scenario
    except ScenarioFileError as error:
        problem = T("CLI", "cannot be read: {problem}", problem=str(error))
        print(f"{args.file}: {problem}", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no window is ever shown
    from PySide6.QtWidgets import QApplication

    from app.canvas.scene import FunnelScene
    from app.document import EditorDocument
    from app.exporters.devices import ExportFileError

    app = QApplication.instance() or QApplication([])  # noqa: F841 (kept alive while painting)
    _speak_on_canvas()
    result = None
    if args.simulate:
        result, status = _simulate(args, scenario)
        if result is None:
            return status
    elif args.run_id is not None:
        result, status = _stored_run(args, scenario)
        if result is None:
            return status
    document = EditorDocument(scenario)
    scene = FunnelScene(document, args.theme)
    if result is not None:
        from app.engine.flow import FlowFigures

        scene.set_flow(FlowFigures.from_result(result, scenario))
    try:
        what = _write(args, scene, result)
    except (ExportFileError, OSError) as error:
        problem = T("CLI", "cannot be written: {problem}", problem=str(error))
        print(f"{args.output}: {problem}", file=sys.stderr)
        return 2
    finally:
        document.undo_stack.setClean()
    done = T("CLI", "{what} of ‘{name}’", what=what, name=scenario.name)
    print(f"{args.output}: {done}", file=sys.stderr)
    return 0


def _speak_on_canvas() -> None:
    """The canvas and the charts word their labels with Qt's `tr()`, which reads translators
    installed on the application: install them for the language the command speaks (the CLI
    chose it before any application existed)."""
    language = language_of(current_locale())
    if language and language != "en":
        from app.i18n import install_language

        install_language(language)


def _option_problem(args: argparse.Namespace) -> str:
    if args.output is None:
        return str(T("CLI", "--to {target} needs -o OUT (the file to write)", target=args.to))
    if args.to != "png" and (args.scale is not None or args.dpi is not None):
        return str(T("CLI", "--scale and --dpi are for --to png"))
    for value, name in ((args.scale, "--scale"), (args.dpi, "--dpi")):
        if value is not None and value <= 0:
            return str(T("CLI", "{option} must be above 0", option=name))
    if args.simulate and args.run_id is not None:
        return str(
            T(
                "CLI",
                "--simulate makes a new run and --run shows a stored one: give one of them",
            )
        )
    if args.transparent and args.to in REPORT_TARGETS:
        return str(T("CLI", "--transparent is for the canvas pictures (png, svg, pdf)"))
    return ""


def _write(args: argparse.Namespace, scene, result) -> str:
    from app.exporters import diagram

    if args.to == "png":
        size = diagram.scene_png(scene, args.output, args.scale, args.dpi, args.transparent)
        return f"PNG {size.width():.0f}×{size.height():.0f}"
    if args.to == "svg":
        diagram.scene_svg(scene, args.output, args.transparent)
        return "SVG"
    if args.to == "pdf":
        diagram.scene_pdf(scene, args.output, args.transparent)
        return "PDF"
    from app.exporters.devices import write_text
    from app.exporters.report import build_report, report_html

    report = build_report(scene.document.scenario, result, args.theme)
    if args.to == "html":
        write_text(report_html(report, scene), args.output)
        return str(T("CLI", "HTML report"))
    from app.exporters.report_pdf import report_pdf

    pages = report_pdf(report, scene, args.output)
    return str(T("CLI", "PDF report, %n page(s)", pages))


def _stored_run(args: argparse.Namespace, scenario):
    """A run stored in the database, for this funnel: another funnel's run is refused (its
    steps are not these), a run of an earlier version of this one is shown with a warning."""
    from app.engine.db import DatabaseError, open_database
    from app.engine.db.runs import RunError, load_run, scenario_hash
    from app.engine.simulation import SimulationResult

    try:
        engine = open_database(args.db)
        try:
            stored = load_run(engine, args.run_id)
        finally:
            engine.dispose()
    except DatabaseError as error:
        print(T("CLI", "database: {problem}", problem=str(error)), file=sys.stderr)
        return None, 2
    except RunError as error:
        print(f"--run: {error}", file=sys.stderr)
        return None, 1
    summary = stored.summary
    if summary.scenario_id != scenario.id:
        other = T(
            "CLI",
            "--run {id} is a run of ‘{other}’ ({other_id}), not of ‘{name}’ ({scenario_id})",
            id=args.run_id,
            other=summary.scenario_name,
            other_id=summary.scenario_id,
            name=scenario.name,
            scenario_id=scenario.id,
        )
        print(other, file=sys.stderr)
        return None, 1
    if summary.scenario_hash != scenario_hash(scenario):
        changed = T(
            "CLI",
            "warning: the funnel changed since run {id} ({when}); the numbers are that version's",
            id=args.run_id,
            when=f"{summary.created_at:%Y-%m-%d %H:%M}",
        )
        print(changed, file=sys.stderr)
    return SimulationResult.from_dict(stored.results), 0


def _simulate(args: argparse.Namespace, scenario):
    """The run the report shows: the whole contact database, as `voronka simulate` does."""
    from app.engine.db import DatabaseError
    from app.engine.simulation import SimulationError
    from app.engine.simulation_job import SimulationRequest, run_simulation

    try:
        start = datetime.fromisoformat(args.start) if args.start else None
    except ValueError as error:
        print(f"--start: {error}", file=sys.stderr)
        return None, 1
    request = SimulationRequest(
        database=args.db,
        horizon_days=args.days,
        seed=args.seed,
        replications=args.replications,
        start=start,
    )
    try:
        result, _population = run_simulation(scenario, request)
    except DatabaseError as error:
        print(T("CLI", "database: {problem}", problem=str(error)), file=sys.stderr)
        return None, 2
    except SimulationError as error:
        problem = T("CLI", "cannot simulate: {problem}", problem=str(error))
        print(f"{args.file}: {problem}", file=sys.stderr)
        return None, 1
    return result, 0
