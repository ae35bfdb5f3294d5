"""Studies page: build a study from the current set-up, see its plan and estimated time, start it,
watch its runs, then read the results table and the forest plot of the effects.

A study runs as `fer-studio study resume DIR` in a process of its own session (the same code as the
CLI, so a study started from the CLI is watched the same way, and closing the window can leave
it running): the page only reads the study directory, every couple of seconds on a pool
thread, and asks the engine for the results when no run is left going. Stop sends that
process Ctrl-C: the active runs stop cleanly and the study can be resumed.
"""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit,
                               QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from fer_engine.study.studydir import StudyDir, is_study_dir

from ..state import AppState
from ..tasks import run_task
from ..widgets.study_builder import StudyBuilder
from ..widgets.study_forest_plot import StudyForestPlot
from ..widgets.study_results_table import StudyResultsTable
from ..widgets.study_runs_grid import StudyRunsGrid
from .base import Page

POLL_MS = 2000
ACTIVE = ("running", "created")


def studies_root(state: AppState) -> Path:
    """Where the page creates studies: `studies/` beside the runs folder."""
    return Path(state.runs_root).parent / "studies"


def _plan_and_estimate(spec_dict: dict, base, roots: list[Path]):
    from fer_engine.study.estimate import estimate
    from fer_engine.study.plan import expand
    from fer_engine.study.spec import StudySpec

    spec = StudySpec.from_dict(spec_dict)
    plan = expand(spec, base)
    return spec, plan, estimate(plan, roots=roots, probe=True)


