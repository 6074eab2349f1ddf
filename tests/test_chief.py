"""The chief's servicer on a real KerasTuner oracle, driven with the real gRPC request messages.

These cover the decisions the subprocess tests only hit by timing: a worker starved of CPU is not
mistaken for a lost one for good, a truly lost worker's trial goes to another worker, a late report
from a worker whose trial was given away is refused, and a worker asking after the last trial was
handed out is told to wait, not to stop. Time is a clock the test moves, not a sleep.
"""

from __future__ import annotations

import socket
import threading
import time

import grpc
import keras_tuner as kt
import pytest
from keras_tuner.src import protos
from keras_tuner.src.distribute.oracle_client import OracleClient
from keras_tuner.src.engine.trial import Trial, TrialStatus

from tuner_app.chief import ChiefServicer
from tuner_app.oracles import ChiefRandomSearchOracle
from tuner_app.worker_client import WORKER_HEADER, ChiefClient, ChiefLost

TIMEOUT_S = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Refused(Exception):
    """What grpc's context.abort does: raise, ending the call with a status."""


class WorkerCall:
    """The gRPC call context as the servicer sees it: the header naming the worker; abort ends the call."""

    def __init__(self, worker: str):
        self.worker = worker
        self.refusal: tuple[grpc.StatusCode, str] | None = None

    def invocation_metadata(self):
        return ((WORKER_HEADER, self.worker),)

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.refusal = (code, details)
        raise Refused(details)


def make_servicer(tmp_path, max_trials: int, max_failures: int | None = None):
    space = kt.HyperParameters()
    space.Int("units", 1, 1000)
    oracle = ChiefRandomSearchOracle(
        objective=kt.Objective("val_accuracy", "max"), max_trials=max_trials, hyperparameters=space, seed=1,
        max_consecutive_failed_trials=max_failures,
    )  # fmt: skip
    oracle._set_project_dir(str(tmp_path), "kt")
    log: list[tuple[str, str, str]] = []
    servicer = ChiefServicer(
        oracle,
        tmp_path,
        TIMEOUT_S,
        on_orphan=lambda trial, worker: log.append(("orphaned", trial, worker)),
        on_return=lambda trial, worker: log.append(("reclaimed", trial, worker)),
        pause_s=0,
        clock=Clock(),
    )
    return servicer, oracle, log


def ask(servicer: ChiefServicer, worker: str, call: WorkerCall | None = None) -> Trial:
    request = protos.get_service().CreateTrialRequest(tuner_id=worker)
    return Trial.from_proto(servicer.CreateTrial(request, call).trial)


def report(servicer: ChiefServicer, trial_id: str, call: WorkerCall | None = None) -> None:
    request = protos.get_service().UpdateTrialRequest(
        trial_id=trial_id, metrics={"val_accuracy": 0.9}, step=0
    )
    servicer.UpdateTrial(request, call)


def go_silent(servicer: ChiefServicer) -> None:
    servicer.clock.now += TIMEOUT_S * 1.5
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
    running = ask(servicer, "busy")
    servicer.stopping = True

    answer = ask(servicer, "late")

    assert answer.status == TrialStatus.STOPPED, "told to stop, not to wait for the busy worker"
    assert list(oracle.trials) == [running.trial_id] and servicer.live_workers() == ["busy"]


def test_a_late_report_on_a_trial_given_to_another_worker_is_refused(tmp_path):
    servicer, oracle, _ = make_servicer(tmp_path, max_trials=2)
    slow, taker = WorkerCall("slow"), WorkerCall("taker")
    trial_id = ask(servicer, "slow", slow).trial_id
    go_silent(servicer)
    assert ask(servicer, "taker", taker).trial_id == trial_id

    with pytest.raises(Refused):
        report(servicer, trial_id, slow)
    report(servicer, trial_id, taker)

    assert slow.refusal[0] == grpc.StatusCode.FAILED_PRECONDITION
    assert "given to worker taker" in slow.refusal[1] and "--worker-timeout" in slow.refusal[1]
    assert taker.refusal is None
    assert oracle.ongoing_trials == {"taker": oracle.trials[trial_id]}, "the taker still runs it"
    end = protos.get_service().EndTrialRequest(trial=oracle.trials[trial_id].to_proto())
    with pytest.raises(Refused):
        servicer.EndTrial(end, slow)
    assert oracle.ongoing_trials == {"taker": oracle.trials[trial_id]}, "a late end must not end it"
    assert other_thread_gets_the_oracle(oracle), "a refused report must not leave the oracle's lock held"


def other_thread_gets_the_oracle(oracle) -> bool:
    """KerasTuner's @synchronized lock is reentrant per thread: only another thread can tell."""
    done = threading.Event()
    threading.Thread(target=lambda: (oracle.running_workers(), done.set()), daemon=True).start()
    return done.wait(5)


