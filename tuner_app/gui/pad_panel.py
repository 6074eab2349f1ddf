"""Pad, stroke width, Clear, the 28x28 image the model sees, and the 10 class probabilities.

Why predictions are throttled, not debounced: the user should see the answer change while drawing,
but one prediction (preprocess + model call, a few ms) per mouse move would waste the GUI thread;
at most one runs per THROTTLE_MS, and the last stroke always gets one when the button is released.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from tuner_app.gui.pad import DrawingPad
from tuner_app.predict import predict_probabilities
from tuner_app.preprocess import preprocess_drawing

THROTTLE_MS = 40
#: Below this top probability the pad says "not sure" instead of naming one digit. Measured on the
#: 10,000 test digits with the best model of a 30-trial dense search (92.3 % test accuracy): the 6.3 %
#: of digits it scored below 0.6 it got right only 49 % of the time, those above 95 %.
NOT_SURE_BELOW = 0.6
PREVIEW_SCALE = 4  # 112 px: pad and preview fit the 440-px column side by side
EMPTY_HINT = "Draw a digit (0-9) in the box."
NO_MODEL_HINT = (
    "No model: open a finished project (File > Open project) or a .keras file (File > Open model)."
)


def answer_text(probabilities: np.ndarray, threshold: float = NOT_SURE_BELOW) -> str:
    """The pad's answer: the digit, or "not sure" naming the two likeliest when the top is low."""
    order = np.argsort(probabilities)[::-1]
    first, second = int(order[0]), int(order[1])
    p1, p2 = 100 * float(probabilities[first]), 100 * float(probabilities[second])
    if probabilities[first] < threshold:
        return f"<b>Not sure</b>: maybe a {first} ({p1:.0f} %) or a {second} ({p2:.0f} %)"
    return f"It looks like a <b>{first}</b> ({p1:.1f} %)"


class ProbabilityBars(QWidget):
    """Ten vertical bars, painted directly: cheaper than a matplotlib redraw per stroke."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.probabilities: np.ndarray | None = None
        self.setMinimumSize(230, 120)

    def set_probabilities(self, probabilities: np.ndarray | None) -> None:
        self.probabilities = probabilities
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        width, height = self.width(), self.height()
        label_h, slot = 16, width / 10
        best = int(np.argmax(self.probabilities)) if self.probabilities is not None else -1
        top3 = set(np.argsort(self.probabilities)[-3:].tolist()) if self.probabilities is not None else set()
        text_h = 14
        for digit in range(10):
            x = digit * slot
            if self.probabilities is not None:
                value = float(self.probabilities[digit])
                bar_h = value * (height - label_h - text_h - 4)
                colour = QColor("#2e86de") if digit == best else QColor("#a4b0be")
                top = height - label_h - bar_h
                painter.fillRect(QRectF(x + 3, top, slot - 6, bar_h), colour)
                if digit in top3 and value >= 0.005:  # the top three say their percentage
                    painter.setPen(QColor("black"))
                    painter.drawText(
                        QRectF(x, top - text_h, slot, text_h),
                        Qt.AlignmentFlag.AlignCenter,
                        f"{100 * value:.0f}%",
                    )
            painter.setPen(QColor("black"))
            painter.drawText(
                QRectF(x, height - label_h, slot, label_h), Qt.AlignmentFlag.AlignCenter, str(digit)
            )
        painter.end()


class PadPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model: Any = None
        self.model_source: str | None = None
        self.model_name: str | None = None
        self.model_input: np.ndarray | None = None
        self.probabilities: np.ndarray | None = None
        self.last_latency_ms: float | None = None
        self._last_run = 0.0
        self.pad = DrawingPad()
        self.stroke = QSpinBox()
        self.stroke.setRange(4, 48)
        self.stroke.setValue(self.pad.stroke_width)
        self.stroke.setSuffix(" px")
        self.stroke.valueChanged.connect(self._set_stroke)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.pad.clear)
        self.preview = QLabel()
        self.preview.setFixedSize(28 * PREVIEW_SCALE, 28 * PREVIEW_SCALE)
        self.preview.setStyleSheet("background: black; border: 1px solid #888;")
        self.preview.setToolTip(
            "The 28x28 image the model sees (MNIST-style: cropped, 20-px box, centred by mass)"
        )
        self.bars = ProbabilityBars()
        self.answer = QLabel(EMPTY_HINT)
        self.answer.setWordWrap(True)
        font = self.answer.font()
        font.setPointSize(font.pointSize() + 2)
        self.answer.setFont(font)
        self.model_label = QLabel(NO_MODEL_HINT)
        self.model_label.setWordWrap(True)
        self.model_label.setStyleSheet("color: #555;")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.update_prediction)
        self.pad.changed.connect(self._schedule)
        self.pad.stroke_finished.connect(self.update_prediction)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Stroke"))
        controls.addWidget(self.stroke)
        controls.addWidget(clear)
        controls.addStretch(1)
        side = QVBoxLayout()
        side.addWidget(QLabel("Model input (28x28)"))
        side.addWidget(self.preview)
        side.addWidget(self.answer)
        side.addStretch(1)
        grid = QGridLayout(self)
        grid.addWidget(self.pad, 0, 0)
        grid.addLayout(side, 0, 1)
        grid.addLayout(controls, 1, 0)
        grid.addWidget(self.bars, 2, 0, 1, 2)
        grid.addWidget(self.model_label, 3, 0, 1, 2)
        grid.setRowStretch(4, 1)  # extra height goes below, not between the pad and its controls
        self._show_preview(None)

    def _set_stroke(self, value: int) -> None:
        self.pad.stroke_width = value

    def set_model(self, model: Any, source: str | Path, label: str | None = None) -> None:
        """`source` is the file (or trial folder) it came from; `label` what the pad calls it."""
        self.model, self.model_source = model, str(source)
        self.model_name = label or str(source)
        self.model_label.setText(f"Model: {self.model_name}")
        self.update_prediction()

    def show_digit(self, image: np.ndarray) -> None:
        """A 28x28 MNIST image (white on black) on the pad, classified at once."""
        self.pad.set_digit(image)

    def _schedule(self) -> None:
        if self._timer.isActive():
            return
        wait = THROTTLE_MS - (time.perf_counter() - self._last_run) * 1000
        self._timer.start(max(0, int(wait)))

    def update_prediction(self) -> None:
        """Preprocess the drawing and, with a model, show its class probabilities."""
        self._timer.stop()
        started = time.perf_counter()
        self._last_run = started
        self.model_input = preprocess_drawing(self.pad.to_array())
        self._show_preview(self.model_input)
        if self.model_input is None:
            self.probabilities = None
            self.answer.setText(EMPTY_HINT)
        elif self.model is None:
            self.probabilities = None
            self.answer.setText("No model to ask yet.")
        else:
            self.probabilities = predict_probabilities(self.model, self.model_input)
            self.answer.setText(answer_text(self.probabilities))
        self.bars.set_probabilities(self.probabilities)
        self.last_latency_ms = (time.perf_counter() - started) * 1000

    def _show_preview(self, image: np.ndarray | None) -> None:
        pixels = np.zeros((28, 28), np.uint8) if image is None else np.rint(image * 255).astype(np.uint8)
        pixels = np.ascontiguousarray(pixels)
        qimage = QImage(pixels.data, 28, 28, 28, QImage.Format.Format_Grayscale8).copy()
        self.preview.setPixmap(QPixmap.fromImage(qimage).scaled(self.preview.size()))
