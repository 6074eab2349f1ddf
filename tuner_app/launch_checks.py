"""Every problem with a search request, found before anything starts (the window's form uses it).

Why a module of its own: `SearchConfig.validated()` stops at the first bad setting, and the data-size
rules (`data.split_train_validation`) only ran after TensorFlow and MNIST had loaded in the child
process: a form with "Data subset 5" failed in a dialog 95 s after Start. Here every setting is
checked at once with the core's own rules, and the data sizes with the same arithmetic as the split,
so the form can put each message next to its field before a process starts.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tuner_app.config import ConfigError, SearchConfig, default_project_dir
from tuner_app.project_state import request_problem

MNIST_TRAIN_IMAGES = 60_000
MIN_SUBSET = 10  # data.split_train_validation's floor
#: Which setting a message of `SearchConfig.validated()` is about (the flag it names).
FLAG_FIELDS = {
    "--max-trials": "max_trials",
    "--epochs": "epochs",
    "--executions": "executions",
    "--subset": "subset",
    "--validation-size": "validation_size",
    "--time-limit": "time_limit_s",
    "--target": "target",
    "--seed": "seed",
    "--project-dir": "project_dir",
    "--data": "data_path",
    "--max-failures": "max_failures",
    "--max-retries": "max_retries",
    "--prune": "prune",
    "--backend": "backend",
    "--first-trial": "first_trial",
    "Unknown family": "family",
    "Unknown tuner": "tuner",
    "Unknown space": "space",
}


def field_of(message: str) -> str:
    """The SearchConfig field a validation message is about ("project_dir" when none is named)."""
    first = min(
        ((message.find(needle), field) for needle, field in FLAG_FIELDS.items() if needle in message),
        default=(0, "project_dir"),
    )
    return first[1]


def config_problems(config: SearchConfig, max_rounds: int = 12) -> dict[str, str]:
    """Every setting `SearchConfig.validated()` refuses, by field: after each refusal the field is put
    back to its default and the rest validated again, so one bad field does not hide the next."""
    problems: dict[str, str] = {}
    defaults = SearchConfig()
    for _ in range(max_rounds):
        try:
            config.validated()
            return problems
        except ConfigError as exc:
            field = field_of(str(exc))
            if field in problems:  # the default did not cure it (a combination): stop here
                return problems
            problems[field] = str(exc)
            config = dataclasses.replace(config, **{field: getattr(defaults, field)})
    return problems


def training_images(data_path: Path | None) -> int:
    """How many training images the data holds: MNIST's 60,000, or the user's file's y_train."""
    if data_path is None:
        return MNIST_TRAIN_IMAGES
    import numpy as np

    with np.load(data_path) as data:
        return int(data["y_train"].shape[0])


def data_size_problem(subset: int | None, validation_size: int, available: int) -> str | None:
    """Why these sizes cannot be split (data.split_train_validation's rule), or None.

    With a subset, validation is capped at a fifth of it; training keeps the rest, at least 1 image.
    """
    total = available
    if subset is not None:
        if subset < MIN_SUBSET:
            return f"--subset {subset} is too small; use at least {MIN_SUBSET} images."
        total = min(subset, available)
        validation_size = min(validation_size, total // 5)
    if not 1 <= validation_size < total:
        return (
            f"Validation size {validation_size} must be between 1 and {total - 1} "
            "(the number of training images used)."
        )
    return None


def launch_problems(config: SearchConfig) -> dict[str, str]:
    """Every reason this search could not start, by SearchConfig field; empty when it can.

    The core's validation of each setting, the data sizes, and the project folder rule the engine
    applies (tuner_app.project_state.request_problem: busy, already holds a search, nothing to resume).
    """
    problems = config_problems(config)
    if "subset" not in problems and "validation_size" not in problems:
        try:
            available = training_images(config.data_path)
        except (OSError, ValueError, KeyError):
            available = None  # the data file's own check (validated()) names what is wrong with it
        if available is not None:
            problem = data_size_problem(config.subset, config.validation_size, available)
            if problem:
                problems["validation_size" if problem.startswith("Validation") else "subset"] = problem
    if "project_dir" not in problems:
        project = config.project_dir or default_project_dir(config.family, config.tuner)
        problem = request_problem(project, config.resume)
        if problem:
            problems["project_dir"] = problem
    return problems
