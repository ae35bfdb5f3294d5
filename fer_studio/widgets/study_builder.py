"""Build a study spec from the current set-up: tricks to ablate, grid keys and values, seeds."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QLineEdit, QListWidget, QListWidgetItem,
                               QPlainTextEdit, QSpinBox, QWidget)

from fer_engine.config import RunConfig
from fer_engine.study.spec import ABLATE_MODES, grid_from_text
from fer_engine.study.switches import SWITCHES
from fer_engine.recipe.tricks import TRICKS


class StudyBuilder(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = QLineEdit(placeholderText="study name (e.g. augmentation ablation)")
        self.mode = QComboBox()
        self.mode.addItems(ABLATE_MODES)
        self.mode.setToolTip("leave-one-out: switch each ticked trick off from the set-up; "
                             "add-one: switch each on over it (with its usual values)")
        self.tricks = QListWidget()
        self.tricks.setMinimumHeight(140)
        self.grid = QPlainTextEdit(placeholderText="one key per line: optim.lr = 0.001, 0.003")
        self.grid.setFixedHeight(64)
        self.seeds = QSpinBox(minimum=1, maximum=20, value=2)
        self.seeds.setToolTip("runs per variant with different training seeds; one seed cannot tell "
                              "an effect from training noise")
        self.tta = QCheckBox("report with TTA")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name", self.name)
        form.addRow("Ablation", self.mode)
        form.addRow("Tricks", self.tricks)
        form.addRow("Grid", self.grid)
        form.addRow("Seeds", self.seeds)
        form.addRow("", self.tta)
        self._config = RunConfig()
        self.mode.currentIndexChanged.connect(lambda _: self.set_config(self._config))
        for signal in (self.name.textChanged, self.grid.textChanged, self.seeds.valueChanged,
                       self.tta.toggled, self.tricks.itemChanged):
            signal.connect(self.changed)

    def set_config(self, config: RunConfig) -> None:
        """List the tricks that can be switched off (leave-one-out) or on (add-one) in `config`."""
        self._config = config
        ticked = set(self.ticked())
        leave = self.mode.currentText() == "leave-one-out"
        self.tricks.blockSignals(True)
        self.tricks.clear()
        for name in SWITCHES.names():
            trick = TRICKS.get(name)
            if trick.is_on(config) != leave:
                continue
            item = QListWidgetItem(f"{trick.title}  ({name})")
            item.setToolTip(trick.description)
            item.setData(Qt.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if name in ticked else Qt.Unchecked)
            self.tricks.addItem(item)
        self.tricks.blockSignals(False)
        self.changed.emit()

    def ticked(self) -> list[str]:
        return [self.tricks.item(i).data(Qt.UserRole) for i in range(self.tricks.count())
                if self.tricks.item(i).checkState() == Qt.Checked]

    def set_ticked(self, names: list[str]) -> None:
        for i in range(self.tricks.count()):
            item = self.tricks.item(i)
            item.setCheckState(Qt.Checked if item.data(Qt.UserRole) in names else Qt.Unchecked)

    def spec_dict(self) -> dict:
        """The study spec (without its base, which is the set-up's config); ValueError on a bad grid line."""
        return {"name": self.name.text().strip(), "ablate": {"tricks": self.ticked(), "mode": self.mode.currentText()},
                "grid": grid_from_text(self.grid.toPlainText()), "seeds": self.seeds.value(),
                "tta": self.tta.isChecked()}
