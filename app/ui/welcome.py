"""The welcome screen: what a newcomer sees when Voronka starts without a file.

Left, the ways in that need no reading: a new empty funnel, Open…, the recent files (a missing
one is greyed and can be removed). Right, the template gallery: every bundled example with a
thumbnail drawn by the real canvas, its name and one sentence; the five funnel types by goal
come first. A template opens as an untitled copy, so saving asks where and the template stays
as shipped. When there is no contact database yet, a banner offers to create the demo one.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLocale, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeyEvent, QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import preferences
from app.document import EditorDocument
from app.engine.db.demo import DemoReport
from app.engine.serialization import ScenarioFileError, load_scenario
from app.gallery import Template, templates
from app.i18n import current_language
from app.ui import demo_database, help
from app.ui.demo_database import DemoDatabaseJob, missing_default_database
from app.ui.main_window import (
    MainWindow,
    apply_to_open_windows,
    is_bundled_template,
    open_document_window,
)
from app.ui.settings_dialog import SettingsDialog
from app.ui.thumbnails import thumbnail

THUMBNAIL = QSize(260, 140)
SPACING = 18
PATH_ROLE = Qt.ItemDataRole.UserRole
GOAL_TITLES = {
    "qualification": QT_TRANSLATE_NOOP("Welcome", "Qualification"),
    "pre_sales": QT_TRANSLATE_NOOP("Welcome", "Pre-sales"),
    "active_base": QT_TRANSLATE_NOOP("Welcome", "Active base"),
    "win_back": QT_TRANSLATE_NOOP("Welcome", "Win-back"),
    "post_sales": QT_TRANSLATE_NOOP("Welcome", "Post-sales"),
}
ACCENT = "#2F80ED"
MUTED = "#5F6B7A"
STYLE = f"""
#welcome {{ background: #FFFFFF; }}
#sidebar {{ background: #F3F5F8; border-right: 1px solid #E1E5EB; }}
#brand {{ color: #1F2430; }}
#tagline, .muted {{ color: {MUTED}; }}
#section {{ color: {MUTED}; font-weight: bold; letter-spacing: 1px; }}
#primary {{
    background: {ACCENT}; color: white; border: none; border-radius: 6px;
    padding: 9px 14px; font-weight: bold; text-align: left;
}}
#primary:hover {{ background: #1F6FD9; }}
#secondary {{
    background: white; color: #1F2430; border: 1px solid #CDD3DC; border-radius: 6px;
    padding: 8px 14px; text-align: left;
}}
#secondary:hover {{ border-color: {ACCENT}; }}
#link {{ color: {ACCENT}; border: none; background: transparent; text-align: left;
    padding: 2px 0; }}
#link:hover {{ text-decoration: underline; }}
#recent {{ background: transparent; border: none; }}
#recent::item {{ border-radius: 6px; padding: 2px; }}
#recent::item:hover {{ background: #E6EBF2; }}
#recent::item:selected {{ background: #DCE7F9; color: #1F2430; }}
#card {{ background: white; border: 1px solid #E1E5EB; border-radius: 10px; }}
#card:hover, #card:focus {{ border: 1px solid {ACCENT}; }}
#thumb {{ border: none; border-top-left-radius: 10px; border-top-right-radius: 10px;
    background: #F7F8FA; }}
#badge {{ color: white; border-radius: 4px; padding: 1px 6px; font-size: 11px;
    font-weight: bold; }}
