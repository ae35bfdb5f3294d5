"""What the training page plots for one run, accumulated from its events (no Qt here).

Curves use a continuous epoch axis: per-step values sit at epoch-1 + step/steps, epoch
metrics at their (1-based) epoch, so step and epoch curves share the x axis.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from fer_engine.recipe.schedule import BudgetLR
from fer_engine.training import events as ev

#: Epoch metric -> the curve it feeds (keys of EpochMetrics.metrics).
EPOCH_SERIES = ("train_loss", "val_loss", "train_acc", "val_acc", "val_f1")


@dataclass
class RunCurves:
    run_id: str = ""
    name: str = ""
    step_x: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    step_lr: list[float] = field(default_factory=list)
    epoch_x: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in EPOCH_SERIES})
    epoch_y: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in EPOCH_SERIES})
    # progress and status
    device: str = ""
    devices: tuple[str, ...] = ()  # one per training process (RunStarted)
    global_batch: int = 0
    epochs: int = 0
    steps_per_epoch: int = 0
    epoch: int = 0
    step: int = 0
    img_per_s: float = 0.0
    phase: str = ""
    phase_detail: str = ""
    phase_fraction: float = -1.0
    fold: str = ""  # k-fold parent runs: which fold the curves show
    status: str = "starting"  # starting, running, finished, stopped, failed, crashed
    error: str = ""
    traceback: str = ""
    hint: str = ""
    notes: list[str] = field(default_factory=list)  # model notes from RunStarted
    best: str = ""
    started_at: float = 0.0
    # a time-budgeted run: every plan and re-plan (BudgetPlanned), the latest last
    plans: list[ev.BudgetPlanned] = field(default_factory=list)
    planned_x: list[float] = field(default_factory=list)  # the latest plan's lr per optimiser step
    planned_lr: list[float] = field(default_factory=list)
    budget_used_s: float = 0.0  # of the budget, at `budget_since` (the summary's, once finished)
    budget_since: float | None = None  # event time since which the budget counts on (None: not running)
    _first_step: tuple[float, int] | None = None  # (time, global step) of the first step seen

    def apply(self, e: ev.Event) -> None:
        """Fold one event into the curves and the progress state.

        A k-fold parent run also relays its folds' events: they drive the curves (of the
        current fold), but only the parent's own terminal event ends the run.
        """
        if isinstance(e, ev.TERMINAL) and self.run_id and e.run_id != self.run_id:
            return
        handler = _HANDLERS.get(type(e))
        if handler:
            handler(self, e)

    def extend(self, events) -> None:
        for e in events:
            self.apply(e)

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def global_step(self) -> int:
        return max(0, (self.epoch - 1)) * self.steps_per_epoch + self.step if self.epoch else 0

    def fraction_done(self) -> float:
        return min(1.0, self.global_step / self.total_steps) if self.total_steps else 0.0

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Remaining time from the mean speed since the first step seen (None before)."""
        if self._first_step is None or self.status != "running":
            return None
        t0, s0 = self._first_step
        done = self.global_step - s0
        elapsed = (now or time.time()) - t0
        if done <= 0 or elapsed <= 0:
            return None
        return max(0.0, (self.total_steps - self.global_step) * elapsed / done)

    @property
    def budget_s(self) -> float | None:
        """The run's time budget in seconds (None: no budget, or no plan yet)."""
        return self.plans[-1].budget_s if self.plans else None

    def budget_used(self, now: float | None = None) -> float | None:
        """Seconds of the budget used: the latest plan's (or the summary's), plus, while the run
        trains, the wall time since."""
        if not self.plans:
            return None
        if self.budget_since is None:
            return self.budget_used_s
        return self.budget_used_s + max(0.0, (now or time.time()) - self.budget_since)


