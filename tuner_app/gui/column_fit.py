"""Keeps a table's columns wide enough for their text, and leaves a column the user resized as the
user left it.

Why not Qt's ResizeToContents mode: it measures every row again for each changed cell (0.8 million
`data()` calls in 20 s of a 200-trial search followed live, 60 ms window stalls at every poll), and
measuring only the rows on screen instead left a long value in a row scrolled out of view cut off
for good, since a ResizeToContents column cannot be widened by hand. Asking Qt to re-measure the
columns once a second (`sizeHintForColumn`) still cost 75-110 ms a time. So each cell's text is
measured once, when its row arrives or changes, with the view's font: a few rows per poll.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, Qt
from PySide6.QtWidgets import QHeaderView, QStyle, QTableView


class ColumnFitter(QObject):
    """Columns fit their text after a new model (a project opened: they may shrink) and grow as
    rows arrive or change; a column the user dragged keeps the user's width until the next model."""

    def __init__(self, table: QTableView, model: QAbstractItemModel):
        super().__init__(table)
        self.table, self.model = table, model
        self.measured_cells = 0  # how many texts were measured (tests: a poll measures its rows only)
        self._widths: list[int] = []  # the widest text seen per column, margins included
        self._by_user: set[int] = set()  # columns the user resized: not ours to change
        self._fitting = False
        margin = table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1
        self._padding = 2 * margin + 2  # Qt's item text margin on both sides, and the grid line
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.sectionResized.connect(self._resized)
        model.modelReset.connect(self._reset)
        model.rowsInserted.connect(lambda _parent, first, last: self._measure(first, last))
        model.dataChanged.connect(lambda top, bottom, _roles=(): self._measure(top.row(), bottom.row()))

    def _reset(self) -> None:
        self._by_user.clear()
        header = self.table.horizontalHeader()
        self._widths = [header.sectionSizeHint(c) for c in range(self.model.columnCount())]
        self._measure(0, self.model.rowCount() - 1, whole=True)

    def _resized(self, column: int, _old: int, _new: int) -> None:
        if not self._fitting:
            self._by_user.add(column)

    def _measure(self, first: int, last: int, whole: bool = False) -> None:
        columns = self.model.columnCount()
        if len(self._widths) != columns:
            header = self.table.horizontalHeader()
            self._widths = [header.sectionSizeHint(c) for c in range(columns)]
        metrics = self.table.fontMetrics()
        for row in range(first, last + 1):
            for column in range(columns):
                text = self.model.data(
                    self.model.index(row, column, QModelIndex()), Qt.ItemDataRole.DisplayRole
                )
                width = metrics.horizontalAdvance(str(text or "")) + self._padding
                self._widths[column] = max(self._widths[column], width)
                self.measured_cells += 1
        self._apply(shrink=whole)

    def _apply(self, shrink: bool) -> None:
        header = self.table.horizontalHeader()
        self._fitting = True
        try:
            for column, wanted in enumerate(self._widths):
                if column in self._by_user or column >= header.count():
                    continue
                if wanted > header.sectionSize(column) or (shrink and wanted != header.sectionSize(column)):
                    header.resizeSection(column, wanted)
        finally:
            self._fitting = False

    def width_of(self, column: int) -> int:
        """The width the column's text needs (margins included), as measured so far."""
        return self._widths[column]