def test_a_resumed_chief_keeps_a_running_trial_for_its_live_worker(tmp_path):
    """KerasTuner's reload re-queues the trials that were running; a worker that outlived the chief's
    restart (its heartbeat fresh) keeps its trial: another worker asking gets a new one."""
    from tuner_app.distributed import HEARTBEAT_DIR

    servicer, oracle, log = make_servicer(tmp_path, max_trials=3)
    running = ask(servicer, "old").trial_id
    oracle.save()
    resumed, again, log = make_servicer(tmp_path, max_trials=3)
    again.reload()
    assert again.queued_trials() == [running]
    (tmp_path / HEARTBEAT_DIR).mkdir(exist_ok=True)
    (tmp_path / HEARTBEAT_DIR / "old.alive").touch()
    resumed.clock.now = time.time()

    assert ask(resumed, "new").trial_id != running, "kept for its live worker"
    report(resumed, running, WorkerCall("old"))
    assert again.ongoing_trials["old"].trial_id == running and log == [("reclaimed", running, "old")]


def test_a_worker_that_outlived_a_chief_restart_keeps_its_trial(tmp_path):
    servicer, oracle, log = make_servicer(tmp_path, max_trials=3)
    running = oracle.create_trial("old").trial_id
    oracle._retry_queue.append(running)  # what KerasTuner's reload does with running trials
    oracle.ongoing_trials.clear()

    report(servicer, running, WorkerCall("old"))

    assert oracle._retry_queue == [] and oracle.ongoing_trials["old"].trial_id == running
    assert ask(servicer, "new").trial_id != running, "not handed out a second time"
    assert log == [("reclaimed", running, "old")]


def test_an_oracle_error_ends_the_search_instead_of_wedging_the_chief(tmp_path):
    """KerasTuner's failure limit raises inside its @synchronized, which then keeps its lock."""
    servicer, _, _ = make_servicer(tmp_path, max_trials=5, max_failures=1)
    trial = ask(servicer, "a", WorkerCall("a"))
    trial.status = TrialStatus.FAILED
    call = WorkerCall("a")
    with pytest.raises(Refused, match="consecutive failures"):
        servicer.EndTrial(protos.get_service().EndTrialRequest(trial=trial.to_proto()), call)
    assert call.refusal[0] == grpc.StatusCode.ABORTED
    assert "consecutive failures" in str(servicer.failure)

    answers: list = []
    other = threading.Thread(target=lambda: answers.append(ask(servicer, "b")), daemon=True)
    other.start()
    other.join(timeout=10)
    assert answers, "another worker's call must not block on a lock the error left held"


def test_a_resumed_chief_waits_for_workers_to_take_the_interrupted_trials(tmp_path):
    servicer, oracle, _ = make_servicer(tmp_path, max_trials=2)
    interrupted = oracle.create_trial("worker-of-the-last-run").trial_id
    oracle._retry_queue.append(interrupted)  # what KerasTuner's reload does with running trials
    oracle.ongoing_trials.clear()
    oracle.tuner_ids.clear()

    assert not servicer.search_over(), "no worker has come yet: nothing is orphaned"
    assert ask(servicer, "new").trial_id == interrupted
    go_silent(servicer)
    assert servicer.search_over(), "every worker it served is lost: it reports the orphans"


def test_a_worker_whose_chief_is_gone_fails_fast_with_a_message(monkeypatch):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "w")
    space = kt.HyperParameters()
    oracle = kt.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=1, hyperparameters=space)
    client = ChiefClient(OracleClient(oracle), f"127.0.0.1:{port}", wait_s=1)

    with pytest.raises(ChiefLost, match=f"lost contact with the chief at 127.0.0.1:{port}.*--resume"):
        client.create_trial("w")
    started = time.monotonic()
    with pytest.raises(ChiefLost):
        client.end_trial(Trial(space, trial_id="0"))
    assert time.monotonic() - started < 0.5, "once lost, later calls must not wait again"


def test_a_waiting_worker_does_not_hold_the_chief_while_it_waits(tmp_path):
    servicer, _, _ = make_servicer(tmp_path, max_trials=1)
    ask(servicer, "busy")
    servicer.pause_s = 2.0
    asking = threading.Thread(target=lambda: ask(servicer, "idle"), daemon=True)
    asking.start()
    time.sleep(0.3)  # the idle worker is now in its pause
    assert asking.is_alive()
    polled: list[bool] = []
    poll = threading.Thread(target=lambda: polled.append(servicer.search_over()), daemon=True)
    poll.start()
    poll.join(timeout=1.0)
    assert polled == [False], "other workers' reports and the poll loop must get in"
    asking.join()


