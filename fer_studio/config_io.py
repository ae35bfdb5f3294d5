"""Import and export of config JSON through file dialogs (menu and set-up page share these)."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from fer_engine.config import ConfigError, RunConfig

from .state import AppState

JSON_FILTER = "Run config (*.json);;All files (*)"


def import_config(parent: QWidget, state: AppState, path: str | None = None) -> bool:
    """Replace the current config by a JSON file (keeping nothing else); errors in a dialog."""
    if path is None:
        path, _ = QFileDialog.getOpenFileName(parent, "Import config", "", JSON_FILTER)
        if not path:
            return False
    try:
        cfg = RunConfig.load(path)
    except ConfigError as e:
        QMessageBox.warning(parent, "Cannot import config", str(e))
        return False
    state.set_config(cfg)
    state.notify(f"Config imported from {path}")
    return True


def export_config(parent: QWidget, state: AppState, path: str | None = None) -> bool:
    if path is None:
        path, _ = QFileDialog.getSaveFileName(parent, "Export config", "config.json", JSON_FILTER)
        if not path:
            return False
    try:
        state.config.save(path)
    except OSError as e:
        QMessageBox.warning(parent, "Cannot export config", f"{path}: {e}")
        return False
    state.notify(f"Config exported to {path}")
    return True
