"""Thumbnails of funnels for the template gallery, drawn by the real canvas and cached on disk.

A thumbnail is the funnel's own scene rendered offscreen, so it always looks like what opens.
Rendering one takes tens of milliseconds; the cache (data directory, `thumbnails/`) is keyed by
the file's content hash, the theme, the size and `RENDER_VERSION`, so the second start shows
the gallery at once and a changed template or drawing code never shows a stale picture.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter

from app.canvas.scene import FunnelScene
from app.document import EditorDocument
from app.engine.serialization import loads_scenario
from app.settings_paths import data_dir

RENDER_VERSION = 1  # bump when the canvas's look changes, to redraw cached thumbnails
MARGIN = 40  # scene units around the funnel
# A long funnel fitted whole would be a thin strip: it fills at least this share of the height,
# shows its start (where the entries are) and fades out on the right.
MIN_FILL = 0.45
FADE = 48


def cache_dir() -> Path:
    return data_dir() / "thumbnails"


def cache_path(content: bytes, size: QSize, theme: str) -> Path:
    digest = hashlib.sha256(content).hexdigest()[:24]
    return cache_dir() / f"{digest}-{theme}-{size.width()}x{size.height()}-v{RENDER_VERSION}.png"


def render(content: bytes, size: QSize, theme: str = "light") -> QImage:
    """The funnel in `content` (a scenario file's bytes) fitted and centred in `size`, or, when
    it is very long, its beginning at a readable scale."""
    document = EditorDocument(loads_scenario(content.decode("utf-8")).scenario)
    scene = FunnelScene(document, theme)
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(scene.theme.background)
    source = scene.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
    if not source.isEmpty():
        scale = min(size.width() / source.width(), size.height() / source.height())
        scale = max(scale, min(MIN_FILL * size.height() / source.height(), 1.0))
        cropped = source.width() * scale > size.width()
        if cropped:
            source.setWidth(size.width() / scale)
        width, height = source.width() * scale, source.height() * scale
        target = QRectF((size.width() - width) / 2, (size.height() - height) / 2, width, height)
        painter = QPainter(image)
        painter.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)
        if cropped:
            fade = QLinearGradient(size.width() - FADE, 0, size.width(), 0)
            transparent = QColor(scene.theme.background)
            transparent.setAlpha(0)
            fade.setColorAt(0, transparent)
            fade.setColorAt(1, scene.theme.background)
            painter.fillRect(QRectF(size.width() - FADE, 0, FADE, size.height()), fade)
        painter.end()
    scene.clear()
    document.deleteLater()
    return image


def thumbnail(path: Path, size: QSize, theme: str = "light") -> QImage:
    """The cached thumbnail of a scenario file, drawn and stored on the first request.

    A cache that cannot be written (read-only data folder) only costs speed."""
    content = path.read_bytes()
    cached = cache_path(content, size, theme)
    image = QImage(str(cached)) if cached.is_file() else QImage()
    if not image.isNull() and image.size() == size:
        return image
    image = render(content, size, theme)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        temp = cached.with_suffix(".tmp.png")
        if image.save(str(temp)):
            temp.replace(cached)
    except OSError:
        pass
    return image
