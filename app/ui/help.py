"""In-app help: a Markdown viewer, rule explanations, the auto-funnel page, the shortcut list.

Help pages are in the language of the preference, and the open page follows a change at once
(`apply_language`, called with the settings applied live): the viewer keeps how to make its
page in any language, not the text. The rest of the interface changes after a restart.

The shortcut list is read from the window's own menus when it opens, so it always shows the keys
that really work (including any a later version adds); only mouse gestures, which are not
actions, are listed by hand.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMenu,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.engine.validation import RULES
from app.help_docs import help_page, rule_doc
from app.i18n import chosen_language, cli_translate, current_language

_RULES = {rule.code: rule for rule in RULES}
AUTO_FUNNEL_TITLE = QT_TRANSLATE_NOOP("Help", "What is an auto-funnel")
NOT_DESCRIBED = QT_TRANSLATE_NOOP("Help", "This rule is not described in docs/VALIDATION.md yet.")
Page = Callable[[str], tuple[str, str]]
"""A help page: language → (window title, Markdown text)."""
# Mouse and canvas gestures: not actions, so not in any menu.
GESTURES = (
    (
        QT_TRANSLATE_NOOP("Help", "Tab, or double-click the canvas"),
        QT_TRANSLATE_NOOP("Help", "Search step types and add one at the cursor"),
    ),
    (
        QT_TRANSLATE_NOOP("Help", "Drag from an exit"),
        QT_TRANSLATE_NOOP("Help", "Connect; drop on empty canvas to add a connected step"),
    ),
    (QT_TRANSLATE_NOOP("Help", "Wheel"), QT_TRANSLATE_NOOP("Help", "Zoom at the cursor")),
    (
        QT_TRANSLATE_NOOP("Help", "Middle button, or Space + drag"),
        QT_TRANSLATE_NOOP("Help", "Pan"),
    ),
    (
        QT_TRANSLATE_NOOP("Help", "Drag on empty canvas"),
        QT_TRANSLATE_NOOP("Help", "Select the steps in a rectangle"),
    ),
)


class HelpViewer(QDialog):
    """A reading window for help pages; one per application, reused for every page."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("help_viewer")
        self.resize(720, 640)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.document().setDocumentMargin(16)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.page: Page | None = None
        self.language = ""

    def show_page(self, page: Page, size: tuple[int, int] = (720, 640)) -> None:
        """Show `page` in the preferred language; it is shown again when that changes."""
        self.page = page
        self.follow_language(language())
        if not self.isVisible():
            self.resize(*size)
        self.show()
        self.raise_()
        self.activateWindow()

    def follow_language(self, chosen: str) -> None:
        """The page again in `chosen`, at the place the reader had scrolled to."""
        if self.page is None:
            return
        self.language = chosen
        title, text = self.page(chosen)
        self.setWindowTitle(f"{title} — Voronka")
        scroll = self.browser.verticalScrollBar()
        share = scroll.value() / scroll.maximum() if scroll.maximum() else 0.0
        self.browser.setMarkdown(text)
        scroll.setValue(round(share * scroll.maximum()))


_viewer: HelpViewer | None = None


def viewer() -> HelpViewer:
    global _viewer
    if _viewer is None:
        _viewer = HelpViewer()
        _viewer.destroyed.connect(_forget_viewer)
    return _viewer


def _forget_viewer() -> None:
    global _viewer
    _viewer = None


def language() -> str:
    """The language a page opens in: the interface's choice at start (`VORONKA_LANG`, then
    the saved preference, then the system's), so the page and the tooltips agree."""
    return chosen_language()


def apply_language(chosen: str) -> None:
    """The open help page follows a new language preference (`en`, `ru`) at once."""
    if _viewer is not None and _viewer.language != chosen:
        _viewer.follow_language(chosen)


def auto_funnel_page(chosen: str) -> tuple[str, str]:
    """ "What is an auto-funnel", title included, in `chosen` (the interface may still speak
    the language it started in)."""
    title = cli_translate(chosen)("Help", AUTO_FUNNEL_TITLE, -1)
    return title, help_page("auto_funnel", chosen)


def show_auto_funnel_page() -> HelpViewer:
    page = viewer()
    page.show_page(auto_funnel_page)
    return page


