"""`voronka export FILE --to TARGET -o OUT`: the validated scenario in an engine's format;
the pictures and reports for people (png, svg, pdf, html, report-pdf) are in `export_people`.

Every engine target is one entry of `ENGINE_TARGETS`: a function from the scenario and its
`--option KEY=VALUE` pairs to an `ExportResult` (text or bytes, and warnings). Adding a format
is adding a line there. Warnings — constructs the target cannot express — go to stderr naming
the nodes. Exit status: 0 written, 1 validation errors (listed) or a bad option, 2 the input
could not be read or the output could not be written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from app.cli import export_people
from app.engine.i18n import T
from app.engine.model import Scenario
from app.engine.serialization import ScenarioFileError, load_scenario
from app.exporters.asl import dumps_asl
from app.exporters.base import ExportError, ExportOptionError, ExportResult, parse_options
from app.exporters.bpmn import dumps_bpmn
from app.exporters.mermaid import dumps_mermaid
from app.exporters.runtime_json import dumps_runtime

Exporter = Callable[[Scenario, Mapping[str, str]], ExportResult]


def _runtime(scenario: Scenario, options: Mapping[str, str]) -> ExportResult:
    parse_options(options, {}, "runtime")
    return ExportResult(dumps_runtime(scenario))


ENGINE_TARGETS: dict[str, Exporter] = {
    "runtime": _runtime,
    "asl": dumps_asl,
    "bpmn": dumps_bpmn,
    "mermaid": dumps_mermaid,
}
TARGETS = (*ENGINE_TARGETS, *export_people.TARGETS)


def add_parser(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help=str(
            T(
                "CLI",
                "export a scenario: runtime JSON, Step Functions, BPMN and Mermaid for engines, "
                "pictures and reports for people",
            )
        ),
        description=str(
            T(
                "CLI",
                "Export a scenario. Engine formats (runtime, asl, bpmn, mermaid): only a "
                "scenario without validation errors exports; constructs the target cannot express "
                "are reported on stderr as warnings naming the steps (docs/EXPORTS.md). "
                "png/svg/pdf: the diagram; html/report-pdf: the report. Exit status: 0 written, "
                "1 validation errors or bad options, 2 the file could not be read or written.",
            )
        ),
    )
    export.add_argument("file", type=Path, metavar="FILE")
    export.add_argument(
        "--to", choices=TARGETS, default="runtime", help=str(T("CLI", "the export target"))
    )
    export.add_argument(
        "-o", "--output", type=Path, help=str(T("CLI", "where to write (default: stdout)"))
    )
    export.add_argument(
        "--option",
        action="append",
        default=[],
        type=_option,
        metavar="KEY=VALUE",
        help=str(
            T(
                "CLI",
                "an engine target's option, e.g. message_resource=arn:… for asl (repeatable)",
            )
        ),
    )
    export_people.add_arguments(export)
    export.set_defaults(run=run_export)


def _option(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"‘{text}’ is not KEY=VALUE")
    return key.strip(), value


def run_export(args: argparse.Namespace) -> int:
    if args.to in export_people.TARGETS:
        if args.option:
            print(f"voronka export: --option is for {', '.join(ENGINE_TARGETS)}", file=sys.stderr)
            return 1
        return export_people.run(args)
    try:
        scenario = load_scenario(args.file).scenario
    except ScenarioFileError as error:
        problem = T("CLI", "cannot be read: {problem}", problem=str(error))
        print(f"{args.file}: {problem}", file=sys.stderr)
        return 2
    try:
        result = ENGINE_TARGETS[args.to](scenario, dict(args.option))
    except ExportOptionError as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 1
    except ExportError as error:
        print(
            f"{args.file}: {T('CLI', 'not exported: {problem}', problem=str(error))}",
            file=sys.stderr,
        )
        for problem in error.problems:
            where = f" {problem.node}" if problem.node else ""
            print(f"  {problem.code}{where}: {problem.message}", file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(
            f"{args.file}: {T('CLI', 'warning: {problem}', problem=str(warning))}", file=sys.stderr
        )
    try:
        _write(result.content, args.output)
    except OSError as error:
        problem = T("CLI", "cannot be written: {problem}", problem=error.strerror or str(error))
        print(f"{args.output}: {problem}", file=sys.stderr)
        return 2
    if args.output is not None:
        done = T("CLI", "{target} export of ‘{name}’", target=args.to, name=scenario.name)
        print(f"{args.output}: {done}", file=sys.stderr)
    return 0


def _write(content: str | bytes, output: Path | None) -> None:
    if output is None:
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
    elif isinstance(content, bytes):
        output.write_bytes(content)
    else:
        output.write_text(content, encoding="utf-8")