def test_workers_are_told_apart_over_real_grpc_by_the_name_they_send(tmp_path, monkeypatch):
    """Two real clients in one process share a connection (one peer); only their header differs."""
    from concurrent import futures

    servicer, oracle, _ = make_servicer(tmp_path, max_trials=2)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
        monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
        clients = {}
        for name in ("owner", "other"):
            monkeypatch.setenv("KERASTUNER_TUNER_ID", name)
            clients[name] = ChiefClient(OracleClient(oracle), f"127.0.0.1:{port}", wait_s=10)
        trial = clients["owner"].create_trial("owner")
        clients["owner"].update_trial(trial.trial_id, {"val_accuracy": 0.5})
        with pytest.raises(ChiefLost, match="refused this worker's report"):
            clients["other"].update_trial(trial.trial_id, {"val_accuracy": 0.9})
        assert oracle.ongoing_trials == {"owner": oracle.trials[trial.trial_id]}
        clients["owner"].confirm_running(trial.trial_id)  # the per-epoch check: still its trial
        monkeypatch.setenv("KERASTUNER_TUNER_ID", "late")
        late = ChiefClient(OracleClient(oracle), f"127.0.0.1:{port}", wait_s=10)
        with pytest.raises(ChiefLost, match="refused this worker's report"):
            late.confirm_running(trial.trial_id)
    finally:
        server.stop(grace=None)


def test_a_worker_that_finds_no_chief_is_told_when_the_search_has_already_ended(finished_project, tmp_path):
    from tuner_app.worker_role import search_ended_note

    note = search_ended_note(finished_project)
    assert f"the search in {finished_project} has ended: finished" in note and "--resume" in note
    assert search_ended_note(tmp_path) == "", "no log yet: nothing to add"


def test_a_workers_epoch_check_waits_for_a_restarting_chief(tmp_path, monkeypatch):
    """The per-epoch "do I still run it?" call waits for a chief that is down (killed and resumed),
    as KerasTuner's own calls do, instead of ending the worker; with no chief at all it ends it."""
    from concurrent import futures

    servicer, oracle, _ = make_servicer(tmp_path, max_trials=2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "owner")
    trial_id = ask(servicer, "owner", WorkerCall("owner")).trial_id
    client = ChiefClient(OracleClient(oracle), f"127.0.0.1:{port}", wait_s=20)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    starter = threading.Timer(2.0, server.start)  # the chief comes back 2 s into the call
    starter.start()
    try:
        started = time.monotonic()
        client.confirm_running(trial_id)
        assert 1.5 < time.monotonic() - started < 15
    finally:
        starter.cancel()
        server.stop(grace=None)

    gone = ChiefClient(OracleClient(oracle), f"127.0.0.1:{port}", wait_s=2)
    with pytest.raises(ChiefLost, match="lost contact with the chief"):
        gone.confirm_running(trial_id)


def test_a_worker_waiting_for_a_lost_chief_stops_when_the_user_says_so(tmp_path, monkeypatch):
    from tuner_app.tuners import StopSearch

    with socket.socket() as probe:  # nothing listens here
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "w")
    oracle = kt.oracles.RandomSearchOracle(
        objective="val_accuracy", max_trials=1, hyperparameters=kt.HyperParameters()
    )
    stop_at = time.monotonic() + 1.0
    client = ChiefClient(
        OracleClient(oracle), f"127.0.0.1:{port}", wait_s=300, should_stop=lambda: time.monotonic() > stop_at
    )
    started = time.monotonic()
    with pytest.raises(StopSearch, match="stopped by the user while waiting for the chief"):
        client.confirm_running("0")
    assert time.monotonic() - started < 10, "a Stop is heard within a slice, not after 300 s"


def test_a_resume_does_not_rerun_a_trial_that_had_ended(tmp_path):
    """KerasTuner's end_trial saves oracle.json before dropping the trial from ongoing_trials: a
    reload re-queued the search's last finished trial (break-it: trial 2 run twice after a resume)."""
    from tuner_app.oracles import forget_ended_trials

    _, oracle, _ = make_servicer(tmp_path, max_trials=3)
    trial = oracle.create_trial("w")
    interrupted = oracle.create_trial("v").trial_id  # still running when the chief dies
    trial.status = TrialStatus.COMPLETED
    oracle.update_trial(trial.trial_id, {"val_accuracy": 0.9})
    oracle.end_trial(trial)  # saves, then pops: oracle.json still says it runs
    _, again, _ = make_servicer(tmp_path, max_trials=3)
    again.reload()
    assert trial.trial_id in again.queued_trials(), "KerasTuner's own reload re-queues it"
    assert forget_ended_trials(again) == [trial.trial_id]
    assert again.queued_trials() == [interrupted], "the interrupted trial is still re-run"
