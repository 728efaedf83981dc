"""The Settings dialog: every user preference in four tabs, checked before it is saved.

Cheap settings (theme, grid, snapping, autosave interval) are applied to the open windows as
they change, so the user sees the effect before pressing OK; Cancel puts the old ones back.
The interface language is read at start-up, so the dialog says it applies after a restart; the
open help page follows it at once (it is applied live too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import preferences
from app.engine.db.session import ENV_VAR, DatabaseError, database_url
from app.preferences import Preferences
from app.ui.assumptions_table import AssumptionsTable

Apply = Callable[[Preferences], None]
ERROR_TEXT = "#C62828"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


class SettingsDialog(QDialog):
    """Edits a copy of the preferences; `apply` previews cheap ones on the open windows."""

    def __init__(
        self,
        current: Preferences | None = None,
        apply: Apply | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings — Voronka"))
        self.setObjectName("settings_dialog")
        self._original = current or preferences.load()
        self._apply = apply or (lambda _preferences: None)
        self.saved: Preferences | None = None

        self.tabs = QTabWidget()
        self.tabs.addTab(self._general_tab(), self.tr("General"))
        self.tabs.addTab(self._editor_tab(), self.tr("Editor"))
        self.tabs.addTab(self._database_tab(), self.tr("Contact database"))
        self.tabs.addTab(self._simulation_tab(), self.tr("Simulation"))
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
        self.language.addItem(self.tr("System language ({name})").format(name=system), "system")
        for code, name in LANGUAGE_NAMES.items():
            self.language.addItem(name, code)
        self.language_note = _note(
            self.tr(
                "The interface language changes the next time Voronka starts; help pages "
                "change at once."
            )
        )
        self.theme = QComboBox()
        self.theme.addItem(self.tr("Light"), "light")
        self.theme.addItem(self.tr("Dark"), "dark")
        self.theme.setToolTip(self.tr("Colours of the canvas"))
        form = _form()
        form.addRow(self.tr("Language:"), self.language)
        form.addRow("", self.language_note)
        form.addRow(self.tr("Theme:"), self.theme)
        return _page(form)

    def _editor_tab(self) -> QWidget:
        self.grid_visible = QCheckBox(self.tr("Show the grid on the canvas"))
        self.snap = QCheckBox(self.tr("Snap steps to the grid when they are moved"))
        self.grid_size = QSpinBox()
        self.grid_size.setRange(*preferences.GRID_SIZES)
        self.grid_size.setSuffix(self.tr(" px"))
        self.grid_size.setToolTip(
            self.tr("Distance between grid lines at 100 % zoom; a step is 220 wide")
        )
        self.autosave = QSpinBox()
        self.autosave.setRange(*preferences.AUTOSAVE_SECONDS)
        self.autosave.setSuffix(self.tr(" s"))
        self.autosave.setToolTip(
            self.tr(
                "After each change, Voronka keeps a recovery copy this many seconds later, so a "
                "crash loses at most that much work. Your file is only written when you save."
            )
        )
        form = _form()
        form.addRow("", self.grid_visible)
        form.addRow("", self.snap)
        form.addRow(self.tr("Grid size:"), self.grid_size)
        form.addRow(self.tr("Recovery copy after:"), self.autosave)
        form.addRow("", _note(self.tr("Unsaved work is offered back after a crash.")))
        return _page(form)

    def _database_tab(self) -> QWidget:
        self.database = QLineEdit()
        self.database.setClearButtonEnabled(True)
        self.database.setPlaceholderText(self._default_database())
        self.database.setToolTip(
            self.tr(
                "An SQLite file, or a database URL such as "
                "postgresql+psycopg://user:password@host/crm for a base the team shares"
            )
        )
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse_database)
        row = QHBoxLayout()
        row.addWidget(self.database, 1)
        row.addWidget(browse)
        form = _form()
        form.addRow(self.tr("Database:"), row)
        form.addRow(
            "",
            _note(
                self.tr(
                    "Leave empty for the default: the ${variable} URL when it is set, otherwise an "
                    "SQLite file in your data folder."
                ).format(variable=ENV_VAR)
            ),
        )
        return _page(form)

    def _simulation_tab(self) -> QWidget:
        self.horizon = QSpinBox()
        self.horizon.setRange(*preferences.HORIZON_DAYS)
        self.horizon.setSuffix(self.tr(" days"))
        self.horizon.setToolTip(self.tr("How long a simulation follows the contacts"))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip(
            self.tr("The same seed gives the same result; change it to see the spread")
        )
        self.replications = QSpinBox()
        self.replications.setRange(*preferences.REPLICATIONS)
        self.replications.setToolTip(
            self.tr("Runs with different seeds; more than one gives a 95 % range for each figure")
        )
        form = _form()
        form.addRow(self.tr("Horizon:"), self.horizon)
        form.addRow(self.tr("Seed:"), self.seed)
        form.addRow(self.tr("Replications:"), self.replications)

        # the table of the Simulation dock: the same cells, benchmarks in grey, overrides in bold
        self.channels = AssumptionsTable()
        self.channels.changed.connect(self._channels_changed)
        self.channels.rejected.connect(self._channel_rejected)
        self._channel_problem = ""
        note = _note(
            self.tr(
                "What a new funnel's simulation assumes per channel, in percent. Grey: the "
                "published benchmark; type a figure from your own reports to override it, clear "
                "it to go back."
            )
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
        self.channels.set_assumptions(simulation.assumptions())
        self._channel_problem = ""
        self._validate()

    def preferences(self) -> Preferences:
        """What the dialog shows, as preferences (the lists it does not edit are kept)."""
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
                channels={k: dict(v) for k, v in self.channels.assumptions.channels.items()},
            ),
        )

    def problems(self) -> list[str]:
        """What stops OK: settings that cannot be saved."""
        return self.preferences().check()

    def _validate(self) -> bool:
        problems = self.problems()
        # a refused table cell is already put back: it is said, but it does not block OK
        shown = problems + ([self._channel_problem] if self._channel_problem else [])
        self.error_label.setText("\n".join(shown))
        self.error_label.setVisible(bool(shown))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)
        return not problems

    def _channels_changed(self, *_: object) -> None:
        self._channel_problem = ""
        self._validate()

    def _channel_rejected(self, message: str) -> None:
        """The table put the old figure back; say why until the next good edit."""
        self._channel_problem = message
        self._validate()

    # --- live preview, saving --------------------------------------------------------------
    def _connect_live_preview(self) -> None:
        self.language.currentIndexChanged.connect(self._preview)
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
            self.tr("Contact database"),
            start,
            self.tr("SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)"),
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
