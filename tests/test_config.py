"""SearchConfig validation and duration parsing."""

from __future__ import annotations

import argparse
import re

import pytest

from tuner_app.config import ConfigError, SearchConfig, parse_duration
from tuner_app.formatting import format_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("8h", 28800), ("1h30m", 5400), ("90m", 5400), ("45s", 45), ("3600", 3600), ("2.5h", 9000),
     ("1d", 86400), ("1H 30M", 5400)],
)  # fmt: skip
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "8 hours", "h", "-5", "0", "5x"])
def test_bad_durations_say_how_to_write_one(text):
    with pytest.raises(ConfigError, match="8h|positive|Empty"):
        parse_duration(text)


def test_format_duration():
    assert format_duration(59) == "59s"
    assert format_duration(61) == "1m01s"
    assert format_duration(3 * 3600 + 120) == "3h02m"
    assert format_duration(None) == "-"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"family": "resnet"}, "Unknown family 'resnet'; choose one of dense, weight_decay, conv"),
        ({"tuner": "genetic"}, "Unknown tuner 'genetic'"),
        ({"max_trials": 0}, "--max-trials must be a positive whole number"),
        ({"epochs": -1}, "--epochs must be a positive"),
        ({"executions": 0}, "--executions must be a positive"),
        ({"target": 1.5}, "--target 1.5 must be a validation accuracy"),
        ({"data_path": "/nonexistent/mnist.npz"}, "Data file /nonexistent/mnist.npz does not exist"),
        ({"tuner": "bayesian", "max_trials": None}, "needs --max-trials"),
    ],
)
def test_invalid_settings_are_named(change, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        SearchConfig(**change).validated()


def test_defaults_and_json_round_trip(tmp_path):
    config = SearchConfig(family="conv", tuner="hyperband", max_trials=None).validated()
    assert str(config.project_dir) == "projects/conv-hyperband"
    again = SearchConfig.from_json(config.to_json())
    assert again == config


def test_notebook_space_keeps_its_old_name_seed():
    """`--space seed` was the notebook's configuration before "seed" meant only the random seed."""
    from tuner_app.identity import differences
    from tuner_app.settings import add_arguments, config_from_namespace

    assert SearchConfig(space="seed").validated().space == "notebook"
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    parsed = config_from_namespace(parser.parse_args(["--space", "seed"]))
    assert parsed.space == "notebook"
    assert differences({"space": "seed"}, {"space": "notebook"}) == []
    assert differences({"space": "seed"}, {"space": "full"}) == ['space: recorded "notebook", now "full"']
    with pytest.raises(ConfigError, match="Unknown space 'sed'"):
        SearchConfig(space="sed").validated()


def test_first_trial_file_is_checked_with_a_message(tmp_path):
    good = tmp_path / "first.json"
    good.write_text('{"num_layers": 2, "units_0": 64}')
    assert SearchConfig(first_trial=good).validated().first_trial == good
    with pytest.raises(ConfigError, match="needs --tuner random or bayesian"):
        SearchConfig(first_trial=good, tuner="grid").validated()
    with pytest.raises(ConfigError, match="cannot read it"):
        SearchConfig(first_trial=tmp_path / "missing.json").validated()
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must hold a JSON object"):
        SearchConfig(first_trial=bad).validated()
    bad.write_text("{units")
    with pytest.raises(ConfigError, match="is not JSON"):
        SearchConfig(first_trial=bad).validated()
