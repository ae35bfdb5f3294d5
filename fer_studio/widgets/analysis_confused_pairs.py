"""The most-confused class pairs as a list; one click opens that cell's gallery."""
from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget


class ConfusedPairsList(QListWidget):
    """Rows like "fear predicted as angry (123)"; emits `pairClicked(true, predicted)`."""

    pairClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip("Off-diagonal cells, largest first: click one to see those faces")
        self.itemClicked.connect(self._clicked)

    def set_pairs(self, pairs: Sequence[tuple[int, int, int]], class_names: Sequence[str]) -> None:
        """`pairs` = (true index, predicted index, count), largest first."""
        self.clear()
        for t, p, n in pairs:
            item = QListWidgetItem(f"{class_names[t].capitalize()} predicted as "
                                   f"{class_names[p].capitalize()} ({n})")
            item.setData(Qt.UserRole, (int(t), int(p)))
            self.addItem(item)

    def _clicked(self, item: QListWidgetItem) -> None:
        t, p = item.data(Qt.UserRole)
        self.pairClicked.emit(t, p)
