"""The main window: canvas in the middle, palette, inspector, problems and minimap around it.

One window holds one document. Opening or creating a document when the current one has work
in it opens another window, so copy and paste between two funnels is a matter of two windows.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QLocale, QMimeData, QPointF, QSignalBlocker, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from app import preferences
from app.canvas.minimap import Minimap
from app.canvas.quick_search import QuickSearch
from app.canvas.scene import FunnelScene
from app.canvas.view import FunnelView
from app.document import CLIPBOARD_FORMAT, EditorDocument
from app.engine.flow import FlowFigures
from app.engine.layout import auto_layout
from app.engine.serialization import (
    ScenarioFileError,
    dumps_scenario,
    load_scenario,
    loads_scenario,
)
from app.engine.templates import money
from app.engine.validation import Severity
from app.i18n import current_language, plural
from app.preferences import Preferences
from app.resources import EXAMPLES, example_names, example_path
from app.ui import help
from app.ui.contact_preview import ContactPreviewDialog
from app.ui.inspector import InspectorWidget
from app.ui.palette import PaletteWidget
from app.ui.presentation import PresentationWindow
from app.ui.problems import ProblemsWidget
from app.ui.results_panel import ResultsPanel
from app.ui.run_comparison_dialog import RunComparisonDialog
from app.ui.settings_dialog import SettingsDialog
from app.ui.simulation_panel import SimulationPanel

CLIPBOARD_MIME = "application/x-voronka-clipboard"
# Bumped when the set of docks changes: Qt would put new docks in odd places when restoring
# a layout saved without them, so an older saved layout is ignored.
DOCK_LAYOUT_VERSION = 2

OPEN_WINDOWS: list[MainWindow] = []


class MainWindow(QMainWindow):
    def __init__(self, document: EditorDocument | None = None, theme: str | None = None):
        super().__init__()
        self.document = document or EditorDocument()
        saved = preferences.load()
        self.theme_name = theme or saved.theme
        self.scene = FunnelScene(self.document, self.theme_name)
        self.view = FunnelView(self.scene)
        self.setCentralWidget(self.view)
        self.quick_search = QuickSearch(self)
        self.flow_figures: FlowFigures | None = None  # the last simulation's, for the overlay
        self._search_target: tuple[QPointF, str | None, str | None] = (QPointF(), None, None)

        self.resize(1440, 900)  # before the docks: Qt lays their tab bars out for this size
        self._build_docks()
        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_status_bar()
        self._connect()
        self._update_title()
        self._update_counts()
        if saved.window_state:
            self.restoreState(QByteArray(saved.window_state), DOCK_LAYOUT_VERSION)
        self.apply_preferences(replace(saved, theme=self.theme_name))
        OPEN_WINDOWS.append(self)

    # --- construction ----------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.palette = PaletteWidget()
        self.inspector = InspectorWidget()
        self.inspector.set_document(self.document)
        self.problems = ProblemsWidget()
        self.problems.set_document(self.document)
        self.minimap = Minimap(self.view)
        areas = Qt.DockWidgetArea
        self.palette_dock = self._dock(
            "steps", self.tr("Steps"), self.palette, areas.LeftDockWidgetArea
        )
        self.minimap_dock = self._dock(
            "overview", self.tr("Overview"), self.minimap, areas.LeftDockWidgetArea
        )
        self.inspector_dock = self._dock(
            "inspector", self.tr("Inspector"), self.inspector, areas.RightDockWidgetArea
        )
        self.problems_dock = self._dock(
            "problems", self.tr("Problems"), self.problems, areas.BottomDockWidgetArea
        )
        self.simulation = SimulationPanel(self.document)
        self.simulation_dock = self._dock(
            "simulation", self.tr("Simulation"), self.simulation, areas.RightDockWidgetArea
        )
        self.tabifyDockWidget(self.inspector_dock, self.simulation_dock)
        self.inspector_dock.raise_()
        self.results = ResultsPanel(self.theme_name)
        self.results_dock = self._dock(
            "results", self.tr("Results"), self.results, areas.BottomDockWidgetArea
        )
        self.tabifyDockWidget(self.problems_dock, self.results_dock)
        self.problems_dock.raise_()
        self.resizeDocks(
            [self.palette_dock, self.inspector_dock], [250, 330], Qt.Orientation.Horizontal
        )
        self.resizeDocks(
            [self.palette_dock, self.minimap_dock, self.problems_dock],
            [520, 170, 150],
            Qt.Orientation.Vertical,
        )

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """`name` keys the saved layout, so it stays the same in every language."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _file_filter(self) -> str:
        return self.tr("Voronka scenarios (*.json);;All files (*)")

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(QKeySequence.keyBindings(shortcut))
        elif shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        keys = QKeySequence.StandardKey
        stack = self.document.undo_stack
        self.act_new = self._action(self.tr("&New"), self.new_document, keys.New)
        self.act_open = self._action(self.tr("&Open…"), self.open_dialog, keys.Open)
        self.act_save = self._action(self.tr("&Save"), self.save, keys.Save)
        self.act_save_as = self._action(self.tr("Save &As…"), self.save_as, keys.SaveAs)
        self.act_close = self._action(self.tr("&Close"), self.close, keys.Close)
        self.act_quit = self._action(self.tr("&Quit"), QApplication.closeAllWindows, keys.Quit)
        self.act_undo = stack.createUndoAction(self, self.tr("&Undo"))
        self.act_undo.setShortcuts(QKeySequence.keyBindings(keys.Undo))
        self.act_redo = stack.createRedoAction(self, self.tr("&Redo"))
        self.act_redo.setShortcuts([*QKeySequence.keyBindings(keys.Redo), QKeySequence("Ctrl+Y")])
        self.act_cut = self._action(self.tr("Cu&t"), self.cut, keys.Cut)
        self.act_copy = self._action(self.tr("&Copy"), self.copy, keys.Copy)
        self.act_paste = self._action(self.tr("&Paste"), self.paste, keys.Paste)
        self.act_duplicate = self._action(self.tr("D&uplicate"), self.duplicate, "Ctrl+D")
        self.act_delete = self._action(self.tr("&Delete"), self.delete_selection, keys.Delete)
        self.act_select_all = self._action(self.tr("Select &All"), self.select_all, keys.SelectAll)
        self.act_zoom_in = self._action(self.tr("Zoom &In"), self.view.zoom_in, keys.ZoomIn)
        self.act_zoom_out = self._action(self.tr("Zoom &Out"), self.view.zoom_out, keys.ZoomOut)
        self.act_fit = self._action(self.tr("&Fit All"), self.view.fit_all, "Ctrl+0")
        self.act_fit_selection = self._action(
            self.tr("Fit &Selection"), self.view.fit_selection, "Ctrl+Shift+0"
        )
        self.act_layout = self._action(
            self.tr("Auto-&Layout"),
            self.auto_layout,
            "Ctrl+L",
            self.tr("Arrange the steps left to right"),
        )
        self.act_validate = self._action(
            self.tr("&Validate"),
            self.validate_now,
            "F7",
            self.tr("Check that every exit is handled"),
        )
        self.act_add_step = self._action(
            self.tr("Add Step…"),
            self.open_quick_search_at_cursor,
            None,
            self.tr("Search step types (Tab)"),
        )
        self.act_dark = QAction(self.tr("&Dark Theme"), self, checkable=True)
        self.act_dark.setChecked(self.theme_name == "dark")
        self.act_dark.toggled.connect(lambda on: self.set_theme("dark" if on else "light"))
        self.act_simulate = self._action(
            self.tr("&Run Simulation"),
            self.run_simulation,
            "F9",
            self.tr("Simulate the funnel over the contacts"),
        )
        self.act_save_run = self._action(
            self.tr("Sa&ve Simulation Run…"),
            self.save_simulation_run,
            None,
            self.tr("Keep the last run in the contact database, with a label"),
        )
        self.act_save_run.setEnabled(False)
        self.act_compare_runs = self._action(
            self.tr("&Compare Runs…"),
            self.compare_runs,
            None,
            self.tr("Two saved runs side by side"),
        )
        self.act_present = self._action(
            self.tr("&Presentation Mode"),
            self.present,
            "F5",
            self.tr("Full screen, stage by stage (arrows; N for numbers; Esc to leave)"),
        )
        self.act_settings = self._action(
            self.tr("Se&ttings…"),
            self.show_settings,
            "Ctrl+,",
            self.tr("Language, theme, grid, database, simulation"),
        )
        self.act_shortcuts = self._action(self.tr("&Keyboard Shortcuts"), self.show_shortcuts, "F1")
        self.act_auto_funnel = self._action(
            self.tr("&What Is an Auto-Funnel?"),
            help.show_auto_funnel_page,
            None,
            self.tr("A short introduction"),
        )
        self.act_welcome = self._action(
            self.tr("&Welcome Screen"),
            self.show_welcome,
            None,
            self.tr("Templates, recent files, demo database"),
        )
        self.act_about = self._action(self.tr("&About Voronka"), self.show_about)

    def _build_menus_and_toolbar(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        file_menu.addAction(self.act_new)
        self.examples_menu = file_menu.addMenu(self.tr("New from &Example"))
        for name in example_names():
            path = example_path(name, current_language())
            action = self.examples_menu.addAction(_example_title(path))
            action.triggered.connect(lambda _=False, p=path: self.new_from_example(p))
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu(self.tr("Open &Recent"))
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        for action in (self.act_save, self.act_save_as, self.act_close):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)

        edit_menu = bar.addMenu(self.tr("&Edit"))
        for action in (
            self.act_undo,
            self.act_redo,
            None,
            self.act_cut,
            self.act_copy,
            self.act_paste,
            self.act_duplicate,
            self.act_delete,
            None,
            self.act_select_all,
            None,
            self.act_settings,
        ):
            edit_menu.addSeparator() if action is None else edit_menu.addAction(action)

        view_menu = bar.addMenu(self.tr("&View"))
        for action in (self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_fit_selection):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.act_present)
        view_menu.addAction(self.act_dark)
        view_menu.addSeparator()
        for dock in (
            self.palette_dock,
            self.minimap_dock,
            self.inspector_dock,
            self.simulation_dock,
            self.problems_dock,
            self.results_dock,
        ):
            view_menu.addAction(dock.toggleViewAction())

        funnel_menu = bar.addMenu(self.tr("F&unnel"))
        for action in (self.act_add_step, self.act_layout, self.act_validate, self.act_simulate):
            funnel_menu.addAction(action)
        funnel_menu.addAction(self.act_save_run)
        funnel_menu.addAction(self.act_compare_runs)

        help_menu = bar.addMenu(self.tr("&Help"))
        for action in (self.act_welcome, self.act_auto_funnel, self.act_shortcuts, None):
            help_menu.addSeparator() if action is None else help_menu.addAction(action)
        help_menu.addAction(self.act_about)

        toolbar = self.addToolBar(self.tr("Main"))
        toolbar.setObjectName("toolbar_main")
        toolbar.setMovable(False)
        # The menu's Undo/Redo name the step ("Undo Move ‘Wait’"); the toolbar stays short.
        stack = self.document.undo_stack
        tb_undo = self._action(self.tr("Undo"), stack.undo)
        tb_redo = self._action(self.tr("Redo"), stack.redo)
        tb_undo.setEnabled(stack.canUndo())
        tb_redo.setEnabled(stack.canRedo())
        stack.canUndoChanged.connect(tb_undo.setEnabled)
        stack.canRedoChanged.connect(tb_redo.setEnabled)
        for action in (
            self.act_new,
            self.act_open,
            self.act_save,
            None,
            tb_undo,
            tb_redo,
            None,
            self.act_add_step,
            self.act_layout,
            self.act_fit,
            self.act_validate,
            self.act_simulate,
        ):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.problems_label = QLabel()
        self.nodes_label = QLabel()
        self.zoom_label = QLabel()
        for label in (self.problems_label, self.nodes_label, self.zoom_label):
            label.setContentsMargins(8, 0, 8, 0)
            status.addPermanentWidget(label)
        status.showMessage(
            self.tr("Drag steps from the palette, or press Tab on the canvas to search.")
        )

    def _connect(self) -> None:
        doc = self.document
        # Bound methods, not lambdas: Qt drops them when this window goes, while the document
        # (and its validation timer) may outlive it.
        doc.title_changed.connect(self._update_title)
        doc.problems_changed.connect(self._update_counts)
        doc.node_added.connect(self._update_counts)
        doc.node_removed.connect(self._update_counts)
        self.view.zoom_changed.connect(self._update_counts)
        self.scene.status_message.connect(self._show_status)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.scene.connection_dropped_in_space.connect(self._connection_dropped)
        self.view.quick_search_requested.connect(self.open_quick_search)
        self.quick_search.chosen.connect(self._quick_search_chosen)
        self.palette.type_activated.connect(self._add_at_centre)
        self.problems.node_activated.connect(self.focus_node)
        self.simulation.result_ready.connect(self._show_simulation)
        self.simulation.show_numbers_changed.connect(self._toggle_flow)
        self.simulation.percentages_changed.connect(self.scene.set_flow_percent)
        self.simulation.status_message.connect(self._show_status)
        self.simulation.preview_requested.connect(self.preview_as_contact)
        self.simulation.compare_requested.connect(self.compare_runs)
        self.simulation.result_ready.connect(self._sync_save_run)
        self.simulation.run_saved.connect(self._sync_save_run)
        self.scene.flow_outdated.connect(self.simulation.mark_stale)
        self.scene.flow_outdated.connect(self.results.mark_stale)

    # --- state display ---------------------------------------------------------------------
    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    def _update_title(self, *_: object) -> None:
        self.setWindowTitle(f"{self.document.title.rstrip('*')}[*] — Voronka")
        self.setWindowModified(self.document.modified)

    def _update_counts(self, *_: object) -> None:
        problems = self.document.problems
        errors = sum(p.severity is Severity.ERROR for p in problems)
        warnings = sum(p.severity is Severity.WARNING for p in problems)
        if errors or warnings:
            counts = self.tr("{errors}, {warnings}").format(
                errors=plural(self.tr("%n error(s)", "", errors), errors),
                warnings=plural(self.tr("%n warning(s)", "", warnings), warnings),
            )
            self.problems_label.setText(f"⚠ {counts}")
        else:
            self.problems_label.setText(self.tr("✓ every exit is handled"))
        flow = sum(1 for _ in self.document.scenario.flow_nodes())
        self.nodes_label.setText(plural(self.tr("%n step(s)", "", flow), flow))
        self.zoom_label.setText(f"{QLocale().toString(round(self.view.zoom * 100))} %")

    def _selection_changed(self) -> None:
        selected = self.scene.selected_node_ids()
        self.inspector.show_node(selected[0] if len(selected) == 1 else None)

    def focus_node(self, node_id: str) -> None:
        self.scene.select_nodes([node_id])
        self.view.centre_on_node(node_id)

    # --- files -----------------------------------------------------------------------------
    def _is_pristine(self) -> bool:
        return (
            not self.document.modified
            and not self.document.scenario.nodes
            and not self.document.path
        )

    def _show_document(self, document: EditorDocument) -> MainWindow:
        if self._is_pristine():
            self.close()
        return open_document_window(document, self.theme_name)

    def new_document(self) -> None:
        self._show_document(EditorDocument())

    def new_from_example(self, path: Path) -> MainWindow | None:
        """An untitled copy of a bundled example (saving asks where)."""
        try:
            scenario = load_scenario(path).scenario
        except ScenarioFileError as error:
            QMessageBox.critical(self, self.tr("Cannot open the example"), str(error))
            return None
        return self._show_document(EditorDocument(scenario))

    def open_dialog(self) -> None:
        folder = preferences.load().last_folder or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open scenario"), folder, self._file_filter()
        )
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> MainWindow | None:
        if is_bundled_template(path):
            return self.new_from_example(path)
        try:
            document = EditorDocument.open(path)
        except ScenarioFileError as error:
            QMessageBox.critical(self, self.tr("Cannot open the file"), str(error))
            return None
        preferences.remember_recent(path)
        return self._show_document(document)

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        folder = preferences.load().last_folder or str(Path.home())
        if is_bundled_template(Path(folder) / "x.json"):
            folder = str(Path.home())
        suggested = str(Path(folder) / f"{self.document.scenario.id or 'funnel'}.json")
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save scenario"), suggested, self._file_filter()
        )
        return self._save_to(Path(path)) if path else False

    def _save_to(self, path: Path) -> bool:
        if is_bundled_template(path):
            QMessageBox.warning(
                self,
                "Templates stay as shipped",
                f"“{path.name}” is a bundled template. Save your funnel under another name or "
                "in another folder.",
            )
            return False
        try:
            self.document.save(path)
        except OSError as error:
            QMessageBox.critical(self, self.tr("Cannot save"), f"{path}: {error.strerror or error}")
            return False
        preferences.remember_recent(path)
        self.statusBar().showMessage(self.tr("Saved {path}").format(path=path), 4000)
        return True

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = preferences.recent_files(include_missing=False)
        if not paths:
            self.recent_menu.addAction(self.tr("No recent files")).setEnabled(False)
        for path in paths:
            action = self.recent_menu.addAction(str(path))
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.document.modified and not self.confirm_discard():
            event.ignore()
            return
        preferences.update(window_state=bytes(self.saveState(DOCK_LAYOUT_VERSION).data()))
        self.simulation.stop()
        self.document.discard_recovery()
        # The scene outlives this window's C++ side by a moment; its last selection change
        # must not reach a half-destroyed window.
        self.scene.selectionChanged.disconnect(self._selection_changed)
        if self in OPEN_WINDOWS:
            OPEN_WINDOWS.remove(self)
        event.accept()

    def confirm_discard(self) -> bool:
        """Ask before losing unsaved work; True when closing may go on."""
        answer = QMessageBox.question(
            self,
            self.tr("Unsaved changes"),
            self.tr("Save the changes to “{title}” before closing?").format(
                title=self.document.title.rstrip("*")
            ),
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # --- editing ---------------------------------------------------------------------------
    def copy(self) -> None:
        ids = self.scene.selected_node_ids()
        if not ids:
            return
        mime = QMimeData()
        text = self.document.copy_text(ids)
        mime.setData(CLIPBOARD_MIME, text.encode("utf-8"))
        mime.setText(text)
        QApplication.clipboard().setMimeData(mime)

    def cut(self) -> None:
        ids = self.scene.selected_node_ids()
        if ids:
            self.copy()
            with self.document.macro(plural(self.tr("Cut %n step(s)", "", len(ids)), len(ids))):
                self.document.remove(ids)

    def paste(self) -> None:
        mime = QApplication.clipboard().mimeData()
        if mime.hasFormat(CLIPBOARD_MIME):
            text = bytes(mime.data(CLIPBOARD_MIME)).decode("utf-8")
        else:
            text = mime.text()
        if CLIPBOARD_FORMAT not in text:
            self.statusBar().showMessage(self.tr("The clipboard holds no Voronka steps"), 4000)
            return
        new_ids = self.document.paste_text(text)
        self.scene.select_nodes(new_ids)

    def duplicate(self) -> None:
        ids = self.scene.selected_node_ids()
        if ids:
            self.scene.select_nodes(self.document.paste_text(self.document.copy_text(ids)))

    def delete_selection(self) -> None:
        self.document.remove(self.scene.selected_node_ids(), self.scene.selected_edges())

    def select_all(self) -> None:
        for item in self.scene.items():
            if item.flags() & item.GraphicsItemFlag.ItemIsSelectable:
                item.setSelected(True)

    def auto_layout(self) -> None:
        self.document.apply_layout(auto_layout(self.document.scenario))
        self.view.fit_all()

    def validate_now(self) -> None:
        self.document.revalidate()
        self.problems_dock.show()
        self.problems_dock.raise_()

    def set_theme(self, name: str) -> None:
        if name != preferences.load().theme:
            preferences.update(theme=name)
        self._show_theme(name)

    def _show_theme(self, name: str) -> None:
        self.theme_name = name
        if self.scene.theme.name != name:
            self.scene.set_theme(name)
            self.results.set_theme(name)
        with QSignalBlocker(self.act_dark):
            self.act_dark.setChecked(name == "dark")

    # --- preferences -----------------------------------------------------------------------
    def apply_preferences(self, chosen: Preferences) -> None:
        """Theme, grid, snapping and the recovery interval: what applies without a restart."""
        self._show_theme(chosen.theme)
        self.scene.set_grid(chosen.grid_visible, chosen.grid_size, chosen.snap_to_grid)
        self.document.set_autosave_delay(chosen.autosave_seconds)

    def show_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(preferences.load(), apply_to_open_windows, self)
        dialog.open()
        return dialog

    def show_welcome(self):
        from app.ui.welcome import show_welcome  # the welcome screen opens main windows

        return show_welcome()

    # --- simulation ------------------------------------------------------------------------
    def run_simulation(self) -> None:
        self.simulation_dock.show()
        self.simulation_dock.raise_()
        self.simulation.run()

    def _show_simulation(self, result, _population) -> None:
        self.flow_figures = FlowFigures.from_result(result, self.document.scenario)
        if self.simulation.show_numbers.isChecked():
            self.scene.set_flow(self.flow_figures)
        self.results.show_result(result, self.document.scenario.settings.currency)
        self.results_dock.show()
        self.results_dock.raise_()

    def _sync_save_run(self, *_: object) -> None:
        self.act_save_run.setEnabled(self.simulation.save_button.isEnabled())

    def save_simulation_run(self) -> int | None:
        return self.simulation.save_run()

    def compare_runs(self) -> RunComparisonDialog:
        """Stored runs of this funnel side by side, from the Simulation panel's database."""
        database = self.simulation.database()
        dialog = RunComparisonDialog(database, self.document.scenario, self.theme_name, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def preview_as_contact(self) -> ContactPreviewDialog:
        """Follow one contact through the funnel with the simulation's settings."""
        panel = self.simulation
        request = panel.build_request()
        last = panel.request
        same_base = last is not None and (last.database, last.segment) == (
            request.database,
            request.segment,
        )
        scenario = loads_scenario(dumps_scenario(self.document.scenario)).scenario
        dialog = ContactPreviewDialog(
            scenario, request, panel.population if same_base else None, self
        )
        dialog.path_chosen.connect(self.scene.select_nodes)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def present(self) -> PresentationWindow:
        """The funnel full screen for a client, with the last run's numbers if shown."""
        result = self.simulation.result
        numbers = self.flow_figures if self.simulation.show_numbers.isChecked() else None
        headline = ""
        if result is not None:
            currency = self.document.scenario.settings.currency
            locale = QLocale()
            count = locale.toString(float(result.entered), "f", 0)
            headline = self.tr("{n} contacts").format(n=count)
            if result.stages:  # the last stage is the funnel's result
                last = result.stages[-1]
                headline += " · " + self.tr("{n} reached ‘{stage}’ ({share} %)").format(
                    n=locale.toString(float(last["conversions"]), "f", 0),
                    stage=last["stage"],
                    share=locale.toString(last["from_start"] * 100, "f", 1),
                )
            revenue = money(round(result.revenue), currency)
            headline += " · " + self.tr("revenue {amount}").format(amount=revenue)
        window = PresentationWindow(
            self.document, numbers, self.scene.flow_stale, headline, parent=self
        )
        window.showFullScreen()
        window.activateWindow()
        return window

    def _toggle_flow(self, on: bool) -> None:
        stale = self.scene.flow_stale
        self.scene.set_flow(self.flow_figures if on else None, stale=stale)

    # --- quick search ----------------------------------------------------------------------
    def open_quick_search_at_cursor(self) -> None:
        self.open_quick_search(self.view.cursor_scene_pos())

    def open_quick_search(
        self, scene_pos: QPointF, source: str | None = None, exit_name: str | None = None
    ) -> None:
        self._search_target = (scene_pos, source, exit_name)
        global_pos = self.view.viewport().mapToGlobal(self.view.mapFromScene(scene_pos))
        self.quick_search.popup_at(global_pos)

    def _connection_dropped(self, scene_pos: QPointF, source: str, exit_name: str) -> None:
        self.open_quick_search(scene_pos, source, exit_name)

    def _quick_search_chosen(self, type_name: str) -> None:
        position, source, exit_name = self._search_target
        xy = (position.x(), position.y())
        if source and exit_name:
            node_id = self.document.add_connected_node(type_name, xy, source, exit_name)
        else:
            node_id = self.document.add_node(type_name, xy)
        self.scene.select_nodes([node_id])

    def _add_at_centre(self, type_name: str) -> None:
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        node_id = self.document.add_node(type_name, (centre.x(), centre.y()))
        self.scene.select_nodes([node_id])

    # --- help ------------------------------------------------------------------------------
    def show_shortcuts(self) -> help.ShortcutsDialog:
        dialog = help.ShortcutsDialog(self.menuBar(), self)
        dialog.open()
        return dialog

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About Voronka"),
            self.tr(
                "<b>Voronka</b> — design marketing auto-funnels, prove every exit is handled, "
                "simulate them and export them for runtime engines."
            ),
        )


def _example_title(path: Path) -> str:
    try:
        return load_scenario(path).scenario.name or path.stem
    except ScenarioFileError:
        return path.stem


def open_document_window(document: EditorDocument, theme: str | None = None) -> MainWindow:
    """Show a document in a new window, fitted to its steps."""
    window = MainWindow(document, theme)
    window.show()
    window.view.fit_all()
    return window


def is_bundled_template(path: Path) -> bool:
    """Files in the bundled examples folder are templates: opened as copies, never written."""
    return path.resolve().parent == EXAMPLES.resolve()


def apply_to_open_windows(chosen: Preferences) -> None:
    """Settings applied live: every open window takes them at once, and the open help page
    its language."""
    for window in list(OPEN_WINDOWS):
        window.apply_preferences(chosen)
    help.apply_language(preferences.effective_language(chosen, QLocale.system().name()))
