"""The demo study spec, and a finished study on disk without training (synthetic saved predictions)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_engine.scoring.predictions import Predictions
from fer_engine.study.plan import expand
from fer_engine.study.spec import StudySpec
from fer_engine.study.studydir import StudyDir

#: a small real study on the demo set: fer_cnn_tiny, 1 short epoch, 2 variants x 2 seeds
DEMO_STUDY = {
    "schema_version": 1, "name": "demo ablation",
    "base": {"preset": "quick-cpu", "set": {
        "data.path": "demo", "model.backbone": "fer_cnn_tiny", "train.epochs": 1, "train.batch_size": 32,
        "train.max_steps_per_epoch": 2, "schedule.warmup_epochs": 0.0, "eval.tta": "none", "train.device": "cpu"}},
    "ablate": {"tricks": ["hflip"], "mode": "leave-one-out"},
    "seeds": [0, 1],
}

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def _preds(y: np.ndarray, correct: np.ndarray, split: str) -> Predictions:
    n, k = len(y), len(CLASSES)
    y_pred = np.where(correct, y, (y + 1) % k)
    probs = np.full((n, k), 0.02, np.float32)
    probs[np.arange(n), y_pred] = 0.88
    return Predictions(index=np.arange(n), y_true=y, y_pred=y_pred, probs=probs, logits=np.log(probs),
                       losses=np.zeros(n, np.float32), features=np.zeros((n, 2), np.float32),
                       class_names=CLASSES, split=split)


def finished_study(path: Path, gains: dict[str, int], n: int = 700, right: int = 420) -> StudyDir:
    """Baseline right on `right` of `n` test faces; each ablated trick's runs right on `gains[trick]`
    more (negative: fewer) of the same faces. Two seeds each, one face of difference between seeds."""
    spec = StudySpec.from_dict({"name": "fake ablation", "seeds": [0, 1],
                                "base": {"preset": "quick-cpu", "set": {"data.path": "demo"}},
                                "ablate": {"tricks": list(gains)}})
    plan = expand(spec)
    study = StudyDir.create(path, spec, plan)
    y = np.arange(n) % len(CLASSES)
    for run in plan.runs:
        gain = 0 if run.variant == "baseline" else gains[run.variant[1:]]
        correct = np.zeros(n, bool)
        correct[: right + gain + run.seed] = True
        run_dir, _ = study.ensure_run_dir(run)
        run_dir.predictions_dir.mkdir()
        for split in ("val", "test"):
            _preds(y, correct, split).save(run_dir.predictions_path(split))
        for epoch, acc in ((1, 0.4), (2, 0.55), (3, correct.mean())):
            run_dir.write_metrics_row(epoch, {"val_acc": acc, "img_per_s": 900.0})
        run_dir.write_status("finished", summary={"wall_time_s": 61.0})
    return study
