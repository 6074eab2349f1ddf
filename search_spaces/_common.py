"""Pieces shared by the families: the notebook-or-full switch, optimizers, schedules and batch size.

Learning-rate schedules (`lr_schedule`): "constant"; "cosine" (per epoch, from the compiled rate to
0 over the fit's epochs); "one_cycle" (per step: linear warm-up from 0 to the compiled rate over the
first quarter of the fit's steps, then linear decay to 0 at the last step). One-cycle is what lets a
small CNN reach 99 % validation in two epochs here (docs/design.md); it needs the fit's total step
count, epochs x ceil(training images / batch), which `fit` knows and `build` does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import keras
import keras_tuner as kt

from search_spaces import SPACES


class Space:
    """Wraps `hp` so one `build` serves the full space and the notebook's fixed configuration.

    In "notebook" mode every hyperparameter is `hp.Fixed` at the notebook's value, except those the notebook
    itself varied (the weight-decay grid), which the family passes as a `Choice`.
    """

    def __init__(self, hp: kt.HyperParameters, mode: str, notebook: Mapping[str, Any]):
        if mode not in SPACES:
            raise ValueError(f"Unknown space {mode!r}; choose one of {', '.join(SPACES)}.")
        self.hp = hp
        self.mode = mode
        self.notebook = notebook

    def get(self, name: str, full: Callable[[], Any], default: Any = None) -> Any:
        """The full space's hyperparameter, or in notebook mode a `Fixed` at the notebook's value
        (`default` for settings the notebook never had, e.g. Adam's betas)."""
        if self.mode == "notebook":
            return self.hp.Fixed(name, self.notebook.get(name, default))
        return full()


class MnistHyperModel(kt.HyperModel):
    """Base for the families: the notebook's point, compile options and a `fit` that tunes the batch size."""

    #: The seed notebook's configuration (`--space notebook`), one value per hyperparameter.
    NOTEBOOK: Mapping[str, Any] = {}
    #: A known-good point that random and Bayesian searches try first (tuner_app.start_point).
    START: Mapping[str, Any] = {}
    #: Further known points worth a search's next trials, each with the fewest epochs per trial at
    #: which it pays (a long recipe cut to 2 epochs is a waste of its first trial).
    LATER_STARTS: tuple[tuple[int, Mapping[str, Any]], ...] = ()
    BATCH_SIZES = (64, 128, 256, 512)
    #: Validation runs at this batch size (or the training one, if larger): evaluation needs no small
    #: batches, and per-step overhead dominated the 10,000-image pass at batch 64 (benchmarks/speed.py).
    VALIDATION_BATCH = 1024
    #: Whether the space has the `ema` hyperparameter (an exponential moving average of the weights,
    #: used for validation, the checkpoint and the final model).
    OFFERS_EMA = False

    def __init__(self, space: str = "full", jit_compile: bool | str = False, **kwargs: Any):
        super().__init__(**kwargs)
        if space not in SPACES:
            raise ValueError(f"Unknown space {space!r}; choose one of {', '.join(SPACES)}.")
        self.space = space
        self.jit_compile = jit_compile

    def space_for(self, hp: kt.HyperParameters) -> Space:
        return Space(hp, self.space, self.NOTEBOOK)

    def starting_points(self, epochs: int) -> list[Mapping[str, Any]]:
        """The known points a fresh search with `epochs` per trial should try first, in order:
        START, then each of LATER_STARTS that pays at that many epochs."""
        points = [self.START] if self.START else []
        return points + [point for fewest, point in self.LATER_STARTS if epochs >= fewest]

    def notebook_hyperparameters(self) -> kt.HyperParameters:
        """HyperParameters preset to the notebook's point, for building the notebook's own model."""
        hp = kt.HyperParameters()
        hp.values.update(self.NOTEBOOK)
        return hp

    def compile(self, model: keras.Model, space: Space) -> keras.Model:
        optimizer = choose_optimizer(space, ema=self.ema(space))
        # Registered here, used in fit(): the whole space is known from the first trial on.
        self.batch_size(space)
        self.lr_schedule(space)
        model.compile(
            optimizer=optimizer,
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=self.jit_compile,
        )
        return model

    def ema(self, space: Space) -> bool:
        """Whether this trial keeps an exponential moving average of its weights (families that
        set `OFFERS_EMA`; the others never do, and declare nothing)."""
        if not self.OFFERS_EMA:
            return False
        return space.get("ema", lambda: space.hp.Boolean("ema"), False)

    def batch_size(self, space: Space) -> int:
        return space.get("batch_size", lambda: space.hp.Choice("batch_size", self.BATCH_SIZES))

    def lr_schedule(self, space: Space) -> str:
        return space.get("lr_schedule", lambda: space.hp.Choice("lr_schedule", list(SCHEDULES)))

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any):
        space = self.space_for(hp)
        batch_size = self.batch_size(space)
        schedule = self.lr_schedule(space)
        callbacks = list(kwargs.pop("callbacks", []))
        epochs = int(kwargs.get("epochs", 1))
        if schedule == "cosine":
            callbacks.append(cosine_per_epoch(model, epochs))
        elif schedule == "one_cycle":
            # Hyperband continues a model from `initial_epoch` with a fresh optimizer: the cycle
            # spans the epochs this fit runs.
            left = max(1, epochs - int(kwargs.get("initial_epoch", 0)))
            steps = left * max(1, math.ceil(training_size(args, kwargs) / batch_size))
            use_one_cycle(model, steps)
        if getattr(model.optimizer, "use_ema", False):
            steps = math.ceil(training_size(args, kwargs) / batch_size)
            average = ValidateOnAverageWeights(steps, model.optimizer.ema_momentum)
            average.bind(model.optimizer)
            callbacks.append(average)  # last: after KerasTuner's checkpoint
        kwargs.pop("batch_size", None)
        kwargs.setdefault("validation_batch_size", max(batch_size, self.VALIDATION_BATCH))
        return model.fit(*args, batch_size=batch_size, callbacks=callbacks, **kwargs)


