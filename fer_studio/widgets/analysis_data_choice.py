"""The Analysis page's dataset button: the run's own dataset, another folder, or a FER2013 CSV."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMenu, QToolButton, QWidget


class DataChoiceButton(QToolButton):
    """`path`: the dataset to evaluate on, None for the run's own."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.path: str | None = None
        self.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self)
        menu.addAction("Run's own dataset", lambda: self.set_path(None))
        menu.addAction("Other dataset folder\u2026", self._choose_folder)
        menu.addAction("FER2013 CSV\u2026", self._choose_csv)
        self.setMenu(menu)
        self.set_path(None)

    def set_path(self, path: str | None) -> None:
        self.path = path
        self.setText(Path(path).name if path else "Run's dataset")
        self.setToolTip(path or "the dataset the run was trained on")

    def _choose_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Evaluate on another dataset folder")
        if d:
            self.set_path(d)

    def _choose_csv(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Evaluate on a FER2013 CSV", "", "CSV (*.csv)")
        if f:
            self.set_path(f)
