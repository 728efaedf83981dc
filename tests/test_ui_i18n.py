"""The editor in Russian, on real widgets: menus, palette, inspector and problems read in
Russian, and no visible text of the main window stays in English."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QLocale
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMenu,
    QTableWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from app import i18n as app_i18n
from app.document import EditorDocument
from app.engine.catalog import NODE_TYPES
from app.engine.model import Scenario, create_node
from app.engine.serialization import load_scenario
from app.i18n import install_language, remove_language
from app.resources import example_path
from app.ui.inspector import CURRENCIES
from app.ui.main_window import MainWindow

# Words that read the same in Russian: brands, formats, codes and keys.
SAME_IN_BOTH = {
    "JSON",
    "SMS",
    "E-mail",
    "Push",
    "VK",
    "NPS",
    "SQL",
    "CRM",
    "ID",
    "Ctrl",
    "Shift",
    "Tab",
    "Del",
    "OK",
    *CURRENCIES,  # ISO codes in the scenario currency box
}
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


@pytest.fixture
def russian(qapp) -> Iterator[None]:
    install_language("ru")
    yield
    remove_language()


def _broken_cart() -> EditorDocument:
    """The Russian abandoned-cart funnel with one exit left open, so problems show."""
    scenario = load_scenario(example_path("abandoned_cart", "ru")).scenario
    scenario.edges = [e for e in scenario.edges if (e.source, e.exit) != ("check_sms", "no")]
    return EditorDocument(scenario)


def _every_type() -> EditorDocument:
    """One step of every catalog type (as a Russian user would add them), unconnected."""
    scenario = Scenario(id="all", name="Все шаги")
    for index, spec in enumerate(NODE_TYPES):
        scenario.add_node(create_node(scenario, spec.type, (index * 300.0, 0.0)))
    return EditorDocument(scenario)


def _window(qtbot, document: EditorDocument) -> MainWindow:
    window = MainWindow(document)
    qtbot.addWidget(window)
    return window


def test_menus_palette_inspector_and_problems_read_in_russian(qtbot, russian) -> None:
    window = _window(qtbot, _broken_cart())
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&Файл", "&Правка", "&Вид", "В&оронка", "&Справка"]
    assert window.act_validate.text() == "&Проверить"
    assert window.palette_dock.windowTitle() == "Шаги"

    palette = window.palette.tree
    headers = [palette.topLevelItem(i).text(0) for i in range(palette.topLevelItemCount())]
    assert headers[:3] == ["ВХОД", "СООБЩЕНИЯ", "ПРЕДЛОЖЕНИЯ"]
    assert palette.topLevelItem(1).child(0).text(0) == "Сообщение"
    assert "Пример:" in palette.topLevelItem(1).child(0).toolTip(0)

    window.focus_node("remind_email")
    labels = {label.text() for label in window.inspector.findChildren(QLabel)}
    assert {"Канал:", "Тема", "Текст", "Цена сообщения:"} <= labels

    problems = window.problems.tree
    assert problems.headerItem().text(3) == "Сообщение"
    messages = [problems.topLevelItem(i).text(3) for i in range(problems.topLevelItemCount())]
    opening = "У шага «Можно писать в SMS?» нет продолжения после «нет»: в никуда уходят"
    assert any(m.startswith(opening) for m in messages), messages
    assert window.problems.summary_label.text() == "1 ошибка"
    assert window.problems_label.text() == "⚠ 1 ошибка, 0 предупреждений"


def test_numbers_and_dates_follow_the_russian_locale(qtbot, russian) -> None:
    assert QLocale().toString(1234567) == "1\u00a0234\u00a0567"
    window = _window(qtbot, _broken_cart())
    assert window.simulation.start_edit.displayFormat() == "dd.MM.yyyy"
    window.focus_node("offer_email")
    boxes = window.inspector.findChildren(QComboBox)
    texts = [box.itemText(i) for box in boxes for i in range(box.count())]
    assert "Заказ из брошенной корзины (средний чек) · 4\u00a0800\u00a0₽" in texts, texts


def _texts(window: MainWindow) -> dict[tuple[str, int, str], str]:
    """Every text a user can read in the window's widgets, keyed by widget kind, position among
    widgets of that kind, and which text it is (same construction, same keys)."""
    found: dict[tuple[str, int, str], str] = {}

    def add(kind: str, index: int, what: str, text: str) -> None:
        if text and text.strip():
            found[(kind, index, what)] = text.replace("&", "")

    for index, action in enumerate(window.findChildren(QAction)):
        add("action", index, "text", action.text())
        add("action", index, "status", action.statusTip())
    for index, menu in enumerate(window.findChildren(QMenu)):
        add("menu", index, "title", menu.title())
        for position, action in enumerate(menu.actions()):
            add("menu", index, f"item{position}", action.text())
    for index, widget in enumerate(window.findChildren(QWidget)):
        kind = type(widget).__name__
        add(kind, index, "tooltip", widget.toolTip())
        if isinstance(widget, QDockWidget):
            add(kind, index, "title", widget.windowTitle())
        if isinstance(widget, QLabel | QAbstractButton):
            add(kind, index, "text", widget.text())
        if isinstance(widget, QLineEdit):
            add(kind, index, "placeholder", widget.placeholderText())
        if isinstance(widget, QAbstractSpinBox):
            add(kind, index, "suffix", getattr(widget, "suffix", lambda: "")())
        if isinstance(widget, QComboBox):
            for item in range(widget.count()):
                add(kind, index, f"item{item}", widget.itemText(item))
        if isinstance(widget, QTreeWidget):
            header = widget.headerItem()
            for column in range(widget.columnCount()):
                add(kind, index, f"header{column}", header.text(column))
            for position, item in enumerate(_tree_items(widget)):
                for column in range(widget.columnCount()):
                    add(kind, index, f"{position}.{column}", item.text(column))
                    add(kind, index, f"{position}.{column}.tip", item.toolTip(column))
        if isinstance(widget, QTableWidget):
            for column in range(widget.columnCount()):
                header = widget.horizontalHeaderItem(column)
                add(kind, index, f"column{column}", header.text() if header else "")
            for row in range(widget.rowCount()):
                header = widget.verticalHeaderItem(row)
                add(kind, index, f"row{row}", header.text() if header else "")
    return found


def _tree_items(tree: QTreeWidget) -> Iterator[QTreeWidgetItem]:
    stack = [tree.topLevelItem(i) for i in reversed(range(tree.topLevelItemCount()))]
    while stack:
        item = stack.pop()
        yield item
        stack.extend(item.child(i) for i in reversed(range(item.childCount())))


def _user_texts(document: EditorDocument) -> set[str]:
    """What the user wrote (titles, ids, parameter values): shown as written in any language."""
    scenario = document.scenario
    texts = {scenario.name, scenario.id, scenario.settings.currency}
    for node in scenario.nodes.values():
        texts |= {node.id, node.title, node.type}
        texts |= {str(v) for v in node.params.values() if isinstance(v, str | int | float)}
    return {t for t in texts if t}


def _untranslated(english: dict, russian: dict, user: set[str]) -> list[tuple]:
    left = []
    for key, text in russian.items():
        if english.get(key) != text or text in user:
            continue
        words = [w for w in WORD.findall(text) if w not in SAME_IN_BOTH and w not in user]
        if words:
            left.append((key, text))
    return left


@pytest.mark.parametrize(
    ("make", "selected"),
    [(_broken_cart, ["remind_email", "offer_email", "wait_purchase", None]), (_every_type, None)],
    ids=["abandoned-cart", "every-step-type"],
)
def test_no_visible_text_of_the_main_window_stays_english(qtbot, make, selected) -> None:
    """Builds the window in English and in Russian on the same document, shows the inspector
    for each step in turn, and fails on any text that reads the same in both but is not the
    user's own content or a word both languages share."""
    runs = {}
    for language in ("en", "ru"):
        install_language(language)
        try:
            document = make()
            window = _window(qtbot, document)
            window.show()
            ids = selected or list(document.scenario.nodes)
            texts = {}
            for node_id in ids:
                if node_id is None:
                    window.scene.clearSelection()
                else:
                    window.focus_node(node_id)
                texts |= {(node_id, *k): v for k, v in _texts(window).items()}
            runs[language] = (texts, _user_texts(document))
            document.undo_stack.setClean()
            window.close()
        finally:
            remove_language()
    english, _ = runs["en"]
    russian, user = runs["ru"]
    assert len(russian) > 200  # the walk saw the window, not an empty shell
    left = _untranslated(english, russian, user)
    assert not left, "\n".join(f"{key}: {text!r}" for key, text in left)


def test_qt_own_dialogs_speak_russian_too(qapp, russian) -> None:
    """qtbase_ru from PySide6 is loaded with our catalog: standard buttons read in Russian."""
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Отмена"


def test_language_is_the_override_else_the_preference_else_the_system(monkeypatch) -> None:
    monkeypatch.setattr(app_i18n, "system_language", lambda: "ru")
    monkeypatch.delenv("VORONKA_LANG", raising=False)
    assert app_i18n.chosen_language("system") == "ru"
    assert app_i18n.chosen_language("en") == "en"
    monkeypatch.setattr(app_i18n, "system_language", lambda: "en")
    assert app_i18n.chosen_language("ru") == "ru"
    assert app_i18n.chosen_language("system") == "en"
    monkeypatch.setenv("VORONKA_LANG", "ru")
    assert app_i18n.chosen_language("en") == "ru"


def test_cli_command_names_match_the_parser() -> None:
    from app.cli import COMMAND_NAMES, _command_names, build_parser

    assert _command_names(build_parser()) == COMMAND_NAMES
