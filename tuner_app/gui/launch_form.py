"""The launch form: widgets -> SearchConfig, validated by the core before Start.

Why validation goes through SearchConfig.validated(): the CLI and the window accept and refuse the
same values with the same messages; the form only decides next to which field a message belongs.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from search_spaces import FAMILIES, SPACES, canonical_space
from tuner_app.backend import BACKENDS, requested_backend
from tuner_app.config import TUNERS, ConfigError, SearchConfig, parse_duration
from tuner_app.launch_checks import launch_problems

FIELDS = (
    "family", "tuner", "space", "max_trials", "epochs", "executions", "time_limit", "subset", "backend",
    "prune", "project",
)  # fmt: skip
LABELS = {
    "family": "Family",
    "tuner": "Tuner",
    "space": "Space",
    "max_trials": "Max trials",
    "epochs": "Epochs",
    "executions": "Replicates",
    "time_limit": "Time limit",
    "subset": "Data subset",
    "backend": "Keras backend",
    "prune": "Pruning",
    "project": "Project folder",
}
PRUNE_LABEL = "stop hopeless trials early (median rule)"
RESUME_LABEL = "resume the search in this folder"
#: SearchConfig field -> the form field its message is shown next to (settings the form has no
#: field for, such as the validation size, belong to the data subset or the folder).
_FIELD_OF_SETTING = {
    "time_limit_s": "time_limit",
    "project_dir": "project",
    "validation_size": "subset",
    "data_path": "subset",
    "first_trial": "tuner",
}
#: The core's messages name CLI flags; the form names its own fields (longest first).
_FLAG_WORDS = (
    ("Pass --resume", f"Tick “{RESUME_LABEL}”"),
    ("Drop --resume", f"Untick “{RESUME_LABEL}”"),
    ("with --project-dir", "in “Project folder”"),
    ("--project-dir", "Project folder"),
    ("--max-trials", "Max trials"),
    ("--executions", "Replicates"),
    ("--epochs", "Epochs"),
    ("--subset", "Data subset"),
    ("--time-limit", "Time limit"),
    ("--resume", f"“{RESUME_LABEL}”"),
    ("--prune", "Pruning"),
    ("--backend", "Keras backend"),
    ("--first-trial", "A first trial"),
    ("--tuner", "Tuner"),
)
WINDOW_PROJECT_ROOT = Path.home() / "tuner_app-projects"


def form_words(message: str) -> str:
    """A core message in the form's words: "Replicates", not "--executions"."""
    for flag, words in _FLAG_WORDS:
        message = message.replace(flag, words)
    return message


