"""The editor driven through its real widgets (pytest-qt, offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.canvas.items import NodeItem
from app.document import EditorDocument
from app.engine.model import Edge
from app.engine.serialization import dumps_scenario, load_scenario
from app.resources import EXAMPLES
from app.ui.main_window import MainWindow
from app.ui.palette import node_type_mime_data


@pytest.fixture(autouse=True)
def private_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("VORONKA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    # Closing a modified window asks (a modal dialog); tests close windows with work in them.
    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    yield
    # Mime data left on the clipboard outlives the test's objects and crashes Qt at exit.
    QApplication.clipboard().clear()


def open_window(qtbot, document: EditorDocument | None = None) -> MainWindow:
    window = MainWindow(document or EditorDocument())
    window.resize(1400, 900)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def example_window(qtbot, name: str = "abandoned_cart") -> MainWindow:
    scenario = load_scenario(EXAMPLES / f"{name}.json").scenario
    window = open_window(qtbot, EditorDocument(scenario))
    window.view.set_zoom(1.0)
    return window


def view_point(window: MainWindow, scene_point: QPointF) -> QPoint:
    return window.view.mapFromScene(scene_point)


def drag(qtbot, window: MainWindow, start: QPointF, end: QPointF) -> None:
    viewport = window.view.viewport()
    window.view.centerOn((start + end) / 2)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=view_point(window, start))
    qtbot.mouseMove(viewport, view_point(window, (start + end) / 2))
    qtbot.mouseMove(viewport, view_point(window, end))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=view_point(window, end))


def test_dropping_a_palette_item_creates_one_node_there(qtbot) -> None:
    window = open_window(qtbot)
    window.view.set_zoom(1.0)
    target = QPoint(400, 300)
    mime = node_type_mime_data("wait_event")
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(target, Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(window.view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(target), Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(window.view.viewport(), drop)
    nodes = list(window.document.scenario.nodes.values())
    assert [n.type for n in nodes] == ["wait_event"]
    expected = window.view.mapToScene(target)
    assert nodes[0].position == (expected.x(), expected.y())
    assert isinstance(window.scene.node_items[nodes[0].id], NodeItem)
    assert window.document.undo_stack.count() == 1


def test_dragging_an_exit_onto_a_node_makes_exactly_one_edge(qtbot) -> None:
    window = open_window(qtbot)
    window.view.set_zoom(1.0)
    doc = window.document
    mail = doc.add_node("message", (0, 0))
    done = doc.add_node("exit", (400, 0))
    source = window.scene.node_items[mail]
    target = window.scene.node_items[done]
    drag(qtbot, window, source.exit_port_scene_pos("sent"), target.sceneBoundingRect().center())
    assert doc.scenario.edges == [Edge(mail, "sent", done)]
    assert Edge(mail, "sent", done) in window.scene.edge_items
    assert "sent" in source.connected and "failed" not in source.connected


def test_an_invalid_drop_makes_no_edge_and_says_why(qtbot) -> None:
    window = open_window(qtbot)
    window.view.set_zoom(1.0)
    doc = window.document
    mail = doc.add_node("message", (0, 0))
    entry = doc.add_node("entry.event", (400, 0))
    messages: list[str] = []
    window.scene.status_message.connect(messages.append)
    source = window.scene.node_items[mail]
    target = window.scene.node_items[entry]
    drag(qtbot, window, source.exit_port_scene_pos("sent"), target.sceneBoundingRect().center())
    assert doc.scenario.edges == []
    assert messages and "no input" in messages[-1]
    assert "no input" in window.statusBar().currentMessage()


def test_moving_a_node_is_one_undo_step_and_snaps_to_the_grid(qtbot) -> None:
    window = open_window(qtbot)
    window.view.set_zoom(1.0)
    doc = window.document
    node_id = doc.add_node("wait", (0, 0))
    item = window.scene.node_items[node_id]
    start = item.sceneBoundingRect().center() + QPointF(0, -30)
    drag(qtbot, window, start, start + QPointF(133, 47))
    assert doc.scenario.nodes[node_id].position == (140.0, 40.0)
    assert doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    assert doc.scenario.nodes[node_id].position == (0.0, 0.0)
    assert item.pos() == QPointF(0, 0)


def test_delete_then_undo_restores_byte_for_byte(qtbot) -> None:
    window = example_window(qtbot)
    before = dumps_scenario(window.document.scenario)
    window.scene.select_nodes(["remind_email", "wait_purchase"])
    window.act_delete.trigger()
    assert "remind_email" not in window.scene.node_items
    assert not any("remind_email" in (e.source, e.target) for e in window.scene.edge_items)
    window.act_undo.trigger()
    assert dumps_scenario(window.document.scenario) == before
    assert set(window.scene.node_items) == set(window.document.scenario.nodes)
    assert set(window.scene.edge_items) == set(window.document.scenario.edges)


def test_copy_paste_remaps_ids_between_two_windows(qtbot) -> None:
    first = example_window(qtbot)
    second = open_window(qtbot)
    first.scene.select_nodes(["remind_email", "wait_purchase"])
    first.act_copy.trigger()
    second.act_paste.trigger()
    pasted = set(second.document.scenario.nodes)
    assert pasted == {"remind_email", "wait_purchase"}
    assert len(second.document.scenario.edges) == 1
    first.act_paste.trigger()
    new_ids = set(first.scene.selected_node_ids())
    assert len(new_ids) == 2 and not new_ids & {"remind_email", "wait_purchase"}


def test_tab_search_places_the_chosen_type_at_the_cursor(qtbot) -> None:
    window = open_window(qtbot)
    window.view.set_zoom(1.0)
    spot = QPointF(120, 80)
    window.open_quick_search(spot)
    search = window.quick_search
    assert search.isVisible()
    qtbot.keyClicks(search.filter, "wait for")
    assert search.list.currentItem().data(Qt.ItemDataRole.UserRole) == "wait_event"
    qtbot.keyClick(search.filter, Qt.Key.Key_Return)
    [node] = window.document.scenario.nodes.values()
    assert node.type == "wait_event" and node.position == (120.0, 80.0)
    assert not search.isVisible()


def test_tab_key_on_the_canvas_opens_the_search(qtbot) -> None:
    window = open_window(qtbot)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    assert window.quick_search.isVisible()


def test_dropping_a_connection_in_empty_space_adds_a_connected_step(qtbot) -> None:
    window = open_window(qtbot)
    window.view.set_zoom(1.0)
    doc = window.document
    mail = doc.add_node("message", (0, 0))
    port = window.scene.node_items[mail].exit_port_scene_pos("failed")
    drag(qtbot, window, port, port + QPointF(300, 200))
    assert window.quick_search.isVisible()
    qtbot.keyClicks(window.quick_search.filter, "exit")
    qtbot.keyClick(window.quick_search.filter, Qt.Key.Key_Return)
    [edge] = doc.scenario.edges
    assert (edge.source, edge.exit) == (mail, "failed")
    assert doc.scenario.nodes[edge.target].type == "exit"
    doc.undo_stack.undo()
    assert list(doc.scenario.nodes) == [mail] and doc.scenario.edges == []


def test_clicking_a_problem_selects_and_centres_its_node(qtbot) -> None:
    window = example_window(qtbot)
    doc = window.document
    doc.remove([], doc.scenario.edges_from("wait_purchase", "timeout"))
    doc.revalidate()
    window.problems.node_activated.emit("wait_purchase")
    assert window.scene.selected_node_ids() == ["wait_purchase"]
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    item = window.scene.node_items["wait_purchase"]
    assert item.sceneBoundingRect().adjusted(-5, -5, 5, 5).contains(centre)


def test_a_dangling_exit_is_drawn_open_and_the_node_has_a_badge(qtbot) -> None:
    window = example_window(qtbot)
    doc = window.document
    doc.remove([], doc.scenario.edges_from("wait_purchase", "timeout"))
    doc.revalidate()
    item = window.scene.node_items["wait_purchase"]
    assert "timeout" not in item.connected and "happened" in item.connected
    assert item.severity == "error"
    assert window.problems_label.text().startswith("⚠ 1 error,")


def test_zoom_to_fit_contains_every_item(qtbot) -> None:
    window = example_window(qtbot, "bant_qualification")
    window.act_fit.trigger()
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    for item in window.scene.node_items.values():
        assert visible.contains(item.sceneBoundingRect()), item.node_id


def test_saved_file_reopens_with_the_same_positions(qtbot, tmp_path: Path) -> None:
    window = example_window(qtbot)
    window.document.move_nodes({"remind_email": ((0, 0), (1234.0, 567.0))})
    path = tmp_path / "moved.json"
    window.document.save(path)
    assert not window.windowTitle().startswith("*") and "*" not in window.document.title
    reopened = window.open_path(path)
    assert reopened is not None
    assert reopened.scene.node_items["remind_email"].pos() == QPointF(1234, 567)
    assert reopened.document.scenario.nodes["remind_email"].position == (1234.0, 567.0)


def test_auto_layout_is_one_undo_step(qtbot) -> None:
    window = example_window(qtbot, "win_back")
    before = dumps_scenario(window.document.scenario)
    window.act_layout.trigger()
    assert window.document.undo_stack.count() == 1
    window.act_undo.trigger()
    assert dumps_scenario(window.document.scenario) == before


def test_title_shows_unsaved_changes(qtbot) -> None:
    window = example_window(qtbot)
    assert not window.isWindowModified()
    window.document.add_node("note", (0, 0))
    assert window.isWindowModified() and window.document.title.endswith("*")


def test_far_zoom_shows_one_overview_instead_of_every_card(qtbot) -> None:
    window = example_window(qtbot, "post_sale_nps")
    scene = window.scene
    window.view.set_zoom(0.05)
    assert scene.overview_on and scene.overview.isVisible()
    cards = [i for i in scene.node_items.values() if isinstance(i, NodeItem)]
    assert not any(card.isVisible() for card in cards)
    assert not any(edge.isVisible() for edge in scene.edge_items.values())
    blocks = sum(len(rects) for _, rects in scene.overview._blocks)
    assert blocks == len(cards) and len(scene.overview._lines) == len(scene.edge_items)
    window.document.add_node("message", (0, 3000))  # edits while zoomed out show up too
    qtbot.waitUntil(lambda: sum(len(r) for _, r in scene.overview._blocks) == blocks + 1)
    window.view.set_zoom(1.0)
    assert not scene.overview.isVisible() and all(card.isVisible() for card in cards)
