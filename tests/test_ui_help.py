"""Help where it is needed: tooltips on every step type and parameter, the shortcut list read
from the window's menus, and the bundled "What is an auto-funnel" page (real widgets)."""

from __future__ import annotations

import html
import re

import pytest
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu

from app import preferences
from app.document import EditorDocument
from app.engine.catalog import NODE_TYPES
from app.help_docs import help_page
from app.ui import help
from app.ui.inspector import InspectorWidget
from app.ui.main_window import MainWindow
from app.ui.palette import PaletteWidget


@pytest.fixture
def window(qtbot, monkeypatch):
    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    main = MainWindow(EditorDocument())
    qtbot.addWidget(main)
    yield main
    QApplication.clipboard().clear()


def _text(tooltip: str) -> str:
    """What a tooltip says, without its markup."""
    return html.unescape(re.sub(r"<[^>]+>", "", tooltip.replace("<br>", "\n")))


def test_every_palette_item_says_what_it_does_with_an_example(qtbot):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    for spec in NODE_TYPES:
        _, item = palette._items[spec.type]
        text = _text(item.toolTip(0))
        assert spec.help in text and f"Example: {spec.example}" in text, spec.type


def test_every_parameter_in_the_inspector_has_its_help_and_example(qtbot):
    document = EditorDocument()
    inspector = InspectorWidget()
    qtbot.addWidget(inspector)
    inspector.set_document(document)
    for spec in NODE_TYPES:
        node_id = document.add_node(spec.type, (0, 0))
        inspector.show_node(node_id)
        assert list(inspector.editors) == [p.name for p in spec.params]
        for param in spec.params:
            editor = inspector.editors[param.name]
            text = _text(editor.toolTip())
            assert param.help in text, f"{spec.type}.{param.name}"
            assert f"Example: {param.example}" in text, f"{spec.type}.{param.name}"


def test_the_shortcuts_dialog_lists_every_menu_action_with_keys(window):
    dialog = window.show_shortcuts()
    try:
        listed = {
            (dialog.table.item(row, 0).text(), dialog.table.item(row, 1).text())
            for row in range(dialog.table.rowCount())
        }
        in_menus = [
            action
            for action in window.findChildren(QAction)
            if any(isinstance(w, QMenu) for w in action.associatedObjects())
            and not action.shortcut().isEmpty()
        ]
        assert len(listed) == len(in_menus) > 15
        for action in in_menus:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            name = action.text().replace("&", "")
            assert any(a == name and keys in k.split(", ") for a, k in listed), (name, keys)
        assert ("Validate", "F7") in listed
        assert ("Settings…", "Ctrl+,") in listed
        assert dialog.gestures.rowCount() == len(help.GESTURES)
    finally:
        dialog.close()


def test_a_shortcut_added_to_a_menu_appears_without_editing_the_dialog(window):
    extra = QAction("Rehearse", window)
    extra.setShortcut(QKeySequence("Ctrl+Shift+R"))
    window.menuBar().actions()[0].menu().addAction(extra)
    rows = help.menu_shortcuts(window.menuBar())
    assert ("File", "Rehearse", "Ctrl+Shift+R") in rows


def test_help_menu_opens_the_auto_funnel_page(window):
    actions = {a.text(): a for a in window.menuBar().actions()[-1].menu().actions()}
    actions["&What Is an Auto-Funnel?"].trigger()
    viewer = help.viewer()
    try:
        assert viewer.isVisible()
        text = viewer.browser.toPlainText()
        assert text.startswith("What is an auto-funnel")
        assert "A sieve, not a funnel" in text and "Pre-sales" in text
    finally:
        viewer.close()


def test_the_page_follows_the_language_setting(qapp):
    preferences.update(language="ru")
    page = help.show_auto_funnel_page()
    try:
        assert page.browser.toPlainText().startswith("Что такое автоворонка")
    finally:
        page.close()
    assert help_page("auto_funnel", "de") == help_page("auto_funnel", "en")


def test_the_page_opens_in_the_language_voronka_lang_chose(qapp, monkeypatch):
    """With the override set and no saved choice, the page speaks as the interface does."""
    preferences.update(language="system")
    monkeypatch.setenv("VORONKA_LANG", "ru")
    page = help.show_auto_funnel_page()
    try:
        assert page.browser.toPlainText().startswith("Что такое автоворонка")
    finally:
        page.close()


def test_the_open_page_follows_a_language_change_in_the_settings(window, qtbot):
    """Choosing a language in Settings turns the open help page (title included) at once;
    Cancel turns it back, OK keeps it."""
    preferences.update(language="en")
    page = help.show_auto_funnel_page()
    try:
        assert page.browser.toPlainText().startswith("What is an auto-funnel")
        assert page.windowTitle() == "What is an auto-funnel — Voronka"
        dialog = window.show_settings()
        dialog.language.setCurrentIndex(dialog.language.findData("ru"))
        assert page.browser.toPlainText().startswith("Что такое автоворонка")
        assert page.windowTitle() == "Что такое автоворонка — Voronka"
        dialog.reject()
        assert page.browser.toPlainText().startswith("What is an auto-funnel")

        dialog = window.show_settings()
        dialog.language.setCurrentIndex(dialog.language.findData("ru"))
        dialog.accept()
        assert preferences.load().language == "ru"
        assert page.isVisible() and page.browser.toPlainText().startswith("Что такое автоворонка")
        assert window.menuBar().actions()[0].text() == "&File"  # the rest waits for a restart
    finally:
        page.close()
