"""Compact console progress for the CLI: one line per epoch or trial instead of KerasTuner's text."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from tuner_app.config import SearchConfig
from tuner_app.events import Event
from tuner_app.formatting import format_duration, format_percent, progress_count, trial_label
from tuner_app.progress import remaining_s, total_from_config
from tuner_app.report import SUMMARY_JSON, best_trials_table, format_test_result
from tuner_app.results import SearchSnapshot


class ConsoleProgress:
    """Listener for engine events: trial i of N, epoch, elapsed, ETA and best so far."""

    def __init__(self, config: SearchConfig, quiet: bool = False, stream: TextIO | None = None):
        self.config = config
        self.quiet = quiet
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.trial_started = self.started
        self.durations: list[float] = []
        self.best: float | None = None
        self.trials_seen = 0
        self.epochs_done = 0  # in the running trial, all executions
        self.current_trial = ""
        self.planned: int | None = None
        self._line_open = False

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "search_started":
            self.planned = event.get("planned_trials")
            self._print(
                f"Searching {self.config.family} with {self.config.tuner} on {event['device']}: "
                f"{event['train_size']} train / {event['validation_size']} validation images "
                f"(data: {event['data_source']}). Results: {self.config.project_dir}"
            )
        elif kind == "trial_started":
            self.trials_seen += 1
            self.current_trial = event["trial_id"]
            self.trial_started = time.monotonic()
            self.epochs_done = 0
        elif kind == "epoch":
            self.epochs_done += 1
            metrics = event["metrics"]
            executions = self.config.executions
            replicate = f" run {event['execution'] + 1}/{executions}" if executions > 1 else ""
            self._status(
                f"{self._trial_label()}{replicate} epoch {event['epoch'] + 1}: "
                f"loss {metrics.get('loss', float('nan')):.4f} "
                f"val_acc {metrics.get('val_accuracy', float('nan')):.4f}  {self._clock()}",
                final=not self.tty,
            )
        elif kind == "trial_finished":
            self.durations.append(time.monotonic() - self.trial_started)
            self.trial_started = time.monotonic()  # no trial runs now: none of the next one is done
            self.epochs_done = 0
            score = event.get("score")
            if score is not None and event["status"] == "completed":
                self.best = max(self.best or 0.0, score)
            outcome = (
                f"val_acc {score:.4f}"
                if score is not None and event["status"] == "completed"
                else f"{event['status'].upper()}: {event.get('error') or 'no score'}"
            )
            self._status(
                f"{self._trial_label()} done in {format_duration(self.durations[-1])}: {outcome}; "
                f"best so far {format_percent(self.best)}  {self._clock()}",
                final=True,
            )
        elif kind == Event.WORKER_REFUSED:
            self._print(f"Refused worker {event.get('refused_worker')}: {event.get('reason')}")
        elif kind == Event.TEST_FAILED:
            self._print(f"Test evaluation of the best model FAILED: {event.get('error')}")
        elif kind == "test_evaluated":
            label = trial_label(event["trial_id"])
            self._print(f"Best model ({label}) on the test set: {format_test_result(event)}")

    def _trial_label(self) -> str:
        return f"{progress_count(self.trials_seen, self.total_trials())} {trial_label(self.current_trial)}"

    def _clock(self) -> str:
        elapsed = time.monotonic() - self.started
        return f"[{format_duration(elapsed)} elapsed, ETA {format_duration(self.eta(elapsed))}]"

    def total_trials(self) -> int | None:
        return total_from_config(self.config.to_json(), self.planned)

    def eta(self, elapsed: float) -> float | None:
        """Remaining time (tuner_app.progress's rule, as the window uses)."""
        return remaining_s(
            elapsed_s=elapsed,
            trial_durations=self.durations,
            total_trials=self.total_trials(),
            current_trial_s=time.monotonic() - self.trial_started,
            time_limit_s=self.config.time_limit_s,
            current_trial_total_s=self._current_trial_total_s(),
        )

    def _current_trial_total_s(self) -> float | None:
        """The running trial's length projected from its epochs so far (Hyperband varies its epochs)."""
        if not self.epochs_done or self.config.tuner == "hyperband":
            return None
        per_epoch = (time.monotonic() - self.trial_started) / self.epochs_done
        return per_epoch * self.config.epochs * self.config.executions

    def _status(self, text: str, final: bool) -> None:
        if self.quiet:
            return
        if self.tty and not final:
            self.stream.write("\r\033[K" + text)
            self._line_open = True
        else:
            self.stream.write(("\r\033[K" if self._line_open else "") + text + "\n")
            self._line_open = False
        self.stream.flush()

    def _print(self, text: str) -> None:
        if self.quiet:
            return
        self._status(text, final=True)

    def close(self) -> None:
        if self._line_open:
            self.stream.write("\n")
            self._line_open = False


def print_summary(snapshot: SearchSnapshot, outcome: Any, stream: TextIO | None = None) -> None:
    """The final table: best trials with mean +- std, test accuracy of the best, file locations."""
    out = stream or sys.stdout
    counts = snapshot.status_counts()
    elapsed = snapshot.search_time_s(now=snapshot.last_event_at or 0.0)  # the runs, not idle time between
    print("", file=out)
    ended = f"Search {snapshot.state} ({snapshot.reason})" if snapshot.reason else f"Search {snapshot.state}"
    print(
        f"{ended} after {format_duration(elapsed)}; trials: "
        + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
        file=out,
    )
    print(best_trials_table(snapshot), file=out)
    if snapshot.test:
        each = "each model evaluated once" if snapshot.test_replicates else "evaluated once"
        print(
            f"\nTest accuracy of the best model ({trial_label(str(snapshot.test.get('trial_id')))}, "
            f"{snapshot.test.get('test_size')} test images, {each}): {format_test_result(snapshot.test)}",
            file=out,
        )
        print(f"Best model: {snapshot.best_model_path}", file=out)
    if snapshot.test_error:
        print(f"\nTest evaluation of the best model FAILED: {snapshot.test_error}", file=out)
    summary = snapshot.project_dir / SUMMARY_JSON
    if summary.is_file():  # not when the closing writes failed (a read-only or full disk)
        print(f"Summary: {summary} and trials.csv", file=out)
    for problem in snapshot.problems:
        print(f"warning: {problem}", file=out)
