"""The lr curve the setup page previews is the one training applies, step by step."""
from __future__ import annotations

import numpy as np
import pytest

from fer_engine.recipe import schedule
from fer_engine.recipe.schedule import preview_lr
from fer_engine.training.run import fit
from fer_engine.training.rundir import RunDir
from training_helpers import tiny_config


@pytest.mark.parametrize("changes", [
    {"schedule.name": "warm_restarts", "schedule.t0": 1, "schedule.t_mult": 2, "schedule.warmup_epochs": 0.5},
    {"schedule.name": "step", "schedule.step_size": 1, "schedule.gamma": 0.5, "schedule.min_lr": 0.004},
], ids=["warm_restarts+warmup", "step+floor"])
def test_training_applies_the_previewed_lr(tiny_data, runs_root, monkeypatch, changes):
    cfg = tiny_config(tiny_data, **{"train.epochs": 3, "eval.splits": [], **changes})
    applied: list[tuple[int, float]] = []
    real_apply = schedule.LRSchedule.apply

    def recording_apply(self, optimizer, step):
        lr = real_apply(self, optimizer, step)
        applied.append((step, lr))
        return lr

    monkeypatch.setattr(schedule.LRSchedule, "apply", recording_apply)
    assert fit(cfg, RunDir.create(runs_root, cfg), lambda e: None, lambda: False)["status"] == "finished"
    steps, lrs = zip(*applied)
    preview = preview_lr(cfg, len(applied) // 3)
    assert list(steps) == list(range(len(preview)))
    np.testing.assert_allclose(lrs, preview, rtol=1e-12)
