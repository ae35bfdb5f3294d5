"""Prior correction (logit adjustment): undo the training set's class priors at prediction time.

A classifier trained on imbalanced data learns p(y|x) under the training prior. Shifting the
logits by tau * (log target_prior - log train_prior) re-targets it to another prior, e.g. uniform,
which moves borderline predictions toward rare classes (Menon et al. 2021, logit adjustment).
"""
from __future__ import annotations

from typing import Sequence, TypeVar

import numpy as np
import torch

Logits = TypeVar("Logits", np.ndarray, torch.Tensor)


def log_prior(counts: Sequence[float] | np.ndarray) -> np.ndarray:
    """log of class frequencies; empty classes count as one sample (finite logs)."""
    c = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    return np.log(c / c.sum())


def prior_correct(logits: Logits, train_counts, target: str | Sequence[float] = "uniform",
                  tau: float = 1.0) -> Logits:
    """logits - tau * log(train_prior) + tau * log(target_prior); same type/device as `logits`.

    target: "uniform" or per-class weights (normalised here; e.g. the test set's counts).
    """
    k = logits.shape[-1]
    if len(train_counts) != k:
        raise ValueError(f"train_counts has {len(train_counts)} classes, logits have {k}")
    if isinstance(target, str):
        if target != "uniform":
            raise ValueError(f"target prior must be 'uniform' or per-class values, got {target!r}")
        target_log = np.full(k, -np.log(k))
    else:
        if len(target) != k:
            raise ValueError(f"target prior has {len(target)} classes, logits have {k}")
        target_log = log_prior(target)
    shift = tau * (target_log - log_prior(train_counts))
    if isinstance(logits, torch.Tensor):
        return logits + torch.as_tensor(shift, dtype=logits.dtype, device=logits.device)
    return logits + shift.astype(logits.dtype if np.issubdtype(logits.dtype, np.floating) else np.float64)
