"""Any completed trial's model, rebuilt from its hyperparameters and KerasTuner's checkpoint.

Why: only the best trial is saved as a `.keras` file, but the pad should let a user try any trial's
model (is the runner-up's mistake the same?). KerasTuner keeps each trial's hyperparameters
(`keras_tuner/trial_ID/trial.json`) and the weights of its best epoch (`checkpoint.weights.h5`, of
the last replicate); the family's HyperModel builds the same network from the hyperparameters.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from tuner_app.predict import ModelLoadError

CHECKPOINT = "checkpoint.weights.h5"


def trial_folder(project_dir: str | Path, trial_id: str) -> Path:
    return Path(project_dir) / "keras_tuner" / f"trial_{trial_id}"


def has_checkpoint(project_dir: str | Path, trial_id: str) -> bool:
    folder = trial_folder(project_dir, trial_id)
    return (folder / CHECKPOINT).is_file() and (folder / "trial.json").is_file()


def load_trial_model(project_dir: str | Path, trial_id: str, family: str, space: str = "full") -> Any:
    """The trial's network with its checkpoint's weights; ModelLoadError says why not."""
    folder = trial_folder(project_dir, trial_id)
    if not has_checkpoint(project_dir, trial_id):
        raise ModelLoadError(
            f"Trial {trial_id} has no checkpoint in {folder} (it did not complete an epoch, or the "
            "project was copied without keras_tuner/)."
        )
    try:
        hyperparameters = json.loads((folder / "trial.json").read_text())["hyperparameters"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{folder / 'trial.json'} cannot be read ({exc}).") from None
    import keras_tuner as kt

    from search_spaces import make_hypermodel

    try:
        hp = kt.HyperParameters.from_config(hyperparameters)
        model = make_hypermodel(family, space).build(hp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "skipping optimizer variables": the pad never trains
            model.load_weights(folder / CHECKPOINT)
    except Exception as exc:  # Keras raises many kinds on a mismatched or damaged checkpoint
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"Trial {trial_id}'s model cannot be rebuilt from {folder}: {first}") from None
    return model
