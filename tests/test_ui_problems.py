"""The problems panel mirrors the document's problems and leads to the step of each."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from app import help_docs, preferences
from app.document import EditorDocument
from app.engine.model import Edge
from app.engine.validation import RULES, Problem, Severity
from app.i18n import install_language, remove_language
from app.ui import help
from app.ui.problems import (
    CODE_COLUMN,
    MESSAGE_COLUMN,
    STEP_COLUMN,
    ProblemsWidget,
    plain_message,
    summary,
)


@pytest.fixture
def russian(qapp) -> Iterator[None]:
    """Russian chosen in the settings and installed, as the editor starts with it."""
    preferences.update(language="ru")
    install_language("ru")
    yield
    remove_language()


@pytest.fixture
def panel(qtbot, document) -> ProblemsWidget:
    widget = ProblemsWidget()
    qtbot.addWidget(widget)
    widget.set_document(document)
    widget.resize(900, 300)
    widget.show()
    return widget


def _break(document: EditorDocument) -> None:
    """Cut the ‘did not buy’ exit and add an unconnected switch: errors and warnings."""
    edge = next(e for e in document.scenario.edges if e.target == "exit_lost")
    document.remove([], [edge])
    document.add_node("switch", (0, 0))
    document.revalidate()


def _rows(panel: ProblemsWidget) -> list[tuple[str, str, str]]:
    tree = panel.tree
    return [
        tuple(tree.topLevelItem(i).text(c) for c in (CODE_COLUMN, STEP_COLUMN, MESSAGE_COLUMN))
        for i in range(tree.topLevelItemCount())
    ]


def test_a_clean_scenario_says_every_exit_is_handled(panel):
    assert panel.tree.topLevelItemCount() == 0
    assert panel.summary_label.text() == "No problems — every exit is handled ✓"


def test_rows_match_the_problems_errors_first(panel, document):
    _break(document)
    problems = document.problems
    assert problems
    assert [code for code, _, _ in _rows(panel)] == [p.code for p in problems]
    assert [m for _, _, m in _rows(panel)] == [plain_message(p.message) for p in problems]
    ranks = [("error", "warning", "info").index(p.severity) for p in problems]
    assert ranks == sorted(ranks)
    steps = {s for _, s, _ in _rows(panel)}
    assert "Switch · else" in steps


def test_summary_counts_by_severity(panel, document):
    _break(document)
    errors = sum(p.severity is Severity.ERROR for p in document.problems)
    assert panel.summary_label.text().startswith(f"{errors} error")
    assert summary([Problem("V1", Severity.ERROR, "x")] * 2) == "2 errors"
    assert (
        summary([Problem("V1", Severity.ERROR, "x"), Problem("V2", Severity.WARNING, "y")])
        == "1 error, 1 warning"
    )


def test_unsorted_problems_are_shown_errors_first(panel):
    panel.set_problems(
        [
            Problem("V302", Severity.WARNING, "late", "remind_email"),
            Problem("V102", Severity.ERROR, "dangling", "wait_1h", "next"),
        ]
    )
    assert _rows(panel) == [
        ("V102", "Wait 1 hour · next", "dangling"),
        ("V302", "E-mail: you left something in your cart", "late"),
    ]


def test_clicking_a_row_emits_the_node_id(panel, qtbot):
    panel.set_problems(
        [
            Problem("V102", Severity.ERROR, "dangling", "wait_1h", "next"),
            Problem("V302", Severity.WARNING, "late", "remind_email"),
        ]
    )
    item = panel.tree.topLevelItem(1)
    point = panel.tree.visualItemRect(item).center()
    with qtbot.waitSignal(panel.node_activated) as signal:
        qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert signal.args == ["remind_email"]


def test_activating_a_row_with_the_keyboard_emits_the_node_id(panel, qtbot):
    panel.set_problems([Problem("V102", Severity.ERROR, "dangling", "wait_1h", "next")])
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    panel.tree.setFocus()
    with qtbot.waitSignal(panel.node_activated) as signal:
        qtbot.keyClick(panel.tree, Qt.Key.Key_Return)
    assert signal.args == ["wait_1h"]


def test_a_problem_without_a_step_emits_nothing(panel, qtbot):
    panel.set_problems([Problem("V101", Severity.ERROR, "no entry")])
    assert _rows(panel) == [("V101", "Scenario", "no entry")]
    with qtbot.assertNotEmitted(panel.node_activated):
        panel.tree.itemClicked.emit(panel.tree.topLevelItem(0), 0)


def test_an_edge_problem_points_at_its_source(panel, qtbot):
    edge = Edge("wait_1h", "next", "remind_email")
    panel.set_problems([Problem("V103", Severity.ERROR, "twice", edge=edge)])
    with qtbot.waitSignal(panel.node_activated) as signal:
        panel.tree.itemClicked.emit(panel.tree.topLevelItem(0), 0)
    assert signal.args == ["wait_1h"]


def test_the_code_tooltip_explains_the_rule_from_the_docs(panel):
    rule = RULES[0]
    panel.set_problems([Problem(rule.code, rule.severity, "x", "wait_1h")])
    tooltip = panel.tree.topLevelItem(0).toolTip(CODE_COLUMN)
    assert rule.title in tooltip
    assert "no entry step" in tooltip  # docs/VALIDATION.md: what V101 means
    assert "<i>Fix:</i> Add a <i>Segment entry</i>" in tooltip


def test_clicking_the_code_opens_the_rules_explanation(panel, qtbot):
    panel.set_problems([Problem("V113", Severity.ERROR, "no timeout", "wait_1h")])
    with qtbot.waitSignal(panel.rule_help_requested) as signal:
        panel.tree.itemClicked.emit(panel.tree.topLevelItem(0), CODE_COLUMN)
    assert signal.args == ["V113"]
    viewer = help.viewer()
    try:
        assert viewer.isVisible()
        assert viewer.windowTitle().startswith("V113 ")
        text = viewer.browser.toPlainText()
        assert "What it means." in text and "contacts for whom the event never happens" in text
        assert "How to fix it." in text
        assert text.endswith("All rules are described in docs/VALIDATION.md.")
    finally:
        viewer.close()


def _explain(panel: ProblemsWidget, code: str) -> help.HelpViewer:
    panel.set_problems([Problem(code, Severity.ERROR, "x", "wait_1h")])
    panel.tree.itemClicked.emit(panel.tree.topLevelItem(0), CODE_COLUMN)
    return help.viewer()


def test_in_russian_the_code_tooltip_explains_the_rule_in_russian(russian, panel):
    panel.set_problems([Problem("V101", Severity.ERROR, "x")])
    tooltip = panel.tree.topLevelItem(0).toolTip(CODE_COLUMN)
    assert "<b>V101 — В сценарии нет входа</b>" in tooltip
    assert "поэтому ни один контакт не сможет в него попасть" in tooltip  # VALIDATION.ru.md
    assert "<i>Как исправить:</i> Добавьте «Вход сегмента» или «Триггер-событие»." in tooltip
    assert "Нажмите на код" in tooltip
    assert "entry" not in tooltip


def test_in_russian_clicking_the_code_opens_the_explanation_in_russian(russian, panel):
    """The whole page reads in Russian, and turns English with the language setting."""
    viewer = _explain(panel, "V113")
    try:
        assert viewer.windowTitle() == "V113 У ожидания события нет таймаута — Voronka"
        text = viewer.browser.toPlainText()
        assert text.startswith("V113 — У ожидания события нет таймаута\nСтруктура (ошибки)")
        assert "Что это значит. У «Ожидания события» нет таймаута: контакты" in text
        assert "Как исправить. Задайте таймаут (например, P2D)" in text
        assert text.endswith("Все правила описаны в docs/VALIDATION.ru.md.")
        assert "What it means" not in text

        help.apply_language("en")
        text = viewer.browser.toPlainText()
        assert viewer.windowTitle() == "V113 Wait for event has no timeout — Voronka"
        assert "What it means. A Wait for event has no timeout" in text
    finally:
        viewer.close()


def test_a_rule_the_russian_file_lacks_is_explained_in_english(
    russian, panel, tmp_path, monkeypatch
):
    """Only the rule's own words fall back: title, labels and the rest stay Russian."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(help_docs.validation_doc("en"), docs / "VALIDATION.md")
    russian_rows = help_docs.validation_doc("ru").read_text(encoding="utf-8").splitlines()
    kept = [line for line in russian_rows if not line.startswith("| V113 ")]
    assert len(kept) == len(russian_rows) - 1
    (docs / "VALIDATION.ru.md").write_text("\n".join(kept), encoding="utf-8")
    monkeypatch.setattr(help_docs, "DOCS", docs)

    panel.set_problems([Problem("V113", Severity.ERROR, "x"), Problem("V101", Severity.ERROR, "y")])
    lacking, translated = (panel.tree.topLevelItem(i).toolTip(CODE_COLUMN) for i in (0, 1))
    assert "<b>V113 — У ожидания события нет таймаута</b>" in lacking
    assert "contacts for whom the event never happens wait forever" in lacking
    assert "<i>Как исправить:</i> Set a timeout" in lacking
    assert "поэтому ни один контакт не сможет в него попасть" in translated

    viewer = _explain(panel, "V113")
    try:
        text = viewer.browser.toPlainText()
        assert "Что это значит. A Wait for event has no timeout" in text
        assert "Как исправить. Set a timeout" in text
        assert text.endswith("Все правила описаны в docs/VALIDATION.md.")
    finally:
        viewer.close()


def test_in_russian_an_undocumented_code_says_so_in_russian(russian, panel):
    viewer = _explain(panel, "V999")
    try:
        assert viewer.windowTitle() == "V999 — Voronka"
        assert viewer.browser.toPlainText() == (
            "V999\nЭто правило пока не описано в docs/VALIDATION.md."
        )
    finally:
        viewer.close()


def test_emphasised_exit_names_read_as_quotes():
    assert plain_message("no step after *next*: lost") == "no step after ‘next’: lost"
    assert plain_message("age * 2 > x * 3") == "age * 2 > x * 3"


def test_the_panel_follows_the_document_and_lets_go_of_it(panel, document):
    _break(document)
    assert panel.tree.topLevelItemCount() == len(document.problems)
    panel.set_document(None)
    assert panel.tree.topLevelItemCount() == 0
    document.revalidate()
    assert panel.tree.topLevelItemCount() == 0
