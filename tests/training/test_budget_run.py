"""A run with train.time_budget_min: it plans from its timed first steps, re-plans when the
machine slows down, records every plan in budget.json, and trains on the LR its plan (and the
preview drawn from that plan) gives, step for step."""
from __future__ import annotations

import numpy as np
import pytest

from fer_engine.recipe.schedule import BudgetLR, preview_lr, preview_note
from fer_engine.training import events as ev
from fer_engine.training.budget_schedule import BudgetSchedule
from fer_engine.training.loop import Training
from fer_engine.training.run import BUDGET_HINT, fit
from fer_engine.training.rundir import RunDir
from training_helpers import tiny_config

pytestmark = pytest.mark.timeout(240)

STEPS = 9  # tiny_data: 72 training faces, batch 8


def budgeted(tiny_data, **changes):
    return tiny_config(tiny_data, **{"train.time_budget_min": 1.5, "train.epochs": 20,
                                     "schedule.warmup_epochs": 1.0, **changes})


def record_lrs(monkeypatch) -> list[tuple[int, float]]:
    applied: list[tuple[int, float]] = []
    real = BudgetSchedule.apply

    def recording(self, optimizer, step):
        lr = real(self, optimizer, step)
        applied.append((step, lr))
        return lr

    monkeypatch.setattr(BudgetSchedule, "apply", recording)
    return applied


def fake_clock(monkeypatch, sec_per_step) -> None:
    """The budget's clock reads 5 s of set-up plus `sec_per_step(k)` for each optimiser step k run."""
    def clock(self):
        return 5.0 + sum(sec_per_step(k) for k in range(self.state.opt_step))

    monkeypatch.setattr(Training, "budget_clock", clock)


def run(cfg, runs_root):
    events: list[ev.Event] = []
    run_dir = RunDir.create(runs_root, cfg)
    summary = fit(cfg, run_dir, events.append, lambda: False)
    return run_dir, summary, events


def test_a_slowdown_replans_fewer_epochs_ends_within_the_budget_and_the_lr_is_the_plans(
        tiny_data, runs_root, monkeypatch):
    fake_clock(monkeypatch, lambda k: 1.0 if k < 2 * STEPS else 2.0)  # twice as slow from epoch 3
    applied = record_lrs(monkeypatch)
    cfg = budgeted(tiny_data)
    run_dir, summary, events = run(cfg, runs_root)
    assert summary["status"] == "finished", summary
    plans = [e for e in events if isinstance(e, ev.BudgetPlanned)]
    assert plans[0].epochs_before is None and plans[0].at_step == STEPS  # planned after epoch 1's steps
    slower = [p for p in plans if p.reason.startswith("slower")]
    assert slower and slower[0].epochs < slower[0].epochs_before
    assert summary["epochs_done"] == plans[-1].epochs < plans[0].epochs
    assert summary["budget_used_s"] + plans[-1].reserve_s <= 90.0  # the fake clock at the end
    budget = run_dir.budget()
    assert budget is not None and budget["budget_s"] == 90.0
    assert [r["epochs_after"] for r in budget["records"]] == [p.epochs for p in plans]
    # the LR the run used at every step is the final plan's curve: the preview the GUI draws
    planned = BudgetLR.from_json(budget["plan"]["lr"])
    steps, lrs = zip(*applied)
    assert list(steps) == list(range(summary["epochs_done"] * STEPS))
    np.testing.assert_allclose(lrs, preview_lr(cfg, STEPS, planned), rtol=1e-12)
    assert lrs[0] == pytest.approx(0.1 * 0.01) and max(lrs) == pytest.approx(0.01)  # warmup, then the cosine
    assert "planned" in preview_note(cfg, planned)


def test_a_budgeted_run_keeps_to_its_epoch_cap_and_resumes_with_its_plan(tiny_data, runs_root, monkeypatch):
    fake_clock(monkeypatch, lambda k: 0.5)
    stop_after = {"epochs": 2}
    cfg = budgeted(tiny_data, **{"train.epochs": 4})
    run_dir = RunDir.create(runs_root, cfg)
    events: list[ev.Event] = []

    def stop() -> bool:
        return sum(isinstance(e, ev.EpochMetrics) for e in events) >= stop_after["epochs"]

    assert fit(cfg, run_dir, events.append, stop)["status"] == "stopped"
    first_plan = run_dir.budget()["plan"]
    assert first_plan["epochs"] == 4  # the cap, though more would fit
    summary = fit(cfg, run_dir, events.append, lambda: False, resume=True)
    assert summary["status"] == "finished" and summary["epochs_done"] == 4
    assert run_dir.budget()["plan"]["lr"] == first_plan["lr"]  # the resumed run kept its schedule


def test_a_budget_too_small_for_one_epoch_fails_before_a_checkpoint_with_what_to_give(
        tiny_data, runs_root, monkeypatch):
    fake_clock(monkeypatch, lambda k: 10.0)
    run_dir, summary, events = run(budgeted(tiny_data), runs_root)
    assert summary["status"] == "failed"
    assert summary["error"].startswith(
        "budget 1.5 min is too small: one epoch takes ~1.7 min here (measured 10 s/step x 9 steps)")
    assert "set-up 5 s; give at least 3 min" in summary["error"]
    assert "\n" not in summary["error"] and summary["hint"] == BUDGET_HINT
    assert not run_dir.checkpoint_path("last").exists()
    assert not [e for e in events if isinstance(e, ev.EpochMetrics)]
