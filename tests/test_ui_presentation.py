"""Presentation mode: full screen, read-only, stage by stage, Esc leaves."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.document import EditorDocument
from app.engine.serialization import load_scenario
from app.resources import EXAMPLES
from app.ui.main_window import MainWindow
from app.ui.presentation import PresentationWindow, presentation_stops


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("VORONKA_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    document = EditorDocument(load_scenario(EXAMPLES / "product_matrix.json").scenario)
    win = MainWindow(document)
    qtbot.addWidget(win)
    yield win
    QApplication.clipboard().clear()


def test_stops_are_the_whole_funnel_then_the_stage_frames_left_to_right(window):
    stops = presentation_stops(window.document)
    frames = [n for n in window.document.scenario.nodes.values() if n.type == "group"]
    assert len(stops) == 1 + len(frames) == 5
    assert [s.rect.x() for s in stops[1:]] == sorted(s.rect.x() for s in stops[1:])
    for stop in stops[1:]:
        assert stops[0].rect.contains(stop.rect)


def test_a_funnel_without_frames_is_shown_a_few_steps_at_a_time(qtbot):
    document = EditorDocument(load_scenario(EXAMPLES / "abandoned_cart.json").scenario)
    stops = presentation_stops(document)
    steps = sum(1 for _ in document.scenario.flow_nodes())
    assert len(stops) == 1 + -(-steps // 5)
    assert stops[1].title.startswith("Steps 1–5 of")


def test_f5_opens_full_screen_read_only_and_the_arrows_zoom_to_each_stage(qtbot, window):
    window.show()
    window.act_present.trigger()
    presentation = next(
        w for w in QApplication.topLevelWidgets() if isinstance(w, PresentationWindow)
    )
    qtbot.addWidget(presentation)
    assert presentation.isFullScreen()
    assert not presentation.view.isInteractive()
    assert presentation.caption.text().startswith("<b>Product matrix")
    qtbot.keyClick(presentation, Qt.Key.Key_Right)
    presentation.finish_animation()
    stage = presentation.stops[1].rect
    shown = presentation.visible_scene_rect()
    assert shown.contains(stage.center())
    assert shown.width() < presentation.stops[0].rect.width()  # zoomed in on the stage
    assert "1. Lead magnet" in presentation.caption.text()
    for _ in range(10):  # past the last stop stays on it
        qtbot.keyClick(presentation, Qt.Key.Key_Right)
    presentation.finish_animation()
    assert presentation.index == len(presentation.stops) - 1
    qtbot.keyClick(presentation, Qt.Key.Key_Home)
    presentation.finish_animation()
    assert presentation.index == 0
    qtbot.keyClick(presentation, Qt.Key.Key_Escape)
    assert not presentation.isVisible()


def test_presentation_never_edits_the_funnel(qtbot, window):
    presentation = PresentationWindow(window.document)
    qtbot.addWidget(presentation)
    presentation.show()
    node_id = next(iter(presentation.scene.node_items))
    item = presentation.scene.node_items[node_id]
    centre = presentation.view.mapFromScene(item.sceneBoundingRect().center())
    QTest.mousePress(presentation.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    QTest.mouseMove(presentation.view.viewport(), centre + centre / 4)
    QTest.mouseRelease(
        presentation.view.viewport(), Qt.MouseButton.LeftButton, pos=centre + centre / 4
    )
    assert not window.document.modified
    assert window.document.undo_stack.count() == 0
    assert item.pos().toTuple() == window.document.scenario.nodes[node_id].position


def test_numbers_show_with_n_and_follow_the_last_run(qtbot, window):
    from app.engine.flow import FlowFigures, NodeFlow, NodeFlowKind

    figures = FlowFigures(entered=10)
    figures.nodes["entry_download"] = NodeFlow(10, 0, NodeFlowKind.STEP, 1.0)
    presentation = PresentationWindow(window.document, figures, headline="10 contacts")
    qtbot.addWidget(presentation)
    presentation.show()
    assert presentation.scene.flow is figures
    assert "10 contacts" in presentation.caption.text()
    qtbot.keyClick(presentation, Qt.Key.Key_N)
    assert presentation.scene.flow is None
    assert "10 contacts" not in presentation.caption.text()
