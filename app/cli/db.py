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
from app.engine.i18n import T, current_locale
from app.engine.locale_format import format_number

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2
PROGRESS_FROM_BYTES = 2_000_000


def add_parser(commands: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        help=str(
            T(
                "CLI",
                "SQLAlchemy database URL (default: ${env}, else an SQLite file in your user "
                "data folder); e.g. postgresql+psycopg://user:password@host/dbname",
                env=ENV_VAR,
            )
        ),
    )
    db = commands.add_parser(
        "db",
        help=str(T("CLI", "the contact database: init, demo, stats, import, count")),
        description=str(T("CLI", "Create, fill and inspect the contact database.")),
    )
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)

    init = actions.add_parser(
        "init", parents=[common], help=str(T("CLI", "create or upgrade the database"))
    )
    init.set_defaults(run=run_init)

    demo = actions.add_parser(
        "demo",
        parents=[common],
        help=str(T("CLI", "fill the database with plausible demo contacts")),
    )
    demo.add_argument(
        "--contacts",
        type=_positive,
        default=5000,
        metavar="N",
        help=str(T("CLI", "how many contacts (default 5000)")),
    )
    demo.add_argument(
        "--locale",
        choices=LOCALES,
        default="ru_RU",
        help=str(T("CLI", "names, phones and cities of this country (default ru_RU)")),
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help=str(T("CLI", "the same seed gives the same contacts (default 0)")),
    )
    demo.add_argument(
        "--today",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help=str(T("CLI", "the day histories end (default: today); fixes the data for a seed")),
    )
    demo.add_argument(
        "--replace", action="store_true", help=str(T("CLI", "delete existing contacts first"))
    )
    demo.set_defaults(run=run_demo)

    stats = actions.add_parser(
        "stats", parents=[common], help=str(T("CLI", "count rows per table, tag and event type"))
    )
    stats.set_defaults(run=run_stats)

    load = actions.add_parser(
        "import",
        parents=[common],
        help=str(T("CLI", "import contacts from a CSV export")),
        description=str(
            T(
                "CLI",
                "Import contacts from a CSV file as CRMs and shops export it. The import is "
                "one transaction: if it fails, nothing is written. Exit status: 0 imported, "
                "1 rows were rejected (nothing written unless --skip-bad), 2 the file or the "
                "database could not be used. Presets and field names: docs/IMPORT.md.",
            )
        ),
    )
    load.add_argument("file", type=Path, metavar="FILE")
    load.add_argument(
        "--preset",
        choices=("auto", *PRESETS),
        default="auto",
        help=str(T("CLI", "whose export the file is (default: recognised from the header)")),
    )
    load.add_argument(
        "--map",
        action="append",
        default=[],
        metavar='"CSV column=field"',
        help=str(
            T(
                "CLI",
                "import a column into a field (or attr:<name>; - ignores the column); repeatable",
            )
        ),
    )
    load.add_argument(
        "--dry-run", action="store_true", help=str(T("CLI", "check and report, write nothing"))
    )
    load.add_argument(
        "--skip-bad", action="store_true", help=str(T("CLI", "import the good rows only"))
    )
    load.add_argument(
        "--encoding", help=str(T("CLI", "the file's encoding, when detection is not enough"))
    )
    load.add_argument(
        "--phone-country",
        metavar="CODE",
        help=str(T("CLI", "country calling code for phones written without one, e.g. 1 or 7")),
    )
    load.set_defaults(run=run_import)

    count = actions.add_parser(
        "count", parents=[common], help=str(T("CLI", "count the contacts a condition selects"))
    )
    count.add_argument(
        "condition",
        metavar="CONDITION",
        help=str(T("CLI", 'a condition in the expression language, e.g. "cats" in tags')),
    )
    count.add_argument(
        "--now",
        type=datetime.fromisoformat,
        metavar="YYYY-MM-DDTHH:MM",
        help=str(T("CLI", "the moment of evaluation, UTC (default: now)")),
    )
    count.set_defaults(run=run_count)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(str(T("CLI", "must be at least 1")))
    return value


def _fail(message: str, status: int = EXIT_FAILED) -> int:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[red]{escape(str(T('CLI', 'error:')))}[/red] {escape(message)}")
    return status


def _open(url: str | None) -> sa.Engine:
    return open_database(url)


