"""GUI test fixtures: offscreen Qt, a real CLI project, and dialogs captured instead of shown."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real finished project written by the headless CLI in another process (about 10 s)."""
    project = tmp_path_factory.mktemp("cli") / "dense-random"
    cmd = [
        sys.executable,
        "-m",
        "tuner_app.search",
        "--family",
        "dense",
        "--max-trials",
        "2",
        "--epochs",
        "2",
        "--subset",
        "3000",
        "--seed",
        "1",
        "--project-dir",
        str(project),
        "--quiet",
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (project / "best_model.keras").is_file()
    return project


@pytest.fixture(autouse=True)
def dialogs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every QMessageBox the window would show, as (title, text), without blocking (autouse: a
    modal dialog in an offscreen test would otherwise hang the run)."""
    shown: list[tuple[str, str]] = []

    def record(_parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(record))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(record))
    monkeypatch.setattr(QMessageBox, "information", staticmethod(record))
    return shown


@pytest.fixture
def window(qtbot):
    from tuner_app.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    if win.search_runner is not None:
        win.search_runner.cancel()
        win.search_runner.wait()
    if win.probe is not None:
        win.probe.wait()
    for loader in list(win.model_loaders):
        loader.wait()
