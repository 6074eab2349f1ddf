"""Soak driver for test_pyside_refcount.py: many Signal.emit() calls, then many real pad strokes.

Run in its own process (`python tests/gui/emit_soak.py signal|pad N`) because the bug it guards
against aborts the interpreter: PySide6 6.12.0 on Python 3.11 drops a reference to `True` on each
Signal.emit() made from Python, and once True's count reaches zero CPython dies with
`Fatal Python error: bool_dealloc` (exit 134). A pytest in-process check would take pytest down with it.
Prints "done <what> <count>" as its last line when the interpreter survived the whole run.
"""

from __future__ import annotations

import gc
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def soak_signal(emits: int) -> int:
    """`emits` emits of a Python-defined Signal in a bare QCoreApplication; slot calls counted."""
    from PySide6.QtCore import QCoreApplication, QObject, Signal

    class Emitter(QObject):
        ping = Signal()

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    emitter = Emitter()
    received = [0]

    def slot() -> None:
        received[0] += 1

    emitter.ping.connect(slot)
    for _ in range(emits):
        emitter.ping.emit()
    app.processEvents()
    return received[0]


def soak_pad(segments: int) -> int:
    """`segments` stroke segments on the real PadPanel's pad, sent as mouse events (a drag's path).

    Each move goes through DrawingPad.mouseMoveEvent -> extend_stroke -> _segment, which emits
    `changed` from Python; the panel's throttled prediction timer runs as events are processed.
    """
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from tuner_app.gui.pad_panel import PadPanel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    panel = PadPanel()
    panel.show()
    pad = panel.pad
    changes = [0]
    pad.changed.connect(lambda: changes.__setitem__(0, changes[0] + 1))

    def send(kind: QEvent.Type, x: float, y: float) -> None:
        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        button = none if kind == QEvent.Type.MouseMove else left
        held = none if kind == QEvent.Type.MouseButtonRelease else left
        point = QPointF(x, y)
        event = QMouseEvent(kind, point, point, point, button, held, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(pad, event)

    per_stroke = 1000
    done = 0
    while done < segments:
        send(QEvent.Type.MouseButtonPress, 40, 40)  # the press draws a dot: one segment
        done += 1
        for i in range(max(0, min(per_stroke, segments - done - 1))):  # the release draws the last
            send(QEvent.Type.MouseMove, 40 + (i * 7) % 200, 40 + (i * 13) % 200)
            done += 1
        send(QEvent.Type.MouseButtonRelease, 40, 40)  # the release extends to its point: one more
        done += 1
        pad.clear()  # one more emit; keeps the strokes from saturating the image
        app.processEvents()
    app.processEvents()
    return changes[0]


def main(argv: list[str]) -> int:
    what, count = argv[0], int(argv[1])
    result = soak_signal(count) if what == "signal" else soak_pad(count)
    gc.collect()  # the abort often comes from a collection; provoke it before claiming success
    print(f"done {what} {result}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
