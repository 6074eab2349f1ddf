"""The trial table's right-click menu: copy a trial's configuration or details, put its model on
the pad, start a new search from it, or go back to the project's best model. Qt only: each action
calls the window's own method."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

from tuner_app.formatting import trial_label
from tuner_app.gui.trial_model import configuration_text, trial_details
from tuner_app.trial_models import has_checkpoint

if TYPE_CHECKING:
    from tuner_app.gui.main_window import MainWindow
    from tuner_app.records import TrialRecord


def build_trial_menu(window: MainWindow, trial: TrialRecord) -> QMenu:
    menu = QMenu(window)
    copy = menu.addAction("Copy configuration (JSON)")
    copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(configuration_text(trial)))
    details = menu.addAction("Copy details")
    details.triggered.connect(lambda: QGuiApplication.clipboard().setText(trial_details(trial)))
    menu.addSeparator()
    snapshot = window.snapshot
    pad = menu.addAction(f"Use {trial_label(trial.trial_id)}'s model on the pad")
    pad.setEnabled(
        snapshot is not None
        and trial.status == "completed"
        and has_checkpoint(snapshot.project_dir, trial.trial_id)
    )
    pad.triggered.connect(lambda: window.open_trial_model(trial.trial_id))
    again = menu.addAction(f"New search starting from {trial_label(trial.trial_id)}'s configuration")
    again.setEnabled(snapshot is not None and bool(trial.hyperparameters))
    again.triggered.connect(lambda: window.start_from_trial(trial))
    best = menu.addAction("Use the project's best model on the pad")
    best.setEnabled(snapshot is not None and snapshot.best_model_path is not None)
    best.triggered.connect(window.use_best_model)
    return menu
