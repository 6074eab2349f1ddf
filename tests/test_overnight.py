"""Overnight and distributed runs: SIGKILL and resume, chief and workers, a lost worker, bad state."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

from tuner_app.results import RESULTS_FILE, read_results

pytestmark = pytest.mark.slow  # real searches (see the slow marker in pyproject.toml)

CLI = [sys.executable, "-m", "tuner_app.search"]


STARTED: list[tuple[subprocess.Popen, IO[str]]] = []


def start(*args: str, log: Path) -> subprocess.Popen:
    handle = open(log, "w")  # noqa: SIM115 - closed by the fixture below
    proc = subprocess.Popen([*CLI, *args], stdout=handle, stderr=subprocess.STDOUT, text=True)
    STARTED.append((proc, handle))
    return proc


@pytest.fixture(autouse=True)
def no_process_outlives_its_test():
    """A failed test must not leave searches running: they would slow every test after it."""
    yield
    while STARTED:
        proc, handle = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        handle.close()


def search_args(trials: int, epochs: int, data: str, subset: int, project: Path, *extra: str) -> list[str]:
    """The CLI flags every search here shares: a small real subset in its own project folder."""
    return [
        "--max-trials", str(trials), "--epochs", str(epochs), "--data", data,
        "--subset", str(subset), "--project-dir", str(project), *extra,
    ]  # fmt: skip


def read_logs(folder: Path, *names: str) -> str:
    """The processes' own output, for the message of a failed assertion."""
    return "\n".join(f"--- {name}:\n{(folder / name).read_text()}" for name in names)


