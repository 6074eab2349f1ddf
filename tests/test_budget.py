"""The budget's stop rule, which lives in a module free of Qt and KerasTuner."""

from __future__ import annotations

import subprocess
import sys

from tuner_app.budget import Budget


def test_stop_reasons_in_order():
    budget = Budget(max_trials=2, time_limit_s=None, target=0.9)
    assert budget.stop_reason(between_trials=True) is None
    budget.trials_finished = 2
    assert budget.stop_reason(between_trials=False) is None  # trial counts only between trials
    assert budget.stop_reason(between_trials=True) == "2 trials done"
    one = Budget(max_trials=1, time_limit_s=None, target=None)
    one.trials_finished = 1
    assert one.stop_reason(between_trials=True) == "1 trial done"
    budget.target_reached = 0.95
    assert budget.stop_reason(between_trials=True) == "target reached (validation accuracy 0.9500)"
    budget.cancelled.set()
    assert budget.stop_reason(between_trials=False) == "stopped by the user"


def test_time_limit_stops_mid_trial():
    budget = Budget(time_limit_s=5, started_at=0.0)
    assert budget.stop_reason(between_trials=False) == "time limit of 5 s reached"


def test_budget_module_imports_neither_keras_nor_qt():
    code = (
        "import sys, tuner_app.budget; "
        "bad = [m for m in ('keras', 'keras_tuner', 'tensorflow', 'PySide6') if m in sys.modules]; "
        "sys.exit(str(bad) if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
