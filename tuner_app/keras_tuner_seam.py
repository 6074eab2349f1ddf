"""Every use of KerasTuner's (and Keras's) private layout, in one module, checked against one version.

Why one module: pyproject allows KerasTuner 1.4.x, and a release may move any of these names without
notice. Here each is named once, with why we need it; `layout_problems()` lists what the installed
version lacks, and tests/test_keras_tuner_seam.py fails loudly on a new layout instead of a night's
search failing in the middle. Read against KerasTuner 1.4.8 and Keras 3.15.

What goes through here:
- the chief (tuner_app.chief): KerasTuner's gRPC servicer and protos, its oracle's retry queue (a lost
  worker's trial is re-queued), and the lock its `@synchronized` leaves held when an oracle method
  raises (1.4.8 has no try/finally);
- the worker (tuner_app.worker_client): its gRPC client, the client's per-call deadline (a module
  constant read at call time) and the local oracle it wraps;
- the full-disk guard (tuner_app.disk): KerasTuner's `save_json` and its best-epoch checkpoint
  callback, Keras's weights store, so checkpoints and state files are written atomically;
- a resumed grid search (tuner_app.oracles.GridWalkMixin): the grid oracle's walk, which KerasTuner
  keeps only in memory.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import keras_tuner
from keras_tuner.src import protos
from keras_tuner.src import utils as _kt_utils
from keras_tuner.src.distribute import oracle_client as _oracle_client
from keras_tuner.src.distribute.oracle_chief import OracleServicer
from keras_tuner.src.distribute.oracle_client import OracleClient
from keras_tuner.src.engine import oracle as _oracle_module
from keras_tuner.src.engine.trial import Trial, TrialStatus
from keras_tuner.src.engine.tuner_utils import SaveBestEpoch

CHECKED_AGAINST = "1.4.8"

__all__ = [
    "CHECKED_AGAINST", "OracleClient", "OracleServicer", "SaveBestEpoch", "Trial", "TrialStatus",
    "client_call_timeout", "layout_problems", "local_oracle", "override_checkpoint_save", "protos",
    "release_synchronized_lock", "replace_save_json", "restore_grid_walk", "retry_queue", "weights_store",
]  # fmt: skip


def retry_queue(oracle: Any) -> list[str]:
    """Trial ids the oracle hands out again before new ones (KerasTuner fills it for retries)."""
    return oracle._retry_queue


def restore_grid_walk(oracle: Any, tried_in_order: list[str]) -> None:
    """Give KerasTuner's grid oracle back its walk: `_ordered_ids` (a linked list of the tried trial
    ids in grid order) and `_populate_next` (the ids whose next combination is still to be looked
    at). 1.4.8 saves neither in oracle.json, so a reloaded grid oracle found nothing to do next."""
    walk = type(oracle._ordered_ids)()
    for trial_id in tried_in_order:
        walk.insert(trial_id)  # appended at the end: the list keeps the order given
    oracle._ordered_ids = walk
    oracle._populate_next = list(tried_in_order)


def release_synchronized_lock(oracle: Any) -> None:
    """Release the lock KerasTuner's `@synchronized` left held by this thread when a method raised."""
    name = threading.current_thread().name
    if _oracle_module.THREADS[oracle] == name:
        _oracle_module.THREADS[oracle] = None
        _oracle_module.LOCKS[oracle].release()


@contextlib.contextmanager
def client_call_timeout(seconds: float) -> Iterator[None]:
    """KerasTuner's client reads its per-call deadline (an hour) from a module constant at call time."""
    before = _oracle_client.TIMEOUT
    _oracle_client.TIMEOUT = seconds
    try:
        yield
    finally:
        _oracle_client.TIMEOUT = before


def local_oracle(client: OracleClient) -> Any:
    """The worker's own oracle that KerasTuner's client wraps (it answers objective, max_trials...)."""
    return client._oracle


def replace_save_json(new: Callable[[str, Any], str]) -> Callable[[str, Any], str]:
    """Route KerasTuner's JSON state writes (oracle.json, trial.json, tuner0.json) through `new`;
    returns the function it replaced (already `new` if called twice)."""
    before = _kt_utils.save_json
    _kt_utils.save_json = new
    return before


