"""SearchConfig: every choice a search needs, validated once, frozen, and recorded with the results."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search_spaces import FAMILIES, SPACES, canonical_space
from tuner_app.backend import TENSORFLOW_ONLY, backend_problem, requested_backend

TUNERS = ("random", "bayesian", "hyperband", "grid")
JIT_CHOICES = ("auto", "on", "off")
STRATEGIES = ("none", "mirrored")
ROLES = ("standalone", "chief", "worker")
DEFAULT_PROJECT_ROOT = Path("projects")
MAX_SEED = 2**32 - 1  # numpy's and KerasTuner's seeds are 32-bit unsigned


class ConfigError(ValueError):
    """A setting is invalid; the message names it and says what to use instead."""


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> float:
    """'8h', '1h30m', '90m', '45s', '2.5h' or plain seconds ('3600') -> seconds."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise ConfigError("Empty time limit; use e.g. 8h, 1h30m, 90m or 3600 (seconds).")
    try:
        seconds = float(cleaned)
    except ValueError:
        parts = _DURATION_PART.findall(cleaned)
        if not parts or "".join(n + u for n, u in parts) != cleaned:
            raise ConfigError(
                f"Time limit {text!r} does not parse; use e.g. 8h, 1h30m, 90m, 45s or 3600 (seconds)."
            ) from None
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    if not math.isfinite(seconds):  # float() accepts 'inf', 'nan', '1e999'
        raise ConfigError(
            f"Time limit {text!r} is not a finite duration; use e.g. 8h, 1h30m, 90m or 3600 (seconds), "
            "or leave --time-limit out for no limit."
        )
    if seconds <= 0:
        raise ConfigError(f"Time limit {text!r} must be positive.")
    return seconds


