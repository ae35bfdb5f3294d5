"""A background task's progress: bar, message and a Cancel button."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class TaskProgress(QWidget):
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.text = QLabel()
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancelRequested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.text)
        lay.addWidget(self.bar, 1)
        lay.addWidget(self.cancel)
        self.hide()

    def start(self, text: str) -> None:
        self.text.setText(text)
        self.bar.setRange(0, 0)  # busy until the first fraction arrives
        self.show()

    def set_progress(self, fraction: float, text: str = "") -> None:
        if fraction >= 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(1.0, fraction)))
        if text:
            self.text.setText(text)

    def finish(self) -> None:
        self.hide()
