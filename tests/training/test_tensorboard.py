"""Every run writes TensorBoard event files; read them back with TensorBoard's own reader."""
from __future__ import annotations

import numpy as np
import pytest

from fer_engine.training import job
from fer_engine.training.run import fit
from fer_engine.training.rundir import RunDir
from fer_engine.training.tensorboard import scalar_tag, tensorboard_dir

from training_helpers import tiny_config

pytest.importorskip("tensorboard")


def test_a_run_writes_curves_confusion_images_and_an_embedding(tiny_data, runs_root, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = tiny_config(tiny_data)
    run = RunDir.create(runs_root, cfg)
    events = []
    monkeypatch.setattr(job, "EVENTS_PER_SECOND", 1e9)  # every step reports
    assert fit(cfg, run, events.append, lambda: False)["status"] == "finished"
    acc = EventAccumulator(str(tensorboard_dir(run)), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()
    for tag in ("loss/train", "loss/val", "accuracy/train", "accuracy/val", "f1/val", "epoch/lr",
                "accuracy/test", "step/loss", "step/lr", "step/accuracy", "step/f1"):
        assert tag in tags["scalars"], tag
    val_acc = [(s.step, s.value) for s in acc.Scalars("accuracy/val")]
    assert val_acc == [(r["epoch"], pytest.approx(r["val_acc"], abs=1e-6)) for r in run.read_metrics()]
    assert [s.step for s in acc.Scalars("step/loss")] == sorted({s.step for s in acc.Scalars("step/loss")})
    steps = [e for e in events if type(e).__name__ == "StepProgress"]
    assert [s.step for s in acc.Scalars("step/accuracy")] == [e.global_step for e in steps] == list(
        range(1, 1 + len(steps)))
    assert all(0 <= s.value <= 1 for tag in ("step/accuracy", "step/f1") for s in acc.Scalars(tag))
    per_step = {s.step: s.value for s in acc.Scalars("step/accuracy")}
    ends = [e.global_step for e in steps if e.step == e.steps_per_epoch]
    assert [per_step[g] for g in ends] == [pytest.approx(r["train_acc"], abs=1e-6) for r in run.read_metrics()]
    assert len({s.value for s in acc.Scalars("step/f1")}) > 1  # running, not one figure per epoch
    images = acc.Images("confusion/val")
    assert [i.step for i in images] == [1, 2] and images[0].width > 100
    confusions = [e.confusion for e in events if type(e).__name__ == "EpochMetrics"]
    assert all(np.asarray(c).sum() == 24 for c in confusions)  # 8 validation faces x 3 classes
    projector = tensorboard_dir(run) / "projector_config.pbtxt"
    assert "test_features" in projector.read_text() and "sprite" in projector.read_text()
    tsv = next(tensorboard_dir(run).glob("*/test_features/metadata.tsv")).read_text().splitlines()
    assert tsv[0] == "true\tpredicted" and len(tsv) == 1 + 24


def test_tensorboard_can_be_turned_off(tiny_data, runs_root):
    cfg = tiny_config(tiny_data, **{"train.tensorboard": False, "train.epochs": 1})
    run = RunDir.create(runs_root, cfg)
    fit(cfg, run, lambda e: None, lambda: False)
    assert not tensorboard_dir(run).exists()


def test_scalar_tags_group_splits():
    assert [scalar_tag(k) for k in ("val_acc", "train_loss", "val_f1", "lr", "test_acc_tta")] == [
        "accuracy/val", "loss/train", "f1/val", "epoch/lr", "accuracy_tta/test"]


def test_only_the_writing_rank_logs(tiny_data, runs_root):
    from fer_engine.training.tensorboard import with_tensorboard

    cfg = tiny_config(tiny_data)
    run = RunDir.create(runs_root, cfg)
    def emit(event):
        return None

    run.writer = False  # as a distributed rank other than 0 sees its run directory
    assert with_tensorboard(cfg, run, emit) is emit and not tensorboard_dir(run).exists()
    run.writer = True
    logged = with_tensorboard(cfg, run, emit)
    assert logged is not emit and tensorboard_dir(run).is_dir()
    from fer_engine.training import events as ev

    logged(ev.RunStopped(run_id=run.run_id, epoch=0, step=0))  # closes the writer
