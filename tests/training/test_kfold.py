"""k-fold: a parent run with one ordinary child run per fold, mean and std of each metric."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from fer_engine.training import events as ev
from fer_engine.training.run import fit
from fer_engine.training.rundir import RunDir
from fer_engine.training.runs_list import list_runs
from training_helpers import tiny_config


def test_kfold_parent_holds_children_and_their_mean_and_std(tiny_data, runs_root):
    cfg = tiny_config(tiny_data, **{"train.epochs": 1, "kfold.k": 3, "kfold.final_on_train_val": True,
                                    "train.max_steps_per_epoch": 2})
    parent = RunDir.create(runs_root, cfg)
    events: list[ev.Event] = []
    summary = fit(cfg, parent, events.append, lambda: False)
    assert summary["status"] == "finished", summary
    assert [type(e) for e in events if isinstance(e, ev.TERMINAL)] == [ev.RunFinished]  # only the parent's
    assert [e.fold for e in events if isinstance(e, ev.FoldFinished)] == [1, 2, 3, 4]

    doc = parent.kfold()
    assert doc["k"] == 3 and len(doc["folds"]) == 3
    val_sizes = []
    for fold in doc["folds"]:
        child = RunDir.open(fold["run_dir"])
        assert child.status().state == "finished"
        assert child.config().kfold.k == 0
        assert child.predictions_path("val").is_file()
        val_sizes.append(child.dataset_info().splits["val"])
    assert sum(val_sizes) == 72 + 24  # the folds' validation parts cover train+val once
    accs = [f["val_acc"] for f in doc["folds"]]
    assert doc["mean"]["val_acc"] == pytest.approx(np.mean(accs))
    assert doc["std"]["val_acc"] == pytest.approx(np.std(accs, ddof=1))
    final = RunDir.open(doc["final"]["run_dir"])
    assert final.dataset_info().splits["train"] == 96 and final.status().state == "finished"

    rows = list(csv.DictReader(open(parent.path / "kfold.csv")))
    assert [r["fold"] for r in rows] == ["1", "2", "3", "mean", "std"]
    listed = list_runs(runs_root)
    assert len(listed) == 1 and listed[0].kind == "kfold"
    assert listed[0].best_val_acc == pytest.approx(doc["mean"]["val_acc"])
