"""The main window: wires the form, the runner, the store follower, the table, the plots and the pad.

Why the window holds no search logic: every number it shows comes from a SearchSnapshot folded by
the core's ResultsReader, whether the search runs in this process (SearchThread) or anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QWidget,
)

from tuner_app.config import SearchConfig
from tuner_app.formatting import trial_label
from tuner_app.gui import dialogs, exports
from tuner_app.gui.column_fit import ColumnFitter
from tuner_app.gui.follower import ProjectFollower
from tuner_app.gui.launch_form import WINDOW_PROJECT_ROOT, LaunchForm
from tuner_app.gui.loaders import DeviceProbe, ModelLoader
from tuner_app.gui.pad_models import PadModels
from tuner_app.gui.pad_panel import PadPanel
from tuner_app.gui.plots import PlotCanvas
from tuner_app.gui.runner import SearchProcess, SearchThread, make_runner
from tuner_app.gui.status import status_details, status_text
from tuner_app.gui.trial_menu import build_trial_menu
from tuner_app.gui.trial_model import (
    FIXED_HEAD,
    SCORE,
    TRIAL_ID_ROLE,
    TrialTableModel,
    make_sort_proxy,
    trial_details,
)
from tuner_app.gui.view_tabs import ShownData, ViewTabs
from tuner_app.results import ResultsError, SearchSnapshot, check_project_folder


def _scrolling(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


def initial_size(available: QSize) -> tuple[int, int]:
    """1560x960 where it fits, else the screen's available area (a 1366x768 laptop gets all of it)."""
    return min(1560, available.width()), min(960, available.height())


