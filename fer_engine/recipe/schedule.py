"""Per-step learning-rate schedules, computable before training for a preview plot.

Linear warmup (from `warmup_start_factor * base_lr` to `base_lr` over `warmup_epochs`)
comes first; the chosen schedule then runs over the remaining steps, with its clock
starting at the end of the warmup:

- constant: base_lr.
- step: base_lr * gamma ** (epochs elapsed // step_size).
- cosine: from base_lr down to min_lr, reached after the last step.
- warm_restarts (SGDR): cosine cycles of t0, t0*t_mult, t0*t_mult^2 ... epochs, each
  restarting at base_lr (so restarts fall at t0 and t0*(1+t_mult) epochs), per-step resolution.
- plateau: base_lr * factor ** (reductions so far); a reduction happens once the monitored
  metric has not improved for more than `plateau_patience` epochs (`on_epoch_end`).

min_lr is a floor for every decaying schedule.

Why not `timm.scheduler` (checked against timm 1.0): it cannot reproduce every schedule the
form previews. StepLRScheduler has no min_lr floor; PlateauLRScheduler steps per epoch, so a
fractional per-step warmup (warmup_epochs=0.5) is lost; there is no "constant" schedule; and the
preview must be the curve training uses, which this one class guarantees (`lr_at` serves both).
"""
from __future__ import annotations

import math

import numpy as np

from ..config import RunConfig, ScheduleConfig, check_value

_PLATEAU_REL_THRESHOLD = 1e-4  # an improvement must beat the best by this relative margin


class LRSchedule:
    """lr_at(global_step) for a run of `epochs` x `steps_per_epoch` optimiser steps.

    `mode` is the monitored metric's direction for "plateau": pass
    `early_stopping.monitor_mode(cfg.train.monitor)`.
    """

    def __init__(self, cfg: ScheduleConfig, base_lr: float, epochs: int, steps_per_epoch: int,
                 mode: str = "max"):
        check_value("schedule.name", cfg.name)
        if steps_per_epoch < 1 or epochs < 1:
            raise ValueError(f"need epochs >= 1 and steps_per_epoch >= 1, got {epochs}, {steps_per_epoch}")
        self.cfg = cfg
        self.base_lr = base_lr
        self.steps_per_epoch = steps_per_epoch
        self.total_steps = epochs * steps_per_epoch
        self.warmup_steps = min(round(cfg.warmup_epochs * steps_per_epoch), self.total_steps)
        self.mode = mode
        self.best = -math.inf if mode == "max" else math.inf
        self.bad_epochs = 0
        self.reductions = 0

    def lr_at(self, global_step: int) -> float:
        c = self.cfg
        if global_step < self.warmup_steps:
            frac = global_step / self.warmup_steps
            return self.base_lr * (c.warmup_start_factor + (1.0 - c.warmup_start_factor) * frac)
        t = global_step - self.warmup_steps  # steps since the schedule began
        if c.name == "constant":
            return self.base_lr
        if c.name == "step":
            lr = self.base_lr * c.gamma ** (t // (c.step_size * self.steps_per_epoch))
        elif c.name == "cosine":
            span = max(self.total_steps - self.warmup_steps, 1)
            lr = cosine(self.base_lr, c.min_lr, min(t / span, 1.0))
        elif c.name == "warm_restarts":
            cycle = c.t0 * self.steps_per_epoch
            while t >= cycle:
                t -= cycle
                cycle *= c.t_mult
            lr = cosine(self.base_lr, c.min_lr, t / cycle)
        else:  # plateau
            lr = self.base_lr * c.plateau_factor ** self.reductions
        return max(lr, c.min_lr)

    def apply(self, optimizer, global_step: int) -> float:
        """Set every param group's lr for this step; returns it."""
        lr = self.lr_at(global_step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        return lr

    def on_epoch_end(self, metric: float) -> None:
        """Feed the monitored metric once per epoch (only "plateau" uses it)."""
        if self.cfg.name != "plateau" or math.isnan(metric):
            return
        margin = _PLATEAU_REL_THRESHOLD * abs(self.best) if math.isfinite(self.best) else 0.0
        improved = metric > self.best + margin if self.mode == "max" else metric < self.best - margin
        if improved:
            self.best, self.bad_epochs = float(metric), 0
            return
        self.bad_epochs += 1
        if self.bad_epochs > self.cfg.plateau_patience:
            self.reductions += 1
            self.bad_epochs = 0

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs, "reductions": self.reductions}

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
        self.reductions = int(state["reductions"])


def cosine(hi: float, lo: float, frac: float) -> float:
    """The cosine annealing curve from `hi` (frac 0) to `lo` (frac 1)."""
    return lo + (hi - lo) * 0.5 * (1.0 + math.cos(math.pi * frac))


def preview_lr(config: RunConfig, steps_per_epoch: int) -> np.ndarray:
    """The per-step lr curve of a whole run (length epochs x steps_per_epoch) before training.

    "plateau" depends on validation results, so its preview is the upper bound where the
    metric keeps improving and the lr is never reduced (see `preview_note`).
    """
    steps_per_epoch = max(1, steps_per_epoch)
    s = LRSchedule(config.schedule, config.optim.lr, max(1, config.train.epochs), steps_per_epoch)
    return np.array([s.lr_at(i) for i in range(s.total_steps)], dtype=np.float64)


def preview_note(config: RunConfig) -> str:
    """A caption for the preview plot: what the curve can and cannot show."""
    if config.schedule.name == "plateau":
        return (f"reduce-on-plateau: upper bound shown (no reductions); the lr is multiplied by "
                f"{config.schedule.plateau_factor} after {config.schedule.plateau_patience + 1} "
                f"epochs without improvement of {config.train.monitor}")
    return ""
