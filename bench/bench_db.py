"""Contact database speed: demo generation, CSV import and the columnar read at 1,000,000
contacts, each next to the ORM-objects way of doing the same work.

Run by hand: `python bench/bench_db.py [--contacts N] [--sample M] [--repeat R] [--csv F]`.
The ORM baselines run on the first M contacts (default 50,000) and are scaled linearly to N,
which flatters them if anything (their per-row cost grows with the session). The import and
the cached reads run R times (default 3; the median is shown, each run printed with its CPU
time); `--csv` times only the import of an existing Shopify-format export, no demo base.
The file is also parsed once by each reader: Arrow's (import_arrow.py, what an import uses
when it can) and the exact one (the csv module, which files Arrow cannot read take).
Prints a table; no assertions. Other people's CPU-heavy work skews the figures: the load
average is printed before and after.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from unittest import mock

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.engine.db import importer
from app.engine.db.columns import read_columns
from app.engine.db.demo import generate_demo
from app.engine.db.importer import import_csv, parse_csv
from app.engine.db.models import ColumnCache, Contact, Event, Tag, contact_tags
from app.engine.db.records import contact_record
from app.engine.db.session import open_database
from app.engine.expressions import columns_from_contacts, parse

TODAY = date(2025, 3, 1)
NOW = datetime(2025, 3, 1, 12)
FREE_TEXT = {"first_name", "last_name", "email", "phone"}
SHOPIFY = ["Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing",
           "Default Address City", "Default Address Country Code", "Phone",
           "Accepts SMS Marketing", "Total Spent", "Total Orders", "Tags"]  # fmt: skip


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def median_of(repeat: int, action: Callable[[int], object]) -> tuple[float, object]:
    """The median time of `repeat` runs of action(run) and the last run's result. Each run's
    wall time is printed with the CPU time it took (this process and the children it waited
    for): on a machine others load, the CPU time is the steadier figure."""
    times, result = [], None
    for run in range(repeat):
        before, start = cpu_seconds(), time.perf_counter()
        result = action(run)
        times.append(time.perf_counter() - start)
        print(f"  run {run + 1}: {times[-1]:.2f} s, CPU {cpu_seconds() - before:.2f} s, {load()}")
    return statistics.median(times), result


def cpu_seconds() -> float:
    spent = os.times()
    return spent.user + spent.system + spent.children_user + spent.children_system


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def orm_insert(engine: sa.Engine, source: sa.Engine, sample: int) -> float:
    """Copy the first `sample` contacts with tags and events as ORM objects (timed part)."""
    with source.connect() as connection:
        contacts = (
            connection.execute(sa.select(Contact.__table__).where(Contact.id <= sample))
            .mappings()
            .all()
        )
        events = (
            connection.execute(sa.select(Event.__table__).where(Event.contact_id <= sample))
            .mappings()
            .all()
        )
        links = connection.execute(
            sa.select(contact_tags.c.contact_id, Tag.name)
            .join(Tag, Tag.id == contact_tags.c.tag_id)
            .where(contact_tags.c.contact_id <= sample)
        ).all()
    start = time.perf_counter()
    with Session(engine) as session:
        tags = {name: Tag(name=name) for name in {name for _, name in links}}
        objects = {
            row["id"]: Contact(**{k: v for k, v in row.items() if k != "id"}) for row in contacts
        }
        for contact_id, name in links:
            objects[contact_id].tags.append(tags[name])
        for row in events:
            objects[row["contact_id"]].events.append(
                Event(
                    **{k: v for k, v in row.items() if k not in ("id", "contact_id", "product_id")}
                )
            )
        session.add_all(objects.values())
        session.commit()
    return time.perf_counter() - start


def write_shopify_csv(engine: sa.Engine, path: Path) -> int:
    """The demo base as a Shopify customers export (apostrophe-prefixed ids and phones)."""
    tags: dict[int, list[str]] = {}
    with engine.connect() as connection:
        for contact_id, name in connection.execute(
            sa.select(contact_tags.c.contact_id, Tag.name).join(
                Tag, Tag.id == contact_tags.c.tag_id
            )
        ):
            tags.setdefault(contact_id, []).append(name)
        rows = connection.execute(
            sa.select(Contact.id, Contact.first_name, Contact.last_name, Contact.email,
                      Contact.consent_email, Contact.city, Contact.phone, Contact.consent_sms,
                      Contact.total_spent, Contact.orders_count).order_by(Contact.id)
        ).all()  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(SHOPIFY)
        for cid, first, last, email, mail_ok, city, phone, sms_ok, spent, orders in rows:
            out.writerow([f"'{7_000_000_000_000 + cid}", first, last, email or "",
                          "yes" if mail_ok else "no", city or "", "US",
                          f"'{phone}" if phone else "", "yes" if sms_ok else "no",
                          f"{spent:.2f}", orders, ", ".join(tags.get(cid, []))])  # fmt: skip
    return len(rows)


def orm_read(engine: sa.Engine, sample: int) -> float:
    """Columns the ORM way: objects with tags and events, one record each, then columns."""
    start = time.perf_counter()
    with Session(engine) as session:
        query = (
            sa.select(Contact)
            .where(Contact.id <= sample)
            .options(selectinload(Contact.tags), selectinload(Contact.events))
        )
        records = [contact_record(c, NOW) for c in session.scalars(query)]
    columns_from_contacts(records, [parse('"cats" in tags and days_since("purchase") > 30'),
                                    parse("age > 30 and total_spent > 100")])  # fmt: skip
    return time.perf_counter() - start


def import_rows(base: Path, csv_path: Path, sample: int, scale: float, repeat: int) -> list:
    """The CSV import into an empty base against parse + ORM objects, and the first read of
    the imported base (the snapshot the import left) against building it from SQL."""

    def import_into_fresh_base(run: int) -> tuple[sa.Engine, object]:
        engine = open_database(f"sqlite:///{base / f'import{run}.sqlite3'}")
        return engine, import_csv(engine, csv_path, now=NOW)

    print("CSV import into an empty base")
    seconds, (target, imported) = median_of(repeat, import_into_fresh_base)
    print(f"import: {imported.created:,} created, {imported.merged:,} merged")
    parse_seconds, parsed = timed(lambda: parse_csv(csv_path))
    sample_contacts = [parsed.table.row(index) for index in range(sample)]
    del parsed
    # The exact reader (the csv module, two processes) that files Arrow cannot read take.
    with mock.patch.object(importer, "read_with_arrow", lambda *_args: None):
        exact_seconds, _ = timed(lambda: parse_csv(csv_path))
    orm_target = open_database(f"sqlite:///{base / 'import_orm.sqlite3'}")
    start = time.perf_counter()
    with Session(orm_target) as session:
        names = {tag for c in sample_contacts for tag in c.get("tags", ())}
        tags = {name: Tag(name=name) for name in names}
        for values in sample_contacts:
            fields = {k: v for k, v in values.items() if k not in ("line", "tags", "attributes")}
            contact = Contact(created_at=NOW, **fields)
            contact.tags = [tags[name] for name in sorted(values.get("tags", ()))]
            session.add(contact)
        session.commit()
    orm = parse_seconds + (time.perf_counter() - start) * scale
    rows = [
        ("CSV import (parse + DBAPI) vs parse + ORM insert", seconds, orm),
        ("CSV parse: Arrow reader vs the exact one (csv module)", parse_seconds, exact_seconds),
    ]
    left, _ = timed(lambda: read_columns(target, now=NOW))
    with target.begin() as connection:
        connection.execute(sa.delete(ColumnCache))
    built, _ = timed(lambda: read_columns(target, now=NOW))
    rows.append(("imported base, first read (import's snapshot) vs SQL", left, built))
    return rows


def read_rows(demo: sa.Engine, sample: int, scale: float, repeat: int) -> list:
    """Columnar reads of the demo base (with its events) against ORM objects."""
    cold, columns = timed(lambda: read_columns(demo, now=NOW))
    rows = [("columns, first read after a change (SQL → snapshot)", cold, None)]
    del columns
    print("cached reads")
    warm, columns = median_of(repeat, lambda _: read_columns(demo, now=NOW))
    keys = [key for key in columns if key not in FREE_TEXT]
    count = len(columns)
    del columns
    orm = orm_read(demo, sample) * scale
    rows.append((f"columns, all {count} (cached snapshot) vs ORM objects", warm, orm))
    subset, _ = median_of(repeat, lambda _: read_columns(demo, keys, now=NOW))
    rows.append((f"columns, {len(keys)} without names/e-mails/phones (cached)", subset, None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--csv", type=Path, help="time only the import of this Shopify-format CSV (no demo)"
    )
    args = parser.parse_args()
    n, sample = args.contacts, min(args.sample, args.contacts)
    scale = n / sample
    cores = os.cpu_count()
    print(f"{n:,} contacts, {cores} cores, {load()}; ORM baselines on {sample:,} ×{scale:g}")
    rows: list[tuple[str, float, float | None]] = []
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        csv_path = args.csv
        if csv_path is None:
            demo = open_database(f"sqlite:///{base / 'demo.sqlite3'}")
            seconds, report = timed(lambda: generate_demo(demo, n, seed=1, today=TODAY))
            print(f"demo: {report.contacts:,} contacts, {report.events:,} events")
            orm_base = open_database(f"sqlite:///{base / 'orm.sqlite3'}")
            orm = orm_insert(orm_base, demo, sample) * scale
            rows.append(("demo generation (Core/DBAPI) vs ORM insert", seconds, orm))
            csv_path = base / "customers.csv"
            write_shopify_csv(demo, csv_path)
        print(f"CSV: {csv_path.stat().st_size / 1e6:.0f} MB")
        rows += import_rows(base, csv_path, sample, scale, args.repeat)
        if args.csv is None:
            rows += read_rows(demo, sample, scale, args.repeat)
    print()
    print(f"{'':58} {'ours':>9} {'baseline':>9} {'ratio':>7}")
    for label, ours, baseline in rows:
        other = f"{baseline:8.2f}s" if baseline else f"{'':9}"
        ratio = f"{baseline / ours:6.1f}×" if baseline else ""
        print(f"{label:58} {ours:8.2f}s {other} {ratio:>7}")
    print(f"\n{load()}")


if __name__ == "__main__":
    main()
