"""Preferences: one typed INI file under the data directory, tolerant of hand edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import preferences
from app.preferences import Preferences, PreferencesError, SimulationDefaults


def test_a_fresh_data_directory_gives_the_defaults(isolated_data_dir: Path) -> None:
    assert preferences.settings_file() == isolated_data_dir / "settings.ini"
    assert preferences.load() == Preferences()
    assert preferences.load().language == "system"


def test_every_setting_survives_a_save_and_a_load() -> None:
    chosen = Preferences(
        language="ru",
        theme="dark",
        grid_visible=False,
        snap_to_grid=False,
        grid_size=40,
        autosave_seconds=15,
        database="postgresql+psycopg://team:secret@db.example/crm",
        simulation=SimulationDefaults(
            horizon_days=60,
            seed=42,
            replications=20,
            channels={"sms": {"clicked": 0.12, "deliver": 0.9}, "email": {"opened": 0.35}},
        ),
        recent_files=["/tmp/a funnel.json", "/tmp/b%c.json"],
        last_folder="/tmp",
        window_state=b"\x00\x01binary\xff",
    )
    preferences.save(chosen)
    assert preferences.load() == chosen
    text = preferences.settings_file().read_text(encoding="utf-8")
    assert "[general]" in text and "language = ru" in text  # a file people can read


def test_hand_edited_nonsense_falls_back_to_defaults_per_setting() -> None:
    path = preferences.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[general]\nlanguage = klingon\ntheme = dark\n"
        "[editor]\ngrid_size = huge\nautosave_seconds = -4\nsnap_to_grid = no\n"
        "[channel.sms]\nclicked = 7\nopened = 0.8\n"
        "[database]\nurl = ://\n",
        encoding="utf-8",
    )
    loaded = preferences.load()
    assert loaded.language == "system" and loaded.theme == "dark"
    assert loaded.grid_size == 20 and loaded.autosave_seconds == 3
    assert loaded.snap_to_grid is False
    assert loaded.simulation.channels == {"sms": {"opened": 0.8}}
    assert loaded.database == ""


def test_check_names_each_bad_setting_and_save_refuses_them() -> None:
    bad = Preferences(
        language="de",
        grid_size=1,
        database="not a url://",
        simulation=SimulationDefaults(replications=0, channels={"fax": {"deliver": 0.5}}),
    )
    problems = bad.check()
    assert any(p.startswith("language:") for p in problems)
    assert any(p.startswith("grid size: 1") for p in problems)
    assert any(p.startswith("replications:") for p in problems)
    assert any(p.startswith("database:") for p in problems)
    assert any("fax" in p for p in problems)
    with pytest.raises(PreferencesError, match="language"):
        preferences.save(bad)
    assert not preferences.settings_file().exists()


def test_a_database_path_is_an_sqlite_url_and_empty_is_the_default(tmp_path: Path) -> None:
    assert Preferences().database_url() is None
    assert Preferences(database=str(tmp_path / "crm.db")).database_url() == (
        f"sqlite:///{tmp_path / 'crm.db'}"
    )
    url = "postgresql+psycopg://u:p@h/crm"
    assert Preferences(database=url).database_url() == url


def test_simulation_defaults_become_engine_assumptions() -> None:
    defaults = SimulationDefaults(channels={"email": {"purchase": 0.03}})
    assumptions = defaults.assumptions()
    assert assumptions.channels == {"email": {"purchase": 0.03}}
    _, after_message, _ = assumptions.happened_table("purchase")
    assert after_message[0] == 0.03  # e-mail is the first channel


def test_recent_files_most_recent_first_without_duplicates(tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text("{}")
    for path in (first, second, first):
        preferences.remember_recent(path)
    assert preferences.recent_files() == [first.resolve(), second.resolve()]
    assert preferences.recent_files(include_missing=False) == [first.resolve()]
    assert preferences.load().last_folder == str(tmp_path.resolve())
    preferences.forget_recent(second.resolve())
    assert preferences.recent_files() == [first.resolve()]
    for index in range(preferences.MAX_RECENT + 3):
        preferences.remember_recent(tmp_path / f"f{index}.json")
    assert len(preferences.recent_files()) == preferences.MAX_RECENT


def test_update_changes_only_what_it_names() -> None:
    preferences.update(theme="dark", grid_size=30)
    preferences.update(theme="light")
    loaded = preferences.load()
    assert (loaded.theme, loaded.grid_size) == ("light", 30)
    with pytest.raises(PreferencesError, match="colour"):
        preferences.update(colour="red")


@pytest.mark.parametrize(
    ("chosen", "system", "expected"),
    [
        ("system", "ru_RU", "ru"),
        ("system", "de_DE", "en"),
        ("en", "ru_RU", "en"),
        ("ru", "C", "ru"),
    ],
)
def test_the_effective_language_follows_the_system_unless_chosen(chosen, system, expected) -> None:
    assert preferences.effective_language(Preferences(language=chosen), system) == expected
