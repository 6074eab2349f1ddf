"""The exit codes of `python -m tuner_app.search`: one home for the CLI that returns them and the
window that reads them from its child search process."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """The search ran to its end: finished, its budget spent, or its space exhausted."""

    FAILED = 1
    """The search failed while running (a full disk, too many failed trials, a lost log); finished
    trials are kept."""

    USAGE = 2
    """Bad usage or input: a flag, the data, or a project folder that is busy or does not fit.
    Nothing ran; the last `error: ` line on stderr names the problem."""

    INTERRUPTED = 130
    """Stopped by Ctrl+C / SIGTERM (128 + SIGINT, the shell's convention); finished trials are kept,
    continue with --resume."""
