"""Welcome screen speed offscreen: the window built, and the window with every template
thumbnail, on a first start (empty thumbnail cache: each funnel drawn by the canvas) and on
later starts (the cached PNGs read back), against the bare window as the baseline.

Run by hand: `python -m bench.bench_welcome [RUNS]`. Prints a table; no assertions.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from app.ui.welcome import WelcomeWindow


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def one_start() -> tuple[float, float]:
    """(window shown, window with every thumbnail), in ms."""
    start = time.perf_counter()
    screen = WelcomeWindow()
    screen.show()
    QApplication.processEvents()
    shown = ms(start)
    screen.load_all_thumbnails()
    QApplication.processEvents()
    filled = ms(start)
    screen.close()
    screen.deleteLater()
    QApplication.processEvents()
    return shown, filled


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 5
    app = QApplication.instance() or QApplication([])
    one_start()  # imports, fonts and Qt's first-use costs out of the way
    cold: list[tuple[float, float]] = []
    warm: list[tuple[float, float]] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            os.environ["VORONKA_DATA_DIR"] = folder
            cold.append(one_start())
            warm.append(one_start())
    base = statistics.median(s for s, _ in warm)
    print(f"welcome screen, {runs} runs, medians (ratio to the window alone)")
    print(f"{'start':<34}{'window shown':>14}{'with thumbnails':>18}{'ratio':>8}")
    for name, rows in (("first (thumbnails drawn)", cold), ("later (thumbnails cached)", warm)):
        shown = statistics.median(s for s, _ in rows)
        filled = statistics.median(f for _, f in rows)
        print(f"{name:<34}{shown:>11.0f} ms{filled:>15.0f} ms{filled / base:>7.1f}×")
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
