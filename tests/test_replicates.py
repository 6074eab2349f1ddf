"""Replicates (`--executions N`) on the test set: each replicate keeps its own best epoch, the best
trial's replicates are each tested once, and the log, summary and console carry mean ± std."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import warnings

import keras
import numpy as np
import pytest

from tuner_app import data
from tuner_app.config import SearchConfig
from tuner_app.console import print_summary
from tuner_app.engine import BEST_MODEL_FILE, SearchEngine
from tuner_app.final_test import ENSEMBLE_MODEL_FILE
from tuner_app.gui.status import status_text
from tuner_app.report import SUMMARY_JSON, format_test_result, summary_dict
from tuner_app.results import ResultsWriter, read_results

REPLICATE_FILES = "keras_tuner/trial_*/execution_*.weights.h5"


def config(tmp_path, small_npz, **changes) -> SearchConfig:
    base = dict(
        family="weight_decay",
        tuner="random",
        max_trials=1,
        epochs=2,
        executions=3,
        subset=1000,
        data_path=small_npz,
        project_dir=tmp_path / "project",
    )
    base.update(changes)
    return SearchConfig(**base)


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def quietly_load_weights(model: keras.Model, path) -> None:
    with warnings.catch_warnings():  # the checkpoint's optimizer state is not needed
        warnings.simplefilter("ignore", UserWarning)
        model.load_weights(path)


def test_each_replicate_of_the_best_trial_is_tested_once(tmp_path, small_npz):
    cfg = config(tmp_path, small_npz)
    outcome = SearchEngine(cfg).run()
    assert outcome.state == "finished"
    project = cfg.project_dir
    snapshot = read_results(project)
    (trial,) = snapshot.completed()
    assert len(trial.executions) == 3

    # Each execution kept its own best epoch's weights, beside KerasTuner's one checkpoint.
    trial_dir = project / "keras_tuner" / f"trial_{trial.trial_id}"
    files = [trial_dir / f"execution_{k}.weights.h5" for k in range(3)]
    assert sorted(project.glob(REPLICATE_FILES)) == files
    assert (trial_dir / "checkpoint.weights.h5").is_file()
    assert not list(trial_dir.glob(".*tmp*")), "written atomically: no temporary file left"

    test = snapshot.test
    accuracies = test["test_accuracies"]
    assert len(accuracies) == len(test["test_losses"]) == 3
    assert test["test_accuracy_mean"] == pytest.approx(np.mean(accuracies))
    assert test["test_accuracy_std"] == pytest.approx(np.std(accuracies, ddof=1))  # sample std
    assert test["replicate_checkpoints"] == [f.relative_to(project).as_posix() for f in files]
    replicates = snapshot.test_replicates
    assert replicates.accuracies == tuple(accuracies)
    assert replicates.mean == pytest.approx(np.mean(accuracies))
    assert replicates.std == pytest.approx(np.std(accuracies, ddof=1))
    assert outcome.test_accuracy == test["test_accuracy"]

    # best_model.keras is the replicate whose best validation epoch is the trial's best (KerasTuner's
    # checkpoint): the event names it, and its test accuracy is that replicate's.
    best = test["best_model_execution"]
    assert best == trial.best_execution
    scores = [max(e.metrics["val_accuracy"] for e in curve) for curve in trial.executions]
    assert scores[best] == max(scores) and scores.index(max(scores)) == best
    assert accuracies[best] == pytest.approx(test["test_accuracy"], abs=1e-9)

    # Each file holds its own replicate's best epoch: on the validation split it scores exactly the
    # best validation accuracy that execution logged (not the trial's best, not another replicate's).
    model = keras.models.load_model(project / BEST_MODEL_FILE)
    mnist = data.load_mnist(small_npz)
    validation = data.split_train_validation(mnist, cfg.validation_size, cfg.subset, cfg.seed).validation
    test_split = data.held_out_test(mnist)
    for k, path in enumerate(files):
        quietly_load_weights(model, path)
        _, val_accuracy = model.evaluate(validation.x, validation.y, verbose=0, batch_size=1024)
        assert val_accuracy == pytest.approx(scores[k], abs=1e-6), f"replicate {k}"
        _, test_accuracy = model.evaluate(test_split.x, test_split.y, verbose=0)
        assert test_accuracy == pytest.approx(accuracies[k], abs=1e-6), f"replicate {k}"

    # Their ensemble is one model whose output is the replicates' average prediction, tested once.
    ensemble = keras.models.load_model(project / ENSEMBLE_MODEL_FILE)
    each = []
    for path in files:
        quietly_load_weights(model, path)
        each.append(model.predict(test_split.x, verbose=0))
    average = np.mean(each, axis=0)
    np.testing.assert_allclose(ensemble.predict(test_split.x, verbose=0), average, atol=1e-5)
    expected = float(np.mean(np.argmax(average, axis=1) == test_split.y))
    assert test["ensemble_test_accuracy"] == pytest.approx(expected, abs=1e-9)
    assert test["ensemble_model_path"] == ENSEMBLE_MODEL_FILE
    assert snapshot.ensemble_model_path == project / ENSEMBLE_MODEL_FILE
    assert replicates.ensemble_accuracy == test["ensemble_test_accuracy"]

    # summary.json and the console's end-of-search lines carry the test mean ± std.
    summary = json.loads((project / SUMMARY_JSON).read_text())
    assert summary["test"]["test_accuracies"] == accuracies
    assert summary["test"]["test_accuracy_std"] == pytest.approx(np.std(accuracies, ddof=1))
    assert summary["test_text"] == format_test_result(test)
    out = io.StringIO()
    print_summary(snapshot, outcome, stream=out)
    mean_std = f"{100 * np.mean(accuracies):.2f} ± {100 * np.std(accuracies, ddof=1):.2f} %"
    assert f"replicates {mean_std}" in out.getvalue()
    assert f"(replicate {best + 1} of 3)" in out.getvalue()
    assert f"their ensemble {100 * expected:.2f} %" in out.getvalue()


def test_a_single_execution_search_keeps_one_checkpoint_and_one_test_figure(finished_project):
    """The `finished_project` fixture is a 1-execution CLI search: nothing new on disk or in the log."""
    assert not list(finished_project.glob(REPLICATE_FILES))
    snapshot = read_results(finished_project)
    assert snapshot.test is not None and snapshot.test["test_accuracy"] is not None
    assert not {"test_accuracies", "test_accuracy_mean", "best_model_execution"} & set(snapshot.test)
    assert "ensemble_test_accuracy" not in snapshot.test and snapshot.ensemble_model_path is None
    assert not (finished_project / ENSEMBLE_MODEL_FILE).exists()
    assert snapshot.test_replicates is None
    assert format_test_result(snapshot.test) == f"{100 * snapshot.test['test_accuracy']:.2f} %"
    out = io.StringIO()
    print_summary(snapshot, None, stream=out)
    assert "evaluated once): " in out.getvalue() and "replicates" not in out.getvalue()


def test_a_retried_trial_keeps_no_replicate_file_of_its_failed_attempt(tmp_path, small_npz):
    """A trial run again (here KerasTuner's retry; a resume or a re-queued worker trial goes through
    the same hook) starts without the replicate checkpoints of its earlier attempt."""
    import keras_tuner as kt

    seen: list[list[str]] = []
    calls = []

    class FailsOnceInTheSecondReplicate(kt.HyperModel):
        def build(self, hp):
            hp.Choice("units", [16])
            model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
            model.compile(
                "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
            )
            return model

        def fit(self, hp, model, *args, **kwargs):
            project = tmp_path / "project"
            seen.append(sorted(p.name for p in project.glob(REPLICATE_FILES)))
            calls.append(len(calls))
            if len(calls) == 2:  # the first attempt's second replicate
                raise RuntimeError("replicate failed")
            return model.fit(*args, **kwargs)

    # max_trials 2: the budget counts the failed attempt as a finished trial (tuner_app.budget)
    cfg = config(
        tmp_path, small_npz, family="dense", executions=2, epochs=1, subset=600, max_retries=1,
        max_trials=2, start_point=False,
    )  # fmt: skip
    SearchEngine(cfg, hypermodel=FailsOnceInTheSecondReplicate()).run()
    # attempt 1: nothing, then its replicate 0; attempt 2 starts clean again, then writes both.
    assert seen == [[], ["execution_0.weights.h5"], [], ["execution_0.weights.h5"]]
    snapshot = read_results(cfg.project_dir)
    (trial,) = snapshot.completed()
    assert trial.attempts == 2
    assert len(snapshot.test["test_accuracies"]) == 2


@pytest.mark.slow
def test_a_distributed_search_tests_the_replicates_its_worker_kept(tmp_path, small_npz):
    """A worker trains (and keeps each replicate's checkpoint in the shared folder); the chief tests."""
    from test_overnight import CLI, free_port, read_logs

    project = tmp_path / "shared"
    common = [
        "--max-trials", "2", "--epochs", "1", "--executions", "2", "--family", "weight_decay",
        "--data", small_npz, "--subset", "1000", "--project-dir", str(project),
        "--oracle", f"127.0.0.1:{free_port()}",
    ]  # fmt: skip
    roles = {"chief": ["--role", "chief"], "w1": ["--role", "worker", "--worker-id", "w1"]}
    with contextlib.ExitStack() as stack:
        procs = []
        for name, role in roles.items():
            log = stack.enter_context(open(tmp_path / f"{name}.log", "w"))
            procs.append(subprocess.Popen([*CLI, *common, *role], stdout=log, stderr=subprocess.STDOUT))
            stack.callback(_end, procs[-1])  # a failed test leaves no search running
        for proc in reversed(procs):  # the worker, then the chief
            assert proc.wait(timeout=600) == 0, read_logs(tmp_path, "chief.log", "w1.log")
    snapshot = read_results(project)
    completed = snapshot.completed()
    assert len(completed) == 2 and {t.worker for t in completed} == {"w1"}
    best = snapshot.best(1)[0].trial_id
    for trial in completed:  # the best trial's replicates, written by the worker; the other's dropped
        folder = project / "keras_tuner" / f"trial_{trial.trial_id}"
        expected = ["execution_0.weights.h5", "execution_1.weights.h5"] if trial.trial_id == best else []
        assert sorted(p.name for p in folder.glob("execution_*")) == expected
    accuracies = snapshot.test["test_accuracies"]
    assert len(accuracies) == 2
    assert snapshot.test_replicates.std == pytest.approx(np.std(accuracies, ddof=1))
    assert "; replicates " in (tmp_path / "chief.log").read_text()


# --- the log's fields, the reader and the phrase, without a search ---------------------------------


def log_with_test(tmp_path, **test_fields) -> ResultsWriter:
    writer = ResultsWriter(tmp_path)
    writer.append("search_started", config={"family": "weight_decay", "executions": 3})
    writer.append("trial_started", trial_id="0", hyperparameters={"l2": 1e-5})
    for execution, best in enumerate([0.95, 0.97, 0.97]):
        writer.append("execution_started", trial_id="0", execution=execution)
        for epoch, value in enumerate([0.90, best]):
            writer.append(
                "epoch", trial_id="0", execution=execution, epoch=epoch, metrics={"val_accuracy": value}
            )
    writer.append("trial_finished", trial_id="0", status="completed")
    writer.append("test_evaluated", trial_id="0", test_accuracy=0.981, test_size=10000, **test_fields)
    writer.append("search_finished", state="finished", reason="done")
    return writer


def test_reader_carries_the_test_replicates_mean_and_sample_std(tmp_path):
    log_with_test(
        tmp_path, test_accuracies=[0.978, 0.981, 0.984], test_losses=[0.07, 0.06, 0.05],
        test_accuracy_mean=0.981, test_accuracy_std=0.003, best_model_execution=1,
    )  # fmt: skip
    snapshot = read_results(tmp_path)
    assert not snapshot.problems
    (trial,) = snapshot.trials
    assert trial.best_execution == 1  # 0.97 twice: the earlier one, as KerasTuner's checkpoint
    replicates = snapshot.test_replicates
    assert replicates.accuracies == (0.978, 0.981, 0.984)
    assert replicates.mean == pytest.approx(0.981)
    assert replicates.std == pytest.approx(0.003)  # sample standard deviation
    assert replicates.best_model_execution == 1
    assert format_test_result(snapshot.test) == (
        "98.10 % (replicate 2 of 3); replicates 98.10 ± 0.30 % (97.80, 98.10, 98.40 %)"
    )
    assert summary_dict(snapshot)["test"]["test_accuracy_std"] == 0.003


@pytest.mark.parametrize(
    "fields",
    [{"test_accuracies": [0.9, "0.8"]}, {"test_accuracies": 0.9}, {"best_model_execution": 1.5},
     {"test_accuracy_std": "0.1"}, {"test_losses": [True]},
     # Valid JSON numbers that broke the window's status bar and the console (break-it pass):
     {"test_accuracies": [float("nan"), 0.5]}, {"test_accuracies": [1e308, 1e308]},
     {"test_accuracies": [10**400, 0.5]}, {"test_losses": [10**400]},
     {"ensemble_test_accuracy": float("nan")}, {"test_accuracy_mean": 2.0}],
)  # fmt: skip
def test_a_test_result_with_malformed_replicates_is_a_reported_bad_line(tmp_path, fields):
    log_with_test(tmp_path, **fields)
    snapshot = read_results(tmp_path)
    assert snapshot.test is None
    assert any("unreadable line" in problem and "test_evaluated" in problem for problem in snapshot.problems)
    status_text(snapshot, now=0.0)  # and nothing downstream raises
    print_summary(snapshot, None, stream=io.StringIO())


def test_a_diverged_models_nan_loss_is_still_a_readable_line(tmp_path):
    nan, inf = float("nan"), float("inf")
    log_with_test(tmp_path, test_accuracies=[0.97, 0.98, 0.98], test_losses=[nan, 0.06, inf], test_loss=nan)
    snapshot = read_results(tmp_path)
    assert snapshot.test is not None and not snapshot.problems
    assert "replicates" in status_text(snapshot, now=0.0)


def test_only_the_best_trial_keeps_its_replicate_checkpoints(tmp_path, small_npz):
    """A trial ended below the best can never become the best, so its replicates' files go (they
    are ~105 MB a trial for the dense 3x1024 model); KerasTuner's checkpoint of every trial stays."""
    cfg = config(tmp_path, small_npz, max_trials=3, epochs=1, executions=2)
    assert SearchEngine(cfg).run().state == "finished"
    project = cfg.project_dir
    snapshot = read_results(project)
    assert len(snapshot.completed()) == 3
    best = snapshot.best(1)[0].trial_id
    kept = sorted(p.parent.name for p in project.glob(REPLICATE_FILES))
    assert kept == [f"trial_{best}"] * 2
    for trial in snapshot.completed():
        assert (project / "keras_tuner" / f"trial_{trial.trial_id}" / "checkpoint.weights.h5").is_file()
    assert snapshot.test["ensemble_test_accuracy"] is not None  # the best's replicates were all there
