"""Shared test setup: Qt renders offscreen, so the suite runs on machines with no display."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path_factory, monkeypatch):
    """Settings, recent files, recovery copies and thumbnails go to a fresh folder per test,
    never to the user's own data directory."""
    folder = tmp_path_factory.mktemp("voronka-data")
    monkeypatch.setenv("VORONKA_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def document(qapp):
    """An editor document holding the bundled abandoned-cart funnel."""
    from app.document import EditorDocument
    from app.engine.serialization import load_scenario
    from app.resources import EXAMPLES

    return EditorDocument(load_scenario(EXAMPLES / "abandoned_cart.json").scenario)
