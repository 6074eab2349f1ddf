"""`python -m tuner_app.search`: run a hyperparameter search headless, e.g. overnight.

Exit codes: 0 success, 1 the search failed, 2 bad usage or input, 130 stopped by Ctrl+C / SIGTERM
(finished trials are kept; continue with --resume).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

if TYPE_CHECKING:
    from tuner_app.engine import SearchEngine

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

EPILOG = """\
examples:
  quick look (about 2 minutes on 2 CPU cores):
    python -m tuner_app.search --family dense --max-trials 3 --epochs 2 --subset 12000
  overnight, stops cleanly after 8 hours, resumable:
    python -m tuner_app.search --family conv --tuner hyperband --epochs 20 --time-limit 8h
    python -m tuner_app.search --family conv --tuner hyperband --epochs 20 --time-limit 8h --resume
  distributed over a chief and workers sharing one folder (KerasTuner's own gRPC mode):
    python -m tuner_app.search --role chief  --oracle 10.0.0.1:8000 --project-dir /shared/run --max-trials 40
    python -m tuner_app.search --role worker --oracle 10.0.0.1:8000 --project-dir /shared/run --worker-id gpu1
  the seed notebook's weight-decay grid, 5 factors x 3 replicates, mean +- std per factor:
    python -m tuner_app.search --family weight_decay --space seed --tuner grid --executions 3

Results go to --project-dir (default projects/FAMILY-TUNER): results.jsonl (every epoch of every
trial, written as it happens), summary.json, trials.csv and best_model.keras. The test set is used
once, at the end, on the best model; model selection uses the validation split only.
"""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    return value


def accuracy(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} must be an accuracy in (0, 1], e.g. 0.99 or 99%")
    return value


def duration(text: str) -> float:
    from tuner_app.config import ConfigError, parse_duration

    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    from search_spaces import FAMILIES, SPACES
    from tuner_app.config import JIT_CHOICES, ROLES, STRATEGIES, TUNERS

    parser = argparse.ArgumentParser(
        prog="python -m tuner_app.search",
        description="Search hyperparameters of Keras models on MNIST with KerasTuner, headless.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_argument_group("what to search")
    what.add_argument("--family", choices=FAMILIES, default="dense", help="model family")
    what.add_argument(
        "--tuner", choices=TUNERS, default="random", help="KerasTuner algorithm (default random)"
    )
    what.add_argument(
        "--space",
        choices=SPACES,
        default="full",
        help="full search space, or the seed notebook's configuration (default full)",
    )
    budget = parser.add_argument_group("budget")
    budget.add_argument("--max-trials", type=positive_int, default=10, help="default 10")
    budget.add_argument("--epochs", type=positive_int, default=5, help="epochs per trial (max for hyperband)")
    budget.add_argument(
        "--executions",
        type=positive_int,
        default=1,
        help="replicates per trial; >1 reports mean +- std (default 1)",
    )
    budget.add_argument("--time-limit", type=duration, help="stop cleanly after e.g. 8h, 1h30m, 90m, 3600")
    budget.add_argument("--target", type=accuracy, help="stop once a trial reaches this validation accuracy")
    budget.add_argument(
        "--max-failures",
        type=positive_int,
        default=20,
        help="consecutive failed trials that end the search (default 20)",
    )
    budget.add_argument(
        "--max-retries", type=int, default=0, help="re-runs of a trial that crashed (default 0)"
    )
    budget.add_argument(
        "--no-start-point",
        dest="start_point",
        action="store_false",
        help="random/bayesian: do not try the family's known-good configuration first",
    )
    data = parser.add_argument_group("data")
    data.add_argument("--data", type=Path, help="MNIST .npz with keys x_train, y_train, x_test, y_test")
    data.add_argument("--subset", type=positive_int, help="use only N training images (validation: N/5)")
    data.add_argument(
        "--validation-size",
        type=positive_int,
        default=10_000,
        help="validation images carved from the 60,000 (default 10000)",
    )
    data.add_argument("--seed", type=int, default=0, help="seed for split and search (default 0)")
    out = parser.add_argument_group("output")
    out.add_argument("--project-dir", type=Path, help="default projects/FAMILY-TUNER")
    out.add_argument("--resume", action="store_true", help="continue the search in --project-dir")
    out.add_argument(
        "--tensorboard",
        action="store_true",
        help="also write TensorBoard HParams logs to PROJECT/tensorboard",
    )
    out.add_argument("--quiet", action="store_true", help="only the final summary")
    dev = parser.add_argument_group("device")
    dev.add_argument("--mixed-precision", action="store_true", help="float16 on GPU")
    dev.add_argument(
        "--jit-compile",
        choices=JIT_CHOICES,
        default="auto",
        help="XLA: auto = on for GPU, off for CPU (measured faster)",
    )
    dev.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="none",
        help="mirrored: all GPUs of this machine (TensorFlow backend)",
    )
    dist = parser.add_argument_group(
        "distributed (KerasTuner's chief oracle and workers over gRPC, one shared --project-dir)"
    )
    dist.add_argument(
        "--role",
        choices=ROLES,
        default="standalone",
        help="chief: serve the oracle; worker: run trials it hands out",
    )
    dist.add_argument(
        "--oracle",
        default="127.0.0.1:8000",
        metavar="HOST:PORT",
        help="the chief's address (default 127.0.0.1:8000)",
    )
    dist.add_argument("--worker-id", help="this worker's name (default worker-HOST-PID)")
    dist.add_argument(
        "--worker-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="the chief re-queues the trial of a worker silent this long (default 60)",
    )
    return parser


def config_from_args(args: argparse.Namespace):
    from tuner_app.config import SearchConfig

    return SearchConfig(
        family=args.family,
        tuner=args.tuner,
        space=args.space,
        max_trials=args.max_trials,
        epochs=args.epochs,
        executions=args.executions,
        time_limit_s=args.time_limit,
        target=args.target,
        subset=args.subset,
        validation_size=args.validation_size,
        seed=args.seed,
        project_dir=args.project_dir,
        resume=args.resume,
        data_path=args.data,
        tensorboard=args.tensorboard,
        max_failures=args.max_failures,
        max_retries=args.max_retries,
        mixed_precision=args.mixed_precision,
        jit_compile=args.jit_compile,
        strategy=args.strategy,
        role=args.role,
        oracle=args.oracle,
        worker_id=args.worker_id,
        worker_timeout_s=args.worker_timeout,
        start_point=args.start_point,
    ).validated()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a message on bad usage
    if args.resume:
        _fill_from_recorded_config(parser, args, argv)

    from tuner_app.config import ConfigError
    from tuner_app.data import DataError

    try:
        config = config_from_args(args)
    except ConfigError as exc:
        parser.error(str(exc))

    from tuner_app.native_logs import import_backend_quietly

    import_backend_quietly()
    from tuner_app.console import ConsoleProgress, print_summary
    from tuner_app.distributed import DistributedError
    from tuner_app.engine import ProjectDirError, SearchEngine, SearchError
    from tuner_app.results import read_results

    progress = ConsoleProgress(config, quiet=args.quiet)
    engine = SearchEngine(config, listener=progress)
    interrupted = _stop_on_signals(engine)
    try:
        outcome = _run_reporting_crashes(engine)
    except (DataError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ProjectDirError, DistributedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SearchError as exc:
        progress.close()
        if config.role == "worker":
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print_summary(read_results(config.project_dir), None)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    progress.close()
    if config.role == "worker":
        print(f"Worker {engine.worker} done: {outcome.reason}.")
    else:
        print_summary(read_results(config.project_dir), outcome)
    return EXIT_INTERRUPTED if interrupted() else EXIT_OK


def _run_reporting_crashes(engine: SearchEngine):
    """Unexpected errors become one clear line (traceback with TUNER_APP_DEBUG=1), exit code 1."""
    from tuner_app.engine import SearchError

    try:
        return engine.run()
    except (SearchError, ValueError, OSError) as exc:
        if isinstance(exc, SearchError) or type(exc).__name__ in ("DataError", "ConfigError"):
            raise
        if os.environ.get("TUNER_APP_DEBUG"):
            raise
        raise SearchError(
            f"unexpected {type(exc).__name__}: {exc} (rerun with TUNER_APP_DEBUG=1 for the "
            f"traceback; results so far are in {engine.project_dir})"
        ) from None


# Settings that define a search: a resumed search keeps the recorded ones unless given again.
RESUMED_SETTINGS = (
    "family", "tuner", "space", "executions", "epochs", "subset", "validation_size", "seed",
    "data", "max_trials", "max_failures", "max_retries",
)  # fmt: skip


def _fill_from_recorded_config(
    parser: argparse.ArgumentParser, args: argparse.Namespace, argv: Sequence[str] | None
) -> None:
    """`--resume --project-dir DIR` alone continues DIR's search with its recorded settings."""
    from tuner_app.config import default_project_dir
    from tuner_app.results import ResultsError, read_results

    project = args.project_dir or default_project_dir(args.family, args.tuner)
    try:
        recorded = dict(read_results(project).config)
    except ResultsError:
        return  # the engine explains that there is nothing to resume
    recorded["data"] = recorded.get("data_path")
    explicit = argparse.ArgumentParser(add_help=False)
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            explicit._add_action(_without_default(action))
    given = vars(explicit.parse_known_args(argv)[0])
    for name in RESUMED_SETTINGS:
        if name not in given and name in recorded:
            value = recorded[name]
            setattr(args, name, Path(value) if name == "data" and value else value)
    args.project_dir = Path(project)


def _without_default(action: argparse.Action) -> argparse.Action:
    import copy

    clone = copy.copy(action)
    clone.default = argparse.SUPPRESS
    clone.required = False
    return clone


def _stop_on_signals(engine: SearchEngine) -> Callable[[], bool]:
    """First Ctrl+C / SIGTERM: stop after the current epoch, keep results. Second: abort."""
    hits = []

    def handler(signum, _frame):
        hits.append(signum)
        if len(hits) > 1:
            raise KeyboardInterrupt
        print(
            "\nStopping after the current epoch (finished trials are kept; "
            "continue later with --resume). Press Ctrl+C again to abort.",
            file=sys.stderr,
            flush=True,
        )
        engine.cancel()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return lambda: bool(hits)


if __name__ == "__main__":
    sys.exit(main())
