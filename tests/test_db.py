"""The contact database on a real SQLite file and a real PostgreSQL server: schema and
migrations, demo data, segment counts in SQL against both Python evaluators, columnar reads."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date, datetime

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.cli import main
from app.engine.contact_schema import DEFAULT_SCHEMA, FieldType
from app.engine.db.cache import load_meta
from app.engine.db.columns import all_column_keys, read_columns
from app.engine.db.conditions import count_matching
from app.engine.db.demo import DemoError, generate_demo
from app.engine.db.fields import SqlFields
from app.engine.db.models import Base, Contact, Event
from app.engine.db.records import iter_contact_records
from app.engine.db.schema import contact_schema
from app.engine.db.session import (
    DatabaseError,
    create_database_engine,
    migrate,
    open_database,
    schema_revision,
)
from app.engine.db.versioning import data_version
from app.engine.expressions import ExpressionError, columns_needed, evaluate, evaluate_columns
from app.engine.expressions import parse as parse_condition
from app.engine.templates import preview_context, render

PG_ENV = "VORONKA_TEST_PG"
TODAY = date(2025, 3, 1)
NOW = datetime(2025, 3, 1, 12, 0)  # a Saturday, the first day of spring
PAST = datetime(2024, 6, 15, 9, 30)


# --------------------------------------------------------------------------- databases


def postgres_server_url() -> str:
    """The test server's URL; skipped only when none is reachable and CI is not set."""
    url = os.environ.get(PG_ENV)
    reason = f"{PG_ENV} is not set" if not url else None
    if url:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect():
                pass
        except sa.exc.OperationalError as error:
            reason = f"cannot reach {make_url(url).render_as_string()}: {error.orig}"
        finally:
            engine.dispose()
    if reason is None:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests must run in CI, but {reason}")
    pytest.skip(f"no PostgreSQL server for the database tests: {reason}")


@pytest.fixture(name="postgres_url")
def postgres_url_fixture() -> Iterator[str]:
    """A fresh schema of its own on the test server, dropped afterwards."""
    server = postgres_server_url()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server)
    with admin.begin() as connection:
        connection.execute(sa.schema.CreateSchema(schema))
    try:
        url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.schema.DropSchema(schema, cascade=True))
        admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(name="database_url", params=BACKENDS)
