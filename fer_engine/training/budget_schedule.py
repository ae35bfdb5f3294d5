"""`BudgetSchedule`: the learning rate and epoch count of a run with `train.time_budget_min`.

It stands where `recipe.schedule.LRSchedule` stands in `Components` (`apply`, `lr_at`,
`on_epoch_end`, `state_dict`) and adds the two moments the loop reports: each optimiser
step (the first steps time the machine, then `budget.plan_budget` lays out the epochs and a
warmup + cosine that end on time) and each epoch's end (`budget.replan` when the speed seen
in that epoch, or the validation pass measured, no longer fits the plan). Before the plan
the steps run the configured warmup, then base_lr, which is what the plan's schedule gives
those steps, so the curve the run used is the plan's `lr.curve()`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..config import RunConfig
from ..recipe.schedule import BudgetLR, set_lr
from ..recipe.tta import VIEWS
from .budget import BudgetPlan, EvalCost, PlanRecord, plan_budget, replan

TIMED_STEPS = 20  # optimiser steps timed before the first plan (fewer when an epoch is shorter)
FORWARD_SPEEDUP = 3.0  # forward-only images/s over training images/s, until validation is timed


@dataclass(frozen=True)
class EvalImages:
    """Images forwarded by each validation pass and by the predictions after the last epoch
    (each split of eval.splits plain and, with TTA, once per view)."""

    val: int
    end: int

    @classmethod
    def of(cls, cfg: RunConfig, split_sizes: dict[str, int], has_val: bool) -> EvalImages:
        views = 1 + (VIEWS[cfg.eval.tta] if cfg.eval.tta != "none" else 0)
        end = sum(split_sizes.get(s, 0) for s in cfg.eval.splits) * views
        return cls(split_sizes.get("val", 0) if has_val else 0, end)


class BudgetSchedule:
    """Times the first steps, plans, re-plans at epoch ends; `records` is every plan made."""

    def __init__(self, cfg: RunConfig, steps_per_epoch: int, images_per_step: int, eval_images: EvalImages,
                 clock: Callable[[], float]):
        s = cfg.schedule
        self.budget_s = cfg.train.time_budget_min * 60.0
        self.max_epochs = cfg.train.epochs
        self.steps_per_epoch, self.images_per_step = steps_per_epoch, images_per_step
        self.eval_images, self._run_clock = eval_images, clock
        self._used_before = 0.0  # seconds a resumed run had used in its earlier processes
        self.warmup_steps = round(s.warmup_epochs * steps_per_epoch)
        self.lr = BudgetLR.before_plan(cfg.optim.lr, s.min_lr, s.warmup_start_factor, self.warmup_steps)
        self.plan: BudgetPlan | None = None
        self.records: list[PlanRecord] = []
        self.timed_steps = min(TIMED_STEPS, steps_per_epoch)
        self._epoch_start: tuple[float, int] | None = None  # (clock, optimiser step)

    @property
    def epochs(self) -> int:
        """Epochs to train: the plan's, or the cap until there is one."""
        return self.plan.epochs if self.plan else self.max_epochs

    # -- the LRSchedule interface ----------------------------------------------------------------
    def lr_at(self, step: int) -> float:
        return self.lr.lr_at(step)

    def apply(self, optimizer, step: int) -> float:
        return set_lr(optimizer, self.lr_at(step))

    def on_epoch_end(self, metric: float) -> None:
        """Nothing: a budget re-plans on time (`epoch_ended`), not on the metric."""

    # -- what the loop reports -------------------------------------------------------------------
    def epoch_started(self, step: int) -> None:
        self._epoch_start = (self.clock(), step)

    def step_done(self, step: int) -> BudgetPlan | None:
        """After optimiser step `step` (1-based count): the first plan once the timed steps are
        done (raises budget.BudgetError when not one epoch fits), else None. The caller has
        waited for the device, so the clock holds the steps' real time."""
        if self.plan is not None or self._epoch_start is None or step < self.timed_steps:
            return None
        t0, s0 = self._epoch_start
        now = self.clock()
        sec_per_step = (now - t0) / max(step - s0, 1)
        forward = FORWARD_SPEEDUP * self.images_per_step / sec_per_step
        cost = EvalCost.estimate(forward, self.eval_images.val, self.eval_images.end)
        return self._adopt(plan_budget(
            self.budget_s, now, step, sec_per_step, self.steps_per_epoch, cost,
            warmup_steps=self.warmup_steps, base_lr=self.lr.base_lr, min_lr=self.lr.min_lr,
            warmup_start_factor=self.lr.warmup_start_factor, max_epochs=self.max_epochs))

    def epoch_ended(self, epochs_done: int, step: int, val_s: float) -> BudgetPlan | None:
        """After an epoch and its validation pass (`val_s` seconds): a new plan when the speed
        of this epoch no longer fits the plan, or a whole epoch more fits; else None."""
        if self.plan is None or self._epoch_start is None:
            return None
        t0, s0 = self._epoch_start
        now = self.clock()
        sec_per_step = max(now - t0 - val_s, 1e-9) / max(step - s0, 1)
        cost = None
        if val_s > 0 and self.eval_images.val:  # the end predictions at the validation's speed
            cost = EvalCost(val_s, val_s * self.eval_images.end / self.eval_images.val)
        new = replan(self.plan, now, step, epochs_done, sec_per_step, cost)
        return self._adopt(new) if new is not None else None

    def _adopt(self, plan: BudgetPlan) -> BudgetPlan:
        self.plan, self.lr = plan, plan.lr
        self.records.append(plan.record)
        return plan

    def clock(self) -> float:
        """Seconds of the budget used: this process's run so far, plus any earlier one's."""
        return self._used_before + self._run_clock()

    # -- checkpoint ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The checkpoint's and budget.json's record: the plan now, every plan made, the time used."""
        return {"budget_s": self.budget_s, "plan": self.plan.to_json() if self.plan else None,
                "records": [r.as_json() for r in self.records], "used_s": self.clock()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """A resumed run keeps its plan and the time it had already used."""
        if state.get("plan"):
            self._adopt(BudgetPlan.from_json(state["plan"]))
            self.records = [PlanRecord(**r) for r in state.get("records", [])]
        self._used_before = float(state.get("used_s", 0.0))
