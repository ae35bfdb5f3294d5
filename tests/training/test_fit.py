"""`fit` in this process: outputs, stop within one batch, resume, early stopping, accumulation, clipping."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from fer_engine.scoring.predictions import Predictions
from fer_engine.training import events as ev
from fer_engine.training.checkpoint import load_checkpoint
from fer_engine.training.run import fit
from fer_engine.training.rundir import RunDir, load_run_model

from training_helpers import CLASSES, SIZE, tiny_config


def _fit(cfg, root, should_stop=lambda: False, run=None, resume=False):
    run = run or RunDir.create(root, cfg)
    events: list[ev.Event] = []
    summary = fit(cfg, run, events.append, should_stop, resume=resume)
    return run, events, summary


def _types(events, cls):
    return [e for e in events if isinstance(e, cls)]


def test_fit_writes_a_complete_run_directory(tiny_data, runs_root):
    cfg = tiny_config(tiny_data, **{"eval.tta": "flip"})
    run, events, summary = _fit(cfg, runs_root)
    assert summary["status"] == "finished", summary
    assert run.status().state == "finished"
    started = _types(events, ev.RunStarted)[0]
    assert started.device.split()[0] == "cpu" and started.class_names == CLASSES and started.num_train == 72
    assert [e.epoch for e in _types(events, ev.EpochMetrics)] == [1, 2]
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "val_f1", "lr", "epoch_time", "img_per_s"):
        assert all(math.isfinite(r[key]) for r in run.read_metrics()), key
    assert run.read_events() == events  # the log holds exactly what the watcher saw
    finished = events[-1]
    assert isinstance(finished, ev.RunFinished)
    for key in ("val_acc", "val_f1", "test_acc", "test_f1", "val_acc_tta", "test_acc_tta",
                "peak_host_mb", "wall_time_s"):
        assert key in finished.summary, key
    for split in ("val", "test"):
        for tta in (False, True):
            p = Predictions.load(run.predictions_path(split, tta))
            assert len(p) == 24 and p.features.shape[0] == 24
    pre = run.preprocess()
    assert pre.class_names == list(CLASSES) and pre.channels == 1 and pre.input_size == SIZE
    model, pre2 = load_run_model(run.path)
    assert pre2 == pre
    x = torch.zeros(2, 1, SIZE, SIZE)
    assert model(x).shape == (2, len(CLASSES))
    state = load_checkpoint(run.checkpoint_path("last"))
    assert state["epoch"] == 2 and {"torch", "numpy", "python"} <= set(state["rng"])


def test_stop_takes_effect_within_one_batch(tiny_data, runs_root):
    cfg = tiny_config(tiny_data, **{"train.batch_size": 4, "train.epochs": 1})
    flag = {"stop": False}
    run = RunDir.create(runs_root, cfg)
    events: list[ev.Event] = []

    def emit(e):
        events.append(e)
        if isinstance(e, ev.StepProgress):  # the first step always reports
            flag["stop"] = True

    summary = fit(cfg, run, emit, lambda: flag["stop"])
    steps = _types(events, ev.StepProgress)
    assert summary["status"] == "stopped" and run.status().state == "stopped"
    assert [s.step for s in steps] == [1]
    assert isinstance(events[-1], ev.RunStopped) and events[-1].step == 1
    assert not run.checkpoint_path("last").exists()


def test_resume_gives_the_curve_of_an_uninterrupted_run(tiny_data, tmp_path):
    cfg = tiny_config(tiny_data, **{"train.epochs": 3, "mix.mixup_alpha": 0.4, "augment.erasing": 0.5})
    full, _, _ = _fit(cfg, tmp_path / "a")
    flag = {"stop": False}

    def stop_after_first_epoch(e):
        if isinstance(e, ev.CheckpointSaved) and e.kind == "last":
            flag["stop"] = True

    part = RunDir.create(tmp_path / "b", cfg)
    assert fit(cfg, part, stop_after_first_epoch, lambda: flag["stop"])["status"] == "stopped"
    assert [r["epoch"] for r in part.read_metrics()] == [1]
    events: list[ev.Event] = []
    assert fit(cfg, part, events.append, lambda: False, resume=True)["status"] == "finished"
    assert _types(events, ev.RunStarted)[0].resumed_from_epoch == 1
    keys = ("train_loss", "train_acc", "val_loss", "val_acc", "val_f1", "lr")
    a = [[r[k] for k in keys] for r in full.read_metrics()]
    b = [[r[k] for k in keys] for r in part.read_metrics()]
    assert len(a) == len(b) == 3
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


class _Linear(nn.Module):
    """No BatchNorm or dropout: per-sample gradients add up exactly."""

    def __init__(self, num_classes: int, in_chans: int):
        super().__init__()
        self.input_size = SIZE
        self.fc = nn.Linear(in_chans * SIZE * SIZE, num_classes)

    def forward_features(self, x):
        return x.flatten(1)

    def forward(self, x):
        return self.fc(x.flatten(1))


@pytest.fixture
def linear_model(monkeypatch):
    """create_model returns a linear model; `initial` keeps its starting weights."""
    import fer_engine.models as models

    made = {}

    def create(cfg, num_classes, in_chans):
        made["model"] = m = _Linear(num_classes, in_chans)
        made["initial"] = {k: v.clone() for k, v in m.state_dict().items()}
        return m

    monkeypatch.setattr(models, "create_model", create)
    return made


_PLAIN = {"optim.name": "sgd", "optim.momentum": 0.0, "optim.nesterov": False, "optim.weight_decay": 0.0,
          "optim.lr": 0.5,
          "schedule.name": "constant", "train.epochs": 1, "eval.splits": [], "augment.hflip": 0.0,
          "augment.rotation": 0.0, "augment.translate": 0.0, "augment.scale": 0.0,
          "augment.brightness": 0.0, "augment.contrast": 0.0,
          "train.amp": False}  # exact float32 arithmetic: the updates are compared to 1e-6


def _weights_after(tiny_data, root, **changes):
    cfg = tiny_config(tiny_data, **{**_PLAIN, **changes})
    run, _, summary = _fit(cfg, root)
    assert summary["status"] == "finished", summary
    return load_checkpoint(run.checkpoint_path("last"))["model"]


def test_early_stopping_keeps_the_best_checkpoint(tiny_data, runs_root, linear_model):
    # the lr drops ~1e9-fold after epoch 1, so val_loss stops improving by min_delta:
    # patience 2 ends the run at epoch 3 and best.pt stays at epoch 1
    cfg = tiny_config(tiny_data, **{**_PLAIN, "train.epochs": 10, "train.early_stopping_patience": 2,
                                    "train.early_stopping_min_delta": 1e-3, "train.monitor": "val_loss",
                                    "schedule.name": "step", "schedule.step_size": 1,
                                    "schedule.gamma": 1e-9, "eval.splits": ["val"]})
    run, events, summary = _fit(cfg, runs_root)
    assert summary["early_stopped"] is True
    assert (summary["best_epoch"], summary["epochs_done"]) == (1, 3)
    assert [r["epoch"] for r in run.read_metrics()] == [1, 2, 3]
    assert load_checkpoint(run.checkpoint_path("best"))["epoch"] == 1
    assert load_checkpoint(run.checkpoint_path("last"))["epoch"] == 3
    best = load_checkpoint(run.checkpoint_path("best"))["model"]["fc.weight"]
    assert not torch.equal(best, linear_model["initial"]["fc.weight"])  # epoch 1 did train


def test_gradient_accumulation_matches_the_large_batch(tiny_data, tmp_path, linear_model):
    big = _weights_after(tiny_data, tmp_path / "a", **{"train.batch_size": 16, "train.max_steps_per_epoch": 1})
    acc = _weights_after(tiny_data, tmp_path / "b", **{"train.batch_size": 8, "train.accumulate_steps": 2,
                                                       "train.max_steps_per_epoch": 2})
    moved = (big["fc.weight"] - linear_model["initial"]["fc.weight"]).abs().max()
    assert moved > 1e-3
    for k in big:
        torch.testing.assert_close(acc[k], big[k], rtol=1e-5, atol=1e-6)


def test_train_loss_and_accuracy_are_those_of_the_batches_seen(tiny_data, tmp_path, linear_model):
    """One batch of the whole training split: its loss and accuracy come from the weights it started with."""
    from fer_engine.data import load_dataset
    from fer_engine.recipe.preprocess import prepare_batch

    cfg = tiny_config(tiny_data, **{**_PLAIN, "train.batch_size": 72, "eval.splits": []})
    run, _, summary = _fit(cfg, tmp_path)
    assert summary["status"] == "finished", summary
    images, labels = load_dataset(cfg.data).split("train")
    assert len(labels) == 72
    pre = run.preprocess()
    model = _Linear(len(CLASSES), 1)
    model.load_state_dict(linear_model["initial"])
    with torch.no_grad():
        logits = model(prepare_batch(torch.from_numpy(images), pre.mean, pre.std, SIZE))
    target = torch.from_numpy(labels.astype(np.int64))
    row = run.read_metrics()[0]
    assert row["train_acc"] == pytest.approx((logits.argmax(1) == target).double().mean().item())
    assert row["train_loss"] == pytest.approx(nn.functional.cross_entropy(logits, target).item(), rel=1e-5)


def test_gradient_clipping_bounds_the_update(tiny_data, tmp_path, linear_model):
    def update_norm(root, clip):
        w = _weights_after(tiny_data, root, **{"optim.lr": 1.0, "train.grad_clip": clip,
                                               "train.max_steps_per_epoch": 1})
        return torch.sqrt(sum(((w[k] - linear_model["initial"][k]) ** 2).sum() for k in w)).item()

    assert update_norm(tmp_path / "free", 0.0) > 0.05
    assert update_norm(tmp_path / "clipped", 0.01) == pytest.approx(0.01, rel=1e-4)


def test_a_bad_value_fails_with_a_traceback_and_no_checkpoint(tiny_data, runs_root):
    cfg = tiny_config(tiny_data, **{"data.path": str(tiny_data / "missing")})
    run, events, summary = _fit(cfg, runs_root)
    assert summary["status"] == "failed" and run.status().state == "failed"
    failed = events[-1]
    assert isinstance(failed, ev.RunFailed) and "missing" in failed.error
    assert "Traceback" in failed.traceback
    assert not run.checkpoints_dir.exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_amp_and_channels_last_train(tiny_data, runs_root):
    cfg = tiny_config(tiny_data, **{"train.device": "cuda", "train.amp": True, "train.channels_last": True})
    run, events, summary = _fit(cfg, runs_root)
    assert summary["status"] == "finished", summary
    assert _types(events, ev.RunStarted)[0].device.startswith("cuda")
    assert summary["peak_gpu_mb"] > 0
    from fer_engine.training.precision import amp_dtype

    scaled = amp_dtype(torch.device("cuda"), True) == torch.float16  # loss scaling only with float16
    assert bool(load_checkpoint(run.checkpoint_path("last"))["scaler"]) == scaled
