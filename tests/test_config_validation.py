"""User errors caught by validation itself, in-process: SearchConfig.validated(), parse_duration and
the input checks (tuner_app.input_checks) that the CLI and the window's form share. The CLI's own
exits for the same classes are in test_user_errors.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tuner_app.config import MAX_SEED, ConfigError, SearchConfig, parse_duration
from tuner_app.input_checks import (
    data_file_problem,
    misshapen_state_files,
    project_dir_problem,
    project_write_failure,
)


@pytest.mark.parametrize("seed", [0, 1, MAX_SEED])
def test_seeds_in_range_pass(tmp_path, seed):
    assert SearchConfig(seed=seed, project_dir=tmp_path / "p").validated().seed == seed


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, 99999999999, True, 1.0, "3"])
def test_seeds_out_of_range_are_refused(tmp_path, seed):
    with pytest.raises(ConfigError, match=r"--seed must be a whole number from 0 to 4294967295"):
        SearchConfig(seed=seed, project_dir=tmp_path / "p").validated()


@pytest.mark.parametrize(
    ("field", "flag"),
    [("time_limit_s", "--time-limit"), ("target", "--target"), ("worker_timeout_s", "--worker-timeout")],
)
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_float_settings_must_be_finite(tmp_path, field, flag, value):
    with pytest.raises(ConfigError, match=f"{flag} must be a finite number"):
        SearchConfig(**{field: value}, project_dir=tmp_path / "p").validated()


@pytest.mark.parametrize("text", ["inf", "nan", "-inf", "infinity", "1e999", "1e400h"])
def test_durations_must_be_finite(text):
    with pytest.raises(ConfigError, match="not a finite duration|does not parse"):
        parse_duration(text)


def test_whole_number_settings_refuse_booleans_and_negative_retries(tmp_path):
    with pytest.raises(ConfigError, match="--epochs must be a positive whole number"):
        SearchConfig(epochs=True, project_dir=tmp_path / "p").validated()
    with pytest.raises(ConfigError, match="--max-retries must be 0 or more"):
        SearchConfig(max_retries=-2, project_dir=tmp_path / "p").validated()


def test_project_dir_checks_create_nothing(tmp_path):
    afile = tmp_path / "f"
    afile.write_text("")
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    cases = {
        afile: "is a file, not a folder",
        afile / "a" / "b": f"lies under {afile}, which is a file",
        link: "broken symbolic link",
        link / "sub": "broken symbolic link",
    }
    for project, message in cases.items():
        with pytest.raises(ConfigError, match=message):
            SearchConfig(project_dir=project).validated()
    deep = tmp_path / "new" / "deeper" / "p"
    assert SearchConfig(project_dir=deep).validated().project_dir == deep
    assert project_dir_problem(tmp_path) is None
    assert not (tmp_path / "new").exists(), "validation creates nothing"


def test_write_failures_name_the_folder_and_the_fix(tmp_path):
    import errno

    rofs = OSError(errno.EROFS, "Read-only file system", str(tmp_path / "p" / "x"))
    assert "read-only file system" in project_write_failure(tmp_path / "p", rofs)
    denied = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "p"))
    assert "permission denied" in project_write_failure(tmp_path / "p", denied)
    assert project_write_failure(tmp_path, OSError(errno.EIO, "I/O error")) is None


def test_data_path_checks(tmp_path, small_npz):
    assert data_file_problem(small_npz) is None
    assert "does not exist" in data_file_problem(tmp_path / "missing.npz")
    assert "does not exist" in data_file_problem(Path(small_npz) / "inside")
    assert "is a folder" in data_file_problem(tmp_path)
    with pytest.raises(ConfigError, match="is a folder"):
        SearchConfig(data_path=tmp_path, project_dir=tmp_path / "p").validated()


def test_misshapen_keras_tuner_state_is_found(tmp_path):
    good_oracle = {
        key: {} if key in ("ongoing_trials", "hyperparameters", "run_times", "id_to_hash", "display") else []
        for key in ("ongoing_trials", "hyperparameters", "start_order", "end_order", "run_times",
                    "retry_queue", "seed", "seed_state", "tried_so_far", "id_to_hash", "display")
    }  # fmt: skip
    (tmp_path / "trial_0").mkdir()
    (tmp_path / "oracle.json").write_text(json.dumps(good_oracle))
    (tmp_path / "tuner0.json").write_text("{}")
    (tmp_path / "trial_0" / "trial.json").write_text("{}")
    (tmp_path / "trial_0" / "build_config.json").write_text("[]")  # not KerasTuner's to read back
    assert misshapen_state_files(tmp_path) == [tmp_path / "trial_0" / "trial.json"]
    for bad in ("{}", "[]", "null", json.dumps({**good_oracle, "ongoing_trials": 5})):
        (tmp_path / "oracle.json").write_text(bad)
        assert tmp_path / "oracle.json" in misshapen_state_files(tmp_path), bad
