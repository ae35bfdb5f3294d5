"""Training within a time budget: how many epochs fit, and the LR schedule that ends on time.

The run measures its seconds per step in its first steps and calls `plan_budget`; the plan
lays out whole epochs (each a training pass plus a validation pass) so that the run ends
before the budget with `reserve_s` kept for the predictions made after the last epoch
(validation, test, TTA). At each epoch end (or every N steps) `replan` compares the clock and
the speed seen so far with the plan: when the remaining epochs no longer fit, or a whole
extra epoch would, it returns a new plan whose cosine stretches or compresses its remaining
part from the current learning rate, so the rate never jumps. `BudgetLR.lr_at` is the one
schedule both the loop and the LR preview use (it lives with the other schedules in
`recipe.schedule`). Every plan carries a JSON-ready `PlanRecord`
for the run directory. Pure Python: no torch, no clock of its own (the caller passes times
in seconds since the run started).
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from ..recipe.schedule import BudgetLR


class BudgetError(ValueError):
    """A budget that cannot be parsed or cannot hold one epoch; the message is one line."""


def parse_budget(text: str | float) -> float:
    """Seconds of a budget written "15m", "90s", "1h", "1h30m", "2.5m" or "15" (plain minutes)."""
    s = str(text).strip().lower().replace(" ", "")
    match = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?:in)?)?(?:(\d+(?:\.\d+)?)s)?", s)
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        seconds = float(s) * 60
    elif s and match:
        h, m, sec = (float(g) if g else 0.0 for g in match.groups())
        seconds = h * 3600 + m * 60 + sec
    else:
        raise BudgetError(f"budget {str(text)!r} not understood: write minutes (15) or a duration "
                          f"like 90s, 15m, 1h, 1h30m")
    if seconds <= 0:
        raise BudgetError(f"budget {str(text)!r} must be more than 0")
    return seconds


def format_duration(seconds: float) -> str:
    """"20 s", "2.4 min", "1 min", "1 h 30 min": how messages and the GUI write a duration."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f}".removesuffix(".0") + " min"
    h, m = divmod(round(seconds / 60), 60)
    return f"{h} h {m} min" if m else f"{h} h"


@dataclass(frozen=True)
class EvalCost:
    """Seconds of one validation pass (run after every epoch) and of the predictions made
    after the last epoch (validation, test and their TTA views), kept in reserve."""

    val_pass_s: float
    end_s: float

    @classmethod
    def estimate(cls, forward_img_per_s: float, val_images: int, end_images: int) -> EvalCost:
        """From the forward-only speed: `end_images` counts every image forwarded after the
        last epoch, each TTA view once."""
        return cls(val_images / forward_img_per_s, end_images / forward_img_per_s)


