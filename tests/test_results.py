"""The results log: round trip, incremental reading, torn lines, several writer processes."""

from __future__ import annotations

import io
import json
import multiprocessing

import pytest

from tuner_app.console import print_summary
from tuner_app.report import summary_dict
from tuner_app.results import RESULTS_FILE, ResultsError, ResultsReader, ResultsWriter, read_results


def write_trial(writer: ResultsWriter, trial_id: str, scores: list[list[float]], status="completed"):
    writer.append("trial_started", trial_id=trial_id, hyperparameters={"units": 64, "tuner/epochs": 2})
    for execution, curve in enumerate(scores):
        writer.append("execution_started", trial_id=trial_id, execution=execution)
        for epoch, value in enumerate(curve):
            metrics = {"loss": 1 - value, "accuracy": value, "val_loss": 1 - value, "val_accuracy": value}
            writer.append("epoch", trial_id=trial_id, execution=execution, epoch=epoch, metrics=metrics)
    writer.append("trial_finished", trial_id=trial_id, status=status, error=None)


def test_round_trip_with_replicates(tmp_path):
    writer = ResultsWriter(tmp_path)
    writer.append("search_started", config={"family": "dense"}, device="CPU (2 cores)")
    write_trial(writer, "0", [[0.90, 0.95], [0.92, 0.93], [0.91, 0.94]])
    write_trial(writer, "1", [[0.80, 0.85]])
    writer.append("search_finished", state="finished", reason="done")
    snapshot = read_results(tmp_path)
    assert snapshot.state == "finished" and snapshot.device == "CPU (2 cores)"
    first = snapshot.trials[0]
    assert first.execution_scores == (0.95, 0.93, 0.94)
    assert first.mean == pytest.approx(0.94)
    assert first.std == pytest.approx(0.01)  # sample standard deviation of 0.95, 0.93, 0.94
    assert first.best_epoch == 2
    assert first.user_hyperparameters() == {"units": 64}
    assert [t.trial_id for t in snapshot.best(2)] == ["0", "1"]
    assert snapshot.best_so_far() == [(1, pytest.approx(0.94)), (2, pytest.approx(0.94))]


def test_reader_follows_a_growing_log(tmp_path):
    writer = ResultsWriter(tmp_path)
    reader = ResultsReader(tmp_path)
    assert reader.poll() is False
    writer.append("search_started", config={}, device="CPU")
    writer.append("trial_started", trial_id="0", hyperparameters={})
    assert reader.poll() is True
    assert reader.snapshot().trials[0].status == "running"
    assert reader.poll() is False
    writer.append("epoch", trial_id="0", execution=0, epoch=0, metrics={"val_accuracy": 0.5})
    assert reader.poll() is True
    assert reader.snapshot().trials[0].execution_scores == (0.5,)


def test_torn_last_line_is_reported_not_fatal(tmp_path):
    writer = ResultsWriter(tmp_path)
    write_trial(writer, "0", [[0.9]])
    with open(tmp_path / RESULTS_FILE, "a") as handle:
        handle.write('{"event": "trial_started", "trial_id": "1", "hyperp')  # killed mid-write
    snapshot = read_results(tmp_path)
    assert [t.trial_id for t in snapshot.completed()] == ["0"]
    assert any("incomplete" in problem for problem in snapshot.problems)
    # The next writer ends the torn line first, so its own event is readable.
    write_trial(writer, "1", [[0.8]])
    snapshot = read_results(tmp_path)
    assert [t.trial_id for t in snapshot.completed()] == ["0", "1"]
    assert any("unreadable" in problem for problem in snapshot.problems)


def test_interrupted_trial_is_marked_when_search_is_over(tmp_path):
    writer = ResultsWriter(tmp_path)
    writer.append("trial_started", trial_id="0", hyperparameters={})
    writer.append("search_finished", state="stopped", reason="stopped by the user")
    assert read_results(tmp_path).trials[0].status == "interrupted"


def _append_many(args):
    directory, worker = args
    writer = ResultsWriter(directory, worker=worker)
    for i in range(200):
        writer.append("epoch", trial_id=worker, execution=0, epoch=i, metrics={"val_accuracy": 0.5})


def test_several_processes_append_without_tearing_lines(tmp_path):
    workers = [f"w{i}" for i in range(4)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map(_append_many, [(str(tmp_path), w) for w in workers])
    lines = (tmp_path / RESULTS_FILE).read_text().splitlines()
    assert len(lines) == 800
    events = [json.loads(line) for line in lines]
    for worker in workers:
        epochs = [e["epoch"] for e in events if e["worker"] == worker]
        assert epochs == list(range(200))


def test_folder_without_results_is_a_clear_error(tmp_path):
    with pytest.raises(ResultsError, match="not a tuner_app project folder"):
        read_results(tmp_path)
    with pytest.raises(ResultsError, match="does not exist"):
        read_results(tmp_path / "missing")


def test_console_and_summary_count_statuses_alike(tmp_path):
    writer = ResultsWriter(tmp_path)
    write_trial(writer, "0", [[0.9]], status="failed")
    write_trial(writer, "1", [[0.9]])
    write_trial(writer, "2", [[0.8]])
    writer.append("trial_started", trial_id="3", hyperparameters={})
    writer.append("search_finished", state="stopped", reason="stopped by the user")
    snapshot = read_results(tmp_path)
    counts = {"failed": 1, "completed": 2, "interrupted": 1}
    assert list(snapshot.status_counts().items()) == list(counts.items())  # first-seen order
    assert list(summary_dict(snapshot)["trials"].items()) == list(counts.items())
    out = io.StringIO()
    print_summary(snapshot, None, out)
    assert "; trials: 2 completed, 1 failed, 1 interrupted\n" in out.getvalue()  # sorted by name


def test_a_writer_stuck_in_its_disk_flush_does_not_hold_up_the_others(tmp_path):
    """A worker stopped while it flushes its line (Ctrl+Z, SIGSTOP, a slow disk) must not freeze every
    other writer of the log: the lock covers the write, not the flush (fsync)."""
    import subprocess
    import sys
    import time

    code = (
        "import sys, time\n"
        "from tuner_app import results_writer as rw\n"
        "rw.os.fsync = lambda fd: (print('flushing', flush=True), time.sleep(6))\n"
        "rw.ResultsWriter(sys.argv[1], worker='slow').append('trial_started', trial_id='1')\n"
    )
    ResultsWriter(tmp_path).append("search_started", config={})
    stuck = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert stuck.stdout.readline().strip() == "flushing"
        started = time.monotonic()
        ResultsWriter(tmp_path, worker="other").append("trial_started", trial_id="2")
        waited = time.monotonic() - started
    finally:
        stuck.wait(timeout=30)
    assert waited < 3, f"waited {waited:.1f} s for a writer that was flushing"
    lines = (tmp_path / RESULTS_FILE).read_text().splitlines()
    assert [json.loads(line)["worker"] for line in lines] == ["main", "slow", "other"]
