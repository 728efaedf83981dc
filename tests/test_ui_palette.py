"""The palette lists the catalog, filters it, and drags and activates step types by name."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtWidgets import QTreeWidgetItem

from app.engine.catalog import NODE_TYPES, Category
from app.ui.icons import category_icon, node_type_icon
from app.ui.palette import (
    NODE_TYPE_MIME,
    PaletteWidget,
    node_type_mime_data,
    type_from_mime_data,
)


@pytest.fixture
def palette(qtbot) -> PaletteWidget:
    widget = PaletteWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _headers(palette: PaletteWidget) -> list[QTreeWidgetItem]:
    return [palette.tree.topLevelItem(i) for i in range(palette.tree.topLevelItemCount())]


def _item(palette: PaletteWidget, label: str) -> QTreeWidgetItem:
    found = palette.tree.findItems(label, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)
    return next(i for i in found if i.parent())


def test_every_catalog_type_is_listed_under_its_category(palette):
    by_category = [t.type for c in Category for t in NODE_TYPES if t.category is c]
    assert palette.visible_types() == by_category
    assert [h.text(0) for h in _headers(palette)] == [c.value.upper() for c in Category]


def test_filter_narrows_by_label_type_and_help_ignoring_case(palette):
    palette.set_filter("WAIT")
    assert palette.visible_types() == ["wait", "wait_event"]
    palette.set_filter("entry.")  # type ids
    assert palette.visible_types() == ["entry.segment", "entry.event"]
    palette.set_filter("sticky")  # help text only
    assert palette.visible_types() == ["note"]
    palette.set_filter("wait event")  # every word must match
    assert palette.visible_types() == ["wait_event"]
    palette.set_filter("")
    assert len(palette.visible_types()) == len(NODE_TYPES)


def test_no_match_says_so_and_handles_russian_text(palette):
    palette.set_filter("Корзина")
    assert palette.visible_types() == []
    assert palette.empty_label.isVisible()
    assert "Корзина" in palette.empty_label.text()
    assert not palette.tree.isVisible()
    palette.set_filter("")
    assert palette.tree.isVisible() and not palette.empty_label.isVisible()


def test_filtered_out_categories_hide_their_header(palette):
    palette.set_filter("switch")
    hidden = {h.text(0) for h in _headers(palette) if h.isHidden()}
    assert "FLOW" not in hidden
    assert {"ENTRY", "MESSAGE", "GOAL"} <= hidden


def test_drag_mime_data_carries_the_type_name():
    mime = node_type_mime_data("wait_event")
    assert mime.formats() == [NODE_TYPE_MIME]
    assert bytes(mime.data(NODE_TYPE_MIME).data()) == b"wait_event"
    assert type_from_mime_data(mime) == "wait_event"
    assert type_from_mime_data(node_type_mime_data("шаг.новый")) == "шаг.новый"
    assert type_from_mime_data(QMimeData()) is None


def test_enter_in_the_filter_activates_the_first_match(palette, qtbot):
    qtbot.keyClicks(palette.filter_edit, "split")
    with qtbot.waitSignal(palette.type_activated) as signal:
        qtbot.keyClick(palette.filter_edit, Qt.Key.Key_Return)
    assert signal.args == ["split"]


def test_double_click_activates_a_type(palette, qtbot):
    palette.set_filter("goal")
    point = palette.tree.visualItemRect(_item(palette, "Goal")).center()
    viewport = palette.tree.viewport()
    with qtbot.waitSignal(palette.type_activated) as signal:
        # an item view takes a double-click only after the press that starts it
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=point)
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=point)
    assert signal.args == ["goal"]


def test_headers_are_not_types(palette, qtbot):
    header = palette.tree.topLevelItem(0)
    assert not header.flags() & Qt.ItemFlag.ItemIsDragEnabled
    with qtbot.assertNotEmitted(palette.type_activated):
        palette.tree.itemActivated.emit(header, 0)


def test_items_have_icons_and_tooltips_with_help_and_example(palette):
    for spec in NODE_TYPES:
        item = _item(palette, spec.label)
        assert not item.icon(0).isNull()
        assert spec.help.split(";")[0][:20] in item.toolTip(0).replace("&#x27;", "'")
        assert "Example:" in item.toolTip(0)


def test_icons_exist_for_categories_and_unknown_types(qapp):
    assert all(not category_icon(c).isNull() for c in Category)
    assert not node_type_icon("from.the.future").isNull()
