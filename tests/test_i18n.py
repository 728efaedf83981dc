"""Translations without widgets: the catalog is complete and fresh, engine texts come out in
Russian through the real .qm, numbers and money follow the locale, the Russian examples mirror
the English ones, and the CLI speaks the chosen language."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QLocale

from app.engine import i18n
from app.engine.durations import duration_words
from app.engine.expressions import parse, to_words
from app.engine.i18n import T, english
from app.engine.locale_format import NBSP, format_date, format_money, format_number
from app.engine.model import Edge
from app.engine.serialization import load_scenario
from app.engine.summary import summarize
from app.engine.templates import money, preview_context, render, sample_contact
from app.engine.validation import Severity, validate
from app.i18n import cli_translate
from app.resources import EXAMPLES, example_names, example_path
from tools import translations

ROOT = Path(__file__).resolve().parent.parent
TS = translations.ts_path("ru")
FIELD = re.compile(r"(?<!\{)\{([a-z_]+)(?::[^}]*)?\}(?!\})")
DOLLAR = re.compile(r"\$\{(\w+)\}")


@pytest.fixture
def russian() -> Iterator[None]:
    """The engine speaking Russian through the committed .qm, as the CLI does."""
    i18n.install(cli_translate("ru"), "ru_RU")
    yield
    i18n.install(None)


def ts_messages() -> list[tuple[str, ET.Element]]:
    root = ET.parse(TS).getroot()
    return [(c.findtext("name"), m) for c in root.iter("context") for m in c.iter("message")]


# --- the catalog ---------------------------------------------------------------------------


@pytest.mark.slow
def test_ts_holds_every_text_of_the_code_and_the_qm_is_compiled_from_it() -> None:
    """Fails when code gained a text `tools/translations.py update` has not brought into the
    .ts, or when the committed .qm is stale against the .ts (`… build`)."""
    assert translations.check() == []


def test_every_message_has_a_russian_translation() -> None:
    untranslated = []
    for context, message in ts_messages():
        translation = message.find("translation")
        forms = [f.text for f in translation.iter("numerusform")] or [translation.text]
        if translation.get("type") in ("unfinished", "obsolete", "vanished") or not all(forms):
            untranslated.append((context, message.findtext("source")))
    assert untranslated == []


def test_translations_keep_the_placeholders_of_their_source() -> None:
    """A dropped `{step}` would lose the step's name; a typo would fall back to English."""
    wrong = []
    for context, message in ts_messages():
        source = message.findtext("source")
        translation = message.find("translation")
        forms = [f.text for f in translation.iter("numerusform")] or [translation.text]
        for form in forms:
            for pattern in (FIELD, DOLLAR):
                if set(pattern.findall(source)) != set(pattern.findall(form)):
                    wrong.append((context, source, form))
            if message.get("numerus") == "yes" and ("%n" in source) != ("%n" in form):
                wrong.append((context, source, form))
    assert wrong == []


def test_russian_plural_forms_come_from_qt() -> None:
    translate = cli_translate("ru")
    words = {n: translate("Duration", "%n day(s)", n) for n in (1, 3, 5, 11, 21, 22)}
    assert words == {
        1: "1 день",
        3: "3 дня",
        5: "5 дней",
        11: "11 дней",
        21: "21 день",
        22: "22 дня",
    }
    assert english("Duration", "%n day(s)", 1) == "1 day"
    assert english("Duration", "%n day(s)", 2) == "2 days"


# --- engine texts --------------------------------------------------------------------------


def test_problems_keep_code_and_arguments_and_read_in_either_language() -> None:
    scenario = load_scenario(EXAMPLES / "abandoned_cart.json").scenario
    scenario.edges = [e for e in scenario.edges if (e.source, e.exit) != ("wait_1h", "next")]
    (problem,) = [p for p in validate(scenario) if p.code == "V102"]
    assert problem.severity is Severity.ERROR and problem.exit == "next"
    assert problem.text.context == "V102" and str(problem.text.arg("exit")) == "next"
    english_text = problem.message
    i18n.install(cli_translate("ru"), "ru_RU")
    try:
        assert problem.message.startswith("У шага «Wait 1 hour» нет продолжения после *далее*")
        assert "в никуда уходят контакты" in problem.message
    finally:
        i18n.install(None)
    assert problem.message == english_text
    assert english_text.startswith("‘Wait 1 hour’ has no step after *next*")


@pytest.mark.usefixtures("russian")
def test_engine_words_in_russian() -> None:
    assert duration_words(86400 + 3600) == "1 день 1 час"
    assert duration_words(5 * 86400) == "5 дней"
    words = to_words(parse('days_since("purchase") > 90 and "vip" in tags'))
    assert words == "больше 90 дней после «покупка» и с тегом vip"
    loaded = load_scenario(example_path("abandoned_cart", "ru")).scenario
    assert summarize(loaded.nodes["wait_1h"], loaded) == "Ждать 1 час"
    goal = summarize(loaded.nodes["goal_recovered"], loaded)
    assert goal == f"Корзина возвращена · 4{NBSP}800{NBSP}₽"


