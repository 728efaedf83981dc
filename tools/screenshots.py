"""Render the welcome screen and the main window with every bundled example, to PNG files.

`python tools/screenshots.py [OUT_DIR] [--language en|ru]` (offscreen; default OUT_DIR:
./screenshots, language: English). The welcome screen is shown at the top and scrolled to the
end of its template gallery; each example is shown fitted to the window and at 100 %
zoom around its first message, which is what a consultant looks at before showing a client;
with `--language ru` the interface and the examples are the Russian ones (files end in `_ru`).
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
from app.i18n import LANGUAGES, install_language
from app.resources import example_names, example_path
from app.ui.main_window import MainWindow
from app.ui.welcome import WelcomeWindow

SIZE = (1600, 1000)


def render(example: Path, theme: str, out_dir: Path, suffix: str = "") -> list[Path]:
    document = EditorDocument(load_scenario(example).scenario)
    window = MainWindow(document, theme)
    window.resize(*SIZE)
    window.show()
    QApplication.processEvents()
    window.view.fit_all()
    QApplication.processEvents()
    fitted = out_dir / f"{example.stem}_{theme}{suffix}.png"
    window.grab().save(str(fitted))
    focus = next(
        (n.id for n in document.scenario.nodes.values() if n.type in MESSAGE_TYPES),
        next(iter(document.scenario.nodes)),
    )
    window.view.set_zoom(1.0)
    window.view.centre_on_node(focus)
    QApplication.processEvents()
    close_up = out_dir / f"{example.stem}_{theme}_100{suffix}.png"
    window.grab().save(str(close_up))
    document.undo_stack.setClean()
    window.close()
    return [fitted, close_up]


def render_welcome(out_dir: Path, suffix: str = "") -> list[Path]:
    """The welcome screen as a newcomer first sees it, and its gallery scrolled to the end."""
    screen = WelcomeWindow()
    screen.show()
    screen.load_all_thumbnails()
    QApplication.processEvents()
    top = out_dir / f"welcome{suffix}.png"
    screen.grab().save(str(top))
    scroll = screen.findChild(QScrollArea)
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
    QApplication.processEvents()
    gallery = out_dir / f"welcome_gallery{suffix}.png"
    screen.grab().save(str(gallery))
    screen.close()
    return [top, gallery]


def main(argv: list[str]) -> int:
    language = "en"
    if "--language" in argv:
        at = argv.index("--language")
        language = argv[at + 1] if at + 1 < len(argv) else ""
        argv = argv[:at] + argv[at + 2 :]
    if language not in LANGUAGES:
        print(f"--language: one of {', '.join(LANGUAGES)}", file=sys.stderr)
        return 2
    out_dir = Path(argv[0]) if argv else Path("screenshots")
    out_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    install_language(language)
    suffix = "" if language == "en" else f"_{language}"
    written = render_welcome(out_dir, suffix)
    written += [
        path
        for name in example_names()
        for theme in ("light", "dark")
        for path in render(example_path(name, language), theme, out_dir, suffix)
    ]
    print(f"{len(written)} screenshots in {out_dir}")
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
