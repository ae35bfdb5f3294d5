"""The learning-rate schedule of the current config, before training (per step)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from .. import theme
from .empty_state import EmptyState


class LrPreview(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        theme.style_plot(self)
        self.setTitle("Learning-rate schedule (preview)")
        self.setLabel("bottom", "epoch")
        self.setLabel("left", "lr")
        self.showGrid(x=True, y=True, alpha=0.25)
        self.curve = self.plot([], [], pen=pg.mkPen(theme.series_colour(0), width=2))
        self.empty = EmptyState(self, "No schedule to preview")

    def set_schedule(self, lr: np.ndarray, steps_per_epoch: int) -> None:
        lr = np.asarray(lr, dtype=float)
        x = np.arange(1, len(lr) + 1, dtype=float) / max(1, steps_per_epoch)
        self.curve.setData(x, lr)
        self.empty.set_empty(len(lr) == 0)

    def values(self) -> np.ndarray:
        _, y = self.curve.getData()
        return np.asarray([] if y is None else y)
