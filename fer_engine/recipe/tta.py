"""Test-time augmentation: predict on several views of each face and combine them.

"flip": the image and its mirror. "tencrop" (the FER2013 standard): the four corner crops
and the centre crop at 90% of the side, plus their mirrors. Because fer-studio trains on
whole faces, each crop is resized back to the input size (bilinear) rather than fed at the
smaller crop size as in the original 44-of-48 recipe.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..config import fields
from .voting import hard_vote

TTA_MODES = fields()["eval.tta"].choices
TTA_VOTES = fields()["eval.tta_vote"].choices
TENCROP_FRACTION = 0.9


VIEWS = {"none": 1, "flip": 2, "tencrop": 10}  # views `tta_views` makes of each face, per mode


def tta_views(x: torch.Tensor, mode: str) -> torch.Tensor:
    """(B, C, H, W) -> (V, B, C, H, W) with V = 1 (none), 2 (flip) or 10 (tencrop)."""
    if mode == "none":
        return x.unsqueeze(0)
    if mode == "flip":
        return torch.stack([x, x.flip(-1)])
    if mode == "tencrop":
        h, w = x.shape[-2:]
        ch, cw = round(h * TENCROP_FRACTION), round(w * TENCROP_FRACTION)
        top, left = (h - ch) // 2, (w - cw) // 2
        corners = [(0, 0), (0, w - cw), (h - ch, 0), (h - ch, w - cw), (top, left)]
        crops = torch.cat([x[..., r:r + ch, c:c + cw] for r, c in corners])  # (5B, C, ch, cw)
        crops = F.interpolate(crops, size=(h, w), mode="bilinear", align_corners=False)
        crops = crops.view(5, *x.shape)
        return torch.cat([crops, crops.flip(-1)])
    raise ValueError(f"TTA mode must be one of {', '.join(TTA_MODES)}, got {mode!r}")


def combine_views(view_probs: torch.Tensor, vote: str) -> torch.Tensor:
    """(V, B, K) per-view probabilities -> (B, K).

    soft: mean probability. hard: `voting.hard_vote` (vote shares, ties to the mean probability).
    """
    if vote == "soft":
        return view_probs.mean(0)
    if vote == "hard":
        return hard_vote(view_probs)
    raise ValueError(f"TTA vote must be one of {', '.join(TTA_VOTES)}, got {vote!r}")


@torch.no_grad()
def tta_predict(forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                mode: str, vote: str = "soft") -> torch.Tensor:
    """Class probabilities (B, K) from `forward(views) -> logits` over the TTA views of x.

    Views go through `forward` one at a time, so peak memory is that of a plain batch.
    """
    views = tta_views(x, mode)
    probs = torch.stack([forward(v).float().softmax(-1) for v in views])
    return combine_views(probs, vote)
