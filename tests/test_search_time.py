"""Search time is the sum of the search's runs (a resume does not count the idle hours between),
an interrupted trial says how long it ran, and one trial numbering reads the same everywhere."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tuner_app.console import print_summary
from tuner_app.formatting import format_status_counts, progress_count, trial_label
from tuner_app.gui.status import elapsed_s, status_text
from tuner_app.results import read_results

CONFIG = {"family": "dense", "tuner": "random", "max_trials": 3, "epochs": 1, "executions": 1}


def _write(project: Path, events: list[dict]) -> Path:
    project.mkdir()
    lines = [json.dumps({"worker": "main", **e}) for e in events]
    (project / "results.jsonl").write_text("\n".join(lines) + "\n")
    return project


def _epoch(trial: str, when: float, acc: float) -> dict:
    return {"event": "epoch", "time": when, "trial_id": trial, "epoch": 0, "metrics": {"val_accuracy": acc}}


def resumed_project(tmp_path: Path) -> Path:
    """Run 1 (0-5 s) is killed mid-trial 1; 10 hours later run 2 (36000-36011 s) finishes."""
    return _write(
        tmp_path / "p",
        [
            {"event": "search_started", "time": 0.0, "config": CONFIG},
            {"event": "trial_started", "time": 0.5, "trial_id": "0"},
            _epoch("0", 2.0, 0.9),
            {"event": "trial_finished", "time": 2.0, "trial_id": "0", "status": "completed"},
            {"event": "trial_started", "time": 2.5, "trial_id": "1"},
            _epoch("1", 5.0, 0.8),
            {"event": "search_started", "time": 36000.0, "config": CONFIG},
            {"event": "trial_started", "time": 36001.0, "trial_id": "2"},
            _epoch("2", 36010.0, 0.95),
            {"event": "trial_finished", "time": 36010.0, "trial_id": "2", "status": "completed"},
            {"event": "search_finished", "time": 36011.0, "state": "finished", "reason": "done"},
        ],
    )


def test_search_time_sums_the_runs(tmp_path: Path) -> None:
    snapshot = read_results(resumed_project(tmp_path))
    assert snapshot.runs == ((0.0, 5.0), (36000.0, 36011.0))
    assert snapshot.search_time_s(now=99999.0) == 16.0
    assert elapsed_s(snapshot, now=99999.0) == 16.0
    text = status_text(snapshot, now=99999.0)
    assert "2 completed, 1 interrupted of 3" in text and "search time 16s in 2 runs" in text
    out = io.StringIO()
    print_summary(snapshot, None, out)
    assert "after 16s" in out.getvalue()


def test_an_interrupted_trial_says_how_long_it_ran(tmp_path: Path) -> None:
    from tuner_app.gui.trial_model import format_ran

    trial = {t.trial_id: t for t in read_results(resumed_project(tmp_path)).trials}["1"]
    assert trial.status == "interrupted" and trial.duration is None
    assert trial.ran_s == 2.5
    assert format_ran(trial) == "2s (interrupted)"  # not "…" forever


def test_a_running_search_counts_up_to_now(tmp_path: Path) -> None:
    project = _write(
        tmp_path / "live",
        [
            {"event": "search_started", "time": 100.0, "config": CONFIG},
            {"event": "trial_started", "time": 101.0, "trial_id": "0"},
        ],
    )
    snapshot = read_results(project)  # nobody holds the lock: not live, counted to its last event
    assert snapshot.live is False and snapshot.search_time_s(now=500.0) == 1.0


def test_one_trial_numbering() -> None:
    assert trial_label("03") == "trial 03"
    assert progress_count(2, 6) == "[2 of 6]" and progress_count(2, None) == "[2]"
    assert format_status_counts({"interrupted": 1, "completed": 5}, 6) == "5 completed, 1 interrupted of 6"


def test_a_pruned_trial_is_read_and_shown(tmp_path: Path) -> None:
    from tuner_app.gui.trial_model import TrialTableModel

    project = _write(
        tmp_path / "pruned",
        [
            {"event": "search_started", "time": 0.0, "config": CONFIG},
            {"event": "trial_started", "time": 1.0, "trial_id": "0"},
            _epoch("0", 2.0, 0.5),
            {
                "event": "trial_finished",
                "time": 2.0,
                "trial_id": "0",
                "status": "completed",
                "pruned_at_epoch": 1,
            },
        ],
    )
    snapshot = read_results(project)
    assert snapshot.trials[0].pruned_at_epoch == 1
    model = TrialTableModel()
    model.update(snapshot)
    assert model.data(model.index(0, 1)) == "completed (pruned)"


def test_the_summary_names_only_files_that_were_written(tmp_path: Path) -> None:
    """A final test that failed on a read-only disk printed "Search running (None)" and pointed at
    a summary.json that was never written."""
    project = _write(
        tmp_path / "p",
        [
            {"event": "search_started", "time": 0.0, "config": CONFIG},
            {"event": "trial_started", "time": 0.5, "trial_id": "0"},
            _epoch("0", 2.0, 0.9),
            {"event": "trial_finished", "time": 2.0, "trial_id": "0", "status": "completed"},
        ],
    )
    out = io.StringIO()
    print_summary(read_results(project), None, out)
    assert "(None)" not in out.getvalue() and "Summary:" not in out.getvalue(), out.getvalue()
    (project / "summary.json").write_text("{}")
    out = io.StringIO()
    print_summary(read_results(project), None, out)
    assert f"Summary: {project / 'summary.json'} and trials.csv" in out.getvalue()
