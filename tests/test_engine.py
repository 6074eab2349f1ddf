"""Real KerasTuner searches on small real MNIST subsets, through the engine."""

from __future__ import annotations

import dataclasses
import threading

import keras
import keras_tuner as kt
import numpy as np
import pytest

from tuner_app import data
from tuner_app.config import SearchConfig
from tuner_app.engine import BEST_MODEL_FILE, ProjectDirError, SearchEngine, SearchError
from tuner_app.model_examination import read_examination
from tuner_app.report import SUMMARY_JSON, TRIALS_CSV
from tuner_app.results import read_results


def config(tmp_path, small_npz, **changes) -> SearchConfig:
    base = dict(
        family="dense",
        tuner="random",
        max_trials=2,
        epochs=2,
        subset=1500,
        data_path=small_npz,
        project_dir=tmp_path / "project",
    )
    base.update(changes)
    return SearchConfig(**base)


@pytest.mark.slow
def test_search_records_every_epoch_of_every_replicate(tmp_path, small_npz):
    test_reads = []

    def load_test():
        # Provably after model selection: every trial has ended when the test set is first read.
        snapshot = read_results(tmp_path / "project")
        test_reads.append([t.status for t in snapshot.trials])
        return data.held_out_test(data.load_mnist(small_npz))

    engine = SearchEngine(config(tmp_path, small_npz, executions=2), load_test=load_test)
    outcome = engine.run()

    assert outcome.state == "finished"
    snapshot = read_results(tmp_path / "project")
    assert len(snapshot.trials) == 2
    for trial in snapshot.trials:
        assert trial.status == "completed"
        assert len(trial.executions) == 2
        assert [[e.epoch for e in curve] for curve in trial.executions] == [[0, 1], [0, 1]]
        for curve in trial.executions:
            for record in curve:
                assert set(record.metrics) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert len(trial.execution_scores) == 2
        assert trial.std == pytest.approx(np.std(trial.execution_scores, ddof=1))
    assert test_reads == [["completed", "completed"]], "the test set is read once, after the search"
    # One rule for the best trial: the model tested is the one the log (table, summary) ranks first.
    assert snapshot.test["trial_id"] == snapshot.best(1)[0].trial_id
    examined = read_examination(tmp_path / "project")  # written with the test evaluation
    assert examined["trial_id"] == snapshot.test["trial_id"]
    assert examined["test_size"] == snapshot.test["test_size"]
    assert sum(map(sum, examined["confusion"])) == examined["test_size"]

    assert outcome.best_model_path == tmp_path / "project" / BEST_MODEL_FILE
    model = keras.models.load_model(outcome.best_model_path)  # plain Keras, no custom objects
    x_test = data.held_out_test(data.load_mnist(small_npz))
    _, accuracy = model.evaluate(x_test.x, x_test.y, verbose=0)
    assert accuracy == pytest.approx(outcome.test_accuracy, abs=1e-6)
    assert snapshot.test["test_accuracy"] == pytest.approx(outcome.test_accuracy)
    assert snapshot.test["test_size"] == 1000
    assert (tmp_path / "project" / SUMMARY_JSON).is_file()
    assert (tmp_path / "project" / TRIALS_CSV).read_text().count("\n") == 3