def test_a_broken_translation_falls_back_to_english() -> None:
    def broken(context: str, source: str, n: int = -1) -> str:
        return "{nonexistent} сломано"

    assert T("X", "{step} is fine", step="A").render(broken) == "A is fine"


# --- numbers and money ---------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, 7, 990, 1234, 1234.5, 1234567.891])
@pytest.mark.parametrize(("locale", "symbol"), [("ru_RU", "₽"), ("en_US", "₽"), ("en_US", "$")])
def test_money_matches_qlocale(amount: float, locale: str, symbol: str) -> None:
    code = {"₽": "RUB", "$": "USD"}[symbol]
    whole = Decimal(str(amount)).quantize(Decimal("0.01")) % 1 == 0
    expected = QLocale(locale).toCurrencyString(float(amount), symbol, 0 if whole else 2)
    assert format_money(amount, code, locale) == expected


@pytest.mark.parametrize("locale", ["ru_RU", "en_US"])
def test_numbers_match_qlocale(locale: str) -> None:
    assert format_number(1234567, locale) == QLocale(locale).toString(1234567)
    assert format_number(1234.5, locale, 2) == QLocale(locale).toString(1234.5, "f", 2)


@pytest.mark.parametrize("day", [date(2026, 3, 12), date(2025, 11, 1)])
def test_dates_match_qlocale(day: date) -> None:
    qdate = QDate(day.year, day.month, day.day)
    short = QLocale("ru_RU").toString(qdate, QLocale.FormatType.ShortFormat)
    assert format_date(day, "ru_RU") == short
    assert format_date(day, "en_US") == QLocale("en_US").toString(qdate, "MMM d, yyyy")
    assert format_date(day, None) == day.isoformat()


def test_message_previews_follow_the_locale() -> None:
    assert money(1234, "RUB") == f"1{NBSP}234{NBSP}₽"  # no locale: the currency's own way
    assert money(1234, "USD") == "$1,234"
    assert money(1234, "RUB", "en_US") == "₽1,234"
    i18n.install(None, "ru_RU")
    try:
        assert render("{{ 4990 | money('USD') }}", {}) == f"4{NBSP}990{NBSP}$"
    finally:
        i18n.install(None)


# --- Russian examples ----------------------------------------------------------------------

TEXT_PARAMS = {"subject", "body", "text", "stage", "assignee"}


def _shape(document: dict) -> dict:
    """The document without its words: what a translation must not change."""
    shape = json.loads(json.dumps(document))
    for key in ("name", "description"):
        shape.pop(key)
    for product in shape["products"]:
        product.pop("name")
    for node in shape["nodes"]:
        node.pop("title", None)
        params = node["params"]
        for key in TEXT_PARAMS & params.keys():
            params.pop(key)
        if params.get("action") == "set_crm_stage":
            params.pop("value")
        for item in params.get("cases", []) + params.get("variants", []):
            item.pop("label", None)
    return shape


def _texts(document: dict) -> list[str]:
    texts = [document["name"], document["description"]]
    texts += [p["name"] for p in document["products"]]
    for node in document["nodes"]:
        texts.append(node.get("title", ""))
        texts += [v for k, v in node["params"].items() if k in TEXT_PARAMS and v]
    return [t for t in texts if t]


@pytest.mark.parametrize("name", example_names())
def test_each_example_exists_in_russian_with_the_same_funnel(name: str) -> None:
    english_doc = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    russian_path = example_path(name, "ru")
    assert russian_path == EXAMPLES / "ru" / f"{name}.json"
    russian_doc = json.loads(russian_path.read_text(encoding="utf-8"))
    assert _shape(russian_doc) == _shape(english_doc)
    untranslated = [
        text
        for text in _texts(russian_doc)
        if not re.search("[а-яё]", text, re.IGNORECASE) and text in _texts(english_doc)
    ]
    assert untranslated == [t for t in untranslated if t in {"SQL"}]


@pytest.mark.parametrize("name", example_names())
def test_russian_examples_are_strictly_valid_and_render(name: str) -> None:
    scenario = load_scenario(example_path(name, "ru")).scenario
    assert [p.message for p in validate(scenario)] == []
    contact = {**sample_contact(), "first_name": "Анна"}
    for node in scenario.nodes.values():
        body = node.params.get("body")
        if isinstance(body, str) and body.startswith("Здравствуйте{%"):
            product = scenario.products[0] if scenario.products else None
            context = preview_context(
                contact,
                product=product,
                discount=10,
                promo_code="X",
                cart={"items": [{"name": "Когтеточка", "price": 990, "quantity": 1}]},
            )
            assert render(body, context).startswith("Здравствуйте, Анна!")


