"""A worker's end of the link to its chief: KerasTuner's OracleClient that fails fast and says why.

KerasTuner's client waits up to an hour per call, and a failed `update_trial` is caught by its
trial loop like any training error, so a worker whose chief vanished would sit silent for hours
(three calls of an hour each before it gives up on one trial). Here the first failed call ends the
worker's search (`ChiefLost` is a KerasTuner FatalError, which its loop re-raises) and every later
call fails at once, with a message a person can act on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from keras_tuner.errors import FatalError

from tuner_app.distributed import DistributedError
from tuner_app.identity import encode as encode_identity
from tuner_app.keras_tuner_seam import OracleClient, client_call_timeout, local_oracle, protos

#: Call header naming the worker: KerasTuner's reports carry only a trial id, and a gRPC peer address
#: changes when an idle connection is re-opened, so the chief could not otherwise tell who reports.
WORKER_HEADER = "tuner-app-worker"
#: Call header with the worker's search identity (tuner_app.identity), sent when it registers.
IDENTITY_HEADER = "tuner-app-identity"
#: Call header with the token the chief wrote into PROJECT/search.lock, as this worker reads it from
#: its own --project-dir: equal only when both see the same folder.
PROJECT_HEADER = "tuner-app-project"
#: Pause between retries of a call the chief dropped (it died or restarts; --resume brings it back).
RETRY_PAUSE_S = 1.0
#: Longest single wait of a worker's per-epoch check (its Stop is looked at in between).
CHECK_SLICE_S = 2.0
#: Call header of a worker's per-epoch question "do I still run this trial?" (a GetTrial call).
STILL_RUNNING_HEADER = "tuner-app-still-running"


class ChiefLost(FatalError):
    """The chief cannot be reached, or refused this worker's report; the message says what to do."""


class ChiefClient(OracleClient):
    """OracleClient whose first failed call to the chief ends the worker's search."""

    def __init__(
        self,
        client: OracleClient,
        address: str,
        wait_s: float,
        should_stop: Callable[[], bool] = lambda: False,
    ):
        # KerasTuner's own set-up (worker id and address from its environment, which the engine
        # set), keeping what its Tuner decided for the client; then a channel naming this worker.
        super().__init__(local_oracle(client))
        self.multi_worker, self.should_report = client.multi_worker, client.should_report
        channel = grpc.intercept_channel(grpc.insecure_channel(address), _NameEveryCall(self.tuner_id))
        self.stub = protos.get_service_grpc().OracleStub(channel)
        self.address = address
        self.wait_s = wait_s
        self.should_stop = should_stop  # the user's Stop, honoured while waiting for a lost chief
        self.lost: ChiefLost | None = None

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.lost is not None:
            raise self.lost
        try:
            with chief_call_timeout(self.wait_s):
                return method(*args, **kwargs)
        except grpc.RpcError as exc:
            self.lost = ChiefLost(describe_failure(exc, self.address, self.wait_s))
            raise self.lost from None

    def get_space(self):
        return self._call(super().get_space)

    def update_space(self, hyperparameters):
        return self._call(super().update_space, hyperparameters)

    def create_trial(self, tuner_id):
        return self._call(super().create_trial, tuner_id)

    def update_trial(self, trial_id, metrics, step=0):
        return self._call(super().update_trial, trial_id, metrics, step=step)

    def end_trial(self, trial):
        return self._call(super().end_trial, trial)

    def get_trial(self, trial_id):
        return self._call(super().get_trial, trial_id)

    def get_best_trials(self, num_trials=1):
        return self._call(super().get_best_trials, num_trials)

    def confirm_running(self, trial_id: str) -> None:
        """Ask the chief whether this worker still runs `trial_id`, which also tells it this worker is
        alive. ChiefLost if the chief gave the trial to another worker meanwhile (this one was silent
        too long): the tuner asks after each epoch, before KerasTuner's checkpoint of that epoch, so a
        dropped run never overwrites the other worker's checkpoint.

        A chief that is down or restarting is waited for (up to `wait_s`, retrying a call it dropped),
        as KerasTuner's own calls do: a resumed chief gives the trial back to this worker."""
        if self.lost is not None:
            raise self.lost
        request = protos.get_service().GetTrialRequest(trial_id=trial_id)
        metadata = ((STILL_RUNNING_HEADER, "1"),)
        deadline = time.monotonic() + self.wait_s
        said = False
        while True:
            left = deadline - time.monotonic()
            try:  # in short slices, so that the user's Stop is heard while the chief is away
                timeout = max(min(left, CHECK_SLICE_S), 0.1)
                self.stub.GetTrial(request, metadata=metadata, timeout=timeout, wait_for_ready=True)
                return
            except grpc.RpcError as exc:
                code = exc.code() if callable(getattr(exc, "code", None)) else None
                waiting = code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
                if waiting and left > RETRY_PAUSE_S:
                    if self.should_stop():
                        from tuner_app.tuners import StopSearch  # the worker's own stop, as usual

                        raise StopSearch("stopped by the user while waiting for the chief") from None
                    gone = code == grpc.StatusCode.UNAVAILABLE or left < self.wait_s - 10  # not just slow
                    if gone and not said:
                        said = True
                        print(
                            f"lost the chief at {self.address}; waiting up to {self.wait_s:.0f} s for it "
                            "to come back (restart it with --resume; Ctrl+C stops this worker)",
                            file=sys.stderr,
                            flush=True,
                        )
                    time.sleep(RETRY_PAUSE_S if code == grpc.StatusCode.UNAVAILABLE else 0)
                    continue
                self.lost = ChiefLost(describe_failure(exc, self.address, self.wait_s))
                raise self.lost from None


