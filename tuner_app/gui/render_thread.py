"""The plots' render thread and the bridge that brings its pictures back to the GUI thread.

Why a thread: an Agg draw of a figure takes 45-170 ms on the 2-core CPU, too long for the event
loop (tuner_app.gui.plots says more); the canvases ask for pictures here and paint them when they
come. Why a bridge: see PictureBridge. Qt objects only, no search logic.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    from tuner_app.gui.plots import PlotCanvas

log = logging.getLogger(__name__)


class RenderThread:
    """One daemon thread that rasterises the canvases that asked for a picture, latest first served.

    Why it is stopped and joined before the interpreter exits (`stop_renderer`, run by atexit and by
    the app): Python 3.11 ends a daemon thread that is still running at exit with pthread_exit the
    next time it needs the GIL. Mid-draw that is often inside matplotlib's FreeType code (it reads the
    font file through a Python callback), and the forced unwind through those C++ frames calls
    std::terminate: "terminate called without an active exception", exit 134. Measured: about one
    close of the window in two while a search ran.
    """

    def __init__(self) -> None:
        self._pending: dict[int, PlotCanvas] = {}
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="plot-render", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float) -> bool:
        """Drop pending requests, let the draw in progress finish, end the thread; True if it ended."""
        with self._wake:
            self._stopping = True
            self._pending.clear()
            self._wake.notify_all()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def request(self, canvas: PlotCanvas) -> None:
        with self._wake:
            canvas._requested += 1
            self._pending[id(canvas)] = canvas  # a second request before the draw: one draw
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                canvas = self._pending.pop(next(iter(self._pending)))
                request = canvas._requested  # the picture answers every request made so far
            try:
                canvas._rasterise(request)
            except Exception:  # one bad draw must not stop every later picture
                log.exception("Drawing %s failed", type(canvas).__name__)
                canvas._bridge.send(canvas, None, request)


class PictureBridge(QObject):
    """Carries pictures from the render thread to their canvases on the GUI thread.

    Why not a signal on each canvas: the render thread emitted on a canvas that the GUI thread was
    deleting meanwhile (a window closed while its last picture was being drawn), and Qt crashed the
    process (SIGSEGV in `_rasterise`'s emit, CI run of 2026-11-26); a Python-side check cannot
    close that race. This object is made once, on the GUI thread, and never deleted; it holds the
    canvases weakly and hands a picture on only to a canvas that still exists.
    """

    _carried = Signal(object, object, int)  # weak reference to the canvas, QImage or None, request
    _called = Signal(object, str)  # weak reference to the canvas, the name of a method to call

    def __init__(self) -> None:
        super().__init__()
        self._carried.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._called.connect(self._call, Qt.ConnectionType.QueuedConnection)

    def call_soon(self, canvas: PlotCanvas, method: str) -> None:
        """Any thread: call `canvas.<method>()` on the GUI thread, if the canvas still exists then
        (the importance canvas's worker thread says its forest is fitted this way)."""
        self._called.emit(weakref.ref(canvas), method)

    @Slot(object, str)
    def _call(self, ref: weakref.ref, method: str) -> None:
        canvas = living(ref)
        if canvas is not None:
            getattr(canvas, method)()

    def send(self, canvas: PlotCanvas, image: QImage | None, request: int) -> None:
        """Render thread: queue `image` (None: the draw failed) for `canvas`."""
        self._carried.emit(weakref.ref(canvas), image, request)

    @Slot(object, object, int)
    def _deliver(self, ref: weakref.ref, image: QImage | None, request: int) -> None:
        canvas = living(ref)
        if canvas is None:
            return  # the canvas was deleted while its picture was drawn
        if image is None:
            canvas._answered(request)  # answered, with no picture: flush() must not wait
        else:
            canvas._show_picture(image, request)


def living(ref: weakref.ref) -> PlotCanvas | None:
    """The canvas behind `ref`, or None once its Python object or its Qt widget is gone."""
    canvas = ref()
    return canvas if canvas is not None and shiboken6.isValid(canvas) else None


_render_lock = threading.Lock()
_bridge: PictureBridge | None = None
_render_thread: RenderThread | None = None


def picture_bridge() -> PictureBridge:
    """The bridge, made on first use from the GUI thread (canvases ask for pictures from there)."""
    global _bridge
    with _render_lock:
        _bridge = _bridge or PictureBridge()
        return _bridge


def renderer() -> RenderThread:
    """The render thread, started on first use (again after `stop_renderer`)."""
    global _render_thread
    with _render_lock:
        _render_thread = _render_thread or RenderThread()
        return _render_thread


def stop_renderer(timeout_s: float = 30.0) -> bool:
    """End the render thread after its current draw (see RenderThread); True if none is left.

    Safe to call more than once; a later render starts a new thread.
    """
    global _render_thread
    with _render_lock:
        thread, _render_thread = _render_thread, None
    if thread is None:
        return True
    ended = thread.stop(timeout_s)
    if not ended:
        log.warning("The plot render thread did not finish its draw in %.0f s", timeout_s)
    return ended


atexit.register(stop_renderer)  # atexit runs before the interpreter starts ending daemon threads