@dataclass(frozen=True)
class PlanRecord:
    """One plan or re-plan, as the run directory records it (`as_json`)."""

    reason: str
    at_step: int
    clock_s: float
    epochs_before: int | None
    epochs_after: int
    total_steps: int
    sec_per_step: float
    reserve_s: float
    budget_s: float

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class BudgetPlan:
    """Whole epochs that end before `budget_s - reserve_s`, and their learning rates."""

    budget_s: float
    steps_per_epoch: int
    epochs: int
    sec_per_step: float
    eval_cost: EvalCost
    reserve_s: float
    epoch_deadlines: tuple[float, ...]  # clock by which epoch k + 1 (train + validation) ends
    lr: BudgetLR
    record: PlanRecord
    max_epochs: int | None = None

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def to_json(self) -> dict[str, Any]:
        """budget.json's and the checkpoint's form of the plan (`from_json` reads it back)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BudgetPlan:
        return cls(float(d["budget_s"]), int(d["steps_per_epoch"]), int(d["epochs"]), float(d["sec_per_step"]),
                   EvalCost(**d["eval_cost"]), float(d["reserve_s"]), tuple(d["epoch_deadlines"]),
                   BudgetLR.from_json(d["lr"]), PlanRecord(**d["record"]), d.get("max_epochs"))

    @property
    def epoch_s(self) -> float:
        """Seconds one epoch takes at the planned speed: its steps and its validation pass."""
        return self.steps_per_epoch * self.sec_per_step + self.eval_cost.val_pass_s


def _epochs_that_fit(budget_s: float, reserve_s: float, clock_s: float, step: int, epochs_done: int,
                     steps_per_epoch: int, sec_per_step: float, cost: EvalCost) -> int:
    """Largest total E with clock + (E * spe - step) * s/step + (E - done) * val + reserve <= budget."""
    epoch_s = steps_per_epoch * sec_per_step + cost.val_pass_s
    room = budget_s - reserve_s - clock_s + step * sec_per_step + epochs_done * cost.val_pass_s
    return math.floor(room / epoch_s + 1e-9)


def _deadlines(clock_s: float, step: int, epochs_done: int, epochs: int, steps_per_epoch: int,
               sec_per_step: float, cost: EvalCost) -> tuple[float, ...]:
    return tuple(clock_s + (k * steps_per_epoch - step) * sec_per_step + (k - epochs_done) * cost.val_pass_s
                 for k in range(1, epochs + 1) if k > epochs_done)


def plan_budget(budget_s: float, clock_s: float, step: int, sec_per_step: float, steps_per_epoch: int,
                eval_cost: EvalCost, *, warmup_steps: int, base_lr: float, min_lr: float = 0.0,
                warmup_start_factor: float = 0.1, max_epochs: int | None = None,
                slack_fraction: float = 0.02) -> BudgetPlan:
    """The first plan, made at `clock_s` after set-up, data loading and the `step` steps that
    measured `sec_per_step`. Keeps `eval_cost.end_s` plus `slack_fraction` of the budget in reserve.
    Raises BudgetError before training when one epoch and the reserve do not fit."""
    reserve = eval_cost.end_s + slack_fraction * budget_s
    fit = _epochs_that_fit(budget_s, reserve, clock_s, step, 0, steps_per_epoch, sec_per_step, eval_cost)
    if fit < 1:
        epoch_s = steps_per_epoch * sec_per_step + eval_cost.val_pass_s
        setup = max(clock_s - step * sec_per_step, 0.0)
        need = (setup + epoch_s + eval_cost.end_s) / (1 - slack_fraction)
        raise BudgetError(
            f"budget {format_duration(budget_s)} is too small: one epoch takes ~{format_duration(epoch_s)} "
            f"here (measured {sec_per_step:.3g} s/step x {steps_per_epoch} steps), evaluation "
            f"~{format_duration(eval_cost.end_s)}, set-up {format_duration(setup)}; "
            f"give at least {math.ceil(need / 60)} min")
    epochs = min(fit, max_epochs) if max_epochs else fit
    total = epochs * steps_per_epoch
    lr = BudgetLR.first(base_lr, min_lr, warmup_start_factor, warmup_steps, total, start=step)
    record = PlanRecord("first plan", step, clock_s, None, epochs, total, sec_per_step, reserve, budget_s)
    return BudgetPlan(budget_s, steps_per_epoch, epochs, sec_per_step, eval_cost, reserve,
                      _deadlines(clock_s, step, 0, epochs, steps_per_epoch, sec_per_step, eval_cost),
                      lr, record, max_epochs)


def replan(plan: BudgetPlan, clock_s: float, step: int, epochs_done: int, sec_per_step: float,
           eval_cost: EvalCost | None = None) -> BudgetPlan | None:
    """A new plan for the remaining steps when the speed seen so far (`sec_per_step`, and the
    measured `eval_cost` if given) no longer fits the planned epochs, or fits a whole epoch
    more; None when the plan still holds. The epoch in progress is always finished; with no
    time left the new plan ends after it."""
    cost = eval_cost or plan.eval_cost
    reserve = cost.end_s + plan.reserve_s - plan.eval_cost.end_s  # the same slack, the new end cost
    spe = plan.steps_per_epoch
    fit = _epochs_that_fit(plan.budget_s, reserve, clock_s, step, epochs_done, spe, sec_per_step, cost)
    epochs = max(min(fit, plan.max_epochs or fit), epochs_done, -(-step // spe))
    if epochs == plan.epochs:
        return None
    reason = (f"slower: {sec_per_step:.3g} s/step vs {plan.sec_per_step:.3g} planned" if epochs < plan.epochs
              else f"faster: {sec_per_step:.3g} s/step vs {plan.sec_per_step:.3g} planned, a whole epoch more fits")
    total = epochs * spe
    record = PlanRecord(reason, step, clock_s, plan.epochs, epochs, total, sec_per_step, reserve, plan.budget_s)
    return dataclasses.replace(
        plan, epochs=epochs, sec_per_step=sec_per_step, eval_cost=cost, reserve_s=reserve, record=record,
        epoch_deadlines=_deadlines(clock_s, step, epochs_done, epochs, spe, sec_per_step, cost),
        lr=plan.lr.stretched(step, total))
