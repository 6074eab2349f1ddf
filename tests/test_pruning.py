"""`--prune`: the median stopping rule, on a real results log and in a real small search."""

from __future__ import annotations

import keras
import keras_tuner as kt
import pytest

from tuner_app.config import ConfigError, SearchConfig
from tuner_app.engine import SearchEngine
from tuner_app.events import Event
from tuner_app.pruning import MedianStopping
from tuner_app.results import read_results
from tuner_app.results_writer import ResultsWriter


def finished_trial(writer: ResultsWriter, trial_id: str, curve: list[float]) -> None:
    writer.append(Event.TRIAL_STARTED, trial_id=trial_id, hyperparameters={})
    writer.append(Event.EXECUTION_STARTED, trial_id=trial_id, execution=0)
    for epoch, value in enumerate(curve):
        writer.append(
            Event.EPOCH, trial_id=trial_id, execution=0, epoch=epoch, metrics={"val_accuracy": value}
        )
    writer.append(Event.TRIAL_FINISHED, trial_id=trial_id, status="completed", score=max(curve), error=None)


def test_the_median_of_running_averages_decides(tmp_path):
    writer = ResultsWriter(tmp_path)
    rule = MedianStopping(tmp_path, min_trials=3, warmup_epochs=1)
    finished_trial(writer, "0", [0.90, 0.94, 0.96])  # running averages 0.90, 0.92, 0.9333
    finished_trial(writer, "1", [0.80, 0.90, 0.91])  # 0.80, 0.85, 0.87
    rule.refresh()
    assert rule.finished_trials == 2 and rule.threshold(1) is None, "needs 3 finished trials"
    finished_trial(writer, "2", [0.50, 0.70])  # 0.50, 0.60 (stopped early itself: shorter curve)
    rule.refresh()
    assert rule.threshold(0) is None, "the warm-up epoch always runs"
    assert rule.threshold(1) == pytest.approx(0.85)  # median of 0.92, 0.85, 0.60
    assert rule.threshold(2) is None, "only 2 finished trials reached a third epoch"
    assert rule.should_stop(1, [0.70, 0.84])
    assert not rule.should_stop(1, [0.86, 0.80]), "the best so far counts, not the last epoch"
    assert not rule.should_stop(1, [0.70, rule.threshold(1)]), "equal to the median is not below it"


def test_hyperband_refuses_prune_with_a_message():
    with pytest.raises(ConfigError, match="Hyperband already stops trials early"):
        SearchConfig(tuner="hyperband", prune=True, max_trials=None).validated()


class ThreeGoodThenHopeless(kt.HyperModel):
    """Grid order: variants 0-2 learn, variant 3 has a learning rate that learns nothing."""

    def build(self, hp):
        variant = hp.Int("variant", 0, 3)
        model = keras.Sequential(
            [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(32, activation="relu"),
             keras.layers.Dense(10, activation="softmax")]
        )  # fmt: skip
        rate = 1e-9 if variant == 3 else 3e-3
        model.compile(keras.optimizers.Adam(rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model


@pytest.mark.slow
def test_a_hopeless_trial_is_stopped_after_the_warm_up_and_recorded(tmp_path, small_npz):
    config = SearchConfig(
        tuner="grid", max_trials=4, epochs=3, subset=1000, data_path=small_npz, prune=True,
        project_dir=tmp_path / "p",
    )  # fmt: skip
    SearchEngine(config, hypermodel=ThreeGoodThenHopeless()).run()
    snapshot = read_results(config.project_dir)
    by_variant = {t.hyperparameters["variant"]: t for t in snapshot.trials}
    assert [len(by_variant[v].executions[0]) for v in range(4)] == [3, 3, 3, 2]
    assert by_variant[3].status == "completed", "a stopped trial keeps its score"
    events = [line for line in (config.project_dir / "results.jsonl").read_text().splitlines()]
    finished = [e for e in events if '"trial_finished"' in e]
    assert sum('"pruned_at_epoch": 2' in e for e in finished) == 1
