"""Summaries of a search as data: JSON and CSV files beside the results, and rows for tables."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tuner_app.files import unique_suffix
from tuner_app.formatting import format_mean_std, format_percent
from tuner_app.results import ReplicateTestScores, SearchSnapshot, TrialRecord

SUMMARY_JSON = "summary.json"
TRIALS_CSV = "trials.csv"


def hyperparameter_names(snapshot: SearchSnapshot) -> list[str]:
    """Every user-facing hyperparameter seen in any trial, in first-seen order."""
    names: dict[str, None] = {}
    for trial in snapshot.trials:
        for name in trial.user_hyperparameters():
            names.setdefault(name, None)
    return list(names)


def trial_row(trial: TrialRecord, names: list[str]) -> dict[str, Any]:
    hps = trial.user_hyperparameters()
    row: dict[str, Any] = {
        "trial": trial.trial_id,
        "status": str(trial.status),
        "worker": trial.worker,
        "val_accuracy_mean": trial.mean,
        "val_accuracy_std": trial.std,
        "executions": len(trial.execution_scores),
        "best_epoch": trial.best_epoch,
        "epochs_done": trial.epochs_done,
        "duration_s": round(trial.duration, 2) if trial.duration is not None else None,
        "error": trial.error,
    }
    row.update({name: hps.get(name) for name in names})
    return row


def format_test_result(test: Mapping[str, Any] | None) -> str:
    """The best trial's test result in one phrase, for the console, reports and the window:
    "98.51 %", or with replicates "98.51 % (replicate 2 of 3); replicates 98.45 ± 0.05 %
    (98.40, 98.51, 98.44 %); their ensemble 98.60 %". Replicates are numbered from 1 here, as the
    console's "run 2/3"."""
    if not test:
        return "-"
    text = format_percent(test.get("test_accuracy"))
    replicates = ReplicateTestScores.from_test(test)
    if replicates is None:
        return text
    count = len(replicates.accuracies)
    if replicates.best_model_execution is not None:
        text += f" (replicate {replicates.best_model_execution + 1} of {count})"
    each = ", ".join(f"{100 * a:.2f}" for a in replicates.accuracies)
    text += f"; replicates {100 * replicates.mean:.2f} ± {100 * replicates.std:.2f} % ({each} %)"
    if replicates.ensemble_accuracy is not None:
        text += f"; their ensemble {format_percent(replicates.ensemble_accuracy)}"
    return text


def summary_dict(snapshot: SearchSnapshot, top: int = 10) -> dict[str, Any]:
    """summary.json: `test` is the `test_evaluated` record (with replicates: `test_accuracies`,
    `test_accuracy_mean`, `test_accuracy_std`, `best_model_execution`), `test_text` its phrase."""
    names = hyperparameter_names(snapshot)
    return {
        "project_dir": str(snapshot.project_dir),
        "state": str(snapshot.state),
        "reason": snapshot.reason,
        "device": snapshot.device,
        "config": dict(snapshot.config),
        "elapsed_s": (
            snapshot.finished_at - snapshot.started_at
            if snapshot.finished_at and snapshot.started_at
            else None
        ),
        "trials": snapshot.status_counts(),
        "test": dict(snapshot.test) if snapshot.test else None,
        "test_text": format_test_result(snapshot.test) if snapshot.test else None,
        "test_error": snapshot.test_error,
        "identity": dict(snapshot.identity) if snapshot.identity else None,
        "best_trials": [trial_row(t, names) for t in snapshot.best(top)],
        "problems": list(snapshot.problems),
    }


def write_summary(snapshot: SearchSnapshot) -> tuple[Path, Path]:
    """Write summary.json and trials.csv atomically beside the results log."""
    json_path = snapshot.project_dir / SUMMARY_JSON
    csv_path = snapshot.project_dir / TRIALS_CSV
    _atomic_write(json_path, json.dumps(summary_dict(snapshot), indent=2, default=str) + "\n")
    write_trials_csv(snapshot, csv_path)
    return json_path, csv_path


def write_trials_csv(snapshot: SearchSnapshot, path: Path) -> None:
    names = hyperparameter_names(snapshot)
    rows = [trial_row(t, names) for t in snapshot.trials]
    fields = list(trial_row(snapshot.trials[0], names)) if rows else ["trial"]
    _write_csv_atomically(path, fields, rows)


def _write_csv_atomically(path: Path, fields: list[str], rows: list[dict[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.{unique_suffix()}.tmp")
    try:
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)
    finally:  # a failed write (full disk) leaves no partial temporary file behind
        tmp.unlink(missing_ok=True)


def epoch_rows(snapshot: SearchSnapshot) -> tuple[list[str], list[dict[str, Any]]]:
    """Every epoch of every execution (replicate) of every trial: the curves' raw data, with each
    trial's hyperparameters, so a notebook can redraw or re-analyse anything the window shows."""
    names = hyperparameter_names(snapshot)
    metrics = sorted({m for t in snapshot.trials for curve in t.executions for e in curve for m in e.metrics})
    rows = []
    for trial in snapshot.trials:
        hps = trial.user_hyperparameters()
        for execution, curve in enumerate(trial.executions, start=1):
            for record in curve:
                row: dict[str, Any] = {
                    "trial": trial.trial_id,
                    "status": str(trial.status),
                    "execution": execution,
                    "epoch": record.epoch + 1,
                }
                row.update({m: record.metrics.get(m, "") for m in metrics})
                row.update({n: hps.get(n, "") for n in names})
                rows.append(row)
    return ["trial", "status", "execution", "epoch", *metrics, *names], rows


def write_epochs_csv(snapshot: SearchSnapshot, path: Path) -> int:
    """Write `epoch_rows` as CSV (atomically); returns the number of rows."""
    fields, rows = epoch_rows(snapshot)
    _write_csv_atomically(path, fields, rows)
    return len(rows)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{unique_suffix()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:  # a failed write (full disk) leaves no partial temporary file behind
        tmp.unlink(missing_ok=True)


def best_trials_table(snapshot: SearchSnapshot, top: int = 5) -> str:
    """A plain-text table of the best trials, for the console."""
    best = snapshot.best(top)
    if not best:
        return "No trial completed."
    names = [n for n in hyperparameter_names(snapshot) if any(n in t.hyperparameters for t in best)]
    header = ["trial", "val acc (mean ± std)", "best epoch", "time", *names]
    rows = []
    for trial in best:
        hps = trial.user_hyperparameters()
        rows.append(
            [
                trial.trial_id,
                format_mean_std(trial),
                str(trial.best_epoch or "-"),
                f"{trial.duration:.0f}s" if trial.duration else "-",
                *(_short(hps.get(n)) for n in names),
            ]
        )
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)) for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _short(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
