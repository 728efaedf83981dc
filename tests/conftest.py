"""Shared test setup: Qt renders offscreen, so the suite runs on machines with no display."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def document(qapp):
    """An editor document holding the bundled abandoned-cart funnel."""
    from app.document import EditorDocument
    from app.engine.serialization import load_scenario
    from app.resources import EXAMPLES

    return EditorDocument(load_scenario(EXAMPLES / "abandoned_cart.json").scenario)
