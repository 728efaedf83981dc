"""Preview as contact: pick a real contact, follow its way through the funnel step by step.

The walk comes from the reference interpreter with the simulation's seed, horizon, start and
assumptions, and the contact's position in the run's population, so it is the very path the
simulation gave that contact; messages are rendered with the contact's own data.
"""

from __future__ import annotations

import html
from datetime import datetime

import sqlalchemy as sa
from PySide6.QtCore import QCoreApplication, QDateTime, QLocale, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload

from app.engine.catalog import choice_label, exit_label
from app.engine.db import DatabaseError, contact_record, contact_schema, open_database
from app.engine.db.models import Contact
from app.engine.model import Scenario
from app.engine.runtime import Runtime, Step, Walk
from app.engine.simulation import SimulationError
from app.engine.simulation_job import Population, SimulationRequest
from app.engine.templates import money
from app.i18n import plural

SEARCH_LIMIT = 50
SEARCH_DELAY_MS = 250
ROLE_ID = Qt.ItemDataRole.UserRole
MESSAGE_STYLE = "border-left: 3px solid #1565C0; padding-left: 8px"


def search_contacts(engine: Engine, text: str, limit: int = SEARCH_LIMIT) -> list[Contact]:
    """Contacts whose name or e-mail contains `text` (case-insensitive), in id order."""
    query = sa.select(Contact).order_by(Contact.id).limit(limit)
    words = text.split()
    for word in words:
        pattern = f"%{word}%"
        query = query.where(
            sa.or_(
                Contact.first_name.ilike(pattern),
                Contact.last_name.ilike(pattern),
                Contact.email.ilike(pattern),
                Contact.phone.ilike(pattern),
            )
        )
    with Session(engine) as session:
        return list(session.scalars(query))


def load_record(engine: Engine, contact_id: int, now: datetime | None = None) -> dict:
    with Session(engine) as session:
        contact = session.scalars(
            sa.select(Contact)
            .where(Contact.id == contact_id)
            .options(selectinload(Contact.tags), selectinload(Contact.events))
        ).one()
        return contact_record(contact, now)


