"""CSV import of real CRM and shop exports (tests/data/import/): counts, merged duplicates,
rejected rows with their lines, and nothing written when a file is bad."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from test_db import (  # noqa: F401  (fixtures shared with the database tests)
    database_url_fixture,
    engine_fixture,
    postgres_url_fixture,
)

from app.cli import main
from app.engine import i18n
from app.engine.db import session
from app.engine.db.cache import from_bytes, load_arrays, load_meta, store_arrays, to_bytes
from app.engine.db.columns import _Builder, read_columns
from app.engine.db.import_arrow import convert_arrow_column
from app.engine.db.import_reading import CsvImportError, choose_preset, decode
from app.engine.db.import_values import (
    PYTHON_SPACE,
    Converter,
    convert_column,
    field_converters,
    normalize_phone,
    parse_datetime,
    parse_number,
)
from app.engine.db.import_writer import ContactWriter
from app.engine.db.importer import import_csv, parse_csv
from app.engine.db.models import ColumnCache, Contact, Tag, contact_tags
from app.engine.db.session import open_database
from app.engine.db.versioning import data_version
from app.i18n import cli_translate

DATA = Path(__file__).parent / "data" / "import"
NOW = datetime(2025, 3, 1, 12, 0)
AMO_MAP = {"Сумма покупок": "total_spent"}

# file, options, (preset, encoding, delimiter), rows, created, merged, rejected lines + reasons
FILES = [
    (
        "shopify_customers.csv",
        {},
        ("shopify", "utf-8", "comma"),
        6,
        4,
        1,
        [(7, "column 'Email': 'noah.davis@example' is not an e-mail address")],
    ),
    (
        "mailchimp_audience.csv",
        {},
        ("mailchimp", "utf-8", "comma"),
        4,
        2,
        1,
        [(4, "column 'OPTIN_TIME': 'yesterday' is not a date (use DD.MM.YYYY or YYYY-MM-DD)")],
    ),
    (
        "hubspot_contacts.csv",
        {},
        ("hubspot", "utf-8", "comma"),
        4,
        2,
        1,
        [
            (
                8,
                "column 'Phone Number': '555-0142' has no country code; write it as "
                "+<country code>… (or pass --phone-country)",
            )
        ],
    ),
    (
        "amocrm_contacts.csv",
        {"mapping": AMO_MAP},
        ("amocrm", "cp1251", "semicolon"),
        4,
        2,
        1,
        [(6, "column 'Личный email': 'olga@@mail.ru' is not an e-mail address")],
    ),
    (
        "bitrix24_contacts.csv",
        {},
        ("bitrix24", "utf-8-sig", "semicolon"),
        5,
        2,
        1,
        [
            (
                4,
                "column 'Дата рождения': '12.13.1990' is not a date (use DD.MM.YYYY or YYYY-MM-DD)",
            ),
            (6, "22 fields, but the header has 20"),
        ],
    ),
]


def _count(engine: sa.Engine, table=Contact) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(table))


def _contacts(engine: sa.Engine) -> dict[str, Contact]:
    """Imported contacts by e-mail (or phone), with their tags loaded."""
    session = Session(engine, expire_on_commit=False)
    contacts = session.scalars(sa.select(Contact)).all()
    for contact in contacts:
        _ = contact.tags
    session.close()
    return {c.email or c.phone: c for c in contacts}


@pytest.mark.parametrize(
    ("name", "options", "detected", "rows", "created", "merged", "rejected"), FILES
)
def test_each_export_imports_with_its_quirks(
    engine, name, options, detected, rows, created, merged, rejected
) -> None:
    path = DATA / name
    with pytest.raises(CsvImportError) as refused:
        import_csv(engine, path, now=NOW, **options)
    assert [(r.line, r.reason) for r in refused.value.rejected] == rejected
    assert _count(engine) == 0

    report = import_csv(engine, path, now=NOW, skip_bad=True, **options)
    assert (report.preset, report.encoding, report.delimiter) == detected
    assert (report.rows, report.created, report.updated, report.merged) == (
        rows,
        created,
        0,
        merged,
    )
    assert [(r.line, r.reason) for r in report.rejected] == rejected
    assert _count(engine) == created

    again = import_csv(engine, path, now=NOW, skip_bad=True, **options)
    assert (again.created, again.updated) == (0, created)
    assert _count(engine) == created


def test_shopify_apostrophes_duplicates_and_tags(engine) -> None:
    import_csv(engine, DATA / "shopify_customers.csv", skip_bad=True, now=NOW)
    people = _contacts(engine)
    assert set(people) == {
        "emily.carter@example.com",
        "jacob.miller@example.com",
        "olivia.brown@example.com",
        "ava.wilson@example.com",
    }
    emily = people["emily.carter@example.com"]
    assert (emily.external_id, emily.phone) == ("7012345678901", "+15125550101")
    assert (emily.consent_email, emily.consent_sms, emily.country) == (True, True, "US")
    jacob = people["jacob.miller@example.com"]  # JACOB.MILLER@Example.com + a later row
    assert (jacob.consent_email, jacob.total_spent, jacob.orders_count) == (True, 120.0, 1)
    assert (jacob.phone, jacob.external_id) == ("+16175550102", "7012345678904")
    assert [t.name for t in jacob.tags] == ["vip"]
    assert people["olivia.brown@example.com"].attributes == {"note": "Prefers\nevening deliveries"}
    ava = people["ava.wilson@example.com"]
    assert ava.total_spent == 1234.5 and [t.name for t in ava.tags] == ["cats", "vip"]
    assert ava.created_at == NOW
    assert _count(engine, Tag) == 3


def test_mailchimp_tags_and_consent(engine) -> None:
    import_csv(engine, DATA / "mailchimp_audience.csv", skip_bad=True, now=NOW)
    people = _contacts(engine)
    sophia = people["sophia.lee@example.com"]
    assert (sophia.last_name, sophia.phone) == ("Lee-Smith", "+14155550111")
    assert sophia.created_at == datetime(2023, 4, 5, 10, 11, 12)
    assert [t.name for t in sophia.tags] == ["customer", "vip"]
    assert sophia.attributes == {"member_rating": 5}
    assert all(person.consent_email for person in people.values())


def test_hubspot_multiline_notes_and_merge_by_phone(engine) -> None:
    import_csv(engine, DATA / "hubspot_contacts.csv", skip_bad=True, now=NOW)
    people = _contacts(engine)
    james = people["james.taylor@example.com"]
    assert james.attributes == {
        "message": 'Asked about bulk pricing,\n"the big bag", and delivery\nto the office'
    }
    assert james.created_at == datetime(2024, 1, 15, 9, 30) and james.consent_email
    isabella = people["isabella.moore@example.com"]  # line 5 had no e-mail, same phone
    assert (isabella.phone, isabella.crm_stage, isabella.external_id) == (
        "+12125550199",
        "opportunity",
        "503",
    )
    assert isabella.consent_email is False  # "Unsubscribed from all email" = true


def test_amocrm_cp1251_russian_phones_and_decimal_commas(engine) -> None:
    report = import_csv(
        engine, DATA / "amocrm_contacts.csv", mapping=AMO_MAP, skip_bad=True, now=NOW
    )
    assert report.ignored_columns == ["Компания", "Ответственный"]
    people = _contacts(engine)
    ivan = people["i.petrov@romashka.ru"]
    assert ivan.phone == "+79161234567"  # 8 (916) … and +7 916 … are one person
    assert ivan.total_spent == 1500.0 and ivan.created_at == datetime(2024, 3, 20)
    assert [t.name for t in ivan.tags] == ["vip", "вип-клиент", "кошки"]
    maria = people["maria.ivanova@mail.ru"]
    assert maria.attributes == {"note": "Звонить после 18:00; просила\nскидку"}
    assert (maria.city, maria.total_spent) == ("Казань", 0.0)
    first = parse_csv(DATA / "amocrm_contacts.csv", mapping=AMO_MAP, skip_bad=True)
    assert first.contacts[0]["line"] == 2 and first.report.rejected[0].line == 6


def test_bitrix24_bom_trailing_semicolons_and_salutations(engine) -> None:
    import_csv(engine, DATA / "bitrix24_contacts.csv", skip_bad=True, now=NOW)
    people = _contacts(engine)
    katya = people["katya.smirnova@yandex.ru"]
    assert (katya.gender, katya.birth_date, katya.external_id) == ("f", date(1988, 11, 5), "20")
    assert (katya.crm_stage, katya.phone, katya.country) == ("VIP", "+79210001122", "Россия")
    dmitry = people["d.kuznetsov@vector.ru"]
    assert (dmitry.gender, dmitry.phone) == ("m", "+73432223344")
    assert dmitry.attributes == {"source": "Звонок", "note": "Постоянный клиент"}


def test_an_import_updates_existing_contacts_and_merges_tags(engine) -> None:
    import_csv(engine, DATA / "shopify_customers.csv", skip_bad=True, now=NOW)
    update = DATA.parent / "update.csv"
    update.write_text(
        "email,first_name,tags,phone\n"
        "emily.carter@example.com,Em,returning,\n"
        ",Jake,new,+1 617 555 0102\n",
        encoding="utf-8",
    )
    try:
        report = import_csv(engine, update, now=NOW)
    finally:
        update.unlink()
    assert (report.preset, report.created, report.updated) == ("generic", 0, 2)
    people = _contacts(engine)
    emily = people["emily.carter@example.com"]
    assert emily.first_name == "Em" and emily.last_name == "Carter"
    assert [t.name for t in emily.tags] == ["newsletter", "returning", "vip"]
    assert people["jacob.miller@example.com"].first_name == "Jake"
    with engine.connect() as connection:
        links = connection.scalar(sa.select(sa.func.count()).select_from(contact_tags))
    assert links == 2 + 1 + 1 + 2 + 2


def test_dry_run_reports_and_writes_nothing(engine) -> None:
    report = import_csv(engine, DATA / "bitrix24_contacts.csv", skip_bad=True, dry_run=True)
    assert (report.created, report.merged, len(report.rejected)) == (2, 1, 2)
    assert _count(engine) == 0 and _count(engine, Tag) == 0


def _dangling_link_refused(engine: sa.Engine) -> bool:
    try:
        with engine.begin() as connection:
            connection.execute(contact_tags.insert().values(contact_id=10**9, tag_id=10**9))
    except sa.exc.IntegrityError:
        return True
    return False


def _sqlite_modes(connection: sa.Connection) -> tuple:
    return tuple(
        connection.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in ("foreign_keys", "journal_mode", "synchronous", "cache_size")
    )


def test_a_refused_write_changes_nothing_and_foreign_keys_stay_checked(engine, monkeypatch) -> None:
    """SQLite imports skip the foreign-key lookups of their own links and, when large, the
    WAL (session.bulk_load; every import counts as large here): before and after, with the
    write refused or not, the checks and the WAL are back for everybody else."""
    monkeypatch.setattr(session, "JOURNAL_FROM_ROWS", 0)
    import_csv(engine, DATA / "shopify_customers.csv", skip_bad=True, now=NOW)
    before = _contacts(engine)
    closing = [
        "CREATE TRIGGER closed BEFORE INSERT ON contacts "
        "BEGIN SELECT RAISE(ABORT, 'closed for the test'); END"
    ]
    if engine.dialect.name == "postgresql":
        closing = [
            "CREATE FUNCTION closed() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'closed for the test'; END $$",
            "CREATE TRIGGER closed BEFORE INSERT ON contacts "
            "FOR EACH ROW EXECUTE FUNCTION closed()",
        ]
    with engine.begin() as connection:
        for statement in closing:
            connection.exec_driver_sql(statement)
    with pytest.raises(CsvImportError, match=r"refused the import.*closed for the test"):
        import_csv(engine, DATA / "mailchimp_audience.csv", skip_bad=True)
    assert set(_contacts(engine)) == set(before) and _count(engine, Tag) == 3
    assert _dangling_link_refused(engine)
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert _sqlite_modes(connection) == (1, "wal", 1, -65536)


def test_a_large_sqlite_import_writes_without_the_wal_when_alone(tmp_path, monkeypatch):
    """Without the WAL only while no other connection has the file open; WAL after."""
    monkeypatch.setattr(session, "JOURNAL_FROM_ROWS", 0)
    url = f"sqlite:///{tmp_path / 'contacts.sqlite3'}"
    engine = open_database(url)
    seen: list[tuple] = []
    write = ContactWriter.write

    def spied(writer, *args, **options):
        seen.append(_sqlite_modes(writer.connection))
        return write(writer, *args, **options)

    monkeypatch.setattr(ContactWriter, "write", spied)
    import_csv(engine, DATA / "shopify_customers.csv", skip_bad=True, now=NOW)
    other = open_database(url)
    with other.connect() as reading:
        reading.exec_driver_sql("SELECT count(*) FROM contacts").scalar()
        import_csv(engine, DATA / "hubspot_contacts.csv", skip_bad=True, now=NOW)
    assert seen == [(0, "delete", 2, -262144), (0, "wal", 1, -262144)]
    with engine.connect() as connection:
        assert _sqlite_modes(connection) == (1, "wal", 1, -65536)
        assert connection.scalar(sa.select(sa.func.count()).select_from(Contact)) == 6
    other.dispose()
    engine.dispose()


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("mixed_encoding.csv", 3, "the file mixes encodings"),
        ("broken_quote.csv", 3, "a quoted field starts on this line and is never closed"),
    ],
)
def test_a_malformed_file_names_the_line_and_changes_nothing(engine, name, line, message):
    import_csv(engine, DATA / "shopify_customers.csv", skip_bad=True, now=NOW)
    before = _contacts(engine)
    for skip_bad in (False, True):
        with pytest.raises(CsvImportError, match=message) as refused:
            import_csv(engine, DATA / name, skip_bad=skip_bad)
        assert refused.value.line == line
        assert str(refused.value).startswith(f"line {line}: ")
    assert set(_contacts(engine)) == set(before)


def test_ragged_rows_and_stray_quotes_are_rejected_with_their_lines(engine) -> None:
    with pytest.raises(CsvImportError) as refused:
        import_csv(engine, DATA / "ragged_rows.csv")
    assert [(r.line, r.reason) for r in refused.value.rejected] == [
        (3, "2 fields, but the header has 3"),
        (4, "4 fields, but the header has 3"),
        (
            5,
            "text follows a closing quote; a field that starts with a quote must end with a "
            'quote right before the delimiter (write a quote inside a field as "")',
        ),
    ]
    assert _count(engine) == 0
    report = import_csv(engine, DATA / "ragged_rows.csv", skip_bad=True)
    assert report.created == 2 and set(_contacts(engine)) == {
        "ann@example.com",
        "eve@example.com",
    }


def test_text_in_an_unknown_encoding_is_refused(tmp_path) -> None:
    with pytest.raises(CsvImportError, match="neither UTF-8 nor Windows-1251"):
        decode("email,name\nm@example.com,Müller Straße Größe\n".encode("latin-1"))
    with pytest.raises(CsvImportError, match="NUL bytes"):
        decode("email\n".encode("utf-16-le"))
    assert decode("Имя;Фамилия\r\n".encode("cp1251")) == ("Имя;Фамилия\r\n", "cp1251")
    assert decode(b"\xef\xbb\xbfemail\n") == ("email\n", "utf-8-sig")
    assert decode("e\n".encode("utf-16")) == ("e\n", "utf-16")


def test_presets_are_recognised_by_header_and_mapping_errors_are_clear() -> None:
    assert choose_preset(["Email Address", "MEMBER_RATING", "LEID"]).name == "mailchimp"
    assert choose_preset(["email", "phone"]).name == "generic"
    with pytest.raises(CsvImportError, match="do not look like a known export"):
        choose_preset(["foo", "bar"])
    with pytest.raises(CsvImportError, match="unknown preset 'salesforce'"):
        choose_preset(["email"], "salesforce")
    with pytest.raises(
        CsvImportError, match="does not have; its columns are: Customer ID, First Name"
    ):
        parse_csv(DATA / "shopify_customers.csv", mapping={"E-mail": "email"})
    with pytest.raises(CsvImportError, match="'emial' is not a field"):
        parse_csv(DATA / "shopify_customers.csv", mapping={"Email": "emial"})


@pytest.mark.parametrize(
    ("raw", "country", "phone"),
    [
        ("8 (916) 123-45-67", None, "+79161234567"),
        ("+7 916 123 45 67", None, "+79161234567"),
        ("79161234567", None, "+79161234567"),
        ("9161234567", "7", "+79161234567"),
        ("(415) 555-0111", "1", "+14155550111"),
        ("0044 20 7946 0958", None, "+442079460958"),
        ("+1 212 555 0123 ext. 12", None, "+12125550123"),
    ],
)
def test_phones_are_normalised(raw, country, phone) -> None:
    assert normalize_phone(raw, country) == phone


def test_numbers_and_dates_as_exports_write_them() -> None:
    assert parse_number("1 234,50 ₽") == 1234.5
    assert parse_number("1,234.50") == 1234.5
    assert parse_number("1.234,50") == 1234.5
    assert parse_number("12,5") == 12.5
    assert parse_datetime("05.11.1988") == datetime(1988, 11, 5)
    assert parse_datetime("15.03.2024 10:20") == datetime(2024, 3, 15, 10, 20)
    assert parse_datetime("2024-02-01T12:00:00Z") == datetime(2024, 2, 1, 12, 0)
    assert parse_datetime("2024-02-01 15:00:00 +0300") == datetime(2024, 2, 1, 12, 0)
    for bad in ("31.02.2024", "yesterday", "2024-13-01"):
        with pytest.raises(ValueError, match="is not a date"):
            parse_datetime(bad)


def test_cli_import_reports_rejections_and_exit_codes(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    bitrix = str(DATA / "bitrix24_contacts.csv")
    assert main(["db", "import", bitrix, "--db", url]) == 1
    err = capsys.readouterr().err
    assert f"{bitrix}:4: column 'Дата рождения'" in err and f"{bitrix}:6: 22 fields" in err
    assert "nothing was written" in err
    assert main(["db", "import", bitrix, "--db", url, "--skip-bad", "--dry-run"]) == 0
    assert "Dry run: nothing was written." in capsys.readouterr().out
    assert main(["db", "import", bitrix, "--db", url, "--skip-bad"]) == 0
    out = capsys.readouterr().out
    assert "bitrix24, utf-8-sig, semicolon" in out and "skipped" in out
    amo = str(DATA / "amocrm_contacts.csv")
    args = ["db", "import", amo, "--db", url, "--skip-bad", "--map", "Сумма покупок=total_spent"]
    assert main(args) == 0
    assert main(["db", "import", str(DATA / "broken_quote.csv"), "--db", url]) == 2
    assert "line 3: a quoted field" in capsys.readouterr().err
    assert main(["db", "import", amo, "--db", url, "--map", "nonsense"]) == 2


# --------------------------------------------------------------------------- column routes


def _one_by_one(cell: str, converter: Converter) -> object:
    """The reference: each cell alone, as the importer's rules state it."""
    text = cell.strip()
    if text[:1] == "'" and text[1:2] and text[1:2] in "+0123456789":
        text = text[1:]
    text = text.replace("\r\n", "\n")
    if not text:
        return None
    try:
        return converter.one(text)
    except ValueError as error:
        return f"bad: {error}"


