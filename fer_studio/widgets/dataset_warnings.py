"""Dataset warnings as an expandable tree: one node per kind, the files under it."""
from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#b9770e", "info": "#2874a6"}
MAX_CHILDREN = 500  # a tree of 30k duplicates helps nobody; the count says how many


class DatasetWarnings(QTreeWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setHeaderLabels(["Warning / file", "Detail"])
        self.setColumnWidth(0, 420)
        self.setUniformRowHeights(True)

    def set_warnings(self, warnings: list[tuple[str, str, list[tuple[str, str]]]]) -> None:
        """warnings: [(title, severity, [(file, detail)])]; kinds with no files are left out."""
        self.clear()
        for title, severity, files in warnings:
            if not files:
                continue
            top = QTreeWidgetItem([f"{title} ({len(files)})", ""])
            top.setForeground(0, QColor(SEVERITY_COLOURS.get(severity, "#b9770e")))
            for path, detail in files[:MAX_CHILDREN]:
                child = QTreeWidgetItem([path, detail])
                child.setToolTip(0, path)
                top.addChild(child)
            if len(files) > MAX_CHILDREN:
                top.addChild(QTreeWidgetItem([f"… and {len(files) - MAX_CHILDREN} more", ""]))
            self.addTopLevelItem(top)
        if self.topLevelItemCount() == 0:
            self.addTopLevelItem(QTreeWidgetItem(["No problems found", ""]))

    def kinds(self) -> dict[str, int]:
        """Top-level titles -> number of files listed (for checks)."""
        return {self.topLevelItem(i).text(0): self.topLevelItem(i).childCount()
                for i in range(self.topLevelItemCount())}
