"""The Simulation dock: choose the database, segment and horizon, run, see the headline.

Runs go through `simulation_job.run_simulation` (the same path as `voronka simulate`) on a
background thread, so the window keeps painting and Cancel works; the result goes to the canvas
overlay and the results view through `result_ready`.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QDate, QLocale, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import make_url

from app import preferences
from app.document import EditorDocument
from app.engine.behaviour import Assumptions
from app.engine.db import DatabaseError, database_url, generate_demo, open_database
from app.engine.db.runs import RunError, save_run
from app.engine.model import Scenario
from app.engine.serialization import dumps_scenario, loads_scenario
from app.engine.simulation import SimulationResult
from app.engine.simulation_job import (
    Population,
    SimulationRequest,
    run_simulation,
)
from app.engine.templates import money
from app.i18n import plural
from app.ui.assumptions_table import AssumptionsTable
from app.ui.background import BackgroundJob, Report
from app.ui.demo_database import DEMO_CONTACTS
from app.ui.inspector import Feedback, condition_feedback

ERROR_STYLE = "color: #C62828"
MUTED_STYLE = "color: #5F6B7A"
STALE_STYLE = "color: #9A5B00; font-weight: bold"


def to_database_url(text: str) -> str:
    """A typed path or URL as a database URL ('' is the default database)."""
    text = text.strip()
    if not text:
        return database_url(None)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, None for a server database or a URL that does not parse."""
    try:
        parsed = make_url(url)
    except Exception:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return None if parsed.database == ":memory:" else Path(parsed.database)


def _pct(value: float) -> str:
    return f"{QLocale().toString(value * 100, 'f', 1)} %"


def _n(value: float) -> str:
    """A count or amount with the locale's digit groups (`12 345`, `12,345`)."""
    return QLocale().toString(float(round(value)), "f", 0)


