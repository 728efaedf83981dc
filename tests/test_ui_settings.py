"""The Settings dialog edits, checks, previews and saves the preferences (real widgets)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from app import preferences
from app.engine.behaviour import Assumptions
from app.engine.contact_schema import CHANNELS
from app.preferences import Preferences, SimulationDefaults
from app.ui.assumptions_table import COLUMNS
from app.ui.main_window import MainWindow
from app.ui.settings_dialog import SettingsDialog
from app.ui.simulation_panel import SimulationPanel


@pytest.fixture
def window(qtbot, document, monkeypatch):
    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    main = MainWindow(document)
    qtbot.addWidget(main)
    yield main
    QApplication.clipboard().clear()


def _cell(dialog: SettingsDialog, channel: str, key: str):
    """The table has a row per behaviour and a column per channel."""
    row = [k for k, _ in COLUMNS].index(key)
    return dialog.channels.item(row, CHANNELS.index(channel))


def _ok(dialog: SettingsDialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_saved_settings_come_back_in_a_new_dialog(qtbot):
    dialog = SettingsDialog(preferences.load())
    qtbot.addWidget(dialog)
    dialog.language.setCurrentIndex(dialog.language.findData("ru"))
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.grid_visible.setChecked(False)
    dialog.grid_size.setValue(40)
    dialog.autosave.setValue(10)
    dialog.database.setText("/data/shop.sqlite3")
    dialog.horizon.setValue(60)
    dialog.seed.setValue(7)
    dialog.replications.setValue(20)
    _cell(dialog, "sms", "clicked").setText("12 %")
    _cell(dialog, "email", "opened").setText("35,5")
    _ok(dialog).click()

    saved = preferences.load()
    assert (saved.language, saved.theme, saved.grid_visible, saved.grid_size) == (
        "ru",
        "dark",
        False,
        40,
    )
    assert saved.autosave_seconds == 10 and saved.database == "/data/shop.sqlite3"
    simulation = saved.simulation
    assert (simulation.horizon_days, simulation.seed, simulation.replications) == (60, 7, 20)
    assert simulation.channels == {"sms": {"clicked": 0.12}, "email": {"opened": 0.355}}

    again = SettingsDialog(preferences.load())
    qtbot.addWidget(again)
    assert again.language.currentData() == "ru" and again.theme.currentData() == "dark"
    assert again.grid_size.value() == 40 and not again.grid_visible.isChecked()
    assert _cell(again, "sms", "clicked").text() == "12 %"
    assert _cell(again, "sms", "clicked").font().bold()  # an override
    assert not _cell(again, "push", "clicked").font().bold()  # the benchmark applies
    assert again.preferences() == saved


def test_a_bad_value_is_named_and_a_bad_database_blocks_ok(qtbot):
    dialog = SettingsDialog(Preferences())
    qtbot.addWidget(dialog)
    _cell(dialog, "sms", "deliver").setText("120")
    assert "SMS · Delivered: ‘120’ is not a percentage between 0 and 100" in (
        dialog.error_label.text()
    )
    assert _cell(dialog, "sms", "deliver").text() == "97 %"  # put back, so OK stays possible
    assert _ok(dialog).isEnabled()
    _cell(dialog, "sms", "deliver").setText("95")
    assert dialog.error_label.isHidden()
    assert dialog.preferences().simulation.channels == {"sms": {"deliver": 0.95}}
    dialog.database.setText("nonsense://")
    assert not _ok(dialog).isEnabled()
    assert dialog.error_label.text().startswith("database:")
    assert "cannot open" in dialog.error_label.text()
    dialog.database.clear()
    assert _ok(dialog).isEnabled() and dialog.error_label.isHidden()


def test_the_language_note_says_it_applies_after_a_restart(qtbot):
    dialog = SettingsDialog(Preferences())
    qtbot.addWidget(dialog)
    assert "next time Voronka starts" in dialog.language_note.text()


def test_cheap_settings_apply_live_and_cancel_puts_them_back(qtbot, window):
    dialog = window.show_settings()
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.grid_visible.setChecked(False)
    dialog.snap.setChecked(False)
    dialog.grid_size.setValue(50)
    dialog.autosave.setValue(30)
    assert window.scene.theme.name == "dark" and window.act_dark.isChecked()
    assert (window.scene.grid_visible, window.scene.snap, window.scene.grid_size) == (
        False,
        False,
        50,
    )
    assert window.document._autosave_timer.interval() == 30_000
    dialog.reject()
    assert window.scene.theme.name == "light" and not window.act_dark.isChecked()
    assert (window.scene.grid_visible, window.scene.snap, window.scene.grid_size) == (
        True,
        True,
        20,
    )
    assert preferences.load() == Preferences()  # nothing was saved


def test_restore_defaults_keeps_the_recent_files(qtbot, tmp_path):
    preferences.remember_recent(tmp_path / "mine.json")
    preferences.update(theme="dark", grid_size=60)
    dialog = SettingsDialog(preferences.load())
    qtbot.addWidget(dialog)
    dialog.restore_defaults()
    _ok(dialog).click()
    saved = preferences.load()
    assert saved.theme == "light" and saved.grid_size == 20
    assert saved.recent_files == [str((tmp_path / "mine.json").resolve())]


def test_new_windows_start_with_the_saved_settings(qtbot, document, monkeypatch):
    preferences.update(theme="dark", grid_visible=False, snap_to_grid=False, autosave_seconds=9)
    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    window = MainWindow(document)
    qtbot.addWidget(window)
    assert window.scene.theme.name == "dark" and not window.scene.grid_visible
    assert not window.scene.snap and window.document._autosave_timer.interval() == 9000


def test_the_simulation_dock_starts_from_the_saved_defaults(qtbot, document, tmp_path):
    base = tmp_path / "shop.sqlite3"
    preferences.update(
        database=str(base),
        simulation=SimulationDefaults(
            horizon_days=60, seed=7, replications=5, channels={"sms": {"clicked": 0.12}}
        ),
    )
    document.set_simulation_assumptions(Assumptions(channels={"sms": {"purchase": 0.03}}), "Set")
    panel = SimulationPanel(document)
    qtbot.addWidget(panel)
    assert panel.database() == f"sqlite:///{base}"
    assert (panel.horizon_spin.value(), panel.seed_spin.value()) == (60, 7)
    assert panel.replications_spin.value() == 5
    # the funnel's own figures win; the user's defaults fill the rest
    request = panel.build_request()
    assert request.assumptions.channels == {"sms": {"clicked": 0.12, "purchase": 0.03}}
