"""Per-class precision / recall / F1 / support as a sortable table (model + QTableView)."""
from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

#: column title, attribute of fer_engine.scoring.metrics.ClassMetrics, display format
COLUMNS: list[tuple[str, str, str]] = [
    ("class", "name", "{}"),
    ("precision", "precision", "{:.3f}"),
    ("recall", "recall", "{:.3f}"),
    ("F1", "f1", "{:.3f}"),
    ("support", "support", "{:d}"),
]


class MetricsTableModel(QAbstractTableModel):
    """Rows of `ClassMetrics`-like objects (name, precision, recall, f1, support)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        _, attr, fmt = COLUMNS[index.column()]
        value = getattr(self._rows[index.row()], attr)
        if role == Qt.DisplayRole:
            return fmt.format(value)
        if role == Qt.UserRole:  # sort key: numbers sort as numbers
            return value
        if role == Qt.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def headerData(self, section: int, orientation, role: int = Qt.DisplayRole):  # noqa: N802
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return COLUMNS[section][0]
        return None


class MetricsTable(QTableView):
    """Sortable per-class metrics; click a header to sort (e.g. by F1 to find the weak classes)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.source = MetricsTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setSortRole(Qt.UserRole)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.AscendingOrder)  # canonical class order until the user sorts
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Stretch)
        header.setMinimumSectionSize(44)

    def set_metrics(self, rows: Sequence[Any]) -> None:
        self.source.set_rows(rows)

    def column_values(self, column: int) -> list[Any]:
        """The sort keys of a column in the displayed (sorted) order."""
        return [self.proxy.index(r, column).data(Qt.UserRole) for r in range(self.proxy.rowCount())]
