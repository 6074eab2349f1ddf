"""The results log's vocabulary: event kinds, trial statuses and search states as enums, and the check
that a parsed line has the shape its kind needs.

Why enums over bare strings: a decision such as "was this stop the user's?" or "is this trial done?"
compares members, so a typo is an AttributeError at import, not a silently wrong branch. They are
`str` enums so the JSON lines stay plain text and old logs read the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import Enum
from typing import Any


class _TextEnum(str, Enum):
    """A str enum that prints and formats as its value on every Python from 3.10 up."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Event(_TextEnum):
    SEARCH_STARTED = "search_started"
    WORKER_STARTED = "worker_started"
    WORKER_FINISHED = "worker_finished"
    WORKER_REFUSED = "worker_refused"
    TRIAL_STARTED = "trial_started"
    EXECUTION_STARTED = "execution_started"
    EPOCH = "epoch"
    TRIAL_FINISHED = "trial_finished"
    TRIAL_ORPHANED = "trial_orphaned"
    TRIAL_RECLAIMED = "trial_reclaimed"
    TEST_EVALUATED = "test_evaluated"
    TEST_FAILED = "test_failed"
    SEARCH_FINISHED = "search_finished"


class TrialStatus(_TextEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INVALID = "invalid"
    INTERRUPTED = "interrupted"
    ORPHANED = "orphaned"
    STOPPED = "stopped"  # KerasTuner's status for a trial its oracle stopped (Hyperband)

    @classmethod
    def parse(cls, text: Any) -> TrialStatus:
        """KerasTuner's status names ('COMPLETED') or ours; an unknown one reads as failed."""
        try:
            return cls(str(text).lower())
        except ValueError:
            return cls.FAILED


class SearchState(_TextEnum):
    EMPTY = "empty"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def over(self) -> bool:
        return self in (SearchState.FINISHED, SearchState.STOPPED, SearchState.FAILED)

    @classmethod
    def parse(cls, text: Any) -> SearchState:
        try:
            return cls(str(text))
        except ValueError:
            return cls.FAILED


class BadEvent(ValueError):
    """A line that parses as JSON but is not an event this log can hold; the reader skips it."""


#: Fields each kind needs, with the type they must have (the reader folds nothing else in).
_NEEDS: dict[Event, dict[str, type | tuple[type, ...]]] = {
    Event.SEARCH_STARTED: {"config": dict},
    Event.TRIAL_STARTED: {"trial_id": str},
    Event.EXECUTION_STARTED: {"trial_id": str},
    Event.EPOCH: {"trial_id": str, "epoch": int, "metrics": dict},
    Event.TRIAL_FINISHED: {"trial_id": str},
    Event.TRIAL_ORPHANED: {"trial_id": str},
    Event.TRIAL_RECLAIMED: {"trial_id": str},
    Event.TEST_EVALUATED: {"trial_id": str, "test_accuracy": (int, float)},
    Event.TEST_FAILED: {},
    Event.SEARCH_FINISHED: {},
}


_NUMBER = (int, float)
_NONE = type(None)
#: Fields a kind may carry, with their type when present. `test_evaluated` of a best trial with
#: replicates (--executions > 1, tuner_app.final_test): each replicate's test accuracy and loss in
#: execution order, their mean and sample standard deviation, the replicate best_model.keras holds
#: (0-based) and each replicate's checkpoint (relative to the project folder); their ensemble's test
#: accuracy and cross-entropy and its file (`ensemble_model.keras`).
_OPTIONAL: dict[Event, dict[str, type | tuple[type, ...]]] = {
    Event.TEST_EVALUATED: {
        "test_accuracies": list, "test_losses": list, "test_accuracy_mean": _NUMBER,
        "test_accuracy_std": _NUMBER, "best_model_execution": int, "replicate_checkpoints": list,
        "ensemble_test_accuracy": _NUMBER, "ensemble_test_loss": _NUMBER, "ensemble_model_path": str,
    },
}  # fmt: skip
#: Optional list fields, with the type of their items.
_LIST_ITEMS: dict[str, type | tuple[type, ...]] = {
    "test_accuracies": _NUMBER, "test_losses": _NUMBER, "replicate_checkpoints": str,
}  # fmt: skip
#: The recorded settings the readers compute with (progress, ETA, resume): a hand-edited log with
#: `"max_trials": "ten"` is a bad line, not a TypeError in the window.
_CONFIG_TYPES: dict[str, type | tuple[type, ...]] = {
    "family": str, "tuner": str, "space": str, "epochs": int, "executions": int,
    "max_trials": (int, _NONE), "subset": (int, _NONE), "validation_size": int, "seed": int,
    "time_limit_s": (*_NUMBER, _NONE), "target": (*_NUMBER, _NONE), "max_failures": int,
    "max_retries": int, "data_path": (str, _NONE), "project_dir": (str, _NONE),
}  # fmt: skip


def checked_event(raw: Any) -> tuple[Event, Mapping[str, Any]] | None:
    """(kind, record) for a well-formed event; None for a kind this version does not fold in.

    Raises BadEvent for a record of the wrong shape: not an object, no finite time, a field of the
    wrong type. Unknown kinds are not errors: a newer version may write kinds this one ignores.
    """
    if not isinstance(raw, dict):
        raise BadEvent(f"a {type(raw).__name__}, not an event object")
    try:
        kind = Event(raw.get("event"))
    except ValueError:
        if isinstance(raw.get("event"), str):
            return None
        raise BadEvent("no event kind") from None
    when = raw.get("time")
    if isinstance(when, bool) or not isinstance(when, int | float) or not math.isfinite(when):
        raise BadEvent(f"{kind} without a valid time")
    if "worker" in raw and not isinstance(raw["worker"], str):
        raise BadEvent(f"{kind} with a worker that is not a name")
    for name, expected in _NEEDS.get(kind, {}).items():
        value = raw.get(name)
        if isinstance(value, bool) or not isinstance(value, expected) or not _usable(name, value):
            raise BadEvent(f"{kind} whose {name!r} is {_shown(value)}")
    for name, expected in _OPTIONAL.get(kind, {}).items():
        value = raw.get(name)
        if value is None:  # absent
            continue
        if isinstance(value, bool) or not isinstance(value, expected) or not _usable(name, value):
            raise BadEvent(f"{kind} whose {name!r} is {_shown(value)}")
        items = _LIST_ITEMS.get(name)
        if items is not None and not all(
            isinstance(v, items) and not isinstance(v, bool) and _usable(name, v) for v in value
        ):
            raise BadEvent(f"{kind} whose {name!r} holds a value that is not a {_type_name(items)}")
    if kind is Event.EPOCH and not all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) and _usable(k, v)
        for k, v in raw["metrics"].items()
    ):
        raise BadEvent("epoch whose metrics are not numbers")
    if kind is Event.SEARCH_STARTED:
        for name, expected in _CONFIG_TYPES.items():
            value = raw["config"].get(name)
            if name in raw["config"] and (isinstance(value, bool) or not isinstance(value, expected)):
                raise BadEvent(f"search_started whose setting {name!r} is {value!r}")
    for name in ("hyperparameters", "identity"):
        if raw.get(name) is not None and not isinstance(raw[name], dict):
            raise BadEvent(f"{kind} whose {name!r} is not an object")
    return kind, raw


def _usable(name: str, value: Any) -> bool:
    """A number every reader can compute with: one a float can hold (a 400-digit integer passes the
    JSON parser, then breaks a mean), and for an accuracy (any name with "accuracy": a score, its
    mean or std) one within 0-1 (a NaN or 1e308 test accuracy made `statistics` raise in the
    window's status bar). Losses may be NaN or infinite: a diverged model's are. Not a number: True
    (the type checks judge it)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    try:
        as_float = float(value)
    except OverflowError:
        return False
    return "accura" not in name or 0.0 <= as_float <= 1.0  # accuracy, accuracies


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _type_name(expected: type | tuple[type, ...]) -> str:
    return "number" if expected == _NUMBER else getattr(expected, "__name__", str(expected))
