"""KerasTuner's own distributed mode (a chief oracle and workers over gRPC), made safe for long runs.

Roles are set through KerasTuner's environment variables. The chief serves KerasTuner's
`OracleServicer` with our own serving loop instead of `oracle_chief.start_server`, for two reasons
read from its source (1.4.8): it checks for the end only every 20 s, and a worker killed mid-trial
leaves its trial in `ongoing_trials` forever, so the chief never exits. Workers touch a heartbeat
file; the chief re-queues the trial of a worker whose heartbeat went stale (another worker re-runs
it from scratch) and, if no live worker is left to take it, ends with a report saying how to resume.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path

HEARTBEAT_DIR = "workers"
HEARTBEAT_PERIOD_S = 2.0
CHIEF_WAIT_S = 300.0  # a worker started before its chief waits this long for it


class DistributedError(RuntimeError):
    """The distributed setup cannot work (port in use, bad address); the message says what to do."""


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"Oracle address {text!r} must look like HOST:PORT, e.g. 127.0.0.1:8000.")
    return host, int(port)


def configure_environment(role: str, address: str, tuner_id: str) -> None:
    """Set KerasTuner's variables; it reads them whenever a tuner is built or searches."""
    host, port = parse_address(address)
    os.environ["KERASTUNER_TUNER_ID"] = tuner_id
    os.environ["KERASTUNER_ORACLE_IP"] = host
    os.environ["KERASTUNER_ORACLE_PORT"] = str(port)


def clear_environment() -> None:
    for name in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        os.environ.pop(name, None)


def check_port_free(address: str) -> None:
    host, port = parse_address(address)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise DistributedError(
                f"The chief cannot listen on {host}:{port} ({exc.strerror}): the port is in use or "
                "the address is not on this machine. Pick another with --oracle HOST:PORT."
            ) from None


def wait_for_chief(address: str, timeout_s: float) -> None:
    """Block until the chief accepts connections; KerasTuner's client would wait forever."""
    host, port = parse_address(address)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise DistributedError(
                    f"No chief answered at {host}:{port} within {timeout_s:.0f} s. Start it with "
                    f"--role chief --oracle {host}:{port}, or check the address."
                ) from None
            time.sleep(0.5)


class Heartbeat:
    """A worker's proof of life: a file in PROJECT/workers/ touched every few seconds."""

    def __init__(self, project_dir: Path, worker_id: str, period_s: float = HEARTBEAT_PERIOD_S):
        self.path = project_dir / HEARTBEAT_DIR / f"{worker_id}.alive"
        self.period_s = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.path.unlink(missing_ok=True)

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            self.path.touch()


def heartbeat_age(project_dir: Path, worker_id: str) -> float | None:
    """Seconds since the worker's last heartbeat, or None if it never had one (or left cleanly)."""
    path = project_dir / HEARTBEAT_DIR / f"{worker_id}.alive"
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None


OrphanListener = Callable[[str, str], None]  # (trial_id, worker_id)


def serve_chief(
    oracle,
    address: str,
    project_dir: Path,
    worker_timeout_s: float,
    on_orphan: OrphanListener,
    should_stop: Callable[[], bool] = lambda: False,
    poll_s: float = 0.5,
) -> list[str]:
    """Serve the oracle until every trial has ended; return ids of trials left orphaned."""
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    host, port = parse_address(address)
    _wait_while_others_run(oracle)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if server.add_insecure_port(f"{host}:{port}") == 0:
        raise DistributedError(f"The chief cannot listen on {host}:{port}; pick another --oracle.")
    server.start()
    orphaned: list[str] = []
    try:
        while True:
            time.sleep(poll_s)
            orphaned = _requeue_dead_workers(oracle, project_dir, worker_timeout_s, on_orphan)
            if oracle.ongoing_trials:
                continue
            if should_stop():
                break
            # Serve until every live worker has been told to stop (else it would wait forever).
            live = [t for t in oracle.tuner_ids if _alive(project_dir, t, worker_timeout_s)]
            if not live and (servicer.stop_triggered or orphaned):
                break
    finally:
        server.stop(grace=2)
    return orphaned


def _wait_while_others_run(oracle, pause_s: float = 1.0) -> None:
    """A worker asking for a trial after the last one was handed out waits (IDLE), not stops, while
    other workers still run trials: if one of them is lost, its re-queued trial needs a taker.
    Found when a quick worker left before a slow worker's trial was orphaned (nobody re-ran it)."""
    from keras_tuner.src.engine import trial as trial_module

    create = oracle.create_trial

    def create_trial(tuner_id: str):
        trial = create(tuner_id)
        others = [w for w in oracle.ongoing_trials if w != tuner_id]
        if trial.status == trial_module.TrialStatus.STOPPED and others:
            time.sleep(pause_s)  # KerasTuner's worker asks again at once on IDLE
            trial.status = trial_module.TrialStatus.IDLE
        return trial

    oracle.create_trial = create_trial


def _alive(project_dir: Path, worker_id: str, timeout_s: float) -> bool:
    age = heartbeat_age(project_dir, worker_id)
    return age is not None and age < timeout_s


def _requeue_dead_workers(
    oracle, project_dir: Path, timeout_s: float, on_orphan: OrphanListener
) -> list[str]:
    """Give the trials of silent workers back to the queue; return the queue's trial ids."""
    for worker_id, trial in list(oracle.ongoing_trials.items()):
        age = heartbeat_age(project_dir, worker_id)
        if age is not None and age < timeout_s:
            continue
        oracle.ongoing_trials.pop(worker_id, None)
        oracle.tuner_ids.discard(worker_id)
        if trial.trial_id not in oracle._retry_queue:
            oracle._retry_queue.append(trial.trial_id)
        oracle.save()
        on_orphan(trial.trial_id, worker_id)
    return list(oracle._retry_queue)
