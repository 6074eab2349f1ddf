"""File > Export results CSV, Export per-epoch CSV and Save plot as PNG: the dialogs and their
error messages around tuner_app.report's writers and a canvas's PNG. Qt only, no search logic."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from tuner_app.gui import dialogs
from tuner_app.report import write_epochs_csv, write_trials_csv

if TYPE_CHECKING:
    from tuner_app.gui.main_window import MainWindow


def _ask_csv_path(window: MainWindow, title: str, name: str) -> str | None:
    """A CSV path chosen in the project's folder, or None (nothing to export, or cancelled)."""
    if window.snapshot is None or not window.snapshot.trials:
        dialogs.show_error(window, "Nothing to export", "Open a project with at least one trial first.")
        return None
    start = str(window.snapshot.project_dir / name)
    path, _ = QFileDialog.getSaveFileName(window, title, start, "CSV (*.csv)")
    return path or None


def ask_export_trials(window: MainWindow) -> None:
    path = _ask_csv_path(window, "Export results CSV", "trials-export.csv")
    if path:
        export_trials(window, path)


def export_trials(window: MainWindow, path: str | Path) -> None:
    try:
        write_trials_csv(window.snapshot, Path(path))
    except OSError as exc:
        dialogs.show_error(window, "Cannot export", str(exc))


def ask_export_epochs(window: MainWindow) -> None:
    path = _ask_csv_path(window, "Export per-epoch CSV", "epochs.csv")
    if path:
        export_epochs(window, path)


def export_epochs(window: MainWindow, path: str | Path) -> None:
    try:
        rows = write_epochs_csv(window.snapshot, Path(path))
    except OSError as exc:
        dialogs.show_error(window, "Cannot export", str(exc))
        return
    window.statusBar().showMessage(f"{rows} epochs written to {path}", 10_000)


def ask_save_png(window: MainWindow) -> None:
    folder = window.snapshot.project_dir if window.snapshot is not None else Path.home()
    name = window.tabs.tabText(window.tabs.currentIndex()).lower().replace(" ", "-")
    path, _ = QFileDialog.getSaveFileName(
        window, "Save plot as PNG", str(folder / f"{name}.png"), "PNG images (*.png)"
    )
    if path:
        try:
            window.current_canvas().save_png(path)
        except (OSError, ValueError) as exc:
            dialogs.show_error(window, "Cannot save plot", str(exc))
