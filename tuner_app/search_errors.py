"""What a search raises when it cannot run or ends in failure (the CLI turns them into exit codes)."""

from __future__ import annotations


class SearchError(RuntimeError):
    """The search could not run or ended in failure; the message says why."""


class ProjectDirError(SearchError):
    """The project folder does not fit the request (exists without --resume, or nothing to resume)."""
