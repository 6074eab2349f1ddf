"""A full disk: the search stops at the first failed write with one clear message and exit code 1,
finished trials kept, no traceback, no crash at exit (it used to fail every trial, then segfault).

The end-to-end tests fill a real file system: a small tmpfs mounted for the test (needs root and a
kernel that lets this process mount; skipped with the reason otherwise).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import keras_tuner as kt
import numpy as np
import pytest
from test_overnight import events

from tuner_app.budget import Budget
from tuner_app.disk import (
    DiskFull,
    as_disk_full,
    disk_full_text,
    save_weights_file,
    write_file_atomically,
)
from tuner_app.oracles import make_oracle
from tuner_app.results import ResultsWriter, read_results
from tuner_app.tuners import make_tuner

# --- the pieces, without a full disk --------------------------------------------------------------


def test_disk_full_errors_are_recognised_however_they_are_raised():
    assert as_disk_full(OSError(errno.ENOSPC, "No space left on device", "/p/x")).path == "/p/x"
    assert as_disk_full(OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))) is not None
    # TensorFlow's file API (ResourceExhaustedError) and h5py put the error in the text only
    assert as_disk_full(RuntimeError("/p/a.json; No space left on device")).strerror == (
        "No space left on device"
    )
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise ValueError("while saving") from exc
    except ValueError as chained:
        assert as_disk_full(chained) is not None
    assert as_disk_full(OSError(errno.EACCES, "Permission denied")) is None
    assert as_disk_full(RuntimeError("training diverged")) is None
    assert disk_full_text("Traceback ...\nOSError: [Errno 28] No space left on device") is not None
    full = DiskFull("No space left on device")
    assert as_disk_full(full) is full
    assert full.message("/data/p") == (
        "the disk holding /data/p is full (No space left on device); finished trials are kept; "
        "free space and continue with --resume"
    )


def _failing_write(monkeypatch, after_bytes: int) -> None:
    """os.write writes `after_bytes` in all, then fails as on a full disk (a short write first)."""
    real_write, left = os.write, [after_bytes]

    def write(fd, data):
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = real_write(fd, bytes(data)[: left[0]])
        left[0] -= n
        return n

    monkeypatch.setattr(os, "write", write)


def test_atomic_write_keeps_the_old_file_and_leaves_no_partial_one(tmp_path, monkeypatch):
    target = tmp_path / "oracle.json"
    target.write_text('{"old": true}')
    _failing_write(monkeypatch, after_bytes=5)
    with pytest.raises(OSError) as raised:
        write_file_atomically(target, b'{"new": "a longer state"}')
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(target)
    assert target.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["oracle.json"]


def test_results_log_keeps_no_torn_line_when_the_disk_fills(tmp_path, monkeypatch):
    writer = ResultsWriter(tmp_path)
    writer.append("search_started", config={})
    before = (tmp_path / "results.jsonl").read_bytes()
    _failing_write(monkeypatch, after_bytes=10)  # 10 bytes of the line fit, then ENOSPC
    with pytest.raises(OSError):
        writer.append("trial_started", trial_id="0", hyperparameters={"units": 64})
    monkeypatch.undo()
    assert (tmp_path / "results.jsonl").read_bytes() == before
    writer.append("trial_started", trial_id="0", hyperparameters={})  # space freed: goes on
    assert read_results(tmp_path).problems == ()


def test_checkpoint_written_from_memory_loads_like_keras_own(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    model.compile("adam", "mse")
    model.fit(np.ones((8, 4)), np.ones((8, 2)), epochs=1, verbose=0)  # optimizer state too
    save_weights_file(model, tmp_path / "ours.weights.h5")
    model.save_weights(tmp_path / "keras.weights.h5")
    for name in ("ours", "keras"):
        clone = keras.models.clone_model(model)
        clone.load_weights(tmp_path / f"{name}.weights.h5")
        for mine, theirs in zip(clone.get_weights(), model.get_weights(), strict=True):
            np.testing.assert_array_equal(mine, theirs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keras.weights.h5", "ours.weights.h5"]


def test_a_trial_that_kerastuner_failed_on_a_full_disk_ends_the_search_unrecorded(tmp_path):
    """A write KerasTuner catches inside a trial (and would record as the trial's failure) ends the
    search instead; the trial stays running in KerasTuner's state, so --resume re-runs it."""

    def build(hp):
        hp.Int("units", 1, 4)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        return model

    oracle = make_oracle("random", chief=False, objective="val_loss", max_trials=2)
    tuner = make_tuner(
        "random", oracle=oracle, writer=ResultsWriter(tmp_path), budget=Budget(), hypermodel=build,
        directory=str(tmp_path), project_name="kt",
    )  # fmt: skip
    trial = tuner.oracle.create_trial("main")
    tuner.on_trial_begin(trial)
    trial.status = kt.engine.trial.TrialStatus.INVALID
    trial.message = "Traceback (most recent call last):\nOSError: [Errno 28] No space left on device"
    with pytest.raises(DiskFull):
        tuner.on_trial_end(trial)
    assert [t.status for t in read_results(tmp_path).trials] == ["running"]  # no trial_finished
    assert trial.trial_id in {t.trial_id for t in tuner.oracle.ongoing_trials.values()}


# --- the real thing: a full tmpfs under the real command line --------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """Mount a fresh tmpfs at a folder (root only). 512 MiB: the dense start point (3x1024) checkpoints
    about 35 MB with its optimizer state, written atomically beside the old one, for every trial."""
    if os.name != "posix" or not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs (a real file system that can fill up)")
    if not shutil.which("mount") or not shutil.which("umount"):
        pytest.skip("needs the mount and umount commands")
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or mounted.returncode})")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path) -> Path:
    """Write a filler file until the file system is full; returns it."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    block = b"\0" * (1 << 20)
    try:
        while True:
            for size in (1 << 20, 1 << 12, 1):  # the last few blocks too
                try:
                    os.write(fd, block[:size])
                    break
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
            else:
                return filler
    finally:
        os.close(fd)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tuner_app.search", *args]


def env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def assert_one_clean_message(result_stdout: str, result_stderr: str, project: Path) -> None:
    full_lines = [line for line in result_stderr.splitlines() if "No space left" in line]
    assert len(full_lines) == 1, result_stderr
    assert full_lines[0].startswith("error: ") and str(project) in full_lines[0], full_lines
    assert "--resume" in full_lines[0]
    for text in ("Traceback", "Segmentation", "core dumped", "Exception ignored"):
        assert text not in result_stderr and text not in result_stdout, result_stderr


@pytest.mark.slow
def test_disk_filling_mid_search_stops_at_once_keeps_finished_trials_and_resumes(small_disk, small_npz):
    project = small_disk / "p"
    args = ("--family", "dense", "--max-trials", "3", "--epochs", "2", "--subset", "2000")
    child = subprocess.Popen(
        cli(*args, "--data", small_npz, "--project-dir", str(project)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    try:
        # Let the first trial finish, then freeze the search and fill the disk under it.
        deadline = time.monotonic() + 300
        while not any(e["event"] == "trial_finished" for e in events(project)):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the first trial did not finish in 5 minutes"
            time.sleep(0.02)
        child.send_signal(signal.SIGSTOP)
        finished_before = {
            e["trial_id"]
            for e in events(project)
            if e["event"] == "trial_finished" and e["status"] == "completed"
        }
        filler = fill(small_disk)
        child.send_signal(signal.SIGCONT)
        stdout, stderr = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGCONT)
            child.kill()
            child.communicate()

    assert child.returncode == 1, (child.returncode, stderr)  # not 139 (SIGSEGV at exit), not 0
    assert_one_clean_message(stdout, stderr, project)
    assert finished_before, "the first trial was recorded as completed before the disk filled"
    snapshot = read_results(project)
    statuses = {t.trial_id: t.status for t in snapshot.trials}
    assert {statuses[t] for t in finished_before} == {"completed"}, statuses
    assert "failed" not in statuses.values(), statuses  # the full disk failed no trial
    assert snapshot.problems == (), snapshot.problems  # no torn line in the log
    assert not [p for p in project.rglob("*") if ".tmp" in p.name], "no partial temporary files left"

    # Free space, continue: the interrupted trial is re-run and the budget completed.
    filler.unlink()
    resumed = subprocess.run(
        cli("--resume", "--project-dir", str(project), "--quiet"),
        capture_output=True,
        text=True,
        env=env(),
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    snapshot = read_results(project)
    assert len(snapshot.completed()) == 3
    assert snapshot.state == "finished" and snapshot.test is not None


@pytest.mark.slow
def test_search_started_on_a_full_disk_says_so(small_disk, small_npz):
    fill(small_disk)
    project = small_disk / "p"
    result = subprocess.run(
        cli("--family", "dense", "--max-trials", "2", "--epochs", "1", "--subset", "600",
            "--data", small_npz, "--project-dir", str(project)),
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert_one_clean_message(result.stdout, result.stderr, project)
