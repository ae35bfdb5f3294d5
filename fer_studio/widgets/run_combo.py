"""A chooser of run folders: (title, path) items, kept on the chosen run across refreshes."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QWidget


class RunCombo(QComboBox):
    def __init__(self, tooltip: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumWidth(260)
        self.setToolTip(tooltip)

    def select(self, run_dir: str) -> None:
        """Make `run_dir` current, adding it (titled by its folder name) when it is not listed."""
        i = self.findData(str(run_dir))
        if i < 0:
            self.addItem(Path(run_dir).name, str(run_dir))
            i = self.count() - 1
        self.setCurrentIndex(i)

    def set_runs(self, runs: list[tuple[str, str]], keep: str | None) -> None:
        """Replace the items by `runs` (title, path) and select `keep` again, silently."""
        self.blockSignals(True)
        self.clear()
        for title, path in runs:
            self.addItem(title, path)
        if keep:
            self.select(keep)
        self.blockSignals(False)
