"""A search's identity: what must stay the same for its trials' scores to be comparable.

Recorded in the log's first `search_started` event. A `--resume` whose identity differs is refused,
naming each difference; so is a worker whose identity differs from its chief's (it would otherwise
train another family, on another split, and report into the chief's search). Budget settings
(trials, time limit, target, failure limits) are not part of it: those may change on a resume.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from search_spaces import canonical_space
from tuner_app.config import SearchConfig
from tuner_app.data import Mnist, TrainValidation
from tuner_app.settings import IDENTITY_FIELDS


def data_digest(data: Mnist) -> str:
    """SHA-256 of the images and labels, whatever file they came from (about 0.2 s for MNIST)."""
    digest = hashlib.sha256()
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(memoryview(array).cast("B") if array.flags.c_contiguous else array.tobytes())
    return digest.hexdigest()


def search_identity(
    config: SearchConfig, data: Mnist, splits: TrainValidation, hypermodel: str | None = None
) -> dict[str, Any]:
    """The identity of a search with `config` on `data` (JSON-ready)."""
    identity: dict[str, Any] = {name: getattr(config, name) for name in IDENTITY_FIELDS}
    identity.update(
        data_sha256=data_digest(data),
        train_images=len(splits.train),
        validation_images=len(splits.validation),
    )
    if hypermodel is not None:  # a search space brought by the caller, not the family's own
        identity["hypermodel"] = hypermodel
    return identity


def normalised(identity: Mapping[str, Any]) -> dict[str, Any]:
    """An identity recorded by an older version, in today's names (`space: seed` is `notebook`)."""
    out = dict(identity)
    if isinstance(out.get("space"), str):
        out["space"] = canonical_space(out["space"])
    return out


def differences(
    recorded: Mapping[str, Any], current: Mapping[str, Any], labels: tuple[str, str] = ("recorded", "now")
) -> list[str]:
    """Each identity field that differs, as 'name: recorded X, now Y' (fields both sides know)."""
    out = []
    recorded, current = normalised(recorded), normalised(current)
    for name in sorted(set(recorded) | set(current)):
        if name not in recorded or name not in current:
            continue  # written by an older or newer version: not comparable, not a difference
        if recorded[name] != current[name]:
            old, new = _show(name, recorded[name]), _show(name, current[name])
            out.append(f"{name}: {labels[0]} {old}, {labels[1]} {new}")
    return out


def _show(name: str, value: Any) -> str:
    if name == "data_sha256" and isinstance(value, str):
        return f"data {value[:12]}…"
    return json.dumps(value)


def encode(identity: Mapping[str, Any]) -> str:
    """ASCII JSON, small enough for a gRPC call header (a worker sends it to its chief)."""
    return json.dumps(dict(identity), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def decode(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