def events(project: Path) -> list[dict]:
    try:
        lines = (project / RESULTS_FILE).read_text().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def wait_for(condition, timeout: float = 240.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_sigkill_mid_trial_then_resume_loses_no_finished_trial(tmp_path, small_npz):
    project = tmp_path / "night"
    args = search_args(3, 4, small_npz, 2500, project)
    proc = start(*args, log=tmp_path / "first.log")

    def second_trial_training():
        finished = [e for e in events(project) if e["event"] == "trial_finished"]
        started = [e for e in events(project) if e["event"] == "trial_started"]
        epochs = [
            e
            for e in events(project)
            if e["event"] == "epoch" and len(started) >= 2 and e["trial_id"] == started[-1]["trial_id"]
        ]
        return len(finished) == 1 and len(epochs) >= 1

    wait_for(second_trial_training, what="the second trial to be mid-training")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with open(project / RESULTS_FILE, "a") as handle:  # a write torn by the kill
        handle.write('{"event": "epoch", "trial_id": "1", "metr')

    killed = read_results(project)
    assert [t.status for t in killed.trials] == ["completed", "interrupted"], "its process is gone"
    assert killed.live is False
    assert any("incomplete" in p for p in killed.problems)
    first_score = killed.trials[0].mean

    resumed = subprocess.run(
        [*CLI, "--resume", "--project-dir", str(project)], capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    final = read_results(project)
    assert [t.status for t in final.trials] == ["completed"] * 3
    assert final.trials[0].mean == first_score, "the finished trial is kept, not re-run"
    assert final.trials[1].attempts == 2, "the interrupted trial was run again"
    assert len(final.trials[1].executions) == 1 and len(final.trials[1].executions[0]) == 4
    assert any("unreadable" in p for p in final.problems)
    assert final.test is not None


def start_chief_and_workers(
    tmp_path, data: str, trials: int, epochs: int, *workers: str, subset: int = 2500, timeout_s: int = 60
):
    """A chief and named workers on 127.0.0.1 sharing tmp_path/shared; logs at tmp_path/NAME.log."""
    project = tmp_path / "shared"
    oracle = f"127.0.0.1:{free_port()}"
    common = search_args(trials, epochs, data, subset, project, "--oracle", oracle)
    chief = start(*common, "--role", "chief", "--worker-timeout", str(timeout_s), log=tmp_path / "chief.log")
    procs = {
        name: start(*common, "--role", "worker", "--worker-id", name, log=tmp_path / f"{name}.log")
        for name in workers
    }
    return project, common, chief, procs


def kill_after_its_first_epoch(project: Path, worker: str, proc: subprocess.Popen) -> str:
    """SIGKILL the worker mid-trial; the id of the trial it was running."""
    wait_for(
        lambda: any(e["event"] == "epoch" and e["worker"] == worker for e in events(project)),
        what=f"worker {worker} to train",
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return next(e["trial_id"] for e in events(project) if e["worker"] == worker and "trial_id" in e)


def test_chief_and_two_workers_run_every_trial_once(tmp_path, small_npz):
    project, _, chief, workers = start_chief_and_workers(tmp_path, small_npz, 4, 1, "w1", "w2", subset=1500)
    for proc in [*workers.values(), chief]:
        assert proc.wait(timeout=600) == 0, read_logs(tmp_path, "chief.log")
    chief_out = (tmp_path / "chief.log").read_text()
    assert "Test accuracy of the best model" in chief_out and "4 completed" in chief_out
    started = [e["trial_id"] for e in events(project) if e["event"] == "trial_started"]
    assert sorted(started) == ["0", "1", "2", "3"], "each trial ran exactly once"
    snapshot = read_results(project)
    assert [t.status for t in snapshot.trials] == ["completed"] * 4
    assert {t.worker for t in snapshot.trials} <= {"w1", "w2"}
    assert not list((project / "workers").glob("*.alive")), "workers leave cleanly"


def test_lost_worker_trial_is_requeued_and_finished_by_another(tmp_path, small_npz):
    project, _, chief, workers = start_chief_and_workers(
        tmp_path, small_npz, 3, 6, "doomed", "survivor", timeout_s=10
    )
    lost = kill_after_its_first_epoch(project, "doomed", workers["doomed"])
    assert workers["survivor"].wait(timeout=600) == 0, read_logs(tmp_path, "survivor.log", "chief.log")
    assert chief.wait(timeout=120) == 0, read_logs(tmp_path, "chief.log")
    snapshot = read_results(project)
    assert [t.status for t in snapshot.trials] == ["completed"] * 3
    rerun = next(t for t in snapshot.trials if t.trial_id == lost)
    assert rerun.worker == "survivor" and rerun.attempts == 2
    assert any(e["event"] == "trial_orphaned" for e in events(project))


def test_trials_orphaned_with_no_worker_left_are_finished_after_resuming_the_chief(tmp_path, small_npz):
    """The documented way out when every worker was lost: restart the chief with --resume, add one."""
    project, common, chief, workers = start_chief_and_workers(
        tmp_path, small_npz, 2, 5, "doomed", timeout_s=5
    )
    kill_after_its_first_epoch(project, "doomed", workers["doomed"])
    assert chief.wait(timeout=120) == 0, read_logs(tmp_path, "chief.log")
    report = (tmp_path / "chief.log").read_text()
    assert "orphaned by a lost worker" in report and "--resume" in report

    oracle = common[common.index("--oracle") + 1]
    resumed = start("--resume", "--project-dir", str(project), "--role", "chief", "--oracle", oracle,
                    log=tmp_path / "chief2.log")  # fmt: skip
    fresh = start(*common, "--role", "worker", "--worker-id", "fresh", log=tmp_path / "fresh.log")
    assert fresh.wait(timeout=300) == 0, read_logs(tmp_path, "fresh.log", "chief2.log")
    assert resumed.wait(timeout=120) == 0, read_logs(tmp_path, "chief2.log")
    snapshot = read_results(project)
    assert [(t.status, t.worker) for t in snapshot.trials] == [("completed", "fresh")] * 2
    assert snapshot.test is not None, "the resumed chief evaluates the best model and writes the summary"


def test_chief_says_when_its_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CLI, "--role", "chief", "--oracle", f"127.0.0.1:{port}", "--project-dir", str(tmp_path / "p")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("damaged", ["oracle.json", "trial_0/trial.json"])
def test_truncated_keras_tuner_state_is_reported_on_resume(tmp_path, small_npz, damaged):
    project = tmp_path / "p"
    first = subprocess.run(
        [*CLI, *search_args(1, 1, small_npz, 500, project, "--quiet")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr
    path = project / "keras_tuner" / damaged
    path.write_text(path.read_text()[:40])
    result = subprocess.run(
        [*CLI, "--resume", "--project-dir", str(project), "--max-trials", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    assert result.returncode == 2, result.stderr
    assert "damaged" in result.stderr and damaged.split("/")[-1] in result.stderr
    assert "Traceback" not in result.stderr
    assert read_results(project).trials[0].status == "completed", "results are untouched"
