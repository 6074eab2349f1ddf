"""Threads that keep slow work off the GUI thread: naming the device, loading a model for the pad."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QThread, Signal

from tuner_app.data import IMAGE_SHAPE
from tuner_app.predict import ModelLoadError, load_model, predict_probabilities


class DeviceProbe(QThread):
    """Names the device off the GUI thread. Off by default: importing TensorFlow in the window's
    process measured 0.7 s event-loop stalls even from a thread; the search's snapshot names it."""

    found = Signal(str)

    def run(self) -> None:
        try:
            from tuner_app.native_logs import native_stderr_silenced

            with native_stderr_silenced():
                from tuner_app.device import configure_device

                self.found.emit(str(configure_device()))
        except Exception as exc:  # the status bar says so; nothing else depends on it
            self.found.emit(f"unknown ({type(exc).__name__})")


class ModelLoader(QThread):
    """Loads a .keras model off the GUI thread and calls it once, so the pad's first stroke is fast.

    Why: loading measured 0.3-0.9 s (5.5 s when it also imported TensorFlow) of frozen window when
    done on the GUI thread, and the window reloads the project's best model each time it improves.
    The app imports Keras before its event loop starts (tuner_app.gui.app.preload_keras), so this
    thread only reads the file and builds the model.
    """

    loaded = Signal(object, str)  # model, path
    failed = Signal(str, str)  # path, message a person can act on

    def __init__(
        self, path: str | Path, from_user: bool, request: int, parent=None, label: str | None = None
    ):
        super().__init__(parent)
        self.path, self.from_user, self.request = Path(path), from_user, request
        self.label = label or str(path)  # what the pad says its model is

    def load(self) -> Any:
        return load_model(self.path)

    def run(self) -> None:
        try:
            model = self.load()
        except ModelLoadError as exc:
            self.failed.emit(str(self.path), str(exc))
            return
        try:
            predict_probabilities(model, np.zeros(IMAGE_SHAPE, np.float32))  # warm-up (first call traces)
        except Exception as exc:  # loaded but unusable on the pad: say so rather than fail per stroke
            self.failed.emit(str(self.path), f"{self.path} cannot classify a 28x28 image: {exc}")
            return
        self.loaded.emit(model, str(self.path))


class TrialModelLoader(ModelLoader):
    """Rebuilds a completed trial's model from its hyperparameters and checkpoint (tuner_app.trial_models)."""

    def __init__(self, project_dir: Path, trial_id: str, family: str, space: str, request: int, parent=None):
        folder = project_dir / "keras_tuner" / f"trial_{trial_id}"
        super().__init__(folder, True, request, parent, label=f"trial {trial_id} (its checkpoint)")
        self.project_dir, self.trial_id, self.family, self.space = project_dir, trial_id, family, space

    def load(self) -> Any:
        from tuner_app.trial_models import load_trial_model

        return load_trial_model(self.project_dir, self.trial_id, self.family, self.space)
