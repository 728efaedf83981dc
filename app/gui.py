"""Start the editor: one window per file given, recovery of unsaved work after a crash."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from app.document import EditorDocument
from app.i18n import chosen_language, install_language
from app.settings_paths import recovery_files
from app.ui.main_window import MainWindow


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


def run(paths: Sequence[str]) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Voronka")
    app.setOrganizationName("Voronka")
    install_language(chosen_language())  # before any widget takes its texts
    windows = offer_recovery()
    for path in paths:
        window = MainWindow().open_path(Path(path))
        if window is not None:
            windows.append(window)
    if not windows:
        window = MainWindow()
        window.show()
        windows.append(window)
    status = app.exec()
    # Mime data still on the clipboard when Qt shuts down crashes PySide (seen offscreen with
    # 6.11); the copied steps do not outlive the application anyway without a clipboard manager.
    if QApplication.clipboard().ownsClipboard():
        QApplication.clipboard().clear()
    return status
