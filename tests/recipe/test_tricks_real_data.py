"""Real FER2013 faces: a combination of tricks trains end to end and the run directory records it.

Uses the 1,400-row FER2013 CSV beside the image folders (real faces, Usage splits), capped to
40 training faces per class, so the whole run stays a few seconds on CPU.
"""
import numpy as np
import pytest

from fer_engine.config import RunConfig
from fer_engine.scoring.predictions import Predictions
from fer_engine.training.run import fit
from fer_engine.training.rundir import RunDir
from fer_engine.training.runs_list import run_precision, summarize_run
from fer_engine.recipe.checks import check_config
from fer_engine.recipe.tricks import active_tricks
from fer_engine.recipe.schedule import preview_lr

COMBINATION = {
    "model.backbone": "fer_cnn_tiny", "data.max_per_class": 40,
    "augment.hflip": 0.5, "augment.rotation": 10.0, "augment.translate": 0.1, "augment.scale": 0.1,
    "augment.random_resized_crop": 0.8, "augment.perspective": 0.1, "augment.blur": 0.2,
    "augment.noise": 0.02, "augment.brightness": 0.2, "augment.contrast": 0.2, "augment.erasing": 0.25,
    "mix.mixup_alpha": 0.2, "loss.label_smoothing": 0.1, "sampler.balanced": True,
    "schedule.name": "cosine", "schedule.warmup_epochs": 0.5, "optim.lr": 0.01,
    "eval.tta": "flip", "train.epochs": 2, "train.batch_size": 32, "train.device": "cpu",
}
EXPECTED = {"hflip", "rotation", "translate", "scale", "random_resized_crop", "perspective", "blur", "noise",
            "brightness", "contrast", "erasing", "mixup", "label_smoothing", "balanced_sampler", "warmup",
            "cosine_lr", "tta_flip", "dataset_normalization"}


def test_trick_combination_runs_on_fer2013_and_is_recorded(fer2013_dir, tmp_path):
    csv = fer2013_dir / "fer2013_sample.csv"
    if not csv.is_file():
        pytest.skip(f"{csv} not found")
    cfg = RunConfig().replace(**{"data.path": str(csv), **COMBINATION})
    assert check_config(cfg) == []  # a valid combination: no conflicts, no warnings
    run = RunDir.create(tmp_path / "runs", cfg)
    events = []
    summary = fit(cfg, run, events.append, lambda: False)
    assert summary["status"] == "finished", summary

    recorded = RunConfig.load(run.config_path)
    assert recorded.to_dict() == cfg.to_dict()
    tricks = summarize_run(run).tricks
    # AMP is listed only where the run computed in bfloat16: a float32-only CPU leaves it out
    computed = [t for t in active_tricks(recorded) if t != "amp" or run_precision(run) != "float32"]
    assert EXPECTED <= set(tricks) and tricks == computed

    rows = run.read_metrics()
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(np.isfinite(r["train_loss"]) and np.isfinite(r["val_acc"]) for r in rows)
    steps = 280 // 32  # 7 classes x 40 capped faces, full batches
    curve = preview_lr(recorded, steps)
    assert curve[0] < curve[steps // 2] == pytest.approx(0.01)  # warmup, then cosine from the base lr
    assert [r["lr"] for r in rows] == pytest.approx([curve[steps - 1], curve[2 * steps - 1]])
    for split in ("val", "test"):
        plain, tta = (Predictions.load(run.predictions_path(split, t)) for t in (False, True))
        assert len(plain) == len(tta) == 210
    status = run.status().summary  # metrics reported with and without TTA
    assert all(0.0 <= status[k] <= 1.0 for k in ("val_acc", "val_acc_tta", "test_acc", "test_acc_tta"))
