"""The runs list as a sortable table over `runs_list.RunSummary` rows."""
from __future__ import annotations

import math

from PySide6.QtCore import (QAbstractTableModel, QItemSelectionModel, QModelIndex,
                            QSortFilterProxyModel, Qt)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from fer_engine.scoring.metrics import accuracy_text

STATUS_COLOURS = {"running": "#2874a6", "finished": "#1e8449", "stopped": "#b9770e",
                  "failed": "#c0392b", "crashed": "#c0392b", "damaged": "#c0392b"}



def _acc(value: float, interval: tuple[float, float] | None = None) -> str:
    return "–" if math.isnan(value) else accuracy_text(value, interval=interval)


def _tricks(s) -> str:
    """The tricks, with mixed precision named by what the run computed in (float32 runs drop it)."""
    names = [f"amp ({s.precision})" if t == "amp" and s.precision else t for t in s.tricks]
    return ", ".join(names) or "–"


#: column title -> (display text, sort key) of a RunSummary
COLUMNS = {
    "Name": (lambda s: s.name, lambda s: s.name.lower()),
    "Date": (lambda s: s.date.strftime("%Y-%m-%d %H:%M"), lambda s: s.date.timestamp()),
    "Dataset": (lambda s: s.dataset or "–", lambda s: s.dataset.lower()),
    "Backbone": (lambda s: s.backbone, lambda s: s.backbone),
    "Tricks": (_tricks, lambda s: len(s.tricks)),
    "Precision": (lambda s: s.precision or "–", lambda s: s.precision),
    "Best val acc": (lambda s: _acc(s.best_val_acc, s.best_val_acc_ci),
                     lambda s: -1.0 if math.isnan(s.best_val_acc) else s.best_val_acc),
    "Test acc": (lambda s: _acc(s.test_acc), lambda s: -1.0 if math.isnan(s.test_acc) else s.test_acc),
    "Epochs": (lambda s: f"{s.epochs_done} / {s.epochs_planned}" if s.epochs_planned else str(s.epochs_done),
               lambda s: s.epochs_done),
    "Status": (lambda s: s.status + (" (k-fold)" if s.kind == "kfold" else ""), lambda s: s.status),
}


class RunsTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []

    def set_rows(self, rows: list) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802 - Qt override
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return list(COLUMNS)[section]
        return None

    def data(self, index, role=Qt.DisplayRole):
        s = self.rows[index.row()]
        text, sort_key = list(COLUMNS.values())[index.column()]
        if role == Qt.DisplayRole:
            return text(s)
        if role == Qt.UserRole:
            return sort_key(s)
        if role == Qt.UserRole + 1:
            return str(s.path)
        if role == Qt.ToolTipRole:
            if list(COLUMNS)[index.column()] == "Epochs":
                return f"{s.epochs_done} of {s.epochs_planned} planned epochs completed"
            return str(s.path) + (f"\ndamaged: {s.problem}" if s.problem else "")
        if role == Qt.ForegroundRole and list(COLUMNS)[index.column()] == "Status":
            return QColor(STATUS_COLOURS.get(s.status, "#808080"))
        return None


class RunsTable(QTableView):
    """Rows of runs; `selected_run_dirs()` gives the chosen run directories."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model_ = RunsTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model_)
        self.proxy.setSortRole(Qt.UserRole)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(1, Qt.DescendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(list(COLUMNS).index("Tricks"), QHeaderView.Stretch)

    def set_rows(self, rows: list) -> None:
        keep = set(self.selected_run_dirs())
        self.model_.set_rows(rows)
        flags = QItemSelectionModel.Select | QItemSelectionModel.Rows
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, 0).data(Qt.UserRole + 1) in keep:
                self.selectionModel().select(self.proxy.index(r, 0), flags)

    def selected_run_dirs(self) -> list[str]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        return [self.proxy.index(r, 0).data(Qt.UserRole + 1) for r in rows]

    def run_dirs(self) -> list[str]:
        return [self.proxy.index(r, 0).data(Qt.UserRole + 1) for r in range(self.proxy.rowCount())]