SCHEDULES = ("constant", "cosine", "one_cycle")
#: Adam's (beta_1, beta_2): Keras's defaults, or the faster-forgetting pair of the two-epoch
#: one-cycle recipe (0.7, 0.9), which reached 99 % validation in 2 epochs here where the defaults
#: need more (docs/design.md).
ADAM_BETA_1 = (0.9, 0.7)
ADAM_BETA_2 = (0.999, 0.9)
ONE_CYCLE_WARMUP = 0.25


EMA_MOMENTUM = 0.999


def augmentation(x: Any) -> Any:
    """Random rotation (up to 0.04 of a turn), translation and zoom (up to 8 %), filled with
    background: the 99.6 % conv recipe's magnitudes (docs/design.md). Keras applies these layers
    only while training; `x` is a (28, 28, 1) image tensor."""
    x = keras.layers.RandomRotation(0.04, fill_mode="constant")(x)
    x = keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant")(x)
    return keras.layers.RandomZoom(0.08, fill_mode="constant")(x)


def choose_optimizer(space: Space, ema: bool = False) -> keras.optimizers.Optimizer:
    """SGD with momentum or Adam, each with its own log-scale learning-rate range.

    Both branches are declared on every build (the one not taken returns None): KerasTuner finds a
    branch's hyperparameters only when a build declares them, and a trial that first reaches an
    undeclared branch gets its defaults (Adam at 1e-4) instead of a sampled value.
    """
    hp = space.hp
    name = space.get("optimizer", lambda: hp.Choice("optimizer", ["sgd", "adam"]))
    chosen: dict[str, Any] = {}
    for branch in ("sgd", "adam"):
        if space.mode == "notebook" and branch != name:
            continue  # the seed point declares only what it uses
        with hp.conditional_scope("optimizer", [branch]):
            if branch == "sgd":
                chosen["sgd"] = (
                    space.get(
                        "sgd_learning_rate",
                        lambda: hp.Float("sgd_learning_rate", 1e-3, 0.3, sampling="log"),
                    ),
                    space.get("momentum", lambda: hp.Choice("momentum", [0.0, 0.9])),
                )
            else:
                chosen["adam"] = (
                    space.get(
                        "adam_learning_rate",
                        lambda: hp.Float("adam_learning_rate", 1e-4, 1e-2, sampling="log"),
                    ),
                    space.get("adam_beta_1", lambda: hp.Choice("adam_beta_1", ADAM_BETA_1), 0.9),
                    space.get("adam_beta_2", lambda: hp.Choice("adam_beta_2", ADAM_BETA_2), 0.999),
                )
    average = {"use_ema": True, "ema_momentum": EMA_MOMENTUM} if ema else {}
    if name == "sgd":
        lr, momentum = chosen["sgd"]
        return keras.optimizers.SGD(learning_rate=lr, momentum=momentum, **average)
    lr, beta_1, beta_2 = chosen["adam"]
    return keras.optimizers.Adam(learning_rate=lr, beta_1=beta_1, beta_2=beta_2, **average)