def database_url_fixture(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'contacts.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(name="engine")
def engine_fixture(database_url: str) -> Iterator[sa.Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def demo_engine(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[sa.Engine]:
    """One demo base per backend for the read-only tests of this module."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
        cleanup = None
    else:
        server = postgres_server_url()
        schema = f"demo_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(server)
        with admin.begin() as connection:
            connection.execute(sa.schema.CreateSchema(schema))
        url = (
            make_url(server)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
        cleanup = (admin, schema)
    engine = open_database(url)
    generate_demo(engine, 1500, seed=7, today=TODAY)
    with engine.begin() as connection:
        # Custom attributes of every JSON kind, for the strict-equality and `in` cases.
        for contact_id, attributes in (
            (1, {"pets": ["cat", "dog"], "nick": "kitty cat", "vip_club": True, "level": "5"}),
            (2, {"pets": ["fish"], "nick": "", "vip_club": False, "level": 5}),
            (3, {"pets": [5, "cat"], "level": 5.5, "source": "vk"}),
        ):
            connection.execute(
                sa.update(Contact).where(Contact.id == contact_id).values(attributes=attributes)
            )
    yield engine
    engine.dispose()
    if cleanup:
        admin, schema = cleanup
        with admin.begin() as connection:
            connection.execute(sa.schema.DropSchema(schema, cascade=True))
        admin.dispose()


# --------------------------------------------------------------------------- schema


def test_open_creates_the_newest_schema_and_it_matches_the_models(engine: sa.Engine) -> None:
    assert schema_revision(engine) == "0004"
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_every_declared_contact_field_has_sql(engine: sa.Engine) -> None:
    fields = SqlFields(engine.dialect.name, NOW)
    contact_fields = [
        f for f in DEFAULT_SCHEMA.fields if not f.calendar and f.type is not FieldType.TAGS
    ]
    with engine.connect() as connection:
        for declared in contact_fields:
            connection.execute(sa.select(fields.field(declared.name)).select_from(Contact))


def test_an_old_schema_is_upgraded_on_open_and_its_data_kept(database_url: str) -> None:
    old = create_database_engine(database_url)
    migrate(old, "0001")
    contacts = sa.table(
        "contacts",
        sa.column("id"),
        sa.column("email"),
        sa.column("first_name"),
        sa.column("created_at"),
        sa.column("consent_email"),
    )
    events = sa.table(
        "events",
        sa.column("contact_id"),
        sa.column("type"),
        sa.column("occurred_at"),
        sa.column("amount"),
    )
    with old.begin() as connection:
        connection.execute(
            contacts.insert(),
            [
                {
                    "id": 1,
                    "email": "a@example.com",
                    "first_name": "Ann",
                    "created_at": datetime(2024, 1, 1),
                    "consent_email": True,
                },
                {
                    "id": 2,
                    "email": "b@example.com",
                    "first_name": "Bob",
                    "created_at": datetime(2024, 1, 2),
                    "consent_email": False,
                },
            ],
        )
        connection.execute(
            events.insert(),
            [
                {
                    "contact_id": 1,
                    "type": "purchase",
                    "occurred_at": datetime(2024, 2, 1),
                    "amount": 100.0,
                },
                {
                    "contact_id": 1,
                    "type": "purchase",
                    "occurred_at": datetime(2024, 3, 1),
                    "amount": 50.5,
                },
                {
                    "contact_id": 2,
                    "type": "opened",
                    "occurred_at": datetime(2024, 3, 1),
                    "amount": None,
                },
            ],
        )
    assert schema_revision(old) == "0001"
    old.dispose()

    engine = open_database(database_url)
    assert schema_revision(engine) == "0004"
    with Session(engine) as session:
        ann, bob = session.scalars(sa.select(Contact).order_by(Contact.id)).all()
        assert (ann.email, ann.first_name, ann.consent_email) == ("a@example.com", "Ann", True)
        assert (ann.orders_count, ann.total_spent, ann.last_purchase_at) == (
            2,
            150.5,
            datetime(2024, 3, 1),
        )
        assert (bob.orders_count, bob.total_spent, bob.last_purchase_at) == (0, 0.0, None)
        assert len(ann.events) == 2
    engine.dispose()


def test_a_bad_database_url_is_named_in_the_message(tmp_path) -> None:
    with pytest.raises(DatabaseError, match="not a database URL"):
        open_database("not a url")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatabaseError, match=r"cannot create the folder .*file for the database"):
        open_database(f"sqlite:///{blocker}/contacts.sqlite3")
    with pytest.raises(DatabaseError, match="cannot open the database sqlite:///"):
        open_database(f"sqlite:///{tmp_path}")  # a folder, not a database file


def test_the_default_database_follows_voronka_db(tmp_path, monkeypatch) -> None:
    target = tmp_path / "env.sqlite3"
    monkeypatch.setenv("VORONKA_DB", f"sqlite:///{target}")
    engine = open_database()
    assert target.exists() and schema_revision(engine) == "0004"
    engine.dispose()


# --------------------------------------------------------------------------- demo


def _dump(engine: sa.Engine) -> tuple[list, list, list]:
    with engine.connect() as connection:
        contacts = connection.execute(sa.select(Contact.__table__).order_by(Contact.id)).all()
        events = connection.execute(sa.select(Event.__table__).order_by(Event.id)).all()
        tags = connection.execute(
            sa.text("SELECT contact_id, tag_id FROM contact_tags ORDER BY contact_id, tag_id")
        ).all()
    return contacts, events, tags


def test_demo_is_deterministic_for_a_seed_and_plausible(tmp_path) -> None:
    engines = [open_database(f"sqlite:///{tmp_path / f'{name}.sqlite3'}") for name in "abc"]
    for engine, seed in zip(engines, (5, 5, 6), strict=True):
        generate_demo(engine, 400, locale="en_US", seed=seed, today=TODAY)
    first, second, other = (_dump(engine) for engine in engines)
    assert first == second
    assert first[0] != other[0]
    contacts = first[0]
    emails = [c.email for c in contacts if c.email]
    assert len(emails) == len(set(emails)) and all("@" in e for e in emails)
    assert 0.55 < sum(c.phone is not None for c in contacts) / len(contacts) < 0.85
    assert all(c.phone.startswith("+1") for c in contacts if c.phone)
    assert not any(c.consent_sms for c in contacts if c.phone is None)
    assert 0 < sum(c.consent_sms for c in contacts) < sum(c.phone is not None for c in contacts)
    assert {c.country for c in contacts} == {"United States"}
    with Session(engines[0]) as session:
        records = list(iter_contact_records(session, NOW))
    ages = [r["age"] for r in records if r["age"] is not None]
    assert min(ages) >= 18 and max(ages) <= 80
    purchases = [r for r in records if "purchase" in r["events"]]
    assert all(r["orders_count"] == r["events"]["purchase"]["count"] for r in purchases)
    assert any(r["cart_value"] > 0 for r in records)
    assert {"cats", "fish", "vip"} <= {tag for r in records for tag in r["tags"]}
    for engine in engines:
        engine.dispose()


def test_demo_refuses_a_base_with_contacts_unless_replacing(engine: sa.Engine) -> None:
    generate_demo(engine, 50, seed=1, today=TODAY)
    with pytest.raises(DemoError, match="already has contacts"):
        generate_demo(engine, 50, seed=1, today=TODAY)
    report = generate_demo(engine, 60, seed=2, today=TODAY, replace=True)
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(Contact)) == 60
        assert connection.scalar(sa.select(sa.func.count()).select_from(Event)) == report.events


# --------------------------------------------------------------------------- schema from data


def test_contact_schema_comes_from_the_database(demo_engine: sa.Engine) -> None:
    schema = contact_schema(demo_engine)
    assert schema.fields == DEFAULT_SCHEMA.fields
    assert {"cats", "dogs", "fish", "vip", "newsletter"} <= schema.tags
    assert {"purchase", "cart_abandoned", "signup"} <= schema.events
    assert {"source", "loyalty_points", "pets", "nick", "vip_club", "level"} <= (
        schema.custom_attributes
    )
    with pytest.raises(ExpressionError, match="no contact has the tag unicorns"):
        count_matching(demo_engine, '"unicorns" in tags', now=NOW)


# --------------------------------------------------------------------------- counting

CONDITIONS = [
    'age >= 30 and gender == "f"',
    'gender != "f"',
    'city != "Москва"',
    'city in ["Москва", "Казань"]',
    'city not in ["Москва", "Казань"]',
    "age in [25, 30, 35]",
    "not (age > 40)",
    "age > 40 or not has_phone",
    '"cats" in tags and "vip" not in tags',
    'has_tag("fish") or "birds" in tags',
    "consent_sms and has_phone",
    "consent_email == false",
    "has_email != true",
    'days_since("purchase") > 30',
    'not (days_since("cart_abandoned") < 7)',
    'days_since("purchase") <= 30 or days_since("purchase") > 300',
    'event_count("opened") >= 3',
    'event_count("opened") / event_count("clicked") > 2',
    'has_event("lead_magnet_download") and not has_event("purchase")',
    "orders_count * 2 + 1 > 5",
    "total_spent / orders_count > 3000",
    "cart_value > 0 and days_since_purchase > 60",
    "days_since_signup < 90",
    "days_since_signup - days_since_purchase >= 100",
    "nps_score >= 9",
    "nps_score != 10",
    'crm_stage == "loyal" or crm_stage == "customer"',
    "loyalty_points > 50",
    "loyalty_points != 10",
    'source == "vk"',
    'source in ["vk", "yandex"]',
    'source != "vk"',
    'season == "spring" and month == 3',
    'weekday == "sat" and hour >= 12',
    "age - 10 > days_since_signup / 100",
    "first_name == last_name",
    '"newsletter" in tags or consent_push == true',
    '"cat" in pets',
    '"cat" in nick',
    "5 in pets",
    '"cat" not in pets',
    "vip_club",
    "vip_club == true",
    "vip_club != false",
    "not vip_club",
    "level == 5",
    'level == "5"',
    "level > 5",
    "10 > 5",
    "true",
]


@pytest.mark.parametrize("now", [NOW, PAST], ids=["now", "past"])
def test_sql_counts_equal_the_dict_and_numpy_evaluators(demo_engine, now) -> None:
    schema = contact_schema(demo_engine)
    with Session(demo_engine) as session:
        records = list(iter_contact_records(session, now))
    read_columns(demo_engine, now=now)
    columns = read_columns(demo_engine, now=now)  # from the cached snapshot when it can be
    assert columns.n == len(records) == 1500
    for text in CONDITIONS:
        expr = parse_condition(text)
        by_dict = sum(evaluate(expr, record, schema) for record in records)
        by_numpy = int(evaluate_columns(expr, columns, columns.n, schema).sum())
        by_sql = count_matching(demo_engine, text, now=now, schema=schema)
        assert by_sql == by_dict == by_numpy, text
    # The table is meaningful: most conditions select some contacts but not all.
    assert sum(0 < count_matching(demo_engine, t, now=now) < 1500 for t in CONDITIONS) > 30


def test_a_record_carries_the_latest_abandoned_cart_for_templates(demo_engine) -> None:
    with Session(demo_engine) as session:
        records = list(iter_contact_records(session, NOW))
        carts = session.scalars(sa.select(Event).where(Event.type == "cart_abandoned")).all()
    with_cart = [r for r in records if "cart" in r]
    abandoned = [r for r in records if r["events"].get("cart_abandoned", {}).get("count")]
    assert with_cart and len(with_cart) == len(abandoned)
    cart = with_cart[0]["cart"]
    assert cart["items"] and {"name", "price"} <= set(cart["items"][0])
    assert cart["value"] in {event.amount for event in carts}
    rendered = render("{{ cart.items[0].name }}", preview_context(with_cart[0], cart=cart))
    assert rendered == cart["items"][0]["name"]


def test_the_count_is_one_sql_statement_with_bound_values(demo_engine) -> None:
    from app.engine.db.conditions import condition_clause

    text = 'city == "\'); DROP TABLE contacts; --" or "x\'y" in tags'
    schema = contact_schema(demo_engine)
    with pytest.raises(ExpressionError):
        count_matching(demo_engine, text, now=NOW)
    expr = parse_condition('city == "\'); DROP TABLE contacts; --"')
    clause = condition_clause(expr, schema, demo_engine.dialect.name, NOW)
    compiled = clause.compile(dialect=demo_engine.dialect)
    assert "DROP" not in str(compiled) and "DROP TABLE" in str(compiled.params)
    assert count_matching(demo_engine, 'city == "\'); DROP TABLE contacts; --"', now=NOW) == 0


# --------------------------------------------------------------------------- columns


def test_columns_follow_the_evaluator_conventions(demo_engine) -> None:
    schema = contact_schema(demo_engine)
    columns = read_columns(demo_engine, now=NOW)
    assert list(columns) == all_column_keys(schema)
    assert np.all(np.diff(columns.ids) > 0)
    assert columns["age"].dtype == np.float64 and np.isnan(columns["age"]).any()
    assert columns["consent_sms"].dtype == bool and columns["tag:cats"].dtype == bool
    assert columns["event_count:purchase"].dtype == np.float64
    assert np.isnan(columns["days_since:purchase"]).any()
    assert columns["email"].dtype == object and None in set(columns["email"])
    city = columns.categorical["city"]
    assert city.codes.dtype == np.int32 and list(city.categories) == sorted(city.categories)
    assert (city.codes == -1).sum() == sum(value is None for value in columns["city"])
    assert all(
        columns["city"][i] == (city.categories[c] if c >= 0 else None)
        for i, c in enumerate(city.codes)
    )
    assert set(columns.categorical) == {"gender", "city", "country", "locale", "crm_stage"}
    assert columns["attr:pets"][0] == ["cat", "dog"] and columns["attr:vip_club"][1] is False


def test_columns_can_be_read_for_one_condition_only(demo_engine) -> None:
    expr = parse_condition('"cats" in tags and days_since("purchase") < 60 and season == "spring"')
    keys = columns_needed(expr)
    columns = read_columns(demo_engine, keys, now=NOW)
    assert set(columns) == keys
    assert set(columns["season"]) == {"spring"}
    with pytest.raises(ValueError, match="unknown column 'agee'"):
        read_columns(demo_engine, ["agee"], now=NOW)


# --------------------------------------------------------------------------- CLI


def test_cli_init_demo_stats_and_count(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert main(["db", "init", "--db", url]) == 0
    assert "schema revision 0004" in capsys.readouterr().out
    args = ["db", "demo", "--db", url, "--contacts", "300", "--locale", "ru_RU", "--seed", "3"]
    assert main([*args, "--today", "2025-03-01"]) == 0
    assert "300 contacts" in capsys.readouterr().out
    assert main([*args, "--today", "2025-03-01"]) == 2
    assert "--replace" in capsys.readouterr().err
    assert main(["db", "stats", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "contacts" in out and "300" in out and "cats" in out and "purchase" in out
    engine = open_database(url)
    expected = count_matching(engine, '"cats" in tags', now=NOW)
    engine.dispose()
    assert main(["db", "count", "--db", url, '"cats" in tags', "--now", "2025-03-01T12:00"]) == 0
    assert capsys.readouterr().out.strip() == str(expected)
    assert main(["db", "count", "--db", url, "agee > 3"]) == 2
    assert "did you mean age" in capsys.readouterr().err


def _same(first, second) -> bool:
    return all(
        first[key].tolist() == second[key].tolist()
        if first[key].dtype == object
        else np.array_equal(first[key], second[key], equal_nan=True)
        for key in first
    ) and list(first) == list(second)


def test_the_snapshot_is_cached_until_any_writer_changes_the_data(engine) -> None:
    generate_demo(engine, 300, seed=4, today=TODAY)
    with engine.connect() as connection:
        version = data_version(connection)
        assert load_meta(connection, version) is None
    built = read_columns(engine, now=NOW)
    with engine.connect() as connection:
        assert data_version(connection) == version
        assert load_meta(connection, version)["latest_event"] > 0
    cached = read_columns(engine, now=NOW)
    assert _same(built, cached)
    assert not cached["total_spent"].flags.writeable  # a view of the stored bytes

    # Plain SQL, as any other tool would write, bumps the version through the triggers.
    with engine.begin() as connection:
        connection.execute(sa.update(Contact).where(Contact.id == 1).values(city="Тверь"))
        connection.execute(
            sa.insert(Event).values(contact_id=2, type="purchase", occurred_at=datetime(2025, 2, 1))
        )
        assert data_version(connection) > version
    fresh = read_columns(engine, ["city", "event_count:purchase"], now=NOW)
    assert fresh["city"][0] == "Тверь"
    assert fresh["event_count:purchase"][1] == cached["event_count:purchase"][1] + 1


def test_bulk_writers_leave_the_triggers_in_place(engine) -> None:
    generate_demo(engine, 20, seed=1, today=TODAY)
    with engine.connect() as connection:
        before = data_version(connection)
    with engine.begin() as connection:
        connection.execute(sa.delete(Event).where(Event.contact_id == 3))
    with engine.connect() as connection:
        assert data_version(connection) > before
        if engine.dialect.name == "sqlite":
            triggers = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
            assert connection.exec_driver_sql(triggers).scalar() == 12


def test_a_large_sqlite_insert_rebuilds_the_contact_indexes(tmp_path) -> None:
    from app.engine.db.bulk import indexes_rebuilt, insert_columns

    engine = open_database(f"sqlite:///{tmp_path / 'bulk.sqlite3'}")
    listed = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contacts'"
    table = Contact.__table__
    row = {"created_at": [NOW, NOW], "consent_email": [True, False]}
    with engine.begin() as connection:
        with indexes_rebuilt(connection, table, rows=60_000):
            assert connection.exec_driver_sql(listed).scalars().all() == []
            insert_columns(connection, table, {"id": [1, 2], "email": ["a@x.io", "b@x.io"], **row})
        indexes = set(connection.exec_driver_sql(listed).scalars())
    assert indexes == {"ix_contacts_email", "ix_contacts_external_id"}
    with (
        pytest.raises(sa.exc.IntegrityError),
        engine.begin() as connection,
        indexes_rebuilt(connection, table, rows=60_000),
    ):
        insert_columns(connection, table, {"id": [3, 4], "email": ["a@x.io", "c@x.io"], **row})
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2
        assert set(connection.exec_driver_sql(listed).scalars()) == indexes
    engine.dispose()
