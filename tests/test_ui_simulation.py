"""The Simulation dock on a real window over a real SQLite demo database."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from datetime import date

import pytest
from PySide6.QtCore import QDate, QLocale, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy.engine import make_url

from app.canvas.flow_items import EdgeFlowLabel, NodeFlowBadge
from app.cli import main as cli_main
from app.document import EditorDocument
from app.engine.catalog import exit_label
from app.engine.db import generate_demo, open_database
from app.engine.serialization import load_scenario
from app.resources import EXAMPLES
from app.ui.contact_preview import load_record
from app.ui.main_window import MainWindow

START = QDate(2026, 3, 2)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('simdb') / 'contacts.sqlite3'}"
    engine = open_database(url)
    generate_demo(engine, 1500, seed=5, today=date(2026, 3, 1))
    engine.dispose()
    return url


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, demo_url):
    monkeypatch.setenv("VORONKA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    document = EditorDocument(load_scenario(EXAMPLES / "abandoned_cart.json").scenario)
    win = MainWindow(document)
    qtbot.addWidget(win)
    win.simulation.database_edit.setText(demo_url)
    win.simulation._database_edited()
    win.simulation.start_edit.setDate(START)
    yield win
    win.simulation.stop()
    QApplication.clipboard().clear()


def run_and_wait(qtbot, win: MainWindow, timeout: int = 60_000) -> None:
    with qtbot.waitSignal(win.simulation.job_done, timeout=timeout):
        win.run_simulation()


def cli_numbers(demo_url: str, *extra: str) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(
            [
                "simulate",
                str(EXAMPLES / "abandoned_cart.json"),
                "--db",
                demo_url,
                "--start",
                "2026-03-02",
                "--format",
                "json",
                *extra,
            ]
        )
    assert code == 0
    return json.loads(out.getvalue())


def test_overlay_shows_the_numbers_the_cli_prints(qtbot, window, demo_url):
    window.simulation.seed_spin.setValue(7)
    run_and_wait(qtbot, window)
    expected = cli_numbers(demo_url, "--seed", "7")
    flow = window.scene.flow
    assert flow is not None and flow.entered == expected["entered"] > 0
    for node_id, stats in expected["nodes"].items():
        assert flow.nodes[node_id].entered == stats["entered"], node_id
        assert flow.nodes[node_id].waiting == stats["waiting"], node_id
    edges = {(e["source"], e["exit"], e["target"]): e["count"] for e in expected["edges"]}
    shown = {(e.source, e.exit, e.target): f.count for e, f in flow.edges.items()}
    assert shown == edges
    # The items on the canvas say the same: a badge per step that was reached, labels on
    # the branches, in absolute numbers and then as shares.
    badges = [i for i in window.scene.items() if isinstance(i, NodeFlowBadge)]
    assert {b.parentItem().node_id for b in badges} == set(expected["nodes"])
    entry = next(b for b in badges if b.parentItem().node_id == "entry_cart")
    assert entry.text.startswith(f"{expected['entered']:,}".replace(",", "\u202f"))
    labels = [i for i in window.scene.items() if isinstance(i, EdgeFlowLabel)]
    assert labels and all(label.text.replace("\u202f", "").isdigit() for label in labels)
    window.simulation.percentages.setChecked(True)
    assert all(label.text.endswith("%") for label in labels)
    assert entry.text.startswith("100 %")
    assert "converted" in window.simulation.headline.text()


def test_a_different_seed_or_segment_changes_the_run_like_the_cli(qtbot, window, demo_url):
    window.simulation.segment_edit.setText("'vip' in tags")
    run_and_wait(qtbot, window)
    expected = cli_numbers(demo_url, "--segment", "'vip' in tags")
    assert window.scene.flow.entered == expected["entered"]
    assert window.simulation.population.count < 1500


def test_cancel_stops_the_run_and_keeps_the_previous_numbers(qtbot, window):
    run_and_wait(qtbot, window)
    before = window.scene.flow
    window.simulation.replications_spin.setValue(200)
    cancelled = []
    window.simulation.cancelled.connect(lambda: cancelled.append(True))
    window.simulation.job_progressed.connect(lambda *_: window.simulation.cancel())
    with qtbot.waitSignal(window.simulation.job_done, timeout=60_000):
        window.run_simulation()
    assert cancelled == [True]
    assert window.scene.flow is before
    assert "Cancelled" in window.simulation.status.text()
    assert window.simulation.run_button.isEnabled()


def test_the_window_keeps_processing_events_during_a_run(qtbot, window):
    ticks = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    window.simulation.replications_spin.setValue(20)
    run_and_wait(qtbot, window)
    timer.stop()
    assert window.scene.flow is not None
    assert len(ticks) >= 3  # the event loop ran while the worker thread simulated


def test_an_edit_marks_the_overlay_stale(qtbot, window):
    run_and_wait(qtbot, window)
    assert not window.scene.flow_stale
    window.document.move_nodes({"wait_1h": ((0, 0), (40, 40))})
    assert window.scene.flow_stale
    assert "out of date" in window.simulation.status.text()
    # Hiding and showing the numbers again keeps them marked stale; a new run refreshes them.
    window.simulation.show_numbers.setChecked(False)
    window.simulation.show_numbers.setChecked(True)
    assert window.scene.flow_stale
    run_and_wait(qtbot, window)
    assert not window.scene.flow_stale


def test_a_funnel_with_errors_is_not_simulated(qtbot, window):
    window.document.remove([], [e for e in window.document.scenario.edges][:1])
    window.document.revalidate()
    window.run_simulation()
    assert window.simulation.job is None
    assert "Fix the" in window.simulation.status.text()


def test_a_missing_database_offers_the_demo_and_creates_it(qtbot, window, tmp_path):
    target = tmp_path / "new.sqlite3"
    window.simulation.database_edit.setText(str(target))
    window.simulation._database_edited()
    assert window.simulation.create_demo_button.isVisibleTo(window.simulation)
    assert not window.simulation.run_button.isEnabled()
    with qtbot.waitSignal(window.simulation.job_done, timeout=120_000):
        window.simulation.create_demo_database()
    assert target.exists()
    assert not window.simulation.create_demo_button.isVisibleTo(window.simulation)
    assert window.simulation.run_button.isEnabled()


def test_a_broken_segment_is_reported_not_raised(qtbot, window):
    window.simulation.segment_edit.setText("age >=")
    assert "Column" in window.simulation.segment_feedback.text()
    run_and_wait(qtbot, window)
    assert window.scene.flow is None
    assert "age" in window.simulation.status.text() or "condition" in (
        window.simulation.status.text()
    )


def test_channel_assumptions_are_undoable_and_saved_with_the_funnel(qtbot, window):
    table = window.simulation.assumptions
    table.item(2, 0).setText("12")  # e-mail click-through
    assert window.document.simulation_assumptions().channels == {"email": {"clicked": 0.12}}
    assert window.document.modified
    table.item(2, 0).setText("lots")
    assert window.document.simulation_assumptions().channels == {"email": {"clicked": 0.12}}
    window.document.undo_stack.undo()
    assert window.document.simulation_assumptions().channels == {}
    assert table.item(2, 0).text() == "5 %"


def test_preview_as_contact_walks_the_path_the_run_gave_that_contact(qtbot, window):
    window.simulation.seed_spin.setValue(3)
    run_and_wait(qtbot, window)
    result = window.simulation.result
    population = window.simulation.population
    dialog = window.preview_as_contact()
    qtbot.addWidget(dialog)
    finals = {}
    for walk_index, contact_index in enumerate(result.walk_contact):
        finals[int(contact_index)] = result.node_ids[int(result.walk_final[walk_index])]
    checked = 0
    for contact_index, final in list(finals.items())[:25]:
        dialog.show_contact(int(population.ids[contact_index]))
        walked = [w for w in dialog.walks if w.entered]
        assert walked and walked[0].final == final
        checked += 1
    assert checked == min(25, len(finals)) > 0
    # Searching narrows the list; choosing a contact fills the steps and selects its path.
    dialog.search.setText("@")
    dialog.run_search()
    assert dialog.results.count() > 0
    dialog.results.setCurrentRow(0)
    assert dialog.steps.topLevelItemCount() > 0
    dialog.search.setText("no such person at all 0000")
    dialog.run_search()
    assert dialog.results.count() == 0 and "No contact" in dialog.notice.text()


def test_preview_renders_each_message_with_the_contacts_data(qtbot, window):
    run_and_wait(qtbot, window)
    result = window.simulation.result
    dialog = window.preview_as_contact()
    qtbot.addWidget(dialog)
    sent = result.node_ids.index("remind_email")
    contact_index = next(
        int(c)
        for c, f in zip(result.walk_contact, result.walk_final, strict=True)
        if int(f) != sent
    )
    contact_id = int(window.simulation.population.ids[contact_index])
    dialog.show_contact(contact_id)
    rows = [dialog.steps.topLevelItem(r) for r in range(dialog.steps.topLevelItemCount())]
    message_rows = [r for r in rows if r.text(1).startswith("✉")]
    assert message_rows
    dialog.steps.setCurrentItem(message_rows[0])
    text = dialog.message.toPlainText()
    assert "{{" not in text and "[template error]" not in text
    first_name = load_record(dialog.engine, contact_id)["first_name"]
    assert first_name and first_name in text  # "Hi {{ contact.first_name }}" rendered


def test_a_steps_own_figure_is_set_in_the_inspector_and_used_by_the_run(qtbot, window):
    window.scene.select_nodes(["wait_purchase"])
    box = window.inspector.assumption_box
    assert box is not None and box.key == "happened" and not box.own.isChecked()
    box.own.setChecked(True)
    box.value.setValue(100.0)
    assert window.document.simulation_assumptions().nodes == {"wait_purchase": {"happened": 1.0}}
    run_and_wait(qtbot, window)
    flow = window.scene.flow.nodes["wait_purchase"]
    exits = window.simulation.result.nodes["wait_purchase"].exits
    assert exits.get("timeout", 0) == 0 and exits["happened"] == flow.entered - flow.waiting
    window.document.undo_stack.undo()
    assert window.document.simulation_assumptions().nodes == {}
    assert not box.own.isChecked()
    # A message shows its channel's delivery default; a condition has no box.
    window.scene.select_nodes(["remind_email"])
    assert "98 %" in window.inspector.assumption_box.default.text()
    window.scene.select_nodes(["check_sms"])
    assert window.inspector.assumption_box is None


def test_results_show_the_runs_charts_and_say_when_they_are_stale(qtbot, window):
    run_and_wait(qtbot, window)
    charts = [widget.chart for widget in window.results.charts]
    assert all(chart is not None for chart in charts)
    funnel = charts[0]
    result = window.simulation.result
    assert [step.count for step in funnel.steps][1:] == [s["conversions"] for s in result.stages]
    assert window.results_dock.isVisibleTo(window)
    assert "Seed 1" in window.results.note.text()
    window.document.move_nodes({"wait_1h": ((0, 0), (40, 40))})
    assert "changed since this run" in window.results.note.text()


def test_closing_the_window_mid_run_stops_the_worker_promptly(qtbot, window):
    window.simulation.replications_spin.setValue(200)
    with qtbot.waitSignal(window.simulation.job_progressed, timeout=60_000):
        window.run_simulation()
    window.simulation.stop()
    # The thread has ended, not merely timed out waiting for a quit only the GUI thread sends.
    assert not window.simulation.job.is_running()


def test_two_saved_runs_are_compared_side_by_side(qtbot, window, demo_url, tmp_path):
    copy = tmp_path / "contacts.sqlite3"  # the runs are stored in the base: a copy of its own
    shutil.copy(make_url(demo_url).database, copy)
    panel = window.simulation
    panel.database_edit.setText(str(copy))
    panel._database_edited()
    assert not panel.save_button.isEnabled() and not window.act_save_run.isEnabled()
    empty = window.compare_runs()
    qtbot.addWidget(empty)
    assert "at least two runs" in empty.inputs_label.text() and not empty.tabs.isEnabled()

    run_and_wait(qtbot, window)
    assert window.act_save_run.isEnabled()
    first = panel.save_run("baseline")
    assert first is not None and "#" + str(first) in panel.status.text()
    assert not panel.save_button.isEnabled() and not window.act_save_run.isEnabled()
    window.scene.select_nodes(["wait_purchase"])
    box = window.inspector.assumption_box
    box.own.setChecked(True)
    box.value.setValue(90.0)
    run_and_wait(qtbot, window)
    second = panel.save_run("90 % buy")

    dialog = window.compare_runs()
    qtbot.addWidget(dialog)
    assert (dialog.first_combo.currentData(), dialog.second_combo.currentData()) == (first, second)
    assert "baseline" in dialog.first_combo.currentText()
    inputs = dialog.inputs_label.text()
    title = window.document.scenario.nodes["wait_purchase"].display_title
    assert f"{title} · happened: — → 0.9" in inputs and "seed" not in inputs
    comparison = dialog.comparison
    converted = next(c for c in comparison.headline if c.name == "converted")
    assert converted.b > converted.a
    row = next(
        r
        for r in range(dialog.headline_table.rowCount())
        if dialog.headline_table.item(r, 0).text() == "Converted"
    )
    assert dialog.headline_table.item(row, 1).text() == QLocale().toString(converted.a, "f", 0)
    change = dialog.headline_table.item(row, 3)
    assert change.text().startswith("+") and change.foreground().color().name() == "#2e7d32"
    table = dialog.steps_table
    steps: dict[str, list[str]] = {}
    step = ""
    for line in range(table.rowCount()):  # a step's title on its first row only
        step = table.item(line, 0).text() or step
        steps.setdefault(step, []).append(table.item(line, 1).text())
    assert f"→ {exit_label('timeout')}" in steps[title]  # fewer time out at 90 %
    assert table.item(0, 3).foreground().color().name() != "#2e7d32"  # counts: no verdict
    shown = table.rowCount()
    dialog.every_step.setChecked(True)
    assert dialog.steps_table.rowCount() > shown
    assert all(chart.chart is not None for chart in dialog.charts)
    assert dialog.charts[1].chart.steps[-1].count == comparison.stages[-1].conversions.b

    dialog.swap()
    assert (dialog.first_combo.currentData(), dialog.second_combo.currentData()) == (second, first)
    swapped = next(c for c in dialog.comparison.headline if c.name == "converted")
    assert (swapped.a, swapped.b) == (converted.b, converted.a)
    assert dialog.headline_table.item(row, 3).foreground().color().name() == "#c62828"
