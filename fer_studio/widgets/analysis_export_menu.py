"""The Analysis page's Export button: the engine's `ANALYSIS_EXPORTS` and the Grad-CAM folders."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QToolButton, QWidget

from fer_engine.eval.export import ANALYSIS_EXPORTS

#: folder exports the page writes itself (Grad-CAM needs its model): kind -> menu text
OVERLAY_EXPORTS = {"overlays": "Grad-CAM overlays of the gallery selection",
                   "inspected": "Grad-CAM overlays of the inspected face"}


class ExportButton(QToolButton):
    """A menu of every export; asks where and emits `exportChosen(kind, path)`."""

    exportChosen = Signal(str, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setText("Export")
        self.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self)
        for spec in ANALYSIS_EXPORTS.values():
            menu.addAction(f"{spec.label}\u2026", lambda _=False, k=spec.name: self.ask(k))
        for kind, text in OVERLAY_EXPORTS.items():
            menu.addAction(f"{text}\u2026", lambda _=False, k=kind: self.ask(k))
        self.setMenu(menu)

    def ask(self, kind: str) -> None:
        """Ask for the file (or folder) of one export; nothing is emitted when cancelled."""
        if kind in OVERLAY_EXPORTS:
            path = QFileDialog.getExistingDirectory(self, "Folder for the Grad-CAM overlays")
        else:
            path, chosen = QFileDialog.getSaveFileName(self, f"Export {kind}", "",
                                                       ANALYSIS_EXPORTS[kind].file_filter)
            if path and not Path(path).suffix:
                path += "." + chosen.split("*.")[1].rstrip(")")
        if path:
            self.exportChosen.emit(kind, path)
