"""An exception in a slot, a thread or the follower's poll is logged and shown; the window lives on.

pytest-qt normally turns such exceptions into test failures through its own sys.excepthook; these
tests switch that off (qt_no_exception_capture) so that the app's hook (tuner_app.gui.errors) is the
one PySide6 calls, as in the real app.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PySide6.QtCore import QThread, QTimer

from tuner_app.gui.errors import ErrorReporter, install_error_hook
from tuner_app.gui.follower import ProjectFollower
from tuner_app.results import ResultsReader, read_results

pytestmark = pytest.mark.qt_no_exception_capture


@pytest.fixture
def reporter(window):
    hook = install_error_hook(window)
    yield hook
    hook.uninstall()


def broken_refresh() -> None:
    raise ZeroDivisionError("plot scale is zero")


def test_a_timer_slot_that_raises_is_shown_and_the_window_lives(window, qtbot, reporter, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="tuner_app.gui")
    QTimer.singleShot(0, broken_refresh)
    qtbot.waitUntil(lambda: bool(window.errors), timeout=5000)
    assert window.isVisible()
    assert "ZeroDivisionError: plot scale is zero" in window.statusBar().currentMessage()
    assert window.error_label.isVisible() and "1 error:" in window.error_label.text()
    assert "broken_refresh" in window.error_label.toolTip()  # the traceback, for the curious
    assert any("Traceback" in r.getMessage() and "broken_refresh" in r.getMessage() for r in caplog.records)
    # still working: the clock still ticks and a project still opens
    assert window._clock.isActive()
    QTimer.singleShot(0, broken_refresh)
    qtbot.waitUntil(lambda: len(window.errors) == 2, timeout=5000)
    assert "2 errors:" in window.error_label.text()


class Crashing(QThread):
    def run(self) -> None:
        raise KeyError("thread state")


def test_an_exception_in_a_thread_reaches_the_status_bar(window, qtbot, reporter) -> None:
    thread = Crashing(window)
    thread.start()
    thread.wait()
    qtbot.waitUntil(lambda: bool(window.errors), timeout=5000)  # the report is queued to the GUI thread
    assert "KeyError" in window.errors[0] and "thread state" in window.statusBar().currentMessage()
    assert window.isVisible()


def test_a_snapshot_slot_that_raises_does_not_stop_following(
    window, qtbot, reporter, cli_project: Path
) -> None:
    seen = []

    def broken_view(snapshot) -> None:
        seen.append(snapshot)
        raise ValueError("cannot show this snapshot")

    window.follower.changed.connect(broken_view)
    assert window.open_project(cli_project)
    qtbot.waitUntil(lambda: bool(window.errors), timeout=5000)
    assert "cannot show this snapshot" in window.errors[0]
    assert window.follower.active and window.isVisible()
    assert window.table_model.rowCount() == 2  # the window's own slot ran too


def flaky_reader(failures: int) -> type[ResultsReader]:
    """A real ResultsReader whose first `failures` polls raise after reading (and consuming) a chunk:
    the worst moment for a reader bug, since the lines it read are gone from that reader."""
    left = [failures]

    class FlakyReader(ResultsReader):
        def poll(self) -> bool:
            changed = super().poll()
            if left[0] > 0:
                left[0] -= 1
                raise RuntimeError("reader bug while folding a chunk")
            return changed

    return FlakyReader


def test_follower_reports_a_failing_poll_and_loses_no_event(qtbot, cli_project: Path, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="tuner_app.gui.follower")
    follower = ProjectFollower(interval_ms=20, reader_factory=flaky_reader(3))
    failures, snapshots = [], []
    follower.failed.connect(lambda summary, details: failures.append((summary, details)))
    follower.changed.connect(snapshots.append)
    follower.follow(cli_project)
    assert follower.active and snapshots == []  # the first poll failed; the timer still runs
    qtbot.waitUntil(lambda: bool(snapshots), timeout=5000)
    expected = read_results(cli_project)
    assert len(snapshots[-1].trials) == len(expected.trials) == 2  # everything, read again
    assert snapshots[-1].state == expected.state == "finished"
    assert follower.failures == 3
    assert len(failures) == 1  # the same failure three times: reported once
    assert "reader bug while folding a chunk" in failures[0][0] and "Traceback" in failures[0][1]
    assert len([r for r in caplog.records if r.exc_info]) == 1
    follower.stop()


def test_window_shows_a_follower_failure_and_recovers(window, qtbot, cli_project: Path) -> None:
    window.follower.reader_factory = flaky_reader(1)
    assert window.open_project(cli_project)
    assert window.errors and "reader bug" in window.errors[0]
    assert "reader bug" in window.error_label.text()
    qtbot.waitUntil(lambda: window.table_model.rowCount() == 2, timeout=10_000)  # retried ~1 s later
    assert window.isVisible() and window.follower.active


def test_ctrl_c_reaching_a_slot_closes_the_window(window, qtbot) -> None:
    reporter = ErrorReporter(window)
    reporter.interrupted.connect(window.close)
    reporter.handle(KeyboardInterrupt, KeyboardInterrupt(), None)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    assert window.errors == []
