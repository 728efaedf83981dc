"""`voronka export FILE --to runtime -o OUT`: the validated scenario for runtime engines; the
pictures and reports for people (png, svg, pdf, html, report-pdf) are in `export_people`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import export_people
from app.engine.serialization import ScenarioFileError, load_scenario
from app.exporters.runtime_json import ExportError, dumps_runtime

TARGETS = ("runtime", *export_people.TARGETS)


def add_parser(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="export a scenario: runtime JSON for engines, pictures and reports for people",
        description="Export a scenario. Runtime JSON: only a scenario without validation "
        "errors exports; its warnings are listed in the file. png/svg/pdf: the diagram; "
        "html/report-pdf: the report. Exit status: 0 written, 1 validation errors or bad "
        "options, 2 the file could not be read or written.",
    )
    export.add_argument("file", type=Path, metavar="FILE")
    export.add_argument("--to", choices=TARGETS, default="runtime", help="the export target")
    export.add_argument("-o", "--output", type=Path, help="where to write (default: stdout)")
    export_people.add_arguments(export)
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    if args.to in export_people.TARGETS:
        return export_people.run(args)
    try:
        scenario = load_scenario(args.file).scenario
    except ScenarioFileError as error:
        print(f"{args.file}: cannot be read: {error}", file=sys.stderr)
        return 2
    try:
        text = dumps_runtime(scenario)
    except ExportError as error:
        print(f"{args.file}: not exported: {error}", file=sys.stderr)
        return 1
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"{args.output}: cannot be written: {error.strerror}", file=sys.stderr)
        return 2
    print(f"{args.output}: runtime JSON for ‘{scenario.name}’", file=sys.stderr)
    return 0
