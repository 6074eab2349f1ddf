"""Pieces shared by the families: the notebook-or-full switch, optimizers, schedules and batch size."""

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

    def get(self, name: str, full: Callable[[], Any]) -> Any:
        if self.mode == "notebook":
            return self.hp.Fixed(name, self.notebook[name])
        return full()


class MnistHyperModel(kt.HyperModel):
    """Base for the families: the notebook's point, compile options and a `fit` that tunes the batch size."""

    #: The seed notebook's configuration (`--space notebook`), one value per hyperparameter.
    NOTEBOOK: Mapping[str, Any] = {}
    #: A known-good point that random and Bayesian searches try first (tuner_app.start_point).
    START: Mapping[str, Any] = {}
    BATCH_SIZES = (64, 128, 256, 512)
    #: Validation runs at this batch size (or the training one, if larger): evaluation needs no small
    #: batches, and per-step overhead dominated the 10,000-image pass at batch 64 (benchmarks/speed.py).
    VALIDATION_BATCH = 1024

    def __init__(self, space: str = "full", jit_compile: bool | str = False, **kwargs: Any):
        super().__init__(**kwargs)
        if space not in SPACES:
            raise ValueError(f"Unknown space {space!r}; choose one of {', '.join(SPACES)}.")
        self.space = space
        self.jit_compile = jit_compile

    def space_for(self, hp: kt.HyperParameters) -> Space:
        return Space(hp, self.space, self.NOTEBOOK)

    def notebook_hyperparameters(self) -> kt.HyperParameters:
        """HyperParameters preset to the notebook's point, for building the notebook's own model."""
        hp = kt.HyperParameters()
        hp.values.update(self.NOTEBOOK)
        return hp

    def compile(self, model: keras.Model, space: Space) -> keras.Model:
        optimizer = choose_optimizer(space)
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

    def batch_size(self, space: Space) -> int:
        return space.get("batch_size", lambda: space.hp.Choice("batch_size", self.BATCH_SIZES))

    def lr_schedule(self, space: Space) -> str:
        return space.get("lr_schedule", lambda: space.hp.Choice("lr_schedule", ["constant", "cosine"]))

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any):
        space = self.space_for(hp)
        batch_size = self.batch_size(space)
        schedule = self.lr_schedule(space)
        callbacks = list(kwargs.pop("callbacks", []))
        if schedule == "cosine":
            callbacks.append(cosine_per_epoch(model, int(kwargs.get("epochs", 1))))
        kwargs.pop("batch_size", None)
        kwargs.setdefault("validation_batch_size", max(batch_size, self.VALIDATION_BATCH))
        return model.fit(*args, batch_size=batch_size, callbacks=callbacks, **kwargs)


def choose_optimizer(space: Space) -> keras.optimizers.Optimizer:
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
                chosen["adam"] = space.get(
                    "adam_learning_rate",
                    lambda: hp.Float("adam_learning_rate", 1e-4, 1e-2, sampling="log"),
                )
    if name == "sgd":
        lr, momentum = chosen["sgd"]
        return keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    return keras.optimizers.Adam(learning_rate=chosen["adam"])


def cosine_per_epoch(model: keras.Model, epochs: int) -> keras.callbacks.Callback:
    """Cosine decay of the compiled learning rate over the epochs of this fit."""
    initial = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))

    def schedule(epoch: int, _lr: float) -> float:
        return initial * 0.5 * (1.0 + math.cos(math.pi * min(epoch, epochs) / max(epochs, 1)))

    return keras.callbacks.LearningRateScheduler(schedule)
