"""The canvas as a picture for people: PNG (scale or DPI, transparent or not), SVG and PDF.

Takes a scene that is already built — with whatever is on it, the simulation overlay
included — and paints it the way a client should see it: every card in full detail (never the
far-out overview), nothing selected, no grid, the theme's background or none. SVG and PDF are
vector: the canvas paints paths and text only (its icons are glyphs), so nothing becomes a
bitmap.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QPainter

from app.canvas.items import OverviewItem
from app.canvas.scene import FunnelScene
from app.exporters.devices import (
    MAX_PDF_PIXELS,
    ExportFileError,
    pdf_writer,
    png_image,
    save_image,
    svg_text,
    write_text,
)

MARGIN = 32.0  # logical pixels around the diagram (flow badges hang below their cards)
PDF_MARGIN = 36.0  # about a centimetre of white paper around the diagram


def diagram_rect(scene: FunnelScene) -> QRectF:
    """What the diagram covers, with a margin; never empty. Cards and connections count even
    while the far-out overview hides them (exports paint them), as does anything else shown
    on the scene, such as an overlay."""
    rect = QRectF()
    mirrored = {*scene.node_items.values(), *scene.edge_items.values()}
    for item in scene.items():
        if item.parentItem() is not None or isinstance(item, OverviewItem):
            continue
        if item in mirrored or item.isVisible():
            rect = rect.united(_covered(item))
    if rect.isEmpty():
        rect = QRectF(0, 0, 320, 200)
    return rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def _covered(item) -> QRectF:
    """An item with what hangs off it: a flow badge under a card can be wider than the card
    (Russian labels are), and a parent's bounding rect leaves its children out."""
    rect = item.sceneBoundingRect()
    for child in item.childItems():
        if child.isVisibleTo(item):
            rect = rect.united(_covered(child))
    return rect


@contextmanager
def export_state(scene: FunnelScene, background: bool = True) -> Iterator[None]:
    """Full detail, no selection and no grid while painting; the editor's state comes back."""
    selected = scene.selectedItems()
    overview = scene.overview_on
    scene.clearSelection()
    scene.set_overview(False)
    scene.export_background = background
    try:
        yield
    finally:
        scene.export_background = None
        scene.set_overview(overview)
        for item in selected:
            item.setSelected(True)


def paint_diagram(
    painter: QPainter, scene: FunnelScene, target: QRectF, source: QRectF | None = None
) -> None:
    """The diagram (or `source` of the scene) fitted into `target`, keeping its proportions."""
    source = source or diagram_rect(scene)
    scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)


def _painter_of(scene: FunnelScene, source: QRectF, origin: QPointF, scale: float = 1.0):
    target = QRectF(origin.x(), origin.y(), source.width() * scale, source.height() * scale)

    def paint(painter: QPainter) -> None:
        paint_diagram(painter, scene, target, source)

    return paint


def scene_png(
    scene: FunnelScene,
    path: Path,
    scale: float | None = None,
    dpi: float | None = None,
    transparent: bool = False,
) -> QSizeF:
    """Write a PNG; `dpi` D means scale D/96 (a 300 dpi print of a 96 dpi screen). Returns the
    image size in pixels."""
    if scale is not None and dpi is not None:
        raise ValueError("give a scale or a DPI, not both")
    if dpi is not None:
        scale = dpi / 96
    scale = 2.0 if scale is None else scale
    if not 0 < scale <= 16:
        raise ValueError(f"the scale must be above 0 and at most 16 (got {scale:g})")
    source = diagram_rect(scene)
    with export_state(scene, background=not transparent):
        image = png_image(
            _painter_of(scene, source, QPointF(0, 0)),
            source.size(),
            scale,
            transparent=transparent,
            dpi=dpi,
            background=scene.theme.background,
        )
    save_image(image, path)
    return QSizeF(image.width(), image.height())


def scene_svg_text(scene: FunnelScene, transparent: bool = False, title: str = "") -> str:
    source = diagram_rect(scene)
    with export_state(scene, background=not transparent):
        return svg_text(
            _painter_of(scene, source, QPointF(0, 0)),
            source.size(),
            title or scene.document.scenario.name,
        )


def scene_svg(scene: FunnelScene, path: Path, transparent: bool = False) -> None:
    write_text(scene_svg_text(scene, transparent), path)


def scene_pdf(scene: FunnelScene, path: Path, transparent: bool = False) -> QSizeF:
    """One page the size of the diagram plus a white margin (scaled down only past the 200-inch
    limit of PDF viewers). Returns the page size in logical pixels."""
    source = diagram_rect(scene)
    scale = min(1.0, MAX_PDF_PIXELS / (max(source.width(), source.height()) + 2 * PDF_MARGIN))
    page = QSizeF(source.width() * scale + 2 * PDF_MARGIN, source.height() * scale + 2 * PDF_MARGIN)
    writer = pdf_writer(path, page, scene.document.scenario.name)
    painter = QPainter()
    if not painter.begin(writer):
        raise ExportFileError(f"{path}: the PDF could not be written")
    try:
        if not transparent:  # the theme's colour to the page's edge, not a box on white paper
            painter.fillRect(QRectF(0, 0, page.width(), page.height()), scene.theme.background)
        with export_state(scene, background=not transparent):
            _painter_of(scene, source, QPointF(PDF_MARGIN, PDF_MARGIN), scale)(painter)
    finally:
        painter.end()
    return page