def position_in_base(engine: Engine, contact_id: int) -> int:
    """The contact's index among all contacts in id order (the population of a run with no
    segment), which keys its random draws."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count()).select_from(Contact).where(Contact.id < contact_id)
            ).scalar_one()
        )


def _when(moment: datetime) -> str:
    """A step's simulated time in the locale's short date and time."""
    return QLocale().toString(QDateTime(moment), QLocale.FormatType.ShortFormat)


def contact_label(contact: Contact) -> str:
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p) or (
        QCoreApplication.translate("ContactPreviewDialog", "(no name)")
    )
    address = (
        contact.email
        or contact.phone
        or QCoreApplication.translate("ContactPreviewDialog", "no address")
    )
    return f"{name} — {address}"


class ContactPreviewDialog(QDialog):
    """Search on the left, the walk in the middle, the selected step's message on the right."""

    path_chosen = Signal(list)  # node ids of the walk, to highlight on the canvas

    def __init__(
        self,
        scenario: Scenario,
        request: SimulationRequest,
        population: Population | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Preview as contact"))
        self.resize(1100, 640)
        self.scenario = scenario
        self.request = request
        self.population = population
        self.walks: list[Walk] = []
        self.engine: Engine | None = None
        self._build()
        try:
            self.engine = open_database(request.database)
        except DatabaseError as error:
            self.notice.setText(str(error))
            self.search.setEnabled(False)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _text: self._timer.start())
        if self.engine is not None:
            self.run_search()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        days = self.request.horizon_days
        start = (self.request.start or datetime.now()).date()
        settings = self.tr("Seed {seed} · {days} from {start}").format(
            seed=self.request.seed,
            days=plural(self.tr("%n day(s)", "", days), days),
            start=QLocale().toString(start, QLocale.FormatType.ShortFormat),
        )
        if self.request.segment:
            settings += " · " + self.tr("segment: {segment}").format(segment=self.request.segment)
        header = QLabel(
            self.tr("The path the simulation gives one contact. {settings}.").format(
                settings=settings
            )
        )
        header.setWordWrap(True)
        layout.addWidget(header)
        splitter = QSplitter()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search by name, e-mail or phone"))
        self.search.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.currentItemChanged.connect(self._contact_chosen)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.results)
        self.steps = QTreeWidget()
        self.steps.setHeaderLabels([self.tr("When"), self.tr("Step"), self.tr("Exit")])
        self.steps.setRootIsDecorated(False)
        self.steps.currentItemChanged.connect(self._step_chosen)
        self.message = QTextBrowser()
        self.message.setOpenExternalLinks(False)
        splitter.addWidget(left)
        splitter.addWidget(self.steps)
        splitter.addWidget(self.message)
        splitter.setSizes([300, 460, 340])
        layout.addWidget(splitter, 1)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        layout.addWidget(self.notice)
        row = QHBoxLayout()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row.addStretch(1)
        row.addWidget(buttons)
        layout.addLayout(row)

    # --- searching -------------------------------------------------------------------------
    def run_search(self) -> None:
        if self.engine is None:
            return
        self.results.clear()
        found = search_contacts(self.engine, self.search.text().strip())
        for contact in found:
            item = QListWidgetItem(contact_label(contact))
            item.setData(ROLE_ID, contact.id)
            self.results.addItem(item)
        if not found:
            self.notice.setText(self.tr("No contact matches."))
        elif len(found) == SEARCH_LIMIT:
            self.notice.setText(
                self.tr("The first {n} matches; type more to narrow.").format(n=SEARCH_LIMIT)
            )
        else:
            self.notice.setText("")

    def _contact_chosen(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self.show_contact(int(item.data(ROLE_ID)))

    # --- walking ---------------------------------------------------------------------------
    def show_contact(self, contact_id: int) -> None:
        assert self.engine is not None
        request = self.request
        index = self.population.index_of(contact_id) if self.population is not None else None
        note = ""
        if index is None:
            index = position_in_base(self.engine, contact_id)
            if request.segment:
                note = self.tr(
                    "Not in the segment of the run; shown as if the segment let everyone in. "
                )
        record = load_record(self.engine, contact_id)
        schema = (
            self.population.schema if self.population is not None else contact_schema(self.engine)
        )
        runtime = Runtime(
            self.scenario,
            request.assumptions,
            horizon_days=request.horizon_days,
            seed=request.seed,
            start=request.start,
            schema=schema,
        )
        try:
            self.walks = runtime.walks(record, index)
        except SimulationError as error:
            self.notice.setText(self.tr("Cannot walk this contact: {reason}").format(reason=error))
            return
        self.steps.clear()
        path: list[str] = []
        for walk in self.walks:
            entry = self.scenario.nodes.get(walk.entry)
            title = entry.display_title if entry else walk.entry
            if not walk.entered:
                self._add_row(
                    "—", self.tr("Does not enter at ‘{step}’").format(step=title), "", None
                )
                continue
            for step in walk.steps:
                node = self.scenario.nodes.get(step.node)
                self._add_row(
                    _when(step.time),
                    node.display_title if node else step.node,
                    self._exit_text(step, walk),
                    step,
                )
                path.append(step.node)
        self.notice.setText(note + self._summary())
        if self.steps.topLevelItemCount():
            self.steps.setCurrentItem(self.steps.topLevelItem(0))
        self.path_chosen.emit(path)

    def _exit_text(self, step: Step, walk: Walk) -> str:
        if step.exit is not None:
            return exit_label(step.exit)
        if walk.waiting and step is walk.steps[-1]:
            return self.tr("still waiting at the horizon")
        node = self.scenario.nodes.get(step.node)
        outcome = node.params.get("outcome") if node is not None else None
        if isinstance(outcome, str) and outcome:
            return self.tr("left: {outcome}").format(outcome=choice_label(outcome))
        return self.tr("left")

    def _add_row(self, when: str, title: str, exit_text: str, step: Step | None) -> None:
        item = QTreeWidgetItem([when, title, exit_text])
        item.setData(0, ROLE_ID, step)
        if step is not None and step.body is not None:
            item.setText(1, f"✉ {title}")
        self.steps.addTopLevelItem(item)
        for column in range(3):
            self.steps.resizeColumnToContents(column)

    def _summary(self) -> str:
        entered = [w for w in self.walks if w.entered]
        if not entered:
            return self.tr("This contact does not enter the funnel in the simulated period.")
        revenue = sum(w.revenue for w in entered)
        stages = [s for w in entered for s in w.stages]
        count = sum(len(w.steps) for w in entered)
        parts = [plural(self.tr("%n step(s)", "", count), count)]
        if stages:
            parts.append(self.tr("converted: {stages}").format(stages=", ".join(stages)))
        else:
            parts.append(self.tr("no conversion"))
        if revenue:
            amount = money(round(revenue), self.scenario.settings.currency)
            parts.append(self.tr("revenue {amount}").format(amount=amount))
        return " · ".join(parts) + "."

    def _step_chosen(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        step = item.data(0, ROLE_ID) if item is not None else None
        if not isinstance(step, Step):
            self.message.clear()
            return
        node = self.scenario.nodes.get(step.node)
        title = html.escape(node.display_title if node else step.node)
        parts = [f"<h3>{title}</h3>", f"<p style='color:#5F6B7A'>{_when(step.time)}"]
        if step.exit:
            exit_text = self.tr("exit {exit}").format(
                exit=f"<b>{html.escape(exit_label(step.exit))}</b>"
            )
            parts.append(f" · {exit_text}")
        parts.append("</p>")
        if step.body is not None or step.subject is not None:
            parts.append(f"<p><b>{html.escape((step.channel or '').upper())}</b></p>")
            if step.subject:
                parts.append(f"<p><b>{html.escape(step.subject)}</b></p>")
            body = html.escape(step.body or "").replace("\n", "<br>")
            parts.append(
                f"<div style='border-left:3px solid #1565C0;padding-left:8px'>{body}</div>"
            )
        self.message.setHtml("".join(parts))

    def done(self, result: int) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        super().done(result)
