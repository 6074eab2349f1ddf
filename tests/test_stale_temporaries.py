"""A writer killed between writing a file and renaming it (kill -9 during a model save: the break-it
pass left a 6.4 MB `.ensemble_model.keras.PID.RANDOM.tmp.keras` that nothing removed) leaves a
temporary file; the next search in that folder deletes it, and never a file still being written."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tuner_app.config import SearchConfig
from tuner_app.engine import SearchEngine
from tuner_app.files import sweep_stale_temporaries


def dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def make(path: Path, age_s: float = 3600.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a model")
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_only_old_temporaries_of_dead_writers_are_swept(tmp_path):
    gone = dead_pid()
    stale = [
        make(tmp_path / f".ensemble_model.keras.{gone}.0a1b2c3d.tmp.keras"),
        make(tmp_path / "keras_tuner" / "trial_3" / f".execution_0.weights.h5.{gone}.deadbeef.tmp"),
    ]
    kept = [
        make(tmp_path / f".best_model.keras.{gone}.0a1b2c3d.tmp.keras", age_s=5),  # may be in flight
        make(tmp_path / f".best_model.keras.{os.getpid()}.0a1b2c3d.tmp.keras"),  # its writer lives
        make(tmp_path / "best_model.keras"),
        make(tmp_path / ".notes.tmp"),  # not a name this tool makes
    ]
    assert sorted(sweep_stale_temporaries(tmp_path)) == sorted(stale)
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept)


def test_a_resumed_search_sweeps_what_a_killed_final_test_left(
    tmp_path, small_npz, finished_project, project_copy
):
    project = project_copy(finished_project)
    leftover = make(project / f".ensemble_model.keras.{dead_pid()}.0a1b2c3d.tmp.keras")
    config = SearchConfig(family="dense", max_trials=1, epochs=1, subset=1000, data_path=small_npz,
                          project_dir=project, resume=True)  # fmt: skip
    SearchEngine(config).run()
    assert not leftover.exists()


def test_a_name_that_only_ends_like_a_temporary_is_left(tmp_path):
    gone = dead_pid()
    odd = make(tmp_path / f".x.{gone}.deadbeef.tmp\n")  # `$` would match before the newline
    assert sweep_stale_temporaries(tmp_path) == [] and odd.exists()


def test_a_folder_it_may_not_search_is_passed_over(tmp_path):
    """A subfolder readable but not searchable (mode 644) made `is_file` raise and the search exit 1
    (break-it pass). Root ignores file modes, so the sweep runs without capabilities (setpriv)."""
    import shutil

    import pytest

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    notes = tmp_path / "notes"
    make(notes / f".draft.{dead_pid()}.deadbeef.tmp")
    stale = make(tmp_path / f".best_model.keras.{dead_pid()}.0a1b2c3d.tmp.keras")
    notes.chmod(0o644)
    try:
        code = (
            "import sys; from tuner_app.files import sweep_stale_temporaries as s; print(len(s(sys.argv[1])))"
        )
        ran = subprocess.run(
            ["setpriv", "--bounding-set=-all", "--inh-caps=-all", sys.executable, "-c", code, str(tmp_path)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        notes.chmod(0o755)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "1" and not stale.exists()
