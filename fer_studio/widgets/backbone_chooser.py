"""Backbone choice from `fer_engine.models.BACKBONES`, with its size, input and notes."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget


def format_params(n: int | None) -> str:
    if not n:
        return "?"
    return f"{n / 1e6:.2f} M" if n >= 1e6 else f"{n / 1e3:.0f} k"


class BackboneChooser(QWidget):
    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.info = QLabel(wordWrap=True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.combo)
        lay.addWidget(self.info)
        self._describe: dict[str, str] = {}
        self.param_counts: dict[str, int] = {}
        self._machine_default = ("", "")  # (name, why this machine gets it)
        self.combo.currentIndexChanged.connect(self._changed)

    def set_backbones(self, entries: list[tuple[str, str, str]]) -> None:
        """entries: (name, combo text, description HTML)."""
        self.combo.blockSignals(True)
        self.combo.clear()
        self._describe = {}
        for name, text, description in entries:
            self.combo.addItem(text, name)
            self._describe[name] = description
        self.combo.blockSignals(False)

    def set_current(self, name: str) -> None:
        i = self.combo.findData(name)
        if i < 0:
            self.combo.addItem(f"{name} (not in this version)", name)
            self._describe[name] = "This backbone is not registered in this version of fer-studio."
            i = self.combo.count() - 1
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(i)
        self.combo.blockSignals(False)
        self._show_info(name)

    def set_machine_default(self, name: str, why: str) -> None:
        """The backbone a run gets on this machine when it names none, and why; said under it."""
        self._machine_default = (name, why)
        self._show_info(self.current())

    def set_param_count(self, name: str, n: int) -> None:
        self.param_counts[name] = n
        if name == self.current():
            self._show_info(name)

    def _show_info(self, name: str) -> None:
        text = self._describe.get(name, "")
        if name in self.param_counts:
            text += f"<br>{format_params(self.param_counts[name])} parameters (7 classes)"
        if name and name == self._machine_default[0]:
            text += f"<br><i>This machine's default ({self._machine_default[1]}).</i>"
        self.info.setText(text)

    def current(self) -> str:
        return self.combo.currentData() or ""

    def _changed(self, _: int) -> None:
        name = self.current()
        self._show_info(name)
        if name:
            self.chosen.emit(name)
