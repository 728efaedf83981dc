"""The inspector: a form for the selected step, generated from its type's parameter specs.

The form never edits the model: every user edit becomes `document.set_param` / `set_title`
(so typing in one field is one undo step), and the form follows the document's `node_changed`
signal back, touching only the widgets whose value differs, so undo refreshes it and the field
being typed in keeps its cursor. Each kind of parameter has its own small editor class.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QLocale,
    QObject,
    QSignalBlocker,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFontMetrics, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QApplication,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.canvas.style import THEMES
from app.document import EditorDocument
from app.engine import expressions
from app.engine.catalog import (
    ParamKind,
    ParamSpec,
    choice_label,
    param_help,
    param_label,
    type_help,
    type_label,
)
from app.engine.contact_schema import DEFAULT_SCHEMA, WEEKDAYS
from app.engine.durations import DurationError, duration_words, parse_duration
from app.engine.i18n import localized
from app.engine.model import FrequencyCap, Node, Product, QuietHours
from app.engine.templates import TemplateError, check_template, money, parse_template
from app.ui.icons import UNKNOWN_COLOR, category_color, node_type_icon
from app.ui.node_assumption import NODE_KEYS, NodeAssumptionBox
from app.ui.tooltips import category_title, param_tooltip

EMPTY_HINT = QT_TRANSLATE_NOOP(
    "Inspector",
    "Select a step to edit it. Drag steps from the palette; press Tab on the canvas to search.",
)
PLACEHOLDER_HELP = QT_TRANSLATE_NOOP(
    "Inspector",
    "This step was made by a newer Voronka or another tool. Its settings are kept as they are; "
    "replace it with a known step to run the scenario.",
)
MUTED = THEMES["light"].muted_text.name()
ERROR = THEMES["light"].error.name()
WARNING = "#9A5B00"  # the theme's amber is for fills; this one is readable as text on white
TONES = {"muted": MUTED, "error": ERROR, "warning": WARNING}
ROLE_ITEM = Qt.ItemDataRole.UserRole
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_BIG = 1e9
CURRENCIES = ("RUB", "USD", "EUR", "KZT", "BYN", "UAH", "GBP", "CNY")
_SELECTED = THEMES["light"].selection.name()
_DAY_STYLE = (
    "QToolButton { border: 1px solid #B8C0CC; border-radius: 4px; padding: 3px 4px;"
    " background: white; }"
    f" QToolButton:checked {{ background: {_SELECTED}; border-color: {_SELECTED};"
    " color: white; font-weight: bold; }"
)


def choice_text(value: str) -> str:
    """`cart_abandoned` → `Cart abandoned` (`Брошенная корзина`): a choice as a marketer reads
    it, in the interface language."""
    return choice_label(value)


def to_number(value: float) -> int | float:
    """Whole numbers stay ints, as the scenario file writes them."""
    return int(value) if float(value).is_integer() else value


def _as_float(value: Any, fallback: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return fallback


# --- building blocks -----------------------------------------------------------------------


class Feedback(QLabel):
    """A line under a field: what the value means, or what is wrong with it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.setFont(font)
        self.tone = "muted"
        self.hide()

    def show_lines(self, lines: list[tuple[str, str]]) -> None:
        """(tone, text) pairs; `tone` becomes the worst of them. Nothing to say hides the
        label, so the form stays compact."""
        tones = {tone for tone, _ in lines}
        self.tone = next((t for t in ("error", "warning") if t in tones), "muted")
        self.setText(
            "<br>".join(
                f"<span style='color:{TONES[tone]}'>{html.escape(text)}</span>"
                for tone, text in lines
            )
        )
        self.setVisible(bool(lines))


def set_line_text(edit: QLineEdit, text: str) -> None:
    """Show a model value; the field being typed in keeps its cursor (undo, echoes)."""
    if edit.text() == text:
        return
    position = edit.cursorPosition()
    edit.setText(text)
    if edit.hasFocus():
        edit.setCursorPosition(min(position, len(text)))


class _WheelGuard(QObject):
    """Scrolling the inspector must not spin a value under the mouse by accident."""

    def __init__(self, scroll: QScrollArea) -> None:
        super().__init__(scroll)
        self._scroll = scroll

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            QApplication.sendEvent(self._scroll.verticalScrollBar(), event)
            return True
        return super().eventFilter(watched, event)


