"""Two stored simulation runs side by side ("10 % discount" against "20 % discount").

The runs come from the contact database the Simulation panel uses; the comparison itself is
`app.engine.run_comparison` (the same figures as `voronka runs compare`). The dialog shows which
inputs differ (naming each behaviour setting that changed), the headline figures, the funnel
stages with both runs' funnel charts next to each other, the steps whose counts differ and the
channels. Rising figures that are good (conversions, revenue) are green, falling ones red; with
replications, a change whose 95 % ranges overlap is shown as noise (grey).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLocale, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.charts.data import funnel_chart
from app.charts.widget import ChartWidget
from app.engine.catalog import exit_label
from app.engine.db import DatabaseError, open_database
from app.engine.db.runs import RunError, RunSummary, StoredRun, list_runs, load_run, scenario_hash
from app.engine.model import Scenario
from app.engine.run_comparison import (
    Change,
    RunComparison,
    assumption_changes,
    compare_runs,
    step_titles,
)
from app.engine.simulation import SimulationResult

GOOD_WHEN_HIGHER = {
    "entered",
    "converted",
    "conversion_rate",
    "revenue",
    "conversions",
    "from_previous",
    "from_start",
    "delivered",
}
GOOD_WHEN_LOWER = {"cost", "unreachable"}
BETTER, WORSE, NOISE = QColor("#2E7D32"), QColor("#C62828"), QColor("#7A8594")

FIGURES = {
    "entered": QT_TRANSLATE_NOOP("RunComparisonDialog", "Entered"),
    "converted": QT_TRANSLATE_NOOP("RunComparisonDialog", "Converted"),
    "conversion_rate": QT_TRANSLATE_NOOP("RunComparisonDialog", "Conversion"),
    "revenue": QT_TRANSLATE_NOOP("RunComparisonDialog", "Revenue"),
    "messages": QT_TRANSLATE_NOOP("RunComparisonDialog", "Messages"),
    "cost": QT_TRANSLATE_NOOP("RunComparisonDialog", "Cost"),
    "waiting": QT_TRANSLATE_NOOP("RunComparisonDialog", "Still waiting"),
    "conversions": QT_TRANSLATE_NOOP("RunComparisonDialog", "Contacts"),
    "from_previous": QT_TRANSLATE_NOOP("RunComparisonDialog", "From previous stage"),
    "from_start": QT_TRANSLATE_NOOP("RunComparisonDialog", "From start"),
    "delivered": QT_TRANSLATE_NOOP("RunComparisonDialog", "Delivered"),
    "unreachable": QT_TRANSLATE_NOOP("RunComparisonDialog", "Unreachable"),
}
INPUTS = {
    "scenario": QT_TRANSLATE_NOOP("RunComparisonDialog", "funnel"),
    "scenario content": QT_TRANSLATE_NOOP("RunComparisonDialog", "funnel content"),
    "segment": QT_TRANSLATE_NOOP("RunComparisonDialog", "segment"),
    "replications": QT_TRANSLATE_NOOP("RunComparisonDialog", "runs"),
    "contact data version": QT_TRANSLATE_NOOP("RunComparisonDialog", "contact data"),
    "seed": QT_TRANSLATE_NOOP("RunComparisonDialog", "seed"),
    "horizon_days": QT_TRANSLATE_NOOP("RunComparisonDialog", "horizon, days"),
    "start": QT_TRANSLATE_NOOP("RunComparisonDialog", "start"),
    "contacts": QT_TRANSLATE_NOOP("RunComparisonDialog", "contacts in the base"),
}


class RunComparisonDialog(QDialog):
    """Pick run A and run B from the database's stored runs; everything below follows."""

    def __init__(
        self, database_url: str, scenario: Scenario, theme: str = "light", parent=None
    ) -> None:
        super().__init__(parent)
        self.database_url = database_url
        self.scenario = scenario
        self.current_hash = scenario_hash(scenario)
        self.runs: list[RunSummary] = []
        self.loaded: dict[int, StoredRun] = {}
        self.comparison: RunComparison | None = None
        self.setWindowTitle(self.tr("Compare Runs — {name}").format(name=scenario.name))
        self.resize(980, 720)
        self._build(theme)
        self.reload()

    # --- building --------------------------------------------------------------------------
    def _build(self, theme: str) -> None:
        layout = QVBoxLayout(self)
        pick = QHBoxLayout()
        self.first_combo = QComboBox()
        self.second_combo = QComboBox()
        for combo in (self.first_combo, self.second_combo):
            combo.setMinimumContentsLength(28)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.currentIndexChanged.connect(self._chosen)
        swap = QToolButton()
        swap.setText("⇄")
        swap.setToolTip(self.tr("Swap A and B"))
        swap.clicked.connect(self.swap)
        pick.addWidget(QLabel(self.tr("A")))
        pick.addWidget(self.first_combo, 1)
        pick.addWidget(swap)
        pick.addWidget(QLabel(self.tr("B")))
        pick.addWidget(self.second_combo, 1)
        layout.addLayout(pick)
        self.all_funnels = QCheckBox(self.tr("Runs of every funnel in this database"))
        self.all_funnels.toggled.connect(self.reload)
        layout.addWidget(self.all_funnels)

        self.inputs_label = QLabel()
        self.inputs_label.setWordWrap(True)
        self.inputs_label.setTextFormat(Qt.TextFormat.RichText)
        self.inputs_label.setStyleSheet("padding: 6px 2px")
        layout.addWidget(self.inputs_label)

        self.tabs = QTabWidget()
        self.headline_table = _table()
        self.stages_table = _table()
        self.steps_table = _table()
        self.channels_table = _table()
        summary = QWidget()
        summary_layout = QVBoxLayout(summary)
        summary_layout.addWidget(self.headline_table)
        charts = QGridLayout()
        self.chart_titles = [QLabel(), QLabel()]
        self.charts = [ChartWidget(theme=theme), ChartWidget(theme=theme)]
        for column, (title, chart) in enumerate(zip(self.chart_titles, self.charts, strict=True)):
            title.setStyleSheet("font-weight: bold")
            chart.setMinimumSize(300, 240)
            charts.addWidget(title, 0, column)
            charts.addWidget(chart, 1, column)
        summary_layout.addLayout(charts, 1)
        self.tabs.addTab(summary, self.tr("Summary"))
        self.tabs.addTab(self.stages_table, self.tr("Funnel stages"))
        steps = QWidget()
        steps_layout = QVBoxLayout(steps)
        steps_layout.setContentsMargins(0, 4, 0, 0)
        self.every_step = QCheckBox(self.tr("Every step (not only those that differ)"))
        self.every_step.toggled.connect(self._fill_steps)
        steps_layout.addWidget(self.every_step)
        steps_layout.addWidget(self.steps_table)
        self.tabs.addTab(steps, self.tr("Steps"))
        self.tabs.addTab(self.channels_table, self.tr("Channels"))
        layout.addWidget(self.tabs, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    # --- runs ------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the list of stored runs again; B is the newest, A the one before it."""
        scenario_id = None if self.all_funnels.isChecked() else self.scenario.id
        try:
            engine = open_database(self.database_url)
            try:
                self.runs = list_runs(engine, scenario_id=scenario_id)
            finally:
                engine.dispose()
        except DatabaseError as error:
            self.runs = []
            self._show_message(self.tr("The database cannot be read: {error}").format(error=error))
            return
        for combo in (self.first_combo, self.second_combo):
            combo.blockSignals(True)
            combo.clear()
            for run in self.runs:
                combo.addItem(self._run_text(run), run.id)
            combo.blockSignals(False)
        if len(self.runs) < 2:
            self._show_message(
                self.tr(
                    "Save at least two runs of this funnel to compare them: run the simulation, "
                    "then Save run… in the Simulation panel (or voronka simulate --save)."
                )
            )
            return
        self.second_combo.setCurrentIndex(0)
        self.first_combo.setCurrentIndex(1)
        self._chosen()

    def choose(self, first_id: int, second_id: int) -> None:
        """Select the two runs by id (A, B)."""
        self.first_combo.setCurrentIndex(self.first_combo.findData(first_id))
        self.second_combo.setCurrentIndex(self.second_combo.findData(second_id))

    def swap(self) -> None:
        first, second = self.first_combo.currentData(), self.second_combo.currentData()
        if first is not None and second is not None:
            self.choose(second, first)

    def _run_text(self, run: RunSummary) -> str:
        locale = QLocale()
        text = f"#{run.id}"
        if run.label:
            text += f" · {run.label}"
        if self.all_funnels.isChecked():
            text += f" · {run.scenario_name}"
        text += " · " + locale.toString(run.created_at, QLocale.FormatType.ShortFormat)
        text += " · " + self.tr("{n} converted").format(n=_count(run.converted))
        if run.scenario_id == self.scenario.id and run.scenario_hash != self.current_hash:
            text += " · " + self.tr("earlier version")
        return text

    def _load(self, run_id: int) -> StoredRun:
        if run_id not in self.loaded:
            engine = open_database(self.database_url)
            try:
                self.loaded[run_id] = load_run(engine, run_id)
            finally:
                engine.dispose()
        return self.loaded[run_id]

    def _chosen(self, *_: object) -> None:
        first, second = self.first_combo.currentData(), self.second_combo.currentData()
        if first is None or second is None:
            return
        try:
            a, b = self._load(first), self._load(second)
        except (DatabaseError, RunError) as error:
            self._show_message(str(error))
            return
        self.comparison = compare_runs(a, b)
        self.tabs.setEnabled(True)
        self._fill_inputs(a, b)
        self._fill_headline()
        self._fill_stages()
        self._fill_steps()
        self._fill_channels()
        for title, chart, run in zip(self.chart_titles, self.charts, (a, b), strict=True):
            name = "A" if run is a else "B"
            title.setText(
                f"{name} · #{run.id}" + (f" · {run.summary.label}" if run.summary.label else "")
            )
            chart.set_chart(funnel_chart(SimulationResult.from_dict(run.results)))

    @staticmethod
    def _fit_height(table: QTableWidget) -> None:
        """Every row visible without scrolling (the headline is short; the charts get the rest)."""
        rows = sum(table.rowHeight(row) for row in range(table.rowCount()))
        table.setFixedHeight(table.horizontalHeader().height() + rows + 2 * table.frameWidth())

    def _show_message(self, text: str) -> None:
        self.comparison = None
        self.inputs_label.setText(text)
        self.tabs.setEnabled(False)
        for table in (
            self.headline_table,
            self.stages_table,
            self.steps_table,
            self.channels_table,
        ):
            table.setRowCount(0)
        for title, chart in zip(self.chart_titles, self.charts, strict=True):
            title.clear()
            chart.set_chart(None)

    # --- tables ----------------------------------------------------------------------------
    def _fill_inputs(self, a: StoredRun, b: StoredRun) -> None:
        assert self.comparison is not None
        titles = step_titles(b.scenario, a.scenario)
        lines = []
        for change in self.comparison.inputs:
            if change.name == "assumptions":
                for path, x, y in assumption_changes(a.assumptions, b.assumptions):
                    lines.append(f"{_setting_name(path, titles)}: {_value(x)} → {_value(y)}")
            elif change.name == "scenario content":
                lines.append(self.tr("the funnel itself (steps, texts or settings)"))
            else:
                name = self.tr(INPUTS.get(change.name, change.name))
                lines.append(f"{name}: {_value(change.a)} → {_value(change.b)}")
        if lines:
            items = "".join(f"<li>{_escape(line)}</li>" for line in lines)
            text = self.tr("<b>What differs in the inputs</b> (A → B):") + f"<ul>{items}</ul>"
        else:
            text = self.tr(
                "<b>Same inputs</b> (funnel, segment, seed, horizon, start, behaviour): "
                "the runs should be equal."
            )
        self.inputs_label.setText(text)

    def _fill_headline(self) -> None:
        assert self.comparison is not None
        rows = [([self.tr(FIGURES[c.name])], c) for c in self.comparison.headline]
        self._fill(self.headline_table, [self.tr("Figure")], rows)
        self._fit_height(self.headline_table)

    def _fill_stages(self) -> None:
        assert self.comparison is not None
        rows = []
        for stage in self.comparison.stages:
            changes = (stage.conversions, stage.from_previous, stage.from_start, stage.revenue)
            for number, change in enumerate(changes):
                name = stage.stage if number == 0 else ""
                rows.append(([name, self.tr(FIGURES[change.name])], change))
        self._fill(self.stages_table, [self.tr("Stage"), self.tr("Figure")], rows)

    def _fill_steps(self, *_: object) -> None:
        if self.comparison is None:
            return
        every = self.every_step.isChecked()
        rows = []
        for node in self.comparison.nodes:
            if not (every or node.changed):
                continue
            changes = [node.entered, *node.exits, node.waiting]
            shown = changes if every else [c for c in changes if c.changed]
            for number, change in enumerate(shown):
                if change is node.entered or change is node.waiting:
                    what = self.tr(FIGURES[change.name])
                else:
                    what = "→ " + exit_label(change.name)
                rows.append(([node.title if number == 0 else "", what], change))
        # A step's counts are not better or worse in themselves (fewer reach a reminder when
        # more buy earlier), so they are not coloured.
        headers = [self.tr("Step"), self.tr("Count")]
        self._fill(self.steps_table, headers, rows, coloured=False)

    def _fill_channels(self) -> None:
        assert self.comparison is not None
        rows = [
            ([channel if number == 0 else "", self.tr(FIGURES[change.name])], change)
            for channel, changes in self.comparison.channels.items()
            for number, change in enumerate(changes)
        ]
        self._fill(self.channels_table, [self.tr("Channel"), self.tr("Figure")], rows)

    def _fill(
        self,
        table: QTableWidget,
        headers: list[str],
        rows: Sequence[tuple[list[str], Change]],
        *,
        coloured: bool = True,
    ) -> None:
        """Rows of (names, change): the names in the first columns, then A, B, B − A and
        the relative change."""
        names = len(headers)
        table.setColumnCount(names + 4)
        table.setHorizontalHeaderLabels(
            [*headers, "A", "B", self.tr("Change"), self.tr("Change %")]
        )
        header = table.horizontalHeader()
        for column in range(names + 4):
            mode = QHeaderView.ResizeMode.ResizeToContents
            if column == 0:
                mode = QHeaderView.ResizeMode.Stretch
            header.setSectionResizeMode(column, mode)
        table.setRowCount(len(rows))
        for row, (labels, change) in enumerate(rows):
            rate = change.is_rate
            cells = [
                *labels,
                _number(change.a, rate) + _range(change.a_range, rate),
                _number(change.b, rate) + _range(change.b_range, rate),
                "" if change.delta is None else _number(change.delta, rate, signed=True),
                "" if change.relative is None else _percent(change.relative, signed=True),
            ]
            colour = _change_colour(change) if coloured else None
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column >= names:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if column >= names + 2 and colour is not None:
                    item.setForeground(QBrush(colour))
                    if colour != NOISE:
                        font = QFont(item.font())
                        font.setBold(True)
                        item.setFont(font)
                table.setItem(row, column, item)


def _table() -> QTableWidget:
    table = QTableWidget(0, 0)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    return table


def _change_colour(change: Change) -> QColor | None:
    """Green for a change for the better, red for the worse, grey for noise (overlapping
    95 % ranges); None when nothing changed or better/worse does not apply (messages)."""
    delta = change.delta
    if not delta:
        return None
    if change.overlap is True:
        return NOISE
    if change.name in GOOD_WHEN_HIGHER:
        return BETTER if delta > 0 else WORSE
    if change.name in GOOD_WHEN_LOWER:
        return WORSE if delta > 0 else BETTER
    return None


def _number(value: float | None, rate: bool, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    if rate:
        if signed:
            points = ("+" if value >= 0 else "") + QLocale().toString(value * 100, "f", 2)
            return QCoreApplication.translate("RunComparisonDialog", "{points} pp").format(
                points=points
            )
        return _percent(value)
    places = 0 if float(value).is_integer() else 2
    text = QLocale().toString(float(value), "f", places)
    return "+" + text if signed and value >= 0 else text


def _percent(value: float, *, signed: bool = False) -> str:
    text = QLocale().toString(value * 100, "f", 1) + " %"
    return "+" + text if signed and value >= 0 else text


def _range(bounds: tuple[float, float] | None, rate: bool) -> str:
    if bounds is None:
        return ""
    return f" [{_number(bounds[0], rate)}–{_number(bounds[1], rate)}]"


def _count(value: float) -> str:
    return QLocale().toString(float(round(value)), "f", 0)


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return QLocale().toString(value, "g", 6)
    return str(value)


def _setting_name(path: tuple[str, ...], titles: dict[str, str]) -> str:
    """("nodes", "wait_purchase", "happened") → "Wait for purchase · happened"."""
    if len(path) >= 2 and path[0] == "nodes":
        return " · ".join((titles.get(path[1], path[1]), *map(exit_label, path[2:])))
    return " · ".join(path)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
