"""The rule explanations the Problems panel shows: docs/VALIDATION.md and its Russian
translation explain every rule, row for row, and whatever the translation lacks is English."""

from __future__ import annotations

import re

import pytest

from app.engine.validation import RULES
from app.help_docs import RuleDoc, rule_doc, rule_docs, validation_doc
from app.i18n import cli_translate

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
CODE_SPAN = re.compile(r"`([^`]+)`")


def _sections(docs: dict[str, RuleDoc]) -> list[list[str]]:
    """The codes of each section, sections in file order."""
    grouped: dict[str, list[str]] = {}
    for doc in docs.values():
        grouped.setdefault(doc.section, []).append(doc.code)
    return list(grouped.values())


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_rule_is_explained_in_each_language(language):
    documented = rule_docs(language)
    for rule in RULES:
        doc = documented.get(rule.code)
        assert doc is not None, f"{rule.code} has no row in {validation_doc(language)}"
        assert doc.meaning and doc.fix, rule.code
        assert doc.source == f"docs/{validation_doc(language).name}"


def test_the_russian_file_mirrors_the_english_one_in_russian():
    """Same codes in the same sections, the same notes, and Russian words; code, parameter
    names and expressions kept (the time format reads as the Russian interface writes it)."""
    english, russian = rule_docs("en"), rule_docs("ru")
    assert list(russian) == list(english)
    assert _sections(russian) == _sections(english)
    time_format = cli_translate("ru")("ScenarioSettingsForm", "HH:MM", -1)
    assert time_format != "HH:MM"
    for code, doc in russian.items():
        source = english[code]
        assert bool(doc.severity_note) == bool(source.severity_note), code
        assert bool(doc.section_intro) == bool(source.section_intro), code
        for text in (doc.section, doc.meaning, doc.fix):
            assert CYRILLIC.search(text), (code, text)
        spans = CODE_SPAN.findall(source.meaning + source.fix)
        expected = [time_format if span == "HH:MM" else span for span in spans]
        assert CODE_SPAN.findall(doc.meaning + doc.fix) == expected, code


def test_a_language_without_its_file_reads_english():
    assert not validation_doc("de").exists()
    assert rule_docs("de") == {}
    assert rule_doc("V113", "de") == rule_doc("V113", "en") == rule_docs("en")["V113"]
    assert rule_doc("V113", "ru") == rule_docs("ru")["V113"] != rule_doc("V113")
    assert rule_doc("V999", "ru") is None


def test_a_page_has_its_fixed_words_in_the_language_it_is_given():
    page = rule_doc("V207", "ru").markdown("Скидка выше лимита сценария", cli_translate("ru"))
    assert page.startswith("# V207 — Скидка выше лимита сценария\n\n*Содержимое (ошибки)*")
    assert "— предупреждение" in page.splitlines()[2]
    assert "**Что это значит.** Скидка в предложении больше" in page
    assert "**Как исправить.** Уменьшите скидку" in page
    assert page.endswith("Все правила описаны в docs/VALIDATION.ru.md.")
    english = rule_doc("V207").markdown()
    assert english.startswith("# V207\n\n*Content (errors)* — warning")
    assert "**What it means.** An offer's discount" in english
    assert english.endswith("All rules are described in docs/VALIDATION.md.")