#banner {{ background: #EEF4FE; border: 1px solid #C9DAF8; border-radius: 8px; }}
#banner_done {{ background: #EAF6EC; border: 1px solid #BFE3C6; border-radius: 8px; }}
"""
BADGE_COLOURS = {
    "qualification": "#00838F",
    "pre_sales": "#6A1B9A",
    "active_base": "#1565C0",
    "win_back": "#EF6C00",
    "post_sales": "#2E7D32",
}


class TemplateCard(QFrame):
    """One template: thumbnail, goal badge, name, one sentence; click or Enter opens a copy."""

    chosen = Signal(Path)

    def __init__(self, template: Template, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.template = template
        self.setObjectName("card")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setFixedWidth(THUMBNAIL.width() + 2)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.setToolTip(self.tr("Open an untitled copy of “{name}”").format(name=template.name))
        self.thumb = QLabel()
        self.thumb.setObjectName("thumb")
        self.thumb.setFixedSize(THUMBNAIL)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = QLabel(template.name)
        self.name.setWordWrap(True)
        font = self.name.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.05)
        self.name.setFont(font)
        self.summary = QLabel(template.summary)
        self.summary.setWordWrap(True)
        self.summary.setProperty("class", "muted")
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        text = QVBoxLayout()
        text.setContentsMargins(14, 10, 14, 14)
        text.setSpacing(5)
        if template.goal:
            badge = QLabel(
                QCoreApplication.translate("Welcome", GOAL_TITLES[template.goal]).upper()
            )
            badge.setObjectName("badge")
            badge.setStyleSheet(f"background: {BADGE_COLOURS[template.goal]}")
            row = QHBoxLayout()
            row.addWidget(badge)
            row.addStretch(1)
            text.addLayout(row)
        text.addWidget(self.name)
        text.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(0)
        layout.addWidget(self.thumb)
        layout.addLayout(text, 1)

    def set_thumbnail(self, pixmap: QPixmap) -> None:
        self.thumb.setPixmap(pixmap)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        inside = self.rect().contains(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and inside:
            self.chosen.emit(self.template.path)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.chosen.emit(self.template.path)
            return
        super().keyPressEvent(event)


class CardGrid(QWidget):
    """Cards in as many columns as fit the width (reflowed when the window is resized)."""

    def __init__(self, cards: list[TemplateCard], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards = cards
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(SPACING)
        self.grid.setVerticalSpacing(SPACING)
        self.columns = 0
        self.setMinimumWidth(THUMBNAIL.width() + 2)
        self._reflow(3)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        card = THUMBNAIL.width() + 2
        self._reflow(max(1, (self.width() + SPACING) // (card + SPACING)))

    def _reflow(self, columns: int) -> None:
        if columns == self.columns:
            return
        for card in self.cards:
            self.grid.removeWidget(card)
        for column in range(max(columns, self.columns) + 1):
            self.grid.setColumnStretch(column, 0)
        for index, card in enumerate(self.cards):
            self.grid.addWidget(card, index // columns, index % columns)
        self.grid.setColumnStretch(columns, 1)  # cards stay left, the space goes right
        self.columns = columns


class RecentRow(QWidget):
    """A recent file: its name, its folder; a missing file is greyed with a Remove button."""

    remove_requested = Signal(Path)

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.missing = not path.exists()
        name = QLabel(path.name)
        font = name.font()
        font.setBold(not self.missing)
        name.setFont(font)
        folder = QLabel("File not found — moved or deleted" if self.missing else str(path.parent))
        folder.setProperty("class", "muted")
        small = folder.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        folder.setFont(small)
        folder.setToolTip(str(path))
        folder.setMinimumWidth(10)
        folder.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        text = QVBoxLayout()
        text.setContentsMargins(0, 0, 0, 0)
        text.setSpacing(0)
        text.addWidget(name)
        text.addWidget(folder)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 5, 4, 5)
        layout.addLayout(text, 1)
        self.remove_button: QToolButton | None = None
        if self.missing:
            name.setEnabled(False)
            self.remove_button = QToolButton()
            self.remove_button.setText(self.tr("Remove"))
            self.remove_button.setAutoRaise(True)
            self.remove_button.setToolTip(self.tr("Remove it from the recent files"))
            self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.path))
            layout.addWidget(self.remove_button)
        self.setToolTip(str(path))


class DemoBanner(QFrame):
    """Offers the demo contact database; after it is made, says what is in it."""

    create_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.text = QLabel(
            self.tr(
                "<b>No contact database yet.</b> Create a demo shop with {n} contacts, their tags "
                "and purchase histories, to simulate any template right away."
            ).format(n=QLocale().toString(demo_database.DEMO_CONTACTS))
        )
        self.text.setWordWrap(True)
        self.button = QPushButton(self.tr("Create demo database"))
        self.button.setObjectName("primary")
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.clicked.connect(self.create_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 12, 12, 12)
        layout.setSpacing(16)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)

    def show_done(self, report: DemoReport, path: Path) -> None:
        self.setObjectName("banner_done")
        self.setStyleSheet("")  # re-polish with the new object name
        numbers = QLocale()
        self.text.setText(
            self.tr(
                "<b>Demo database ready:</b> {contacts} contacts, {events} events, "
                "{products} products, in {path}."
            ).format(
                contacts=numbers.toString(report.contacts),
                events=numbers.toString(report.events),
                products=report.products,
                path=path,
            )
        )
        self.button.hide()


class WelcomeWindow(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setWindowTitle(self.tr("Welcome — Voronka"))
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(STYLE)
        self.cards: list[TemplateCard] = []
        self.demo_job: DemoDatabaseJob | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._sidebar())
        layout.addWidget(self._gallery(), 1)
        self.resize(1260, 800)
        self.refresh_recent()
        self._pending = list(self.cards)
        self._thumbnail_timer = QTimer(self)
        self._thumbnail_timer.setInterval(0)
        self._thumbnail_timer.timeout.connect(self._next_thumbnail)

    # --- construction ----------------------------------------------------------------------
    def _sidebar(self) -> QWidget:
        sidebar = QFrame()
        sidebar.setObjectName("sidebar")
        sidebar.setFixedWidth(320)
        brand = QLabel(self.tr("Voronka"))
        brand.setObjectName("brand")
        font = brand.font()
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setWeight(QFont.Weight.Bold)
        brand.setFont(font)
        tagline = QLabel(self.tr("Design auto-funnels where every exit is handled."))
        tagline.setObjectName("tagline")
        tagline.setWordWrap(True)
        self.new_button = QPushButton(self.tr("+  New empty funnel"))
        self.new_button.setObjectName("primary")
        self.new_button.clicked.connect(self.new_empty)
        self.open_button = QPushButton(self.tr("Open…"))
        self.open_button.setObjectName("secondary")
        self.open_button.clicked.connect(self.open_dialog)
        for button in (self.new_button, self.open_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)

        self.recent = QListWidget()
        self.recent.setObjectName("recent")
        self.recent.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.recent.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent.itemActivated.connect(self._open_recent_item)
        self.recent.itemClicked.connect(self._open_recent_item)
        self.no_recent = QLabel(self.tr("Funnels you open or save will be listed here."))
        self.no_recent.setProperty("class", "muted")
        self.no_recent.setWordWrap(True)

        about = _link(self.tr("What is an auto-funnel?"), help.show_auto_funnel_page)
        settings = _link(self.tr("Settings…"), self.show_settings)

        layout = QVBoxLayout(sidebar)
        layout.setContentsMargins(24, 28, 20, 20)
        layout.setSpacing(10)
        layout.addWidget(brand)
        layout.addWidget(tagline)
        layout.addSpacing(14)
        layout.addWidget(self.new_button)
        layout.addWidget(self.open_button)
        layout.addSpacing(18)
        layout.addWidget(_section(self.tr("RECENT")))
        # one box takes the free height whether the list or its placeholder is shown
        recent_box = QVBoxLayout()
        recent_box.setContentsMargins(0, 0, 0, 0)
        recent_box.addWidget(self.no_recent, 0, Qt.AlignmentFlag.AlignTop)
        recent_box.addWidget(self.recent, 1)
        layout.addLayout(recent_box, 1)
        layout.addWidget(about)
        layout.addWidget(settings)
        return sidebar

    def _gallery(self) -> QWidget:
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(36, 28, 28, 36)
        layout.setSpacing(12)
        title = QLabel(self.tr("Start from a template"))
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel(
            self.tr(
                "Each template is a complete, validated funnel. It opens as an untitled copy: "
                "change anything, then save it wherever you like."
            )
        )
        subtitle.setProperty("class", "muted")
        subtitle.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        self.banner = DemoBanner()
        self.banner.create_requested.connect(self.create_demo_database)
        self.banner.setVisible(missing_default_database() is not None)
        layout.addWidget(self.banner)

        gallery = templates(language=current_language())
        by_goal = [t for t in gallery if t.goal]
        triggers = [t for t in gallery if not t.goal]
        for heading, group in (
            (self.tr("FUNNELS BY GOAL"), by_goal),
            (self.tr("TRIGGERS AND THE PRODUCT MATRIX"), triggers),
        ):
            if not group:
                continue
            layout.addSpacing(8)
            layout.addWidget(_section(heading))
            cards = [TemplateCard(template) for template in group]
            for card in cards:
                card.chosen.connect(self.open_template)
            self.cards.extend(cards)
            layout.addWidget(CardGrid(cards))
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        scroll.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget { background: white; }")
        return scroll

    # --- thumbnails: drawn one per event-loop turn, so the window shows at once ------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._pending:
            self._thumbnail_timer.start()

    def _next_thumbnail(self) -> None:
        if not self._pending:
            self._thumbnail_timer.stop()
            return
        card = self._pending.pop(0)
        try:
            image = thumbnail(card.template.path, THUMBNAIL * self.devicePixelRatioF())
        except (OSError, ScenarioFileError, UnicodeDecodeError):
            return
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        card.set_thumbnail(pixmap)

    def load_all_thumbnails(self) -> None:
        """Draw the thumbnails still pending now (screenshots and tests)."""
        while self._pending:
            self._next_thumbnail()

    # --- recent files ----------------------------------------------------------------------
    def refresh_recent(self) -> None:
        self.recent.clear()
        paths = preferences.recent_files()
        for path in paths:
            row = RecentRow(path)
            row.remove_requested.connect(self.forget_recent)
            item = QListWidgetItem()
            item.setData(PATH_ROLE, str(path))
            # a little taller than asked: a bold name's underscores must not be clipped
            item.setSizeHint(row.sizeHint() + QSize(0, 6))
            if row.missing:
                item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(item)
            self.recent.setItemWidget(item, row)
        self.recent.setVisible(bool(paths))
        self.no_recent.setVisible(not paths)

    def forget_recent(self, path: Path) -> None:
        preferences.forget_recent(path)
        self.refresh_recent()

    def recent_rows(self) -> list[RecentRow]:
        return [self.recent.itemWidget(self.recent.item(i)) for i in range(self.recent.count())]

    def _open_recent_item(self, item: QListWidgetItem) -> None:
        if item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self.open_path(Path(item.data(PATH_ROLE)))

    # --- opening ---------------------------------------------------------------------------
    def new_empty(self) -> MainWindow:
        return self._done(open_document_window(EditorDocument()))

    def open_dialog(self) -> None:
        folder = preferences.load().last_folder or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self,
            QCoreApplication.translate("MainWindow", "Open scenario"),
            folder,
            QCoreApplication.translate("MainWindow", "Voronka scenarios (*.json);;All files (*)"),
        )
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> MainWindow | None:
        if is_bundled_template(path):
            return self.open_template(path)
        try:
            document = EditorDocument.open(path)
        except ScenarioFileError as error:
            QMessageBox.critical(self, "Cannot open the file", str(error))
            self.refresh_recent()
            return None
        preferences.remember_recent(path)
        return self._done(open_document_window(document))

    def open_template(self, path: Path) -> MainWindow | None:
        """An untitled copy of the template: no path, so Save asks where."""
        try:
            scenario = load_scenario(path).scenario
        except ScenarioFileError as error:
            QMessageBox.critical(self, "Cannot open the template", str(error))
            return None
        return self._done(open_document_window(EditorDocument(scenario)))

    def _done(self, window: MainWindow) -> MainWindow:
        self.close()
        return window

    # --- settings and the demo database ----------------------------------------------------
    def show_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(preferences.load(), apply_to_open_windows, self)
        dialog.finished.connect(self._settings_closed)
        dialog.open()
        return dialog

    def _settings_closed(self) -> None:
        self.banner.setVisible(
            missing_default_database() is not None or self.banner.button.isHidden()
        )

    def create_demo_database(self) -> DemoDatabaseJob | None:
        path = missing_default_database()
        if path is None:
            self.banner.hide()
            return None
        self.banner.button.setEnabled(False)
        self.demo_job = DemoDatabaseJob(path, self)
        self.demo_job.finished.connect(lambda report: self.banner.show_done(report, path))
        self.demo_job.failed.connect(self._demo_failed)
        self.demo_job.cancelled.connect(lambda: self.banner.button.setEnabled(True))
        self.demo_job.start()
        return self.demo_job

    def closeEvent(self, event) -> None:
        # The demo job's thread must end before this window (its owner) goes: stop the work,
        # and close once it has stopped.
        if self.demo_job is not None and self.demo_job.is_running():
            self.demo_job.cancel()
            for outcome in (self.demo_job.finished, self.demo_job.failed, self.demo_job.cancelled):
                outcome.connect(self.close)
            event.ignore()
            return
        super().closeEvent(event)

    def _demo_failed(self, message: str) -> None:
        self.banner.button.setEnabled(True)
        QMessageBox.warning(self, self.tr("Cannot create the demo database"), message)


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("section")
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.85)
    label.setFont(font)
    return label


def _link(text: str, slot) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName("link")
    button.setFlat(True)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.clicked.connect(slot)
    return button


_welcome: WelcomeWindow | None = None


def show_welcome() -> WelcomeWindow:
    """The welcome screen (one per application), raised if it is already open."""
    global _welcome
    if _welcome is None:
        _welcome = WelcomeWindow()
        _welcome.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        _welcome.destroyed.connect(_forget)
    _welcome.refresh_recent()
    _welcome.show()
    _welcome.raise_()
    _welcome.activateWindow()
    return _welcome


def _forget() -> None:
    global _welcome
    _welcome = None
