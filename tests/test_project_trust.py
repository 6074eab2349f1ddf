"""One project folder, one search: the lock, the search identity, half-deleted projects, the typed log.

Real processes on real folders: a second search started beside a live one, a resume with other
settings, a worker of another family under a chief, logs deleted or replaced under a search.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_overnight import CLI, events, free_port, read_logs, search_args, start, wait_for

from tuner_app import search
from tuner_app.config import SearchConfig
from tuner_app.events import Event, SearchState, TrialStatus
from tuner_app.project_lock import ProjectLock, lock_holder
from tuner_app.results import RESULTS_FILE, LogReplaced, ResultsReader, ResultsWriter, read_results
from tuner_app.settings import IDENTITY_FIELDS, RESUMED_FIELDS, SETTINGS, config_to_argv


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


# -- the lock ---------------------------------------------------------------------------------------
def test_lock_names_its_holder_and_is_released_when_the_holder_is_killed(tmp_path):
    project = tmp_path / "p"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from tuner_app.project_lock import ProjectLock; "
         f"ProjectLock({str(project)!r}, 'chief').acquire(); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        found = lock_holder(project)
        assert found is not None and found.pid == holder.pid and found.role == "chief"
        with pytest.raises(RuntimeError, match=rf"pid {holder.pid} on .*\(chief search\).*kill {holder.pid}"):
            ProjectLock(project).acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert lock_holder(project) is None, "the kernel drops a killed holder's lock"
        with ProjectLock(project):  # the lock is the folder's, not the file's: deleting it changes nothing
            (project / "search.lock").unlink()
            with pytest.raises(RuntimeError, match="in use by another search"):
                ProjectLock(project).acquire()
        with ProjectLock(project) as lock:
            assert lock.held and lock_holder(project).pid == os.getpid()
        assert lock_holder(project) is None
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_second_search_and_resume_in_a_busy_folder_are_refused(tmp_path, small_npz):
    project = tmp_path / "busy"
    first = start(*search_args(3, 40, small_npz, 2500, project), log=tmp_path / "first.log")
    wait_for(lambda: any(e["event"] == "epoch" for e in events(project)), what="the first search to train")
    for extra in ([], ["--resume"]):
        second = run(*search_args(2, 1, small_npz, 2500, project), *extra, timeout=120)
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"in use by another search: pid {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=300) == 130, read_logs(tmp_path, "first.log")
    snapshot = read_results(project)
    started = [e for e in events(project) if e["event"] == "search_started"]
    assert len(started) == 1, "the refused searches wrote nothing into the folder"
    assert snapshot.state is SearchState.STOPPED
    assert lock_holder(project) is None


# -- identity and half-deleted projects -----------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--subset", "2000"], ["subset: recorded 1000, now 2000", "train_images", "validation_images"]),
        (["--epochs", "3"], ["epochs: recorded 1, now 3"]),
        (["--family", "conv"], ['family: recorded "dense", now "conv"']),
        (["--seed", "7"], ["seed: recorded 0, now 7"]),
    ],
)
def test_resume_with_another_identity_is_refused_naming_each_difference(
    project_copy, finished_project, flags, named
):
    project = project_copy(finished_project)
    before = (project / RESULTS_FILE).read_bytes()
    result = run("--resume", "--project-dir", str(project), *flags, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    for text in named:
        assert text in result.stderr
    assert "Traceback" not in result.stderr
    assert (project / RESULTS_FILE).read_bytes() == before, "a refused resume writes nothing"


@pytest.mark.slow
def test_resume_may_change_the_budget(project_copy, finished_project):
    project = project_copy(finished_project)
    result = run("--resume", "--project-dir", str(project), "--max-trials", "2", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    snapshot = read_results(project)
    assert [t.status for t in snapshot.trials] == [TrialStatus.COMPLETED] * 2
    assert snapshot.config["max_trials"] == 2 and snapshot.config["subset"] == 1000


@pytest.mark.slow
@pytest.mark.parametrize(
    ("remove", "message"),
    [
        ("keras_tuner", "KerasTuner's state"),
        (RESULTS_FILE, "results log results.jsonl is missing"),
        ("first line", "no readable record of how the search started"),
        ("search.lock", "Cannot lock the project folder"),
    ],
)
def test_resume_of_half_a_project_is_refused(project_copy, finished_project, remove, message):
    project = project_copy(finished_project)
    if remove == "first line":  # damaged: the settings it recorded are gone with it
        lines = (project / RESULTS_FILE).read_text().splitlines(keepends=True)
        (project / RESULTS_FILE).write_text('{"event": "search_sta\n' + "".join(lines[1:]))
    elif remove == "search.lock":  # the holder's note cannot be written where it belongs
        (project / "search.lock").unlink()
        (project / "search.lock").mkdir()
    else:
        target = project / remove
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    result = run("--resume", "--project-dir", str(project), timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "--project-dir" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_moved_project_loads_its_own_best_model(project_copy, finished_project):
    record = next(e for e in events(finished_project) if e["event"] == "test_evaluated")
    assert record["model_path"] == "best_model.keras", "paths in the log are relative to the project"
    moved = project_copy(finished_project)
    assert read_results(moved).best_model_path == moved / "best_model.keras"
    identity = read_results(moved).identity
    assert set(IDENTITY_FIELDS) <= set(identity) and len(identity["data_sha256"]) == 64


@pytest.mark.slow
def test_worker_of_another_search_is_refused_and_the_chief_goes_on(tmp_path, small_npz):
    project = tmp_path / "shared"
    oracle = f"127.0.0.1:{free_port()}"
    common = search_args(2, 1, small_npz, 1500, project, "--oracle", oracle)
    chief = start(*common, "--role", "chief", log=tmp_path / "chief.log")
    wrong = start(
        *common, "--role", "worker", "--worker-id", "conv1", "--family", "conv", log=tmp_path / "w.log"
    )
    assert wrong.wait(timeout=300) == 2, read_logs(tmp_path, "w.log", "chief.log")
    said = (tmp_path / "w.log").read_text()
    assert "refused this worker" in said and 'family: chief "dense", worker "conv"' in said
    elsewhere = [*search_args(2, 1, small_npz, 1500, tmp_path / "not-shared", "--oracle", oracle)]
    lost = start(*elsewhere, "--role", "worker", "--worker-id", "lost1", log=tmp_path / "lost.log")
    assert lost.wait(timeout=300) == 2, read_logs(tmp_path, "lost.log", "chief.log")
    assert "is not the chief's folder" in (tmp_path / "lost.log").read_text()
    good = start(*common, "--role", "worker", "--worker-id", "dense1", log=tmp_path / "good.log")
    assert good.wait(timeout=600) == 0, read_logs(tmp_path, "good.log", "chief.log")
    assert chief.wait(timeout=120) == 0, read_logs(tmp_path, "chief.log")
    snapshot = read_results(project)
    assert [t.status for t in snapshot.trials] == [TrialStatus.COMPLETED] * 2
    assert {t.worker for t in snapshot.trials} == {"dense1"}
    assert all("conv" not in str(t.hyperparameters) for t in snapshot.trials)
    assert any("conv1 was refused" in p for p in snapshot.problems)
    assert "Refused worker conv1" in (tmp_path / "chief.log").read_text()


# -- the log --------------------------------------------------------------------------------------
def test_lines_of_the_wrong_shape_are_counted_never_raised(tmp_path):
    writer = ResultsWriter(tmp_path)
    writer.append(Event.SEARCH_STARTED, config={"family": "dense"})
    writer.append(Event.TRIAL_STARTED, trial_id="0", hyperparameters={"units": 8})
    bad = [
        "[1, 2, 3]", '"text"', "17", "null", '{"event": "epoch"}', '{"event": 5, "time": 1}',
        '{"event": "epoch", "time": 1, "trial_id": "0", "epoch": "one", "metrics": {}}',
        '{"event": "epoch", "time": 1, "trial_id": "0", "epoch": 0, "metrics": "high"}',
        '{"event": "epoch", "time": 1, "trial_id": "0", "epoch": 0, "metrics": {"loss": "x"}}',
        '{"event": "trial_started", "time": 1}',
        '{"event": "trial_started", "time": "noon", "trial_id": "1"}',
        '{"event": "search_started", "time": 1, "config": {"max_trials": "ten"}}',
        '{"event": "search_started", "time": 1, "config": [1]}', "{not json",
        '{"event": "search_finished", "time": 1' + "0" * 400 + "}",  # OverflowError in isfinite
        "[" * 100_000 + "]" * 100_000,  # RecursionError in json.loads
    ]  # fmt: skip
    with open(tmp_path / RESULTS_FILE, "a") as handle:
        handle.write("\n".join(bad) + "\n")
        handle.write('{"event": "a_future_kind", "time": 1}\n')  # a newer version's: ignored, not bad
    writer.append(Event.EPOCH, trial_id="0", epoch=0, metrics={"loss": 0.5, "val_accuracy": 0.9})
    writer.append(Event.TRIAL_FINISHED, trial_id="0", status="COMPLETED", score=0.9)
    snapshot = read_results(tmp_path)
    assert [t.status for t in snapshot.trials] == [TrialStatus.COMPLETED]
    assert snapshot.trials[0].mean == 0.9
    assert any(f"{len(bad)} unreadable line(s)" in p for p in snapshot.problems), snapshot.problems


def test_a_log_replaced_under_the_writer_stops_it_and_the_reader_starts_over(tmp_path):
    writer = ResultsWriter(tmp_path)
    reader = ResultsReader(tmp_path)
    writer.append(Event.SEARCH_STARTED, config={})
    writer.append(Event.TRIAL_STARTED, trial_id="0")
    reader.poll()
    assert len(reader.snapshot().trials) == 1
    os.replace(_write(tmp_path / "new.jsonl"), tmp_path / RESULTS_FILE)
    with pytest.raises(LogReplaced, match="replaced"):
        writer.append(Event.EPOCH, trial_id="0", epoch=0, metrics={})
    assert reader.poll()
    snapshot = reader.snapshot()
    assert snapshot.trials == () and any("replaced" in p for p in snapshot.problems)
    (tmp_path / RESULTS_FILE).unlink()
    with pytest.raises(LogReplaced, match="deleted"):
        writer.append(Event.EPOCH, trial_id="0", epoch=0, metrics={})
    assert not (tmp_path / RESULTS_FILE).exists(), "the writer does not recreate a deleted log"


def _write(path: Path) -> Path:
    path.write_text(json.dumps({"event": "search_started", "time": time.time(), "config": {}}) + "\n")
    return path


def test_failed_test_evaluation_exits_1_and_is_recorded(tmp_path, small_npz, monkeypatch, capsys):
    from tuner_app import data

    def unreadable_test_set(_mnist):
        raise OSError(5, "Input/output error", "the test images")

    monkeypatch.setattr(data, "held_out_test", unreadable_test_set)  # a fault, injected once
    project = tmp_path / "p"
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = search.main(search_args(1, 1, small_npz, 1000, project))
    finally:  # main() installs its Ctrl+C handlers in this (pytest's) process
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    out, err = capsys.readouterr()
    assert code == 1
    assert "test evaluation failed" in err and "Input/output error" in err and str(project) in err
    assert "Test evaluation of the best model FAILED" in out
    summary = json.loads((project / "summary.json").read_text())
    assert "Input/output error" in summary["test_error"] and summary["test"] is None
    assert read_results(project).trials[0].status is TrialStatus.COMPLETED, "the trial is kept"


# -- the settings table -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"family": "conv", "tuner": "hyperband", "max_trials": None, "epochs": 7, "time_limit_s": 5400.0},
        {
            "executions": 3,
            "subset": 5000,
            "seed": 42,
            "target": 0.99,
            "tensorboard": True,
            "start_point": False,
        },
        {"max_failures": 4, "max_retries": 2, "jit_compile": "on", "validation_size": 5000},
    ],
)
def test_config_to_argv_rebuilds_the_same_config(tmp_path, small_npz, changes):
    config = SearchConfig(project_dir=tmp_path / "p", data_path=Path(small_npz), **changes).validated()
    parser = search.build_parser()
    rebuilt = search.config_from_args(parser.parse_args(config_to_argv(config)))
    assert rebuilt == config


def test_every_setting_is_declared_once_and_resume_keeps_what_defines_the_search():
    fields = [s.field for s in SETTINGS]
    assert len(fields) == len(set(fields))
    config_fields = set(SearchConfig.__dataclass_fields__)
    assert config_fields <= set(fields), "every SearchConfig field has a flag"
    assert set(IDENTITY_FIELDS) <= set(RESUMED_FIELDS)
    assert {"subset", "validation_size", "seed", "epochs", "family", "tuner", "space"} <= set(IDENTITY_FIELDS)
    assert not {"max_trials", "time_limit_s", "target"} & set(IDENTITY_FIELDS), "budgets may change"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["deleted", "replaced", "truncated"])
def test_log_deleted_or_replaced_under_a_live_search_stops_it_with_exit_1(tmp_path, small_npz, how):
    project = tmp_path / "live"
    proc = start(*search_args(3, 40, small_npz, 2500, project), log=tmp_path / "run.log")
    wait_for(lambda: any(e["event"] == "epoch" for e in events(project)), what="the search to train")
    log = project / RESULTS_FILE
    if how == "replaced":
        shutil.copy(log, tmp_path / "copy.jsonl")
        os.replace(tmp_path / "copy.jsonl", log)
        replaced_with = log.read_bytes()
    elif how == "truncated":
        os.truncate(log, 0)  # as `: > results.jsonl` or an editor saving in place would
    else:
        log.unlink()
    assert proc.wait(timeout=300) == 1, read_logs(tmp_path, "run.log")
    said = (tmp_path / "run.log").read_text()
    assert f"was {how}" in said and "Traceback" not in said
    if how == "replaced":
        assert log.read_bytes() == replaced_with, "nothing was mixed into the other file"
    elif how == "truncated":
        assert log.read_bytes() == b"", "the search did not go on writing half a log"
    else:
        assert not log.exists(), "the log was not recreated with only the search's second half"


@pytest.mark.slow
def test_a_second_signal_aborts_at_once(tmp_path, small_npz):
    project = tmp_path / "abort"
    proc = start(*search_args(3, 40, small_npz, 2500, project), log=tmp_path / "run.log")
    wait_for(lambda: any(e["event"] == "epoch" for e in events(project)), what="the search to train")
    proc.send_signal(signal.SIGTERM)
    # A user presses again after the first one is answered. Two signals sent before the process
    # runs at all (a loaded CI machine) are merged by the kernel into one pending signal;
    # test_signal_counting covers two that both reach the process inside one long C call.
    answered = "Stopping after the current epoch"
    wait_for(lambda: answered in (tmp_path / "run.log").read_text(), what="the first signal's answer")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    said = (tmp_path / "run.log").read_text()
    assert "Aborted" in said and "Exception ignored" not in said and "Traceback" not in said
    assert lock_holder(project) is None
    assert read_results(project).trials[0].status is TrialStatus.INTERRUPTED
