"""CSV import of real CRM and shop exports (tests/data/import/): counts, merged duplicates,
rejected rows with their lines, and nothing written when a file is bad."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from test_db import (  # noqa: F401  (fixtures shared with the database tests)
    database_url_fixture,
    engine_fixture,
    postgres_url_fixture,
)

from app.cli import main
from app.engine.db.importer import (
    CsvImportError,
    choose_preset,
    decode,
    import_csv,
    normalize_phone,
    parse_csv,
    parse_datetime,
    parse_number,
)
from app.engine.db.models import Contact, Tag, contact_tags

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
