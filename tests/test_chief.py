"""The chief's servicer on a real KerasTuner oracle, driven with the real gRPC request messages.

These cover the decisions the subprocess tests only hit by timing: a worker starved of CPU is not
mistaken for a lost one for good, a truly lost worker's trial goes to another worker, and a worker
asking after the last trial was handed out is told to wait, not to stop.
"""

from __future__ import annotations

import time

import keras_tuner as kt
import pytest
from keras_tuner.src import protos
from keras_tuner.src.engine.trial import Trial, TrialStatus

from tuner_app.chief import ChiefServicer

TIMEOUT_S = 0.3


def make_servicer(tmp_path, max_trials: int):
    space = kt.HyperParameters()
    space.Int("units", 1, 1000)
    oracle = kt.oracles.RandomSearchOracle(
        objective=kt.Objective("val_accuracy", "max"), max_trials=max_trials, hyperparameters=space, seed=1
    )
    oracle._set_project_dir(str(tmp_path), "kt")
    log: list[tuple[str, str, str]] = []
    servicer = ChiefServicer(
        oracle,
        tmp_path,
        TIMEOUT_S,
        on_orphan=lambda trial, worker: log.append(("orphaned", trial, worker)),
        on_return=lambda trial, worker: log.append(("reclaimed", trial, worker)),
        pause_s=0,
    )
    return servicer, oracle, log


def ask(servicer: ChiefServicer, worker: str):
    response = servicer.CreateTrial(protos.get_service().CreateTrialRequest(tuner_id=worker), None)
    return Trial.from_proto(response.trial)


def report(servicer: ChiefServicer, trial_id: str, accuracy: float = 0.9) -> None:
    request = protos.get_service().UpdateTrialRequest(
        trial_id=trial_id, metrics={"val_accuracy": accuracy}, step=0
    )
    servicer.UpdateTrial(request, None)


def go_silent(servicer: ChiefServicer) -> None:
    time.sleep(TIMEOUT_S * 1.5)
    with servicer.lock:
        servicer.requeue_silent_workers()


def test_a_starved_worker_that_reports_again_gets_its_trial_back(tmp_path):
    servicer, oracle, log = make_servicer(tmp_path, max_trials=2)
    trial_id = ask(servicer, "slow").trial_id
    go_silent(servicer)
    assert oracle._retry_queue == [trial_id] and log == [("orphaned", trial_id, "slow")]
    assert servicer.live_workers() == []

    report(servicer, trial_id)

    assert oracle._retry_queue == [], "the trial must not be handed out a second time"
    assert oracle.ongoing_trials["slow"].trial_id == trial_id
    assert log[-1] == ("reclaimed", trial_id, "slow")
    assert servicer.live_workers() == ["slow"]


def test_a_lost_workers_trial_goes_to_the_next_worker_that_asks(tmp_path):
    servicer, oracle, log = make_servicer(tmp_path, max_trials=2)
    lost_id = ask(servicer, "doomed").trial_id
    go_silent(servicer)
    assert log == [("orphaned", lost_id, "doomed")]

    taken = ask(servicer, "survivor")

    assert taken.trial_id == lost_id
    assert oracle.ongoing_trials == {"survivor": oracle.trials[lost_id]}
    assert "doomed" not in oracle.tuner_ids


@pytest.mark.parametrize("others_running", [True, False])
def test_a_worker_asking_after_the_last_trial_waits_while_others_run(tmp_path, others_running):
    servicer, oracle, _ = make_servicer(tmp_path, max_trials=1)
    last = ask(servicer, "busy")
    if not others_running:
        report(servicer, last.trial_id)
        oracle.end_trial(oracle.trials[last.trial_id])

    answer = ask(servicer, "idle")

    assert answer.status == (TrialStatus.IDLE if others_running else TrialStatus.STOPPED)
    assert servicer.stop_triggered is not others_running
    assert ("idle" in servicer.live_workers()) is others_running, "a worker told to stop has left"


def test_a_chief_out_of_budget_hands_out_no_new_trial(tmp_path):
    servicer, oracle, _ = make_servicer(tmp_path, max_trials=5)
    servicer.stopping = True

    answer = ask(servicer, "late")

    assert answer.status == TrialStatus.STOPPED
    assert oracle.trials == {} and servicer.live_workers() == []
