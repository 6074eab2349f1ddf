"""The drawing pad: black ink on a white QImage, drawn with the mouse.

Why track the pressed state ourselves instead of reading event.buttons(): synthetic move events
(tests, the demo) carry no buttons, and the pad must draw the same for them as for a real mouse.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

PAD_SIZE = 280
DEFAULT_STROKE = 18  # about 2 px at 28x28 once a 200-px digit is scaled to MNIST's 20-px box


class DrawingPad(QWidget):
    changed = Signal()  # ink was added or cleared
    stroke_finished = Signal()

    def __init__(self, parent: QWidget | None = None, size: int = PAD_SIZE):
        super().__init__(parent)
        self.image = QImage(size, size, QImage.Format.Format_Grayscale8)
        self.image.fill(QColor("white"))
        self.stroke_width = DEFAULT_STROKE
        self._last: QPointF | None = None
        self.setFixedSize(QSize(size, size))
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw a digit with the mouse")

    def clear(self) -> None:
        self.image.fill(QColor("white"))
        self._last = None
        self.update()
        self.changed.emit()

    def set_digit(self, image: np.ndarray) -> None:
        """Put a 28x28 MNIST-style image (white ink on black) on the pad as black ink on white,
        scaled to fill the pad: the pad's preprocessing then gives the model back what it saw."""
        pixels = np.ascontiguousarray(255 - np.asarray(image, dtype=np.uint8))
        height, width = pixels.shape
        small = QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
        self.image = small.scaled(
            self.image.width(),
            self.image.height(),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        ).convertToFormat(QImage.Format.Format_Grayscale8)
        self._last = None
        self.update()
        self.changed.emit()
        self.stroke_finished.emit()  # one prediction now, as after a stroke

    def is_empty(self) -> bool:
        return bool(self.to_array().min() == 255)

    def to_array(self) -> np.ndarray:
        """The canvas as a (H, W) uint8 array, 255 = paper, 0 = ink."""
        width, height = self.image.width(), self.image.height()
        buffer = np.frombuffer(self.image.constBits(), dtype=np.uint8)
        return buffer.reshape(height, self.image.bytesPerLine())[:, :width].copy()

    # -- drawing -------------------------------------------------------------------------------
    def begin_stroke(self, point: QPointF) -> None:
        self._last = QPointF(point)
        self._segment(point, point)

    def extend_stroke(self, point: QPointF) -> None:
        if self._last is None:
            return
        self._segment(self._last, point)
        self._last = QPointF(point)

    def end_stroke(self) -> None:
        if self._last is not None:
            self._last = None
            self.stroke_finished.emit()

    def draw_polyline(self, points: list[tuple[float, float]]) -> None:
        """Draw one stroke through `points` (pad coordinates), as a mouse drag would."""
        self.begin_stroke(QPointF(*points[0]))
        for x, y in points[1:]:
            self.extend_stroke(QPointF(x, y))
        self.end_stroke()

    def _segment(self, start: QPointF, end: QPointF) -> None:
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(
            QColor("black"),
            self.stroke_width,
            Qt.PenStyle.SolidLine,
            Qt.PenCapStyle.RoundCap,
            Qt.PenJoinStyle.RoundJoin,
        )
        painter.setPen(pen)
        painter.drawLine(start, end)
        painter.end()
        margin = self.stroke_width // 2 + 2
        self.update(
            min(int(start.x()), int(end.x())) - margin,
            min(int(start.y()), int(end.y())) - margin,
            abs(int(end.x() - start.x())) + 2 * margin,
            abs(int(end.y() - start.y())) + 2 * margin,
        )
        self.changed.emit()

    # -- Qt events -----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.begin_stroke(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.extend_stroke(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.extend_stroke(event.position())
            self.end_stroke()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawImage(QPoint(0, 0), self.image)
        painter.setPen(QColor("#888888"))
        painter.drawRect(0, 0, self.width() - 1, self.height() - 1)
        painter.end()
