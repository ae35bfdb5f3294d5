"""Which training samples an epoch visits, and in what order."""
from __future__ import annotations

import numpy as np


def epoch_indices(labels: np.ndarray, balanced: bool, rng: np.random.Generator) -> np.ndarray:
    """Indices into `labels` for one epoch.

    Plain: a permutation of all samples. Balanced (class-balanced weighted sampling):
    len(labels) draws with replacement, each sample drawn with probability proportional
    to 1 / (its class's count), so every present class is equally likely per draw.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if not balanced or n == 0:
        return rng.permutation(n)
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    p = 1.0 / counts[inverse]
    return rng.choice(n, size=n, replace=True, p=p / p.sum())
