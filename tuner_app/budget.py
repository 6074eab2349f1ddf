"""The search's budget: trials, time limit, target and the user's Stop, and which one says stop.

Qt-free and KerasTuner-free: the engine and the tuner hooks share one `Budget` (the Keras callback
that enforces it mid-epoch, `BudgetWatch`, lives in `tuner_app.tuners`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class Budget:
    """Shared between the engine and the tuner hooks; `cancel()` may be called from any thread."""

    max_trials: int | None = None
    time_limit_s: float | None = None
    target: float | None = None
    started_at: float = field(default_factory=time.monotonic)
    cancelled: threading.Event = field(default_factory=threading.Event)
    target_reached: float | None = None
    trials_finished: int = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def stop_reason(self, between_trials: bool) -> str | None:
        if self.cancelled.is_set():
            return "stopped by the user"
        if self.time_limit_s is not None and self.elapsed() >= self.time_limit_s:
            return f"time limit of {self.time_limit_s:.0f} s reached"
        if between_trials and self.target_reached is not None:
            return f"target reached (validation accuracy {self.target_reached:.4f})"
        if between_trials and self.max_trials is not None and self.trials_finished >= self.max_trials:
            return f"{self.max_trials} trial{'' if self.max_trials == 1 else 's'} done"
        return None