CELLS = {
    "email": ["a.b@example.com", "MiXeD@Example.COM", " mailto:X@y.io ", "MAILTO:z@y.io",
              "no-at.example.com", "a@b", "'q@w.er", ""],
    "phone": ["+79161234567", "'+15125550101", "8 (916) 123-45-67", "+1 212 555 0123 ext. 12",
              "555-0142", "+0123", "0044 20 7946 0958", ""],
    "total_spent": ["12.50", "-3", "1 234,50", ".5", "5.", "1.2.3", "abc", "-", "١٢.٥", ""],
    "orders_count": ["3", "007", "3.0", "-1", "1e3", "12345678901234567890", "2.5", ""],
    "created_at": ["2024-02-01 12:00:00", "2024-02-01T12:00:00.25", "2024-02-01",
                   "15.03.2024 10:20", "2024-13-01", "2024-02-30 10:00", "2024-02-01T12:00Z", ""],
    "birth_date": ["1990-05-17", "17.05.1990", "1990-02-30", "yesterday", ""],
    "first_name": ["Anna", " 'Ann' ", "x" * 101, "'007", ""],
}  # fmt: skip


@pytest.mark.parametrize("field", sorted(CELLS))
@pytest.mark.parametrize("mostly", [0, 1])
def test_the_column_routes_give_what_each_cell_alone_gives(field: str, mostly: int) -> None:
    """Columns take the fast, C-level routes when their cells allow it (`mostly` fills the
    column with its first, regular value) and the cell-by-cell one otherwise; both must
    equal converting each cell on its own."""
    converter = field_converters("7", {"first_name": 100})[field]
    odd = CELLS[field]
    filler = [f"{odd[0][:-1]}{i % 10}" if field != "email" else f"u{i}@x.io" for i in range(3000)]
    cells = (filler if mostly else []) + odd * (1 if mostly else 400) + ["\r\n"]
    for multiline in (False, True):
        values, bad = convert_column(cells, converter, multiline)
        expected = [_one_by_one(cell, converter) for cell in cells]
        got = [f"bad: {bad[row]}" if row in bad else value for row, value in enumerate(values)]
        assert got == expected


