"""Checks of what a user names (folders, files, search spaces) that say what is wrong and how to fix it.

Why a module of its own: `SearchConfig.validated()` must refuse a project folder it cannot write to, a
data path that is a folder, or a seed out of range before anything is created or TensorFlow is
imported, and the engine turns the same problems met later (a read-only mount seen only when writing,
as root) into the same messages. Everything here but `continuous_hyperparameter` uses only `os`.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

from tuner_app.files import unique_suffix

NPZ_KEYS_HINT = "keys x_train, y_train, x_test, y_test"


def project_dir_problem(path: str | Path) -> str | None:
    """Why a search could not create or write the project folder `path`, or None. Creates nothing.

    Walks up to the first part of the path that exists: it must be a folder this user may write in
    (for a folder that exists already, also read: --resume reads it). `os.access` also reports a
    read-only mount, for root too; root passes permission bits, as it would when writing.
    """
    path = Path(path)
    fix = "pick another folder with --project-dir"
    probe = Path(os.path.abspath(path))
    while True:
        try:
            info = os.stat(probe)
            break
        except (FileNotFoundError, NotADirectoryError):
            if os.path.lexists(probe):  # a symbolic link to nothing: mkdir would fail on it
                return f"--project-dir {path}: {probe} is a broken symbolic link; remove it or {fix}."
            if probe.parent == probe:
                return f"--project-dir {path}: no part of the path exists; {fix}."
            probe = probe.parent
        except OSError as exc:  # EACCES on a folder above it, ELOOP, ...
            return f"--project-dir {path} cannot be reached ({exc.strerror}: {probe}); {fix}."
    if not stat.S_ISDIR(info.st_mode):
        if probe == Path(os.path.abspath(path)):
            return f"--project-dir {path} is a file, not a folder; {fix} (it is created if missing)."
        return f"--project-dir {path} lies under {probe}, which is a file, not a folder; {fix}."
    exists = probe == Path(os.path.abspath(path))
    wanted = os.W_OK | os.X_OK | (os.R_OK if exists else 0)
    if os.access(probe, wanted):
        return None
    where = "" if exists else f" (it would be created in {probe})"
    if _read_only_mount(probe):
        return f"--project-dir {path} is on a read-only file system{where}; {fix}."
    return (
        f"--project-dir {path}: this user cannot write in {probe}"
        f"{'' if exists else ', where it would be created'}; {fix}, or make it writable (chmod u+rwx)."
    )


def _read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def project_write_failure(project_dir: str | Path, exc: OSError) -> str | None:
    """The message for a write into the project folder that failed with `exc`; None if not the user's
    to fix (then the error is a real failure, not bad input)."""
    where = exc.filename or project_dir
    fix = "pick another folder with --project-dir"
    if exc.errno == errno.EROFS:
        return f"{project_dir} is on a read-only file system (writing {where} failed); {fix}."
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"Cannot write in {project_dir} (permission denied: {where}); {fix}, or fix its permissions."
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return f"--project-dir {project_dir} is not a folder ({exc.strerror}: {where}); {fix}."
    return None


def make_writable_dir(folder: str | Path) -> None:
    """Create `folder` if missing, then a file in it and remove it: raises the OSError a real write
    would (EROFS, EACCES, ENOTDIR), which `project_write_failure` turns into a message."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    probe = Path(folder) / f".write-probe-{unique_suffix()}"
    os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    probe.unlink()


def data_file_problem(path: str | Path) -> str | None:
    """Why `path` cannot be the --data file, or None. Reads nothing but its metadata."""
    path = Path(path)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return f"Data file {path} does not exist. Check the path passed to --data."
    except OSError as exc:
        return f"Data file {path} cannot be reached ({exc.strerror}). Check the path passed to --data."
    if stat.S_ISDIR(info.st_mode):
        inside = sorted(p.name for p in _npz_in(path))[:3]
        hint = f" (it holds {', '.join(inside)})" if inside else ""
        return f"--data {path} is a folder{hint}; --data needs the .npz file itself, with {NPZ_KEYS_HINT}."
    if not stat.S_ISREG(info.st_mode):
        return f"--data {path} is not a regular file; pass an .npz file with {NPZ_KEYS_HINT}."
    if not os.access(path, os.R_OK):
        return (
            f"Data file {path} cannot be read by this user (permission denied); make it readable "
            "(chmod a+r) or pass a copy you can read with --data."
        )
    return None