def new_project_dir(family: str, tuner: str, when: float | None = None) -> Path:
    """Where a search from the window goes when the folder is left empty: one place a user finds
    again (~/tuner_app-projects), a new dated folder each time, never wherever the app was launched."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    return WINDOW_PROJECT_ROOT / f"{family}-{tuner}-{stamp}"


class LaunchForm(QWidget):
    start_requested = Signal(object)  # a validated SearchConfig
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.family = QComboBox()
        self.family.addItems(list(FAMILIES))
        self.tuner = QComboBox()
        self.tuner.addItems(list(TUNERS))
        self.space = QComboBox()
        self.space.addItems(list(SPACES))
        self.max_trials = QLineEdit("10")
        self.epochs = QLineEdit("5")
        self.executions = QLineEdit("1")
        self.time_limit = QLineEdit()
        self.time_limit.setPlaceholderText("none, or e.g. 8h, 1h30m, 90m")
        self.subset = QLineEdit()
        self.subset.setPlaceholderText("all 60,000 images")
        self.backend = QComboBox()
        self.backend.addItems(list(BACKENDS))
        self.backend.setCurrentText(requested_backend())
        self.backend.setToolTip("TensorFlow, JAX or PyTorch run the same models; see the README's Backends")
        self.prune = QCheckBox(PRUNE_LABEL)
        self.prune.setToolTip(
            "Random, Bayesian and grid searches: a trial whose best validation accuracy after an epoch is "
            "below the median of finished trials' running averages stops there (--prune)"
        )
        self.project = QLineEdit()
        self.project.setPlaceholderText(f"empty: a new folder in {WINDOW_PROJECT_ROOT}")
        self.resume = QCheckBox(RESUME_LABEL)
        self.resume.toggled.connect(
            lambda on: self.start_button.setText("Start (resume this project)" if on else "Start")
        )
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        for name, widget in (
            ("family", self.family),
            ("tuner", self.tuner),
            ("space", self.space),
            ("max_trials", self.max_trials),
            ("epochs", self.epochs),
            ("executions", self.executions),
            ("time_limit", self.time_limit),
            ("subset", self.subset),
            ("backend", self.backend),
            ("prune", self.prune),
            ("project", self._row(self.project, browse)),
        ):
            label = LABELS[name]
            error = QLabel()
            error.setObjectName(f"error_{name}")
            error.setStyleSheet("color: #c0392b;")
            error.setWordWrap(True)
            error.hide()
            self.errors[name] = error
            column = QVBoxLayout()
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(1)
            column.addWidget(widget)
            column.addWidget(error)
            holder = QWidget()
            holder.setLayout(column)
            form.addRow(label, holder)
        form.addRow("", self.resume)
        self.first_trial: dict[str, Any] | None = None  # hyperparameters the next search tries first
        self.first_trial_label = QLabel()
        self.first_trial_label.setWordWrap(True)
        clear_first = QPushButton("Don't")
        clear_first.setToolTip("Start without this first trial")
        clear_first.clicked.connect(lambda: self.set_first_trial(None))
        self.first_trial_row = self._row(self.first_trial_label, clear_first)
        self.first_trial_row.hide()
        form.addRow(self.first_trial_row)
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.start_button.clicked.connect(self.submit)
        self.stop_button.clicked.connect(self.stop_requested)
        form.addRow(self._row(self.start_button, self.stop_button))
        self.again_button = QPushButton("Search again like this, in a new folder")
        self.again_button.setToolTip("The same settings, resume off, a new dated folder: one click")
        self.again_button.clicked.connect(self.search_again)
        self.again_button.hide()  # shown once a project's settings fill the form
        form.addRow(self.again_button)
        self.setLayout(form)

    @staticmethod
    def _row(*widgets: QWidget) -> QWidget:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            row.addWidget(widget)
        holder = QWidget()
        holder.setLayout(row)
        return holder

    def _browse(self) -> None:
        current = self.project.text().strip()
        start = Path(current).expanduser().parent if current else WINDOW_PROJECT_ROOT
        folder = QFileDialog.getExistingDirectory(self, "Project folder", str(start))
        if folder:
            self.project.setText(folder)

    def set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.again_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def search_again(self) -> None:
        """Start a new search with the settings shown, in a new folder (not the opened project)."""
        self.resume.setChecked(False)
        self.project.clear()
        self.submit()

    def show_error(self, field: str, message: str) -> None:
        self.errors[field].setText(message)
        self.errors[field].show()

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.clear()
            label.hide()

    def visible_errors(self) -> dict[str, str]:
        return {name: label.text() for name, label in self.errors.items() if label.text()}

    def _first_trial_file(self) -> Path | None:
        return _write_first_trial(self.first_trial) if self.first_trial else None

    def build_config(self) -> SearchConfig | None:
        """The validated config, or None after showing every problem next to its field at once:
        numbers that do not parse, then every rule of the core (tuner_app.launch_checks: each
        setting, the data sizes, the project folder), in the form's words."""
        self.clear_errors()
        values: dict[str, Any] = {}
        defaults = SearchConfig()
        for field in ("max_trials", "epochs", "executions", "subset"):
            text = getattr(self, field).text().strip()
            if not text and field == "subset":
                values[field] = None
                continue
            try:
                values[field] = int(text.replace(",", "").replace("_", ""))
            except ValueError:
                self.show_error(field, f"{text!r} is not a whole number.")
                values[field] = getattr(defaults, field)  # checked no further; the rest still is
        time_text = self.time_limit.text().strip()
        values["time_limit_s"] = None
        if time_text:
            try:
                values["time_limit_s"] = parse_duration(time_text)
            except ConfigError as exc:
                self.show_error("time_limit", form_words(str(exc)))
        project = self.project.text().strip()
        family, tuner = self.family.currentText(), self.tuner.currentText()
        config = SearchConfig(
            first_trial=self._first_trial_file(),
            family=family,
            tuner=tuner,
            space=self.space.currentText(),
            backend=self.backend.currentText(),
            prune=self.prune.isChecked(),
            project_dir=Path(project).expanduser() if project else new_project_dir(family, tuner),
            resume=self.resume.isChecked(),
            **values,
        )
        for setting, message in launch_problems(config).items():
            field = _FIELD_OF_SETTING.get(setting, setting)
            if field not in self.errors:
                field = "project"
            if not self.errors[field].text():  # a parse error already there says more
                self.show_error(field, form_words(message))
        if self.visible_errors():
            return None
        return config.validated()

    def fill(self, settings: Mapping[str, Any], project_dir: Path | None = None) -> None:
        """Show a project's recorded settings, so "search again like this" or "resume" is one click."""
        self.clear_errors()
        for name in ("family", "tuner", "space", "backend"):
            value = settings.get(name)
            if name == "space" and isinstance(value, str):
                value = canonical_space(value)  # an older log's "seed" is "notebook" now
            box: QComboBox = getattr(self, name)
            if isinstance(value, str) and box.findText(value) >= 0:
                box.setCurrentText(value)
        for name in ("max_trials", "epochs", "executions", "subset"):
            value = settings.get(name)
            getattr(self, name).setText("" if value is None else str(value))
        self.prune.setChecked(bool(settings.get("prune")))
        limit = settings.get("time_limit_s")
        self.time_limit.setText("" if not limit else format_limit(float(limit)))
        if project_dir is not None:
            self.project.setText(str(project_dir))
            self.resume.setChecked(True)
            self.start_button.setText("Start (resume this project)")
            self.again_button.show()

    def set_first_trial(self, values: Mapping[str, Any] | None, name: str = "") -> None:
        """Make `values` the next search's first trial (shown above Start), or none."""
        self.first_trial = dict(values) if values else None
        self.first_trial_label.setText(f"First trial: {name or 'the chosen'} configuration, then the search")
        self.first_trial_row.setVisible(self.first_trial is not None)

    def start_from(self, settings: Mapping[str, Any], values: Mapping[str, Any], name: str) -> None:
        """A new search like the one recorded in `settings`, in a new folder, trying `values` first."""
        self.fill(settings)
        self.resume.setChecked(False)
        self.project.clear()
        if self.tuner.currentText() not in ("random", "bayesian"):
            self.tuner.setCurrentText("random")  # only they take a first trial
        self.set_first_trial(values, name)

    def submit(self) -> None:
        config = self.build_config()
        if config is not None:
            self.start_requested.emit(config)
            self.set_first_trial(None)  # tried once; a later Start is a plain search again


def _write_first_trial(values: Mapping[str, Any]) -> Path:
    """The first trial's hyperparameters as a JSON file the search's child process reads."""
    handle, name = tempfile.mkstemp(prefix="tuner_app-first-trial-", suffix=".json")
    with os.fdopen(handle, "w") as file:
        json.dump(dict(values), file)
    return Path(name)


def format_limit(seconds: float) -> str:
    """Seconds as the time-limit field reads them back ("1h30m", "90s"): parse_duration's format."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "1s"
