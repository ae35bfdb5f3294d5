"""Training page: start, watch, stop and resume runs; overlay runs to compare them.

Train starts `fer_engine.training.worker.start_run` (a spawn worker process: data
loading, training and checkpoint saving never run on the GUI thread). A `RunMonitor`
drains the run's events on a timer in bounded batches and throttles redraws. A run
written by another process (the CLI, or a run left going when the app was closed) is
followed by tailing its event log.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from fer_engine.training.budget import format_duration as budget_duration
from fer_engine.training.rundir import RunDir
from fer_engine.training.runs_list import list_runs

from ..event_log_tail import EventLogTail
from ..run_curves import RunCurves
from ..run_monitor import RunMonitor
from ..state import AppState
from ..tasks import Task, run_task
from ..widgets.run_checklist import RunChecklist
from ..widgets.run_error import RunErrorPanel
from ..widgets.run_progress import RunProgress
from ..widgets.training_curves import TrainingCurves
from .base import Page

STOP_WAIT_S = 15.0  # how long closing the app waits for stopped runs to write their end


WORKER_NICE = 5  # with the "Train at lower priority" setting: the worker yields the CPU


def _lower_priority(pid: int | None) -> None:
    """Renice a worker started from the GUI (best effort, when the user asked for it in the
    Runs menu): on a busy CPU the window keeps its frames, at the cost of a slower run. Off by
    default: a GUI run trains as fast as the same run from the CLI."""
    if pid and hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, pid, WORKER_NICE)
        except OSError:
            pass


def curves_from_disk(run_dir: str) -> RunCurves:
    """A run's curves replayed from its event log (finished runs, compared runs)."""
    run = RunDir(run_dir)
    curves = RunCurves(run_id=run.run_id, name=run.display_name)
    curves.extend(run.read_events())
    return curves


def _mark_starting(curves: RunCurves, detail: str) -> None:
    """A run whose worker is being started: "starting" until its first event says otherwise."""
    curves.status, curves.phase, curves.phase_detail, curves.phase_fraction = "starting", "starting", detail, -1.0
    curves.error = curves.traceback = curves.hint = ""


