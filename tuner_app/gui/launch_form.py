"""The launch form: widgets -> SearchConfig, validated by the core before Start.

Why validation goes through SearchConfig.validated(): the CLI and the window accept and refuse the
same values with the same messages; the form only decides next to which field a message belongs.
"""

from __future__ import annotations

from pathlib import Path

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

from search_spaces import FAMILIES, SPACES
from tuner_app.config import TUNERS, ConfigError, SearchConfig, default_project_dir, parse_duration
from tuner_app.project_state import request_problem

FIELDS = ("family", "tuner", "space", "max_trials", "epochs", "executions", "time_limit", "subset", "project")
# Words in a ConfigError message -> the field it is about.
_ERROR_FIELD = (
    ("--max-trials", "max_trials"),
    ("needs --max-trials", "max_trials"),
    ("--epochs", "epochs"),
    ("--executions", "executions"),
    ("--subset", "subset"),
    ("time limit", "time_limit"),
    ("--time-limit", "time_limit"),
    ("family", "family"),
    ("tuner", "tuner"),
    ("space", "space"),
)


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
        self.project = QLineEdit()
        self.project.setPlaceholderText(str(default_project_dir("dense", "random")))
        self.resume = QCheckBox("resume the search in this folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        for name, label, widget in (
            ("family", "Family", self.family),
            ("tuner", "Tuner", self.tuner),
            ("space", "Space", self.space),
            ("max_trials", "Max trials", self.max_trials),
            ("epochs", "Epochs", self.epochs),
            ("executions", "Replicates", self.executions),
            ("time_limit", "Time limit", self.time_limit),
            ("subset", "Data subset", self.subset),
            ("project", "Project folder", self._row(self.project, browse)),
        ):
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
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.start_button.clicked.connect(self.submit)
        self.stop_button.clicked.connect(self.stop_requested)
        form.addRow(self._row(self.start_button, self.stop_button))
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
        folder = QFileDialog.getExistingDirectory(self, "Project folder")
        if folder:
            self.project.setText(folder)

    def set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def show_error(self, field: str, message: str) -> None:
        self.errors[field].setText(message)
        self.errors[field].show()

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.clear()
            label.hide()

    def visible_errors(self) -> dict[str, str]:
        return {name: label.text() for name, label in self.errors.items() if label.text()}

    def build_config(self) -> SearchConfig | None:
        """The validated config, or None after showing each problem next to its field."""
        self.clear_errors()
        values: dict[str, object] = {}
        for field in ("max_trials", "epochs", "executions", "subset"):
            text = getattr(self, field).text().strip()
            if not text and field == "subset":
                values[field] = None
                continue
            try:
                values[field] = int(text)
            except ValueError:
                self.show_error(field, f"{text!r} is not a whole number.")
        time_text = self.time_limit.text().strip()
        values["time_limit_s"] = None
        if time_text:
            try:
                values["time_limit_s"] = parse_duration(time_text)
            except ConfigError as exc:
                self.show_error("time_limit", str(exc))
        if self.visible_errors():
            return None
        project = self.project.text().strip()
        try:
            config = SearchConfig(
                family=self.family.currentText(),
                tuner=self.tuner.currentText(),
                space=self.space.currentText(),
                project_dir=Path(project).expanduser() if project else None,
                resume=self.resume.isChecked(),
                **values,  # type: ignore[arg-type]
            ).validated()
        except ConfigError as exc:
            self.show_error(_field_for(str(exc)), str(exc))
            return None
        # The engine's own rule for the folder (tuner_app.project_state), and its lock: refused here,
        # next to the field, before a child process starts.
        problem = request_problem(config.project_dir, config.resume)
        if problem:
            self.show_error("project", problem)
            return None
        return config

    def submit(self) -> None:
        config = self.build_config()
        if config is not None:
            self.start_requested.emit(config)


def _field_for(message: str) -> str:
    lowered = message.lower()
    for needle, field in _ERROR_FIELD:
        if needle.lower() in lowered:
            return field
    return "project"