class _NameEveryCall(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, worker: str):
        self.header = (WORKER_HEADER, worker)

    def intercept_unary_unary(self, continuation, client_call_details, request):
        metadata = (*(client_call_details.metadata or ()), self.header)
        return continuation(client_call_details._replace(metadata=metadata), request)


#: The client's per-call deadline (KerasTuner's is an hour), set around a block of calls.
chief_call_timeout = client_call_timeout


def describe_failure(exc: grpc.RpcError, address: str, waited_s: float) -> str:
    code = exc.code() if callable(getattr(exc, "code", None)) else None
    details = exc.details() if callable(getattr(exc, "details", None)) else str(exc)
    if code == grpc.StatusCode.FAILED_PRECONDITION:  # the chief refused a late report
        return f"the chief at {address} refused this worker's report: {details}"
    if code == grpc.StatusCode.ABORTED:  # the chief's own search failed; it says why
        return f"the chief at {address} ended the search: {details}"
    name = code.name if code is not None else type(exc).__name__
    return (
        f"lost contact with the chief at {address} ({name}, waited up to {waited_s:.0f} s); "
        "finished trials are kept: restart the chief with --resume, then start the workers again"
    )


class WorkerRefused(DistributedError):
    """The chief refused this worker: its search differs from the chief's (the message says how)."""


def register_with_chief(
    address: str, worker: str, identity: Mapping[str, Any], wait_s: float, project_token: str
) -> None:
    """Present this worker and its search identity to the chief before anything reaches the oracle.

    Why before building the tuner: KerasTuner's worker sends its hypermodel's space to the chief as
    it is built, so a worker of another family would already have changed the chief's search.
    """
    channel = grpc.insecure_channel(address)
    metadata = (
        (WORKER_HEADER, worker),
        (IDENTITY_HEADER, encode_identity(identity)),
        (PROJECT_HEADER, project_token),
    )
    try:
        stub = protos.get_service_grpc().OracleStub(channel)
        stub.GetSpace(protos.get_service().GetSpaceRequest(), metadata=metadata, timeout=wait_s)
    except grpc.RpcError as exc:
        code = exc.code() if callable(getattr(exc, "code", None)) else None
        if code == grpc.StatusCode.FAILED_PRECONDITION:
            details = exc.details() if callable(getattr(exc, "details", None)) else str(exc)
            raise WorkerRefused(f"the chief at {address} refused this worker: {details}") from None
        raise DistributedError(describe_failure(exc, address, wait_s)) from None
    finally:
        channel.close()