ODD_FOR_ARROW = {
    "email": ["\u00a0a@b.io", "a@b.io\u3000", "x\x1fy@b.io", "Mailto:A@B.io", "ÄB@x.io", "İ@x.io",
              "a b@x.io", "a@b.c.d", "a,b@x.io", "a@b.io\r\n", "'+1@x.io", "a\x01@b.io"],
    "phone": ["'+79161234567", " +79161234567", "+7916123456\u0667", "+79161234567\r", "+7 916"],
    "total_spent": ["-0", "0.1", "2.675", "123456789012345678901234.5", "1.7976931348623157",
                    "'12.5", "12.5\u2009", "1e5", "+1"],
    "orders_count": ["0", "000000000000001", "1234567890123456", "'42", "4\u0662"],
    "first_name": ["\u2028Anna", "Anna\u202f", "An\r\nna", "An\nna", "'+7", "'x", "\u00e9" * 100,
                   "\u00e9" * 101, "\x1cAnna"],
}  # fmt: skip


def test_the_arrow_space_class_is_what_str_strip_strips() -> None:
    spaces = "".join(chr(code) for code in range(0x110000) if chr(code).isspace())
    found = pc.extract_regex(pa.array(list(spaces)), f"(?P<c>{PYTHON_SPACE})")
    assert pc.all(found.is_valid()).as_py() and "\x00" not in spaces
    others = [chr(code) for code in (0, 0x1B, 0x21, 0x84, 0x86, 0x200B, 0xFEFF, 0x3001)]
    assert not pc.any(pc.match_substring_regex(pa.array(others), PYTHON_SPACE)).as_py()


