"""The Settings dialog: every user preference in four tabs, checked before it is saved.

Cheap settings (theme, grid, snapping, autosave interval) are applied to the open windows as
they change, so the user sees the effect before pressing OK; Cancel puts the old ones back.
The language is read at start-up, so the dialog says it applies after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QLocale, QModelIndex, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import preferences
from app.engine.behaviour import AFTER_MESSAGE, DELIVERY
from app.engine.contact_schema import CHANNELS
from app.engine.db.session import ENV_VAR, DatabaseError, database_url
from app.preferences import CHANNEL_KEYS, Preferences

Apply = Callable[[Preferences], None]
MUTED = QColor("#8A94A3")
ERROR_TEXT = "#C62828"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
CHANNEL_NAMES = {
    "email": "E-mail",
    "sms": "SMS",
    "messenger": "Messenger",
    "vk": "VK",
    "push": "Push",
}
KEY_NAMES = {
    "deliver": "Delivered",
    "opened": "Opened",
    "clicked": "Clicked",
    "purchase": "Bought",
    "purchase_after_offer": "Bought, offer",
    "replied": "Replied",
}
KEY_HELP = {
    "deliver": "Share of sends that reach the contact",
    "opened": "Chance the contact opens within a wait-for-event's timeout",
    "clicked": "Chance the contact clicks within the timeout",
    "purchase": "Chance of a purchase after a plain message",
    "purchase_after_offer": "Chance of a purchase after a product offer",
    "replied": "Chance the contact replies within the timeout",
}
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_PERCENT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*%?\s*$")


def benchmark(channel: str, key: str) -> float:
    """The engine's default for a channel's probability (what an empty cell means)."""
    if key == "deliver":
        return DELIVERY.get(channel, 0.95)
    return AFTER_MESSAGE[key][channel]


def parse_percent(text: str) -> float | None:
    """`12`, `12 %`, `12,5` → 0.12, 0.125; None when it is not a percentage 0–100."""
    match = _PERCENT.match(text)
    if not match:
        return None
    value = float(match.group(1).replace(",", "."))
    return value / 100 if 0 <= value <= 100 else None


def percent_text(probability: float) -> str:
    return f"{probability * 100:g} %"


class _DefaultHintDelegate(QStyledItemDelegate):
    """An empty cell shows the benchmark it stands for, greyed, like a placeholder."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        super().paint(painter, option, index)
        if index.data(Qt.ItemDataRole.DisplayRole):
            return
        hint = index.data(Qt.ItemDataRole.UserRole)
        if hint:
            painter.save()
            painter.setPen(MUTED)
            rect = option.rect.adjusted(6, 0, -6, 0)
            painter.drawText(
                rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, hint
            )
            painter.restore()


