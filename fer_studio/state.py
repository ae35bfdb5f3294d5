"""Application state shared by the pages: the current config, the runs folder, selections.

Pages take an `AppState` and listen to its signals (napari style: the model knows
nothing of the widgets). Computation stays in fer_engine.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from fer_engine.config import RunConfig
from fer_engine.models import default_backbone
from fer_engine.paths import default_runs_dir

from .settings import Settings


class AppState(QObject):
    configChanged = Signal()  # self.config was replaced or edited
    dataChanged = Signal(str)  # config.data.path was set to a new dataset (report it)
    runsChanged = Signal()  # a run was created, renamed, deleted or changed status
    runSelected = Signal(str)  # a run directory was chosen (runs list, training page)
    analysisRequested = Signal(str)  # open the analysis views for this run directory
    liveRequested = Signal(str)  # use this run directory on the live page
    watchRequested = Signal(str)  # show this run on the training page (attach if running)
    compareRequested = Signal(list)  # overlay these run directories on the training curves
    pageRequested = Signal(str)  # switch the main window to the page with this key
    message = Signal(str)  # a short status-bar message

    def __init__(self, runs_root: Path | None = None, parent: QObject | None = None,
                 settings: Settings | None = None):
        super().__init__(parent)
        self.settings = settings if settings is not None else Settings()
        # a backbone sized for the device: Train on the demo set ends in about a minute on a CPU too
        self.config = RunConfig().replace(**{"model.backbone": default_backbone()})
        if runs_root is None and self.settings.runs_root:
            runs_root = Path(self.settings.runs_root)
        self.runs_root = Path(runs_root) if runs_root else default_runs_dir()
        self.selected_run: str | None = None

    def set_config(self, config: RunConfig) -> None:
        data_changed = config.data.path != self.config.data.path
        self.config = config
        self.configChanged.emit()
        if data_changed:
            self.dataChanged.emit(config.data.path)

    def set_data_path(self, path: str) -> None:
        """Use a dataset (folder, CSV or "demo"); remembered in the recent list."""
        self.settings.remember_dataset(path)
        if path == self.config.data.path:
            self.dataChanged.emit(path)  # re-report on explicit request
            return
        self.set_config(self.config.replace(**{"data.path": path}))

    def set_runs_root(self, root: Path) -> None:
        self.runs_root = Path(root)
        self.settings.runs_root = str(root)
        self.runsChanged.emit()

    def select_run(self, run_dir: str) -> None:
        self.selected_run = run_dir
        self.runSelected.emit(run_dir)

    def notify(self, text: str) -> None:
        self.message.emit(text)