@pytest.mark.parametrize("field", sorted(CELLS))
@pytest.mark.parametrize("size", [300, 5000])
def test_the_arrow_routes_give_what_the_python_routes_give(field: str, size: int) -> None:
    """Arrow's columnar routes (and, for columns that repeat themselves, the once-per-text
    one) give convert_column's values and reasons, which equal each cell alone (above)."""
    converter = field_converters("7", {"first_name": 100})[field]
    odd = CELLS[field] + ODD_FOR_ARROW.get(field, [])
    for distinct in (True, False):  # a column of unique texts, or one that repeats them
        filler = [
            f"u{i if distinct else i % 7}@x.io"
            if field == "email"
            else f"{odd[0][:-1]}{i if distinct else i % 7}"
            for i in range(size)
        ]
        cells = filler + odd * 3 + ["\r\n", ""]
        for multiline in (False, True):
            expected = convert_column(cells, converter, multiline)
            assert convert_arrow_column(pa.array(cells), converter, multiline) == expected


def test_blank_records_are_skipped_and_line_numbers_follow_multiline_notes(tmp_path, engine):
    path = tmp_path / "blank.csv"
    path.write_bytes(
        b"email,first_name,attr_note\r\n"
        b'ann@example.com,Ann,"two\r\nlines"\r\n'
        b",,\r\n"
        b"\r\n"
        b' , ,""\r\n'
        b"bob@,Bob,x\r\n"
        b"eve@example.com,Eve,\r\n"
    )
    report = import_csv(engine, path, mapping={"attr_note": "attr:note"}, skip_bad=True)
    assert (report.rows, report.created) == (3, 2)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (7, "column 'email': 'bob@' is not an e-mail address")
    ]
    people = _contacts(engine)
    assert people["ann@example.com"].attributes == {"note": "two\nlines"}


