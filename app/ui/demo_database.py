"""Create the demo contact database from the welcome screen, off the GUI thread.

The demo (a pet shop: contacts, tags, products, event histories) makes simulation useful on the
first start. Writing it takes a few seconds, which must not freeze the window, so the engine's
`generate_demo` runs as a `BackgroundJob` (the Simulation dock's worker) behind a progress
dialog with Cancel; a cancelled demo leaves no half-made file behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLocale, QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from app import preferences
from app.engine.db.demo import DemoReport, generate_demo
from app.engine.db.session import ENV_VAR, default_database_path, open_database
from app.ui.background import BackgroundJob, Report

DEMO_CONTACTS = 5000
STAGES = {
    "contacts": QT_TRANSLATE_NOOP("DemoDatabase", "Writing contacts"),
    "events": QT_TRANSLATE_NOOP("DemoDatabase", "Writing their purchase histories"),
}


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


def demo_work(path: Path, contacts: int, locale: str) -> Callable[[Report], DemoReport]:
    """The job: migrate a new SQLite file and fill it, reporting each stage's share done."""

    def work(report: Report) -> DemoReport:
        engine = open_database(f"sqlite:///{path}")
        numbers = QLocale()
        try:
            return generate_demo(
                engine,
                contacts,
                locale=locale,
                seed=1,
                progress=lambda stage, done, total: report(
                    QCoreApplication.translate("DemoDatabase", "{stage}: {done} of {total}").format(
                        stage=QCoreApplication.translate("DemoDatabase", STAGES[stage])
                        if stage in STAGES
                        else stage.capitalize(),
                        done=numbers.toString(done),
                        total=numbers.toString(total),
                    ),
                    done / max(total, 1),
                ),
            )
        finally:
            engine.dispose()

    return work


class DemoDatabaseJob(QObject):
    """One demo-database creation: a window-modal progress dialog over `parent` while it runs."""

    finished = Signal(object)  # DemoReport on success
    failed = Signal(str)
    cancelled = Signal()

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
        self.dialog.setWindowTitle(self.tr("Demo database"))
        self.dialog.setLabelText(
            self.tr("Creating {n} demo contacts…").format(n=QLocale().toString(contacts))
        )
        self.dialog.setRange(0, 1000)
        self.dialog.setMinimumDuration(0)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)
        self.job = BackgroundJob(demo_work(path, contacts, locale or demo_locale()), self)
        self.job.progressed.connect(self._progressed)
        self.job.succeeded.connect(self._succeeded)
        self.job.failed.connect(self._failed)
        # the outcome is announced once the thread has ended, so whoever hears it may close
        # (and delete) the window that owns this job
        self.job.finished.connect(self._finished)
        self.report: DemoReport | None = None
        self.error: str | None = None

    def start(self) -> None:
        self.dialog.show()
        self.job.start()

    def cancel(self) -> None:
        self.dialog.setLabelText(self.tr("Stopping…"))
        self.job.cancel()

    def is_running(self) -> bool:
        return self.job.is_running()

    def wait(self) -> None:
        self.job.wait()

    def _progressed(self, text: str, share: float) -> None:
        self.dialog.setLabelText(text)
        self.dialog.setValue(round(share * 1000))

    def _succeeded(self, report: DemoReport) -> None:
        self.report = report

    def _failed(self, message: str) -> None:
        self.error = message

    def _finished(self) -> None:
        self.dialog.close()
        if self.report is not None:
            self.finished.emit(self.report)
            return
        self._remove_file()
        if self.error is not None:
            self.failed.emit(self.error)
        else:
            self.cancelled.emit()

    def _remove_file(self) -> None:
        """The file did not exist before (that is when the demo is offered): take it away,
        so the next start offers the demo again instead of an empty database."""
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