def run_init(args: argparse.Namespace) -> int:
    try:
        engine = _open(args.db)
    except DatabaseError as error:
        return _fail(str(error))
    where = engine.url.render_as_string(hide_password=True)
    revision = schema_revision(engine)
    print(
        T("CLI", "Database ready: {url} (schema revision {revision})", url=where, revision=revision)
    )
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
        T(
            "CLI",
            "Demo data written: {contacts}, {events}, {tags}, {products}.",
            contacts=T("CLI", "{number} contact(s)", report.contacts, number=_n(report.contacts)),
            events=T("CLI", "{number} event(s)", report.events, number=_n(report.events)),
            tags=T("CLI", "{number} tag(s)", report.tags, number=_n(report.tags)),
            products=T("CLI", "{number} product(s)", report.products, number=_n(report.products)),
        )
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
        tables = Table(title=str(T("CLI", "Tables")))
        tables.add_column(str(T("CLI", "table")))
        tables.add_column(str(T("CLI", "rows")), justify="right")
        for table in (Contact, Tag, contact_tags, Event, Product, SimulationRun):
            name = getattr(table, "__tablename__", None) or table.name
            rows = connection.scalar(sa.select(sa.func.count()).select_from(table))
            tables.add_row(name, _n(rows))
        console.print(tables)
        tags = Table(title=str(T("CLI", "Tags")))
        tags.add_column(str(T("CLI", "tag")))
        tags.add_column(str(T("CLI", "contacts")), justify="right")
        query = (
            sa.select(Tag.name, sa.func.count(contact_tags.c.contact_id))
            .select_from(Tag)
            .outerjoin(contact_tags, contact_tags.c.tag_id == Tag.id)
            .group_by(Tag.name)
            .order_by(Tag.name)
        )
        for name, members in connection.execute(query):
            tags.add_row(name, _n(members))
        console.print(tags)
        events = Table(title=str(T("CLI", "Events")))
        events.add_column(str(T("CLI", "type")))
        events.add_column(str(T("CLI", "events")), justify="right")
        events.add_column(str(T("CLI", "contacts")), justify="right")
        query = (
            sa.select(Event.type, sa.func.count(), sa.func.count(Event.contact_id.distinct()))
            .group_by(Event.type)
            .order_by(Event.type)
        )
        for name, total, contacts in connection.execute(query):
            events.add_row(name, _n(total), _n(contacts))
        console.print(events)
    return EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    mapping: dict[str, str] = {}
    for item in args.map:
        column, equals, target = item.rpartition("=")
        if not equals or not column.strip():
            return _fail(
                str(T("CLI", '--map {item}: write it as "CSV column=field"', item=repr(item)))
            )
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
        rejected = len(error.rejected)
        message = T(
            "CLI",
            "{rows} listed above; nothing was written. Fix them, or pass --skip-bad to import "
            "the other rows.",
            rows=T("CLI", "{number} rejected row(s)", rejected, number=_n(rejected)),
        )
        return _fail(f"{args.file}: {message}", EXIT_REJECTED)
    _print_report(report)
    return EXIT_OK


DELIMITER_NAMES = {
    "comma": T("CLI", "comma"),
    "semicolon": T("CLI", "semicolon"),
    "tab": T("CLI", "tab"),
}


def _print_report(report: ImportReport) -> None:
    console = Console(highlight=False, soft_wrap=True)
    heading = T(
        "CLI",
        "{file}: preset {preset}, {encoding}, {delimiter}",
        file=report.path,
        preset=report.preset,
        encoding=report.encoding,
        delimiter=str(DELIMITER_NAMES.get(report.delimiter, report.delimiter)),
    )
    console.print(str(heading), markup=False)
    if report.dry_run:
        created = T("CLI", "contacts that would be created")
        updated = T("CLI", "existing contacts that would be updated")
    else:
        created = T("CLI", "contacts created")
        updated = T("CLI", "existing contacts updated")
    table = Table()
    table.add_column("")
    table.add_column("", justify="right")
    table.show_header = False
    table.add_row(str(T("CLI", "rows read")), _n(report.rows))
    table.add_row(str(created), _n(report.created))
    table.add_row(str(updated), _n(report.updated))
    table.add_row(str(T("CLI", "duplicate rows merged")), _n(report.merged))
    table.add_row(str(T("CLI", "rows rejected (skipped)")), _n(len(report.rejected)))
    table.add_row(str(T("CLI", "new tags")), _n(report.tags_created))
    console.print(table)
    for row in report.rejected:
        where = f"{report.path}:{row.line}"
        console.print(
            "  " + str(T("CLI", "skipped {where}: {reason}", where=where, reason=row.reason)),
            markup=False,
        )
    if report.ignored_columns:
        columns = ", ".join(report.ignored_columns)
        console.print(
            str(T("CLI", "Columns not imported: {columns}", columns=columns)), markup=False
        )
    if report.dry_run:
        console.print(str(T("CLI", "Dry run: nothing was written.")), markup=False)


def run_count(args: argparse.Namespace) -> int:
    try:
        engine = _open(args.db)
        print(count_matching(engine, args.condition, now=args.now))
    except DatabaseError as error:
        return _fail(str(error))
    except ExpressionError as error:
        return _fail(f"{args.condition}\n{' ' * (error.column - 1)}^ {error.message}")
    return EXIT_OK


def _n(value: int) -> str:
    """A count as the interface language writes it: `2,000`, `2 000`."""
    return format_number(value, current_locale() or "en")


# The stages demo and import report progress in, as the bar names them.
_STAGES = {
    "contacts": T("CLI", "contacts"),
    "events": T("CLI", "events"),
    "reading": T("CLI", "reading"),
    "writing": T("CLI", "writing"),
}


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
            label = str(_STAGES[stage]) if stage in _STAGES else stage
            self.tasks[stage] = self.bar.add_task(label, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def __exit__(self, *_exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
