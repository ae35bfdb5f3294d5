"""Class counts per split as grouped bars (pyqtgraph), one colour per split."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from .. import theme
from .empty_state import EmptyState


class ClassCountsChart(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        theme.style_plot(self)
        self.setTitle("Images per class and split")
        self.setLabel("left", "images")
        self.showGrid(y=True, alpha=0.25)
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.addLegend(offset=(-8, 8))
        self.counts: dict[str, list[int]] = {}
        self.class_names: list[str] = []
        self.empty = EmptyState(self, "Choose a dataset: its images per class and split show here")

    def set_counts(self, class_names: list[str], counts: dict[str, list[int]]) -> None:
        """counts: split -> one count per class (in class_names order)."""
        self.clear()
        self.getPlotItem().legend.clear()
        self.class_names, self.counts = list(class_names), {k: list(v) for k, v in counts.items()}
        self.empty.set_empty(not class_names or not counts)
        n_splits = max(1, len(counts))
        width = 0.8 / n_splits
        x = np.arange(len(class_names), dtype=float)
        for i, (split, values) in enumerate(counts.items()):
            bars = pg.BarGraphItem(x=x - 0.4 + width * (i + 0.5), height=np.asarray(values, float),
                                   width=width * 0.92, brush=theme.series_colour(i), pen=None, name=split)
            self.addItem(bars)  # named items enter the legend by themselves
        self.getAxis("bottom").setTicks([list(enumerate(class_names))])
        self.setXRange(-0.6, len(class_names) - 0.4, padding=0)
        top = max((max(v) for v in counts.values() if len(v)), default=1)
        self.setYRange(0, top * 1.3, padding=0)  # room for the legend

    def bar_heights(self) -> dict[str, list[float]]:
        """What the bars show (split -> heights), read back from the plot items."""
        out = {}
        for item in self.getPlotItem().items:
            if isinstance(item, pg.BarGraphItem):
                out[item.name()] = [float(h) for h in item.opts["height"]]
        return out
