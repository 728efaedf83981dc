"""Canvas speed offscreen: opening the document (with its first validation), building the
scene, first fitted frame (1600×1000), a zoomed-in frame and a
20-step drag of one node, for 500 / 2,000 / 10,000 steps, next to a plain QGraphicsScene with
the same number of simple rectangles (the floor Qt itself sets).

Run by hand: `python bench/bench_canvas.py`. Prints a table; no assertions.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
)
from scenarios import generate_scenario

from app.canvas.scene import FunnelScene
from app.canvas.view import FunnelView
from app.document import EditorDocument
from app.engine.geometry import node_size

SIZES = (500, 2_000, 10_000)
WIDTH, HEIGHT = 1600, 1000


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def frame_ms(view: QGraphicsView, repeat: int = 3) -> float:
    """Render the viewport into an image, as a repaint would, median of `repeat`."""
    image = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32_Premultiplied)
    times = []
    for _ in range(repeat):
        painter = QPainter(image)
        start = time.perf_counter()
        view.render(painter)
        painter.end()
        times.append(ms(start))
    return statistics.median(times)


def prepare(view: QGraphicsView) -> None:
    view.resize(WIDTH, HEIGHT)
    view.show()
    QApplication.processEvents()


def bench_funnel(size: int) -> dict[str, float]:
    scenario = generate_scenario(size)
    start = time.perf_counter()
    document = EditorDocument(scenario)  # includes the first validation
    open_document = ms(start)
    start = time.perf_counter()
    scene = FunnelScene(document)
    view = FunnelView(scene)
    build = ms(start)
    prepare(view)
    view.fit_all()
    first = frame_ms(view, repeat=1)
    full = frame_ms(view)
    view.set_zoom(1.0)
    node_id = next(iter(scenario.nodes))
    view.centre_on_node(node_id)
    zoomed = frame_ms(view)
    item = scene.node_items[node_id]
    origin = item.pos()
    scene.select_nodes([node_id])
    start = time.perf_counter()
    scene.begin_move()
    for step in range(1, 21):
        item.setPos(origin + QPointF(step * 7, step * 3))
        scene.follow_drag()
        view.viewport().repaint()
    scene.commit_moves()
    drag = ms(start)
    view.close()
    return {
        "document": open_document,
        "build": build,
        "first": first,
        "full": full,
        "zoomed": zoomed,
        "drag": drag,
    }


def bench_plain(size: int) -> dict[str, float]:
    """The floor: the same number of plain rectangles, no text, no ports, no edges."""
    scenario = generate_scenario(size)
    start = time.perf_counter()
    scene = QGraphicsScene()
    items = []
    for node in scenario.nodes.values():
        width, height = node_size(node)
        rect = QGraphicsRectItem(QRectF(0, 0, width, height))
        rect.setPos(QPointF(*node.position))
        scene.addItem(rect)
        items.append(rect)
    view = QGraphicsView(scene)
    build = ms(start)
    prepare(view)
    view.fitInView(scene.itemsBoundingRect())
    first = frame_ms(view, repeat=1)
    full = frame_ms(view)
    view.resetTransform()
    view.centerOn(items[0])
    zoomed = frame_ms(view)
    origin = items[0].pos()
    start = time.perf_counter()
    for step in range(1, 21):
        items[0].setPos(origin + QPointF(step * 7, step * 3))
        view.viewport().repaint()
    drag = ms(start)
    view.close()
    return {
        "document": 0.0,
        "build": build,
        "first": first,
        "full": full,
        "zoomed": zoomed,
        "drag": drag,
    }


def main() -> None:
    app = QApplication.instance() or QApplication([])
    columns = ("document", "build", "first", "full", "zoomed", "drag")
    print(f"{'steps':>6} {'impl':>8} " + " ".join(f"{c + ' ms':>10}" for c in columns))
    for size in SIZES:
        ours, plain = bench_funnel(size), bench_plain(size)
        for name, row in (("voronka", ours), ("plain", plain)):
            print(f"{size:>6} {name:>8} " + " ".join(f"{row[c]:>10.1f}" for c in columns))
        ratios = " ".join(
            f"{ours[c] / plain[c]:>9.1f}×" if plain[c] else f"{'—':>10}" for c in columns
        )
        print(f"{size:>6} {'ratio':>8} {ratios}")
    app.processEvents()


if __name__ == "__main__":
    main()
