"""A long search must not keep every finished trial's traced graphs alive (issue 4: memory creep)."""

from __future__ import annotations

import gc

import pytest
from tensorflow.python.framework import ops
from tensorflow.python.framework.func_graph import FuncGraph

from tuner_app.config import SearchConfig
from tuner_app.engine import SearchEngine
from tuner_app.graph_memory import PREFIX

pytestmark = pytest.mark.slow  # a real search (see the slow marker in pyproject.toml)


def custom_gradients() -> set[str]:
    return {name for name in ops._gradient_registry._registry if name.startswith(PREFIX)}


def train_step_graphs() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, FuncGraph) and o.name == "one_step_on_data")


def test_finished_trials_leave_no_graphs_behind(tmp_path, small_npz):
    before_names, before_graphs = custom_gradients(), train_step_graphs()
    seen_during: list[int] = []

    def listener(event):
        if event["event"] == "epoch":  # while a trial trains, its registrations exist
            seen_during.append(len(custom_gradients() - before_names))

    config = SearchConfig(
        family="dense", max_trials=4, epochs=1, subset=600, data_path=small_npz, project_dir=tmp_path / "p"
    )
    SearchEngine(config, listener=listener).run()
    assert len(read_completed(tmp_path / "p")) == 4
    assert max(seen_during) > 0, "no custom gradient registered: this test no longer checks anything"
    assert custom_gradients() - before_names == set()
    assert train_step_graphs() - before_graphs <= 2  # at most the evaluated best model's


def read_completed(project):
    from tuner_app.results import read_results

    return read_results(project).completed()
