"""Render the main window with every bundled example, light and dark, to PNG files.

`python tools/screenshots.py [OUT_DIR]` (offscreen; default OUT_DIR: ./screenshots). Each
example is shown fitted to the window and at 100 % zoom around its first message, which is
what a consultant looks at before showing a client.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from app.document import EditorDocument
from app.engine.catalog import MESSAGE_TYPES
from app.engine.serialization import load_scenario
from app.resources import EXAMPLES
from app.ui.main_window import MainWindow

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


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0]) if argv else Path("screenshots")
    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    written = [
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
