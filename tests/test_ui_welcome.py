"""The welcome screen: first start without a file, templates as untitled copies, recent files,
cached thumbnails, and the demo contact database (real widgets, a real SQLite file)."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QPushButton

from app import gui, preferences
from app.engine.serialization import load_scenario
from app.engine.validation import Severity, validate
from app.gallery import GOALS, first_sentence, templates
from app.resources import EXAMPLES
from app.ui import demo_database, thumbnails
from app.ui.main_window import OPEN_WINDOWS, MainWindow
from app.ui.welcome import TemplateCard, WelcomeWindow


@pytest.fixture(autouse=True)
def quiet_windows(monkeypatch):
    """No modal questions; windows the test opened are closed and the clipboard emptied."""
    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    monkeypatch.delenv("VORONKA_DB", raising=False)
    before = list(OPEN_WINDOWS)
    yield
    for window in [w for w in OPEN_WINDOWS if w not in before]:
        window.close()
    QApplication.clipboard().clear()


@pytest.fixture
def welcome(qtbot) -> WelcomeWindow:
    screen = WelcomeWindow()
    qtbot.addWidget(screen)
    screen.show()
    return screen


def _card(screen: WelcomeWindow, stem: str) -> TemplateCard:
    return next(card for card in screen.cards if card.template.path.stem == stem)


def test_starting_without_a_file_shows_the_welcome_screen(qtbot):
    editors = list(OPEN_WINDOWS)
    windows = gui.start([])
    assert len(windows) == 1 and isinstance(windows[0], WelcomeWindow)
    screen = windows[0]
    qtbot.addWidget(screen)
    assert screen.isVisible() and screen.windowTitle() == "Welcome — Voronka"
    assert editors == list(OPEN_WINDOWS)  # no empty editor behind it
    assert len(screen.cards) == len(list(EXAMPLES.glob("*.json")))


def test_starting_with_a_file_opens_it_and_no_welcome(qtbot, tmp_path):
    path = tmp_path / "mine.json"
    shutil.copy(EXAMPLES / "win_back.json", path)
    windows = gui.start([str(path)])
    assert [type(w) for w in windows] == [MainWindow]
    assert windows[0].document.path == path


def test_the_gallery_puts_the_five_funnel_types_by_goal_first():
    gallery = templates()
    assert [t.goal for t in gallery[:5]] == list(GOALS)
    assert [t.path.stem for t in gallery[:5]] == list(GOALS.values())
    assert all(t.goal is None for t in gallery[5:])
    for template in gallery:
        assert template.name and template.summary.endswith("."), template.path.stem
        assert len(template.summary) < 200, "one sentence, not the whole description"


def test_first_sentence_does_not_cut_at_abbreviations_or_decimals():
    assert first_sentence("Costs 4.5 ₽ per SMS. Then more.") == "Costs 4.5 ₽ per SMS."
    assert first_sentence("Qualifies leads, e.g. by BANT. Rest.") == (
        "Qualifies leads, e.g. by BANT."
    )
    assert first_sentence("") == ""


def test_choosing_a_template_opens_an_untitled_copy_that_validates(
    qtbot, welcome, tmp_path, monkeypatch
):
    template = EXAMPLES / "pre_sales.json"
    before = template.read_bytes()
    card = _card(welcome, "pre_sales")
    qtbot.mouseClick(card, Qt.MouseButton.LeftButton)

    window = OPEN_WINDOWS[-1]
    qtbot.addWidget(window)
    assert not welcome.isVisible()
    document = window.document
    assert document.path is None and not document.modified
    assert window.windowTitle().startswith("Pre-sales: from a hot lead")
    assert [p for p in validate(document.scenario) if p.severity is Severity.ERROR] == []
    assert document.scenario.name == load_scenario(template).scenario.name

    # Saving asks where; the template stays as shipped.
    target = tmp_path / "my_pre_sales.json"
    asked = []

    def choose(*args, **kwargs):
        asked.append(args)
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(choose))
    document.set_scenario_field("name", "My pre-sales", "Rename")
    assert window.save()
    assert asked and target.exists() and document.path == target
    assert template.read_bytes() == before


def test_a_template_cannot_be_saved_over(qtbot, welcome, monkeypatch):
    window = welcome.open_template(EXAMPLES / "abandoned_cart.json")
    qtbot.addWidget(window)
    before = (EXAMPLES / "abandoned_cart.json").read_bytes()
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    assert not window._save_to(EXAMPLES / "abandoned_cart.json")
    assert "bundled template" in warnings[0]
    assert (EXAMPLES / "abandoned_cart.json").read_bytes() == before
    # opened by path (Open…, a recent entry), a template is a copy too
    copy = welcome.open_path(EXAMPLES / "win_back.json")
    qtbot.addWidget(copy)
    assert copy.document.path is None


def test_a_card_opens_with_the_keyboard(qtbot, welcome):
    card = _card(welcome, "win_back")
    card.setFocus()
    qtbot.keyClick(card, Qt.Key.Key_Return)
    window = OPEN_WINDOWS[-1]
    qtbot.addWidget(window)
    assert window.document.scenario.id == "win_back" and window.document.path is None


def test_new_empty_funnel_opens_an_empty_editor(qtbot, welcome):
    qtbot.mouseClick(welcome.new_button, Qt.MouseButton.LeftButton)
    window = OPEN_WINDOWS[-1]
    qtbot.addWidget(window)
    assert not window.document.scenario.nodes and window.document.path is None


def test_recent_files_are_listed_and_a_missing_one_can_be_removed(qtbot, tmp_path):
    present, gone = tmp_path / "spring_sale.json", tmp_path / "old_funnel.json"
    shutil.copy(EXAMPLES / "abandoned_cart.json", present)
    gone.write_text("{}")
    preferences.remember_recent(gone)
    preferences.remember_recent(present)
    gone.unlink()
    screen = WelcomeWindow()
    qtbot.addWidget(screen)
    screen.show()

    rows = screen.recent_rows()
    assert [r.path.name for r in rows] == ["spring_sale.json", "old_funnel.json"]
    assert not rows[0].missing and rows[1].missing
    assert screen.recent.item(0).flags() & Qt.ItemFlag.ItemIsEnabled
    assert not screen.recent.item(1).flags() & Qt.ItemFlag.ItemIsEnabled
    assert rows[0].remove_button is None and rows[1].remove_button is not None

    qtbot.mouseClick(rows[1].remove_button, Qt.MouseButton.LeftButton)
    assert [r.path.name for r in screen.recent_rows()] == ["spring_sale.json"]
    assert preferences.recent_files() == [present.resolve()]

    screen.recent.itemClicked.emit(screen.recent.item(0))
    window = OPEN_WINDOWS[-1]
    qtbot.addWidget(window)
    assert window.document.path == present.resolve()


def test_no_recent_files_says_where_they_will_appear(welcome):
    assert welcome.recent.isHidden()
    assert "will be listed here" in welcome.no_recent.text()


def test_thumbnails_are_drawn_by_the_canvas_and_cached_by_content(qapp, tmp_path):
    size = QSize(260, 140)
    path = tmp_path / "funnel.json"
    shutil.copy(EXAMPLES / "abandoned_cart.json", path)
    image = thumbnails.thumbnail(path, size)
    assert image.size() == size
    colours = {image.pixelColor(x, y).name() for x in range(0, 260, 4) for y in range(0, 140, 4)}
    entry_green = QColor("#2E7D32").name()
    assert len(colours) > 5 and entry_green in colours  # cards, not a blank picture
    cached = list(thumbnails.cache_dir().glob("*.png"))
    assert len(cached) == 1
    assert cached[0] == thumbnails.cache_path(path.read_bytes(), size, "light")

    again = thumbnails.thumbnail(path, size)
    assert again == image and list(thumbnails.cache_dir().glob("*.png")) == cached

    shutil.copy(EXAMPLES / "win_back.json", path)  # new content, new picture
    thumbnails.thumbnail(path, size)
    assert len(list(thumbnails.cache_dir().glob("*.png"))) == 2


def test_the_gallery_fills_every_thumbnail(welcome):
    welcome.load_all_thumbnails()
    assert all(not card.thumb.pixmap().isNull() for card in welcome.cards)


def test_the_demo_database_is_offered_and_created_in_the_background(qtbot, monkeypatch):
    monkeypatch.setattr(demo_database, "DEMO_CONTACTS", 200)
    screen = WelcomeWindow()
    qtbot.addWidget(screen)
    screen.show()
    path = demo_database.missing_default_database()
    assert path is not None and screen.banner.isVisible()

    job = screen.create_demo_database()
    assert job.dialog.isVisible()  # the result arrives through the event loop
    with qtbot.waitSignal(job.finished, timeout=120_000):
        pass
    assert path.exists() and demo_database.missing_default_database() is None
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.scalar(sa.text("select count(*) from contacts")) == 200
    engine.dispose()
    assert "Demo database ready" in screen.banner.text.text()
    assert screen.banner.button.isHidden() and not job.dialog.isVisible()


def test_a_cancelled_demo_leaves_no_file_and_is_offered_again(qtbot, monkeypatch):
    monkeypatch.setattr(demo_database, "DEMO_CONTACTS", 200)
    screen = WelcomeWindow()
    qtbot.addWidget(screen)
    screen.show()
    path = demo_database.missing_default_database()
    job = screen.create_demo_database()
    cancel = job.dialog.findChild(QPushButton)
    assert cancel.text() == "Cancel"
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)  # before the first stage is written
    with qtbot.waitSignal(job.cancelled, timeout=120_000):
        pass
    assert not path.exists() and demo_database.missing_default_database() == path
    assert screen.banner.button.isEnabled() and not job.dialog.isVisible()


def test_no_demo_is_offered_when_a_database_was_chosen(qtbot, tmp_path):
    preferences.update(database=str(tmp_path / "crm.sqlite3"))
    screen = WelcomeWindow()
    qtbot.addWidget(screen)
    assert demo_database.missing_default_database() is None
    assert screen.banner.isHidden()


def test_help_menu_brings_the_welcome_screen_back(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    screen = window.show_welcome()
    qtbot.addWidget(screen)
    assert isinstance(screen, WelcomeWindow) and screen.isVisible()
