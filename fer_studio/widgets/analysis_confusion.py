"""Confusion-matrix heat map: true class rows, predicted class columns, numbers in the cells.

Shows counts or the row-normalised matrix (each row sums to 1, the recall view). A click on
a cell emits `cellClicked(true_index, predicted_index)` in the model's class indices, so
the page can open the gallery of exactly those faces.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .. import theme

_COLORMAP = "CET-L12"  # perceptually uniform white -> blue (pyqtgraph's bundled colorcet maps)


class _CellImage(pg.ImageItem):
    """The heat map image; reports which cell was clicked."""

    def __init__(self, on_click):
        super().__init__(axisOrder="row-major")
        self._on_click = on_click

    def mouseClickEvent(self, ev):  # noqa: N802 - Qt override
        if ev.button() != Qt.LeftButton or self.image is None:
            return
        pos = ev.pos()
        row, col = int(np.floor(pos.y())), int(np.floor(pos.x()))
        rows, cols = self.image.shape[:2]
        if 0 <= row < rows and 0 <= col < cols:
            ev.accept()
            self._on_click(row, col)


class ConfusionMatrixView(QWidget):
    """`set_matrix(counts, class_names, rows)`; emits `cellClicked(t, p)` (model class indices).

    Columns are every model class (predictions may land on a class the data lacks); rows
    are the true classes present in the data (another dataset may hold a subset).
    """

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.normalized = QCheckBox("Row-normalised (recall)")
        self.normalized.setToolTip("Show each row as fractions of the true class (rows sum to 1)")
        self.normalized.toggled.connect(self._redraw)
        self.caption = QLabel("rows: true class, columns: predicted class; click a cell to see its faces")
        self.caption.setStyleSheet("color: gray")
        self.plot = pg.PlotWidget()
        theme.style_plot(self.plot)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.getViewBox().invertY(True)
        self.plot.setLabel("left", "true class")
        self.plot.setLabel("bottom", "predicted class")
        self.image = _CellImage(self._cell_clicked)
        self.image.setColorMap(pg.colormap.get(_COLORMAP))
        self.plot.addItem(self.image)
        self._texts: list[pg.TextItem] = []
        self._counts = np.zeros((0, 0), np.int64)
        self._rows: list[int] = []  # matrix row -> model class index
        self._names: list[str] = []
        top = QHBoxLayout()
        top.addWidget(self.normalized)
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.caption)

    def set_matrix(self, counts: np.ndarray, class_names: Sequence[str],
                   rows: Sequence[int] | None = None) -> None:
        """Show the rows `rows` (default all) of the (K, K) `counts`, labelled by `class_names`."""
        counts = np.asarray(counts, dtype=np.int64)
        self._rows = list(range(len(counts))) if rows is None else [int(r) for r in rows]
        self._counts = counts[self._rows]
        self._names = [str(n) for n in class_names]
        self._redraw()

    def shown_values(self) -> np.ndarray:
        """The numbers the cells show now (counts, or row fractions when normalised)."""
        if not self.normalized.isChecked():
            return self._counts.astype(np.float64)
        support = self._counts.sum(axis=1, keepdims=True)
        return np.divide(self._counts, support, out=np.zeros(self._counts.shape), where=support > 0)

    def cell_center(self, true_class: int, pred_class: int) -> QPointF:
        """Scene position of a cell's centre (model class indices); for tests and tours."""
        return self.image.mapToScene(QPointF(pred_class + 0.5, self._rows.index(true_class) + 0.5))

    # -- drawing ---------------------------------------------------------------------------
    def _redraw(self) -> None:
        for t in self._texts:
            self.plot.removeItem(t)
        self._texts = []
        n_rows, k = self._counts.shape
        values = self.shown_values()
        if n_rows == 0:
            self.image.clear()
            return
        # Colour by row fraction in both views: a count heat map is dominated by big classes.
        support = self._counts.sum(axis=1, keepdims=True)
        shade = np.divide(self._counts, support, out=np.zeros(self._counts.shape), where=support > 0)
        self.image.setImage(shade.astype(np.float32), levels=(0.0, 1.0))
        self.image.setRect(0, 0, k, n_rows)
        font_px = 14 if k <= 7 else 10
        for r in range(n_rows):
            for c in range(k):
                v = values[r, c]
                text = f"{v:.2f}" if self.normalized.isChecked() else f"{int(v)}"
                dark = shade[r, c] > 0.5
                item = pg.TextItem(text, color="w" if dark else "#202020", anchor=(0.5, 0.5))
                font = item.textItem.font()
                font.setPixelSize(font_px)
                font.setBold(self._rows[r] == c)
                item.setFont(font)
                item.setPos(c + 0.5, r + 0.5)
                self.plot.addItem(item)
                self._texts.append(item)
        self.plot.getAxis("bottom").setTicks([[(c + 0.5, n) for c, n in enumerate(self._names)]])
        self.plot.getAxis("left").setTicks([[(r + 0.5, self._names[c]) for r, c in enumerate(self._rows)]])
        self.plot.setXRange(0, k, padding=0.02)
        self.plot.setYRange(0, n_rows, padding=0.02)

    def _cell_clicked(self, row: int, col: int) -> None:
        self.cellClicked.emit(self._rows[row], col)
