"""The inspector edits through the document (one undo step per field) and mirrors it back."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.document import EditorDocument
from app.engine.catalog import CATALOG, ParamKind
from app.engine.model import Node, Product
from app.engine.serialization import load_scenario
from app.resources import EXAMPLES
from app.ui.inspector import (
    EDITORS,
    EMPTY_HINT,
    ERROR,
    CasesEditor,
    InspectorWidget,
    SubjectEditor,
    VariantsEditor,
    choice_text,
)


@pytest.fixture
def inspector(qtbot, document) -> InspectorWidget:
    widget = InspectorWidget()
    qtbot.addWidget(widget)
    widget.set_document(document)
    widget.resize(380, 700)
    widget.show()
    return widget


def _params(document: EditorDocument, node_id: str) -> dict:
    return document.scenario.node(node_id).params


def _retype(qtbot, line_edit, text: str) -> None:
    line_edit.setFocus()
    line_edit.selectAll()
    qtbot.keyClicks(line_edit, text)


def test_every_param_kind_has_an_editor():
    assert set(EDITORS) == set(ParamKind)


def test_empty_state_hints_and_shows_the_scenario(inspector, document):
    assert inspector.node_id is None
    assert inspector.stack.currentWidget() is inspector.empty_page
    assert inspector.empty_label.text() == EMPTY_HINT
    assert inspector.settings_form.name_edit.text() == document.scenario.name


def test_form_is_generated_from_the_param_specs(inspector):
    inspector.show_node("offer_email")
    assert list(inspector.editors) == [p.name for p in CATALOG["offer"].params]
    assert isinstance(inspector.editors["subject"], SubjectEditor)
    assert inspector.title_edit.text() == "E-mail: personal 10 % code"
    assert inspector.editors["discount"].input.value() == 10
    assert inspector.editors["channel"].input.currentText() == "E-mail"
    promo = CATALOG["offer"].param("promo_code")
    assert promo.help in inspector.editors["promo_code"].toolTip()
    assert promo.example in inspector.editors["promo_code"].toolTip()
    assert inspector.editors["product"].input.currentData() == "cart_order"


def test_typing_a_number_is_one_undo_step_with_a_number_value(inspector, document, qtbot):
    inspector.show_node("offer_email")
    _retype(qtbot, inspector.editors["discount"].input, "25")
    assert _params(document, "offer_email")["discount"] == 25
    assert isinstance(_params(document, "offer_email")["discount"], int)
    assert document.undo_stack.count() == 1


def test_choosing_a_choice_writes_the_raw_value(inspector, document, qtbot):
    inspector.show_node("offer_email")
    combo = inspector.editors["channel"].input
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert _params(document, "offer_email")["channel"] == "sms"
    assert combo.currentText() == "SMS"
    assert choice_text("cart_abandoned") == "Cart abandoned"


def test_title_typing_merges_and_undo_refreshes_the_form(inspector, document, qtbot):
    inspector.show_node("wait_1h")
    qtbot.keyClicks(inspector.title_edit, " more")
    assert document.scenario.node("wait_1h").title == "Wait 1 hour more"
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert inspector.title_edit.text() == "Wait 1 hour"


def test_undo_refreshes_values_without_writing_back(inspector, document, qtbot):
    inspector.show_node("offer_email")
    _retype(qtbot, inspector.editors["discount"].input, "15")
    document.undo_stack.undo()
    assert inspector.editors["discount"].input.value() == 10
    assert _params(document, "offer_email")["discount"] == 10
    assert document.undo_stack.index() == 0 and document.undo_stack.count() == 1
    document.undo_stack.redo()
    assert inspector.editors["discount"].input.value() == 15


def test_typing_in_the_middle_keeps_the_cursor(inspector, document, qtbot):
    inspector.show_node("check_sms")
    line = inspector.editors["condition"].input
    line.setFocus()
    line.setCursorPosition(3)
    qtbot.keyClicks(line, "xy")
    assert _params(document, "check_sms")["condition"] == "conxysent_sms and has_phone"
    assert line.cursorPosition() == 5


def test_a_broken_condition_shows_the_error_with_its_column(inspector, document, qtbot):
    inspector.show_node("check_sms")
    editor = inspector.editors["condition"]
    _retype(qtbot, editor.input, "age >= 25 and")
    assert _params(document, "check_sms")["condition"] == "age >= 25 and"
    assert document.undo_stack.count() == 1
    assert editor.feedback.tone == "error"
    assert "Column 14" in editor.feedback.text()
    qtbot.keyClicks(editor.input, ' "cats" in tags')
    assert editor.feedback.tone == "muted"
    assert "age ≥ 25" in editor.feedback.text()


def test_unknown_fields_in_a_condition_are_warnings(inspector, qtbot):
    inspector.show_node("check_sms")
    editor = inspector.editors["condition"]
    _retype(qtbot, editor.input, "agee > 3")
    assert "did you mean age?" in editor.feedback.text()
    assert "Column 1" in editor.feedback.text()


def test_an_optional_empty_condition_means_everyone(inspector, qtbot):
    inspector.show_node("entry_cart")
    editor = inspector.editors["condition"]
    editor.input.setFocus()
    editor.input.selectAll()
    qtbot.keyClick(editor.input, Qt.Key.Key_Delete)
    assert editor.feedback.tone == "muted"
    assert "everyone" in editor.feedback.text()


def test_a_template_error_shows_its_line(inspector, document):
    inspector.show_node("remind_email")
    editor = inspector.editors["body"]
    assert "Uses:" in editor.feedback.text() and "cart.items" in editor.feedback.text()
    editor.input.setPlainText("Hi {{ contact.first_name }}\nSee {{ oops")
    assert _params(document, "remind_email")["body"] == "Hi {{ contact.first_name }}\nSee {{ oops"
    assert editor.feedback.tone == "error"
    assert "Line 2" in editor.feedback.text()


def test_a_duration_shows_its_words_or_its_error(inspector, document, qtbot):
    inspector.show_node("wait_promo")
    editor = inspector.editors["timeout"]
    assert "= 3 days" in editor.feedback.text()
    _retype(qtbot, editor.input, "PT36H")
    assert "= 1 day 12 hours" in editor.feedback.text()
    _retype(qtbot, editor.input, "3 days")
    assert editor.feedback.tone == "error"
    assert _params(document, "wait_promo")["timeout"] == "3 days"


def test_weekday_toggles_write_the_days_in_week_order(inspector, document, qtbot):
    inspector.show_node("wait_daytime")
    buttons = inspector.editors["window_days"].buttons
    qtbot.mouseClick(buttons["mon"], Qt.MouseButton.LeftButton)
    assert _params(document, "wait_daytime")["window_days"] == [
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]
    document.undo_stack.undo()
    assert buttons["mon"].isChecked()


def test_a_bad_time_is_flagged(inspector, qtbot):
    inspector.show_node("wait_daytime")
    editor = inspector.editors["window_start"]
    _retype(qtbot, editor.input, "9:5")
    assert editor.feedback.isVisibleTo(inspector) and editor.feedback.tone == "error"
    _retype(qtbot, editor.input, "09:30")
    assert not editor.feedback.isVisibleTo(inspector)


def test_variants_editor_shows_the_sum_and_writes_weights(inspector, document):
    node_id = document.add_node("split", (0, 0))
    inspector.show_node(node_id)
    editor = inspector.editors["variants"]
    assert isinstance(editor, VariantsEditor)
    assert editor.summary.text() == "Sum: 100 %"
    editor.input.item(0, 2).setData(Qt.ItemDataRole.EditRole, 70)
    assert [v["weight"] for v in _params(document, node_id)["variants"]] == [70, 50]
    assert editor.summary.text().startswith("Sum: 120 %")
    assert ERROR in editor.summary.styleSheet()
    editor.input.item(1, 2).setData(Qt.ItemDataRole.EditRole, 30)
    assert editor.summary.text() == "Sum: 100 %"
    editor.add_row()
    assert [v["id"] for v in _params(document, node_id)["variants"]] == ["a", "b", "c"]
    editor.even()
    assert [v["weight"] for v in _params(document, node_id)["variants"]] == [34, 33, 33]


def test_cases_editor_checks_conditions_and_moves_rows(inspector, document):
    node_id = document.add_node("switch", (0, 0))
    inspector.show_node(node_id)
    editor = inspector.editors["cases"]
    assert isinstance(editor, CasesEditor)
    editor.input.item(0, 2).setText("age >")
    assert _params(document, node_id)["cases"][0]["condition"] == "age >"
    assert "Case 1: Column" in editor.feedback.text()
    editor.input.selectRow(1)
    editor.move_row(-1)
    assert [c["id"] for c in _params(document, node_id)["cases"]] == ["case2", "case1"]
    assert editor.input.currentRow() == 0
    editor.remove_row()
    assert [c["id"] for c in _params(document, node_id)["cases"]] == ["case1"]
    document.undo_stack.undo()
    assert editor.input.rowCount() == 2


def test_products_follow_the_scenario(inspector, document):
    inspector.show_node("offer_email")
    combo = inspector.editors["product"].input
    assert combo.count() == 1
    products = [*document.scenario.products, Product("gift", "Gift box", "upsell", 990)]
    document.set_scenario_field("products", products, "Add a product")
    assert combo.count() == 2
    assert combo.currentData() == "cart_order"
    combo.activated.emit(1)
    assert _params(document, "offer_email")["product"] == "gift"


def test_removing_the_node_shows_the_empty_state(inspector, document):
    inspector.show_node("tag_lost")
    document.remove(["tag_lost"])
    assert inspector.node_id is None
    assert inspector.stack.currentWidget() is inspector.empty_page
    document.undo_stack.undo()
    inspector.show_node("tag_lost")
    assert inspector.editors["tag"].input.text() == "cart_lost"


def test_scenario_settings_write_only_valid_values(inspector, document, qtbot):
    form = inspector.settings_form
    _retype(qtbot, form.quiet_start, "25:00")
    form.quiet_start.editingFinished.emit()
    assert document.scenario.settings.quiet_hours.start == "22:00"
    assert form.feedback.tone == "error"
    _retype(qtbot, form.quiet_start, "23:00")
    form.quiet_start.editingFinished.emit()
    assert document.scenario.settings.quiet_hours.start == "23:00"
    assert not form.feedback.isVisibleTo(inspector)
    document.undo_stack.undo()
    assert form.quiet_start.text() == "22:00"


def test_a_step_of_an_unknown_type_keeps_its_params_and_can_be_renamed(qtbot):
    scenario = load_scenario(EXAMPLES / "abandoned_cart.json").scenario
    scenario.add_node(Node("future", "from.the.future", "Later", {"speed": 3}))
    document = EditorDocument(scenario)
    widget = InspectorWidget()
    qtbot.addWidget(widget)
    widget.set_document(document)
    widget.show_node("future")
    assert widget.editors == {}
    qtbot.keyClicks(widget.title_edit, "!")
    assert document.scenario.node("future").title == "Later!"
    assert document.scenario.node("future").params == {"speed": 3}