# --------------------------------------------------------------------------- column cache


def _stored_snapshot(engine: sa.Engine) -> tuple[dict, dict] | None:
    with engine.connect() as connection:
        version = data_version(connection)
        meta = load_meta(connection, version)
        if meta is None:
            return None
        arrays = load_arrays(connection, version, meta, set(meta["arrays"]))
    return meta, arrays


def _sql_snapshot(engine: sa.Engine) -> tuple[dict, dict]:
    """What the columnar read builds from SQL when nothing is cached."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        arrays = _Builder(connection).build()
    meta = from_bytes(arrays.pop("meta"))
    return meta, arrays


def _assert_same_snapshot(engine: sa.Engine) -> None:
    stored = _stored_snapshot(engine)
    assert stored is not None, "the import left no snapshot"
    meta, arrays = stored
    sql_meta, sql_arrays = _sql_snapshot(engine)
    assert {k: v for k, v in meta.items() if k != "arrays"} == sql_meta
    assert set(arrays) == set(sql_arrays) - {"meta"}
    for name, array in arrays.items():
        assert array.dtype == sql_arrays[name].dtype, name
        assert array.tobytes() == sql_arrays[name].tobytes(), name


def test_arrays_of_one_value_are_stored_as_that_value(engine) -> None:
    """A snapshot array of one value throughout is stored as the value and its length and
    comes back equal, read-only; bit-different values (NaN, -0.0) are not one value."""
    arrays = {
        "nan": np.full(5000, np.nan),
        "zero": np.zeros(5000),
        "codes": np.full(3000, -1, dtype=np.int32),
        "flags": np.zeros(2000, dtype=np.uint16),
        "last differs": np.append(np.zeros(4999), 1.0),
        "signed zero": np.append(np.zeros(4999), -0.0),
        "short": np.zeros(10),
        "meta": to_bytes({"n": 5000}),
    }
    with engine.begin() as connection:
        store_arrays(connection, 7, arrays)
        sizes = dict(
            connection.execute(
                sa.select(ColumnCache.name, sa.func.length(ColumnCache.payload))
            ).all()
        )
    assert sizes["contacts:nan"] == sizes["contacts:zero"] == 8
    assert (sizes["contacts:codes"], sizes["contacts:flags"]) == (4, 2)
    assert sizes["contacts:last differs"] == sizes["contacts:signed zero"] == 40_000
    with engine.connect() as connection:
        meta = load_meta(connection, 7)
        loaded = load_arrays(connection, 7, meta, set(arrays) - {"meta"})
    for name, array in loaded.items():
        assert array.dtype == arrays[name].dtype and array.tobytes() == arrays[name].tobytes()
        assert not array.flags.writeable


def test_an_import_into_an_empty_base_leaves_the_column_cache_warm(tmp_path, engine) -> None:
    path = tmp_path / "warm.csv"
    path.write_text(
        "email,phone,first_name,city,created_at,birth_date,consent_email,consent_sms,"
        "total_spent,orders_count,nps_score,tags,Loyalty,Note\n"
        "a@x.io,+79161234567,Анна,Тверь,2024-02-01 12:00:00.999500,1990-05-17,yes,no,"
        '12.5,3,9,"cats, vip",5,first\n'
        "b@x.io,,Bob,,2024-02-01 12:00:00.999499,,no,,,,,dogs,5.5,\n"
        ",+15125550101,Cy,Тверь,1969-12-31 23:59:59.5,1969-12-31,,yes,0,0,,,gold,\n"
        "A@X.IO,,Ann,Москва,,,,,,7,,VIP,,merged\n"
        "bad@,,Bad,,,,,,,,,,,\n",
        encoding="utf-8",
    )
    with engine.begin() as connection:
        connection.execute(sa.insert(Tag).values(name="unused"))  # a tag without contacts
    mapping = {"Loyalty": "attr:loyalty", "Note": "attr:note"}
    report = import_csv(engine, path, mapping=mapping, skip_bad=True, now=NOW)
    assert (report.created, report.merged, len(report.rejected)) == (3, 1, 1)
    _assert_same_snapshot(engine)
    columns = read_columns(engine, ["email", "tag:vip", "attr:note", "age"], now=NOW)
    assert columns["email"].tolist() == ["a@x.io", "b@x.io", None]
    assert columns["tag:vip"].tolist() == [True, False, False]
    assert columns["attr:note"].tolist() == ["merged", None, None]
    assert columns["age"][0] == 34

    # A second import updates contacts: the next read builds the snapshot from SQL again.
    import_csv(engine, path, mapping=mapping, skip_bad=True, now=NOW)
    assert _stored_snapshot(engine) is None
    assert read_columns(engine, ["email"], now=NOW)["email"].tolist()[:2] == ["a@x.io", "b@x.io"]


def test_values_the_database_would_rewrite_leave_the_cache_to_the_sql_read(tmp_path, engine):
    path = tmp_path / "cold.csv"
    path.write_text("email,Score\na@x.io,10000000000000000.0\n", encoding="utf-8")
    import_csv(engine, path, mapping={"Score": "attr:score"}, now=NOW)
    assert _stored_snapshot(engine) is None
    assert read_columns(engine, ["attr:score"], now=NOW)["attr:score"].tolist() == [1e16]


# --------------------------------------------------------------------------- two processes


def _parsed(path: Path, **options) -> tuple[list[dict], tuple]:
    try:
        parsed = parse_csv(path, **options)
    except CsvImportError as error:
        return [], (str(error), [(r.line, r.reason) for r in error.rejected])
    report = parsed.report
    summary = (report.rows, report.merged, [(r.line, r.reason) for r in report.rejected])
    return parsed.contacts, summary


def _big_export(path: Path, broken: str = "", rows: int = 400) -> None:
    """A Shopify-like export whose halves share duplicates, bad rows, blank records and
    multi-line notes, so splitting it anywhere is tested against reading it whole."""
    lines = ["Customer ID,First Name,Email,Phone,Total Spent,Tags,Note,Signed Up,Birthday"]
    for i in range(rows):
        email = f"p{i % 150}@example.com" if i % 7 else f"bad{i}@"
        note = f'"line one\r\nline ""two"" of {i}"' if i % 5 == 0 else ""
        phone = f"'+1512555{i % 90:04d}" if i % 3 else ""
        moments = f"2024-01-{1 + i % 28:02d} 10:{i % 60:02d}:00.25,{1 + i % 28:02d}.03.1990"
        lines.append(f'\'70{i},Name{i},{email},{phone},{i}.5,"t{i % 4}, vip",{note},{moments}')
        if i % 50 == 0:
            lines += [",,,,,,", ""]
    if broken == "stray quote":
        lines.insert(300, '1,"unclosed,x@example.com,,,,')
    if broken == "never closed":
        lines.append('1,x@example.com,,,,"never closed')
    path.write_bytes("\r\n".join(lines).encode())


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["big", "stray quote", "never closed", "hubspot_contacts.csv", "bitrix24_contacts.csv"]
)
def test_a_file_read_in_two_processes_gives_what_one_reading_gives(tmp_path, monkeypatch, name):
    import app.engine.db.importer as importer

    path = tmp_path / "export.csv"
    options: dict = {"skip_bad": True}
    if not name.endswith(".csv"):
        _big_export(path, broken=name)
        options["mapping"] = {"Signed Up": "created_at", "Birthday": "birth_date"}
    else:
        path.write_bytes((DATA / name).read_bytes())
    monkeypatch.setattr(importer, "read_with_arrow", lambda *_args: None)  # the exact path
    whole = _parsed(path, **options)
    monkeypatch.setattr(importer, "PARALLEL_FROM_CHARS", 0)
    if name == "big":  # a broken file is read in one piece, to name the broken line exactly

        def not_in_one(*_args):
            raise AssertionError("the file was not read in two processes")

        monkeypatch.setattr(importer, "_read_in_one", not_in_one)
    for share in (0.2, 0.45, 0.8):
        monkeypatch.setattr(importer, "SECOND_SHARE", share)
        assert _parsed(path, **options) == whole
    if name == "big":
        contacts, (rows, merged, rejected) = whole
        assert (rows, merged, len(rejected), len(contacts)) == (400, 192, 58, 150)
        five = next(c for c in contacts if c.get("email") == "p5@example.com")
        assert five["attributes"] == {"note": 'line one\nline "two" of 305'}
        assert five["tags"] == {"t1", "t3", "vip"}
        assert (five["created_at"], five["birth_date"]) == (
            datetime(2024, 1, 26, 10, 5, 0, 250000),
            date(1990, 3, 26),
        )
    if name == "stray quote":  # it swallows the next line into a broken record
        assert any(line == 359 and "closing quote" in why for line, why in whole[1][2])
    if name == "never closed":
        assert whole[1][0].startswith("line 498: a quoted field starts on this line")


# --------------------------------------------------------------------------- Arrow


def _tricky_export(path: Path, rows: int = 3000) -> None:
    """A cp1251, `;`-separated export with CRLF and a trailing `;` on every line, quoted
    fields that hold quotes, delimiters and line breaks (CRLF and a lone CR), blank lines,
    a record of only delimiters, padded and apostrophe-marked cells, repeated bad values
    (read once per distinct text) and duplicates: more rows than Arrow's reader samples."""
    lines = ["email;first_name;phone;consent_email;city;total_spent;birth_date;tags;note;"]
    for i in range(rows):
        email = f"p{i % 1200}@example.ru" if i % 11 else "bad@"
        consent = ("да", "нет", "может быть", " yes ")[i % 4 if i % 97 == 0 else i % 2]
        city = ('"Москва"', "Казань", '"Санкт-Петербург; СПб"', " Тверь ", "")[i % 5]
        phone = ("'+7916123" + f"{i:04d}", f"8 (916) 555-{i % 100:02d}-00", "")[i % 3]
        spent = (f"{i},5", f'"{i % 7} 000,00"', "")[i % 3]
        born = ("17.05.1990", "1990-05-17", "31.02.1990", "")[i % 4 if i % 13 == 0 else 1]
        tags = ('"vip, cats"', '"a""b"', '""', "dogs")[i % 4]
        note = ('"line one\r\nline two"', '"cr\ronly"', '""""', "plain")[i % 4]
        name = ("Анна", "Пётр", " Ольга ", "'007")[i % 4]
        lines.append(f"{email};{name};{phone};{consent};{city};{spent};{born};{tags};{note};")
        if i % 500 == 7:
            lines += ["", ";;;;;;;;;;"]
    path.write_bytes("\r\n".join(lines).encode("cp1251"))


