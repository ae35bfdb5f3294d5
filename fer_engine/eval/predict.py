"""Predictions of a model over one split: the arrays every analysis view reads.

`collect_predictions` runs a model once over uint8 faces (batched, inference mode) and
returns a `Predictions`: labels, argmax, probabilities, logits, per-sample loss and the
penultimate features. `Predictions.save/load` store them as a plain `.npz` (no pickle),
so a run directory can answer the analysis views without running the model again.

Label convention: `y_true` indexes into `class_names` (the *model's* classes). A face
whose class the model does not know (another dataset with an extra class) has
`y_true == -1`; it keeps its prediction but has no loss (NaN) and metrics leave it out
(they report how many were left out).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..progress import Cancelled, ProgressFn, StopFn
from ..utils.atomic import atomic_path

_FORMAT_VERSION = 1
_ARRAYS = ("index", "y_true", "y_pred", "probs", "logits", "losses", "features")


@dataclass
class Predictions:
    """One model's outputs on one split (N faces, K model classes, D feature dims)."""

    index: np.ndarray  # (N,) int64 positions within the split's images
    y_true: np.ndarray  # (N,) int64 into class_names; -1 = class unknown to the model
    y_pred: np.ndarray  # (N,) int64 argmax of probs
    probs: np.ndarray  # (N, K) float32 (after TTA voting when tta != "none")
    logits: np.ndarray  # (N, K) float32 (log of the voted probabilities under TTA)
    losses: np.ndarray  # (N,) float32 cross-entropy -log p[y_true]; NaN where y_true == -1
    features: np.ndarray  # (N, D) float32 penultimate features of the un-augmented view
    class_names: list[str]
    split: str = "test"
    tta: str = "none"
    meta: dict[str, Any] = field(default_factory=dict)  # source: run dir, data path, ...

    def __post_init__(self) -> None:
        n = len(self.index)
        for name in _ARRAYS:
            a = getattr(self, name)
            if len(a) != n:
                raise ValueError(f"Predictions.{name} has {len(a)} rows, expected {n}")
        if self.probs.ndim != 2 or self.probs.shape[1] != len(self.class_names):
            raise ValueError(
                f"Predictions.probs has shape {self.probs.shape}, expected (N, {len(self.class_names)})"
            )

    def __len__(self) -> int:
        return len(self.index)

    @property
    def confidence(self) -> np.ndarray:
        """(N,) probability of the predicted class."""
        return self.probs[np.arange(len(self)), self.y_pred]

    @property
    def known(self) -> np.ndarray:
        """(N,) bool: the true class is one the model knows (y_true >= 0)."""
        return self.y_true >= 0

    def subset(self, mask_or_idx: np.ndarray) -> "Predictions":
        """The predictions of some rows (a boolean mask or row numbers)."""
        sel = np.asarray(mask_or_idx)
        return Predictions(
            **{name: getattr(self, name)[sel] for name in _ARRAYS},
            class_names=list(self.class_names), split=self.split, tta=self.tta,
            meta=dict(self.meta),
        )

    # -- storage ---------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write an uncompressed .npz atomically (readers never see half a file)."""
        path = Path(path)
        header = {"format_version": _FORMAT_VERSION, "class_names": list(self.class_names),
                  "split": self.split, "tta": self.tta, "meta": self.meta}
        arrays = {name: np.ascontiguousarray(getattr(self, name)) for name in _ARRAYS}
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to tmp
                np.savez(f, header=np.array(json.dumps(header)), **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Predictions":
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(str(z["header"]))
                arrays = {name: z[name] for name in _ARRAYS}
        except FileNotFoundError:
            raise FileNotFoundError(f"predictions file not found: {path}") from None
        except (KeyError, ValueError, OSError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: not a fer-studio predictions file ({e})") from None
        version = header.get("format_version", 0)
        if version > _FORMAT_VERSION:
            raise ValueError(f"{path}: predictions format {version} is newer than this "
                             f"fer-studio understands ({_FORMAT_VERSION})")
        return cls(**arrays, class_names=list(header["class_names"]), split=header["split"],
                   tta=header["tta"], meta=dict(header.get("meta", {})))


def cross_entropy(probs: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Per-sample -log p[y_true] (float32); NaN where y_true == -1."""
    known = y_true >= 0
    p = np.where(known, probs[np.arange(len(y_true)), np.where(known, y_true, 0)], np.nan)
    return (-np.log(np.clip(p, 1e-12, 1.0))).astype(np.float32)


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

    from ..training.precision import amp_dtype
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
