"""The screenshot script renders real windows: light and dark, fitted and at 100 %."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from app.resources import EXAMPLES
from tools.screenshots import SIZE, render, render_welcome


@pytest.fixture(autouse=True)
def private_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VORONKA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_example_renders_to_full_size_pngs_with_the_theme(qapp, tmp_path: Path, theme: str):
    fitted, close_up = render(EXAMPLES / "abandoned_cart.json", theme, tmp_path)
    for path in (fitted, close_up):
        image = QImage(str(path))
        assert (image.width(), image.height()) == SIZE
    image = QImage(str(close_up))
    canvas_probe = image.pixelColor(SIZE[0] // 2, SIZE[1] - 300)  # canvas background
    assert (canvas_probe.lightness() > 128) == (theme == "light")
    colours = {image.pixel(x, y) for x in range(300, 1300, 25) for y in range(100, 800, 25)}
    assert len(colours) > 20, "the canvas shows cards, text and edges, not a blank area"


def test_the_welcome_screen_renders_with_its_gallery(qapp, tmp_path: Path):
    top, gallery = render_welcome(tmp_path)
    for path in (top, gallery):
        image = QImage(str(path))
        assert image.width() >= 1000 and image.height() >= 700
    assert QImage(str(top)) != QImage(str(gallery)), "the second one is scrolled"