ARROW_READS = ["shopify_customers.csv", "mailchimp_audience.csv", "hubspot_contacts.csv",
               "amocrm_contacts.csv", "big", "tricky"]  # fmt: skip
EXACT_READS = ["bitrix24_contacts.csv", "ragged_rows.csv", "broken_quote.csv", "stray quote",
               "never closed", "text after a quote", "a quote inside a field",
               "a blank record before the header"]  # fmt: skip


@pytest.mark.parametrize("name", ARROW_READS + EXACT_READS)
@pytest.mark.parametrize("skip_bad", [True, False])
def test_arrow_and_the_exact_reading_give_the_same_contacts(tmp_path, monkeypatch, name, skip_bad):
    """Arrow reads the files it splits as the csv module does and gives the same contacts,
    rejected rows (lines, reasons) and errors; the others take the exact path."""
    import app.engine.db.importer as importer

    path = tmp_path / "export.csv"
    options: dict = {"skip_bad": skip_bad, "mapping": {}}
    if name.endswith(".csv"):
        path.write_bytes((DATA / name).read_bytes())
        if name.startswith("amocrm"):
            options["mapping"] = AMO_MAP
    elif name == "tricky":
        _tricky_export(path)
        options["mapping"] = {"note": "attr:note"}
    elif name == "big":
        _big_export(path, rows=2500)
        options["mapping"] = {"Signed Up": "created_at", "Birthday": "birth_date"}
    else:
        _big_export(path, broken=name if name in ("stray quote", "never closed") else "")
        text = path.read_bytes()
        if name == "text after a quote":
            text = text.replace(b'"t1, vip"', b'"t1, vip"x', 1)
        elif name == "a quote inside a field":
            text = text.replace(b"Name17,", b'Na"me17,', 1)
        elif name == "a blank record before the header":
            text = b",,\r\n" + text
        path.write_bytes(text)
    used: list[bool] = []
    monkeypatch.setattr(importer, "read_with_arrow", _spy(importer.read_with_arrow, used))
    by_arrow = _parsed(path, **options)
    assert used == [name in ARROW_READS]
    monkeypatch.setattr(importer, "read_with_arrow", lambda *_args: None)
    assert _parsed(path, **options) == by_arrow
    contacts, summary = by_arrow
    if name == "tricky" and skip_bad:
        rows, merged, rejected = summary
        assert (rows, merged, len(rejected), len(contacts)) == (3000, 1470, 332, 1198)
        reasons = {why.split(":")[0] for _, why in rejected}
        assert reasons == {"column 'email'", "column 'consent_email'", "column 'birth_date'"}
        assert any(c.get("attributes") == {"note": "cr\ronly"} for c in contacts)
        assert any(c.get("attributes") == {"note": "line one\nline two"} for c in contacts)
        assert any(c.get("tags") == {'a"b'} for c in contacts)


