"""Runs page: every run in the runs folder (GUI or CLI made), with what to do with it.

The table is read from disk (`runs_list.list_runs`) on a pool thread whenever the runs
folder changes (file-system watcher) and every few seconds while a run is in progress,
so runs made by the CLI or left going by an earlier session show up and update.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QHBoxLayout, QInputDialog, QLabel, QMessageBox, QPushButton,
                               QVBoxLayout, QWidget)

from fer_engine.config import ConfigError
from fer_engine.training.rundir import RunDir, RunDirError
from fer_engine.training.runs_list import list_runs

from ..state import AppState
from ..tasks import Task, run_task
from ..widgets.runs_table import RunsTable
from .base import Page

POLL_MS = 2000  # re-read the folder this often while any run is running
IDLE_POLL_MS = 10000  # ... and this often otherwise (the watcher catches most changes)
RETRY_MS, MAX_RETRIES = 300, 5  # a new folder without config.json yet: look again soon


def _read_runs(root: Path) -> tuple[list, int]:
    """(the runs list, the number of sub-folders) of a runs folder."""
    rows = list_runs(root)
    try:
        n_dirs = sum(1 for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        n_dirs = 0
    return rows, n_dirs


class RunsPage(Page):
    title = "Runs"

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.table = RunsTable()
        self.header = QLabel()
        self.buttons: dict[str, QPushButton] = {}
        actions = [
            ("Open", "Show its curves on the training page (live if it is running)", self.open_run),
            ("Compare", "Overlay the selected runs' curves on the training page", self.compare_runs),
            ("Analyse", "Confusion matrix, per-class metrics, embeddings, Grad-CAM, mistakes",
             lambda: self._each(self.state.analysisRequested.emit, "analysis")),
            ("Live", "Use this run's model on the live page",
             lambda: self._each(self.state.liveRequested.emit, "live")),
            ("Export…", "One ONNX or TorchScript file with its preprocessing, checked against PyTorch, "
                        "and its model card", self.export_run),
            ("Duplicate config", "Load this run's config into the set-up page", self.duplicate_config),
            ("Rename…", "Change the name shown for this run", self.rename_run),
            ("Open folder", "Open the run folder in the file manager", self.open_folder),
            ("Delete…", "Delete the selected runs from disk", self.delete_runs),
        ]
        row = QHBoxLayout()
        for text, tip, slot in actions:
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            row.addWidget(b)
            self.buttons[text] = b
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addLayout(row)
        lay.addWidget(self.table, 1)

        self.table.doubleClicked.connect(lambda _: self.open_run())
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(lambda _: self.refresh())
        self.timer = QTimer(self, interval=IDLE_POLL_MS, timeout=self.refresh)
        self.timer.start()
        self._task: Task | None = None
        self._again = False
        self._retries = 0
        state.runsChanged.connect(self.refresh)
        self.refresh()
        self._selection_changed()

    # -- reading the folder -----------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the runs folder in the background (one read at a time)."""
        if self._task is not None and not self._task.done:
            self._again = True
            return
        root = self.state.runs_root
        watched = root if root.is_dir() else next((p for p in root.parents if p.is_dir()), None)
        if watched is not None and self.watcher.directories() != [str(watched)]:
            if self.watcher.directories():
                self.watcher.removePaths(self.watcher.directories())
            self.watcher.addPath(str(watched))  # a missing runs folder: see it being made
        self.header.setText(f"Runs in <b>{root}</b>")
        self._task = run_task(lambda progress, should_stop: _read_runs(root), context=self,
                              on_done=self._show_rows, on_error=self._read_failed)

    def refresh_now(self) -> None:
        """Read the folder on this thread (tests, and right after an edit)."""
        self._show_rows(_read_runs(self.state.runs_root))

    def _show_rows(self, result: tuple[list, int]) -> None:
        rows, n_dirs = result
        if n_dirs > len(rows) and self._retries < MAX_RETRIES:
            self._retries += 1  # a run folder being created: its config.json is a moment away
            QTimer.singleShot(RETRY_MS, self, self.refresh)
        elif n_dirs <= len(rows):
            self._retries = 0
        if rows != self.table.model_.rows:
            self.table.set_rows(rows)
            self._selection_changed()
        running = any(r.status == "running" for r in rows)
        self.timer.setInterval(POLL_MS if running else IDLE_POLL_MS)
        if self._again:
            self._again = False
            QTimer.singleShot(0, self, self.refresh)

    def _read_failed(self, error: str, _tb: str) -> None:
        self.state.notify(f"Cannot read the runs folder {self.state.runs_root}: {error}")

    # -- actions ---------------------------------------------------------------------------------
    def _selected(self) -> list[str]:
        return self.table.selected_run_dirs()

    def _selection_changed(self, *_) -> None:
        n = len(self._selected())
        for text, b in self.buttons.items():
            b.setEnabled(n >= 1 if text in ("Compare", "Delete…") else n == 1)
        if n == 1:
            self.state.select_run(self._selected()[0])

    def _each(self, emit, page: str) -> None:
        for d in self._selected()[:1]:
            emit(d)
            self.state.pageRequested.emit(page)

    def open_run(self) -> None:
        for d in self._selected()[:1]:
            self.state.watchRequested.emit(d)

    def compare_runs(self) -> None:
        runs = self._selected()
        self.state.compareRequested.emit(runs)
        self.state.pageRequested.emit("training")
        if len(runs) == 2:  # two runs: is their test difference real? (the engine's paired test)
            from fer_engine.eval.compare import compare_runs, describe

            run_task(lambda progress, stop: describe(compare_runs(*runs, device="cpu")),
                     on_done=lambda text: self.state.notify(f"test split, {text}"),
                     on_error=lambda message, _tb: self.state.notify(f"no paired comparison: {message}"),
                     context=self)

    def duplicate_config(self) -> None:
        for d in self._selected()[:1]:
            try:
                cfg = RunDir(d).config()
            except ConfigError as e:
                QMessageBox.warning(self, "Cannot read the run's config", str(e))
                return
            self.state.set_config(cfg.replace(name=""))
            self.state.notify(f"Config of {RunDir(d).display_name} loaded into the set-up page")
            self.state.pageRequested.emit("setup")

    def export_run(self) -> None:
        from ..widgets.export_dialog import ExportDialog

        for d in self._selected()[:1]:
            ExportDialog(d, self).open()

    def rename_run(self) -> None:
        for d in self._selected()[:1]:
            run = RunDir(d)
            name, ok = QInputDialog.getText(self, "Rename run", "Name shown in the runs list:",
                                            text=run.display_name)
            if ok and name.strip():
                try:
                    run.rename(name)
                except (OSError, RunDirError) as e:
                    QMessageBox.warning(self, "Cannot rename the run", str(e))
                self.state.runsChanged.emit()

    def open_folder(self) -> None:
        for d in self._selected()[:1]:
            QDesktopServices.openUrl(QUrl.fromLocalFile(d))

    def delete_runs(self) -> None:
        dirs = self._selected()
        if not dirs:
            return
        names = "\n".join(f"  • {RunDir(d).display_name}" for d in dirs)
        answer = QMessageBox.question(
            self, "Delete runs", f"Delete {len(dirs)} run(s) and all their files?\n{names}",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer != QMessageBox.Yes:
            return
        for d in dirs:
            try:
                RunDir(d).delete()
            except (OSError, RunDirError) as e:
                QMessageBox.warning(self, "Cannot delete the run", str(e))
        self.state.runsChanged.emit()
