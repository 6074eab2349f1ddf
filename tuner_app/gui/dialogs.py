"""One place that shows error dialogs, so every failure reaches the user the same way (and tests can
capture QMessageBox instead of blocking on it)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """A modal error with the message a person can act on; never a traceback."""
    QMessageBox.critical(parent, title, message)
