"""`python -m tuner_app.search` end to end in a subprocess: output, files, exit codes, messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-m", "tuner_app.search", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.mark.slow
def test_search_end_to_end(tmp_path, small_npz):
    project = tmp_path / "run"
    result = run_cli(
        "--family", "dense", "--max-trials", "2", "--epochs", "2", "--executions", "2",
        "--data", small_npz, "--subset", "2000", "--project-dir", str(project),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[1 of 2] trial 0" in out and "[2 of 2] trial 1" in out and "ETA" in out
    assert "Test accuracy of the best model" in out and "±" in out
    assert "Traceback" not in result.stderr
    summary = json.loads((project / "summary.json").read_text())
    assert summary["state"] == "finished"
    assert summary["trials"] == {"completed": 2}
    assert 0.1 < summary["test"]["test_accuracy"] <= 1.0
    assert summary["best_trials"][0]["executions"] == 2
    assert (project / "best_model.keras").is_file()

    again = run_cli("--project-dir", str(project), "--data", small_npz)
    assert again.returncode == 2
    assert "already holds a search" in again.stderr and "--resume" in again.stderr

    resumed = run_cli("--resume", "--project-dir", str(project), "--max-trials", "3", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((project / "summary.json").read_text())
    assert summary["trials"] == {"completed": 3}
    assert summary["config"]["executions"] == 2, "resume keeps the recorded settings"


def test_help_explains():
    result = run_cli("--help")
    assert result.returncode == 0
    for text in ("--family", "--time-limit", "--resume", "examples:", "results.jsonl"):
        assert text in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--family", "resnet"], "invalid choice: 'resnet'"),
        (["--tuner", "genetic"], "invalid choice: 'genetic'"),
        (["--max-trials", "0"], "must be positive"),
        (["--epochs", "-3"], "must be positive"),
        (["--executions", "two"], "is not a whole number"),
        (["--time-limit", "soon"], "does not parse; use e.g. 8h"),
        (["--target", "150"], "must be an accuracy"),
        (["--data", "/nonexistent/mnist.npz"], "Data file /nonexistent/mnist.npz does not exist"),
    ],
)
def test_bad_usage_exits_2_with_a_message(tmp_path, args, message):
    result = run_cli(*args, "--project-dir", str(tmp_path / "p"), timeout=120)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "p").exists()


@pytest.mark.slow
def test_bad_data_file_exits_2_naming_file_and_keys(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.zeros((10, 28, 28), np.uint8))
    result = run_cli("--data", str(bad), "--project-dir", str(tmp_path / "p"), timeout=120)
    assert result.returncode == 2
    assert str(bad) in result.stderr and "x_train" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_resume_without_a_search_exits_2(tmp_path):
    result = run_cli("--resume", "--project-dir", str(tmp_path / "empty"), timeout=120)
    assert result.returncode == 2
    assert "Nothing to resume" in result.stderr
