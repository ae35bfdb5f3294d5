"""A failed or crashed run: the error and hint in red, the traceback behind a toggle."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QToolButton, QVBoxLayout, QWidget


class RunErrorPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b; font-weight: bold;")
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.toggle = QToolButton(text="Show traceback", checkable=True)
        self.traceback = QPlainTextEdit(readOnly=True)
        self.traceback.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.traceback.setMaximumHeight(220)
        self.traceback.hide()
        self.toggle.toggled.connect(self._toggle)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.message)
        lay.addWidget(self.toggle)
        lay.addWidget(self.traceback)
        self.hide()

    def _toggle(self, on: bool) -> None:
        self.traceback.setVisible(on)
        self.toggle.setText("Hide traceback" if on else "Show traceback")

    def show_error(self, status: str, error: str, traceback: str = "", hint: str = "") -> None:
        text = f"Run {status}: {html.escape(error)}"
        if hint:
            text += f"<br><span style='font-weight:normal'>Hint: {html.escape(hint)}</span>"
        self.message.setText(text)
        self.traceback.setPlainText(traceback)
        self.toggle.setVisible(bool(traceback))
        self.toggle.setChecked(False)
        self.show()

    def clear(self) -> None:
        self.hide()
        self.message.clear()
        self.traceback.clear()
