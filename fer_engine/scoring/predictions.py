"""Predictions of a model over one split: the arrays every analysis view reads.

`training.predict.collect_predictions` runs a model once over uint8 faces and returns a
`Predictions`: labels, argmax, probabilities, logits, per-sample loss and the
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
from typing import Any

import numpy as np

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
        # Any: numpy's stub would read a **dict of arrays as possibly holding allow_pickle
        arrays: dict[str, Any] = {name: np.ascontiguousarray(getattr(self, name)) for name in _ARRAYS}
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


def load_stored(path: Path) -> Predictions | None:
    """The stored predictions at `path`, or None when missing or unreadable (then recomputed)."""
    if not path.is_file():
        return None
    try:
        return Predictions.load(path)
    except ValueError:  # damaged or an older format
        return None
