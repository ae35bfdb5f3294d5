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

import bisect
import dataclasses
import math
from dataclasses import dataclass
from typing import Any

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
        return set_lr(optimizer, self.lr_at(global_step))

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


def set_lr(optimizer, lr: float) -> float:
    """Give every param group of `optimizer` the learning rate `lr`; returns it."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def cosine(hi: float, lo: float, frac: float) -> float:
    """The cosine annealing curve from `hi` (frac 0) to `lo` (frac 1)."""
    return lo + (hi - lo) * 0.5 * (1.0 + math.cos(math.pi * frac))


@dataclass(frozen=True)
class BudgetLR:
    """Linear warmup over `warmup_steps`, then a cosine from `base_lr` to `min_lr`.

    The cosine's progress (0 to 1) runs piecewise linearly through `knots` (step, progress),
    the last one at the run's final step; a re-plan adds a knot at its step, so the learning
    rate before it is unchanged and the rest of the cosine is stretched or compressed.
    """

    base_lr: float
    min_lr: float
    warmup_start_factor: float
    warmup_steps: int
    knots: tuple[tuple[int, float], ...]

    @classmethod
    def first(cls, base_lr: float, min_lr: float, warmup_start_factor: float, warmup_steps: int,
              total_steps: int, start: int = 0) -> BudgetLR:
        """The cosine begins after the warmup, and not before `start` (the step the plan is made
        at: the steps before it ran at base_lr, as `before_plan` gives)."""
        warmup = min(warmup_steps, total_steps)
        begin = min(max(warmup, start), total_steps)
        return cls(base_lr, min_lr, warmup_start_factor, warmup, ((begin, 0.0), (total_steps, 1.0)))

    @classmethod
    def before_plan(cls, base_lr: float, min_lr: float, warmup_start_factor: float,
                    warmup_steps: int) -> BudgetLR:
        """The rates of the steps that time the machine, before there is a plan: the warmup, then base_lr."""
        return cls(base_lr, min_lr, warmup_start_factor, warmup_steps, ((warmup_steps, 0.0),))

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BudgetLR:
        return cls(float(d["base_lr"]), float(d["min_lr"]), float(d["warmup_start_factor"]),
                   int(d["warmup_steps"]), tuple((int(s), float(p)) for s, p in d["knots"]))

    def progress(self, step: int) -> float:
        """How far along the cosine `step` is (0 before and at the end of the warmup)."""
        steps = [k[0] for k in self.knots]
        i = bisect.bisect_right(steps, step)
        if i == 0:
            return self.knots[0][1]
        if i == len(self.knots):
            return self.knots[-1][1]
        (s0, p0), (s1, p1) = self.knots[i - 1], self.knots[i]
        return p0 + (p1 - p0) * (step - s0) / (s1 - s0)

    def lr_at(self, step: int) -> float:
        """The learning rate of optimiser step `step` (0-based)."""
        if step < self.warmup_steps:
            frac = step / self.warmup_steps
            return self.base_lr * (self.warmup_start_factor + (1.0 - self.warmup_start_factor) * frac)
        frac = self.progress(step)
        return cosine(self.base_lr, self.min_lr, frac)

    @property
    def total_steps(self) -> int:
        return self.knots[-1][0]

    def curve(self) -> list[float]:
        """lr_at of every step of the plan: the LR preview's line."""
        return [self.lr_at(s) for s in range(self.total_steps)]

    def stretched(self, step: int, total_steps: int) -> BudgetLR:
        """This schedule up to `step`, then the rest of its cosine over `step` .. `total_steps`."""
        if step <= self.warmup_steps:  # the cosine has not started: only its end moves
            warmup = min(self.warmup_steps, total_steps)
            return dataclasses.replace(self, warmup_steps=warmup, knots=((warmup, 0.0), (total_steps, 1.0)))
        kept = tuple(k for k in self.knots if k[0] < step) + ((step, self.progress(step)),)
        return dataclasses.replace(self, knots=kept + (((total_steps, 1.0),) if total_steps > step else ()))



def preview_lr(config: RunConfig, steps_per_epoch: int, planned: BudgetLR | None = None) -> np.ndarray:
    """The per-step lr curve of a whole run (length epochs x steps_per_epoch) before training.

    "plateau" depends on validation results, so its preview is the upper bound where the
    metric keeps improving and the lr is never reduced (see `preview_note`). A time-budgeted
    run draws `planned` (its run directory's plan) when given, else its curve if every one of
    train.epochs fits the budget.
    """
    steps_per_epoch = max(1, steps_per_epoch)
    if config.train.time_budget_min > 0:
        c = config.schedule
        planned = planned or BudgetLR.first(config.optim.lr, c.min_lr, c.warmup_start_factor,
                                            round(c.warmup_epochs * steps_per_epoch),
                                            max(1, config.train.epochs) * steps_per_epoch)
        return np.array(planned.curve(), dtype=np.float64)
    s = LRSchedule(config.schedule, config.optim.lr, max(1, config.train.epochs), steps_per_epoch)
    return np.array([s.lr_at(i) for i in range(s.total_steps)], dtype=np.float64)


def preview_note(config: RunConfig, planned: BudgetLR | None = None) -> str:
    """A caption for the preview plot: what the curve can and cannot show."""
    if config.train.time_budget_min > 0:
        budget = f"time budget {config.train.time_budget_min:g} min"
        if planned is not None:
            return f"{budget}: the run's planned warmup + cosine ({planned.total_steps} steps)"
        return (f"{budget}: the run times its first steps, then lays the warmup + cosine over the epochs "
                f"that fit (at most {config.train.epochs}, as drawn)")
    if config.schedule.name == "plateau":
        return (f"reduce-on-plateau: upper bound shown (no reductions); the lr is multiplied by "
                f"{config.schedule.plateau_factor} after {config.schedule.plateau_patience + 1} "
                f"epochs without improvement of {config.train.monitor}")
    return ""