SMALL_FILES = {  # text, whether Arrow reads it
    "header only": (b"email,first_name", False),
    "header and blank lines": (b"email,first_name\r\n\r\n\r\n", True),
    "no final line break": (b"email,first_name\na@b.io,Ann\nc@d.io,Bob", True),
    "CR line breaks": (b"email,first_name\ra@b.io,Ann\rc@d.io,Bob\r", True),
    "mixed breaks in and out of quotes": (
        b'email,first_name\r\na@b.io,Ann\nc@d.io,"Bo\rb"\r\nx@y.io,"Z\nz"',
        True,
    ),
    "blank lines before the header": (b"\n\nemail,first_name\na@b.io,Ann\n", True),
    "a line of spaces": (b"email,first_name\n   \na@b.io,Ann\n", True),
    "a header over two lines": (b'"email","first\nname"\na@b.io,Ann\n', False),
    "tabs and doubled quotes": (b'email\tfirst_name\na@b.io\t"A""nn"\n', True),
    "fields of quotes only": (b'email,first_name\na@b.io,""""\n"",""\n', True),
    "a BOM and a delimiter ending each line": (
        b"\xef\xbb\xbfemail;first_name;\r\na@b.io;Ann;\r\n;;\r\nc@d.io;Bob;\r\n",
        True,
    ),
    "unicode spaces": ("email,first_name\n\u00a0a@b.io ,\u2003Ann\u2003\n".encode(), True),
}


