"""Dataset warnings as an expandable tree: one node per kind, its entries under it (a group of
identical images lists each of its files), paths relative to the dataset, and a thumbnail of
each file once its node is opened (decoded like training; nothing is decoded before)."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

THUMB = 40  # thumbnail side in pixels

SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#b9770e", "info": "#2874a6"}
DROP_HINT = ("To train without leaked, conflicting and near-blank images, switch on "
             "\u201cdrop flagged\u201d in the recipe's Data section (data.drop_flagged; the run records "
             "how many it removed)")
MAX_CHILDREN = 500  # a tree of 30k duplicates helps nobody; the count says how many


def _entry_word(entries: list[tuple]) -> str:
    """Entries of identical-image kinds are groups of files; the others single files."""
    groups = any(len(e[2]) > 1 if len(e) > 2 else ", " in e[0] for e in entries)
    return "group" if groups else "file"


def count_text(warnings: list[tuple[str, str, list[tuple]]]) -> tuple[str, str]:
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
        self.setIconSize(QSize(THUMB, THUMB))
        self.itemExpanded.connect(self._add_thumbnails)

    def set_warnings(self, warnings: list[tuple[str, str, list[tuple]]]) -> None:
        """warnings: [(title, severity, [(text, detail[, files])])]; kinds with no entries are left out."""
        self.clear()
        for title, severity, files in warnings:
            if not files:
                continue
            word = _entry_word(files)
            top = QTreeWidgetItem([f"{title} ({len(files):,} {word}{'s' if len(files) != 1 else ''})", ""])
            top.setForeground(0, QColor(SEVERITY_COLOURS.get(severity, "#b9770e")))
            for entry in files[:MAX_CHILDREN]:
                text, detail = entry[0], entry[1]
                paths = list(entry[2]) if len(entry) > 2 else [text]
                child = QTreeWidgetItem([text, detail])
                child.setToolTip(0, "\n".join(paths))
                if len(paths) > 1:  # a group: each of its files under it
                    for full, shown in zip(paths, text.split(", ") if text.count(", ") == len(paths) - 1 else paths):
                        leaf = QTreeWidgetItem([shown, ""])
                        leaf.setData(0, Qt.UserRole, full)
                        leaf.setToolTip(0, full)
                        child.addChild(leaf)
                else:
                    child.setData(0, Qt.UserRole, paths[0])
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

    def _add_thumbnails(self, item: QTreeWidgetItem) -> None:
        """Thumbnails of the files just shown (decoded once; unreadable files get none)."""
        from fer_engine.data.images import decode_image

        from .analysis_images import to_pixmap

        for i in range(item.childCount()):
            child = item.child(i)
            path = child.data(0, Qt.UserRole)
            if not path or child.data(0, Qt.UserRole + 1):
                continue
            child.setData(0, Qt.UserRole + 1, True)
            try:
                child.setIcon(0, QIcon(to_pixmap(decode_image(path, THUMB, 1), THUMB)))
            except Exception:  # noqa: BLE001 - an unreadable or CSV-row entry simply has no thumbnail
                continue

    def kinds(self) -> dict[str, int]:
        """Top-level titles -> number of files listed (for checks)."""
        return {self.topLevelItem(i).text(0): self.topLevelItem(i).childCount()
                for i in range(self.topLevelItemCount()) if self.topLevelItem(i).text(0) != DROP_HINT}
