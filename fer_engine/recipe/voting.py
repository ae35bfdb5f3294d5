"""Hard (majority) voting over several predictions of the same faces: TTA views, ensemble members."""
from __future__ import annotations

import torch
import torch.nn.functional as F

#: Weight of the mean probability added to the vote shares; far below one vote (1/V), so it only
#: decides between classes with equal votes.
TIE_BREAK = 1e-6


def hard_vote(probs: torch.Tensor) -> torch.Tensor:
    """(V, B, K) probabilities of V voters -> (B, K) vote shares that sum to 1.

    Each voter votes for its argmax; a class's share is the fraction of votes it got. Ties go to
    the class with the higher mean probability (shares nudged by TIE_BREAK x mean probability),
    then to the lower class index. The argmax of the result is the voted class.
    """
    v, _, k = probs.shape
    mean = probs.mean(0)
    share = F.one_hot(probs.argmax(-1), k).sum(0).to(mean.dtype) / v + TIE_BREAK * mean
    return share / share.sum(-1, keepdim=True)