def test_an_example_missing_in_a_language_falls_back_to_english() -> None:
    assert example_path("abandoned_cart", "de") == EXAMPLES / "abandoned_cart.json"
    assert example_path("abandoned_cart", "en") == EXAMPLES / "abandoned_cart.json"


# --- the command line ----------------------------------------------------------------------


def _voronka(*args: str, language: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"VORONKA_LANG": language, "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_cli_speaks_the_chosen_language(tmp_path: Path) -> None:
    scenario = load_scenario(EXAMPLES / "abandoned_cart.json").scenario
    scenario.edges.remove(Edge("wait_1h", "next", "wait_daytime"))
    broken = tmp_path / "broken.json"
    from app.engine.serialization import save_scenario

    save_scenario(scenario, broken)
    russian_run = _voronka("validate", str(broken), language="ru")
    assert russian_run.returncode == 1
    assert re.search(r"broken.json: \d+ ошиб(ка|ки|ок), \d+ предупрежд", russian_run.stdout)
    assert "ошибка   V102 Wait 1 hour (wait_1h, выход next): У шага" in russian_run.stdout
    english_run = _voronka("validate", "--format", "json", str(broken), language="en")
    (row,) = [r for r in json.loads(english_run.stdout) if r["code"] == "V102"]
    assert (row["node"], row["exit"]) == ("wait_1h", "next")
    assert row["message"].startswith("‘Wait 1 hour’ has no step after *next*")
    assert "Вывести проблемы каждого файла" in _voronka("validate", "-h", language="ru").stdout


def test_runtime_export_is_the_same_in_every_interface_language() -> None:
    """Machine-read files keep English warnings, so the content hash does not depend on who
    exported the funnel."""
    from app.exporters.runtime_json import dumps_runtime

    scenario = load_scenario(EXAMPLES / "abandoned_cart.json").scenario
    scenario.settings.max_discount = 5  # the 10 % codes now break the limit: V207 warnings
    english_export = dumps_runtime(scenario)
    assert "above the scenario's limit" in english_export
    i18n.install(cli_translate("ru"), "ru_RU")
    try:
        assert dumps_runtime(scenario) == english_export
    finally:
        i18n.install(None)


@pytest.fixture
def russian_cli(monkeypatch) -> Iterator[None]:
    """`voronka …` run in this process with the language override set to Russian."""
    monkeypatch.setenv("VORONKA_LANG", "ru")
    yield
    i18n.install(None)


def test_db_commands_speak_russian(tmp_path: Path, capsys, russian_cli) -> None:
    from app.cli import main

    url = f"sqlite:///{tmp_path / 'contacts.sqlite3'}"
    assert main(["db", "init", "--db", url]) == 0
    assert "База данных готова: " in capsys.readouterr().out
    demo = ["db", "demo", "--db", url, "--contacts", "301", "--seed", "2", "--today", "2025-03-01"]
    assert main(demo) == 0
    written = capsys.readouterr().out
    assert re.fullmatch(
        r"Демо-данные записаны: 301 контакт, [\d\xa0]+ событи(е|я|й), 9 тегов, 7 товаров\.\n",
        written,
    ), written
    assert main(demo) == 2
    refused = capsys.readouterr().err
    assert refused.startswith("ошибка: в базе уже есть контакты; добавьте --replace")

    assert main(["db", "stats", "--db", url]) == 0
    out = capsys.readouterr().out
    for heading in ("Таблицы", "таблица", "строки", "Теги", "тег", "События", "тип", "события"):
        assert re.search(rf"(^|[\s┃]){heading}([\s┃]|$)", out, re.M), heading
    assert not re.search(r"\b(Tables|Tags|Events|table|rows|tag|type)\b", out)
    events = int(re.search(r"events\s+│\s+([\d\xa0]+)", out)[1].replace(NBSP, ""))
    assert events > 1000 and f"{events // 1000}{NBSP}{events % 1000:03d}" in out  # 1 234


def test_db_import_reports_in_russian(tmp_path: Path, capsys, russian_cli) -> None:
    from app.cli import main

    url = f"sqlite:///{tmp_path / 'contacts.sqlite3'}"
    bitrix = str(ROOT / "tests" / "data" / "import" / "bitrix24_contacts.csv")
    assert main(["db", "import", bitrix, "--db", url]) == 1
    err = capsys.readouterr().err
    assert "ошибка: " in err and "2 отклонённые строки — см. выше; ничего не записано" in err
    assert main(["db", "import", bitrix, "--db", url, "--skip-bad", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "пресет bitrix24" in out and "контактов было бы создано" in out
    assert "точка с запятой" in out  # Bitrix24 separates with ;
    assert f"пропущено {bitrix}:4: " in out and "Пробный запуск: ничего не записано." in out
    assert main(["db", "import", bitrix, "--db", url, "--map", "nonsense"]) == 2
    assert "--map 'nonsense': запишите как \"столбец CSV=поле\"" in capsys.readouterr().err