class MainWindow(QMainWindow):
    def __init__(self, probe_device: bool = False):
        super().__init__()
        self.setWindowTitle("tuner_app — KerasTuner on MNIST")
        self.snapshot: SearchSnapshot | None = None
        self.search_runner: SearchThread | SearchProcess | None = None
        self._selection: list[str] = []
        self._before_start: Path | None = None
        self._closing = False  # the user closed the window: it goes once the search has stopped
        self.errors: list[str] = []  # unexpected errors reported (errors.ErrorReporter, the follower)

        self.follower = ProjectFollower(self)
        self.follower.changed.connect(self.on_snapshot)
        self.follower.failed.connect(self.report_error)
        self.form = LaunchForm()
        self.form.start_requested.connect(self.start_search)
        self.form.stop_requested.connect(self.stop_search)
        self.pad_panel = PadPanel()
        self.pad_models = PadModels(self.pad_panel, self)
        self.pad_models.message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        self.table_model = TrialTableModel(self)
        self.proxy = make_sort_proxy(self.table_model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.sortByColumn(FIXED_HEAD.index(SCORE), Qt.SortOrder.DescendingOrder)  # best first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.column_fitter = ColumnFitter(self.table, self.table_model)  # widths follow the text
        self.table.verticalHeader().hide()
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._table_menu)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select a trial to see its whole configuration, timing and error.")
        tabs = self.tabs = ViewTabs(self._shown)
        # The views under the names they had before view_tabs.py (tests and benchmarks use them).
        self.curves, self.curves_view, self.progress = tabs.curves, tabs.curves_view, tabs.progress
        self.parallel, self.importance, self.slices = tabs.parallel, tabs.importance, tabs.slices
        self.weight_decay, self.examination = tabs.weight_decay, tabs.examination
        self.curves_view.compare_best.clicked.connect(lambda: self.select_trials(self._best_ids(5)))
        self.parallel.range_selected.connect(self.select_trials)
        self.examination.digit_chosen.connect(self.put_on_pad)
        self._build_layout()
        self._build_menus()
        self.device_label = QLabel("device: named by the search when it starts")
        self.state_label = QLabel("No project open")
        self.statusBar().addWidget(self.state_label, 1)
        self.statusBar().addPermanentWidget(self.device_label)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.hide()
        self.statusBar().addPermanentWidget(self.error_label)
        self._clock = QTimer(self)
        self._clock.timeout.connect(self._update_status)
        self._clock.start(1000)
        self.probe: DeviceProbe | None = None
        if probe_device:
            self.probe = DeviceProbe(self)
            self.probe.found.connect(lambda text: self.device_label.setText(f"device: {text}"))
            self.probe.start()
        self.tabs.refresh_plots()

    def _build_layout(self) -> None:
        """Splitters and scroll areas, so nothing overlaps from 1280x720 up (tests/gui/test_fit.py):
        the form and the pad share a tabbed column that scrolls when the screen is short; the table
        (with its details beside it) and the plots share the rest through splitters."""
        self.side = QTabWidget()
        self.side.addTab(_scrolling(self.form), "New search")
        self.side.addTab(_scrolling(self.pad_panel), "Drawing pad")
        self.side.setMinimumWidth(300)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.table)
        top.addWidget(self.details)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        top.setSizes([640, 240])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top)
        right.addWidget(self.tabs)
        right.setSizes([260, 420])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.side)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        main.setSizes([440, 1000])
        self.setCentralWidget(main)
        self.resize(*initial_size(self.screen().availableGeometry().size()))

    def _action(self, menu, text: str, slot, shortcut: QKeySequence | str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open project…", self._ask_project, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open &model…", self._ask_model, "Ctrl+M")
        file_menu.addSeparator()
        self._action(file_menu, "&Export results CSV…", lambda: exports.ask_export_trials(self), "Ctrl+E")
        self._action(
            file_menu, "Export per-&epoch CSV…", lambda: exports.ask_export_epochs(self), "Ctrl+Shift+E"
        )
        self._action(file_menu, "Save plot as &PNG…", lambda: exports.ask_save_png(self), "Ctrl+Shift+S")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        search_menu = self.menuBar().addMenu("&Search")
        self.start_action = self._action(search_menu, "&Start", self.form.submit, "Ctrl+R")
        self.stop_action = self._action(search_menu, "S&top", self.stop_search, "Ctrl+.")
        self.stop_action.setEnabled(False)

    # -- projects and models -------------------------------------------------------------------
    def _ask_project(self) -> None:
        start = self.follower.project_dir.parent if self.follower.project_dir else WINDOW_PROJECT_ROOT
        folder = QFileDialog.getExistingDirectory(self, "Open project folder", str(start))
        if folder:
            self.open_project(folder)

    def open_project(self, folder: str | Path) -> bool:
        """Show a finished project or follow one still being written; a dialog if unreadable."""
        if self.search_runner is not None:
            dialogs.show_error(
                self, "Search running", "Stop the running search before opening another project."
            )
            return False
        try:
            check_project_folder(folder)  # a folder without a results log is refused, with a message
        except (ResultsError, OSError) as exc:
            dialogs.show_error(self, "Cannot open project", str(exc))
            return False
        snapshot = self._follow(Path(folder))  # read once, here (reading it twice cost 0.1 s per 200 trials)
        if snapshot is not None and snapshot.config:
            self.form.fill(snapshot.config, Path(folder))  # "resume" or "again like this": one click
        return True

    def _follow(self, folder: Path) -> SearchSnapshot | None:
        self.table_model.update(SearchSnapshot(folder, {}, None, "empty", (), None, None, None, None))
        self.snapshot = None
        self._selection = []
        self.tabs.new_project()
        self.pad_models.new_project()
        self.setWindowTitle(f"tuner_app — {folder}")
        snapshot = self.follower.follow(folder)
        self._update_status()
        return snapshot

    def _ask_model(self) -> None:
        start = str(self.follower.project_dir or WINDOW_PROJECT_ROOT)
        path, _ = QFileDialog.getOpenFileName(
            self, "Open model", start, "Keras models (*.keras);;All files (*)"
        )
        if path:
            self.open_model(path)

    def open_model(self, path: str | Path, from_user: bool = True, label: str | None = None) -> None:
        """Load a model for the pad off the GUI thread (PadModels.open_model); returns at once."""
        self.pad_models.open_model(path, from_user, label)

    def open_trial_model(self, trial_id: str) -> None:
        """The pad uses this trial's model, rebuilt from its checkpoint (PadModels.open_trial_model)."""
        self.pad_models.open_trial_model(self.snapshot, trial_id)

    def use_best_model(self) -> None:
        """Back to the open project's best model (and follow it as it improves)."""
        self.pad_models.use_best_model(self.snapshot)

    def model_loading(self) -> bool:
        return self.pad_models.model_loading()

    @property
    def model_loaders(self) -> list[ModelLoader]:
        """The pad's loader threads still running."""
        return self.pad_models.model_loaders

    # -- search --------------------------------------------------------------------------------
    def start_search(self, config: SearchConfig) -> None:
        if self.search_runner is not None:
            return
        self._before_start = self.follower_folder()  # shown again if this start fails
        self.search_runner = make_runner(config, self)
        self.search_runner.failed.connect(self._search_failed)
        self.search_runner.finished.connect(self._search_ended)
        self.form.set_running(True)
        self.start_action.setEnabled(False)
        self.stop_action.setEnabled(True)
        self._follow(Path(config.project_dir))
        self.state_label.setText("Starting search: loading TensorFlow and MNIST…")
        self.search_runner.start()

    def stop_search(self) -> None:
        if self.search_runner is not None:
            self.search_runner.cancel()
            self.state_label.setText("Stopping after the current epoch (finished trials are kept)…")

    def _search_failed(self, title: str, message: str) -> None:
        dialogs.show_error(self, title, message)

    def _search_ended(self) -> None:
        runner, self.search_runner = self.search_runner, None
        if runner is not None:
            runner.wait(5000)  # a QThread emits `finished` just before it ends: let it end
        self.form.set_running(False)
        self.start_action.setEnabled(True)
        self.stop_action.setEnabled(False)
        self.follower.poll()  # fold in the last events now rather than at the next tick
        previous, self._before_start = self._before_start, None
        nothing_ran = self.snapshot is None or self.snapshot.started_at is None
        if nothing_ran and previous is not None and not self._closing:
            self._follow(previous)  # a start that failed keeps the project that was open
        if self._closing:
            if self.isVisible():
                self.close()  # the close the user asked for, now that the search has stopped
            return
        self.tabs.refresh_plots()
        self._update_status()

    # -- display -------------------------------------------------------------------------------
    def on_snapshot(self, snapshot: SearchSnapshot) -> None:
        self.snapshot = snapshot
        self.table_model.update(snapshot)
        self.tabs.load_space(snapshot)
        self._show_details()
        self.examination.show_project(snapshot)
        if snapshot.device:
            self.device_label.setText(f"device: {snapshot.device}")
        self.tabs.schedule_plots()
        self._update_status()
        self.pad_models.maybe_load_best_model(snapshot)

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        self._selection = [self.proxy.data(index, TRIAL_ID_ROLE) for index in rows]
        self._show_details()
        self.tabs.refresh_plots()

    def _trial(self, trial_id: str | None):
        if self.snapshot is None or trial_id is None:
            return None
        return next((t for t in self.snapshot.trials if t.trial_id == trial_id), None)

    def _show_details(self) -> None:
        trials = [t for t in (self._trial(i) for i in self._selection) if t is not None]
        text = "\n\n".join(trial_details(t) for t in trials)
        if text != self.details.toPlainText():
            self.details.setPlainText(text)

    def _table_menu(self, point: QPoint) -> None:
        index = self.table.indexAt(point)
        trial = self._trial(self.proxy.data(index, TRIAL_ID_ROLE)) if index.isValid() else None
        if trial is not None:
            self.trial_menu(trial).exec(self.table.viewport().mapToGlobal(point))

    def trial_menu(self, trial) -> QMenu:
        """The table's right-click menu for one trial (built apart so tests can trigger its actions)."""
        return build_trial_menu(self, trial)

    def start_from_trial(self, trial) -> None:
        """Fill the form for a new search like this project's that tries `trial`'s configuration first."""
        settings = self.snapshot.config if self.snapshot is not None else {}
        self.form.start_from(settings, trial.user_hyperparameters(), f"{trial_label(trial.trial_id)}'s")
        self.side.setCurrentIndex(0)

    def put_on_pad(self, image, caption: str) -> None:
        """A digit from the gallery on the pad, classified at once; the pad's tab comes forward."""
        self.pad_panel.pad.set_digit(image)
        self.side.setCurrentIndex(1)
        self.statusBar().showMessage(f"On the pad: {caption}", 10_000)

    def _best_ids(self, count: int) -> list[str]:
        return [t.trial_id for t in self.snapshot.best(count)] if self.snapshot else []

    def select_trials(self, trial_ids: list[str]) -> None:
        """Select these trials' rows in the table (the plots and the details follow the selection)."""
        selection = QItemSelection()
        wanted = set(trial_ids)
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if self.proxy.data(index, TRIAL_ID_ROLE) in wanted:
                selection.select(index, index)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().select(selection, flags)

    def current_canvas(self) -> PlotCanvas:
        return self.tabs.current_canvas()

    def _shown(self) -> ShownData:
        """What the plot tabs draw: the snapshot, the selected trials, the follower's version."""
        return self.snapshot, self._selection, self.follower_version()

    def follower_folder(self) -> Path | None:
        return self.follower.project_dir

    def follower_version(self) -> int:
        return self.follower.version

    def _update_status(self) -> None:
        if self.search_runner is not None and self.snapshot is None:
            return  # keep "Starting search…" until the first event
        snapshot = self.snapshot
        self.state_label.setText(status_text(snapshot))
        self.state_label.setToolTip(status_details(snapshot))

    # -- export (tuner_app.gui.exports) ----------------------------------------------------------
    def export_csv(self, path: str | Path) -> None:
        exports.export_trials(self, path)

    def export_epochs(self, path: str | Path) -> None:
        exports.export_epochs(self, path)

    # -- errors and closing --------------------------------------------------------------------
    def report_error(self, summary: str, details: str = "") -> None:
        """An unexpected error (a slot that raised, a failed poll): shown here, traceback on stderr."""
        self.errors.append(summary)
        count = len(self.errors)
        self.error_label.setText(f"{count} error{'s' if count > 1 else ''}: {summary}")
        self.error_label.setToolTip(details or summary)
        self.error_label.show()
        self.statusBar().showMessage(f"Error: {summary} (details on stderr)", 30_000)

    def closeEvent(self, event: QCloseEvent) -> None:
        """With a search running: stop it (after its current epoch, finished trials kept) and close
        when it has ended, the event loop running meanwhile. Otherwise stop what runs beside the loop.

        Why not wait here: an epoch can take minutes, and a window blocked in closeEvent neither
        repaints nor says what it is waiting for.
        """
        if self.search_runner is not None:
            event.ignore()
            if not self._closing:
                self._start_closing()
                self.search_runner.cancel()
            self.form.setEnabled(False)
            self.start_action.setEnabled(False)
            self.stop_action.setEnabled(False)
            message = "Closing: stopping the search after the current epoch (finished trials are kept)…"
            self.state_label.setText(message)
            self.statusBar().showMessage(message)
            return
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the timers and wait for every process and thread the window started.

        Called when the window closes and by the app once its event loop has ended (a quit that did
        not go through closeEvent): a QThread still running when Qt deletes it aborts the process.
        """
        self._start_closing()
        self.follower.stop()
        self._clock.stop()
        self.tabs.stop_plot_timer()
        runner = self.search_runner
        if runner is not None:
            runner.cancel()
            runner.wait()
        if self.probe is not None:
            self.probe.wait()
        self.pad_models.wait_for_loaders()
        self.tabs.shutdown()

    def _start_closing(self) -> None:
        """The window is going: the pad starts no new load of the project's best model."""
        self._closing = True
        self.pad_models.closing = True
