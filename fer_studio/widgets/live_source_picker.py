"""Live source chooser: a camera (from those found), a video file, or a folder of images."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLineEdit, QPushButton,
                               QStackedWidget, QWidget)

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.m4v *.webm);;All files (*)"


def hrow(main: QWidget, *rest: QWidget) -> QWidget:
    """A margin-less row: `main` stretched, then the rest (buttons) at their size."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(main, 1)
    for w in rest:
        layout.addWidget(w)
    return row


class LiveSourcePicker(QWidget):
    """`kind()` is a key of fer_engine.live.sources.SOURCE_KINDS; `spec()` the index or path."""

    camerasRequested = Signal()  # the camera list should be (re)probed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        from fer_engine.live.sources import SOURCE_KINDS

        self.kind_combo = QComboBox()
        for key, (title, _) in SOURCE_KINDS.items():
            self.kind_combo.addItem(title, key)
        self.camera_combo = QComboBox()
        self.camera_combo.setMinimumWidth(160)
        refresh = QPushButton("Find cameras")
        refresh.clicked.connect(self.camerasRequested)
        self.path_edit = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.stack = QStackedWidget()
        self.stack.addWidget(hrow(self.camera_combo, refresh))
        self.stack.addWidget(hrow(self.path_edit, browse))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.kind_combo)
        row.addWidget(self.stack, 1)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()

    def kind(self) -> str:
        return self.kind_combo.currentData()

    def spec(self) -> str:
        if self.kind() == "camera":
            index = self.camera_combo.currentData()
            return "" if index is None else str(index)
        return self.path_edit.text().strip()

    def set_source(self, kind: str, spec: str) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
        if kind == "camera":
            self.camera_combo.setCurrentIndex(max(0, self.camera_combo.findData(int(spec))))
        else:
            self.path_edit.setText(spec)

    def set_cameras(self, indices: list[int]) -> None:
        self.camera_combo.clear()
        for i in indices:
            self.camera_combo.addItem(f"Camera {i}", i)
        if not indices:
            self.camera_combo.addItem("no camera found", None)

    def _kind_changed(self, *_) -> None:
        camera = self.kind() == "camera"
        self.stack.setCurrentIndex(0 if camera else 1)
        self.path_edit.setPlaceholderText("a video file" if self.kind() == "video" else "a folder of images")
        if camera and self.camera_combo.count() == 0:
            self.camerasRequested.emit()

    def _browse(self) -> None:
        if self.kind() == "video":
            path, _ = QFileDialog.getOpenFileName(self, "Video file", self.path_edit.text(), VIDEO_FILTER)
        else:
            path = QFileDialog.getExistingDirectory(self, "Folder of images", self.path_edit.text())
        if path:
            self.path_edit.setText(path)
