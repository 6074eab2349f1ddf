"""`python -m tuner_app.search`: run a hyperparameter search headless, e.g. overnight.

Exit codes (tuner_app.exit_codes.ExitCode): 0 success, 1 the search failed, 2 bad usage or input,
130 stopped by Ctrl+C / SIGTERM (finished trials are kept; continue with --resume).
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tuner_app.exit_codes import ExitCode

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

if TYPE_CHECKING:
    from tuner_app.engine import SearchEngine

EPILOG = """\
examples:
  quick look (about 2 minutes on 2 CPU cores):
    python -m tuner_app.search --family dense --max-trials 3 --epochs 2 --subset 12000
  overnight, stops cleanly after 8 hours, resumable:
    python -m tuner_app.search --family conv --tuner hyperband --epochs 20 --time-limit 8h
    python -m tuner_app.search --family conv --tuner hyperband --epochs 20 --time-limit 8h --resume
  distributed over a chief and workers sharing one folder (KerasTuner's own gRPC mode):
    python -m tuner_app.search --role chief  --oracle 10.0.0.1:8000 --project-dir /mnt/run --max-trials 40
    python -m tuner_app.search --role worker --oracle 10.0.0.1:8000 --project-dir /mnt/run --worker-id gpu1
  the seed notebook's weight-decay grid, 5 factors x 3 replicates, mean +- std per factor:
    python -m tuner_app.search --family weight_decay --space seed --tuner grid --executions 3

Results go to --project-dir (default projects/FAMILY-TUNER): results.jsonl (every epoch of every
trial, written as it happens), summary.json, trials.csv and best_model.keras. The test set is used
once, at the end, on the best model; model selection uses the validation split only.
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser, derived from the settings table (tuner_app.settings): one declaration per flag."""
    from tuner_app.settings import add_arguments

    parser = argparse.ArgumentParser(
        prog="python -m tuner_app.search",
        description="Search hyperparameters of Keras models on MNIST with KerasTuner, headless.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def config_from_args(args: argparse.Namespace):
    from tuner_app.settings import config_from_namespace

    return config_from_namespace(args)


def main(argv: Sequence[str] | None = None) -> int:
    # First, before anything slow (TensorFlow takes seconds to import): a Ctrl+C or SIGTERM from now on
    # is never lost; one that comes before the search runs ends the program at once with 130.
    signals = _stop_on_signals()
    try:
        return _main(argv, signals)
    except (_Interrupted, KeyboardInterrupt):
        if signals.engine is None:
            print("\nStopped before the search started; nothing was run.", file=sys.stderr)
        else:
            print("\nAborted (finished trials are kept; continue with --resume).", file=sys.stderr)
        return ExitCode.INTERRUPTED


def _main(argv: Sequence[str] | None, signals: _Signals) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a message on bad usage
    if args.resume:
        _fill_from_recorded_config(parser, args, argv)

    from tuner_app.config import ConfigError
    from tuner_app.data import DataError

    try:
        config = config_from_args(args)
    except ConfigError as exc:  # one line: the usage text would bury it (argparse's own errors keep it)
        recorded = " (flags not given were taken from the project's recorded settings)" if args.resume else ""
        print(f"error: {exc}{recorded}", file=sys.stderr)
        return ExitCode.USAGE

    from tuner_app.backend import BackendError, select_backend

    try:  # Keras reads the backend once, when first imported: nothing above imports it
        select_backend(config.backend)
    except BackendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    from tuner_app.native_logs import import_backend_quietly

    import_backend_quietly()
    from tuner_app.console import ConsoleProgress, print_summary
    from tuner_app.distributed import DistributedError
    from tuner_app.engine import ProjectDirError, SearchEngine, SearchError
    from tuner_app.events import SearchState
    from tuner_app.results import ResultsError, read_results

    progress = ConsoleProgress(config, quiet=args.quiet)
    engine = SearchEngine(config, listener=progress)
    interrupted = signals.attach(engine)
    try:
        outcome = _run_reporting_crashes(engine)
    except (DataError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except (ProjectDirError, DistributedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except SearchError as exc:
        progress.close()
        if config.role == "worker":
            print(f"error: {exc}", file=sys.stderr)
            return ExitCode.FAILED
        try:  # the log may be missing (a folder never made, a log deleted under the search)
            print_summary(read_results(config.project_dir), None)
        except (ResultsError, OSError):
            pass
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    progress.close()
    if config.role == "worker":
        print(f"Worker {engine.worker} done: {outcome.reason}.")
    else:
        print_summary(read_results(config.project_dir), outcome)
        if outcome.test_error:  # the search's records are complete; its final number is not
            print(
                f"error: the best model's test evaluation failed ({outcome.test_error}); the finished "
                f"trials are kept in {config.project_dir}",
                file=sys.stderr,
            )
            return ExitCode.FAILED
    # A Ctrl+C that came too late to cut anything short (the last trial had ended; the test ran to
    # its end) leaves a finished search: exit 0, as its log says, not 130.
    stopped_early = interrupted() and outcome.state is not SearchState.FINISHED
    return ExitCode.INTERRUPTED if stopped_early else ExitCode.OK


def _run_reporting_crashes(engine: SearchEngine):
    """Unexpected errors become one clear line (traceback with TUNER_APP_DEBUG=1), exit code 1."""
    from tuner_app.disk import as_disk_full
    from tuner_app.engine import SearchError

    try:
        return engine.run()
    except Exception as exc:
        if isinstance(exc, SearchError) or type(exc).__name__ in ("DataError", "ConfigError"):
            raise
        full = as_disk_full(exc)  # a full disk outside the search proper (the log's first line, ...)
        if full is not None:
            raise SearchError(full.message(engine.project_dir)) from None
        if not isinstance(exc, (ValueError, OSError)):
            raise
        if os.environ.get("TUNER_APP_DEBUG"):
            raise
        raise SearchError(
            f"unexpected {type(exc).__name__}: {exc} (rerun with TUNER_APP_DEBUG=1 for the "
            f"traceback; results so far are in {engine.project_dir})"
        ) from None


def _fill_from_recorded_config(
    parser: argparse.ArgumentParser, args: argparse.Namespace, argv: Sequence[str] | None
) -> None:
    """`--resume --project-dir DIR` alone continues DIR's search with its recorded settings.

    Which settings are reused is the settings table's call (every one that is not per-run); a flag
    given again wins, and the engine then refuses a change to what defines the search.
    """
    from tuner_app.config import default_project_dir
    from tuner_app.results import ResultsError, read_results
    from tuner_app.settings import RESUMED_FIELDS, explicitly_given, fill_from_recorded

    project = args.project_dir or default_project_dir(args.family, args.tuner)
    try:
        recorded = dict(read_results(project).config)
    except (ResultsError, OSError):
        return  # the engine explains that there is nothing to resume
    fill_from_recorded(args, recorded, explicitly_given(parser, argv), RESUMED_FIELDS)
    args.project_dir = Path(project)


class _Interrupted(BaseException):
    """Raised by the signal handler to stop at once. Not KeyboardInterrupt: CPython remembers a
    KeyboardInterrupt raised inside code that a C extension runs (TensorFlow's import does) and then
    ends the process by SIGINT instead of with main's exit code."""


class _Signals:
    """Ctrl+C / SIGTERM. Before the engine is attached: stop at once (exit 130).
    Then, first: stop after the current epoch, keep results; second: abort."""

    def __init__(self) -> None:
        self.hits: list[int] = []
        self.engine: SearchEngine | None = None
        self._deliveries = _delivery_counter()
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        # Python runs a handler only between bytecodes of the main thread: two signals that arrive
        # while it is inside one long TensorFlow call reach this handler once. The wakeup pipe got
        # one byte per signal the process received, so a quick second Ctrl+C is not lost. (Two sent
        # before the process is scheduled at all, on an overloaded machine, are merged by the
        # kernel into one: a third press then aborts.)
        self.hits.extend([signum] * max(1, self._deliveries()))
        if self.engine is None:
            raise _Interrupted
        if len(self.hits) > 1:
            # Not an exception: raised from a signal handler it can land in a weakref callback or
            # a finalizer, where Python ignores it and the abort is lost. Every finished trial is
            # already on disk (each log line is fsynced) and the kernel drops the project's lock.
            print("\nAborted (finished trials are kept; continue with --resume).", file=sys.stderr)
            sys.stderr.flush()
            os._exit(ExitCode.INTERRUPTED)
        print(
            "\nStopping after the current epoch (finished trials are kept; "
            "continue later with --resume). Press Ctrl+C again to abort.",
            file=sys.stderr,
            flush=True,
        )
        self.engine.cancel()

    def attach(self, engine: SearchEngine) -> Callable[[], bool]:
        """From now on a signal stops `engine` cleanly; the callable says whether one came."""
        if self.hits:  # one came but its exception was swallowed (a bare except in a library)
            raise _Interrupted
        self.engine = engine
        return lambda: bool(self.hits)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@functools.cache  # one pipe per process, however often main() runs in it
def _delivery_counter() -> Callable[[], int]:
    """How many Ctrl+C / SIGTERM arrived since the last call, counted by CPython's C-level handler,
    which writes each signal's number to the wakeup fd (signal.set_wakeup_fd); other signals a
    library handles in Python do not count. Returns 0 where no pipe can be made; the handler then
    counts one per call."""
    try:
        read_end, write_end = os.pipe()
        for end in (read_end, write_end):
            os.set_blocking(end, False)
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except (OSError, ValueError):  # ValueError: not the main thread (an embedding caller)
        return lambda: 0

    def count() -> int:
        received = 0
        while True:
            try:
                chunk = os.read(read_end, 512)
            except BlockingIOError:
                return received
            if not chunk:
                return received
            received += sum(number in _STOP_SIGNALS for number in chunk)

    return count


def _stop_on_signals() -> _Signals:
    """Install the handlers now; `attach` the engine once it exists."""
    return _Signals()


if __name__ == "__main__":
    sys.exit(main())
