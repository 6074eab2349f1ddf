"""The installed KerasTuner still has the private layout tuner_app.keras_tuner_seam relies on; and no
other module reaches into KerasTuner's or Keras's private packages."""

from __future__ import annotations

from pathlib import Path

import keras_tuner

from tuner_app import keras_tuner_seam

ROOT = Path(__file__).resolve().parents[1]


def test_the_installed_keras_tuner_has_the_layout_the_seam_relies_on():
    problems = keras_tuner_seam.layout_problems()
    assert problems == [], (
        f"KerasTuner {keras_tuner.__version__} differs from {keras_tuner_seam.CHECKED_AGAINST}, "
        f"which tuner_app.keras_tuner_seam was checked against: {problems}"
    )
    assert keras_tuner.__version__.startswith("1.4."), "pyproject pins keras-tuner below 1.5"


def test_only_the_seam_imports_private_packages():
    offenders = []
    for path in sorted([*(ROOT / "tuner_app").rglob("*.py"), *(ROOT / "search_spaces").rglob("*.py")]):
        if path.name == "keras_tuner_seam.py":
            continue
        text = path.read_text()
        for private in ("keras_tuner.src", "keras.src", "._retry_queue", "__dict__.update"):
            if private in text:
                offenders.append(f"{path.relative_to(ROOT)}: {private}")
    assert offenders == []
