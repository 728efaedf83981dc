"""Render the welcome screen and the main window with every bundled example, to PNG files.

`python tools/screenshots.py [OUT_DIR]` (offscreen; default OUT_DIR: ./screenshots). The
welcome screen is shown at the top and scrolled to the end of its template gallery; each example
is shown fitted to the window and at 100 % zoom around its first message, light and dark, which
is what a consultant looks at before showing a client.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QScrollArea

from app.document import EditorDocument
from app.engine.catalog import MESSAGE_TYPES
from app.engine.serialization import load_scenario
from app.resources import EXAMPLES
from app.ui.main_window import MainWindow
from app.ui.welcome import WelcomeWindow

SIZE = (1600, 1000)


def render(example: Path, theme: str, out_dir: Path) -> list[Path]:
    document = EditorDocument(load_scenario(example).scenario)
    window = MainWindow(document, theme)
    window.resize(*SIZE)
    window.show()
    QApplication.processEvents()
    window.view.fit_all()
    QApplication.processEvents()
    fitted = out_dir / f"{example.stem}_{theme}.png"
    window.grab().save(str(fitted))
    focus = next(
        (n.id for n in document.scenario.nodes.values() if n.type in MESSAGE_TYPES),
        next(iter(document.scenario.nodes)),
    )
    window.view.set_zoom(1.0)
    window.view.centre_on_node(focus)
    QApplication.processEvents()
    close_up = out_dir / f"{example.stem}_{theme}_100.png"
    window.grab().save(str(close_up))
    document.undo_stack.setClean()
    window.close()
    return [fitted, close_up]


def render_welcome(out_dir: Path) -> list[Path]:
    """The welcome screen as a newcomer first sees it, and its gallery scrolled to the end."""
    screen = WelcomeWindow()
    screen.show()
    screen.load_all_thumbnails()
    QApplication.processEvents()
    top = out_dir / "welcome.png"
    screen.grab().save(str(top))
    scroll = screen.findChild(QScrollArea)
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
    QApplication.processEvents()
    gallery = out_dir / "welcome_gallery.png"
    screen.grab().save(str(gallery))
    screen.close()
    return [top, gallery]


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0]) if argv else Path("screenshots")
    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    written = render_welcome(out_dir)
    written += [
        path
        for example in sorted(EXAMPLES.glob("*.json"))
        for theme in ("light", "dark")
        for path in render(example, theme, out_dir)
    ]
    print(f"{len(written)} screenshots in {out_dir}")
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
