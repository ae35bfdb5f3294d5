"""The end of a run: predictions of each evaluated split saved into the run directory."""
from __future__ import annotations

from ..config import RunConfig
from ..data.arrays import DatasetArrays
from ..progress import StopFn
from .components import Components
from .job import Recorder
from .rundir import RunDir


def predict_splits(cfg: RunConfig, parts: Components, data: DatasetArrays, run_dir: RunDir,
                   rec: Recorder, should_stop: StopFn) -> dict[str, float]:
    """Save predictions of each of eval.splits (with and without TTA); their acc/F1 (and vote CE)."""
    from ..scoring.metrics import accuracy, confusion_matrix, macro_f1, vote_cross_entropy
    from .predict import collect_predictions

    class_names, out = list(data.class_names), {}
    ttas = ["none"] + ([cfg.eval.tta] if cfg.eval.tta != "none" else [])
    splits = [s for s in cfg.eval.splits if len(data.splits.get(s, ())) > 0]
    for split in splits:
        images, labels = data.split(split)
        for tta in ttas:
            suffix = "" if tta == "none" else "_tta"
            rec.phase("predicting", f"{split}{' with ' + tta + ' TTA' if suffix else ''}", 0.0)
            preds = collect_predictions(
                parts.model, images, labels, class_names, mean=parts.mean, std=parts.std,
                input_size=parts.input_size, tta=tta, tta_vote=cfg.eval.tta_vote,
                device=str(parts.device), amp=cfg.train.amp, batch_size=max(cfg.train.batch_size, 256),
                split=split,
                meta={"run_dir": str(run_dir.path), "data": cfg.data.path, "checkpoint": "best"},
                progress=lambda f, d: rec.phase("predicting", d, f, force=False),
                should_stop=should_stop)
            preds.save(run_dir.predictions_path(split, tta != "none"))
            cm = confusion_matrix(preds.y_true, preds.y_pred, len(class_names))
            out[f"{split}_acc{suffix}"] = accuracy(cm)
            out[f"{split}_f1{suffix}"] = macro_f1(cm)
            if data.soft is not None:
                out[f"{split}_vote_ce{suffix}"] = vote_cross_entropy(
                    preds.probs, data.soft[data.splits[split]])
    return out