class TrainingPage(Page):
    title = "Training"
    eventReceived = Signal(str, object)  # (run directory, event) for every event of a watched run
    runStarted = Signal(str)  # a run started here (Train or Resume) has its worker going

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.monitors: dict[str, RunMonitor] = {}
        self.curves: dict[str, RunCurves] = {}
        self.shown: str | None = None
        self.ticked: list[str] = []  # runs ticked in the compare list (the shown one included)
        self._baselines_of: str | None = None  # the run whose baselines the accuracy plot shows
        self._plan_of: tuple[str, int] | None = None  # (run, plans seen) whose planned lr the LR plot shows
        self._start_task: Task | None = None
        self._list_task: Task | None = None
        self._retired: list[RunMonitor] = []  # ended monitors awaiting deletion

        self.train_button = QPushButton("▶  Train")
        self.train_button.setToolTip("Start a run with the set-up page's config in a worker process")
        self.stop_button = QPushButton("■  Stop")
        self.stop_button.setToolTip("Stop the run after the current batch (a checkpoint is kept)")
        self.resume_button = QPushButton("⟳  Resume")
        self.resume_button.setToolTip("Continue the shown run from its last checkpoint")
        self.name_edit = QLineEdit(placeholderText="run name (optional)")
        self.name_edit.setMinimumWidth(240)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.RichText)
        self.progress = RunProgress()
        self.error = RunErrorPanel()
        self.plots = TrainingCurves()
        self.checklist = RunChecklist()
        self.checklist.setMinimumWidth(220)

        bar = QHBoxLayout()
        for w in (self.train_button, self.stop_button, self.resume_button, self.name_edit):
            bar.addWidget(w)
        bar.addWidget(self.summary, 1)
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.addWidget(QLabel("<b>Compare runs</b> (overlay on the same axes)"))
        side_lay.addWidget(self.checklist)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.plots)
        split.addWidget(side)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.progress)
        lay.addWidget(self.error)
        lay.addWidget(split, 1)

        self.train_button.clicked.connect(self.train)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.checklist.checkedChanged.connect(self.compare)
        state.configChanged.connect(self._show_summary)
        state.watchRequested.connect(self.watch)
        state.compareRequested.connect(self.checklist.set_checked)
        state.runsChanged.connect(self.refresh_run_list)
        self._show_summary()
        self.refresh_run_list()
        self._update_buttons()

    # -- starting runs ----------------------------------------------------------------
    def train(self) -> None:
        """Start a run of `state.config` (`runStarted` tells its run directory)."""
        cfg = self.state.config
        self._start(cfg, name=self.name_edit.text().strip() or cfg.name or None)

    def resume(self) -> None:
        """Continue the shown run from its last checkpoint."""
        if self.shown and not self._is_active(self.shown):
            self._start(None, resume_dir=self.shown)

    def _start(self, cfg, name: str | None = None, resume_dir: str | None = None) -> None:
        """Create the run folder and start the worker on a pool thread (fsyncs, process spawn
        and replaying a resumed run's log stay off the GUI thread)."""
        if self._start_task is not None and not self._start_task.done:
            return
        from fer_engine.training.worker import start_run

        root = self.state.runs_root
        low_priority = bool(getattr(self.state.settings, "low_priority_training", False))

        def job(progress, should_stop):
            curves = curves_from_disk(resume_dir) if resume_dir else None
            handle = start_run(cfg, root, resume_dir=resume_dir, name=name)
            if low_priority:
                _lower_priority(handle.pid)
            return handle, curves

        self.error.clear()
        if resume_dir and resume_dir in self.curves:  # say at once that it is starting
            _mark_starting(self.curves[resume_dir], "resuming from the last checkpoint")
            self.progress.show_curves(self.curves[resume_dir])
            self.checklist.set_status(resume_dir, "starting")
        self._start_task = run_task(job, context=self, on_done=lambda result: self._started(result, name),
                                    on_error=self._start_failed)
        self._update_buttons()

    def _started(self, result, name: str | None) -> None:
        handle, curves = result
        run_dir = str(handle.run_dir.path)
        curves = curves or RunCurves(run_id=handle.run_id, name=name or handle.run_id)
        _mark_starting(curves, "the worker is loading the data")
        self._watch_source(run_dir, handle, curves, can_stop=True)
        self.state.notify(f"Run {curves.name} started in {run_dir}")
        self.state.runsChanged.emit()
        self.runStarted.emit(run_dir)

    def _start_failed(self, error: str, traceback: str) -> None:
        """Bad config, unwritable runs folder ...: shown in the page, never raised."""
        self.error.show_error("could not start", error, traceback)
        self._update_buttons()

    def _watch_source(self, run_dir: str, source, curves: RunCurves, can_stop: bool) -> None:
        monitor = RunMonitor(source, curves, run_dir, self, can_stop=can_stop)
        monitor.updated.connect(lambda d=run_dir: self._redraw(d))
        monitor.ended.connect(lambda status, d=run_dir: self._ended(d, status))
        monitor.eventReceived.connect(lambda e, d=run_dir: self.eventReceived.emit(d, e))
        self.monitors[run_dir] = monitor
        self.curves[run_dir] = curves
        self._show(run_dir)

    # -- showing runs ------------------------------------------------------------------------
    def watch(self, run_dir: str) -> None:
        """Show a run: follow it live if another process is training it, else replay its log."""
        run_dir = str(run_dir)
        if run_dir not in self.monitors and run_dir not in self.curves:
            run = RunDir(run_dir)
            if run.is_running():
                self._watch_source(run_dir, EventLogTail(run_dir),
                                   RunCurves(run_id=run.run_id, name=run.display_name), can_stop=False)
                self.state.pageRequested.emit("training")
                return
            self.curves[run_dir] = curves_from_disk(run_dir)
        self._show(run_dir)
        self.state.pageRequested.emit("training")

    def _show(self, run_dir: str) -> None:
        self.shown = run_dir
        self._prune()
        self._set_plot_runs()
        c = self.curves[run_dir]
        if c.status in ("failed", "crashed"):
            self.error.show_error(c.status, c.error, c.traceback, c.hint)
        else:
            self.error.clear()
        self._update_buttons()

    @property
    def compared(self) -> list[str]:
        """Ticked runs overlaid beside the shown one (a ticked run stays ticked when another is shown)."""
        return [d for d in self.ticked if d != self.shown]

    def compare(self, run_dirs: list[str]) -> None:
        self.ticked = list(run_dirs)
        self._set_plot_runs()

    def _set_plot_runs(self) -> None:
        for d in self.compared:
            if d not in self.curves:
                self.curves[d] = curves_from_disk(d)
        dirs = ([self.shown] if self.shown else []) + self.compared
        self.plots.set_runs([(self.curves[d], self.curves[d].name or Path(d).name) for d in dirs])
        self._show_baselines()
        self._show_plan()
        self.progress.show_curves(self.curves[self.shown] if self.shown else None)

    def _show_baselines(self) -> None:
        """Chance and majority-class accuracy of the shown run's validation faces (dataset.json)."""
        from fer_engine.eval.analysis import run_baselines

        b = run_baselines(self.shown, "val") if self.shown else None
        self._baselines_of = self.shown if b is not None else None
        self.plots.set_baselines(b)

    def _show_plan(self) -> None:
        """The shown run's planned learning rates, when it trains within a time budget."""
        c = self.curves[self.shown] if self.shown else None
        self._plan_of = (self.shown, len(c.plans)) if c is not None else None
        x, lr = (c.planned_x, c.planned_lr) if c is not None else ([], [])
        self.plots.set_plan(x, lr)

    def _redraw(self, run_dir: str) -> None:
        if run_dir == self.shown and self._baselines_of != run_dir:
            self._show_baselines()  # a starting run writes dataset.json after its first events
        if run_dir == self.shown and self._plan_of != (run_dir, len(self.curves[run_dir].plans)):
            self._show_plan()  # a plan or re-plan arrived
        status = self.curves[run_dir].status
        if status != "starting" and self.checklist.status(run_dir) != status:
            self.checklist.set_status(run_dir, status)
        if run_dir == self.shown or run_dir in self.compared:
            self.plots.refresh()
        if run_dir == self.shown:
            self.progress.show_curves(self.curves[run_dir])

    def _ended(self, run_dir: str, status: str) -> None:
        monitor = self.monitors.pop(run_dir, None)
        if monitor is not None:
            # deleting a monitor inside its own `ended` emission crashes PySide now and then:
            # retire it and delete it once later runs have ended (bounded over many runs)
            self._retired.append(monitor)
            while len(self._retired) > 2:
                self._retired.pop(0).deleteLater()
        if run_dir == self.shown:
            c = self.curves[run_dir]
            self.progress.show_curves(c)
            if status in ("failed", "crashed"):
                self.error.show_error(status, c.error, c.traceback, c.hint)
        self.checklist.set_status(run_dir, status)
        name = self.curves[run_dir].name if run_dir in self.curves else Path(run_dir).name
        self.state.notify(f"Run {name} {status}")
        self.state.runsChanged.emit()
        self._update_buttons()

    def _prune(self) -> None:
        """Keep curves only of runs shown, compared or active (bounded memory over many runs)."""
        keep = set(self.monitors) | set(self.ticked) | ({self.shown} if self.shown else set())
        for d in list(self.curves):
            if d not in keep:
                del self.curves[d]

    def refresh_run_list(self) -> None:
        """Re-read the runs folder for the compare list, on a pool thread."""
        root = self.state.runs_root
        self._list_task = run_task(lambda progress, should_stop: list_runs(root), context=self,
                                   on_done=self.checklist.set_runs)

    # -- stopping -------------------------------------------------------------------------------
    def _is_active(self, run_dir: str | None) -> bool:
        return run_dir in self.monitors and self.monitors[run_dir].active

    def stop(self) -> None:
        if self.shown and self._is_active(self.shown):
            self.monitors[self.shown].stop_run()
            self.state.notify("Stopping after the current batch …")

    def active_runs(self) -> list[str]:
        """Runs started here that are still training (the close dialog asks about them)."""
        return [d for d, m in self.monitors.items() if m.active and m.can_stop]

    def stop_all_runs(self) -> None:
        """Ask every run started here to stop and wait (bounded) for them to finish cleanly."""
        monitors = [self.monitors[d] for d in self.active_runs()]
        for m in monitors:
            m.stop_run()
        deadline = time.monotonic() + STOP_WAIT_S
        for m in monitors:
            while m.active and time.monotonic() < deadline:
                m._drain()
                if m.active:
                    time.sleep(0.05)

    def detach_all_runs(self) -> None:
        """Leave runs training after the app exits; they keep writing their run folders."""
        for d in self.active_runs():
            self.monitors[d].detach()

    def shutdown(self) -> None:
        for m in list(self.monitors.values()):
            m.detach()
        self.monitors.clear()

    # -- labels -------------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        shown_active = self._is_active(self.shown)
        own_active = bool(self.active_runs()) or (self._start_task is not None and not self._start_task.done)
        self.train_button.setEnabled(not own_active)
        self.stop_button.setEnabled(shown_active and self.monitors[self.shown].can_stop)
        c = self.curves.get(self.shown) if self.shown else None
        can_resume = (c is not None and not shown_active and not own_active
                      and c.status in ("stopped", "failed", "crashed")
                      and RunDir(self.shown).checkpoint_path("last").is_file())
        self.resume_button.setEnabled(can_resume)

    def _show_summary(self) -> None:
        cfg = self.state.config
        epochs = f"{cfg.train.epochs} epochs"
        if cfg.train.time_budget_min > 0:
            epochs = f"time budget {budget_duration(60 * cfg.train.time_budget_min)} (at most {epochs})"
        self.summary.setText(f"Train will start: data <b>{cfg.data.path}</b> · backbone <b>{cfg.model.backbone}</b> · "
                             f"{epochs} · batch {cfg.train.batch_size} · "
                             f"lr {cfg.optim.lr:g} ({cfg.optim.name}, {cfg.schedule.name})")