class SettingsDialog(QDialog):
    """Edits a copy of the preferences; `apply` previews cheap ones on the open windows."""

    def __init__(
        self,
        current: Preferences | None = None,
        apply: Apply | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings — Voronka")
        self.setObjectName("settings_dialog")
        self._original = current or preferences.load()
        self._apply = apply or (lambda _preferences: None)
        self.saved: Preferences | None = None

        self.tabs = QTabWidget()
        self.tabs.addTab(self._general_tab(), "General")
        self.tabs.addTab(self._editor_tab(), "Editor")
        self.tabs.addTab(self._database_tab(), "Contact database")
        self.tabs.addTab(self._simulation_tab(), "Simulation")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_TEXT}")
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        restore = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(self.restore_defaults)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.show_preferences(self._original)
        self._connect_live_preview()
        for spin in (self.grid_size, self.autosave, self.horizon, self.seed, self.replications):
            spin.setMinimumWidth(120)
        for field in (*self.findChildren(QSpinBox), *self.findChildren(QComboBox)):
            field.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.resize(max(self.sizeHint().width(), 660), 500)

    # --- tabs ------------------------------------------------------------------------------
    def _general_tab(self) -> QWidget:
        self.language = QComboBox()
        system = LANGUAGE_NAMES.get(QLocale.system().name()[:2], "English")
        self.language.addItem(f"System language ({system})", "system")
        for code, name in LANGUAGE_NAMES.items():
            self.language.addItem(name, code)
        self.language_note = _note("The language changes the next time Voronka starts.")
        self.theme = QComboBox()
        self.theme.addItem("Light", "light")
        self.theme.addItem("Dark", "dark")
        self.theme.setToolTip("Colours of the canvas")
        form = _form()
        form.addRow("Language:", self.language)
        form.addRow("", self.language_note)
        form.addRow("Theme:", self.theme)
        return _page(form)

    def _editor_tab(self) -> QWidget:
        self.grid_visible = QCheckBox("Show the grid on the canvas")
        self.snap = QCheckBox("Snap steps to the grid when they are moved")
        self.grid_size = QSpinBox()
        self.grid_size.setRange(*preferences.GRID_SIZES)
        self.grid_size.setSuffix(" px")
        self.grid_size.setToolTip("Distance between grid lines at 100 % zoom; a step is 220 wide")
        self.autosave = QSpinBox()
        self.autosave.setRange(*preferences.AUTOSAVE_SECONDS)
        self.autosave.setSuffix(" s")
        self.autosave.setToolTip(
            "After each change, Voronka keeps a recovery copy this many seconds later, so a "
            "crash loses at most that much work. Your file is only written when you save."
        )
        form = _form()
        form.addRow("", self.grid_visible)
        form.addRow("", self.snap)
        form.addRow("Grid size:", self.grid_size)
        form.addRow("Recovery copy after:", self.autosave)
        form.addRow("", _note("Unsaved work is offered back after a crash."))
        return _page(form)

    def _database_tab(self) -> QWidget:
        self.database = QLineEdit()
        self.database.setClearButtonEnabled(True)
        self.database.setPlaceholderText(self._default_database())
        self.database.setToolTip(
            "An SQLite file, or a database URL such as "
            "postgresql+psycopg://user:password@host/crm for a base the team shares"
        )
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_database)
        row = QHBoxLayout()
        row.addWidget(self.database, 1)
        row.addWidget(browse)
        form = _form()
        form.addRow("Database:", row)
        form.addRow(
            "",
            _note(
                "Leave empty for the default: the $"
                f"{ENV_VAR} URL when it is set, otherwise an SQLite file in your data folder."
            ),
        )
        return _page(form)

    def _simulation_tab(self) -> QWidget:
        self.horizon = QSpinBox()
        self.horizon.setRange(*preferences.HORIZON_DAYS)
        self.horizon.setSuffix(" days")
        self.horizon.setToolTip("How long a simulation follows the contacts")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed gives the same result; change it to see the spread")
        self.replications = QSpinBox()
        self.replications.setRange(*preferences.REPLICATIONS)
        self.replications.setToolTip(
            "Runs with different seeds; more than one gives a 95 % range for each figure"
        )
        form = _form()
        form.addRow("Horizon:", self.horizon)
        form.addRow("Seed:", self.seed)
        form.addRow("Replications:", self.replications)

        self.channels = QTableWidget(len(CHANNELS), len(CHANNEL_KEYS))
        self.channels.setHorizontalHeaderLabels([KEY_NAMES[k] for k in CHANNEL_KEYS])
        self.channels.setVerticalHeaderLabels([CHANNEL_NAMES[c] for c in CHANNELS])
        for column, key in enumerate(CHANNEL_KEYS):
            self.channels.horizontalHeaderItem(column).setToolTip(KEY_HELP[key])
        self.channels.setItemDelegate(_DefaultHintDelegate(self.channels))
        self.channels.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.channels.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.channels.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.channels.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.channels.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.channels.setFixedHeight(
            self.channels.horizontalHeader().sizeHint().height()
            + len(CHANNELS) * self.channels.verticalHeader().defaultSectionSize()
            + 2 * self.channels.frameWidth()
        )
        self.channels.itemChanged.connect(self._check_cell)
        note = _note(
            "Behaviour per channel, in percent. Empty cells use the published benchmarks "
            "shown in grey; type a figure from your own reports to override one."
        )
        return _page(form, note, self.channels)

    # --- values ----------------------------------------------------------------------------
    def show_preferences(self, values: Preferences) -> None:
        self.language.setCurrentIndex(max(0, self.language.findData(values.language)))
        self.theme.setCurrentIndex(max(0, self.theme.findData(values.theme)))
        self.grid_visible.setChecked(values.grid_visible)
        self.snap.setChecked(values.snap_to_grid)
        self.grid_size.setValue(values.grid_size)
        self.autosave.setValue(values.autosave_seconds)
        self.database.setText(values.database)
        simulation = values.simulation
        self.horizon.setValue(simulation.horizon_days)
        self.seed.setValue(min(simulation.seed, self.seed.maximum()))
        self.replications.setValue(simulation.replications)
        self.channels.blockSignals(True)
        for row, channel in enumerate(CHANNELS):
            for column, key in enumerate(CHANNEL_KEYS):
                value = simulation.channels.get(channel, {}).get(key)
                item = QTableWidgetItem("" if value is None else percent_text(value))
                item.setTextAlignment(RIGHT)
                default = percent_text(benchmark(channel, key))
                item.setData(Qt.ItemDataRole.UserRole, default)
                item.setToolTip(f"{KEY_HELP[key]} ({CHANNEL_NAMES[channel]}); default {default}")
                self.channels.setItem(row, column, item)
        self.channels.blockSignals(False)
        self._validate()

    def preferences(self) -> Preferences:
        """What the dialog shows, as preferences (the lists it does not edit are kept)."""
        channels: dict[str, dict[str, float]] = {}
        for row, channel in enumerate(CHANNELS):
            for column, key in enumerate(CHANNEL_KEYS):
                text = self.channels.item(row, column).text().strip()
                value = parse_percent(text) if text else None
                if value is not None:
                    channels.setdefault(channel, {})[key] = value
        return replace(
            self._original,
            language=self.language.currentData(),
            theme=self.theme.currentData(),
            grid_visible=self.grid_visible.isChecked(),
            snap_to_grid=self.snap.isChecked(),
            grid_size=self.grid_size.value(),
            autosave_seconds=self.autosave.value(),
            database=self.database.text().strip(),
            simulation=preferences.SimulationDefaults(
                horizon_days=self.horizon.value(),
                seed=self.seed.value(),
                replications=self.replications.value(),
                channels=channels,
            ),
        )

    def problems(self) -> list[str]:
        problems = []
        for row, channel in enumerate(CHANNELS):
            for column, key in enumerate(CHANNEL_KEYS):
                text = self.channels.item(row, column).text().strip()
                if text and parse_percent(text) is None:
                    problems.append(
                        f"{CHANNEL_NAMES[channel]} · {KEY_NAMES[key]}: ‘{text}’ is not a "
                        "percentage from 0 to 100"
                    )
        return problems + self.preferences().check()

    def _validate(self) -> bool:
        problems = self.problems()
        self.error_label.setText("\n".join(problems))
        self.error_label.setVisible(bool(problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)
        return not problems

    def _check_cell(self, item: QTableWidgetItem) -> None:
        text = item.text().strip()
        bad = bool(text) and parse_percent(text) is None
        item.setBackground(QColor("#FDE7E7") if bad else QColor(0, 0, 0, 0))
        self._validate()

    # --- live preview, saving --------------------------------------------------------------
    def _connect_live_preview(self) -> None:
        self.theme.currentIndexChanged.connect(self._preview)
        self.grid_visible.toggled.connect(self._preview)
        self.snap.toggled.connect(self._preview)
        self.grid_size.valueChanged.connect(self._preview)
        self.autosave.valueChanged.connect(self._preview)
        self.database.textChanged.connect(self._validate)
        for spin in (self.horizon, self.seed, self.replications):
            spin.valueChanged.connect(self._validate)

    def _preview(self) -> None:
        self._apply(self.preferences())

    def restore_defaults(self) -> None:
        """Defaults for what the dialog edits; recent files and window layout stay."""
        defaults = Preferences()
        self.show_preferences(
            replace(
                defaults,
                recent_files=self._original.recent_files,
                last_folder=self._original.last_folder,
                window_state=self._original.window_state,
            )
        )
        self._preview()

    def accept(self) -> None:
        if not self._validate():
            return
        chosen = self.preferences()
        # Files opened while the dialog was up have changed the recent list on disk: keep it.
        latest = preferences.load()
        chosen = replace(
            chosen,
            recent_files=latest.recent_files,
            last_folder=latest.last_folder,
            window_state=latest.window_state,
        )
        preferences.save(chosen)
        self.saved = chosen
        self._apply(chosen)
        super().accept()

    def reject(self) -> None:
        self._apply(self._original)
        super().reject()

    # --- helpers ---------------------------------------------------------------------------
    def _default_database(self) -> str:
        try:
            return database_url().removeprefix("sqlite:///")
        except DatabaseError as error:
            return str(error)

    def _browse_database(self) -> None:
        current = self.database.text().strip()
        start = current if current and "://" not in current else self._default_database()
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Contact database",
            start,
            "SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.database.setText(str(Path(path)))


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setHorizontalSpacing(12)
    form.setVerticalSpacing(10)
    return form


def _page(form: QFormLayout, *below: QWidget) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(16, 16, 16, 16)
    layout.setSpacing(10)
    layout.addLayout(form)
    for widget in below:
        layout.addWidget(widget)
    layout.addStretch(1)
    return page


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: #5F6B7A")
    return label
