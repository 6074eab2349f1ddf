"""The drawing pad's model source: which model the pad uses, each loaded off the GUI thread.

A model comes from a .keras file the user opens, a completed trial's checkpoint, or the open
project's best model, followed as it improves. The user's pick is kept until the user picks another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from tuner_app.gui import dialogs
from tuner_app.gui.loaders import ModelLoader, TrialModelLoader
from tuner_app.gui.pad_panel import NO_MODEL_HINT, PadPanel
from tuner_app.results import SearchSnapshot


class PadModels(QObject):
    """Owns the ModelLoader threads and hands the PadPanel the model of the latest request."""

    message = Signal(str)  # a line for the window's status bar

    def __init__(self, panel: PadPanel, window: QWidget):
        super().__init__(window)
        self.panel = panel
        self._window = window  # the error dialogs' parent
        self._model_from_user = False
        self._model_stamp: tuple[Path, float] | None = None
        self._model_request = 0  # only the latest load request's model reaches the pad
        self.model_loaders: list[ModelLoader] = []
        self.closing = False  # the window is going: no new load of the project's best model

    def new_project(self) -> None:
        """Another project is open: its best model is loaded when it has one (unless the user picked one)."""
        self._model_stamp = None  # the pad keeps its model until this project saves a better one

    def open_model(self, path: str | Path, from_user: bool = True, label: str | None = None) -> None:
        """Load a model for the pad in a ModelLoader thread; a dialog if it cannot be used.

        Returns at once: the pad gets the model (or the user a dialog) when the thread is done.
        """
        self._model_request += 1
        self._start_loader(ModelLoader(path, from_user, self._model_request, self, label=label))

    def open_trial_model(self, snapshot: SearchSnapshot | None, trial_id: str) -> None:
        """The pad uses this trial's model, rebuilt from its checkpoint; the user's choice: kept
        until the user picks another (opening a project or a better best model does not replace it)."""
        if snapshot is None:
            return
        family, space = str(snapshot.config.get("family", "")), str(snapshot.config.get("space", "full"))
        self._model_request += 1
        self._start_loader(
            TrialModelLoader(snapshot.project_dir, trial_id, family, space, self._model_request, self)
        )

    def use_best_model(self, snapshot: SearchSnapshot | None) -> None:
        """Back to the open project's best model (and follow it as it improves)."""
        self._model_from_user = False
        self._model_stamp = None
        if snapshot is not None:
            self.maybe_load_best_model(snapshot)

    def _start_loader(self, loader: ModelLoader) -> None:
        loader.loaded.connect(self._model_loaded)
        loader.failed.connect(self._model_failed)
        loader.finished.connect(self._loader_done)  # bound slots run on the GUI thread (queued)
        self.model_loaders.append(loader)
        self.panel.model_label.setText(f"Loading model {loader.label}…")
        loader.start()

    def model_loading(self) -> bool:
        return bool(self.model_loaders)

    def _model_loaded(self, model: Any, path: str) -> None:
        loader = self.sender()
        if not isinstance(loader, ModelLoader) or loader.request != self._model_request:
            return  # a newer request supersedes this one
        self._model_from_user = loader.from_user or self._model_from_user
        self.panel.set_model(model, path, loader.label)
        self.message.emit(f"Pad: now using {loader.label}")

    def _model_failed(self, path: str, message: str) -> None:
        loader = self.sender()
        if isinstance(loader, ModelLoader) and loader.request == self._model_request:
            name = self.panel.model_name
            self.panel.model_label.setText(f"Model: {name}" if name else NO_MODEL_HINT)
        dialogs.show_error(self._window, "Cannot open model", message)

    def _loader_done(self) -> None:
        loader = self.sender()
        if loader in self.model_loaders:
            self.model_loaders.remove(loader)
        loader.deleteLater()

    def maybe_load_best_model(self, snapshot: SearchSnapshot) -> None:
        """Use the project's best model once the engine saved it, unless the user picked one."""
        if self.closing or any(loader.from_user for loader in self.model_loaders):
            return  # closing, or the user's pick, still loading, wins
        # The replicates' ensemble when the best trial has them (it tests better than any one of
        # them), else the best model; both inside the opened folder, even for a moved project.
        ensemble = snapshot.ensemble_model_path
        path = ensemble if ensemble is not None and ensemble.is_file() else snapshot.best_model_path
        if self._model_from_user or path is None or not path.is_file():
            return
        mtime = path.stat().st_mtime
        if (path, mtime) != self._model_stamp:
            self._model_stamp = (path, mtime)
            trial = snapshot.test.get("trial_id") if snapshot.test else None
            what = "ensemble" if path == ensemble else "best model"
            label = f"{what} of {snapshot.project_dir.name}" + (f" (trial {trial})" if trial else "")
            self.open_model(path, from_user=False, label=label)

    def wait_for_loaders(self) -> None:
        """Wait for every loader thread still running (a QThread deleted while running aborts)."""
        for loader in list(self.model_loaders):
            loader.wait()
