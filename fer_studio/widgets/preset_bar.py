"""Presets and config files: a preset applies when chosen, save as preset, import/export JSON."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from fer_engine import presets


class PresetBar(QWidget):
    loadRequested = Signal(str)  # preset name
    saveRequested = Signal()
    importRequested = Signal()
    exportRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(18)
        self.combo.setToolTip("Choosing a preset replaces the recipe at once (the chosen data is kept)")
        save = QPushButton("Save as preset…")
        imp = QPushButton("Import…")
        exp = QPushButton("Export…")
        self.combo.activated.connect(lambda i: self.loadRequested.emit(self.combo.itemText(i)))  # user choices only
        save.clicked.connect(self.saveRequested)
        imp.clicked.connect(self.importRequested)
        exp.clicked.connect(self.exportRequested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("Preset"))
        for w in (self.combo, save, imp, exp):
            lay.addWidget(w)
        lay.addStretch(1)

    def set_presets(self, names: list[str], current: str = "") -> None:
        self.combo.clear()
        self.combo.setPlaceholderText("choose a preset")
        self.combo.addItems(names)
        for i, name in enumerate(names):  # each preset's own description as its tooltip
            try:
                text = presets.preset_description(name)
            except presets.PresetError as e:
                text = str(e)
            if text:
                self.combo.setItemData(i, text, Qt.ItemDataRole.ToolTipRole)
        self.combo.setCurrentIndex(names.index(current) if current in names else -1)
