"""Live probability bars: one group of bars per class, one colour per tracked face (up to 3)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from .empty_state import EmptyState

FACE_COLORS = ("#4e9af1", "#f1a14e", "#5cc87a")


class LiveProbBars(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground(None)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.setYRange(0, 1, padding=0.02)
        self.getPlotItem().showGrid(y=True, alpha=0.2)
        self.getPlotItem().setLabel("left", "probability")
        self.legend = self.getPlotItem().addLegend(offset=(-6, 6))
        self.class_names: list[str] = []
        self.bars: list[pg.BarGraphItem] = []
        self.track_ids: list[int] = []
        self.setMinimumHeight(180)
        self.empty = EmptyState(self, "Class probabilities of the faces found show here")

    def set_classes(self, class_names: list[str]) -> None:
        if class_names == self.class_names:
            return
        self.class_names = list(class_names)
        ticks = [(i, n[:8]) for i, n in enumerate(self.class_names)]
        self.getPlotItem().getAxis("bottom").setTicks([ticks])
        self.setXRange(-0.6, len(class_names) - 0.4, padding=0)
        self.show_faces([], np.zeros((0, len(class_names))))

    def show_faces(self, track_ids, probs: np.ndarray) -> None:
        """Bars of up to three faces' (smoothed) probabilities, (N, K)."""
        self.empty.set_empty(len(probs) == 0 or not self.class_names)
        ids = [int(t) for t in track_ids][: len(FACE_COLORS)]
        if ids != self.track_ids:
            for item in self.bars:
                self.removeItem(item)
            self.legend.clear()
            self.bars = []
            width = 0.8 / max(1, len(ids))
            x = np.arange(len(self.class_names), dtype=float)
            for k, tid in enumerate(ids):
                item = pg.BarGraphItem(x=x - 0.4 + width * (k + 0.5), height=np.zeros(len(x)), width=width,
                                       brush=FACE_COLORS[k], pen=None, name=f"face #{tid}")
                self.addItem(item)
                self.bars.append(item)
            self.track_ids = ids
        for item, p in zip(self.bars, probs):
            item.setOpts(height=np.asarray(p, float))
