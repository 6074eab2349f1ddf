"""Keeps a table's columns wide enough for their text, at most once a second, and leaves a column
the user resized as the user left it.

Why not Qt's ResizeToContents mode: it measures every row again for each changed cell (0.8 million
`data()` calls in 20 s of a 200-trial search followed live, 60 ms window stalls at every poll), and
measuring only the rows on screen instead left a long value in a row scrolled out of view cut off
for good, since a ResizeToContents column cannot be widened by hand.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QHeaderView, QTableView

FIT_INTERVAL_MS = 1000


class ColumnFitter(QObject):
    """Columns fit their contents after a new model (a project opened: they may shrink), and grow
    as rows arrive or change; a column the user dragged keeps the user's width until the next model."""

    def __init__(self, table: QTableView, interval_ms: int = FIT_INTERVAL_MS):
        super().__init__(table)
        self.table = table
        self.fits = 0  # how many times the columns were measured (tests)
        self._whole = True  # the next fit may also shrink columns (a new model)
        self._fitting = False
        self._by_user: set[int] = set()  # columns the user resized: not ours to change
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.fit)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.sectionResized.connect(self._resized)
        model = table.model()
        model.modelReset.connect(self._reset)
        model.layoutChanged.connect(self._soon)
        model.rowsInserted.connect(self._soon)
        model.dataChanged.connect(self._soon)

    def _reset(self) -> None:
        self._whole = True
        self._by_user.clear()
        self._soon()

    def _resized(self, column: int, _old: int, _new: int) -> None:
        if not self._fitting:
            self._by_user.add(column)

    def _soon(self, *_args: object) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def fit(self) -> None:
        """Measure now (up to the header's resizeContentsPrecision rows: Qt's default, 1,000)."""
        self._timer.stop()
        header = self.table.horizontalHeader()
        self._fitting = True
        try:
            for column in range(header.count()):
                if column in self._by_user:
                    continue
                wanted = max(self.table.sizeHintForColumn(column), header.sectionSizeHint(column))
                if self._whole or wanted > header.sectionSize(column):
                    header.resizeSection(column, wanted)
        finally:
            self._fitting = False
        self._whole = False
        self.fits += 1