def override_checkpoint_save(callback: Any, save: Callable[[Any], None]) -> None:
    """Make KerasTuner's best-epoch checkpoint callback save through `save(callback)` (it calls its
    private `_save_model`); other callbacks, and one already overridden, are left alone."""
    if isinstance(callback, SaveBestEpoch) and "_save_model" not in vars(callback):
        callback._save_model = save.__get__(callback)


def weights_store() -> tuple[Any, Callable[..., Any]] | None:
    """Keras's HDF5 weights store and its state saver (to build a checkpoint in memory), or None
    when this Keras lacks them (the caller then falls back to `save_weights`)."""
    try:
        from keras.src.saving import saving_lib

        return saving_lib.H5IOStore, saving_lib._save_state
    except (ImportError, AttributeError):
        return None


def ema_layout_problems() -> list[str]:
    """search_spaces._common.AverageSwap (the `ema` hyperparameter) reads Keras 3's weight averages
    from an optimizer's `_model_variables_moving_average`, in the order of `_trainable_variables`
    (it does nothing without them, so a new Keras would silently score raw weights: checked here)."""
    import keras

    optimizer = keras.optimizers.Adam(use_ema=True)
    optimizer.build([keras.Variable(1.0), keras.Variable(2.0)])
    averages = getattr(optimizer, "_model_variables_moving_average", None)
    variables = getattr(optimizer, "_trainable_variables", None)
    if not averages or not variables or len(averages) != len(variables):
        return ["keras Optimizer._model_variables_moving_average / _trainable_variables changed"]
    return []


def layout_problems() -> list[str]:
    """What the installed KerasTuner/Keras lack of the layout this module relies on (empty: all there)."""
    problems = []
    oracle = keras_tuner.oracles.RandomSearchOracle(objective="val_loss", max_trials=1)
    if not isinstance(getattr(oracle, "_retry_queue", None), list):
        problems.append("Oracle._retry_queue is not a list")
    for name in ("LOCKS", "THREADS"):
        if not hasattr(_oracle_module, name):
            problems.append(f"keras_tuner.src.engine.oracle.{name} is missing")
    if not isinstance(getattr(_oracle_client, "TIMEOUT", None), int | float):
        problems.append("keras_tuner.src.distribute.oracle_client.TIMEOUT is missing")
    if not callable(getattr(_kt_utils, "save_json", None)):
        problems.append("keras_tuner.src.utils.save_json is missing")
    for name in ("CreateTrial", "UpdateTrial", "EndTrial", "GetSpace", "UpdateSpace", "GetTrial"):
        if not callable(getattr(OracleServicer, name, None)):
            problems.append(f"OracleServicer.{name} is missing")
    if "_oracle" not in OracleClient.__init__.__code__.co_names:
        problems.append("OracleClient no longer keeps its oracle as `_oracle`")
    grid = keras_tuner.oracles.GridSearchOracle(objective="val_loss", max_trials=1)
    walk = getattr(grid, "_ordered_ids", None)
    if not (callable(getattr(walk, "insert", None)) and callable(getattr(walk, "next", None))):
        problems.append("GridSearchOracle._ordered_ids is no longer a linked list with insert/next")
    if not isinstance(getattr(grid, "_populate_next", None), list) or not callable(
        getattr(grid, "_compare", None)
    ):
        problems.append("GridSearchOracle._populate_next / _compare changed")
    if not callable(getattr(SaveBestEpoch, "_save_model", None)):
        problems.append("SaveBestEpoch._save_model is missing")
    if set(keras_tuner.Hyperband.__init__.__code__.co_names) - {"HyperbandOracle", "super", "__init__"}:
        problems.append("kt.Hyperband.__init__ does more than build its oracle (tuners.HyperbandAround)")
    problems += ema_layout_problems()
    if weights_store() is None:
        problems.append("keras.src.saving.saving_lib.H5IOStore/_save_state are missing")
    return problems
