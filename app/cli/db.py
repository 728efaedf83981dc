"""`voronka db …`: create, fill, inspect and import into the contact database, headless."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from app.engine.db.conditions import count_matching
from app.engine.db.demo import LOCALES, DemoError, generate_demo
from app.engine.db.importer import CsvImportError, ImportReport, import_csv
from app.engine.db.models import Contact, Event, Product, SimulationRun, Tag, contact_tags
from app.engine.db.presets import PRESETS
from app.engine.db.session import ENV_VAR, DatabaseError, open_database, schema_revision
from app.engine.expressions import ExpressionError

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2
PROGRESS_FROM_BYTES = 2_000_000


def add_parser(commands: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        help=f"SQLAlchemy database URL (default: ${ENV_VAR}, else an SQLite file in your "
        "user data folder); e.g. postgresql+psycopg://user:password@host/dbname",
    )
    db = commands.add_parser(
        "db",
        help="the contact database: init, demo, stats, import, count",
        description="Create, fill and inspect the contact database.",
    )
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)

    init = actions.add_parser("init", parents=[common], help="create or upgrade the database")
    init.set_defaults(run=run_init)

    demo = actions.add_parser(
        "demo", parents=[common], help="fill the database with plausible demo contacts"
    )
    demo.add_argument("--contacts", type=_positive, default=5000, metavar="N")
    demo.add_argument("--locale", choices=LOCALES, default="ru_RU")
    demo.add_argument("--seed", type=int, default=0, metavar="S")
    demo.add_argument(
        "--today",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the day histories end (default: today); fixes the data for a seed",
    )
    demo.add_argument("--replace", action="store_true", help="delete existing contacts first")
    demo.set_defaults(run=run_demo)

    stats = actions.add_parser(
        "stats", parents=[common], help="count rows per table, tag and event type"
    )
    stats.set_defaults(run=run_stats)

    load = actions.add_parser(
        "import",
        parents=[common],
        help="import contacts from a CSV export",
        description="Import contacts from a CSV file as CRMs and shops export it. The import "
        "is one transaction: if it fails, nothing is written. Exit status: 0 imported, "
        "1 rows were rejected (nothing written unless --skip-bad), 2 the file or the "
        "database could not be used. Presets and field names: docs/IMPORT.md.",
    )
    load.add_argument("file", type=Path, metavar="FILE")
    load.add_argument("--preset", choices=("auto", *PRESETS), default="auto")
    load.add_argument(
        "--map",
        action="append",
        default=[],
        metavar='"CSV column=field"',
        help="import a column into a field (or attr:<name>; - ignores the column); repeatable",
    )
    load.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    load.add_argument("--skip-bad", action="store_true", help="import the good rows only")
    load.add_argument("--encoding", help="the file's encoding, when detection is not enough")
    load.add_argument(
        "--phone-country",
        metavar="CODE",
        help="country calling code for phones written without one, e.g. 1 or 7",
    )
    load.set_defaults(run=run_import)

    count = actions.add_parser(
        "count", parents=[common], help="count the contacts a condition selects"
    )
    count.add_argument("condition", metavar="CONDITION")
    count.add_argument(
        "--now",
        type=datetime.fromisoformat,
        metavar="YYYY-MM-DDTHH:MM",
        help="the moment of evaluation, UTC (default: now)",
    )
    count.set_defaults(run=run_count)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _fail(message: str, status: int = EXIT_FAILED) -> int:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[red]error:[/red] {escape(message)}")
    return status


def _open(url: str | None) -> sa.Engine:
    return open_database(url)


def run_init(args: argparse.Namespace) -> int:
    try:
        engine = _open(args.db)
    except DatabaseError as error:
        return _fail(str(error))
    where = engine.url.render_as_string(hide_password=True)
    print(f"Database ready: {where} (schema revision {schema_revision(engine)})")
    return EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    try:
        engine = _open(args.db)
        with _progress(args.contacts >= 20_000) as progress:
            report = generate_demo(
                engine,
                args.contacts,
                locale=args.locale,
                seed=args.seed,
                today=args.today,
                replace=args.replace,
                progress=progress,
            )
    except (DatabaseError, DemoError) as error:
        return _fail(str(error))
    print(
        f"Demo data written: {report.contacts} contacts, {report.events} events, "
        f"{report.tags} tags, {report.products} products."
    )
    return EXIT_OK


def run_stats(args: argparse.Namespace) -> int:
    try:
        engine = _open(args.db)
    except DatabaseError as error:
        return _fail(str(error))
    console = Console(soft_wrap=True)
    console.print(engine.url.render_as_string(hide_password=True), markup=False)
    with engine.connect() as connection:
        tables = Table(title="Tables")
        tables.add_column("table")
        tables.add_column("rows", justify="right")
        for table in (Contact, Tag, contact_tags, Event, Product, SimulationRun):
            name = getattr(table, "__tablename__", None) or table.name
            rows = connection.scalar(sa.select(sa.func.count()).select_from(table))
            tables.add_row(name, f"{rows:,}")
        console.print(tables)
        tags = Table(title="Tags")
        tags.add_column("tag")
        tags.add_column("contacts", justify="right")
        query = (
            sa.select(Tag.name, sa.func.count(contact_tags.c.contact_id))
            .select_from(Tag)
            .outerjoin(contact_tags, contact_tags.c.tag_id == Tag.id)
            .group_by(Tag.name)
            .order_by(Tag.name)
        )
        for name, members in connection.execute(query):
            tags.add_row(name, f"{members:,}")
        console.print(tags)
        events = Table(title="Events")
        events.add_column("type")
        events.add_column("events", justify="right")
        events.add_column("contacts", justify="right")
        query = (
            sa.select(Event.type, sa.func.count(), sa.func.count(Event.contact_id.distinct()))
            .group_by(Event.type)
            .order_by(Event.type)
        )
        for name, total, contacts in connection.execute(query):
            events.add_row(name, f"{total:,}", f"{contacts:,}")
        console.print(events)
    return EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    mapping: dict[str, str] = {}
    for item in args.map:
        column, equals, target = item.rpartition("=")
        if not equals or not column.strip():
            return _fail(f'--map {item!r}: write it as "CSV column=field"')
        mapping[column.strip()] = target.strip()
    try:
        engine = _open(args.db)
        large = args.file.exists() and args.file.stat().st_size >= PROGRESS_FROM_BYTES
        with _progress(large) as progress:
            report = import_csv(
                engine,
                args.file,
                preset=args.preset,
                mapping=mapping,
                skip_bad=args.skip_bad,
                dry_run=args.dry_run,
                encoding=args.encoding,
                phone_country=args.phone_country,
                progress=progress,
            )
    except DatabaseError as error:
        return _fail(str(error))
    except CsvImportError as error:
        if not error.rejected:
            return _fail(f"{args.file}: {error}")
        for row in error.rejected:
            print(f"{args.file}:{row.line}: {row.reason}", file=sys.stderr)
        return _fail(
            f"{args.file}: {len(error.rejected)} rejected row(s) listed above; nothing was "
            "written. Fix them, or pass --skip-bad to import the other rows.",
            EXIT_REJECTED,
        )
    _print_report(report)
    return EXIT_OK


def _print_report(report: ImportReport) -> None:
    console = Console(highlight=False, soft_wrap=True)
    verb = "would be" if report.dry_run else "were"
    console.print(
        f"{report.path}: preset {report.preset}, {report.encoding}, {report.delimiter}",
        markup=False,
    )
    table = Table()
    table.add_column("")
    table.add_column("", justify="right")
    table.show_header = False
    table.add_row("rows read", f"{report.rows:,}")
    table.add_row(f"contacts that {verb} created", f"{report.created:,}")
    table.add_row(f"existing contacts that {verb} updated", f"{report.updated:,}")
    table.add_row("duplicate rows merged", f"{report.merged:,}")
    table.add_row("rows rejected (skipped)", f"{len(report.rejected):,}")
    table.add_row("new tags", f"{report.tags_created:,}")
    console.print(table)
    for row in report.rejected:
        console.print(f"  skipped {report.path}:{row.line}: {row.reason}", markup=False)
    if report.ignored_columns:
        console.print("Columns not imported: " + ", ".join(report.ignored_columns), markup=False)
    if report.dry_run:
        console.print("Dry run: nothing was written.")


def run_count(args: argparse.Namespace) -> int:
    try:
        engine = _open(args.db)
        print(count_matching(engine, args.condition, now=args.now))
    except DatabaseError as error:
        return _fail(str(error))
    except ExpressionError as error:
        return _fail(f"{args.condition}\n{' ' * (error.column - 1)}^ {error.message}")
    return EXIT_OK


class _progress:
    """A rich progress bar on stderr for long work, or a no-op callback."""

    def __init__(self, enabled: bool) -> None:
        self.bar = (
            Progress(
                TextColumn("{task.description:<10}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            if enabled
            else None
        )
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        if self.bar is None:
            return None
        self.bar.start()
        return self.update

    def update(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def __exit__(self, *_exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