class DivergingOrNot(kt.HyperModel):
    """Learning rate 1e30 drives the loss to NaN; 0.05 trains normally."""

    def build(self, hp):
        model = keras.Sequential(
            [
                keras.Input((28, 28)),
                keras.layers.Flatten(),
                keras.layers.Dense(64, "relu"),
                keras.layers.Dense(10, "softmax"),
            ]
        )
        lr = hp.Choice("learning_rate", [1e30, 0.05])
        model.compile(
            optimizer=keras.optimizers.SGD(lr),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model


@pytest.mark.slow
def test_diverging_trial_is_recorded_as_failed_and_the_search_goes_on(tmp_path, small_npz):
    cfg = config(tmp_path, small_npz, tuner="grid", max_trials=2, epochs=2)
    outcome = SearchEngine(cfg, hypermodel=DivergingOrNot()).run()
    trials = {t.hyperparameters["learning_rate"]: t for t in read_results(cfg.project_dir).trials}
    assert trials[1e30].status == "failed"
    assert "diverged" in trials[1e30].error
    assert trials[0.05].status == "completed"
    assert outcome.state == "finished" and outcome.test_accuracy > 0.5


@pytest.mark.slow
def test_consecutive_failure_limit_ends_the_search_but_keeps_results(tmp_path, small_npz):
    class AlwaysDiverges(DivergingOrNot):
        def build(self, hp):
            hp.Fixed("learning_rate", 1e30)
            hp.Int("distinct_trials", 0, 1000)
            return super().build(hp)

    cfg = config(tmp_path, small_npz, max_trials=5, max_failures=2, epochs=1)
    with pytest.raises(SearchError, match="consecutive failures"):
        SearchEngine(cfg, hypermodel=AlwaysDiverges()).run()
    snapshot = read_results(cfg.project_dir)
    assert snapshot.state == "failed"
    assert [t.status for t in snapshot.trials] == ["failed", "failed"]


@pytest.mark.slow
def test_cancel_from_another_thread_keeps_finished_trials(tmp_path, small_npz):
    engine: SearchEngine

    def listener(event):
        if event["event"] == "trial_finished":
            threading.Thread(target=engine.cancel).start()

    engine = SearchEngine(config(tmp_path, small_npz, max_trials=5, epochs=2), listener=listener)
    outcome = engine.run()
    snapshot = read_results(engine.project_dir)
    assert outcome.state == "stopped" and "user" in outcome.reason
    completed = snapshot.completed()
    assert 1 <= len(completed) < 5
    assert outcome.best_model_path is not None


@pytest.mark.slow
def test_target_and_time_limit_stop_cleanly(tmp_path, small_npz):
    cfg = config(tmp_path, small_npz, max_trials=5, target=0.1, tensorboard=True)
    target = SearchEngine(cfg).run()
    assert "target reached" in target.reason
    assert len(read_results(tmp_path / "project").trials) == 1
    assert list((tmp_path / "project" / "tensorboard").rglob("events.out.tfevents.*"))

    quick = config(tmp_path, small_npz, max_trials=5, time_limit_s=1e-3, project_dir=tmp_path / "t")
    timed = SearchEngine(quick).run()
    assert "time limit" in timed.reason
    assert timed.best_model_path is None


@pytest.mark.slow
def test_resume_completes_the_budget_and_keeps_trials(tmp_path, small_npz):
    first = SearchEngine(config(tmp_path, small_npz, max_trials=2, epochs=1)).run()
    before = {t.trial_id: t.mean for t in read_results(first.project_dir).completed()}
    with pytest.raises(ProjectDirError, match="--resume"):
        SearchEngine(config(tmp_path, small_npz, max_trials=3, epochs=1)).run()
    SearchEngine(config(tmp_path, small_npz, max_trials=3, epochs=1, resume=True)).run()
    after = {t.trial_id: t.mean for t in read_results(first.project_dir).completed()}
    assert len(after) == 3
    assert {k: after[k] for k in before} == before


@pytest.mark.slow
@pytest.mark.parametrize("tuner", ["hyperband", "bayesian"])
def test_other_tuners_run(tmp_path, small_npz, tuner):
    outcome = SearchEngine(config(tmp_path, small_npz, tuner=tuner, max_trials=3, epochs=2)).run()
    snapshot = read_results(outcome.project_dir)
    assert 1 <= len(snapshot.completed()) <= 3
    assert outcome.test_accuracy is not None


@pytest.mark.slow
def test_weight_decay_seed_grid_reports_mean_and_std_per_factor(tmp_path, small_npz):
    cfg = config(
        tmp_path, small_npz, family="weight_decay", space="notebook", tuner="grid",
        executions=3, epochs=1, max_trials=None, subset=1000,
    )  # fmt: skip
    SearchEngine(cfg).run()
    snapshot = read_results(cfg.project_dir)
    trials = snapshot.completed()
    assert len(trials) == 5
    assert snapshot.planned_trials == 5  # the grid's size, not the --max-trials cap
    assert sorted(t.hyperparameters["l2"] for t in trials) == pytest.approx(
        [1e-6, 5.623413e-6, 3.162278e-5, 1.778279e-4, 1e-3]
    )
    for trial in trials:
        assert len(trial.execution_scores) == 3
        assert trial.std is not None and trial.std >= 0


@pytest.mark.slow
def test_a_resumed_grid_search_runs_the_rest_of_the_grid(tmp_path, small_npz):
    """KerasTuner's grid oracle forgets its walk on reload: a resume used to run no trial at all."""
    cfg = config(
        tmp_path, small_npz, family="weight_decay", space="notebook", tuner="grid",
        epochs=1, max_trials=2, subset=1000,
    )  # fmt: skip
    SearchEngine(cfg).run()
    SearchEngine(dataclasses.replace(cfg, max_trials=None, resume=True)).run()
    trials = read_results(cfg.project_dir).completed()
    assert sorted(t.hyperparameters["l2"] for t in trials) == pytest.approx(
        [1e-6, 5.623413e-6, 3.162278e-5, 1.778279e-4, 1e-3]
    )  # the whole grid, each factor once


def test_mirrored_strategy_builds_and_trains_under_the_strategy(tmp_path, small_npz):
    """`--strategy mirrored`: KerasTuner builds and trains each model in MirroredStrategy's scope (here
    over the CPU, the one device this machine has; on a multi-GPU machine the same path spans the GPUs)."""
    seen: list[str] = []

    class Recording(kt.HyperModel):
        def build(self, hp):
            model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
            model.compile(
                "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
            )
            return model

        def fit(self, hp, model, *args, **kwargs):  # Keras trains under the strategy it was built in
            seen.append(type(model.distribute_strategy).__name__)
            return model.fit(*args, **kwargs)

    cfg = config(tmp_path, small_npz, strategy="mirrored", max_trials=1, epochs=1, subset=600)
    outcome = SearchEngine(cfg, hypermodel=Recording()).run()
    assert outcome.state == "finished" and read_results(outcome.project_dir).completed()
    assert seen and set(seen) == {"MirroredStrategy"}


@pytest.mark.slow
def test_random_search_tries_the_family_start_point_first(tmp_path, small_npz):
    from search_spaces.dense import DenseHyperModel

    cfg = config(tmp_path, small_npz, max_trials=2, epochs=1, subset=600)
    SearchEngine(cfg).run()
    first, second = sorted(read_results(cfg.project_dir).trials, key=lambda t: t.started_at)
    assert {k: first.hyperparameters.get(k) for k in DenseHyperModel.START} == DenseHyperModel.START
    assert second.hyperparameters != first.hyperparameters  # then KerasTuner searches as usual

    plain = config(tmp_path, small_npz, max_trials=1, epochs=1, subset=600, start_point=False)
    plain = dataclasses.replace(plain, project_dir=tmp_path / "plain")
    SearchEngine(plain).run()
    (only,) = read_results(plain.project_dir).trials
    assert {k: only.hyperparameters.get(k) for k in DenseHyperModel.START} != DenseHyperModel.START


def test_stop_ends_the_running_epoch_within_a_few_batches(tmp_path, small_npz):
    """A Stop (or a time limit) must not wait for the end of a long epoch."""
    batches: list[int] = []

    class Counting(kt.HyperModel):
        def build(self, hp):
            model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            model.compile("adam", loss, metrics=["accuracy"])
            return model

        def fit(self, hp, model, *args, callbacks=(), **kwargs):
            counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
            return model.fit(*args, batch_size=32, callbacks=[counter, *callbacks], **kwargs)

    engine: SearchEngine

    def listener(event):
        if event["event"] == "execution_started":
            engine.cancel()

    cfg = config(tmp_path, small_npz, max_trials=3, epochs=3, subset=3000)  # 75 batches an epoch
    engine = SearchEngine(cfg, listener=listener, hypermodel=Counting())
    outcome = engine.run()
    assert outcome.state == "stopped"
    assert len(batches) <= 10  # not 75: the epoch ended within a few batches (checked at batch begin)
    (trial,) = read_results(cfg.project_dir).trials
    assert trial.status == "interrupted"
    assert trial.epochs_done == 0  # the cut epoch's partial metrics are not recorded as an epoch


@pytest.mark.slow
def test_a_first_trial_file_is_the_first_trial_then_the_start_point(tmp_path, small_npz):
    """The window's "new search from this trial": --first-trial goes before the family's start point."""
    import json

    from search_spaces.dense import DenseHyperModel

    first = {"num_layers": 1, "units_0": 48, "activation": "tanh"}
    path = tmp_path / "first.json"
    path.write_text(json.dumps(first))
    cfg = config(tmp_path, small_npz, max_trials=2, epochs=1, subset=600, first_trial=path)
    SearchEngine(cfg).run()
    one, two = sorted(read_results(cfg.project_dir).trials, key=lambda t: t.started_at)
    assert {k: one.hyperparameters.get(k) for k in first} == first
    assert {k: two.hyperparameters.get(k) for k in DenseHyperModel.START} == DenseHyperModel.START
