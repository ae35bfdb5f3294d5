"""Which devices a run trains on: this machine's GPUs to tick, or CPU processes when it has none.

Writes `train.devices` and `train.device` (`devices.devices_setting`) and follows the
config when a preset or an imported config changes them. Several GPUs make one run through
torchrun and DistributedDataParallel; several CPU processes (gloo) exist for testing that path.
"""
from __future__ import annotations

import os

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from fer_engine import devices

from ..state import AppState


class DevicePicker(QWidget):
    def __init__(self, state: AppState, gpus: list[tuple[str, str]] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.gpus = devices.gpu_list() if gpus is None else gpus
        self.boxes: list[QCheckBox] = []
        self.summary = QLabel(wordWrap=True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.cpu_processes = QSpinBox(minimum=1, maximum=max(4, os.cpu_count() or 1))
        if self.gpus:
            row = QHBoxLayout()
            for device, text in self.gpus:
                box = QCheckBox(f"{device}  {text}")
                box.setProperty("device", device)
                box.toggled.connect(self._edited)
                self.boxes.append(box)
                row.addWidget(box)
            row.addStretch(1)
            lay.addLayout(row)
        else:
            row = QHBoxLayout()
            row.addWidget(QLabel("No GPU on this machine: training runs on the CPU. Processes (more "
                                 "than 1 tests the multi-device path with gloo):", wordWrap=True), 1)
            row.addWidget(self.cpu_processes)
            lay.addLayout(row)
            self.cpu_processes.valueChanged.connect(self._edited)
        lay.addWidget(self.summary)
        state.configChanged.connect(self.show_config)
        self.show_config()

    def chosen(self) -> list[str]:
        return [b.property("device") for b in self.boxes if b.isChecked()]

    def show_config(self) -> None:
        """Reflect the config's devices (without writing them back)."""
        t = self.state.config.train
        picked = devices.chosen_gpus(t.devices, t.device, [d for d, _ in self.gpus])
        for box in [*self.boxes, self.cpu_processes]:
            box.blockSignals(True)
        for box in self.boxes:
            box.setChecked(box.property("device") in picked)
        if not self.gpus:
            self.cpu_processes.setValue(int(t.devices) if t.devices.isdigit() and t.device == "cpu" else 1)
        for box in [*self.boxes, self.cpu_processes]:
            box.blockSignals(False)
        self.summary.setText(self._describe())

    def _describe(self) -> str:
        t = self.state.config.train
        try:
            plan = devices.plan_for(self.state.config)
        except ValueError as e:
            return f"<span style='color:#c0392b'>{e}</span>"
        if not plan.distributed:
            return f"One process on {t.device if t.device != 'auto' else 'the first GPU' if self.gpus else 'the CPU'}."
        batch = t.batch_size * max(1, t.accumulate_steps) * plan.world
        return (f"{plan.describe()}: one run through torchrun; global batch {batch} "
                f"({t.batch_size} per process){', linear LR scaling' if t.scale_lr else ''}.")

    def _edited(self) -> None:
        if self.gpus and not self.chosen():  # at least one device: re-tick the first
            self.boxes[0].blockSignals(True)
            self.boxes[0].setChecked(True)
            self.boxes[0].blockSignals(False)
        setting = devices.devices_setting(self.chosen(), self.cpu_processes.value())
        self.state.set_config(self.state.config.replace(**setting))
