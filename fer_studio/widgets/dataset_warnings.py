"""Dataset warnings as an expandable tree: one node per kind, the files under it."""
from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#b9770e", "info": "#2874a6"}
DROP_HINT = ("To train without leaked, conflicting and near-blank images, switch on "
             "\u201cdrop flagged\u201d in the recipe's Data section (data.drop_flagged; the run records "
             "how many it removed)")
MAX_CHILDREN = 500  # a tree of 30k duplicates helps nobody; the count says how many


def _entry_word(files: list[tuple[str, str]]) -> str:
    """Entries of identical-image kinds are groups of files; the others single files."""
    groups = any(", " in path for path, _ in files)
    return "group" if groups else "file"


def count_text(warnings: list[tuple[str, str, list[tuple[str, str]]]]) -> tuple[str, str]:
    """(tab title, tooltip) that count exactly the entries the tree lists, problems and notes apart."""
    problems = sum(len(files) for _, sev, files in warnings if sev != "info")
    notes = sum(len(files) for _, sev, files in warnings if sev == "info")
    parts = [f"{problems:,} problem{'s' if problems != 1 else ''}"] if problems else []
    if notes:
        parts.append(f"{notes:,} note{'s' if notes != 1 else ''}")
    tip = ("Entries listed: a problem is an unreadable, near-blank or leaked file or a group of "
           "identical files with different labels; a note is a group of identical files within a split")
    return (f"Warnings ({', '.join(parts)})" if parts else "Warnings"), tip


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
            word = _entry_word(files)
            top = QTreeWidgetItem([f"{title} ({len(files):,} {word}{'s' if len(files) != 1 else ''})", ""])
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
        elif any(files and sev != "info" for _, sev, files in warnings):
            hint = QTreeWidgetItem([DROP_HINT, ""])
            hint.setToolTip(0, DROP_HINT)
            self.addTopLevelItem(hint)

    def kinds(self) -> dict[str, int]:
        """Top-level titles -> number of files listed (for checks)."""
        return {self.topLevelItem(i).text(0): self.topLevelItem(i).childCount()
                for i in range(self.topLevelItemCount()) if self.topLevelItem(i).text(0) != DROP_HINT}
