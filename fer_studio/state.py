"""Application state shared by the pages: the current config, the runs folder, selections.

Pages take an `AppState` and listen to its signals (napari style: the model knows
nothing of the widgets). Computation stays in fer_engine.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from fer_engine.config import RunConfig
from fer_engine.paths import default_runs_dir


class AppState(QObject):
    configChanged = Signal()  # self.config was replaced or edited
    runsChanged = Signal()  # a run was created, renamed, deleted or changed status
    runSelected = Signal(str)  # a run directory was chosen (runs list, training page)
    analysisRequested = Signal(str)  # open the analysis views for this run directory
    liveRequested = Signal(str)  # use this run directory on the live page
    pageRequested = Signal(str)  # switch the main window to the page with this key

    def __init__(self, runs_root: Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.config = RunConfig()
        self.runs_root = Path(runs_root) if runs_root else default_runs_dir()
        self.selected_run: str | None = None

    def set_config(self, config: RunConfig) -> None:
        self.config = config
        self.configChanged.emit()

    def select_run(self, run_dir: str) -> None:
        self.selected_run = run_dir
        self.runSelected.emit(run_dir)