@pytest.mark.parametrize("name", sorted(SMALL_FILES))
def test_small_files_read_alike_by_both_readers(tmp_path, monkeypatch, name) -> None:
    import app.engine.db.importer as importer

    text, by_arrow = SMALL_FILES[name]
    path = tmp_path / "small.csv"
    path.write_bytes(text)
    read = importer.read_with_arrow
    used: list[bool] = []
    monkeypatch.setattr(importer, "read_with_arrow", _spy(read, used))
    first = _parsed(path, skip_bad=True)
    assert used == [by_arrow]
    monkeypatch.setattr(importer, "read_with_arrow", lambda *_args: None)
    assert _parsed(path, skip_bad=True) == first


def _spy(read, used: list[bool]):
    def spied(*args):
        result = read(*args)
        used.append(result is not None)
        return result

    return spied


# --------------------------------------------------------------------------- language


@pytest.fixture
def russian() -> Iterator[None]:
    """The engine speaking Russian through the committed .qm, as `voronka --lang ru` does."""
    i18n.install(cli_translate("ru"), "ru_RU")
    yield
    i18n.install(None)


EMAIL_RU = "столбец 'Email': 'noah.davis@example' — не адрес e-mail"


@pytest.mark.usefixtures("russian")
def test_rejected_rows_and_fatal_errors_read_in_russian(engine) -> None:
    with pytest.raises(CsvImportError) as refused:
        import_csv(engine, DATA / "shopify_customers.csv", now=NOW)
    (row,) = refused.value.rejected
    assert (row.line, row.reason) == (7, EMAIL_RU)
    message = str(refused.value)
    assert message.startswith("1 строку нельзя импортировать, поэтому ничего не записано")
    assert message.endswith(f"Первая: строка 7: {EMAIL_RU}")
    report = import_csv(engine, DATA / "bitrix24_contacts.csv", skip_bad=True, now=NOW)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (4, "столбец 'Дата рождения': '12.13.1990' — не дата (пишите ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)"),
        (6, "полей: 22, а в заголовке их 20"),
    ]
    with pytest.raises(CsvImportError) as broken:
        import_csv(engine, DATA / "broken_quote.csv")
    assert str(broken.value).startswith("строка 3: на этой строке начинается поле в кавычках")
    # The reasons keep their parts, not words: they read in whatever language is current.
    i18n.install(None)
    assert row.reason == "column 'Email': 'noah.davis@example' is not an e-mail address"


@pytest.mark.slow
@pytest.mark.usefixtures("russian")
def test_reasons_from_the_second_process_read_in_the_importing_language(tmp_path, monkeypatch):
    import app.engine.db.importer as importer

    path = tmp_path / "export.csv"
    _big_export(path)
    whole = _parsed(path, skip_bad=True)
    monkeypatch.setattr(importer, "PARALLEL_FROM_CHARS", 0)
    monkeypatch.setattr(importer, "SECOND_SHARE", 0.8)
    assert _parsed(path, skip_bad=True) == whole
    reasons = [why for _, why in whole[1][2]]
    assert len(reasons) == 58 and all(why.endswith("— не адрес e-mail") for why in reasons)
