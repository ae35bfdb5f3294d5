"""Live training curves of one or more runs on shared axes: loss, accuracy, macro-F1, LR.

Each run gets one colour (legend by run name); within a plot, train is dashed and val
solid, and the per-step training loss is a faint line. `refresh()` copies the runs'
`RunCurves` lists into the plot items; call it on the monitor's throttled `updated`.
It updates one plot per event-loop turn (`STAGGER_MS` apart), so each repaint covers a
single plot and the GUI thread is never held for the whole grid at once.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QWidget

from .. import theme
from ..run_curves import RunCurves
from .empty_state import EmptyState

#: plot key -> (title, y label, [(series, style)]); style: "solid", "dash", "faint".
PLOTS = {
    "loss": ("Loss (solid val, dashed train, thin per step)", "loss",
             [("step_loss", "faint"), ("train_loss", "dash"), ("val_loss", "solid")]),
    "acc": ("Accuracy (solid val, dashed train)", "accuracy", [("train_acc", "dash"), ("val_acc", "solid")]),
    "f1": ("Validation macro-F1", "macro-F1", [("val_f1", "solid")]),
    "lr": ("Learning rate (per step)", "lr", [("step_lr", "solid")]),
}


def series_xy(curves: RunCurves, series: str) -> tuple[list[float], list[float]]:
    """The (x, y) lists a series takes from a run's curves."""
    if series == "step_loss":
        return curves.step_x, curves.step_loss
    if series == "step_lr":
        return curves.step_x, curves.step_lr
    return curves.epoch_x[series], curves.epoch_y[series]


STAGGER_MS = 15


class TrainingCurves(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pending: list[str] = []
        self._stagger = QTimer(self, interval=STAGGER_MS, timeout=self._refresh_next)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.plots: dict[str, pg.PlotWidget] = {}
        for i, (key, (title, ylabel, _)) in enumerate(PLOTS.items()):
            plot = pg.PlotWidget(antialias=False)
            theme.style_plot(plot)
            plot.setTitle(title)
            plot.setLabel("left", ylabel)
            plot.setLabel("bottom", "epoch")
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
            grid.addWidget(plot, i // 2, i % 2)
            self.plots[key] = plot
        self.plots["lr"].setLogMode(y=False)
        self.empty = {key: EmptyState(plot, "No run shown: press Train, or open a run from the Runs page")
                      for key, plot in self.plots.items()}
        self.baseline_lines: list[pg.InfiniteLine] = []  # chance / majority class on the accuracy plot
        self.plan_item: pg.PlotDataItem | None = None  # the main run's planned lr (a time-budgeted run)
        self._runs: list[tuple[RunCurves, str]] = []
        self._items: dict[tuple[str, int, str], pg.PlotDataItem] = {}

    def set_baselines(self, baselines) -> None:
        """Dashed lines of chance and always-the-majority-class accuracy on the main run's
        validation faces (`fer_engine.scoring.metrics.Baselines`, or None to remove them)."""
        plot = self.plots["acc"]
        for line in self.baseline_lines:
            plot.removeItem(line)
        self.baseline_lines = []
        if baselines is None:
            return
        majority = f"always {baselines.majority_class} {baselines.majority:.1%}"
        chance = f"chance {baselines.chance:.1%}"
        lines = [(baselines.majority, majority), (baselines.chance, chance)]
        if f"{baselines.majority:.1%}" == f"{baselines.chance:.1%}":  # balanced: one line, labels would overlap
            lines = [(baselines.chance, f"chance = always {baselines.majority_class} {baselines.chance:.1%}")]
        for value, text in lines:
            line = pg.InfiniteLine(pos=value, angle=0, movable=False,
                                   pen=pg.mkPen(theme.colour("muted"), width=1.5, style=Qt.DashLine),
                                   label=text, labelOpts={"position": 0.02, "anchors": [(0, 1), (0, 1)],
                                                          "color": theme.colour("muted")})
            plot.addItem(line, ignoreBounds=False)
            self.baseline_lines.append(line)

    def set_plan(self, x: list[float], lr: list[float]) -> None:
        """The main run's planned learning rates (a time-budgeted run's latest plan), grey dashed
        on the LR plot as "planned"; empty lists remove it."""
        plot = self.plots["lr"]
        if self.plan_item is not None:
            plot.getPlotItem().legend.removeItem(self.plan_item)
            plot.removeItem(self.plan_item)
            self.plan_item = None
        if len(lr):
            pen = pg.mkPen(theme.colour("muted"), width=1.5, style=Qt.DashLine)
            self.plan_item = plot.plot(np.asarray(x, dtype=float), np.asarray(lr, dtype=float), pen=pen,
                                       name="planned", antialias=False)
            self.plan_item.setZValue(-1)  # under the rates applied, which follow it

    def set_runs(self, runs: list[tuple[RunCurves, str]]) -> None:
        """Show these runs (curves, display name); the first is the main run."""
        for empty in self.empty.values():
            empty.set_empty(not runs)
        if self._runs and len(runs) == len(self._runs):  # same layout: keep the plot items
            self._runs = list(runs)
            for plot in self.plots.values():
                for (_, label), (_, name) in zip(plot.getPlotItem().legend.items, self._runs):
                    label.setText(name)
            self.flush()
            return
        for plot in self.plots.values():
            plot.clear()
            plot.getPlotItem().legend.clear()
        self._items.clear()
        self._runs = list(runs)
        self._pending.clear()
        for r, (_, name) in enumerate(self._runs):
            colour = theme.series_colour(r)
            for key, (_, _, series) in PLOTS.items():
                for s, style in series:
                    pen = pg.mkPen(colour, width=2 if style == "solid" else 1.5,
                                   style=Qt.DashLine if style == "dash" else Qt.SolidLine)
                    if style == "faint":
                        pen = pg.mkPen(pg.mkColor(colour).lighter(150), width=1)
                    legend = name if s == series[-1][0] else None  # one legend entry per run
                    symbol = "o" if not s.startswith("step_") else None
                    item = self.plots[key].plot([], [], pen=pen, name=legend, symbol=symbol,
                                                symbolSize=5, symbolBrush=colour, symbolPen=None,
                                                antialias=False)
                    self._items[(key, r, s)] = item
        self.flush()

    def refresh(self) -> None:
        """Bring every plot up to date, one plot per event-loop turn."""
        self._pending = [k for k in self.plots if k not in self._pending] + self._pending
        if not self._stagger.isActive():
            self._refresh_next()
            if self._pending:
                self._stagger.start()

    def flush(self) -> None:
        """Bring every plot up to date now."""
        self._pending = list(self.plots)
        while self._pending:
            self._refresh_next()

    def _refresh_next(self) -> None:
        if not self._pending:
            self._stagger.stop()
            return
        key = self._pending.pop(0)
        for (k, r, s), item in self._items.items():
            if k == key:
                x, y = series_xy(self._runs[r][0], s)
                n = min(len(x), len(y))
                item.setData(np.asarray(x[:n], dtype=float), np.asarray(y[:n], dtype=float))

    def run_names(self) -> list[str]:
        return [name for _, name in self._runs]

    def data(self, key: str, series: str, run: int = 0) -> tuple[list[float], list[float]]:
        """What a plot item holds once up to date (x, y), for checks and exports."""
        self.flush()
        x, y = self._items[(key, run, series)].getData()
        return ([] if x is None else list(x)), ([] if y is None else list(y))
