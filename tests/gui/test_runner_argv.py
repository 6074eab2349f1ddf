"""The window's child-process search gets exactly the settings of the form's SearchConfig."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tuner_app.config import SearchConfig
from tuner_app.exit_codes import ExitCode
from tuner_app.gui.runner import EXIT_MESSAGES, config_to_argv
from tuner_app.search import build_parser, config_from_args


def test_every_launch_setting_survives_the_command_line(tmp_path: Path):
    config = SearchConfig(
        family="conv", tuner="bayesian", space="full", max_trials=7, epochs=3, executions=2,
        time_limit_s=5400.0, target=0.99, subset=3000, validation_size=600, seed=4,
        project_dir=tmp_path / "p", resume=True, data_path=None, tensorboard=True, max_failures=3,
        max_retries=1, jit_compile="on", start_point=False, mixed_precision=True,
    ).validated()  # fmt: skip
    parsed = config_from_args(build_parser().parse_args(config_to_argv(config)))
    skipped = {"role", "oracle", "worker_id", "worker_timeout_s"}  # the window runs standalone searches
    for field in dataclasses.fields(SearchConfig):
        if field.name not in skipped:
            assert getattr(parsed, field.name) == getattr(config, field.name), field.name


def test_the_window_reads_the_clis_exit_codes_from_one_table():
    assert [int(code) for code in ExitCode] == [0, 1, 2, 130]  # the documented contract of the CLI
    assert all(type(code) is ExitCode for code in EXIT_MESSAGES)  # no literal codes in the runner
    assert set(EXIT_MESSAGES) == {ExitCode.FAILED, ExitCode.USAGE}


def test_an_in_process_search_on_a_backend_it_cannot_load_fails_with_a_dialog_message(qtbot, tmp_path):
    """TUNER_APP_ENGINE=thread: this process's Keras is TensorFlow; another backend needs a child."""
    from tuner_app.config import SearchConfig
    from tuner_app.gui.runner import SearchThread

    failures: list[tuple[str, str]] = []
    runner = SearchThread(SearchConfig(project_dir=tmp_path / "p", backend="no-such-backend"))
    runner.failed.connect(lambda title, message: failures.append((title, message)))
    runner.run()  # synchronously: the failure is emitted before anything is built
    assert failures and "no-such-backend" in failures[0][1] and "Unexpected" not in failures[0][1]
    assert not (tmp_path / "p").exists()
