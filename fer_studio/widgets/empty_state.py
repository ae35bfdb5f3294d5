"""An empty chart says so: a centred message over a plot whose axes are hidden, instead of
pyqtgraph's dummy 0-1 axes that read like data."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QGridLayout, QLabel


class EmptyState(QObject):
    """`EmptyState(plot, text)`; `set_empty(True/False)` shows the message or the chart."""

    def __init__(self, plot: pg.PlotWidget, text: str):
        super().__init__(plot)
        self.plot = plot
        self.label = QLabel(text)
        self.label.setAlignment(Qt.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.label.setStyleSheet("color: gray; background: transparent; font-style: italic")
        overlay = QGridLayout(plot)  # lays the label over the plot's viewport, following its size
        overlay.setContentsMargins(10, 10, 10, 10)
        overlay.addWidget(self.label)
        self.empty = False
        self.set_empty(True)

    def set_empty(self, empty: bool) -> None:
        if empty == self.empty:
            return
        self.empty = empty
        item = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            item.showAxis(name, not empty)
        item.getViewBox().setVisible(not empty)
        if item.legend is not None:
            item.legend.setVisible(not empty)
        self.label.setVisible(empty)