def rule_tooltip(code: str) -> str:
    """The rule's title, meaning and fix as rich text, for a Problems row, in the interface's
    language (the explanation from docs/VALIDATION.ru.md in Russian; English for a rule that
    file lacks)."""
    rule = _RULES.get(code)
    title = rule.display_title if rule else code
    parts = [f"<b>{html.escape(code)} — {html.escape(title)}</b>"]
    doc = rule_doc(code, current_language())
    if doc is not None:
        fix = QCoreApplication.translate("Problems", "Fix:")
        parts.append(_inline(doc.meaning))
        parts.append(f"<i>{html.escape(fix)}</i> {_inline(doc.fix)}")
    more = QCoreApplication.translate("Problems", "Click the code for the full explanation.")
    parts.append(f"<span style='color:#5F6B7A'>{html.escape(more)}</span>")
    return f"<p style='white-space:normal'>{'<br>'.join(parts)}</p>"


def rule_page(code: str) -> Page:
    """The explanation of rule `code` as a help page: title, meaning, fix and the page's own
    words all in the language asked for."""

    def page(chosen: str) -> tuple[str, str]:
        translate = cli_translate(chosen)
        rule = _RULES.get(code)
        title = translate("Rule", rule.title, -1) if rule else ""
        doc = rule_doc(code, chosen)
        if doc is None:
            heading = f"# {code}" + (f" — {title}" if title else "")
            text = f"{heading}\n\n{translate('Help', NOT_DESCRIBED, -1)}"
        else:
            text = doc.markdown(title, translate)
        return f"{code} {title}".strip(), text

    return page


def show_rule_help(code: str) -> HelpViewer:
    page = viewer()
    page.show_page(rule_page(code), (640, 400))
    return page


def _inline(markdown: str) -> str:
    """`code` and *emphasis* of a table cell as HTML (a cell holds no other Markdown)."""
    text = html.escape(markdown, quote=False)
    text = _replace_pairs(text, "`", "<code>", "</code>")
    return _replace_pairs(text, "*", "<i>", "</i>")


def _replace_pairs(text: str, mark: str, opening: str, closing: str) -> str:
    pieces = text.split(mark)
    if len(pieces) % 2 == 0:  # an unpaired mark: leave the text as it is
        return text
    return "".join(
        piece if index % 2 == 0 else f"{opening}{piece}{closing}"
        for index, piece in enumerate(pieces)
    )


# --- keyboard shortcuts --------------------------------------------------------------------


def menu_shortcuts(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for every action in the menus that has a shortcut, in menu order."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.isSeparator():
                continue
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} › {_plain(action.text())}")
                continue
            keys = [
                k.toString(QKeySequence.SequenceFormat.NativeText)
                for k in action.shortcuts()
                if _typed(k)
            ]
            if keys:
                rows.append((path, _plain(action.text()), ", ".join(dict.fromkeys(keys))))

    for action in menu_bar.actions():
        if isinstance(action.menu(), QMenu):
            walk(action.menu(), _plain(action.text()))
    return rows


def _typed(keys: QKeySequence) -> bool:
    """A combination people type; not a keyboard's dedicated Copy or Save key (alone or with
    Shift), which the platform also binds to those commands and which few keyboards have."""
    return not keys.isEmpty() and keys[0].key().value < Qt.Key.Key_Back.value


def _plain(text: str) -> str:
    """Menu text as read: no mnemonic ampersands, no shortcut after a tab."""
    return text.split("\t")[0].replace("&&", "\0").replace("&", "").replace("\0", "&")


class ShortcutsDialog(QDialog):
    """Every shortcut of the window's menus, then the canvas's mouse gestures."""

    def __init__(self, menu_bar: QMenuBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts — Voronka"))
        self.rows = menu_shortcuts(menu_bar)
        self.table = _table(
            [self.tr("Action"), self.tr("Keys"), self.tr("Menu")],
            [(a, k, m) for m, a, k in self.rows],
            bold_column=1,
        )
        gestures = [
            (QCoreApplication.translate("Help", a), QCoreApplication.translate("Help", b))
            for a, b in GESTURES
        ]
        self.gestures = _table(
            [self.tr("Gesture"), self.tr("What it does")], gestures, bold_column=0
        )
        self.gestures.setFixedHeight(_rows_height(self.gestures))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(_heading(self.tr("Keyboard")))
        layout.addWidget(self.table, 1)
        layout.addWidget(_heading(self.tr("On the canvas")))
        layout.addWidget(self.gestures)
        layout.addWidget(buttons)
        self.resize(660, 720)


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def _rows_height(table: QTableWidget) -> int:
    rows = sum(table.rowHeight(row) for row in range(table.rowCount()))
    return rows + table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()


def _table(headers: list[str], rows: list[tuple[str, ...]], bold_column: int = -1) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    for row, values in enumerate(rows):
        for column, value in enumerate(values):
            item = QTableWidgetItem(value)
            if column == bold_column:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            table.setItem(row, column, item)
    header = table.horizontalHeader()
    for column in range(len(headers) - 1):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table