@dataclass(frozen=True)
class SearchConfig:
    """One search's settings. Build it with `SearchConfig(...).validated()`."""

    family: str = "dense"
    tuner: str = "random"
    space: str = "full"
    max_trials: int | None = 10
    epochs: int = 5
    executions: int = 1
    time_limit_s: float | None = None
    target: float | None = None
    subset: int | None = None
    validation_size: int = 10_000
    seed: int = 0
    project_dir: Path | None = None
    resume: bool = False
    data_path: Path | None = None
    tensorboard: bool = False
    max_failures: int = 20
    max_retries: int = 0
    mixed_precision: bool = False
    jit_compile: str = "auto"
    strategy: str = "none"
    role: str = "standalone"
    oracle: str = "127.0.0.1:8000"
    worker_id: str | None = None
    worker_timeout_s: float = 60.0
    start_point: bool = True
    prune: bool = False
    #: A JSON file of hyperparameters the search tries first (the window's "rerun this trial").
    first_trial: Path | None = None
    #: Keras backend (tensorflow, jax, torch); None: KERAS_BACKEND, else tensorflow (filled by validated()).
    backend: str | None = None

    def validated(self) -> SearchConfig:
        """Return a copy with defaults filled in, or raise ConfigError naming the bad setting."""
        if self.family not in FAMILIES:
            raise ConfigError(f"Unknown family {self.family!r}; choose one of {', '.join(FAMILIES)}.")
        if self.tuner not in TUNERS:
            raise ConfigError(f"Unknown tuner {self.tuner!r}; choose one of {', '.join(TUNERS)}.")
        if canonical_space(self.space) != self.space:  # an older name (`seed`)
            return dataclasses.replace(self, space=canonical_space(self.space)).validated()
        if self.space not in SPACES:
            raise ConfigError(f"Unknown space {self.space!r}; choose one of {', '.join(SPACES)}.")
        if self.backend is None:
            return dataclasses.replace(self, backend=requested_backend()).validated()
        for field, used in (("strategy", self.strategy == "mirrored"), ("tensorboard", self.tensorboard)):
            if used and self.backend != "tensorflow":
                raise ConfigError(
                    f"--backend {self.backend}: {TENSORFLOW_ONLY[field]}; use --backend tensorflow "
                    f"or leave --{field} out."
                )
        problem = backend_problem(self.backend)
        if problem:
            raise ConfigError(problem)
        if self.jit_compile not in JIT_CHOICES:
            raise ConfigError(f"--jit-compile must be one of {', '.join(JIT_CHOICES)}.")
        if self.prune and self.tuner == "hyperband":
            raise ConfigError(
                "--prune is for random, bayesian and grid searches: Hyperband already stops trials "
                "early by its brackets. Drop --prune, or choose another --tuner."
            )
        if self.role not in ROLES:
            raise ConfigError(f"--role must be one of {', '.join(ROLES)}.")
        if self.role != "standalone":
            from tuner_app.distributed import parse_address

            try:
                parse_address(self.oracle)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        if self.role == "worker" and self.worker_id and "chief" in self.worker_id:
            raise ConfigError("--worker-id must not contain 'chief' (KerasTuner reserves it).")
        for flag, value, example in (
            ("--time-limit", self.time_limit_s, "8h, or leave it out for no limit"),
            ("--target", self.target, "0.99"),
            ("--worker-timeout", self.worker_timeout_s, "60 (seconds)"),
        ):
            if value is not None and not _is_finite_number(value):
                raise ConfigError(f"{flag} must be a finite number, got {value!r}; use e.g. {example}.")
        if self.worker_timeout_s <= 0:
            raise ConfigError("--worker-timeout must be positive.")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"--strategy must be one of {', '.join(STRATEGIES)}.")
        for name, value, flag in (
            ("max trials", self.max_trials, "--max-trials"),
            ("epochs", self.epochs, "--epochs"),
            ("executions", self.executions, "--executions"),
            ("subset", self.subset, "--subset"),
            ("validation size", self.validation_size, "--validation-size"),
            ("failure limit", self.max_failures, "--max-failures"),
        ):
            if value is not None and (not _is_whole(value) or value <= 0):
                raise ConfigError(f"{flag} must be a positive whole number, got {value!r} ({name}).")
        if not _is_whole(self.max_retries) or self.max_retries < 0:
            raise ConfigError(f"--max-retries must be 0 or more, got {self.max_retries!r}.")
        if not _is_whole(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(
                f"--seed must be a whole number from 0 to {MAX_SEED} (2**32 - 1), got {self.seed!r}."
            )
        if self.time_limit_s is not None and self.time_limit_s <= 0:
            raise ConfigError("--time-limit must be positive.")
        if self.target is not None and not 0 < self.target <= 1:
            raise ConfigError(f"--target {self.target} must be a validation accuracy in (0, 1], e.g. 0.99.")
        if self.tuner in ("random", "bayesian") and self.max_trials is None:
            raise ConfigError(f"The {self.tuner} tuner needs --max-trials.")
        if self.first_trial is not None:
            first_trial_values(self.first_trial, self.tuner)  # raises ConfigError naming the problem
        from tuner_app.input_checks import data_file_problem, project_dir_problem

        problem = data_file_problem(self.data_path) if self.data_path is not None else None
        if problem:
            raise ConfigError(problem)
        project = self.project_dir or default_project_dir(self.family, self.tuner)
        problem = project_dir_problem(project)
        if problem:
            raise ConfigError(problem)
        worker_id = self.worker_id
        if self.role == "worker" and not worker_id:
            worker_id = f"worker-{socket.gethostname()}-{os.getpid()}"
        return dataclasses.replace(self, project_dir=Path(project), worker_id=worker_id)

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for key in PATH_FIELDS:
            out[key] = str(out[key]) if out[key] is not None else None
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SearchConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in PATH_FIELDS:
            if values.get(key) is not None:
                values[key] = Path(values[key])
        return cls(**values)


PATH_FIELDS = ("project_dir", "data_path", "first_trial")


def first_trial_values(path: Path, tuner: str) -> dict[str, Any]:
    """The hyperparameters in `path` (a JSON object, e.g. the window's "Copy configuration"), or
    ConfigError saying what is wrong. Only random and Bayesian searches take a first trial."""
    if tuner not in ("random", "bayesian"):
        raise ConfigError(f"--first-trial needs --tuner random or bayesian, not {tuner}.")
    try:
        values = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"--first-trial {path}: cannot read it ({exc.strerror}).") from None
    except ValueError as exc:
        raise ConfigError(
            f"--first-trial {path} is not JSON ({exc}); give a JSON object of hyperparameters."
        ) from None
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        raise ConfigError(f"--first-trial {path} must hold a JSON object of hyperparameter names and values.")
    return values


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def default_project_dir(family: str, tuner: str) -> Path:
    return DEFAULT_PROJECT_ROOT / f"{family}-{tuner}"
