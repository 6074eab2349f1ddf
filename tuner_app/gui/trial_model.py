"""The trial table: a QAbstractTableModel over SearchSnapshot rows, updated in place as trials progress.

Why not reset per poll: a reset loses the user's selection and scroll position and repaints every
cell twice a second. Rows are only appended or marked changed; the model resets only when a new
hyperparameter column appears (rare: a conditional hyperparameter seen for the first time).

Why each row's text and sort keys are computed once, when the row changes: the view, the sorting
proxy and the header's size-to-contents ask `data()` for every cell many times per update (23,594
calls to fill a 200-trial table), and computing a mean ± std per call made opening such a project
block the window for 0.25 s.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from tuner_app.formatting import format_duration, format_mean_std, trial_label
from tuner_app.report import hyperparameter_names
from tuner_app.results import SearchSnapshot, TrialRecord

SORT_ROLE = Qt.ItemDataRole.UserRole
TRIAL_ID_ROLE = Qt.ItemDataRole.UserRole + 1
SCORE = "val accuracy"
FIXED_HEAD = ("trial", "status", SCORE)  # the score first: no scrolling right to see any result
WORKER = "worker"  # shown once trials came from more than one worker (a distributed search)
FIXED_TAIL = ("best epoch", "duration")
_Index = QModelIndex | QPersistentModelIndex


class TrialTableModel(QAbstractTableModel):
    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self._names: list[str] = []
        self._head: tuple[str, ...] = FIXED_HEAD
        self._rows: list[TrialRecord] = []
        self._row_of: dict[str, int] = {}
        self._text_columns: set[str] = set()
        self._columns: list[str] = self._column_names()
        self._cells: list[tuple[tuple[str, ...], tuple[Any, ...]]] = []  # per row: (texts, sort keys)

    # -- updates -----------------------------------------------------------------------------
    def update(self, snapshot: SearchSnapshot) -> None:
        """Fold in a new snapshot with minimal change notifications."""
        names = hyperparameter_names(snapshot)
        several_workers = len({t.worker for t in snapshot.trials}) > 1
        head = (*FIXED_HEAD, WORKER) if several_workers else FIXED_HEAD
        if names != self._names or head != self._head:
            self.beginResetModel()
            self._names, self._head = names, head
            self._columns = self._column_names()
            self._rows, self._row_of, self._cells = [], {}, []
            self._append(snapshot.trials)
            self._text_columns = self._find_text_columns()
            self._cells = [self._row_cells(t) for t in self._rows]
            self.endResetModel()
            return
        new = [t for t in snapshot.trials if t.trial_id not in self._row_of]
        changed: list[int] = []
        for trial in snapshot.trials:
            row = self._row_of.get(trial.trial_id)
            if row is not None and self._rows[row] is not trial and self._rows[row] != trial:
                self._rows[row] = trial
                changed.append(row)
        # A changed row counts too: its finished record may carry a text value its start had not.
        looked_at = new + [self._rows[row] for row in changed]
        text_columns = self._find_text_columns(looked_at) if looked_at else self._text_columns
        if text_columns != self._text_columns:  # a column turned textual: every row's sort key moves
            self._text_columns = text_columns
            changed = list(range(len(self._rows)))
        for row in changed:
            self._cells[row] = self._row_cells(self._rows[row])
            self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._append(new)
            self._cells += [self._row_cells(t) for t in new]
            self.endInsertRows()

    def _append(self, trials: tuple[TrialRecord, ...] | list[TrialRecord]) -> None:
        for trial in trials:
            self._row_of[trial.trial_id] = len(self._rows)
            self._rows.append(trial)

    def _row_cells(self, trial: TrialRecord) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        texts = tuple(self._display(trial, column) for column in self._columns)
        keys = tuple(self._sort_key(trial, column) for column in self._columns)
        return texts, keys

    def _column_names(self) -> list[str]:
        return [*self._head, *self._names, *FIXED_TAIL]

    def _find_text_columns(self, new: list[TrialRecord] | None = None) -> set[str]:
        """Hyperparameters with a text or yes/no value in any row (sorted as text, left-aligned);
        with `new`, only those rows are looked at, added to what is already known."""
        rows = self._rows if new is None else new
        found = {
            n for n in self._names if any(isinstance(t.hyperparameters.get(n), str | bool) for t in rows)
        }
        return found if new is None else self._text_columns | found

    def trial_at(self, row: int) -> TrialRecord:
        return self._rows[row]

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    # -- Qt model interface --------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._columns[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[row][0][col]
        if role == SORT_ROLE:
            return self._cells[row][1][col]
        trial = self._rows[row]
        if role == TRIAL_ID_ROLE:
            return trial.trial_id
        if role == Qt.ItemDataRole.ToolTipRole:
            return trial_details(trial)
        column = self._columns[col]
        numeric = (column == SCORE or column not in self._head) and column not in self._text_columns
        if role == Qt.ItemDataRole.TextAlignmentRole and numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, trial: TrialRecord, column: str) -> str:
        if column == "trial":
            return trial.trial_id
        if column == "status":
            return f"{trial.status} (pruned)" if trial.pruned_at_epoch is not None else str(trial.status)
        if column == WORKER:
            return trial.worker
        if column == SCORE:
            return format_mean_std(trial)
        if column == "best epoch":
            return str(trial.best_epoch or "-")
        if column == "duration":
            return format_ran(trial)
        value = trial.hyperparameters.get(column)
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.3g}"
        return str(value)

    def _sort_key(self, trial: TrialRecord, column: str) -> Any:
        if column == "trial":
            return float(trial.trial_id) if trial.trial_id.isdigit() else -math.inf
        if column == "status":
            return trial.status
        if column == WORKER:
            return trial.worker
        if column == SCORE:
            return trial.mean if trial.mean is not None else -math.inf
        if column == "best epoch":
            return float(trial.best_epoch or -math.inf)
        if column == "duration":
            ran = trial.ran_s
            return ran if ran is not None else math.inf
        value = trial.hyperparameters.get(column)
        if column in self._text_columns:
            return "" if value is None else str(value)
        return float(value) if isinstance(value, int | float) else -math.inf


def format_ran(trial: TrialRecord) -> str:
    """A finished trial's duration; "…" only while it runs; how long an interrupted one ran."""
    if trial.status == "running":
        return "…"
    ran = trial.ran_s
    if ran is None:
        return "-"
    if trial.finished_at is None:
        return f"{format_duration(ran)} ({trial.status})"
    return format_duration(ran)


