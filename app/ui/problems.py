"""The problems panel: the document's validation results, one row per problem, errors first.

It only mirrors `EditorDocument.problems`; activating a row asks the main window to show the
step, so fixing a problem starts with one click. The code is a link: its tooltip says what the
rule means and how to fix it, and a click opens the rule's explanation from docs/VALIDATION.md
(docs/VALIDATION.ru.md in Russian).
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.document import EditorDocument
from app.engine.catalog import exit_label
from app.engine.i18n import T
from app.engine.validation import Problem, Severity
from app.ui.help import rule_tooltip, show_rule_help

NODE_ROLE = Qt.ItemDataRole.UserRole
SEVERITY_COLUMN, CODE_COLUMN, STEP_COLUMN, MESSAGE_COLUMN = range(4)

_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
_ICONS = {
    Severity.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
    Severity.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Severity.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
}
LINK = QColor("#1A66C2")
_EMPHASIS = re.compile(r"\*(\S(?:[^*]*\S)?)\*")


def severity_name(severity: Severity) -> str:
    names = {
        Severity.ERROR: QCoreApplication.translate("Problems", "Error"),
        Severity.WARNING: QCoreApplication.translate("Problems", "Warning"),
        Severity.INFO: QCoreApplication.translate("Problems", "Note"),
    }
    return names[severity]


def summary(problems: list[Problem]) -> str:
    """`2 errors, 1 warning`; the all-clear names what validation proves."""
    if not problems:
        return QCoreApplication.translate("Problems", "No problems — every exit is handled ✓")
    counts = {s: sum(p.severity is s for p in problems) for s in _RANK}
    words = {
        Severity.ERROR: lambda n: T("Problems", "%n error(s)", n),
        Severity.WARNING: lambda n: T("Problems", "%n warning(s)", n),
        Severity.INFO: lambda n: T("Problems", "%n note(s)", n),
    }
    return ", ".join(str(words[severity](count)) for severity, count in counts.items() if count)


def plain_message(message: str) -> str:
    """Validation marks exit names as *next* for documents; a list shows them in quotes."""
    return _EMPHASIS.sub(lambda match: str(T("Quote", "‘{text}’", text=match.group(1))), message)


def problem_node(problem: Problem) -> str | None:
    """The step to show: the problem's node, else the source of the edge it concerns."""
    if problem.node:
        return problem.node
    return problem.edge.source if problem.edge else None


class ProblemsWidget(QWidget):
    """Lists problems; a click or Enter on a row emits `node_activated` with the step's id."""

    node_activated = Signal(str)
    # a problem's code was clicked: the panel opens the explanation and says which
    rule_help_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document: EditorDocument | None = None

        self.summary_label = QLabel()
        font = self.summary_label.font()
        font.setBold(True)
        self.summary_label.setFont(font)

        self.tree = QTreeWidget()
        columns = ("", self.tr("Code"), self.tr("Step"), self.tr("Message"))
        self.tree.setColumnCount(len(columns))
        self.tree.setHeaderLabels(columns)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(SEVERITY_COLUMN, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(CODE_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(STEP_COLUMN, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(SEVERITY_COLUMN, 28)
        header.resizeSection(STEP_COLUMN, 200)
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.itemActivated.connect(self._on_item)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.tree, 1)
        self.set_problems([])

    def set_document(self, document: EditorDocument | None) -> None:
        if self._document is not None:
            self._document.problems_changed.disconnect(self.set_problems)
        self._document = document
        if document is not None:
            document.problems_changed.connect(self.set_problems)
        self.set_problems(document.problems if document else [])

    def set_problems(self, problems: list[Problem]) -> None:
        ordered = sorted(problems, key=lambda p: _RANK[p.severity])  # stable: keeps rule order
        self.summary_label.setText(summary(ordered))
        self.tree.clear()
        self.tree.addTopLevelItems([self._row(p) for p in ordered])

    def _row(self, problem: Problem) -> QTreeWidgetItem:
        node_id = problem_node(problem)
        step = self._step_title(node_id)
        if problem.exit:
            exit_name = exit_label(problem.exit)
            step = f"{step} · {exit_name}" if step else exit_name
        message = plain_message(problem.message)
        item = QTreeWidgetItem(["", problem.code, step, message])
        item.setIcon(SEVERITY_COLUMN, self.style().standardIcon(_ICONS[problem.severity]))
        item.setToolTip(SEVERITY_COLUMN, severity_name(problem.severity))
        item.setToolTip(CODE_COLUMN, rule_tooltip(problem.code))
        font = item.font(CODE_COLUMN)
        font.setUnderline(True)
        item.setFont(CODE_COLUMN, font)
        item.setForeground(CODE_COLUMN, QBrush(LINK))
        item.setToolTip(STEP_COLUMN, step)
        item.setToolTip(MESSAGE_COLUMN, message)
        item.setData(SEVERITY_COLUMN, NODE_ROLE, node_id)
        return item

    def _step_title(self, node_id: str | None) -> str:
        if node_id is None:
            return self.tr("Scenario")
        node = self._document.scenario.nodes.get(node_id) if self._document else None
        return node.display_title if node else node_id

    def _on_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        if column == CODE_COLUMN:
            self.explain(item.text(CODE_COLUMN))
        self._on_item(item)

    def explain(self, code: str) -> None:
        show_rule_help(code)
        self.rule_help_requested.emit(code)

    def _on_item(self, item: QTreeWidgetItem) -> None:
        node_id = item.data(SEVERITY_COLUMN, NODE_ROLE)
        if node_id:
            self.node_activated.emit(node_id)
