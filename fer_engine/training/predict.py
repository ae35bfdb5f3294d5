"""Run a model once over uint8 faces (batched, inference mode, the run's training precision)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..progress import Cancelled, ProgressFn, StopFn
from ..scoring.predictions import Predictions, cross_entropy


def collect_predictions(
    model,
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    mean: Sequence[float],
    std: Sequence[float],
    input_size: int,
    tta: str = "none",
    tta_vote: str = "soft",
    device: str = "cpu",
    amp: bool = False,
    batch_size: int = 256,
    split: str = "test",
    meta: dict[str, Any] | None = None,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> Predictions:
    """Run `model` over uint8 faces (N, H, W, C) and collect everything the analysis needs.

    `labels` index into `class_names` (the model's classes; -1 = unknown to the model).
    Preprocessing is `fer_engine.recipe.preprocess.prepare_batch`, the same as training;
    with `tta` ("flip", "tencrop") the probabilities come from
    `fer_engine.recipe.tta.tta_predict` voted `tta_vote` ("soft" or "hard"), while the
    features always come from the un-augmented view. Raises `Cancelled` when
    `should_stop()` turns true between batches. With `amp` (the run's `train.amp`) the forward
    runs under the training loop's autocast (`training.precision.amp_dtype`): bfloat16 where
    the GPU or CPU computes it natively, float16 on older GPUs, float32 elsewhere.
    """
    import torch

    from .precision import amp_dtype
    from ..recipe.preprocess import prepare_batch

    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be (N, H, W, C) uint8, got {images.shape} {images.dtype}")
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != len(images):
        raise ValueError(f"{len(labels)} labels for {len(images)} images")
    if labels.size and (labels.max() >= len(class_names) or labels.min() < -1):
        raise ValueError(f"labels must lie in [-1, {len(class_names) - 1}], "
                         f"got [{labels.min()}, {labels.max()}]")
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    dtype = amp_dtype(dev, amp)
    was_training = model.training
    model.eval()
    n = len(images)
    logits_out, probs_out, feats_out = [], [], []
    try:
        with torch.inference_mode():
            for start in range(0, n, batch_size):
                if should_stop is not None and should_stop():
                    raise Cancelled("prediction cancelled")
                raw = torch.from_numpy(np.ascontiguousarray(images[start:start + batch_size]))
                if cuda:
                    raw = raw.pin_memory()
                x = prepare_batch(raw.to(dev, non_blocking=True), mean, std, input_size)
                with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
                    feats, logits = _features_and_logits(model, x)
                    if tta != "none":
                        from ..recipe.tta import tta_predict

                        probs = tta_predict(model, x, tta, tta_vote)
                        logits = torch.log(probs.float().clamp_min(1e-12))
                    else:
                        probs = torch.softmax(logits.float(), dim=1)
                logits_out.append(logits.float().cpu().numpy())
                probs_out.append(probs.float().cpu().numpy())
                feats_out.append(feats.float().flatten(1).cpu().numpy())
                if progress is not None:
                    progress(min(start + batch_size, n) / n, f"predicting {split}")
    finally:
        model.train(was_training)
    k = len(class_names)
    probs_np = np.concatenate(probs_out) if probs_out else np.zeros((0, k), np.float32)
    logits_np = np.concatenate(logits_out) if logits_out else np.zeros((0, k), np.float32)
    feats_np = np.concatenate(feats_out) if feats_out else np.zeros((0, 0), np.float32)
    return Predictions(
        index=np.arange(n, dtype=np.int64),
        y_true=labels,
        y_pred=probs_np.argmax(axis=1).astype(np.int64),
        probs=probs_np.astype(np.float32),
        logits=logits_np.astype(np.float32),
        losses=cross_entropy(probs_np, labels),
        features=feats_np.astype(np.float32),
        class_names=list(class_names),
        split=split,
        tta=tta,
        meta=dict(meta or {}),
    )


def _features_and_logits(model, x):
    """One pass when the model is a FerModel (logits = head(features)), else two."""
    feats = model.forward_features(x)
    head = getattr(model, "head", None)
    return feats, (head(feats) if callable(head) else model(x))
