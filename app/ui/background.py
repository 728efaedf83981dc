"""Long work off the GUI thread: a simulation, a demo database, with progress and Cancel.

The work is a function of one argument, `report(text, share)`, which it calls between phases;
once Cancel is pressed the next `report` raises `SimulationCancelled`, so the work stops at a
clean point and nothing half-done is shown. Results and errors come back as Qt signals, which
Qt delivers on the GUI thread.
"""

from __future__ import annotations

import gc
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from app.engine.behaviour import AssumptionError
from app.engine.db import DatabaseError, DemoError
from app.engine.expressions import ExpressionError
from app.engine.gc_pause import pause_cycle_collector, resume_cycle_collector
from app.engine.simulation import SimulationError
from app.engine.simulation_job import SimulationCancelled

Report = Callable[[str, float], None]
# Errors whose message is written for the user; anything else is a bug and says so.
USER_ERRORS = (DatabaseError, DemoError, ExpressionError, SimulationError, AssumptionError)


class _Worker(QObject):
    progressed = Signal(str, float)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, work: Callable[[Report], Any]) -> None:
        super().__init__()
        self.work = work
        self.stop = threading.Event()

    def report(self, text: str, share: float) -> None:
        if self.stop.is_set():
            raise SimulationCancelled
        self.progressed.emit(text, share)

    def run(self) -> None:
        try:
            result = self.work(self.report)
        except SimulationCancelled:
            self.cancelled.emit()
        except USER_ERRORS as error:
            self.failed.emit(str(error))
        except Exception as error:  # a bug: say so plainly, keep the details for a report
            traceback.print_exc()
            words = QCoreApplication.translate("Background", "Unexpected error ({kind}): {error}")
            self.failed.emit(words.format(kind=type(error).__name__, error=error))
        else:
            self.succeeded.emit(result)


class BackgroundJob(QObject):
    """One piece of work on its own thread; connect the signals, then `start()`."""

    progressed = Signal(str, float)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()  # after any of the three outcomes

    def __init__(self, work: Callable[[Report], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._worker = _Worker(work)
        self._worker.moveToThread(self._thread)
        self._paused = False
        self._thread.started.connect(self._worker.run)
        self._worker.progressed.connect(self.progressed)
        self._worker.succeeded.connect(self.succeeded)
        self._worker.failed.connect(self.failed)
        self._worker.cancelled.connect(self.cancelled)
        for outcome in (self._worker.succeeded, self._worker.failed, self._worker.cancelled):
            outcome.connect(self._done)

    def start(self) -> None:
        # Collect the GUI's garbage here, on the GUI thread, and not at all until the work is
        # done: a collection set off by the worker's allocations would destroy unreachable Qt
        # objects (closed windows' timers and scenes) on the worker thread, which crashes Qt.
        gc.collect()
        pause_cycle_collector()
        self._paused = True
        self._thread.start()

    def cancel(self) -> None:
        self._worker.stop.set()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, milliseconds: int = 30_000) -> bool:
        """Block until the thread ends (closing a window mid-run).

        The thread's event loop ends on `quit`, which `_done` would send from the GUI thread
        this call blocks; ask for it here (before the loop starts, `exec` returns at once)."""
        self._thread.quit()
        ended = self._thread.wait(milliseconds)
        if ended and self._paused:
            self._paused = False
            resume_cycle_collector()
        return ended

    def _done(self, *_: object) -> None:
        self._thread.quit()
        self._thread.wait()
        if self._paused:
            self._paused = False
            resume_cycle_collector()
        self.finished.emit()
