"""The sortable results table of a study (the cells `fer_engine.study.report.rows` makes)."""
from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from fer_engine.study.report import COLUMNS, rows
from fer_engine.scoring.stats import HELPS, HURTS

VERDICT_COLOURS = {HELPS: "#1e8449", HURTS: "#c0392b"}


class _Item(QTableWidgetItem):
    """Sorts by a number when it has one (accuracy, effect, p), else by text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(Qt.UserRole), other.data(Qt.UserRole)
        if isinstance(a, float) and isinstance(b, float):
            return a < b
        return self.text().lower() < other.text().lower()


class StudyResultsTable(QTableWidget):
    variantSelected = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)  # the plan's order until a click
        self.itemSelectionChanged.connect(self._selected)

    def set_results(self, results) -> None:
        sort_keys = {2: "accuracy_mean", 4: "macro_f1_mean", 5: "val_accuracy_mean", 6: "effect", 8: "p",
                     9: "p_holm", 12: "wall_time_s", 13: "img_per_s"}
        self.setSortingEnabled(False)
        self.clearContents()
        self.setRowCount(len(results.variants))
        for i, (v, cells) in enumerate(zip(results.variants, rows(results))):
            for j, text in enumerate(cells):
                item = _Item(text)
                if j in sort_keys:
                    value = getattr(v, sort_keys[j])
                    item.setData(Qt.UserRole, float(value) if math.isfinite(value) else -math.inf)
                if j > 0:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if COLUMNS[j] == "verdict" and v.verdict in VERDICT_COLOURS:
                    item.setForeground(QColor(VERDICT_COLOURS[v.verdict]))
                self.setItem(i, j, item)
        self.setSortingEnabled(True)

    def selected_variant(self) -> str | None:
        rows_ = self.selectionModel().selectedRows()
        return self.item(rows_[0].row(), 0).text() if rows_ else None

    def _selected(self) -> None:
        name = self.selected_variant()
        if name:
            self.variantSelected.emit(name)
