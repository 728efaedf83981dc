"""The `voronka` command: the editor (`voronka [FILE…]`), or a headless sub-command.

Each sub-command lives in its own module with `add_parser(commands)` and `run(args)`, so the
commands a team's CI uses (validate, db, simulate, runs, export) stay independent of each other.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.cli import db, export, runs, simulate, validate
from app.engine.i18n import T

COMMANDS = (validate, db, export, simulate, runs)
COMMAND_NAMES = frozenset({"validate", "db", "export", "simulate", "runs"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voronka",
        description=str(T("CLI", "Design, validate, simulate and export marketing auto-funnels.")),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0].startswith("-") or argv[0] in COMMAND_NAMES):
        from app.i18n import install_cli_language  # QtCore only: the same catalog as the editor

        install_cli_language()
    parser = build_parser()
    if not argv or not (argv[0].startswith("-") or argv[0] in _command_names(parser)):
        from app.gui import run  # Qt is loaded only for the editor

        return run(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args)


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()
