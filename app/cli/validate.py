"""`voronka validate FILE…`: the validator for people and for CI, never a traceback."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from app.engine.i18n import T
from app.engine.serialization import ScenarioFileError, load_scenario
from app.engine.validation import Problem, Severity, validate

EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE = 0, 1, 2
FILE_ERROR_CODE = "F100"


def add_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "validate",
        help=str(T("CLI", "check scenario files: every exit of every step must be handled")),
        description=str(
            T(
                "CLI",
                "Print the problems of each scenario file. Exit status: 0 no errors, "
                "1 errors (or warnings with --strict), 2 a file could not be read.",
            )
        ),
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--strict", action="store_true", help=str(T("CLI", "warnings fail too")))
    check.set_defaults(
        run=lambda args: run_validate(args.files, output=args.format, strict=args.strict)
    )


def run_validate(files: Sequence[Path], *, output: str, strict: bool) -> int:
    status = EXIT_OK
    rows: list[dict[str, str | None]] = []
    for path in files:
        try:
            loaded = load_scenario(path)
        except ScenarioFileError as error:
            status = EXIT_UNREADABLE
            rows.append(_file_error_row(path, error))
            if output == "text":
                print(f"{path}: {rows[-1]['message']}")
            continue
        problems = validate(loaded.scenario)
        failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
        if status == EXIT_OK and any(p.severity in failing for p in problems):
            status = EXIT_PROBLEMS
        rows.extend({"file": str(path), **p.to_dict()} for p in problems)
        if output == "text":
            _print_text(path, loaded.scenario.nodes, problems)
    if output == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        print()
    return status


def _file_error_row(path: Path, error: ScenarioFileError) -> dict[str, str | None]:
    where = f"{error.where}: " if error.where else ""
    message = str(T("CLI", "cannot be read: {problem}", problem=f"{where}{error.message}"))
    return {
        "file": str(path),
        "code": FILE_ERROR_CODE,
        "severity": "error",
        "node": None,
        "exit": None,
        "message": message,
    }


def _print_text(path: Path, nodes: dict, problems: list[Problem]) -> None:
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = sum(p.severity is Severity.WARNING for p in problems)
    if problems:
        verdict = str(
            T(
                "CLI",
                "{errors}, {warnings}",
                errors=T("CLI", "%n error(s)", errors),
                warnings=T("CLI", "%n warning(s)", warnings),
            )
        )
    else:
        verdict = str(T("CLI", "OK"))
    print(f"{path}: {verdict}")
    severities = {
        Severity.ERROR: T("CLI", "error"),
        Severity.WARNING: T("CLI", "warning"),
        Severity.INFO: T("CLI", "note"),
    }
    width = max(len(str(word)) for word in severities.values())
    for problem in problems:
        place = ""
        if problem.node in nodes:
            node = nodes[problem.node]
            if problem.exit:
                where = T(
                    "CLI",
                    "{title} ({id}, exit {exit})",
                    title=node.display_title,
                    id=node.id,
                    exit=problem.exit,
                )
            else:
                where = T("CLI", "{title} ({id})", title=node.display_title, id=node.id)
            place = f" {where}"
        severity = str(severities[problem.severity])
        print(f"  {severity:<{width}} {problem.code}{place}: {problem.message}")
