"""The live grid of a study's runs: state, epoch, validation accuracy and its sparkline."""
from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from .runs_table import STATUS_COLOURS

COLUMNS = ("Run", "Variant", "Seed", "State", "Epoch", "Val acc", "Val acc per epoch")
_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    """Unicode bars scaled between the curve's own minimum and maximum."""
    vals = [v for v in values if math.isfinite(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = hi - lo or 1.0
    return "".join(_BARS[min(len(_BARS) - 1, int((v - lo) / span * (len(_BARS) - 1) + 0.5))] for v in vals)


class StudyRunsGrid(QTableWidget):
    runActivated = Signal(str)  # run key (double-click)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.cellDoubleClicked.connect(lambda row, _: self.runActivated.emit(self.item(row, 0).text()))

    def set_progress(self, rows) -> None:
        """Fill from `StudyDir.progress()` rows."""
        self.setRowCount(len(rows))
        for i, r in enumerate(rows):
            acc = "–" if math.isnan(r.last_val_acc) else f"{100 * r.last_val_acc:.2f}%"
            cells = (r.key, r.variant, str(r.seed), r.state, f"{r.epoch}/{r.epochs}", acc, sparkline(r.val_acc))
            for j, text in enumerate(cells):
                item = self.item(i, j)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(i, j, item)
                item.setText(text)
                if COLUMNS[j] == "State":
                    item.setForeground(QColor(STATUS_COLOURS.get(r.state, "#808080")))