def _npz_in(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.suffix == ".npz"]
    except OSError:
        return []


class _Continuous(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def continuous_hyperparameter(hypermodel: Any, max_builds: int = 50) -> str | None:
    """The name of a Float (or Int) without a step in the hypermodel's space, or None if it is finite.

    The space is found the way KerasTuner's tuner finds it (`declare_hyperparameters`, then builds with
    every conditional scope activated in turn), on HyperParameters that stop the build at the first
    continuous one, so a refused space is usually found before any model is built.
    """
    import keras_tuner as kt

    class Probe(kt.HyperParameters):
        def _retrieve(self, hp: Any) -> Any:
            if type(hp).__name__ in ("Float", "Int") and getattr(hp, "step", None) is None:
                raise _Continuous(hp.name)
            return super()._retrieve(hp)

    hp = Probe()
    never_active: list[Any] = []
    once_active: list[Any] = []
    try:
        hypermodel.declare_hyperparameters(hp)
        for _ in range(max_builds):
            hypermodel.build(hp)
            for conditions in hp.active_scopes:
                if conditions not in once_active:
                    once_active.append(conditions)
                if conditions in never_active:
                    never_active.remove(conditions)
            for conditions in hp.inactive_scopes:
                if conditions not in once_active and conditions not in never_active:
                    never_active.append(conditions)
            if not never_active:
                return None
            for condition in never_active[0]:
                hp.values[condition.name] = condition.values[0]
            hp.ensure_active_values()
    except _Continuous as found:
        return found.name
    return None


def grid_refusal(hypermodel: Any, described: str) -> str | None:
    """Why `--tuner grid` cannot search this hypermodel's space (`described`, e.g. "the dense family's
    full space"), or None."""
    name = continuous_hyperparameter(hypermodel)
    if name is None:
        return None
    return (
        f"--tuner grid needs a finite search space, but {described} has the "
        f"continuous hyperparameter {name!r} (KerasTuner's grid would try 10 values of each and walk "
        "one corner of the grid). Use --space seed for the seed notebook's grid, or --tuner random, "
        "bayesian or hyperband for the full space."
    )


#: Keys KerasTuner 1.4.8 writes into (and reads back from) its state files, and which must be objects.
_STATE_SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "oracle.json": (
        ("ongoing_trials", "hyperparameters", "start_order", "end_order", "run_times", "retry_queue",
         "seed", "seed_state", "tried_so_far", "id_to_hash", "display"),
        ("ongoing_trials", "hyperparameters", "run_times", "id_to_hash", "display"),
    ),
    "trial.json": (
        ("trial_id", "hyperparameters", "metrics", "score", "best_step", "status", "message"),
        ("hyperparameters", "metrics"),
    ),
}  # fmt: skip


def misshapen_state_files(folder: str | Path) -> list[Path]:
    """KerasTuner state files that parse as JSON but not into what KerasTuner reads back (`{}`, a list,
    a key missing or of the wrong kind): its reload then fails with a KeyError or TypeError."""
    import json

    found = []
    for path in sorted(Path(folder).rglob("*.json")):
        try:
            state = json.loads(path.read_text())
        except (ValueError, OSError):
            continue  # unparseable: tuner_factory.damaged_json_files reports these
        required, objects = _STATE_SHAPES.get(path.name, ((), ()))
        if not (path.name.startswith("tuner") or required):
            continue
        if not _has_shape(state, required, objects):
            found.append(path)
    return found


def _has_shape(state: Any, required: tuple[str, ...], objects: tuple[str, ...]) -> bool:
    if not isinstance(state, dict) or any(key not in state for key in required):
        return False
    return all(isinstance(state[key], dict) for key in objects)
