"""Where the data comes from: folder or CSV dialogs, drag-and-drop, recent list, demo set."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)


def dropped_dataset(paths: list[str]) -> str | None:
    """The one folder or .csv file among dropped paths, else None."""
    for p in paths:
        path = Path(p)
        if path.is_dir() or path.suffix.lower() == ".csv":
            return str(path)
    return None


class DataSourcePicker(QFrame):
    chosen = Signal(str)  # a folder, a CSV file or "demo"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.StyledPanel)
        self.current = QLabel()
        self.current.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.current.setWordWrap(True)
        folder = QPushButton("Folder…")
        folder.setToolTip("Image folders: train/val/test splits, Kaggle FER2013 folders, or class folders")
        csv = QPushButton("FER2013 CSV…")
        demo = QPushButton("Demo dataset")
        demo.setToolTip("Schematic faces drawn by fer-studio: train at once, no download")
        self.recent = QComboBox()
        self.recent.setPlaceholderText("Recent datasets")
        self.recent.setMinimumContentsLength(16)
        self.recent.activated.connect(lambda i: self.chosen.emit(self.recent.itemData(i)))
        folder.clicked.connect(self._pick_folder)
        csv.clicked.connect(self._pick_csv)
        demo.clicked.connect(lambda: self.chosen.emit("demo"))
        row = QHBoxLayout()
        for w in (folder, csv, demo):
            row.addWidget(w)
        row.addWidget(self.recent, 1)
        hint = QLabel("…or drop a dataset folder or CSV file here")
        hint.setStyleSheet("color: palette(placeholder-text);")
        lay = QVBoxLayout(self)
        lay.addWidget(self.current)
        lay.addLayout(row)
        lay.addWidget(hint)

    def set_current(self, path: str) -> None:
        self.current.setText(f"Data: <b>{'built-in demo dataset' if path == 'demo' else path}</b>")

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for p in paths:
            self.recent.addItem("Demo dataset" if p == "demo" else p, p)
        self.recent.setCurrentIndex(-1)

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Dataset folder")
        if path:
            self.chosen.emit(path)

    def _pick_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "FER2013 CSV", "", "CSV files (*.csv);;All files (*)")
        if path:
            self.chosen.emit(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        urls = [u.toLocalFile() for u in event.mimeData().urls()]
        if dropped_dataset(urls):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = dropped_dataset([u.toLocalFile() for u in event.mimeData().urls()])
        if path:
            event.acceptProposedAction()
            self.chosen.emit(path)
