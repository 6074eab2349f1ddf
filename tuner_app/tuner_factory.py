"""The KerasTuner tuner for a search: its oracle (tuner_app.oracles), hypermodel and arguments.

Shared by every role: a standalone search and a chief build the same tuner (the chief's oracle also
keeps its workers' record); a worker's is wrapped by KerasTuner in a client of the chief's oracle.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras_tuner as kt

from search_spaces import make_hypermodel
from tuner_app.budget import Budget
from tuner_app.config import SearchConfig, first_trial_values
from tuner_app.device import Device
from tuner_app.input_checks import misshapen_state_files
from tuner_app.oracles import forget_ended_trials, make_oracle
from tuner_app.project_state import KERAS_TUNER_SUBDIR
from tuner_app.pruning import MedianStopping
from tuner_app.results_writer import RESULTS_FILE, ResultsWriter
from tuner_app.search_errors import ProjectDirError
from tuner_app.tuners import format_exception, make_tuner


def xla_setting(jit_compile: str, device: Device) -> bool | str:
    """Keras's `jit_compile` for `--jit-compile`. "auto" is Keras's own default (XLA on GPUs; JAX
    always compiles, without it every op runs alone; PyTorch stays eager, torch.compile is opt-in),
    except TensorFlow on a CPU, where XLA measured slower here at every batch size (docs/design.md)
    and per backend in benchmarks/results/backends.md."""
    chosen = {"on": True, "off": False}.get(jit_compile)
    if chosen is None:
        return False if device.backend == "tensorflow" and not device.gpu else "auto"
    return chosen


def build_tuner(
    config: SearchConfig,
    device: Device,
    *,
    writer: ResultsWriter,
    budget: Budget,
    listener: Callable[[dict[str, Any]], None] | None = None,
    hypermodel: kt.HyperModel | None = None,
) -> kt.Tuner:
    """The recording tuner for `config`; a damaged KerasTuner state on --resume is a ProjectDirError."""
    project_dir = Path(config.project_dir)
    hypermodel = hypermodel or make_hypermodel(
        config.family, config.space, jit_compile=xla_setting(config.jit_compile, device)
    )
    fresh_state = not config.resume and config.role != "worker"
    oracle_args: dict[str, Any] = dict(
        objective="val_accuracy",
        seed=config.seed,
        max_retries_per_trial=config.max_retries,
        max_consecutive_failed_trials=config.max_failures,
    )
    if config.tuner == "hyperband":  # no trial count: the Budget caps it (progress.trial_cap)
        oracle_args["max_epochs"] = config.epochs
    else:
        oracle_args["max_trials"] = config.max_trials
    oracle = make_oracle(
        config.tuner, chief=config.role == "chief", starts=starting_points(hypermodel, config), **oracle_args
    )
    tuner_args: dict[str, Any] = dict(
        hypermodel=hypermodel,
        executions_per_trial=config.executions,
        directory=str(project_dir),
        project_name=KERAS_TUNER_SUBDIR,
        overwrite=fresh_state,
    )
    if config.strategy == "mirrored":
        import tensorflow as tf

        tuner_args["distribution_strategy"] = tf.distribute.MirroredStrategy()
    if config.prune:  # config.validated() refuses it for Hyperband
        tuner_args["pruner"] = MedianStopping(project_dir)
    try:
        tuner = make_tuner(
            config.tuner, oracle=oracle, writer=writer, budget=budget, listener=listener, **tuner_args
        )
    except (ValueError, KeyError, TypeError, AttributeError, RuntimeError) as exc:
        # json.JSONDecodeError from a damaged oracle.json / trial.json; KeyError (which KerasTuner
        # re-raises as RuntimeError), TypeError, AttributeError from one of the wrong shape
        folder = project_dir / KERAS_TUNER_SUBDIR
        damaged = damaged_json_files(folder) + misshapen_state_files(folder)
        if not damaged or fresh_state:
            raise
        cause = format_exception(exc.__cause__ or exc)
        raise ProjectDirError(
            f"Cannot resume: KerasTuner's state in {project_dir} is damaged "
            f"({', '.join(str(p) for p in damaged)}: {cause}). The results log "
            f"{project_dir / RESULTS_FILE} is intact and the window can still open it; "
            "start a new search with another --project-dir."
        ) from None
    tuner.oracle.verbose = 0
    if config.resume and config.role != "worker":  # a worker's oracle is the chief's
        forget_ended_trials(tuner.oracle)
    return tuner


def starting_points(hypermodel: kt.HyperModel, config: SearchConfig) -> list[Mapping[str, Any]]:
    """The known points a search tries first: the user's `--first-trial`, then the family's
    (`starting_points(epochs)`, START first) or a hypermodel's own `START` (none with --no-start-point)."""
    first = [first_trial_values(config.first_trial, config.tuner)] if config.first_trial else []
    if not config.start_point:
        return first
    if callable(getattr(hypermodel, "starting_points", None)):
        return first + list(hypermodel.starting_points(config.epochs))
    start = getattr(hypermodel, "START", None)
    return first + ([start] if start else [])


def damaged_json_files(folder: Path) -> list[Path]:
    """KerasTuner state files that no longer parse (e.g. truncated by a crash or a full disk)."""
    damaged = []
    for path in sorted(folder.rglob("*.json")):
        try:
            json.loads(path.read_text())
        except (ValueError, OSError):
            damaged.append(path)
    return damaged