class GrowingTextEdit(QPlainTextEdit):
    """Plain text that grows with its content between `min_lines` and `max_lines`."""

    def __init__(self, min_lines: int, max_lines: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines = (min_lines, max_lines)
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.textChanged.connect(self.updateGeometry)

    def sizeHint(self) -> QSize:
        line = QFontMetrics(self.font()).lineSpacing() + 1  # laid-out lines include leading
        content, lines = 0.0, 0
        block = self.document().firstBlock()
        while block.isValid():
            content += self.blockBoundingRect(block).height()
            lines += max(1, block.layout().lineCount())
            block = block.next()
        if lines:
            line = max(line, round(content / lines))
        low, high = self._lines
        height = min(max(content, low * line), high * line)
        chrome = 2 * self.document().documentMargin() + 2 * self.frameWidth()
        return QSize(super().sizeHint().width(), int(height + chrome + 0.5))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self.updateGeometry()

    def set_text_keeping_cursor(self, text: str) -> None:
        position = self.textCursor().position()
        self.setPlainText(text)
        if self.hasFocus():
            cursor = self.textCursor()
            cursor.setPosition(min(position, len(text)))
            self.setTextCursor(cursor)


# --- parameter editors ---------------------------------------------------------------------


class ParamEditor(QWidget):
    """One parameter's field. `edited` carries the new model value and fires on user edits
    only; `set_value` shows a model value without emitting and leaves equal values alone."""

    edited = Signal(object)
    full_width = False

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.feedback: Feedback | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(3)
        self.setToolTip(param_tooltip(spec))

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def _add_feedback(self) -> None:
        self.feedback = Feedback(self)
        self._layout.addWidget(self.feedback)

    def guarded_widgets(self) -> list[QWidget]:
        """Widgets that would react to the mouse wheel while the inspector scrolls."""
        return []


class LineEditor(ParamEditor):
    """TEXT, and the base of every one-line field whose text is the value."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.input = QLineEdit()
        self.input.setPlaceholderText(self.placeholder())
        self.input.textEdited.connect(self._on_edited)
        self._layout.addWidget(self.input)

    def placeholder(self) -> str:
        default = self.spec.default
        return localized("Default", default) if isinstance(default, str) and default else ""

    def set_value(self, value: Any) -> None:
        set_line_text(self.input, "" if value is None else str(value))
        self.describe(self.input.text())

    def _on_edited(self, text: str) -> None:
        self.describe(text)
        self.edited.emit(text)

    def describe(self, text: str) -> None:
        """Update the feedback line, if this kind has one."""


class DurationEditor(LineEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self._add_feedback()

    def placeholder(self) -> str:
        return self.tr("e.g. P2D, PT6H, P1DT12H")

    def describe(self, text: str) -> None:
        if not text.strip():
            tone = "error" if self.spec.required else "muted"
            self.feedback.show_lines([(tone, self.tr("No duration set"))])
            return
        try:
            self.feedback.show_lines([("muted", f"= {duration_words(parse_duration(text))}")])
        except DurationError as error:
            self.feedback.show_lines([("error", str(error))])


class TimeEditor(LineEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.input.setMaxLength(5)
        self.input.setMaximumWidth(QFontMetrics(self.input.font()).horizontalAdvance("00:000") + 24)
        self._add_feedback()

    def placeholder(self) -> str:
        return self.tr("HH:MM")

    def describe(self, text: str) -> None:
        ok = _TIME.match(text) or (not text and not self.spec.required)
        wrong = [("error", self.tr("Write the time as HH:MM, e.g. 09:30"))]
        self.feedback.show_lines([] if ok else wrong)


class ExpressionEditor(LineEditor):
    """Parses as you type: the error with its column, or the condition in plain words."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self._add_feedback()

    def placeholder(self) -> str:
        return self.tr('e.g. age >= 25 and "cats" in tags')

    def describe(self, text: str) -> None:
        self.feedback.show_lines(condition_feedback(text, self.spec.required))


def condition_feedback(text: str, required: bool) -> list[tuple[str, str]]:
    if not text.strip() and not required:
        return [("muted", QCoreApplication.translate("Inspector", "Empty: everyone passes"))]
    try:
        expr = expressions.parse(text)
    except expressions.ExpressionError as error:
        return [("error", _capitalised(str(error.located)))]
    lines = [("muted", f"= {expressions.to_words(expr)}")]
    lines += [
        ("warning", f"⚠ {_capitalised(str(issue.located))}")
        for issue in expressions.check(expr, DEFAULT_SCHEMA)
    ]
    return lines


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


class TextBlockEditor(ParamEditor):
    """MULTILINE, and the base of TEMPLATE: a growing plain-text box."""

    full_width = True
    min_lines, max_lines = 3, 12

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.input = GrowingTextEdit(self.min_lines, self.max_lines)
        self.input.textChanged.connect(self._on_changed)
        self._layout.addWidget(self.input)

    def set_value(self, value: Any) -> None:
        text = "" if value is None else str(value)
        if self.input.toPlainText() != text:
            self.input.blockSignals(True)
            self.input.set_text_keeping_cursor(text)
            self.input.blockSignals(False)
            self.input.updateGeometry()
        self.describe(text)

    def _on_changed(self) -> None:
        text = self.input.toPlainText()
        self.describe(text)
        self.edited.emit(text)

    def describe(self, text: str) -> None:
        """Update the feedback line, if this kind has one."""


class TemplateEditor(TextBlockEditor):
    """Jinja2 text: the variables it uses, or the syntax error with its line."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.input.setPlaceholderText(self.tr("e.g. Hi {{ contact.first_name }}"))
        self._add_feedback()

    def describe(self, text: str) -> None:
        self.feedback.show_lines(template_feedback(text))


class SubjectEditor(TemplateEditor):
    """A template that is one line in practice (an e-mail subject)."""

    min_lines, max_lines = 1, 3


def template_feedback(text: str) -> list[tuple[str, str]]:
    try:
        variables = parse_template(text).variables
    except TemplateError as error:
        return [("error", _capitalised(str(error.located)))]
    if variables:
        uses = QCoreApplication.translate("Inspector", "Uses: {names}").format(
            names=", ".join(variables)
        )
    else:
        uses = QCoreApplication.translate("Inspector", "No variables")
    lines = [("muted", uses)]
    lines += [("warning", f"⚠ {_capitalised(str(issue))}") for issue in check_template(text)]
    return lines


class _DecimalBox(QDoubleSpinBox):
    """Shows 10 and 0.15 rather than 10.00 and 0.15: the numbers as the user wrote them."""

    def textFromValue(self, value: float) -> str:
        text = super().textFromValue(value)
        point = self.locale().decimalPoint()
        return text.rstrip("0").rstrip(point) if point in text else text


class NumberEditor(ParamEditor):
    """NUMBER (two decimals) and INTEGER; the spec's minimum and maximum bound the box."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        integer = spec.kind is ParamKind.INTEGER
        self.input = QSpinBox() if integer else _DecimalBox()
        low = spec.minimum if spec.minimum is not None else -_BIG
        high = spec.maximum if spec.maximum is not None else _BIG
        if integer:
            self.input.setRange(int(max(low, -(2**31))), int(min(high, 2**31 - 1)))
        else:
            self.input.setDecimals(2)
            self.input.setRange(low, high)
        self.input.setGroupSeparatorShown(True)
        self.input.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.input.setMinimumWidth(110)
        self.input.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.input.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.input.valueChanged.connect(self._on_changed)
        row = QHBoxLayout()
        row.addWidget(self.input)
        row.addStretch(1)
        self._layout.addLayout(row)

    def set_value(self, value: Any) -> None:
        number = _as_float(value, _as_float(self.spec.default))
        if self.input.value() != number:
            self.input.blockSignals(True)
            self.input.setValue(number)
            self.input.blockSignals(False)

    def _on_changed(self, value: float) -> None:
        self.edited.emit(int(value) if isinstance(self.input, QSpinBox) else to_number(value))

    def guarded_widgets(self) -> list[QWidget]:
        return [self.input]


class BooleanEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.input = QCheckBox()
        self.input.clicked.connect(lambda checked: self.edited.emit(bool(checked)))
        self._layout.addWidget(self.input)

    def set_value(self, value: Any) -> None:
        if self.input.isChecked() != bool(value):
            self.input.setChecked(bool(value))


class ElidingComboBox(QComboBox):
    """Long choices (product names) end in … instead of being cut mid-letter; the popup
    is as wide as its longest entry."""

    def paintEvent(self, event) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox,
            option,
            QStyle.SubControl.SC_ComboBoxEditField,
            self,
        )
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, field.width()
        )
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def showPopup(self) -> None:
        view = self.view()
        view.setMinimumWidth(
            view.sizeHintForColumn(0) + view.verticalScrollBar().sizeHint().width()
        )
        super().showPopup()


