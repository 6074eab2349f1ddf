"""The chief of a distributed search: KerasTuner's oracle served over gRPC, made safe for long runs.

We serve KerasTuner's `OracleServicer` (subclassed) with our own loop instead of
`oracle_chief.start_server`, for reasons read from its source (1.4.8): it checks for the end only
every 20 s, and a worker killed mid-trial leaves its trial in `ongoing_trials` forever, so the chief
never exits. Here a silent worker's trial is re-queued for another worker, and if no live worker is
left to take it, the chief ends with the ids of the orphaned trials so the caller can say how to resume.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

from tuner_app.distributed import HEARTBEAT_DIR, DistributedError, heartbeat_age, parse_address
from tuner_app.identity import decode, differences
from tuner_app.keras_tuner_seam import (
    OracleServicer,
    Trial,
    TrialStatus,
    protos,
    release_synchronized_lock,
)
from tuner_app.oracles import ChiefMixin, LateReport
from tuner_app.worker_client import IDENTITY_HEADER, PROJECT_HEADER, STILL_RUNNING_HEADER, WORKER_HEADER

OrphanListener = Callable[[str, str], None]  # (trial_id, worker_id)


def serve_chief(
    oracle: ChiefMixin,
    address: str,
    project_dir: Path,
    worker_timeout_s: float,
    on_orphan: OrphanListener,
    should_stop: Callable[[], bool] = lambda: False,
    on_return: OrphanListener = lambda trial_id, worker_id: None,
    poll_s: float = 0.5,
    identity: Mapping[str, Any] | None = None,
    on_refuse: Callable[[str, str], None] = lambda worker_id, reason: None,
    project_token: str | None = None,
) -> list[str]:
    """Serve the oracle until every trial has ended; return ids of trials left orphaned."""
    host, port = parse_address(address)
    # Several handler threads: a worker told to wait must not hold up the others' reports.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = ChiefServicer(
        oracle,
        project_dir,
        worker_timeout_s,
        on_orphan,
        on_return,
        identity=identity,
        on_refuse=on_refuse,
        project_token=project_token,
    )
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if server.add_insecure_port(f"{host}:{port}") == 0:
        raise DistributedError(f"The chief cannot listen on {host}:{port}; pick another --oracle.")
    server.start()
    try:
        while True:
            time.sleep(poll_s)
            if servicer.failure is not None:
                raise servicer.failure  # e.g. KerasTuner's consecutive-failure limit
            servicer.requeue_silent_workers()
            if should_stop():
                servicer.stopping = True  # workers are told to stop once their trial ends
            if servicer.search_over():
                return oracle.queued_trials()
    finally:
        server.stop(grace=2).wait()


class ChiefServicer(OracleServicer):
    """KerasTuner's OracleServicer plus what a night-long run needs when workers die.

    The oracle is one of tuner_app.oracles' chief oracles: it keeps the record of the workers and
    re-queues or gives back their trials under its own lock. This class only adapts gRPC to it:
    - A worker is alive while its heartbeat file is fresh or it called within `timeout_s`; a silent
      worker's trial is re-queued for another worker (KerasTuner would wait for it forever).
    - A worker declared lost that reports again (stopped, starved of CPU) gets its trial back if
      nobody has taken it yet. If another worker has, the late reports are refused (the late worker
      ends with a message) so they neither end nor mix into the other worker's run. KerasTuner's
      reports carry only the trial id: our workers name themselves in a call header.
    - An error inside KerasTuner's oracle (its consecutive-failure limit) ends the search: its
      `@synchronized` lock, left held by the error, is released so the chief can finish.
    - A worker asking for a trial after the last one was handed out waits (IDLE) while others still
      run trials: if one of them is lost, its re-queued trial needs a taker.
    """

    def __init__(
        self,
        oracle: ChiefMixin,
        project_dir: Path,
        timeout_s: float,
        on_orphan: OrphanListener,
        on_return: OrphanListener,
        pause_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        identity: Mapping[str, Any] | None = None,
        on_refuse: Callable[[str, str], None] = lambda worker_id, reason: None,
        project_token: str | None = None,
    ):
        if not isinstance(oracle, ChiefMixin):
            kind = type(oracle).__name__
            raise TypeError(f"a chief needs one of tuner_app.oracles' chief oracles, not {kind}")
        super().__init__(oracle)
        self.project_token = project_token
        self.identity = dict(identity) if identity is not None else None
        self.on_refuse = on_refuse
        self._refused: dict[str, str] = {}  # worker -> why (setdefault: logged once, no lock)
        self.project_dir = project_dir
        self.timeout_s = timeout_s
        self.on_orphan = on_orphan
        self.on_return = on_return
        self.pause_s = pause_s
        self.clock = clock
        self.failure: Exception | None = None

    @property
    def stopping(self) -> bool:
        return self.oracle.stopping

    @stopping.setter
    def stopping(self, value: bool) -> None:
        self.oracle.stopping = value  # workers are told to stop once their trial ends

    # -- gRPC handlers (KerasTuner's, with contact tracking) --

    def CreateTrial(self, request, context):
        trial = self._guarded(self._create_trial, request, context)
        if trial.status == TrialStatus.IDLE:
            time.sleep(self.pause_s)  # KerasTuner's worker asks again at once
        return protos.get_service().CreateTrialResponse(trial=trial.to_proto())

    def _create_trial(self, request, context) -> Trial:
        trial, waiting = self.oracle.trial_for(request.tuner_id, self.clock(), self.alive)
        if waiting:
            trial.status = TrialStatus.IDLE
        elif trial.status == TrialStatus.STOPPED:
            self.stop_triggered = True
        return trial

    def UpdateTrial(self, request, context):
        return self._guarded(self._update_trial, request, context)

    def _update_trial(self, request, context):
        self._heard_about(request.trial_id, context)
        return super().UpdateTrial(request, context)

    def EndTrial(self, request, context):
        return self._guarded(self._end_trial, request, context)

    def _end_trial(self, request, context):
        self._heard_about(request.trial.trial_id, context)
        return super().EndTrial(request, context)

    def GetSpace(self, request, context):
        return self._guarded(super().GetSpace, request, context)

    def UpdateSpace(self, request, context):
        return self._guarded(super().UpdateSpace, request, context)

    def GetTrial(self, request, context):
        return self._guarded(self._get_trial, request, context)

    def _get_trial(self, request, context):
        if _header(context, STILL_RUNNING_HEADER):  # a worker's per-epoch check (ChiefClient)
            self._heard_about(request.trial_id, context)
        return super().GetTrial(request, context)

    def GetBestTrials(self, request, context):
        return self._guarded(super().GetBestTrials, request, context)

    def _guarded(self, handler, request, context):
        """Run a handler; an oracle error ends the search instead of wedging it."""
        refusal = self._refusal(context)
        if refusal is not None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, refusal)
        try:
            return handler(request, context)
        except LateReport as late:
            release_synchronized_lock(self.oracle)  # (raised outside the oracle's lock: a safeguard)
            if context is None:
                raise
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(late))
        except Exception as exc:
            release_synchronized_lock(self.oracle)
            self.failure = self.failure or exc
            if context is None:
                raise
            context.abort(grpc.StatusCode.ABORTED, f"the chief's search ended: {exc}")

    def _refusal(self, context) -> str | None:
        """Why a registering worker may not join (its search differs from this chief's), or None.

        Workers send their identity when they register, before anything of theirs reaches the
        oracle: a conv worker under a dense chief would otherwise add conv hyperparameters to the
        space and report conv scores into the dense search. The chief logs the refusal and goes on.
        """
        if context is None or self.identity is None:
            return None
        metadata = dict(context.invocation_metadata() or ())
        text = metadata.get(IDENTITY_HEADER)
        if text is None:
            return None
        theirs = decode(text)
        diffs = (
            differences(self.identity, theirs, labels=("chief", "worker"))
            if theirs is not None
            else ["its identity could not be read"]
        )
        worker = str(metadata.get(WORKER_HEADER, "?"))
        if diffs:
            reason = (
                f"worker {worker}'s search differs from the chief's ({'; '.join(diffs)}); start it "
                "with the chief's settings (its results.jsonl and summary.json record them)"
            )
        elif self.project_token and metadata.get(PROJECT_HEADER) != self.project_token:
            reason = (
                f"worker {worker}'s --project-dir is not the chief's folder {self.project_dir} (it "
                "does not hold this chief's search.lock); give the worker the chief's folder, shared "
                "so that both see the same files"
            )
        else:
            return None
        if self._refused.setdefault(worker, reason) is reason:  # the first refusal is logged
            self.on_refuse(worker, reason)
        return reason

    # -- the chief's own checks, from its poll loop --

    def alive(self, worker: str) -> bool:
        now = self.clock()
        age = heartbeat_age(self.project_dir, worker, now)
        called = self.oracle.last_call.get(worker)
        ages = [a for a in (age, None if called is None else now - called) if a is not None]
        return bool(ages) and min(ages) < self.timeout_s

    def live_workers(self) -> list[str]:
        """Workers that may still ask for a trial: not yet told to stop, and not silent."""
        starting = {path.stem for path in (self.project_dir / HEARTBEAT_DIR).glob("*.alive")}
        return sorted(w for w in self.oracle.workers(starting) if self.alive(w))

    def search_over(self) -> bool:
        """No trial running and no worker left to ask for one, or nothing left to hand out."""
        if self.oracle.running_workers() or self.live_workers():
            return False
        if self.stopping or self.stop_triggered:
            return True
        # Queued trials end the search only once every worker this chief served is lost; a resumed
        # chief starts with the interrupted trials queued and waits for its workers.
        return bool(self.oracle.queued_trials()) and self.oracle.workers_seen

    def requeue_silent_workers(self) -> None:
        """Give the trials of silent workers back to the queue for another worker to re-run."""
        for trial_id, worker in self.oracle.requeue_lost(self.alive):
            self.on_orphan(trial_id, worker)

    def _heard_about(self, trial_id: str, context) -> None:
        """A worker reported on `trial_id`: note it is alive; give back or refuse a re-queued trial."""
        returned, refusal = self.oracle.heard_about(trial_id, _caller(context), self.clock(), self.timeout_s)
        if returned is not None:
            self.on_return(trial_id, returned)
        if refusal is not None:
            raise LateReport(refusal)


def _caller(context) -> str | None:
    """The worker that made this call, from the header our ChiefClient adds (None without one)."""
    return _header(context, WORKER_HEADER)


def _header(context, name: str) -> str | None:
    if context is None:
        return None
    return dict(context.invocation_metadata() or ()).get(name)
