"""Start the editor: one window per file given, recovery of unsaved work after a crash, and
the welcome screen (templates, recent files) when there is neither."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.document import EditorDocument
from app.i18n import chosen_language, install_language
from app.settings_paths import recovery_files
from app.ui.main_window import MainWindow
from app.ui.welcome import show_welcome


def offer_recovery(parent=None) -> list[MainWindow]:
    """Reopen documents a crashed session left unsaved, if the user wants them."""
    windows = []
    for path in recovery_files():
        answer = QMessageBox.question(
            parent,
            QCoreApplication.translate("Recovery", "Recover unsaved work"),
            QCoreApplication.translate(
                "Recovery",
                "Voronka did not close cleanly last time. Restore the unsaved funnel from {file}?",
            ).format(file=path.name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            try:
                window = MainWindow(EditorDocument.recover(path))
            except (OSError, ValueError, KeyError) as error:
                title = QCoreApplication.translate("Recovery", "Cannot recover")
                QMessageBox.warning(parent, title, f"{path.name}: {error}")
                continue
            window.show()
            windows.append(window)
        else:
            path.unlink(missing_ok=True)
    return windows


def start(paths: Sequence[str]) -> list[QWidget]:
    """The first windows: recovered work, the files asked for, else the welcome screen."""
    windows: list[QWidget] = list(offer_recovery())
    for path in paths:
        window = MainWindow().open_path(Path(path))
        if window is not None:
            windows.append(window)
    return windows or [show_welcome()]


def run(paths: Sequence[str]) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Voronka")
    app.setOrganizationName("Voronka")
    install_language(chosen_language())  # before any widget takes its texts
    start(paths)
    status = app.exec()
    # Mime data still on the clipboard when Qt shuts down crashes PySide (seen offscreen with
    # 6.11); the copied steps do not outlive the application anyway without a clipboard manager.
    if QApplication.clipboard().ownsClipboard():
        QApplication.clipboard().clear()
    return status