class ValidateOnAverageWeights(keras.callbacks.Callback):
    """With `use_ema`, Keras trains the raw weights and copies the average in only when `fit`
    ends, so each epoch's validation (the trial's score) and KerasTuner's best-epoch checkpoint (the
    model tested at the end) would see the raw weights. This swaps the average in when an epoch's
    validation begins and the raw weights back once every other callback has seen the epoch's end
    (it must be the fit's last callback). Relies on Keras 3's optimizer keeping the averages in
    `_model_variables_moving_average`, in the order of `_trainable_variables`; without them it does
    nothing.

    It also warms the average up: Keras's average has no bias correction, so at momentum 0.999 the
    average after one epoch of ~400 steps is still two-thirds the initial weights (11 % validation
    measured after epoch 1). With `steps_per_epoch` given, the momentum of epoch e (from 0) is
    min(momentum, 1 - 2 / (steps_per_epoch * (e + 1))): an average over about the last half of the
    steps so far, reaching 0.999 after ~5 epochs of 400 steps. The optimizer reads the momentum
    from a variable set here at each epoch's start."""

    def __init__(self, steps_per_epoch: int | None = None, momentum: float = EMA_MOMENTUM):
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.momentum = momentum
        self._variable: Any = None

    def bind(self, optimizer: keras.optimizers.Optimizer) -> None:
        """Before the first step (the train function reads the variable when it is traced)."""
        if self.steps_per_epoch:
            self._variable = keras.Variable(self.momentum_for(0), trainable=False, name="ema_momentum")
            optimizer.ema_momentum = self._variable

    def momentum_for(self, epoch: int) -> float:
        if not self.steps_per_epoch:
            return self.momentum
        return min(self.momentum, 1.0 - 2.0 / (self.steps_per_epoch * (epoch + 1)))

    def on_epoch_begin(self, epoch, logs=None):
        if self._variable is not None:
            self._variable.assign(self.momentum_for(epoch))

    def on_train_begin(self, logs=None):
        self._raw: list[Any] | None = None
        self._training = True

    def on_train_end(self, logs=None):
        self._training = False

    def on_test_begin(self, logs=None):
        if not getattr(self, "_training", False) or self._raw is not None:
            return
        optimizer = self.model.optimizer
        averages = getattr(optimizer, "_model_variables_moving_average", None)
        variables = getattr(optimizer, "_trainable_variables", None)
        if not averages or not variables or len(averages) != len(variables):
            return
        self._raw = [(v, keras.ops.convert_to_numpy(v)) for v in variables]
        for variable, average in zip(variables, averages, strict=True):
            if average is not None:
                variable.assign(average)

    def on_epoch_end(self, epoch, logs=None):
        if getattr(self, "_raw", None):
            for variable, value in self._raw:
                variable.assign(value)
        self._raw = None


def training_size(args: tuple, kwargs: dict[str, Any]) -> int:
    """How many images one epoch of this `fit(x, y, ...)` sees (x given by position or name)."""
    x = args[0] if args else kwargs.get("x")
    if x is None:
        raise ValueError("The one-cycle schedule needs the training images to count its steps.")
    return len(x)


@keras.saving.register_keras_serializable(package="search_spaces")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak` over `warmup` of `total_steps`, then linear decay to 0."""

    def __init__(self, peak: float, total_steps: int, warmup: float = ONE_CYCLE_WARMUP):
        self.peak = float(peak)
        self.total_steps = int(total_steps)
        self.warmup = float(warmup)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        up = max(1.0, self.warmup * self.total_steps)
        down = max(1.0, self.total_steps - up)
        rising = self.peak * step / up
        falling = self.peak * (self.total_steps - step) / down
        return keras.ops.maximum(0.0, keras.ops.where(step < up, rising, falling))

    def get_config(self) -> dict[str, Any]:
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup": self.warmup}


def use_one_cycle(model: keras.Model, total_steps: int) -> OneCycle:
    """Replace the compiled (constant) learning rate with a one-cycle schedule peaking at it."""
    peak = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    schedule = OneCycle(peak, total_steps)
    model.optimizer.learning_rate = schedule
    return schedule


def cosine_per_epoch(model: keras.Model, epochs: int) -> keras.callbacks.Callback:
    """Cosine decay of the compiled learning rate over the epochs of this fit."""
    initial = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))

    def schedule(epoch: int, _lr: float) -> float:
        return initial * 0.5 * (1.0 + math.cos(math.pi * min(epoch, epochs) / max(epochs, 1)))

    return keras.callbacks.LearningRateScheduler(schedule)
