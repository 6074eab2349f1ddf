"""The "Best model" tab: the test set's confusion matrix and a gallery of the misclassified digits.

What it shows comes from PROJECT/examination.json (tuner_app.model_examination), which the engine
writes after the test evaluation; for a project without it, "Examine" computes it on a thread
(loading the best model and the test images off the GUI thread) and writes it the same way.
Clicking a digit puts it on the pad, so the user sees what the model sees and can change it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, QThread, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from tuner_app.gui.plots import PlotCanvas, _empty_note
from tuner_app.model_examination import EXAMINATION_FILE, ExaminationError, read_examination
from tuner_app.results import SearchSnapshot

GALLERY_LIMIT = 200  # the most confident mistakes first; more would only slow the list down
THUMBNAIL = 56
INDEX_ROLE = Qt.ItemDataRole.UserRole


class TestImagesLoader(QThread):
    """Loads the test images (MNIST or the project's --data file) for the gallery, off the GUI thread."""

    loaded = Signal(object)  # uint8 (N, 28, 28)
    failed = Signal(str)

    def __init__(self, data_path: str | None, parent=None):
        super().__init__(parent)
        self.data_path = data_path

    def run(self) -> None:
        try:
            from tuner_app.data import load_mnist

            self.loaded.emit(load_mnist(self.data_path).x_test)
        except Exception as exc:  # shown next to the gallery
            self.failed.emit(f"The test images cannot be loaded: {exc}")


class ExaminationWorker(QThread):
    """Examines the project's best model on the test set and writes examination.json."""

    done = Signal(object)  # the examination dict
    failed = Signal(str)

    def __init__(
        self, project_dir: Path, model_path: Path, data_path: str | None, trial_id: Any, parent=None
    ):
        super().__init__(parent)
        self.project_dir, self.model_path, self.data_path, self.trial_id = (
            project_dir,
            model_path,
            data_path,
            trial_id,
        )

    def run(self) -> None:
        try:
            from tuner_app.data import held_out_test, load_mnist
            from tuner_app.model_examination import read_examination, write_examination
            from tuner_app.predict import load_model

            model = load_model(self.model_path)
            test = held_out_test(load_mnist(self.data_path))
            write_examination(model, test, self.project_dir, self.trial_id)
            self.done.emit(read_examination(self.project_dir))
        except Exception as exc:  # a dialog-free message in the tab: the window goes on
            self.failed.emit(f"Examining the best model failed: {exc}")


class ConfusionCanvas(PlotCanvas):
    """Counts of true label (rows) against prediction (columns), and each digit's accuracy."""

    def build(self, structure: Any) -> None:
        self.figure.clear()
        self.figure.subplots_adjust(left=0.12, right=0.86, top=0.88, bottom=0.12)
        self.ax = self.figure.add_subplot()
        self.note = _empty_note(self.ax, "No examination yet")

    def update_data(self, snapshot: Any, selection: list[str]) -> None:
        examination = snapshot  # this canvas is given the examination dict, not a snapshot
        ax = self.ax
        ax.clear()
        if not examination:
            ax.set_axis_off()
            self.note = _empty_note(ax, "No examination yet")
            return
        ax.set_axis_on()
        matrix = np.array(examination["confusion"], dtype=float)
        shown = np.log1p(matrix)  # the diagonal's hundreds would hide the off-diagonal few
        ax.imshow(shown, cmap="Blues")
        for (row, col), count in np.ndenumerate(matrix):
            if count:
                colour = "white" if shown[row, col] > shown.max() * 0.6 else "black"
                ax.text(col, row, f"{int(count)}", ha="center", va="center", fontsize=6.5, color=colour)
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        per_class = examination.get("per_class_accuracy") or [None] * 10
        for row, value in enumerate(per_class):
            text = "-" if value is None else f"{100 * value:.1f} %"
            ax.text(10.0, row, text, va="center", fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true label")
        accuracy = examination.get("accuracy")
        trial = examination.get("trial_id")
        who = f"best model (trial {trial})" if trial is not None else "best model"
        ax.set_title(
            f"Test set, {who}: {100 * accuracy:.2f} % of {examination.get('test_size')} images\n"
            "(right: each digit's accuracy)",
            fontsize=9,
        )


class ExaminationView(QWidget):
    """The tab: status and "Examine" button, the matrix, the gallery of mistakes."""

    digit_chosen = Signal(object, str)  # uint8 (28, 28) MNIST image, its caption

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project: Path | None = None
        self.snapshot: SearchSnapshot | None = None
        self.examination: dict[str, Any] | None = None
        self.images: np.ndarray | None = None
        self.worker: ExaminationWorker | None = None
        self.images_loader: TestImagesLoader | None = None
        self._seen: Any = None
        self.canvas = ConfusionCanvas(size=(5.0, 3.6))
        self.status = QLabel("Open a finished project to examine its best model.")
        self.status.setWordWrap(True)
        self.examine_button = QPushButton("Examine the best model on the test set")
        self.examine_button.clicked.connect(self.examine)
        self.examine_button.setEnabled(False)
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListWidget.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.gallery.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setGridSize(QSize(THUMBNAIL + 24, THUMBNAIL + 40))
        self.gallery.setToolTip(
            "Misclassified test digits, most confident mistakes first; click one to put it on the pad"
        )
        self.gallery.itemClicked.connect(self._clicked)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.examine_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.canvas)
        split.addWidget(self.gallery)
        split.setSizes([420, 420])
        column = QVBoxLayout(self)
        column.setContentsMargins(2, 2, 2, 2)
        column.addLayout(top)
        column.addWidget(split, 1)

    # -- project -------------------------------------------------------------------------------
    def show_project(self, snapshot: SearchSnapshot | None) -> None:
        """Follow the open project: read its examination when it appears or changes."""
        project = snapshot.project_dir if snapshot is not None else None
        changed = project != self.project
        self.snapshot = snapshot
        if changed:
            self.project, self.examination, self.images, self._seen = project, None, None, None
            self.gallery.clear()
            self.examine_button.setText("Examine the best model on the test set")
        if project is None or self.worker is not None:
            return
        seen = _stamp(project / EXAMINATION_FILE), snapshot.best_model_path is not None
        if seen == self._seen:
            return  # nothing new on disk: no re-read twice a second
        self._seen = seen
        try:
            examination = read_examination(project)
        except ExaminationError as exc:
            self.status.setText(str(exc))
            examination = None
        has_model = snapshot.best_model_path is not None and snapshot.best_model_path.is_file()
        self.examine_button.setEnabled(has_model)
        if examination is None:
            if has_model and not self.status.text().startswith(str(project)):
                self.status.setText("No examination recorded for this project: examine it (about 5-20 s).")
            elif not has_model:
                self.status.setText("The best model is examined once the search has saved it.")
            if changed:
                self.canvas.render(None)
            return
        if examination != self.examination:
            self.set_examination(examination)

    def set_examination(self, examination: dict[str, Any]) -> None:
        self.examination = examination
        self.examine_button.setText("Examine again")
        wrong = len(examination.get("misclassified", []))
        self.status.setText(
            f"{wrong} of {examination.get('test_size')} test digits misclassified "
            f"(gallery: the {min(wrong, GALLERY_LIMIT)} most confident mistakes)."
        )
        self.canvas.render(examination)
        if self.images is None:
            self._load_images()
        else:
            self._fill_gallery()

    def _data_path(self) -> str | None:
        value = self.snapshot.config.get("data_path") if self.snapshot is not None else None
        return value if isinstance(value, str) else None

    def _load_images(self) -> None:
        if self.images_loader is not None:
            return
        loader = self.images_loader = TestImagesLoader(self._data_path(), self)
        loader.loaded.connect(self._images_loaded)
        loader.failed.connect(self.status.setText)
        loader.finished.connect(self._images_loader_done)
        loader.start()

    def _images_loaded(self, images: np.ndarray) -> None:
        self.images = images
        self._fill_gallery()

    def _images_loader_done(self) -> None:
        loader, self.images_loader = self.images_loader, None
        if loader is not None:
            loader.wait()
            loader.deleteLater()

    def _fill_gallery(self) -> None:
        self.gallery.clear()
        if self.examination is None or self.images is None:
            return
        for item in self.examination["misclassified"][:GALLERY_LIMIT]:
            index = int(item["index"])
            if not 0 <= index < len(self.images):
                continue
            caption = f"{item['true']}→{item['predicted']}\n{100 * float(item['probability']):.0f} %"
            entry = QListWidgetItem(QIcon(_pixmap(self.images[index])), caption)
            entry.setData(INDEX_ROLE, index)
            entry.setToolTip(
                f"test image {index}: true {item['true']}, predicted {item['predicted']} "
                f"with probability {100 * float(item['probability']):.1f} %"
            )
            self.gallery.addItem(entry)

    def _clicked(self, item: QListWidgetItem) -> None:
        if self.images is None:
            return
        index = int(item.data(INDEX_ROLE))
        self.digit_chosen.emit(
            self.images[index], f"test image {index} ({item.text().replace(chr(10), ' ')})"
        )

    # -- examine on request --------------------------------------------------------------------
    def examine(self) -> None:
        snapshot = self.snapshot
        if snapshot is None or self.worker is not None:
            return
        model = snapshot.best_model_path
        if model is None or not model.is_file():
            self.status.setText("This project has no saved best model to examine.")
            return
        trial = snapshot.test.get("trial_id") if snapshot.test else None
        worker = self.worker = ExaminationWorker(snapshot.project_dir, model, self._data_path(), trial, self)
        worker.done.connect(self._examined)
        worker.failed.connect(self.status.setText)
        worker.finished.connect(self._worker_done)
        self.examine_button.setEnabled(False)
        self.status.setText("Examining the best model on the test set…")
        worker.start()

    def _examined(self, examination: dict[str, Any]) -> None:
        if self.snapshot is not None and self.worker is not None and self.worker.project_dir == self.project:
            self._seen = _stamp(self.project / EXAMINATION_FILE), True
            self.set_examination(examination)

    def _worker_done(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.wait()
            worker.deleteLater()
        self.examine_button.setEnabled(self.snapshot is not None)

    def busy(self) -> bool:
        return self.worker is not None or self.images_loader is not None

    def shutdown(self) -> None:
        for thread in (self.worker, self.images_loader):
            if thread is not None:
                thread.wait()


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime, info.st_size


def _pixmap(image: np.ndarray) -> QPixmap:
    pixels = np.ascontiguousarray(image.astype(np.uint8))
    qimage = QImage(pixels.data, 28, 28, 28, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(qimage).scaled(THUMBNAIL, THUMBNAIL)
