"""Classification losses for FER: class weighting, label smoothing, focal loss, soft targets.

One formula covers every case. For per-sample targets q (one-hot, smoothed, or mixed),
probabilities p = softmax(logits), class weights w and focal alpha a (both default 1):

    loss_i = - sum_k a_k * w_k * q_ik * (1 - p_ik)^gamma * log p_ik

and the loss is the mean over the batch. gamma = 0 without weights is cross-entropy; with
smoothed one-hot targets it equals `F.cross_entropy(..., label_smoothing=s)`. Class weights
are normalised to mean 1 so the loss keeps the scale of plain cross-entropy.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import ConfigError, LossConfig, check_value
from .mixing import one_hot_targets


def class_weights(counts: Sequence[int] | np.ndarray, mode: str, beta: float = 0.999) -> torch.Tensor | None:
    """Per-class loss weights normalised to mean 1, or None for mode "none".

    "inverse": w_k proportional to 1 / n_k. "effective" (Cui et al. 2019, class-balanced loss):
    w_k proportional to (1 - beta) / (1 - beta ** n_k). Empty classes count as one sample.
    """
    check_value("loss.class_weights", mode)
    if mode == "none":
        return None
    n = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    if mode == "inverse":
        w = 1.0 / n
    else:
        check_value("loss.effective_beta", beta)
        w = (1.0 - beta) / (1.0 - np.power(beta, n))
    return torch.tensor(w / w.mean(), dtype=torch.float32)


def focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    gamma: float = 2.0,
    alpha: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Mean focal loss (Lin et al. 2017) for int targets (B,) or soft targets (B, K); see module doc."""
    logp = F.log_softmax(logits.float(), dim=-1)
    k = logits.shape[-1]
    q = one_hot_targets(target, k, label_smoothing) if target.ndim == 1 else target.float()
    if q.shape != logp.shape:
        raise ValueError(f"targets of shape {tuple(target.shape)} do not match logits {tuple(logits.shape)}")
    term = -q * logp
    if gamma != 0:
        term = term * (1.0 - logp.exp()).clamp(min=0.0).pow(gamma)
    for per_class in (alpha, weight):
        if per_class is not None:
            term = term * per_class.to(term.device, term.dtype)
    return term.sum(-1).mean()


class FerLoss(nn.Module):
    """forward(logits, target) -> mean loss; target is int (B,) or soft (B, K).

    Label smoothing is applied to int targets only (soft targets from mixing already carry it).
    Plain (optionally smoothed) cross-entropy, the default, goes through `F.cross_entropy`:
    the same value in a few fused kernels instead of a dozen small ones, which shows on a GPU
    at 48x48 where a training step is short.
    """

    weight: torch.Tensor | None  # buffers
    alpha: torch.Tensor | None

    def __init__(self, gamma: float, label_smoothing: float,
                 weight: torch.Tensor | None, alpha: torch.Tensor | None):
        super().__init__()
        self.gamma = gamma
        self.label_smoothing = label_smoothing
        self.register_buffer("weight", weight)
        self.register_buffer("alpha", alpha)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.gamma == 0 and self.alpha is None and self.weight is None:
            if target.ndim == 1:
                return F.cross_entropy(logits.float(), target, label_smoothing=self.label_smoothing)
            if target.shape == logits.shape:
                return F.cross_entropy(logits.float(), target.float())
        return focal_loss(logits, target, self.gamma, self.alpha, self.weight,
                          self.label_smoothing if target.ndim == 1 else 0.0)


def build_loss(cfg: LossConfig, class_counts: np.ndarray) -> FerLoss:
    """The run's loss for a training set with `class_counts` per class (length = number of classes)."""
    k = len(class_counts)
    check_value("loss.name", cfg.name)
    focal = cfg.name == "focal"
    alpha = None
    if focal and cfg.focal_alpha:
        if len(cfg.focal_alpha) != k:
            raise ConfigError(f"loss.focal_alpha has {len(cfg.focal_alpha)} values but the dataset "
                              f"has {k} classes; give one alpha per class or leave it empty")
        alpha = torch.tensor(cfg.focal_alpha, dtype=torch.float32)
    return FerLoss(cfg.focal_gamma if focal else 0.0, cfg.label_smoothing,
                   class_weights(class_counts, cfg.class_weights, cfg.effective_beta), alpha)
