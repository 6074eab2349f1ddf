"""Whether a project folder fits a request: start a new search there, or resume the one it holds.

One pure rule, used by the engine (and by the window's form before it starts anything), so the two
can never disagree. A project is two records that must go together: our results log (settings,
identity, every epoch) and KerasTuner's state (`keras_tuner/`: the oracle, which trials ran). Resuming
from only one of them would be silently wrong: without KerasTuner's state every trial is re-run;
without the log the settings are unknown (a Hyperband project would continue as a random search).
Both are refused with what to do instead; the window can still open whatever log remains.
"""

from __future__ import annotations

from pathlib import Path

from tuner_app.project_lock import busy_problem
from tuner_app.results import RESULTS_FILE, ResultsError, read_results

KERAS_TUNER_SUBDIR = "keras_tuner"
ORACLE_FILE = "oracle.json"


def folder_problem(project_dir: str | Path, resume: bool) -> str | None:
    """Why `project_dir` cannot take this request (a new search, or `resume`), or None if it can."""
    project = Path(project_dir)
    log = project / RESULTS_FILE
    state = project / KERAS_TUNER_SUBDIR
    oracle_files = list(state.glob(f"*/{ORACLE_FILE}")) + list(state.glob(ORACLE_FILE))
    has_log = log.is_file()
    ran = has_log and _log_has_trials(project)
    if not resume:
        if has_log and (ran or _log_started(project)):
            return (
                f"{project} already holds a search. Pass --resume to continue it, or choose a new "
                "folder with --project-dir."
            )
        if oracle_files:
            return (
                f"{project} holds KerasTuner state ({state}) from an earlier search; starting a new "
                "one would delete it. Choose a new folder with --project-dir."
            )
        return None
    started = has_log and _log_started(project)
    if not started and not state.exists() and not (has_log and _log_has_trials(project)):
        return f"Nothing to resume in {project}: it holds no search. Drop --resume to start a new one there."
    if has_log and not started:
        return (
            f"Cannot resume {project}: its results log has no readable record of how the search "
            f"started (the first line of {RESULTS_FILE} is damaged or was removed), so its settings "
            "are unknown and resuming could continue it as another search. The window can still "
            "open it; start a new search in another --project-dir."
        )
    if not has_log:
        return (
            f"Cannot resume {project}: its results log {RESULTS_FILE} is missing, so the search's "
            f"settings (tuner, space, budget) are unknown and resuming could continue it as another "
            "kind of search. Start a new search in another --project-dir."
        )
    if ran and not oracle_files:
        return (
            f"Cannot resume {project}: KerasTuner's state ({state}) is missing, so every trial "
            "would be re-run and mixed with the recorded ones. The window can still open this "
            "project; start a new search in another --project-dir."
        )
    return None


def request_problem(project_dir: str | Path, resume: bool) -> str | None:
    """Why a search asked for now could not start in `project_dir`: another search holds it, or the
    folder does not fit (`folder_problem`). For callers that do not hold the lock (the window's form,
    the engine's check before it creates anything); the engine checks again under the lock."""
    return busy_problem(project_dir) or folder_problem(project_dir, resume)


def _log_started(project: Path) -> bool:
    try:
        return read_results(project).started_at is not None  # set by a readable search_started only
    except (ResultsError, OSError):
        return False


def _log_has_trials(project: Path) -> bool:
    try:
        return bool(read_results(project).trials)
    except (ResultsError, OSError):
        return False
