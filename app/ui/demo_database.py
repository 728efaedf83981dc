"""Create the demo contact database from the editor, in a worker thread with a progress dialog.

The demo (a pet shop: contacts, tags, products, event histories) makes simulation useful on the
first start. Writing it takes a few seconds, which must not freeze the window, so the engine's
`generate_demo` runs in a QThread and reports its stages to a progress dialog.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QLocale, QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from app import preferences
from app.engine.db.demo import DemoError, DemoReport, generate_demo
from app.engine.db.session import ENV_VAR, DatabaseError, default_database_path, open_database

DEMO_CONTACTS = 5000
STAGES = {"contacts": "Writing contacts", "events": "Writing their purchase histories"}


def missing_default_database() -> Path | None:
    """The default SQLite file when the user has chosen no database and it does not exist yet.

    Only then is the demo offered: a database the user chose, or one named by $VORONKA_DB, is
    theirs, and the welcome screen must not suggest filling it with invented people."""
    if preferences.load().database or os.environ.get(ENV_VAR):
        return None
    path = default_database_path()
    return None if path.exists() else path


def demo_locale() -> str:
    """Russian names and prices for a Russian interface, American ones otherwise."""
    language = preferences.effective_language(preferences.load(), QLocale.system().name())
    return "ru_RU" if language == "ru" else "en_US"


class DemoWorker(QThread):
    """Runs `generate_demo` off the GUI thread; results arrive as queued signals."""

    progressed = Signal(str, int, int)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, url: str, contacts: int, locale: str, parent: QObject | None = None):
        super().__init__(parent)
        self.url, self.contacts, self.locale = url, contacts, locale

    def run(self) -> None:
        try:
            engine = open_database(self.url)
            try:
                report = generate_demo(
                    engine,
                    self.contacts,
                    locale=self.locale,
                    seed=1,
                    progress=self.progressed.emit,
                )
            finally:
                engine.dispose()
        except (DatabaseError, DemoError, OSError) as error:
            self.failed.emit(str(error))
            return
        self.succeeded.emit(report)


class DemoDatabaseJob(QObject):
    """One demo-database creation: a modal progress dialog over `parent` while it runs."""

    finished = Signal(object)  # DemoReport on success
    failed = Signal(str)

    def __init__(
        self,
        path: Path,
        parent: QWidget,
        contacts: int | None = None,
        locale: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.path = path
        contacts = contacts or DEMO_CONTACTS
        self.dialog = QProgressDialog(parent)
        self.dialog.setWindowTitle("Demo database")
        self.dialog.setLabelText(f"Creating {QLocale().toString(contacts)} demo contacts…")
        self.dialog.setCancelButton(None)
        self.dialog.setRange(0, 0)  # busy until the first stage reports its size
        self.dialog.setMinimumDuration(0)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.worker = DemoWorker(f"sqlite:///{path}", contacts, locale or demo_locale(), self)
        self.worker.progressed.connect(self._progressed)
        self.worker.succeeded.connect(self._succeeded)
        self.worker.failed.connect(self._failed)
        self.report: DemoReport | None = None

    def start(self) -> None:
        self.dialog.show()
        self.worker.start()

    def _progressed(self, stage: str, done: int, total: int) -> None:
        numbers = QLocale()
        self.dialog.setLabelText(
            f"{STAGES.get(stage, stage.capitalize())}: "
            f"{numbers.toString(done)} of {numbers.toString(total)}"
        )
        self.dialog.setRange(0, max(total, 1))
        self.dialog.setValue(done)

    def _succeeded(self, report: DemoReport) -> None:
        self.report = report
        self._close()
        self.finished.emit(report)

    def _failed(self, message: str) -> None:
        self._close()
        self.failed.emit(message)

    def _close(self) -> None:
        self.worker.wait()
        self.dialog.close()