class SimulationPanel(QWidget):
    result_ready = Signal(object, object)  # SimulationResult, Population
    preview_requested = Signal()
    compare_requested = Signal()
    run_saved = Signal(int)
    show_numbers_changed = Signal(bool)
    percentages_changed = Signal(bool)
    status_message = Signal(str)
    job_progressed = Signal(str, float)
    cancelled = Signal()
    job_done = Signal()  # a run or demo creation ended, however it ended

    def __init__(self, document: EditorDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.job: BackgroundJob | None = None
        self.result: SimulationResult | None = None
        self.population: Population | None = None
        self.request: SimulationRequest | None = None
        self.run_scenario: Scenario | None = None  # the funnel as it was when the run started
        self.saved_run_id: int | None = None
        self._started = 0.0
        self.defaults = preferences.load()
        self._build()
        self._use_defaults()
        self.assumptions.set_assumptions(self.funnel_assumptions())
        document.scenario_changed.connect(self._scenario_changed)
        self._database_edited()

    # --- the user's defaults (Edit → Settings) ---------------------------------------------
    def _use_defaults(self) -> None:
        """The chosen database and the default horizon, seed and replications."""
        url = self.defaults.database_url()
        if url:
            self.database_edit.setText(url)
        simulation = self.defaults.simulation
        self.horizon_spin.setValue(simulation.horizon_days)
        self.seed_spin.setValue(simulation.seed)
        self.replications_spin.setValue(simulation.replications)

    def funnel_assumptions(self) -> Assumptions:
        """The funnel's own overrides on top of the user's per-channel defaults."""
        own = self.document.simulation_assumptions()
        channels = {c: dict(v) for c, v in self.defaults.simulation.channels.items()}
        for channel, values in own.channels.items():
            channels.setdefault(channel, {}).update(values)
        return dataclasses.replace(own, channels=channels)

    # --- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.database_edit = QLineEdit(database_url(None))
        self.database_edit.setToolTip(
            self.tr("A SQLite file or a database URL, e.g. postgresql+psycopg://user@host/contacts")
        )
        self.database_edit.editingFinished.connect(self._database_edited)
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse_database)
        row = QHBoxLayout()
        row.addWidget(self.database_edit, 1)
        row.addWidget(browse)
        form.addRow(self.tr("Database"), row)
        self.database_status = QLabel()
        self.database_status.setWordWrap(True)
        demo = self.tr("Create demo database ({n} contact(s))", "", DEMO_CONTACTS)
        self.create_demo_button = QPushButton(
            plural(demo, DEMO_CONTACTS).format(n=_n(DEMO_CONTACTS))
        )
        self.create_demo_button.clicked.connect(self.create_demo_database)
        status_row = QVBoxLayout()
        status_row.addWidget(self.database_status)
        status_row.addWidget(self.create_demo_button)
        form.addRow("", status_row)

        self.segment_edit = QLineEdit()
        self.segment_edit.setPlaceholderText(
            self.tr("everyone, or e.g. 'vip' in tags and age >= 25")
        )
        self.segment_edit.textChanged.connect(self._segment_edited)
        form.addRow(self.tr("Segment"), self.segment_edit)
        self.segment_feedback = Feedback()
        self.segment_feedback.hide()
        form.addRow("", self.segment_feedback)

        self.horizon_spin = QSpinBox(minimum=1, maximum=365, value=30, suffix=self.tr(" days"))
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=1)
        self.seed_spin.setToolTip(self.tr("The same seed gives the same numbers, run after run"))
        self.replications_spin = QSpinBox(minimum=1, maximum=200, value=1)
        self.replications_spin.setToolTip(
            self.tr(
                "Repeat the run with derived seeds to get 95 % intervals for the headline figures"
            )
        )
        self.start_edit = QDateEdit(QDate.currentDate())
        self.start_edit.setCalendarPopup(True)
        self.start_edit.setDisplayFormat(QLocale().dateFormat(QLocale.FormatType.ShortFormat))
        numbers = QHBoxLayout()
        numbers.addWidget(self.horizon_spin)
        numbers.addWidget(QLabel(self.tr("Seed")))
        numbers.addWidget(self.seed_spin)
        numbers.addWidget(QLabel(self.tr("Runs")))
        numbers.addWidget(self.replications_spin)
        form.addRow(self.tr("Horizon"), numbers)
        form.addRow(self.tr("Starts on"), self.start_edit)
        layout.addLayout(form)

        self.assumptions_toggle = QToolButton()
        self.assumptions_toggle.setText(self.tr("Behaviour assumptions per channel"))
        self.assumptions_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.assumptions_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.assumptions_toggle.setCheckable(True)
        self.assumptions_toggle.setAutoRaise(True)
        self.assumptions_toggle.toggled.connect(self._toggle_assumptions)
        layout.addWidget(self.assumptions_toggle)
        self.assumptions = AssumptionsTable()
        self.assumptions.setVisible(False)
        self.assumptions.changed.connect(self._assumptions_edited)
        self.assumptions.rejected.connect(self.status_message)
        layout.addWidget(self.assumptions)

        buttons = QHBoxLayout()
        self.run_button = QPushButton(self.tr("Run simulation"))
        self.run_button.setToolTip(self.tr("Simulate the funnel over the database (F9)"))
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.progress = QProgressBar(minimum=0, maximum=1000)
        self.progress.setTextVisible(False)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.status = QLabel(self.tr("Not run yet."))
        self.status.setWordWrap(True)
        self.status.setStyleSheet(MUTED_STYLE)
        layout.addWidget(self.status)

        toggles = QHBoxLayout()
        self.show_numbers = QCheckBox(self.tr("Numbers on the canvas"))
        self.show_numbers.setChecked(True)
        self.show_numbers.toggled.connect(self.show_numbers_changed)
        self.percentages = QCheckBox(self.tr("As percentages"))
        self.percentages.toggled.connect(self.percentages_changed)
        toggles.addWidget(self.show_numbers)
        toggles.addWidget(self.percentages)
        toggles.addStretch(1)
        layout.addLayout(toggles)

        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.headline)
        self.stages = QTableWidget(0, 3)
        self.stages.setHorizontalHeaderLabels(
            [self.tr("Stage"), self.tr("Contacts"), self.tr("From start")]
        )
        self.stages.verticalHeader().hide()
        header = self.stages.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.stages.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.stages.hide()
        layout.addWidget(self.stages)
        self.preview_button = QPushButton(self.tr("Preview as contact…"))
        self.preview_button.setToolTip(
            self.tr("Pick a contact and follow its path step by step, with every message rendered")
        )
        self.preview_button.clicked.connect(self.preview_requested)
        layout.addWidget(self.preview_button)
        runs = QHBoxLayout()
        self.save_button = QPushButton(self.tr("Save run…"))
        self.save_button.setToolTip(
            self.tr("Keep this run in the database, with a label, to compare it with others")
        )
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(lambda: self.save_run())
        self.compare_button = QPushButton(self.tr("Compare runs…"))
        self.compare_button.setToolTip(
            self.tr("Two saved runs side by side: inputs, figures, stages, steps, channels")
        )
        self.compare_button.clicked.connect(self.compare_requested)
        runs.addWidget(self.save_button, 1)
        runs.addWidget(self.compare_button, 1)
        layout.addLayout(runs)
        layout.addStretch(1)

    # --- inputs ----------------------------------------------------------------------------
    def database(self) -> str:
        return to_database_url(self.database_edit.text())

    def _browse_database(self) -> None:
        current = sqlite_file(self.database())
        folder = str(current.parent if current else Path.home())
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Contact database"),
            folder,
            self.tr("SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)"),
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.database_edit.setText(path)
            self._database_edited()

    def _database_edited(self) -> None:
        url = self.database()
        path = sqlite_file(url)
        missing = path is not None and not path.exists()
        self.create_demo_button.setVisible(missing)
        self.run_button.setEnabled(not missing and not self.running())
        if missing:
            self.database_status.setText(
                self.tr(
                    "There is no database at {path} yet. Create a demo one to try the funnel, "
                    "or import contacts with ‘voronka db import’."
                ).format(path=path)
            )
            self.database_status.setStyleSheet(STALE_STYLE)
        else:
            where = path.name if path else make_url(url).render_as_string(hide_password=True)
            self.database_status.setText(self.tr("Contacts from {where}").format(where=where))
            self.database_status.setStyleSheet(MUTED_STYLE)

    def _segment_edited(self, text: str) -> None:
        if not text.strip():
            self.segment_feedback.hide()
            return
        self.segment_feedback.show_lines(condition_feedback(text, required=False))
        self.segment_feedback.show()

    def _toggle_assumptions(self, shown: bool) -> None:
        self.assumptions.setVisible(shown)
        arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        self.assumptions_toggle.setArrowType(arrow)

    def _assumptions_edited(self, assumptions, text: str) -> None:
        current = self.document.simulation_assumptions()
        current.channels = assumptions.channels
        self.document.set_simulation_assumptions(current, text)

    def _scenario_changed(self, field: str) -> None:
        if field == "extra.simulation":
            self.assumptions.set_assumptions(self.funnel_assumptions())
        self.mark_stale()

    def build_request(self) -> SimulationRequest:
        day = self.start_edit.date()
        return SimulationRequest(
            database=self.database(),
            segment=self.segment_edit.text().strip(),
            horizon_days=self.horizon_spin.value(),
            seed=self.seed_spin.value(),
            replications=self.replications_spin.value(),
            start=datetime(day.year(), day.month(), day.day()),
            assumptions=self.funnel_assumptions(),
        )

    # --- running ---------------------------------------------------------------------------
    def running(self) -> bool:
        return self.job is not None

    def run(self) -> None:
        if self.running() or not self.run_button.isEnabled():
            return
        errors = [p for p in self.document.problems if p.severity.value == "error"]
        if errors:
            self._show_status(
                plural(
                    self.tr(
                        "Fix the %n error(s) in Problems first: a funnel with holes cannot be "
                        "simulated.",
                        "",
                        len(errors),
                    ),
                    len(errors),
                ),
                ERROR_STYLE,
            )
            return
        # A snapshot: the user may go on editing while the run reads it on another thread.
        scenario = loads_scenario(dumps_scenario(self.document.scenario)).scenario
        request = self.build_request()

        def work(report: Report) -> tuple[SimulationResult, Population]:
            return run_simulation(scenario, request, report)

        self._begin(BackgroundJob(work, self), self.tr("Starting…"))
        self.request = request
        self.run_scenario = scenario
        self.job.succeeded.connect(self._run_succeeded)
        self.job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self._show_status(self.tr("Cancelling…"), MUTED_STYLE)

    def create_demo_database(self) -> None:
        if self.running():
            return
        url = self.database()

        def work(report: Report) -> str:
            engine = open_database(url)
            try:
                generate_demo(
                    engine,
                    DEMO_CONTACTS,
                    progress=lambda text, done, total: report(text, done / max(total, 1)),
                )
            finally:
                engine.dispose()
            return url

        self._begin(BackgroundJob(work, self), self.tr("Creating the demo database…"))
        self.job.succeeded.connect(self._demo_created)
        self.job.start()

    def _begin(self, job: BackgroundJob, text: str) -> None:
        self.job = job
        self._started = time.perf_counter()
        job.progressed.connect(self._progressed)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        job.finished.connect(self._finished)
        self.run_button.setEnabled(False)
        self.create_demo_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.progress.show()
        self._show_status(text, MUTED_STYLE)

    def _progressed(self, text: str, share: float) -> None:
        self.progress.setValue(round(share * 1000))
        self._show_status(text, MUTED_STYLE)
        self.job_progressed.emit(text, share)

    def _run_succeeded(self, outcome: tuple[SimulationResult, Population]) -> None:
        self.result, self.population = outcome
        self.saved_run_id = None
        self.save_button.setEnabled(True)
        seconds = time.perf_counter() - self._started
        result = self.result
        self._show_status(
            self.tr(
                "{entered} of {count} contacts entered · seed {seed} · {days} · {seconds} s"
            ).format(
                entered=_n(result.entered),
                count=_n(self.population.count),
                seed=result.seed,
                days=plural(self.tr("%n day(s)", "", result.horizon_days), result.horizon_days),
                seconds=QLocale().toString(seconds, "f", 1),
            ),
            MUTED_STYLE,
        )
        self._show_headline(result)
        self.result_ready.emit(result, self.population)

    def _demo_created(self, url: str) -> None:
        self._show_status(
            self.tr("Demo database ready: {n} contacts.").format(n=_n(DEMO_CONTACTS)), MUTED_STYLE
        )
        self.status_message.emit(self.tr("Demo contact database created"))

    def _failed(self, message: str) -> None:
        self._show_status(message, ERROR_STYLE)

    def _cancelled(self) -> None:
        self._show_status(
            self.tr("Cancelled; the last results (if any) are unchanged."), MUTED_STYLE
        )
        self.cancelled.emit()

    def _finished(self) -> None:
        self.job = None
        self.progress.hide()
        self.cancel_button.setEnabled(False)
        self.create_demo_button.setEnabled(True)
        self._database_edited()
        self.job_done.emit()

    def stop(self) -> None:
        """Cancel and wait for a running job (the window is closing)."""
        if self.job is not None:
            self.job.cancel()
            self.job.wait()

    def _show_status(self, text: str, style: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)

    # --- stored runs -----------------------------------------------------------------------
    def save_run(self, label: str | None = None) -> int | None:
        """Store the last run in its database under a label (asked for when not given);
        the run's id, or None when cancelled or refused (the reason is shown)."""
        if self.result is None or self.request is None or self.run_scenario is None:
            return None
        if label is None:
            suggestion = self.tr("Seed {seed}, {days}").format(
                seed=self.result.seed,
                days=plural(
                    self.tr("%n day(s)", "", self.result.horizon_days), self.result.horizon_days
                ),
            )
            label, accepted = QInputDialog.getText(
                self,
                self.tr("Save Run"),
                self.tr("A label to tell this run apart (e.g. 10 % discount):"),
                text=suggestion,
            )
            if not accepted:
                return None
        try:
            engine = open_database(self.request.database)
            try:
                run_id = save_run(engine, self.run_scenario, self.request, self.result, label=label)
            finally:
                engine.dispose()
        except (DatabaseError, RunError) as error:
            self._show_status(
                self.tr("The run was not saved: {error}").format(error=error), ERROR_STYLE
            )
            return None
        self.saved_run_id = run_id
        self.save_button.setEnabled(False)
        text = self.tr("Saved as run #{id}. Compare runs… shows it next to another.")
        self._show_status(text.format(id=run_id), MUTED_STYLE)
        self.status_message.emit(self.tr("Run #{id} saved").format(id=run_id))
        self.run_saved.emit(run_id)
        return run_id

    # --- results ---------------------------------------------------------------------------
    def mark_stale(self) -> None:
        if self.result is not None and not self.running():
            self._show_status(
                self.tr(
                    "The funnel changed since this run: the numbers are out of date. Run again."
                ),
                STALE_STYLE,
            )

    def _show_headline(self, result: SimulationResult) -> None:
        currency = self.document.scenario.settings.currency
        lost = sum(n for outcome, n in result.outcomes.items() if outcome != "converted")
        text = self.tr("<b>{converted}</b> converted ({rate}) · revenue <b>{revenue}</b>").format(
            converted=_n(result.converted),
            rate=_pct(result.conversion_rate),
            revenue=money(round(result.revenue), currency),
        )
        text += "<br>" + self.tr("{lost} left without converting").format(lost=_n(lost))
        if result.waiting:
            text += self.tr(", {n} still waiting").format(n=_n(result.waiting))
        interval = result.replications.get("converted")
        if interval:
            runs = self.request.replications if self.request else 0
            text += "<br>" + plural(
                self.tr("Over %n run(s): {mean} converted (95 %: {low}–{high})", "", runs), runs
            ).format(mean=_n(interval["mean"]), low=_n(interval["low"]), high=_n(interval["high"]))
        self.headline.setText(text)
        self.stages.setRowCount(len(result.stages))
        for row, stage in enumerate(result.stages):
            values = (str(stage["stage"]), _n(stage["conversions"]), _pct(stage["from_start"]))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.stages.setItem(row, column, item)
        self.stages.setVisible(bool(result.stages))
        self.stages.setFixedHeight(
            self.stages.horizontalHeader().height()
            + sum(self.stages.rowHeight(r) for r in range(len(result.stages)))
            + 4
        )