def _started(c: RunCurves, e: ev.RunStarted) -> None:
    c.run_id = c.run_id or e.run_id
    c.device, c.epochs, c.steps_per_epoch = e.device, e.epochs, e.steps_per_epoch
    c.devices, c.global_batch = tuple(e.devices), e.global_batch
    c.epoch, c.step = e.resumed_from_epoch, c.steps_per_epoch if e.resumed_from_epoch else 0
    c.status, c.started_at, c._first_step = "running", e.time, None
    c.error = c.traceback = c.hint = c.best = ""
    c.notes = list(e.notes)
    if c.plans and e.resumed_from_epoch:  # a budgeted run resumes with its plan (epochs is the cap)
        c.epochs, c.budget_since = c.plans[-1].epochs, e.time
    elif not e.resumed_from_epoch:
        c.plans, c.planned_x, c.planned_lr, c.budget_used_s, c.budget_since = [], [], [], 0.0, None
    if e.resumed_from_epoch:  # drop what the resumed run trains again
        k = e.resumed_from_epoch
        n = sum(1 for x in c.step_x if x <= k)
        del c.step_x[n:], c.step_loss[n:], c.step_lr[n:]
        for key in EPOCH_SERIES:
            m = sum(1 for x in c.epoch_x[key] if x <= k)
            del c.epoch_x[key][m:], c.epoch_y[key][m:]


def _phase(c: RunCurves, e: ev.Phase) -> None:
    c.phase, c.phase_detail, c.phase_fraction = e.phase, e.detail, e.fraction
    if c.status == "starting":
        c.status = "running"


def _step(c: RunCurves, e: ev.StepProgress) -> None:
    c.epoch, c.step, c.steps_per_epoch = e.epoch, e.step, e.steps_per_epoch
    if e.img_per_s > 0:  # the first step of an epoch may not have a speed yet
        c.img_per_s = e.img_per_s
    c.status = "running"
    if c._first_step is None:
        c._first_step = (e.time, c.global_step)
    c.step_x.append(e.epoch - 1 + e.step / max(1, e.steps_per_epoch))
    c.step_loss.append(e.loss)
    c.step_lr.append(e.lr)


def _epoch(c: RunCurves, e: ev.EpochMetrics) -> None:
    for key in EPOCH_SERIES:
        value = e.metrics.get(key)
        if value is not None:
            c.epoch_x[key].append(float(e.epoch))
            c.epoch_y[key].append(float(value))


def _planned(c: RunCurves, e: ev.BudgetPlanned) -> None:
    """A plan or re-plan: the epochs it fits become the run's total, its lr curve the planned one."""
    c.plans.append(e)
    c.epochs, c.budget_used_s, c.budget_since = e.epochs, e.used_s, e.time
    c.planned_lr = BudgetLR.from_json(e.lr).curve()
    c.planned_x = [(i + 1) / e.steps_per_epoch for i in range(len(c.planned_lr))]


def _budget_ends(c: RunCurves, e: ev.Event) -> None:
    """The budget stops counting when the run ends."""
    if c.budget_since is not None:
        c.budget_used_s += max(0.0, e.time - c.budget_since)
        c.budget_since = None


def _finished(c: RunCurves, e: ev.RunFinished) -> None:
    c.status = "finished"
    _budget_ends(c, e)
    c.budget_used_s = e.summary.get("budget_used_s", c.budget_used_s)
    c.best = f"best {e.monitor} {e.best_metric:.4f} at epoch {e.best_epoch}"


def _stopped(c: RunCurves, e: ev.RunStopped) -> None:
    c.status = "stopped"
    _budget_ends(c, e)


def _failed(c: RunCurves, e: ev.RunFailed) -> None:
    c.status, c.error, c.traceback, c.hint = "failed", e.error, e.traceback, e.hint
    _budget_ends(c, e)


def _crashed(c: RunCurves, e: ev.RunCrashed) -> None:
    c.status = "crashed"
    _budget_ends(c, e)
    c.error = e.message or f"the training process died (exit code {e.exitcode})"


def _fold(c: RunCurves, e: ev.FoldStarted) -> None:
    """A k-fold parent starts fold `e.fold`: show that fold's curves from scratch."""
    c.step_x.clear(), c.step_loss.clear(), c.step_lr.clear()
    for key in EPOCH_SERIES:
        c.epoch_x[key].clear(), c.epoch_y[key].clear()
    c.fold = "final model on train+val" if e.fold > e.k else f"fold {e.fold}/{e.k}"


_HANDLERS = {ev.RunStarted: _started, ev.Phase: _phase, ev.StepProgress: _step,
             ev.BudgetPlanned: _planned, ev.EpochMetrics: _epoch, ev.RunFinished: _finished, ev.RunStopped: _stopped,
             ev.RunFailed: _failed, ev.RunCrashed: _crashed, ev.FoldStarted: _fold}