class ChoiceEditor(ParamEditor):
    """A fixed list of choices; a value from a newer file stays visible instead of changing."""

    expanding = False  # short choices keep a compact box; long ones take the row

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.input = ElidingComboBox()
        self.input.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.input.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.input.activated.connect(lambda i: self.edited.emit(self.input.itemData(i)))
        self.fill()
        row = QHBoxLayout()
        row.addWidget(self.input, int(self.expanding))
        if not self.expanding:
            row.addStretch(1)
        self._layout.addLayout(row)

    def fill(self) -> None:
        for choice in self.spec.choices:
            self.input.addItem(choice_text(choice), choice)

    def set_value(self, value: Any) -> None:
        index = self.input.findData(value)
        if index < 0 and value not in (None, ""):
            self.input.addItem(self.tr("{value} (unknown)").format(value=value), value)
            index = self.input.count() - 1
        if self.input.currentIndex() != index:
            self.input.setCurrentIndex(index)

    def guarded_widgets(self) -> list[QWidget]:
        return [self.input]


class ProductEditor(ChoiceEditor):
    """A product of the scenario's matrix, by id; refilled when the products change."""

    expanding = True

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        self._products: list[Product] = []
        self._currency = ""
        super().__init__(spec, parent)
        self.input.setPlaceholderText(self.tr("Choose a product…"))
        # long product names are elided rather than widening the whole inspector
        self.input.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.input.setMinimumContentsLength(12)
        self.input.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_value(self, value: Any) -> None:
        super().set_value(value)
        self.input.setToolTip(
            "\n".join(filter(None, (self.input.currentText(), param_help(self.spec))))
        )

    def fill(self) -> None:
        for product in self._products:
            try:
                price = money(product.price, self._currency or "RUB")
            except ValueError:
                price = str(product.price)
            self.input.addItem(f"{product.name} · {price}", product.id)
            self.input.setItemData(
                self.input.count() - 1,
                f"{product.id} · {choice_text(product.role)}",
                Qt.ItemDataRole.ToolTipRole,
            )

    def set_products(self, products: list[Product], currency: str) -> None:
        if (products, currency) == (self._products, self._currency):
            return
        current = self.input.currentData()
        self._products, self._currency = list(products), currency
        self.input.clear()
        self.fill()
        self.set_value(current)


