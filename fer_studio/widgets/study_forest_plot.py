"""Forest plot of a study: each variant's effect on accuracy against the baseline with its 95% interval."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from fer_engine.scoring.stats import HELPS, HURTS

from .. import theme


class StudyForestPlot(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(antialias=False)
        theme.style_plot(self.plot)
        self.plot.setLabel("bottom", "effect on accuracy vs the baseline (points, 95% interval)")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        QVBoxLayout(self).addWidget(self.plot)
        self.setMinimumHeight(180)
        self.variants: list[str] = []

    def set_results(self, results) -> None:
        """One row per variant (the baseline is the zero line), coloured by its verdict."""
        self.plot.clear()
        theme.style_plot(self.plot)
        rows = [v for v in results.variants if v.name != "baseline" and math.isfinite(v.effect)]
        self.variants = [v.name for v in rows]
        self.plot.addItem(pg.InfiniteLine(0, angle=90, pen=pg.mkPen(theme.colour("muted"), width=1)))
        if not rows:
            return
        y = np.arange(len(rows))[::-1].astype(float)
        effect = np.array([100 * v.effect for v in rows])
        low = np.array([100 * v.effect_interval[0] for v in rows])
        high = np.array([100 * v.effect_interval[1] for v in rows])
        colours = [{HELPS: "#1e8449", HURTS: "#c0392b"}.get(v.verdict, theme.series_colour(0)) for v in rows]
        self.plot.addItem(pg.ErrorBarItem(x=effect, y=y, left=effect - low, right=high - effect, beam=0.15,
                                          pen=pg.mkPen(theme.colour("plot_fg"), width=2)))
        self.plot.addItem(pg.ScatterPlotItem(x=effect, y=y, size=11, brush=[pg.mkBrush(c) for c in colours],
                                             pen=pg.mkPen(None)))
        self.plot.getAxis("left").setTicks([[(yy, v.name) for yy, v in zip(y, rows)]])
        span = max(float(np.nanmax(np.abs([low, high]))), 0.5)
        self.plot.setXRange(-1.1 * span, 1.1 * span, padding=0)
        self.plot.setYRange(-0.7, len(rows) - 0.3, padding=0)

    def export(self, path: str | Path) -> Path:
        """Write the plot as PNG or SVG (by the file's suffix)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".png":
            from pyqtgraph.exporters import ImageExporter

            ImageExporter(self.plot.getPlotItem()).export(str(path))
        elif suffix == ".svg":  # pyqtgraph's SVG exporter fails on error bars; Qt's SVG painter does not
            from PySide6.QtCore import QRect, QSize
            from PySide6.QtGui import QPainter
            from PySide6.QtSvg import QSvgGenerator

            gen = QSvgGenerator()
            gen.setFileName(str(path))
            size = self.plot.size()
            gen.setSize(QSize(size.width(), size.height()))
            gen.setViewBox(QRect(0, 0, size.width(), size.height()))
            gen.setTitle("study effects")
            painter = QPainter(gen)
            self.plot.render(painter)
            painter.end()
        else:
            raise ValueError(f"the forest plot exports to .png or .svg, not {path.suffix or 'no suffix'}")
        if not path.is_file():
            raise OSError(f"could not write {path}")
        return path