class StudiesPage(Page):
    title = "Studies"

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.study: StudyDir | None = None
        self.process: subprocess.Popen | None = None  # the study process started here
        self._planned = None  # (spec, plan, estimate) of the builder's current contents
        self._results = None
        self._analyzed = 0  # finished runs the shown results count
        self._reading = False

        # -- left: build and start ----------------------------------------------------------
        self.builder = StudyBuilder()
        self.plan_button = QPushButton("Plan")
        self.plan_button.setToolTip("List the runs and estimate the time (a short throughput probe)")
        self.start_button = QPushButton("Start study")
        self.start_button.setEnabled(False)
        self.plan_text = QPlainTextEdit(readOnly=True)
        self.plan_text.setPlaceholderText("Tick tricks or give grid values, then Plan.")
        build_box = QGroupBox("New study from the current set-up")
        build_box.setMinimumWidth(360)
        left = QVBoxLayout(build_box)
        left.addWidget(self.builder)
        row = QHBoxLayout()
        row.addWidget(self.plan_button)
        row.addWidget(self.start_button)
        left.addLayout(row)
        left.addWidget(self.plan_text, 1)

        # -- right: the open study ----------------------------------------------------------
        self.study_combo = QComboBox()
        self.study_combo.setMinimumWidth(260)
        self.open_button = QPushButton("Open study folder…")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop")
        self.header = QLabel("No study open.")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(QLabel("Study"))
        top.addWidget(self.study_combo, 1)
        for b in (self.open_button, self.resume_button, self.stop_button):
            top.addWidget(b)
        self.grid = StudyRunsGrid()
        self.table = StudyResultsTable()
        self.forest = StudyForestPlot()
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.overlay_button = QPushButton("Overlay curves")
        self.overlay_button.setToolTip("Show the selected variant's runs (and the baseline's) on the training page")
        self.analyse_button = QPushButton("Open analysis")
        self.export_md = QPushButton("Export table…")
        self.export_plot = QPushButton("Export plot…")
        actions = QHBoxLayout()
        for b in (self.overlay_button, self.analyse_button):
            actions.addWidget(b)
        actions.addStretch(1)
        for b in (self.export_md, self.export_plot):
            actions.addWidget(b)
        results = QWidget()
        rl = QVBoxLayout(results)
        rl.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.forest)
        split.setSizes([260, 320])
        rl.addWidget(split, 1)
        rl.addWidget(self.notes)
        rl.addLayout(actions)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.grid, "Runs")
        self.tabs.addTab(results, "Results")
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.addLayout(top)
        rv.addWidget(self.header)
        rv.addWidget(self.tabs, 1)

        outer = QSplitter(Qt.Horizontal)
        outer.addWidget(build_box)
        outer.addWidget(right)
        outer.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(outer)

        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self.refresh)
        self.plan_button.clicked.connect(self.make_plan)
        self.start_button.clicked.connect(self.start_study)
        self.builder.changed.connect(self._builder_changed)
        self.open_button.clicked.connect(self._choose_folder)
        self.study_combo.activated.connect(lambda i: self.open_study(self.study_combo.itemData(i)))
        self.resume_button.clicked.connect(self.resume_study)
        self.stop_button.clicked.connect(self.stop_study)
        self.overlay_button.clicked.connect(self.overlay_variant)
        self.analyse_button.clicked.connect(self.analyse_variant)
        self.export_md.clicked.connect(self._export_table_dialog)
        self.export_plot.clicked.connect(self._export_plot_dialog)
        self.table.variantSelected.connect(lambda _: self._update_buttons())
        self.grid.runActivated.connect(self._analyse_run)
        state.configChanged.connect(lambda: self.builder.set_config(state.config))
        state.runsChanged.connect(self._list_studies)
        self.builder.set_config(state.config)
        self._list_studies()
        self._update_buttons()

    # -- building -------------------------------------------------------------------------------
    def _builder_changed(self) -> None:
        self._planned = None
        self.start_button.setEnabled(False)

    def make_plan(self) -> None:
        try:
            spec_dict = self.builder.spec_dict()
        except ValueError as e:
            self.plan_text.setPlainText(str(e))
            return
        self.plan_text.setPlainText("Checking every variant and measuring throughput…")
        self.plan_button.setEnabled(False)
        roots = [Path(self.state.runs_root)]
        run_task(lambda progress, stop: _plan_and_estimate(spec_dict, self.state.config, roots),
                 on_done=self._planned_ok, on_error=self._planned_failed, context=self)

    def _planned_ok(self, result) -> None:
        self.plan_button.setEnabled(True)
        self._planned = result
        from fer_engine.study.estimate import describe_plan

        _, plan, est = result
        self.plan_text.setPlainText("\n".join(describe_plan(plan, est)))
        self.start_button.setEnabled(len(plan.runs) > 0 and not self._running())

    def _planned_failed(self, message: str, _tb: str) -> None:
        self.plan_button.setEnabled(True)
        self._planned = None
        self.plan_text.setPlainText(message)

    def start_study(self) -> None:
        """Create the study directory beside the runs folder and start training it."""
        if self._planned is None:
            return
        from fer_engine.study.spec import StudyError

        spec, plan, est = self._planned
        slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in (spec.name or "study"))[:40]
        path = studies_root(self.state) / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"
        try:
            path.mkdir(parents=True)
            self.state.config.save(path / "base-config.json")
            spec.base.config = str(path / "base-config.json")
            study = StudyDir.create(path, spec, plan, est)
        except (OSError, StudyError) as e:
            self.plan_text.setPlainText(f"cannot create the study: {e}")
            return
        self._list_studies()
        self.open_study(str(study.path))
        self.resume_study()

    # -- the open study -----------------------------------------------------------------------------
    def _list_studies(self) -> None:
        root = studies_root(self.state)
        current = str(self.study.path) if self.study else None
        self.study_combo.blockSignals(True)
        self.study_combo.clear()
        paths = sorted((p for p in root.iterdir() if is_study_dir(p)), reverse=True) if root.is_dir() else []
        if current and Path(current) not in paths:
            paths.insert(0, Path(current))
        for p in paths:
            self.study_combo.addItem(p.name, str(p))
        if current:
            self.study_combo.setCurrentIndex(self.study_combo.findData(current))
        self.study_combo.blockSignals(False)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a study folder", str(studies_root(self.state)))
        if path:
            self.open_study(path)

    def open_study(self, path: str) -> None:
        if not is_study_dir(path):
            self.header.setText(f"Not a study folder (no study.json and plan.json): {path}")
            return
        self.study = StudyDir(path)
        self._results, self._analyzed = None, 0
        self.table.setRowCount(0)
        self.forest.plot.clear()
        self.notes.clear()
        self._list_studies()
        self.refresh()
        self.timer.start()

    def refresh(self) -> None:
        """Re-read the study's runs on a pool thread (skipped while a read is under way)."""
        if self.study is None or self._reading:
            return
        self._reading = True
        study = self.study
        run_task(lambda progress, stop: (study, study.spec(), study.progress()), on_done=self._show_progress,
                 on_error=self._read_failed, context=self)

    def _read_failed(self, message: str, _tb: str) -> None:
        self._reading = False
        self.header.setText(f"Cannot read the study: {message}")

    def _show_progress(self, result) -> None:
        self._reading = False
        study, spec, rows = result
        if study is not self.study:
            return
        self.grid.set_progress(rows)
        states = [r.state for r in rows]
        done = sum(s in ("finished", "pruned") for s in states)
        going = sum(s in ACTIVE for s in states)
        busy = going or self._running()
        self.header.setText(f"<b>{spec.name or study.path.name}</b> · {study.path} · {done} of {len(rows)} runs "
                            f"done" + (f" · {going} training" if going else ""))
        if not busy and done and done != self._analyzed:  # results once the runs settle, again when more finish
            self._analyzed = done
            run_task(lambda progress, stop: self._analyze(study), on_done=self._show_results,
                     on_error=self._results_failed, context=self)
        if not busy and done == len(rows):
            self.timer.stop()
        self._update_buttons()

    @staticmethod
    def _analyze(study: StudyDir):
        from fer_engine.study.results import analyze

        return study, analyze(study, n_boot=2000)

    def _results_failed(self, message: str, _tb: str) -> None:
        self._results = None
        self._analyzed = 0
        self.notes.setText(f"Cannot compute the results: {message}")

    def _show_results(self, result) -> None:
        study, results = result
        if study is not self.study:
            return
        self._results = results
        self.table.set_results(results)
        self.forest.set_results(results)
        self.notes.setText("\n".join(f"• {n}" for n in results.notes))
        self.tabs.setCurrentIndex(1)
        self._update_buttons()

    # -- training -------------------------------------------------------------------------------
    def _running(self) -> bool:
        """The study process this page started is still alive."""
        return self.process is not None and self.process.poll() is None

    def resume_study(self) -> None:
        """Train the study's unfinished runs in a `fer-studio study resume` process of its own
        session (output in `<study>/study.log`); it goes on when the window closes leaving it running."""
        if self.study is None or self._running():
            return
        from fer_engine.study.local import start_resume_process

        try:
            self.process = start_resume_process(self.study.path)
        except OSError as e:
            self.header.setText(f"Cannot start the study process: {e}")
            return
        self._results = None
        self.timer.start()
        self.tabs.setCurrentIndex(0)
        self.state.notify(f"study started (pid {self.process.pid}; log {self.study.path / 'study.log'})")
        self._update_buttons()

    def stop_study(self) -> None:
        """Ctrl-C to the study process: active runs stop after their current batch (resumable)."""
        if self._running():
            self.process.send_signal(signal.SIGINT)

    def active_runs(self) -> list[str]:
        return [str(self.study.path)] if self._running() and self.study else []

    def stop_all_runs(self) -> None:
        self.stop_study()

    def detach_all_runs(self) -> None:
        self.process = None  # it goes on in its own session; reopen its folder to watch it

    def shutdown(self) -> None:
        self.timer.stop()

    # -- a variant --------------------------------------------------------------------------------
    def _variant_runs(self, name: str) -> list[str]:
        return [str(self.study.run_dir(r.key).path) for r in self.study.plan().runs
                if r.variant == name and self.study.state(r.key) == "finished"]

    def overlay_variant(self) -> None:
        name = self.table.selected_variant()
        if self.study is None or not name:
            return
        runs = self._variant_runs(name) + ([] if name == "baseline" else self._variant_runs("baseline"))
        self.state.compareRequested.emit(runs)
        self.state.pageRequested.emit("training")

    def analyse_variant(self) -> None:
        name = self.table.selected_variant()
        runs = self._variant_runs(name) if self.study is not None and name else []
        if runs:
            self.state.analysisRequested.emit(runs[0])
            self.state.pageRequested.emit("analysis")

    def _analyse_run(self, key: str) -> None:
        if self.study is not None and self.study.state(key) == "finished":
            self.state.analysisRequested.emit(str(self.study.run_dir(key).path))
            self.state.pageRequested.emit("analysis")

    def _update_buttons(self) -> None:
        has = self.study is not None
        self.resume_button.setEnabled(has and not self._running())
        self.stop_button.setEnabled(self._running())
        picked = self.table.selected_variant() is not None
        self.overlay_button.setEnabled(picked)
        self.analyse_button.setEnabled(picked)
        ready = self._results is not None
        self.export_md.setEnabled(ready)
        self.export_plot.setEnabled(ready)

    # -- export -----------------------------------------------------------------------------------
    def export_table(self, path: str | Path) -> Path:
        """The results table as Markdown (.md) or CSV (.csv), written by the engine."""
        from fer_engine.study.report import write_table

        return write_table(self._results, path)

    def _export_table_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the results table", str(self.study.path / "results.md"),
                                              "Markdown (*.md);;CSV (*.csv)")
        if path:
            self._export(self.export_table, path)

    def _export_plot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the forest plot", str(self.study.path / "effects.png"),
                                              "PNG image (*.png);;SVG (*.svg)")
        if path:
            self._export(self.forest.export, path)

    def _export(self, fn, path: str) -> None:
        try:
            self.state.notify(f"wrote {fn(path)}")
        except (OSError, ValueError) as e:
            self.state.notify(f"cannot export: {e}")