class WeekdaysEditor(ParamEditor):
    """Seven toggles; the value is the checked days in week order."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        row = QHBoxLayout()
        row.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for index, day in enumerate(WEEKDAYS):
            # Monday 2024-01-01 onwards: the locale's own day names.
            button = QToolButton()
            button.setText(QLocale().dayName(index + 1, QLocale.FormatType.ShortFormat)[:2])
            button.setToolTip(QLocale().dayName(index + 1).capitalize())
            button.setCheckable(True)
            button.setMinimumWidth(28)
            button.setStyleSheet(_DAY_STYLE)
            button.clicked.connect(lambda _: self.edited.emit(self.value()))
            self.buttons[day] = button
            row.addWidget(button)
        row.addStretch(1)
        self._layout.addLayout(row)

    def value(self) -> list[str]:
        return [day for day, button in self.buttons.items() if button.isChecked()]

    def set_value(self, value: Any) -> None:
        chosen = set(value) if isinstance(value, list) else set()
        for day, button in self.buttons.items():
            if button.isChecked() != (day in chosen):
                button.setChecked(day in chosen)


class ColorEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.input = QPushButton()
        self.input.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.input.clicked.connect(self.choose)
        self._layout.addWidget(self.input)
        self._color = ""

    def set_value(self, value: Any) -> None:
        color = str(value or self.spec.default or "#FFFFFF").upper()
        if color == self._color:
            return
        self._color = color
        swatch = QPixmap(16, 16)
        swatch.fill(QColor(color))
        self.input.setIcon(QIcon(swatch))
        self.input.setText(color)

    def choose(self) -> None:
        color = QColorDialog.getColor(QColor(self._color), self, param_label(self.spec))
        if color.isValid() and color.name().upper() != self._color:
            self.edited.emit(color.name().upper())


class ItemTableEditor(ParamEditor):
    """Ordered items (switch cases, split variants) as table rows; any change writes the
    whole list. Keys a column does not show are kept, so nothing in the file is lost."""

    full_width = True
    columns: tuple[tuple[str, str], ...] = ()  # (key, header)
    add_tip = QT_TRANSLATE_NOOP("Inspector", "Add a row")

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.input = QTableWidget(0, len(self.columns))
        self.input.setHorizontalHeaderLabels(
            [QCoreApplication.translate("Inspector", header) for _, header in self.columns]
        )
        self.input.verticalHeader().hide()
        self.input.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.input.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.input.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.input.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.input.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        header = self.input.horizontalHeader()
        header.setHighlightSections(False)
        self.input.cellChanged.connect(self._on_cell_changed)
        self._layout.addWidget(self.input)

        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        add_tip = QCoreApplication.translate("Inspector", self.add_tip)
        self.button_add = self._button("+", add_tip, self.add_row)
        self.button_remove = self._button("−", self.tr("Remove the selected row"), self.remove_row)
        self.button_up = self._button(
            "↑", self.tr("Move the selected row up"), lambda: self.move_row(-1)
        )
        self.button_down = self._button(
            "↓", self.tr("Move the selected row down"), lambda: self.move_row(1)
        )
        for button in (self.button_add, self.button_remove, self.button_up, self.button_down):
            buttons.addWidget(button)
        self.extra_buttons(buttons)
        self.summary = QLabel()
        self.summary.setWordWrap(True)  # wraps in a narrow dock instead of widening it
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        buttons.addWidget(self.summary, 1)
        self._layout.addLayout(buttons)
        self._add_feedback()
        self.input.itemSelectionChanged.connect(self._update_buttons)

    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setMinimumWidth(28)
        button.clicked.connect(slot)
        return button

    def extra_buttons(self, layout: QHBoxLayout) -> None:
        """Room for a kind's own actions next to add / remove / move."""

    # model values <-> rows
    def value(self) -> list[dict[str, Any]]:
        items = []
        for row in range(self.input.rowCount()):
            item = dict(self.input.item(row, 0).data(ROLE_ITEM) or {})
            for column, (key, _) in enumerate(self.columns):
                item[key] = self.cell_value(key, self.input.item(row, column))
            items.append(item)
        return items

    def cell_value(self, key: str, cell: QTableWidgetItem) -> Any:
        return cell.text()

    def make_cell(self, key: str, value: Any) -> QTableWidgetItem:
        return QTableWidgetItem("" if value is None else str(value))

    def set_value(self, value: Any) -> None:
        items = [i for i in value if isinstance(i, dict)] if isinstance(value, list) else []
        if items != self.value():
            current = self.input.currentRow()
            self.input.blockSignals(True)
            self.input.setRowCount(0)
            for item in items:
                self._append(item)
            self.input.blockSignals(False)
            if 0 <= current < self.input.rowCount():
                self.input.selectRow(current)
        self.describe()
        self._update_buttons()

    def _append(self, item: dict[str, Any]) -> None:
        row = self.input.rowCount()
        self.input.insertRow(row)
        for column, (key, _) in enumerate(self.columns):
            self.input.setItem(row, column, self.make_cell(key, item.get(key)))
        self.input.item(row, 0).setData(ROLE_ITEM, item)

    def _on_cell_changed(self, row: int, column: int) -> None:
        self.describe()
        self.edited.emit(self.value())

    # row actions
    def new_item(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        raise NotImplementedError

    def add_row(self) -> None:
        items = self.value()
        items.append(self.new_item(items))
        self._write(items, len(items) - 1)

    def remove_row(self) -> None:
        row = self.input.currentRow()
        if row < 0:
            return
        items = self.value()
        del items[row]
        self._write(items, min(row, len(items) - 1))

    def move_row(self, step: int) -> None:
        row = self.input.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.input.rowCount():
            return
        items = self.value()
        items[row], items[target] = items[target], items[row]
        self._write(items, target)

    def _write(self, items: list[dict[str, Any]], select: int) -> None:
        """Show the new rows at once (the document echoes them back unchanged), then write."""
        self.set_value(items)
        if select >= 0:
            self.input.selectRow(select)
        self.edited.emit(items)

    def _update_buttons(self) -> None:
        row = self.input.currentRow()
        selected = row >= 0 and bool(self.input.selectedItems())
        self.button_remove.setEnabled(selected)
        self.button_up.setEnabled(selected and row > 0)
        self.button_down.setEnabled(selected and row < self.input.rowCount() - 1)

    def describe(self) -> None:
        """Update the summary and feedback under the table."""

    def _unique_id(self, items: list[dict[str, Any]], stem: str) -> tuple[str, int]:
        taken = {str(i.get("id")) for i in items}
        index = len(items) + 1
        while f"{stem}{index}" in taken:
            index += 1
        return f"{stem}{index}", index


class CasesEditor(ItemTableEditor):
    """Switch cases: id (the exit's name), label and condition; each condition is checked."""

    columns = (
        ("id", QT_TRANSLATE_NOOP("Inspector", "Id")),
        ("label", QT_TRANSLATE_NOOP("Inspector", "Label")),
        ("condition", QT_TRANSLATE_NOOP("Inspector", "Condition")),
    )
    add_tip = QT_TRANSLATE_NOOP("Inspector", "Add a case")

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        header = self.input.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 70)
        header.resizeSection(1, 100)
        self.summary.setText(self.tr("then ‘else’ for everyone else"))
        self.summary.setStyleSheet(f"color: {MUTED}")

    def new_item(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        case_id, index = self._unique_id(items, "case")
        return {
            "id": case_id,
            "label": self.tr("Case {index}").format(index=index),
            "condition": "",
        }

    def describe(self) -> None:
        lines: list[tuple[str, str]] = []
        with QSignalBlocker(self.input):  # colouring a cell is not an edit
            for row in range(self.input.rowCount()):
                cell = self.input.item(row, 2)
                found = condition_feedback(cell.text(), required=True)
                problems = [(tone, text) for tone, text in found if tone != "muted"]
                colour = QColor(TONES[problems[0][0]]) if problems else None
                cell.setData(Qt.ItemDataRole.ForegroundRole, colour)
                cell.setToolTip("\n".join(text for _, text in found))
                label = self.input.item(row, 1).text() or self.input.item(row, 0).text()
                lines += [(tone, f"{label}: {text}") for tone, text in problems]
        self.feedback.show_lines(lines)


class VariantsEditor(ItemTableEditor):
    """A/B variants: id (the exit's name), label and weight, with the live sum of weights."""

    columns = (
        ("id", QT_TRANSLATE_NOOP("Inspector", "Id")),
        ("label", QT_TRANSLATE_NOOP("Inspector", "Label")),
        ("weight", QT_TRANSLATE_NOOP("Inspector", "Weight, %")),
    )
    add_tip = QT_TRANSLATE_NOOP("Inspector", "Add a variant")

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        header = self.input.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 70)
        header.resizeSection(2, 90)

    def extra_buttons(self, layout: QHBoxLayout) -> None:
        self.button_even = self._button(
            self.tr("Even"), self.tr("Give every variant the same weight"), self.even
        )
        layout.addWidget(self.button_even)

    def make_cell(self, key: str, value: Any) -> QTableWidgetItem:
        if key != "weight":
            return super().make_cell(key, value)
        cell = QTableWidgetItem()
        cell.setData(Qt.ItemDataRole.EditRole, to_number(_as_float(value)))
        cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return cell

    def cell_value(self, key: str, cell: QTableWidgetItem) -> Any:
        if key != "weight":
            return super().cell_value(key, cell)
        return to_number(_as_float(cell.data(Qt.ItemDataRole.EditRole)))

    def new_item(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        letter = next(
            (c for c in "abcdefghijklmnopqrstuvwxyz" if c not in {i.get("id") for i in items}),
            None,
        )
        variant_id = letter or self._unique_id(items, "v")[0]
        rest = 100 - sum(_as_float(i.get("weight")) for i in items)
        return {"id": variant_id, "label": variant_id.upper(), "weight": to_number(max(rest, 0))}

    def even(self) -> None:
        items = self.value()
        if not items:
            return
        share, left = divmod(100, len(items))
        for index, item in enumerate(items):
            item["weight"] = share + (1 if index < left else 0)
        self._write(items, self.input.currentRow())

    def total(self) -> float:
        return sum(_as_float(item.get("weight")) for item in self.value())

    def describe(self) -> None:
        total = self.total()
        ok = abs(total - 100) < 1e-9
        self.summary.setText(self.tr("Sum: {total} %").format(total=QLocale().toString(total, "g")))
        self.summary.setStyleSheet(f"color: {MUTED if ok else ERROR}; font-weight: bold")
        wrong = [("error", self.tr("The weights must add up to 100 %"))]
        self.feedback.show_lines([] if ok else wrong)


EDITORS: dict[ParamKind, type[ParamEditor]] = {
    ParamKind.TEXT: LineEditor,
    ParamKind.MULTILINE: TextBlockEditor,
    ParamKind.NUMBER: NumberEditor,
    ParamKind.INTEGER: NumberEditor,
    ParamKind.BOOLEAN: BooleanEditor,
    ParamKind.CHOICE: ChoiceEditor,
    ParamKind.DURATION: DurationEditor,
    ParamKind.TIME: TimeEditor,
    ParamKind.WEEKDAYS: WeekdaysEditor,
    ParamKind.EXPRESSION: ExpressionEditor,
    ParamKind.TEMPLATE: TemplateEditor,
    ParamKind.PRODUCT: ProductEditor,
    ParamKind.CASES: CasesEditor,
    ParamKind.VARIANTS: VariantsEditor,
    ParamKind.COLOR: ColorEditor,
}


def editor_for(spec: ParamSpec) -> ParamEditor:
    if spec.kind is ParamKind.TEMPLATE and spec.name == "subject":
        return SubjectEditor(spec)
    return EDITORS[spec.kind](spec)


# --- scenario settings ---------------------------------------------------------------------


class ScenarioSettingsForm(QWidget):
    """Name, currency, quiet hours and frequency cap, shown when no step is selected.

    A scenario field has no merged undo, so text is written when editing finishes, and only
    valid values are written: the model never holds half a time or an unreadable period.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document: EditorDocument | None = None
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(self.tr("Untitled funnel"))
        self.name_edit.setToolTip(
            self.tr("The funnel's name in reports and the title bar, e.g. Win-back")
        )
        self.name_edit.editingFinished.connect(self._write_name)
        self.currency = QComboBox()
        self.currency.setEditable(True)
        self.currency.addItems(CURRENCIES)
        self.currency.setToolTip(self.tr("A three-letter ISO code: prices and costs are in it"))
        self.currency.lineEdit().editingFinished.connect(self._write_settings)
        self.currency.activated.connect(self._write_settings)

        self.quiet_on = QCheckBox()
        self.quiet_on.setToolTip(self.tr("Hold messages during these hours (contacts' local time)"))
        self.quiet_start, self.quiet_end = QLineEdit(), QLineEdit()
        self.cap_on = QCheckBox()
        self.cap_on.setToolTip(
            self.tr("Send no contact more messages than this in any such period")
        )
        self.cap_messages = QSpinBox()
        self.cap_messages.setRange(1, 1000)
        self.cap_messages.setSuffix(self.tr(" messages"))
        self.cap_messages.setToolTip(
            self.tr("The most messages one contact may get per period, e.g. 3")
        )
        self.cap_per = QLineEdit()
        self.cap_per.setPlaceholderText("P1D")
        self.cap_per.setToolTip(self.tr("A period such as P1D (a day) or P7D (a week)"))
        self.quiet_start.setToolTip(self.tr("Quiet hours begin (24-hour time), e.g. 22:00"))
        self.quiet_end.setToolTip(self.tr("Quiet hours end, e.g. 09:00: messages wait until then"))
        for edit in (self.quiet_start, self.quiet_end):
            edit.setPlaceholderText(self.tr("HH:MM"))
            edit.setMaxLength(5)
            edit.setMaximumWidth(64)
        for edit in (self.quiet_start, self.quiet_end, self.cap_per):
            edit.editingFinished.connect(self._write_settings)
        self.cap_messages.editingFinished.connect(self._write_settings)
        self.quiet_on.clicked.connect(self._write_settings)
        self.cap_on.clicked.connect(self._write_settings)
        self.feedback = Feedback()

        quiet = QHBoxLayout()
        quiet.addWidget(self.quiet_on)
        quiet.addWidget(self.quiet_start)
        quiet.addWidget(QLabel("–"))
        quiet.addWidget(self.quiet_end)
        quiet.addStretch(1)
        cap = QHBoxLayout()
        cap.addWidget(self.cap_on)
        cap.addWidget(self.cap_messages)
        cap.addWidget(QLabel(self.tr("per")))
        cap.addWidget(self.cap_per)
        cap.addStretch(1)
        self.cap_per.setMaximumWidth(64)
        self.cap_messages.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.currency.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.currency.setMinimumContentsLength(4)

        title = QLabel(self.tr("Scenario"))
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.tr("Name:"), self.name_edit)
        form.addRow(self.tr("Currency:"), self.currency)
        form.addRow(self.tr("Quiet hours:"), quiet)
        form.addRow(self.tr("Frequency cap:"), cap)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.feedback)

    def set_document(self, document: EditorDocument | None) -> None:
        self._document = document
        self.setEnabled(document is not None)
        self.refresh()

    def refresh(self) -> None:
        """Show the scenario's values; a field being edited keeps its text."""
        if self._document is None:
            return
        scenario = self._document.scenario
        settings = scenario.settings
        quiet, cap = settings.quiet_hours, settings.frequency_cap
        _set_text(self.name_edit, scenario.name)
        _set_text(self.currency.lineEdit(), settings.currency)
        self.quiet_on.setChecked(quiet is not None)
        _set_text(self.quiet_start, quiet.start if quiet else "22:00")
        _set_text(self.quiet_end, quiet.end if quiet else "09:00")
        self.cap_on.setChecked(cap is not None)
        if not self.cap_messages.hasFocus():
            self.cap_messages.setValue(cap.messages if cap else 3)
        _set_text(self.cap_per, cap.per if cap else "P1D")
        for widget in (self.quiet_start, self.quiet_end):
            widget.setEnabled(quiet is not None)
        for widget in (self.cap_messages, self.cap_per):
            widget.setEnabled(cap is not None)

    def _write_name(self) -> None:
        if self._document is not None:
            name = self.name_edit.text().strip() or self.tr("Untitled funnel")
            self._document.set_scenario_field("name", name, self.tr("Rename the scenario"))

    def _write_settings(self) -> None:
        """Write what is valid; say what is not (and keep it out of the model)."""
        if self._document is None:
            return
        settings = self._document.scenario.settings
        errors = []
        currency = self.currency.currentText().strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            errors.append(self.tr("Currency: a three-letter code such as RUB, USD or EUR"))
            currency = settings.currency
        quiet = None
        if self.quiet_on.isChecked():
            start, end = self.quiet_start.text().strip(), self.quiet_end.text().strip()
            if _TIME.match(start) and _TIME.match(end):
                quiet = QuietHours(start, end)
            else:
                errors.append(
                    self.tr("Quiet hours: write both times as HH:MM, e.g. 22:00 and 09:00")
                )
                quiet = settings.quiet_hours
        cap = None
        if self.cap_on.isChecked():
            per = self.cap_per.text().strip().upper()
            try:
                parse_duration(per)
                cap = FrequencyCap(self.cap_messages.value(), per)
            except DurationError as error:
                errors.append(self.tr("Frequency cap: {problem}").format(problem=error))
                cap = settings.frequency_cap
        self.feedback.show_lines([("error", text) for text in errors])
        new = dataclasses.replace(settings, currency=currency, quiet_hours=quiet, frequency_cap=cap)
        self._document.set_scenario_field("settings", new, self.tr("Change the scenario settings"))
        self.refresh()


def _set_text(edit: QLineEdit, text: str) -> None:
    if edit.text() != text:
        edit.setText(text)
        edit.setCursorPosition(0)  # show the start of a long name


# --- the inspector -------------------------------------------------------------------------


class _Header(QFrame):
    """The step's kind at a glance: icon, type label and category, in the category colour."""

    def __init__(self, node: Node, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        spec = node.spec
        color = category_color(spec.category) if spec else QColor(UNKNOWN_COLOR)
        tint = QColor(color)
        tint.setAlpha(28)
        self.setObjectName("inspectorHeader")
        self.setStyleSheet(
            f"#inspectorHeader {{ background: rgba({tint.red()},{tint.green()},{tint.blue()},"
            f"{tint.alpha()}); border-left: 4px solid {color.name()}; border-radius: 3px; }}"
        )
        icon = QLabel()
        icon.setPixmap(node_type_icon(node.type).pixmap(28, 28))
        title = QLabel(
            type_label(spec)
            if spec
            else self.tr("Unknown step type ‘{type}’").format(type=node.type)
        )
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        kind = category_title(spec.category) if spec else self.tr("Placeholder")
        subtitle = QLabel(self.tr("{kind} · id {id}").format(kind=kind, id=node.id))
        subtitle.setStyleSheet(f"color: {MUTED}")
        subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        texts = QVBoxLayout()
        texts.setSpacing(0)
        texts.addWidget(title)
        texts.addWidget(subtitle)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(10)
        layout.addWidget(icon)
        layout.addLayout(texts, 1)


class InspectorWidget(QWidget):
    """Edits the selected step through the document; shows a hint when nothing is selected."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document: EditorDocument | None = None
        self._node_id: str | None = None
        self.title_edit: QLineEdit | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.assumption_box: NodeAssumptionBox | None = None

        self.empty_label = QLabel(QCoreApplication.translate("Inspector", EMPTY_HINT))
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(f"color: {MUTED}; padding: 20px 16px;")
        self.settings_form = ScenarioSettingsForm()
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        self.empty_page = QWidget()
        empty = QVBoxLayout(self.empty_page)
        empty.setContentsMargins(0, 0, 0, 0)
        empty.addWidget(self.empty_label)
        empty.addWidget(line)
        empty.addWidget(self.settings_form)
        empty.addStretch(1)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._wheel_guard = _WheelGuard(self.scroll)
        self._line_height = QLineEdit().sizeHint().height()

        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_page)
        self.stack.addWidget(self.scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    @property
    def node_id(self) -> str | None:
        return self._node_id

    def set_document(self, document: EditorDocument | None) -> None:
        if self._document is not None:
            self._document.node_changed.disconnect(self._on_node_changed)
            self._document.node_removed.disconnect(self._on_node_removed)
            self._document.scenario_changed.disconnect(self._on_scenario_changed)
        self._document = document
        if document is not None:
            document.node_changed.connect(self._on_node_changed)
            document.node_removed.connect(self._on_node_removed)
            document.scenario_changed.connect(self._on_scenario_changed)
        self.settings_form.set_document(document)
        self.show_node(None)

    def show_node(self, node_id: str | None) -> None:
        """Build the form for a step (or the empty state); the same step again keeps the form."""
        scenario = self._document.scenario if self._document else None
        if node_id is None or scenario is None or node_id not in scenario.nodes:
            self._node_id = None
            self.editors = {}
            self.title_edit = None
            self.stack.setCurrentWidget(self.empty_page)
            return
        if node_id == self._node_id:
            self.refresh()
            return
        self._node_id = node_id
        self.scroll.setWidget(self._build(scenario.node(node_id)))
        self.scroll.verticalScrollBar().setValue(0)
        self.stack.setCurrentWidget(self.scroll)
        self.refresh()

    def refresh(self) -> None:
        """Show the model's values; only widgets whose value differs are touched."""
        if self._node_id is None or self._document is None:
            return
        node = self._document.scenario.node(self._node_id)
        set_line_text(self.title_edit, node.title)
        settings = self._document.scenario.settings
        for name, editor in self.editors.items():
            if isinstance(editor, ProductEditor):
                editor.set_products(self._document.scenario.products, settings.currency)
            editor.set_value(node.params.get(name, editor.spec.default))
        if self.assumption_box is not None:
            self.assumption_box.refresh()

    # --- building ----------------------------------------------------------------------------
    def _build(self, node: Node) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        layout.addWidget(_Header(node))
        spec = node.spec
        about = QLabel(
            type_help(spec) if spec else QCoreApplication.translate("Inspector", PLACEHOLDER_HELP)
        )
        about.setWordWrap(True)
        about.setStyleSheet(f"color: {MUTED}")
        layout.addWidget(about)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # in a narrow dock a wide field (the weekday toggles) moves under its label
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(8)
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText(type_label(spec) if spec else node.type)
        self.title_edit.setToolTip(self.tr("The name shown on the canvas and in reports"))
        self.title_edit.textEdited.connect(self._on_title_edited)
        form.addRow(self._label(self.tr("Title"), self.title_edit), self.title_edit)
        self.editors = {}
        for param in spec.params if spec else ():
            editor = editor_for(param)
            editor.edited.connect(self._make_setter(param.name))
            for widget in editor.guarded_widgets():
                widget.installEventFilter(self._wheel_guard)
            if editor.full_width:
                block = QVBoxLayout()
                block.setSpacing(4)
                block.addWidget(self._label(param_label(param), editor, above=True))
                block.addWidget(editor)
                form.addRow(block)
            else:
                form.addRow(self._label(param_label(param), editor), editor)
            self.editors[param.name] = editor
        layout.addLayout(form)
        self.assumption_box = None
        if node.type in NODE_KEYS and self._document is not None:
            self.assumption_box = NodeAssumptionBox(self._document, node)
            layout.addWidget(self.assumption_box)
        layout.addStretch(1)
        return page

    def _label(self, text: str, buddy: QWidget, above: bool = False) -> QLabel:
        label = QLabel(text if above else f"{text}:")
        label.setBuddy(getattr(buddy, "input", buddy))
        label.setToolTip(buddy.toolTip())
        if not above:
            # as tall as a one-line field, so it lines up with the field's first line even
            # when feedback or a table makes the row taller
            label.setFixedHeight(self._line_height)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return label

    def _make_setter(self, name: str) -> Callable[[Any], None]:
        def write(value: Any) -> None:
            if self._document is not None and self._node_id is not None:
                self._document.set_param(self._node_id, name, value)

        return write

    def _on_title_edited(self, text: str) -> None:
        if self._document is not None and self._node_id is not None:
            self._document.set_title(self._node_id, text)

    # --- following the document ----------------------------------------------------------------
    def _on_node_changed(self, node_id: str) -> None:
        if node_id == self._node_id:
            self.refresh()

    def _on_node_removed(self, node_id: str) -> None:
        if node_id == self._node_id:
            self.show_node(None)

    def _on_scenario_changed(self, _field: str) -> None:
        self.settings_form.refresh()
        self.refresh()