def trial_details(trial: TrialRecord) -> str:
    """The whole trial for its tooltip and details panel: score, timing, configuration, error."""
    lines = [f"{trial_label(trial.trial_id)}: {trial.status}"]
    if trial.mean is not None:
        scores = ", ".join(f"{100 * s:.2f} %" for s in trial.execution_scores)
        lines.append(f"validation accuracy {format_mean_std(trial)} (replicates: {scores})")
    lines.append(f"started {_clock(trial.started_at)}, ran {format_ran(trial)}, {trial.epochs_done} epoch(s)")
    if trial.worker != "main":
        lines.append(f"worker {trial.worker}")
    if trial.attempts > 1:
        lines.append(f"attempt {trial.attempts}")
    if trial.pruned_at_epoch is not None:
        lines.append(
            f"stopped early by the median rule at epoch {trial.pruned_at_epoch}: its score is partial"
        )
    lines.append("")
    lines += [f"{name} = {_value(value)}" for name, value in trial.user_hyperparameters().items()]
    if trial.error:
        lines += ["", f"error: {trial.error}"]
    return "\n".join(lines)


def _value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def configuration_text(trial: TrialRecord) -> str:
    """A trial's hyperparameters as JSON, for the clipboard (paste into a script or an issue)."""
    return json.dumps(trial.user_hyperparameters(), indent=2, sort_keys=False)


def _clock(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def make_sort_proxy(model: TrialTableModel) -> QSortFilterProxyModel:
    """A proxy that sorts numbers as numbers (accuracy, learning rate), not as text."""
    proxy = QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setDynamicSortFilter(True)
    return proxy
