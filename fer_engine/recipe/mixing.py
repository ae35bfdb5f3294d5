"""Mixup and CutMix on a batch, producing the matching soft targets.

Each mixed batch pairs every image with a random partner in the same batch and mixes
both the images and the (one-hot, optionally smoothed) targets with one weight lambda
~ Beta(alpha, alpha) per batch. For CutMix, lambda is re-computed from the area of the
pasted box after clipping to the image, so targets match what the pixels show.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..config import MixConfig


def one_hot_targets(y: torch.Tensor, num_classes: int, smoothing: float = 0.0) -> torch.Tensor:
    """(B,) int labels -> (B, K) float targets: (1 - smoothing) * one_hot + smoothing / K."""
    t = F.one_hot(y.long(), num_classes).float()
    if smoothing > 0:
        t = t * (1.0 - smoothing) + smoothing / num_classes
    return t


def smooth_targets(q: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """(B, K) target distributions (e.g. annotator votes) with label smoothing: (1 - s) * q + s / K."""
    q = q.float()
    return q * (1.0 - smoothing) + smoothing / q.shape[-1] if smoothing > 0 else q


def mix_is_on(cfg: MixConfig) -> bool:
    return cfg.prob > 0 and (cfg.mixup_alpha > 0 or cfg.cutmix_alpha > 0)


def mix_batch(
    x: torch.Tensor,
    targets: torch.Tensor,
    cfg: MixConfig,
    rng: np.random.Generator,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup or CutMix of (x (B, C, H, W), targets (B, K)); returns new tensors (inputs untouched).

    With probability `cfg.prob` the batch is mixed; when both alphas are > 0, CutMix is
    chosen with probability `cfg.switch_prob`, else Mixup. Otherwise the batch is returned as is.
    The per-batch draws (coin, lambda, box) come from the host `rng`, so a batch on the GPU
    is mixed without reading anything back from it; the pairing permutation is drawn on
    the batch's device from `generator` (which must live there).
    """
    if not mix_is_on(cfg) or x.shape[0] < 2:
        return x, targets
    if rng.random() >= cfg.prob:
        return x, targets
    use_cutmix = cfg.cutmix_alpha > 0 and (cfg.mixup_alpha <= 0 or rng.random() < cfg.switch_prob)
    alpha = cfg.cutmix_alpha if use_cutmix else cfg.mixup_alpha
    lam = float(rng.beta(alpha, alpha))
    perm = torch.randperm(x.shape[0], generator=generator, device=x.device)
    if use_cutmix:
        x, lam = _cutmix(x, perm, lam, rng)
    else:
        x = x * lam + x[perm] * (1.0 - lam)
    return x, targets * lam + targets[perm] * (1.0 - lam)


def cutmix_box(h: int, w: int, lam: float, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a box of area ~ (1 - lam) with a uniform centre, clipped."""
    cut = math.sqrt(1.0 - lam)
    ch, cw = int(round(h * cut)), int(round(w * cut))
    cy, cx = int(rng.integers(h)), int(rng.integers(w))
    top, bottom = max(cy - ch // 2, 0), min(cy + ch - ch // 2, h)
    left, right = max(cx - cw // 2, 0), min(cx + cw - cw // 2, w)
    return top, bottom, left, right


def _cutmix(x: torch.Tensor, perm: torch.Tensor, lam: float, rng: np.random.Generator):
    h, w = x.shape[-2:]
    top, bottom, left, right = cutmix_box(h, w, lam, rng)
    out = x.clone()
    out[..., top:bottom, left:right] = x[..., top:bottom, left:right][perm]
    return out, 1.0 - (bottom - top) * (right - left) / (h * w)
